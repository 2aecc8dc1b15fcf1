//! RFM scores (DESIGN.md, "Scores and segments").
//!
//! - Balanced quantile scores 1..=`bins` (the default, [`Method::Balanced`]): the sorted
//!   distinct values are cut into `bins` contiguous groups, scored 1..=`bins` from the
//!   lowest group up, so that equal values share a score, the score grows with the value,
//!   and every score is used whenever there are at least `bins` distinct values. Among
//!   such cuts the one with the smallest `Σ (group size − n/bins)²` wins — equivalently
//!   the smallest `Σ size²`, since the sizes sum to `n`. Ties between equally balanced cuts
//!   go to the cut positions closest to the exact quantile positions `k·n/bins` (least
//!   `Σ (bins·x_k − k·n)²` over the cut positions `x_k`), then to the lowest cuts. The
//!   minimum is found exactly by a dynamic programme over the distinct values; the cost of
//!   a group, the square of its size, satisfies the quadrangle inequality, so each
//!   layer's best cut is monotone and divide and conquer finds a layer in
//!   O(distinct · log distinct). Untied data get exact quantiles; a tie larger than
//!   `n/bins` (half the customers bought once) stays one group and the other groups share
//!   the rest evenly. With fewer distinct values than `bins`, each value is its own group
//!   and gets the mid-rank score below, moved up or down just enough to keep the scores
//!   distinct, so some scores go unused.
//! - Mid-rank quantile scores ([`Method::MidRank`], the older rule): a value's percentile
//!   is `p = (avg_rank - 0.5) / n` (ranks 1..=n, ties get their average rank) and its score
//!   `floor(p * bins) + 1`. Equal values always get equal scores and the row order
//!   changes nothing. The arithmetic is exact: with `below` values strictly smaller and
//!   `up_to` values smaller or equal, `2 * avg_rank - 1 = below + up_to`, so the score is
//!   `(below + up_to) * bins / (2 n) + 1` in integers.
//! - Threshold scores from user edges `e_1 < ... < e_{bins-1}`: the intervals are closed
//!   on the right, `(-inf, e_1], (e_1, e_2], ..., (e_{bins-1}, inf)`, scored `1..=bins`
//!   from the lowest interval up.
//! - "Higher is better": for [`Direction::LowerIsBetter`] (recency) the ranking is on the
//!   negated values (quantiles) and the interval scores are reversed (thresholds), so a
//!   short recency scores high.

use hashbrown::HashMap;
use rayon::prelude::*;

use crate::error::{Result, RfmError};

mod balanced;
pub use balanced::balanced_scores;

/// Largest number of scores per metric: the `rfm_code` ("545") has one digit per metric.
pub const MAX_BINS: u32 = 9;

/// Which way a metric is scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Frequency, monetary: a large value scores high.
    HigherIsBetter,
    /// Recency: a small value scores high.
    LowerIsBetter,
}

/// How to score one metric.
#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    /// Balanced, tie-aware quantile scores 1..=bins (the default).
    Balanced,
    /// Mid-rank quantile scores 1..=bins (the older rule).
    MidRank,
    /// Scores from strictly increasing edges (`bins - 1` of them).
    Thresholds(Vec<f64>),
}

/// One metric to score: its values, the column name used in messages, the direction
/// and the method.
#[derive(Debug, Clone)]
pub struct Metric<'a> {
    pub values: &'a [f64],
    pub name: &'a str,
    pub direction: Direction,
    pub method: Method,
}

/// Scores of R, F and M with the combined code and weighted score.
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    pub r: Vec<i64>,
    pub f: Vec<i64>,
    pub m: Vec<i64>,
    /// Index of the code `r f m` among all `bins^3` codes in lexicographic order:
    /// `(r - 1) * bins^2 + (f - 1) * bins + (m - 1)`.
    pub code: Vec<i64>,
    /// `weights[0] * r + weights[1] * f + weights[2] * m`.
    pub total: Vec<f64>,
}

