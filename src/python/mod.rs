//! The Python binding (`rfmkit._core`): the only module that knows pyo3 and numpy.
//!
//! Each function borrows its numpy arguments without copying, runs the core with
//! the GIL released (through [`compute`]), and returns owned numpy arrays. The
//! bindings of each area of the core live in a submodule of this one with a
//! `register` function that `_core` calls; all of them go through [`compute`] and
//! [`to_py_err`] defined here.

mod cluster;
mod clv;
mod segments;
mod state;

use numpy::{Element, IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::collections::HashMap;

use crate::encode::{encode_f64, encode_i64, encode_utf8, Encoded};
use crate::error::RfmError;
use crate::periods::{Period, TIME_UNIT_ALIASES};
use crate::rows::{
    Accounting, ColumnNames, InvalidPolicy, Named, ReturnPolicy, RowPolicy, Transactions, ZeroPolicy,
};
use crate::state::oneshot::{
    calibration_holdout as calibration_holdout_core, calibration_holdout_of_batch, rfm as rfm_core,
    summary as summary_core, summary_of_batch, RfmOptions, SummaryOptions,
};
use crate::state::{Batch, Ids, Offsets as IdOffsets, RfmView, State, StateOptions, SummaryView};

pyo3::create_exception!(
    rfmkit,
    RfmkitError,
    PyValueError,
    "Base class of every rfmkit error."
);
pyo3::create_exception!(
    rfmkit,
    ColumnNotFoundError,
    RfmkitError,
    "A named column is not in the data."
);
pyo3::create_exception!(
    rfmkit,
    DtypeError,
    RfmkitError,
    "A column has a dtype rfmkit cannot use as it is."
);
pyo3::create_exception!(
    rfmkit,
    InvalidParameterError,
    RfmkitError,
    "A parameter is out of its domain."
);
pyo3::create_exception!(
    rfmkit,
    InvalidRowError,
    RfmkitError,
    "A row rejected by invalid=\"raise\" or returns=\"raise\"."
);
pyo3::create_exception!(
    rfmkit,
    SchemeError,
    RfmkitError,
    "A segment scheme whose rules cannot be built or checked."
);
pyo3::create_exception!(
    rfmkit,
    InvalidDataError,
    RfmkitError,
    "Data that cannot be used as it is: a NaN or infinite value, a score out of range, an empty table, a constant feature, too few distinct points."
);
pyo3::create_exception!(
    rfmkit,
    NotFittedError,
    RfmkitError,
    "An estimator was used before `fit`."
);
pyo3::create_exception!(
    rfmkit,
    ConvergenceError,
    RfmkitError,
    "A model fit that gives no estimate: the optimiser stopped before an optimum, or what it found is a limit (a parameter ran off towards 0 or infinity, or the likelihood is flat). The message says which, why, the data's counts and what to do."
);
pyo3::create_exception!(
    rfmkit,
    InternalError,
    RfmkitError,
    "A bug in rfmkit: please report it."
);

pub(crate) fn to_py_err(error: RfmError) -> PyErr {
    let message = error.to_string();
    match error {
        // A model input's value: the horizon `t` and the count `n` are parameters; the
        // columns of the summary (frequency, recency, T, spend, weights) are data.
        RfmError::InvalidValue {
            argument: "t" | "n", ..
        }
        | RfmError::Parameter { .. } => InvalidParameterError::new_err(message),
        RfmError::InvalidValue { .. } => InvalidDataError::new_err(message),
        RfmError::Convergence { .. } => ConvergenceError::new_err(message),
        RfmError::InvalidRow { .. } | RfmError::ReturnRow { .. } => InvalidRowError::new_err(message),
        RfmError::BadValue { .. } | RfmError::Data { .. } => InvalidDataError::new_err(message),
        RfmError::Scheme { .. } => SchemeError::new_err(message),
        RfmError::Length { .. }
        | RfmError::Code { .. }
        | RfmError::Internal(_)
        | RfmError::Backend { .. } => InternalError::new_err(message),
    }
}

/// Runs `work` with the GIL released; core errors become their Python classes and a
/// panic (a bug: the core validates its inputs first) becomes `InternalError`, never
/// a `PanicException`.
pub(crate) fn compute<T: Send>(
    py: Python<'_>,
    work: impl FnOnce() -> Result<T, RfmError> + Send,
) -> PyResult<T> {
    let outcome = py.detach(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)));
    match outcome {
        Ok(result) => result.map_err(to_py_err),
        Err(panic) => {
            let detail = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(InternalError::new_err(format!(
                "internal error in the rfmkit core: {detail}"
            )))
        }
    }
}

