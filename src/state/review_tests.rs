//! Edge cases found by a cold review: each was a panic or a wrong number before its fix.
#![allow(clippy::type_complexity)]
use super::tests::merge_in_random_order;
use super::*;
use crate::rows::{ReturnPolicy, ZeroPolicy};
use crate::testing::{int_ids, utf8, XorShift};

fn opts(rfm: Option<RfmView>, summary: Option<SummaryView>, orders: bool, tpd: i64) -> StateOptions {
    StateOptions {
        policy: RowPolicy::default(),
        ticks_per_day: tpd,
        rfm,
        summary,
        orders,
        names: ColumnNames::default(),
    }
}

/// Text order ids: a row dropped as invalid before its order id is looked up leaves a
/// stale look-ahead hash; the id 32 rows later is inserted under the wrong hash, then
/// again under the right one: one order counted twice.
#[test]
fn r1_text_orders_after_an_invalid_row() {
    let n = 40;
    let customers = vec!["a"; n];
    let mut orders = vec!["y"; n];
    orders[0] = "x";
    let (co, cd) = utf8(&customers);
    let (oo, od) = utf8(&orders);
    let mut time = vec![5i64; n];
    time[0] = NAT; // row 0 invalid: its order id is never looked up
    let amount = vec![1.0; n];
    let mut state = State::new(opts(Some(RfmView::default()), None, true, 1)).unwrap();
    state
        .update(&Batch {
            customer: Ids::Utf8 {
                offsets: Offsets::Large(&co),
                data: &cd,
                validity: None,
            },
            time: &time,
            amount: Some(&amount),
            order: Some(Ids::Utf8 {
                offsets: Offsets::Large(&oo),
                data: &od,
                validity: None,
            }),
        })
        .unwrap();
    let t = state.finish_rfm(None, false).unwrap();
    assert_eq!(state.orders.as_ref().unwrap().keys.len(), 2, "orders 'x' and 'y'");
    assert_eq!(t.frequency, vec![1], "one distinct order 'y'");
    let options = state.options.clone();
    assert!(State::from_parts(options, state.to_parts().unwrap()).is_ok());
}

/// Log keys saturate: with ticks_per_day = 1 and daily periods, a purchase on a day near
/// i64::MAX gets key i64::MAX, which reads as a return.
/// Timestamps beyond ±2^40 days are no dates: an error naming the row, not a saturated key.
#[test]
fn r2_far_dates_are_an_error() {
    let view = daily();
    let mut state = State::new(opts(None, Some(view), false, 1)).unwrap();
    let error = state
        .update(&Batch {
            customer: Ids::Int {
                values: &[7, 7],
                validity: None,
            },
            time: &[5, i64::MAX - 10],
            amount: Some(&[5.0, 1.0]),
            order: None,
        })
        .unwrap_err();
    assert!(error.to_string().contains("row 1"), "{error}");
}

#[test]
fn r2b_far_past_days_are_an_error_but_the_limit_itself_works() {
    let view = daily();
    let mut state = State::new(opts(None, Some(view), false, 1)).unwrap();
    let far = [i64::MIN / 2];
    assert!(state
        .update(&Batch {
            customer: int_ids(&[7]),
            time: &far,
            amount: Some(&[5.0]),
            order: None
        })
        .is_err());
    let edge = [-MAX_DAYS, -MAX_DAYS + 100];
    let mut state = State::new(opts(None, Some(view), false, 1)).unwrap();
    state
        .update(&Batch {
            customer: Ids::Int {
                values: &[7, 7],
                validity: None,
            },
            time: &edge,
            amount: Some(&[5.0, 6.0]),
            order: None,
        })
        .unwrap();
    let s = state.finish_summary(false).unwrap();
    assert_eq!((s.frequency.clone(), s.recency.clone()), (vec![1.0], vec![100.0]));
}

/// Daily periods, no observation or calibration end.
fn daily() -> SummaryView {
    SummaryView {
        period: Period::Day,
        observation_end: None,
        calibration_end: None,
    }
}

fn small_state(options: &StateOptions) -> State {
    let mut state = State::new(options.clone()).unwrap();
    state
        .update(&Batch {
            customer: Ids::Int {
                values: &[1, 1, 2],
                validity: None,
            },
            time: &[3, 5, 4],
            amount: Some(&[1.0, 2.0, 3.0]),
            order: None,
        })
        .unwrap();
    state
}