/// Checks `bins` (2..=9).
///
/// # Errors
/// [`RfmError::Parameter`] naming `bins` when it is out of range.
pub fn check_bins(bins: u32) -> Result<()> {
    if !(2..=MAX_BINS).contains(&bins) {
        return Err(RfmError::parameter(
            "bins",
            format!("bins={bins} is out of range: pass a whole number from 2 to {MAX_BINS} (5 is the usual choice)"),
        ));
    }
    Ok(())
}

/// Fails on the first NaN or infinite value of `values`.
///
/// # Errors
/// [`RfmError::BadValue`] naming the column, the row and the value.
pub fn check_finite(values: &[f64], column: &str) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(row) => Err(RfmError::BadValue {
            column: format!("column '{column}'"),
            row,
            value: shown_value(values[row]),
            hint: "scores and segments need finite numbers; drop or fill such rows first".to_string(),
        }),
    }
}

/// A bad value as messages show it: NaN is also how a null arrives from Python.
pub(crate) fn shown_value(value: f64) -> String {
    if value.is_nan() {
        "NaN (or null)".to_string()
    } else {
        value.to_string()
    }
}

/// Mid-rank quantile scores 1..=`bins` of `values` (see the module docs).
///
/// # Errors
/// [`RfmError::Parameter`] for `bins` outside 2..=9, [`RfmError::BadValue`] for a NaN or
/// infinite value.
pub fn quantile_scores(values: &[f64], bins: u32, direction: Direction, column: &str) -> Result<Vec<i64>> {
    check_bins(bins)?;
    check_finite(values, column)?;
    let key = move |v: f64| direction_key(v, direction);
    let mut work: Vec<u64> = values.par_iter().map(|&v| key(v)).collect();
    if let Some(scores) = few_values_scores(&work, bins) {
        return Ok(scores);
    }
    let steps = score_steps(&mut work, bins);
    let scores = work_scores(values, &steps, key);
    Ok(scores)
}

/// Scores by counting, when the keys take at most `LIMIT` distinct values (recency in
/// days, frequency): each distinct key is scored once from its cumulative counts.
/// `None` as soon as there are more distinct keys.
fn few_values_scores(keys: &[u64], bins: u32) -> Option<Vec<i64>> {
    const LIMIT: usize = 4096;
    let mut counts: HashMap<u64, u64> = HashMap::with_capacity(LIMIT);
    for &key in keys {
        *counts.entry(key).or_insert(0) += 1;
        if counts.len() > LIMIT {
            return None;
        }
    }
    let mut distinct: Vec<(u64, u64)> = counts.into_iter().collect();
    distinct.sort_unstable();
    let n = keys.len() as u128;
    let bins = u128::from(bins);
    let mut below = 0u128;
    let mut score_of: HashMap<u64, i64> = HashMap::with_capacity(distinct.len());
    for (key, count) in distinct {
        let up_to = below + u128::from(count);
        // floor(p * bins) + 1 with p = (avg_rank - 1/2) / n and 2 * avg_rank - 1 = below + up_to
        score_of.insert(key, ((below + up_to) * bins / (2 * n)) as i64 + 1);
        below = up_to;
    }
    keys.par_iter().map(|key| score_of.get(key).copied()).collect()
}

fn work_scores(values: &[f64], steps: &[u64], key: impl Fn(f64) -> u64 + Sync) -> Vec<i64> {
    values
        .par_iter()
        .map(|&v| {
            let k = key(v);
            1 + steps.iter().filter(|&&step| k >= step).count() as i64
        })
        .collect()
}

/// The key a value is ranked by: lower is better (recency) ranks the negated values.
/// Values become order-preserving integer keys (-0.0 and 0.0 share one), which select,
/// sort and compare faster than floats.
#[inline]
fn direction_key(value: f64, direction: Direction) -> u64 {
    match direction {
        Direction::HigherIsBetter => sort_key(value),
        Direction::LowerIsBetter => sort_key(-value),
    }
}

