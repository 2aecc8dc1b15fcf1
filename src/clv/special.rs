//! Special functions the CLV models need: log-gamma (from `libm`), digamma and the
//! Gauss hypergeometric function 2F1 on `0 <= z < 1`.

/// `ln Γ(x)` for `x > 0`.
pub(crate) fn ln_gamma(x: f64) -> f64 {
    libm::lgamma(x)
}

/// `ln |Γ(x)|` and the sign of `Γ(x)`; the sign is 0 at the poles (0, -1, -2, ...).
fn ln_gamma_signed(x: f64) -> (f64, f64) {
    if x <= 0.0 && x == x.floor() {
        return (f64::INFINITY, 0.0);
    }
    let (value, sign) = libm::lgamma_r(x);
    (value, if sign < 0 { -1.0 } else { 1.0 })
}

/// `ln B(x, y) = ln Γ(x) + ln Γ(y) − ln Γ(x + y)` for `x, y > 0`.
pub(crate) fn ln_beta(x: f64, y: f64) -> f64 {
    ln_gamma(x) + ln_gamma(y) - ln_gamma(x + y)
}

/// The digamma function ψ(x) = d ln Γ(x) / dx for `x > 0`: the recurrence
/// ψ(x) = ψ(x + 1) − 1/x up to x ≥ 10, then the asymptotic series (error < 1e-15).
pub(crate) fn digamma(mut x: f64) -> f64 {
    if !(x > 0.0) || !x.is_finite() {
        return f64::NAN;
    }
    let mut shift = 0.0;
    while x < 10.0 {
        shift -= 1.0 / x;
        x += 1.0;
    }
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    // Bernoulli terms B_2k / (2k x^2k), k = 1..7.
    let series = inv2
        * (1.0 / 12.0
            - inv2
                * (1.0 / 120.0
                    - inv2
                        * (1.0 / 252.0
                            - inv2
                                * (1.0 / 240.0
                                    - inv2 * (1.0 / 132.0 - inv2 * (691.0 / 32760.0 - inv2 / 12.0))))));
    shift + x.ln() - 0.5 * inv - series
}

/// The trigamma function ψ₁(x) = dψ(x)/dx for `x > 0`: the recurrence
/// ψ₁(x) = ψ₁(x + 1) + 1/x² up to x ≥ 10, then the asymptotic series (error < 1e-15).
pub(crate) fn trigamma(mut x: f64) -> f64 {
    if !(x > 0.0) || !x.is_finite() {
        return f64::NAN;
    }
    let mut shift = 0.0;
    while x < 10.0 {
        shift += 1.0 / (x * x);
        x += 1.0;
    }
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    // 1/x + 1/(2x²) + Σ B_2k / x^(2k+1), k = 1..6.
    let series = inv
        * (1.0
            + inv * 0.5
            + inv2
                * (1.0 / 6.0
                    - inv2
                        * (1.0 / 30.0
                            - inv2
                                * (1.0 / 42.0
                                    - inv2 * (1.0 / 30.0 - inv2 * (5.0 / 66.0 - inv2 * 691.0 / 2730.0))))));
    shift + series
}

