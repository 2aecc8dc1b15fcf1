//! The engine against the definitions: small tables worked by hand, a row-by-row oracle
//! (plain loops, exact sums by `fsum`) on messy data, and merges of random splits in
//! random order equal to the one-shot state bit for bit.

use super::oneshot::{calibration_holdout, rfm, summary, RfmOptions, SummaryOptions};
use super::split::buckets_of;
use super::*;
use crate::money::fsum;
use crate::periods::Weekday;
use crate::rows::{Accounting, ReturnPolicy, Transactions, ZeroPolicy, NULL_CODE};
use crate::testing::{table, XorShift};

#[test]
fn definitions_on_a_small_table() {
    // customer 0 buys on days 10 and 14 and returns 5 on day 15; customer 1 only returns.
    let customer = [0, 0, 0, 1, 0];
    let day = [10, 14, 15, 12, 14];
    let amount = [20.0, 30.0, -5.0, -8.0, 0.0];
    let result = rfm(&table(&customer, &day, &amount), &RfmOptions::default()).unwrap();
    assert_eq!(result.as_of_day, Some(16));
    assert_eq!(result.customer, vec![0]);
    assert_eq!(result.recency, vec![2]);
    assert_eq!(result.tenure, vec![6]);
    assert_eq!(result.frequency, vec![2]);
    assert_eq!(result.monetary, vec![45.0]);
    assert_eq!(result.avg_order_value, vec![22.5]);
    assert_eq!((result.first_row[0], result.last_row[0]), (0, 1));
    assert_eq!((result.first_time[0], result.last_time[0]), (10, 14));
    let acc = &result.accounting;
    assert_eq!(acc.rows_used, 3);
    assert_eq!(
        acc.dropped_counts(),
        vec![("zero_amount", 1), ("return_without_purchase", 1)]
    );
    assert_eq!(acc.rows_in, acc.rows_used + acc.dropped_total());
}

#[test]
fn as_of_window_and_policies() {
    let customer = [0, 0, 0, 0];
    let day = [1, 5, 9, 20];
    let amount = [1.0, 2.0, -1.0, 4.0];
    let tx = table(&customer, &day, &amount);
    let options = RfmOptions {
        as_of_day: Some(10),
        window_days: Some(6),
        policy: RowPolicy {
            returns: ReturnPolicy::Drop,
            ..RowPolicy::default()
        },
    };
    let result = rfm(&tx, &options).unwrap();
    assert_eq!(result.frequency, vec![1]);
    assert_eq!(result.recency, vec![5]);
    assert_eq!(
        result.accounting.dropped_counts(),
        vec![("after_as_of", 1), ("before_window", 1), ("return", 1)]
    );
    let zero_kept = RfmOptions {
        policy: RowPolicy {
            zero: ZeroPolicy::Keep,
            ..RowPolicy::default()
        },
        ..RfmOptions::default()
    };
    let zeros = rfm(&table(&[0], &[3], &[0.0]), &zero_kept).unwrap();
    assert_eq!((zeros.frequency[0], zeros.recency[0]), (1, 1));
    let window = RfmOptions {
        window_days: Some(0),
        ..RfmOptions::default()
    };
    assert!(matches!(
        rfm(&tx, &window),
        Err(RfmError::Parameter { name: "window", .. })
    ));
}

#[test]
fn raise_policies_name_the_first_bad_row() {
    let customer = [0, NULL_CODE, 0];
    let day = [1, 2, NAT];
    let amount = [1.0, 2.0, -3.0];
    let raise = RfmOptions {
        policy: RowPolicy {
            invalid: InvalidPolicy::Raise,
            ..RowPolicy::default()
        },
        ..RfmOptions::default()
    };
    let error = rfm(&table(&customer, &day, &amount), &raise).unwrap_err();
    assert!(matches!(error, RfmError::InvalidRow { row: 1, .. }));
    assert!(error.to_string().contains("customer column 'customer' is null"));
    let returns = RfmOptions {
        policy: RowPolicy {
            returns: ReturnPolicy::Raise,
            ..RowPolicy::default()
        },
        ..RfmOptions::default()
    };
    let error = rfm(&table(&[0, 0], &[1, 2], &[1.0, -3.0]), &returns).unwrap_err();
    assert!(matches!(error, RfmError::ReturnRow { row: 1, .. }));
}

#[test]
fn order_lines_collapse_per_customer() {
    let customer = [0, 0, 1, 0, 1];
    let order = [0, 0, 0, 1, 2];
    let day = [1, 1, 1, 2, 3];
    let amount = [5.0, 5.0, 3.0, 1.0, 2.0];
    let tx = Transactions {
        order: Some(&order),
        n_orders: 3,
        ..table(&customer, &day, &amount)
    };
    let result = rfm(&tx, &RfmOptions::default()).unwrap();
    // Order 0 is shared by both customers: it counts once for each.
    assert_eq!(result.frequency, vec![2, 2]);
    assert_eq!(result.monetary, vec![11.0, 5.0]);
}

#[test]
fn lifetimes_summary_by_day() {
    // Customer 0: days 0, 0, 4, 9 (two rows on day 0); customer 1: day 7 only.
    let customer = [0, 0, 0, 0, 1];
    let day = [0, 0, 4, 9, 7];
    let amount = [1.0, 2.0, 10.0, 20.0, 5.0];
    let out = summary(
        &table(&customer, &day, &amount),
        &SummaryOptions::new(Period::Day),
    )
    .unwrap();
    assert_eq!(out.customer, vec![0, 1]);
    assert_eq!(out.frequency, vec![2.0, 0.0]);
    assert_eq!(out.recency, vec![9.0, 0.0]);
    assert_eq!(out.t, vec![9.0, 2.0]);
    assert_eq!(out.monetary_value, vec![15.0, 0.0]);
    let first = SummaryOptions {
        include_first_transaction: true,
        ..SummaryOptions::new(Period::Day)
    };
    let out = summary(&table(&customer, &day, &amount), &first).unwrap();
    assert_eq!(out.frequency, vec![3.0, 1.0]);
    assert_eq!(out.monetary_value, vec![11.0, 5.0]);
}

