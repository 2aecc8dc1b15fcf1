//! The BG/NBD model (Fader, Hardie & Lee 2005): likelihood with its analytic gradient,
//! the fit, and the prediction formulas of `lifetimes.BetaGeoFitter`.

use rayon::prelude::*;

use super::optimize::{finite_difference_hessian, minimize, norm_inf, Objective};
use super::special::{digamma, hyp2f1_minus_one, ln_gamma, ln_hyp2f1_positive};
use super::{
    check_customer, check_lengths, check_weights, compress, covariance, distinct_frequencies, format_params,
    invalid, FitOptions, FitReport, CHUNK,
};
use crate::error::{Result, RfmError};

/// BG/NBD parameters in the data's time unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgNbdParams {
    /// Shape of the gamma distribution of purchase rates.
    pub r: f64,
    /// Scale of the gamma distribution of purchase rates, in the data's time unit.
    pub alpha: f64,
    /// First shape of the beta distribution of the drop-out probability.
    pub a: f64,
    /// Second shape of the beta distribution of the drop-out probability.
    pub b: f64,
}

impl BgNbdParams {
    /// Checks that every parameter is finite and > 0.
    ///
    /// # Errors
    /// [`RfmError::Parameter`] naming the first bad parameter.
    pub fn check(&self) -> Result<()> {
        for (name, value) in [("r", self.r), ("alpha", self.alpha), ("a", self.a), ("b", self.b)] {
            if !(value.is_finite() && value > 0.0) {
                return Err(RfmError::parameter(
                    name,
                    format!("BG/NBD parameters must be finite and > 0, got {value}"),
                ));
            }
        }
        Ok(())
    }
}

/// The penalised mean negative log-likelihood of lifetimes, on compressed patterns.
struct Likelihood {
    frequency: Vec<f64>,
    recency: Vec<f64>,
    age: Vec<f64>,
    weight: Vec<f64>,
    distinct: Vec<f64>,
    position: Vec<usize>,
    total_weight: f64,
    penalizer: f64,
}

/// Gamma-function terms of one distinct frequency x.
#[derive(Clone, Copy)]
struct FrequencyTerms {
    ln_rx: f64, // lnΓ(r+x) − lnΓ(r)
    dg_rx: f64, // ψ(r+x) − ψ(r)
    ln_bx: f64, // lnΓ(b+x) − lnΓ(b)
    dg_bx: f64,
    ln_abx: f64, // lnΓ(a+b+x) − lnΓ(a+b)
    dg_abx: f64,
}

impl Likelihood {
    /// Sum of `weight * log-likelihood` and of its gradient in (r, alpha, a, b).
    fn totals(&self, r: f64, alpha: f64, a: f64, b: f64) -> (f64, [f64; 4]) {
        let (lg_r, dg_r, lg_b, dg_b, lg_ab, dg_ab) = (
            ln_gamma(r),
            digamma(r),
            ln_gamma(b),
            digamma(b),
            ln_gamma(a + b),
            digamma(a + b),
        );
        let terms: Vec<FrequencyTerms> = self
            .distinct
            .iter()
            .map(|&x| FrequencyTerms {
                ln_rx: ln_gamma(r + x) - lg_r,
                dg_rx: digamma(r + x) - dg_r,
                ln_bx: ln_gamma(b + x) - lg_b,
                dg_bx: digamma(b + x) - dg_b,
                ln_abx: ln_gamma(a + b + x) - lg_ab,
                dg_abx: digamma(a + b + x) - dg_ab,
            })
            .collect();
        let (ln_alpha, ln_a) = (alpha.ln(), a.ln());
        let chunk_sum = |start: usize| {
            let end = (start + CHUNK).min(self.frequency.len());
            let mut ll = 0.0;
            let mut grad = [0.0; 4];
            for i in start..end {
                let x = self.frequency[i];
                let w = self.weight[i];
                let k = terms[self.position[i]];
                let ln3 = (alpha + self.age[i]).ln();
                let a3 = -(r + x) * ln3;
                let (lse, w3, w4, ln4) = if x > 0.0 {
                    let ln4 = (alpha + self.recency[i]).ln();
                    let a4 = ln_a - (b + x - 1.0).ln() - (r + x) * ln4;
                    let top = a3.max(a4);
                    let (e3, e4) = ((a3 - top).exp(), (a4 - top).exp());
                    let total = e3 + e4;
                    (top + total.ln(), e3 / total, e4 / total, ln4)
                } else {
                    (a3, 1.0, 0.0, 0.0)
                };
                ll += w * (k.ln_rx + r * ln_alpha + k.ln_bx - k.ln_abx + lse);
                grad[0] += w * (k.dg_rx + ln_alpha - w3 * ln3 - w4 * ln4);
                let inv4 = if x > 0.0 {
                    w4 / (alpha + self.recency[i])
                } else {
                    0.0
                };
                grad[1] += w * (r / alpha - (r + x) * (w3 / (alpha + self.age[i]) + inv4));
                grad[2] += w * (-k.dg_abx + w4 / a);
                let db4 = if x > 0.0 { w4 / (b + x - 1.0) } else { 0.0 };
                grad[3] += w * (k.dg_bx - k.dg_abx - db4);
            }
            (ll, grad)
        };
        let starts: Vec<usize> = (0..self.frequency.len()).step_by(CHUNK).collect();
        let parts: Vec<(f64, [f64; 4])> = if starts.len() > 1 {
            starts.par_iter().map(|&s| chunk_sum(s)).collect()
        } else {
            starts.iter().map(|&s| chunk_sum(s)).collect()
        };
        let mut ll = 0.0;
        let mut grad = [0.0; 4];
        for (part_ll, part_grad) in parts {
            ll += part_ll;
            for j in 0..4 {
                grad[j] += part_grad[j];
            }
        }
        (ll, grad)
    }
}

