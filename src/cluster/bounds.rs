//! Hamerly's bounds: per point, its label, an upper bound on the distance to its centre
//! and a lower bound on the distance to every other centre, stored as `f32` rounded
//! outwards; and the drift of the centres that keeps them bounds from pass to pass
//! without rewriting them.

use super::distance::squared_distance;

/// Hamerly's state per point: its label, an upper bound `u` on the distance to its
/// centre and the "slack" `s`, such that `u + s` is a lower bound on the distance to
/// every other centre (both relative to the centres' drift, see [`Drift`]). They are
/// stored as `f32`, rounded outwards (`u` up, `s` down) so that they stay bounds: half
/// the memory traffic of `f64` bounds, and the pass tests the slack directly (`s`
/// against the drift), with one comparison per bound.
pub(super) struct Bounds {
    pub(super) labels: Vec<u32>,
    pub(super) upper: Vec<f32>,
    pub(super) slack: Vec<f32>,
}

/// Relative margin of the `f32` roundings: 2⁻²² is at least twice the relative spacing
/// of `f32` values, so a shift by it survives the rounding to the nearest `f32`.
pub(super) const F32_MARGIN: f64 = 1.0 / 4_194_304.0;
/// Absolute margin, for the subnormal `f32` values (twice the smallest one).
pub(super) const F32_TINY: f64 = 2.802596928649634e-45;

/// An `f32` at least `x` (an upper bound stays one), without a branch; `x` is not a
/// NaN. Slightly above `x` even when `x` is an `f32`: the bounds only loosen by a few
/// `f32` units.
#[inline(always)]
pub(super) fn f32_up(x: f64) -> f32 {
    ((x + ((x.abs() * F32_MARGIN).min(f64::MAX) + F32_TINY)) as f32).max(f32::MIN)
}

/// An `f32` at most `x` (a lower bound stays one), without a branch; `x` is not a NaN.
#[inline(always)]
pub(super) fn f32_down(x: f64) -> f32 {
    ((x - ((x.abs() * F32_MARGIN).min(f64::MAX) + F32_TINY)) as f32).min(f32::MAX)
}

/// The stored bounds of a point at distance `best` (not squared) from its centre and
/// `second` from the next nearest, when the centre's drift is `drift_upper` and the
/// lower drift `drift_lower` (see [`Drift`]): `(u, s)`.
#[inline(always)]
pub(super) fn stored_bounds(best: f64, second: f64, drift_upper: f64, drift_lower: f64) -> (f32, f32) {
    let u = f32_up(best - drift_upper);
    let s = f32_down(second + drift_lower - f64::from(u));
    (u, s)
}

/// The bounds of a chunk of points, for Hamerly's pass.
pub(super) struct BoundsMut<'a> {
    pub(super) labels: &'a mut [u32],
    pub(super) upper: &'a mut [f32],
    pub(super) slack: &'a mut [f32],
}

impl BoundsMut<'_> {
    /// Point `i` is nearest to centre `best`, at distance `nearest` (not squared), and
    /// at `second` from the next nearest: its label and bounds; when its label changes,
    /// `(i, old label)` is appended to `moved`.
    #[inline(always)]
    pub(super) fn settle(
        &mut self,
        i: usize,
        best: usize,
        nearest: f64,
        second: f64,
        drift: &Drift,
        moved: &mut Vec<(u32, u32)>,
    ) {
        let (upper, slack) = stored_bounds(nearest, second, drift.upper[best], drift.lower[best]);
        self.set(i, best as u32, upper, slack, moved);
    }

    /// Point `i` goes to cluster `label`, with the stored bounds `upper` and `slack`;
    /// when its label changes, `(i, old label)` is appended to `moved`.
    #[inline(always)]
    pub(super) fn set(&mut self, i: usize, label: u32, upper: f32, slack: f32, moved: &mut Vec<(u32, u32)>) {
        self.upper[i] = upper;
        self.slack[i] = slack;
        let old = self.labels[i];
        if old != label {
            moved.push((i as u32, old));
            self.labels[i] = label;
        }
    }
}

/// How far each centre has moved since the start of the run, to keep the bounds valid
/// without rewriting them every pass: a point stores its bounds relative
/// to the drift of its centre when they were set, so the effective upper bound is
/// `u + upper[label]` (its centre's total shift since) and the effective lower bound
/// `u + s - lower[label]` (the total, over the passes, of the largest shift of the
/// other centres). The hot loop then only reads the points that keep their centre.
pub(super) struct Drift {
    pub(super) upper: Vec<f64>,
    pub(super) lower: Vec<f64>,
}

impl Drift {
    pub(super) fn zeros(k: usize) -> Drift {
        Drift {
            upper: vec![0.0; k],
            lower: vec![0.0; k],
        }
    }

    /// Adds the shifts of the centres from `old` to `new`; returns the summed squared
    /// shift (scikit-learn's `center_shift_tot`).
    pub(super) fn advance(&mut self, old: &[f64], new: &[f64], d: usize) -> f64 {
        let shifts: Vec<f64> = old
            .chunks_exact(d)
            .zip(new.chunks_exact(d))
            .map(|(a, b)| squared_distance(a, b).sqrt())
            .collect();
        let (mut top, mut top_at, mut second) = (0.0_f64, 0, 0.0_f64);
        for (c, s) in shifts.iter().enumerate() {
            if *s > top {
                second = top;
                top = *s;
                top_at = c;
            } else if *s > second {
                second = *s;
            }
        }
        for (c, s) in shifts.iter().enumerate() {
            self.upper[c] += s;
            self.lower[c] += if c == top_at { second } else { top };
        }
        shifts.iter().map(|s| s * s).sum()
    }
}
