//! Exactly rounded, order-independent, mergeable sums of money amounts.
//!
//! A plain `f64` running sum depends on the order of its additions, so a per-customer
//! total would change with the row order and the number of threads. The sums here do
//! not: each is the correctly rounded (to nearest, ties to even) `f64` of the exact
//! mathematical sum of its inputs, whatever the order or the split into merged parts.
//!
//! - [`Fixed`] holds a sum exactly as an `i128` in units of 2^-64. Every `f64` of
//!   magnitude below 2^62 whose lowest set bit is worth 2^-64 or more converts exactly
//!   (so every amount of magnitude 1/4096 or more, e.g. `12.34`, `0.01`, `0.001`,
//!   `1234567.891`), and additions are exact integer additions: the order cannot matter.
//! - Amounts that do not convert (`0.0001` has set bits down to 2^-66, `1e-30`, `1e20`)
//!   or that would overflow the `i128` are kept aside as "extras", and [`exact_sum`]
//!   rounds the fixed part and the extras together, exactly, with [`fsum`].
//! - [`fsum`] is the correctly rounded sum of any `f64`s: Shewchuk's exact partials with
//!   CPython's `math.fsum` half-way correction.

/// 2^-64, the unit of [`Fixed`].
const UNIT: f64 = f64::from_bits((1023 - 64) << 52);

/// A sum of f64 amounts held exactly as a fixed-point integer in units of 2^-64.
///
/// The range is about ±9.2e18 (±2^63); a single amount converts when its magnitude is
/// below 2^62, so two converted amounts never overflow and a running sum overflows only
/// when its exact value leaves the range: [`Fixed::checked_add`] then says `None` and the
/// caller keeps the amount (or the other part's [`Fixed::exact_parts`]) as an extra for
/// [`exact_sum`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Fixed(pub i128);

impl Fixed {
    pub const ZERO: Fixed = Fixed(0);

    /// `x` exactly in units of 2^-64, or `None` when it is not representable: not finite,
    /// `|x| >= 2^62`, or `x` has set bits below 2^-64 (subnormals, `1e-30`, and small
    /// decimals such as `0.0001`, whose nearest `f64` has bits down to 2^-66; every `f64`
    /// of magnitude 2^-12 = 1/4096 or more is fine). `-0.0` and `0.0` give `Fixed(0)`.
    ///
    /// Pure bit manipulation on the sign, exponent and mantissa of `x.to_bits()`.
    #[inline]
    pub fn of(x: f64) -> Option<Fixed> {
        let bits = x.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i32;
        let fraction = bits & ((1 << 52) - 1);
        if biased == 0 {
            // Zero, or a subnormal (below 2^-1022, far below 2^-64).
            return (fraction == 0).then_some(Fixed::ZERO);
        }
        // |x| = m * 2^(biased - 1075) = m * 2^shift units of 2^-64.
        let m = fraction | (1 << 52);
        let shift = biased - 1011;
        let magnitude = if shift < 0 {
            // The low -shift bits of m must be zero; m < 2^53 has at most 52 trailing
            // zeros, so a shift below -52 is refused here as well.
            if (m.trailing_zeros() as i32) < -shift {
                return None;
            }
            (m >> -shift) as i128
        } else if shift <= 73 {
            // m < 2^53, so m << 73 < 2^126: |x| < 2^62. Infinities and NaNs
            // (biased 2047, shift 1036) land in the other branch.
            ((m as u128) << shift) as i128
        } else {
            return None;
        };
        Some(Fixed(if bits >> 63 == 0 { magnitude } else { -magnitude }))
    }

    /// The exact sum, `None` on `i128` overflow.
    #[inline]
    pub fn checked_add(self, other: Fixed) -> Option<Fixed> {
        self.0.checked_add(other.0).map(Fixed)
    }

    /// The correctly rounded (to nearest, ties to even) `f64` of this exact value.
    ///
    /// `i128 as f64` rounds to nearest-even, and the scaling by 2^-64 is then exact (the
    /// result is 0 or at least 2^-64 in magnitude, far from the subnormals).
    #[inline]
    pub fn to_f64(self) -> f64 {
        self.0 as f64 * UNIT
    }

    /// Three `f64` whose exact sum is this value, for handing to [`fsum`] together with
    /// amounts kept aside. They are the magnitude's bits 86..128, 43..86 and 0..43 (each
    /// at most 43 bits, so exact), scaled and given the value's sign.
    pub fn exact_parts(self) -> [f64; 3] {
        const MASK: u128 = (1 << 43) - 1;
        let magnitude = self.0.unsigned_abs();
        let sign = if self.0 < 0 { -1.0 } else { 1.0 };
        // 2^(86-64) and 2^(43-64).
        let high = (magnitude >> 86) as f64 * f64::from_bits((1023 + 22) << 52);
        let middle = ((magnitude >> 43) & MASK) as f64 * f64::from_bits((1023 - 21) << 52);
        let low = (magnitude & MASK) as f64 * UNIT;
        [sign * high, sign * middle, sign * low]
    }

    /// The value as two words, the high and the low 64 bits (two's complement), for
    /// storage; [`Fixed::from_words`] gives it back unchanged.
    #[inline]
    pub fn to_words(self) -> (i64, i64) {
        ((self.0 >> 64) as i64, self.0 as i64)
    }

