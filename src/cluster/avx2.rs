//! AVX2 builds of the kernels of [`super::soa`], written with intrinsics: four points
//! per register, one register per feature. (Left to the compiler, the portable kernels
//! mix 2- and 4-lane code with shuffles.)
//!
//! The arithmetic is the portable kernels' own, operation by operation: a squared
//! distance is `((0 + Δ₀²) + Δ₁²) + …` with no fused multiply-add, `min` keeps the
//! first operand unless the second is smaller (as [`super::distance::min_of`]), the selections are
//! [`super::distance::two_nearest`]'s and the roundings of the bounds [`super::bounds::f32_up`]'s and
//! [`super::bounds::f32_down`]'s; the sums keep the [`LANES`] lane-wise partial sums of the
//! portable kernels. So the results are the same bit for bit.
//!
//! Every function here needs a CPU with AVX2 (the callers check it).

use std::arch::x86_64::{
    __m128, __m256d, _mm256_add_pd, _mm256_andnot_pd, _mm256_blendv_pd, _mm256_cmp_pd, _mm256_cvtpd_ps,
    _mm256_cvttpd_epi32, _mm256_loadu_pd, _mm256_min_pd, _mm256_mul_pd, _mm256_set1_pd, _mm256_setr_pd,
    _mm256_setzero_pd, _mm256_sqrt_pd, _mm256_storeu_pd, _mm256_sub_pd, _mm_max_ps, _mm_min_ps, _mm_set1_ps,
    _mm_storeu_ps, _mm_storeu_si128, _CMP_LT_OQ,
};

use super::bounds::{BoundsMut, Drift, F32_MARGIN, F32_TINY};
use super::soa::{assign_tail, fold_center_tail, lanes_total, potential_tail, rescan_tail, LANES, PREFETCH};

/// Squared distances of four points (`x`, one register per feature) to `center`
/// (each feature broadcast).
#[inline]
#[target_feature(enable = "avx2")]
fn distances<const D: usize>(x: &[__m256d; D], center: &[__m256d; D]) -> __m256d {
    let mut dist = _mm256_setzero_pd();
    for j in 0..D {
        let diff = _mm256_sub_pd(x[j], center[j]);
        dist = _mm256_add_pd(dist, _mm256_mul_pd(diff, diff));
    }
    dist
}

/// Four points `start..start + 4` of the columns.
///
/// # Safety
/// `start + 4` is at most the length of every column.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn load<const D: usize>(x: &[&[f64]; D], start: usize) -> [__m256d; D] {
    let mut lanes = [_mm256_setzero_pd(); D];
    for j in 0..D {
        // SAFETY: the caller's.
        lanes[j] = unsafe { _mm256_loadu_pd(x[j].as_ptr().add(start)) };
    }
    lanes
}

/// The centres, each feature broadcast to a register.
#[inline]
#[target_feature(enable = "avx2")]
fn broadcast<const D: usize>(centers: &[f64]) -> Vec<[__m256d; D]> {
    centers
        .chunks_exact(D.max(1))
        .map(|c| {
            let mut lanes = [_mm256_setzero_pd(); D];
            for j in 0..D {
                lanes[j] = _mm256_set1_pd(c[j]);
            }
            lanes
        })
        .collect()
}

