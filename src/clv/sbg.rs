//! The shifted-beta-geometric model of contractual retention (Fader & Hardie 2007, "How
//! to project customer retention"): each customer renews at the end of every period with
//! probability `1 − θ`, and `θ ~ Beta(α, β)` across customers. Fitted by maximum
//! likelihood on the survivors of one or several cohorts.
//!
//! With `B` the beta function: `P(T = t) = B(α + 1, β + t − 1) / B(α, β)` (a customer
//! churns at period t = 1, 2, ...), `S(t) = B(α, β + t) / B(α, β)` (still active after t
//! periods), and the retention rate `r(t) = S(t) / S(t − 1) = (β + t − 1) / (α + β + t − 1)`.

use super::limit::{count, with_penalty_advice, Evidence, Model, Shape};
use super::special::{digamma, ln_beta, trigamma};
use super::{check_params, fit_unscaled, symmetrize, FitOptions, FitReport, Totals};
use crate::error::{Result, RfmError};

/// sBG parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SbgParams {
    pub alpha: f64,
    pub beta: f64,
}

impl SbgParams {
    /// Checks that both parameters are finite and > 0.
    ///
    /// # Errors
    /// [`RfmError::Parameter`] naming the first bad parameter.
    pub fn check(&self) -> Result<()> {
        check_params("sBG", &[("alpha", self.alpha), ("beta", self.beta)])
    }
}

/// The likelihood as weighted terms `sign · w · ln B(α + dα, β + dβ)`: churn at t
/// (`dα = 1, dβ = t − 1`), still active at the end (`dα = 0, dβ = T`), and the
/// normalising `−ln B(α, β)` once per customer.
struct Likelihood {
    /// (α offset, β offset, weight with its sign)
    terms: Vec<(f64, f64, f64)>,
    customers: f64,
    penalizer: f64,
}

impl Likelihood {
    fn new(cohorts: &[&[f64]], penalizer: f64) -> Likelihood {
        let mut churned: Vec<f64> = Vec::new();
        let mut active: Vec<f64> = Vec::new();
        let mut customers = 0.0;
        for survivors in cohorts {
            customers += survivors[0];
            let last = survivors.len() - 1;
            if churned.len() < last {
                churned.resize(last, 0.0);
                active.resize(last + 1, 0.0);
            }
            for t in 1..=last {
                churned[t - 1] += survivors[t - 1] - survivors[t];
            }
            active[last] += survivors[last];
        }
        let mut terms: Vec<(f64, f64, f64)> = churned
            .iter()
            .enumerate()
            .filter(|(_, &w)| w > 0.0)
            .map(|(k, &w)| (1.0, k as f64, w))
            .collect();
        terms.extend(
            active
                .iter()
                .enumerate()
                .filter(|(_, &w)| w > 0.0)
                .map(|(t, &w)| (0.0, t as f64, w)),
        );
        terms.push((0.0, 0.0, -customers));
        Likelihood {
            terms,
            customers,
            penalizer,
        }
    }
}

impl Totals<2> for Likelihood {
    fn scale(&self) -> (f64, f64) {
        (self.customers, self.penalizer)
    }

    /// In (α, β): `∂ ln B(x, y) / ∂x = ψ(x) − ψ(x + y)`, `∂² / ∂x∂y = −ψ′(x + y)`.
    fn totals(&self, params: &[f64; 2]) -> (f64, [f64; 2], [[f64; 2]; 2]) {
        let [alpha, beta] = *params;
        let (mut ll, mut g, mut h) = (0.0, [0.0; 2], [[0.0; 2]; 2]);
        for &(da, db, w) in &self.terms {
            let (x, y) = (alpha + da, beta + db);
            let (dg_xy, tg_xy) = (digamma(x + y), trigamma(x + y));
            ll += w * ln_beta(x, y);
            g[0] += w * (digamma(x) - dg_xy);
            g[1] += w * (digamma(y) - dg_xy);
            h[0][0] += w * (trigamma(x) - tg_xy);
            h[0][1] -= w * tg_xy;
            h[1][1] += w * (trigamma(y) - tg_xy);
        }
        symmetrize(&mut h);
        (ll, g, h)
    }
}

