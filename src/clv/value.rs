//! Discounted lifetime value of a purchase model (BG/NBD, MBG/NBD, Pareto/NBD) and spend,
//! and its uncertainty from the parameters' sampling distribution (parametric bootstrap).
//!
//! With `C(u)` the expected repeat purchases in `(T, T+u]`, the value over `horizon` periods
//! of `step` time units is `Σ_k spend · (C(k·step) − C((k−1)·step)) / (1 + d)^k`, as
//! lifetimes' `_customer_lifetime_value`. Every model here has `C(u) = P(alive) · E(u)` with
//! `E` the purchases of a live customer, which depends on `(x, T)` only: the discounted sum
//! of `E`'s increments is computed once per distinct `(x, T)`.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

use super::bgnbd::{self, BgNbdParams};
use super::gamma_gamma::{expected_spend_one, GammaGammaParams};
use super::pareto::{self, ParetoNbdParams};
use super::{check_btyd_lengths, check_customers, check_lengths, invalid};
use crate::error::{Result, RfmError};

/// What the lifetime value needs of a purchase model, per customer.
pub trait Purchases: Sync {
    /// Checks the parameters.
    fn check(&self) -> Result<()>;
    /// P(alive) of a customer with history `(x, t_x, T)`.
    fn alive(&self, x: f64, recency: f64, age: f64) -> f64;
    /// E[repeat purchases in (T, T+t] | alive] of a customer with `x` repeats and age `T`.
    fn expected_if_alive(&self, t: f64, x: f64, age: f64) -> f64;
}

impl Purchases for BgNbdParams {
    fn check(&self) -> Result<()> {
        BgNbdParams::check(self)
    }
    fn alive(&self, x: f64, recency: f64, age: f64) -> f64 {
        bgnbd::probability_alive_one(self, x, recency, age)
    }
    fn expected_if_alive(&self, t: f64, x: f64, age: f64) -> f64 {
        bgnbd::expected_if_alive(self, t, x, age)
    }
}

/// MBG/NBD parameters (BG/NBD's, with its own P(alive) and live purchases).
#[derive(Debug, Clone, Copy)]
pub struct Modified(pub BgNbdParams);

impl Purchases for Modified {
    fn check(&self) -> Result<()> {
        self.0.check()
    }
    fn alive(&self, x: f64, recency: f64, age: f64) -> f64 {
        bgnbd::modified_alive_one(&self.0, x, recency, age)
    }
    fn expected_if_alive(&self, t: f64, x: f64, age: f64) -> f64 {
        bgnbd::modified_expected_if_alive(&self.0, t, x, age)
    }
}

impl Purchases for ParetoNbdParams {
    fn check(&self) -> Result<()> {
        ParetoNbdParams::check(self)
    }
    fn alive(&self, x: f64, recency: f64, age: f64) -> f64 {
        pareto::probability_alive_one(self, x, recency, age)
    }
    fn expected_if_alive(&self, t: f64, x: f64, age: f64) -> f64 {
        pareto::expected_if_alive(self, t, x, age)
    }
}

/// The periods of a lifetime value: `horizon` periods of `step` time units, discounted at
/// `discount_rate` per period.
#[derive(Debug, Clone)]
pub struct Horizon {
    pub horizon: usize,
    pub step: f64,
    pub discount_rate: f64,
}

impl Horizon {
    fn check(&self) -> Result<Vec<f64>> {
        if !(self.step.is_finite() && self.step > 0.0) {
            return Err(RfmError::parameter(
                "freq",
                format!("the period length must be > 0, got {}", self.step),
            ));
        }
        if !(self.discount_rate.is_finite() && self.discount_rate > -1.0) {
            return Err(RfmError::parameter(
                "discount_rate",
                format!(
                    "must be a finite rate per period > -1 (0.01 is 1 %), got {}",
                    self.discount_rate
                ),
            ));
        }
        Ok((1..=self.horizon)
            .map(|k| (1.0 + self.discount_rate).powi(k as i32).recip())
            .collect())
    }
}

