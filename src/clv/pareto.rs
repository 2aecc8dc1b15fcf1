//! The Pareto/NBD purchase model (Schmittlein, Morrison & Colombo 1987; Fader, Hardie & Lee
//! 2005, "A note on deriving the Pareto/NBD model and related expressions"): an active
//! customer buys as a Poisson process of rate `λ ~ Gamma(r, alpha)` and has an exponential
//! lifetime of rate `μ ~ Gamma(s, beta)`, in continuous time.
//!
//! A customer's likelihood, with `x` repeat purchases, the last at `t_x`, observed for `T`:
//!
//! `L = Γ(r+x) α^r β^s / Γ(r) · [ (α+T)^−(r+x) (β+T)^−s + s/(r+s+x) · A₀ ]`,
//! `A₀ = F(z₁)/(M+t_x)^(r+s+x) − F(z₂)/(M+T)^(r+s+x)`, `F(z) = 2F1(r+s+x, b; r+s+x+1; z)`,
//!
//! where `M = max(α, β)`, `z₁ = |α−β|/(M+t_x)`, `z₂ = |α−β|/(M+T)`, and `b = s+1` when
//! `α >= β`, `r+x` otherwise (both branches keep `0 <= z < 1`). `F` is summed as its power
//! series, whose terms are all positive, in a rescaled log form, together with its
//! derivatives in `(r+s+x, b, z)`; the likelihood is written once on [`Jet`]s, which carry
//! its gradient and Hessian for the optimiser.

use super::jet::Jet;
use super::limit::{purchase_evidence, with_penalty_advice, Model, Shape};
use super::special::{ln_beta, ln_gamma, ln_hyp2f1_positive};
use super::{
    check_btyd_lengths, check_customers, check_params, check_times, check_weights, chunked_sum,
    each_customer, fit_report, map_rows, pick, warm_minimize, warm_subsample, FitOptions, FitReport, Optimum,
    Totals,
};
use crate::clv::{scaled_btyd, ScaledBtyd};
use crate::error::Result;
#[cfg(doc)]
use crate::error::RfmError;

/// Pareto/NBD parameters in the data's time unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParetoNbdParams {
    /// Shape of the gamma distribution of purchase rates.
    pub r: f64,
    /// Scale of the gamma distribution of purchase rates, in the data's time unit.
    pub alpha: f64,
    /// Shape of the gamma distribution of drop-out rates.
    pub s: f64,
    /// Scale of the gamma distribution of drop-out rates, in the data's time unit.
    pub beta: f64,
}

impl ParetoNbdParams {
    /// Checks that every parameter is finite and > 0.
    ///
    /// # Errors
    /// [`RfmError::Parameter`] naming the first bad parameter.
    pub fn check(&self) -> Result<()> {
        check_params(
            "Pareto/NBD",
            &[
                ("r", self.r),
                ("alpha", self.alpha),
                ("s", self.s),
                ("beta", self.beta),
            ],
        )
    }

    fn jets<const N: usize>(&self) -> [Jet<N>; 4] {
        [self.r, self.alpha, self.s, self.beta].map(Jet::constant)
    }
}

/// Most terms of a series before giving up (NaN).
const MAX_TERMS: usize = 5_000_000;

/// The sums of a positive series' terms `t_n` and of `t_n` times the derivatives of
/// `ln t_n` in three variables (`S`, `S_i = Σ t ∂_i ln t`, `S_ij = Σ t (∂_i ln t ∂_j ln t +
/// ∂_ij ln t)`), rescaled together when they grow large: `ln Σ t` and its gradient and
/// Hessian (`S_i/S`, `S_ij/S − S_i S_j/S²`) without overflow.
struct Sums {
    s: f64,
    g: [f64; 3],
    h: [[f64; 3]; 3],
    ln_scale: f64,
}

impl Sums {
    fn one() -> Self {
        Sums {
            s: 1.0,
            g: [0.0; 3],
            h: [[0.0; 3]; 3],
            ln_scale: 0.0,
        }
    }

    /// Adds a term `t` whose log has gradient `d` and Hessian `dd`; rescales the sums and
    /// `t` (the caller's running term) when the sum passes 1e250.
    fn add(&mut self, t: &mut f64, d: [f64; 3], dd: [[f64; 3]; 3]) {
        let term = *t;
        self.s += term;
        for i in 0..3 {
            self.g[i] += term * d[i];
            for j in 0..3 {
                self.h[i][j] += term * (d[i] * d[j] + dd[i][j]);
            }
        }
        if self.s > 1e250 {
            let scale = self.s;
            self.ln_scale += scale.ln();
            self.s = 1.0;
            self.g = self.g.map(|v| v / scale);
            self.h = self.h.map(|row| row.map(|v| v / scale));
            *t /= scale;
        }
    }

    /// Whether the terms after `t` (which shrink by `rho` or less from here, and whose log
    /// derivatives are at most `weight` in size) are below the sum's last digit.
    fn converged(&self, t: f64, rho: f64, weight: f64) -> bool {
        rho < 1.0 && t * weight * rho / (1.0 - rho) <= 1e-16 * self.s
    }

    fn ln(self) -> (f64, [f64; 3], [[f64; 3]; 3]) {
        let g = self.g.map(|v| v / self.s);
        let h = std::array::from_fn(|i| std::array::from_fn(|j| self.h[i][j] / self.s - g[i] * g[j]));
        (self.ln_scale + self.s.ln(), g, h)
    }
}

