//! Bindings of the CLV models (`rfmkit::clv`): fits and predictions of BG/NBD and
//! Gamma-Gamma. Parameters cross as tuples, columns as float64 numpy arrays; every
//! call runs through [`compute`] (GIL released, errors mapped by `to_py_err`).

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::compute;
use crate::clv::bgnbd::{self, BgNbdParams};
use crate::clv::gamma_gamma::{self, GammaGammaParams};
use crate::clv::{FitOptions, FitReport};

fn bg(params: (f64, f64, f64, f64)) -> BgNbdParams {
    let (r, alpha, a, b) = params;
    BgNbdParams { r, alpha, a, b }
}

fn gg(params: (f64, f64, f64)) -> GammaGammaParams {
    let (p, q, v) = params;
    GammaGammaParams { p, q, v }
}

fn options(
    penalizer_coef: f64,
    initial_params: Option<Vec<f64>>,
    tol: f64,
    max_iterations: usize,
) -> FitOptions {
    FitOptions {
        penalizer_coef,
        initial_log_params: initial_params,
        gradient_tolerance: tol,
        max_iterations,
    }
}

fn report_to_py<'py, const N: usize>(py: Python<'py>, report: &FitReport<N>) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("params", report.params.to_vec())?;
    out.set_item("log_likelihood", report.log_likelihood)?;
    out.set_item("objective", report.objective)?;
    out.set_item(
        "hessian",
        report.hessian.iter().map(|row| row.to_vec()).collect::<Vec<_>>(),
    )?;
    out.set_item(
        "covariance",
        report
            .covariance
            .map(|c| c.iter().map(|row| row.to_vec()).collect::<Vec<_>>()),
    )?;
    out.set_item("iterations", report.iterations)?;
    out.set_item("gradient_norm", report.gradient_norm)?;
    out.set_item("n_patterns", report.n_patterns)?;
    out.set_item("total_weight", report.total_weight)?;
    Ok(out)
}

/// BG/NBD maximum-likelihood fit (see `rfmkit::clv::bgnbd::fit`).
#[pyfunction]
#[pyo3(signature = (frequency, recency, T, weights=None, *, penalizer_coef, initial_params, tol, max_iterations))]
#[allow(non_snake_case, clippy::too_many_arguments)]
fn bgnbd_fit<'py>(
    py: Python<'py>,
    frequency: PyReadonlyArray1<'py, f64>,
    recency: PyReadonlyArray1<'py, f64>,
    T: PyReadonlyArray1<'py, f64>,
    weights: Option<PyReadonlyArray1<'py, f64>>,
    penalizer_coef: f64,
    initial_params: Option<Vec<f64>>,
    tol: f64,
    max_iterations: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let (frequency, recency, age) = (frequency.as_slice()?, recency.as_slice()?, T.as_slice()?);
    let weights = weights.as_ref().map(|w| w.as_slice()).transpose()?;
    let options = options(penalizer_coef, initial_params, tol, max_iterations);
    let report = compute(py, || bgnbd::fit(frequency, recency, age, weights, &options))?;
    report_to_py(py, &report)
}

/// Total BG/NBD log-likelihood of customers under given parameters.
#[pyfunction]
#[pyo3(signature = (params, frequency, recency, T, weights=None))]
#[allow(non_snake_case)]
fn bgnbd_log_likelihood<'py>(
    py: Python<'py>,
    params: (f64, f64, f64, f64),
    frequency: PyReadonlyArray1<'py, f64>,
    recency: PyReadonlyArray1<'py, f64>,
    T: PyReadonlyArray1<'py, f64>,
    weights: Option<PyReadonlyArray1<'py, f64>>,
) -> PyResult<f64> {
    let (frequency, recency, age) = (frequency.as_slice()?, recency.as_slice()?, T.as_slice()?);
    let weights = weights.as_ref().map(|w| w.as_slice()).transpose()?;
    compute(py, || {
        bgnbd::log_likelihood(&bg(params), frequency, recency, age, weights)
    })
}

/// Conditional expected repeat purchases in (T, T + t].
#[pyfunction]
#[allow(non_snake_case)]
fn bgnbd_conditional_expected<'py>(
    py: Python<'py>,
    params: (f64, f64, f64, f64),
    t: PyReadonlyArray1<'py, f64>,
    frequency: PyReadonlyArray1<'py, f64>,
    recency: PyReadonlyArray1<'py, f64>,
    T: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let (t, frequency, recency, age) = (
        t.as_slice()?,
        frequency.as_slice()?,
        recency.as_slice()?,
        T.as_slice()?,
    );
    let out = compute(py, || {
        bgnbd::conditional_expected_purchases(&bg(params), t, frequency, recency, age)
    })?;
    Ok(out.into_pyarray(py))
}