/// The parts of [`small_state`] under `options`, damaged by `damage`, are refused.
fn assert_refused(options: StateOptions, damage: impl FnOnce(&mut Parts)) {
    let mut parts = small_state(&options).to_parts().unwrap();
    damage(&mut parts);
    assert!(
        State::from_parts(options, parts).is_err(),
        "damaged parts are refused"
    );
}

/// Untrusted parts: counts that overflow in finish (a panic in debug, a wrong count in release).
#[test]
fn r3_parts_record_counts_overflow_in_finish() {
    assert_refused(opts(Some(RfmView::default()), None, false, 1), |parts| {
        parts.purchases[0] = u32::MAX;
        parts.returns[0] = 1;
    });
}

#[test]
fn r3b_parts_log_rows_overflow_in_from_parts() {
    let view = daily();
    let options = opts(None, Some(view), false, 1);
    let mut parts = small_state(&options).to_parts().unwrap();
    // Two entries of the same customer and key, each with 3e9 rows: compaction folds them.
    parts.log_customer = vec![0, 0];
    parts.log_key = vec![12, 12];
    parts.log_rows = vec![3_000_000_000, 3_000_000_000];
    parts.log_sum_high = vec![0, 0];
    parts.log_sum_low = vec![0, 0];
    let r = std::panic::catch_unwind(|| State::from_parts(options, parts));
    assert!(r.is_ok());
}

#[test]
fn r3c_parts_dropped_counts_overflow() {
    assert_refused(opts(Some(RfmView::default()), None, false, 1), |parts| {
        let k = DropReason::COUNT; // the RFM view's first reason
        parts.counts[0] = u64::MAX;
        parts.counts[k] = 1;
    });
}

#[test]
fn r3d_parts_row_base_overflow_on_update() {
    assert_refused(opts(Some(RfmView::default()), None, false, 1), |parts| {
        parts.row_base = u64::MAX - 1;
    });
}

#[test]
fn r3e_merge_purchases_overflow_is_an_error() {
    let options = opts(Some(RfmView::default()), None, false, 1);
    let mut parts = small_state(&options).to_parts().unwrap();
    let extra = 3_000_000_000u64 - u64::from(parts.purchases[0]);
    parts.purchases[0] = 3_000_000_000;
    parts.rows_in += extra;
    let a = State::from_parts(options.clone(), parts.clone()).unwrap();
    let mut b = State::from_parts(options, parts).unwrap();
    assert!(matches!(
        b.merge(&a),
        Err(RfmError::Parameter { name: "data", .. })
    ));
}

/// Untrusted parts: nothing ties rows_in to the counts, records and log.
#[test]
fn r4_parts_accounting_not_checked() {
    assert_refused(opts(Some(RfmView::default()), None, false, 1), |parts| {
        parts.rows_in = 0;
    });
}

#[test]
fn r4b_parts_holdout_key_without_calibration() {
    assert_refused(opts(None, Some(daily()), false, 1), |parts| {
        parts.log_key[0] += 2; // a holdout key
    });
}

/// as_of far in the future: a row at tick i64::MAX is before as_of, but end_tick saturates.
/// as_of whose tick is beyond i64 (nanoseconds): no upper bound, the row counts.
#[test]
fn r5_as_of_beyond_the_tick_range() {
    let tpd = 86_400_000_000_000;
    let options = opts(
        Some(RfmView {
            as_of_day: Some(MAX_DAYS),
            window_days: None,
        }),
        None,
        false,
        tpd,
    );
    let mut state = State::new(options).unwrap();
    state
        .update(&Batch {
            customer: int_ids(&[1]),
            time: &[i64::MAX],
            amount: Some(&[1.0]),
            order: None,
        })
        .unwrap();
    let t = state.finish_rfm(None, false).unwrap();
    assert_eq!(t.customer.len(), 1);
}

