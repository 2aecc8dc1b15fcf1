//! A fit from the points to the model: the checks of the data, the canonical order of
//! the points, scikit-learn's scaled tolerance, then the backend; for rfmkit's own, the
//! `n_init` runs (k-means++ then Lloyd), concurrent, of which the best is kept.

use std::sync::{Mutex, PoisonError};

use hashbrown::HashSet;
use ndarray::{Array1, Array2, ArrayView2};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

use super::bounds::Bounds;
use super::hyperparams::{Backend, KMeansParams, KMeansValidParams};
use super::init::kmeans_plusplus;
use super::lloyd::{lloyd, Run};
use super::model::KMeansModel;
use super::soa::{self, Columns};
use super::{canonical, CHUNK};
use crate::error::{Result, RfmError};

impl KMeansParams {
    /// Fits on the rows of `points` (one row per customer, one column per feature): the
    /// parameters are checked ([`KMeansParams::check`]), then
    /// [`KMeansValidParams::fit_points`].
    ///
    /// # Errors
    /// [`RfmError::Parameter`] for bad parameters (see [`KMeansParams::check`]); the
    /// errors of [`KMeansValidParams::fit_points`].
    pub fn fit_points(&self, points: ArrayView2<'_, f64>) -> Result<KMeansModel> {
        self.check()?.fit_points(points)
    }
}

impl KMeansValidParams {
    /// Fits on the rows of `points` (one row per customer, one column per feature).
    ///
    /// The result does not depend on the order of the rows: the fit runs on the points
    /// in their canonical order ([`super::canonical_order`]) and the labels are handed
    /// back in the order of `points`. The same points in any order, with the same seed,
    /// get the same labels (the same numbering), centres and inertia.
    ///
    /// # Errors
    /// [`RfmError::Data`] when `points` has no rows or no columns, holds a NaN or an
    /// infinity or a value beyond ±1e150 (squared distances would overflow);
    /// [`RfmError::Parameter`] (`n_clusters`) when it has fewer distinct rows than
    /// `n_clusters`.
    pub fn fit_points(&self, points: ArrayView2<'_, f64>) -> Result<KMeansModel> {
        let standard = points.as_standard_layout();
        let (n, d) = standard.dim();
        let flat = standard
            .as_slice()
            .ok_or_else(|| RfmError::data("the points are not contiguous"))?;
        check_shape(n, d)?;
        check_values(flat, d)?;
        check_distinct(flat, d, self.n_clusters)?;
        // k-means++ draws by position and the sums run in row order: on the canonical
        // order both depend on the points only. One copy of the points, in that order
        // (none when they come sorted).
        let (order, sorted_points) = canonical::canonical_rows(flat, d).unzip();
        let flat = sorted_points.as_deref().unwrap_or(flat);
        // rfmkit's kernels for few features work on the points as columns, copied here.
        let columns = (self.backend == Backend::Rfmkit && d <= soa::MAX_D).then(|| Columns::new(flat, n, d));
        let sums = chunk_sums(flat, columns.as_ref(), n, d, None);
        let tol = scaled_tolerance(flat, columns.as_ref(), n, d, &sums, self.tol);
        let model = match self.backend {
            Backend::Rfmkit => fit_rfmkit(flat, columns.as_ref(), n, d, self, tol, Restarts::Concurrent),
            #[cfg(feature = "linfa")]
            Backend::Linfa => super::linfa_backend::fit(flat, n, d, self, tol)?,
            #[cfg(not(feature = "linfa"))]
            Backend::Linfa => return Err(super::hyperparams::linfa_missing()),
        };
        Ok(match order {
            Some(order) => KMeansModel {
                labels: Array1::from(canonical::scatter_labels(
                    model.labels.as_slice().unwrap_or(&[]),
                    &order,
                )),
                ..model
            },
            None => model,
        })
    }
}

// ------------------------------------------------------------------ the data

fn check_shape(n: usize, d: usize) -> Result<()> {
    if n == 0 {
        return Err(RfmError::data(
            "there are no points (customers) to cluster: the table is empty",
        ));
    }
    if d == 0 {
        return Err(RfmError::data(
            "the points have no features: pass at least one feature",
        ));
    }
    Ok(())
}

/// The largest feature value k-means accepts: squared distances between such values
/// stay finite (`(2 · 1e150)² = 4e300 < f64::MAX`), so every distance and bound does.
const MAX_MAGNITUDE: f64 = 1e150;

