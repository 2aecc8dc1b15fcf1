//! `_core.State`: the mergeable per-customer state of `rfmkit.Aggregator` and of the
//! streaming inputs (see `rfmkit::state`).

use numpy::{IntoPyArray, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::{
    column_names, compute, holdout_to_py, optional_slice, parse_policy, rfm_to_py, set_arrays, set_fields,
    summary_to_py, PyIds,
};
use crate::periods::Period;
use crate::rows::{InvalidPolicy, ReturnPolicy, ZeroPolicy};
use crate::state::{Batch, KeyParts, Keys, Parts, RfmView, State, StateOptions, SummaryView};

#[pyclass(name = "State", module = "rfmkit._core")]
pub(crate) struct PyState {
    inner: State,
}

/// The ids of the customers `rows` (state indexes) as Python values: an int64 array, or
/// `(offsets, data)` of Arrow large strings.
fn keys_to_py<'py>(py: Python<'py>, keys: &Keys, rows: &[i64]) -> PyResult<Bound<'py, PyAny>> {
    match keys {
        Keys::Int(keys) => {
            let values: Vec<i64> = rows.iter().map(|&k| keys.keys[k as usize]).collect();
            Ok(values.into_pyarray(py).into_any())
        }
        Keys::Utf8(keys) => {
            let mut offsets = Vec::with_capacity(rows.len() + 1);
            let mut data = Vec::new();
            offsets.push(0i64);
            for &k in rows {
                data.extend_from_slice(keys.text(k as usize));
                offsets.push(data.len() as i64);
            }
            Ok((offsets.into_pyarray(py), data.into_pyarray(py))
                .into_pyobject(py)?
                .into_any())
        }
        Keys::Empty => Ok(Vec::<i64>::new().into_pyarray(py).into_any()),
    }
}