/// Nearest centre (index as `f64`), its squared distance and the second-nearest squared
/// distance of eight points (two groups of four), as [`super::distance::two_nearest`]. The two
/// groups interleave, so that the chains of selections (one per group) overlap.
#[inline]
#[target_feature(enable = "avx2")]
fn two_nearest<const D: usize>(
    x: &[[__m256d; D]; 2],
    centers: &[[__m256d; D]],
) -> [(__m256d, __m256d, __m256d); 2] {
    let mut best = [_mm256_setzero_pd(); 2];
    let mut best_dist = [_mm256_set1_pd(f64::INFINITY); 2];
    let mut second = [_mm256_set1_pd(f64::INFINITY); 2];
    for (c, center) in centers.iter().enumerate() {
        let index = _mm256_set1_pd(c as f64);
        for g in 0..2 {
            let dist = distances::<D>(&x[g], center);
            let closer = _mm256_cmp_pd::<_CMP_LT_OQ>(dist, best_dist[g]);
            // min(dist, second) is `dist < second ? dist : second`: `min_of(second, dist)`.
            second[g] = _mm256_blendv_pd(_mm256_min_pd(dist, second[g]), best_dist[g], closer);
            best[g] = _mm256_blendv_pd(best[g], index, closer);
            best_dist[g] = _mm256_blendv_pd(best_dist[g], dist, closer);
        }
    }
    [
        (best[0], best_dist[0], second[0]),
        (best[1], best_dist[1], second[1]),
    ]
}

/// The rounding margin of [`super::bounds::f32_up`] and [`super::bounds::f32_down`] for four values:
/// `min(|x| · F32_MARGIN, f64::MAX) + F32_TINY`.
#[inline]
#[target_feature(enable = "avx2")]
fn f32_margin(x: __m256d) -> __m256d {
    let abs = _mm256_andnot_pd(_mm256_set1_pd(-0.0), x);
    let relative = _mm256_min_pd(
        _mm256_mul_pd(abs, _mm256_set1_pd(F32_MARGIN)),
        _mm256_set1_pd(f64::MAX),
    );
    _mm256_add_pd(relative, _mm256_set1_pd(F32_TINY))
}

/// [`super::bounds::f32_up`] of four values.
#[inline]
#[target_feature(enable = "avx2")]
fn f32_up(x: __m256d) -> __m128 {
    let shifted = _mm256_add_pd(x, f32_margin(x));
    _mm_max_ps(_mm256_cvtpd_ps(shifted), _mm_set1_ps(f32::MIN))
}

/// [`super::bounds::f32_down`] of four values.
#[inline]
#[target_feature(enable = "avx2")]
fn f32_down(x: __m256d) -> __m128 {
    let shifted = _mm256_sub_pd(x, f32_margin(x));
    _mm_min_ps(_mm256_cvtpd_ps(shifted), _mm_set1_ps(f32::MAX))
}

/// [`super::bounds::stored_bounds`] of four points: `(u, s)` from the distances (not squared)
/// and the drifts of their centres.
#[inline]
#[target_feature(enable = "avx2")]
fn stored_bounds(
    best: __m256d,
    second: __m256d,
    drift_upper: __m256d,
    drift_lower: __m256d,
) -> ([f32; 4], [f32; 4]) {
    let u = f32_up(_mm256_sub_pd(best, drift_upper));
    let s = f32_down(_mm256_sub_pd(
        _mm256_add_pd(second, drift_lower),
        std::arch::x86_64::_mm256_cvtps_pd(u),
    ));
    let (mut us, mut ss) = ([0.0_f32; 4], [0.0_f32; 4]);
    // SAFETY: 4 values into arrays of 4.
    unsafe {
        _mm_storeu_ps(us.as_mut_ptr(), u);
        _mm_storeu_ps(ss.as_mut_ptr(), s);
    }
    (us, ss)
}

/// The four lanes of a register.
#[inline]
#[target_feature(enable = "avx2")]
fn lanes(v: __m256d) -> [f64; 4] {
    let mut out = [0.0; 4];
    // SAFETY: 4 values into an array of 4.
    unsafe { _mm256_storeu_pd(out.as_mut_ptr(), v) };
    out
}

/// `values` at the four indices `at`.
#[inline]
#[target_feature(enable = "avx2")]
fn gather(values: &[f64], at: [u32; 4]) -> __m256d {
    _mm256_setr_pd(
        values[at[0] as usize],
        values[at[1] as usize],
        values[at[2] as usize],
        values[at[3] as usize],
    )
}

