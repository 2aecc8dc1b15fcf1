//! Adaptive Gauss–Legendre quadrature of two smooth integrands that share their nodes
//! (a weighted integral and its normalising constant, whose ratio is wanted).

/// Positive nodes of the 20-point Gauss–Legendre rule on [−1, 1].
const NODES: [f64; 10] = [
    0.993_128_599_185_094_9,
    0.963_971_927_277_913_8,
    0.912_234_428_251_326,
    0.839_116_971_822_218_8,
    0.746_331_906_460_150_8,
    0.636_053_680_726_515,
    0.510_867_001_950_827_1,
    0.373_706_088_715_419_56,
    0.227_785_851_141_645_08,
    0.076_526_521_133_497_33,
];
/// Their weights.
const WEIGHTS: [f64; 10] = [
    0.017_614_007_139_152_118,
    0.040_601_429_800_386_94,
    0.062_672_048_334_109_06,
    0.083_276_741_576_704_75,
    0.101_930_119_817_240_44,
    0.118_194_531_961_518_42,
    0.131_688_638_449_176_63,
    0.142_096_109_318_382_05,
    0.149_172_986_472_603_75,
    0.152_753_387_130_725_85,
];

fn gauss(f: &impl Fn(f64) -> [f64; 2], lo: f64, hi: f64) -> [f64; 2] {
    let (mid, half) = (0.5 * (lo + hi), 0.5 * (hi - lo));
    let mut sum = [0.0; 2];
    for (node, weight) in NODES.iter().zip(WEIGHTS) {
        for value in [f(mid - half * node), f(mid + half * node)] {
            sum[0] += weight * value[0];
            sum[1] += weight * value[1];
        }
    }
    [sum[0] * half, sum[1] * half]
}

struct Panel {
    lo: f64,
    hi: f64,
    /// The rule on both halves.
    value: [f64; 2],
    /// |rule on the whole − rule on the halves|, a (pessimistic) bound on the error
    /// of `value` for an analytic integrand.
    error: [f64; 2],
}

impl Panel {
    fn new(f: &impl Fn(f64) -> [f64; 2], lo: f64, hi: f64, whole: [f64; 2]) -> (Panel, [f64; 2], [f64; 2]) {
        let mid = 0.5 * (lo + hi);
        let (left, right) = (gauss(f, lo, mid), gauss(f, mid, hi));
        let value = [left[0] + right[0], left[1] + right[1]];
        let error = [(whole[0] - value[0]).abs(), (whole[1] - value[1]).abs()];
        (Panel { lo, hi, value, error }, left, right)
    }
}

/// `offset + ∫ f` over `[breakpoints[0], breakpoints[last]]`, for `f` with two
/// non-negative components, smooth between consecutive (sorted) breakpoints.
///
/// Panels are bisected, largest estimated error first, until the sum over panels of
/// `error_k / total_k` is below `tolerance` or `max_panels` is reached (the estimate so
/// far is then returned). Returns the totals and that error estimate.
pub(crate) fn integrate_pair(
    f: impl Fn(f64) -> [f64; 2],
    breakpoints: &[f64],
    offset: [f64; 2],
    tolerance: f64,
    max_panels: usize,
) -> ([f64; 2], f64) {
    // Each panel keeps the rule on its halves, so that a bisection reuses them.
    let mut panels: Vec<(Panel, [f64; 2], [f64; 2])> = breakpoints
        .windows(2)
        .filter(|pair| pair[1] > pair[0])
        .map(|pair| Panel::new(&f, pair[0], pair[1], gauss(&f, pair[0], pair[1])))
        .collect();
    loop {
        let mut total = offset;
        for (panel, _, _) in &panels {
            total[0] += panel.value[0];
            total[1] += panel.value[1];
        }
        let relative = |error: [f64; 2]| {
            let part = |k: usize| if total[k] > 0.0 { error[k] / total[k] } else { 0.0 };
            part(0) + part(1)
        };
        let (mut worst, mut worst_error, mut sum_error) = (None, 0.0_f64, 0.0_f64);
        for (k, (panel, _, _)) in panels.iter().enumerate() {
            let e = relative(panel.error);
            sum_error += e;
            if e > worst_error {
                worst_error = e;
                worst = Some(k);
            }
        }
        let Some(worst) = worst.filter(|_| sum_error > tolerance && panels.len() < max_panels) else {
            return (total, sum_error);
        };
        let (panel, left, right) = panels.swap_remove(worst);
        let mid = 0.5 * (panel.lo + panel.hi);
        if !(mid > panel.lo && mid < panel.hi) {
            // The panel cannot be split further in floating point.
            return (total, sum_error);
        }
        panels.push(Panel::new(&f, panel.lo, mid, left));
        panels.push(Panel::new(&f, mid, panel.hi, right));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrates_a_narrow_peak_and_its_mass() {
        // A normal density of width 1e-4 at 0.3, and x times it: mass 1, mean 0.3.
        let sigma = 1e-4;
        let density = |x: f64| {
            let u = (x - 0.3) / sigma;
            let d = (-0.5 * u * u).exp() / (sigma * (2.0 * std::f64::consts::PI).sqrt());
            [x * d, d]
        };
        let breakpoints: Vec<f64> = [-5.0, 0.3 - 8.0 * sigma, 0.3, 0.3 + 8.0 * sigma, 5.0].to_vec();
        let (total, error) = integrate_pair(density, &breakpoints, [0.0; 2], 1e-14, 2000);
        assert!((total[1] - 1.0).abs() < 1e-13, "{total:?} {error}");
        assert!((total[0] / total[1] - 0.3).abs() < 1e-14, "{total:?}");
        // Polynomials of degree < 40 are exact on one panel.
        let (total, _) = integrate_pair(|x| [x.powi(39), 1.0], &[0.0, 2.0], [0.0; 2], 1e-15, 1);
        assert!((total[0] / (2f64.powi(40) / 40.0) - 1.0).abs() < 1e-14);
        assert!((total[1] - 2.0).abs() < 1e-15);
    }
}