/// Log compacted (to_parts), then more rows with lower and equal keys, then finish:
/// equal to the one-shot state.
#[test]
fn r6_compaction_then_more_rows() {
    let view = daily();
    let options = StateOptions {
        policy: RowPolicy {
            returns: crate::rows::ReturnPolicy::Net,
            zero: ZeroPolicy::Keep,
            ..RowPolicy::default()
        },
        ..opts(None, Some(view), false, 1)
    };
    let rows: Vec<(i64, i64, f64)> = vec![
        (1, 10, 5.0),
        (1, 3, 2.0),
        (2, 7, 1.0),
        (1, 10, -1.0),
        (1, 12, 4.0),
        (1, 3, 1.0),
        (1, 12, 2.0),
        (2, 7, -3.0),
        (1, 1, -2.0),
        (2, 9, 8.0),
        (1, 10, 0.5),
        (2, 2, 1.0),
    ];
    let batch = |r: &[(i64, i64, f64)], f: &mut dyn FnMut(Batch<'_>)| {
        let c: Vec<i64> = r.iter().map(|x| x.0).collect();
        let t: Vec<i64> = r.iter().map(|x| x.1).collect();
        let a: Vec<f64> = r.iter().map(|x| x.2).collect();
        f(Batch {
            customer: int_ids(&c),
            time: &t,
            amount: Some(&a),
            order: None,
        });
    };
    let mut whole = State::new(options.clone()).unwrap();
    batch(&rows, &mut |b| whole.update(&b).unwrap());
    let expect = whole.finish_summary(true).unwrap();
    for cut in 1..rows.len() {
        let mut s = State::new(options.clone()).unwrap();
        batch(&rows[..cut], &mut |b| s.update(&b).unwrap());
        let _ = s.to_parts().unwrap();
        batch(&rows[cut..], &mut |b| s.update(&b).unwrap());
        let got = s.finish_summary(true).unwrap();
        assert_eq!(got, expect, "cut {cut}");
        // and finish, then more rows, then finish
        let mut s = State::new(options.clone()).unwrap();
        batch(&rows[..cut], &mut |b| s.update(&b).unwrap());
        let _ = s.finish_summary(true).unwrap();
        batch(&rows[cut..], &mut |b| s.update(&b).unwrap());
        assert_eq!(s.finish_summary(true).unwrap(), expect, "cut {cut} after finish");
    }
}

/// A failed merge (order ids of another kind) leaves the state half merged.
#[test]
fn r7_failed_merge_leaves_half_merged_state() {
    let options = opts(Some(RfmView::default()), None, true, 1);
    let mut a = State::new(options.clone()).unwrap();
    a.update(&Batch {
        customer: int_ids(&[1]),
        time: &[3],
        amount: Some(&[1.0]),
        order: Some(int_ids(&[10])),
    })
    .unwrap();
    let mut b = State::new(options).unwrap();
    let (oo, od) = utf8(&["o"]);
    b.update(&Batch {
        customer: int_ids(&[1]),
        time: &[4],
        amount: Some(&[2.0]),
        order: Some(Ids::Utf8 {
            offsets: Offsets::Large(&oo),
            data: &od,
            validity: None,
        }),
    })
    .unwrap();
    assert!(a.merge(&b).is_err());
    let t = a.finish_rfm(None, false).unwrap();
    assert_eq!(t.monetary, vec![1.0], "state unchanged after a failed merge");
    assert_eq!((t.accounting.rows_in, t.accounting.rows_used), (1, 1));
}

type Row = (i64, i64, f64, i64);

/// Adds `rows` with integer customer ids, or (`text`) the same ids written as long text.
fn upd(state: &mut State, rows: &[Row], text: bool) {
    let c: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let words: Vec<String> = rows
        .iter()
        .map(|r| format!("cust-{}-with-a-long-tail-{}", r.0, r.0 * 7))
        .collect();
    let refs: Vec<&str> = words.iter().map(|w| w.as_str()).collect();
    let (co, cd) = utf8(&refs);
    let co32: Vec<i32> = co.iter().map(|&o| o as i32).collect();
    let v: Vec<bool> = rows.iter().map(|r| r.0 >= 0).collect();
    let t: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let a: Vec<f64> = rows.iter().map(|r| r.2).collect();
    let o: Vec<i64> = rows.iter().map(|r| r.3).collect();
    let orders = state.options.orders;
    let customer = if text {
        Ids::Utf8 {
            offsets: Offsets::Small(&co32),
            data: &cd,
            validity: Some(&v),
        }
    } else {
        Ids::Int {
            values: &c,
            validity: Some(&v),
        }
    };
    state
        .update(&Batch {
            customer,
            time: &t,
            amount: Some(&a),
            order: orders.then_some(int_ids(&o)),
        })
        .unwrap();
}