#[test]
fn returns_net_into_the_latest_purchase_period() {
    let customer = [0, 0, 0, 0];
    let day = [0, 3, 5, 1];
    let amount = [10.0, 20.0, -4.0, -1.0];
    let options = SummaryOptions {
        policy: RowPolicy::default(),
        ..SummaryOptions::new(Period::Day)
    };
    let out = summary(&table(&customer, &day, &amount), &options).unwrap();
    // The return on day 5 nets into day 3; the one on day 1 into day 0 (not a repeat).
    assert_eq!(out.monetary_value, vec![16.0]);
    assert_eq!(out.accounting.rows_used, 4);
}

#[test]
fn calibration_and_holdout() {
    let customer = [0, 0, 0, 1, 2];
    let day = [0, 3, 12, 2, 15];
    let amount = [1.0, 2.0, 6.0, 4.0, 5.0];
    let options = SummaryOptions {
        observation_end: Some(20),
        ..SummaryOptions::new(Period::Day)
    };
    let out = calibration_holdout(&table(&customer, &day, &amount), 10, &options).unwrap();
    assert_eq!(out.calibration.customer, vec![0, 1]);
    assert_eq!(out.calibration.t, vec![10.0, 8.0]);
    assert_eq!(out.frequency_holdout, vec![1.0, 0.0]);
    assert_eq!(out.monetary_value_holdout, vec![6.0, 0.0]);
    assert_eq!(out.duration_holdout, 10.0);
    let acc = &out.calibration.accounting;
    assert_eq!(acc.dropped_counts(), vec![("holdout_without_calibration", 1)]);
    assert_eq!(acc.rows_in, acc.rows_used + acc.dropped_total());
    assert!(calibration_holdout(&table(&customer, &day, &amount), 20, &options).is_err());
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    let tx = table(&[0, 5], &[1, 2], &[1.0, 1.0]);
    let short = Transactions {
        n_customers: 2,
        ..tx.clone()
    };
    assert!(matches!(
        rfm(&short, &RfmOptions::default()),
        Err(RfmError::Code { row: 1, .. })
    ));
    let mismatched = Transactions {
        time: &[1],
        ..tx.clone()
    };
    assert!(matches!(
        rfm(&mismatched, &RfmOptions::default()),
        Err(RfmError::Length { .. })
    ));
    let empty = rfm(&table(&[], &[], &[]), &RfmOptions::default()).unwrap();
    assert!(empty.customer.is_empty() && empty.as_of_day.is_none());
    let all_invalid = rfm(&table(&[NULL_CODE], &[1], &[1.0]), &RfmOptions::default()).unwrap();
    assert_eq!(
        all_invalid.accounting.dropped_counts(),
        vec![("missing_customer", 1)]
    );
    // A window without as_of on a state.
    let options = StateOptions {
        policy: RowPolicy::default(),
        ticks_per_day: 1,
        rfm: Some(RfmView {
            as_of_day: None,
            window_days: Some(3),
        }),
        summary: None,
        orders: false,
        names: ColumnNames::default(),
    };
    assert!(matches!(
        State::new(options),
        Err(RfmError::Parameter { name: "window", .. })
    ));
}

/// Messy rows: null ids, NaT, NaN, zeros, returns, ties, unsorted times, amounts with
/// cents (and a few that do not fit the fixed point: tiny and huge ones).
struct Mess {
    customer: Vec<i64>,
    time: Vec<i64>,
    amount: Vec<f64>,
    order: Vec<i64>,
}

fn mess(n: usize, n_customers: u64, seed: u64) -> Mess {
    let mut rng = XorShift(seed | 1);
    let mut m = Mess {
        customer: Vec::new(),
        time: Vec::new(),
        amount: Vec::new(),
        order: Vec::new(),
    };
    for _ in 0..n {
        m.customer.push(if rng.next(20) == 0 {
            NULL_CODE
        } else {
            rng.next(n_customers) as i64
        });
        m.time.push(if rng.next(30) == 0 {
            NAT
        } else {
            rng.next(400) as i64 * 7 + 3
        });
        m.amount.push(match rng.next(14) {
            0 => f64::NAN,
            1 => 0.0,
            2 | 3 => -(rng.next(5000) as f64) / 100.0,
            4 => 1e-30 * rng.next(9) as f64,
            5 => 0.1,
            6 => 2f64.powi(70),
            _ => rng.next(100_000) as f64 / 100.0 + 0.01,
        });
        m.order.push(if rng.next(40) == 0 {
            NULL_CODE
        } else {
            rng.next(n as u64 / 3 + 1) as i64
        });
    }
    m
}

fn options_of(
    rfm_view: Option<RfmView>,
    summary_view: Option<SummaryView>,
    policy: RowPolicy,
    orders: bool,
) -> StateOptions {
    StateOptions {
        policy,
        ticks_per_day: 7,
        rfm: rfm_view,
        summary: summary_view,
        orders,
        names: ColumnNames::default(),
    }
}

/// Both views (the RFM one by default, the summary by `period`) with the default policy.
fn both_views(period: Period, orders: bool) -> StateOptions {
    let summary = SummaryView {
        period,
        observation_end: None,
        calibration_end: None,
    };
    options_of(
        Some(RfmView::default()),
        Some(summary),
        RowPolicy::default(),
        orders,
    )
}

fn batch_of<'a>(
    m: &'a Mess,
    valid: &'a [bool],
    order_valid: &'a [bool],
    rows: std::ops::Range<usize>,
    orders: bool,
) -> Batch<'a> {
    Batch {
        customer: Ids::Int {
            values: &m.customer[rows.clone()],
            validity: Some(&valid[rows.clone()]),
        },
        time: &m.time[rows.clone()],
        amount: Some(&m.amount[rows.clone()]),
        order: orders.then(|| Ids::Int {
            values: &m.order[rows.clone()],
            validity: Some(&order_valid[rows.clone()]),
        }),
    }
}

