//! Customer lifetime value: the BG/NBD purchase model ([`bgnbd`]) and the Gamma-Gamma
//! spend model ([`gamma_gamma`]), fitted by maximum likelihood with analytic gradients,
//! with the semantics of `lifetimes` 0.11.3 (same objective, penalty and starting point).
//!
//! Inputs are the BTYD summary ([`crate::summary`], a view of [`crate::State`]): per
//! customer `frequency` (repeat purchase periods), `recency` (age at the last purchase)
//! and `T` (age), all in one time unit, and for Gamma-Gamma `monetary_value` (mean spend of the repeat periods).
//! Customers with identical inputs are compressed into weighted patterns before fitting.

// `!(x > 0.0)` is meant: it also rejects NaN, which `x <= 0.0` would let through.
#![allow(clippy::neg_cmp_op_on_partial_ord)]
// Small fixed-size matrices (Hessians, Cholesky factors) read best with index loops.
#![allow(clippy::needless_range_loop)]

pub mod bgbb;
pub mod bgnbd;
pub mod gamma_gamma;
mod jet;
mod limit;
mod optimize;
pub mod pareto;
mod quadrature;
pub mod sbg;
mod special;
pub mod value;

use hashbrown::HashMap;

use crate::error::{Result, RfmError};
use limit::{Evidence, Model};

/// Options of a maximum-likelihood fit.
#[derive(Debug, Clone)]
pub struct FitOptions {
    /// `penalizer_coef`: the objective adds `penalizer_coef * sum(params²)`, as lifetimes
    /// does (for BG/NBD on the parameters with `alpha` in the scaled time unit).
    pub penalizer_coef: f64,
    /// Starting point in log-parameters; default `0.1` for each, as lifetimes.
    pub initial_log_params: Option<Vec<f64>>,
    /// Stop when the largest absolute gradient component is below this.
    pub gradient_tolerance: f64,
    /// Most BFGS iterations before giving up with [`RfmError::Convergence`].
    pub max_iterations: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            penalizer_coef: 0.0,
            initial_log_params: None,
            gradient_tolerance: 1e-10,
            max_iterations: 2000,
        }
    }
}

impl FitOptions {
    fn check<const N: usize>(&self) -> Result<[f64; N]> {
        if !(self.penalizer_coef.is_finite() && self.penalizer_coef >= 0.0) {
            return Err(RfmError::parameter(
                "penalizer_coef",
                format!("must be a finite number >= 0, got {}", self.penalizer_coef),
            ));
        }
        if !(self.gradient_tolerance > 0.0) {
            return Err(RfmError::parameter(
                "tol",
                format!("must be > 0, got {}", self.gradient_tolerance),
            ));
        }
        match &self.initial_log_params {
            None => Ok([0.1; N]),
            Some(values) => {
                if values.len() != N || values.iter().any(|v| !v.is_finite()) {
                    return Err(RfmError::parameter(
                        "initial_params",
                        format!("must be {N} finite log-parameters, got {values:?}"),
                    ));
                }
                Ok(std::array::from_fn(|i| values[i]))
            }
        }
    }
}

/// The result of a maximum-likelihood fit with `N` parameters.
#[derive(Debug, Clone)]
pub struct FitReport<const N: usize> {
    /// The parameters in the data's time unit (BG/NBD: r, alpha, a, b; Gamma-Gamma: p, q, v).
    pub params: [f64; N],
    /// Total log-likelihood of the data (sum over customers, weights applied, no penalty),
    /// in the data's time unit.
    pub log_likelihood: f64,
    /// The minimised objective, as lifetimes' `_negative_log_likelihood_`: mean negative
    /// log-likelihood plus the penalty (BG/NBD: in the scaled time unit).
    pub objective: f64,
    /// Hessian of the objective in log-parameters at the optimum (lifetimes' `_hessian_`).
    pub hessian: [[f64; N]; N],
    /// Covariance of the parameters by the delta method, `p_i p_j (H⁻¹)_ij / n`; `None`
    /// when the Hessian is singular.
    pub covariance: Option<[[f64; N]; N]>,
    /// BFGS iterations.
    pub iterations: usize,
    /// Largest absolute gradient component at the optimum.
    pub gradient_norm: f64,
    /// Distinct input patterns the likelihood was evaluated on.
    pub n_patterns: usize,
    /// Sum of the weights (customers) fitted.
    pub total_weight: f64,
}