    /// The inverse of [`Fixed::to_words`].
    #[inline]
    pub fn from_words(high: i64, low: i64) -> Fixed {
        Fixed(((high as i128) << 64) | (low as u64 as i128))
    }
}

/// Adds `value` to the non-overlapping `partials` (Shewchuk's grow-expansion): the
/// partials keep the exact sum but the top one, which is returned for the caller to push
/// (or to handle when it is not finite).
#[inline]
fn grow(partials: &mut Vec<f64>, value: f64) -> f64 {
    let mut x = value;
    let mut kept = 0;
    for j in 0..partials.len() {
        let mut y = partials[j];
        if x.abs() < y.abs() {
            std::mem::swap(&mut x, &mut y);
        }
        // Two-sum: hi + lo == x + y exactly (|x| >= |y|).
        let hi = x + y;
        let lo = y - (hi - x);
        if lo != 0.0 {
            partials[kept] = lo;
            kept += 1;
        }
        x = hi;
    }
    partials.truncate(kept);
    x
}

/// The correctly rounded sum of `values` (round to nearest, ties to even), whatever their
/// order.
///
/// A port of CPython's `math.fsum` (Modules/mathmodule.c, `math_fsum`): Shewchuk's
/// algorithm keeps the running sum exactly as non-overlapping partials of increasing
/// magnitude; the result adds them from the top until the sum becomes inexact, then
/// corrects the one case where that rounding is off, a half-way remainder pushed beyond
/// the tie by the next partial of the same sign.
///
/// Special values, where CPython raises instead:
/// - a NaN among the values gives NaN; infinities give their IEEE sum (`inf` and `-inf`
///   together: NaN);
/// - when a step of the algorithm overflows (its sum rounds beyond `f64::MAX`) the
///   result is that infinity, counted like an infinite value: overflows of both signs
///   give NaN. A sum whose exact value overflows thus gives an infinity or NaN, never a
///   finite value. A step can also overflow when the exact sum is finite but a running
///   sum left the range first: `[f64::MAX, f64::MAX, -f64::MAX]` is `inf` while
///   `[f64::MAX, -f64::MAX, f64::MAX]` is `f64::MAX`. Only then can the result depend on
///   the order; it is then an infinity of the exact sum's sign, or NaN (checked on
///   random sums near `f64::MAX`, not proven). Money amounts are nowhere near.
///
/// The sum of no values, and an exact sum of zero, is `+0.0`.
pub fn fsum(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut partials: Vec<f64> = Vec::new();
    // Sum of the infinities, NaNs and overflows met; once non-zero it is the result.
    let mut special = 0.0f64;
    for value in values {
        let x = grow(&mut partials, value);
        if x != 0.0 {
            if x.is_finite() {
                partials.push(x);
            } else {
                // A non-finite value, or an overflow of the running sum (then `x` is the
                // infinity it rounded to).
                special += if value.is_finite() { x } else { value };
                partials.clear();
            }
        }
    }
    if special != 0.0 {
        // Infinite, or NaN (which is != 0.0 too).
        return special;
    }

    // Add the partials from the top down while the sum stays exact.
    let Some(mut hi) = partials.pop() else {
        return 0.0;
    };
    let mut lo = 0.0;
    while let Some(y) = partials.pop() {
        let x = hi;
        hi = x + y;
        lo = y - (hi - x);
        if lo != 0.0 {
            break;
        }
    }
    // `hi + lo` is exact; the partials left below it only matter when `lo` is exactly
    // half an ulp of `hi` (a tie `hi` won by ties-to-even): a next partial of the same
    // sign as `lo` then puts the exact sum beyond the tie, and it rounds the other way.
    if let Some(&below) = partials.last() {
        if (lo < 0.0 && below < 0.0) || (lo > 0.0 && below > 0.0) {
            let y = lo * 2.0;
            let x = hi + y;
            if x - hi == y {
                hi = x;
            }
        }
    }
    hi
}

/// The correctly rounded value of `fixed` plus the `extras` (amounts that did not fit a
/// [`Fixed`], or that overflowed it): `fixed.to_f64()` when `extras` is empty, else
/// [`fsum`] over `fixed.exact_parts()` and the extras (with its rules for non-finite
/// extras and overflow).
pub fn exact_sum(fixed: Fixed, extras: impl IntoIterator<Item = f64>) -> f64 {
    let mut extras = extras.into_iter().peekable();
    if extras.peek().is_none() {
        return fixed.to_f64();
    }
    fsum(fixed.exact_parts().into_iter().chain(extras))
}

/// Floats whose exact sum is the exact sum of the finite `values`, few of them: the
/// fixed-point part's three pieces, then the values off the fixed point kept as
/// non-overlapping partials (Shewchuk's). The partials of several slices together have
/// the exact sum of all their values, so [`fsum`] of them is its exact rounding: how a
/// sum is taken over the partitions of a cluster.
pub fn exact_partials(values: &[f64]) -> Vec<f64> {
    let mut fixed = Fixed::ZERO;
    let mut partials: Vec<f64> = Vec::new();
    for &value in values {
        if let Some(sum) = Fixed::of(value).and_then(|f| fixed.checked_add(f)) {
            fixed = sum;
            continue;
        }
        // Exact for finite values whose sums stay finite.
        let top = grow(&mut partials, value);
        partials.push(top);
    }
    let mut out = fixed.exact_parts().to_vec();
    out.extend(partials);
    out
}

#[cfg(test)]
mod tests;