#[pymethods]
impl PyState {
    /// An empty state. `rfm`: keep the RFM records (with `as_of_day`, `window`); `freq`:
    /// keep the BTYD period log (with `observation_end`, `calibration_end` in ticks).
    #[new]
    #[pyo3(signature = (*, ticks_per_day, zero, returns, invalid, rfm, as_of_day=None, window=None, freq=None, observation_end=None, calibration_end=None, orders=false, names=("customer".to_string(), "date".to_string(), "amount".to_string(), "order".to_string())))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        ticks_per_day: i64,
        zero: &str,
        returns: &str,
        invalid: &str,
        rfm: bool,
        as_of_day: Option<i64>,
        window: Option<i64>,
        freq: Option<&str>,
        observation_end: Option<i64>,
        calibration_end: Option<i64>,
        orders: bool,
        names: (String, String, String, String),
    ) -> PyResult<Self> {
        let options = state_options(
            ticks_per_day,
            (zero, returns, invalid),
            rfm,
            as_of_day,
            window,
            freq,
            observation_end,
            calibration_end,
            orders,
            names,
        )?;
        Ok(PyState {
            inner: State::new(options).map_err(super::to_py_err)?,
        })
    }

    /// The keyword arguments this state was made with (`State(**state.options())`).
    fn options<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let o = self.inner.options();
        let out = PyDict::new(py);
        out.set_item("ticks_per_day", o.ticks_per_day)?;
        out.set_item(
            "zero",
            policy_name(o.policy.zero == ZeroPolicy::Keep, "keep", "drop"),
        )?;
        out.set_item(
            "returns",
            match o.policy.returns {
                ReturnPolicy::Net => "net",
                ReturnPolicy::Drop => "drop",
                ReturnPolicy::Raise => "raise",
            },
        )?;
        out.set_item(
            "invalid",
            policy_name(o.policy.invalid == InvalidPolicy::Raise, "raise", "drop"),
        )?;
        out.set_item("rfm", o.rfm.is_some())?;
        out.set_item("as_of_day", o.rfm.and_then(|v| v.as_of_day))?;
        out.set_item("window", o.rfm.and_then(|v| v.window_days))?;
        out.set_item("freq", o.summary.map(|v| v.period.canonical()))?;
        out.set_item("observation_end", o.summary.and_then(|v| v.observation_end))?;
        out.set_item("calibration_end", o.summary.and_then(|v| v.calibration_end))?;
        out.set_item("orders", o.orders)?;
        let n = &o.names;
        out.set_item(
            "names",
            (
                n.customer.clone(),
                n.date.clone(),
                n.amount.clone(),
                n.order.clone(),
            ),
        )?;
        Ok(out)
    }

    /// Every field as numpy arrays and numbers (the period log compacted first); the
    /// Python layer writes them as Arrow IPC.
    fn columns<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let state = &mut self.inner;
        let parts = compute(py, || state.to_parts())?;
        let out = PyDict::new(py);
        key_parts_to_py(py, &out, "customers", parts.customers)?;
        key_parts_to_py(py, &out, "orders", parts.orders)?;
        set_arrays!(out, py, parts => first_time, last_time, sum_high, sum_low, first_row, last_row,
            purchases, returns, log_customer, log_key, log_rows, log_sum_high, log_sum_low, spill_customer,
            spill_key, spill_value, pair_customer, pair_order, counts);
        set_fields!(out, parts => rows_in, row_base, rows_fit, max_time);
        Ok(out)
    }

    /// The state of `columns` (from `columns()`), made with `options` (from `options()`).
    /// Damaged columns raise `InvalidParameterError` naming `state`.
    #[staticmethod]
    fn from_columns(
        py: Python<'_>,
        options: &Bound<'_, PyDict>,
        columns: &Bound<'_, PyDict>,
    ) -> PyResult<Self> {
        let get = |name: &str| -> PyResult<Bound<'_, PyAny>> {
            options
                .get_item(name)?
                .ok_or_else(|| super::InvalidParameterError::new_err(format!("state options lack {name:?}")))
        };
        let zero: String = get("zero")?.extract()?;
        let returns: String = get("returns")?.extract()?;
        let invalid: String = get("invalid")?.extract()?;
        let freq: Option<String> = get("freq")?.extract()?;
        let state_options = state_options(
            get("ticks_per_day")?.extract()?,
            (&zero, &returns, &invalid),
            get("rfm")?.extract()?,
            get("as_of_day")?.extract()?,
            get("window")?.extract()?,
            freq.as_deref(),
            get("observation_end")?.extract()?,
            get("calibration_end")?.extract()?,
            get("orders")?.extract()?,
            get("names")?.extract()?,
        )?;
        let column = |name: &str| -> PyResult<Bound<'_, PyAny>> {
            columns.get_item(name)?.ok_or_else(|| {
                super::InvalidParameterError::new_err(format!("the state lacks the column {name:?}"))
            })
        };
        macro_rules! vec_of {
            ($name:expr, $t:ty) => {
                column($name)?
                    .extract::<PyReadonlyArray1<'_, $t>>()?
                    .as_slice()?
                    .to_vec()
            };
        }
        let parts = Parts {
            customers: key_parts_of(
                &column("customers_kind")?,
                &column("customers_values")?,
                &column("customers_data")?,
            )?,
            orders: key_parts_of(
                &column("orders_kind")?,
                &column("orders_values")?,
                &column("orders_data")?,
            )?,
            first_time: vec_of!("first_time", i64),
            last_time: vec_of!("last_time", i64),
            sum_high: vec_of!("sum_high", i64),
            sum_low: vec_of!("sum_low", i64),
            first_row: vec_of!("first_row", u32),
            last_row: vec_of!("last_row", u32),
            purchases: vec_of!("purchases", u32),
            returns: vec_of!("returns", u32),
            log_customer: vec_of!("log_customer", u32),
            log_key: vec_of!("log_key", i64),
            log_rows: vec_of!("log_rows", u32),
            log_sum_high: vec_of!("log_sum_high", i64),
            log_sum_low: vec_of!("log_sum_low", i64),
            spill_customer: vec_of!("spill_customer", u32),
            spill_key: vec_of!("spill_key", i64),
            spill_value: vec_of!("spill_value", f64),
            pair_customer: vec_of!("pair_customer", u32),
            pair_order: vec_of!("pair_order", u32),
            counts: vec_of!("counts", u64),
            rows_in: column("rows_in")?.extract()?,
            row_base: column("row_base")?.extract()?,
            rows_fit: column("rows_fit")?.extract()?,
            max_time: column("max_time")?.extract()?,
        };
        let inner = compute(py, || State::from_parts(state_options, parts))?;
        Ok(PyState { inner })
    }

    /// Classifies and adds one batch of rows.
    #[pyo3(signature = (customer, time, amount=None, order=None))]
    fn update<'py>(
        &mut self,
        py: Python<'py>,
        customer: PyIds<'py>,
        time: PyReadonlyArray1<'py, i64>,
        amount: Option<PyReadonlyArray1<'py, f64>>,
        order: Option<PyIds<'py>>,
    ) -> PyResult<()> {
        let batch = Batch {
            customer: customer.ids()?,
            time: time.as_slice()?,
            amount: optional_slice(&amount)?,
            order: order.as_ref().map(|o| o.ids()).transpose()?,
        };
        let state = &mut self.inner;
        compute(py, || state.update(&batch))
    }

    /// Folds `other` in (the state of both row sets).
    fn merge(&mut self, py: Python<'_>, other: PyRef<'_, PyState>) -> PyResult<()> {
        let other = &other.inner;
        let state = &mut self.inner;
        compute(py, || state.merge(other))
    }

    #[getter]
    fn rows_in(&self) -> u64 {
        self.inner.rows_in()
    }

    #[getter]
    fn max_time(&self) -> Option<i64> {
        self.inner.max_time()
    }

    /// Notes that rows elsewhere had valid timestamps up to `time` (ticks): the default
    /// ends of the finishes are then those of all the rows.
    fn note_max_time(&mut self, time: i64) {
        self.inner.note_max_time(time);
    }

    /// This state's customers in `n` states by a fixed hash of their ids (merged, they
    /// give this state's results); the dropped rows are counted in the first. A state of
    /// both views does not split.
    fn split(&mut self, py: Python<'_>, n: usize) -> PyResult<Vec<PyState>> {
        let state = &mut self.inner;
        let parts = compute(py, || state.split(n))?;
        Ok(parts.into_iter().map(|inner| PyState { inner }).collect())
    }

    #[getter]
    fn n_customers(&self) -> usize {
        self.inner.customers().len()
    }

    /// "int", "utf8" or "empty".
    #[getter]
    fn key_kind(&self) -> &'static str {
        self.inner.customers().kind()
    }

    /// The RFM table (the `_core.rfm` dict) with `keys`, the ids of its rows.
    #[pyo3(signature = (as_of_day=None))]
    fn finish_rfm<'py>(&self, py: Python<'py>, as_of_day: Option<i64>) -> PyResult<Bound<'py, PyDict>> {
        let state = &self.inner;
        let table = compute(py, || state.finish_rfm(as_of_day, false))?;
        with_keys(py, state.customers(), table, |table| &table.customer, rfm_to_py)
    }

    /// The BTYD summary (the `_core.summary` dict) with `keys`.
    #[pyo3(signature = (include_first_transaction=false))]
    fn finish_summary<'py>(
        &mut self,
        py: Python<'py>,
        include_first_transaction: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let state = &mut self.inner;
        let summary = compute(py, || state.finish_summary(include_first_transaction))?;
        with_keys(py, state.customers(), summary, |s| &s.customer, summary_to_py)
    }

    /// The calibration summary with the holdout columns (the `_core.calibration_holdout` dict) and `keys`.
    #[pyo3(signature = (include_first_transaction=false))]
    fn finish_calibration_holdout<'py>(
        &mut self,
        py: Python<'py>,
        include_first_transaction: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let state = &mut self.inner;
        let result = compute(py, || state.finish_calibration_holdout(include_first_transaction))?;
        with_keys(
            py,
            state.customers(),
            result,
            |r| &r.calibration.customer,
            holdout_to_py,
        )
    }
}

