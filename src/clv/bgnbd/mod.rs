//! The BG/NBD model (Fader, Hardie & Lee 2005) and its modification MBG/NBD (Batislam,
//! Denizel & Filiztekin 2007, where a customer may also drop out right after the first
//! purchase, so that P(alive) < 1 for one-time buyers): likelihood with its analytic
//! gradient and the fit here, the prediction formulas of `lifetimes.BetaGeoFitter` and
//! `ModifiedBetaGeoFitter` in `predict.rs`.

mod predict;
#[cfg(test)]
mod tests;

use super::limit::{purchase_evidence, with_penalty_advice, Model, Shape};
use super::special::{digamma, ln_gamma, trigamma};
use super::{
    check_btyd_lengths, check_customers, check_params, check_weights, chunked_sum, compress,
    distinct_frequencies, fit_report, pick, symmetrize, warm_minimize, warm_subsample, FitOptions, FitReport,
    Optimum, Totals,
};
use crate::clv::{scaled_btyd, ScaledBtyd};
use crate::error::Result;
#[cfg(any(test, doc))]
use crate::error::RfmError;

pub use predict::{
    conditional_expected_purchases, expected_purchases, lifetime_value,
    modified_conditional_expected_purchases, modified_expected_purchases, modified_probability_alive,
    modified_probability_of_n_purchases, probability_alive, probability_of_n_purchases,
};
pub(crate) use predict::{
    expected_if_alive, modified_alive_one, modified_expected_if_alive, probability_alive_one,
};

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
        check_params(
            "BG/NBD",
            &[("r", self.r), ("alpha", self.alpha), ("a", self.a), ("b", self.b)],
        )
    }
}

/// The penalised mean negative log-likelihood of lifetimes, on compressed patterns.
///
/// Per customer, `ln L = A(x) + ln(e^{a3} + e^{a4})` with
/// `A(x) = lnΓ(r+x) − lnΓ(r) + r ln alpha + lnΓ(b+x) − lnΓ(b) − lnΓ(a+b+x) + lnΓ(a+b)`,
/// `a3 = −(r+x) ln(alpha+T)` and, when x > 0, `a4 = ln a − ln(b+x−1) − (r+x) ln(alpha+t_x)`.
/// MBG/NBD (`modified`) is the same with `b+x`, `a+b+x` one higher in `A` and `a4` (`ln(b+x)`),
/// and `a4` for every customer, x = 0 included (lifetimes' `ModifiedBetaGeoFitter`).
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
    modified: bool,
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
        modified: bool,
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
            modified,
        }
    }
}

impl Totals<4> for Likelihood {
    fn scale(&self) -> (f64, f64) {
        (self.total_weight, self.penalizer)
    }

