//! Structure-of-arrays kernels for few features (`d ≤ 4`, the RFM case): the points
//! copied once into columns and processed [`LANES`] at a time, for the dense passes
//! (k-means++ seeding and the first full assignment); and the kernels of Hamerly's
//! pass (the bound test, and the full scans of the points it does not hold, gathered
//! from the rows). On x86-64 the AVX2 build of each kernel ([`super::avx2`]) is chosen
//! at run time when the CPU has it; otherwise the portable build here runs.
//!
//! The arithmetic is the generic kernels' own, in the same order: a squared distance
//! is `((0 + Δ₀²) + Δ₁²) + …`, feature by feature, with no fused multiply-add (Rust
//! never contracts `a * b + c`), and the nearest / second-nearest selection is
//! [`super::distance::two_nearest`]'s. So the distances, hence the labels and bounds, equal the
//! generic kernels' bit for bit, whatever the instruction set.

use std::mem::MaybeUninit;

use rayon::prelude::*;

use super::bounds::{stored_bounds, BoundsMut, Drift};
use super::distance::{min_of, squared_distance_d, two_nearest};
use super::CHUNK;

/// The largest number of features with a structure-of-arrays kernel.
pub(super) const MAX_D: usize = 4;

/// Whether the kernels specialised for `D` features (`D = 0`: any number) have a
/// structure-of-arrays build here.
#[inline(always)]
pub(super) const fn has_kernel<const D: usize>() -> bool {
    D > 0 && D <= MAX_D
}

/// Points per vectorised block (two AVX2 registers of four `f64`). Fixed, so that the
/// lane-wise sums, and so the results, are the same on every machine.
pub(super) const LANES: usize = 8;

/// The points as columns: feature `j` of point `i` at `data[j * n + i]`.
pub(super) struct Columns {
    data: Vec<f64>,
    n: usize,
}

impl Columns {
    /// Transposes the `n × d` row-major points, in parallel over chunks of
    /// [`CHUNK`] points (done once per fit).
    pub(super) fn new(flat: &[f64], n: usize, d: usize) -> Columns {
        // Written once, value by value: no zeroing first.
        let mut data: Vec<f64> = Vec::with_capacity(n * d);
        // Per chunk of points, its part of each column.
        let mut parts: Vec<Vec<&mut [MaybeUninit<f64>]>> =
            (0..n.div_ceil(CHUNK)).map(|_| Vec::with_capacity(d)).collect();
        for column in data.spare_capacity_mut()[..n * d].chunks_mut(n.max(1)) {
            for (part, piece) in parts.iter_mut().zip(column.chunks_mut(CHUNK)) {
                part.push(piece);
            }
        }
        parts
            .into_par_iter()
            .zip(flat.par_chunks(CHUNK * d.max(1)))
            .for_each(|(mut part, rows)| {
                for (j, piece) in part.iter_mut().enumerate() {
                    for (slot, row) in piece.iter_mut().zip(rows.chunks_exact(d)) {
                        slot.write(row[j]);
                    }
                }
            });
        // SAFETY: the pieces cover the `n * d` values (each column's chunks cover its
        // `n` points, every chunk of `flat` has as many rows as its piece), all written.
        unsafe { data.set_len(n * d) };
        Columns { data, n }
    }

    /// Points `start..end` of each of the `D` columns.
    pub(super) fn block<const D: usize>(&self, start: usize, end: usize) -> [&[f64]; D] {
        std::array::from_fn(|j| self.column(j, start, end))
    }

    /// Points `start..end` of column `j`.
    pub(super) fn column(&self, j: usize, start: usize, end: usize) -> &[f64] {
        &self.data[j * self.n + start..j * self.n + end]
    }
}

