//! Clustering metrics, with scikit-learn's definitions and special cases
//! (`sklearn.metrics`): the internal ones on points and labels (silhouette,
//! Calinski-Harabasz, Davies-Bouldin) and the comparisons of two labellings
//! (adjusted Rand index, normalised mutual information with the arithmetic mean,
//! homogeneity, completeness, V-measure).
//!
//! Labels are any `usize` values; only equality matters (they are re-coded densely in
//! increasing order of value).

use hashbrown::{HashMap, HashSet};
use ndarray::{Array2, ArrayView2, CowArray, Ix2};
use rayon::prelude::*;

use crate::error::{Result, RfmError};

/// Dense codes `0..n_labels` of `labels`, in increasing order of label value.
fn dense(labels: &[usize]) -> (Vec<usize>, usize) {
    let mut distinct: Vec<usize> = labels
        .iter()
        .copied()
        .collect::<HashSet<usize>>()
        .into_iter()
        .collect();
    distinct.sort_unstable();
    let codes: HashMap<usize, usize> = distinct.iter().enumerate().map(|(code, &l)| (l, code)).collect();
    let dense = labels
        .iter()
        .map(|l| codes.get(l).copied().unwrap_or(0))
        .collect();
    (dense, distinct.len())
}

fn check_points(points: &ArrayView2<'_, f64>, labels: &[usize]) -> Result<usize> {
    if points.nrows() != labels.len() {
        return Err(RfmError::data(format!(
            "there are {} points but {} labels; pass one label per point",
            points.nrows(),
            labels.len()
        )));
    }
    if let Some(((row, col), value)) = points.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(RfmError::data(format!(
            "feature {col} of row {row} (0-based) is {value}; the metric needs finite values"
        )));
    }
    let (_, n_labels) = dense(labels);
    let n = labels.len();
    if !(1 < n_labels && n_labels < n) {
        return Err(RfmError::data(format!(
            "there are {n_labels} distinct labels for {n} points; the metric needs between 2 and n_points - 1 = {} labels",
            n.saturating_sub(1)
        )));
    }
    Ok(n_labels)
}

/// Points (checked by [`check_points`]) in row-major layout with their labels made
/// dense, `0..k`.
struct Clustered<'a> {
    points: CowArray<'a, f64, Ix2>,
    labels: Vec<usize>,
    k: usize,
}

impl<'a> Clustered<'a> {
    fn new(points: &'a ArrayView2<'_, f64>, labels: &[usize]) -> Result<Clustered<'a>> {
        let k = check_points(points, labels)?;
        let (labels, _) = dense(labels);
        Ok(Clustered {
            points: points.as_standard_layout(),
            labels,
            k,
        })
    }

    /// The points as one row-major slice, their number of features, the dense labels
    /// and their number.
    fn parts(&self) -> (&[f64], usize, &[usize], usize) {
        let flat = self.points.as_slice().unwrap_or(&[]);
        (flat, self.points.ncols(), &self.labels, self.k)
    }
}

#[inline]
fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// Per-cluster means (`k × d`) and sizes of dense labels.
fn centroids(flat: &[f64], d: usize, labels: &[usize], k: usize) -> (Vec<f64>, Vec<usize>) {
    let mut sums = vec![0.0; k * d];
    let mut counts = vec![0usize; k];
    for (x, &l) in flat.chunks_exact(d).zip(labels) {
        counts[l] += 1;
        for (s, v) in sums[l * d..(l + 1) * d].iter_mut().zip(x) {
            *s += v;
        }
    }
    for (c, count) in counts.iter().enumerate() {
        for s in &mut sums[c * d..(c + 1) * d] {
            *s /= *count as f64;
        }
    }
    (sums, counts)
}

/// Mean silhouette coefficient of all points (Euclidean distances), as
/// `sklearn.metrics.silhouette_score` without sampling: for each point, `a` is its mean
/// distance to the other points of its cluster, `b` the lowest mean distance to the
/// points of another cluster, and its coefficient `(b − a) / max(a, b)` (0 for a
/// point alone in its cluster). O(n²): sample large data first.
///
/// # Errors
/// [`RfmError::Data`] when the lengths differ, a value is not finite, or the number
/// of distinct labels is not between 2 and n − 1.
pub fn silhouette_score(points: ArrayView2<'_, f64>, labels: &[usize]) -> Result<f64> {
    Ok(silhouette_scores(points, &[labels])?[0])
}