/// Sum of the terms n ≥ 1 of the power series of 2F1(a, b; c; z), or `None` when it
/// does not converge within `max_terms` terms.
fn series_tail(a: f64, b: f64, c: f64, z: f64, max_terms: usize) -> Option<f64> {
    let mut term = 1.0;
    let mut sum = 0.0;
    for n in 0..max_terms {
        let k = n as f64;
        let ratio = (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z;
        term *= ratio;
        sum += term;
        if term == 0.0 {
            return Some(sum);
        }
        let rho = ratio.abs();
        // Once the terms shrink geometrically, the tail is below |term| ρ / (1 − ρ).
        // Relative to the tail itself (not to 1 + tail): the callers want 2F1 − 1 to
        // full relative accuracy when it is tiny (small z).
        if rho < 1.0 && term.abs() * rho / (1.0 - rho) <= 1e-16 * sum.abs() {
            return Some(sum);
        }
        if !sum.is_finite() {
            return None;
        }
    }
    None
}

/// `ln 2F1(a, b; c; z)` for `a, b, c > 0` and `0 <= z < 1`, where every term of the
/// power series is positive (no cancellation), rescaled so that it never overflows.
pub(crate) fn ln_hyp2f1_positive(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    if !(a > 0.0 && b > 0.0 && c > 0.0 && (0.0..1.0).contains(&z)) {
        return None;
    }
    // `tail` = sum − 1 until the first rescaling: ln_1p of it keeps the digits of a
    // result near 0 (ln of a sum near 1 loses them).
    let (mut term, mut sum, mut tail, mut ln_scale) = (1.0_f64, 1.0_f64, 0.0_f64, 0.0_f64);
    for n in 0..5_000_000_usize {
        let k = n as f64;
        let ratio = (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z;
        term *= ratio;
        sum += term;
        tail += term;
        if ratio < 1.0 && term * ratio / (1.0 - ratio) <= 1e-16 * sum {
            return Some(if ln_scale == 0.0 {
                tail.ln_1p()
            } else {
                ln_scale + sum.ln()
            });
        }
        if sum > 1e250 {
            ln_scale += sum.ln();
            term /= sum;
            sum = 1.0;
        }
    }
    None
}

/// 2F1(a, b; c; z) for `0 <= z < 1`, `c` not a non-positive integer; `None` when no
/// method converges (a caller turns that into NaN).
///
/// The power series for `z <= 0.9`; above, the linear transformation to `1 − z`
/// (Abramowitz & Stegun 15.3.6), except when `c − a − b` is (close to) an integer,
/// where that transformation cancels and the power series is summed further.
#[cfg(test)]
pub(crate) fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    Some(1.0 + hyp2f1_minus_one(a, b, c, z)?)
}

/// 2F1(a, b; c; z) − 1, accurate when the result is close to 1.
pub(crate) fn hyp2f1_minus_one(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    if !(0.0..1.0).contains(&z) {
        return None;
    }
    let s = c - a - b;
    let near_integer = (s - s.round()).abs() < 1e-4;
    if z <= 0.9 || near_integer {
        return series_tail(a, b, c, z, 2_000_000);
    }
    let w = 1.0 - z;
    let first = 1.0 + series_tail(a, b, 1.0 - s, w, 100_000)?;
    let second = 1.0 + series_tail(c - a, c - b, s + 1.0, w, 100_000)?;
    let (lg_c, sg_c) = ln_gamma_signed(c);
    let (lg_s, sg_s) = ln_gamma_signed(s);
    let (lg_ca, sg_ca) = ln_gamma_signed(c - a);
    let (lg_cb, sg_cb) = ln_gamma_signed(c - b);
    let (lg_ms, sg_ms) = ln_gamma_signed(-s);
    let (lg_a, sg_a) = ln_gamma_signed(a);
    let (lg_b, sg_b) = ln_gamma_signed(b);
    // 1/Γ at a pole is 0: that term vanishes.
    let coef_first = if sg_ca == 0.0 || sg_cb == 0.0 {
        0.0
    } else {
        sg_c * sg_s * sg_ca * sg_cb * (lg_c + lg_s - lg_ca - lg_cb).exp()
    };
    let coef_second = if sg_a == 0.0 || sg_b == 0.0 {
        0.0
    } else {
        sg_c * sg_ms * sg_a * sg_b * (lg_c + lg_ms - lg_a - lg_b + s * w.ln()).exp()
    };
    let value = coef_first * first + coef_second * second;
    value.is_finite().then_some(value - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1e-300)
    }

    #[test]
    fn digamma_known_values() {
        // ψ(1) = −γ, ψ(1/2) = −γ − 2 ln 2, ψ(x+1) = ψ(x) + 1/x.
        let euler = 0.577_215_664_901_532_9;
        assert!(close(digamma(1.0), -euler, 1e-14));
        assert!(close(digamma(0.5), -euler - 2.0 * 2f64.ln(), 1e-14));
        for x in [0.01, 0.3, 2.5, 17.0, 1234.5] {
            assert!(close(digamma(x + 1.0), digamma(x) + 1.0 / x, 1e-13), "{x}");
        }
    }

    #[test]
    fn trigamma_known_values() {
        // ψ₁(1) = π²/6, ψ₁(1/2) = π²/2, ψ₁(x+1) = ψ₁(x) − 1/x², and ψ₁ = ψ′.
        let pi2 = std::f64::consts::PI * std::f64::consts::PI;
        assert!(close(trigamma(1.0), pi2 / 6.0, 1e-14));
        assert!(close(trigamma(0.5), pi2 / 2.0, 1e-14));
        for x in [0.01, 0.3, 2.5, 17.0, 1234.5] {
            assert!(
                close(trigamma(x + 1.0), trigamma(x) - 1.0 / (x * x), 1e-12),
                "{x}"
            );
            let h = 1e-5 * x;
            let numeric = (digamma(x + h) - digamma(x - h)) / (2.0 * h);
            assert!(close(trigamma(x), numeric, 1e-7), "{x}");
        }
    }

    #[test]
    fn hyp2f1_closed_forms() {
        // 2F1(1, 1; 2; z) = −ln(1 − z)/z ; 2F1(a, b; b; z) = (1 − z)^−a.
        for z in [0.0_f64, 0.1, 0.5, 0.89, 0.95, 0.999] {
            let want = if z == 0.0 { 1.0 } else { -(1.0 - z).ln() / z };
            let got = hyp2f1(1.0, 1.0, 2.0, z).unwrap();
            assert!(close(got, want, 1e-10), "{z}: {got} {want}");
            let got = hyp2f1(0.7, 2.3, 2.3, z).unwrap();
            assert!(close(got, (1.0 - z).powf(-0.7), 1e-10), "{z}: {got}");
        }
        // Both branches agree around the switch.
        let (a, b, c) = (1.37, 0.61, 3.2);
        let below = hyp2f1(a, b, c, 0.9).unwrap();
        let above = hyp2f1(a, b, c, 0.900_000_001).unwrap();
        assert!(close(below, above, 1e-7));
        assert!(hyp2f1(1.0, 1.0, 2.0, 1.0).is_none());
    }
}