/// The distinct `(x, T)` of the customers and each customer's position among them.
fn groups(frequency: &[f64], age: &[f64]) -> (Vec<(f64, f64)>, Vec<usize>) {
    let mut index: hashbrown::HashMap<[u64; 2], usize> = hashbrown::HashMap::new();
    let mut distinct: Vec<(f64, f64)> = Vec::new();
    let position = frequency
        .iter()
        .zip(age)
        .map(|(&x, &t)| {
            *index
                .entry([(x + 0.0).to_bits(), (t + 0.0).to_bits()])
                .or_insert_with(|| {
                    distinct.push((x, t));
                    distinct.len() - 1
                })
        })
        .collect();
    (distinct, position)
}

/// `Σ_k (E(k·step) − E((k−1)·step)) · discount_k` of each `(x, T)` group.
fn discounted_increments(
    model: &(impl Purchases + ?Sized),
    groups: &[(f64, f64)],
    step: f64,
    discounts: &[f64],
) -> Vec<f64> {
    let one = |&(x, age): &(f64, f64)| {
        let mut previous = 0.0;
        let mut value = 0.0;
        for (k, discount) in discounts.iter().enumerate() {
            let cumulative = model.expected_if_alive((k + 1) as f64 * step, x, age);
            value += (cumulative - previous) * discount;
            previous = cumulative;
        }
        value
    };
    // Each group costs `horizon` evaluations: parallel from a few dozen groups on.
    if groups.len() >= 64 {
        groups.par_iter().with_min_len(16).map(one).collect()
    } else {
        groups.iter().map(one).collect()
    }
}

fn check_spend(spend: &[f64], n: usize) -> Result<()> {
    check_lengths(&[("frequency", n), ("monetary_value", spend.len())])?;
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
    Ok(())
}

/// Discounted expected value of each customer over `periods` (see the module): the
/// customers' `spend` per purchase times their discounted expected purchases.
///
/// # Errors
/// [`RfmError::Parameter`] for invalid parameters, a bad step or discount rate;
/// [`RfmError::InvalidValue`] for an invalid customer row or a non-finite spend.
pub fn lifetime_value(
    model: &impl Purchases,
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
    spend: &[f64],
    periods: &Horizon,
) -> Result<Vec<f64>> {
    model.check()?;
    let n = check_btyd_lengths(frequency, recency, age)?;
    check_customers(frequency, recency, age)?;
    check_spend(spend, n)?;
    let discounts = periods.check()?;
    let (distinct, group) = groups(frequency, age);
    let discounted = discounted_increments(model, &distinct, periods.step, &discounts);
    Ok(super::map_rows(n, |i| {
        spend[i] * discounted[group[i]] * model.alive(frequency[i], recency[i], age[i])
    }))
}

/// [`lifetime_value`] with the arguments of [`bgnbd::lifetime_value`], for any purchase
/// model (the bindings of MBG/NBD and Pareto/NBD).
///
/// # Errors
/// As [`lifetime_value`].
#[allow(clippy::too_many_arguments)]
pub fn lifetime_value_over(
    model: &impl Purchases,
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
    spend: &[f64],
    horizon: usize,
    step: f64,
    discount_rate: f64,
) -> Result<Vec<f64>> {
    let periods = Horizon {
        horizon,
        step,
        discount_rate,
    };
    lifetime_value(model, frequency, recency, age, spend, &periods)
}

/// The purchase models the bootstrap draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    BgNbd,
    ModifiedBgNbd,
    ParetoNbd,
}

/// A drawn purchase model of a [`Family`].
enum Drawn {
    BgNbd(BgNbdParams),
    Modified(Modified),
    ParetoNbd(ParetoNbdParams),
}

impl Drawn {
    fn new(family: Family, [r, alpha, a, b]: [f64; 4]) -> Self {
        let bg = BgNbdParams { r, alpha, a, b };
        match family {
            Family::BgNbd => Drawn::BgNbd(bg),
            Family::ModifiedBgNbd => Drawn::Modified(Modified(bg)),
            Family::ParetoNbd => Drawn::ParetoNbd(ParetoNbdParams {
                r,
                alpha,
                s: a,
                beta: b,
            }),
        }
    }

    fn model(&self) -> &dyn Purchases {
        match self {
            Drawn::BgNbd(p) => p,
            Drawn::Modified(p) => p,
            Drawn::ParetoNbd(p) => p,
        }
    }
}