/// The state's customer ids as bytes, whatever their kind.
fn key_bytes(s: &State) -> Vec<Vec<u8>> {
    match s.customers() {
        Keys::Int(k) => k.keys.iter().map(|id| id.to_le_bytes().to_vec()).collect(),
        Keys::Utf8(k) => (0..k.len()).map(|i| k.text(i).to_vec()).collect(),
        Keys::Empty => Vec::new(),
    }
}

fn keyed_rfm(s: &State) -> Vec<(Vec<u8>, i64, i64, u64, i64, i64)> {
    let t = s.finish_rfm(None, false).unwrap();
    let k = key_bytes(s);
    let mut v: Vec<_> = (0..t.customer.len())
        .map(|i| {
            (
                k[t.customer[i] as usize].clone(),
                t.recency[i],
                t.frequency[i],
                t.monetary[i].to_bits(),
                t.first_time[i],
                t.last_time[i],
            )
        })
        .collect();
    v.sort();
    v
}

fn keyed_summary(s: &mut State, cal: bool) -> (Vec<(Vec<u8>, u64, u64, u64, u64, u64, u64)>, Vec<usize>) {
    let (sum, fh, mh) = if cal {
        let c = s.finish_calibration_holdout(false).unwrap();
        (c.calibration, c.frequency_holdout, c.monetary_value_holdout)
    } else {
        let x = s.finish_summary(false).unwrap();
        let n = x.customer.len();
        (x, vec![0.0; n], vec![0.0; n])
    };
    let k = key_bytes(s);
    let mut v: Vec<_> = (0..sum.customer.len())
        .map(|i| {
            (
                k[sum.customer[i] as usize].clone(),
                sum.frequency[i].to_bits(),
                sum.recency[i].to_bits(),
                sum.t[i].to_bits(),
                sum.monetary_value[i].to_bits(),
                fh[i].to_bits(),
                mh[i].to_bits(),
            )
        })
        .collect();
    v.sort();
    let a = sum.accounting;
    (v, vec![a.rows_in, a.rows_used, a.dropped_total()])
}

/// Random disjoint (non-contiguous) splits, random batches, round trips through parts
/// and finishes in the middle, random merge order: equal to one state of all rows.
#[test]
fn r8_fuzz_disjoint_splits() {
    fuzz_disjoint_splits(0x1234_5678_9abc_def1, false);
}

#[test]
fn r11_fuzz_disjoint_splits_text() {
    fuzz_disjoint_splits(0x7777_5678_9abc_def1, true);
}