/// `ln 2F1(a, b; a+1; z)` for `a, b > 0`, `0 <= z < 1`, with its gradient and Hessian in
/// `(a, b, z)` (`None` when the series does not converge within [`MAX_TERMS`] terms).
///
/// Two series of positive terms, each term carried by its ratio to the previous one (so
/// neither coefficients nor powers of z overflow or underflow on their own):
/// - otherwise, the power series `Σ c_n z^n`, `c_n = a/(a+n) · (b)_n / n!`
///   (`∂_a ln c_n = 1/a − 1/(a+n)`, `∂_b ln c_n = Σ_{k<n} 1/(b+k)`);
/// - for `b > 1` (and `a+1−b > 0`: in the likelihood it is s+1 or r+x), Euler's
///   transformation `(1−z)^(1−b) · 2F1(1, a+1−b; a+1; z)`, whose terms
///   `Π_{k<n} z (a+1−b+k)/(a+1+k)` are positive too and fall like `z^n n^−b` instead of `z^n n^(b−2)`: a heavy buyer's series
///   (b = r+x of 100 or more) needs tens of terms instead of thousands.
///
/// Slow only for `b <= 1` and z within 1e-4 of 1 (about 40/(1−z) terms): one-time buyers
/// when min(α, β) is 1e-4 of max(α, β).
pub(crate) fn ln_hyp2f1_a1(a: f64, b: f64, z: f64) -> Option<(f64, [f64; 3], [[f64; 3]; 3])> {
    if !(a > 0.0 && b > 0.0 && (0.0..1.0).contains(&z)) {
        return None;
    }
    if z == 0.0 {
        // 1 + a b/(a+1) z + a b (b+1)/(2 (a+2)) z² + ...: only the z-derivatives are not 0.
        let (c1, c2) = (a * b / (a + 1.0), a * b * (b + 1.0) / (2.0 * (a + 2.0)));
        let (az, bz) = (b / ((a + 1.0) * (a + 1.0)), a / (a + 1.0));
        let h = [[0.0, 0.0, az], [0.0, 0.0, bz], [az, bz, 2.0 * c2 - c1 * c1]];
        return Some((0.0, [0.0, 0.0, c1], h));
    }
    if b > 1.0 && a + 1.0 - b > 0.0 {
        return euler_series(a, b, z);
    }
    let mut sums = Sums::one();
    let (mut t, mut hb, mut hb2) = (1.0_f64, 0.0_f64, 0.0_f64);
    for n in 1..MAX_TERMS {
        let k = n as f64;
        t *= (b + k - 1.0) / k * ((a + k - 1.0) / (a + k)) * z;
        hb += 1.0 / (b + k - 1.0);
        hb2 += 1.0 / ((b + k - 1.0) * (b + k - 1.0));
        let la = 1.0 / a - 1.0 / (a + k);
        let laa = 1.0 / ((a + k) * (a + k)) - 1.0 / (a * a);
        let d = [la, hb, k / z];
        sums.add(
            &mut t,
            d,
            [[laa, 0.0, 0.0], [0.0, -hb2, 0.0], [0.0, 0.0, -k / (z * z)]],
        );
        let rho = z * (b + k) / (k + 1.0) * (a + k) / (a + k + 1.0) * ((k + 1.0) / k).powi(2);
        if n >= 3
            && sums.converged(
                t,
                rho,
                1.0 + d[0] * d[0] + d[1] * d[1] + d[2] * d[2] + laa.abs() + hb2 + k / (z * z),
            )
        {
            return Some(sums.ln());
        }
        if !t.is_finite() {
            return None;
        }
    }
    None
}

/// `ln 2F1(a, b; a+1; z)` for `b > 1`, `0 < z < 1` as `(1−b) ln(1−z) + ln Σ_n e_n`,
/// `e_n = Π_{k=1..n} z (a−b+k)/(a+k)` (see [`ln_hyp2f1_a1`]).
fn euler_series(a: f64, b: f64, z: f64) -> Option<(f64, [f64; 3], [[f64; 3]; 3])> {
    let mut sums = Sums::one();
    // Σ_k 1/(a−b+k), Σ_k 1/(a+k) and their squares: the log derivatives of e_n.
    let (mut t, mut p, mut q, mut p2, mut q2) = (1.0_f64, 0.0_f64, 0.0_f64, 0.0_f64, 0.0_f64);
    let mut n = 0usize;
    loop {
        n += 1;
        if n >= MAX_TERMS {
            return None;
        }
        let k = n as f64;
        t *= z * (a - b + k) / (a + k);
        p += 1.0 / (a - b + k);
        q += 1.0 / (a + k);
        p2 += 1.0 / ((a - b + k) * (a - b + k));
        q2 += 1.0 / ((a + k) * (a + k));
        // ln e_n in (a, b, z): gradient (p − q, −p, n/z), Hessian [[q2 − p2, p2, 0], [p2, −p2, 0], [0, 0, −n/z²]].
        let d = [p - q, -p, k / z];
        sums.add(
            &mut t,
            d,
            [[q2 - p2, p2, 0.0], [p2, -p2, 0.0], [0.0, 0.0, -k / (z * z)]],
        );
        let rho = z * (a - b + k + 1.0) / (a + k + 1.0) * ((k + 1.0) / k).powi(2);
        if n >= 3
            && sums.converged(
                t,
                rho,
                1.0 + d[0] * d[0] + d[1] * d[1] + d[2] * d[2] + p2 + q2 + k / (z * z),
            )
        {
            break;
        }
        if !t.is_finite() {
            return None;
        }
    }
    let (ln_g, g, h) = sums.ln();
    // plus (1−b) ln(1−z)
    let w = 1.0 - z;
    let gradient = [g[0], g[1] - w.ln(), g[2] - (1.0 - b) / w];
    let mut hessian = h;
    hessian[1][2] += 1.0 / w;
    hessian[2][1] += 1.0 / w;
    hessian[2][2] -= (1.0 - b) / (w * w);
    Some(((1.0 - b) * w.ln() + ln_g, gradient, hessian))
}

/// `ln 2F1(a, b; a+1; z)` of jets, or NaN when the series does not converge.
fn ln_hyp_jet<const N: usize>(a: &Jet<N>, b: &Jet<N>, z: &Jet<N>) -> Jet<N> {
    match ln_hyp2f1_a1(a.v, b.v, z.v) {
        Some((value, g, h)) => Jet::compose(value, &g, &h, [a, b, z]),
        None => Jet::constant(f64::NAN),
    }
}