/// Parameters with their covariance (delta-method, from a fit).
#[derive(Debug, Clone)]
pub struct Estimate<const N: usize> {
    pub params: [f64; N],
    pub covariance: [[f64; N]; N],
}

impl<const N: usize> Estimate<N> {
    /// `draws` parameter vectors from the log-normal whose log has mean `ln p̂` and
    /// covariance `Σ_ij / (p̂_i p̂_j)` (the delta method's covariance of `ln p`): positive, and
    /// with the fit's standard errors when they are small.
    fn draw(&self, what: &'static str, draws: usize, rng: &mut Xoshiro256PlusPlus) -> Result<Vec<[f64; N]>> {
        let p = self.params;
        if p.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
            return Err(RfmError::parameter(
                what,
                format!("the parameters must be finite and > 0, got {p:?}"),
            ));
        }
        let log_covariance: [[f64; N]; N] =
            std::array::from_fn(|i| std::array::from_fn(|j| self.covariance[i][j] / (p[i] * p[j])));
        let factor = cholesky(&log_covariance).ok_or_else(|| {
            RfmError::parameter(
                what,
                "the covariance of the parameters is not positive semi-definite or not finite (a fit whose \
                 Hessian was singular has no standard errors): the uncertainty cannot be drawn",
            )
        })?;
        Ok((0..draws)
            .map(|_| {
                let z: [f64; N] = std::array::from_fn(|_| standard_normal(rng));
                std::array::from_fn(|i| (p[i].ln() + (0..=i).map(|j| factor[i][j] * z[j]).sum::<f64>()).exp())
            })
            .collect())
    }
}

/// The lower-triangular `L` with `L Lᵀ = a` for a positive semi-definite `a` (zero pivots
/// give zero columns: a parameter without variance is drawn at its estimate).
fn cholesky<const N: usize>(a: &[[f64; N]; N]) -> Option<[[f64; N]; N]> {
    let mut l = [[0.0; N]; N];
    for i in 0..N {
        for j in 0..=i {
            let sum = a[i][j] - (0..j).map(|k| l[i][k] * l[j][k]).sum::<f64>();
            if !sum.is_finite() {
                return None;
            }
            if i == j {
                if sum < -1e-12 * a[i][i].abs().max(1e-300) {
                    return None;
                }
                l[i][i] = sum.max(0.0).sqrt();
            } else {
                l[i][j] = if l[j][j] > 0.0 { sum / l[j][j] } else { 0.0 };
            }
        }
    }
    Some(l)
}