fn fuzz_disjoint_splits(seed: u64, text: bool) {
    let mut rng = XorShift(seed);
    for round in 0..3000 {
        let n = 1 + rng.next(120) as usize;
        let nc = 1 + rng.next(8);
        let rows: Vec<Row> = (0..n)
            .map(|_| {
                let c = if rng.next(15) == 0 {
                    -1
                } else {
                    rng.next(nc) as i64
                };
                let t = if rng.next(25) == 0 {
                    NAT
                } else {
                    rng.next(60) as i64 - 10
                };
                let a = match rng.next(10) {
                    0 => 0.0,
                    1 | 2 => -((1 + rng.next(500)) as f64) / 100.0,
                    3 => 1e-9 * (1 + rng.next(5)) as f64,
                    4 => 2f64.powi(61),
                    _ => (1 + rng.next(10000)) as f64 / 100.0,
                };
                (c, t, a, rng.next(20) as i64)
            })
            .collect();
        let cal = rng.next(2) == 0;
        let view = SummaryView {
            period: if rng.next(2) == 0 {
                Period::Day
            } else {
                Period::Week(crate::periods::Weekday::Sun)
            },
            observation_end: Some(45),
            calibration_end: cal.then_some(20),
        };
        let options = StateOptions {
            policy: RowPolicy {
                zero: if rng.next(2) == 0 {
                    ZeroPolicy::Keep
                } else {
                    ZeroPolicy::Drop
                },
                returns: if rng.next(2) == 0 {
                    crate::rows::ReturnPolicy::Net
                } else {
                    crate::rows::ReturnPolicy::Drop
                },
                ..RowPolicy::default()
            },
            ..opts(
                Some(RfmView {
                    as_of_day: Some(40),
                    window_days: Some(35),
                }),
                Some(view),
                rng.next(2) == 0,
                1,
            )
        };
        let mut whole = State::new(options.clone()).unwrap();
        upd(&mut whole, &rows, text);
        let k = 1 + rng.next(4) as usize;
        let mut shares: Vec<Vec<Row>> = vec![Vec::new(); k];
        for r in &rows {
            shares[rng.next(k as u64) as usize].push(*r);
        }
        let states: Vec<State> = shares
            .iter()
            .map(|share| {
                let mut s = State::new(options.clone()).unwrap();
                let mut i = 0;
                while i < share.len() {
                    let j = (i + 1 + rng.next(10) as usize).min(share.len());
                    upd(&mut s, &share[i..j], text);
                    match rng.next(4) {
                        0 => {
                            let p = s.to_parts().unwrap();
                            s = State::from_parts(options.clone(), p).unwrap();
                        }
                        1 => {
                            let _ = s.finish_rfm(None, false);
                            if cal {
                                let _ = s.finish_calibration_holdout(false);
                            } else {
                                let _ = s.finish_summary(false);
                            }
                        }
                        _ => {}
                    }
                    i = j;
                }
                s
            })
            .collect();
        let mut got = merge_in_random_order(states, &mut rng);
        assert_eq!(keyed_rfm(&got), keyed_rfm(&whole), "round {round} rfm");
        let g = got.finish_rfm(None, false).unwrap().accounting;
        let w = whole.finish_rfm(None, false).unwrap().accounting;
        assert_eq!(g, w, "round {round} rfm accounting");
        assert_eq!(g.rows_in, g.rows_used + g.dropped_total());
        if whole.max_time.is_some() || !cal {
            let gs = keyed_summary(&mut got, cal);
            let ws = keyed_summary(&mut whole, cal);
            assert_eq!(gs, ws, "round {round} summary cal={cal}");
            assert_eq!(ws.1[0], ws.1[1] + ws.1[2], "round {round} summary accounting");
        }
    }
}

/// Integer keys at the extremes, in random batches: indexes in order of first appearance.
#[test]
fn r9_int_keys_extremes() {
    let mut rng = XorShift(0xdead_beef_1234_5678);
    let pool = [
        i64::MIN,
        i64::MIN + 1,
        i64::MIN + 70_000,
        -1,
        0,
        1,
        65_535,
        65_536,
        1 << 32,
        (1 << 32) + 5,
        i64::MAX - 70_000,
        i64::MAX - 1,
        i64::MAX,
        -(1 << 40),
        u32::MAX as i64,
        u32::MAX as i64 - 1,
    ];
    for _ in 0..2000 {
        let mut keys = Keys::default();
        let mut oracle: Vec<i64> = Vec::new();
        for _ in 0..1 + rng.next(5) {
            let len = 1 + rng.next(8) as usize;
            let base = pool[rng.next(pool.len() as u64) as usize];
            let values: Vec<i64> = (0..len)
                .map(|_| {
                    if rng.next(2) == 0 {
                        pool[rng.next(pool.len() as u64) as usize]
                    } else {
                        base.saturating_add(rng.next(100) as i64 - 50)
                    }
                })
                .collect();
            let valid: Vec<bool> = (0..len).map(|_| rng.next(6) != 0).collect();
            let ids = Ids::Int {
                values: &values,
                validity: Some(&valid),
            };
            keys.prepare(&ids, "customer").unwrap();
            let mut lookup = keys::Lookup::new(&mut keys, ids, 0);
            for i in 0..len {
                let got = lookup.index(i, len);
                if !valid[i] {
                    assert_eq!(got, None);
                    continue;
                }
                let want = match oracle.iter().position(|&v| v == values[i]) {
                    Some(p) => p,
                    None => {
                        oracle.push(values[i]);
                        oracle.len() - 1
                    }
                };
                assert_eq!(got, Some(want as u32), "{values:?}");
            }
        }
        let Keys::Int(k) = &keys else { continue };
        assert_eq!(k.keys, oracle);
    }
}

