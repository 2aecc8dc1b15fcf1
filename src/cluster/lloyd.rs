//! Lloyd's iterations of one run, accelerated with Hamerly's bounds ([`super::bounds`]):
//! the first pass assigns every point, the next ones only the points whose bounds do
//! not prove that they keep their centre, and the per-cluster sums are kept running
//! (the points that move are taken from one sum and added to another).
//!
//! The stopping rule is scikit-learn's: no label changed, or the summed squared shift of
//! the centres is at most the scaled tolerance; after a stop on the tolerance the points
//! are assigned once more to the final centres.

use rayon::prelude::*;

use super::bounds::{f32_down, f32_up, stored_bounds, Bounds, BoundsMut, Drift};
use super::distance::{dim, squared_distance, squared_distance_d, two_nearest, with_dim};
use super::soa::{self, Columns};
use super::CHUNK;

/// The result of one run (its labels stay in the run's [`Bounds`]).
pub(super) struct Run {
    pub(super) centers: Vec<f64>,
    pub(super) inertia: f64,
    pub(super) n_iter: usize,
}

/// Per-cluster sums and counts, and how many points changed cluster.
pub(super) struct Sums {
    pub(super) sums: Vec<f64>,
    pub(super) counts: Vec<i64>,
    pub(super) changed: usize,
}

impl Sums {
    fn zeros(k: usize, d: usize) -> Sums {
        Sums {
            sums: vec![0.0; k * d],
            counts: vec![0; k],
            changed: 0,
        }
    }

    /// The sum of the chunks' sums, in chunk order, so that it does not depend on the
    /// number of threads.
    fn total(chunks: &[Sums], k: usize, d: usize) -> Sums {
        let mut total = Sums::zeros(k, d);
        for chunk in chunks {
            total.add(chunk);
        }
        total
    }

    fn add(&mut self, other: &Sums) {
        self.changed += other.changed;
        for (t, v) in self.counts.iter_mut().zip(&other.counts) {
            *t += v;
        }
        for (t, v) in self.sums.iter_mut().zip(&other.sums) {
            *t += v;
        }
    }
}

/// Half the distance of each centre to its nearest other centre: a point closer than
/// that to its centre cannot be closer to any other.
fn half_gaps(centers: &[f64], d: usize) -> Vec<f64> {
    let k = centers.len() / d;
    (0..k)
        .map(|c| {
            let own = &centers[c * d..(c + 1) * d];
            let mut gap = f64::INFINITY;
            for (o, other) in centers.chunks_exact(d).enumerate() {
                if o != c {
                    gap = gap.min(squared_distance(own, other));
                }
            }
            0.5 * gap.sqrt()
        })
        .collect()
}

/// The points (`d` values each) and their bounds, chunk by chunk of [`CHUNK`] points, in
/// parallel.
fn par_chunks<'a>(
    flat: &'a [f64],
    d: usize,
    bounds: &'a mut Bounds,
) -> impl IndexedParallelIterator<Item = (&'a [f64], BoundsMut<'a>)> {
    flat.par_chunks(CHUNK * d)
        .zip(bounds.labels.par_chunks_mut(CHUNK))
        .zip(bounds.upper.par_chunks_mut(CHUNK))
        .zip(bounds.slack.par_chunks_mut(CHUNK))
        .map(|(((points, labels), upper), slack)| (points, BoundsMut { labels, upper, slack }))
}