/// An order-preserving unsigned key of a finite float (-0.0 and 0.0 share one).
fn sort_key(value: f64) -> u64 {
    let bits = (value + 0.0).to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// The smallest key of each score 2..=bins (fewer when no value reaches a score).
///
/// The score `floor((below + up_to) * bins / (2n)) + 1` of a value (`below` values
/// strictly smaller, `up_to` smaller or equal) grows with the value, so it is a step
/// function: score `k` starts at the first value `v` with `f(v) = below + up_to >= t`,
/// `t = 2n(k - 1) / bins`. Let `q` be the least integer with `2q + 1 >= t` and `x_q` the
/// order statistic at position `q`. Every value `w < x_q` has `up_to <= q`, so
/// `f(w) <= 2q - 1 < t`: the step is at `x_q` or later. The next distinct value `u > x_q`
/// has `below >= q + 1`, so `f(u) >= 2q + 3 > t`: the step is `x_q` when `f(x_q) >= t`,
/// else `u`. The order statistics come from successive selections and `f(x_q)` and `u`
/// from one counting pass, all O(n), instead of a sort.
fn score_steps(work: &mut [u64], bins: u32) -> Vec<u64> {
    let n = work.len() as i128;
    let bins = i128::from(bins);
    // (2n(k - 1), x_q) for each score k that some position reaches
    let mut candidates: Vec<(i128, u64)> = Vec::new();
    let mut done = 0usize;
    for k in 2..=bins {
        let target = 2 * n * (k - 1);
        // least q with (2q + 1) * bins >= target
        let excess = target - bins;
        let q = if excess <= 0 {
            0
        } else {
            (excess + 2 * bins - 1) / (2 * bins)
        };
        if q >= n {
            break;
        }
        let q = q as usize;
        // positions before `done` hold values <= work[done]: select within the rest
        let Some(rest) = work.get_mut(done..) else { break };
        let (_, nth, _) = rest.select_nth_unstable(q - done);
        candidates.push((target, *nth));
        done = q;
    }
    // for each candidate: values below it, values equal to it, the least value above it
    let empty = vec![(0u64, 0u64, u64::MAX); candidates.len()];
    let stats = work
        .par_iter()
        .fold(
            || empty.clone(),
            |mut acc, &x| {
                for ((_, candidate), (below, equal, above)) in candidates.iter().zip(acc.iter_mut()) {
                    if x < *candidate {
                        *below += 1;
                    } else if x == *candidate {
                        *equal += 1;
                    } else if x < *above {
                        *above = x;
                    }
                }
                acc
            },
        )
        .reduce(
            || empty.clone(),
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x = (x.0 + y.0, x.1 + y.1, x.2.min(y.2));
                }
                a
            },
        );
    let mut steps = Vec::with_capacity(candidates.len());
    for ((target, candidate), (below, equal, above)) in candidates.into_iter().zip(stats) {
        if i128::from(2 * below + equal) * bins >= target {
            steps.push(candidate);
        } else if above != u64::MAX {
            // u64::MAX is the key of no finite value
            steps.push(above);
        } else {
            break;
        }
    }
    steps
}

/// Checks threshold edges: finite, strictly increasing, `bins - 1` of them.
///
/// # Errors
/// [`RfmError::Parameter`] naming `thresholds` and the metric.
pub fn check_edges(edges: &[f64], bins: u32, column: &str) -> Result<()> {
    let shown = format!("{edges:?}");
    let bad = |message: String| {
        Err(RfmError::parameter(
            "thresholds",
            format!("thresholds['{column}'] = {shown}: {message}"),
        ))
    };
    if let Some(edge) = edges.iter().find(|e| !e.is_finite()) {
        return bad(format!("{edge} is not a finite number"));
    }
    if let Some(pair) = edges.windows(2).find(|w| w[0] == w[1]) {
        return bad(format!("{} appears twice; edges must be distinct", pair[0]));
    }
    if edges.windows(2).any(|w| w[0] > w[1]) {
        return bad("edges are not in increasing order; sort them (e.g. [30, 60, 90, 180])".to_string());
    }
    if edges.len() + 1 != bins as usize {
        return bad(format!(
            "{} edges make {} scores but bins={bins}; give {} edges or pass bins={}",
            edges.len(),
            edges.len() + 1,
            bins.saturating_sub(1),
            edges.len() + 1
        ));
    }
    Ok(())
}

