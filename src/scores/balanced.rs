//! Balanced, tie-aware quantile scores: the exact dynamic programme of the module docs
//! of [`crate::scores`].

use hashbrown::HashMap;
use rayon::prelude::*;

use super::{check_bins, check_finite, direction_key, Direction};
use crate::error::Result;

/// The cost of a partition, compared lexicographically: `Σ size²` first (the balance),
/// then `Σ (bins·x_k − k·n)²` over the cut positions `x_k` (closeness to the exact
/// quantile positions), both exact in integers. The balance of groups that cover at most
/// `n < 2^32` customers is at most `n² < 2^64`: a `u64`. A layer keeps the two parts in
/// separate arrays, so the hot loop reads one dense `u64` array.
struct Costs {
    balance: Vec<u64>,
    closeness: Vec<u128>,
}

impl Costs {
    fn infeasible(len: usize) -> Costs {
        Costs {
            balance: vec![u64::MAX; len],
            closeness: vec![u128::MAX; len],
        }
    }
}

/// The most customers one call scores: sizes and their squares stay exact in `u64`.
const MAX_VALUES: usize = u32::MAX as usize;

/// Output ranges of a layer at least this long are split over two rayon tasks.
const PARALLEL_LAYER: usize = 1 << 14;

/// Distinct keys up to which counting by hashing beats sorting all keys.
const HASHED_DISTINCT: usize = 4096;

/// Balanced quantile scores 1..=`bins` of `values` (see the module docs of
/// [`crate::scores`]).
///
/// # Errors
/// [`crate::error::RfmError::Parameter`] for `bins` outside 2..=9,
/// [`crate::error::RfmError::BadValue`] for a NaN or infinite value.
pub fn balanced_scores(values: &[f64], bins: u32, direction: Direction, column: &str) -> Result<Vec<i64>> {
    check_bins(bins)?;
    check_finite(values, column)?;
    if values.len() > MAX_VALUES {
        return Err(crate::error::RfmError::parameter(
            "values",
            format!(
                "{} customers are more than the {MAX_VALUES} one call scores; score them in parts",
                values.len()
            ),
        ));
    }
    let keys: Vec<u64> = values.par_iter().map(|&v| direction_key(v, direction)).collect();
    let (distinct, counts) = distinct_counts(&keys);
    let groups = group_scores(&counts, bins);
    // the first key of every group after the first: a key's group is the number of
    // these at or below it
    let steps: Vec<u64> = groups.iter().skip(1).map(|&(start, _)| distinct[start]).collect();
    let score_of_group: Vec<i64> = groups.iter().map(|&(_, score)| score).collect();
    Ok(keys
        .par_iter()
        .map(|key| score_of_group[steps.partition_point(|step| step <= key)])
        .collect())
}

/// The distinct keys in increasing order and how often each occurs.
fn distinct_counts(keys: &[u64]) -> (Vec<u64>, Vec<u64>) {
    let mut counted: HashMap<u64, u64> = HashMap::with_capacity(HASHED_DISTINCT);
    let mut few = true;
    for &key in keys {
        *counted.entry(key).or_insert(0) += 1;
        if counted.len() > HASHED_DISTINCT {
            few = false;
            break;
        }
    }
    if few {
        let mut pairs: Vec<(u64, u64)> = counted.into_iter().collect();
        pairs.sort_unstable();
        return pairs.into_iter().unzip();
    }
    let mut sorted = keys.to_vec();
    sorted.par_sort_unstable();
    let mut distinct = Vec::new();
    let mut counts: Vec<u64> = Vec::new();
    for key in sorted {
        if distinct.last() == Some(&key) {
            if let Some(count) = counts.last_mut() {
                *count += 1;
            }
        } else {
            distinct.push(key);
            counts.push(1);
        }
    }
    (distinct, counts)
}

/// For each group of distinct values, in increasing order: the index of its first
/// distinct value and its score. `counts` are the counts of the sorted distinct values.
pub(crate) fn group_scores(counts: &[u64], bins: u32) -> Vec<(usize, i64)> {
    if counts.len() <= bins as usize {
        return few_distinct_scores(counts, bins)
            .into_iter()
            .enumerate()
            .collect();
    }
    balanced_starts(counts, bins as usize)
        .into_iter()
        .zip(1..)
        .collect()
}

