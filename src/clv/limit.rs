//! Fits that are limits, not estimates.
//!
//! On some data a model's likelihood has no interior maximum: it keeps rising as parameters
//! run off towards 0 or infinity (one to three repeat customers, one-time buyers only, the
//! same spend for everyone, survivors that all leave at one rate), or it is flat along some
//! direction. The optimiser then stops somewhere on the way, at a gradient below its
//! tolerance, and the parameters it returns (r ~ 1e8, a ~ 1e-8) are wherever it stopped:
//! they mean nothing. [`check`] tells such a stop from an estimate, in the fit's own units
//! (times scaled so that the longest T is 1, Gamma-Gamma's v over the mean spend):
//!
//! 1. a shape beyond [`SMALLEST`]..[`LARGEST`] (1e-6..1e6), or a scale (alpha, beta, v)
//!    beyond [`SMALLEST_SCALE`]..[`LARGEST`] (1e-8..1e6), ran off;
//! 2. at a converged stop, the objective still lower a log-unit ([`PROBE`]) further along
//!    the Hessian's flattest direction means the parameters along it are running off (the
//!    optimiser stopped on its gradient tolerance on the way to a limit below the bounds);
//! 3. otherwise a direction along which the Hessian is singular to rounding
//!    ([`SINGULAR`]) or negative is flat: the data do not pin its parameters down.
//!
//! Why the bounds are safe. Estimates seen in the tests and on real and simulated data:
//! CDNOW (the sample in weeks; the master in hours, days, weeks and months; penalties 0 to
//! 1), the donations (BG/BB), the sBG paper's cohorts, and simulations with extreme but
//! valid parameters (BG/NBD r from 0.05 to 20, alpha from 1 to 3000 days, a/b from 0.1/0.5
//! to 10/60, over two years; Gamma-Gamma p from 0.5 to 50, v up to 1.5e7; BG/BB and sBG
//! shapes from 0.2 to 200). Unpenalised, their shapes lie within 0.048..352 (r 0.048..19.6,
//! MBG/NBD's b up to 352, Gamma-Gamma's q up to 48, sBG's beta 75) and their scaled scales
//! within 0.0015..8.5 (Gamma-Gamma's v over the mean spend 0.1..4); penalties pull both
//! lower (MBG/NBD's a 1e-4 on CDNOW with `penalizer_coef = 1`, v over the mean spend 8e-5).
//! The one scale below that, alpha = 1.6e-6 with times scaled, came from a property test's
//! odd data (40 purchases within hours by some customers, others observed for a year): a
//! scale is a shape over the typical rate, hence the lower bound of 1e-8 for scales. Run-offs
//! go far past the bounds: r 1e7..1e9, a 1e-8..1e-14, p 1e6 (a coefficient of variation of a
//! customer's spends of 0.1 %). Fits the rules turn down whose data were simulated from
//! finite parameters (Gamma-Gamma with p = 200, BG/BB with delta = 40, or gamma/delta = 10/20
//! over 8 opportunities) have a profile likelihood that rises to the end, and lifetimes
//! raises its ConvergenceError on them too. Rule 2 cannot fire at an interior optimum: the
//! objective rises there by about λ/2 a log-unit away, λ the curvature along the flattest
//! direction, far above the rounding of the objective (1e-14 of it) unless λ is zero to
//! rounding (rule 3).
//!
//! A penalty keeps parameters from running off to infinity, and a penalised fit within the
//! bounds is an estimate of the penalised objective; it pulls parameters towards 0, so it
//! does not help where the data show no drop-out. [`with_penalty_advice`] tries it before
//! the message advises it.

use super::optimize::Objective;
use super::FitOptions;
use crate::error::RfmError;

