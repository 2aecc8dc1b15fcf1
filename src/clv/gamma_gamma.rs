//! The Gamma-Gamma spend model (Fader & Hardie 2013): likelihood with its analytic
//! gradient, the fit and the conditional expected average spend of
//! `lifetimes.GammaGammaFitter`.

use super::limit::{count, with_penalty_advice, Evidence, Model, Shape, FEW};
use super::special::{digamma, ln_gamma, trigamma};
use super::{
    check_frequency, check_lengths, check_params, check_weights, chunked_sum, compress, distinct_frequencies,
    fit_report, invalid, map_rows, pick, symmetrize, warm_minimize, warm_subsample, FitOptions, FitReport,
    Optimum, Totals,
};
use crate::error::{Result, RfmError};

/// Gamma-Gamma parameters (`v` in the currency of the spend).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GammaGammaParams {
    /// Shape of the gamma distribution of each transaction's spend.
    pub p: f64,
    /// Shape of the gamma distribution of the customers' spend scales.
    pub q: f64,
    /// Scale of the gamma distribution of the customers' spend scales.
    pub v: f64,
}

impl GammaGammaParams {
    /// Checks that every parameter is finite and > 0.
    ///
    /// # Errors
    /// [`RfmError::Parameter`] naming the first bad parameter.
    pub fn check(&self) -> Result<()> {
        check_params("Gamma-Gamma", &[("p", self.p), ("q", self.q), ("v", self.v)])
    }
}

/// The penalised mean negative log-likelihood of lifetimes, on compressed patterns.
///
/// Per customer, `ln L = lnΓ(px+q) − lnΓ(px) − lnΓ(q) + q ln v + (px−1) ln m + p x ln x
/// − (px+q) ln(xm+v)`: the gamma-function terms depend on x only (summed once per distinct
/// x with its total weight), the `ln m` and `x ln x` terms on no parameter but p linearly
/// (summed once per fit), so a pass over the patterns evaluates one `ln(xm+v)` each.
struct Likelihood {
    frequency: Vec<f64>,
    spend: Vec<f64>,
    weight: Vec<f64>,
    /// Distinct frequencies and their total weights.
    distinct: Vec<f64>,
    distinct_weight: Vec<f64>,
    /// Σ w ln m, Σ w x ln m, Σ w x ln x.
    sum_ln_m: f64,
    sum_x_ln_m: f64,
    sum_x_ln_x: f64,
    total_weight: f64,
    penalizer: f64,
}

impl Likelihood {
    fn new(frequency: Vec<f64>, spend: Vec<f64>, weight: Vec<f64>, penalizer: f64) -> Likelihood {
        let (distinct, position) = distinct_frequencies(frequency.iter().copied());
        let mut distinct_weight = vec![0.0; distinct.len()];
        let (mut sum_ln_m, mut sum_x_ln_m, mut sum_x_ln_x) = (0.0, 0.0, 0.0);
        for i in 0..frequency.len() {
            let (x, w, ln_m) = (frequency[i], weight[i], spend[i].ln());
            distinct_weight[position[i]] += w;
            sum_ln_m += w * ln_m;
            sum_x_ln_m += w * x * ln_m;
            sum_x_ln_x += w * x * x.ln();
        }
        Likelihood {
            total_weight: weight.iter().sum(),
            frequency,
            spend,
            weight,
            distinct,
            distinct_weight,
            sum_ln_m,
            sum_x_ln_m,
            sum_x_ln_x,
            penalizer,
        }
    }
}

impl Totals<3> for Likelihood {
    fn scale(&self) -> (f64, f64) {
        (self.total_weight, self.penalizer)
    }

