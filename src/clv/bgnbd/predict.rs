//! The prediction formulas of `lifetimes.BetaGeoFitter` for fitted BG/NBD parameters:
//! expected purchases (conditional on a customer's history or not), P(alive), the
//! probability of n purchases, and the discounted lifetime value.

use super::BgNbdParams;
use crate::clv::special::{hyp2f1_minus_one, ln_beta, ln_gamma, ln_hyp2f1_positive};
use crate::clv::{check_lengths, check_times, invalid, map_rows};
use crate::error::Result;

/// P(alive) of one customer: 1 without repeat purchases, else
pub(crate) fn probability_alive_one(p: &BgNbdParams, x: f64, recency: f64, age: f64) -> f64 {
    if x == 0.0 {
        return 1.0;
    }
    alive(p, b_plus(p.b, x), x, recency, age)
}

/// `1 / (1 + a/bx · ((alpha+T)/(alpha+recency))^(r+x))`, stable for large odds.
fn alive(p: &BgNbdParams, bx: f64, x: f64, recency: f64, age: f64) -> f64 {
    let log_odds = (p.a / bx).ln() + (p.r + x) * ((p.alpha + age) / (p.alpha + recency)).ln();
    if log_odds > 0.0 {
        let e = (-log_odds).exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + log_odds.exp())
    }
}

/// MBG/NBD P(alive): `1 / (1 + a/(b+x) · ((alpha+T)/(alpha+recency))^(r+x))` for every
/// customer (one who bought once may have dropped out right after).
pub(crate) fn modified_alive_one(p: &BgNbdParams, x: f64, recency: f64, age: f64) -> f64 {
    alive(p, p.b + x, x, recency, age)
}

/// MBG/NBD E[repeat purchases in (T, T+t]]: P(alive) times the purchases of a live
/// customer, which are BG/NBD's with b one higher (among the customers still alive after
/// x + 1 chances to drop out, p ~ Beta(a, b+x+1)): lifetimes' `ModifiedBetaGeoFitter`
/// formula `(a+b+x)/(a−1) · (1 − 2F1(r+x, b+x+1; a+b+x; z) ((alpha+T)/(alpha+T+t))^(r+x))`,
/// with the numerics of [`expected_if_alive`].
fn modified_expected_one(p: &BgNbdParams, t: f64, x: f64, recency: f64, age: f64) -> f64 {
    if t == 0.0 {
        return 0.0;
    }
    modified_expected_if_alive(p, t, x, age) * modified_alive_one(p, x, recency, age)
}

/// MBG/NBD E[repeat purchases in (T, T+t] | alive]: BG/NBD's with b one higher.
pub(crate) fn modified_expected_if_alive(p: &BgNbdParams, t: f64, x: f64, age: f64) -> f64 {
    expected_if_alive(&BgNbdParams { b: p.b + 1.0, ..*p }, t, x, age)
}

/// MBG/NBD `conditional_probability_alive(frequency, recency, T)`.
///
/// # Errors
/// As [`conditional_expected_purchases`].
pub fn modified_probability_alive(
    params: &BgNbdParams,
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
) -> Result<Vec<f64>> {
    each_customer(params, None, frequency, recency, age, |_, x, r, a| {
        modified_alive_one(params, x, r, a)
    })
}

/// MBG/NBD `conditional_expected_number_of_purchases_up_to_time(t, frequency, recency, T)`.
///
/// # Errors
/// As [`conditional_expected_purchases`].
pub fn modified_conditional_expected_purchases(
    params: &BgNbdParams,
    t: &[f64],
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
) -> Result<Vec<f64>> {
    each_customer(params, Some(t), frequency, recency, age, |t, x, r, a| {
        modified_expected_one(params, t, x, r, a)
    })
}

/// MBG/NBD `expected_number_of_purchases_up_to_time(t)` of a new customer:
/// `b/(a−1) · (1 − 2F1(r, b+1; a+b; t/(alpha+t)) (alpha/(alpha+t))^r)`.
///
/// # Errors
/// As [`conditional_expected_purchases`].
pub fn modified_expected_purchases(params: &BgNbdParams, t: &[f64]) -> Result<Vec<f64>> {
    params.check()?;
    check_times(t, t.len())?;
    Ok(map_rows(t.len(), |i| {
        modified_expected_one(params, t[i], 0.0, 0.0, 0.0)
    }))
}