    /// In (r, alpha, a, b).
    fn totals(&self, p: &[f64; 4]) -> (f64, [f64; 4], [[f64; 4]; 4]) {
        let [r, alpha, a, b] = *p;
        let (lg_r, dg_r, tg_r) = (ln_gamma(r), digamma(r), trigamma(r));
        let (lg_b, dg_b, tg_b) = (ln_gamma(b), digamma(b), trigamma(b));
        let (lg_ab, dg_ab, tg_ab) = (ln_gamma(a + b), digamma(a + b), trigamma(a + b));
        let ln_alpha = alpha.ln();
        let mut ll = 0.0;
        let mut g = [0.0; 4];
        let mut h = [[0.0; 4]; 4];
        // MBG/NBD: b + x and a + b + x one higher.
        let shift = if self.modified { 1.0 } else { 0.0 };
        // A(x), once per distinct x; ln(b+x−1) and 1/(b+x−1) for the pattern pass.
        let mut ln_b1 = vec![0.0; self.distinct.len()];
        let mut inv_b1 = vec![0.0; self.distinct.len()];
        for (k, (&x, &w)) in self.distinct.iter().zip(&self.distinct_weight).enumerate() {
            let (bx, abx) = (b + x + shift, a + b + x + shift);
            let tg_abx = trigamma(abx) - tg_ab;
            let dg_abx = digamma(abx) - dg_ab;
            ll += w * (ln_gamma(r + x) - lg_r + r * ln_alpha + ln_gamma(bx) - lg_b - ln_gamma(abx) + lg_ab);
            g[0] += w * (digamma(r + x) - dg_r + ln_alpha);
            g[1] += w * r / alpha;
            g[2] -= w * dg_abx;
            g[3] += w * (digamma(bx) - dg_b - dg_abx);
            h[0][0] += w * (trigamma(r + x) - tg_r);
            h[0][1] += w / alpha;
            h[1][1] -= w * r / (alpha * alpha);
            h[2][2] -= w * tg_abx;
            h[2][3] -= w * tg_abx;
            h[3][3] += w * (trigamma(bx) - tg_b - tg_abx);
            if x > 0.0 || self.modified {
                ln_b1[k] = (bx - 1.0).ln();
                inv_b1[k] = 1.0 / (bx - 1.0);
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
                    if x == 0.0 && !self.modified {
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

/// The distributions BG/NBD's and MBG/NBD's parameters shape, for the messages of a fit
/// that is a limit.
const SHAPES: &[Shape] = &[
    Shape::Gamma {
        shape: 0,
        rate: 1,
        what: "purchase rates",
    },
    Shape::Beta {
        first: 2,
        second: 3,
        what: "drop-out probabilities",
    },
];

const BG_NBD: Model<4> = Model {
    name: "BG/NBD",
    scaled_as: "with times scaled so that the longest T is 1",
    scales: &[1],
    names: ["r", "alpha", "a", "b"],
    shapes: SHAPES,
};

const MBG_NBD: Model<4> = Model {
    name: "MBG/NBD",
    scaled_as: "with times scaled so that the longest T is 1",
    scales: &[1],
    names: ["r", "alpha", "a", "b"],
    shapes: SHAPES,
};

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
/// [`RfmError::Convergence`] when the optimiser stops before an optimum, or when what it
/// found is a limit, not an estimate: on one to three repeat customers, or one-time buyers
/// only, the likelihood has no interior maximum and parameters run off towards 0 or
/// infinity (r ~ 1e8, a ~ 1e-8; lifetimes returns them, or raises its `ConvergenceError`),
/// or it is flat (see `limit::check` for the rule). The message names the parameter, its
/// value, what that means, the data's counts, and what to do; when the fit had no penalty,
/// it was tried again with `penalizer_coef = 0.01` and the message says whether that gives a
/// finite fit.
pub fn fit(
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
    weights: Option<&[f64]>,
    options: &FitOptions,
) -> Result<FitReport<4>> {
    with_penalty_advice(
        options,
        BG_NBD.names,
        |report: &FitReport<4>| report.params,
        |options| fit_model(false, frequency, recency, age, weights, options),
    )
}

/// Fits the MBG/NBD model, as `lifetimes.ModifiedBetaGeoFitter.fit` (the same scaling,
/// objective and start as [`fit`]).
///
/// # Errors
/// As [`fit`].
pub fn fit_modified(
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
    weights: Option<&[f64]>,
    options: &FitOptions,
) -> Result<FitReport<4>> {
    with_penalty_advice(
        options,
        MBG_NBD.names,
        |report: &FitReport<4>| report.params,
        |options| fit_model(true, frequency, recency, age, weights, options),
    )
}

fn fit_model(
    modified: bool,
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
    weights: Option<&[f64]>,
    options: &FitOptions,
) -> Result<FitReport<4>> {
    let ScaledBtyd {
        start,
        scale,
        patterns,
        total_weight,
        ..
    } = scaled_btyd(frequency, recency, age, weights, options)?;
    let column = |k: usize| -> Vec<f64> { patterns.values.iter().map(|v| v[k]).collect() };
    let (pattern_frequency, pattern_recency, pattern_age) = (column(0), column(1), column(2));
    let subsample = warm_subsample(pattern_frequency.len()).map(|rows| {
        Likelihood::new(
            pick(&rows, &pattern_frequency),
            &pick(&rows, &pattern_recency),
            &pick(&rows, &pattern_age),
            pick(&rows, &patterns.weights),
            options.penalizer_coef,
            modified,
        )
    });
    let likelihood = Likelihood::new(
        pattern_frequency,
        &pattern_recency,
        &pattern_age,
        patterns.weights,
        options.penalizer_coef,
        modified,
    );
    let found = warm_minimize(&likelihood, subsample.as_ref(), start, options);
    let scaled = found.x.map(f64::exp);
    let params = [scaled[0], scaled[1] / scale, scaled[2], scaled[3]];
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
    let repeat: f64 = likelihood
        .frequency
        .iter()
        .zip(&likelihood.weight)
        .filter(|(x, _)| **x > 0.0)
        .map(|(_, w)| w)
        .sum();
    let n_patterns = likelihood.frequency.len();
    fit_report(
        if modified { &MBG_NBD } else { &BG_NBD },
        Optimum {
            found,
            params,
            scaled,
        },
        &likelihood,
        ll_scaled + frequency_total * scale.ln(),
        n_patterns,
        total_weight,
        &purchase_evidence(total_weight, repeat, n_patterns),
    )
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
    log_likelihood_of(false, params, frequency, recency, age, weights)
}

/// Total MBG/NBD log-likelihood (no penalty) of customers under `params`.
///
/// # Errors
/// As [`log_likelihood`].
pub fn modified_log_likelihood(
    params: &BgNbdParams,
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
    weights: Option<&[f64]>,
) -> Result<f64> {
    log_likelihood_of(true, params, frequency, recency, age, weights)
}

fn log_likelihood_of(
    modified: bool,
    params: &BgNbdParams,
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
    weights: Option<&[f64]>,
) -> Result<f64> {
    params.check()?;
    let n = check_btyd_lengths(frequency, recency, age)?;
    check_weights(weights, n)?;
    check_customers(frequency, recency, age)?;
    let patterns =
        compress((0..n).map(|i| ([frequency[i], recency[i], age[i]], weights.map_or(1.0, |w| w[i]))));
    let likelihood = Likelihood::new(
        patterns.values.iter().map(|v| v[0]).collect(),
        &patterns.values.iter().map(|v| v[1]).collect::<Vec<_>>(),
        &patterns.values.iter().map(|v| v[2]).collect::<Vec<_>>(),
        patterns.weights,
        0.0,
        modified,
    );
    Ok(likelihood.totals(&[params.r, params.alpha, params.a, params.b]).0)
}
