//! k-means++ seeding, scikit-learn's greedy variant: each new centre is the best of a
//! few candidates drawn with probability proportional to the squared distance to the
//! nearest chosen centre. The passes over the points run per chunk of [`CHUNK`] points,
//! on the rows or (few features) on the columns with the vectorised kernels of
//! [`super::soa`].

use rand::Rng;
use rayon::prelude::*;

use super::distance::{dim, min_of, squared_distance_d, with_dim};
use super::soa::{self, Columns};
use super::CHUNK;

/// scikit-learn's greedy k-means++: each new centre is the best (lowest potential) of
/// `2 + ln k` candidates drawn with probability proportional to the squared distance
/// to the nearest chosen centre. `closest` (`n` values) is scratch space. With
/// `columns` (the points as columns, `d ≤ 4`), the passes over the points run the
/// vectorised kernels of [`soa`].
pub(super) fn kmeans_plusplus(
    flat: &[f64],
    columns: Option<&Columns>,
    n: usize,
    d: usize,
    k: usize,
    rng: &mut impl Rng,
    closest: &mut [f64],
) -> Vec<f64> {
    let closest = &mut closest[..n];
    with_dim!(d, D => match columns {
        Some(columns) if soa::has_kernel::<D>() => {
            seed_centers::<D>(flat, n, D, k, rng, closest, &ColumnPasses::<D> { columns })
        }
        _ => {
            let d = dim::<D>(d);
            seed_centers::<D>(flat, n, d, k, rng, closest, &RowPasses::<D> { flat, d })
        }
    })
}

/// The sums of the potential over the chunks of [`CHUNK`] points, by pass.
pub(super) trait ChunkPasses {
    /// Sets `closest` to the squared distances to `center`; returns their sum.
    fn first(&self, chunk: usize, closest: &mut [f64], center: &[f64]) -> f64;
    /// Lowers `closest` with the distances to `center`.
    fn fold(&self, chunk: usize, closest: &mut [f64], center: &[f64]);
    /// The sum over the chunk of `min(closest, d(x, candidate)²)`.
    fn potential(&self, chunk: usize, closest: &[f64], candidate: &[f64]) -> f64;
}

/// The generic passes, on the row-major points.
pub(super) struct RowPasses<'a, const D: usize> {
    pub(super) flat: &'a [f64],
    pub(super) d: usize,
}

impl<const D: usize> RowPasses<'_, D> {
    fn points(&self, chunk: usize, len: usize) -> &[f64] {
        &self.flat[chunk * CHUNK * self.d..(chunk * CHUNK + len) * self.d]
    }
}

impl<const D: usize> ChunkPasses for RowPasses<'_, D> {
    fn first(&self, chunk: usize, closest: &mut [f64], center: &[f64]) -> f64 {
        let mut sum = 0.0;
        let points = self.points(chunk, closest.len());
        for (b, x) in closest.iter_mut().zip(points.chunks_exact(self.d)) {
            *b = squared_distance_d::<D>(x, center);
            sum += *b;
        }
        sum
    }

    fn fold(&self, chunk: usize, closest: &mut [f64], center: &[f64]) {
        let points = self.points(chunk, closest.len());
        for (b, x) in closest.iter_mut().zip(points.chunks_exact(self.d)) {
            *b = min_of(*b, squared_distance_d::<D>(x, center));
        }
    }

    fn potential(&self, chunk: usize, closest: &[f64], candidate: &[f64]) -> f64 {
        // Four running sums (points i mod 4, a fixed order) shorten the chain of
        // additions.
        let d = self.d;
        let points = self.points(chunk, closest.len());
        let mut lanes = [0.0_f64; 4];
        let mut quads = closest.chunks_exact(4).zip(points.chunks_exact(4 * d));
        for (b4, x4) in &mut quads {
            for (lane, (b, x)) in lanes.iter_mut().zip(b4.iter().zip(x4.chunks_exact(d))) {
                *lane += min_of(*b, squared_distance_d::<D>(x, candidate));
            }
        }
        let tail = closest.len() - closest.len() % 4;
        let mut total = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
        for (b, x) in closest[tail..].iter().zip(points[tail * d..].chunks_exact(d)) {
            total += min_of(*b, squared_distance_d::<D>(x, candidate));
        }
        total
    }
}

/// The vectorised passes, on the columns.
pub(super) struct ColumnPasses<'a, const D: usize> {
    pub(super) columns: &'a Columns,
}