/// Scores from threshold edges (see the module docs).
///
/// # Errors
/// [`RfmError::Parameter`] for bad edges, [`RfmError::BadValue`] for a NaN or infinite value.
pub fn threshold_scores(
    values: &[f64],
    edges: &[f64],
    bins: u32,
    direction: Direction,
    column: &str,
) -> Result<Vec<i64>> {
    check_bins(bins)?;
    check_edges(edges, bins, column)?;
    check_finite(values, column)?;
    let bins = i64::from(bins);
    let scores = values
        .par_iter()
        .map(|&value| {
            // number of edges strictly below the value: right-closed intervals
            let above = edges.partition_point(|edge| *edge < value) as i64;
            match direction {
                Direction::HigherIsBetter => above + 1,
                Direction::LowerIsBetter => bins - above,
            }
        })
        .collect();
    Ok(scores)
}

fn score_metric(metric: &Metric<'_>, bins: u32) -> Result<Vec<i64>> {
    match &metric.method {
        Method::Balanced => balanced_scores(metric.values, bins, metric.direction, metric.name),
        Method::MidRank => quantile_scores(metric.values, bins, metric.direction, metric.name),
        Method::Thresholds(edges) => {
            threshold_scores(metric.values, edges, bins, metric.direction, metric.name)
        }
    }
}

/// Checks the weights of the weighted score: finite, non-negative, not all zero.
///
/// # Errors
/// [`RfmError::Parameter`] naming `weights`.
pub fn check_weights(weights: [f64; 3]) -> Result<()> {
    if weights.iter().any(|w| !w.is_finite() || *w < 0.0) {
        return Err(RfmError::parameter(
            "weights",
            format!(
                "weights={weights:?} must be finite and non-negative (e.g. (1, 1, 1) or (0.2, 0.3, 0.5))"
            ),
        ));
    }
    if weights.iter().all(|w| *w == 0.0) {
        return Err(RfmError::parameter(
            "weights",
            "weights are all zero, so every rfm_score would be 0; give at least one positive weight",
        ));
    }
    Ok(())
}

