//! Structure-of-arrays kernels for few features (`d ≤ 4`, the RFM case): the points
//! copied once into columns and processed [`LANES`] at a time, so the compiler
//! vectorises the distance loops of the dense passes (k-means++ seeding and the first
//! full assignment). On x86-64 the AVX2 build of each kernel is chosen at run time
//! when the CPU has it; otherwise the baseline (SSE2) build runs.
//!
//! The arithmetic is the generic kernels' own, in the same order: a squared distance
//! is `((0 + Δ₀²) + Δ₁²) + …`, feature by feature, with no fused multiply-add (Rust
//! never contracts `a * b + c`), and the nearest / second-nearest selection is
//! [`super::two_nearest`]'s. So the distances, hence the labels and bounds, equal the
//! generic kernels' bit for bit, whatever the instruction set.

use super::{squared_distance_d, two_nearest};

/// The largest number of features with a structure-of-arrays kernel.
pub(super) const MAX_D: usize = 4;

/// Points per vectorised block (two AVX2 registers of four `f64`). Fixed, so that the
/// lane-wise sums, and so the results, are the same on every machine.
const LANES: usize = 8;

/// The points as columns: feature `j` of point `i` at `data[j * n + i]`.
pub(super) struct Columns {
    data: Vec<f64>,
    n: usize,
}

impl Columns {
    /// Transposes the `n × d` row-major points (one pass; done once per fit).
    pub(super) fn new(flat: &[f64], n: usize, d: usize) -> Columns {
        let mut data = vec![0.0; n * d];
        for (j, column) in data.chunks_exact_mut(n.max(1)).enumerate().take(d) {
            for (slot, row) in column.iter_mut().zip(flat.chunks_exact(d)) {
                *slot = row[j];
            }
        }
        Columns { data, n }
    }

    /// Points `start..end` of each of the `D` columns.
    pub(super) fn block<const D: usize>(&self, start: usize, end: usize) -> [&[f64]; D] {
        std::array::from_fn(|j| &self.data[j * self.n + start..j * self.n + end])
    }
}