impl Objective<4> for Likelihood {
    fn value_and_gradient(&self, log_params: &[f64; 4]) -> (f64, [f64; 4]) {
        let p = log_params.map(f64::exp);
        if p.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
            return (f64::NAN, [f64::NAN; 4]);
        }
        let (ll, grad) = self.totals(p[0], p[1], p[2], p[3]);
        let penalty: f64 = p.iter().map(|v| v * v).sum();
        let value = -ll / self.total_weight + self.penalizer * penalty;
        let gradient =
            std::array::from_fn(|j| p[j] * (-grad[j] / self.total_weight + 2.0 * self.penalizer * p[j]));
        (value, gradient)
    }
}

/// Fits the BG/NBD model by maximum likelihood, as `lifetimes.BetaGeoFitter.fit`.
///
/// Times are scaled so that the largest `T` is 1 (lifetimes' `_scale_time`), the
/// objective is the mean negative log-likelihood plus `penalizer_coef * (r² + alpha_s² +
/// a² + b²)` with `alpha_s` in the scaled unit, minimised over log-parameters from 0.1.
///
/// # Errors
/// [`RfmError::InvalidValue`] for an invalid input row (see the checks of `frequency`,
/// `recency`, `T`, `weights`), [`RfmError::Length`] for columns of different lengths,
/// [`RfmError::Parameter`] for bad options or no customers, and
/// [`RfmError::Convergence`] when the optimiser stops before an optimum.
pub fn fit(
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
    weights: Option<&[f64]>,
    options: &FitOptions,
) -> Result<FitReport<4>> {
    let n = check_lengths(&[
        ("frequency", frequency.len()),
        ("recency", recency.len()),
        ("T", age.len()),
    ])?;
    check_weights(weights, n)?;
    let start = options.check::<4>()?;
    for row in 0..n {
        check_customer(row, frequency[row], recency[row], age[row])?;
    }
    let max_age = age.iter().fold(0.0_f64, |m, &t| m.max(t));
    if !(max_age > 0.0) {
        return Err(RfmError::parameter(
            "T",
            format!(
                "no customer with T > 0 among {n} rows: the model needs customers observed for some time"
            ),
        ));
    }
    let scale = 1.0 / max_age;
    let patterns = compress((0..n).map(|i| {
        (
            [frequency[i], recency[i] * scale, age[i] * scale],
            weights.map_or(1.0, |w| w[i]),
        )
    }));
    let total_weight: f64 = patterns.weights.iter().sum();
    if !(total_weight > 0.0) {
        return Err(RfmError::parameter(
            "weights",
            "the weights sum to 0: there is nothing to fit",
        ));
    }
    let (distinct, position) = distinct_frequencies(patterns.values.iter().map(|v| v[0]));
    let likelihood = Likelihood {
        frequency: patterns.values.iter().map(|v| v[0]).collect(),
        recency: patterns.values.iter().map(|v| v[1]).collect(),
        age: patterns.values.iter().map(|v| v[2]).collect(),
        weight: patterns.weights,
        distinct,
        position,
        total_weight,
        penalizer: options.penalizer_coef,
    };
    let found = minimize(
        &likelihood,
        start,
        options.gradient_tolerance,
        options.max_iterations,
    );
    let scaled = found.x.map(f64::exp);
    let params = [scaled[0], scaled[1] / scale, scaled[2], scaled[3]];
    let gradient_norm = norm_inf(&found.gradient);
    if !found.converged || params.iter().any(|p| !(p.is_finite() && *p > 0.0)) {
        return Err(RfmError::Convergence {
            model: "BG/NBD",
            iterations: found.iterations,
            reason: found.reason,
            params: format_params(["r", "alpha", "a", "b"], &params),
            gradient_norm,
        });
    }
    let hessian = finite_difference_hessian(&likelihood, &found.x);
    let (ll_scaled, _) = likelihood.totals(scaled[0], scaled[1], scaled[2], scaled[3]);
    // Scaling time by s changes each customer's log-density by −x ln s.
    let frequency_total: f64 = likelihood
        .frequency
        .iter()
        .zip(&likelihood.weight)
        .map(|(x, w)| x * w)
        .sum();
    Ok(FitReport {
        params,
        log_likelihood: ll_scaled + frequency_total * scale.ln(),
        objective: found.value,
        hessian,
        covariance: covariance(&params, &hessian, total_weight),
        iterations: found.iterations,
        gradient_norm,
        n_patterns: likelihood.frequency.len(),
        total_weight,
    })
}