/// The sum of `values`, or with `mean` the sum of their squared deviations from it,
/// in [`LANES`] lane-wise partial sums (a fixed order).
pub(super) fn column_sum(values: &[f64], mean: Option<f64>) -> f64 {
    let mut lanes = [0.0_f64; LANES];
    let mut blocks = values.chunks_exact(LANES);
    let term = |v: f64| match mean {
        Some(m) => (v - m) * (v - m),
        None => v,
    };
    for block in &mut blocks {
        for l in 0..LANES {
            lanes[l] += term(block[l]);
        }
    }
    let mut total = lanes_total(lanes);
    for &v in blocks.remainder() {
        total += term(v);
    }
    total
}

/// Runs `super::avx2::$name::<D>($args)`, the AVX2 build of the kernel, when the CPU
/// has AVX2 (x86-64), else the portable `$kernel::<D>($args)`.
macro_rules! dispatch {
    ($kernel:ident, $name:ident, $D:ident, ($($arg:expr),*)) => {{
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2 (checked just above), all that the AVX2
                // build needs.
                return unsafe { super::avx2::$name::<$D>($($arg),*) };
            }
        }
        $kernel::<$D>($($arg),*)
    }};
}

// ------------------------------------------------------------------ k-means++

/// Lowers `closest` (each point's squared distance to its nearest chosen centre) with
/// the distances to `center`, and returns the sum of the new `closest` (in [`LANES`]
/// lane-wise partial sums, a fixed order).
pub(super) fn fold_center<const D: usize>(x: [&[f64]; D], closest: &mut [f64], center: &[f64]) -> f64 {
    dispatch!(fold_center_kernel, fold_center, D, (x, closest, center))
}

/// The potential of `candidate` over the block: the sum of `min(closest, d(x, candidate)²)`,
/// in the order of [`fold_center`]'s sum.
pub(super) fn potential<const D: usize>(x: [&[f64]; D], closest: &[f64], candidate: &[f64]) -> f64 {
    dispatch!(potential_kernel, potential, D, (x, closest, candidate))
}

/// [`LANES`] points, feature by feature.
type Block<const D: usize> = [[f64; LANES]; D];

/// The [`LANES`] points of the columns from `base`.
#[inline(always)]
fn load_block<const D: usize>(x: &[&[f64]; D], base: usize) -> Block<D> {
    let mut block = [[0.0; LANES]; D];
    for (lanes, column) in block.iter_mut().zip(x) {
        lanes.copy_from_slice(&column[base..base + LANES]);
    }
    block
}

/// Squared distances of the points of `block` to `center`.
#[inline(always)]
fn block_distances<const D: usize>(block: &Block<D>, center: &[f64; D]) -> [f64; LANES] {
    let mut dist = [0.0_f64; LANES];
    for j in 0..D {
        for l in 0..LANES {
            let diff = block[j][l] - center[j];
            dist[l] += diff * diff;
        }
    }
    dist
}

/// The centres as rows of `D` values.
fn center_rows<const D: usize>(centers: &[f64]) -> Vec<[f64; D]> {
    centers
        .chunks_exact(D.max(1))
        .map(|c| std::array::from_fn(|j| c[j]))
        .collect()
}

/// Nearest centre (its index as `f64`), its squared distance and the second-nearest
/// squared distance of each point of `block`, as [`two_nearest`].
#[inline(always)]
fn block_two_nearest<const D: usize>(
    block: &Block<D>,
    centers: &[[f64; D]],
) -> ([f64; LANES], [f64; LANES], [f64; LANES]) {
    // Indices as f64 lanes: the selects then work on one lane width.
    let mut best = [0.0_f64; LANES];
    let mut best_dist = [f64::INFINITY; LANES];
    let mut second = [f64::INFINITY; LANES];
    for (c, center) in centers.iter().enumerate() {
        let dist = block_distances::<D>(block, center);
        let index = c as f64;
        for l in 0..LANES {
            let closer = dist[l] < best_dist[l];
            second[l] = if closer {
                best_dist[l]
            } else {
                min_of(second[l], dist[l])
            };
            best[l] = if closer { index } else { best[l] };
            best_dist[l] = if closer { dist[l] } else { best_dist[l] };
        }
    }
    (best, best_dist, second)
}