/// Scores of at most `bins` distinct values, each its own group: the mid-rank score
/// (`floor(p · bins) + 1`, `p = (avg_rank − ½)/n`), moved just enough to keep the scores
/// strictly increasing within 1..=bins.
fn few_distinct_scores(counts: &[u64], bins: u32) -> Vec<i64> {
    let n: u128 = counts.iter().map(|&c| u128::from(c)).sum();
    let top = i64::from(bins);
    let mut below = 0u128;
    let mut scores: Vec<i64> = counts
        .iter()
        .map(|&count| {
            let up_to = below + u128::from(count);
            let score = ((below + up_to) * u128::from(bins) / (2 * n)) as i64 + 1;
            below = up_to;
            score
        })
        .collect();
    for g in 1..scores.len() {
        scores[g] = scores[g].max(scores[g - 1] + 1);
    }
    let mut ceiling = top + 1;
    for score in scores.iter_mut().rev() {
        *score = (*score).min(ceiling - 1);
        ceiling = *score;
    }
    scores
}

/// The first distinct value of each of the `groups` groups of the best balanced
/// partition of the sorted distinct values with `counts` (`groups <= counts.len()`).
pub(crate) fn balanced_starts(counts: &[u64], groups: usize) -> Vec<usize> {
    let d = counts.len();
    let mut prefix = Vec::with_capacity(d + 1);
    let mut total = 0u64;
    prefix.push(0u64);
    for &count in counts {
        total += count;
        prefix.push(total);
    }
    let (b, n) = (groups as u128, u128::from(total));
    // squared distance of a cut after `j` distinct values from the exact position of cut `k`
    let off_quantile = |cut: usize, j: usize| {
        let gap = (b * u128::from(prefix[j])).abs_diff(cut as u128 * n);
        gap * gap
    };
    // layer 1: the first group ends after j distinct values
    let last_end = |layer: usize| d - (groups - layer);
    let mut best = Costs::infeasible(d + 1);
    let first_layer = best
        .balance
        .iter_mut()
        .zip(best.closeness.iter_mut())
        .zip(&prefix);
    for (j, ((balance, closeness), &size)) in first_layer.enumerate().take(last_end(1) + 1).skip(1) {
        *balance = size * size;
        *closeness = off_quantile(1, j);
    }
    // choices[layer - 2][j]: where group `layer` starts when it ends after j values
    let mut choices: Vec<Vec<u32>> = Vec::with_capacity(groups.saturating_sub(2));
    for layer in 2..groups {
        let (lo, hi) = (layer, last_end(layer));
        let mut next = Costs::infeasible(d + 1);
        let mut choice = vec![0u32; d + 1];
        let out = Layer {
            balance: &mut next.balance[lo..=hi],
            closeness: &mut next.closeness[lo..=hi],
            choice: &mut choice[lo..=hi],
        };
        solve_layer(&best, &prefix, lo, out, layer - 1, hi - 1);
        for (j, closeness) in next.closeness.iter_mut().enumerate().take(hi + 1).skip(lo) {
            *closeness += off_quantile(layer, j);
        }
        best = next;
        choices.push(choice);
    }
    // the last group ends after all d values
    let start = best_start(&best, &prefix, d, groups - 1, d - 1);
    let mut start = start;
    let mut starts = vec![0usize; groups];
    starts[groups - 1] = start;
    for layer in (2..groups).rev() {
        start = choices[layer - 2][start] as usize;
        starts[layer - 1] = start;
    }
    starts
}

/// The leftmost start `k` in `k_lo..=k_hi` of a last group ending after `j` values with
/// the least cost (balance, then closeness).
#[inline]
fn best_start(previous: &Costs, prefix: &[u64], j: usize, k_lo: usize, k_hi: usize) -> usize {
    let end = prefix[j];
    let mut best_balance = u64::MAX;
    let mut best_closeness = u128::MAX;
    let mut best_k = k_lo;
    let range = k_lo..=k_hi;
    let candidates = prefix[range.clone()]
        .iter()
        .zip(&previous.balance[range.clone()])
        .zip(&previous.closeness[range]);
    for (offset, ((&start, &before), &closeness)) in candidates.enumerate() {
        let size = end - start;
        let balance = before + size * size;
        if balance < best_balance || (balance == best_balance && closeness < best_closeness) {
            best_balance = balance;
            best_closeness = closeness;
            best_k = k_lo + offset;
        }
    }
    best_k
}

/// The outputs of one layer for a range of ends `j`.
struct Layer<'a> {
    balance: &'a mut [u64],
    closeness: &'a mut [u128],
    choice: &'a mut [u32],
}

impl<'a> Layer<'a> {
    fn split_around(self, mid: usize) -> (Layer<'a>, Layer<'a>) {
        let (balance_left, balance_right) = self.balance.split_at_mut(mid);
        let (closeness_left, closeness_right) = self.closeness.split_at_mut(mid);
        let (choice_left, choice_right) = self.choice.split_at_mut(mid);
        (
            Layer {
                balance: balance_left,
                closeness: closeness_left,
                choice: choice_left,
            },
            Layer {
                balance: &mut balance_right[1..],
                closeness: &mut closeness_right[1..],
                choice: &mut choice_right[1..],
            },
        )
    }
}

