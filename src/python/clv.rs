//! Bindings of the CLV models (`rfmkit::clv`): fits and predictions of BG/NBD and
//! Gamma-Gamma. Parameters cross as tuples, columns as float64 numpy arrays; every
//! call runs through [`compute`] (GIL released, errors mapped by `to_py_err`).

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::{add_functions, compute, compute_array, optional_slice, set_fields, slices};
use crate::clv::bgbb::{self, BgBbParams};
use crate::clv::bgnbd::{self, BgNbdParams};
use crate::clv::gamma_gamma::{self, GammaGammaFit, GammaGammaParams};
use crate::clv::pareto::{self, ParetoNbdParams};
use crate::clv::sbg::{self, SbgParams};
use crate::clv::value;
use crate::clv::{FitOptions, FitReport};

fn bg(params: (f64, f64, f64, f64)) -> BgNbdParams {
    let (r, alpha, a, b) = params;
    BgNbdParams { r, alpha, a, b }
}

fn mbg(params: (f64, f64, f64, f64)) -> value::Modified {
    value::Modified(bg(params))
}

fn pnbd(params: (f64, f64, f64, f64)) -> ParetoNbdParams {
    let (r, alpha, s, beta) = params;
    ParetoNbdParams { r, alpha, s, beta }
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

/// The binding of a model's maximum-likelihood fit: the pyfunction
/// `$name($($column,)+ weights=None, *, penalizer_coef, initial_params, tol, max_iterations)`,
/// the dict `$to_py(py, fit)` of `fit = $fit($($slice,)+ weights, &options)` with each
/// column borrowed as `$slice`.
macro_rules! fit_binding {
    ($(#[$attr:meta])* fn $name:ident($($column:ident as $slice:ident),+) => $fit:path, $to_py:expr) => {
        #[pyfunction]
        $(#[$attr])*
        #[pyo3(signature = ($($column),+, weights=None, *, penalizer_coef, initial_params, tol, max_iterations))]
        #[allow(non_snake_case, clippy::too_many_arguments)]
        fn $name<'py>(
            py: Python<'py>,
            $($column: PyReadonlyArray1<'py, f64>,)+
            weights: Option<PyReadonlyArray1<'py, f64>>,
            penalizer_coef: f64,
            initial_params: Option<Vec<f64>>,
            tol: f64,
            max_iterations: usize,
        ) -> PyResult<Bound<'py, PyDict>> {
            let ($($slice),+) = slices!($($column),+);
            let weights = optional_slice(&weights)?;
            let options = options(penalizer_coef, initial_params, tol, max_iterations);
            let fit = compute(py, || $fit($($slice,)+ weights, &options))?;
            ($to_py)(py, fit)
        }
    };
}

fit_binding!(
    /// BG/NBD maximum-likelihood fit (see `rfmkit::clv::bgnbd::fit`).
    fn bgnbd_fit(frequency as frequency, recency as recency, T as age) => bgnbd::fit,
    |py, report| report_to_py(py, &report)
);

/// The binding of a model's total log-likelihood of customers under given parameters:
/// the pyfunction `$name(params, frequency, recency, T, weights=None)` of `$core`.
macro_rules! log_likelihood_binding {
    ($(#[$attr:meta])* fn $name:ident => $core:path, $to:ident) => {
        $(#[$attr])*
        #[pyfunction]
        #[pyo3(signature = (params, frequency, recency, T, weights=None))]
        #[allow(non_snake_case)]
        fn $name<'py>(
            py: Python<'py>,
            params: (f64, f64, f64, f64),
            frequency: PyReadonlyArray1<'py, f64>,
            recency: PyReadonlyArray1<'py, f64>,
            T: PyReadonlyArray1<'py, f64>,
            weights: Option<PyReadonlyArray1<'py, f64>>,
        ) -> PyResult<f64> {
            let (frequency, recency, age) = slices!(frequency, recency, T);
            let weights = optional_slice(&weights)?;
            compute(py, || $core(&$to(params), frequency, recency, age, weights))
        }
    };
}

log_likelihood_binding!(
    /// Total BG/NBD log-likelihood of customers under given parameters.
    fn bgnbd_log_likelihood => bgnbd::log_likelihood, bg
);

/// The binding of a purchase model's function of each customer: the pyfunction
/// `$name(params, $($before,)* frequency, recency, T, $($after,)* $($number)*)` (the
/// customers' columns in brackets; the `$before` and `$after` columns float64 arrays too),
/// the array of `$core(&$to(params), $($before,)* frequency, recency, T, $($after,)* $($number)*)`.
macro_rules! customer_binding {
    (
        $(#[$attr:meta])*
        fn $name:ident(params, $($before:ident,)* [frequency, recency, T] $(, $after:ident)* $(; $($number:ident: $ty:ty),+)?)
            => $core:path, $to:ident
    ) => {
        #[pyfunction]
        $(#[$attr])*
        #[allow(non_snake_case, clippy::too_many_arguments)]
        fn $name<'py>(
            py: Python<'py>,
            params: (f64, f64, f64, f64),
            $($before: PyReadonlyArray1<'py, f64>,)*
            frequency: PyReadonlyArray1<'py, f64>,
            recency: PyReadonlyArray1<'py, f64>,
            T: PyReadonlyArray1<'py, f64>,
            $($after: PyReadonlyArray1<'py, f64>,)*
            $($($number: $ty,)+)?
        ) -> PyResult<Bound<'py, PyArray1<f64>>> {
            let ($($before,)* frequency, recency, age, $($after,)*) =
                slices!($($before,)* frequency, recency, T, $($after,)*);
            compute_array(py, || {
                $core(&$to(params), $($before,)* frequency, recency, age, $($after,)* $($($number,)+)?)
            })
        }
    };
}

customer_binding!(
    /// Conditional expected repeat purchases in (T, T + t].
    fn bgnbd_conditional_expected(params, t, [frequency, recency, T]) => bgnbd::conditional_expected_purchases, bg
);

customer_binding!(
    /// P(alive) of each customer.
    fn bgnbd_probability_alive(params, [frequency, recency, T]) => bgnbd::probability_alive, bg
);

customer_binding!(
    /// Discounted lifetime value over `horizon` periods of `step` time units.
    #[pyo3(signature = (params, frequency, recency, T, spend, *, horizon, step, discount_rate))]
    fn bgnbd_lifetime_value(params, [frequency, recency, T], spend; horizon: usize, step: f64, discount_rate: f64)
        => bgnbd::lifetime_value, bg
);

customer_binding!(
    /// MBG/NBD discounted lifetime value over `horizon` periods of `step` time units.
    #[pyo3(signature = (params, frequency, recency, T, spend, *, horizon, step, discount_rate))]
    fn mbgnbd_lifetime_value(params, [frequency, recency, T], spend; horizon: usize, step: f64, discount_rate: f64)
        => value::lifetime_value_over, mbg
);

customer_binding!(
    /// Pareto/NBD discounted lifetime value over `horizon` periods of `step` time units.
    #[pyo3(signature = (params, frequency, recency, T, spend, *, horizon, step, discount_rate))]
    fn pareto_lifetime_value(params, [frequency, recency, T], spend; horizon: usize, step: f64, discount_rate: f64)
        => value::lifetime_value_over, pnbd
);

/// Each customer's discounted lifetime value under `draws` parameter vectors drawn from
/// the purchase model's and Gamma-Gamma's estimates (see `rfmkit::clv::value::lifetime_value_draws`):
/// a dict of `mean`, `sd`, `quantiles` (one array per probability) and `redrawn`.
#[pyfunction]
#[pyo3(signature = (family, purchase_params, purchase_covariance, spend_params, spend_covariance, frequency, recency, T, monetary_value, *, horizon, step, discount_rate, draws, seed, probabilities))]
#[allow(non_snake_case, clippy::too_many_arguments)]
fn clv_value_draws<'py>(
    py: Python<'py>,
    family: &str,
    purchase_params: [f64; 4],
    purchase_covariance: [[f64; 4]; 4],
    spend_params: [f64; 3],
    spend_covariance: [[f64; 3]; 3],
    frequency: PyReadonlyArray1<'py, f64>,
    recency: PyReadonlyArray1<'py, f64>,
    T: PyReadonlyArray1<'py, f64>,
    monetary_value: PyReadonlyArray1<'py, f64>,
    horizon: usize,
    step: f64,
    discount_rate: f64,
    draws: usize,
    seed: u64,
    probabilities: Vec<f64>,
) -> PyResult<Bound<'py, PyDict>> {
    let family = match family {
        "bgnbd" => value::Family::BgNbd,
        "mbgnbd" => value::Family::ModifiedBgNbd,
        "pareto" => value::Family::ParetoNbd,
        other => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "unknown purchase model {other:?}"
            )))
        }
    };
    let (frequency, recency, age, monetary) = slices!(frequency, recency, T, monetary_value);
    let purchase = value::Estimate {
        params: purchase_params,
        covariance: purchase_covariance,
    };
    let spend = value::Estimate {
        params: spend_params,
        covariance: spend_covariance,
    };
    let periods = value::Horizon {
        horizon,
        step,
        discount_rate,
    };
    let out = compute(py, || {
        value::lifetime_value_draws(
            family,
            &purchase,
            &spend,
            frequency,
            recency,
            age,
            monetary,
            &periods,
            draws,
            seed,
            &probabilities,
        )
    })?;
    let result = PyDict::new(py);
    result.set_item("mean", PyArray1::from_vec(py, out.mean))?;
    result.set_item("sd", PyArray1::from_vec(py, out.sd))?;
    let quantiles: Vec<Bound<'py, PyArray1<f64>>> = out
        .quantiles
        .into_iter()
        .map(|q| PyArray1::from_vec(py, q))
        .collect();
    result.set_item("quantiles", quantiles)?;
    result.set_item("redrawn", out.redrawn)?;
    result.set_item("not_finite", out.not_finite)?;
    Ok(result)
}