/// Largest scaled parameter of an estimate: beyond it the parameter ran off to infinity.
pub(crate) const LARGEST: f64 = 1e6;
/// Smallest scaled shape of an estimate: below it the parameter ran off to 0.
pub(crate) const SMALLEST: f64 = 1e-6;
/// Smallest scaled scale (BG/NBD's and Pareto/NBD's alpha and beta with times scaled to the
/// longest T, Gamma-Gamma's v over the mean spend) of an estimate: a scale is the shape over
/// the typical rate, so a small shape and many purchases per observation take it lower.
pub(crate) const SMALLEST_SCALE: f64 = 1e-8;
/// An eigenvalue of the Hessian at most this share of the largest is zero to rounding: the
/// likelihood is flat along its direction.
const SINGULAR: f64 = 1e-12;
/// Repeat customers (or customers with a purchase) below which the message of a fit that
/// is a limit says they are too few: a model's spread of rates or probabilities across
/// customers needs dozens of them (`rfmkit.analyze` does not even try below 10).
pub(crate) const FEW: f64 = 30.0;
/// The penalty a failed fit is tried again with, so that the advice says whether it helps.
pub(crate) const TRIED_PENALTY: f64 = 0.01;

/// How a model's parameters shape the distributions across customers, for the words of a
/// message (indices into the parameters).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Shape {
    /// A gamma distribution with this shape and rate (BG/NBD's r and alpha) of `what`.
    Gamma {
        shape: usize,
        rate: usize,
        what: &'static str,
    },
    /// A beta distribution with these two shapes (BG/NBD's a and b) of `what`.
    Beta {
        first: usize,
        second: usize,
        what: &'static str,
    },
    /// One parameter with its meaning when it runs off to infinity and to 0.
    Single {
        index: usize,
        large: &'static str,
        small: &'static str,
    },
}