/// The indices (`f64` lanes holding small whole numbers) as integers.
#[inline]
#[target_feature(enable = "avx2")]
fn indices(v: __m256d) -> [u32; 4] {
    let mut out = [0_u32; 4];
    // SAFETY: 4 values of 32 bits into an array of 4.
    unsafe { _mm_storeu_si128(out.as_mut_ptr().cast(), _mm256_cvttpd_epi32(v)) };
    out
}

// ------------------------------------------------------------------ k-means++

/// `min(d(x, center)², closest)` of the eight points from `base`, as two registers of
/// four.
///
/// # Safety
/// `base + 8` is at most the length of every column and of `closest`.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn block_minima<const D: usize>(
    x: &[&[f64]; D],
    closest: &[f64],
    center: &[__m256d; D],
    base: usize,
) -> [__m256d; 2] {
    let mut minima = [_mm256_setzero_pd(); 2];
    for (g, minimum) in minima.iter_mut().enumerate() {
        let start = base + 4 * g;
        // SAFETY: the caller's.
        unsafe {
            let dist = distances::<D>(&load::<D>(x, start), center);
            *minimum = _mm256_min_pd(dist, _mm256_loadu_pd(closest.as_ptr().add(start)));
        }
    }
    minima
}

/// The sum of two registers of lane-wise partial sums, in the portable kernels' order.
#[inline]
#[target_feature(enable = "avx2")]
fn total(low: __m256d, high: __m256d) -> f64 {
    let (low, high) = (lanes(low), lanes(high));
    lanes_total([low[0], low[1], low[2], low[3], high[0], high[1], high[2], high[3]])
}

/// [`super::soa::fold_center`].
#[target_feature(enable = "avx2")]
pub(super) fn fold_center<const D: usize>(x: [&[f64]; D], closest: &mut [f64], center: &[f64]) -> f64 {
    let m = closest.len();
    let x: [&[f64]; D] = std::array::from_fn(|j| &x[j][..m]);
    let center_lanes = broadcast::<D>(&center[..D]);
    let (mut low, mut high) = (_mm256_setzero_pd(), _mm256_setzero_pd());
    let blocks = m / LANES;
    for b in 0..blocks {
        let base = b * LANES;
        // SAFETY: `base + 8 <= m`, the length of the columns and of `closest`.
        unsafe {
            let [first, second] = block_minima::<D>(&x, closest, &center_lanes[0], base);
            _mm256_storeu_pd(closest.as_mut_ptr().add(base), first);
            _mm256_storeu_pd(closest.as_mut_ptr().add(base + 4), second);
            low = _mm256_add_pd(low, first);
            high = _mm256_add_pd(high, second);
        }
    }
    fold_center_tail::<D>(&x, closest, center, blocks * LANES, total(low, high))
}

/// [`super::soa::potential`].
#[target_feature(enable = "avx2")]
pub(super) fn potential<const D: usize>(x: [&[f64]; D], closest: &[f64], candidate: &[f64]) -> f64 {
    let m = closest.len();
    let x: [&[f64]; D] = std::array::from_fn(|j| &x[j][..m]);
    let candidate_lanes = broadcast::<D>(&candidate[..D]);
    let (mut low, mut high) = (_mm256_setzero_pd(), _mm256_setzero_pd());
    let blocks = m / LANES;
    for b in 0..blocks {
        // SAFETY: `b * LANES + 8 <= m`, the length of the columns and of `closest`.
        let [first, second] = unsafe { block_minima::<D>(&x, closest, &candidate_lanes[0], b * LANES) };
        low = _mm256_add_pd(low, first);
        high = _mm256_add_pd(high, second);
    }
    potential_tail::<D>(&x, closest, candidate, blocks * LANES, total(low, high))
}

// ------------------------------------------------------------------ first assignment