fit_binding!(
    /// MBG/NBD maximum-likelihood fit (see `rfmkit::clv::bgnbd::fit_modified`).
    fn mbgnbd_fit(frequency as frequency, recency as recency, T as age) => bgnbd::fit_modified,
    |py, report| report_to_py(py, &report)
);

log_likelihood_binding!(
    /// Total MBG/NBD log-likelihood of customers under given parameters.
    fn mbgnbd_log_likelihood => bgnbd::modified_log_likelihood, bg
);

customer_binding!(
    /// MBG/NBD conditional expected repeat purchases in (T, T + t].
    fn mbgnbd_conditional_expected(params, t, [frequency, recency, T]) => bgnbd::modified_conditional_expected_purchases, bg
);

customer_binding!(
    /// MBG/NBD P(alive) of each customer.
    fn mbgnbd_probability_alive(params, [frequency, recency, T]) => bgnbd::modified_probability_alive, bg
);

fit_binding!(
    /// Pareto/NBD maximum-likelihood fit (see `rfmkit::clv::pareto::fit`).
    fn pareto_fit(frequency as frequency, recency as recency, T as age) => pareto::fit,
    |py, report| report_to_py(py, &report)
);

log_likelihood_binding!(
    /// Total Pareto/NBD log-likelihood of customers under given parameters.
    fn pareto_log_likelihood => pareto::log_likelihood, pnbd
);