/// Every value finite and within [`MAX_MAGNITUDE`]: one parallel pass, then a search
/// for the first bad value only when there is one.
fn check_values(flat: &[f64], d: usize) -> Result<()> {
    // A NaN is bad too: it is not within the bound.
    let bad = |v: &f64| !(-MAX_MAGNITUDE..=MAX_MAGNITUDE).contains(v);
    if !flat.par_iter().any(bad) {
        return Ok(());
    }
    let d = d.max(1);
    if let Some(position) = flat.iter().position(|v| !v.is_finite()) {
        return Err(RfmError::data(format!(
            "feature {} of row {} (0-based) is {}; k-means needs finite values: drop or fill such rows",
            position % d,
            position / d,
            flat[position]
        )));
    }
    let position = flat.iter().position(bad).unwrap_or(0);
    let value = flat.get(position).copied().unwrap_or(f64::NAN);
    let (feature, row) = (position % d, position / d);
    Err(RfmError::data(format!(
        "feature {feature} of row {row} (0-based) is {value:e}; k-means squares the distances, which overflow \
         for values beyond {MAX_MAGNITUDE:e}: rescale the features (e.g. scale=\"standard\")"
    )))
}

/// At least `k` distinct rows.
fn check_distinct(flat: &[f64], d: usize, k: usize) -> Result<()> {
    let distinct = count_distinct_rows(flat, d, k);
    if distinct < k {
        return Err(RfmError::parameter(
            "n_clusters",
            format!(
                "n_clusters={k} is more than the {distinct} distinct points in the data; ask for at most {distinct} clusters"
            ),
        ));
    }
    Ok(())
}

/// Distinct rows, counting up to `limit` only (enough to check `k`).
fn count_distinct_rows(flat: &[f64], d: usize, limit: usize) -> usize {
    // -0.0 and 0.0 are the same point.
    let key = |row: &[f64]| -> Vec<u64> {
        row.iter()
            .map(|v| if *v == 0.0 { 0 } else { v.to_bits() })
            .collect()
    };
    let mut seen: HashSet<Vec<u64>> = HashSet::new();
    for row in flat.chunks_exact(d) {
        seen.insert(key(row));
        if seen.len() >= limit {
            break;
        }
    }
    seen.len()
}

// ------------------------------------------------------------------ the tolerance

/// Per chunk of [`CHUNK`] points (in chunk order, `d` values each), the sum of each
/// feature, or with `means` the sum of its squared deviations from its mean. In
/// parallel, in a fixed order of additions (per chunk, then chunk after chunk), so
/// the results do not depend on the number of threads; on the columns when given
/// (vectorised).
pub(super) fn chunk_sums(
    flat: &[f64],
    columns: Option<&Columns>,
    n: usize,
    d: usize,
    means: Option<&[f64]>,
) -> Vec<f64> {
    let per_chunk: Vec<Vec<f64>> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|chunk| {
            let (start, end) = (chunk * CHUNK, ((chunk + 1) * CHUNK).min(n));
            match columns {
                Some(columns) => (0..d)
                    .map(|j| soa::column_sum(columns.column(j, start, end), means.map(|m| m[j])))
                    .collect(),
                None => {
                    let mut sums = vec![0.0; d];
                    for row in flat[start * d..end * d].chunks_exact(d) {
                        for (j, (s, v)) in sums.iter_mut().zip(row).enumerate() {
                            *s += match means {
                                Some(m) => (v - m[j]) * (v - m[j]),
                                None => *v,
                            };
                        }
                    }
                    sums
                }
            }
        })
        .collect();
    per_chunk.concat()
}

/// The totals over the chunks of [`chunk_sums`], in chunk order.
fn total_sums(sums: &[f64], d: usize) -> Vec<f64> {
    let mut total = vec![0.0; d];
    for chunk in sums.chunks_exact(d) {
        for (t, s) in total.iter_mut().zip(chunk) {
            *t += s;
        }
    }
    total
}

/// scikit-learn's `_tolerance`: `tol` times the mean of the features' variances
/// (`sums` from [`chunk_sums`]).
pub(super) fn scaled_tolerance(
    flat: &[f64],
    columns: Option<&Columns>,
    n: usize,
    d: usize,
    sums: &[f64],
    tol: f64,
) -> f64 {
    let means: Vec<f64> = total_sums(sums, d).iter().map(|s| s / n as f64).collect();
    let squares = chunk_sums(flat, columns, n, d, Some(&means));
    total_sums(&squares, d).iter().sum::<f64>() / (n as f64) / (d as f64) * tol
}