/// The first assignment: every point to its nearest centre, with its bounds, and the
/// per-cluster sums from scratch.
pub(super) fn assign_all<const D: usize>(
    flat: &[f64],
    columns: Option<&Columns>,
    d: usize,
    centers: &[f64],
    bounds: &mut Bounds,
) -> Sums {
    let d = dim::<D>(d);
    let k = centers.len() / d;
    let partial: Vec<Sums> = par_chunks(flat, d, bounds)
        .enumerate()
        .map(|(chunk, (points, BoundsMut { labels, upper, slack }))| {
            let mut stats = Sums::zeros(k, d);
            if let Some(columns) = columns.filter(|_| soa::has_kernel::<D>()) {
                let start = chunk * CHUNK;
                let x = columns.block::<D>(start, start + labels.len());
                soa::assign_block::<D>(x, centers, labels, upper, slack);
                // The sums from the columns just read (still in cache), in the order of
                // the rows' loop below.
                for (i, &label) in labels.iter().enumerate() {
                    let best = label as usize;
                    stats.counts[best] += 1;
                    for (j, column) in x.iter().enumerate() {
                        stats.sums[best * D + j] += column[i];
                    }
                }
            } else {
                for (((x, label), up), sl) in points
                    .chunks_exact(d)
                    .zip(labels.iter_mut())
                    .zip(upper.iter_mut())
                    .zip(slack.iter_mut())
                {
                    let (best, best_dist, second) = two_nearest::<D>(x, centers, d);
                    *label = best as u32;
                    (*up, *sl) = stored_bounds(best_dist.sqrt(), second.sqrt(), 0.0, 0.0);
                    stats.counts[best] += 1;
                    for (s, v) in stats.sums[best * d..(best + 1) * d].iter_mut().zip(x) {
                        *s += v;
                    }
                }
            }
            stats.changed = labels.len();
            stats
        })
        .collect();
    Sums::total(&partial, k, d)
}

/// Scratch buffers of a Hamerly pass over one chunk, reused from chunk to chunk.
#[derive(Default)]
struct Scratch {
    /// Indices (in the chunk) of the points whose bounds fail.
    loose: Vec<u32>,
    /// The points that change cluster: index and old label.
    moved: Vec<(u32, u32)>,
}

/// One Hamerly pass: reassigns only the points whose bounds (loosened by the centres'
/// drift) do not prove they keep their centre, and returns the change of the
/// per-cluster sums (points that move are taken from the old cluster's sum and added
/// to the new one, so the sums are kept running instead of recomputed from all points).
///
/// A point keeps its centre when `u + upper[c] <= half_gap[c]` (it is nearer to its
/// centre than half the distance to any other) or `s >= upper[c] + lower[c]` (its
/// lower bound is at least its upper bound): two `f32` comparisons with per-cluster
/// thresholds, rounded so that they never hold where the `f64` test would not. The
/// other points get a full scan of the centres, which also resets both bounds.
fn assign_hamerly<const D: usize>(
    flat: &[f64],
    d: usize,
    centers: &[f64],
    drift: &Drift,
    bounds: &mut Bounds,
) -> Sums {
    let d = dim::<D>(d);
    let k = centers.len() / d;
    let half_gap = half_gaps(centers, d);
    let near: Vec<f32> = (0..k).map(|c| f32_down(half_gap[c] - drift.upper[c])).collect();
    let slack_needed: Vec<f32> = (0..k).map(|c| f32_up(drift.upper[c] + drift.lower[c])).collect();
    let thresholds = soa::Thresholds::new(&near, &slack_needed);
    let partial: Vec<Sums> = par_chunks(flat, d, bounds)
        .map_init(Scratch::default, |scratch, (points, mut chunk)| {
            let mut delta = Sums::zeros(k, d);
            // The bounds first, without a branch on the data (which of them fail is
            // unpredictable), vectorised: the indices of the points they do not hold.
            let n_loose = soa::loose_points(
                chunk.labels,
                chunk.upper,
                chunk.slack,
                &thresholds,
                &mut scratch.loose,
            );
            let loose = &scratch.loose[..n_loose];
            // Their full scans, vectorised for d <= 4.
            let moved = &mut scratch.moved;
            moved.clear();
            if soa::has_kernel::<D>() {
                soa::rescan::<D>(points, loose, centers, drift, &mut chunk, moved);
            } else {
                for &i in loose {
                    let i = i as usize;
                    let (best, best_dist, second) = two_nearest::<D>(&points[i * d..(i + 1) * d], centers, d);
                    chunk.settle(i, best, best_dist.sqrt(), second.sqrt(), drift, moved);
                }
            }
            // In point order, as the sums of a single loop.
            for &(i, old) in moved.iter() {
                let (i, old, new) = (i as usize, old as usize, chunk.labels[i as usize] as usize);
                delta.changed += 1;
                delta.counts[old] -= 1;
                delta.counts[new] += 1;
                for (j, v) in points[i * d..(i + 1) * d].iter().enumerate() {
                    delta.sums[old * d + j] -= v;
                    delta.sums[new * d + j] += v;
                }
            }
            delta
        })
        .collect();
    Sums::total(&partial, k, d)
}