/// [`compute`], then its result as an owned numpy array.
pub(crate) fn compute_array<'py, T: Element + Send>(
    py: Python<'py>,
    work: impl FnOnce() -> Result<Vec<T>, RfmError> + Send,
) -> PyResult<Bound<'py, PyArray1<T>>> {
    Ok(compute(py, work)?.into_pyarray(py))
}

/// Borrows numpy arrays as slices, without copying: `let (a, b) = slices!(a, b);`.
macro_rules! slices {
    ($($array:expr),+ $(,)?) => {
        ($($array.as_slice()?),+)
    };
}
pub(crate) use slices;

/// `out[field] = value.field` for each field, named as the field.
macro_rules! set_fields {
    ($out:expr, $value:ident => $($field:ident),+ $(,)?) => {
        $($out.set_item(stringify!($field), $value.$field)?;)+
    };
}
pub(crate) use set_fields;

/// `out[field] = value.field` as an owned numpy array, for each field, named as the field.
macro_rules! set_arrays {
    ($out:expr, $py:expr, $value:ident => $($field:ident),+ $(,)?) => {
        $($out.set_item(stringify!($field), $value.$field.into_pyarray($py))?;)+
    };
}
pub(crate) use set_arrays;

/// Adds the pyfunctions to the module: `add_functions!(m, a, b);`.
macro_rules! add_functions {
    ($module:expr, $($function:ident),+ $(,)?) => {
        $($module.add_function(wrap_pyfunction!($function, $module)?)?;)+
    };
}
pub(crate) use add_functions;

/// Adds the Python classes of the exceptions to the module, each under its name.
macro_rules! add_types {
    ($module:expr, $($class:ident),+ $(,)?) => {
        $($module.add(stringify!($class), $module.py().get_type::<$class>())?;)+
    };
}

/// An optional numpy array as an optional slice, without copying.
pub(crate) fn optional_slice<'a, T: Element>(
    array: &'a Option<PyReadonlyArray1<'_, T>>,
) -> PyResult<Option<&'a [T]>> {
    Ok(array.as_ref().map(|a| a.as_slice()).transpose()?)
}

/// The names of the input columns (customer, date, amount, order), for messages.
pub(crate) fn column_names((customer, date, amount, order): (String, String, String, String)) -> ColumnNames {
    ColumnNames {
        customer,
        date,
        amount,
        order,
    }
}

fn parse_policy(invalid: &str, zero: &str, returns: &str) -> PyResult<RowPolicy> {
    Ok(RowPolicy {
        invalid: InvalidPolicy::parse(invalid).map_err(to_py_err)?,
        zero: ZeroPolicy::parse(zero).map_err(to_py_err)?,
        returns: ReturnPolicy::parse(returns).map_err(to_py_err)?,
    })
}

/// The words of rfmkit's vocabulary that the core owns, for the Python side to ask
/// instead of keeping a list of its own: the built-in segment schemes, the row policies
/// and the time units.
#[pyfunction]
fn vocabulary() -> HashMap<&'static str, Vec<&'static str>> {
    HashMap::from([
        ("schemes", crate::segments::SCHEMES.to_vec()),
        ("invalid", InvalidPolicy::names()),
        ("zero", ZeroPolicy::names()),
        ("returns", ReturnPolicy::names()),
        (
            "freq",
            TIME_UNIT_ALIASES.iter().map(|(alias, _)| *alias).collect(),
        ),
    ])
}

fn encoded_to_py(py: Python<'_>, encoded: Encoded) -> PyResult<Bound<'_, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("codes", encoded.codes.into_pyarray(py))?;
    out.set_item("first_rows", encoded.first_rows.into_pyarray(py))?;
    Ok(out)
}

fn accounting_to_py<'py>(py: Python<'py>, out: &Bound<'py, PyDict>, accounting: &Accounting) -> PyResult<()> {
    let dropped = PyDict::new(py);
    for (reason, count) in accounting.dropped_counts() {
        dropped.set_item(reason, count)?;
    }
    out.set_item("rows_in", accounting.rows_in)?;
    out.set_item("rows_used", accounting.rows_used)?;
    out.set_item("dropped", dropped)?;
    Ok(())
}

