//! K-means on customer features: k-means++ seeding, `n_init` restarts, and Lloyd's
//! iterations accelerated with Hamerly's bounds, parallel over points with rayon.
//!
//! The stopping rule is scikit-learn's (`sklearn.cluster.KMeans`, algorithm "lloyd"):
//! stop when an iteration changes no label ("strict convergence") or when the summed
//! squared shift of the centres is at most `tol × mean feature variance`; after a stop
//! on the tolerance the points are assigned once more to the final centres. So from the
//! same start the iterations, labels and inertia are those of scikit-learn.
//!
//! Hamerly's bounds (an upper bound on the distance of each point to its centre and a
//! lower bound on its distance to every other centre) skip the distance computations
//! of points that cannot change cluster: in 3 dimensions most of them after the first
//! few iterations. The assignment is exact: the bounds only skip work whose result is
//! known (they are stored as `f32`, rounded outwards so that they stay bounds).
//!
//! The results do not depend on the number of threads: every sum is taken per chunk of
//! 4096 points, then chunk after chunk.
//!
//! Both backends, rfmkit's own ([`Backend::Rfmkit`]) and linfa-clustering's
//! ([`Backend::Linfa`]), sit behind linfa's traits: [`KMeansParams`] implements
//! [`linfa::traits::Fit`] on a linfa dataset and [`KMeansModel`] implements
//! [`linfa::traits::PredictInplace`] (hence `Predict`).

use std::sync::{Mutex, PoisonError};

use hashbrown::HashSet;
use linfa::traits::{Fit, PredictInplace};
use linfa::DatasetBase;
use ndarray::{Array1, Array2, ArrayBase, ArrayView2, Data, Ix2};
use rand::{Rng, SeedableRng};
use rand_xoshiro::{Xoshiro256Plus, Xoshiro256PlusPlus};
use rayon::prelude::*;

use crate::error::{Result, RfmError};

#[cfg(target_arch = "x86_64")]
mod avx2;
mod canonical;
mod soa;
use soa::Columns;

/// Points per parallel work item. Fixed (not derived from the thread count) so that
/// the sums, and so the results, do not depend on the number of threads.
const CHUNK: usize = 4096;

/// Which implementation fits the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// rfmkit's own: k-means++ then Lloyd with Hamerly's bounds, parallel.
    Rfmkit,
    /// linfa-clustering 0.8.1's `KMeans` (k-means++ then plain Lloyd), with its
    /// tolerance rescaled to scikit-learn's stopping rule.
    Linfa,
}

/// The parameters of a k-means fit, as a builder; [`KMeansParams::check`] validates
/// them (and `fit` calls it first).
#[derive(Debug, Clone, PartialEq)]
pub struct KMeansParams {
    n_clusters: usize,
    n_init: usize,
    max_iter: usize,
    tol: f64,
    seed: u64,
    backend: Backend,
}

impl KMeansParams {
    /// `n_clusters` clusters, with scikit-learn's defaults: 10 restarts, at most 300
    /// iterations, `tol = 1e-4`; seed 0; rfmkit's backend.
    pub fn new(n_clusters: usize) -> Self {
        KMeansParams {
            n_clusters,
            n_init: 10,
            max_iter: 300,
            tol: 1e-4,
            seed: 0,
            backend: Backend::Rfmkit,
        }
    }

    /// Number of k-means++ restarts; the run with the lowest inertia is kept.
    pub fn n_init(mut self, n_init: usize) -> Self {
        self.n_init = n_init;
        self
    }

