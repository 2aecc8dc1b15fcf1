//! The beta-geometric/beta-binomial model of discrete-time repeat purchases (Fader, Hardie
//! & Shang 2010, "Customer-base analysis in a discrete-time noncontractual setting"): at each
//! of `n` transaction opportunities an active customer buys with probability `p ~ Beta(α, β)`
//! and then drops out with probability `θ ~ Beta(γ, δ)`. Fitted by maximum likelihood on the
//! customers' `(x, t_x, n)`: purchases, the opportunity of the last one, opportunities.
//!
//! With `B` the beta function, a customer's likelihood is
//! `B(α+x, β+n−x)/B(α,β) · B(γ, δ+n)/B(γ,δ) + Σ_{i=0}^{n−t_x−1} B(α+x, β+t_x−x+i)/B(α,β) · B(γ+1, δ+t_x+i)/B(γ,δ)`:
//! alive through the `n` opportunities, or gone after opportunity `t_x + i`.

use super::limit::{count, with_penalty_advice, Evidence, Model, Shape, FEW};
use super::special::{digamma, ln_beta, trigamma};
use super::{check_lengths, check_params, check_weights, compress, fit_unscaled, invalid, map_rows};
use super::{symmetrize, FitOptions, FitReport, Totals};
use crate::error::{Result, RfmError};

/// BG/BB parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgBbParams {
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
    pub delta: f64,
}

impl BgBbParams {
    /// Checks that every parameter is finite and > 0.
    ///
    /// # Errors
    /// [`RfmError::Parameter`] naming the first bad parameter.
    pub fn check(&self) -> Result<()> {
        check_params(
            "BG/BB",
            &[
                ("alpha", self.alpha),
                ("beta", self.beta),
                ("gamma", self.gamma),
                ("delta", self.delta),
            ],
        )
    }
}

/// One pattern's terms `ln B(α+x, β+b) + ln B(γ+c, δ+d)` as `(b, c, d)`: the first is being
/// alive through the n opportunities, the others dropping out after opportunity t_x + i.
fn terms(x: f64, recency: f64, n: f64) -> impl Iterator<Item = (f64, f64, f64)> {
    let gone = (n - recency).max(0.0) as usize;
    std::iter::once((n - x, 0.0, n))
        .chain((0..gone).map(move |i| (recency - x + i as f64, 1.0, recency + i as f64)))
}

/// `ln B(u + a, v + b)` with its gradient and Hessian in `(u, v)`.
fn ln_beta_derivatives(u: f64, v: f64) -> (f64, [f64; 2], [f64; 3]) {
    let (dg_uv, tg_uv) = (digamma(u + v), trigamma(u + v));
    (
        ln_beta(u, v),
        [digamma(u) - dg_uv, digamma(v) - dg_uv],
        [trigamma(u) - tg_uv, -tg_uv, trigamma(v) - tg_uv],
    )
}

struct Likelihood {
    /// (x, t_x, n, weight) per distinct pattern.
    patterns: Vec<[f64; 4]>,
    total_weight: f64,
    penalizer: f64,
}

impl Totals<4> for Likelihood {
    fn scale(&self) -> (f64, f64) {
        (self.total_weight, self.penalizer)
    }