/// Floats whose exact sum is the exact sum of `values` (see
/// `rfmkit::money::exact_partials`): `math.fsum` of the partials of every part of a
/// column is the exactly rounded sum of the whole column.
#[pyfunction]
fn exact_partials<'py>(
    py: Python<'py>,
    values: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, numpy::PyArray1<f64>>> {
    let values = values.as_slice()?;
    if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
        return Err(PyValueError::new_err(format!(
            "exact_partials takes finite numbers, got {bad}"
        )));
    }
    Ok(crate::money::exact_partials(values).into_pyarray(py))
}

/// Dense codes of integer ids (see `rfmkit::encode::encode_i64`).
#[pyfunction]
#[pyo3(signature = (values, validity=None))]
fn factorize_int<'py>(
    py: Python<'py>,
    values: PyReadonlyArray1<'py, i64>,
    validity: Option<PyReadonlyArray1<'py, bool>>,
) -> PyResult<Bound<'py, PyDict>> {
    let (values, validity) = (values.as_slice()?, optional_slice(&validity)?);
    let encoded = compute(py, || encode_i64(values, validity))?;
    encoded_to_py(py, encoded)
}

/// Dense codes of float ids; NaN is null.
#[pyfunction]
fn factorize_float<'py>(py: Python<'py>, values: PyReadonlyArray1<'py, f64>) -> PyResult<Bound<'py, PyDict>> {
    let values = values.as_slice()?;
    let encoded = compute(py, || encode_f64(values))?;
    encoded_to_py(py, encoded)
}

/// Arrow string offsets: int32 (`string`) or int64 (`large_string`).
#[derive(FromPyObject)]
pub(crate) enum Offsets<'py> {
    Large(PyReadonlyArray1<'py, i64>),
    Small(PyReadonlyArray1<'py, i32>),
}

/// Dense codes of strings in Arrow layout (int32 or int64 offsets, utf-8 data).
#[pyfunction]
#[pyo3(signature = (offsets, data, validity=None))]
fn factorize_utf8<'py>(
    py: Python<'py>,
    offsets: Offsets<'py>,
    data: PyReadonlyArray1<'py, u8>,
    validity: Option<PyReadonlyArray1<'py, bool>>,
) -> PyResult<Bound<'py, PyDict>> {
    let (data, validity) = (data.as_slice()?, optional_slice(&validity)?);
    let encoded = match &offsets {
        Offsets::Large(offsets) => {
            let offsets = offsets.as_slice()?;
            compute(py, || encode_utf8(offsets, data, validity))?
        }
        Offsets::Small(offsets) => {
            let offsets = offsets.as_slice()?;
            compute(py, || encode_utf8(offsets, data, validity))?
        }
    };
    encoded_to_py(py, encoded)
}

/// The transaction columns as the Python layer hands them over.
#[derive(FromPyObject)]
struct Table<'py> {
    customer: PyReadonlyArray1<'py, i64>,
    n_customers: usize,
    time: PyReadonlyArray1<'py, i64>,
    ticks_per_day: i64,
    amount: Option<PyReadonlyArray1<'py, f64>>,
    order: Option<PyReadonlyArray1<'py, i64>>,
    n_orders: usize,
    names: (String, String, String, String),
}

impl<'py> Table<'py> {
    fn transactions(&self) -> PyResult<Transactions<'_>> {
        Ok(Transactions {
            customer: self.customer.as_slice()?,
            n_customers: self.n_customers,
            time: self.time.as_slice()?,
            ticks_per_day: self.ticks_per_day,
            amount: optional_slice(&self.amount)?,
            order: optional_slice(&self.order)?,
            n_orders: self.n_orders,
            names: column_names(self.names.clone()),
        })
    }

    /// The rows with the customer ids `ids` as they are (the codes are not read).
    fn batch_of_ids<'a>(&'a self, ids: Ids<'a>) -> PyResult<Batch<'a>> {
        Ok(Batch {
            customer: ids,
            time: self.time.as_slice()?,
            amount: optional_slice(&self.amount)?,
            order: None,
        })
    }
}

/// The RFM table; `table` is a `rfmkit._frame.CoreTable`-like object.
#[pyfunction]
#[pyo3(signature = (table, *, as_of_day, window, zero, returns, invalid))]
fn rfm<'py>(
    py: Python<'py>,
    table: Table<'py>,
    as_of_day: Option<i64>,
    window: Option<i64>,
    zero: &str,
    returns: &str,
    invalid: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let options = RfmOptions {
        as_of_day,
        window_days: window,
        policy: parse_policy(invalid, zero, returns)?,
    };
    let tx = table.transactions()?;
    let result = compute(py, || rfm_core(&tx, &options))?;
    rfm_to_py(py, result)
}