/// A model: its name, parameter names and the distributions they shape.
#[derive(Debug)]
pub(crate) struct Model<const N: usize> {
    pub name: &'static str,
    pub names: [&'static str; N],
    pub shapes: &'static [Shape],
    /// How the fit scales its parameters where it does ("with times scaled so that the
    /// longest T is 1"): a parameter's scaled value is given after this.
    pub scaled_as: &'static str,
    /// The indices of the scale parameters (alpha, beta, v), bounded below by
    /// [`SMALLEST_SCALE`]; the others are shapes, bounded by [`SMALLEST`].
    pub scales: &'static [usize],
}

/// The verdict of a fit where a parameter ran off.
const LIMIT: &str = "is a limit, not an estimate: ";
/// The verdict of a fit where the likelihood is flat but nothing ran off.
const NO_ESTIMATE: &str = "is not an estimate: ";

/// What the data of a fit hold, in the words of a message.
#[derive(Debug, Clone)]
pub(crate) struct Evidence {
    /// Why the data cannot give an estimate, when their counts say so ("Only 1 of 5
    /// customers made a repeat purchase: ...").
    pub why: Option<String>,
    /// The data's counts ("Data: 5 customers, 1 with a repeat purchase, ...").
    pub counts: String,
    /// What to do about a limit, besides a penalty (which [`with_penalty_advice`] tries).
    pub advice: String,
}

/// A count of customers (a sum of weights) as text: whole numbers without decimals.
pub(crate) fn count(value: f64) -> String {
    // An empty sum is -0.0.
    let value = value + 0.0;
    if value == value.round() && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// The evidence of the BTYD purchase models (BG/NBD, MBG/NBD, Pareto/NBD): customers, repeat
/// customers and distinct patterns.
pub(crate) fn purchase_evidence(customers: f64, repeat: f64, patterns: usize) -> Evidence {
    let (all, some) = (count(customers), count(repeat));
    let why = if repeat == 0.0 {
        Some(format!(
            "None of the {all} customers made a repeat purchase: nothing in the data tells how often customers \
             buy again or when they drop out."
        ))
    } else if repeat < FEW {
        Some(format!(
            "Only {some} of {all} customers made a repeat purchase: the data cannot tell the purchase rate from \
             the drop-out."
        ))
    } else {
        None
    };
    let advice = if repeat == 0.0 {
        "A repeat-purchase model needs customers who bought again: value these customers by what they spent \
         (rfmkit.clv.historical), or fit once some have come back"
    } else if repeat < FEW {
        "Fit on more customers (hundreds, with dozens who bought again), or use a simpler model \
         (rfmkit.clv.simple: one retention rate for everyone)"
    } else {
        "The data do not support this model's shape: try another purchase model (rfmkit.clv.BetaGeoFitter, \
         ModifiedBetaGeoFitter, ParetoNBDFitter) or a simpler one (rfmkit.clv.simple: one retention rate for \
         everyone)"
    };
    Evidence {
        why,
        counts: format!(
            "Data: {all} customers, {some} with a repeat purchase (frequency > 0), {patterns} distinct \
             (frequency, recency, T) patterns."
        ),
        advice: advice.to_string(),
    }
}

/// Where a fit stopped, as [`check`] judges it.
#[derive(Debug, Default)]
struct Judgement {
    /// Parameters beyond the bounds: index and whether towards 0.
    off: Vec<(usize, bool)>,
    /// Parameters along which the objective still falls, a few log-units further out from
    /// where the optimiser stopped: index and whether towards 0.
    rising: Vec<(usize, bool)>,
    /// Parameters along a direction in which the Hessian is singular or negative: the
    /// likelihood is flat (or a saddle) there.
    flat: Vec<usize>,
}

/// Where the optimiser stopped: the log-parameters `x` (in its own units), the objective it
/// minimised, its value there, and whether it converged (gradient below its tolerance).
pub(crate) struct Stop<'a, const N: usize, F: Objective<N>> {
    pub objective: &'a F,
    pub x: &'a [f64; N],
    pub value: f64,
    pub converged: bool,
}

/// Log-units from the stopping point at which [`check`] probes the objective along its
/// flattest direction.
const PROBE: f64 = 1.0;

/// Whether the fit stopped at a limit rather than an estimate: `Some((outcome, meaning))`
/// with what ran off or is flat (`outcome`, for [`RfmError::Convergence`]) and what that
/// means for the model's distributions (`meaning`), `None` for an estimate.
///
/// `params` are the parameters in the data's units, `scaled` in the fit's own (the bounds
/// apply to them); `stop` is where the optimiser stopped, `hessian` the Hessian of its
/// objective in log-parameters there.
///
/// Three rules: a parameter beyond [`SMALLEST`] or [`LARGEST`] ran off (wherever the
/// optimiser stopped); at a converged stop, an objective still lower [`PROBE`] log-units
/// further out along the Hessian's flattest direction means the parameters along it are
/// running off (the optimiser stopped on its gradient tolerance on the way to a limit); and
/// otherwise the parameters along a direction where the Hessian is singular to rounding or
/// negative are flat.
pub(crate) fn check<const N: usize>(
    model: &Model<N>,
    params: &[f64; N],
    scaled: &[f64; N],
    stop: &Stop<'_, N, impl Objective<N>>,
    hessian: &[[f64; N]; N],
) -> Option<(String, String)> {
    let judgement = judge(model, scaled, stop, hessian);
    if judgement.off.is_empty() && judgement.flat.is_empty() && judgement.rising.is_empty() {
        return None;
    }
    let names = &model.names;
    // A parameter's value, with its value in the fit's own units where they differ.
    let value = |i: usize| {
        if params[i] == scaled[i] || !params[i].is_finite() {
            format!("{:.2e}", params[i])
        } else {
            format!("{:.2e} ({:.2e} {})", params[i], scaled[i], model.scaled_as)
        }
    };
    let shown = |i: usize| format!("{} = {}", names[i], value(i));
    let direction = |towards_zero: bool| if towards_zero { "0" } else { "infinity" };
    let mut parts: Vec<String> = judgement
        .off
        .iter()
        .map(|&(i, towards_zero)| {
            format!(
                "{} ran off towards {}, to {}",
                names[i],
                direction(towards_zero),
                value(i)
            )
        })
        .collect();
    if !judgement.rising.is_empty() {
        let moving: Vec<String> = judgement
            .rising
            .iter()
            .map(|&(i, towards_zero)| format!("{} towards {}", names[i], direction(towards_zero)))
            .collect();
        let at: Vec<String> = judgement.rising.iter().map(|&(i, _)| shown(i)).collect();
        parts.push(format!(
            "the likelihood still rises as {} run{} off (the optimiser stopped on the way, at {})",
            join_and(&moving),
            if moving.len() == 1 { "s" } else { "" },
            at.join(", ")
        ));
    }
    if !judgement.flat.is_empty() {
        let flat: Vec<String> = judgement.flat.iter().map(|&i| shown(i)).collect();
        parts.push(format!(
            "the likelihood is flat in {} (its Hessian is singular there, or not positive: the data do not pin \
             {} down)",
            join_and(&flat),
            if flat.len() == 1 { "it" } else { "them" }
        ));
    }
    let verdict = if judgement.off.is_empty() && judgement.rising.is_empty() {
        NO_ESTIMATE
    } else {
        LIMIT
    };
    let outcome = format!("{verdict}{}", join_and(&parts));
    // Parameters found running off by the probe have a direction of their own only where
    // they move together (all towards 0, or all towards infinity); mixed, the probe only
    // shows one way along a ridge.
    let together = judgement.rising.windows(2).all(|pair| pair[0].1 == pair[1].1);
    let running: Vec<(usize, bool)> = judgement
        .off
        .iter()
        .chain(if together { &judgement.rising[..] } else { &[] })
        .copied()
        .collect();
    let meaning = meaning(model.shapes, &running);
    Some((outcome, meaning))
}

fn judge<const N: usize>(
    model: &Model<N>,
    scaled: &[f64; N],
    stop: &Stop<'_, N, impl Objective<N>>,
    hessian: &[[f64; N]; N],
) -> Judgement {
    let mut judgement = Judgement::default();
    for (i, &value) in scaled.iter().enumerate() {
        let smallest = if model.scales.contains(&i) {
            SMALLEST_SCALE
        } else {
            SMALLEST
        };
        if !(value > smallest) {
            judgement.off.push((i, true));
        } else if !(value < LARGEST) {
            judgement.off.push((i, false));
        }
    }
    // Away from a stationary point the Hessian and the objective around say nothing of a
    // limit: the optimiser's own failure is the message.
    let finite = hessian.iter().flatten().chain(stop.x).all(|v| v.is_finite());
    if !judgement.off.is_empty() || !stop.converged || !finite {
        return judgement;
    }
    let (values, vectors) = symmetric_eigen(hessian);
    let largest = values.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    // The flattest direction, probed both ways: at an interior optimum the objective rises
    // by about PROBE² λ / 2 on each side, λ its curvature there (far above rounding unless
    // λ is, which the next rule catches); on the way to a limit it still falls on one side.
    let flattest = (0..N)
        .min_by(|&j, &k| values[j].total_cmp(&values[k]))
        .unwrap_or(0);
    let direction: [f64; N] = std::array::from_fn(|i| vectors[i][flattest]);
    let tolerance = 1e-14 * stop.value.abs().max(1.0);
    for sign in [1.0, -1.0] {
        let probe: [f64; N] = std::array::from_fn(|i| stop.x[i] + sign * PROBE * direction[i]);
        let (further, _) = stop.objective.value_and_gradient(&probe);
        if further < stop.value - tolerance {
            judgement.rising = (0..N)
                .filter(|&i| direction[i].abs() >= 0.3)
                .map(|i| (i, sign * direction[i] < 0.0))
                .collect();
            return judgement;
        }
    }
    for k in 0..N {
        // Singular to rounding, or negative: flat (or a saddle) along this direction.
        if !(values[k] > SINGULAR * largest) {
            for i in 0..N {
                if vectors[i][k].abs() >= 0.3 && !judgement.flat.contains(&i) {
                    judgement.flat.push(i);
                }
            }
        }
    }
    judgement.flat.sort_unstable();
    judgement
}

/// What the parameters that ran off mean for the model's distributions.
fn meaning(shapes: &[Shape], off: &[(usize, bool)]) -> String {
    let direction = |i: usize| off.iter().find(|o| o.0 == i).map(|o| o.1);
    let (up, down) = (
        |i: usize| direction(i) == Some(false),
        |i: usize| direction(i) == Some(true),
    );
    let mut sentences = Vec::new();
    for shape in shapes {
        let sentence = match *shape {
            Shape::Gamma { shape, rate, what } => {
                if up(shape) {
                    Some(format!("the {what} collapse to one value (every customer alike)"))
                } else if down(shape) || up(rate) {
                    Some(format!("the {what} pile up at 0"))
                } else if down(rate) {
                    Some(format!("the {what} grow without bound"))
                } else {
                    None
                }
            }
            Shape::Beta { first, second, what } => {
                if up(first) && up(second) {
                    Some(format!("the {what} collapse to one value (every customer alike)"))
                } else if down(first) && down(second) {
                    Some(format!("the {what} split between 0 and 1"))
                } else if down(first) || up(second) {
                    Some(format!("the {what} pile up at 0"))
                } else if down(second) || up(first) {
                    Some(format!("the {what} pile up at 1"))
                } else {
                    None
                }
            }
            Shape::Single { index, large, small } => match direction(index) {
                Some(false) if !large.is_empty() => Some(large.to_string()),
                Some(true) if !small.is_empty() => Some(small.to_string()),
                _ => None,
            },
        };
        sentences.extend(sentence);
    }
    if sentences.is_empty() {
        return String::new();
    }
    let mut text = join_and(&sentences);
    text[..1].make_ascii_uppercase();
    format!("{text}.")
}

fn join_and<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [init @ .., last] => {
            let head: Vec<&str> = init.iter().map(AsRef::as_ref).collect();
            format!("{} and {}", head.join(", "), last.as_ref())
        }
    }
}