// ------------------------------------------------------------------ rfmkit's backend: the runs

/// The buffers of one run (`n` values each), reused by the next runs: at 1M points
/// they are 20 MB, whose allocation and first touch (page faults) would otherwise be
/// paid `n_init` times.
pub(super) struct Workspace {
    pub(super) bounds: Bounds,
    closest: Vec<f64>,
}

impl Workspace {
    pub(super) fn new(n: usize) -> Workspace {
        Workspace {
            bounds: Bounds {
                labels: vec![0; n],
                upper: vec![0.0; n],
                slack: vec![0.0; n],
            },
            closest: vec![0.0; n],
        }
    }

    /// Every buffer holds `n` values (the labels may have been handed to the best run).
    fn ensure(&mut self, n: usize) {
        self.bounds.labels.resize(n, 0);
        self.bounds.upper.resize(n, 0.0);
        self.bounds.slack.resize(n, 0.0);
        self.closest.resize(n, 0.0);
    }
}

/// How the `n_init` runs share the threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Restarts {
    /// One run after the other, each parallel over its points (the reference that
    /// the tests hold the concurrent runs to).
    #[cfg(test)]
    Sequential,
    /// The runs concurrently (rayon tasks), each still parallel over its points when a
    /// thread is idle.
    Concurrent,
}

/// The best run so far: lowest inertia, then lowest index (so the choice does not
/// depend on which run finishes first).
struct Best {
    index: usize,
    run: Run,
    labels: Vec<u32>,
}

/// rfmkit's backend: the `n_init` runs, each from its own seed, shared among the threads
/// as `restarts` says; the best is kept. `columns`: the points as columns, for `d <= 4`
/// (else the kernels work on the rows).
pub(super) fn fit_rfmkit(
    flat: &[f64],
    columns: Option<&Columns>,
    n: usize,
    d: usize,
    params: &KMeansValidParams,
    tol: f64,
    restarts: Restarts,
) -> KMeansModel {
    // Each run's seed depends only on `seed` and the run's index.
    let mut seeds = Xoshiro256PlusPlus::seed_from_u64(params.seed);
    let run_seeds: Vec<u64> = (0..params.n_init).map(|_| seeds.gen()).collect();
    let pool: Mutex<Vec<Workspace>> = Mutex::new(Vec::new());
    let best: Mutex<Option<Best>> = Mutex::new(None);
    let one_run = |index: usize| {
        let spare = pool.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let mut workspace = spare.unwrap_or_else(|| Workspace::new(n));
        workspace.ensure(n);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(run_seeds[index]);
        let start = kmeans_plusplus(
            flat,
            columns,
            n,
            d,
            params.n_clusters,
            &mut rng,
            &mut workspace.closest,
        );
        let run = lloyd(
            flat,
            columns,
            d,
            start,
            params.max_iter,
            tol,
            &mut workspace.bounds,
        );
        {
            let mut best = best.lock().unwrap_or_else(PoisonError::into_inner);
            // A total order (NaN last), so the choice never depends on which run
            // finishes first.
            let better = best.as_ref().is_none_or(|b| {
                run.inertia
                    .total_cmp(&b.run.inertia)
                    .then(index.cmp(&b.index))
                    .is_lt()
            });
            if better {
                // The labels go to the best; the workspace takes the old best's buffer.
                let mut labels = best.take().map(|b| b.labels).unwrap_or_default();
                std::mem::swap(&mut labels, &mut workspace.bounds.labels);
                *best = Some(Best { index, run, labels });
            }
        }
        pool.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(workspace);
    };
    match restarts {
        #[cfg(test)]
        Restarts::Sequential => (0..params.n_init).for_each(one_run),
        Restarts::Concurrent => (0..params.n_init).into_par_iter().for_each(one_run),
    }
    let best = best.into_inner().unwrap_or_else(PoisonError::into_inner);
    let (run, labels) = match best {
        Some(best) => (best.run, best.labels),
        None => (
            Run {
                centers: vec![0.0; params.n_clusters * d],
                inertia: f64::NAN,
                n_iter: 0,
            },
            vec![0; n],
        ),
    };
    KMeansModel {
        centroids: Array2::from_shape_vec((params.n_clusters, d), run.centers)
            .unwrap_or_else(|_| Array2::zeros((params.n_clusters, d))),
        labels: labels.iter().map(|&l| l as usize).collect(),
        inertia: run.inertia,
        n_iter: Some(run.n_iter),
    }
}