    /// Maximum number of Lloyd iterations of one run.
    pub fn max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }

    /// Relative tolerance: a run stops when the summed squared centre shift is at most
    /// `tol` times the mean variance of the features.
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// Seed of the random number generator: equal seeds give equal results.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The implementation to fit with.
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    pub fn n_clusters(&self) -> usize {
        self.n_clusters
    }

    /// Checks the parameters.
    ///
    /// # Errors
    /// [`RfmError::Parameter`] naming the parameter when `n_clusters`, `n_init` or
    /// `max_iter` is 0, or `tol` is negative or not finite.
    pub fn check(&self) -> Result<()> {
        if self.n_clusters == 0 {
            return Err(RfmError::parameter(
                "n_clusters",
                "n_clusters=0: ask for at least 1 cluster".to_string(),
            ));
        }
        if self.n_init == 0 {
            return Err(RfmError::parameter(
                "n_init",
                "n_init=0: run at least 1 initialisation",
            ));
        }
        if self.max_iter == 0 {
            return Err(RfmError::parameter(
                "max_iter",
                "max_iter=0: allow at least 1 iteration",
            ));
        }
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return Err(RfmError::parameter(
                "tol",
                format!("tol={} must be a finite number >= 0 (e.g. 1e-4)", self.tol),
            ));
        }
        Ok(())
    }

    /// Fits on the rows of `points` (one row per customer, one column per feature).
    ///
    /// The result does not depend on the order of the rows: the fit runs on the points
    /// in their canonical order ([`canonical_order`]) and the labels are handed back in
    /// the order of `points`. The same points in any order, with the same seed, get the
    /// same labels (the same numbering), centres and inertia.
    ///
    /// # Errors
    /// [`RfmError::Parameter`] for bad parameters (see [`KMeansParams::check`]);
    /// [`RfmError::Data`] when `points` has no rows or no columns, holds a NaN or an
    /// infinity or a value beyond ±1e150 (squared distances would overflow), or has
    /// fewer distinct rows than `n_clusters`.
    pub fn fit_points(&self, points: ArrayView2<'_, f64>) -> Result<KMeansModel> {
        self.check()?;
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
            Backend::Rfmkit => fit_rfmkit(flat, columns.as_ref(), n, d, self, tol),
            Backend::Linfa => {
                let view = ArrayView2::from_shape((n, d), flat).map_err(|error| {
                    RfmError::data(format!("the points do not form an n x d table: {error}"))
                })?;
                fit_linfa(&view, flat, n, d, self, tol)?
            }
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

/// The rows of `points` in canonical order: sorted lexicographically by their values,
/// each compared with [`f64::total_cmp`] (an order on the bits, `-0.0` before `0.0`).
/// Returns the row index of each canonical position and the rows in that order.
///
/// The sequence of rows depends on the values only, so the same rows in any order give
/// the same sorted rows (rows that are bit for bit equal are interchangeable).
/// [`KMeansParams::fit_points`] fits on this order; a caller that samples the points
/// (e.g. for a silhouette) or sums over them can work on it to be independent of the
/// row order too.
pub fn canonical_order(points: ArrayView2<'_, f64>) -> (Vec<usize>, Array2<f64>) {
    let standard = points.as_standard_layout();
    let (n, d) = standard.dim();
    let sorted = match standard.as_slice() {
        Some(flat) if d > 0 => canonical::canonical_rows(flat, d),
        _ => None,
    };
    match sorted {
        Some((order, rows)) => match Array2::from_shape_vec((n, d), rows) {
            Ok(rows) => (order, rows),
            Err(_) => ((0..n).collect(), standard.into_owned()),
        },
        None => ((0..n).collect(), standard.into_owned()),
    }
}

impl<D: Data<Elem = f64>, T> Fit<ArrayBase<D, Ix2>, T, RfmError> for KMeansParams {
    type Object = KMeansModel;

    /// See [`KMeansParams::fit_points`].
    fn fit(&self, dataset: &DatasetBase<ArrayBase<D, Ix2>, T>) -> Result<KMeansModel> {
        self.fit_points(dataset.records.view())
    }
}

/// A fitted k-means model.
#[derive(Debug, Clone, PartialEq)]
pub struct KMeansModel {
    centroids: Array2<f64>,
    labels: Array1<usize>,
    inertia: f64,
    n_iter: Option<usize>,
}

impl KMeansModel {
    /// The cluster centres, one row per cluster.
    pub fn centroids(&self) -> &Array2<f64> {
        &self.centroids
    }

    /// The cluster of each training point.
    pub fn labels(&self) -> &Array1<usize> {
        &self.labels
    }

    /// Sum of squared distances of the training points to their centres.
    pub fn inertia(&self) -> f64 {
        self.inertia
    }

    /// Iterations of the best run; `None` for the linfa backend, which does not say.
    pub fn n_iter(&self) -> Option<usize> {
        self.n_iter
    }

    /// The model with the given centres (e.g. restored from a pickle), for `predict`.
    ///
    /// # Errors
    /// [`RfmError::Data`] when there are no centres or one is not finite.
    pub fn from_centroids(centroids: Array2<f64>) -> Result<KMeansModel> {
        if centroids.nrows() == 0 || centroids.ncols() == 0 {
            return Err(RfmError::data(
                "a k-means model needs at least one centre of at least one feature",
            ));
        }
        if centroids.iter().any(|v| !v.is_finite()) {
            return Err(RfmError::data("the cluster centres hold a NaN or an infinity"));
        }
        Ok(KMeansModel {
            centroids,
            labels: Array1::zeros(0),
            inertia: 0.0,
            n_iter: None,
        })
    }

    fn check_points(&self, points: &ArrayView2<'_, f64>) -> Result<()> {
        if points.ncols() != self.centroids.ncols() {
            return Err(RfmError::data(format!(
                "the points have {} features but the model was fitted on {}; pass the same features",
                points.ncols(),
                self.centroids.ncols()
            )));
        }
        if let Some(((row, col), value)) = points.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(RfmError::data(format!(
                "feature {col} of row {row} (0-based) is {value}; k-means needs finite values"
            )));
        }
        Ok(())
    }

    /// The nearest centre of each row of `points`.
    ///
    /// # Errors
    /// [`RfmError::Data`] when the number of features differs from the model's or a
    /// value is not finite.
    pub fn predict_checked(&self, points: ArrayView2<'_, f64>) -> Result<Array1<usize>> {
        self.check_points(&points)?;
        let standard = points.as_standard_layout();
        let flat = standard.as_slice().unwrap_or(&[]);
        let centers = self.centroids.as_standard_layout();
        let centers = centers.as_slice().unwrap_or(&[]);
        let d = self.centroids.ncols();
        let labels: Vec<usize> = flat
            .par_chunks(CHUNK * d)
            .flat_map_iter(|chunk| chunk.chunks_exact(d).map(|x| nearest(x, centers, d).0))
            .collect();
        Ok(Array1::from(labels))
    }

    /// Euclidean distances of each row of `points` to each centre (`n × k`).
    ///
    /// # Errors
    /// As [`KMeansModel::predict_checked`].
    pub fn distances(&self, points: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        self.check_points(&points)?;
        let k = self.centroids.nrows();
        let mut out = Array2::zeros((points.nrows(), k));
        for (mut row, x) in out.outer_iter_mut().zip(points.outer_iter()) {
            for (slot, c) in row.iter_mut().zip(self.centroids.outer_iter()) {
                *slot = x
                    .iter()
                    .zip(c.iter())
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
                    .sqrt();
            }
        }
        Ok(out)
    }
}

impl<D: Data<Elem = f64>> PredictInplace<ArrayBase<D, Ix2>, Array1<usize>> for KMeansModel {
    /// The nearest centre of each row. Rows with a non-finite value or a wrong number of
    /// features are a programming error here: `y` is then left as it is; use
    /// [`KMeansModel::predict_checked`] for an error instead.
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<usize>) {
        if let Ok(labels) = self.predict_checked(x.view()) {
            if labels.len() == y.len() {
                y.assign(&labels);
            }
        }
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<usize> {
        Array1::zeros(x.nrows())
    }
}