/// The error of a fit that stopped at a limit: its `outcome` and `meaning` from [`check`],
/// with the data's evidence.
pub(crate) fn limit_error(
    model: &'static str,
    outcome: String,
    meaning: &str,
    evidence: &Evidence,
) -> RfmError {
    let reason = [meaning, evidence.why.as_deref().unwrap_or(""), &evidence.counts]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    RfmError::Convergence {
        model,
        outcome,
        reason,
        advice: format!("{}.", evidence.advice),
    }
}

/// Runs `fit` with `options`; when it fails with [`RfmError::Convergence`] and its penalty is
/// below [`TRIED_PENALTY`], runs it again with that penalty and says in the error's advice
/// whether it gives a fit (with `params_of` its parameters, named `names`): the advice to add
/// a penalty is only given where it works.
pub(crate) fn with_penalty_advice<T, const N: usize>(
    options: &FitOptions,
    names: [&str; N],
    params_of: impl Fn(&T) -> [f64; N],
    mut fit: impl FnMut(&FitOptions) -> Result<T, RfmError>,
) -> Result<T, RfmError> {
    let failed = fit(options);
    let Err(RfmError::Convergence {
        model,
        outcome,
        reason,
        advice,
    }) = failed
    else {
        return failed;
    };
    if !(options.penalizer_coef < TRIED_PENALTY) {
        return Err(RfmError::Convergence {
            model,
            outcome,
            reason,
            advice,
        });
    }
    let retry = FitOptions {
        penalizer_coef: TRIED_PENALTY,
        ..options.clone()
    };
    let penalty = match fit(&retry) {
        Ok(fitted) => {
            let params = params_of(&fitted);
            let values: Vec<String> = names
                .iter()
                .zip(params)
                .map(|(name, value)| format!("{name} = {value:.4}"))
                .collect();
            format!(
                "penalizer_coef={TRIED_PENALTY} gives a finite fit on this data ({}): a fit shrunk towards small \
                 parameters, to use with care.",
                values.join(", ")
            )
        }
        Err(RfmError::Convergence { outcome, .. }) => {
            let findings = outcome
                .strip_prefix(LIMIT)
                .or_else(|| outcome.strip_prefix(NO_ESTIMATE))
                .map_or_else(|| format!("the fit {outcome}"), str::to_string);
            format!("A penalty does not help here: with penalizer_coef={TRIED_PENALTY} too, {findings}.")
        }
        Err(_) => String::new(),
    };
    Err(RfmError::Convergence {
        model,
        outcome,
        reason,
        advice: format!("{advice} {penalty}").trim_end().to_string(),
    })
}