/// Total log-likelihood (no penalty) of customers under `params`, in the data's unit.
///
/// # Errors
/// As [`fit`] for the inputs; [`RfmError::Parameter`] for invalid parameters.
pub fn log_likelihood(
    params: &BgNbdParams,
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
    weights: Option<&[f64]>,
) -> Result<f64> {
    params.check()?;
    let n = check_lengths(&[
        ("frequency", frequency.len()),
        ("recency", recency.len()),
        ("T", age.len()),
    ])?;
    check_weights(weights, n)?;
    for row in 0..n {
        check_customer(row, frequency[row], recency[row], age[row])?;
    }
    let patterns =
        compress((0..n).map(|i| ([frequency[i], recency[i], age[i]], weights.map_or(1.0, |w| w[i]))));
    let (distinct, position) = distinct_frequencies(patterns.values.iter().map(|v| v[0]));
    let total_weight = patterns.weights.iter().sum();
    let likelihood = Likelihood {
        frequency: patterns.values.iter().map(|v| v[0]).collect(),
        recency: patterns.values.iter().map(|v| v[1]).collect(),
        age: patterns.values.iter().map(|v| v[2]).collect(),
        weight: patterns.weights,
        distinct,
        position,
        total_weight,
        penalizer: 0.0,
    };
    Ok(likelihood.totals(params.r, params.alpha, params.a, params.b).0)
}

fn check_inputs(frequency: &[f64], recency: &[f64], age: &[f64]) -> Result<usize> {
    let n = check_lengths(&[
        ("frequency", frequency.len()),
        ("recency", recency.len()),
        ("T", age.len()),
    ])?;
    for row in 0..n {
        check_customer(row, frequency[row], recency[row], age[row])?;
    }
    Ok(n)
}

fn check_times(t: &[f64], n: usize) -> Result<()> {
    check_lengths(&[("frequency", n), ("t", t.len())])?;
    for (row, &value) in t.iter().enumerate() {
        if !(value.is_finite() && value >= 0.0) {
            return Err(invalid(
                "t",
                row,
                value,
                "the prediction horizon t must be a finite number >= 0, in the time unit of T",
            ));
        }
    }
    Ok(())
}

/// P(alive) of one customer: 1 without repeat purchases, else
/// `1 / (1 + a/(b+x−1) · ((alpha+T)/(alpha+t_x))^(r+x))`.
fn probability_alive_one(p: &BgNbdParams, x: f64, recency: f64, age: f64) -> f64 {
    if x == 0.0 {
        return 1.0;
    }
    let log_odds = (p.a / (b_plus(p.b, x))).ln() + (p.r + x) * ((p.alpha + age) / (p.alpha + recency)).ln();
    // expit(−log_odds), stable for large |log_odds|.
    if log_odds > 0.0 {
        let e = (-log_odds).exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + log_odds.exp())
    }
}

fn b_plus(b: f64, x: f64) -> f64 {
    b + x.max(1.0) - 1.0
}