/// The periods with a purchase of each customer and its spend in them (`crate::cohorts`):
/// a dict of arrays ``customer``, ``period`` and ``spend``.
#[pyfunction]
#[pyo3(signature = (table, *, as_of_day, period_starts, zero, returns))]
fn cohort_activity<'py>(
    py: Python<'py>,
    table: Table<'py>,
    as_of_day: i64,
    period_starts: PyReadonlyArray1<'py, i64>,
    zero: &str,
    returns: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let policy = parse_policy("drop", zero, returns)?;
    let starts = period_starts.as_slice()?;
    let tx = table.transactions()?;
    let result = compute(py, || crate::cohorts::activity(&tx, as_of_day, starts, &policy))?;
    let out = PyDict::new(py);
    set_arrays!(out, py, result => customer, period, spend, purchased);
    Ok(out)
}

/// The first days of the periods of unit `freq` that hold the days `first_day..=last_day`
/// (`crate::cohorts::period_starts`).
#[pyfunction]
fn cohort_period_starts(py: Python<'_>, freq: &str, first_day: i64, last_day: i64) -> PyResult<Vec<i64>> {
    let period = Period::parse(freq).map_err(to_py_err)?;
    compute(py, || crate::cohorts::period_starts(period, first_day, last_day))
}

/// An id column as Python hands it over: `(values, validity)` for integers,
/// `(offsets, data, validity)` for Arrow strings (int32 or int64 offsets).
#[derive(FromPyObject)]
pub(crate) enum PyIds<'py> {
    Int(PyReadonlyArray1<'py, i64>, Option<PyReadonlyArray1<'py, bool>>),
    Utf8(
        Offsets<'py>,
        PyReadonlyArray1<'py, u8>,
        Option<PyReadonlyArray1<'py, bool>>,
    ),
}

impl<'py> PyIds<'py> {
    pub(crate) fn ids(&self) -> PyResult<Ids<'_>> {
        Ok(match self {
            PyIds::Int(values, validity) => Ids::Int {
                values: values.as_slice()?,
                validity: optional_slice(validity)?,
            },
            PyIds::Utf8(offsets, data, validity) => Ids::Utf8 {
                offsets: match offsets {
                    Offsets::Small(o) => IdOffsets::Small(o.as_slice()?),
                    Offsets::Large(o) => IdOffsets::Large(o.as_slice()?),
                },
                data: data.as_slice()?,
                validity: optional_slice(validity)?,
            },
        })
    }
}

/// The RFM table straight from customer ids as they are (integers, or Arrow strings
/// hashed in place): `table` gives the date and amount columns (its customer codes are
/// not read). The `rfm` dict with `customer` numbering the rows and `first_rows`, the
/// row of each one's first purchase (where its id can be taken from).
#[pyfunction]
#[pyo3(signature = (table, ids, *, as_of_day, window, zero, returns, invalid))]
#[allow(clippy::too_many_arguments)]
fn rfm_ids<'py>(
    py: Python<'py>,
    table: Table<'py>,
    ids: PyIds<'py>,
    as_of_day: Option<i64>,
    window: Option<i64>,
    zero: &str,
    returns: &str,
    invalid: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let policy = parse_policy(invalid, zero, returns)?;
    let names = column_names(table.names.clone());
    let batch = table.batch_of_ids(ids.ids()?)?;
    let result = compute(py, || {
        // A window with the default as_of: the last valid row first.
        let as_of_day = match (as_of_day, window) {
            (None, Some(_)) => batch
                .max_valid_time()
                .map(|t| t.div_euclid(table.ticks_per_day) + 1),
            (day, _) => day,
        };
        let window = if as_of_day.is_none() && window.is_some_and(|w| w > 0) {
            None
        } else {
            window
        };
        let mut state = State::new(StateOptions {
            policy,
            ticks_per_day: table.ticks_per_day,
            rfm: Some(RfmView {
                as_of_day,
                window_days: window,
            }),
            summary: None,
            orders: false,
            names,
        })?;
        state.update(&batch)?;
        let mut table = state.finish_rfm(None, true)?;
        let first_rows = std::mem::take(&mut table.first_row);
        table.customer = (0..first_rows.len() as i64).collect();
        table.first_row = first_rows.clone();
        Ok((table, first_rows))
    })?;
    let (result, first_rows) = result;
    let out = rfm_to_py(py, result)?;
    out.set_item("first_rows", first_rows.into_pyarray(py))?;
    Ok(out)
}