/// The scores of a metric known by its histogram: `values` (distinct, in any order) and
/// how many customers have each (`counts`), for tables too big to hold in one place
/// (scoring a cluster's customer table). Each value gets the score
/// [`Method::Balanced`] or [`Method::MidRank`] gives it among all the customers: the
/// same as scoring the table itself. Values that compare equal (`-0.0` and `0.0`)
/// count together.
///
/// # Errors
/// [`RfmError::Parameter`] for a bad `bins`, a method with edges (score edges need no
/// histogram), lengths that differ or no customer at all; [`RfmError::BadValue`] for a
/// NaN or infinite value.
pub fn histogram_scores(
    values: &[f64],
    counts: &[u64],
    bins: u32,
    method: &Method,
    direction: Direction,
    column: &str,
) -> Result<Vec<i64>> {
    check_bins(bins)?;
    check_finite(values, column)?;
    if values.len() != counts.len() {
        return Err(RfmError::Length {
            what: "counts",
            got: counts.len(),
            expected: values.len(),
        });
    }
    if counts.iter().all(|&c| c == 0) {
        return Err(RfmError::parameter("counts", "the histogram counts no customer"));
    }
    let keys: Vec<u64> = values.iter().map(|&v| direction_key(v, direction)).collect();
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_unstable_by_key(|&k| keys[k]);
    // Distinct keys in increasing order with their summed counts.
    let mut distinct: Vec<u64> = Vec::with_capacity(keys.len());
    let mut summed: Vec<u64> = Vec::with_capacity(keys.len());
    for &k in &order {
        if distinct.last() == Some(&keys[k]) {
            if let Some(last) = summed.last_mut() {
                *last += counts[k];
            }
        } else {
            distinct.push(keys[k]);
            summed.push(counts[k]);
        }
    }
    // Keys of no customer take the score of the next key up (they change no group).
    let score_of_distinct: Vec<i64> = match method {
        Method::Balanced => {
            let live: Vec<usize> = (0..summed.len()).filter(|&d| summed[d] > 0).collect();
            let live_counts: Vec<u64> = live.iter().map(|&d| summed[d]).collect();
            let groups = balanced::group_scores(&live_counts, bins);
            let mut scores = vec![0i64; summed.len()];
            let mut group = 0;
            let mut next_live = 0;
            for (d, score) in scores.iter_mut().enumerate() {
                while next_live < live.len() && live[next_live] < d {
                    next_live += 1;
                }
                let position = next_live.min(live.len() - 1);
                while group + 1 < groups.len() && groups[group + 1].0 <= position {
                    group += 1;
                }
                *score = groups[group].1;
            }
            scores
        }
        Method::MidRank => {
            let n: u128 = summed.iter().map(|&c| u128::from(c)).sum();
            let mut below = 0u128;
            summed
                .iter()
                .map(|&count| {
                    let up_to = below + u128::from(count);
                    let score = ((below + up_to) * u128::from(bins) / (2 * n)) as i64 + 1;
                    below = up_to;
                    score.min(i64::from(bins))
                })
                .collect()
        }
        Method::Thresholds(_) => {
            return Err(RfmError::parameter(
                "method",
                "score edges apply to each value on its own: no histogram is needed",
            ))
        }
    };
    Ok(keys
        .iter()
        .map(|key| score_of_distinct[distinct.partition_point(|d| d < key)])
        .collect())
}