/// One layer of the programme by divide and conquer: output `i` is the best cost of the
/// groups so far ending after `j = j_lo + i` values, over the start `k` of the last group
/// in `k_lo..=min(k_hi, j - 1)`, and its choice the leftmost best `k`. The leftmost best
/// start never decreases with `j` (the squared group size satisfies the quadrangle
/// inequality), so the middle output's choice bounds both halves.
fn solve_layer(previous: &Costs, prefix: &[u64], j_lo: usize, out: Layer<'_>, k_lo: usize, k_hi: usize) {
    let len = out.balance.len();
    if len == 0 {
        return;
    }
    let mid = len / 2;
    let j = j_lo + mid;
    let best_k = best_start(previous, prefix, j, k_lo, k_hi.min(j - 1));
    let size = prefix[j] - prefix[best_k];
    out.balance[mid] = previous.balance[best_k] + size * size;
    out.closeness[mid] = previous.closeness[best_k];
    out.choice[mid] = best_k as u32;
    let (left, right) = out.split_around(mid);
    if len >= PARALLEL_LAYER {
        rayon::join(
            || solve_layer(previous, prefix, j_lo, left, k_lo, best_k),
            || solve_layer(previous, prefix, j + 1, right, best_k, k_hi),
        );
    } else {
        solve_layer(previous, prefix, j_lo, left, k_lo, best_k);
        solve_layer(previous, prefix, j + 1, right, best_k, k_hi);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (balance, closeness), compared lexicographically.
    type Cost = (u128, u128);

    /// Every partition of the distinct values into `groups` contiguous groups, and the
    /// lexicographically least cost with the leftmost cuts: the definition by brute force.
    fn brute_force(counts: &[u64], groups: usize) -> Vec<usize> {
        let d = counts.len();
        let n: u128 = counts.iter().map(|&c| u128::from(c)).sum();
        let prefix: Vec<u128> = std::iter::once(0)
            .chain(counts.iter().scan(0u128, |s, &c| {
                *s += u128::from(c);
                Some(*s)
            }))
            .collect();
        let mut best: Option<(Cost, Vec<usize>)> = None;
        let mut starts: Vec<usize> = (0..groups).collect();
        loop {
            let mut cost = (0u128, 0u128);
            for g in 0..groups {
                let end = if g + 1 < groups { starts[g + 1] } else { d };
                let size = prefix[end] - prefix[starts[g]];
                cost.0 += size * size;
                if g + 1 < groups {
                    let gap = (groups as u128 * prefix[end]).abs_diff((g as u128 + 1) * n);
                    cost.1 += gap * gap;
                }
            }
            // starts are enumerated in increasing lexicographic order: keep the first best
            if best.as_ref().is_none_or(|(c, _)| cost < *c) {
                best = Some((cost, starts.clone()));
            }
            // next combination of starts[1..] (starts[0] == 0) in lexicographic order
            let mut i = groups - 1;
            loop {
                if i == 0 {
                    return best.map(|(_, s)| s).unwrap_or_default();
                }
                if starts[i] < d - (groups - i) {
                    starts[i] += 1;
                    for j in i + 1..groups {
                        starts[j] = starts[j - 1] + 1;
                    }
                    break;
                }
                i -= 1;
            }
        }
    }

    fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    #[test]
    fn the_programme_finds_the_brute_force_optimum() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        for case in 0..3000 {
            let d = (next() % 12) as usize + 2;
            let groups = (case % 8) + 2;
            if groups > d {
                continue;
            }
            let heavy = next().is_multiple_of(4);
            let counts: Vec<u64> = (0..d)
                .map(|_| {
                    if heavy && next().is_multiple_of(3) {
                        next() % 60 + 1
                    } else {
                        next() % 4 + 1
                    }
                })
                .collect();
            assert_eq!(
                balanced_starts(&counts, groups),
                brute_force(&counts, groups),
                "{counts:?} groups={groups}"
            );
        }
    }

    #[test]
    fn long_inputs_split_over_tasks_and_are_locally_optimal() {
        // long enough to split layers over rayon tasks (brute force is out of reach here)
        let mut next = xorshift(42);
        let counts: Vec<u64> = (0..40_000)
            .map(|_| {
                if next().is_multiple_of(50) {
                    next() % 500
                } else {
                    1 + next() % 3
                }
            })
            .map(|c| c.max(1))
            .collect();
        let starts = balanced_starts(&counts, 5);
        assert_eq!(starts.len(), 5);
        assert!(starts.windows(2).all(|w| w[0] < w[1]));
        // local optimality: moving any single cut by one distinct value is no better
        let cost = |starts: &[usize]| -> u128 {
            (0..starts.len())
                .map(|g| {
                    let end = starts.get(g + 1).copied().unwrap_or(counts.len());
                    let size: u128 = counts[starts[g]..end].iter().map(|&c| u128::from(c)).sum();
                    size * size
                })
                .sum()
        };
        let base = cost(&starts);
        for g in 1..starts.len() {
            for delta in [-1i64, 1] {
                let mut moved = starts.clone();
                moved[g] = (moved[g] as i64 + delta) as usize;
                let end = moved.get(g + 1).copied().unwrap_or(counts.len());
                if moved[g] > moved[g - 1] && moved[g] < end {
                    assert!(cost(&moved) >= base);
                }
            }
        }
    }

    #[test]
    fn untied_values_get_exact_quantiles() {
        let values: Vec<f64> = (0..20).map(f64::from).collect();
        let got = balanced_scores(&values, 5, Direction::HigherIsBetter, "m").unwrap();
        let expected: Vec<i64> = (0..20).map(|i| i / 4 + 1).collect();
        assert_eq!(got, expected);
        // lower is better: reversed
        let got = balanced_scores(&values, 5, Direction::LowerIsBetter, "r").unwrap();
        let expected: Vec<i64> = (0..20).map(|i| 5 - i / 4).collect();
        assert_eq!(got, expected);
        // the spare customer goes to the middle score
        let six: Vec<f64> = (0..6).map(f64::from).collect();
        assert_eq!(
            balanced_scores(&six, 5, Direction::HigherIsBetter, "m").unwrap(),
            vec![1, 2, 3, 3, 4, 5]
        );
    }

    #[test]
    fn a_large_tie_keeps_score_one_and_the_rest_are_balanced() {
        // half the customers bought once: the mid-rank rule gives them 2 and never 1
        let mut frequency = vec![1.0; 50];
        frequency.extend((0..50).map(|i| f64::from(2 + i / 5)));
        let got = balanced_scores(&frequency, 5, Direction::HigherIsBetter, "frequency").unwrap();
        assert!(got[..50].iter().all(|&s| s == 1));
        let mut used: Vec<i64> = got.clone();
        used.sort_unstable();
        used.dedup();
        assert_eq!(used, vec![1, 2, 3, 4, 5]);
        // the 50 others (10 distinct values of 5) are split 10/10/15/15 or similar
        let sizes: Vec<usize> = (2..=5).map(|s| got.iter().filter(|&&x| x == s).count()).collect();
        assert_eq!(sizes.iter().sum::<usize>(), 50);
        assert!(sizes.iter().all(|&s| (10..=15).contains(&s)), "{sizes:?}");
    }

    #[test]
    fn few_distinct_values_keep_distinct_scores() {
        assert_eq!(
            balanced_scores(&[4.0; 7], 5, Direction::HigherIsBetter, "m").unwrap(),
            vec![3; 7]
        );
        assert_eq!(
            balanced_scores(&[], 5, Direction::HigherIsBetter, "m").unwrap(),
            Vec::<i64>::new()
        );
        // mid-rank would give 1, 1, 3: the second value is moved up to 2
        let mut values = vec![0.0, 1.0];
        values.extend([2.0; 1000]);
        let got = balanced_scores(&values, 5, Direction::HigherIsBetter, "m").unwrap();
        assert_eq!(&got[..3], &[1, 2, 3]);
        // and down from the top: 1, 5, 5 -> 1, 4, 5
        let mut values = vec![0.0; 1000];
        values.extend([1.0, 2.0]);
        let got = balanced_scores(&values, 5, Direction::HigherIsBetter, "m").unwrap();
        assert_eq!((got[0], got[1000], got[1001]), (3, 4, 5));
    }

    #[test]
    fn hashed_and_sorted_counting_agree() {
        let mut next = xorshift(7);
        let keys: Vec<u64> = (0..20_000).map(|_| next() % 10_000).collect();
        let (distinct, counts) = distinct_counts(&keys);
        assert!(distinct.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(counts.iter().sum::<u64>(), 20_000);
        let small: Vec<u64> = keys.iter().map(|k| k % 100).collect();
        let (distinct, counts) = distinct_counts(&small);
        assert_eq!(distinct, (0..100).collect::<Vec<u64>>());
        assert_eq!(counts.iter().sum::<u64>(), 20_000);
    }
}