/// [`silhouette_score`] of several labellings of the same points (e.g. the fits of
/// several k), sharing the work: each distance is computed once for every labelling.
///
/// # Errors
/// As [`silhouette_score`], for each labelling.
pub fn silhouette_scores(points: ArrayView2<'_, f64>, labellings: &[&[usize]]) -> Result<Vec<f64>> {
    // Each labelling as dense codes, and its place in a point's row of sums.
    let mut dense_labels = Vec::with_capacity(labellings.len());
    let mut offsets = Vec::with_capacity(labellings.len());
    let mut width = 0;
    for labels in labellings {
        let k = check_points(&points, labels)?;
        dense_labels.push(dense(labels).0);
        offsets.push(width);
        width += k;
    }
    if labellings.is_empty() {
        return Ok(Vec::new());
    }
    let standard = points.as_standard_layout();
    let (n, d) = (standard.nrows(), standard.ncols());
    let flat = standard.as_slice().unwrap_or(&[]);
    let m = labellings.len();
    // slot[j * m + l]: the column of point j's cluster under labelling l
    let mut slot = vec![0usize; n * m];
    for (l, labels) in dense_labels.iter().enumerate() {
        for (j, &label) in labels.iter().enumerate() {
            slot[j * m + l] = offsets[l] + label;
        }
    }
    let sizes: Vec<Vec<usize>> = dense_labels
        .iter()
        .map(|labels| {
            let mut sizes = vec![0usize; labels.iter().max().map_or(0, |&l| l + 1)];
            for &label in labels {
                sizes[label] += 1;
            }
            sizes
        })
        .collect();
    // Per point, its distances to every other point summed by cluster under every
    // labelling at once (one distance for all labellings; memory: one row of sums a
    // point), then its coefficient under each labelling.
    let coefficients: Vec<Vec<f64>> = (0..n)
        .into_par_iter()
        .map(|i| {
            let x = &flat[i * d..(i + 1) * d];
            let mut sums = vec![0.0; width];
            for j in 0..n {
                if j != i {
                    let distance = distance(x, &flat[j * d..(j + 1) * d]);
                    for &column in &slot[j * m..(j + 1) * m] {
                        sums[column] += distance;
                    }
                }
            }
            (0..m)
                .map(|l| {
                    let own = dense_labels[l][i];
                    let sizes = &sizes[l];
                    if sizes[own] <= 1 {
                        return 0.0;
                    }
                    let row = &sums[offsets[l]..offsets[l] + sizes.len()];
                    let a = row[own] / (sizes[own] - 1) as f64;
                    let b = (0..sizes.len())
                        .filter(|&c| c != own)
                        .map(|c| row[c] / sizes[c] as f64)
                        .fold(f64::INFINITY, f64::min);
                    let s = (b - a) / a.max(b);
                    if s.is_nan() {
                        0.0
                    } else {
                        s
                    }
                })
                .collect()
        })
        .collect();
    Ok((0..m)
        .map(|l| coefficients.iter().map(|row| row[l]).sum::<f64>() / n as f64)
        .collect())
}

