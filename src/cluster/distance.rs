//! Squared distances and nearest centres, the arithmetic every kernel shares (the
//! structure-of-arrays kernels of [`super::soa`] do it in the same order, so that their
//! results are these bit for bit), and [`with_dim!`], which picks a kernel specialised
//! for the number of features.

/// Squared Euclidean distance of `a` and `b`.
#[inline]
pub(super) fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// The number of features: the constant `D` of a kernel specialised for `D` features
/// (1 to 4; 3 is the RFM case), or `d` for the general kernel (`D = 0`). With a constant,
/// the compiler unrolls the distance loops and keeps a point in registers.
#[inline(always)]
pub(super) fn dim<const D: usize>(d: usize) -> usize {
    if D == 0 {
        d
    } else {
        D
    }
}

/// Squared distance of `a` and `b`, both of `D` (or, for `D = 0`, `a.len()`) features.
#[inline(always)]
pub(super) fn squared_distance_d<const D: usize>(a: &[f64], b: &[f64]) -> f64 {
    let d = dim::<D>(a.len());
    let (a, b) = (&a[..d], &b[..d]);
    let mut sum = 0.0;
    for j in 0..d {
        let diff = a[j] - b[j];
        sum += diff * diff;
    }
    sum
}

/// The smaller of two squared distances: `f64::min` for them (never NaN, never -0),
/// without its NaN handling, so that it vectorises to one instruction.
#[inline(always)]
pub(super) fn min_of(a: f64, b: f64) -> f64 {
    if b < a {
        b
    } else {
        a
    }
}

/// Index and squared distance of the nearest centre.
#[inline]
pub(super) fn nearest(x: &[f64], centers: &[f64], d: usize) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (c, center) in centers.chunks_exact(d).enumerate() {
        let dist = squared_distance(x, center);
        if dist < best.1 {
            best = (c, dist);
        }
    }
    best
}

/// Nearest and second-nearest centre of `x`: (index, squared distance, second
/// squared distance). Ties go to the lower index, as numpy's `argmin`.
#[inline(always)]
pub(super) fn two_nearest<const D: usize>(x: &[f64], centers: &[f64], d: usize) -> (usize, f64, f64) {
    let (mut best, mut best_dist, mut second) = (0, f64::INFINITY, f64::INFINITY);
    for (c, center) in centers.chunks_exact(d).enumerate() {
        let dist = squared_distance_d::<D>(x, center);
        // Branch-free (selects, not jumps): which centre is nearest is unpredictable.
        let closer = dist < best_dist;
        second = if closer { best_dist } else { min_of(second, dist) };
        best = if closer { c } else { best };
        best_dist = if closer { dist } else { best_dist };
    }
    (best, best_dist, second)
}

/// Runs `$body` with `$D` bound to a constant number of features: 1 to 4 get their own
/// specialised kernels, any other number the general one (`$D = 0`).
macro_rules! with_dim {
    ($d:expr, $D:ident => $body:expr) => {
        match $d {
            1 => with_dim!(@ 1, $D => $body),
            2 => with_dim!(@ 2, $D => $body),
            3 => with_dim!(@ 3, $D => $body),
            4 => with_dim!(@ 4, $D => $body),
            _ => with_dim!(@ 0, $D => $body),
        }
    };
    (@ $n:literal, $D:ident => $body:expr) => {{
        const $D: usize = $n;
        $body
    }};
}
pub(super) use with_dim;