/// The two terms of a customer's likelihood in logs, `u₁ = −(r+x) ln(α+T) − s ln(β+T)` (alive
/// at T) and `u₂ = ln s − ln(r+s+x) + ln A₀` (gone between t_x and T; `None` when t_x = T),
/// so that `ln L = lnΓ(r+x) − lnΓ(r) + r ln α + s ln β + ln(e^u₁ + e^u₂)`.
fn terms<const N: usize>(p: &[Jet<N>; 4], x: f64, tx: f64, age: f64) -> (Jet<N>, Option<Jet<N>>) {
    let [r, alpha, s, beta] = *p;
    let rx = r + x;
    let alive = -(rx * (alpha + age).ln()) - s * (beta + age).ln();
    if !(tx < age) {
        return (alive, None);
    }
    let a = rx + s;
    let (big, small, b) = if alpha.v >= beta.v {
        (alpha, beta, s + 1.0)
    } else {
        (beta, alpha, rx)
    };
    let gap = big - small;
    let (near, far) = (big + tx, big + age);
    let ln_near_f = ln_hyp_jet(&a, &b, &(gap / near));
    let ln_far_f = ln_hyp_jet(&a, &b, &(gap / far));
    // ln of F(z₂)/(M+T)^a over F(z₁)/(M+t_x)^a: A₀ is the first term times 1 − e^this.
    let stretch = (Jet::constant(age - tx) / near).ln_1p();
    let ln_ratio = ln_far_f - ln_near_f - a * stretch;
    if !(ln_ratio.v < -1e-14) {
        // t_x within rounding of T: A₀ is 0 to the precision of its two terms.
        return (alive, if ln_ratio.v.is_nan() { Some(ln_ratio) } else { None });
    }
    let ln_a0 = ln_near_f - a * near.ln() + ln_ratio.ln_one_minus_exp();
    (alive, Some(s.ln() - a.ln() + ln_a0))
}

/// `ln(e^u₁ + e^u₂)` of [`terms`].
fn log_sum<const N: usize>(terms: (Jet<N>, Option<Jet<N>>)) -> Jet<N> {
    match terms {
        (alive, None) => alive,
        (alive, Some(gone)) => Jet::log_add_exp(&alive, &gone),
    }
}

/// A customer's log-likelihood.
fn ln_likelihood<const N: usize>(p: &[Jet<N>; 4], x: f64, tx: f64, age: f64) -> Jet<N> {
    let [r, alpha, s, beta] = *p;
    (r + x).ln_gamma() - r.ln_gamma() + r * alpha.ln() + s * beta.ln() + log_sum(terms(p, x, tx, age))
}

/// The penalised objective of lifetimes on compressed patterns (times scaled so that the
/// largest T is 1).
struct Likelihood {
    frequency: Vec<f64>,
    recency: Vec<f64>,
    age: Vec<f64>,
    weight: Vec<f64>,
    total_weight: f64,
    /// The penalty per unit of the mean objective (lifetimes' coefficient over its rows).
    penalizer: f64,
}

impl Likelihood {
    fn new(values: &[[f64; 3]], weight: Vec<f64>, penalizer: f64) -> Self {
        let column = |k: usize| -> Vec<f64> { values.iter().map(|v| v[k]).collect() };
        Likelihood {
            frequency: column(0),
            recency: column(1),
            age: column(2),
            total_weight: weight.iter().sum(),
            weight,
            penalizer,
        }
    }

    fn subsample(&self, rows: &[usize]) -> Self {
        Likelihood {
            frequency: pick(rows, &self.frequency),
            recency: pick(rows, &self.recency),
            age: pick(rows, &self.age),
            weight: pick(rows, &self.weight),
            total_weight: rows.iter().map(|&i| self.weight[i]).sum(),
            penalizer: self.penalizer,
        }
    }
}

impl Totals<4> for Likelihood {
    fn totals(&self, params: &[f64; 4]) -> (f64, [f64; 4], [[f64; 4]; 4]) {
        let p: [Jet<4>; 4] = std::array::from_fn(|i| Jet::variable(params[i], i));
        let [sum] = chunked_sum(
            self.frequency.len(),
            |start, end| {
                let mut sum = Jet::constant(0.0);
                for i in start..end {
                    let one = ln_likelihood(&p, self.frequency[i], self.recency[i], self.age[i]);
                    sum = sum + one * self.weight[i];
                }
                [sum]
            },
            |total, part| *total = *total + part,
        );
        (sum.v, sum.g, sum.h)
    }

    fn scale(&self) -> (f64, f64) {
        (self.total_weight, self.penalizer)
    }
}

const PARETO_NBD: Model<4> = Model {
    name: "Pareto/NBD",
    scaled_as: "with times scaled so that the longest T is 1",
    scales: &[1, 3],
    names: ["r", "alpha", "s", "beta"],
    shapes: &[
        Shape::Gamma {
            shape: 0,
            rate: 1,
            what: "purchase rates",
        },
        Shape::Gamma {
            shape: 2,
            rate: 3,
            what: "drop-out rates",
        },
    ],
};

/// Fits the Pareto/NBD model by maximum likelihood, as `lifetimes.ParetoNBDFitter.fit`.
///
/// Times are scaled so that the largest `T` is 1, as lifetimes does; its objective,
/// `−Σ w·ln L / mean(w) + penalizer_coef · (r² + α² + s² + β²)` (α, β in the scaled unit,
/// `mean(w)` over every input row), is minimised over log-parameters from `0.1` (lifetimes
/// starts Nelder–Mead near 1 in the parameters). The report's `objective` is that value;
/// its Hessian and covariance are those of the mean objective, as for the other models.
///
/// # Errors
/// As [`super::bgnbd::fit`].
pub fn fit(
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
    weights: Option<&[f64]>,
    options: &FitOptions,
) -> Result<FitReport<4>> {
    with_penalty_advice(
        options,
        PARETO_NBD.names,
        |report: &FitReport<4>| report.params,
        |options| fit_pareto(frequency, recency, age, weights, options),
    )
}

fn fit_pareto(
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
    weights: Option<&[f64]>,
    options: &FitOptions,
) -> Result<FitReport<4>> {
    let ScaledBtyd {
        rows: n,
        start,
        scale,
        patterns,
        ..
    } = scaled_btyd(frequency, recency, age, weights, options)?;
    let likelihood = Likelihood::new(
        &patterns.values,
        patterns.weights,
        options.penalizer_coef / n as f64,
    );
    let total_weight = likelihood.total_weight;
    let subsample = warm_subsample(likelihood.frequency.len()).map(|rows| likelihood.subsample(&rows));
    let found = warm_minimize(&likelihood, subsample.as_ref(), start, options);
    let scaled = found.x.map(f64::exp);
    let params = [scaled[0], scaled[1] / scale, scaled[2], scaled[3] / scale];
    let penalty: f64 = scaled.iter().map(|v| v * v).sum();
    let ll_scaled = -(found.value - likelihood.penalizer * penalty) * total_weight;
    // Scaling time by c changes each customer's log-density by −x ln c.
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
    // lifetimes' objective is the mean one times the number of input rows.
    let rows = n as f64;
    let mut report = fit_report(
        &PARETO_NBD,
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
    )?;
    report.objective *= rows;
    Ok(report)
}

