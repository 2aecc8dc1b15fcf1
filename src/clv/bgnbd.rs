//! The BG/NBD model (Fader, Hardie & Lee 2005): likelihood with its analytic gradient,
//! the fit, and the prediction formulas of `lifetimes.BetaGeoFitter`.

use rayon::prelude::*;

use super::optimize::{norm_inf, Objective};
use super::special::{digamma, hyp2f1_minus_one, ln_gamma, ln_hyp2f1_positive, trigamma};
use super::{
    check_customer, check_lengths, check_weights, chunked_sum, compress, covariance, distinct_frequencies,
    format_params, invalid, log_space_objective, symmetrize, warm_minimize, warm_subsample, FitOptions,
    FitReport, CHUNK,
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
///
/// Per customer, `ln L = A(x) + ln(e^{a3} + e^{a4})` with
/// `A(x) = lnΓ(r+x) − lnΓ(r) + r ln alpha + lnΓ(b+x) − lnΓ(b) − lnΓ(a+b+x) + lnΓ(a+b)`,
/// `a3 = −(r+x) ln(alpha+T)` and, when x > 0, `a4 = ln a − ln(b+x−1) − (r+x) ln(alpha+t_x)`.
/// `A` depends on x only: it is summed once per distinct x with its total weight. The
/// logarithms of `alpha + T` and `alpha + t_x` are taken once per distinct time, so a
/// pass over the patterns evaluates one `exp` and one `ln_1p` each.
struct Likelihood {
    frequency: Vec<f64>,
    weight: Vec<f64>,
    /// Index of the pattern's frequency in `distinct`.
    position: Vec<u32>,
    /// Indices of the pattern's recency and T in `times`.
    recency_index: Vec<u32>,
    age_index: Vec<u32>,
    distinct: Vec<f64>,
    distinct_weight: Vec<f64>,
    times: Vec<f64>,
    total_weight: f64,
    penalizer: f64,
}

/// Distinct values (bit-exact) of the recencies and ages, with each row's indices.
fn distinct_times(recency: &[f64], age: &[f64]) -> (Vec<f64>, Vec<u32>, Vec<u32>) {
    let mut index: hashbrown::HashMap<u64, u32> = hashbrown::HashMap::new();
    let mut times = Vec::new();
    let mut find = |t: f64| {
        *index.entry((t + 0.0).to_bits()).or_insert_with(|| {
            times.push(t);
            (times.len() - 1) as u32
        })
    };
    let recency_index = recency.iter().map(|&t| find(t)).collect();
    let age_index = age.iter().map(|&t| find(t)).collect();
    (times, recency_index, age_index)
}

impl Likelihood {
    fn new(
        frequency: Vec<f64>,
        recency: &[f64],
        age: &[f64],
        weight: Vec<f64>,
        penalizer: f64,
    ) -> Likelihood {
        let (distinct, position) = distinct_frequencies(frequency.iter().copied());
        let mut distinct_weight = vec![0.0; distinct.len()];
        for (&at, &w) in position.iter().zip(&weight) {
            distinct_weight[at] += w;
        }
        let (times, recency_index, age_index) = distinct_times(recency, age);
        Likelihood {
            total_weight: weight.iter().sum(),
            position: position.iter().map(|&p| p as u32).collect(),
            frequency,
            weight,
            recency_index,
            age_index,
            distinct,
            distinct_weight,
            times,
            penalizer,
        }
    }

    /// Sum of `weight * log-likelihood`, of its gradient and of its Hessian in
    /// (r, alpha, a, b).
    fn totals(&self, r: f64, alpha: f64, a: f64, b: f64) -> (f64, [f64; 4], [[f64; 4]; 4]) {
        let (lg_r, dg_r, tg_r) = (ln_gamma(r), digamma(r), trigamma(r));
        let (lg_b, dg_b, tg_b) = (ln_gamma(b), digamma(b), trigamma(b));
        let (lg_ab, dg_ab, tg_ab) = (ln_gamma(a + b), digamma(a + b), trigamma(a + b));
        let ln_alpha = alpha.ln();
        let mut ll = 0.0;
        let mut g = [0.0; 4];
        let mut h = [[0.0; 4]; 4];
        // A(x), once per distinct x; ln(b+x−1) and 1/(b+x−1) for the pattern pass.
        let mut ln_b1 = vec![0.0; self.distinct.len()];
        let mut inv_b1 = vec![0.0; self.distinct.len()];
        for (k, (&x, &w)) in self.distinct.iter().zip(&self.distinct_weight).enumerate() {
            let tg_abx = trigamma(a + b + x) - tg_ab;
            let dg_abx = digamma(a + b + x) - dg_ab;
            ll += w
                * (ln_gamma(r + x) - lg_r + r * ln_alpha + ln_gamma(b + x) - lg_b - ln_gamma(a + b + x)
                    + lg_ab);
            g[0] += w * (digamma(r + x) - dg_r + ln_alpha);
            g[1] += w * r / alpha;
            g[2] -= w * dg_abx;
            g[3] += w * (digamma(b + x) - dg_b - dg_abx);
            h[0][0] += w * (trigamma(r + x) - tg_r);
            h[0][1] += w / alpha;
            h[1][1] -= w * r / (alpha * alpha);
            h[2][2] -= w * tg_abx;
            h[2][3] -= w * tg_abx;
            h[3][3] += w * (trigamma(b + x) - tg_b - tg_abx);
            if x > 0.0 {
                ln_b1[k] = (b + x - 1.0).ln();
                inv_b1[k] = 1.0 / (b + x - 1.0);
            }
        }
        let ln_t: Vec<f64> = self.times.iter().map(|&t| (alpha + t).ln()).collect();
        let inv_t: Vec<f64> = self.times.iter().map(|&t| 1.0 / (alpha + t)).collect();
        let (ln_a, inv_a) = (a.ln(), 1.0 / a);
        // The pattern pass: ln(e^{a3} + e^{a4}) and its derivatives. Accumulators:
        // 0 value; 1..5 gradient (r, alpha, a, b); 5..15 Hessian upper triangle
        // (rr, rα, ra, rb, αα, αa, αb, aa, ab, bb).
        let sums = chunked_sum(
            self.frequency.len(),
            |start, end| {
                let mut acc = [0.0; 15];
                for i in start..end {
                    let (x, w) = (self.frequency[i], self.weight[i]);
                    let s = r + x;
                    let it = self.age_index[i] as usize;
                    let (l3, i3) = (ln_t[it], inv_t[it]);
                    let a3 = -s * l3;
                    if x == 0.0 {
                        acc[0] += w * a3;
                        acc[1] -= w * l3;
                        acc[2] -= w * s * i3;
                        acc[6] -= w * i3;
                        acc[9] += w * s * i3 * i3;
                        continue;
                    }
                    let k = self.position[i] as usize;
                    let ir = self.recency_index[i] as usize;
                    let (l4, i4, ib) = (ln_t[ir], inv_t[ir], inv_b1[k]);
                    // d = a4 − a3; lse = a3 + softplus(d), w4 = sigmoid(d), w3 = 1 − w4.
                    let d = ln_a - ln_b1[k] + s * (l3 - l4);
                    let e = (-d.abs()).exp();
                    let (w3, w4) = if d >= 0.0 {
                        (e / (1.0 + e), 1.0 / (1.0 + e))
                    } else {
                        (1.0 / (1.0 + e), e / (1.0 + e))
                    };
                    acc[0] += w * (a3 + d.max(0.0) + e.ln_1p());
                    acc[1] -= w * (w3 * l3 + w4 * l4);
                    acc[2] -= w * s * (w3 * i3 + w4 * i4);
                    acc[3] += w * w4 * inv_a;
                    acc[4] -= w * w4 * ib;
                    // Σ w_k ∇²a_k + w3 w4 δδᵀ with δ = ∇a3 − ∇a4.
                    let c = w * w3 * w4;
                    let delta = [l4 - l3, -s * (i3 - i4), -inv_a, ib];
                    acc[5] += c * delta[0] * delta[0];
                    acc[6] += c * delta[0] * delta[1] - w * (w3 * i3 + w4 * i4);
                    acc[7] += c * delta[0] * delta[2];
                    acc[8] += c * delta[0] * delta[3];
                    acc[9] += c * delta[1] * delta[1] + w * s * (w3 * i3 * i3 + w4 * i4 * i4);
                    acc[10] += c * delta[1] * delta[2];
                    acc[11] += c * delta[1] * delta[3];
                    acc[12] += c * delta[2] * delta[2] - w * w4 * inv_a * inv_a;
                    acc[13] += c * delta[2] * delta[3];
                    acc[14] += c * delta[3] * delta[3] + w * w4 * ib * ib;
                }
                acc
            },
            |t, v| *t += v,
        );
        ll += sums[0];
        for j in 0..4 {
            g[j] += sums[1 + j];
        }
        let mut next = 5;
        for i in 0..4 {
            for j in i..4 {
                h[i][j] += sums[next];
                next += 1;
            }
        }
        symmetrize(&mut h);
        (ll, g, h)
    }
}

impl Objective<4> for Likelihood {
    fn value_and_gradient(&self, log_params: &[f64; 4]) -> (f64, [f64; 4]) {
        let (f, g, _) = self.value_gradient_hessian(log_params);
        (f, g)
    }

    fn value_gradient_hessian(&self, log_params: &[f64; 4]) -> (f64, [f64; 4], [[f64; 4]; 4]) {
        let p = log_params.map(f64::exp);
        if p.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
            return (f64::NAN, [f64::NAN; 4], [[f64::NAN; 4]; 4]);
        }
        log_space_objective(
            &p,
            self.totals(p[0], p[1], p[2], p[3]),
            self.total_weight,
            self.penalizer,
        )
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
/// [`RfmError::Convergence`] when the optimiser stops before an optimum. On one or two
/// customers the likelihood may have no interior maximum; where it has become flat the
/// optimiser converges to huge parameters (r ~ 1e8, as lifetimes), which are returned:
/// the predictions stay exact for them (see [`conditional_expected_purchases`]).
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
    let column = |k: usize| -> Vec<f64> { patterns.values.iter().map(|v| v[k]).collect() };
    let (pattern_frequency, pattern_recency, pattern_age) = (column(0), column(1), column(2));
    let subsample = warm_subsample(pattern_frequency.len()).map(|rows| {
        let pick = |values: &[f64]| -> Vec<f64> { rows.iter().map(|&i| values[i]).collect() };
        Likelihood::new(
            pick(&pattern_frequency),
            &pick(&pattern_recency),
            &pick(&pattern_age),
            pick(&patterns.weights),
            options.penalizer_coef,
        )
    });
    let likelihood = Likelihood::new(
        pattern_frequency,
        &pattern_recency,
        &pattern_age,
        patterns.weights,
        options.penalizer_coef,
    );
    let found = warm_minimize(&likelihood, subsample.as_ref(), start, options);
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
    let hessian = match found.hessian {
        Some(hessian) => hessian,
        None => likelihood.value_gradient_hessian(&found.x).2,
    };
    // The objective is −ll/W + λ Σp² (p in the scaled unit): the log-likelihood without
    // another pass.
    let penalty: f64 = scaled.iter().map(|v| v * v).sum();
    let ll_scaled = -(found.value - options.penalizer_coef * penalty) * total_weight;
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
    let likelihood = Likelihood::new(
        patterns.values.iter().map(|v| v[0]).collect(),
        &patterns.values.iter().map(|v| v[1]).collect::<Vec<_>>(),
        &patterns.values.iter().map(|v| v[2]).collect::<Vec<_>>(),
        patterns.weights,
        0.0,
    );
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
/// P(alive): equation (10) of Fader, Hardie & Lee (2005).
fn conditional_expected_one(p: &BgNbdParams, t: f64, x: f64, recency: f64, age: f64) -> f64 {
    if t == 0.0 {
        return 0.0;
    }
    expected_if_alive(p, t, x, age) * probability_alive_one(p, x, recency, age)
}

/// E[repeat purchases in (T, T+t] | alive] of a customer with x repeat purchases and age
/// T (it does not depend on the recency), with 2F1 through Euler's transformation
/// `(1−z)^(r+x) 2F1(r+x, b+x; c; z) = (1−z)^(a−1) 2F1(a+b−1−r, a−1; c; z)`,
/// `c = a+b+x−1`, `z = t/(alpha+T+t)`, whose series converges fast for large x. For
/// `c < 1` (x = 0 and a + b < 2, or x = 1 and a + b < 1: the closed form's 2F1 has
/// poles at c = 0, −1, ... that the factor c/(a−1) cancels only in exact arithmetic)
/// and whenever the closed form is not finite or falls outside the bounds of
/// [`expected_if_alive_bounds`] (its cancellations can lose every digit when a is near
/// 0 and z near 1), [`expected_if_alive_positive`].
fn expected_if_alive(p: &BgNbdParams, t: f64, x: f64, age: f64) -> f64 {
    if t == 0.0 {
        return 0.0;
    }
    let c = p.a + p.b + x - 1.0;
    let z = t / (p.alpha + age + t);
    let w = t / (p.alpha + age);
    if !(c >= 1.0) {
        return expected_if_alive_positive(p, x, z, w);
    }
    let euler_a = p.a + p.b - 1.0 - p.r;
    // 1 − F with the size of the terms that cancel in it, to bound its relative error.
    let euler = if euler_a > -1.0 {
        // (α₁)_n and (a−1)_n keep one sign: the series does not cancel.
        hyp2f1_minus_one(euler_a, p.a - 1.0, c, z).map(|tail| {
            // 1 − (1−z)^(a−1) (1 + tail) = −((1−z)^(a−1) − 1) − (1−z)^(a−1) tail, without
            // cancellation for small t. The power is not taken as 1 + (its expm1): that
            // loses it when it is tiny (large a and z), while the tail is huge.
            let ln_power = (p.a - 1.0) * (-z).ln_1p();
            let second = tail.signum() * (ln_power + tail.abs().ln()).exp();
            let power_minus_one = ln_power.exp_m1();
            (-power_minus_one - second, power_minus_one.abs().max(second.abs()))
        })
    } else {
        None
    };
    let one_minus_f = if let Some(value) = euler.filter(|v| v.0.is_finite()) {
        Some(value)
    } else {
        // r > a + b: the transformed series alternates; the original one has positive terms.
        ln_hyp2f1_positive(p.r + x, p.b + x, c, z).map(|ln_series| {
            let exponent = (p.r + x) * (-z).ln_1p() + ln_series;
            // An absolute error in the exponent is a relative one in e^exponent.
            let size = exponent.exp() * ((p.r + x) * (-z).ln_1p()).abs().max(ln_series.abs());
            (-exponent.exp_m1(), size)
        })
    };
    let (lower, upper) = expected_if_alive_bounds(p, x, w);
    // Where 1 − F cancels to below 1e-2 of its terms (a near 0 and large x, or a near
    // 1), the closed form keeps too few digits: the positive forms do not cancel.
    match one_minus_f
        .filter(|&(value, size)| value.abs() >= 1e-2 * size)
        .map(|(value, _)| c / (p.a - 1.0) * value)
        .filter(|&v| within(v, lower, upper))
    {
        Some(value) => value,
        None => expected_if_alive_positive(p, x, z, w),
    }
}

/// Bounds of E[repeat purchases in (T, T+t] | alive] = `E_p[h(p)]` (see
/// [`expected_if_alive_quadrature`]): h decreases from `s w` at p = 0 to
/// `1 − (1 + w)^−s` at p = 1 (s = r + x, w = t/(alpha+T)).
fn expected_if_alive_bounds(p: &BgNbdParams, x: f64, w: f64) -> (f64, f64) {
    let s = p.r + x;
    (-(-s * w.ln_1p()).exp_m1(), s * w)
}

/// `value` is finite and within `[lower, upper]` up to rounding.
fn within(value: f64, lower: f64, upper: f64) -> bool {
    value.is_finite() && value >= lower * (1.0 - 1e-9) && value <= upper * (1.0 + 1e-9)
}

/// E[repeat purchases in (T, T+t] | alive] by [`expected_if_alive_series`], or when it
/// cannot be summed (its coefficients overflow when `r + x` is huge, as in degenerate
/// fits where the gamma of the purchase rates collapses to a point)
/// [`expected_if_alive_negative_binomial`], or when that needs too many terms (an
/// expected count beyond ten thousand: r/alpha · t huge) [`expected_if_alive_quadrature`],
/// which always gives a value.
fn expected_if_alive_positive(p: &BgNbdParams, x: f64, z: f64, w: f64) -> f64 {
    let (lower, upper) = expected_if_alive_bounds(p, x, w);
    expected_if_alive_series(p, x, z)
        .filter(|&v| within(v, lower, upper))
        .or_else(|| expected_if_alive_negative_binomial(p, x, z, 1e4).filter(|&v| within(v, lower, upper)))
        .unwrap_or_else(|| expected_if_alive_quadrature(p, x, w))
}

/// E[repeat purchases in (T, T+t] | alive] as the integral over the drop-out
/// probability p ~ Beta(a, b+x) of `h(p) = (1 − (1 + p w)^−s) / p` (s = r + x, w =
/// t/(alpha+T)): given p and the rate λ ~ Gamma(s, alpha+T), a live customer expects
/// `(1 − e^(−λpt))/p` purchases in t, and `E_λ[e^(−λpt)] = (1 + p w)^−s`. For a > 1 this
/// is the closed form `c/(a−1) (1 − E_(Beta(a−1, b+x))[(1 + p w)^−s])` of equation (10)
/// of Fader, Hardie & Lee (2005); the form in h holds for every a > 0.
///
/// h is smooth, decreasing and bounded (`s w` at 0), so the integral is well
/// conditioned for any parameters, however large: the 2F1 series and the negative
/// binomial sum fail when s or s w is huge, this does not. The integral is taken in
/// the logit of p, as an offset d from the mode `ln(a/(b+x))` of the Beta density
/// there (`p^a (1−p)^(b+x)`, a width ~ `sqrt(1/a + 1/(b+x))` that may be tiny), in log
/// space relative to the mode so that nothing overflows, and divided by the integral of
/// the density on the same nodes (no ln B(a, b+x), whose lgamma terms cancel for large
/// shapes). Beyond `min(mode, −ln max(s w, b+x, 1)) − 40` and `max(mode, ln max(a, 1)) +
/// 40` the density is `∝ e^(a y)` (resp. `e^(−(b+x) y)`) and h constant up to a
/// relative ~1e-17, and the tails are integrated exactly. In between: adaptive
/// 20-point Gauss–Legendre, breakpoints at the mode ± width · 2^k and where `p s w` and
/// `p w` are 1, to an estimated relative error of 1e-14.
fn expected_if_alive_quadrature(p: &BgNbdParams, x: f64, w: f64) -> f64 {
    if w == 0.0 {
        return 0.0;
    }
    let (a, beta, s) = (p.a, p.b + x, p.r + x);
    let (lower, upper) = expected_if_alive_bounds(p, x, w);
    let sw = upper;
    if !sw.is_finite() {
        return sw;
    }
    let (p_mode, q_mode) = (a / (a + beta), beta / (a + beta));
    let ln_p_mode = -(beta / a).ln_1p();
    let y_mode = a.ln() - beta.ln();
    let width = (1.0 / a + 1.0 / beta).sqrt();
    let y_low = (y_mode.min(-sw.max(beta).max(1.0).ln()) - 40.0).max(-700.0);
    let y_high = (y_mode.max(a.max(1.0).ln()) + 40.0).min(700.0);
    let (d_low, d_high) = (y_low - y_mode, y_high - y_mode);
    // ln(1 + c (e^v − 1)) = ln(c e^v + (1 − c)), c + c_complement = 1, accurately.
    let ln_mix = |c: f64, c_complement: f64, v: f64| {
        let m = c * v.exp_m1();
        if m.abs() < 0.5 {
            m.ln_1p()
        } else if v > 0.0 {
            v + (c + c_complement * (-v).exp()).ln()
        } else {
            (c * v.exp() + c_complement).ln()
        }
    };
    // [density · h, density] at logit(p) = mode + d, the density relative to the mode.
    let integrand = |d: f64| -> [f64; 2] {
        let ln_p_ratio = -ln_mix(q_mode, p_mode, -d);
        let ln_q_ratio = -ln_mix(p_mode, q_mode, d);
        let density = (a * ln_p_ratio + beta * ln_q_ratio).exp();
        let prob = (ln_p_mode + ln_p_ratio).exp();
        let pw = prob * w;
        let h = if (s + 2.0) * pw < 1e-8 {
            // The series s w (1 − (s+1) p w / 2 + ...), exact to ~1e-16 here.
            sw * (1.0 - 0.5 * (s + 1.0) * pw)
        } else {
            -(-s * pw.ln_1p()).exp_m1() / prob
        };
        [density * h, density]
    };
    let (at_low, at_high) = (integrand(d_low), integrand(d_high));
    let tails = [
        at_low[0] / a + at_high[0] / beta,
        at_low[1] / a + at_high[1] / beta,
    ];
    let mut breakpoints = vec![d_low, 0.0, d_high];
    for k in -1..=7 {
        let offset = width * 2f64.powi(k);
        breakpoints.extend([offset, -offset]);
    }
    let y_rate = -sw.ln();
    for shift in [-8.0, -2.0, 0.0, 2.0, 8.0] {
        breakpoints.push(y_rate + shift - y_mode);
    }
    breakpoints.push(-w.ln() - y_mode);
    breakpoints.retain(|&d| d.is_finite() && d >= d_low && d <= d_high);
    breakpoints.sort_by(f64::total_cmp);
    breakpoints.dedup();
    let (total, _) = super::quadrature::integrate_pair(integrand, &breakpoints, tails, 1e-14, 4000);
    // The bounds hold for the exact integral; keep rounding from leaving them.
    (total[0] / total[1]).clamp(lower, upper)
}

/// E[repeat purchases in (T, T+t] | alive] as the mean of a function of a negative
/// binomial count, every term positive. Given the rate λ ~ Gamma(r+x, alpha+T) and the
/// drop-out probability p ~ Beta(a, b+x), the expectation is `E_p[(1 − (1 + p w)^−s) / p]`
/// (s = r + x, w = t/(alpha+T)); writing `(1 + p w)^−s = E[e^(−pΛ)]` with Λ ~ Gamma(s,
/// scale w), `(1 − e^(−pΛ))/p = ∫_0^Λ e^(−pu) du` and `E_p[e^(−pu)] = e^(−u) 1F1(b+x; a+b+x; u)`
/// (Kummer), term-by-term integration gives
///
/// `E = Σ_(j≥1) P(N = j) C_j`, `C_j = Σ_(m<j) (b+x)_m / (a+b+x)_m`,
///
/// with N negative binomial (s, z), z = w/(1+w): mean s w, the expected purchases of a
/// customer who never drops out (and E → s w as a → 0). The number of terms grows with
/// that mean and with 1/(1−z), not with s: `None` when that is beyond `max_terms`. The
/// rounding of the recurrence of ln P(N = j) grows with the number of terms (~1e-11
/// relative at a mean of 1e4, 1e-9 at 1e7): [`expected_if_alive_positive`] uses the
/// quadrature beyond ten thousand terms.
fn expected_if_alive_negative_binomial(p: &BgNbdParams, x: f64, z: f64, max_terms: f64) -> Option<f64> {
    if z == 0.0 {
        return Some(0.0);
    }
    if !(z > 0.0 && z < 1.0) {
        return None;
    }
    let s = p.r + x;
    let beta = p.b + x;
    let mean = s * z / (1.0 - z);
    // The terms run past the mean until the tail, which falls like z^j, is negligible:
    // about mean + 40/(1−z) of them.
    if !(mean + 45.0 / (1.0 - z) <= max_terms) {
        return None;
    }
    let ln_z = z.ln();
    // ln P(N = j), from j = 0, by the ratio of consecutive terms, summed with Kahan's
    // compensation (the first value can be ~−1e6, whose rounding would otherwise
    // accumulate over the terms). An underflow of the first terms when the mean is
    // large is harmless: they are negligible.
    let mut ln_pmf = s * (-z).ln_1p();
    let mut ln_pmf_error = 0.0_f64;
    let (mut total, mut cumulative, mut coefficient) = (0.0_f64, 0.0_f64, 1.0_f64);
    let mut j = 0.0_f64;
    loop {
        let step = ((s + j) / (j + 1.0)).ln() + ln_z - ln_pmf_error;
        let next = ln_pmf + step;
        ln_pmf_error = (next - ln_pmf) - step;
        ln_pmf = next;
        cumulative += coefficient;
        coefficient *= (beta + j) / (p.a + beta + j);
        j += 1.0;
        let term = ln_pmf.exp() * cumulative;
        total += term;
        // Past the mode the terms fall by at most rho = (s+j) z / j (the pmf ratio
        // times C_(j+1)/C_j <= (j+1)/j): bound the tail by a geometric series.
        let rho = (s + j) * z / j;
        if j > mean && rho < 1.0 && term * rho / (1.0 - rho) <= 1e-17 * total {
            break;
        }
        if j > max_terms || !total.is_finite() {
            return None;
        }
    }
    Some(total)
}

/// E[repeat purchases in (T, T+t] | alive] as a series of positive terms, valid for
/// every a, b > 0 (no pole, no cancellation). With s = r + x, w = t/(alpha+T) and
/// p ~ Beta(a, b+x) the drop-out probability, the expectation is
/// `E_p[(1 − (1 + p w)^−s) / p]`; its derivative in w is `s 2F1(s+1, a; a+b+x; −w)`,
/// by Pfaff's transformation `s (1+w)^−(s+1) 2F1(s+1, b+x; a+b+x; w/(1+w))`, and
/// integrating term by term with v = u/(1+u):
///
/// `E = s Σ_m (s+1)_m (b+x)_m / ((a+b+x)_m m!) · I_m`, `I_m = ∫_0^z v^m (1−v)^(s−1) dv`,
///
/// z = w/(1+w). The I_m come from the backward recurrence
/// `I_(m−1) = ((s+m) I_m + z^m (1−z)^s) / m` (every term positive, errors shrink by ~z per
/// step), started far enough beyond the last term needed. `None` if the series needs
/// more than a million terms.
fn expected_if_alive_series(p: &BgNbdParams, x: f64, z: f64) -> Option<f64> {
    if z == 0.0 {
        return Some(0.0);
    }
    if !(z > 0.0 && z < 1.0) {
        return None;
    }
    let s = p.r + x;
    let first = -(s * (-z).ln_1p()).exp_m1() / s; // I_0
                                                  // Coefficients until the bound coef_m z^m ρ/(1−ρ) on the tail (relative to I_0, a
                                                  // lower bound of the sum) is negligible; I_m <= z I_(m−1) since v <= z.
    let mut coefficients = vec![1.0_f64];
    let (mut coefficient, mut power) = (1.0_f64, 1.0_f64);
    let mut m = 0.0_f64;
    loop {
        m += 1.0;
        let ratio = (s + m) * (p.b + x + m - 1.0) / ((p.a + p.b + x + m - 1.0) * m);
        coefficient *= ratio;
        power *= z;
        coefficients.push(coefficient);
        let rho = ratio * z;
        if rho < 1.0 && coefficient * power * rho / (1.0 - rho) <= 1e-17 {
            break;
        }
        if coefficients.len() > 1_000_000 || !coefficient.is_finite() {
            return None;
        }
    }
    let last = coefficients.len() - 1;
    let extra = (40.0 / -z.ln()).ceil().min(1e6) as usize;
    let start = last + extra;
    let ln_z = z.ln();
    let ln_tail = s * (-z).ln_1p();
    // Backward from I_start = 0.
    let mut integrals = vec![0.0_f64; last + 1];
    let mut current = 0.0_f64;
    for step in (1..=start).rev() {
        let mf = step as f64;
        current = ((s + mf) * current + (mf * ln_z + ln_tail).exp()) / mf;
        if step - 1 <= last {
            integrals[step - 1] = current;
        }
    }
    integrals[0] = first;
    let sum: f64 = coefficients.iter().zip(&integrals).map(|(c, i)| c * i).sum();
    let value = s * sum;
    value.is_finite().then_some(value)
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
    // The value is spend · P(alive) · K(x, T) with K the discounted sum of the monthly
    // increments of E[purchases | alive], which depends on (x, T) only: K is computed
    // once per distinct (x, T) (a few thousand on a daily summary of any size).
    let mut index: hashbrown::HashMap<[u64; 2], usize> = hashbrown::HashMap::new();
    let mut groups: Vec<(f64, f64)> = Vec::new();
    let group: Vec<usize> = (0..n)
        .map(|i| {
            let key = [(frequency[i] + 0.0).to_bits(), (age[i] + 0.0).to_bits()];
            *index.entry(key).or_insert_with(|| {
                groups.push((frequency[i], age[i]));
                groups.len() - 1
            })
        })
        .collect();
    // Each group costs `horizon` 2F1 series: parallel from a few dozen groups on.
    let one_group = |g: usize| {
        let (x, t_age) = groups[g];
        let mut previous = 0.0;
        let mut value = 0.0;
        for (k, discount) in discounts.iter().enumerate() {
            let cumulative = expected_if_alive(params, (k + 1) as f64 * step, x, t_age);
            value += (cumulative - previous) * discount;
            previous = cumulative;
        }
        value
    };
    let discounted: Vec<f64> = if groups.len() >= 64 {
        (0..groups.len())
            .into_par_iter()
            .with_min_len(16)
            .map(one_group)
            .collect()
    } else {
        (0..groups.len()).map(one_group).collect()
    };
    Ok(map_rows(n, |i| {
        spend[i] * discounted[group[i]] * probability_alive_one(params, frequency[i], recency[i], age[i])
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
    fn negative_binomial_form_equals_the_series_and_survives_huge_rates() {
        let cases = [
            (
                BgNbdParams {
                    r: 0.5,
                    alpha: 3.0,
                    a: 0.3,
                    b: 0.4,
                },
                10.0,
                1.0,
                40.0,
            ),
            (
                BgNbdParams {
                    r: 0.5,
                    alpha: 3.0,
                    a: 2.5,
                    b: 0.05,
                },
                100.0,
                3.0,
                40.0,
            ),
            (
                BgNbdParams {
                    r: 2.0,
                    alpha: 10.0,
                    a: 0.8,
                    b: 2.0,
                },
                30.0,
                0.0,
                5.0,
            ),
            (CDNOW, 30.0, 5.0, 38.0),
            (CDNOW, 365.0, 0.0, 0.0),
        ];
        for (p, t, x, age) in cases {
            let z = t / (p.alpha + age + t);
            let series = expected_if_alive_series(&p, x, z).unwrap();
            let negative_binomial = expected_if_alive_negative_binomial(&p, x, z, 1e7).unwrap();
            assert!(
                (negative_binomial / series - 1.0).abs() < 1e-12,
                "{p:?}: {negative_binomial} {series}"
            );
        }
        // A degenerate fit (one customer: r and alpha ~1e8, a and b ~1e-3): the rate
        // is a point mass at (r+x)/(alpha+T) ~ 1 a day and almost nobody drops out, so
        // the expectation is just under s·w. The series' coefficients overflow here.
        let p = BgNbdParams {
            r: 138_649_490.380_896_2,
            alpha: 138_649_492.653_730_9,
            a: 0.000_375_607_181_062_926_1,
            b: 0.005_386_424_494_176_98,
        };
        let (t, x, age) = (10.0, 1.0, 1.0);
        let z = t / (p.alpha + age + t);
        assert!(expected_if_alive_series(&p, x, z).is_none());
        let value = expected_if_alive(&p, t, x, age);
        let upper = (p.r + x) * t / (p.alpha + age);
        assert!(
            value.is_finite() && value < upper && value > 0.99 * upper,
            "{value} {upper}"
        );
        let long = expected_if_alive(&p, 100.0, x, age);
        assert!(long.is_finite() && long > value);
        // Nobody drops out (a ~ 0): the expectation is s·w; here the log of the first
        // probability is ~ −5e5, and the compensated sum keeps ~1e-10 relative accuracy.
        let p = BgNbdParams {
            r: 1e8,
            alpha: 1e9,
            a: 1e-13,
            b: 1.0,
        };
        let t = 5e6;
        let z = t / (p.alpha + t);
        let value = expected_if_alive_negative_binomial(&p, 0.0, z, 1e7).unwrap();
        let want = p.r * t / p.alpha;
        assert!((value / want - 1.0).abs() < 1e-10, "{value} {want}");
        // A mean beyond ten million terms is refused at once.
        let p = BgNbdParams {
            r: 3.0,
            alpha: 1.0,
            a: 0.5,
            b: 0.5,
        };
        let z = 1e7 / (1.0 + 1e7);
        assert!(expected_if_alive_negative_binomial(&p, 0.0, z, 1e7).is_none());
    }

    #[test]
    fn quadrature_equals_the_series_on_ordinary_parameters() {
        let mut worst = 0.0_f64;
        for r in [0.05, 0.24, 1.0, 7.5] {
            for alpha in [0.5, 4.4, 60.0] {
                for (a, b) in [
                    (0.02, 0.03),
                    (0.3, 0.2),
                    (0.79, 2.43),
                    (2.5, 0.05),
                    (1.5, 8.0),
                    (40.0, 300.0),
                ] {
                    let p = BgNbdParams { r, alpha, a, b };
                    for (t, x, age) in [
                        (1.0, 0.0, 30.0),
                        (39.0, 2.0, 38.86),
                        (365.0, 10.0, 5.0),
                        (0.01, 1.0, 1.0),
                    ] {
                        let w = t / (alpha + age);
                        let z = t / (alpha + age + t);
                        let series = expected_if_alive_series(&p, x, z).unwrap();
                        let quadrature = expected_if_alive_quadrature(&p, x, w);
                        let relative = (quadrature / series - 1.0).abs();
                        worst = worst.max(relative);
                        assert!(
                            relative < 1e-10,
                            "{p:?} t={t} x={x} T={age}: {quadrature} {series}"
                        );
                    }
                }
            }
        }
        eprintln!("quadrature vs series: max relative difference {worst:e}");
    }

    #[test]
    fn degenerate_fits_of_one_customer_give_sane_expectations() {
        // Fits on one customer (the likelihood has no interior maximum): r ~1e8–1e9, so
        // the expected count r/alpha · t is beyond ten million and neither the series nor
        // the negative binomial sum can be used. Reference values: mpmath, 40 digits
        // (tests/clv_reference.py::reference_expected_if_alive_mp).
        let cases = [
            (
                BgNbdParams {
                    r: 377_597_769.119_629_3,
                    alpha: 11.253_289_587_789_94,
                    a: 9_239_696.029_906_653,
                    b: 9_239_695.980_497_098,
                },
                (1.0, 2.0, 1.0),
                2.000_000_319_338_510_3,
            ),
            (
                BgNbdParams {
                    r: 2_113_416_430.455_211_9,
                    alpha: 2.346_363_935_740_406e-7,
                    a: 16_957.730_121_696_62,
                    b: 1.781_898_575_938_268_4e-6,
                },
                (10.0, 1.0, 0.5),
                1.000_058_973_739_318_8,
            ),
        ];
        for (p, (t, x, age), want) in cases {
            let z = t / (p.alpha + age + t);
            assert!(expected_if_alive_series(&p, x, z).is_none());
            assert!(expected_if_alive_negative_binomial(&p, x, z, 1e7).is_none());
            let got = expected_if_alive(&p, t, x, age);
            assert!((got / want - 1.0).abs() < 1e-12, "{p:?}: {got} {want}");
            // Purchases at ~1e8 a day, each followed by a drop-out with probability ~1/2
            // (resp. ~1): the expectation reaches its limit E[1/p] within a microsecond,
            // and stays there up to rounding.
            let mut previous = 0.0;
            for horizon in [1e-12, 1e-9, 1e-6, 1e-3, 1.0, 1e3, 1e6] {
                let value = conditional_expected_one(&p, horizon, x, age, age);
                assert!(
                    value.is_finite() && value >= previous * (1.0 - 1e-13),
                    "{horizon}: {value} {previous}"
                );
                previous = value;
            }
        }
    }

    #[test]
    fn closed_form_keeps_a_tiny_power_against_a_huge_series() {
        // a ~ 584: (1−z)^(a−1) ~ 3e-38 times 2F1 ~ 4e36. Taking the power as 1 + its
        // expm1 gave 0 there, and E = c/(a−1) (18 % too high). mpmath, 50 digits.
        let p = BgNbdParams {
            r: 0.055_755_220_123_726_9,
            alpha: 0.014_921_756_332_169_038,
            a: 584.176_117_148_141_8,
            b: 0.004_688_278_146_878_964_4,
        };
        let got = expected_if_alive(&p, 0.482_459_515_703_560_55, 13.0, 3.010_703_532_518_941_7);
        let want = 0.868_220_574_999_606;
        assert!((got / want - 1.0).abs() < 1e-13, "{got} {want}");
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let likelihood = Likelihood::new(
            vec![0.0, 2.0, 5.0, 1.0, 2.0],
            &[0.0, 0.3, 0.8, 0.1, 0.3],
            &[0.5, 0.9, 1.0, 0.2, 0.5],
            vec![3.0, 1.0, 2.0, 1.0, 0.5],
            0.1,
        );
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
        for x in [x, [2.0, -1.0, -3.0, 0.5], [-4.0, 3.0, 1.0, -2.0]] {
            let (_, _, h) = likelihood.value_gradient_hessian(&x);
            let numeric = crate::clv::optimize::finite_difference_hessian(&likelihood, &x);
            for i in 0..4 {
                for j in 0..4 {
                    assert!(
                        (numeric[i][j] - h[i][j]).abs() < 1e-6 * (1.0 + h[i][j].abs()),
                        "{i}{j}: {numeric:?} {h:?}"
                    );
                }
            }
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