/// A standard normal number (Box–Muller).
fn standard_normal(rng: &mut Xoshiro256PlusPlus) -> f64 {
    let u: f64 = 1.0 - rng.gen::<f64>();
    let v: f64 = rng.gen::<f64>();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Each customer's lifetime value under the parameters' uncertainty.
#[derive(Debug, Clone)]
pub struct ValueDraws {
    /// Mean over the draws.
    pub mean: Vec<f64>,
    /// Standard deviation over the draws.
    pub sd: Vec<f64>,
    /// `quantiles[k][i]`: the `probabilities[k]` quantile of customer i's value.
    pub quantiles: Vec<Vec<f64>>,
    /// Draws of Gamma-Gamma parameters with `q <= 1` (no finite mean spend) drawn again.
    pub redrawn: usize,
    /// (customer, draw) values that were not finite, left out of the summaries.
    pub not_finite: usize,
}

/// The lifetime value of each customer (as [`lifetime_value`], spend from Gamma-Gamma's
/// `conditional_expected_average_profit` of `monetary`) under `draws` parameter vectors of
/// the purchase model and of Gamma-Gamma drawn from their estimates (see
/// [`Estimate::draw`]), seeded by `seed`: the mean, standard deviation and `probabilities`
/// quantiles (linear interpolation between order statistics) per customer.
///
/// # Errors
/// As [`lifetime_value`]; [`RfmError::Parameter`] for fewer than 10 draws, a probability
/// outside (0, 1), or a covariance that cannot be drawn from.
#[allow(clippy::too_many_arguments)]
pub fn lifetime_value_draws(
    family: Family,
    purchase: &Estimate<4>,
    spend: &Estimate<3>,
    frequency: &[f64],
    recency: &[f64],
    age: &[f64],
    monetary: &[f64],
    periods: &Horizon,
    draws: usize,
    seed: u64,
    probabilities: &[f64],
) -> Result<ValueDraws> {
    let n = check_btyd_lengths(frequency, recency, age)?;
    check_customers(frequency, recency, age)?;
    check_spend(monetary, n)?;
    let discounts = periods.check()?;
    if !(10..=100_000).contains(&draws) {
        return Err(RfmError::parameter(
            "draws",
            format!("must be between 10 and 100000, got {draws}"),
        ));
    }
    if let Some(bad) = probabilities.iter().find(|q| !(**q > 0.0 && **q < 1.0)) {
        return Err(RfmError::parameter(
            "level",
            format!("quantiles must be in (0, 1), got {bad}"),
        ));
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let purchases = purchase.draw("purchase model", draws, &mut rng)?;
    // Gamma-Gamma's mean spend exists for q > 1 only: draws without it are drawn again.
    let mut spends = Vec::with_capacity(draws);
    let mut redrawn = 0usize;
    while spends.len() < draws {
        for candidate in spend.draw("spend model", draws, &mut rng)? {
            if candidate[1] > 1.0 && spends.len() < draws {
                spends.push(candidate);
            } else if spends.len() < draws {
                redrawn += 1;
            }
        }
        if redrawn > 10 * draws {
            return Err(RfmError::parameter(
                "spend model",
                "most draws of the Gamma-Gamma q are <= 1 (no finite mean spend): its estimate is too uncertain",
            ));
        }
    }
    let models: Vec<Drawn> = purchases.iter().map(|p| Drawn::new(family, *p)).collect();
    let spends: Vec<GammaGammaParams> = spends
        .iter()
        .map(|&[p, q, v]| GammaGammaParams { p, q, v })
        .collect();
    let (distinct, group) = groups(frequency, age);
    // The discounted live purchases of each (x, T) group under each draw.
    let increments: Vec<Vec<f64>> = models
        .par_iter()
        .map(|model| discounted_increments(model.model(), &distinct, periods.step, &discounts))
        .collect();
    let one = |i: usize| -> (f64, f64, Vec<f64>, usize) {
        let (x, tx, t) = (frequency[i], recency[i], age[i]);
        let mut values: Vec<f64> = (0..draws)
            .map(|d| {
                let alive = models[d].model().alive(x, tx, t);
                expected_spend_one(&spends[d], x, monetary[i]) * alive * increments[d][group[i]]
            })
            .collect();
        // A draw where a prediction is not finite (a series that did not converge) is left
        // out of this customer's summaries and counted.
        let total = values.len();
        values.retain(|v| v.is_finite());
        let left_out = total - values.len();
        if values.len() < 2 {
            return (f64::NAN, f64::NAN, vec![f64::NAN; probabilities.len()], left_out);
        }
        let count = values.len() as f64;
        let mean = values.iter().sum::<f64>() / count;
        let variance = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (count - 1.0);
        values.sort_by(f64::total_cmp);
        let quantiles = probabilities.iter().map(|&q| quantile(&values, q)).collect();
        (mean, variance.sqrt(), quantiles, left_out)
    };
    let rows: Vec<(f64, f64, Vec<f64>, usize)> = (0..n).into_par_iter().with_min_len(256).map(one).collect();
    let mut out = ValueDraws {
        mean: Vec::with_capacity(n),
        sd: Vec::with_capacity(n),
        quantiles: vec![Vec::with_capacity(n); probabilities.len()],
        redrawn,
        not_finite: 0,
    };
    for (mean, sd, quantiles, left_out) in rows {
        out.mean.push(mean);
        out.sd.push(sd);
        out.not_finite += left_out;
        for (k, q) in quantiles.into_iter().enumerate() {
            out.quantiles[k].push(q);
        }
    }
    Ok(out)
}
/// The `q` quantile of sorted `values` (numpy's default, linear interpolation).
fn quantile(values: &[f64], q: f64) -> f64 {
    let position = q * (values.len() - 1) as f64;
    let low = position.floor() as usize;
    let high = (low + 1).min(values.len() - 1);
    values[low] + (position - low as f64) * (values[high] - values[low])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_have_the_log_normal_moments() {
        let estimate = Estimate {
            params: [0.5, 10.0],
            covariance: [[0.0025, 0.01], [0.01, 1.0]],
        };
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let draws = estimate.draw("test", 200_000, &mut rng).unwrap();
        let logs: Vec<[f64; 2]> = draws.iter().map(|d| [d[0].ln(), d[1].ln()]).collect();
        let mean = |k: usize| logs.iter().map(|l| l[k]).sum::<f64>() / logs.len() as f64;
        let (m0, m1) = (mean(0), mean(1));
        let cov = |i: usize, j: usize, mi: f64, mj: f64| {
            logs.iter().map(|l| (l[i] - mi) * (l[j] - mj)).sum::<f64>() / logs.len() as f64
        };
        assert!((m0 - 0.5_f64.ln()).abs() < 1e-3 && (m1 - 10.0_f64.ln()).abs() < 1e-3);
        // Var(ln p) = Σ/p²: 0.01, 0.002, 0.01
        assert!((cov(0, 0, m0, m0) - 0.01).abs() < 2e-4);
        assert!((cov(0, 1, m0, m1) - 0.002).abs() < 1e-4);
        assert!((cov(1, 1, m1, m1) - 0.01).abs() < 2e-4);
        // a parameter without variance stays at its estimate
        let fixed = Estimate {
            params: [2.0, 3.0],
            covariance: [[0.0, 0.0], [0.0, 0.09]],
        };
        let draws = fixed.draw("test", 100, &mut rng).unwrap();
        assert!(draws.iter().all(|d| (d[0] - 2.0).abs() < 1e-12));
        let bad = Estimate {
            params: [2.0, 3.0],
            covariance: [[1.0, 5.0], [5.0, 1.0]],
        };
        assert!(bad.draw("test", 10, &mut rng).is_err());
    }

    #[test]
    fn without_uncertainty_every_draw_is_the_point_value() {
        let (f, r, t, m) = (
            [0.0, 2.0, 7.0],
            [0.0, 30.4, 35.0],
            [38.9, 38.9, 38.0],
            [0.0, 30.0, 55.0],
        );
        let periods = Horizon {
            horizon: 12,
            step: 4.345,
            discount_rate: 0.01,
        };
        let bg = [0.243, 4.414, 0.793, 2.426];
        let gg = GammaGammaParams {
            p: 6.25,
            q: 3.74,
            v: 15.45,
        };
        let spend = super::super::gamma_gamma::conditional_expected_average_profit(&gg, &f, &m).unwrap();
        for family in [Family::BgNbd, Family::ModifiedBgNbd, Family::ParetoNbd] {
            let point = match family {
                Family::BgNbd => lifetime_value(
                    &BgNbdParams {
                        r: bg[0],
                        alpha: bg[1],
                        a: bg[2],
                        b: bg[3],
                    },
                    &f,
                    &r,
                    &t,
                    &spend,
                    &periods,
                ),
                Family::ModifiedBgNbd => lifetime_value(
                    &Modified(BgNbdParams {
                        r: bg[0],
                        alpha: bg[1],
                        a: bg[2],
                        b: bg[3],
                    }),
                    &f,
                    &r,
                    &t,
                    &spend,
                    &periods,
                ),
                Family::ParetoNbd => lifetime_value(
                    &ParetoNbdParams {
                        r: bg[0],
                        alpha: bg[1],
                        s: bg[2],
                        beta: bg[3],
                    },
                    &f,
                    &r,
                    &t,
                    &spend,
                    &periods,
                ),
            }
            .unwrap();
            let out = lifetime_value_draws(
                family,
                &Estimate {
                    params: bg,
                    covariance: [[0.0; 4]; 4],
                },
                &Estimate {
                    params: [gg.p, gg.q, gg.v],
                    covariance: [[0.0; 3]; 3],
                },
                &f,
                &r,
                &t,
                &m,
                &periods,
                20,
                7,
                &[0.05, 0.95],
            )
            .unwrap();
            for i in 0..3 {
                for value in [out.mean[i], out.quantiles[0][i], out.quantiles[1][i]] {
                    assert!(
                        (value - point[i]).abs() <= 1e-12 * point[i].abs().max(1.0),
                        "{family:?} {i}"
                    );
                }
                assert!(out.sd[i] < 1e-9);
            }
        }
    }
}