/// The point `i` of the columns, as a row.
#[inline(always)]
fn row<const D: usize>(x: &[&[f64]; D], i: usize) -> [f64; D] {
    std::array::from_fn(|j| x[j][i])
}

#[inline(always)]
pub(super) fn lanes_total(lanes: [f64; LANES]) -> f64 {
    ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
}

/// For each whole block of [`LANES`] points of the columns `x` (`m` points),
/// `visit(base, distances)` with the squared distances of the block's points to
/// `center`; returns where the tail of the points past the blocks starts.
#[inline(always)]
fn each_block<const D: usize>(
    x: &[&[f64]; D],
    m: usize,
    center: &[f64; D],
    mut visit: impl FnMut(usize, [f64; LANES]),
) -> usize {
    let blocks = m / LANES;
    for b in 0..blocks {
        let base = b * LANES;
        visit(base, block_distances::<D>(&load_block::<D>(x, base), center));
    }
    blocks * LANES
}

/// The tail of [`fold_center`], the points from `from` on one at a time (of the
/// portable and the AVX2 build alike): each lowered, and added to `total`.
#[inline(always)]
pub(super) fn fold_center_tail<const D: usize>(
    x: &[&[f64]; D],
    closest: &mut [f64],
    center: &[f64],
    from: usize,
    mut total: f64,
) -> f64 {
    for (i, best) in closest.iter_mut().enumerate().skip(from) {
        *best = min_of(*best, squared_distance_d::<D>(&row::<D>(x, i), center));
        total += *best;
    }
    total
}

/// The tail of [`potential`], the points from `from` on one at a time, added to `total`.
#[inline(always)]
pub(super) fn potential_tail<const D: usize>(
    x: &[&[f64]; D],
    closest: &[f64],
    candidate: &[f64],
    from: usize,
    mut total: f64,
) -> f64 {
    for (i, best) in closest.iter().enumerate().skip(from) {
        total += min_of(*best, squared_distance_d::<D>(&row::<D>(x, i), candidate));
    }
    total
}

#[inline(always)]
fn fold_center_kernel<const D: usize>(x: [&[f64]; D], closest: &mut [f64], center: &[f64]) -> f64 {
    let m = closest.len();
    let x: [&[f64]; D] = std::array::from_fn(|j| &x[j][..m]);
    let center: [f64; D] = std::array::from_fn(|j| center[j]);
    let mut lanes = [0.0_f64; LANES];
    let tail = each_block::<D>(&x, m, &center, |base, dist| {
        let best = &mut closest[base..base + LANES];
        for l in 0..LANES {
            best[l] = min_of(best[l], dist[l]);
            lanes[l] += best[l];
        }
    });
    fold_center_tail::<D>(&x, closest, &center, tail, lanes_total(lanes))
}

#[inline(always)]
fn potential_kernel<const D: usize>(x: [&[f64]; D], closest: &[f64], candidate: &[f64]) -> f64 {
    let m = closest.len();
    let x: [&[f64]; D] = std::array::from_fn(|j| &x[j][..m]);
    let candidate: [f64; D] = std::array::from_fn(|j| candidate[j]);
    let mut lanes = [0.0_f64; LANES];
    let tail = each_block::<D>(&x, m, &candidate, |base, dist| {
        let best = &closest[base..base + LANES];
        for l in 0..LANES {
            lanes[l] += min_of(best[l], dist[l]);
        }
    });
    potential_tail::<D>(&x, closest, &candidate, tail, lanes_total(lanes))
}

// ------------------------------------------------------------------ first assignment

/// Each point of the block to its nearest centre: its label and its bounds (see
/// [`super::bounds::Bounds`]), from the distances to it and to the second-nearest centre, as
/// [`two_nearest`] (ties to the lower index).
pub(super) fn assign_block<const D: usize>(
    x: [&[f64]; D],
    centers: &[f64],
    labels: &mut [u32],
    upper: &mut [f32],
    slack: &mut [f32],
) {
    dispatch!(assign_kernel, assign_block, D, (x, centers, labels, upper, slack))
}

