//! The Gamma-Gamma spend model (Fader & Hardie 2013): likelihood with its analytic
//! gradient, the fit and the conditional expected average spend of
//! `lifetimes.GammaGammaFitter`.

use rayon::prelude::*;

use super::optimize::{finite_difference_hessian, minimize, norm_inf, Objective};
use super::special::{digamma, ln_gamma};
use super::{
    check_lengths, check_weights, compress, covariance, distinct_frequencies, format_params, invalid,
    FitOptions, FitReport, CHUNK,
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
        for (name, value) in [("p", self.p), ("q", self.q), ("v", self.v)] {
            if !(value.is_finite() && value > 0.0) {
                return Err(RfmError::parameter(
                    name,
                    format!("Gamma-Gamma parameters must be finite and > 0, got {value}"),
                ));
            }
        }
        Ok(())
    }
}

struct Likelihood {
    frequency: Vec<f64>,
    spend: Vec<f64>,
    ln_spend: Vec<f64>,
    weight: Vec<f64>,
    distinct: Vec<f64>,
    position: Vec<usize>,
    total_weight: f64,
    penalizer: f64,
}

impl Likelihood {
    /// Sum of `weight * log-likelihood` and of its gradient in (p, q, v).
    fn totals(&self, p: f64, q: f64, v: f64) -> (f64, [f64; 3]) {
        let (lg_q, dg_q, ln_v) = (ln_gamma(q), digamma(q), v.ln());
        // Per distinct x: lnΓ(px+q) − lnΓ(px), ψ(px+q), ψ(px), x ln x.
        let terms: Vec<[f64; 4]> = self
            .distinct
            .iter()
            .map(|&x| {
                let px = p * x;
                [
                    ln_gamma(px + q) - ln_gamma(px),
                    digamma(px + q),
                    digamma(px),
                    x * x.ln(),
                ]
            })
            .collect();
        let chunk_sum = |start: usize| {
            let end = (start + CHUNK).min(self.frequency.len());
            let mut ll = 0.0;
            let mut grad = [0.0; 3];
            for i in start..end {
                let (x, m, ln_m, w) = (self.frequency[i], self.spend[i], self.ln_spend[i], self.weight[i]);
                let [lg, dg_pxq, dg_px, x_ln_x] = terms[self.position[i]];
                let px = p * x;
                let ln_xmv = (x * m + v).ln();
                ll += w * (lg - lg_q + q * ln_v + (px - 1.0) * ln_m + p * x_ln_x - (px + q) * ln_xmv);
                grad[0] += w * x * (dg_pxq - dg_px + ln_m + x.ln() - ln_xmv);
                grad[1] += w * (dg_pxq - dg_q + ln_v - ln_xmv);
                grad[2] += w * (q / v - (px + q) / (x * m + v));
            }
            (ll, grad)
        };
        let starts: Vec<usize> = (0..self.frequency.len()).step_by(CHUNK).collect();
        let parts: Vec<(f64, [f64; 3])> = if starts.len() > 1 {
            starts.par_iter().map(|&s| chunk_sum(s)).collect()
        } else {
            starts.iter().map(|&s| chunk_sum(s)).collect()
        };
        let mut ll = 0.0;
        let mut grad = [0.0; 3];
        for (part_ll, part_grad) in parts {
            ll += part_ll;
            for j in 0..3 {
                grad[j] += part_grad[j];
            }
        }
        (ll, grad)
    }
}

impl Objective<3> for Likelihood {
    fn value_and_gradient(&self, log_params: &[f64; 3]) -> (f64, [f64; 3]) {
        let p = log_params.map(f64::exp);
        if p.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
            return (f64::NAN, [f64::NAN; 3]);
        }
        let (ll, grad) = self.totals(p[0], p[1], p[2]);
        let penalty: f64 = p.iter().map(|v| v * v).sum();
        let value = -ll / self.total_weight + self.penalizer * penalty;
        let gradient =
            std::array::from_fn(|j| p[j] * (-grad[j] / self.total_weight + 2.0 * self.penalizer * p[j]));
        (value, gradient)
    }
}

/// What [`fit`] used of its input.
#[derive(Debug, Clone)]
pub struct GammaGammaFit {
    /// The fit on the repeat customers.
    pub report: FitReport<3>,
    /// Rows with `frequency == 0` (no repeat purchase, so no repeat spend): not fitted.
    pub n_without_repeat: usize,
}