/// An as_of far from the rows: recency/tenure overflow (State::new accepts any as_of_day).
#[test]
fn r10_as_of_too_far_is_refused() {
    let options = opts(
        Some(RfmView {
            as_of_day: Some(i64::MAX),
            window_days: None,
        }),
        None,
        false,
        1,
    );
    assert!(matches!(
        State::new(options),
        Err(RfmError::Parameter { name: "as_of", .. })
    ));
}

#[test]
fn r12_raise_rows_in_parallel_chunks() {
    let n = 300_000usize;
    let c: Vec<i64> = (0..n as i64).map(|i| i % 1000).collect();
    let t: Vec<i64> = (0..n as i64).map(|i| i % 50).collect();
    let mut a = vec![1.0; n];
    a[250_000] = -1.0;
    a[280_000] = -1.0;
    let mut t2 = t.clone();
    t2[260_000] = NAT;
    let returns = RowPolicy {
        returns: crate::rows::ReturnPolicy::Raise,
        ..RowPolicy::default()
    };
    let invalid = RowPolicy {
        invalid: crate::rows::InvalidPolicy::Raise,
        ..RowPolicy::default()
    };
    // The big batch into an empty state (parallel chunks), then after 10 rows (in place).
    for (policy, times, row) in [(returns, &t, 250_000), (invalid, &t2, 260_000)] {
        for before in [0usize, 10] {
            let options = StateOptions {
                policy,
                ..opts(Some(RfmView::default()), None, false, 1)
            };
            let mut s = State::new(options).unwrap();
            if before > 0 {
                s.update(&Batch {
                    customer: int_ids(&c[..before]),
                    time: &t[..before],
                    amount: Some(&a[..before]),
                    order: None,
                })
                .unwrap();
            }
            let e = s
                .update(&Batch {
                    customer: int_ids(&c),
                    time: times,
                    amount: Some(&a),
                    order: None,
                })
                .unwrap_err();
            let got = match e {
                RfmError::ReturnRow { row, .. } | RfmError::InvalidRow { row, .. } => row,
                other => panic!("{other:?}"),
            };
            assert_eq!(got, row + before, "{policy:?} after {before} rows");
        }
    }
}

// ------------------------------------------------------------------ the one-shot fold
// (a cold review of the fold: against the log at scale, in parallel chunks)

use super::oneshot::summary_of_batch;
use crate::periods::Weekday;

struct Rows {
    customer: Vec<i64>,
    valid: Vec<bool>,
    time: Vec<i64>,
    amount: Vec<f64>,
}

/// Rows sorted by (period, time), returns among the purchases: foldable. Customers drawn from a window that
/// slides with the row index (many appear only in later chunks), some null ids, NaT, NaN.
fn foldable(n: usize, seed: u64, period_days: i64) -> Rows {
    let mut rng = XorShift(seed | 1);
    let mut rows: Vec<(i64, bool, i64, i64, bool, f64)> = Vec::with_capacity(n);
    for i in 0..n {
        let day = (i as i64 * 500) / n as i64 + rng.next(3) as i64; // ~time ordered
        let lo = (i as u64 * 3000) / n as u64;
        let c = lo + rng.next(2000);
        let valid = rng.next(50) != 0;
        let time = if rng.next(100) == 0 {
            NAT
        } else {
            day * 7 + rng.next(7) as i64
        };
        let amount = match rng.next(12) {
            0 => f64::NAN,
            1 => 0.0,
            2..=4 => -(rng.next(5000) as f64) / 100.0,
            _ => rng.next(100_000) as f64 / 100.0 + 0.01,
        };
        let is_return = amount < 0.0;
        let p = if time == NAT {
            i64::MIN
        } else {
            time.div_euclid(7 * period_days)
        };
        rows.push((p, is_return, time, c as i64, valid, amount));
    }
    rows.sort_by_key(|r| (r.0, r.2));
    Rows {
        customer: rows.iter().map(|r| r.3).collect(),
        valid: rows.iter().map(|r| r.4).collect(),
        time: rows.iter().map(|r| r.2).collect(),
        amount: rows.iter().map(|r| r.5).collect(),
    }
}