fn covariance<const N: usize>(
    params: &[f64; N],
    hessian: &[[f64; N]; N],
    total_weight: f64,
) -> Option<[[f64; N]; N]> {
    let inverse = optimize::invert(hessian)?;
    Some(std::array::from_fn(|i| {
        std::array::from_fn(|j| params[i] * params[j] * inverse[i][j] / total_weight)
    }))
}

fn format_params<const N: usize>(names: [&str; N], params: &[f64; N]) -> String {
    let parts: Vec<String> = names
        .iter()
        .zip(params)
        .map(|(n, v)| format!("{n}={v:.6e}"))
        .collect();
    parts.join(", ")
}

/// Checks equal lengths of the input columns.
fn check_lengths(columns: &[(&'static str, usize)]) -> Result<usize> {
    let expected = columns.first().map_or(0, |c| c.1);
    for &(what, got) in columns {
        if got != expected {
            return Err(RfmError::Length { what, got, expected });
        }
    }
    Ok(expected)
}

fn invalid(argument: &'static str, row: usize, value: f64, message: impl Into<String>) -> RfmError {
    RfmError::InvalidValue {
        argument,
        row,
        value,
        message: message.into(),
    }
}

/// Checks that every parameter of `model` (`"BG/NBD"`, ...) is finite and > 0.
///
/// # Errors
/// [`RfmError::Parameter`] naming the first bad parameter.
fn check_params(model: &str, params: &[(&'static str, f64)]) -> Result<()> {
    for &(name, value) in params {
        if !(value.is_finite() && value > 0.0) {
            return Err(RfmError::parameter(
                name,
                format!("{model} parameters must be finite and > 0, got {value}"),
            ));
        }
    }
    Ok(())
}

/// Checks a customer's `frequency` (repeat purchase periods): a whole number >= 0.
fn check_frequency(row: usize, frequency: f64) -> Result<()> {
    if !frequency.is_finite() || frequency < 0.0 || frequency != frequency.floor() {
        return Err(invalid(
            "frequency",
            row,
            frequency,
            "frequency (repeat purchase periods) must be a whole number >= 0; compute the inputs with rfmkit.clv.summary",
        ));
    }
    Ok(())
}

/// Checks that `value`, of `argument` at `row`, is a finite number >= 0; else
/// [`RfmError::InvalidValue`] with `message`.
fn check_non_negative(argument: &'static str, row: usize, value: f64, message: &str) -> Result<()> {
    if !value.is_finite() || value < 0.0 {
        return Err(invalid(argument, row, value, message));
    }
    Ok(())
}

/// The lengths of the BTYD inputs `frequency`, `recency` and `T`, checked equal.
fn check_btyd_lengths(frequency: &[f64], recency: &[f64], age: &[f64]) -> Result<usize> {
    check_lengths(&[
        ("frequency", frequency.len()),
        ("recency", recency.len()),
        ("T", age.len()),
    ])
}

/// Checks every customer's BTYD inputs (see [`check_customer`]); the columns have one
/// length.
fn check_customers(frequency: &[f64], recency: &[f64], age: &[f64]) -> Result<()> {
    for row in 0..frequency.len() {
        check_customer(row, frequency[row], recency[row], age[row])?;
    }
    Ok(())
}

/// Checks one customer's BTYD inputs: `frequency` a whole number >= 0, `0 <= recency <= T`,
/// `recency == 0` when `frequency == 0`, all finite.
fn check_customer(row: usize, frequency: f64, recency: f64, age: f64) -> Result<()> {
    check_frequency(row, frequency)?;
    check_non_negative(
        "T",
        row,
        age,
        "T (periods from the first purchase to the end of the observation) must be a finite number >= 0",
    )?;
    check_non_negative(
        "recency",
        row,
        recency,
        "recency (periods from the first to the last purchase) must be a finite number >= 0",
    )?;
    if recency > age {
        return Err(invalid(
            "recency",
            row,
            recency,
            format!("recency is greater than T ({age}); recency is the customer's age at the last purchase, not the RFM recency (days since the last purchase): use rfmkit.clv.summary"),
        ));
    }
    if frequency == 0.0 && recency != 0.0 {
        return Err(invalid(
            "recency",
            row,
            recency,
            "recency must be 0 when frequency is 0 (no repeat purchase)",
        ));
    }
    Ok(())
}

fn check_weights(weights: Option<&[f64]>, n: usize) -> Result<()> {
    if let Some(weights) = weights {
        check_lengths(&[("frequency", n), ("weights", weights.len())])?;
        for (row, &w) in weights.iter().enumerate() {
            check_non_negative(
                "weights",
                row,
                w,
                "weights (customers per pattern) must be finite and >= 0",
            )?;
        }
    }
    Ok(())
}

/// Checks the prediction horizons `t` of `n` customers: finite and >= 0.
pub(crate) fn check_times(t: &[f64], n: usize) -> Result<()> {
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

/// `one(t, frequency, recency, T)` of every customer (`t` 0 without times), the customers'
/// rows and the times checked first: the shape of the BTYD models' predictions.
fn each_customer(
    t: Option<&[f64]>,
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
    one: impl Fn(f64, f64, f64, f64) -> f64 + Sync + Send,
) -> Result<Vec<f64>> {
    let n = check_btyd_lengths(frequency, recency, age)?;
    check_customers(frequency, recency, age)?;
    if let Some(t) = t {
        check_times(t, n)?;
    }
    Ok(map_rows(n, |i| {
        one(t.map_or(0.0, |t| t[i]), frequency[i], recency[i], age[i])
    }))
}

/// Identical rows merged with their weights summed: the likelihood of a pattern is the
/// same for every customer that has it. `key` gives the (bit-exact) identity of a row.
struct Patterns<const K: usize> {
    values: Vec<[f64; K]>,
    weights: Vec<f64>,
}

fn compress<const K: usize>(rows: impl Iterator<Item = ([f64; K], f64)> + Clone) -> Patterns<K> {
    // Sized for the rows up front: growing the table rehashes every pattern several times.
    let capacity = rows.size_hint().0;
    if !worth_compressing(rows.clone()) {
        // Continuous values (a spend, continuous-time ages) are nearly all distinct: hashing
        // them would cost more than the likelihood passes it saves.
        let (values, weights) = rows.filter(|(_, weight)| *weight != 0.0).unzip();
        return Patterns { values, weights };
    }
    let mut index: HashMap<[u64; K], usize> = HashMap::with_capacity(capacity);
    let mut values = Vec::with_capacity(capacity);
    let mut weights: Vec<f64> = Vec::with_capacity(capacity);
    for (row, weight) in rows {
        if weight == 0.0 {
            continue;
        }
        // +0.0 and -0.0 are one pattern.
        let key = row.map(|v| (v + 0.0).to_bits());
        match index.get(&key) {
            Some(&i) => weights[i] += weight,
            None => {
                index.insert(key, values.len());
                values.push(row);
                weights.push(weight);
            }
        }
    }
    Patterns { values, weights }
}

/// The checked inputs of a BTYD fit (BG/NBD, MBG/NBD, Pareto/NBD) with times scaled so that
/// the largest T is 1 (lifetimes' `_scale_time`), compressed into weighted patterns of
/// `(frequency, recency, T)`.
struct ScaledBtyd {
    /// Input rows.
    rows: usize,
    /// The optimiser's start (log-parameters).
    start: [f64; 4],
    /// 1 / the largest T.
    scale: f64,
    patterns: Patterns<3>,
    /// Sum of the patterns' weights (> 0).
    total_weight: f64,
}

/// The inputs of a BTYD fit, checked ([`RfmError::InvalidValue`], [`RfmError::Length`],
/// [`RfmError::Parameter`] for bad options, no customer with T > 0 or weights summing to 0),
/// scaled and compressed.
fn scaled_btyd(
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
    weights: Option<&[f64]>,
    options: &FitOptions,
) -> Result<ScaledBtyd> {
    let n = check_btyd_lengths(frequency, recency, age)?;
    check_weights(weights, n)?;
    let start = options.check::<4>()?;
    check_customers(frequency, recency, age)?;
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
    Ok(ScaledBtyd {
        rows: n,
        start,
        scale,
        patterns,
        total_weight,
    })
}

/// Whether merging identical rows pays: true when a leading sample of the rows holds at
/// least 10 % repeats (the merge is exact either way; this only picks the faster path).
fn worth_compressing<const K: usize>(rows: impl Iterator<Item = ([f64; K], f64)>) -> bool {
    const SAMPLE: usize = 4096;
    let mut seen: hashbrown::HashSet<[u64; K]> = hashbrown::HashSet::with_capacity(SAMPLE);
    let mut sampled = 0usize;
    for (row, _) in rows.take(SAMPLE) {
        seen.insert(row.map(|v| (v + 0.0).to_bits()));
        sampled += 1;
    }
    sampled < 64 || seen.len() * 10 <= sampled * 9
}

/// Distinct values of the `frequency` column of the patterns and, for each pattern, the
/// position of its frequency among them: the gamma-function terms depend on the
/// frequency only, so they are computed once per distinct frequency.
fn distinct_frequencies(frequencies: impl Iterator<Item = f64>) -> (Vec<f64>, Vec<usize>) {
    let mut index: HashMap<u64, usize> = HashMap::new();
    let mut distinct = Vec::new();
    let positions = frequencies
        .map(|x| {
            *index.entry(x.to_bits()).or_insert_with(|| {
                distinct.push(x);
                distinct.len() - 1
            })
        })
        .collect();
    (distinct, positions)
}

/// A model's weighted log-likelihood in its positive parameters, fitted in
/// log-parameters: its [`optimize::Objective`] is [`log_space_objective`] of its totals
/// (NaN where a parameter is not a finite number > 0).
trait Totals<const N: usize> {
    /// Sum of `weight * log-likelihood`, of its gradient and of its Hessian at `p`.
    fn totals(&self, p: &[f64; N]) -> (f64, [f64; N], [[f64; N]; N]);
    /// The total weight of the rows and the penalizer coefficient.
    fn scale(&self) -> (f64, f64);
}

impl<const N: usize, L: Totals<N>> optimize::Objective<N> for L {
    fn value_and_gradient(&self, log_params: &[f64; N]) -> (f64, [f64; N]) {
        let (f, g, _) = self.value_gradient_hessian(log_params);
        (f, g)
    }

    fn value_gradient_hessian(&self, log_params: &[f64; N]) -> (f64, [f64; N], [[f64; N]; N]) {
        let p = log_params.map(f64::exp);
        if p.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
            return (f64::NAN, [f64::NAN; N], [[f64::NAN; N]; N]);
        }
        let (total_weight, penalizer) = self.scale();
        log_space_objective(&p, self.totals(&p), total_weight, penalizer)
    }
}

/// The objective of lifetimes in log-parameters θ = ln p from the data's totals in p:
/// `f = −ll/W + λ Σ p²`, with its gradient and Hessian by the chain rule
/// (`∂f/∂θ_i = p_i ∂f/∂p_i`, `∂²f/∂θ_i∂θ_j = p_i p_j ∂²f/∂p_i∂p_j + δ_ij p_i ∂f/∂p_i`).
fn log_space_objective<const N: usize>(
    p: &[f64; N],
    totals: (f64, [f64; N], [[f64; N]; N]),
    total_weight: f64,
    penalizer: f64,
) -> (f64, [f64; N], [[f64; N]; N]) {
    let (ll, grad, hess) = totals;
    let penalty: f64 = p.iter().map(|v| v * v).sum();
    let value = -ll / total_weight + penalizer * penalty;
    let g_p: [f64; N] = std::array::from_fn(|j| -grad[j] / total_weight + 2.0 * penalizer * p[j]);
    let gradient = std::array::from_fn(|j| p[j] * g_p[j]);
    let hessian = std::array::from_fn(|i| {
        std::array::from_fn(|j| {
            let h_p = -hess[i][j] / total_weight + if i == j { 2.0 * penalizer } else { 0.0 };
            p[i] * p[j] * h_p + if i == j { p[i] * g_p[i] } else { 0.0 }
        })
    });
    (value, gradient, hessian)
}

/// Fills the lower triangle of a Hessian accumulated in its upper triangle.
fn symmetrize<const N: usize>(h: &mut [[f64; N]; N]) {
    for i in 0..N {
        for j in 0..i {
            h[i][j] = h[j][i];
        }
    }
}

/// Sums the per-chunk partial totals of `chunk_sum` over `0..n` in chunk order (in
/// parallel when there are several chunks): the same result on every run.
fn chunked_sum<T: Send + Copy + Default, const K: usize>(
    n: usize,
    chunk_sum: impl Fn(usize, usize) -> [T; K] + Sync + Send,
    add: impl Fn(&mut T, T),
) -> [T; K] {
    use rayon::prelude::*;
    let starts: Vec<usize> = (0..n).step_by(CHUNK).collect();
    let one = |&s: &usize| chunk_sum(s, (s + CHUNK).min(n));
    let parts: Vec<[T; K]> = if starts.len() > 1 {
        starts.par_iter().map(one).collect()
    } else {
        starts.iter().map(one).collect()
    };
    let mut total = [T::default(); K];
    for part in parts {
        for (t, v) in total.iter_mut().zip(part) {
            add(t, v);
        }
    }
    total
}

/// Fits with more patterns than this first fit every `n / WARM_PATTERNS`-th pattern
/// (from the default start) and start the full fit from that optimum: the full fit then
/// needs 2–4 Newton passes over the data instead of ~8. The full fit's own stopping rule
/// decides the optimum; if it fails from the warm start it is rerun from the default one.
const WARM_MIN_PATTERNS: usize = 16_384;
const WARM_PATTERNS: usize = 4_096;

/// Indices of the subsample of a warm start (`None` below [`WARM_MIN_PATTERNS`]).
fn warm_subsample(n: usize) -> Option<Vec<usize>> {
    (n > WARM_MIN_PATTERNS).then(|| (0..n).step_by(n / WARM_PATTERNS).collect())
}

/// Minimises `full` from the optimum of `subsample` (when given and found), falling back
/// to `start`.
fn warm_minimize<const N: usize, F: optimize::Objective<N>>(
    full: &F,
    subsample: Option<&F>,
    start: [f64; N],
    options: &FitOptions,
) -> optimize::Minimum<N> {
    if let Some(sub) = subsample {
        let warm = optimize::minimize(sub, start, 1e-8, options.max_iterations);
        if warm.converged && warm.x != start {
            let found = optimize::minimize(full, warm.x, options.gradient_tolerance, options.max_iterations);
            if found.converged {
                return found;
            }
        }
    }
    optimize::minimize(full, start, options.gradient_tolerance, options.max_iterations)
}

/// Fits `likelihood` (a model whose parameters need no time scaling) from `options`: the
/// minimum over log-parameters, and its report with the log-likelihood at the optimum.
fn fit_unscaled<const N: usize, L: Totals<N>>(
    model: &Model<N>,
    likelihood: &L,
    n_patterns: usize,
    evidence: &Evidence,
    options: &FitOptions,
) -> Result<FitReport<N>> {
    let start = options.check::<N>()?;
    let found = optimize::minimize(
        likelihood,
        start,
        options.gradient_tolerance,
        options.max_iterations,
    );
    let params = found.x.map(f64::exp);
    let log_likelihood = likelihood.totals(&params).0;
    let total_weight = likelihood.scale().0;
    fit_report(
        model,
        Optimum {
            found,
            params,
            scaled: params,
        },
        likelihood,
        log_likelihood,
        n_patterns,
        total_weight,
        evidence,
    )
}

/// Where a fit's optimiser stopped, with the parameters in the data's units and in the
/// fit's own (times scaled so that the longest T is 1, spends to their mean).
struct Optimum<const N: usize> {
    found: optimize::Minimum<N>,
    params: [f64; N],
    scaled: [f64; N],
}

/// The optimum of a fit as its report: [`RfmError::Convergence`] when the optimiser did not
/// converge, or when it stopped at a limit rather than an estimate ([`limit::check`]: a
/// parameter ran off towards 0 or infinity, or the likelihood is flat), with `evidence`
/// in the message; the Hessian is the optimiser's or, when it kept none, the objective's
/// at the optimum.
fn fit_report<const N: usize>(
    model: &Model<N>,
    optimum: Optimum<N>,
    objective: &impl optimize::Objective<N>,
    log_likelihood: f64,
    n_patterns: usize,
    total_weight: f64,
    evidence: &Evidence,
) -> Result<FitReport<N>> {
    let Optimum {
        found,
        params,
        scaled,
    } = optimum;
    let gradient_norm = optimize::norm_inf(&found.gradient);
    let hessian = match found.hessian {
        Some(hessian) => hessian,
        None => objective.value_gradient_hessian(&found.x).2,
    };
    let stop = limit::Stop {
        objective,
        x: &found.x,
        value: found.value,
        converged: found.converged,
    };
    let judged = limit::check(model, &params, &scaled, &stop, &hessian);
    if let Some((outcome, meaning)) = judged {
        return Err(limit::limit_error(model.name, outcome, &meaning, evidence));
    }
    if !found.converged {
        let advice = if found.reason == optimize::ITERATION_LIMIT {
            format!(
                "Raise max_iterations (the fit stopped after {}).",
                found.iterations
            )
        } else if evidence.why.is_some() {
            format!("{}.", evidence.advice)
        } else {
            "Check that the inputs are plausible and in one time unit (rfmkit.clv.summary makes them), or start \
             from other initial_params."
                .to_string()
        };
        let why = evidence.why.as_deref().map_or(String::new(), |w| format!("{w} "));
        return Err(RfmError::Convergence {
            model: model.name,
            outcome: format!(
                "did not converge after {} iterations ({}); last parameters {}, gradient norm {gradient_norm:.3e}",
                found.iterations,
                found.reason,
                format_params(model.names, &params)
            ),
            reason: format!("{why}{}", evidence.counts),
            advice,
        });
    }
    Ok(FitReport {
        params,
        log_likelihood,
        objective: found.value,
        hessian,
        covariance: covariance(&params, &hessian, total_weight),
        iterations: found.iterations,
        gradient_norm,
        n_patterns,
        total_weight,
    })
}

/// `f(i)` for every row `0..n`, in parallel when there are many.
fn map_rows(n: usize, f: impl Fn(usize) -> f64 + Sync + Send) -> Vec<f64> {
    use rayon::prelude::*;
    if n >= 2 * CHUNK {
        (0..n).into_par_iter().with_min_len(CHUNK / 4).map(f).collect()
    } else {
        (0..n).map(f).collect()
    }
}

/// `values` at the rows of a warm start's subsample.
fn pick(rows: &[usize], values: &[f64]) -> Vec<f64> {
    rows.iter().map(|&i| values[i]).collect()
}

/// Rows per parallel chunk of a likelihood evaluation (fixed, so sums are reproducible).
const CHUNK: usize = 4096;

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(values: &[[f64; 2]]) -> impl Iterator<Item = ([f64; 2], f64)> + Clone + '_ {
        values.iter().map(|&row| (row, 1.0))
    }

    #[test]
    fn distinct_rows_are_kept_as_they_are_and_repeats_are_merged() {
        // Nearly all distinct: no merge, every row with weight 1.
        let distinct: Vec<[f64; 2]> = (0..5000)
            .map(|i| [1.0 + (i % 7) as f64, 10.0 + i as f64 * 0.37])
            .collect();
        let patterns = compress(rows(&distinct));
        assert_eq!(patterns.values, distinct);
        assert!(patterns.weights.iter().all(|&w| w == 1.0));
        // Many repeats (and -0.0 equal to 0.0): merged, weights summed, first-seen order.
        let repeated: Vec<[f64; 2]> = (0..5000)
            .map(|i| [(i % 3) as f64, if i % 3 == 0 { -0.0 } else { 0.0 }])
            .collect();
        let patterns = compress(rows(&repeated));
        assert_eq!(patterns.values, vec![[0.0, -0.0], [1.0, 0.0], [2.0, 0.0]]);
        assert_eq!(patterns.weights, vec![1667.0, 1667.0, 1666.0]);
        // Zero weights are left out on both paths.
        let weighted = [([1.0, 2.0], 0.0), ([3.0, 4.0], 2.0)];
        assert_eq!(compress(weighted.iter().copied()).weights, vec![2.0]);
    }
}