/// Total log-likelihood (no penalty) of customers under `params`, in the data's unit.
///
/// # Errors
/// As [`fit`] for the inputs; [`RfmError::Parameter`] for invalid parameters.
pub fn log_likelihood(
    params: &ParetoNbdParams,
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
    weights: Option<&[f64]>,
) -> Result<f64> {
    params.check()?;
    let n = check_btyd_lengths(frequency, recency, age)?;
    check_weights(weights, n)?;
    check_customers(frequency, recency, age)?;
    let p = params.jets::<0>();
    Ok((0..n)
        .map(|i| {
            let w = weights.map_or(1.0, |w| w[i]);
            if w == 0.0 {
                0.0
            } else {
                w * ln_likelihood(&p, frequency[i], recency[i], age[i]).v
            }
        })
        .sum())
}

/// `one(t, x, t_x, T)` of every customer after the checks of the parameters and rows.
fn predict(
    params: &ParetoNbdParams,
    t: Option<&[f64]>,
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
    one: impl Fn(f64, f64, f64, f64) -> f64 + Sync + Send,
) -> Result<Vec<f64>> {
    params.check()?;
    each_customer(t, frequency, recency, age, one)
}

pub(crate) fn probability_alive_one(params: &ParetoNbdParams, x: f64, tx: f64, age: f64) -> f64 {
    match terms(&params.jets::<0>(), x, tx, age) {
        (_, None) => 1.0,
        (alive, Some(gone)) => 1.0 / (1.0 + (gone.v - alive.v).exp()),
    }
}

/// `(1 − (q/(q+t))^(s−1)) / (s−1)`, its limit `ln(1 + t/q)` at `s = 1`.
fn truncated_power(s: f64, q: f64, t: f64) -> f64 {
    let ln_ratio = (t / q).ln_1p();
    if (s - 1.0).abs() < 1e-9 {
        ln_ratio
    } else {
        -(-(s - 1.0) * ln_ratio).exp_m1() / (s - 1.0)
    }
}

/// `conditional_probability_alive(frequency, recency, T)`: `e^u₁ / (e^u₁ + e^u₂)` of the
/// likelihood's terms (equation 11 of the note).
///
/// # Errors
/// [`RfmError::Parameter`] for invalid parameters, [`RfmError::InvalidValue`] for an
/// invalid customer row, [`RfmError::Length`].
pub fn probability_alive(
    params: &ParetoNbdParams,
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
) -> Result<Vec<f64>> {
    predict(params, None, frequency, recency, age, |_, x, tx, a| {
        probability_alive_one(params, x, tx, a)
    })
}

/// `conditional_expected_number_of_purchases_up_to_time(t, ...)`:
/// `P(alive) · (r+x)(β+T) / ((α+T)(s−1)) · (1 − ((β+T)/(β+T+t))^(s−1))`.
///
/// # Errors
/// As [`probability_alive`], and for a negative or non-finite `t`.
pub fn conditional_expected_purchases(
    params: &ParetoNbdParams,
    t: &[f64],
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
) -> Result<Vec<f64>> {
    predict(params, Some(t), frequency, recency, age, |t, x, tx, a| {
        probability_alive_one(params, x, tx, a) * expected_if_alive(params, t, x, a)
    })
}

/// E[repeat purchases in (T, T+t] | alive]: `(r+x)(β+T)/(α+T) · (1 − ((β+T)/(β+T+t))^(s−1))/(s−1)`.
pub(crate) fn expected_if_alive(params: &ParetoNbdParams, t: f64, x: f64, age: f64) -> f64 {
    let ParetoNbdParams { r, alpha, s, beta } = *params;
    (r + x) / (alpha + age) * (beta + age) * truncated_power(s, beta + age, t)
}

/// `expected_number_of_purchases_up_to_time(t)` of a new customer:
/// `r β / (α (s−1)) · (1 − (β/(β+t))^(s−1))`.
///
/// # Errors
/// [`RfmError::Parameter`] for invalid parameters, [`RfmError::InvalidValue`] for a bad `t`.
pub fn expected_purchases(params: &ParetoNbdParams, t: &[f64]) -> Result<Vec<f64>> {
    params.check()?;
    check_times(t, t.len())?;
    let ParetoNbdParams { r, alpha, s, beta } = *params;
    Ok(map_rows(t.len(), |i| {
        r * beta / alpha * truncated_power(s, beta, t[i])
    }))
}

/// The parameters of an active customer's future after history `(x, T)`: the purchase rate
/// is then `Gamma(r+x, α+T)` and the drop-out rate `Gamma(s, β+T)`.
fn posterior(params: &ParetoNbdParams, x: f64, age: f64) -> ParetoNbdParams {
    ParetoNbdParams {
        r: params.r + x,
        alpha: params.alpha + age,
        s: params.s,
        beta: params.beta + age,
    }
}

/// P(no purchase in the next `t`) of a customer alive now with `posterior` parameters: the
/// likelihood of a new customer who makes no repeat purchase in `t`. `t = ∞` gives the
/// probability of dropping out before buying again, `E[μ/(λ+μ)]`.
fn no_purchase_within(posterior: &ParetoNbdParams, t: f64) -> f64 {
    let p = posterior.jets::<0>();
    if t.is_finite() {
        return ln_likelihood(&p, 0.0, 0.0, t).v.exp();
    }
    // As T → ∞, only A₀'s first term stays: α^r β^s · s/(r+s) · F(|α−β|/M) / M^(r+s).
    let ParetoNbdParams { r, alpha, s, beta } = *posterior;
    let (big, b) = if alpha >= beta {
        (alpha, s + 1.0)
    } else {
        (beta, r)
    };
    let a = r + s;
    match ln_hyp2f1_a1(a, b, (alpha - beta).abs() / big) {
        Some((ln_f, _, _)) => (r * alpha.ln() + s * beta.ln() + s.ln() - a.ln() + ln_f - a * big.ln()).exp(),
        None => f64::NAN,
    }
}

/// The probability of at least one purchase in the next `t`, given the history:
/// `P(alive) · (1 − P(no purchase in t | alive))`, the second from [`no_purchase_within`].
///
/// # Errors
/// As [`conditional_expected_purchases`].
pub fn probability_of_purchase_within(
    params: &ParetoNbdParams,
    t: &[f64],
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
) -> Result<Vec<f64>> {
    predict(params, Some(t), frequency, recency, age, |t, x, tx, a| {
        probability_alive_one(params, x, tx, a) * (1.0 - no_purchase_within(&posterior(params, x, a), t))
    })
}