/// E[repeat purchases in (T, T+t]] of one customer given it is alive, times
/// P(alive): equation (10) of Fader, Hardie & Lee (2005), with 2F1 through Euler's
/// transformation `(1−z)^(r+x) 2F1(r+x, b+x; c; z) = (1−z)^(a−1) 2F1(a+b−1−r, a−1; c; z)`,
/// `c = a+b+x−1`, `z = t/(alpha+T+t)`, whose series converges fast for large x.
fn conditional_expected_one(p: &BgNbdParams, t: f64, x: f64, recency: f64, age: f64) -> f64 {
    if t == 0.0 {
        return 0.0;
    }
    let c = p.a + p.b + x - 1.0;
    let z = t / (p.alpha + age + t);
    let euler_a = p.a + p.b - 1.0 - p.r;
    let euler = if euler_a > -1.0 {
        // (α₁)_n and (a−1)_n keep one sign: the series does not cancel.
        hyp2f1_minus_one(euler_a, p.a - 1.0, c, z).map(|tail| {
            // 1 − (1−z)^(a−1) (1 + tail), without cancellation for small t.
            let power_minus_one = ((p.a - 1.0) * (-z).ln_1p()).exp_m1();
            -power_minus_one - (1.0 + power_minus_one) * tail
        })
    } else {
        None
    };
    let one_minus_f = if let Some(value) = euler.filter(|v| v.is_finite()) {
        value
    } else {
        // r > a + b: the transformed series alternates; the original one has positive terms.
        let Some(ln_series) = ln_hyp2f1_positive(p.r + x, p.b + x, c, z) else {
            return f64::NAN;
        };
        -((p.r + x) * (-z).ln_1p() + ln_series).exp_m1()
    };
    c / (p.a - 1.0) * one_minus_f * probability_alive_one(p, x, recency, age)
}

fn map_rows(n: usize, f: impl Fn(usize) -> f64 + Sync + Send) -> Vec<f64> {
    if n >= 2 * CHUNK {
        (0..n).into_par_iter().with_min_len(CHUNK / 4).map(f).collect()
    } else {
        (0..n).map(f).collect()
    }
}

/// `conditional_expected_number_of_purchases_up_to_time(t, frequency, recency, T)`.
///
/// # Errors
/// [`RfmError::Parameter`] for invalid parameters, [`RfmError::InvalidValue`] for an
/// invalid customer row or a negative/non-finite `t`, [`RfmError::Length`].
pub fn conditional_expected_purchases(
    params: &BgNbdParams,
    t: &[f64],
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
) -> Result<Vec<f64>> {
    params.check()?;
    let n = check_inputs(frequency, recency, age)?;
    check_times(t, n)?;
    Ok(map_rows(n, |i| {
        conditional_expected_one(params, t[i], frequency[i], recency[i], age[i])
    }))
}

/// `conditional_probability_alive(frequency, recency, T)`.
///
/// # Errors
/// As [`conditional_expected_purchases`].
pub fn probability_alive(
    params: &BgNbdParams,
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
) -> Result<Vec<f64>> {
    params.check()?;
    let n = check_inputs(frequency, recency, age)?;
    Ok(map_rows(n, |i| {
        probability_alive_one(params, frequency[i], recency[i], age[i])
    }))
}

/// `expected_number_of_purchases_up_to_time(t)`: repeat purchases in `t` of a new customer,
/// `(a+b−1)/(a−1) · (1 − 2F1(r, b; a+b−1; t/(alpha+t)) (alpha/(alpha+t))^r)`.
///
/// # Errors
/// As [`conditional_expected_purchases`].
pub fn expected_purchases(params: &BgNbdParams, t: &[f64]) -> Result<Vec<f64>> {
    params.check()?;
    check_times(t, t.len())?;
    Ok(map_rows(t.len(), |i| {
        conditional_expected_one(params, t[i], 0.0, 0.0, 0.0)
    }))
}

