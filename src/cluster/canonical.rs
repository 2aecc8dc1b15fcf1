//! The canonical order of the points: an order that depends on their values only, not on
//! the order of the rows they came in.
//!
//! k-means++ draws its seeds by position, and every sum runs in row order, so the same
//! customers in another row order would give another clustering with the same seed. A
//! fit therefore runs on the points sorted by content and hands the labels back in the
//! caller's row order: the same customers, in any order, give the same labels.
//!
//! The order is lexicographic over the features, each compared with
//! [`f64::total_cmp`] (an order on the values' bits: `-0.0` before `0.0`), so it is a
//! total order and two rows compare equal only when they are bit for bit the same —
//! and such rows are interchangeable, so an unstable sort is enough.

use std::cmp::Ordering;

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

/// The rows of `points` in canonical order: sorted lexicographically by their values,
/// each compared with [`f64::total_cmp`] (an order on the bits, `-0.0` before `0.0`).
/// Returns the row index of each canonical position and the rows in that order.
///
/// The sequence of rows depends on the values only, so the same rows in any order give
/// the same sorted rows (rows that are bit for bit equal are interchangeable).
/// [`super::KMeansParams::fit_points`] fits on this order; a caller that samples the points
/// (e.g. for a silhouette) or sums over them can work on it to be independent of the
/// row order too.
pub fn canonical_order(points: ArrayView2<'_, f64>) -> (Vec<usize>, Array2<f64>) {
    let standard = points.as_standard_layout();
    let (n, d) = standard.dim();
    let sorted = match standard.as_slice() {
        Some(flat) if d > 0 => canonical_rows(flat, d),
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

/// `a` against `b`, feature by feature with [`f64::total_cmp`].
#[inline]
fn compare_rows(a: &[f64], b: &[f64]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let order = x.total_cmp(y);
        if order.is_ne() {
            return order;
        }
    }
    Ordering::Equal
}

/// Whether the rows of the row-major `flat` (`d` values each) are in canonical order
/// already: one parallel pass, so that points sorted once (as the Python layer does
/// before its transform) are not sorted again.
pub(super) fn is_canonical(flat: &[f64], d: usize) -> bool {
    if d == 0 {
        return true;
    }
    let n = flat.len() / d;
    (1..n)
        .into_par_iter()
        .all(|i| compare_rows(&flat[(i - 1) * d..i * d], &flat[i * d..(i + 1) * d]).is_le())
}

/// The rows of `flat` (`d` values each) in canonical order: the row index of each
/// canonical position, and the rows themselves in that order (row-major). `None` when
/// the rows are in canonical order already.
pub(super) fn canonical_rows(flat: &[f64], d: usize) -> Option<(Vec<usize>, Vec<f64>)> {
    if is_canonical(flat, d) {
        return None;
    }
    Some(match d {
        1 => sort_keyed::<1>(flat),
        2 => sort_keyed::<2>(flat),
        3 => sort_keyed::<3>(flat),
        4 => sort_keyed::<4>(flat),
        _ => sort_indirect(flat, d),
    })
}

/// The bits of `x` as an unsigned integer in [`f64::total_cmp`]'s order.
#[inline]
fn sort_key(x: f64) -> u64 {
    let bits = x.to_bits() as i64;
    // total_cmp's map: flip the magnitude bits of negative values, so that the bits
    // compare as signed integers; flipping the sign bit then makes them compare as
    // unsigned ones.
    ((bits ^ ((((bits >> 63) as u64) >> 1) as i64)) as u64) ^ (1 << 63)
}

/// The value of a [`sort_key`] (the map is its own inverse up to the sign-bit flip).
#[inline]
fn key_value(key: u64) -> f64 {
    let bits = (key ^ (1 << 63)) as i64;
    f64::from_bits((bits ^ ((((bits >> 63) as u64) >> 1) as i64)) as u64)
}

/// Few features: the rows' keys sorted together with their indices, in one contiguous
/// array (no indirection per comparison); the sorted keys are the sorted rows.
fn sort_keyed<const D: usize>(flat: &[f64]) -> (Vec<usize>, Vec<f64>) {
    let mut keyed: Vec<([u64; D], usize)> = flat
        .par_chunks_exact(D)
        .enumerate()
        .map(|(i, row)| (std::array::from_fn(|j| sort_key(row[j])), i))
        .collect();
    keyed.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let order = keyed.par_iter().map(|&(_, i)| i).collect();
    let mut rows = vec![0.0; flat.len()];
    rows.par_chunks_exact_mut(D)
        .zip(keyed.par_iter())
        .for_each(|(row, (keys, _))| {
            for (value, &key) in row.iter_mut().zip(keys) {
                *value = key_value(key);
            }
        });
    (order, rows)
}

/// Any number of features: the row indices sorted by comparing the rows, then one
/// gather.
fn sort_indirect(flat: &[f64], d: usize) -> (Vec<usize>, Vec<f64>) {
    let mut order: Vec<usize> = (0..flat.len() / d).collect();
    order.par_sort_unstable_by(|&a, &b| compare_rows(&flat[a * d..(a + 1) * d], &flat[b * d..(b + 1) * d]));
    let mut rows = vec![0.0; flat.len()];
    rows.par_chunks_exact_mut(d)
        .zip(order.par_iter())
        .for_each(|(row, &i)| row.copy_from_slice(&flat[i * d..(i + 1) * d]));
    (order, rows)
}

/// Labels of the canonically ordered points, put back in the caller's row order:
/// the point at canonical position `p` is row `order[p]`.
pub(super) fn scatter_labels(canonical_labels: &[usize], order: &[usize]) -> Vec<usize> {
    let mut labels = vec![0; order.len()];
    for (&row, &label) in order.iter().zip(canonical_labels) {
        labels[row] = label;
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECIAL: [f64; 12] = [
        f64::NEG_INFINITY,
        -1e300,
        -2.5,
        -f64::MIN_POSITIVE,
        -0.0,
        0.0,
        5e-324,
        f64::MIN_POSITIVE,
        1.0,
        2.5,
        1e300,
        f64::INFINITY,
    ];

    #[test]
    fn keys_order_as_total_cmp_and_map_back() {
        for &a in &SPECIAL {
            assert_eq!(key_value(sort_key(a)).to_bits(), a.to_bits());
            for &b in &SPECIAL {
                assert_eq!(sort_key(a).cmp(&sort_key(b)), a.total_cmp(&b), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn rows_sort_lexicographically_by_bits() {
        let flat = [2.0, 1.0, 0.0, 5.0, -0.0, 7.0, 2.0, 0.5, -3.0, 9.0];
        // -3 < -0 < 0 < 2 (then 0.5 < 1 in the second feature)
        let expected_order = vec![4, 2, 1, 3, 0];
        let expected_rows: Vec<f64> = vec![-3.0, 9.0, -0.0, 7.0, 0.0, 5.0, 2.0, 0.5, 2.0, 1.0];
        for (order, rows) in [
            canonical_rows(&flat, 2).unwrap_or_default(),
            sort_indirect(&flat, 2),
        ] {
            assert_eq!(order, expected_order);
            let bits: Vec<u64> = rows.iter().map(|v| v.to_bits()).collect();
            let expected: Vec<u64> = expected_rows.iter().map(|v| v.to_bits()).collect();
            assert_eq!(bits, expected);
            assert!(is_canonical(&rows, 2));
            assert_eq!(canonical_rows(&rows, 2), None);
        }
    }

    #[test]
    fn keyed_and_indirect_sorts_agree() {
        // Many ties in the first features, as in RFM tables.
        for d in 1..=4 {
            let flat: Vec<f64> = (0..600 * d)
                .map(|i| ((i * 7919) % 13) as f64 - 6.0 + if i % 5 == 0 { 0.25 } else { 0.0 })
                .collect();
            let (_, keyed) = canonical_rows(&flat, d).unwrap_or_default();
            let (_, indirect) = sort_indirect(&flat, d);
            assert_eq!(keyed, indirect, "d = {d}");
        }
    }

    #[test]
    fn labels_go_back_to_their_rows() {
        let order = [2, 0, 1];
        assert_eq!(scatter_labels(&[7, 8, 9], &order), vec![8, 9, 7]);
    }

    #[test]
    fn empty_and_single_rows() {
        assert_eq!(canonical_rows(&[], 3), None);
        assert_eq!(canonical_rows(&[1.0, 2.0], 2), None);
        assert!(is_canonical(&[], 0));
    }
}