/// Checks the survivors of each cohort: at least two counts (t = 0 and 1), finite, >= 0,
/// a positive start, never increasing.
fn check_cohorts(cohorts: &[&[f64]]) -> Result<()> {
    if cohorts.is_empty() {
        return Err(RfmError::data(
            "there is no cohort: pass the survivors of at least one cohort",
        ));
    }
    for (c, survivors) in cohorts.iter().enumerate() {
        if survivors.len() < 2 {
            return Err(RfmError::data(format!(
                "cohort {c} has {} count(s); the survivors at t = 0, 1, ... need at least two",
                survivors.len()
            )));
        }
        for (t, &n) in survivors.iter().enumerate() {
            if !(n.is_finite() && n >= 0.0) {
                return Err(RfmError::data(format!(
                    "cohort {c}: the survivors at t = {t} are {n}; they must be finite numbers >= 0"
                )));
            }
            if t > 0 && n > survivors[t - 1] {
                return Err(RfmError::data(format!(
                    "cohort {c}: {n} survivors at t = {t} but {} at t = {}; survivors never increase (pass the \
                     customers of the cohort still active at each t, not new customers)",
                    survivors[t - 1],
                    t - 1
                )));
            }
        }
        if !(survivors[0] > 0.0) {
            return Err(RfmError::data(format!("cohort {c} starts with no customer")));
        }
        if let Some((t, &n)) = survivors.iter().enumerate().find(|(_, n)| n.fract() != 0.0) {
            return Err(RfmError::data(format!(
                "cohort {c}: {n} survivors at t = {t}; survivors are counts of customers (the standard errors \
                 count them): multiply shares by the cohort's size"
            )));
        }
    }
    // The model needs churn, survivors beyond it, and two periods to tell the spread of the
    // churn probabilities from their mean (with one period only alpha/(alpha+beta) is known).
    let churned: f64 = cohorts.iter().map(|s| s[0] - s[s.len() - 1]).sum();
    let lasting = cohorts.iter().any(|s| s.len() >= 3 && s[2] > 0.0);
    if !(churned > 0.0 && lasting) {
        return Err(RfmError::data(
            "the survivors cannot tell alpha and beta apart: the model needs some customers who leave, and a cohort \
             with customers still active after two periods (three counts or more)"
                .to_string(),
        ));
    }
    Ok(())
}

const SBG: Model<2> = Model {
    name: "sBG",
    scaled_as: "",
    scales: &[],
    names: ["alpha", "beta"],
    shapes: &[Shape::Beta {
        first: 0,
        second: 1,
        what: "churn probabilities",
    }],
};

/// What the survivors hold, for the message of a fit that is a limit.
fn evidence(cohorts: &[&[f64]]) -> Evidence {
    let customers: f64 = cohorts.iter().map(|s| s[0]).sum();
    let active: f64 = cohorts.iter().map(|s| s[s.len() - 1]).sum();
    let periods = cohorts.iter().map(|s| s.len() - 1).max().unwrap_or(0);
    Evidence {
        why: None,
        counts: format!(
            "Data: {} cohort(s), {} customers, {} who left, {} still active at the end, up to {periods} periods.",
            cohorts.len(),
            count(customers),
            count(customers - active),
            count(active)
        ),
        advice: "Fit on more cohorts or more periods".to_string(),
    }
}

/// Fits the sBG model to the survivors of `cohorts` (each the customers still active at
/// t = 0, 1, ..., its own length), by maximum likelihood over log-parameters from 0.1:
/// objective the mean negative log-likelihood per customer plus `penalizer_coef · (α² + β²)`.
///
/// # Errors
/// [`RfmError::Data`] for survivors that are not finite, negative, increasing, or a cohort
/// with fewer than two counts; [`RfmError::Convergence`] when the optimiser stops before
/// an optimum, or what it found is a limit, not an estimate (see [`super::bgnbd::fit`]).
pub fn fit(cohorts: &[&[f64]], options: &FitOptions) -> Result<FitReport<2>> {
    check_cohorts(cohorts)?;
    let evidence = evidence(cohorts);
    with_penalty_advice(
        options,
        SBG.names,
        |report: &FitReport<2>| report.params,
        |options| {
            let likelihood = Likelihood::new(cohorts, options.penalizer_coef);
            fit_unscaled(&SBG, &likelihood, likelihood.terms.len(), &evidence, options)
        },
    )
}