fn fold_batch(t: &Rows) -> Batch<'_> {
    Batch {
        customer: Ids::Int {
            values: &t.customer,
            validity: Some(&t.valid),
        },
        time: &t.time,
        amount: Some(&t.amount),
        order: None,
    }
}

fn fold_opts(period: Period, calibration_end: Option<i64>, returns: ReturnPolicy) -> StateOptions {
    StateOptions {
        policy: RowPolicy {
            zero: ZeroPolicy::Keep,
            returns,
            ..RowPolicy::default()
        },
        ticks_per_day: 7,
        rfm: None,
        summary: Some(SummaryView {
            period,
            observation_end: calibration_end.map(|_| 520 * 7),
            calibration_end,
        }),
        orders: false,
        names: ColumnNames::default(),
    }
}

fn fold_bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn parallel_fold_equals_single_thread_log() {
    let many = rayon::ThreadPoolBuilder::new().num_threads(6).build().unwrap();
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let mut folded_runs = 0;
    for seed in 1..4u64 {
        for (period, days) in [(Period::Day, 1), (Period::Week(Weekday::Sun), 7)] {
            // Week periods are sorted by 7-day blocks from day 0, not Sunday weeks: Day
            // always folds, Week falls back to the log when it must.
            let t = foldable(420_000, seed, days);
            for returns in [ReturnPolicy::Net, ReturnPolicy::Drop] {
                for cal in [None, Some(300 * 7 + 3)] {
                    let o = fold_opts(period, cal, returns);
                    let mut folded = State::folding(o.clone()).unwrap();
                    folded.record_first_rows();
                    many.install(|| folded.update(&fold_batch(&t))).unwrap();
                    let mut logged = State::new(o.clone()).unwrap();
                    logged.record_first_rows();
                    one.install(|| logged.update(&fold_batch(&t))).unwrap();
                    if period == Period::Day {
                        assert!(folded.folded_completely(), "seed {seed} {returns:?} {cal:?}");
                    }
                    if !folded.folded_completely() {
                        continue;
                    }
                    assert_eq!(folded.first_rows(), logged.first_rows());
                    folded_runs += 1;
                    let ks = |st: &State| match st.customers() {
                        Keys::Int(k) => k.keys.clone(),
                        _ => Vec::new(),
                    };
                    assert_eq!(ks(&folded), ks(&logged));
                    if cal.is_some() {
                        let a = folded.finish_calibration_holdout(false).unwrap();
                        let b = logged.finish_calibration_holdout(false).unwrap();
                        assert_eq!(
                            fold_bits(&a.monetary_value_holdout),
                            fold_bits(&b.monetary_value_holdout)
                        );
                        assert_eq!(
                            fold_bits(&a.calibration.monetary_value),
                            fold_bits(&b.calibration.monetary_value)
                        );
                        assert_eq!(a, b, "seed {seed} {period:?} {returns:?}");
                    } else {
                        for inc in [false, true] {
                            let a = folded.finish_summary(inc).unwrap();
                            let b = logged.finish_summary(inc).unwrap();
                            assert_eq!(fold_bits(&a.monetary_value), fold_bits(&b.monetary_value));
                            assert_eq!(a, b, "seed {seed} {period:?} {returns:?}");
                        }
                    }
                }
            }
        }
    }
    assert!(folded_runs >= 6, "{folded_runs}");
}

/// first_rows: against a direct scan.
#[test]
fn first_rows_are_first_appearances() {
    let many = rayon::ThreadPoolBuilder::new().num_threads(6).build().unwrap();
    let t = foldable(420_000, 7, 1);
    let o = fold_opts(Period::Day, None, ReturnPolicy::Net);
    let (s, rows) = many
        .install(|| summary_of_batch(&fold_batch(&t), o.clone(), false))
        .unwrap();
    let mut first: std::collections::HashMap<i64, u64> = Default::default();
    for (i, (&c, &v)) in t.customer.iter().zip(&t.valid).enumerate() {
        if v {
            first.entry(c).or_insert(i as u64);
        }
    }
    for (k, &row) in rows.iter().enumerate() {
        let c = s.customer[k];
        let id = t.customer[row as usize];
        assert!(t.valid[row as usize]);
        assert_eq!(first[&id], row, "customer {c}");
    }
    // Output in order of first appearance.
    assert!(rows.windows(2).all(|w| w[0] < w[1]));
}