/// Eigenvalues and eigenvectors (as the columns of the matrix) of a symmetric matrix, by
/// cyclic Jacobi rotations.
fn symmetric_eigen<const N: usize>(matrix: &[[f64; N]; N]) -> ([f64; N], [[f64; N]; N]) {
    let mut a = *matrix;
    let mut v: [[f64; N]; N] =
        std::array::from_fn(|i| std::array::from_fn(|j| if i == j { 1.0 } else { 0.0 }));
    for _ in 0..100 {
        let off: f64 = (0..N)
            .flat_map(|i| (0..N).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i][j] * a[i][j])
            .sum();
        let diagonal: f64 = (0..N).map(|i| a[i][i] * a[i][i]).sum();
        if !(off > 1e-30 * diagonal) {
            break;
        }
        for p in 0..N {
            for q in p + 1..N {
                if a[p][q] == 0.0 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..N {
                    let (akp, akq) = (a[k][p], a[k][q]);
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for k in 0..N {
                    let (apk, aqk) = (a[p][k], a[q][k]);
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for k in 0..N {
                    let (vkp, vkq) = (v[k][p], v[k][q]);
                    v[k][p] = c * vkp - s * vkq;
                    v[k][q] = s * vkp + c * vkq;
                }
            }
        }
    }
    (std::array::from_fn(|i| a[i][i]), v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eigen_decomposition_reassembles_the_matrix() {
        let m = [
            [4.0, 1.0, 0.5, 0.0],
            [1.0, 3.0, 0.2, 0.1],
            [0.5, 0.2, 1e-9, 0.0],
            [0.0, 0.1, 0.0, -2.0],
        ];
        let (values, vectors) = symmetric_eigen(&m);
        for i in 0..4 {
            for j in 0..4 {
                let back: f64 = (0..4).map(|k| vectors[i][k] * values[k] * vectors[j][k]).sum();
                assert!((back - m[i][j]).abs() < 1e-12, "{i}{j}: {back} {}", m[i][j]);
            }
        }
    }

    const TOY: Model<2> = Model {
        name: "toy",
        scaled_as: "",
        scales: &[],
        names: ["alpha", "beta"],
        shapes: &[Shape::Beta {
            first: 0,
            second: 1,
            what: "churn probabilities",
        }],
    };

    /// `½ (x − centre)ᵀ H (x − centre)` in log-parameters.
    struct Quadratic {
        centre: [f64; 2],
        hessian: [[f64; 2]; 2],
    }

    impl Objective<2> for Quadratic {
        fn value_and_gradient(&self, x: &[f64; 2]) -> (f64, [f64; 2]) {
            let (f, g, _) = self.value_gradient_hessian(x);
            (f, g)
        }
        fn value_gradient_hessian(&self, x: &[f64; 2]) -> (f64, [f64; 2], [[f64; 2]; 2]) {
            let d = [x[0] - self.centre[0], x[1] - self.centre[1]];
            let h = self.hessian;
            let g = [h[0][0] * d[0] + h[0][1] * d[1], h[1][0] * d[0] + h[1][1] * d[1]];
            (0.5 * (d[0] * g[0] + d[1] * g[1]), g, h)
        }
    }

    /// Checks `params` (log-parameters `ln params`) with the quadratic of `hessian` centred there.
    fn judged(params: [f64; 2], hessian: [[f64; 2]; 2]) -> Option<(String, String)> {
        let x = params.map(f64::ln);
        let objective = Quadratic { centre: x, hessian };
        let stop = Stop {
            objective: &objective,
            x: &x,
            value: 0.0,
            converged: true,
        };
        check(&TOY, &params, &params, &stop, &hessian)
    }

    #[test]
    fn run_offs_and_flat_directions_are_named() {
        let good = [[2.0, 0.5], [0.5, 1.0]];
        assert!(judged([0.7, 1.2], good).is_none());
        let (outcome, meaning) = judged([3e-8, 1.2], good).unwrap();
        assert!(
            outcome.contains("alpha ran off towards 0, to 3.00e-8"),
            "{outcome}"
        );
        assert_eq!(meaning, "The churn probabilities pile up at 0.");
        let (_, meaning) = judged([3e7, 2e7], good).unwrap();
        assert_eq!(
            meaning,
            "The churn probabilities collapse to one value (every customer alike)."
        );
        // A Hessian that is singular along beta: flat in beta.
        let (outcome, _) = judged([0.7, 1.2], [[2.0, 0.0], [0.0, 0.0]]).unwrap();
        assert!(
            outcome.starts_with("is not an estimate: the likelihood is flat in beta = 1.20e0"),
            "{outcome}"
        );
        // Negative along beta (a saddle): the objective falls as beta moves.
        let (outcome, _) = judged([0.7, 1.2], [[2.0, 0.0], [0.0, -1e-3]]).unwrap();
        assert!(
            outcome.starts_with("is a limit, not an estimate: the likelihood still rises as beta towards"),
            "{outcome}"
        );
        // Positive, tiny but above rounding, with the objective rising on both sides: a
        // poorly determined estimate (its standard errors say so), not a limit.
        assert!(judged([0.7, 1.2], [[2.0, 0.0], [0.0, 1e-9]]).is_none());
    }

    /// `e^(−(x₀ + x₁)) + (x₀ − x₁)²`: falls for ever as both log-parameters grow together.
    struct RunOff;

    impl Objective<2> for RunOff {
        fn value_and_gradient(&self, x: &[f64; 2]) -> (f64, [f64; 2]) {
            let (f, g, _) = self.value_gradient_hessian(x);
            (f, g)
        }
        fn value_gradient_hessian(&self, x: &[f64; 2]) -> (f64, [f64; 2], [[f64; 2]; 2]) {
            let e = (-(x[0] + x[1])).exp();
            let d = x[0] - x[1];
            let g = [-e + 2.0 * d, -e - 2.0 * d];
            let h = [[e + 2.0, e - 2.0], [e - 2.0, e + 2.0]];
            (e + d * d, g, h)
        }
    }

    #[test]
    fn an_objective_still_falling_further_out_is_a_run_off() {
        // Stopped where the gradient is ~1e-5, far inside the bounds, with a Hessian that is
        // positive definite; but a log-unit further out the objective is lower still.
        let x = [6.0, 6.0];
        let (value, _, hessian) = RunOff.value_gradient_hessian(&x);
        let params = x.map(f64::exp);
        let stop = Stop {
            objective: &RunOff,
            x: &x,
            value,
            converged: true,
        };
        let (outcome, meaning) = check(&TOY, &params, &params, &stop, &hessian).unwrap();
        assert!(
            outcome.starts_with(
                "is a limit, not an estimate: the likelihood still rises as alpha towards infinity and beta towards \
                 infinity run off (the optimiser stopped on the way, at alpha = 4.03e2, beta = 4.03e2)"
            ),
            "{outcome}"
        );
        assert_eq!(
            meaning,
            "The churn probabilities collapse to one value (every customer alike)."
        );
    }
}