    /// In (α, β, γ, δ): per pattern `−ln B(α,β) − ln B(γ,δ) + ln Σ_k e^{v_k}`, the log-sum by
    /// its softmax weights (gradient `Σ w_k ∇v_k`, Hessian `Σ w_k (∇²v_k + ∇v_k ∇v_kᵀ) − g gᵀ`).
    fn totals(&self, params: &[f64; 4]) -> (f64, [f64; 4], [[f64; 4]; 4]) {
        let [alpha, beta, gamma, delta] = *params;
        let (mut ll, mut g, mut h) = (0.0, [0.0; 4], [[0.0; 4]; 4]);
        let (lb_ab, g_ab, h_ab) = ln_beta_derivatives(alpha, beta);
        let (lb_gd, g_gd, h_gd) = ln_beta_derivatives(gamma, delta);
        for &[x, recency, n, w] in &self.patterns {
            // the terms and their derivatives (4-vectors; the Hessian is block-diagonal)
            let parts: Vec<(f64, [f64; 4], [f64; 6])> = terms(x, recency, n)
                .map(|(b, c, d)| {
                    let (v1, g1, h1) = ln_beta_derivatives(alpha + x, beta + b);
                    let (v2, g2, h2) = ln_beta_derivatives(gamma + c, delta + d);
                    (
                        v1 + v2,
                        [g1[0], g1[1], g2[0], g2[1]],
                        [h1[0], h1[1], h1[2], h2[0], h2[1], h2[2]],
                    )
                })
                .collect();
            let top = parts.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
            let weights: Vec<f64> = parts.iter().map(|p| (p.0 - top).exp()).collect();
            let sum: f64 = weights.iter().sum();
            ll += w * (top + sum.ln() - lb_ab - lb_gd);
            let mut grad = [0.0; 4];
            let mut hess = [[0.0; 4]; 4];
            for (part, weight) in parts.iter().zip(&weights) {
                let share = weight / sum;
                let (gk, hk) = (part.1, part.2);
                for i in 0..4 {
                    grad[i] += share * gk[i];
                    for j in 0..4 {
                        hess[i][j] += share * gk[i] * gk[j];
                    }
                }
                hess[0][0] += share * hk[0];
                hess[0][1] += share * hk[1];
                hess[1][1] += share * hk[2];
                hess[2][2] += share * hk[3];
                hess[2][3] += share * hk[4];
                hess[3][3] += share * hk[5];
            }
            hess[1][0] = hess[0][1];
            hess[3][2] = hess[2][3];
            for i in 0..4 {
                for j in 0..4 {
                    hess[i][j] -= grad[i] * grad[j];
                }
            }
            let constant_g = [g_ab[0], g_ab[1], g_gd[0], g_gd[1]];
            for i in 0..4 {
                g[i] += w * (grad[i] - constant_g[i]);
                for j in i..4 {
                    h[i][j] += w * hess[i][j];
                }
            }
            h[0][0] -= w * h_ab[0];
            h[0][1] -= w * h_ab[1];
            h[1][1] -= w * h_ab[2];
            h[2][2] -= w * h_gd[0];
            h[2][3] -= w * h_gd[1];
            h[3][3] -= w * h_gd[2];
        }
        symmetrize(&mut h);
        (ll, g, h)
    }
}

/// Checks each customer's `(x, t_x, n)`: whole numbers, `0 <= x <= t_x <= n`, `t_x = 0`
/// when `x = 0`, `x >= 1` when `t_x > 0`.
fn check_customers(frequency: &[f64], recency: &[f64], periods: &[f64]) -> Result<usize> {
    let n = check_lengths(&[
        ("frequency", frequency.len()),
        ("recency", recency.len()),
        ("n_periods", periods.len()),
    ])?;
    let whole = |v: f64| v.is_finite() && v >= 0.0 && v == v.floor();
    for row in 0..n {
        let (x, tx, np) = (frequency[row], recency[row], periods[row]);
        if !whole(x) {
            return Err(invalid(
                "frequency",
                row,
                x,
                "frequency (purchases) must be a whole number >= 0",
            ));
        }
        if !whole(np) || np > 1e6 {
            return Err(invalid(
                "n_periods",
                row,
                np,
                "n_periods (opportunities) must be a whole number >= 0, at most 1e6",
            ));
        }
        if !whole(tx) || tx > np {
            return Err(invalid(
                "recency",
                row,
                tx,
                "recency (the opportunity of the last purchase) must be a whole number between 0 and n_periods",
            ));
        }
        if x > tx || (x == 0.0) != (tx == 0.0) {
            return Err(invalid(
                "recency",
                row,
                tx,
                "recency must be at least frequency, and 0 exactly when frequency is 0 (the last purchase's opportunity)",
            ));
        }
    }
    Ok(n)
}

fn patterns(frequency: &[f64], recency: &[f64], periods: &[f64], weights: Option<&[f64]>) -> Likelihood {
    let compressed = compress((0..frequency.len()).map(|i| {
        (
            [frequency[i], recency[i], periods[i]],
            weights.map_or(1.0, |w| w[i]),
        )
    }));
    let patterns: Vec<[f64; 4]> = compressed
        .values
        .iter()
        .zip(&compressed.weights)
        .filter(|(_, &w)| w > 0.0)
        .map(|(v, &w)| [v[0], v[1], v[2], w])
        .collect();
    Likelihood {
        total_weight: patterns.iter().map(|p| p[3]).sum(),
        patterns,
        penalizer: 0.0,
    }
}