/// New centres from the running sums; an empty cluster takes the point farthest from
/// its centre (as scikit-learn's `_relocate_empty_clusters`). The relocation changes
/// only the centres, not the labels, so it works on a copy of the sums.
fn update_centers(flat: &[f64], d: usize, centers: &[f64], labels: &[u32], running: &Sums) -> Vec<f64> {
    let k = running.counts.len();
    let empty: Vec<usize> = (0..k).filter(|&c| running.counts[c] <= 0).collect();
    let mut sums = running.sums.clone();
    let mut counts = running.counts.clone();
    if !empty.is_empty() {
        let distances: Vec<f64> = flat
            .par_chunks(d)
            .zip(labels.par_iter())
            .map(|(x, &l)| squared_distance(x, &centers[l as usize * d..(l as usize + 1) * d]))
            .collect();
        let mut order: Vec<usize> = (0..distances.len()).collect();
        order.sort_by(|a, b| distances[*b].total_cmp(&distances[*a]).then(a.cmp(b)));
        for (&cluster, &point) in empty.iter().zip(&order) {
            let old = labels[point] as usize;
            let x = &flat[point * d..(point + 1) * d];
            if counts[old] > 1 {
                counts[old] -= 1;
                for (s, v) in sums[old * d..(old + 1) * d].iter_mut().zip(x) {
                    *s -= v;
                }
            }
            counts[cluster] = 1;
            sums[cluster * d..(cluster + 1) * d].copy_from_slice(x);
        }
    }
    let mut next = vec![0.0; k * d];
    for c in 0..k {
        let count = counts[c].max(1) as f64;
        for j in 0..d {
            next[c * d + j] = sums[c * d + j] / count;
        }
    }
    next
}

/// Lloyd's iterations from `centers`, in `bounds` (`n` values each, overwritten).
pub(super) fn lloyd(
    flat: &[f64],
    columns: Option<&Columns>,
    d: usize,
    centers: Vec<f64>,
    max_iter: usize,
    tol: f64,
    bounds: &mut Bounds,
) -> Run {
    with_dim!(d, D => lloyd_d::<D>(flat, columns, d, centers, max_iter, tol, bounds))
}

fn lloyd_d<const D: usize>(
    flat: &[f64],
    columns: Option<&Columns>,
    d: usize,
    mut centers: Vec<f64>,
    max_iter: usize,
    tol: f64,
    bounds: &mut Bounds,
) -> Run {
    let d = dim::<D>(d);
    let mut strict = false;
    let mut n_iter = 0;
    let k = centers.len() / d;
    let mut running = Sums::zeros(k, d);
    let mut drift = Drift::zeros(k);
    for iteration in 0..max_iter {
        let changed = if iteration == 0 {
            running = assign_all::<D>(flat, columns, d, &centers, bounds);
            running.changed
        } else {
            let delta = assign_hamerly::<D>(flat, d, &centers, &drift, bounds);
            running.add(&delta);
            delta.changed
        };
        let next = update_centers(flat, d, &centers, &bounds.labels, &running);
        let total_shift = drift.advance(&centers, &next, d);
        centers = next;
        n_iter = iteration + 1;
        // The first pass has no previous labels to compare with (scikit-learn starts
        // from -1), so it cannot converge strictly.
        if iteration > 0 && changed == 0 {
            strict = true;
            break;
        }
        if total_shift <= tol {
            break;
        }
    }
    if !strict {
        // The labels for the final centres (scikit-learn's last E-step).
        assign_hamerly::<D>(flat, d, &centers, &drift, bounds);
    }
    let inertia = inertia_of::<D>(flat, d, &centers, &bounds.labels);
    Run {
        centers,
        inertia,
        n_iter,
    }
}

pub(super) fn inertia_of<const D: usize>(flat: &[f64], d: usize, centers: &[f64], labels: &[u32]) -> f64 {
    let d = dim::<D>(d);
    let partial: Vec<f64> = flat
        .par_chunks(CHUNK * d)
        .zip(labels.par_chunks(CHUNK))
        .map(|(points, labels)| {
            points
                .chunks_exact(d)
                .zip(labels)
                .map(|(x, &l)| {
                    let l = l as usize;
                    squared_distance_d::<D>(x, &centers[l * d..(l + 1) * d])
                })
                .sum::<f64>()
        })
        .collect();
    partial.iter().sum()
}