#[inline(always)]
fn assign_kernel<const D: usize>(
    x: [&[f64]; D],
    centers: &[f64],
    labels: &mut [u32],
    upper: &mut [f32],
    slack: &mut [f32],
) {
    let m = labels.len();
    let x: [&[f64]; D] = std::array::from_fn(|j| &x[j][..m]);
    let (upper, slack) = (&mut upper[..m], &mut slack[..m]);
    let rows = center_rows::<D>(centers);
    let blocks = m / LANES;
    for b in 0..blocks {
        let base = b * LANES;
        let (best, best_dist, second) = block_two_nearest::<D>(&load_block::<D>(&x, base), &rows);
        for l in 0..LANES {
            labels[base + l] = best[l] as u32;
            (upper[base + l], slack[base + l]) =
                stored_bounds(best_dist[l].sqrt(), second[l].sqrt(), 0.0, 0.0);
        }
    }
    assign_tail::<D>(&x, centers, labels, upper, slack, blocks * LANES);
}

/// The tail of [`assign_block`], the points from `from` on one at a time (of the
/// portable and the AVX2 build alike).
#[inline(always)]
pub(super) fn assign_tail<const D: usize>(
    x: &[&[f64]; D],
    centers: &[f64],
    labels: &mut [u32],
    upper: &mut [f32],
    slack: &mut [f32],
    from: usize,
) {
    for i in from..labels.len() {
        let (best, best_dist, second) = two_nearest::<D>(&row::<D>(x, i), centers, D);
        labels[i] = best as u32;
        (upper[i], slack[i]) = stored_bounds(best_dist.sqrt(), second.sqrt(), 0.0, 0.0);
    }
}

// ------------------------------------------------------------------ Hamerly's bound test

/// The per-cluster thresholds of Hamerly's test (see [`super::lloyd`]): a
/// point of cluster `c` keeps it when `upper <= near[c]` or `slack >= slack_needed[c]`.
pub(super) struct Thresholds {
    near: Vec<f32>,
    slack_needed: Vec<f32>,
}

impl Thresholds {
    pub(super) fn new(near: &[f32], slack_needed: &[f32]) -> Thresholds {
        Thresholds {
            near: near.to_vec(),
            slack_needed: slack_needed.to_vec(),
        }
    }

    #[inline(always)]
    fn holds(&self, label: u32, upper: f32, slack: f32) -> bool {
        let c = label as usize;
        upper <= self.near[c] || slack >= self.slack_needed[c]
    }
}

/// Writes to `loose` (resized as needed; its first values are the answer) the indices
/// of the points whose bounds do not prove that they keep their centre, in increasing
/// order, and returns how many there are. No branch on the data: the index of every
/// point is written, and the count advances only for the loose ones.
pub(super) fn loose_points(
    labels: &[u32],
    upper: &[f32],
    slack: &[f32],
    thresholds: &Thresholds,
    loose: &mut Vec<u32>,
) -> usize {
    let m = labels.len();
    // Room for a whole block of indices past the last loose point.
    if loose.len() < m + LANES {
        loose.resize(m + LANES, 0);
    }
    #[cfg(target_arch = "x86_64")]
    {
        if thresholds.near.len() <= 8 && std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            return unsafe { loose_points_avx2(labels, upper, slack, thresholds, loose) };
        }
    }
    loose_points_scalar(labels, upper, slack, thresholds, loose, 0, 0)
}

/// [`loose_points`] from point `from` on, `count` loose points before it.
#[inline(always)]
fn loose_points_scalar(
    labels: &[u32],
    upper: &[f32],
    slack: &[f32],
    thresholds: &Thresholds,
    loose: &mut [u32],
    from: usize,
    mut count: usize,
) -> usize {
    for i in from..labels.len() {
        loose[count] = i as u32;
        count += usize::from(!thresholds.holds(labels[i], upper[i], slack[i]));
    }
    count
}