fn b_plus(b: f64, x: f64) -> f64 {
    b + x.max(1.0) - 1.0
}

/// E[repeat purchases in (T, T+t]] of one customer given it is alive, times
/// P(alive): equation (10) of Fader, Hardie & Lee (2005).
pub(super) fn conditional_expected_one(p: &BgNbdParams, t: f64, x: f64, recency: f64, age: f64) -> f64 {
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
pub(crate) fn expected_if_alive(p: &BgNbdParams, t: f64, x: f64, age: f64) -> f64 {
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
pub(super) fn expected_if_alive_quadrature(p: &BgNbdParams, x: f64, w: f64) -> f64 {
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
    let (total, _) = crate::clv::quadrature::integrate_pair(integrand, &breakpoints, tails, 1e-14, 4000);
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
pub(super) fn expected_if_alive_negative_binomial(
    p: &BgNbdParams,
    x: f64,
    z: f64,
    max_terms: f64,
) -> Option<f64> {
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
pub(super) fn expected_if_alive_series(p: &BgNbdParams, x: f64, z: f64) -> Option<f64> {
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
    each_customer(params, Some(t), frequency, recency, age, |t, x, r, a| {
        conditional_expected_one(params, t, x, r, a)
    })
}

/// `one(t, frequency, recency, T)` of every customer, the parameters checked first.
fn each_customer(
    params: &BgNbdParams,
    t: Option<&[f64]>,
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
    one: impl Fn(f64, f64, f64, f64) -> f64 + Sync + Send,
) -> Result<Vec<f64>> {
    params.check()?;
    crate::clv::each_customer(t, frequency, recency, age, one)
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
    each_customer(params, None, frequency, recency, age, |_, x, r, a| {
        probability_alive_one(params, x, r, a)
    })
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
    probability_of_n_of(false, params, t, n)
}

/// P(N(t) = n) for a new MBG/NBD customer (lifetimes' `ModifiedBetaGeoFitter`): alive
/// after the first purchase and each of the `n` repeats with no purchase since
/// (`B(a, b+n+1)/B(a, b)` × the NBD probability of n), or gone right after the n-th
/// (`B(a+1, b+n)/B(a, b)` × P(at least n purchases)); n = 0 includes leaving at once.
///
/// # Errors
/// As [`probability_of_n_purchases`].
pub fn modified_probability_of_n_purchases(params: &BgNbdParams, t: &[f64], n: &[f64]) -> Result<Vec<f64>> {
    probability_of_n_of(true, params, t, n)
}

fn probability_of_n_of(modified: bool, params: &BgNbdParams, t: &[f64], n: &[f64]) -> Result<Vec<f64>> {
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
    let ln_beta_ab = ln_beta(a, b);
    Ok(map_rows(t.len(), |i| {
        let (t, n) = (t[i], n[i]);
        let ln_q = (t / (alpha + t)).ln();
        let ln_base = r * (alpha / (alpha + t)).ln();
        let ln_nb = ln_gamma(r + n) - ln_gamma(r) - ln_gamma(n + 1.0)
            + ln_base
            + if n > 0.0 { n * ln_q } else { 0.0 };
        // MBG/NBD: one more chance to leave (after the first purchase).
        let shift = if modified { 1.0 } else { 0.0 };
        let first = (ln_beta(a, b + n + shift) - ln_beta_ab + ln_nb).exp();
        if n == 0.0 && !modified {
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
        let sum = if n == 0.0 { 0.0 } else { sum };
        let second = (ln_beta(a + 1.0, b + n - 1.0 + shift) - ln_beta_ab).exp() * (1.0 - ln_base.exp() * sum);
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
    crate::clv::value::lifetime_value_over(
        params,
        frequency,
        recency,
        age,
        spend,
        horizon,
        step,
        discount_rate,
    )
}