fn rfm_to_py(py: Python<'_>, result: crate::state::RfmTable) -> PyResult<Bound<'_, PyDict>> {
    let out = PyDict::new(py);
    set_arrays!(out, py, result => customer, recency, frequency, monetary, avg_order_value, first_row,
        last_row, first_time, last_time, tenure);
    set_fields!(out, result => as_of_day);
    accounting_to_py(py, &out, &result.accounting)?;
    Ok(out)
}

fn summary_options(
    freq: &str,
    observation_end: Option<i64>,
    include_first_transaction: bool,
    (invalid, zero, returns): (&str, &str, &str),
) -> PyResult<SummaryOptions> {
    let policy = parse_policy(invalid, zero, returns)?;
    let period = Period::parse(freq).map_err(to_py_err)?;
    Ok(SummaryOptions {
        period,
        observation_end,
        include_first_transaction,
        policy,
    })
}

fn summary_to_py<'py>(py: Python<'py>, summary: crate::state::Summary) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    set_arrays!(out, py, summary => customer, frequency, recency);
    out.set_item("T", summary.t.into_pyarray(py))?;
    set_arrays!(out, py, summary => monetary_value);
    set_fields!(out, summary => observation_end);
    accounting_to_py(py, &out, &summary.accounting)?;
    Ok(out)
}

/// The table of time units (`rfmkit::periods`): the unit of a `freq` alias as
/// `{"canonical", "days", "periods_per_month"}`; an unknown alias raises
/// `InvalidParameterError` listing the accepted ones.
#[pyfunction]
fn time_unit<'py>(py: Python<'py>, alias: &str) -> PyResult<Bound<'py, PyDict>> {
    let period = Period::parse(alias).map_err(to_py_err)?;
    let out = PyDict::new(py);
    out.set_item("canonical", period.canonical())?;
    out.set_item("days", period.days())?;
    out.set_item("periods_per_month", period.periods_per_month())?;
    Ok(out)
}

/// Every accepted `freq` alias, in the order error messages list them.
#[pyfunction]
fn time_unit_aliases() -> Vec<&'static str> {
    TIME_UNIT_ALIASES.iter().map(|(alias, _)| *alias).collect()
}

/// The state options of a one-shot BTYD view of `table`.
fn btyd_state_options(
    table: &Table<'_>,
    options: &SummaryOptions,
    calibration_end: Option<i64>,
) -> StateOptions {
    StateOptions {
        policy: options.policy,
        ticks_per_day: table.ticks_per_day,
        rfm: None,
        summary: Some(SummaryView {
            period: options.period,
            observation_end: options.observation_end,
            calibration_end,
        }),
        orders: false,
        names: column_names(table.names.clone()),
    }
}

/// A one-shot BTYD view of `table` (the summary, or the calibration/holdout split):
/// by its customer codes with `of_codes`, or, with `ids` (integer or text ids as they
/// are, see `rfm_ids`), with `of_batch`, its customers numbered 0.. with `first_rows`.
fn btyd_view<'py, V: BtydView + Send>(
    py: Python<'py>,
    table: Table<'py>,
    ids: Option<PyIds<'py>>,
    options: SummaryOptions,
    calibration_end: Option<i64>,
    of_codes: impl FnOnce(&Transactions<'_>, &SummaryOptions) -> Result<V, RfmError> + Send,
    of_batch: impl FnOnce(&Batch<'_>, StateOptions, bool) -> Result<(V, Vec<u64>), RfmError> + Send,
) -> PyResult<Bound<'py, PyDict>> {
    let Some(ids) = ids else {
        let tx = table.transactions()?;
        return compute(py, || of_codes(&tx, &options))?.to_py(py);
    };
    let batch = table.batch_of_ids(ids.ids()?)?;
    let state_options = btyd_state_options(&table, &options, calibration_end);
    let include_first_transaction = options.include_first_transaction;
    let (mut view, first_rows) = compute(py, || of_batch(&batch, state_options, include_first_transaction))?;
    if batch.amount.is_none() {
        view.clear_monetary_value();
    }
    with_first_rows(py, view.to_py(py)?, first_rows)
}