/// Fits the Gamma-Gamma model, as `lifetimes.GammaGammaFitter.fit`, on the rows with
/// `frequency > 0` (rows with `frequency == 0` carry no repeat spend and are counted in
/// [`GammaGammaFit::n_without_repeat`]). Objective: mean negative log-likelihood plus
/// `penalizer_coef * (p² + q² + v²)`, minimised over log-parameters from 0.1.
///
/// # Errors
/// [`RfmError::InvalidValue`] for a frequency that is not a whole number >= 0, a
/// non-finite spend, or a spend <= 0 of a repeat customer; [`RfmError::Parameter`] when
/// no customer has a repeat purchase; [`RfmError::Convergence`] when the optimiser stops
/// before an optimum.
pub fn fit(
    frequency: &[f64],
    spend: &[f64],
    weights: Option<&[f64]>,
    options: &FitOptions,
) -> Result<GammaGammaFit> {
    let n = check_lengths(&[("frequency", frequency.len()), ("monetary_value", spend.len())])?;
    check_weights(weights, n)?;
    let start = options.check::<3>()?;
    check_spend(frequency, spend)?;
    let repeat = (0..n).filter(|&i| frequency[i] > 0.0);
    let patterns = compress(repeat.map(|i| ([frequency[i], spend[i]], weights.map_or(1.0, |w| w[i]))));
    let n_without_repeat = frequency.iter().filter(|&&x| x == 0.0).count();
    let total_weight: f64 = patterns.weights.iter().sum();
    if !(total_weight > 0.0) {
        return Err(RfmError::parameter(
            "frequency",
            format!("none of the {n} customers has a repeat purchase (frequency > 0) with a weight > 0: the spend model needs repeat customers"),
        ));
    }
    let (distinct, position) = distinct_frequencies(patterns.values.iter().map(|v| v[0]));
    let likelihood = Likelihood {
        frequency: patterns.values.iter().map(|v| v[0]).collect(),
        spend: patterns.values.iter().map(|v| v[1]).collect(),
        ln_spend: patterns.values.iter().map(|v| v[1].ln()).collect(),
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
    let params = found.x.map(f64::exp);
    let gradient_norm = norm_inf(&found.gradient);
    if !found.converged || params.iter().any(|p| !(p.is_finite() && *p > 0.0)) {
        return Err(RfmError::Convergence {
            model: "Gamma-Gamma",
            iterations: found.iterations,
            reason: found.reason,
            params: format_params(["p", "q", "v"], &params),
            gradient_norm,
        });
    }
    let hessian = finite_difference_hessian(&likelihood, &found.x);
    let (log_likelihood, _) = likelihood.totals(params[0], params[1], params[2]);
    Ok(GammaGammaFit {
        report: FitReport {
            params,
            log_likelihood,
            objective: found.value,
            hessian,
            covariance: covariance(&params, &hessian, total_weight),
            iterations: found.iterations,
            gradient_norm,
            n_patterns: likelihood.frequency.len(),
            total_weight,
        },
        n_without_repeat,
    })
}

fn check_spend(frequency: &[f64], spend: &[f64]) -> Result<()> {
    for (row, (&x, &m)) in frequency.iter().zip(spend).enumerate() {
        if !x.is_finite() || x < 0.0 || x != x.floor() {
            return Err(invalid(
                "frequency",
                row,
                x,
                "frequency (repeat purchase periods) must be a whole number >= 0; compute the inputs with rfmkit.clv.summary",
            ));
        }
        if !m.is_finite() {
            return Err(invalid(
                "monetary_value",
                row,
                m,
                "monetary_value must be finite; drop or fill missing spend first",
            ));
        }
        if x > 0.0 && m <= 0.0 {
            return Err(invalid(
                "monetary_value",
                row,
                m,
                "a repeat customer (frequency > 0) needs a mean repeat spend > 0; drop returns and zero-value orders (rfmkit.clv.summary does by default)",
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
    let GammaGammaParams { p, q, v } = *params;
    let population_mean = v * p / (q - 1.0);
    let one = |i: usize| {
        let x = frequency[i];
        let weight = p * x / (p * x + q - 1.0);
        (1.0 - weight) * population_mean + weight * spend[i]
    };
    Ok(if frequency.len() >= 2 * CHUNK {
        (0..frequency.len())
            .into_par_iter()
            .with_min_len(CHUNK / 4)
            .map(one)
            .collect()
    } else {
        (0..frequency.len()).map(one).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_matches_finite_differences() {
        let likelihood = Likelihood {
            frequency: vec![1.0, 2.0, 7.0],
            spend: vec![10.0, 35.5, 3.2],
            ln_spend: vec![10f64.ln(), 35.5f64.ln(), 3.2f64.ln()],
            weight: vec![2.0, 1.0, 1.0],
            distinct: vec![1.0, 2.0, 7.0],
            position: vec![0, 1, 2],
            total_weight: 4.0,
            penalizer: 0.01,
        };
        let x = [0.9, 1.3, 2.2];
        let (_, g) = likelihood.value_and_gradient(&x);
        for j in 0..3 {
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
    fn spend_errors() {
        let error = fit(&[1.0, 2.0], &[5.0, 0.0], None, &FitOptions::default()).unwrap_err();
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
    }
}