/// For each mask of 8 bits, the positions of its set bits, one byte each from the
/// lowest: the indices to keep of a block of 8 points.
#[cfg(target_arch = "x86_64")]
const COMPACT: [u64; 256] = {
    let mut table = [0_u64; 256];
    let mut mask = 0;
    while mask < 256 {
        let (mut packed, mut kept, mut lane) = (0_u64, 0, 0);
        while lane < 8 {
            if (mask >> lane) & 1 == 1 {
                packed |= (lane as u64) << (8 * kept);
                kept += 1;
            }
            lane += 1;
        }
        table[mask] = packed;
        mask += 1;
    }
    table
};

/// [`loose_points`] for at most 8 clusters, 8 points at a time: the thresholds of
/// the points' clusters by a lane permutation, and the indices of the loose points
/// packed by a table lookup (an 8-index store and a count per block, no branch).
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn loose_points_avx2(
    labels: &[u32],
    upper: &[f32],
    slack: &[f32],
    thresholds: &Thresholds,
    loose: &mut [u32],
) -> usize {
    use std::arch::x86_64::{
        _mm256_add_epi32, _mm256_cmp_ps, _mm256_cvtepu8_epi32, _mm256_loadu_ps, _mm256_loadu_si256,
        _mm256_movemask_ps, _mm256_or_ps, _mm256_permutevar8x32_ps, _mm256_set1_epi32, _mm256_storeu_si256,
        _mm_cvtsi64_si128, _CMP_GE_OQ, _CMP_LE_OQ,
    };
    let m = labels.len();
    let (upper, slack) = (&upper[..m], &slack[..m]);
    assert!(loose.len() >= m + LANES && m <= i32::MAX as usize);
    let table = |values: &[f32]| {
        let mut lanes = [0.0_f32; 8];
        lanes[..values.len()].copy_from_slice(values);
        // SAFETY: `lanes` holds 8 values.
        unsafe { _mm256_loadu_ps(lanes.as_ptr()) }
    };
    let near = table(&thresholds.near);
    let needed = table(&thresholds.slack_needed);
    let mut count = 0;
    let blocks = m / LANES;
    for b in 0..blocks {
        let base = b * LANES;
        // SAFETY: `base + 8 <= m`, the length of the three inputs; `count <= base`, so
        // the store of 8 indices ends at most at `m`, within `loose`.
        unsafe {
            let label = _mm256_loadu_si256(labels.as_ptr().add(base).cast());
            let u = _mm256_loadu_ps(upper.as_ptr().add(base));
            let s = _mm256_loadu_ps(slack.as_ptr().add(base));
            // The labels are below 8: the permutation reads the thresholds of each
            // point's cluster.
            let held = _mm256_or_ps(
                _mm256_cmp_ps::<_CMP_LE_OQ>(u, _mm256_permutevar8x32_ps(near, label)),
                _mm256_cmp_ps::<_CMP_GE_OQ>(s, _mm256_permutevar8x32_ps(needed, label)),
            );
            let loose_bits = !(_mm256_movemask_ps(held) as u32) & 0xFF;
            let lanes = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(COMPACT[loose_bits as usize] as i64));
            let indices = _mm256_add_epi32(lanes, _mm256_set1_epi32(base as i32));
            _mm256_storeu_si256(loose.as_mut_ptr().add(count).cast(), indices);
            count += loose_bits.count_ones() as usize;
        }
    }
    loose_points_scalar(labels, upper, slack, thresholds, loose, blocks * LANES, count)
}

// ------------------------------------------------------------------ Hamerly's full scans

/// How many points ahead Hamerly's full scans prefetch the rows they gather.
pub(super) const PREFETCH: usize = 16;

/// Hamerly's full scans of the points `points[i]` for `i` in `loose` (row-major points
/// of `D` features, `loose` increasing): each point's nearest centre and its new bounds,
/// set in `bounds` as [`BoundsMut::settle`] (the points that change cluster are
/// appended to `moved`, in order). The points are gathered [`LANES`] at a time into a
/// block, then scanned as in [`assign_block`]; the nearest and second-nearest centres
/// are [`two_nearest`]'s.
pub(super) fn rescan<const D: usize>(
    points: &[f64],
    loose: &[u32],
    centers: &[f64],
    drift: &Drift,
    bounds: &mut BoundsMut<'_>,
    moved: &mut Vec<(u32, u32)>,
) {
    dispatch!(
        rescan_kernel,
        rescan,
        D,
        (points, loose, centers, drift, bounds, moved)
    )
}