/// What [`btyd_view`] needs of a view.
trait BtydView {
    /// Its dict for Python.
    fn to_py(self, py: Python<'_>) -> PyResult<Bound<'_, PyDict>>;
    /// Drops the spend (rows given without amounts).
    fn clear_monetary_value(&mut self);
}

impl BtydView for crate::state::Summary {
    fn to_py(self, py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
        summary_to_py(py, self)
    }

    fn clear_monetary_value(&mut self) {
        self.monetary_value.clear();
    }
}

impl BtydView for crate::state::CalibrationHoldout {
    fn to_py(self, py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
        holdout_to_py(py, self)
    }

    fn clear_monetary_value(&mut self) {
        self.calibration.monetary_value.clear();
    }
}

/// `out` numbering its customers 0.. with `first_rows`, the row where each one's id first
/// appears (where the caller takes it from).
fn with_first_rows<'py>(
    py: Python<'py>,
    out: Bound<'py, PyDict>,
    first_rows: Vec<u64>,
) -> PyResult<Bound<'py, PyDict>> {
    out.set_item(
        "customer",
        numpy::PyArray1::<i64>::arange(py, 0, first_rows.len() as i64, 1),
    )?;
    let rows: Vec<i64> = first_rows.into_iter().map(|r| r as i64).collect();
    out.set_item("first_rows", rows.into_pyarray(py))?;
    Ok(out)
}

/// The lifetimes-style summary. With `ids` (integer or text ids as they are, see
/// `rfm_ids`), the table's codes are not read and the customers come with `first_rows`.
#[pyfunction]
#[pyo3(signature = (table, *, freq, observation_end, include_first_transaction, zero, returns, invalid, ids=None))]
#[allow(clippy::too_many_arguments)]
fn summary<'py>(
    py: Python<'py>,
    table: Table<'py>,
    freq: &str,
    observation_end: Option<i64>,
    include_first_transaction: bool,
    zero: &str,
    returns: &str,
    invalid: &str,
    ids: Option<PyIds<'py>>,
) -> PyResult<Bound<'py, PyDict>> {
    let policy = (invalid, zero, returns);
    let options = summary_options(freq, observation_end, include_first_transaction, policy)?;
    btyd_view(py, table, ids, options, None, summary_core, summary_of_batch)
}

/// The lifetimes-style calibration summary with the holdout columns; `ids` as in `summary`.
#[pyfunction]
#[pyo3(signature = (table, *, calibration_end, freq, observation_end, include_first_transaction, zero, returns, invalid, ids=None))]
#[allow(clippy::too_many_arguments)]
fn calibration_holdout<'py>(
    py: Python<'py>,
    table: Table<'py>,
    calibration_end: i64,
    freq: &str,
    observation_end: Option<i64>,
    include_first_transaction: bool,
    zero: &str,
    returns: &str,
    invalid: &str,
    ids: Option<PyIds<'py>>,
) -> PyResult<Bound<'py, PyDict>> {
    let policy = (invalid, zero, returns);
    let options = summary_options(freq, observation_end, include_first_transaction, policy)?;
    btyd_view(
        py,
        table,
        ids,
        options,
        Some(calibration_end),
        |tx, options| calibration_holdout_core(tx, calibration_end, options),
        calibration_holdout_of_batch,
    )
}

/// The calibration summary dict with the holdout columns.
fn holdout_to_py(py: Python<'_>, result: crate::state::CalibrationHoldout) -> PyResult<Bound<'_, PyDict>> {
    let out = summary_to_py(py, result.calibration)?;
    set_arrays!(out, py, result => frequency_holdout, monetary_value_holdout);
    set_fields!(out, result => duration_holdout);
    Ok(out)
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    add_types!(
        m,
        RfmkitError,
        ColumnNotFoundError,
        DtypeError,
        InvalidParameterError,
        InvalidRowError,
        SchemeError,
        InvalidDataError,
        NotFittedError,
        ConvergenceError,
        InternalError,
    );
    add_functions!(
        m,
        factorize_int,
        factorize_float,
        factorize_utf8,
        rfm,
        rfm_ids,
        cohort_activity,
        cohort_period_starts,
        time_unit,
        time_unit_aliases,
        vocabulary,
        summary,
        exact_partials,
        calibration_holdout,
    );
    segments::register(m)?;
    state::register(m)?;
    cluster::register(m)?;
    clv::register(m)?;
    Ok(())
}