    /// In (p, q, v).
    fn totals(&self, params: &[f64; 3]) -> (f64, [f64; 3], [[f64; 3]; 3]) {
        let [p, q, v] = *params;
        let mut ll = p * (self.sum_x_ln_m + self.sum_x_ln_x) - self.sum_ln_m;
        let mut g = [self.sum_x_ln_m + self.sum_x_ln_x, 0.0, 0.0];
        let mut h = [[0.0; 3]; 3];
        for (&x, &w) in self.distinct.iter().zip(&self.distinct_weight) {
            let px = p * x;
            let (dg_pxq, tg_pxq) = (digamma(px + q), trigamma(px + q));
            ll += w * (ln_gamma(px + q) - ln_gamma(px));
            g[0] += w * x * (dg_pxq - digamma(px));
            g[1] += w * dg_pxq;
            h[0][0] += w * x * x * (tg_pxq - trigamma(px));
            h[0][1] += w * x * tg_pxq;
            h[1][1] += w * tg_pxq;
        }
        let (total, ln_v) = (self.total_weight, v.ln());
        ll += total * (q * ln_v - ln_gamma(q));
        g[1] += total * (ln_v - digamma(q));
        g[2] += total * q / v;
        h[1][1] -= total * trigamma(q);
        h[1][2] += total / v;
        h[2][2] -= total * q / (v * v);
        // Per pattern, u = xm + v: Σ w x ln u, Σ w ln u, Σ w x/u, Σ w/u, Σ w x/u², Σ w/u².
        let sums = chunked_sum(
            self.frequency.len(),
            |start, end| {
                let mut acc = [0.0; 6];
                for i in start..end {
                    let (x, w) = (self.frequency[i], self.weight[i]);
                    let u = x * self.spend[i] + v;
                    let (ln_u, inv) = (u.ln(), 1.0 / u);
                    acc[0] += w * x * ln_u;
                    acc[1] += w * ln_u;
                    acc[2] += w * x * inv;
                    acc[3] += w * inv;
                    acc[4] += w * x * inv * inv;
                    acc[5] += w * inv * inv;
                }
                acc
            },
            |t, v| *t += v,
        );
        ll -= p * sums[0] + q * sums[1];
        g[0] -= sums[0];
        g[1] -= sums[1];
        g[2] -= p * sums[2] + q * sums[3];
        h[0][2] -= sums[2];
        h[1][2] -= sums[3];
        h[2][2] += p * sums[4] + q * sums[5];
        symmetrize(&mut h);
        (ll, g, h)
    }
}

/// What [`fit`] used of its input.
#[derive(Debug, Clone)]
pub struct GammaGammaFit {
    /// The fit on the repeat customers.
    pub report: FitReport<3>,
    /// Rows with `frequency == 0` (no repeat purchase, so no repeat spend): not fitted.
    pub n_without_repeat: usize,
    /// Rows with `frequency > 0` whose repeat purchases were all free (`monetary_value ==
    /// 0`, which the BTYD summary gives by default since it counts $0 purchases): a Gamma
    /// spend has no density at 0, so they are not fitted either.
    pub n_without_repeat_spend: usize,
}

const GAMMA_GAMMA: Model<3> = Model {
    name: "Gamma-Gamma",
    scaled_as: "over the mean spend",
    scales: &[2],
    names: ["p", "q", "v"],
    shapes: &[
        Shape::Single {
            index: 0,
            large: "each customer pays (nearly) the same amount at every purchase",
            small: "a customer's spends vary without bound from one purchase to the next",
        },
        Shape::Single {
            index: 1,
            large: "the customers' mean spends collapse to one value (every customer alike)",
            small: "the customers' mean spends spread without bound",
        },
    ],
};

/// What the repeat customers' spends hold, for the message of a fit that is a limit: the
/// customers fitted, the distinct mean spends, and the rows left out.
fn spend_evidence(fitted: f64, distinct: usize, mean: f64, rows: usize, without_repeat: usize) -> Evidence {
    let customers = count(fitted);
    let why = if distinct == 1 {
        Some(format!(
            "All {customers} repeat customers have the same mean spend ({mean}): there is no spread of spends to \
             estimate."
        ))
    } else if fitted < FEW {
        Some(format!(
            "Only {customers} repeat customers with a spend: too few to tell how spends vary within and across \
             customers."
        ))
    } else {
        None
    };
    Evidence {
        why,
        counts: format!(
            "Data: {customers} repeat customers with a spend > 0 fitted ({rows} rows, {without_repeat} without a \
             repeat purchase), {distinct} distinct mean spend{}.",
            if distinct == 1 { "" } else { "s" }
        ),
        advice: if distinct == 1 || fitted < FEW {
            format!(
                "Fit on more repeat customers; where every customer spends about the same, use the mean spend \
                 ({mean:.4}) instead of a spend model"
            )
        } else {
            format!(
                "A spend model adds little here: use each customer's mean spend, or the overall mean ({mean:.4})"
            )
        },
    }
}