#[inline(always)]
fn rescan_kernel<const D: usize>(
    points: &[f64],
    loose: &[u32],
    centers: &[f64],
    drift: &Drift,
    bounds: &mut BoundsMut<'_>,
    moved: &mut Vec<(u32, u32)>,
) {
    let center_rows = center_rows::<D>(centers);
    let mut blocks = loose.chunks_exact(LANES);
    let mut ahead = 0;
    for indices in &mut blocks {
        #[cfg(target_arch = "x86_64")]
        {
            for &i in loose.iter().skip(ahead + PREFETCH).take(LANES) {
                // SAFETY: a prefetch does not access memory.
                unsafe {
                    std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                        points.as_ptr().wrapping_add(i as usize * D).cast(),
                    )
                };
            }
            ahead += LANES;
        }
        let mut block: Block<D> = [[0.0; LANES]; D];
        for (l, &i) in indices.iter().enumerate() {
            let x = &points[i as usize * D..(i as usize + 1) * D];
            for j in 0..D {
                block[j][l] = x[j];
            }
        }
        let (best, best_dist, second) = block_two_nearest::<D>(&block, &center_rows);
        let (mut nearest, mut far) = ([0.0_f64; LANES], [0.0_f64; LANES]);
        for l in 0..LANES {
            nearest[l] = best_dist[l].sqrt();
            far[l] = second[l].sqrt();
        }
        for (l, &i) in indices.iter().enumerate() {
            bounds.settle(i as usize, best[l] as usize, nearest[l], far[l], drift, moved);
        }
    }
    rescan_tail::<D>(points, blocks.remainder(), centers, drift, bounds, moved);
}