/// `probability_of_n_purchases_up_to_time(t, n)`: P(N(t) = n) for a new customer,
/// equation (8) of Fader, Hardie & Lee (2005).
///
/// # Errors
/// As [`conditional_expected_purchases`]; `n` must be a whole number >= 0.
pub fn probability_of_n_purchases(params: &BgNbdParams, t: &[f64], n: &[f64]) -> Result<Vec<f64>> {
    params.check()?;
    check_times(t, t.len())?;
    check_lengths(&[("t", t.len()), ("n", n.len())])?;
    for (row, &count) in n.iter().enumerate() {
        if !(count.is_finite() && count >= 0.0 && count == count.floor()) {
            return Err(invalid(
                "n",
                row,
                count,
                "the number of purchases n must be a whole number >= 0",
            ));
        }
    }
    let BgNbdParams { r, alpha, a, b } = *params;
    let ln_beta = |x: f64, y: f64| ln_gamma(x) + ln_gamma(y) - ln_gamma(x + y);
    let ln_beta_ab = ln_beta(a, b);
    Ok(map_rows(t.len(), |i| {
        let (t, n) = (t[i], n[i]);
        let ln_q = (t / (alpha + t)).ln();
        let ln_base = r * (alpha / (alpha + t)).ln();
        let ln_nb = ln_gamma(r + n) - ln_gamma(r) - ln_gamma(n + 1.0)
            + ln_base
            + if n > 0.0 { n * ln_q } else { 0.0 };
        let first = (ln_beta(a, b + n) - ln_beta_ab + ln_nb).exp();
        if n == 0.0 {
            return first;
        }
        // Σ_{j<n} Γ(r+j)/(Γ(r) j!) q^j by the ratio of consecutive terms.
        let q = t / (alpha + t);
        let (mut term, mut sum) = (1.0, 1.0);
        let mut j = 0.0;
        while j + 1.0 < n {
            term *= (r + j) / (j + 1.0) * q;
            sum += term;
            j += 1.0;
        }
        let second = (ln_beta(a + 1.0, b + n - 1.0) - ln_beta_ab).exp() * (1.0 - ln_base.exp() * sum);
        first + second
    }))
}