/// Runs `$kernel::<D>($args)` as its AVX2 build when the CPU has AVX2 (x86-64), else
/// as its baseline build. `$avx2` is the `#[target_feature(enable = "avx2")]` wrapper
/// of `$kernel`.
macro_rules! dispatch {
    ($kernel:ident, $avx2:ident, $D:ident, ($($arg:expr),*)) => {{
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: `$avx2` only enables AVX2 for `$kernel`, and the CPU has AVX2
                // (checked just above).
                return unsafe { $avx2::<$D>($($arg),*) };
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
    dispatch!(fold_center_kernel, fold_center_avx2, D, (x, closest, center))
}

/// The potential of `candidate` over the block: the sum of `min(closest, d(x, candidate)²)`,
/// in the order of [`fold_center`]'s sum.
pub(super) fn potential<const D: usize>(x: [&[f64]; D], closest: &[f64], candidate: &[f64]) -> f64 {
    dispatch!(potential_kernel, potential_avx2, D, (x, closest, candidate))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn fold_center_avx2<const D: usize>(x: [&[f64]; D], closest: &mut [f64], center: &[f64]) -> f64 {
    fold_center_kernel::<D>(x, closest, center)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn potential_avx2<const D: usize>(x: [&[f64]; D], closest: &[f64], candidate: &[f64]) -> f64 {
    potential_kernel::<D>(x, closest, candidate)
}

/// [`LANES`] points, feature by feature.
type Block<const D: usize> = [[f64; LANES]; D];

/// The [`LANES`] points of the columns from `base`.
#[inline(always)]
fn load_block<const D: usize>(x: &[&[f64]; D], base: usize) -> Block<D> {
    std::array::from_fn(|j| {
        let column = &x[j][base..base + LANES];
        std::array::from_fn(|l| column[l])
    })
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
                second[l].min(dist[l])
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
fn lanes_total(lanes: [f64; LANES]) -> f64 {
    ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
}

#[inline(always)]
fn fold_center_kernel<const D: usize>(x: [&[f64]; D], closest: &mut [f64], center: &[f64]) -> f64 {
    let m = closest.len();
    let x: [&[f64]; D] = std::array::from_fn(|j| &x[j][..m]);
    let center: [f64; D] = std::array::from_fn(|j| center[j]);
    let mut lanes = [0.0_f64; LANES];
    let blocks = m / LANES;
    for b in 0..blocks {
        let base = b * LANES;
        let dist = block_distances::<D>(&load_block::<D>(&x, base), &center);
        let best = &mut closest[base..base + LANES];
        for l in 0..LANES {
            best[l] = best[l].min(dist[l]);
            lanes[l] += best[l];
        }
    }
    let mut total = lanes_total(lanes);
    for (i, best) in closest.iter_mut().enumerate().skip(blocks * LANES) {
        *best = best.min(squared_distance_d::<D>(&row::<D>(&x, i), &center));
        total += *best;
    }
    total
}

#[inline(always)]
fn potential_kernel<const D: usize>(x: [&[f64]; D], closest: &[f64], candidate: &[f64]) -> f64 {
    let m = closest.len();
    let x: [&[f64]; D] = std::array::from_fn(|j| &x[j][..m]);
    let candidate: [f64; D] = std::array::from_fn(|j| candidate[j]);
    let mut lanes = [0.0_f64; LANES];
    let blocks = m / LANES;
    for b in 0..blocks {
        let base = b * LANES;
        let dist = block_distances::<D>(&load_block::<D>(&x, base), &candidate);
        let best = &closest[base..base + LANES];
        for l in 0..LANES {
            lanes[l] += best[l].min(dist[l]);
        }
    }
    let mut total = lanes_total(lanes);
    for (i, best) in closest.iter().enumerate().skip(blocks * LANES) {
        total += best.min(squared_distance_d::<D>(&row::<D>(&x, i), &candidate));
    }
    total
}

// ------------------------------------------------------------------ first assignment

/// Each point of the block to its nearest centre: its label, the distance to it
/// (`upper`) and to the second-nearest centre (`lower`), as [`two_nearest`] (ties to
/// the lower index).
pub(super) fn assign_block<const D: usize>(
    x: [&[f64]; D],
    centers: &[f64],
    labels: &mut [u32],
    upper: &mut [f64],
    lower: &mut [f64],
) {
    dispatch!(assign_kernel, assign_avx2, D, (x, centers, labels, upper, lower))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn assign_avx2<const D: usize>(
    x: [&[f64]; D],
    centers: &[f64],
    labels: &mut [u32],
    upper: &mut [f64],
    lower: &mut [f64],
) {
    assign_kernel::<D>(x, centers, labels, upper, lower)
}

#[inline(always)]
fn assign_kernel<const D: usize>(
    x: [&[f64]; D],
    centers: &[f64],
    labels: &mut [u32],
    upper: &mut [f64],
    lower: &mut [f64],
) {
    let m = labels.len();
    let x: [&[f64]; D] = std::array::from_fn(|j| &x[j][..m]);
    let (upper, lower) = (&mut upper[..m], &mut lower[..m]);
    let rows = center_rows::<D>(centers);
    let blocks = m / LANES;
    for b in 0..blocks {
        let base = b * LANES;
        let (best, best_dist, second) = block_two_nearest::<D>(&load_block::<D>(&x, base), &rows);
        for l in 0..LANES {
            labels[base + l] = best[l] as u32;
            upper[base + l] = best_dist[l].sqrt();
            lower[base + l] = second[l].sqrt();
        }
    }
    for i in blocks * LANES..m {
        let (best, best_dist, second) = two_nearest::<D>(&row::<D>(&x, i), centers, D);
        labels[i] = best as u32;
        upper[i] = best_dist.sqrt();
        lower[i] = second.sqrt();
    }
}

// ------------------------------------------------------------------ Hamerly's full scans

/// The nearest and second-nearest centre of the points `points[i]` for `i` in `rows`
/// (row-major points of `D` features): `(index, squared distance, second squared
/// distance)` in `out`, as [`two_nearest`]. The points are gathered [`LANES`] at a time
/// into a block, then scanned as in [`assign_block`].
pub(super) fn two_nearest_rows<const D: usize>(
    points: &[f64],
    rows: &[u32],
    centers: &[f64],
    out: &mut Vec<(u32, f64, f64)>,
) {
    dispatch!(
        two_nearest_rows_kernel,
        two_nearest_rows_avx2,
        D,
        (points, rows, centers, out)
    )
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn two_nearest_rows_avx2<const D: usize>(
    points: &[f64],
    rows: &[u32],
    centers: &[f64],
    out: &mut Vec<(u32, f64, f64)>,
) {
    two_nearest_rows_kernel::<D>(points, rows, centers, out)
}

#[inline(always)]
fn two_nearest_rows_kernel<const D: usize>(
    points: &[f64],
    rows: &[u32],
    centers: &[f64],
    out: &mut Vec<(u32, f64, f64)>,
) {
    out.clear();
    let center_rows = center_rows::<D>(centers);
    let mut blocks = rows.chunks_exact(LANES);
    for indices in &mut blocks {
        let block: Block<D> =
            std::array::from_fn(|j| std::array::from_fn(|l| points[indices[l] as usize * D + j]));
        let (best, best_dist, second) = block_two_nearest::<D>(&block, &center_rows);
        for l in 0..LANES {
            out.push((best[l] as u32, best_dist[l], second[l]));
        }
    }
    for &i in blocks.remainder() {
        let i = i as usize;
        let (best, best_dist, second) = two_nearest::<D>(&points[i * D..(i + 1) * D], centers, D);
        out.push((best as u32, best_dist, second));
    }
}