/// The RFM table as customer id -> (recency, frequency, monetary bits, first, last, tenure).
type RfmRows = Vec<(i64, i64, i64, u64, i64, i64, i64)>;

fn rfm_rows(state: &State, table: &RfmTable) -> RfmRows {
    let Keys::Int(keys) = state.customers() else {
        return Vec::new();
    };
    let mut rows: RfmRows = (0..table.customer.len())
        .map(|k| {
            (
                keys.keys[table.customer[k] as usize],
                table.recency[k],
                table.frequency[k],
                table.monetary[k].to_bits(),
                table.first_time[k],
                table.last_time[k],
                table.tenure[k],
            )
        })
        .collect();
    rows.sort_unstable();
    rows
}

/// The RFM definitions row by row, with plain loops and an exact sum.
fn rfm_oracle(
    m: &Mess,
    view: RfmView,
    policy: RowPolicy,
    orders: bool,
) -> (RfmRows, Vec<(&'static str, usize)>) {
    use std::collections::{BTreeMap, BTreeSet};
    let tpd = 7;
    let valid_time = |i: usize| {
        m.customer[i] >= 0 && m.time[i] != NAT && m.amount[i].is_finite() && (!orders || m.order[i] >= 0)
    };
    let last = (0..m.customer.len())
        .filter(|&i| valid_time(i))
        .map(|i| m.time[i])
        .max();
    let as_of = view.as_of_day.or(last.map(|t| t.div_euclid(tpd) + 1));
    let mut dropped: BTreeMap<&'static str, usize> = BTreeMap::new();
    #[derive(Default)]
    struct Acc {
        amounts: Vec<f64>,
        times: Vec<i64>,
        returns: usize,
        orders: BTreeSet<i64>,
    }
    let mut per: BTreeMap<i64, Acc> = BTreeMap::new();
    for i in 0..m.customer.len() {
        let reason = if m.customer[i] < 0 {
            Some("missing_customer")
        } else if m.time[i] == NAT {
            Some("missing_date")
        } else if !m.amount[i].is_finite() {
            Some("invalid_amount")
        } else if orders && m.order[i] < 0 {
            Some("missing_order")
        } else {
            None
        };
        if let Some(reason) = reason {
            *dropped.entry(reason).or_default() += 1;
            continue;
        }
        let day = m.time[i].div_euclid(tpd);
        let as_of = as_of.unwrap();
        if day >= as_of {
            *dropped.entry("after_as_of").or_default() += 1;
            continue;
        }
        if view.window_days.is_some_and(|w| day < as_of - w) {
            *dropped.entry("before_window").or_default() += 1;
            continue;
        }
        let a = m.amount[i];
        let acc = per.entry(m.customer[i]).or_default();
        if a > 0.0 || (a == 0.0 && policy.zero == ZeroPolicy::Keep) {
            acc.amounts.push(a);
            acc.times.push(m.time[i]);
            acc.orders.insert(m.order[i]);
        } else if a == 0.0 {
            *dropped.entry("zero_amount").or_default() += 1;
        } else if policy.returns == ReturnPolicy::Net {
            acc.amounts.push(a);
            acc.returns += 1;
        } else {
            *dropped.entry("return").or_default() += 1;
        }
    }
    let mut rows = Vec::new();
    for (&c, acc) in &per {
        if acc.times.is_empty() {
            *dropped.entry("return_without_purchase").or_default() += acc.returns;
            continue;
        }
        let first = *acc.times.iter().min().unwrap();
        let last = *acc.times.iter().max().unwrap();
        let frequency = if orders { acc.orders.len() } else { acc.times.len() } as i64;
        let as_of = as_of.unwrap();
        rows.push((
            c,
            as_of - last.div_euclid(tpd),
            frequency,
            fsum(acc.amounts.iter().copied()).to_bits(),
            first,
            last,
            as_of - first.div_euclid(tpd),
        ));
    }
    let order: Vec<&'static str> = DropReason::ALL.iter().map(|r| r.name()).collect();
    let mut counts: Vec<(&'static str, usize)> = dropped.into_iter().filter(|(_, n)| *n > 0).collect();
    counts.sort_by_key(|(name, _)| order.iter().position(|o| o == name));
    (rows, counts)
}

fn policies() -> [RowPolicy; 3] {
    [
        RowPolicy::default(),
        RowPolicy {
            zero: ZeroPolicy::Keep,
            returns: ReturnPolicy::Drop,
            ..RowPolicy::default()
        },
        RowPolicy {
            zero: ZeroPolicy::Keep,
            ..RowPolicy::default()
        },
    ]
}

fn one_shot(m: &Mess, options: &StateOptions) -> State {
    let valid: Vec<bool> = m.customer.iter().map(|&c| c >= 0).collect();
    let order_valid: Vec<bool> = m.order.iter().map(|&o| o >= 0).collect();
    let mut state = State::new(options.clone()).unwrap();
    state
        .update(&batch_of(
            m,
            &valid,
            &order_valid,
            0..m.customer.len(),
            options.orders,
        ))
        .unwrap();
    state
}

/// States of `parts` random contiguous row ranges, merged in a random order.
fn merged(m: &Mess, options: &StateOptions, rng: &mut XorShift, parts: usize) -> State {
    let n = m.customer.len();
    let valid: Vec<bool> = m.customer.iter().map(|&c| c >= 0).collect();
    let order_valid: Vec<bool> = m.order.iter().map(|&o| o >= 0).collect();
    let mut cuts: Vec<usize> = (0..parts.saturating_sub(1))
        .map(|_| rng.next(n as u64 + 1) as usize)
        .collect();
    cuts.push(0);
    cuts.push(n);
    cuts.sort_unstable();
    let states: Vec<State> = cuts
        .windows(2)
        .map(|w| {
            let mut state = State::new(options.clone()).unwrap();
            // Each part in batches of random size.
            let mut start = w[0];
            while start < w[1] {
                let end = (start + 1 + rng.next(40) as usize).min(w[1]);
                state
                    .update(&batch_of(m, &valid, &order_valid, start..end, options.orders))
                    .unwrap();
                start = end;
            }
            state
        })
        .collect();
    merge_in_random_order(states, rng)
}

/// `states` merged in a random order (a random tree of merges, really).
pub(crate) fn merge_in_random_order(mut states: Vec<State>, rng: &mut XorShift) -> State {
    while states.len() > 1 {
        let a = rng.next(states.len() as u64) as usize;
        let other = states.swap_remove(a);
        let b = rng.next(states.len() as u64) as usize;
        states[b].merge(&other).unwrap();
    }
    states.pop().unwrap()
}

#[test]
fn rfm_matches_the_oracle_and_merges_exactly() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for seed in 1..25u64 {
        let m = mess(300 + seed as usize * 7, 1 + seed * 3, seed * 7919);
        for policy in policies() {
            for (view, orders) in [
                (RfmView::default(), false),
                (RfmView::default(), true),
                (
                    RfmView {
                        as_of_day: Some(300),
                        window_days: Some(150),
                    },
                    false,
                ),
                (
                    RfmView {
                        as_of_day: Some(200),
                        window_days: None,
                    },
                    true,
                ),
            ] {
                let options = options_of(Some(view), None, policy, orders);
                let whole = one_shot(&m, &options);
                let table = whole.finish_rfm(None, true).unwrap();
                let (expected, dropped) = rfm_oracle(&m, view, policy, orders);
                assert_eq!(
                    rfm_rows(&whole, &table),
                    expected,
                    "seed {seed} {policy:?} {view:?}"
                );
                assert_eq!(table.accounting.dropped_counts(), dropped, "seed {seed}");
                let acc = &table.accounting;
                assert_eq!(acc.rows_in, acc.rows_used + acc.dropped_total());
                for parts in [1, 2, 3, 7, 50] {
                    let state = merged(&m, &options, &mut rng, parts);
                    let got = state.finish_rfm(None, false).unwrap();
                    assert_eq!(rfm_rows(&state, &got), expected, "seed {seed} parts {parts}");
                    assert_eq!(got.accounting, table.accounting);
                }
            }
        }
    }
}

/// The summary (and calibration/holdout) as sorted customer id -> values, bits of floats.
fn summary_rows(state: &State, s: &Summary) -> Vec<(i64, [u64; 4])> {
    let Keys::Int(keys) = state.customers() else {
        return Vec::new();
    };
    let mut rows: Vec<(i64, [u64; 4])> = (0..s.customer.len())
        .map(|k| {
            (
                keys.keys[s.customer[k] as usize],
                [
                    s.frequency[k].to_bits(),
                    s.recency[k].to_bits(),
                    s.t[k].to_bits(),
                    s.monetary_value[k].to_bits(),
                ],
            )
        })
        .collect();
    rows.sort_unstable();
    rows
}

/// The lifetimes summary by the book: each customer's rows sorted by (period, kind),
/// returns netted into the latest purchase period at or before them, exact sums.
fn summary_oracle(m: &Mess, period: Period, policy: RowPolicy, include_first: bool) -> Vec<(i64, [u64; 4])> {
    use std::collections::BTreeMap;
    let tpd = 7;
    let valid = |i: usize| m.customer[i] >= 0 && m.time[i] != NAT && m.amount[i].is_finite();
    let Some(end) = (0..m.customer.len())
        .filter(|&i| valid(i))
        .map(|i| m.time[i])
        .max()
    else {
        return Vec::new();
    };
    let end_period = period.index(end, tpd);
    let mut per: BTreeMap<i64, Vec<(i64, bool, f64)>> = BTreeMap::new();
    for i in (0..m.customer.len()).filter(|&i| valid(i)) {
        let a = m.amount[i];
        let is_purchase = a > 0.0 || (a == 0.0 && policy.zero == ZeroPolicy::Keep);
        let is_return = a < 0.0 && policy.returns == ReturnPolicy::Net;
        if is_purchase || is_return {
            per.entry(m.customer[i])
                .or_default()
                .push((period.index(m.time[i], tpd), is_return, a));
        }
    }
    let mut rows = Vec::new();
    for (c, mut entries) in per {
        entries.sort_by_key(|e| (e.0, e.1));
        let mut periods: Vec<i64> = entries.iter().filter(|e| !e.1).map(|e| e.0).collect();
        periods.dedup();
        if periods.is_empty() {
            continue;
        }
        let mut first = Vec::new();
        let mut repeat = Vec::new();
        for &(p, is_return, a) in &entries {
            // The purchase period this row belongs to: its own, or for a return the latest at or before it.
            let owner = periods.iter().rposition(|&q| q <= p).unwrap_or(0);
            let _ = is_return;
            if owner == 0 {
                first.push(a);
            } else {
                repeat.push(a);
            }
        }
        let n = periods.len();
        let (f, mv) = if include_first {
            let all: Vec<f64> = first.iter().chain(repeat.iter()).copied().collect();
            (n as f64, fsum(all) / n as f64)
        } else if n == 1 {
            (0.0, 0.0)
        } else {
            ((n - 1) as f64, fsum(repeat) / (n - 1) as f64)
        };
        let (p0, pl) = (periods[0], periods[n - 1]);
        rows.push((
            c,
            [
                f.to_bits(),
                ((pl - p0) as f64).to_bits(),
                ((end_period - p0) as f64).to_bits(),
                mv.to_bits(),
            ],
        ));
    }
    rows
}

#[test]
fn summary_matches_the_oracle_and_merges_exactly() {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    for seed in 1..15u64 {
        let m = mess(250 + seed as usize * 11, 1 + seed * 2, seed * 104_729);
        for period in [
            Period::Hour,
            Period::Day,
            Period::Week(Weekday::Fri),
            Period::Month,
            Period::Year,
        ] {
            for policy in policies() {
                for include_first in [false, true] {
                    let view = SummaryView {
                        period,
                        observation_end: None,
                        calibration_end: None,
                    };
                    let options = options_of(None, Some(view), policy, false);
                    let mut whole = one_shot(&m, &options);
                    let s = whole.finish_summary(include_first).unwrap();
                    let expected = summary_oracle(&m, period, policy, include_first);
                    assert_eq!(
                        summary_rows(&whole, &s),
                        expected,
                        "seed {seed} {period:?} {policy:?}"
                    );
                    let acc = &s.accounting;
                    assert_eq!(acc.rows_in, acc.rows_used + acc.dropped_total());
                    for parts in [2, 5, 30] {
                        let mut state = merged(&m, &options, &mut rng, parts);
                        let got = state.finish_summary(include_first).unwrap();
                        assert_eq!(summary_rows(&state, &got), expected, "seed {seed} parts {parts}");
                        assert_eq!(got.accounting, s.accounting);
                    }
                }
            }
        }
    }
}

#[test]
fn calibration_holdout_merges_exactly() {
    let mut rng = XorShift(77);
    for seed in 1..12u64 {
        let m = mess(400, 5 + seed * 3, seed * 31);
        for policy in policies() {
            let view = SummaryView {
                period: Period::Week(Weekday::Sun),
                observation_end: Some(2500),
                calibration_end: Some(1400),
            };
            let options = options_of(None, Some(view), policy, false);
            let mut whole = one_shot(&m, &options);
            let expected = whole.finish_calibration_holdout(false).unwrap();
            let acc = &expected.calibration.accounting;
            assert_eq!(acc.rows_in, acc.rows_used + acc.dropped_total());
            let keyed = |state: &State, out: &CalibrationHoldout| {
                let Keys::Int(keys) = state.customers() else {
                    panic!()
                };
                let mut rows: Vec<(i64, u64, u64, u64, u64)> = (0..out.calibration.customer.len())
                    .map(|k| {
                        (
                            keys.keys[out.calibration.customer[k] as usize],
                            out.calibration.frequency[k].to_bits(),
                            out.calibration.monetary_value[k].to_bits(),
                            out.frequency_holdout[k].to_bits(),
                            out.monetary_value_holdout[k].to_bits(),
                        )
                    })
                    .collect();
                rows.sort_unstable();
                rows
            };
            for parts in [2, 9] {
                let mut state = merged(&m, &options, &mut rng, parts);
                let got = state.finish_calibration_holdout(false).unwrap();
                assert_eq!(keyed(&state, &got), keyed(&whole, &expected), "seed {seed}");
                assert_eq!(got.calibration.accounting, expected.calibration.accounting);
                assert_eq!(got.duration_holdout, expected.duration_holdout);
            }
        }
    }
}

#[test]
fn big_batches_in_parallel_equal_one_thread() {
    // More than one parallel chunk and more than one compaction block.
    let m = mess(300_000, 20_000, 5);
    let options = both_views(Period::Day, true);
    let mut parallel = one_shot(&m, &options);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let mut single = pool.install(|| one_shot(&m, &options));
    let (a, b) = (
        parallel.finish_rfm(None, true).unwrap(),
        single.finish_rfm(None, true).unwrap(),
    );
    assert_eq!(a, b);
    assert_eq!(
        parallel.finish_summary(false).unwrap(),
        single.finish_summary(false).unwrap()
    );
}

#[test]
fn finishing_at_a_later_as_of_and_refusing_an_earlier_one() {
    let m = mess(200, 10, 3);
    let mut state = one_shot(
        &m,
        &options_of(Some(RfmView::default()), None, RowPolicy::default(), false),
    );
    let last_day = state.max_time().unwrap().div_euclid(7);
    let later = state.finish_rfm(Some(last_day + 10), false).unwrap();
    let default = state.finish_rfm(None, false).unwrap();
    assert_eq!(
        later
            .recency
            .iter()
            .zip(&default.recency)
            .map(|(a, b)| a - b)
            .max(),
        Some(9)
    );
    assert!(state.finish_rfm(Some(last_day), false).is_err());
    assert!(state.finish_summary(false).is_err());
    let other = State::new(options_of(None, None, RowPolicy::default(), false)).unwrap();
    assert!(state.merge(&other).is_err());
}

#[test]
fn parts_round_trip_and_damage_is_an_error() {
    let m = mess(2_000, 150, 11);
    let options = both_views(Period::Week(Weekday::Sun), true);
    let mut rng = XorShift(3);
    let mut whole = one_shot(&m, &options);
    let expected_rfm = whole.finish_rfm(None, true).unwrap();
    let expected_summary = whole.finish_summary(false).unwrap();
    // A state through its parts, then merged with another through its parts.
    let mut a = merged(&m, &options, &mut rng, 1);
    let parts = a.to_parts().unwrap();
    let mut back = State::from_parts(options.clone(), parts.clone()).unwrap();
    assert_eq!(back.finish_rfm(None, true).unwrap(), expected_rfm);
    assert_eq!(back.finish_summary(false).unwrap(), expected_summary);
    let half = m.customer.len() / 2;
    let valid: Vec<bool> = m.customer.iter().map(|&c| c >= 0).collect();
    let order_valid: Vec<bool> = m.order.iter().map(|&o| o >= 0).collect();
    let mut first = State::new(options.clone()).unwrap();
    first
        .update(&batch_of(&m, &valid, &order_valid, 0..half, true))
        .unwrap();
    let mut second = State::new(options.clone()).unwrap();
    second
        .update(&batch_of(&m, &valid, &order_valid, half..m.customer.len(), true))
        .unwrap();
    let mut first = State::from_parts(options.clone(), first.to_parts().unwrap()).unwrap();
    let second = State::from_parts(options.clone(), second.to_parts().unwrap()).unwrap();
    first.merge(&second).unwrap();
    assert_eq!(
        rfm_rows(&first, &first.finish_rfm(None, false).unwrap()),
        rfm_rows(&whole, &expected_rfm)
    );
    let merged_summary = first.finish_summary(false).unwrap();
    assert_eq!(
        summary_rows(&first, &merged_summary),
        summary_rows(&whole, &expected_summary)
    );
    // Damaged parts: errors, not panics.
    let mut repeated = parts.clone();
    if let KeyParts::Int(keys) = &mut repeated.customers {
        keys[1] = keys[0];
    }
    assert!(State::from_parts(options.clone(), repeated).is_err());
    let mut short = parts.clone();
    short.purchases.pop();
    assert!(State::from_parts(options.clone(), short).is_err());
    let mut out_of_range = parts.clone();
    out_of_range.log_customer[0] = 1_000_000;
    assert!(State::from_parts(options.clone(), out_of_range).is_err());
    let mut bad_pairs = parts.clone();
    bad_pairs.pair_order[0] = u32::MAX;
    assert!(State::from_parts(options.clone(), bad_pairs).is_err());
    let mut counts = parts;
    counts.counts.pop();
    assert!(State::from_parts(options, counts).is_err());
}

/// `m` with its rows in time order (stable; null times first), as most exports come.
fn time_ordered(m: &Mess) -> Mess {
    let mut order: Vec<usize> = (0..m.time.len()).collect();
    order.sort_by_key(|&i| m.time[i]);
    Mess {
        customer: order.iter().map(|&i| m.customer[i]).collect(),
        time: order.iter().map(|&i| m.time[i]).collect(),
        amount: order.iter().map(|&i| m.amount[i]).collect(),
        order: order.iter().map(|&i| m.order[i]).collect(),
    }
}

#[test]
fn runs_concatenate_and_net_returns_as_if_stepped_in_key_order() {
    use super::fold::Run;
    let mut rng = XorShift(0xdead_beef);
    let bits = |r: &Run| {
        let s = r.stats().unwrap();
        (
            s.periods,
            s.purchase_rows,
            s.return_rows,
            s.first,
            s.last,
            s.repeat.to_bits(),
            s.total.to_bits(),
        )
    };
    for _ in 0..20_000 {
        // Entries of one phase in key order: periods 0..6, purchases and returns.
        let n = 1 + rng.next(12) as usize;
        let mut entries: Vec<(i64, u32, Fixed)> = (0..n)
            .map(|_| {
                let key = log::key(rng.next(6) as i64, false, rng.next(3) == 0);
                let sum = Fixed::of(rng.next(2000) as f64 / 8.0 - 50.0).unwrap();
                (key, 1 + rng.next(3) as u32, sum)
            })
            .collect();
        entries.sort_by_key(|e| e.0);
        let mut whole = Run::default();
        for &(key, rows, sum) in &entries {
            whole.step(key, rows, sum).unwrap();
        }
        // The purchases split in two runs, appended; the returns netted afterwards, in
        // any order.
        let purchases: Vec<_> = entries.iter().filter(|e| !log::is_return(e.0)).collect();
        let cut = rng.next(purchases.len() as u64 + 1) as usize;
        let (mut head, mut tail) = (Run::default(), Run::default());
        for &&(key, rows, sum) in &purchases[..cut] {
            head.purchase(log::period_of(key), rows, sum).unwrap();
        }
        for &&(key, rows, sum) in &purchases[cut..] {
            tail.purchase(log::period_of(key), rows, sum).unwrap();
        }
        head.concat(&tail).unwrap();
        let mut returns: Vec<_> = entries.iter().filter(|e| log::is_return(e.0)).collect();
        returns.reverse();
        for &&(key, rows, sum) in &returns {
            head.net_return(log::period_of(key), rows, sum).unwrap();
        }
        assert_eq!(bits(&head), bits(&whole), "{entries:?} cut {cut}");
        // The other way round, out of order: refused, never folded wrongly.
        let (first, last) = (purchases.first(), purchases.last());
        if let (Some(first), Some(last)) = (first, last) {
            if cut > 0 && cut < purchases.len() && log::period_of(first.0) < log::period_of(last.0) {
                let (mut late, mut early) = (Run::default(), Run::default());
                for &&(key, rows, sum) in &purchases[cut..] {
                    late.purchase(log::period_of(key), rows, sum).unwrap();
                }
                for &&(key, rows, sum) in &purchases[..cut] {
                    early.purchase(log::period_of(key), rows, sum).unwrap();
                }
                assert!(late.concat(&early).is_none(), "{entries:?} cut {cut}");
            }
        }
    }
}

#[test]
fn folding_the_periods_equals_the_log() {
    let mut rng = XorShift(0x5eed);
    let mut completed = 0;
    for seed in 1..25u64 {
        let raw = mess(300 + seed as usize * 7, 1 + seed * 3, seed * 7_919);
        let mut fitting = time_ordered(&raw);
        // Amounts on the fixed point, so that only row order decides whether a fold works.
        for a in &mut fitting.amount {
            if a.is_finite() && Fixed::of(*a).is_none() {
                *a = 2.5;
            }
        }
        for (m, sure) in [(&raw, false), (&time_ordered(&raw), false), (&fitting, true)] {
            for period in [Period::Day, Period::Week(Weekday::Sun), Period::Month] {
                for policy in policies() {
                    for calibration_end in [None, Some(1400)] {
                        let view = SummaryView {
                            period,
                            observation_end: calibration_end.map(|_| 2500),
                            calibration_end,
                        };
                        let options = options_of(None, Some(view), policy, false);
                        let mut logged = one_shot(m, &options);
                        // The rows in contiguous parts, folded and appended in row order.
                        let n = m.customer.len();
                        let valid: Vec<bool> = m.customer.iter().map(|&c| c >= 0).collect();
                        let mut cuts: Vec<usize> = (0..rng.next(4))
                            .map(|_| rng.next(n as u64 + 1) as usize)
                            .collect();
                        cuts.extend([0, n]);
                        cuts.sort_unstable();
                        let mut folded = State::folding(options.clone()).unwrap();
                        for w in cuts.windows(2) {
                            let mut part = State::folding(options.clone()).unwrap();
                            part.update(&batch_of(m, &valid, &valid, w[0]..w[1], false))
                                .unwrap();
                            folded.merge_owned(part).unwrap();
                        }
                        // Rows in time order with amounts on the fixed point always fold.
                        if sure {
                            assert!(folded.folded_completely(), "seed {seed} {period:?} {policy:?}");
                        }
                        if !folded.folded_completely() {
                            continue;
                        }
                        completed += 1;
                        if calibration_end.is_some() {
                            let (a, b) = (
                                folded.finish_calibration_holdout(false).unwrap(),
                                logged.finish_calibration_holdout(false).unwrap(),
                            );
                            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                            assert_eq!(bits(&a.monetary_value_holdout), bits(&b.monetary_value_holdout));
                            assert_eq!(a, b, "seed {seed} {period:?} {policy:?}");
                        } else {
                            for include_first in [false, true] {
                                let (a, b) = (
                                    folded.finish_summary(include_first).unwrap(),
                                    logged.finish_summary(include_first).unwrap(),
                                );
                                assert_eq!(summary_rows(&folded, &a), summary_rows(&logged, &b));
                                assert_eq!(a, b, "seed {seed} {period:?} {policy:?}");
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(completed > 200, "{completed} folded");
}

#[test]
fn one_shot_summaries_fold_in_parallel_or_fall_back_to_the_log() {
    // Time-ordered rows over several parallel chunks: folded and appended; shuffled
    // rows: the log. Both equal the log state of one thread.
    let m = time_ordered(&mess(300_000, 20_000, 9));
    let mut shuffled = mess(300_000, 20_000, 9);
    shuffled.amount.iter_mut().for_each(|a| *a = a.abs());
    for m in [&m, &shuffled] {
        let tx = Transactions {
            n_customers: 20_000,
            ticks_per_day: 7,
            ..table(&m.customer, &m.time, &m.amount)
        };
        let options = SummaryOptions {
            policy: RowPolicy {
                returns: ReturnPolicy::Drop,
                ..RowPolicy::default()
            },
            ..SummaryOptions::new(Period::Week(Weekday::Sun))
        };
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let view = SummaryView {
            period: options.period,
            observation_end: None,
            calibration_end: None,
        };
        let state_options = StateOptions {
            ticks_per_day: 7,
            ..options_of(None, Some(view), options.policy, false)
        };
        let mut single = pool.install(|| one_shot(m, &state_options));
        let expected = single.finish_summary(false).unwrap();
        let got = summary(&tx, &options).unwrap();
        assert_eq!(got.frequency.len(), expected.frequency.len());
        assert_eq!(summary_rows(&single, &expected).len(), got.customer.len());
        let mut keyed = summary_rows(&single, &expected);
        keyed.sort_unstable();
        let mut mine: Vec<(i64, [u64; 4])> = (0..got.customer.len())
            .map(|k| {
                (
                    got.customer[k],
                    [got.frequency[k], got.recency[k], got.t[k], got.monetary_value[k]].map(f64::to_bits),
                )
            })
            .collect();
        mine.sort_unstable();
        assert_eq!(mine, keyed);
        assert_eq!(got.accounting, expected.accounting);
    }
}

/// A customer id as text, whatever the key kind ("c7" for the integer 7).
fn key_text(state: &State, k: usize) -> String {
    match state.customers() {
        Keys::Int(keys) => format!("c{}", keys.keys[k]),
        Keys::Utf8(keys) => String::from_utf8(keys.text(k).to_vec()).unwrap(),
        Keys::Empty => String::new(),
    }
}

/// What a cluster does with `m`: a state per contiguous row range (`parts` of them,
/// integer or text ids), each split into `buckets`; the pieces of each bucket merged in a
/// random order, told the last time of all the rows.
fn bucket_states(
    m: &Mess,
    options: &StateOptions,
    rng: &mut XorShift,
    parts: usize,
    buckets: usize,
    text: bool,
) -> Vec<State> {
    let n = m.customer.len();
    let valid: Vec<bool> = m.customer.iter().map(|&c| c >= 0).collect();
    let order_valid: Vec<bool> = m.order.iter().map(|&o| o >= 0).collect();
    let mut offsets = vec![0i64];
    let mut data = Vec::new();
    for &c in &m.customer {
        if c >= 0 {
            data.extend_from_slice(format!("c{c}").as_bytes());
        }
        offsets.push(data.len() as i64);
    }
    let mut cuts: Vec<usize> = (0..parts - 1).map(|_| rng.next(n as u64 + 1) as usize).collect();
    cuts.extend([0, n]);
    cuts.sort_unstable();
    let mut pieces: Vec<Vec<State>> = (0..buckets).map(|_| Vec::new()).collect();
    let mut last = None;
    for w in cuts.windows(2) {
        let mut state = State::new(options.clone()).unwrap();
        let mut batch = batch_of(m, &valid, &order_valid, w[0]..w[1], options.orders);
        if text {
            batch.customer = Ids::Utf8 {
                offsets: Offsets::Large(&offsets[w[0]..=w[1]]),
                data: &data,
                validity: Some(&valid[w[0]..w[1]]),
            };
        }
        state.update(&batch).unwrap();
        last = last.max(state.max_time());
        for (b, piece) in state.split(buckets).unwrap().into_iter().enumerate() {
            pieces[b].push(piece);
        }
    }
    pieces
        .into_iter()
        .map(|mut group| {
            let mut merged = State::new(options.clone()).unwrap();
            while !group.is_empty() {
                let piece = group.swap_remove(rng.next(group.len() as u64) as usize);
                merged.merge(&piece).unwrap();
            }
            if let Some(time) = last {
                merged.note_max_time(time);
            }
            merged
        })
        .collect()
}

fn add_accounting(total: &mut Accounting, part: &Accounting) {
    total.rows_in += part.rows_in;
    total.rows_used += part.rows_used;
    for (a, b) in total.dropped.iter_mut().zip(part.dropped) {
        *a += b;
    }
}

#[test]
fn states_split_by_customer_and_their_buckets_merge_to_the_whole() {
    let mut rng = XorShift(0x5eed);
    for seed in 1..10u64 {
        let m = mess(600 + seed as usize * 13, 2 + seed * 5, seed * 6151);
        for policy in policies() {
            for text in [false, true] {
                for (parts, buckets) in [(1, 1), (1, 4), (3, 2), (5, 7), (8, 3)] {
                    // The RFM table (with and without orders, with a window).
                    for (view, orders) in [
                        (RfmView::default(), true),
                        (
                            RfmView {
                                as_of_day: Some(300),
                                window_days: Some(150),
                            },
                            false,
                        ),
                    ] {
                        let options = options_of(Some(view), None, policy, orders);
                        let whole = one_shot(&m, &options);
                        let expected = whole.finish_rfm(None, false).unwrap();
                        let rows_of = |state: &State, t: &RfmTable| {
                            (0..t.customer.len())
                                .map(|k| {
                                    (
                                        key_text(state, t.customer[k] as usize),
                                        t.recency[k],
                                        t.frequency[k],
                                        t.monetary[k].to_bits(),
                                        t.first_time[k],
                                        t.last_time[k],
                                        t.tenure[k],
                                    )
                                })
                                .collect::<Vec<_>>()
                        };
                        let mut want = rows_of(&whole, &expected);
                        want.sort();
                        let mut got = Vec::new();
                        let mut accounting = Accounting::default();
                        for state in bucket_states(&m, &options, &mut rng, parts, buckets, text) {
                            let t = state.finish_rfm(None, false).unwrap();
                            got.extend(rows_of(&state, &t));
                            add_accounting(&mut accounting, &t.accounting);
                        }
                        got.sort();
                        let case = format!("seed {seed} {policy:?} text {text} {parts}x{buckets} {view:?}");
                        assert_eq!(got, want, "{case}");
                        assert_eq!(accounting, expected.accounting, "{case}");
                    }
                    // The summary and the calibration/holdout split, with the default end.
                    for calibration_end in [None, Some(1400)] {
                        let view = SummaryView {
                            period: Period::Week(Weekday::Sun),
                            observation_end: None,
                            calibration_end,
                        };
                        let options = options_of(None, Some(view), policy, false);
                        let finish = |state: &mut State| match calibration_end {
                            None => (state.finish_summary(false).unwrap(), Vec::new()),
                            Some(_) => {
                                let out = state.finish_calibration_holdout(false).unwrap();
                                let holdout = out
                                    .frequency_holdout
                                    .iter()
                                    .zip(&out.monetary_value_holdout)
                                    .map(|(f, m)| (f.to_bits(), m.to_bits()))
                                    .collect();
                                (out.calibration, holdout)
                            }
                        };
                        let rows_of = |state: &State, s: &Summary, holdout: &[(u64, u64)]| {
                            (0..s.customer.len())
                                .map(|k| {
                                    (
                                        key_text(state, s.customer[k] as usize),
                                        s.frequency[k].to_bits(),
                                        s.recency[k].to_bits(),
                                        s.t[k].to_bits(),
                                        s.monetary_value[k].to_bits(),
                                        holdout.get(k).copied(),
                                    )
                                })
                                .collect::<Vec<_>>()
                        };
                        let mut whole = one_shot(&m, &options);
                        let (expected, holdout) = finish(&mut whole);
                        let mut want = rows_of(&whole, &expected, &holdout);
                        want.sort();
                        let mut got = Vec::new();
                        let mut accounting = Accounting::default();
                        for mut state in bucket_states(&m, &options, &mut rng, parts, buckets, text) {
                            let (s, holdout) = finish(&mut state);
                            // Every bucket ends where all the rows end.
                            assert_eq!(s.observation_end, expected.observation_end);
                            got.extend(rows_of(&state, &s, &holdout));
                            add_accounting(&mut accounting, &s.accounting);
                        }
                        got.sort();
                        let case = format!(
                            "seed {seed} {policy:?} text {text} {parts}x{buckets} {calibration_end:?}"
                        );
                        assert_eq!(got, want, "{case}");
                        assert_eq!(accounting, expected.accounting, "{case}");
                    }
                }
            }
        }
    }
}

#[test]
fn splitting_needs_one_view_and_a_part_and_the_hash_is_fixed() {
    let both = both_views(Period::Day, false);
    let m = mess(200, 20, 5);
    assert!(matches!(
        one_shot(&m, &both).split(3),
        Err(RfmError::Parameter { name: "state", .. })
    ));
    let rfm_only = options_of(Some(RfmView::default()), None, RowPolicy::default(), false);
    assert!(matches!(
        one_shot(&m, &rfm_only).split(0),
        Err(RfmError::Parameter { name: "n", .. })
    ));
    // States split in other processes (or by another rfmkit version) must agree on the
    // bucket of every id: the hash is part of the format (values from a separate
    // implementation of splitmix64 over FNV-1a).
    assert_eq!(
        buckets_of(&KeyParts::Int(vec![0, 1, 2, 3, 42, -7]), 7),
        [0, 6, 1, 4, 3, 2]
    );
    let text = KeyParts::Utf8 {
        offsets: vec![0, 0, 1, 4],
        data: b"a\xe4\xb8\xad".to_vec(),
    };
    assert_eq!(buckets_of(&text, 5), [3, 1, 1]);
}