const BG_BB: Model<4> = Model {
    name: "BG/BB",
    scaled_as: "",
    scales: &[],
    names: ["alpha", "beta", "gamma", "delta"],
    shapes: &[
        Shape::Beta {
            first: 0,
            second: 1,
            what: "purchase probabilities",
        },
        Shape::Beta {
            first: 2,
            second: 3,
            what: "drop-out probabilities",
        },
    ],
};

/// What the patterns hold, for the message of a fit that is a limit.
fn evidence(likelihood: &Likelihood) -> Evidence {
    let customers = likelihood.total_weight;
    let buyers: f64 = likelihood
        .patterns
        .iter()
        .filter(|p| p[0] > 0.0)
        .map(|p| p[3])
        .sum();
    let every: f64 = likelihood
        .patterns
        .iter()
        .filter(|p| p[0] == p[2])
        .map(|p| p[3])
        .sum();
    let (all, some) = (count(customers), count(buyers));
    let why = if buyers == 0.0 {
        Some(format!(
            "None of the {all} customers made a purchase in their opportunities: nothing tells the purchase \
             probability from the drop-out."
        ))
    } else if every == customers {
        Some(format!(
            "All {all} customers bought at every opportunity: nothing tells how likely they are to buy or to drop \
             out."
        ))
    } else if buyers < FEW {
        Some(format!(
            "Only {some} of {all} customers made a purchase: the data cannot tell the purchase probability from the \
             drop-out."
        ))
    } else {
        None
    };
    let advice = if why.is_some() {
        "Fit on more customers (hundreds, with dozens who bought)"
    } else {
        "The data do not support this model's shape: use a simpler model (rfmkit.clv.simple: one retention \
         rate for everyone)"
    };
    Evidence {
        why,
        counts: format!(
            "Data: {all} customers, {some} with a purchase (frequency > 0), {} distinct (frequency, recency, \
             n_periods) patterns.",
            likelihood.patterns.len()
        ),
        advice: advice.to_string(),
    }
}

/// Fits BG/BB by maximum likelihood, as `lifetimes.BetaGeoBetaBinomFitter.fit`: the mean
/// negative log-likelihood over the (weighted) customers plus `penalizer_coef · Σ params²`,
/// minimised over log-parameters from 0.1.
///
/// # Errors
/// [`RfmError::InvalidValue`] for an invalid row, [`RfmError::Parameter`] when the weights
/// sum to 0, [`RfmError::Convergence`] when the optimiser stops before an optimum or what it
/// found is a limit, not an estimate (see [`super::bgnbd::fit`]).
pub fn fit(
    frequency: &[f64],
    recency: &[f64],
    periods: &[f64],
    weights: Option<&[f64]>,
    options: &FitOptions,
) -> Result<FitReport<4>> {
    let n = check_customers(frequency, recency, periods)?;
    check_weights(weights, n)?;
    let mut likelihood = patterns(frequency, recency, periods, weights);
    if !(likelihood.total_weight > 0.0) {
        return Err(RfmError::parameter(
            "weights",
            "there is no customer (or the weights sum to 0): nothing to fit",
        ));
    }
    let evidence = evidence(&likelihood);
    with_penalty_advice(
        options,
        BG_BB.names,
        |report: &FitReport<4>| report.params,
        |options| {
            likelihood.penalizer = options.penalizer_coef;
            fit_unscaled(&BG_BB, &likelihood, likelihood.patterns.len(), &evidence, options)
        },
    )
}