/// Total log-likelihood of `cohorts` under `params`.
///
/// # Errors
/// Those of [`SbgParams::check`] and of the survivors' checks of [`fit`].
pub fn log_likelihood(params: &SbgParams, cohorts: &[&[f64]]) -> Result<f64> {
    params.check()?;
    check_cohorts(cohorts)?;
    Ok(Likelihood::new(cohorts, 0.0)
        .totals(&[params.alpha, params.beta])
        .0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clv::optimize;
    use crate::testing::assert_convergence_error;

    /// Fader & Hardie (2007), table 1: customers of 1,000 still active after 0..7 years.
    const REGULAR: [f64; 8] = [1000.0, 631.0, 468.0, 382.0, 326.0, 289.0, 262.0, 241.0];
    const HIGH_END: [f64; 8] = [1000.0, 869.0, 743.0, 653.0, 593.0, 551.0, 517.0, 491.0];

    #[test]
    fn reproduces_the_papers_estimates() {
        // The paper: regular alpha 0.704, beta 1.182; high end alpha 0.668, beta 3.806.
        for (data, alpha, beta) in [(&REGULAR, 0.704, 1.182), (&HIGH_END, 0.668, 3.806)] {
            let report = fit(&[&data[..]], &FitOptions::default()).unwrap();
            assert!((report.params[0] - alpha).abs() < 5e-4, "{:?}", report.params);
            assert!((report.params[1] - beta).abs() < 5e-4, "{:?}", report.params);
            let at_optimum = log_likelihood(
                &SbgParams {
                    alpha: report.params[0],
                    beta: report.params[1],
                },
                &[&data[..]],
            )
            .unwrap();
            assert!((report.log_likelihood - at_optimum).abs() < 1e-9);
        }
    }

    #[test]
    fn survivors_without_spread_give_an_error_that_says_why() {
        let options = FitOptions::default();
        // Half leave at once, the others never: the churn probabilities split into 0 and 1.
        let error = fit(&[&[100.0, 50.0, 50.0, 50.0][..]], &options).unwrap_err();
        assert_convergence_error(
            &error,
            &[
                "the sBG fit is a limit, not an estimate: alpha ran off towards 0",
                "The churn probabilities split between 0 and 1.",
                "Data: 1 cohort(s), 100 customers, 50 who left, 50 still active at the end, up to 3 periods.",
                "A penalty does not help here",
            ],
        );
        // Exactly half leave in each period: one churn probability for everyone.
        let halving = [1000.0, 500.0, 250.0, 125.0, 62.0, 31.0];
        let error = fit(&[&halving[..]], &options).unwrap_err();
        assert_convergence_error(
            &error,
            &[
                "The churn probabilities collapse to one value (every customer alike).",
                "penalizer_coef=0.01 gives a finite fit on this data (alpha = 1.5845, beta = 1.1691)",
            ],
        );
        let penalised = FitOptions {
            penalizer_coef: 0.01,
            ..FitOptions::default()
        };
        assert!(fit(&[&halving[..]], &penalised).is_ok());
    }

    #[test]
    fn cohorts_of_different_lengths_add_their_likelihoods() {
        let short = &REGULAR[..5];
        let params = SbgParams {
            alpha: 0.8,
            beta: 1.5,
        };
        let both = log_likelihood(&params, &[&REGULAR[..], short]).unwrap();
        let apart =
            log_likelihood(&params, &[&REGULAR[..]]).unwrap() + log_likelihood(&params, &[short]).unwrap();
        assert!((both - apart).abs() < 1e-9 * both.abs());
    }

    #[test]
    fn the_gradient_and_hessian_are_the_objectives() {
        let likelihood = Likelihood::new(&[&REGULAR[..], &HIGH_END[..5]], 0.01);
        for x in [[0.1, 0.1], [-0.5, 1.2], [0.3, -0.2]] {
            optimize::assert_gradient(&likelihood, &x);
            optimize::assert_hessian(&likelihood, &x);
        }
    }

    #[test]
    fn bad_survivors_are_data_errors() {
        let cases: [(&[f64], &str); 9] = [
            (&[100.0], "at least two"),
            (&[100.0, 120.0], "never increase"),
            (&[100.0, f64::NAN], "finite numbers"),
            (&[0.0, 0.0], "starts with no customer"),
            (&[100.0, -1.0], "finite numbers >= 0"),
            (&[1.0, 0.631, 0.468], "counts of customers"),
            (&[100.0, 60.0], "cannot tell alpha and beta apart"),
            (&[100.0, 100.0, 100.0], "cannot tell alpha and beta apart"),
            (&[100.0, 0.0, 0.0], "cannot tell alpha and beta apart"),
        ];
        for (survivors, message) in cases {
            let error = fit(&[survivors], &FitOptions::default()).unwrap_err();
            assert!(error.to_string().contains(message), "{error}");
        }
        assert!(fit(&[], &FitOptions::default()).is_err());
    }
}