// ------------------------------------------------------------------ validation

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

/// Per chunk of [`CHUNK`] points (in chunk order, `d` values each), the sum of each
/// feature, or with `means` the sum of its squared deviations from its mean. In
/// parallel, in a fixed order of additions (per chunk, then chunk after chunk), so
/// the results do not depend on the number of threads; on the columns when given
/// (vectorised).
fn chunk_sums(
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
fn scaled_tolerance(
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

// ------------------------------------------------------------------ distances

#[inline]
fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// The number of features: the constant `D` of a kernel specialised for `D` features
/// (1 to 4; 3 is the RFM case), or `d` for the general kernel (`D = 0`). With a constant,
/// the compiler unrolls the distance loops and keeps a point in registers.
#[inline(always)]
fn dim<const D: usize>(d: usize) -> usize {
    if D == 0 {
        d
    } else {
        D
    }
}

/// Squared distance of `a` and `b`, both of `D` (or, for `D = 0`, `a.len()`) features.
#[inline(always)]
fn squared_distance_d<const D: usize>(a: &[f64], b: &[f64]) -> f64 {
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
fn min_of(a: f64, b: f64) -> f64 {
    if b < a {
        b
    } else {
        a
    }
}

/// Index and squared distance of the nearest centre.
#[inline]
fn nearest(x: &[f64], centers: &[f64], d: usize) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (c, center) in centers.chunks_exact(d).enumerate() {
        let dist = squared_distance(x, center);
        if dist < best.1 {
            best = (c, dist);
        }
    }
    best
}

/// Runs `$body` with `$D` bound to a constant number of features: 1 to 4 get their own
/// specialised kernels, any other number the general one (`$D = 0`).
macro_rules! with_dim {
    ($d:expr, $D:ident => $body:expr) => {
        match $d {
            1 => {
                const $D: usize = 1;
                $body
            }
            2 => {
                const $D: usize = 2;
                $body
            }
            3 => {
                const $D: usize = 3;
                $body
            }
            4 => {
                const $D: usize = 4;
                $body
            }
            _ => {
                const $D: usize = 0;
                $body
            }
        }
    };
}

// ------------------------------------------------------------------ k-means++

/// scikit-learn's greedy k-means++: each new centre is the best (lowest potential) of
/// `2 + ln k` candidates drawn with probability proportional to the squared distance
/// to the nearest chosen centre. `closest` (`n` values) is scratch space. With
/// `columns` (the points as columns, `d ≤ 4`), the passes over the points run the
/// vectorised kernels of [`soa`].
fn kmeans_plusplus(
    flat: &[f64],
    columns: Option<&Columns>,
    n: usize,
    d: usize,
    k: usize,
    rng: &mut impl Rng,
    closest: &mut [f64],
) -> Vec<f64> {
    with_dim!(d, D => kmeans_plusplus_d::<D>(flat, columns, n, d, k, rng, closest))
}

/// The sums of the potential over the chunks of [`CHUNK`] points, by pass.
trait ChunkPasses {
    /// Sets `closest` to the squared distances to `center`; returns their sum.
    fn first(&self, chunk: usize, closest: &mut [f64], center: &[f64]) -> f64;
    /// Lowers `closest` with the distances to `center`.
    fn fold(&self, chunk: usize, closest: &mut [f64], center: &[f64]);
    /// The sum over the chunk of `min(closest, d(x, candidate)²)`.
    fn potential(&self, chunk: usize, closest: &[f64], candidate: &[f64]) -> f64;
}

/// The generic passes, on the row-major points.
struct RowPasses<'a, const D: usize> {
    flat: &'a [f64],
    d: usize,
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
struct ColumnPasses<'a, const D: usize> {
    columns: &'a Columns,
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

fn kmeans_plusplus_d<const D: usize>(
    flat: &[f64],
    columns: Option<&Columns>,
    n: usize,
    d: usize,
    k: usize,
    rng: &mut impl Rng,
    closest: &mut [f64],
) -> Vec<f64> {
    let d = dim::<D>(d);
    match columns {
        Some(columns) if D > 0 && D <= soa::MAX_D => seed_centers::<D>(
            flat,
            n,
            d,
            k,
            rng,
            &mut closest[..n],
            &ColumnPasses::<D> { columns },
        ),
        _ => seed_centers::<D>(flat, n, d, k, rng, &mut closest[..n], &RowPasses::<D> { flat, d }),
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

// ------------------------------------------------------------------ Lloyd + Hamerly

/// The result of one run (its labels stay in the run's [`Bounds`]).
struct Run {
    centers: Vec<f64>,
    inertia: f64,
    n_iter: usize,
}

/// Hamerly's state per point: its label, an upper bound `u` on the distance to its
/// centre and the "slack" `s`, such that `u + s` is a lower bound on the distance to
/// every other centre (both relative to the centres' drift, see [`Drift`]). They are
/// stored as `f32`, rounded outwards (`u` up, `s` down) so that they stay bounds: half
/// the memory traffic of `f64` bounds, and the pass tests the slack directly (`s`
/// against the drift), with one comparison per bound.
struct Bounds {
    labels: Vec<u32>,
    upper: Vec<f32>,
    slack: Vec<f32>,
}

/// Relative margin of the `f32` roundings: 2⁻²² is at least twice the relative spacing
/// of `f32` values, so a shift by it survives the rounding to the nearest `f32`.
const F32_MARGIN: f64 = 1.0 / 4_194_304.0;
/// Absolute margin, for the subnormal `f32` values (twice the smallest one).
const F32_TINY: f64 = 2.802596928649634e-45;

/// An `f32` at least `x` (an upper bound stays one), without a branch; `x` is not a
/// NaN. Slightly above `x` even when `x` is an `f32`: the bounds only loosen by a few
/// `f32` units.
#[inline(always)]
fn f32_up(x: f64) -> f32 {
    ((x + ((x.abs() * F32_MARGIN).min(f64::MAX) + F32_TINY)) as f32).max(f32::MIN)
}

/// An `f32` at most `x` (a lower bound stays one), without a branch; `x` is not a NaN.
#[inline(always)]
fn f32_down(x: f64) -> f32 {
    ((x - ((x.abs() * F32_MARGIN).min(f64::MAX) + F32_TINY)) as f32).min(f32::MAX)
}

/// The stored bounds of a point at distance `best` (not squared) from its centre and
/// `second` from the next nearest, when the centre's drift is `drift_upper` and the
/// lower drift `drift_lower` (see [`Drift`]): `(u, s)`.
#[inline(always)]
fn stored_bounds(best: f64, second: f64, drift_upper: f64, drift_lower: f64) -> (f32, f32) {
    let u = f32_up(best - drift_upper);
    let s = f32_down(second + drift_lower - f64::from(u));
    (u, s)
}

/// The bounds of a chunk of points, for Hamerly's pass.
struct BoundsMut<'a> {
    labels: &'a mut [u32],
    upper: &'a mut [f32],
    slack: &'a mut [f32],
}

impl BoundsMut<'_> {
    /// Point `i` is nearest to centre `best`, at distance `nearest` (not squared), and
    /// at `second` from the next nearest: its label and bounds; when its label changes,
    /// `(i, old label)` is appended to `moved`.
    #[inline(always)]
    fn settle(
        &mut self,
        i: usize,
        best: usize,
        nearest: f64,
        second: f64,
        drift: &Drift,
        moved: &mut Vec<(u32, u32)>,
    ) {
        (self.upper[i], self.slack[i]) = stored_bounds(nearest, second, drift.upper[best], drift.lower[best]);
        let old = self.labels[i];
        if old != best as u32 {
            moved.push((i as u32, old));
            self.labels[i] = best as u32;
        }
    }
}

/// The buffers of one run (`n` values each), reused by the next runs: at 1M points
/// they are 20 MB, whose allocation and first touch (page faults) would otherwise be
/// paid `n_init` times.
struct Workspace {
    bounds: Bounds,
    closest: Vec<f64>,
}

impl Workspace {
    fn new(n: usize) -> Workspace {
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

/// How far each centre has moved since the start of the run, to keep the bounds valid
/// without rewriting them every pass: a point stores its bounds relative
/// to the drift of its centre when they were set, so the effective upper bound is
/// `u + upper[label]` (its centre's total shift since) and the effective lower bound
/// `u + s - lower[label]` (the total, over the passes, of the largest shift of the
/// other centres). The hot loop then only reads the points that keep their centre.
struct Drift {
    upper: Vec<f64>,
    lower: Vec<f64>,
}

impl Drift {
    fn zeros(k: usize) -> Drift {
        Drift {
            upper: vec![0.0; k],
            lower: vec![0.0; k],
        }
    }

    /// Adds the shifts of the centres from `old` to `new`; returns the summed squared
    /// shift (scikit-learn's `center_shift_tot`).
    fn advance(&mut self, old: &[f64], new: &[f64], d: usize) -> f64 {
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

/// Per-cluster sums and counts, and how many points changed cluster.
struct Sums {
    sums: Vec<f64>,
    counts: Vec<i64>,
    changed: usize,
}

impl Sums {
    fn zeros(k: usize, d: usize) -> Sums {
        Sums {
            sums: vec![0.0; k * d],
            counts: vec![0; k],
            changed: 0,
        }
    }

    /// Adds the chunks' sums in chunk order, so the total does not depend on the
    /// number of threads.
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

/// Nearest and second-nearest centre of `x`: (index, squared distance, second
/// squared distance). Ties go to the lower index, as numpy's `argmin`.
#[inline(always)]
fn two_nearest<const D: usize>(x: &[f64], centers: &[f64], d: usize) -> (usize, f64, f64) {
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

/// The first assignment: every point to its nearest centre, with its bounds, and the
/// per-cluster sums from scratch.
fn assign_all<const D: usize>(
    flat: &[f64],
    columns: Option<&Columns>,
    d: usize,
    centers: &[f64],
    bounds: &mut Bounds,
) -> Sums {
    let d = dim::<D>(d);
    let k = centers.len() / d;
    let partial: Vec<Sums> = flat
        .par_chunks(CHUNK * d)
        .zip(bounds.labels.par_chunks_mut(CHUNK))
        .zip(bounds.upper.par_chunks_mut(CHUNK))
        .zip(bounds.slack.par_chunks_mut(CHUNK))
        .enumerate()
        .map(|(chunk, (((points, labels), upper), slack))| {
            let mut stats = Sums::zeros(k, d);
            if let Some(columns) = columns.filter(|_| D > 0 && D <= soa::MAX_D) {
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
    let mut total = Sums::zeros(k, d);
    for chunk in &partial {
        total.add(chunk);
    }
    total
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
    let partial: Vec<Sums> = flat
        .par_chunks(CHUNK * d)
        .zip(bounds.labels.par_chunks_mut(CHUNK))
        .zip(bounds.upper.par_chunks_mut(CHUNK))
        .zip(bounds.slack.par_chunks_mut(CHUNK))
        .map_init(Scratch::default, |scratch, (((points, labels), upper), slack)| {
            let mut delta = Sums::zeros(k, d);
            // The bounds first, without a branch on the data (which of them fail is
            // unpredictable), vectorised: the indices of the points they do not hold.
            let n_loose = soa::loose_points(labels, upper, slack, &thresholds, &mut scratch.loose);
            let loose = &scratch.loose[..n_loose];
            // Their full scans, vectorised for d <= 4.
            let moved = &mut scratch.moved;
            moved.clear();
            let mut chunk = BoundsMut { labels, upper, slack };
            if D > 0 && D <= soa::MAX_D {
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
    let mut total = Sums::zeros(k, d);
    for chunk in &partial {
        total.add(chunk);
    }
    total
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
fn lloyd(
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

fn inertia_of<const D: usize>(flat: &[f64], d: usize, centers: &[f64], labels: &[u32]) -> f64 {
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

/// How the `n_init` runs share the threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Restarts {
    /// One run after the other, each parallel over its points (the reference that
    /// the tests hold the concurrent runs to).
    #[cfg_attr(not(test), allow(dead_code))]
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

fn fit_rfmkit(
    flat: &[f64],
    columns: Option<&Columns>,
    n: usize,
    d: usize,
    params: &KMeansParams,
    tol: f64,
) -> KMeansModel {
    fit_rfmkit_with(flat, columns, n, d, params, tol, Restarts::Concurrent)
}

/// `columns`: the points as columns, for `d <= 4` (else the kernels work on the rows).
fn fit_rfmkit_with(
    flat: &[f64],
    columns: Option<&Columns>,
    n: usize,
    d: usize,
    params: &KMeansParams,
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

fn fit_linfa(
    points: &ArrayView2<'_, f64>,
    flat: &[f64],
    n: usize,
    d: usize,
    params: &KMeansParams,
    tol: f64,
) -> Result<KMeansModel> {
    // linfa stops when the (non-squared) Frobenius norm of the centre shift is below
    // its tolerance; scikit-learn compares the squared shift with `tol`.
    let linfa_tol = tol.sqrt().max(f64::MIN_POSITIVE);
    let rng = Xoshiro256Plus::seed_from_u64(params.seed);
    let dataset = DatasetBase::from(points.to_owned());
    let model = linfa_clustering::KMeans::params_with_rng(params.n_clusters, rng)
        .n_runs(params.n_init)
        .tolerance(linfa_tol)
        .max_n_iterations(params.max_iter as u64)
        .fit(&dataset)
        .map_err(|error| RfmError::Backend {
            backend: "linfa",
            message: error.to_string(),
        })?;
    let centroids = model.centroids().to_owned();
    let centers = centroids
        .as_standard_layout()
        .as_slice()
        .map(<[f64]>::to_vec)
        .unwrap_or_default();
    let labels: Vec<u32> = flat
        .par_chunks(d)
        .map(|x| nearest(x, &centers, d).0 as u32)
        .collect();
    debug_assert_eq!(labels.len(), n);
    let inertia = inertia_of::<0>(flat, d, &centers, &labels);
    Ok(KMeansModel {
        centroids,
        labels: labels.iter().map(|&l| l as usize).collect(),
        inertia,
        n_iter: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use linfa::traits::Predict;
    use ndarray::array;

    fn blobs() -> Array2<f64> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let centres = [[0.0, 0.0, 0.0], [5.0, 5.0, 0.0], [0.0, 5.0, 5.0]];
        let mut data = Vec::new();
        for i in 0..3000 {
            let c = centres[i % 3];
            for v in c {
                data.push(v + rng.gen::<f64>() - 0.5);
            }
        }
        Array2::from_shape_vec((3000, 3), data).unwrap()
    }

    /// k-means++ from `rng`, on the columns when `soa` (and `d <= 4`).
    fn seed_with(data: &[f64], n: usize, d: usize, k: usize, rng: &mut impl Rng, soa: bool) -> Vec<f64> {
        let columns = (soa && d <= soa::MAX_D).then(|| Columns::new(data, n, d));
        kmeans_plusplus(data, columns.as_ref(), n, d, k, rng, &mut vec![0.0; n])
    }

    /// One run from `start` in fresh buffers: the run and its labels.
    fn run_from(data: &[f64], n: usize, d: usize, start: Vec<f64>, tol: f64, soa: bool) -> (Run, Vec<usize>) {
        let columns = (soa && d <= soa::MAX_D).then(|| Columns::new(data, n, d));
        let mut workspace = Workspace::new(n);
        let run = lloyd(data, columns.as_ref(), d, start, 300, tol, &mut workspace.bounds);
        let labels = workspace.bounds.labels.iter().map(|&l| l as usize).collect();
        (run, labels)
    }

    /// Plain Lloyd without bounds, for comparison with the Hamerly version.
    fn plain_lloyd(flat: &[f64], d: usize, mut centers: Vec<f64>, iterations: usize) -> Vec<usize> {
        let mut labels = Vec::new();
        for _ in 0..iterations {
            labels = flat.chunks_exact(d).map(|x| nearest(x, &centers, d).0).collect();
            let k = centers.len() / d;
            let mut sums = vec![0.0; k * d];
            let mut counts = vec![0usize; k];
            for (x, &l) in flat.chunks_exact(d).zip(&labels) {
                counts[l] += 1;
                for j in 0..d {
                    sums[l * d + j] += x[j];
                }
            }
            for c in 0..k {
                for j in 0..d {
                    centers[c * d + j] = sums[c * d + j] / counts[c].max(1) as f64;
                }
            }
        }
        labels
    }

    #[test]
    fn finds_separated_blobs_and_predicts_them() {
        let data = blobs();
        let model = KMeansParams::new(3)
            .seed(1)
            .fit(&DatasetBase::from(data.clone()))
            .unwrap();
        let labels = model.labels();
        for i in 0..3 {
            assert!((i..3000).step_by(3).all(|j| labels[j] == labels[i]));
        }
        assert_eq!(model.predict(&data), labels.clone());
        assert!(model.inertia() < 3000.0 * 3.0 / 12.0 * 1.2);
    }

    #[test]
    fn hamerly_matches_plain_lloyd() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let data: Vec<f64> = (0..6000).map(|_| rng.gen::<f64>()).collect();
        let start = seed_with(&data, 2000, 3, 6, &mut rng, true);
        let (run, labels) = run_from(&data, 2000, 3, start.clone(), 0.0, true);
        let plain = plain_lloyd(&data, 3, start, run.n_iter);
        assert_eq!(labels, plain);
    }

    /// Points on a few tied values in `d` dimensions (as RFM features are), with noise.
    fn tied_points(n: usize, d: usize, seed: u64) -> Vec<f64> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..n * d)
            .map(|_| (rng.gen_range(0..6) as f64) * 0.7 + rng.gen::<f64>() * 0.3)
            .collect()
    }

    #[test]
    fn hamerly_matches_plain_lloyd_in_every_kernel() {
        // d = 1 to 4 run the specialised kernels (on rows, and on columns when `soa`),
        // 5 the general one.
        for (d, soa) in [1, 2, 3, 4, 5].into_iter().flat_map(|d| [(d, false), (d, true)]) {
            for k in [2, 5, 9] {
                let n = 3001;
                let data = tied_points(n, d, d as u64 * 31 + k as u64);
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
                let start = seed_with(&data, n, d, k, &mut rng, soa);
                let (run, labels) = run_from(&data, n, d, start.clone(), 0.0, soa);
                let plain = plain_lloyd(&data, d, start, run.n_iter);
                assert_eq!(labels, plain, "d={d} k={k} soa={soa}");
                // The running sums give the means of the final labelling.
                for c in 0..k {
                    let members: Vec<&[f64]> = data
                        .chunks_exact(d)
                        .zip(&labels)
                        .filter(|(_, &l)| l == c)
                        .map(|(x, _)| x)
                        .collect();
                    for j in 0..d {
                        let mean = members.iter().map(|x| x[j]).sum::<f64>() / members.len() as f64;
                        assert!((run.centers[c * d + j] - mean).abs() < 1e-9, "d={d} k={k} c={c}");
                    }
                }
                let inertia: f64 = data
                    .chunks_exact(d)
                    .zip(&labels)
                    .map(|(x, &l)| squared_distance(x, &run.centers[l * d..(l + 1) * d]))
                    .sum();
                assert!((run.inertia - inertia).abs() <= 1e-9 * inertia);
            }
        }
    }

    #[test]
    fn seeding_picks_distinct_points_among_duplicates() {
        // 5 distinct points, each repeated: k = 5 must get all five (a point already
        // chosen has weight 0 and is never drawn again).
        let distinct = [
            [0.0, 0.0, 0.0],
            [1.0, 0.0, 0.0],
            [0.0, 2.0, 0.0],
            [0.0, 0.0, 3.0],
            [4.0, 4.0, 4.0],
        ];
        let n = 3 * CHUNK + 17;
        let data: Vec<f64> = (0..n).flat_map(|i| distinct[(i * 7) % 5]).collect();
        for (seed, soa) in (0..20).flat_map(|seed| [(seed, false), (seed, true)]) {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            let centers = seed_with(&data, n, 3, 5, &mut rng, soa);
            let mut rows: Vec<Vec<u64>> = centers
                .chunks_exact(3)
                .map(|c| c.iter().map(|v| v.to_bits()).collect())
                .collect();
            rows.sort();
            rows.dedup();
            assert_eq!(rows.len(), 5, "seed {seed} soa={soa}");
        }
    }

    #[test]
    fn column_kernels_equal_the_generic_kernels() {
        // Sizes with a tail (not a multiple of the 8-point blocks, nor of CHUNK).
        for d in 1..=soa::MAX_D {
            for k in [1, 2, 3, 8, 13] {
                let n = CHUNK + 8 * 37 + 5;
                let data = tied_points(n, d, 100 + d as u64 * 7 + k as u64);
                let columns = Columns::new(&data, n, d);
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(k as u64);
                let centers: Vec<f64> = (0..k)
                    .flat_map(|_| {
                        let i = rng.gen_range(0..n);
                        data[i * d..(i + 1) * d].to_vec()
                    })
                    .collect();
                // The first assignment: labels, bounds and sums bit for bit.
                let mut on_rows = Workspace::new(n).bounds;
                let mut on_columns = Workspace::new(n).bounds;
                let (rows_sums, columns_sums) = with_dim!(d, D => (
                    assign_all::<D>(&data, None, d, &centers, &mut on_rows),
                    assign_all::<D>(&data, Some(&columns), d, &centers, &mut on_columns),
                ));
                assert_eq!(on_rows.labels, on_columns.labels, "d={d} k={k}");
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<u64>>();
                let bits32 = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
                assert_eq!(bits32(&on_rows.upper), bits32(&on_columns.upper), "d={d} k={k}");
                assert_eq!(bits32(&on_rows.slack), bits32(&on_columns.slack), "d={d} k={k}");
                assert_eq!(rows_sums.counts, columns_sums.counts);
                assert_eq!(bits(&rows_sums.sums), bits(&columns_sums.sums));
                // The labels are the nearest centres (ties to the lower index).
                for (x, &label) in data.chunks_exact(d).zip(&on_columns.labels) {
                    assert_eq!(nearest(x, &centers, d).0, label as usize);
                }
                // Hamerly's gathered full scans: as the generic scan, bit for bit (labels,
                // bounds and the points that move), from the first assignment's state
                // and some drift.
                let rows: Vec<u32> = (0..n as u32).filter(|i| i % 3 != 1).collect();
                let drift = Drift {
                    upper: (0..k).map(|c| 0.01 * c as f64).collect(),
                    lower: (0..k).map(|c| 0.02 + 0.001 * c as f64).collect(),
                };
                let mut generic = Workspace::new(n).bounds;
                generic
                    .labels
                    .iter_mut()
                    .enumerate()
                    .for_each(|(i, l)| *l = (i % k) as u32);
                let mut gathered = Workspace::new(n).bounds;
                gathered.labels.clone_from(&generic.labels);
                let (mut moved_generic, mut moved_gathered) = (Vec::new(), Vec::new());
                {
                    let mut chunk = BoundsMut {
                        labels: &mut generic.labels,
                        upper: &mut generic.upper,
                        slack: &mut generic.slack,
                    };
                    for &i in &rows {
                        let i = i as usize;
                        let (b, bd, sd) = two_nearest::<0>(&data[i * d..(i + 1) * d], &centers, d);
                        chunk.settle(i, b, bd.sqrt(), sd.sqrt(), &drift, &mut moved_generic);
                    }
                    let mut chunk = BoundsMut {
                        labels: &mut gathered.labels,
                        upper: &mut gathered.upper,
                        slack: &mut gathered.slack,
                    };
                    with_dim!(d, D => soa::rescan::<D>(&data, &rows, &centers, &drift, &mut chunk, &mut moved_gathered));
                }
                assert_eq!(generic.labels, gathered.labels, "d={d} k={k}");
                assert_eq!(bits32(&generic.upper), bits32(&gathered.upper), "d={d} k={k}");
                assert_eq!(bits32(&generic.slack), bits32(&gathered.slack), "d={d} k={k}");
                assert_eq!(moved_generic, moved_gathered, "d={d} k={k}");
                // Seeding passes: the folded distances bit for bit, the potentials
                // (summed in another order) to rounding.
                let center = &centers[..d];
                let candidate = &centers[(k - 1) * d..];
                with_dim!(d, D => {
                        let rows = RowPasses::<D> { flat: &data, d };
                        let cols = ColumnPasses::<D> { columns: &columns };
                        for chunk in 0..n.div_ceil(CHUNK) {
                            let len = CHUNK.min(n - chunk * CHUNK);
                            let (mut a, mut b) = (vec![0.0; len], vec![0.0; len]);
                            let sum_a = rows.first(chunk, &mut a, center);
                            let sum_b = cols.first(chunk, &mut b, center);
                            assert_eq!(bits(&a), bits(&b));
                            assert!((sum_a - sum_b).abs() <= 1e-12 * sum_a.max(1.0));
                            let (pa, pb) = (rows.potential(chunk, &a, candidate), cols.potential(chunk, &b, candidate));
                            assert!((pa - pb).abs() <= 1e-12 * pa.max(1.0), "d={d} k={k}");
                            rows.fold(chunk, &mut a, candidate);
                            cols.fold(chunk, &mut b, candidate);
                            assert_eq!(bits(&a), bits(&b));
                        }
                });
            }
        }
    }

    #[test]
    fn concurrent_restarts_equal_sequential_ones_on_any_thread_count() {
        let n = 3 * CHUNK + 77;
        for d in [3, 5] {
            let data = tied_points(n, d, 21 + d as u64);
            let params = KMeansParams::new(5).n_init(4).seed(3);
            let columns = (d <= soa::MAX_D).then(|| Columns::new(&data, n, d));
            let sums = chunk_sums(&data, columns.as_ref(), n, d, None);
            let tol = scaled_tolerance(&data, columns.as_ref(), n, d, &sums, 1e-4);
            let fit = |threads: usize, restarts: Restarts| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap()
                    .install(|| fit_rfmkit_with(&data, columns.as_ref(), n, d, &params, tol, restarts))
            };
            let reference = fit(1, Restarts::Sequential);
            for threads in [1, 2, 3] {
                assert_eq!(
                    reference,
                    fit(threads, Restarts::Concurrent),
                    "d={d} threads={threads}"
                );
                assert_eq!(
                    reference,
                    fit(threads, Restarts::Sequential),
                    "d={d} threads={threads}"
                );
            }
        }
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let n = 5 * CHUNK + 123;
        let data = Array2::from_shape_vec((n, 3), tied_points(n, 3, 5)).unwrap();
        let fit = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    KMeansParams::new(6)
                        .n_init(3)
                        .seed(9)
                        .fit_points(data.view())
                        .unwrap()
                })
        };
        let one = fit(1);
        assert_eq!(one, fit(2));
        assert_eq!(one, fit(3));
    }

    /// Rows of `data` (n x d) in a shuffled order, and the original row of each.
    fn shuffled(data: &[f64], d: usize, seed: u64) -> (Vec<f64>, Vec<usize>) {
        let n = data.len() / d;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut rows: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            rows.swap(i, rng.gen_range(0..=i));
        }
        let flat = rows
            .iter()
            .flat_map(|&r| data[r * d..(r + 1) * d].iter().copied())
            .collect();
        (flat, rows)
    }

    #[test]
    fn the_row_order_changes_nothing() {
        // Tied values (as in RFM tables) in 3 features (the column kernels) and 5 (the
        // general ones); both backends. Equal labels (the same numbering), centres and
        // inertia, bit for bit.
        for (d, backend) in [3, 5]
            .into_iter()
            .flat_map(|d| [(d, Backend::Rfmkit), (d, Backend::Linfa)])
        {
            let n = 2500;
            let data = tied_points(n, d, 5 + d as u64);
            let params = KMeansParams::new(4).n_init(3).seed(9).backend(backend);
            let fit = |flat: &[f64]| {
                params
                    .fit_points(ArrayView2::from_shape((n, d), flat).unwrap())
                    .unwrap()
            };
            let reference = fit(&data);
            for shuffle in 0..4 {
                let (flat, rows) = shuffled(&data, d, shuffle);
                let model = fit(&flat);
                let expected: Vec<usize> = rows.iter().map(|&r| reference.labels()[r]).collect();
                assert_eq!(
                    model.labels().to_vec(),
                    expected,
                    "d={d} {backend:?} shuffle {shuffle}"
                );
                assert_eq!(model.centroids(), reference.centroids());
                assert_eq!(model.inertia().to_bits(), reference.inertia().to_bits());
            }
        }
    }

    #[test]
    fn canonical_order_sorts_the_rows() {
        let points = array![[2.0, 1.0], [0.0, 5.0], [-0.0, 7.0], [2.0, 0.5]];
        let (order, rows) = canonical_order(points.view());
        assert_eq!(order, vec![2, 1, 3, 0]);
        assert_eq!(rows, array![[-0.0, 7.0], [0.0, 5.0], [2.0, 0.5], [2.0, 1.0]]);
        let (order, again) = canonical_order(rows.view());
        assert_eq!((order, again), (vec![0, 1, 2, 3], rows));
    }

    #[test]
    fn same_seed_same_result_and_backends_agree() {
        let data = blobs();
        let a = KMeansParams::new(3).seed(5).fit_points(data.view()).unwrap();
        let b = KMeansParams::new(3).seed(5).fit_points(data.view()).unwrap();
        assert_eq!(a, b);
        let linfa = KMeansParams::new(3)
            .seed(5)
            .backend(Backend::Linfa)
            .fit_points(data.view())
            .unwrap();
        assert!((linfa.inertia() - a.inertia()).abs() <= 1e-3 * a.inertia());
        assert_eq!(linfa.n_iter(), None);
    }

    #[test]
    fn bad_parameters_and_data_are_errors() {
        let data = array![[0.0, 1.0], [0.0, 1.0], [2.0, 3.0]];
        let too_many = KMeansParams::new(3).fit_points(data.view()).unwrap_err();
        assert!(too_many.to_string().contains("2 distinct points"), "{too_many}");
        assert!(matches!(
            KMeansParams::new(0).fit_points(data.view()),
            Err(RfmError::Parameter {
                name: "n_clusters",
                ..
            })
        ));
        assert!(matches!(
            KMeansParams::new(1).n_init(0).check(),
            Err(RfmError::Parameter { name: "n_init", .. })
        ));
        assert!(matches!(
            KMeansParams::new(1).max_iter(0).check(),
            Err(RfmError::Parameter { name: "max_iter", .. })
        ));
        assert!(matches!(
            KMeansParams::new(1).tol(f64::NAN).check(),
            Err(RfmError::Parameter { name: "tol", .. })
        ));
        let empty = Array2::<f64>::zeros((0, 3));
        assert!(matches!(
            KMeansParams::new(1).fit_points(empty.view()),
            Err(RfmError::Data { .. })
        ));
        let infinite = array![[0.0, f64::INFINITY], [1.0, 1.0]];
        for backend in [Backend::Rfmkit, Backend::Linfa] {
            let error = KMeansParams::new(1)
                .backend(backend)
                .fit_points(infinite.view())
                .unwrap_err();
            assert!(error.to_string().contains("feature 1 of row 0"), "{error}");
        }
        let model = KMeansParams::new(1).fit_points(data.view()).unwrap();
        assert!(model.predict_checked(array![[1.0]].view()).is_err());
    }

    #[test]
    fn f32_bounds_round_outwards() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(17);
        let mut values = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            f64::from(0.1_f32),
            0.1,
            1e-45,
            -1e-45,
            1e-40,
            1e-300,
            f64::from(f32::MAX),
            3.5e38,
            -3.5e38,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        values.extend((0..10_000).map(|_| (rng.gen::<f64>() - 0.5) * 10f64.powi(rng.gen_range(-40..40))));
        for x in values {
            let (up, down) = (f32_up(x), f32_down(x));
            assert!(f64::from(up) >= x, "{x} up to {up}");
            assert!(f64::from(down) <= x, "{x} down to {down}");
            if x.abs() < 1e30 {
                // Only a few f32 units looser.
                assert!(f64::from(up) - x <= 1e-6 * x.abs() + 1e-44, "{x} up to {up}");
                assert!(
                    x - f64::from(down) <= 1e-6 * x.abs() + 1e-44,
                    "{x} down to {down}"
                );
            }
        }
    }

    #[test]
    fn huge_finite_values_are_a_clear_error_and_nan_is_still_found() {
        // The finiteness check only searches chunks whose sums are not finite: here the
        // sums overflow, yet every value is finite; such values would overflow the
        // squared distances, so they are refused with their position.
        let data = array![[1e308, 0.0], [1e308, 1.0], [1e308, 2.0], [-1e308, 3.0]];
        let error = KMeansParams::new(2).fit_points(data.view()).unwrap_err();
        assert!(error.to_string().contains("feature 0 of row 0"), "{error}");
        assert!(error.to_string().contains("rescale"), "{error}");
        let edge = array![[1e150, 0.0], [-1e150, 1.0], [0.0, 2.0], [1.0, 3.0]];
        let model = KMeansParams::new(2).fit_points(edge.view()).unwrap();
        assert!(model.inertia().is_finite());
        let mut nan = data.clone();
        nan[[3, 1]] = f64::NAN;
        let error = KMeansParams::new(2).fit_points(nan.view()).unwrap_err();
        assert!(error.to_string().contains("feature 1 of row 3"), "{error}");
    }

    #[test]
    fn one_cluster_is_the_mean() {
        let data = array![[0.0, 0.0], [2.0, 4.0]];
        let model = KMeansParams::new(1).fit_points(data.view()).unwrap();
        assert_eq!(model.centroids(), &array![[1.0, 2.0]]);
        assert_eq!(model.inertia(), 10.0);
        let distances = model.distances(data.view()).unwrap();
        assert!((distances[[0, 0]] - 5f64.sqrt()).abs() < 1e-12);
    }
}