/// The time within which the customer buys again with probability 1/2 (the `t` where
/// [`probability_of_purchase_within`] reaches 0.5), NaN when it never does
/// (`P(alive) · (1 − E[μ/(λ+μ)]) <= 0.5`): found by bisection on `ln t`.
///
/// # Errors
/// As [`probability_alive`].
pub fn median_time_to_next_purchase(
    params: &ParetoNbdParams,
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
) -> Result<Vec<f64>> {
    predict(params, None, frequency, recency, age, |_, x, tx, a| {
        let alive = probability_alive_one(params, x, tx, a);
        let future = posterior(params, x, a);
        let buys = |t: f64| alive * (1.0 - no_purchase_within(&future, t));
        if !(buys(f64::INFINITY) > 0.5) {
            return f64::NAN;
        }
        // Bracket in ln t from the mean time between purchases, then bisect.
        let typical = future.alpha / future.r;
        let (mut low, mut high) = (typical.ln(), typical.ln());
        while buys(low.exp()) > 0.5 && low > -700.0 {
            low -= 2.0;
        }
        while !(buys(high.exp()) >= 0.5) && high < 700.0 {
            high += 2.0;
        }
        for _ in 0..200 {
            let middle = 0.5 * (low + high);
            if buys(middle.exp()) >= 0.5 {
                high = middle;
            } else {
                low = middle;
            }
            if high - low < 1e-12 {
                break;
            }
        }
        (0.5 * (low + high)).exp()
    })
}