/// Each customer's log-likelihood under `params`.
///
/// # Errors
/// [`BgBbParams::check`] and the row checks of [`fit`].
pub fn log_likelihoods(
    params: &BgBbParams,
    frequency: &[f64],
    recency: &[f64],
    periods: &[f64],
) -> Result<Vec<f64>> {
    params.check()?;
    let n = check_customers(frequency, recency, periods)?;
    let BgBbParams {
        alpha,
        beta,
        gamma,
        delta,
    } = *params;
    let constant = ln_beta(alpha, beta) + ln_beta(gamma, delta);
    Ok(map_rows(n, |i| {
        let values: Vec<f64> = terms(frequency[i], recency[i], periods[i])
            .map(|(b, c, d)| ln_beta(alpha + frequency[i], beta + b) + ln_beta(gamma + c, delta + d))
            .collect();
        let top = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        top + values.iter().map(|v| (v - top).exp()).sum::<f64>().ln() - constant
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clv::optimize;
    use crate::testing::{assert_convergence_error, Draws, XorShift};

    #[test]
    fn an_ordinary_sample_gives_an_estimate_and_degenerate_ones_an_error_that_says_why() {
        // 3,000 customers over 6 opportunities, p ~ Beta(1, 1), θ ~ Beta(1, 3).
        let mut draws = Draws(XorShift(0x5eed_0004));
        let (mut frequency, mut recency) = (Vec::new(), Vec::new());
        for _ in 0..3000 {
            let buy = draws.uniform();
            let drop_out = 1.0 - draws.uniform().powf(1.0 / 3.0);
            let (mut x, mut last) = (0.0, 0.0);
            // Alive at opportunity t with probability (1 − θ)^t: a customer may leave before it.
            for t in 1..=6 {
                if draws.uniform() < drop_out {
                    break;
                }
                if draws.uniform() < buy {
                    x += 1.0;
                    last = t as f64;
                }
            }
            frequency.push(x);
            recency.push(last);
        }
        let options = FitOptions::default();
        let report = fit(&frequency, &recency, &[6.0; 3000], None, &options).unwrap();
        let [alpha, beta, gamma, delta] = report.params;
        assert!(
            (alpha / (alpha + beta) / 0.5 - 1.0).abs() < 0.15,
            "{:?}",
            report.params
        );
        assert!(
            (gamma / (gamma + delta) / 0.25 - 1.0).abs() < 0.3,
            "{:?}",
            report.params
        );
        let error = fit(&[6.0; 3], &[6.0; 3], &[6.0; 3], None, &options).unwrap_err();
        assert_convergence_error(
            &error,
            &[
                "the BG/BB fit is a limit, not an estimate: ",
                "All 3 customers bought at every opportunity",
                "Data: 3 customers, 3 with a purchase (frequency > 0), 1 distinct (frequency, recency, n_periods) \
                 patterns.",
            ],
        );
        let error = fit(&[0.0, 1.0, 3.0], &[0.0, 2.0, 5.0], &[6.0; 3], None, &options).unwrap_err();
        assert_convergence_error(
            &error,
            &["Only 2 of 3 customers made a purchase", "Fit on more customers"],
        );
    }

    #[test]
    fn the_gradient_and_hessian_are_the_objectives() {
        let likelihood = Likelihood {
            patterns: vec![
                [0.0, 0.0, 6.0, 30.0],
                [1.0, 1.0, 6.0, 10.0],
                [3.0, 5.0, 6.0, 4.0],
                [6.0, 6.0, 6.0, 2.0],
            ],
            total_weight: 46.0,
            penalizer: 0.01,
        };
        for x in [
            [0.1, 0.1, 0.1, 0.1],
            [0.2, -0.3, -0.4, 1.0],
            [-1.0, 0.5, 0.3, -0.2],
        ] {
            optimize::assert_gradient(&likelihood, &x);
            optimize::assert_hessian(&likelihood, &x);
        }
    }

    #[test]
    fn one_customers_likelihood_by_hand() {
        // x = 1, t_x = 1, n = 2: alive through both, or gone after opportunity 1.
        let p = BgBbParams {
            alpha: 1.2,
            beta: 0.8,
            gamma: 0.7,
            delta: 2.5,
        };
        let (a, b, g, d) = (p.alpha, p.beta, p.gamma, p.delta);
        let want = (ln_beta(a + 1.0, b + 1.0) - ln_beta(a, b) + ln_beta(g, d + 2.0) - ln_beta(g, d)).exp()
            + (ln_beta(a + 1.0, b) - ln_beta(a, b) + ln_beta(g + 1.0, d + 1.0) - ln_beta(g, d)).exp();
        let got = log_likelihoods(&p, &[1.0], &[1.0], &[2.0]).unwrap()[0];
        assert!((got - want.ln()).abs() < 1e-12);
    }

    #[test]
    fn bad_rows_are_errors() {
        for (x, tx, n, field) in [
            (1.5, 2.0, 6.0, "frequency"),
            (2.0, 1.0, 6.0, "recency"),
            (0.0, 2.0, 6.0, "recency"),
            (1.0, 7.0, 6.0, "recency"),
        ] {
            let error = fit(&[x], &[tx], &[n], None, &FitOptions::default()).unwrap_err();
            assert!(error.to_string().contains(field), "{error}");
        }
    }
}