/// Fits the Gamma-Gamma model, as `lifetimes.GammaGammaFitter.fit`, on the rows with
/// `frequency > 0` and `monetary_value > 0` (rows with `frequency == 0` carry no repeat
/// spend and are counted in [`GammaGammaFit::n_without_repeat`], repeat rows with a zero
/// spend in [`GammaGammaFit::n_without_repeat_spend`]). Objective: mean negative log-likelihood plus
/// `penalizer_coef * (p² + q² + v²)`, minimised over log-parameters from 0.1.
///
/// # Errors
/// [`RfmError::InvalidValue`] for a frequency that is not a whole number >= 0, a
/// non-finite spend, or a negative spend of a repeat customer; [`RfmError::Parameter`]
/// when no customer has a repeat purchase with a positive spend; [`RfmError::Convergence`] when the optimiser stops
/// before an optimum, or when what it found is a limit, not an estimate (p and q run off to
/// infinity when every repeat customer has the same mean spend; see [`super::bgnbd::fit`]).
pub fn fit(
    frequency: &[f64],
    spend: &[f64],
    weights: Option<&[f64]>,
    options: &FitOptions,
) -> Result<GammaGammaFit> {
    with_penalty_advice(
        options,
        GAMMA_GAMMA.names,
        |fit: &GammaGammaFit| fit.report.params,
        |options| fit_spend(frequency, spend, weights, options),
    )
}

fn fit_spend(
    frequency: &[f64],
    spend: &[f64],
    weights: Option<&[f64]>,
    options: &FitOptions,
) -> Result<GammaGammaFit> {
    let n = check_lengths(&[("frequency", frequency.len()), ("monetary_value", spend.len())])?;
    check_weights(weights, n)?;
    let start = options.check::<3>()?;
    check_spend(frequency, spend)?;
    let repeat: Vec<usize> = (0..n).filter(|&i| frequency[i] > 0.0 && spend[i] > 0.0).collect();
    let patterns = compress(
        repeat
            .iter()
            .map(|&i| ([frequency[i], spend[i]], weights.map_or(1.0, |w| w[i]))),
    );
    let n_without_repeat = frequency.iter().filter(|&&x| x == 0.0).count();
    let n_without_repeat_spend = n - n_without_repeat - repeat.len();
    let total_weight: f64 = patterns.weights.iter().sum();
    if !(total_weight > 0.0) {
        return Err(RfmError::parameter(
            "frequency",
            format!("none of the {n} customers has a repeat purchase (frequency > 0) with a spend > 0 and a weight > 0: the spend model needs repeat customers who paid"),
        ));
    }
    let pattern_frequency: Vec<f64> = patterns.values.iter().map(|v| v[0]).collect();
    let pattern_spend: Vec<f64> = patterns.values.iter().map(|v| v[1]).collect();
    let subsample = warm_subsample(pattern_frequency.len()).map(|rows| {
        Likelihood::new(
            pick(&rows, &pattern_frequency),
            pick(&rows, &pattern_spend),
            pick(&rows, &patterns.weights),
            options.penalizer_coef,
        )
    });
    let likelihood = Likelihood::new(
        pattern_frequency,
        pattern_spend,
        patterns.weights,
        options.penalizer_coef,
    );
    let found = warm_minimize(&likelihood, subsample.as_ref(), start, options);
    let params = found.x.map(f64::exp);
    // The objective is −ll/W + λ Σp²: the log-likelihood without another pass.
    let penalty: f64 = params.iter().map(|v| v * v).sum();
    let log_likelihood = -(found.value - options.penalizer_coef * penalty) * total_weight;
    let n_patterns = likelihood.frequency.len();
    // v is in the currency of the spend: its bounds apply to v over the mean spend.
    let mean_spend = likelihood
        .spend
        .iter()
        .zip(&likelihood.weight)
        .map(|(m, w)| m * w)
        .sum::<f64>()
        / total_weight;
    let distinct_spends = {
        let mut spends: Vec<u64> = likelihood.spend.iter().map(|m| m.to_bits()).collect();
        spends.sort_unstable();
        spends.dedup();
        spends.len()
    };
    let scaled = [params[0], params[1], params[2] / mean_spend];
    let evidence = spend_evidence(total_weight, distinct_spends, mean_spend, n, n_without_repeat);
    Ok(GammaGammaFit {
        report: fit_report(
            &GAMMA_GAMMA,
            Optimum {
                found,
                params,
                scaled,
            },
            &likelihood,
            log_likelihood,
            n_patterns,
            total_weight,
            &evidence,
        )?,
        n_without_repeat,
        n_without_repeat_spend,
    })
}