/// Discounted expected value over `horizon` periods, as lifetimes'
/// `_customer_lifetime_value`: with `C(u)` the conditional expected purchases up to `u`,
/// `sum_{k=1..horizon} spend · (C(k·step) − C((k−1)·step)) / (1 + discount_rate)^k`.
///
/// `step` is the length of one period (a month in lifetimes) in the unit of `T`.
///
/// # Errors
/// As [`conditional_expected_purchases`]; [`RfmError::Parameter`] for a bad `step`,
/// `discount_rate`, or [`RfmError::InvalidValue`] for a non-finite `spend`.
#[allow(clippy::too_many_arguments)]
pub fn lifetime_value(
    params: &BgNbdParams,
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
    spend: &[f64],
    horizon: usize,
    step: f64,
    discount_rate: f64,
) -> Result<Vec<f64>> {
    params.check()?;
    let n = check_inputs(frequency, recency, age)?;
    check_lengths(&[("frequency", n), ("monetary_value", spend.len())])?;
    if !(step.is_finite() && step > 0.0) {
        return Err(RfmError::parameter(
            "freq",
            format!("the period length must be > 0, got {step}"),
        ));
    }
    if !(discount_rate.is_finite() && discount_rate > -1.0) {
        return Err(RfmError::parameter(
            "discount_rate",
            format!("must be a finite rate per period > -1 (0.01 is 1 %), got {discount_rate}"),
        ));
    }
    for (row, &value) in spend.iter().enumerate() {
        if !value.is_finite() {
            return Err(invalid(
                "monetary_value",
                row,
                value,
                "the expected spend per purchase must be finite",
            ));
        }
    }
    let discounts: Vec<f64> = (1..=horizon)
        .map(|k| (1.0 + discount_rate).powi(k as i32).recip())
        .collect();
    Ok(map_rows(n, |i| {
        let mut previous = 0.0;
        let mut value = 0.0;
        for (k, discount) in discounts.iter().enumerate() {
            let cumulative =
                conditional_expected_one(params, (k + 1) as f64 * step, frequency[i], recency[i], age[i]);
            value += spend[i] * (cumulative - previous) * discount;
            previous = cumulative;
        }
        value
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CDNOW: BgNbdParams = BgNbdParams {
        r: 0.242_594,
        alpha: 4.413_59,
        a: 0.792_93,
        b: 2.425_93,
    };

    #[test]
    fn gradient_matches_finite_differences() {
        let likelihood = Likelihood {
            frequency: vec![0.0, 2.0, 5.0, 1.0],
            recency: vec![0.0, 0.3, 0.8, 0.1],
            age: vec![0.5, 0.9, 1.0, 0.2],
            weight: vec![3.0, 1.0, 2.0, 1.0],
            distinct: vec![0.0, 2.0, 5.0, 1.0],
            position: vec![0, 1, 2, 3],
            total_weight: 7.0,
            penalizer: 0.1,
        };
        let x = [-0.3, 0.2, 0.4, 1.1];
        let (_, g) = likelihood.value_and_gradient(&x);
        for j in 0..4 {
            let h = 1e-6;
            let mut up = x;
            up[j] += h;
            let mut down = x;
            down[j] -= h;
            let numeric =
                (likelihood.value_and_gradient(&up).0 - likelihood.value_and_gradient(&down).0) / (2.0 * h);
            assert!((numeric - g[j]).abs() < 1e-7, "{j}: {numeric} {}", g[j]);
        }
    }

    #[test]
    fn predictions_of_the_cdnow_paper() {
        // Fader, Hardie & Lee (2005): a customer with x=2, t_x=30.43, T=38.86 weeks
        // expects 1.226 purchases in the next 39 weeks; the population 1.4+ in 52 weeks.
        let got = conditional_expected_purchases(&CDNOW, &[39.0], &[2.0], &[30.43], &[38.86]).unwrap();
        assert!((got[0] - 1.226).abs() < 1e-3, "{got:?}");
        let p = probability_of_n_purchases(&CDNOW, &[20.0; 40], &(0..40).map(f64::from).collect::<Vec<_>>())
            .unwrap();
        let total: f64 = p.iter().sum();
        assert!((total - 1.0).abs() < 1e-4, "{total}");
        let mean: f64 = p.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
        let expected = expected_purchases(&CDNOW, &[20.0]).unwrap()[0];
        assert!((mean - expected).abs() < 1e-3, "{mean} {expected}");
    }

    #[test]
    fn both_series_forms_agree() {
        // Around r = a + b − 1 + 1 the evaluation switches form; the values must agree.
        let below = BgNbdParams {
            r: 2.0 - 1e-9,
            alpha: 3.0,
            a: 1.5,
            b: 1.5,
        };
        let above = BgNbdParams {
            r: 2.0 + 1e-9,
            ..below
        };
        for (t, x, recency, age) in [
            (1.0, 0.0, 0.0, 5.0),
            (30.0, 3.0, 4.0, 6.0),
            (200.0, 10.0, 9.0, 10.0),
        ] {
            let lo = conditional_expected_one(&below, t, x, recency, age);
            let hi = conditional_expected_one(&above, t, x, recency, age);
            assert!((lo - hi).abs() <= 1e-7 * lo.abs(), "{lo} {hi}");
        }
        // A degenerate fit (r and alpha huge) still gives a finite, increasing expectation.
        let huge = BgNbdParams {
            r: 1.8e7,
            alpha: 1.8e7,
            a: 1.105,
            b: 1.105,
        };
        let short = conditional_expected_one(&huge, 10.0, 1.0, 1.0, 1.0);
        let long = conditional_expected_one(&huge, 100.0, 1.0, 1.0, 1.0);
        assert!(short.is_finite() && long > short && long > 0.0, "{short} {long}");
    }

    #[test]
    fn invalid_rows_are_named() {
        let error = fit(&[1.0], &[5.0], &[3.0], None, &FitOptions::default()).unwrap_err();
        assert!(
            matches!(
                error,
                RfmError::InvalidValue {
                    argument: "recency",
                    row: 0,
                    ..
                }
            ),
            "{error}"
        );
        let error = fit(&[1.5], &[1.0], &[3.0], None, &FitOptions::default()).unwrap_err();
        assert!(
            matches!(
                error,
                RfmError::InvalidValue {
                    argument: "frequency",
                    ..
                }
            ),
            "{error}"
        );
        let error = fit(&[0.0], &[0.0], &[f64::NAN], None, &FitOptions::default()).unwrap_err();
        assert!(
            matches!(error, RfmError::InvalidValue { argument: "T", .. }),
            "{error}"
        );
        let error = fit(&[0.0], &[0.0], &[0.0], None, &FitOptions::default()).unwrap_err();
        assert!(matches!(error, RfmError::Parameter { name: "T", .. }), "{error}");
        let options = FitOptions {
            penalizer_coef: -1.0,
            ..FitOptions::default()
        };
        let error = fit(&[0.0], &[0.0], &[1.0], None, &options).unwrap_err();
        assert!(
            matches!(
                error,
                RfmError::Parameter {
                    name: "penalizer_coef",
                    ..
                }
            ),
            "{error}"
        );
    }
}