/// `conditional_probability_of_n_purchases_up_to_time(n, t, ...)` (Fader & Hardie 2006,
/// "Deriving the conditional PMF of the Pareto/NBD model", equation 16), as lifetimes
/// computes it, except at `t = 0`, where it is 1 for `n = 0` (lifetimes returns 0); with
/// `x = t_x = T = 0` the probability of `n` purchases in `t` of a new customer. A difference of two positive terms: clamped at 0 where rounding makes it
/// negative.
///
/// # Errors
/// As [`conditional_expected_purchases`], and for `n` not a whole number >= 0 (or above
/// 10,000).
pub fn probability_of_n_purchases(
    params: &ParetoNbdParams,
    n: &[f64],
    t: &[f64],
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
) -> Result<Vec<f64>> {
    params.check()?;
    let rows = check_btyd_lengths(frequency, recency, age)?;
    check_customers(frequency, recency, age)?;
    check_times(t, rows)?;
    super::check_lengths(&[("frequency", rows), ("n", n.len())])?;
    for (row, &value) in n.iter().enumerate() {
        if !(value.is_finite() && value >= 0.0 && value == value.floor() && value <= 10_000.0) {
            return Err(super::invalid(
                "n",
                row,
                value,
                "n (the number of purchases) must be a whole number between 0 and 10000",
            ));
        }
    }
    let ParetoNbdParams { r, alpha, s, beta } = *params;
    let p = params.jets::<0>();
    Ok(map_rows(rows, |i| {
        let (n, t, x, tx, age) = (n[i], t[i], frequency[i], recency[i], age[i]);
        if t <= 0.0 {
            return if n == 0.0 { 1.0 } else { 0.0 };
        }
        let ln_l = ln_likelihood(&p, x, tx, age).v;
        let head = r * alpha.ln() + s * beta.ln() - ln_gamma(r);
        let alive =
            (ln_gamma(r + x) + head - (r + x) * (alpha + age).ln() - s * (beta + age).ln() - ln_l).exp();
        let (big, small) = if alpha >= beta {
            (alpha, beta)
        } else {
            (beta, alpha)
        };
        let b = if alpha < beta { r + x + n } else { s + 1.0 };
        let a = r + s + x;
        let shared = head - ln_gamma(s) + ln_beta(r + x + n, s + 1.0) - ln_l;
        let hyp = |a: f64, z: f64| ln_hyp2f1_positive(a, b, r + s + x + n + 1.0, z).unwrap_or(f64::NAN);
        let first = n * t.ln() - ln_gamma(n + 1.0) + ln_gamma(r + x + n) + head
            - (r + x + n) * (alpha + age + t).ln()
            - s * (beta + age + t).ln()
            - ln_l;
        let second = shared + ln_gamma(a) + hyp(a, (big - small) / (big + age)) - a * (big + age).ln();
        let third = (0..=n as usize)
            .map(|k| {
                let i = k as f64;
                i * t.ln() - ln_gamma(i + 1.0)
                    + shared
                    + ln_gamma(a + i)
                    + hyp(a + i, (big - small) / (big + age + t))
                    - (a + i) * (big + age + t).ln()
            })
            .map(f64::exp)
            .sum::<f64>();
        let zeroth = if n == 0.0 { 1.0 - alive } else { 0.0 };
        let rest = first.exp() + second.exp() - third;
        // NaN (a series that did not converge) stays NaN: max/clamp would turn it into 0.
        if rest.is_nan() {
            return f64::NAN;
        }
        (zeroth + rest.max(0.0)).clamp(0.0, 1.0)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clv::optimize;
    use crate::testing::{assert_convergence_error, Draws, XorShift};

    /// 1,000 Pareto/NBD customers (r = 2, alpha = 10, s = 1, beta = 20, ages uniform in
    /// 20..52 weeks): frequency, recency, T.
    fn simulated() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let mut draws = Draws(XorShift(0x5eed_0002));
        let (mut frequency, mut recency, mut ages) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..1000 {
            let rate = draws.gamma(2, 10.0);
            let lifetime = draws.exponential() / draws.gamma(1, 20.0);
            let age = 20.0 + 32.0 * draws.uniform();
            let (mut now, mut x, mut last) = (0.0, 0.0, 0.0);
            loop {
                now += draws.exponential() / rate;
                if now > age.min(lifetime) {
                    break;
                }
                x += 1.0;
                last = now;
            }
            frequency.push(x);
            recency.push(last);
            ages.push(age);
        }
        (frequency, recency, ages)
    }

    /// Degenerate inputs whose fits run off take seconds to minutes on this series (one-time
    /// buyers only: tests/test_fit_meaning.py); one that the objective's precision stops early
    /// stands for them here.
    #[test]
    fn an_ordinary_sample_gives_an_estimate_and_a_degenerate_one_an_error_that_says_why() {
        let options = FitOptions::default();
        let (frequency, recency, ages) = simulated();
        let report = fit(&frequency, &recency, &ages, None, &options).unwrap();
        let [r, alpha, s, beta] = report.params;
        assert!((r / alpha / 0.2 - 1.0).abs() < 0.15, "{:?}", report.params);
        assert!((s / beta / 0.05 - 1.0).abs() < 0.5, "{:?}", report.params);
        // One repeat customer of two: the optimiser runs off until the precision of the
        // objective stops it (or its parameters pass the bounds of an estimate); the penalty
        // the message advises gives the fit it shows.
        let (frequency, recency, ages) = ([0.0, 3.0], [0.0, 10.0], [20.0, 20.0]);
        let error = fit(&frequency, &recency, &ages, None, &options).unwrap_err();
        assert_convergence_error(
            &error,
            &[
                "the Pareto/NBD fit ",
                "Only 1 of 2 customers made a repeat purchase",
                "penalizer_coef=0.01 gives a finite fit on this data (r = 2.2802, alpha = 16.6047, s = 1.6790, \
                 beta = 17.6719)",
            ],
        );
        let penalised = FitOptions {
            penalizer_coef: 0.01,
            ..FitOptions::default()
        };
        assert!(fit(&frequency, &recency, &ages, None, &penalised).is_ok());
    }

    /// `ln 2F1(a, b; a+1; z)` by mpmath at 40 digits over a grid with the hard corners
    /// (a = 300 and z = 0.999, where scipy's `hyp2f1` returns inf or NaN for 6 of them).
    const MPMATH: [(f64, f64, f64, f64); 120] = [
        (0.3, 0.2, 0.0, 0.0),
        (0.3, 0.2, 0.05, 0.0023451026219390206),
        (0.3, 0.2, 0.5, 0.028066492559853776),
        (0.3, 0.2, 0.9, 0.06784592589758744),
        (0.3, 0.2, 0.99, 0.08813180159360177),
        (0.3, 0.2, 0.999, 0.0926968191749086),
        (0.3, 1.7, 0.0, 0.0),
        (0.3, 1.7, 0.05, 0.020192198017548058),
        (0.3, 1.7, 0.5, 0.2854735446832777),
        (0.3, 1.7, 0.9, 1.0683731734048592),
        (0.3, 1.7, 0.99, 2.4556800317136545),
        (0.3, 1.7, 0.999, 4.005741097980788),
        (0.3, 12.0, 0.0, 0.0),
        (0.3, 12.0, 0.05, 0.15590528317484462),
        (0.3, 12.0, 0.5, 4.805790964283127),
        (0.3, 12.0, 0.9, 21.8398445785806),
        (0.3, 12.0, 0.99, 47.06576247818368),
        (0.3, 12.0, 0.999, 72.3845105728803),
        (0.3, 80.0, 0.0, 0.0),
        (0.3, 80.0, 0.05, 1.7871449310668661),
        (0.3, 80.0, 0.5, 49.88749181318529),
        (0.3, 80.0, 0.9, 176.43716131294002),
        (0.3, 80.0, 0.99, 358.24516503832314),
        (0.3, 80.0, 0.999, 540.1402558666299),
        (1.2, 0.2, 0.0, 0.0),
        (1.2, 0.2, 0.05, 0.005554836852979824),
        (1.2, 0.2, 0.5, 0.06815608464549072),
        (1.2, 0.2, 0.9, 0.17254042128210742),
        (1.2, 0.2, 0.99, 0.23128145570124745),
        (1.2, 0.2, 0.999, 0.24554197932594707),
        (1.2, 1.7, 0.0, 0.0),
        (1.2, 1.7, 0.05, 0.04747627848267033),
        (1.2, 1.7, 0.5, 0.6270947160789027),
        (1.2, 1.7, 0.9, 1.9733022136524392),
        (1.2, 1.7, 0.99, 3.7159620839526175),
        (1.2, 1.7, 0.999, 5.363712144531565),
        (1.2, 12.0, 0.0, 0.0),
        (1.2, 12.0, 0.05, 0.3476007742171471),
        (1.2, 12.0, 0.5, 6.079221440254533),
        (1.2, 12.0, 0.9, 23.215975554246654),
        (1.2, 12.0, 0.99, 48.451146443269174),
        (1.2, 12.0, 0.999, 73.77071483113046),
        (1.2, 80.0, 0.0, 0.0),
        (1.2, 80.0, 0.05, 2.7828861975094608),
        (1.2, 80.0, 0.5, 51.26205338724737),
        (1.2, 80.0, 0.9, 177.82217129578532),
        (1.2, 80.0, 0.99, 359.63134283015944),
        (1.2, 80.0, 0.999, 541.5265386775501),
        (5.5, 0.2, 0.0, 0.0),
        (5.5, 0.2, 0.05, 0.008651389499659682),
        (5.5, 0.2, 0.5, 0.11145297145136242),
        (5.5, 0.2, 0.9, 0.31293497744101156),
        (5.5, 0.2, 0.99, 0.4550517160344803),
        (5.5, 0.2, 0.999, 0.4961974956761458),
        (5.5, 1.7, 0.0, 0.0),
        (5.5, 1.7, 0.05, 0.07359631517138712),
        (5.5, 1.7, 0.5, 0.9613082014025046),
        (5.5, 1.7, 0.9, 2.898036605222545),
        (5.5, 1.7, 0.99, 5.059421165968581),
        (5.5, 1.7, 0.999, 6.841294527251653),
        (5.5, 12.0, 0.0, 0.0),
        (5.5, 12.0, 0.05, 0.522295033610268),
        (5.5, 12.0, 0.5, 7.240298411764366),
        (5.5, 12.0, 0.9, 24.691550754676545),
        (5.5, 12.0, 0.99, 49.96923726482247),
        (5.5, 12.0, 0.999, 75.29271101201807),
        (5.5, 80.0, 0.0, 0.0),
        (5.5, 80.0, 0.05, 3.5818134143833715),
        (5.5, 80.0, 0.5, 52.730340849893835),
        (5.5, 80.0, 0.9, 179.33848467617636),
        (5.5, 80.0, 0.99, 361.15321261586547),
        (5.5, 80.0, 0.999, 543.0489100305961),
        (40.0, 0.2, 0.0, 0.0),
        (40.0, 0.2, 0.05, 0.010002271642259667),
        (40.0, 0.2, 0.5, 0.1338728096560975),
        (40.0, 0.2, 0.9, 0.4239728664709133),
        (40.0, 0.2, 0.99, 0.7219268979695577),
        (40.0, 0.2, 0.999, 0.8482560442468694),
        (40.0, 1.7, 0.0, 0.0),
        (40.0, 1.7, 0.05, 0.0850212972917556),
        (40.0, 1.7, 0.5, 1.138563633083945),
        (40.0, 1.7, 0.9, 3.6317637468780064),
        (40.0, 1.7, 0.99, 6.534836551828269),
        (40.0, 1.7, 0.999, 8.673814542092382),
        (40.0, 12.0, 0.0, 0.0),
        (40.0, 12.0, 0.05, 0.6002458406621058),
        (40.0, 12.0, 0.5, 8.063972749348176),
        (40.0, 12.0, 0.9, 26.371630139250172),
        (40.0, 12.0, 0.99, 51.91938559008441),
        (40.0, 12.0, 0.999, 77.27339769431009),
        (40.0, 80.0, 0.0, 0.0),
        (40.0, 80.0, 0.05, 4.005604370110453),
        (40.0, 80.0, 0.5, 54.36430326899893),
        (40.0, 80.0, 0.9, 181.2749112707973),
        (40.0, 80.0, 0.99, 363.1328885085833),
        (40.0, 80.0, 0.999, 545.0325987630273),
        (300.0, 0.2, 0.0, 0.0),
        (300.0, 0.2, 0.05, 0.010223694428255195),
        (300.0, 0.2, 0.5, 0.1379673864133797),
        (300.0, 0.2, 0.9, 0.45472125214651316),
        (300.0, 0.2, 0.99, 0.8700675196353116),
        (300.0, 0.2, 0.999, 1.1467892597622598),
        (300.0, 1.7, 0.0, 0.0),
        (300.0, 1.7, 0.05, 0.08690144132919932),
        (300.0, 1.7, 0.5, 1.1727365258600662),
        (300.0, 1.7, 0.9, 3.8661112207056907),
        (300.0, 1.7, 0.99, 7.445739345467972),
        (300.0, 1.7, 0.999, 10.253411251199191),
        (300.0, 12.0, 0.0, 0.0),
        (300.0, 12.0, 0.05, 0.613423811535121),
        (300.0, 12.0, 0.5, 8.278789810602108),
        (300.0, 12.0, 0.9, 27.329834011240244),
        (300.0, 12.0, 0.99, 53.714189508991886),
        (300.0, 12.0, 0.999, 79.26279445539106),
        (300.0, 80.0, 0.0, 0.0),
        (300.0, 80.0, 0.05, 4.08957376765216),
        (300.0, 80.0, 0.5, 55.21648805087675),
        (300.0, 80.0, 0.9, 182.98994290198507),
        (300.0, 80.0, 0.99, 365.1148532630851),
        (300.0, 80.0, 0.999, 547.0441724750008),
    ];

    /// Heavy buyers (b = r+x of 100 to 1000, a = b + s) and one-time buyers with z within
    /// 1e-4 of 1, by mpmath at 50 digits.
    const MPMATH_HEAVY: [(f64, f64, f64, f64); 38] = [
        (100.6, 100.0, 0.2, 22.09437226102973),
        (100.6, 100.0, 0.5, 68.62951479534743),
        (100.6, 100.0, 0.9, 227.97032699362194),
        (100.6, 100.0, 0.98, 387.30598353595576),
        (100.6, 100.0, 0.9999, 911.839727600534),
        (121.0, 100.0, 0.2, 22.127995439462943),
        (121.0, 100.0, 0.5, 68.71642704381979),
        (121.0, 100.0, 0.9, 228.13442122203244),
        (121.0, 100.0, 0.98, 387.4864696087625),
        (121.0, 100.0, 0.9999, 912.0243450724158),
        (300.6, 300.0, 0.2, 66.72098411411224),
        (300.6, 300.0, 0.5, 207.253667428772),
        (300.6, 300.0, 0.9, 688.4777431219129),
        (300.6, 300.0, 0.98, 1169.7001081574258),
        (300.6, 300.0, 0.9999, 2753.897107587927),
        (321.0, 300.0, 0.2, 66.73368877095302),
        (321.0, 300.0, 0.5, 207.28581858950852),
        (321.0, 300.0, 0.9, 688.5365875504968),
        (321.0, 300.0, 0.98, 1169.7644008580944),
        (321.0, 300.0, 0.9999, 2753.9627613881303),
        (1000.6, 1000.0, 0.2, 222.92072736645713),
        (1000.6, 1000.0, 0.5, 692.4548328193006),
        (1000.6, 1000.0, 0.9, 2300.2839479297636),
        (1000.6, 1000.0, 0.98, 3908.1125506801527),
        (1000.6, 1000.0, 0.9999, 9201.131631764401),
        (1021.0, 1000.0, 0.2, 222.92472317210363),
        (1021.0, 1000.0, 0.5, 692.4648601961618),
        (1021.0, 1000.0, 0.9, 2300.302089182833),
        (1021.0, 1000.0, 0.98, 3908.13232468666),
        (1021.0, 1000.0, 0.9999, 9201.151812439426),
        (0.9, 0.3, 0.999, 0.3280386013122928),
        (0.9, 0.3, 0.9999, 0.33310524580326584),
        (0.9, 0.95, 0.999, 1.6894368135966145),
        (0.9, 0.95, 0.9999, 1.9166304207727016),
        (5.0, 0.3, 0.999, 0.7426651919027667),
        (5.0, 0.3, 0.9999, 0.7596071935243115),
        (5.0, 0.95, 0.999, 2.9745249815136),
        (5.0, 0.95, 0.9999, 3.3025834674627776),
    ];

    #[test]
    fn the_series_matches_mpmath_over_a_grid_with_the_hard_corners() {
        for &(a, b, z, want) in MPMATH.iter().chain(&MPMATH_HEAVY) {
            let got = ln_hyp2f1_a1(a, b, z).unwrap().0;
            assert!(
                (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                "{a} {b} {z}: {got} {want}"
            );
        }
    }

    #[test]
    fn the_series_and_its_derivatives_agree_with_closed_forms_and_differences() {
        // 2F1(1, 1; 2; z) = −ln(1 − z)/z; 2F1(a, b; a+1; z) at z = 0 is 1.
        for z in [0.0_f64, 0.1, 0.5, 0.9, 0.99] {
            let want = if z == 0.0 { 1.0 } else { -(1.0 - z).ln() / z };
            let got = ln_hyp2f1_a1(1.0, 1.0, z).unwrap().0.exp();
            assert!((got - want).abs() < 1e-13 * want, "{z}: {got} {want}");
        }
        for (a, b, z) in [
            (1.3, 0.7, 0.4),
            (12.5, 3.2, 0.05),
            (0.6, 25.0, 0.8),
            (2.0, 1.5, 0.0),
        ] {
            let (_, g, h) = ln_hyp2f1_a1(a, b, z).unwrap();
            let step = 1e-6;
            for i in 0..3 {
                let shift = |d: f64| {
                    let mut v = [a, b, z];
                    v[i] += d;
                    ln_hyp2f1_a1(v[0], v[1], v[2]).unwrap()
                };
                let (plus, minus) = (shift(step), shift(if i == 2 && z == 0.0 { 0.0 } else { -step }));
                let width = if i == 2 && z == 0.0 { step } else { 2.0 * step };
                let numeric = (plus.0 - minus.0) / width;
                assert!(
                    (g[i] - numeric).abs() < 1e-6 * (1.0 + numeric.abs()),
                    "g{i} at {a} {b} {z}"
                );
                for j in 0..3 {
                    let numeric = (plus.1[j] - minus.1[j]) / width;
                    assert!(
                        (h[i][j] - numeric).abs() < 2e-5 * (1.0 + numeric.abs()),
                        "h{i}{j} at {a} {b} {z}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_likelihood_gradient_and_hessian_are_the_objectives() {
        let values = [
            [0.0, 0.0, 1.0],
            [2.0, 0.3, 0.9],
            [7.0, 0.85, 1.0],
            [1.0, 0.2, 0.2],
            [3.0, 0.5, 0.6],
        ];
        let likelihood = Likelihood::new(&values, vec![30.0, 10.0, 4.0, 2.0, 5.0], 0.01);
        for x in [
            [0.1, 0.1, 0.1, 0.1],
            [-0.5, -2.0, -0.6, -1.0],
            [0.3, 1.0, -0.2, -1.5],
        ] {
            optimize::assert_gradient(&likelihood, &x);
            optimize::assert_hessian(&likelihood, &x);
        }
    }

    #[test]
    fn the_likelihood_is_the_integral_over_the_drop_out_time() {
        // L/(Γ(r+x)α^r β^s/Γ(r)) = (α+T)^−(r+x) (β+T)^−s + s ∫_{t_x}^T (α+τ)^−(r+x) (β+τ)^−(s+1) dτ,
        // by the midpoint rule on 200,000 steps, for α above and below β.
        for p in [
            ParetoNbdParams {
                r: 0.55,
                alpha: 10.58,
                s: 0.61,
                beta: 11.67,
            },
            ParetoNbdParams {
                r: 1.7,
                alpha: 40.0,
                s: 2.3,
                beta: 3.0,
            },
            ParetoNbdParams {
                r: 0.3,
                alpha: 2.0,
                s: 0.4,
                beta: 90.0,
            },
        ] {
            for (x, tx, age) in [(0.0, 0.0, 30.0), (3.0, 12.5, 39.0), (11.0, 70.0, 77.0)] {
                let ParetoNbdParams { r, alpha, s, beta } = p;
                let steps = 200_000;
                let width = (age - tx) / steps as f64;
                let integral: f64 = (0..steps)
                    .map(|k| {
                        let tau = tx + (k as f64 + 0.5) * width;
                        (alpha + tau).powf(-(r + x)) * (beta + tau).powf(-(s + 1.0))
                    })
                    .sum::<f64>()
                    * width;
                let bracket = (alpha + age).powf(-(r + x)) * (beta + age).powf(-s) + s * integral;
                let want = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + s * beta.ln() + bracket.ln();
                let got = log_likelihood(&p, &[x], &[tx], &[age], None).unwrap();
                assert!((got - want).abs() < 1e-8, "{p:?} {x} {tx} {age}: {got} {want}");
            }
        }
    }

    #[test]
    fn predictions_hold_their_identities() {
        let p = ParetoNbdParams {
            r: 0.55,
            alpha: 10.58,
            s: 0.61,
            beta: 11.67,
        };
        let (x, tx, age) = ([0.0, 2.0, 6.0], [0.0, 30.43, 20.0], [38.86, 38.86, 38.86]);
        // P(N = 0) of the conditional PMF is 1 − P(purchase within t); the PMF sums to 1.
        let t = [5.0; 3];
        let within = probability_of_purchase_within(&p, &t, &x, &tx, &age).unwrap();
        let zero = probability_of_n_purchases(&p, &[0.0; 3], &t, &x, &tx, &age).unwrap();
        for i in 0..3 {
            assert!(
                (zero[i] - (1.0 - within[i])).abs() < 1e-9,
                "{i}: {} {}",
                zero[i],
                within[i]
            );
            let total: f64 = (0..60)
                .map(|n| {
                    probability_of_n_purchases(&p, &[n as f64], &[5.0], &[x[i]], &[tx[i]], &[age[i]]).unwrap()
                        [0]
                })
                .sum();
            assert!((total - 1.0).abs() < 1e-8, "{i}: {total}");
        }
        // The median time: P(purchase within it) = 1/2.
        let median = median_time_to_next_purchase(&p, &x, &tx, &age).unwrap();
        for i in 0..3 {
            if median[i].is_finite() {
                let at = probability_of_purchase_within(&p, &[median[i]], &[x[i]], &[tx[i]], &[age[i]])
                    .unwrap()[0];
                assert!((at - 0.5).abs() < 1e-9, "{i}: {at}");
            }
        }
        // A one-time buyer of 39 weeks is more likely never to buy again; a frequent recent one
        // buys again within weeks.
        assert!(median[0].is_nan(), "{median:?}");
        let active = median_time_to_next_purchase(&p, &[10.0], &[38.0], &[38.86]).unwrap()[0];
        assert!(active > 0.5 && active < 10.0, "{active}");
    }
}
