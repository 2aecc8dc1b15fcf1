//! `_core.State`: the mergeable per-customer state of `rfmkit.Aggregator` and of the
//! streaming inputs (see `rfmkit::state`).

use numpy::{IntoPyArray, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::{compute, parse_policy, rfm_to_py, summary_to_py, PyIds};
use crate::periods::Period;
use crate::rows::ColumnNames;
use crate::state::{Batch, Keys, RfmView, State, StateOptions, SummaryView};

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
        let policy = parse_policy(invalid, zero, returns)?;
        let summary = match freq {
            Some(freq) => Some(SummaryView {
                period: Period::parse(freq).map_err(super::to_py_err)?,
                observation_end,
                calibration_end,
            }),
            None => None,
        };
        let (customer, date, amount, order) = names;
        let options = StateOptions {
            policy,
            ticks_per_day,
            rfm: rfm.then_some(RfmView {
                as_of_day,
                window_days: window,
            }),
            summary,
            orders,
            names: ColumnNames {
                customer,
                date,
                amount,
                order,
            },
        };
        Ok(PyState {
            inner: State::new(options).map_err(super::to_py_err)?,
        })
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
            amount: amount.as_ref().map(|a| a.as_slice()).transpose()?,
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
        let keys = keys_to_py(py, state.customers(), &table.customer)?;
        let out = rfm_to_py(py, table)?;
        out.set_item("keys", keys)?;
        Ok(out)
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
        let keys = keys_to_py(py, self.inner.customers(), &summary.customer)?;
        let out = summary_to_py(py, summary)?;
        out.set_item("keys", keys)?;
        Ok(out)
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
        let keys = keys_to_py(py, self.inner.customers(), &result.calibration.customer)?;
        let out = summary_to_py(py, result.calibration)?;
        out.set_item("frequency_holdout", result.frequency_holdout.into_pyarray(py))?;
        out.set_item(
            "monetary_value_holdout",
            result.monetary_value_holdout.into_pyarray(py),
        )?;
        out.set_item("duration_holdout", result.duration_holdout)?;
        out.set_item("keys", keys)?;
        Ok(out)
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyState>()
}
