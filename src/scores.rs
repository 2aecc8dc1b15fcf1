//! RFM scores (DESIGN.md, "Scores and segments").
//!
//! - Quantile scores 1..=`bins` by the mid-rank rule: a value's percentile is
//!   `p = (avg_rank - 0.5) / n` (ranks 1..=n, ties get their average rank) and its score
//!   `floor(p * bins) + 1`. Equal values always get equal scores and the row order
//!   changes nothing. The arithmetic is exact: with `below` values strictly smaller and
//!   `up_to` values smaller or equal, `2 * avg_rank - 1 = below + up_to`, so the score is
//!   `(below + up_to) * bins / (2 n) + 1` in integers.
//! - Threshold scores from user edges `e_1 < ... < e_{bins-1}`: the intervals are closed
//!   on the right, `(-inf, e_1], (e_1, e_2], ..., (e_{bins-1}, inf)`, scored `1..=bins`
//!   from the lowest interval up.
//! - "Higher is better": for [`Direction::LowerIsBetter`] (recency) the ranking is on the
//!   negated values (quantile) and the interval scores are reversed (thresholds), so a
//!   short recency scores high.

use rayon::prelude::*;

use crate::error::{Result, RfmError};

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
    /// Mid-rank quantile scores 1..=bins.
    Quantile,
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
            value: values[row].to_string(),
            hint: "scores and segments need finite numbers; drop or fill such rows first".to_string(),
        }),
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
    // `+ 0.0` turns -0.0 into 0.0, so that total_cmp ties them as `==` does.
    let mut sorted: Vec<f64> = values.iter().map(|v| v + 0.0).collect();
    sorted.par_sort_unstable_by(f64::total_cmp);
    let n = sorted.len() as u128;
    let bins = u128::from(bins);
    let scores = values
        .par_iter()
        .map(|&value| {
            let value = value + 0.0;
            let below = sorted.partition_point(|x| x.total_cmp(&value).is_lt()) as u128;
            let up_to = sorted.partition_point(|x| x.total_cmp(&value).is_le()) as u128;
            let twice_rank_minus_one = match direction {
                Direction::HigherIsBetter => below + up_to,
                // ranks of the negated values: `n - up_to` strictly larger, `n - below` larger or equal
                Direction::LowerIsBetter => 2 * n - below - up_to,
            };
            // twice_rank_minus_one <= 2n - 1, so the score is at most `bins`
            (twice_rank_minus_one * bins / (2 * n)) as i64 + 1
        })
        .collect();
    Ok(scores)
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
        Method::Quantile => quantile_scores(metric.values, bins, metric.direction, metric.name),
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
            "column 'monetary' is NaN at row 1 (0-based position): scores and segments need finite numbers; drop or fill such rows first"
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
            method: Method::Quantile,
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