/// [`super::soa::assign_block`].
#[target_feature(enable = "avx2")]
pub(super) fn assign_block<const D: usize>(
    x: [&[f64]; D],
    centers: &[f64],
    labels: &mut [u32],
    upper: &mut [f32],
    slack: &mut [f32],
) {
    let m = labels.len();
    let x: [&[f64]; D] = std::array::from_fn(|j| &x[j][..m]);
    let (upper, slack) = (&mut upper[..m], &mut slack[..m]);
    let center_lanes = broadcast::<D>(centers);
    let zero = _mm256_setzero_pd();
    let blocks = m / LANES;
    for b in 0..blocks {
        let base = b * LANES;
        // SAFETY: `base + 8 <= m`, the length of the columns.
        let point = unsafe { [load::<D>(&x, base), load::<D>(&x, base + 4)] };
        for (g, (best, best_dist, second)) in two_nearest::<D>(&point, &center_lanes).into_iter().enumerate()
        {
            let start = base + 4 * g;
            let (u, s) = stored_bounds(_mm256_sqrt_pd(best_dist), _mm256_sqrt_pd(second), zero, zero);
            labels[start..start + 4].copy_from_slice(&indices(best));
            upper[start..start + 4].copy_from_slice(&u);
            slack[start..start + 4].copy_from_slice(&s);
        }
    }
    assign_tail::<D>(&x, centers, labels, upper, slack, blocks * LANES);
}

// ------------------------------------------------------------------ Hamerly's full scans

/// [`super::soa::rescan`], eight points at a time, with a prefetch of the rows
/// [`PREFETCH`] points ahead.
#[target_feature(enable = "avx2")]
pub(super) fn rescan<const D: usize>(
    points: &[f64],
    loose: &[u32],
    centers: &[f64],
    drift: &Drift,
    bounds: &mut BoundsMut<'_>,
    moved: &mut Vec<(u32, u32)>,
) {
    use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
    let center_lanes = broadcast::<D>(centers);
    let mut blocks = loose.chunks_exact(LANES);
    for (b, block) in (&mut blocks).enumerate() {
        for &ahead in loose.iter().skip(b * LANES + PREFETCH).take(LANES) {
            // A prefetch does not access memory (the address is not dereferenced).
            _mm_prefetch::<_MM_HINT_T0>(points.as_ptr().wrapping_add(ahead as usize * D).cast());
        }
        // The rows of the points, checked once for the block.
        let mut rows = [0_usize; LANES];
        let mut inside = true;
        for (row, &i) in rows.iter_mut().zip(block) {
            *row = i as usize * D;
            inside &= *row + D <= points.len();
        }
        assert!(inside, "a loose point past the chunk");
        let mut point = [[_mm256_setzero_pd(); D]; 2];
        for (g, group) in point.iter_mut().enumerate() {
            let r = &rows[4 * g..4 * g + 4];
            for (j, lanes) in group.iter_mut().enumerate() {
                // SAFETY: every `r[l] + j < r[l] + D <= points.len()` (checked above).
                *lanes = unsafe {
                    _mm256_setr_pd(
                        *points.get_unchecked(r[0] + j),
                        *points.get_unchecked(r[1] + j),
                        *points.get_unchecked(r[2] + j),
                        *points.get_unchecked(r[3] + j),
                    )
                };
            }
        }
        for (g, (best, best_dist, second)) in two_nearest::<D>(&point, &center_lanes).into_iter().enumerate()
        {
            let quad = &block[4 * g..4 * g + 4];
            let best = indices(best);
            let (u, s) = stored_bounds(
                _mm256_sqrt_pd(best_dist),
                _mm256_sqrt_pd(second),
                gather(&drift.upper, best),
                gather(&drift.lower, best),
            );
            for l in 0..4 {
                bounds.set(quad[l] as usize, best[l], u[l], s[l], moved);
            }
        }
    }
    rescan_tail::<D>(points, blocks.remainder(), centers, drift, bounds, moved);
}