/// Scores R, F and M, and builds the code index and the weighted score.
///
/// # Errors
/// [`RfmError::Parameter`] for a bad `bins`, edge list or weight; [`RfmError::Length`] when
/// the three metrics differ in length; [`RfmError::BadValue`] for a NaN or infinite value.
pub fn score(
    recency: &Metric<'_>,
    frequency: &Metric<'_>,
    monetary: &Metric<'_>,
    bins: u32,
    weights: [f64; 3],
) -> Result<Scores> {
    check_bins(bins)?;
    check_weights(weights)?;
    let n = recency.values.len();
    for metric in [frequency, monetary] {
        if metric.values.len() != n {
            return Err(RfmError::Length {
                what: "a scored column",
                got: metric.values.len(),
                expected: n,
            });
        }
    }
    let (r, (f, m)) = rayon::join(
        || score_metric(recency, bins),
        || rayon::join(|| score_metric(frequency, bins), || score_metric(monetary, bins)),
    );
    let (r, f, m) = (r?, f?, m?);
    let b = i64::from(bins);
    let (code, total) = r
        .par_iter()
        .zip(f.par_iter())
        .zip(m.par_iter())
        .map(|((&r, &f), &m)| {
            let code = (r - 1) * b * b + (f - 1) * b + (m - 1);
            let total = weights[0] * r as f64 + weights[1] * f as f64 + weights[2] * m as f64;
            (code, total)
        })
        .unzip();
    Ok(Scores { r, f, m, code, total })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::XorShift;

    #[test]
    fn a_histogram_scores_as_its_table() {
        // Tables with heavy ties, few and many distinct values, -0.0 and 0.0; their
        // histograms (in a shuffled order) score every value as the table does.
        let mut rng = XorShift(0x1234_5678_9abc_def1);
        let mut next = |m: u64| rng.next(m);
        for round in 0..400 {
            let n = 1 + next(300) as usize;
            let spread = [2, 5, 40, 100_000][round % 4];
            let values: Vec<f64> = (0..n)
                .map(|_| match next(10) {
                    0 => 0.0,
                    1 => -0.0,
                    2 => 1.0,
                    _ => next(spread) as f64 / 4.0 - 3.0,
                })
                .collect();
            let mut histogram: Vec<(u64, f64, u64)> = Vec::new();
            for &v in &values {
                match histogram.iter_mut().find(|(_, x, _)| x.to_bits() == v.to_bits()) {
                    Some(entry) => entry.2 += 1,
                    None => histogram.push((next(1 << 30), v, 1)),
                }
            }
            histogram.sort_unstable_by_key(|e| e.0);
            let distinct: Vec<f64> = histogram.iter().map(|e| e.1).collect();
            let counts: Vec<u64> = histogram.iter().map(|e| e.2).collect();
            for bins in [2, 3, 5, 9] {
                for method in [Method::Balanced, Method::MidRank] {
                    for direction in [Direction::HigherIsBetter, Direction::LowerIsBetter] {
                        let metric = Metric {
                            values: &values,
                            name: "x",
                            direction,
                            method: method.clone(),
                        };
                        let expected = score_metric(&metric, bins).unwrap();
                        let scores =
                            histogram_scores(&distinct, &counts, bins, &method, direction, "x").unwrap();
                        for (v, e) in values.iter().zip(&expected) {
                            let k = distinct.iter().position(|d| d.to_bits() == v.to_bits()).unwrap();
                            assert_eq!(scores[k], *e, "{method:?} {direction:?} bins {bins} value {v}");
                        }
                    }
                }
            }
        }
        assert!(histogram_scores(
            &[1.0],
            &[1, 2],
            5,
            &Method::Balanced,
            Direction::HigherIsBetter,
            "x"
        )
        .is_err());
        assert!(histogram_scores(
            &[f64::NAN],
            &[1],
            5,
            &Method::Balanced,
            Direction::HigherIsBetter,
            "x"
        )
        .is_err());
        assert!(histogram_scores(&[1.0], &[0], 5, &Method::MidRank, Direction::HigherIsBetter, "x").is_err());
    }

    fn reference(values: &[f64], bins: u32) -> Vec<i64> {
        // the definition as written: average rank, p = (rank - 0.5) / n, floor(p * bins) + 1
        let n = values.len() as f64;
        values
            .iter()
            .map(|v| {
                let below = values.iter().filter(|x| *x < v).count() as f64;
                let equal = values.iter().filter(|x| *x == v).count() as f64;
                let rank = below + (equal + 1.0) / 2.0;
                ((rank - 0.5) / n * bins as f64).floor() as i64 + 1
            })
            .collect()
    }

    #[test]
    fn quantile_scores_follow_the_mid_rank_rule() {
        let values = [5.0, 1.0, 3.0, 3.0, 9.0, 7.0, 3.0, 2.0, 8.0, 0.0, -0.0];
        let got = quantile_scores(&values, 5, Direction::HigherIsBetter, "m").unwrap();
        assert_eq!(got, reference(&values, 5));
        // ties never split; -0.0 ties with 0.0
        assert_eq!(got[2], got[3]);
        assert_eq!(got[9], got[10]);
        // lower is better: the ranking of the negated values
        let negated: Vec<f64> = values.iter().map(|v| -v).collect();
        let lower = quantile_scores(&values, 5, Direction::LowerIsBetter, "r").unwrap();
        assert_eq!(lower, reference(&negated, 5));
    }

    #[test]
    fn quantile_scores_match_the_definition_on_tied_samples() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for case in 0..400 {
            let n = (next() % 40) as usize + 1;
            let distinct = next() % 12 + 1;
            let values: Vec<f64> = (0..n).map(|_| (next() % distinct) as f64 - 3.0).collect();
            let bins = (case % 8) as u32 + 2;
            let got = quantile_scores(&values, bins, Direction::HigherIsBetter, "m").unwrap();
            assert_eq!(got, reference(&values, bins), "{values:?} bins={bins}");
            let negated: Vec<f64> = values.iter().map(|v| -v).collect();
            let lower = quantile_scores(&values, bins, Direction::LowerIsBetter, "r").unwrap();
            assert_eq!(lower, reference(&negated, bins), "{values:?} bins={bins}");
        }
    }

    #[test]
    fn quantile_edge_cases() {
        assert_eq!(
            quantile_scores(&[], 5, Direction::HigherIsBetter, "m").unwrap(),
            Vec::<i64>::new()
        );
        assert_eq!(
            quantile_scores(&[4.0], 5, Direction::HigherIsBetter, "m").unwrap(),
            vec![3]
        );
        assert_eq!(
            quantile_scores(&[4.0; 7], 4, Direction::LowerIsBetter, "r").unwrap(),
            vec![3; 7]
        );
        let ten: Vec<f64> = (0..10).map(f64::from).collect();
        assert_eq!(
            quantile_scores(&ten, 5, Direction::HigherIsBetter, "m").unwrap(),
            vec![1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
        );
    }

    #[test]
    fn thresholds_are_closed_on_the_right() {
        let edges = [30.0, 60.0, 90.0, 180.0];
        let recency = [1.0, 30.0, 31.0, 60.0, 90.0, 91.0, 180.0, 181.0];
        assert_eq!(
            threshold_scores(&recency, &edges, 5, Direction::LowerIsBetter, "recency").unwrap(),
            vec![5, 5, 4, 4, 3, 2, 2, 1]
        );
        assert_eq!(
            threshold_scores(&recency, &edges, 5, Direction::HigherIsBetter, "monetary").unwrap(),
            vec![1, 1, 2, 2, 3, 4, 4, 5]
        );
    }

    #[test]
    fn bad_parameters_are_errors() {
        let values = [1.0, 2.0];
        for bins in [0, 1, 10] {
            assert!(matches!(
                quantile_scores(&values, bins, Direction::HigherIsBetter, "m"),
                Err(RfmError::Parameter { name: "bins", .. })
            ));
        }
        for edges in [
            vec![60.0, 30.0, 90.0, 180.0],
            vec![30.0, 30.0, 90.0, 180.0],
            vec![30.0, f64::NAN, 90.0, 180.0],
            vec![30.0],
        ] {
            assert!(matches!(
                threshold_scores(&values, &edges, 5, Direction::LowerIsBetter, "recency"),
                Err(RfmError::Parameter {
                    name: "thresholds",
                    ..
                })
            ));
        }
        let err = quantile_scores(&[1.0, f64::NAN], 5, Direction::HigherIsBetter, "monetary").unwrap_err();
        assert_eq!(
            err.to_string(),
            "column 'monetary' is NaN (or null) at row 1 (0-based position): scores and segments need finite numbers; drop or fill such rows first"
        );
        for weights in [[-1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [f64::INFINITY, 1.0, 1.0]] {
            assert!(matches!(
                check_weights(weights),
                Err(RfmError::Parameter { name: "weights", .. })
            ));
        }
    }

    #[test]
    fn score_builds_code_and_total() {
        let r = [10.0, 20.0];
        let f = [3.0, 1.0];
        let m = [100.0, 5.0];
        let metric = |values, name, direction| Metric {
            values,
            name,
            direction,
            method: Method::MidRank,
        };
        let scores = score(
            &metric(&r, "recency", Direction::LowerIsBetter),
            &metric(&f, "frequency", Direction::HigherIsBetter),
            &metric(&m, "monetary", Direction::HigherIsBetter),
            2,
            [1.0, 2.0, 0.5],
        )
        .unwrap();
        assert_eq!(scores.r, vec![2, 1]);
        assert_eq!(scores.code, vec![7, 0]);
        assert_eq!(scores.total, vec![2.0 + 4.0 + 1.0, 1.0 + 2.0 + 0.5]);
        let short = [1.0];
        assert!(matches!(
            score(
                &metric(&r, "recency", Direction::LowerIsBetter),
                &metric(&short, "frequency", Direction::HigherIsBetter),
                &metric(&m, "monetary", Direction::HigherIsBetter),
                5,
                [1.0; 3]
            ),
            Err(RfmError::Length { .. })
        ));
    }
}