impl<const D: usize> ChunkPasses for ColumnPasses<'_, D> {
    fn first(&self, chunk: usize, closest: &mut [f64], center: &[f64]) -> f64 {
        let start = chunk * CHUNK;
        closest.fill(f64::INFINITY);
        soa::fold_center::<D>(
            self.columns.block::<D>(start, start + closest.len()),
            closest,
            center,
        )
    }

    fn fold(&self, chunk: usize, closest: &mut [f64], center: &[f64]) {
        let start = chunk * CHUNK;
        soa::fold_center::<D>(
            self.columns.block::<D>(start, start + closest.len()),
            closest,
            center,
        );
    }

    fn potential(&self, chunk: usize, closest: &[f64], candidate: &[f64]) -> f64 {
        let start = chunk * CHUNK;
        soa::potential::<D>(
            self.columns.block::<D>(start, start + closest.len()),
            closest,
            candidate,
        )
    }
}

/// One pass over the points per new centre: it first lowers each point's distance to
/// the nearest centre with the centre chosen last (`pending`), then sums the
/// potential of every candidate per chunk (one candidate at a time over the chunk,
/// which stays in cache). The draws need no cumulative sum over all points: the
/// per-chunk sums locate the chunk, and only that chunk is scanned.
fn seed_centers<const D: usize>(
    flat: &[f64],
    n: usize,
    d: usize,
    k: usize,
    rng: &mut impl Rng,
    closest: &mut [f64],
    passes: &(impl ChunkPasses + Sync),
) -> Vec<f64> {
    let trials = 2 + (k as f64).ln() as usize;
    let mut centers = Vec::with_capacity(k * d);
    let first = rng.gen_range(0..n);
    centers.extend_from_slice(&flat[first * d..(first + 1) * d]);
    let mut chunk_sums: Vec<f64> = closest
        .par_chunks_mut(CHUNK)
        .enumerate()
        .map(|(chunk, best)| passes.first(chunk, best, &centers[..d]))
        .collect();
    // The centre chosen last, not yet folded into `closest`.
    let mut pending: Option<Vec<f64>> = None;
    for _ in 1..k {
        let weight = |i: usize| -> f64 {
            let x = &flat[i * d..(i + 1) * d];
            match &pending {
                Some(center) => min_of(closest[i], squared_distance_d::<D>(x, center)),
                None => closest[i],
            }
        };
        let mut prefix = Vec::with_capacity(chunk_sums.len());
        let mut potential = 0.0;
        for s in &chunk_sums {
            potential += s;
            prefix.push(potential);
        }
        let candidates: Vec<usize> = (0..trials)
            .map(|_| {
                let target = rng.gen::<f64>() * potential;
                let chunk = prefix.partition_point(|&c| c <= target).min(prefix.len() - 1);
                let start = chunk * CHUNK;
                let end = ((chunk + 1) * CHUNK).min(n);
                let mut running = if chunk == 0 { 0.0 } else { prefix[chunk - 1] };
                // If rounding leaves the target past the chunk's last point, take the
                // chunk's last point of positive weight (else its last point).
                let mut fallback = end - 1;
                for i in start..end {
                    let w = weight(i);
                    running += w;
                    if w > 0.0 {
                        fallback = i;
                    }
                    if running > target {
                        return i;
                    }
                }
                fallback
            })
            .collect();
        let candidate_points: Vec<&[f64]> = candidates.iter().map(|&c| &flat[c * d..(c + 1) * d]).collect();
        let partial: Vec<Vec<f64>> = closest
            .par_chunks_mut(CHUNK)
            .enumerate()
            .map(|(chunk, best)| {
                if let Some(center) = &pending {
                    passes.fold(chunk, best, center);
                }
                candidate_points
                    .iter()
                    .map(|candidate| passes.potential(chunk, best, candidate))
                    .collect::<Vec<f64>>()
            })
            .collect();
        let mut potentials = vec![0.0; trials];
        for chunk in &partial {
            for (p, v) in potentials.iter_mut().zip(chunk) {
                *p += v;
            }
        }
        let mut best = 0;
        for (t, p) in potentials.iter().enumerate() {
            if *p < potentials[best] {
                best = t;
            }
        }
        chunk_sums = partial.iter().map(|chunk| chunk[best]).collect();
        let center = candidate_points[best].to_vec();
        centers.extend_from_slice(&center);
        pending = Some(center);
    }
    centers
}