/// Calinski-Harabasz index (variance ratio criterion), as
/// `sklearn.metrics.calinski_harabasz_score`: `B (n − k) / (W (k − 1))` with `B` the
/// between-cluster and `W` the within-cluster sum of squares; 1 when `W` is 0.
///
/// # Errors
/// As [`silhouette_score`].
pub fn calinski_harabasz_score(points: ArrayView2<'_, f64>, labels: &[usize]) -> Result<f64> {
    let points = Clustered::new(&points, labels)?;
    let (flat, d, labels, k) = points.parts();
    let n = labels.len();
    let (means, sizes) = centroids(flat, d, labels, k);
    let mut mean = vec![0.0; d];
    for x in flat.chunks_exact(d) {
        for (m, v) in mean.iter_mut().zip(x) {
            *m += v;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let mut between = 0.0;
    for c in 0..k {
        let center = &means[c * d..(c + 1) * d];
        between += sizes[c] as f64
            * center
                .iter()
                .zip(&mean)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>();
    }
    let within: f64 = flat
        .chunks_exact(d)
        .zip(labels)
        .map(|(x, &l)| {
            let center = &means[l * d..(l + 1) * d];
            x.iter().zip(center).map(|(a, b)| (a - b) * (a - b)).sum::<f64>()
        })
        .sum();
    Ok(if within == 0.0 {
        1.0
    } else {
        between * (n - k) as f64 / (within * (k as f64 - 1.0))
    })
}

/// Davies-Bouldin index, as `sklearn.metrics.davies_bouldin_score`: the mean over
/// clusters of the largest `(s_i + s_j) / d(c_i, c_j)`, with `s_i` the mean distance
/// of the points of cluster `i` to its centroid; 0 when every `s_i` or every centroid
/// distance is (close to) 0.
///
/// # Errors
/// As [`silhouette_score`].
pub fn davies_bouldin_score(points: ArrayView2<'_, f64>, labels: &[usize]) -> Result<f64> {
    let points = Clustered::new(&points, labels)?;
    let (flat, d, labels, k) = points.parts();
    let (means, sizes) = centroids(flat, d, labels, k);
    let mut spread = vec![0.0; k];
    for (x, &l) in flat.chunks_exact(d).zip(labels) {
        spread[l] += distance(x, &means[l * d..(l + 1) * d]);
    }
    for (s, size) in spread.iter_mut().zip(&sizes) {
        *s /= *size as f64;
    }
    // numpy's isclose(x, 0) with its default tolerances: |x| <= 1e-8.
    let close_to_zero = |v: f64| v.abs() <= 1e-8;
    let gaps: Vec<f64> = (0..k * k)
        .map(|ij| {
            distance(
                &means[(ij / k) * d..(ij / k + 1) * d],
                &means[(ij % k) * d..(ij % k + 1) * d],
            )
        })
        .collect();
    if spread.iter().all(|s| close_to_zero(*s)) || gaps.iter().all(|g| close_to_zero(*g)) {
        return Ok(0.0);
    }
    let mut total = 0.0;
    for i in 0..k {
        let mut worst = f64::NEG_INFINITY;
        for j in 0..k {
            let gap = if gaps[i * k + j] == 0.0 {
                f64::INFINITY
            } else {
                gaps[i * k + j]
            };
            worst = worst.max((spread[i] + spread[j]) / gap);
        }
        total += worst;
    }
    Ok(total / k as f64)
}

/// How a reference labelling (`labels_true`, e.g. rule-based segments) and a predicted
/// one (`labels_pred`, e.g. clusters) relate; each score as its scikit-learn namesake.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelComparison {
    /// Counts: one row per distinct true label, one column per distinct predicted
    /// label, both in increasing order of label value.
    pub crosstab: Array2<u64>,
    pub adjusted_rand: f64,
    /// Mutual information over the arithmetic mean of the two entropies.
    pub normalized_mutual_info: f64,
    pub homogeneity: f64,
    pub completeness: f64,
    /// Harmonic mean of homogeneity and completeness (beta = 1).
    pub v_measure: f64,
}

fn entropy(counts: &[u64]) -> f64 {
    let present: Vec<f64> = counts.iter().filter(|c| **c > 0).map(|c| *c as f64).collect();
    if present.is_empty() {
        return 1.0;
    }
    if present.len() == 1 {
        return 0.0;
    }
    let total: f64 = present.iter().sum();
    -present
        .iter()
        .map(|p| (p / total) * (p.ln() - total.ln()))
        .sum::<f64>()
}

/// `sklearn.metrics.mutual_info_score` from a contingency table.
fn mutual_info(table: &Array2<u64>, rows: &[u64], cols: &[u64]) -> f64 {
    if rows.len() == 1 || cols.len() == 1 {
        return 0.0;
    }
    let total = rows.iter().sum::<u64>() as f64;
    let log_rows = total.ln();
    let mut mi = 0.0;
    for ((i, j), &count) in table.indexed_iter() {
        if count == 0 {
            continue;
        }
        let count = count as f64;
        let p = count / total;
        let outer = rows[i] as f64 * cols[j] as f64;
        let log_outer = -outer.ln() + log_rows + log_rows;
        let term = p * (count.ln() - total.ln()) + p * log_outer;
        if term.abs() >= f64::EPSILON {
            mi += term;
        }
    }
    mi.max(0.0)
}

/// Compares a reference labelling with a predicted one.
///
/// # Errors
/// [`RfmError::Data`] when the two have different lengths.
pub fn compare_labels(labels_true: &[usize], labels_pred: &[usize]) -> Result<LabelComparison> {
    if labels_true.len() != labels_pred.len() {
        return Err(RfmError::data(format!(
            "the segments have {} labels and the clusters {}; pass one of each per customer",
            labels_true.len(),
            labels_pred.len()
        )));
    }
    let (truth, n_true) = dense(labels_true);
    let (pred, n_pred) = dense(labels_pred);
    let mut crosstab = Array2::<u64>::zeros((n_true, n_pred));
    for (&t, &p) in truth.iter().zip(&pred) {
        if let Some(cell) = crosstab.get_mut((t, p)) {
            *cell += 1;
        }
    }
    let rows: Vec<u64> = crosstab.rows().into_iter().map(|r| r.sum()).collect();
    let cols: Vec<u64> = crosstab.columns().into_iter().map(|c| c.sum()).collect();
    let n = truth.len() as u128;

    // Adjusted Rand index from the pair confusion matrix, in exact integers.
    let sum_squares: u128 = crosstab.iter().map(|&c| (c as u128) * (c as u128)).sum();
    let row_squares: u128 = rows.iter().map(|&r| (r as u128) * (r as u128)).sum();
    let col_squares: u128 = cols.iter().map(|&c| (c as u128) * (c as u128)).sum();
    let tp = sum_squares as i128 - n as i128;
    let fp = col_squares as i128 - sum_squares as i128;
    let fn_ = row_squares as i128 - sum_squares as i128;
    let tn = (n * n) as i128 - fp - fn_ - sum_squares as i128;
    let adjusted_rand = if fn_ == 0 && fp == 0 {
        1.0
    } else {
        let numerator = 2.0 * ((tp as f64) * (tn as f64) - (fn_ as f64) * (fp as f64));
        let denominator = (tp + fn_) as f64 * (fn_ + tn) as f64 + (tp + fp) as f64 * (fp + tn) as f64;
        numerator / denominator
    };

    let mi = mutual_info(&crosstab, &rows, &cols);
    let h_true = entropy(&rows);
    let h_pred = entropy(&cols);
    let normalized_mutual_info = if (n_true == 1 && n_pred == 1) || (n_true == 0 && n_pred == 0) {
        1.0
    } else if mi == 0.0 {
        0.0
    } else {
        mi / ((h_true + h_pred) / 2.0)
    };
    let (homogeneity, completeness, v_measure) = if truth.is_empty() {
        (1.0, 1.0, 1.0)
    } else {
        let h = if h_true != 0.0 { mi / h_true } else { 1.0 };
        let c = if h_pred != 0.0 { mi / h_pred } else { 1.0 };
        let v = if h + c == 0.0 { 0.0 } else { 2.0 * h * c / (h + c) };
        (h, c, v)
    };
    Ok(LabelComparison {
        crosstab,
        adjusted_rand,
        normalized_mutual_info,
        homogeneity,
        completeness,
        v_measure,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn identical_labellings_score_one() {
        let result = compare_labels(&[0, 0, 1, 1, 2], &[3, 3, 5, 5, 9]).unwrap();
        assert_eq!(result.adjusted_rand, 1.0);
        assert!((result.normalized_mutual_info - 1.0).abs() < 1e-12);
        assert!((result.v_measure - 1.0).abs() < 1e-12);
        assert_eq!(result.crosstab, array![[2, 0, 0], [0, 2, 0], [0, 0, 1]]);
    }

    #[test]
    fn scikit_learn_doc_values() {
        // sklearn docstrings: adjusted_rand_score([0, 0, 1, 1], [0, 0, 1, 2]) = 0.57...
        let ari = compare_labels(&[0, 0, 1, 1], &[0, 0, 1, 2])
            .unwrap()
            .adjusted_rand;
        assert!((ari - 0.5714285714285714).abs() < 1e-12);
        // A single true class against all-different clusters: NMI 0, completeness 0.
        let one = compare_labels(&[0, 0, 0, 0], &[0, 1, 2, 3]).unwrap();
        assert_eq!(one.normalized_mutual_info, 0.0);
        assert_eq!(one.homogeneity, 1.0);
        assert_eq!(one.completeness, 0.0);
        assert!(compare_labels(&[0], &[0, 1]).is_err());
    }

    #[test]
    fn internal_metrics_on_a_small_case() {
        let points = array![[0.0, 0.0], [0.0, 1.0], [4.0, 0.0], [4.0, 1.0]];
        let labels = [0, 0, 1, 1];
        // a = 1, b = (4 + sqrt(17)) / 2
        let b = (4.0 + 17f64.sqrt()) / 2.0;
        assert!((silhouette_score(points.view(), &labels).unwrap() - (b - 1.0) / b).abs() < 1e-12);
        // B = 4 * 4 = 16, W = 4 * 0.25 = 1: 16 * 2 / (1 * 1)
        assert!((calinski_harabasz_score(points.view(), &labels).unwrap() - 32.0).abs() < 1e-12);
        // s = 0.5 each, centroid distance 4: (0.5 + 0.5) / 4
        assert!((davies_bouldin_score(points.view(), &labels).unwrap() - 0.25).abs() < 1e-12);
        assert!(silhouette_score(points.view(), &[0, 0, 0, 0]).is_err());
        assert!(silhouette_score(points.view(), &[0, 1, 2, 3]).is_err());
        assert!(davies_bouldin_score(points.view(), &[0, 1]).is_err());
    }

    /// The silhouette by its definition, one point at a time.
    fn naive_silhouette(points: &Array2<f64>, labels: &[usize]) -> f64 {
        let n = labels.len();
        let total: f64 = (0..n)
            .map(|i| {
                let mean_to = |c: usize| {
                    let others: Vec<f64> = (0..n)
                        .filter(|&j| j != i && labels[j] == c)
                        .map(|j| {
                            distance(
                                points.row(i).as_slice().unwrap(),
                                points.row(j).as_slice().unwrap(),
                            )
                        })
                        .collect();
                    others.iter().sum::<f64>() / others.len() as f64
                };
                if labels.iter().filter(|&&l| l == labels[i]).count() == 1 {
                    return 0.0;
                }
                let a = mean_to(labels[i]);
                let b = labels
                    .iter()
                    .copied()
                    .filter(|&c| c != labels[i])
                    .map(mean_to)
                    .fold(f64::INFINITY, f64::min);
                (b - a) / a.max(b)
            })
            .sum();
        total / n as f64
    }

    #[test]
    fn several_labellings_share_the_distances_and_match_the_definition() {
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for n in [3, 5, 37, 101] {
            let points = Array2::from_shape_fn((n, 3), |_| next());
            let labellings: Vec<Vec<usize>> = [2, 3, 5]
                .iter()
                .map(|&k| (0..n).map(|i| (i * 7 + i / 3) % k.min(n - 1)).collect())
                .collect();
            let views: Vec<&[usize]> = labellings.iter().map(Vec::as_slice).collect();
            let got = silhouette_scores(points.view(), &views).unwrap();
            for (labels, score) in labellings.iter().zip(&got) {
                let want = naive_silhouette(&points, labels);
                assert!((score - want).abs() < 1e-12, "n={n}: {score} vs {want}");
                assert_eq!(silhouette_score(points.view(), labels).unwrap(), *score);
            }
        }
        assert_eq!(
            silhouette_scores(Array2::<f64>::zeros((3, 2)).view(), &[]).unwrap(),
            Vec::<f64>::new()
        );
    }
}