/// The tail of [`rescan`], the points of `loose` past its blocks one at a time (of the
/// portable and the AVX2 build alike).
#[inline(always)]
pub(super) fn rescan_tail<const D: usize>(
    points: &[f64],
    loose: &[u32],
    centers: &[f64],
    drift: &Drift,
    bounds: &mut BoundsMut<'_>,
    moved: &mut Vec<(u32, u32)>,
) {
    for &i in loose {
        let i = i as usize;
        let (best, best_dist, second) = two_nearest::<D>(&points[i * D..(i + 1) * D], centers, D);
        bounds.settle(i, best, best_dist.sqrt(), second.sqrt(), drift, moved);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// The dispatched kernels (AVX2 builds on a CPU with AVX2) against the portable
    /// ones, bit for bit, for `D` features.
    fn kernels_agree<const D: usize>(rng: &mut Xoshiro256PlusPlus) {
        for k in [1, 3, 8, 13] {
            // A tail past the blocks of 8, tied values (so ties between centres happen).
            let n = 1000 + 8 * 7 + 5;
            let data: Vec<f64> = (0..n * D).map(|_| rng.gen_range(0..6) as f64 * 0.5).collect();
            let columns = Columns::new(&data, n, D);
            let x = columns.block::<D>(0, n);
            let centers: Vec<f64> = (0..k * D).map(|_| rng.gen_range(0..12) as f64 * 0.25).collect();
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<u64>>();
            let bits32 = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
            // Seeding passes.
            let start: Vec<f64> = (0..n).map(|_| rng.gen_range(0..20) as f64 * 0.5).collect();
            let (mut a, mut b) = (start.clone(), start);
            let (sum_a, sum_b) = (
                fold_center::<D>(x, &mut a, &centers[..D]),
                fold_center_kernel::<D>(x, &mut b, &centers[..D]),
            );
            assert_eq!(
                (bits(&a), sum_a.to_bits()),
                (bits(&b), sum_b.to_bits()),
                "D={D} k={k}"
            );
            let candidate = &centers[(k - 1) * D..];
            assert_eq!(
                potential::<D>(x, &a, candidate).to_bits(),
                potential_kernel::<D>(x, &a, candidate).to_bits()
            );
            // First assignment.
            let (mut labels_a, mut upper_a, mut slack_a) = (vec![0; n], vec![0.0; n], vec![0.0; n]);
            let (mut labels_b, mut upper_b, mut slack_b) = (vec![0; n], vec![0.0; n], vec![0.0; n]);
            assign_block::<D>(x, &centers, &mut labels_a, &mut upper_a, &mut slack_a);
            assign_kernel::<D>(x, &centers, &mut labels_b, &mut upper_b, &mut slack_b);
            assert_eq!(labels_a, labels_b, "D={D} k={k}");
            assert_eq!(
                (bits32(&upper_a), bits32(&slack_a)),
                (bits32(&upper_b), bits32(&slack_b))
            );
            // Hamerly's rescans, from labels that partly differ from the nearest centres.
            let drift = Drift {
                upper: (0..k).map(|c| 0.01 * c as f64).collect(),
                lower: (0..k).map(|c| 0.03 - 0.002 * c as f64).collect(),
            };
            let loose: Vec<u32> = (0..n as u32).filter(|i| i % 5 != 2).collect();
            let start_labels: Vec<u32> = (0..n).map(|i| (i * 7 % k) as u32).collect();
            let (mut labels_a, mut labels_b) = (start_labels.clone(), start_labels);
            let (mut moved_a, mut moved_b) = (Vec::new(), Vec::new());
            rescan::<D>(
                &data,
                &loose,
                &centers,
                &drift,
                &mut BoundsMut {
                    labels: &mut labels_a,
                    upper: &mut upper_a,
                    slack: &mut slack_a,
                },
                &mut moved_a,
            );
            rescan_kernel::<D>(
                &data,
                &loose,
                &centers,
                &drift,
                &mut BoundsMut {
                    labels: &mut labels_b,
                    upper: &mut upper_b,
                    slack: &mut slack_b,
                },
                &mut moved_b,
            );
            assert_eq!((labels_a, moved_a), (labels_b, moved_b), "D={D} k={k}");
            assert_eq!(
                (bits32(&upper_a), bits32(&slack_a)),
                (bits32(&upper_b), bits32(&slack_b))
            );
        }
    }

    #[test]
    fn dispatched_kernels_are_the_portable_ones() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        kernels_agree::<1>(&mut rng);
        kernels_agree::<2>(&mut rng);
        kernels_agree::<3>(&mut rng);
        kernels_agree::<4>(&mut rng);
    }

    #[test]
    fn bound_test_is_the_scalar_one() {
        // Every number of clusters around the vectorised limit (8), lengths with a
        // tail, thresholds and bounds on a few values (so ties happen), and NaN-free.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        for k in 1..=10 {
            for m in [0, 1, 7, 8, 9, 63, 4096, 4099] {
                let labels: Vec<u32> = (0..m).map(|_| rng.gen_range(0..k as u32)).collect();
                let value = |rng: &mut Xoshiro256PlusPlus| rng.gen_range(-4..12) as f32 * 0.25;
                let upper: Vec<f32> = (0..m).map(|_| value(&mut rng)).collect();
                let slack: Vec<f32> = (0..m).map(|_| value(&mut rng)).collect();
                let near: Vec<f32> = (0..k).map(|_| value(&mut rng)).collect();
                let needed: Vec<f32> = (0..k).map(|_| value(&mut rng)).collect();
                let thresholds = Thresholds::new(&near, &needed);
                let mut loose = Vec::new();
                let count = loose_points(&labels, &upper, &slack, &thresholds, &mut loose);
                let expected: Vec<u32> = (0..m as u32)
                    .filter(|&i| {
                        let (c, i) = (labels[i as usize] as usize, i as usize);
                        !(upper[i] <= near[c] || slack[i] >= needed[c])
                    })
                    .collect();
                assert_eq!(&loose[..count], &expected[..], "k={k} m={m}");
            }
        }
    }
}