/// The dict of a finished view (`to_py`) with `keys`, the ids of its customers (`rows`
/// gives their state indexes).
fn with_keys<'py, T>(
    py: Python<'py>,
    customers: &Keys,
    view: T,
    rows: impl FnOnce(&T) -> &[i64],
    to_py: impl FnOnce(Python<'py>, T) -> PyResult<Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let keys = keys_to_py(py, customers, rows(&view))?;
    let out = to_py(py, view)?;
    out.set_item("keys", keys)?;
    Ok(out)
}

fn policy_name(first: bool, yes: &'static str, no: &'static str) -> &'static str {
    if first {
        yes
    } else {
        no
    }
}

#[allow(clippy::too_many_arguments)]
fn state_options(
    ticks_per_day: i64,
    (zero, returns, invalid): (&str, &str, &str),
    rfm: bool,
    as_of_day: Option<i64>,
    window: Option<i64>,
    freq: Option<&str>,
    observation_end: Option<i64>,
    calibration_end: Option<i64>,
    orders: bool,
    names: (String, String, String, String),
) -> PyResult<StateOptions> {
    let policy = parse_policy(invalid, zero, returns)?;
    let summary = match freq {
        Some(freq) => Some(SummaryView {
            period: Period::parse(freq).map_err(super::to_py_err)?,
            observation_end,
            calibration_end,
        }),
        None => None,
    };
    Ok(StateOptions {
        policy,
        ticks_per_day,
        rfm: rfm.then_some(RfmView {
            as_of_day,
            window_days: window,
        }),
        summary,
        orders,
        names: column_names(names),
    })
}

/// `{prefix}_kind` ("empty", "int", "utf8"), `{prefix}_values` (ints or offsets) and
/// `{prefix}_data` (the text bytes).
fn key_parts_to_py(py: Python<'_>, out: &Bound<'_, PyDict>, prefix: &str, parts: KeyParts) -> PyResult<()> {
    let (kind, values, data) = match parts {
        KeyParts::Empty => ("empty", Vec::new(), Vec::new()),
        KeyParts::Int(values) => ("int", values, Vec::new()),
        KeyParts::Utf8 { offsets, data } => ("utf8", offsets, data),
    };
    out.set_item(format!("{prefix}_kind"), kind)?;
    out.set_item(format!("{prefix}_values"), values.into_pyarray(py))?;
    out.set_item(format!("{prefix}_data"), data.into_pyarray(py))?;
    Ok(())
}

fn key_parts_of(
    kind: &Bound<'_, PyAny>,
    values: &Bound<'_, PyAny>,
    data: &Bound<'_, PyAny>,
) -> PyResult<KeyParts> {
    let kind: String = kind.extract()?;
    let values = values
        .extract::<PyReadonlyArray1<'_, i64>>()?
        .as_slice()?
        .to_vec();
    let data = data.extract::<PyReadonlyArray1<'_, u8>>()?.as_slice()?.to_vec();
    match kind.as_str() {
        "empty" => Ok(KeyParts::Empty),
        "int" => Ok(KeyParts::Int(values)),
        "utf8" => Ok(KeyParts::Utf8 {
            offsets: values,
            data,
        }),
        other => Err(super::InvalidParameterError::new_err(format!(
            "the state's ids are of an unknown kind {other:?}"
        ))),
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyState>()
}
