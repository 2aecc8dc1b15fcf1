//! Bindings of the CLV models (`rfmkit::clv`): fits and predictions of BG/NBD and
//! Gamma-Gamma. Parameters cross as tuples, columns as float64 numpy arrays; every
//! call runs through [`compute`] (GIL released, errors mapped by `to_py_err`).

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::{compute, compute_array, optional_slice, set_fields, slices};
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
    set_fields!(out, report => log_likelihood, objective);
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
    set_fields!(out, report => iterations, gradient_norm, n_patterns, total_weight);
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
    let (frequency, recency, age) = slices!(frequency, recency, T);
    let weights = optional_slice(&weights)?;
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
    let (frequency, recency, age) = slices!(frequency, recency, T);
    let weights = optional_slice(&weights)?;
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
    let (t, frequency, recency, age) = slices!(t, frequency, recency, T);
    compute_array(py, || {
        bgnbd::conditional_expected_purchases(&bg(params), t, frequency, recency, age)
    })
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
    let (frequency, recency, age) = slices!(frequency, recency, T);
    compute_array(py, || {
        bgnbd::probability_alive(&bg(params), frequency, recency, age)
    })
}

/// Expected repeat purchases of a new customer in `t`.
#[pyfunction]
fn bgnbd_expected<'py>(
    py: Python<'py>,
    params: (f64, f64, f64, f64),
    t: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let t = t.as_slice()?;
    compute_array(py, || bgnbd::expected_purchases(&bg(params), t))
}

/// P(N(t) = n) of a new customer.
#[pyfunction]
fn bgnbd_probability_of_n<'py>(
    py: Python<'py>,
    params: (f64, f64, f64, f64),
    t: PyReadonlyArray1<'py, f64>,
    n: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let (t, n) = slices!(t, n);
    compute_array(py, || bgnbd::probability_of_n_purchases(&bg(params), t, n))
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
    let (frequency, recency, age, spend) = slices!(frequency, recency, T, spend);
    compute_array(py, || {
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
    })
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
    let (frequency, spend) = slices!(frequency, monetary_value);
    let weights = optional_slice(&weights)?;
    let options = options(penalizer_coef, initial_params, tol, max_iterations);
    let fit = compute(py, || gamma_gamma::fit(frequency, spend, weights, &options))?;
    let out = report_to_py(py, &fit.report)?;
    set_fields!(out, fit => n_without_repeat, n_without_repeat_spend);
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
    let (frequency, spend) = slices!(frequency, monetary_value);
    compute_array(py, || {
        gamma_gamma::conditional_expected_average_profit(&gg(params), frequency, spend)
    })
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