/// P(alive) of each customer.
#[pyfunction]
#[allow(non_snake_case)]
fn bgnbd_probability_alive<'py>(
    py: Python<'py>,
    params: (f64, f64, f64, f64),
    frequency: PyReadonlyArray1<'py, f64>,
    recency: PyReadonlyArray1<'py, f64>,
    T: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let (frequency, recency, age) = (frequency.as_slice()?, recency.as_slice()?, T.as_slice()?);
    let out = compute(py, || {
        bgnbd::probability_alive(&bg(params), frequency, recency, age)
    })?;
    Ok(out.into_pyarray(py))
}

/// Expected repeat purchases of a new customer in `t`.
#[pyfunction]
fn bgnbd_expected<'py>(
    py: Python<'py>,
    params: (f64, f64, f64, f64),
    t: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let t = t.as_slice()?;
    let out = compute(py, || bgnbd::expected_purchases(&bg(params), t))?;
    Ok(out.into_pyarray(py))
}

/// P(N(t) = n) of a new customer.
#[pyfunction]
fn bgnbd_probability_of_n<'py>(
    py: Python<'py>,
    params: (f64, f64, f64, f64),
    t: PyReadonlyArray1<'py, f64>,
    n: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let (t, n) = (t.as_slice()?, n.as_slice()?);
    let out = compute(py, || bgnbd::probability_of_n_purchases(&bg(params), t, n))?;
    Ok(out.into_pyarray(py))
}

/// Discounted lifetime value over `horizon` periods of `step` time units.
#[pyfunction]
#[pyo3(signature = (params, frequency, recency, T, spend, *, horizon, step, discount_rate))]
#[allow(non_snake_case, clippy::too_many_arguments)]
fn bgnbd_lifetime_value<'py>(
    py: Python<'py>,
    params: (f64, f64, f64, f64),
    frequency: PyReadonlyArray1<'py, f64>,
    recency: PyReadonlyArray1<'py, f64>,
    T: PyReadonlyArray1<'py, f64>,
    spend: PyReadonlyArray1<'py, f64>,
    horizon: usize,
    step: f64,
    discount_rate: f64,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let (frequency, recency, age, spend) = (
        frequency.as_slice()?,
        recency.as_slice()?,
        T.as_slice()?,
        spend.as_slice()?,
    );
    let out = compute(py, || {
        bgnbd::lifetime_value(
            &bg(params),
            frequency,
            recency,
            age,
            spend,
            horizon,
            step,
            discount_rate,
        )
    })?;
    Ok(out.into_pyarray(py))
}

/// Gamma-Gamma maximum-likelihood fit on the repeat customers.
#[pyfunction]
#[pyo3(signature = (frequency, monetary_value, weights=None, *, penalizer_coef, initial_params, tol, max_iterations))]
#[allow(clippy::too_many_arguments)]
fn gamma_gamma_fit<'py>(
    py: Python<'py>,
    frequency: PyReadonlyArray1<'py, f64>,
    monetary_value: PyReadonlyArray1<'py, f64>,
    weights: Option<PyReadonlyArray1<'py, f64>>,
    penalizer_coef: f64,
    initial_params: Option<Vec<f64>>,
    tol: f64,
    max_iterations: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let (frequency, spend) = (frequency.as_slice()?, monetary_value.as_slice()?);
    let weights = weights.as_ref().map(|w| w.as_slice()).transpose()?;
    let options = options(penalizer_coef, initial_params, tol, max_iterations);
    let fit = compute(py, || gamma_gamma::fit(frequency, spend, weights, &options))?;
    let out = report_to_py(py, &fit.report)?;
    out.set_item("n_without_repeat", fit.n_without_repeat)?;
    out.set_item("n_without_repeat_spend", fit.n_without_repeat_spend)?;
    Ok(out)
}

/// Conditional expected average spend per transaction.
#[pyfunction]
fn gamma_gamma_expected_spend<'py>(
    py: Python<'py>,
    params: (f64, f64, f64),
    frequency: PyReadonlyArray1<'py, f64>,
    monetary_value: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let (frequency, spend) = (frequency.as_slice()?, monetary_value.as_slice()?);
    let out = compute(py, || {
        gamma_gamma::conditional_expected_average_profit(&gg(params), frequency, spend)
    })?;
    Ok(out.into_pyarray(py))
}

pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(bgnbd_fit, m)?)?;
    m.add_function(wrap_pyfunction!(bgnbd_log_likelihood, m)?)?;
    m.add_function(wrap_pyfunction!(bgnbd_conditional_expected, m)?)?;
    m.add_function(wrap_pyfunction!(bgnbd_probability_alive, m)?)?;
    m.add_function(wrap_pyfunction!(bgnbd_expected, m)?)?;
    m.add_function(wrap_pyfunction!(bgnbd_probability_of_n, m)?)?;
    m.add_function(wrap_pyfunction!(bgnbd_lifetime_value, m)?)?;
    m.add_function(wrap_pyfunction!(gamma_gamma_fit, m)?)?;
    m.add_function(wrap_pyfunction!(gamma_gamma_expected_spend, m)?)?;
    Ok(())
}