fn check_spend(frequency: &[f64], spend: &[f64]) -> Result<()> {
    for (row, (&x, &m)) in frequency.iter().zip(spend).enumerate() {
        check_frequency(row, x)?;
        if !m.is_finite() {
            return Err(invalid(
                "monetary_value",
                row,
                m,
                "monetary_value must be finite; drop or fill missing spend first",
            ));
        }
        // A zero mean repeat spend (only free repeat purchases) is a valid observation: fit
        // leaves it out, the expected spend shrinks it towards the population mean.
        if x > 0.0 && m < 0.0 {
            return Err(invalid(
                "monetary_value",
                row,
                m,
                "a repeat customer (frequency > 0) needs a mean repeat spend >= 0; drop returns (rfmkit.clv.summary does by default, returns=\"drop\")",
            ));
        }
    }
    Ok(())
}

/// `conditional_expected_average_profit(frequency, monetary_value)`:
/// `(1 − w) · v p/(q − 1) + w · m` with `w = p x / (p x + q − 1)`; customers without a
/// repeat purchase get the population mean `v p / (q − 1)`.
///
/// # Errors
/// [`RfmError::Parameter`] for invalid parameters, [`RfmError::InvalidValue`] as [`fit`].
pub fn conditional_expected_average_profit(
    params: &GammaGammaParams,
    frequency: &[f64],
    spend: &[f64],
) -> Result<Vec<f64>> {
    params.check()?;
    check_lengths(&[("frequency", frequency.len()), ("monetary_value", spend.len())])?;
    check_spend(frequency, spend)?;
    Ok(map_rows(frequency.len(), |i| {
        expected_spend_one(params, frequency[i], spend[i])
    }))
}