customer_binding!(
    /// Pareto/NBD conditional expected repeat purchases in (T, T + t].
    fn pareto_conditional_expected(params, t, [frequency, recency, T]) => pareto::conditional_expected_purchases, pnbd
);

customer_binding!(
    /// Pareto/NBD P(alive) of each customer.
    fn pareto_probability_alive(params, [frequency, recency, T]) => pareto::probability_alive, pnbd
);

customer_binding!(
    /// Pareto/NBD probability of at least one purchase in the next t.
    fn pareto_probability_of_purchase_within(params, t, [frequency, recency, T]) => pareto::probability_of_purchase_within, pnbd
);

customer_binding!(
    /// Pareto/NBD median time to the next purchase (NaN when never reached).
    fn pareto_median_time_to_next_purchase(params, [frequency, recency, T]) => pareto::median_time_to_next_purchase, pnbd
);

customer_binding!(
    /// Pareto/NBD P(n purchases in the next t) of each customer.
    fn pareto_probability_of_n(params, n, t, [frequency, recency, T]) => pareto::probability_of_n_purchases, pnbd
);

fit_binding!(
    /// BG/BB maximum-likelihood fit (see `rfmkit::clv::bgbb::fit`).
    fn bgbb_fit(frequency as frequency, recency as recency, n_periods as periods) => bgbb::fit,
    |py, report| report_to_py(py, &report)
);

/// Each customer's BG/BB log-likelihood under `params = (alpha, beta, gamma, delta)`.
#[pyfunction]
fn bgbb_log_likelihoods<'py>(
    py: Python<'py>,
    params: (f64, f64, f64, f64),
    frequency: PyReadonlyArray1<'py, f64>,
    recency: PyReadonlyArray1<'py, f64>,
    n_periods: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let (frequency, recency, periods) = slices!(frequency, recency, n_periods);
    let (alpha, beta, gamma, delta) = params;
    compute_array(py, || {
        bgbb::log_likelihoods(
            &BgBbParams {
                alpha,
                beta,
                gamma,
                delta,
            },
            frequency,
            recency,
            periods,
        )
    })
}

/// The binding of a purchase model's function of a new customer: the pyfunction
/// `$name(params, $($column),+)` (float64 arrays) of `$core(&$to(params), $($column),+)`.
macro_rules! new_customer_binding {
    ($(#[$attr:meta])* fn $name:ident(params, $($column:ident),+) => $core:path, $to:ident) => {
        #[pyfunction]
        $(#[$attr])*
        fn $name<'py>(
            py: Python<'py>,
            params: (f64, f64, f64, f64),
            $($column: PyReadonlyArray1<'py, f64>,)+
        ) -> PyResult<Bound<'py, PyArray1<f64>>> {
            $(let $column = $column.as_slice()?;)+
            compute_array(py, || $core(&$to(params), $($column),+))
        }
    };
}

new_customer_binding!(
    /// Expected repeat purchases of a new customer in `t`.
    fn bgnbd_expected(params, t) => bgnbd::expected_purchases, bg
);

new_customer_binding!(
    /// P(N(t) = n) of a new customer.
    fn bgnbd_probability_of_n(params, t, n) => bgnbd::probability_of_n_purchases, bg
);

new_customer_binding!(
    /// MBG/NBD expected repeat purchases of a new customer in `t`.
    fn mbgnbd_expected(params, t) => bgnbd::modified_expected_purchases, bg
);

new_customer_binding!(
    /// MBG/NBD P(N(t) = n) of a new customer.
    fn mbgnbd_probability_of_n(params, t, n) => bgnbd::modified_probability_of_n_purchases, bg
);

new_customer_binding!(
    /// Pareto/NBD expected repeat purchases of a new customer in `t`.
    fn pareto_expected(params, t) => pareto::expected_purchases, pnbd
);

fit_binding!(
    /// Gamma-Gamma maximum-likelihood fit on the repeat customers.
    fn gamma_gamma_fit(frequency as frequency, monetary_value as spend) => gamma_gamma::fit,
    |py, fit: GammaGammaFit| -> PyResult<_> {
        let out = report_to_py(py, &fit.report)?;
        set_fields!(out, fit => n_without_repeat, n_without_repeat_spend);
        Ok(out)
    }
);

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

/// The cohorts of `survivors` (the counts of every cohort one after the other) cut by `lengths`.
fn cohorts<'a>(survivors: &'a [f64], lengths: &[i64]) -> PyResult<Vec<&'a [f64]>> {
    let mut out = Vec::with_capacity(lengths.len());
    let mut start = 0usize;
    for &length in lengths {
        let end = usize::try_from(length)
            .ok()
            .and_then(|n| start.checked_add(n))
            .filter(|&end| end <= survivors.len())
            .ok_or_else(|| {
                pyo3::exceptions::PyValueError::new_err("cohort lengths do not match the survivors")
            })?;
        out.push(&survivors[start..end]);
        start = end;
    }
    Ok(out)
}

/// sBG maximum-likelihood fit on the survivors of one or several cohorts (see
/// `rfmkit::clv::sbg::fit`): `survivors` all cohorts' counts in a row, `lengths` each cohort's.
#[pyfunction]
#[pyo3(signature = (survivors, lengths, *, penalizer_coef, initial_params, tol, max_iterations))]
fn sbg_fit<'py>(
    py: Python<'py>,
    survivors: PyReadonlyArray1<'py, f64>,
    lengths: PyReadonlyArray1<'py, i64>,
    penalizer_coef: f64,
    initial_params: Option<Vec<f64>>,
    tol: f64,
    max_iterations: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let cohorts = cohorts(survivors.as_slice()?, lengths.as_slice()?)?;
    let options = options(penalizer_coef, initial_params, tol, max_iterations);
    let report = compute(py, || sbg::fit(&cohorts, &options))?;
    report_to_py(py, &report)
}

/// Total sBG log-likelihood of cohorts under given parameters `(alpha, beta)`.
#[pyfunction]
fn sbg_log_likelihood<'py>(
    py: Python<'py>,
    params: (f64, f64),
    survivors: PyReadonlyArray1<'py, f64>,
    lengths: PyReadonlyArray1<'py, i64>,
) -> PyResult<f64> {
    let cohorts = cohorts(survivors.as_slice()?, lengths.as_slice()?)?;
    let (alpha, beta) = params;
    compute(py, || sbg::log_likelihood(&SbgParams { alpha, beta }, &cohorts))
}

pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    add_functions!(
        m,
        bgnbd_fit,
        bgnbd_log_likelihood,
        bgnbd_conditional_expected,
        bgnbd_probability_alive,
        bgnbd_expected,
        bgnbd_probability_of_n,
        bgnbd_lifetime_value,
        mbgnbd_fit,
        mbgnbd_lifetime_value,
        pareto_lifetime_value,
        clv_value_draws,
        pareto_fit,
        pareto_log_likelihood,
        pareto_conditional_expected,
        pareto_probability_alive,
        pareto_probability_of_purchase_within,
        pareto_median_time_to_next_purchase,
        pareto_probability_of_n,
        pareto_expected,
        bgbb_fit,
        bgbb_log_likelihoods,
        mbgnbd_log_likelihood,
        mbgnbd_conditional_expected,
        mbgnbd_probability_alive,
        mbgnbd_expected,
        mbgnbd_probability_of_n,
        gamma_gamma_fit,
        gamma_gamma_expected_spend,
        sbg_fit,
        sbg_log_likelihood
    );
    Ok(())
}