/// One customer's expected spend per purchase, `(1 − w) · v p/(q − 1) + w · m` with
/// `w = p x/(p x + q − 1)`.
pub(crate) fn expected_spend_one(params: &GammaGammaParams, x: f64, m: f64) -> f64 {
    let GammaGammaParams { p, q, v } = *params;
    let weight = p * x / (p * x + q - 1.0);
    (1.0 - weight) * v * p / (q - 1.0) + weight * m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clv::optimize::{assert_gradient, assert_hessian};
    use crate::testing::{assert_convergence_error, Draws, XorShift};

    #[test]
    fn an_ordinary_sample_gives_an_estimate_and_equal_spends_an_error_that_says_why() {
        // 2,000 customers with 1..6 repeat purchases, p = 2, q = 3, v = 20: mean spend
        // p v / (q − 1) = 20.
        let mut draws = Draws(XorShift(0x5eed_0003));
        let (mut frequency, mut spend) = (Vec::new(), Vec::new());
        for _ in 0..2000 {
            let x = 1 + draws.0.next(6);
            let nu = draws.gamma(3, 20.0);
            let total: f64 = (0..x).map(|_| draws.gamma(2, nu)).sum();
            frequency.push(x as f64);
            spend.push(total / x as f64);
        }
        let options = FitOptions::default();
        let [p, q, v] = fit(&frequency, &spend, None, &options).unwrap().report.params;
        assert!((p * v / (q - 1.0) / 20.0 - 1.0).abs() < 0.1, "{p} {q} {v}");
        assert!((p / 2.0 - 1.0).abs() < 0.2, "{p} {q} {v}");
        // Two repeat customers who spend the same: every parameter runs off.
        let error = fit(&[2.0, 3.0, 0.0], &[20.0, 20.0, 0.0], None, &options).unwrap_err();
        assert_convergence_error(
            &error,
            &[
                "the Gamma-Gamma fit is a limit, not an estimate: ",
                "ran off towards infinity",
                "All 2 repeat customers have the same mean spend (20): there is no spread of spends to estimate.",
                "Data: 2 repeat customers with a spend > 0 fitted (3 rows, 1 without a repeat purchase), 1 distinct \
                 mean spend.",
                "use the mean spend (20.0000) instead of a spend model",
                "penalizer_coef=0.01 gives a finite fit on this data (p = ",
            ],
        );
        let penalised = FitOptions {
            penalizer_coef: 0.01,
            ..FitOptions::default()
        };
        assert!(fit(&[2.0, 3.0, 0.0], &[20.0, 20.0, 0.0], None, &penalised).is_ok());
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let likelihood = Likelihood::new(
            vec![1.0, 2.0, 7.0, 2.0],
            vec![10.0, 35.5, 3.2, 8.0],
            vec![2.0, 1.0, 1.0, 0.5],
            0.01,
        );
        let x = [0.9, 1.3, 2.2];
        assert_gradient(&likelihood, &x);
        assert_hessian(&likelihood, &x);
    }

    #[test]
    fn spend_errors() {
        let error = fit(&[1.0, 2.0], &[5.0, -1.0], None, &FitOptions::default()).unwrap_err();
        assert!(
            matches!(
                error,
                RfmError::InvalidValue {
                    argument: "monetary_value",
                    row: 1,
                    ..
                }
            ),
            "{error}"
        );
        let error = fit(&[0.0, 0.0], &[0.0, 0.0], None, &FitOptions::default()).unwrap_err();
        assert!(
            matches!(
                error,
                RfmError::Parameter {
                    name: "frequency",
                    ..
                }
            ),
            "{error}"
        );
        // Only free repeat purchases: nothing to fit.
        let error = fit(&[1.0, 0.0], &[0.0, 0.0], None, &FitOptions::default()).unwrap_err();
        assert!(matches!(error, RfmError::Parameter { .. }), "{error}");
    }

    #[test]
    fn free_repeat_purchases_are_left_out_of_the_fit_and_shrink_the_spend() {
        let frequency = [1.0, 2.0, 7.0, 2.0, 3.0, 1.0];
        let spend = [10.0, 35.5, 3.2, 8.0, 22.0, 14.0];
        // Six customers are too few for an estimate (p runs off to infinity): a penalty keeps
        // the fit finite.
        let options = FitOptions {
            penalizer_coef: 0.01,
            ..FitOptions::default()
        };
        let paid = fit(&frequency, &spend, None, &options).unwrap();
        let with_free = fit(
            &[&frequency[..], &[4.0, 0.0]].concat(),
            &[&spend[..], &[0.0, 0.0]].concat(),
            None,
            &options,
        )
        .unwrap();
        assert_eq!(with_free.report.params, paid.report.params);
        assert_eq!(
            (with_free.n_without_repeat, with_free.n_without_repeat_spend),
            (1, 1)
        );
        let [p, q, v] = paid.report.params;
        let params = GammaGammaParams { p, q, v };
        let expected = conditional_expected_average_profit(&params, &[4.0], &[0.0]).unwrap();
        let weight = p * 4.0 / (p * 4.0 + q - 1.0);
        assert!((expected[0] - (1.0 - weight) * v * p / (q - 1.0)).abs() < 1e-12);
    }
}
