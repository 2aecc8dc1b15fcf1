//! The BTYD ("buy till you die") summary that the CLV models are fitted on, with
//! the semantics of `lifetimes.utils.summary_data_from_transaction_data` and
//! `calibration_and_holdout_data`.
//!
//! Its `frequency` (repeat purchase periods) and `recency` (periods from the first to
//! the last purchase) are *not* the RFM ones of [`crate::aggregate`]: see the README.

use rayon::prelude::*;

use crate::error::{Result, RfmError};
use crate::money::Fixed;
use crate::periods::{Period, PeriodCache};
use crate::rows::{
    customer_ranges, parallel_parts, prefetch, row_chunks, Accounting, DropReason, InvalidPolicy, Kind,
    ReturnPolicy, RowPolicy, Tally, Transactions, NAT, PREFETCH_AHEAD,
};

pub use crate::state::oneshot::SummaryOptions;
pub use crate::state::{CalibrationHoldout, Summary};

/// A counted row: its period, with returns ordered after the purchases of the same period.
#[derive(Debug, Clone, Copy)]
struct Entry {
    key: i64,
    amount: f64,
}

impl Entry {
    fn new(period: i64, is_return: bool, amount: f64) -> Self {
        Entry {
            key: period * 2 + i64::from(is_return),
            amount,
        }
    }
    fn period(self) -> i64 {
        self.key >> 1
    }
    fn is_return(self) -> bool {
        self.key & 1 == 1
    }
}

/// An exact sum of amounts (a [`Fixed`]) that turns into NaN when an amount does not fit
/// the fixed point or the sum overflows: [`summary`] and [`calibration_holdout`] then
/// recompute on the state, whose spill handles every amount. So every spend is exactly
/// rounded, the same bits as the state's (batches, merges).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Sum(Fixed);

const POISON: Fixed = Fixed(i128::MIN);

impl Sum {
    /// One amount (poisoned when it does not fit the fixed point).
    #[inline]
    fn of(amount: f64) -> Sum {
        Sum(Fixed::of(amount).unwrap_or(POISON))
    }

    #[inline]
    fn add(&mut self, amount: f64) {
        self.plus(Sum::of(amount));
    }

    #[inline]
    fn plus(&mut self, other: Sum) {
        self.0 = if self.0 == POISON || other.0 == POISON {
            POISON
        } else {
            self.0.checked_add(other.0).unwrap_or(POISON)
        };
    }

    fn with(mut self, other: Sum) -> Sum {
        self.plus(other);
        self
    }

    fn value(self) -> f64 {
        if self.0 == POISON {
            f64::NAN
        } else {
            self.0.to_f64()
        }
    }
}

/// What one customer's rows add up to.
#[derive(Debug, Clone, Copy, Default)]
struct PeriodStats {
    periods: usize,
    first: i64,
    last: i64,
    first_sum: Sum,
    repeat_sum: Sum,
    purchase_rows: usize,
    return_rows: usize,
}

/// Walks one customer's entries in period order. A return is netted into the latest
/// purchase period at or before it, or into the first one if it precedes them all.
fn period_stats(entries: &mut [Entry]) -> PeriodStats {
    entries.sort_unstable_by_key(|entry| entry.key);
    let mut stats = PeriodStats::default();
    let mut pending_returns = Sum::default();
    for entry in entries.iter() {
        if entry.is_return() {
            stats.return_rows += 1;
            match stats.periods {
                0 => pending_returns.add(entry.amount),
                1 => stats.first_sum.add(entry.amount),
                _ => stats.repeat_sum.add(entry.amount),
            }
            continue;
        }
        stats.purchase_rows += 1;
        let period = entry.period();
        if stats.periods == 0 || period != stats.last {
            stats.periods += 1;
            if stats.periods == 1 {
                stats.first = period;
            }
            stats.last = period;
        }
        if stats.periods == 1 {
            stats.first_sum.add(entry.amount);
        } else {
            stats.repeat_sum.add(entry.amount);
        }
    }
    stats.first_sum.plus(pending_returns);
    stats
}

/// Groups entries by customer (a counting sort) and computes each customer's stats in parallel.
fn stats_by_customer(n_customers: usize, entries: &[(usize, Entry)]) -> Vec<PeriodStats> {
    let mut offsets = vec![0usize; n_customers + 1];
    for (customer, _) in entries {
        offsets[customer + 1] += 1;
    }
    for c in 0..n_customers {
        offsets[c + 1] += offsets[c];
    }
    let mut cursor = offsets.clone();
    let mut grouped = vec![Entry { key: 0, amount: 0.0 }; entries.len()];
    for &(customer, entry) in entries {
        grouped[cursor[customer]] = entry;
        cursor[customer] += 1;
    }
    let mut slices: Vec<&mut [Entry]> = Vec::with_capacity(n_customers);
    let mut rest: &mut [Entry] = &mut grouped;
    for c in 0..n_customers {
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(offsets[c + 1] - offsets[c]);
        slices.push(head);
        rest = tail;
    }
    slices
        .into_par_iter()
        .with_min_len(1024)
        .map(period_stats)
        .collect()
}

/// Collects the counted rows that `select` keeps (in parallel, in row order), counting
/// every other row's reason.
fn collect_entries(
    tx: &Transactions<'_>,
    policy: &RowPolicy,
    period: Period,
    select: impl Fn(i64) -> std::result::Result<(), DropReason> + Sync,
    accounting: &mut Accounting,
) -> Vec<(usize, Entry)> {
    let chunks: Vec<(Vec<(usize, Entry)>, Accounting)> = row_chunks(tx.len())
        .into_par_iter()
        .map(|range| {
            let mut entries = Vec::with_capacity(range.len());
            let mut counts = Accounting::default();
            for i in range {
                if let Some(reason) = tx.invalid_reason(i) {
                    counts.drop_row(reason);
                    continue;
                }
                let time = tx.time[i];
                if let Err(reason) = select(time) {
                    counts.drop_row(reason);
                    continue;
                }
                let is_return = match tx.amount_kind(i, policy) {
                    Kind::Purchase => false,
                    Kind::Return => true,
                    Kind::Dropped(reason) => {
                        counts.drop_row(reason);
                        continue;
                    }
                };
                let amount = tx.amount.map_or(0.0, |a| a[i]);
                let index = period.index(time, tx.ticks_per_day);
                entries.push((tx.customer[i] as usize, Entry::new(index, is_return, amount)));
            }
            (entries, counts)
        })
        .collect();
    let mut all = Vec::with_capacity(chunks.iter().map(|(entries, _)| entries.len()).sum());
    for (entries, counts) in chunks {
        accounting.add(&counts);
        all.extend(entries);
    }
    all
}

fn resolve_end(tx: &Transactions<'_>, end: Option<i64>) -> Option<i64> {
    end.or_else(|| tx.max_valid_time())
}

/// The summary rows of the customers with a purchase among `stats` (in their order),
/// with the rows they use added to `accounting` and their returns without purchase
/// counted.
fn build_summary(
    tx: &Transactions<'_>,
    stats: &[PeriodStats],
    end_period: i64,
    include_first: bool,
    accounting: &mut Accounting,
) -> Summary {
    let ranges = stats
        .chunks(SUMMARY_RANGE)
        .enumerate()
        .map(|(r, range)| (r * SUMMARY_RANGE, range))
        .collect();
    build_summary_of(tx, ranges, |s| *s, end_period, include_first, accounting)
}

/// Customers per range that [`build_summary_of`] counts and writes in parallel.
const SUMMARY_RANGE: usize = 1 << 15;

/// [`build_summary`] of per-customer states that `stats_of` turns into [`PeriodStats`],
/// given as ranges in customer order, each with the code of its first customer. Ranges
/// of customers are counted, then written, in parallel.
fn build_summary_of<S: Sync>(
    tx: &Transactions<'_>,
    ranges: Vec<(usize, &[S])>,
    stats_of: impl Fn(&S) -> PeriodStats + Sync,
    end_period: i64,
    include_first: bool,
    accounting: &mut Accounting,
) -> Summary {
    let with_amount = tx.amount.is_some();
    let tallies: Vec<Tally> = ranges
        .par_iter()
        .map(|(_, range)| {
            Tally::of(
                range
                    .iter()
                    .map(&stats_of)
                    .map(|s| (s.periods > 0, s.purchase_rows, s.return_rows)),
            )
        })
        .collect();
    let buyers = accounting.add_tallies(&tallies);
    // Zeroed memory comes lazily from the OS; every element is written below.
    let mut out = Summary {
        customer: vec![0; buyers],
        frequency: vec![0.0; buyers],
        recency: vec![0.0; buyers],
        t: vec![0.0; buyers],
        monetary_value: vec![0.0; if with_amount { buyers } else { 0 }],
        ..Summary::default()
    };
    let mut pieces = Vec::with_capacity(ranges.len());
    {
        let mut customer: &mut [i64] = &mut out.customer;
        let mut frequency: &mut [f64] = &mut out.frequency;
        let mut recency: &mut [f64] = &mut out.recency;
        let mut t: &mut [f64] = &mut out.t;
        let mut monetary: &mut [f64] = &mut out.monetary_value;
        for tally in &tallies {
            let count = tally.buyers;
            let (c_head, c_tail) = std::mem::take(&mut customer).split_at_mut(count);
            let (f_head, f_tail) = std::mem::take(&mut frequency).split_at_mut(count);
            let (r_head, r_tail) = std::mem::take(&mut recency).split_at_mut(count);
            let (t_head, t_tail) = std::mem::take(&mut t).split_at_mut(count);
            // Empty without amounts.
            let m_count = count.min(monetary.len());
            let (m_head, m_tail) = std::mem::take(&mut monetary).split_at_mut(m_count);
            pieces.push((c_head, f_head, r_head, t_head, m_head));
            (customer, frequency, recency, t) = (c_tail, f_tail, r_tail, t_tail);
            monetary = m_tail;
        }
        pieces.into_par_iter().zip(ranges.into_par_iter()).for_each(
            |((customer, frequency, recency, t, monetary), (start, range))| {
                let mut k = 0;
                for (offset, s) in range.iter().map(&stats_of).enumerate() {
                    if s.periods == 0 {
                        continue;
                    }
                    let repeats = s.periods - 1;
                    let (f, m) = if include_first {
                        (
                            s.periods as f64,
                            s.first_sum.with(s.repeat_sum).value() / s.periods as f64,
                        )
                    } else if repeats == 0 {
                        (0.0, 0.0)
                    } else {
                        (repeats as f64, s.repeat_sum.value() / repeats as f64)
                    };
                    if let Some(slot) = customer.get_mut(k) {
                        *slot = (start + offset) as i64;
                    }
                    if let Some(slot) = recency.get_mut(k) {
                        *slot = (s.last - s.first) as f64;
                    }
                    if let Some(slot) = t.get_mut(k) {
                        *slot = (end_period - s.first) as f64;
                    }
                    if let Some(slot) = frequency.get_mut(k) {
                        *slot = f;
                    }
                    if let Some(slot) = monetary.get_mut(k) {
                        *slot = m;
                    }
                    k += 1;
                }
            },
        );
    }
    out
}

/// The lifetimes-style summary of every customer with a purchase.
///
/// # Errors
/// The errors of [`Transactions::validate`], and [`RfmError::InvalidRow`] /
/// [`RfmError::ReturnRow`] under the `raise` policies.
pub fn summary(tx: &Transactions<'_>, options: &SummaryOptions) -> Result<Summary> {
    // One customer range per worker: each reads every row but touches the states of its
    // own customers only, so the random state accesses (what the pass waits on) split.
    // That costs ~25% more CPU in all (10M rows: 0.29 s against 0.23 s on one thread), so
    // it pays when the second core is free (~0.15 s) and loses when another process
    // holds it (0.29 s wall).
    let out = summary_with(tx, options, parallel_parts(tx.len()), None)?;
    if out.monetary_value.iter().any(|m| m.is_nan()) {
        // An amount off the fixed point, or a sum past it: the state sums it exactly.
        return crate::state::oneshot::summary(tx, options);
    }
    Ok(out)
}

/// [`summary`] with `parts` customer ranges for the streaming path; `force_sorting`
/// picks the path whatever the row order (tests).
fn summary_with(
    tx: &Transactions<'_>,
    options: &SummaryOptions,
    parts: usize,
    force_sorting: Option<bool>,
) -> Result<Summary> {
    let policy = &options.policy;
    let raises = policy.invalid == InvalidPolicy::Raise || policy.returns == ReturnPolicy::Raise;
    let streams = match force_sorting {
        Some(sorting) => !sorting,
        None => {
            !raises
                && options.observation_end.is_none()
                && u32::try_from(tx.len()).is_ok()
                && is_time_ordered(tx)
        }
    };
    if streams {
        tx.validate_shape()?;
        return summary_streaming(tx, options, parts);
    }
    tx.validate()?;
    let period = options.period;
    let end = resolve_end(tx, options.observation_end);
    let end_period = end.map(|t| period.index(t, tx.ticks_per_day));
    let in_scope = |time: i64| end_period.is_some_and(|p| period.index(time, tx.ticks_per_day) <= p);
    tx.check_rows(&options.policy, in_scope)?;
    let mut accounting = Accounting {
        rows_in: tx.len(),
        ..Accounting::default()
    };
    let select = |time: i64| {
        if in_scope(time) {
            Ok(())
        } else {
            Err(DropReason::AfterObservationEnd)
        }
    };
    let entries = collect_entries(tx, &options.policy, period, select, &mut accounting);
    let Some(end_period) = end_period else {
        return Ok(Summary {
            accounting,
            ..Summary::default()
        });
    };
    let stats = stats_by_customer(tx.n_customers, &entries);
    drop(entries);
    let mut out = build_summary(
        tx,
        &stats,
        end_period,
        options.include_first_transaction,
        &mut accounting,
    );
    out.observation_end = end;
    out.accounting = accounting;
    Ok(out)
}

/// Whether the timestamps (NaT aside) never decrease: then each customer's rows come in
/// period order and one streaming pass gives the summary, without grouping and sorting.
/// Exports are usually in time order.
fn is_time_ordered(tx: &Transactions<'_>) -> bool {
    // Each chunk in parallel: whether it is ordered, and its first and last timestamps;
    // then the chunks in turn, each starting no earlier than the one before ended.
    let spans: Vec<Option<(bool, i64, i64)>> = tx
        .time
        .par_chunks(1 << 16)
        .map(|chunk| {
            let mut times = chunk.iter().copied().filter(|&time| time != NAT);
            let first = times.next()?;
            let mut previous = first;
            for time in times {
                if time < previous {
                    return Some((false, first, previous));
                }
                previous = time;
            }
            Some((true, first, previous))
        })
        .collect();
    let mut previous = i64::MIN;
    for (ordered, first, last) in spans.into_iter().flatten() {
        if !ordered || first < previous {
            return false;
        }
        previous = last;
    }
    true
}

/// The summary in one pass over rows in time order (no cut-off, no `raise` policy): the
/// observation ends at the last valid timestamp, found in the same pass.
fn summary_streaming(tx: &Transactions<'_>, options: &SummaryOptions, parts: usize) -> Result<Summary> {
    let ranges = customer_ranges(tx.n_customers, parts);
    let partials: Vec<StreamPartial> = ranges
        .into_par_iter()
        .enumerate()
        .map(|(part, customers)| stream_customers(tx, customers, part == 0, options))
        .collect::<Result<_>>()?;
    let mut accounting = Accounting {
        rows_in: tx.len(),
        ..Accounting::default()
    };
    let mut end: Option<i64> = None;
    for partial in &partials {
        accounting.add(&partial.counts);
        end = end.max(partial.max_time);
    }
    let Some(end) = end else {
        return Ok(Summary {
            accounting,
            ..Summary::default()
        });
    };
    // The partials' states in customer order (each partial holds a contiguous range of
    // customers), read in place: no table of PeriodStats in between.
    let mut ranges: Vec<(usize, &[StreamState])> = Vec::new();
    let mut start = 0;
    for partial in &partials {
        for range in partial.states.chunks(SUMMARY_RANGE) {
            ranges.push((start, range));
            start += range.len();
        }
    }
    let end_period = options.period.index(end, tx.ticks_per_day);
    let mut out = build_summary_of(
        tx,
        ranges,
        |state| state.finish(),
        end_period,
        options.include_first_transaction,
        &mut accounting,
    );
    out.observation_end = Some(end);
    out.accounting = accounting;
    Ok(out)
}

/// The states of one range of customers, what its rows dropped, and its last valid time.
struct StreamPartial {
    states: Vec<StreamState>,
    counts: Accounting,
    max_time: Option<i64>,
}

/// One customer's running summary while its rows arrive in time order.
///
/// A return belongs to the latest purchase period at or before its own (the first one if
/// it precedes them all). When it comes after the customer's last purchase period, a
/// purchase later in its own period may still arrive: it waits in `pending` until the
/// next purchase (or a return of a later period) settles where it goes.
///
/// 128 bytes, aligned (the three exact sums are 16 bytes each): each row touches one
/// state. It has no purchase-only sum: only the holdout uses that, and the holdout takes
/// the sorting path.
#[derive(Debug, Clone, Copy)]
#[repr(align(64))]
struct StreamState {
    first: i64,
    last: i64,
    first_sum: Sum,
    repeat_sum: Sum,
    pending_sum: Sum,
    pending_period: i64,
    periods: u32,
    purchase_rows: u32,
    return_rows: u32,
    has_pending: bool,
}

impl StreamState {
    const EMPTY: StreamState = StreamState {
        first: 0,
        last: 0,
        first_sum: Sum(Fixed::ZERO),
        repeat_sum: Sum(Fixed::ZERO),
        pending_sum: Sum(Fixed::ZERO),
        pending_period: 0,
        periods: 0,
        purchase_rows: 0,
        return_rows: 0,
        has_pending: false,
    };

    /// Adds `amount` to the spend of the latest purchase period (the first if none yet).
    #[inline]
    fn add_to_latest(&mut self, amount: Sum) {
        if self.periods <= 1 {
            self.first_sum.plus(amount);
        } else {
            self.repeat_sum.plus(amount);
        }
    }

    #[inline]
    fn settle_pending(&mut self) {
        if self.has_pending {
            self.add_to_latest(self.pending_sum);
            self.pending_sum = Sum::default();
            self.has_pending = false;
        }
    }

    #[inline]
    fn purchase(&mut self, period: i64, amount: f64) {
        self.purchase_rows += 1;
        let new_period = self.periods == 0 || period != self.last;
        if self.has_pending && !(new_period && period == self.pending_period) {
            // The pending returns' period has no purchase: they go to the latest one before.
            self.settle_pending();
        }
        if new_period {
            self.periods += 1;
            if self.periods == 1 {
                self.first = period;
            }
            self.last = period;
        }
        // Returns pending in this very period join it.
        self.settle_pending();
        self.add_to_latest(Sum::of(amount));
    }

    #[inline]
    fn return_row(&mut self, period: i64, amount: f64) {
        self.return_rows += 1;
        if self.periods > 0 && period == self.last {
            self.add_to_latest(Sum::of(amount));
            return;
        }
        if self.has_pending && period != self.pending_period {
            self.settle_pending();
        }
        self.has_pending = true;
        self.pending_period = period;
        self.pending_sum.add(amount);
    }

    fn finish(mut self) -> PeriodStats {
        self.settle_pending();
        PeriodStats {
            periods: self.periods as usize,
            first: self.first,
            last: self.last,
            first_sum: self.first_sum,
            repeat_sum: self.repeat_sum,
            purchase_rows: self.purchase_rows as usize,
            return_rows: self.return_rows as usize,
        }
    }
}

/// One pass over every row in time order for the customers in `customers`; rows with a
/// null customer are counted by the part with `counts_nulls`.
fn stream_customers(
    tx: &Transactions<'_>,
    customers: std::ops::Range<usize>,
    counts_nulls: bool,
    options: &SummaryOptions,
) -> Result<StreamPartial> {
    let first = customers.start;
    let width = customers.len();
    let mut states = vec![StreamState::EMPTY; width];
    let mut counts = Accounting::default();
    let mut max_time = i64::MIN;
    let mut any_valid = false;
    // Rows in time order mostly share the period of the row before: no division then.
    let mut periods = PeriodCache::new(options.period, tx.ticks_per_day);
    // The row number indexes several columns: a range loop.
    #[allow(clippy::needless_range_loop)]
    for i in 0..tx.len() {
        if let Some(&ahead) = tx.customer.get(i + PREFETCH_AHEAD) {
            // Only the states of this range: a prefetch of an address outside the
            // allocation costs a page-table walk for nothing.
            let local = (ahead as usize).wrapping_sub(first);
            if local < width {
                prefetch(&states, local);
            }
        }
        // One comparison on the common path: the ranges lie within `0..n_customers`, so a
        // code inside this one is valid; a null or a bad code falls outside every range.
        let local = (tx.customer[i] as usize).wrapping_sub(first);
        if local >= width {
            if tx.customer_index(i)?.is_none() && counts_nulls {
                counts.drop_row(DropReason::MissingCustomer);
            }
            continue;
        }
        if let Some(reason) = tx.invalid_reason(i) {
            counts.drop_row(reason);
            continue;
        }
        let time = tx.time[i];
        any_valid = true;
        max_time = max_time.max(time);
        let Some(state) = states.get_mut(local) else {
            continue;
        };
        let amount = tx.amount.map_or(0.0, |a| a[i]);
        match tx.amount_kind(i, &options.policy) {
            Kind::Purchase => state.purchase(periods.index(time), amount),
            Kind::Return => state.return_row(periods.index(time), amount),
            Kind::Dropped(reason) => counts.drop_row(reason),
        }
    }
    Ok(StreamPartial {
        states,
        counts,
        max_time: any_valid.then_some(max_time),
    })
}

/// Calibration summary up to `calibration_end` (inclusive, ticks) and, for the same
/// customers, their purchases in `(calibration_end, observation_end]`.
///
/// # Errors
/// [`RfmError::Parameter`] when the calibration end is not before the observation end,
/// and the errors of [`summary`].
pub fn calibration_holdout(
    tx: &Transactions<'_>,
    calibration_end: i64,
    options: &SummaryOptions,
) -> Result<CalibrationHoldout> {
    let out = calibration_holdout_sums(tx, calibration_end, options)?;
    let off_the_fixed_point = out
        .calibration
        .monetary_value
        .iter()
        .chain(&out.monetary_value_holdout)
        .any(|m| m.is_nan());
    if off_the_fixed_point {
        // An amount off the fixed point, or a sum past it: the state sums it exactly.
        return crate::state::oneshot::calibration_holdout(tx, calibration_end, options);
    }
    Ok(out)
}

fn calibration_holdout_sums(
    tx: &Transactions<'_>,
    calibration_end: i64,
    options: &SummaryOptions,
) -> Result<CalibrationHoldout> {
    tx.validate()?;
    let period = options.period;
    let Some(observation_end) = resolve_end(tx, options.observation_end) else {
        return Err(RfmError::parameter(
            "observation_period_end",
            "the data has no valid row, so there is no holdout period",
        ));
    };
    if calibration_end >= observation_end {
        return Err(RfmError::parameter(
            "calibration_period_end",
            "must be before observation_period_end (and before the last transaction when that is not given)",
        ));
    }
    let tpd = tx.ticks_per_day;
    let cal_period = period.index(calibration_end, tpd);
    tx.check_rows(&options.policy, |time| time <= observation_end)?;
    let mut accounting = Accounting {
        rows_in: tx.len(),
        ..Accounting::default()
    };
    // Calibration rows are those up to the calibration end. The later ones are counted as
    // `AfterObservationEnd` only provisionally: the holdout pass below decides.
    let calibration_entries = collect_entries(
        tx,
        &options.policy,
        period,
        |time| {
            if time <= calibration_end {
                Ok(())
            } else {
                Err(DropReason::AfterObservationEnd)
            }
        },
        &mut accounting,
    );
    accounting.dropped[DropReason::AfterObservationEnd as usize] = 0;
    let stats = stats_by_customer(tx.n_customers, &calibration_entries);
    drop(calibration_entries);
    let calibration = build_summary(
        tx,
        &stats,
        cal_period,
        options.include_first_transaction,
        &mut accounting,
    );

    let mut holdout_accounting = Accounting::default();
    let holdout_entries = collect_entries(
        tx,
        &options.policy,
        period,
        |time| {
            if time <= calibration_end {
                // Already accounted for in the calibration pass.
                Err(DropReason::MissingCustomer)
            } else if time <= observation_end {
                Ok(())
            } else {
                Err(DropReason::AfterObservationEnd)
            }
        },
        &mut holdout_accounting,
    );
    accounting.dropped[DropReason::AfterObservationEnd as usize] +=
        holdout_accounting.dropped[DropReason::AfterObservationEnd as usize];
    // Zero-amount and return rows dropped by policy in the holdout.
    for reason in [DropReason::ZeroAmount, DropReason::Return] {
        accounting.dropped[reason as usize] += holdout_accounting.dropped[reason as usize];
    }
    let holdout_stats = stats_by_customer(tx.n_customers, &holdout_entries);
    drop(holdout_entries);

    let mut in_calibration = vec![false; tx.n_customers];
    for &c in &calibration.customer {
        in_calibration[c as usize] = true;
    }
    let mut frequency_holdout = Vec::with_capacity(calibration.customer.len());
    let mut monetary_value_holdout = Vec::with_capacity(calibration.customer.len());
    for (c, s) in holdout_stats.iter().enumerate() {
        let rows = s.purchase_rows + s.return_rows;
        if !in_calibration[c] {
            accounting.dropped[DropReason::HoldoutWithoutCalibration as usize] += rows;
            continue;
        }
        accounting.rows_used += rows;
        frequency_holdout.push(s.periods as f64);
        monetary_value_holdout.push(if s.purchase_rows == 0 {
            0.0
        } else {
            s.first_sum.with(s.repeat_sum).value() / s.purchase_rows as f64
        });
    }
    let duration_holdout = (period.index(observation_end, tpd) - cal_period) as f64;
    let mut calibration = calibration;
    calibration.observation_end = Some(calibration_end);
    calibration.accounting = accounting;
    Ok(CalibrationHoldout {
        calibration,
        frequency_holdout,
        monetary_value_holdout,
        duration_holdout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::periods::Weekday;
    use crate::rows::ZeroPolicy;
    use crate::rows::NAT;
    use crate::state::tests::table;

    /// Time-ordered rows (NaT scattered in) with nulls, zeros, returns in and between
    /// purchase periods, returns before any purchase, several rows per period.
    fn ordered_mess(n: usize, n_customers: u64, seed: u64) -> (Vec<i64>, Vec<i64>, Vec<f64>) {
        let mut state = seed | 1;
        let mut next = move |m: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % m
        };
        let mut customer = Vec::new();
        let mut time = Vec::new();
        let mut amount = Vec::new();
        let mut now = 0i64;
        for _ in 0..n {
            now += next(3) as i64 * 7;
            customer.push(if next(25) == 0 {
                -1
            } else {
                next(n_customers) as i64
            });
            time.push(if next(30) == 0 { NAT } else { now });
            amount.push(match next(8) {
                0 => 0.0,
                1 | 2 => -(next(40) as f64) * 0.25,
                3 if next(4) == 0 => f64::NAN,
                _ => next(400) as f64 * 0.25 + 0.25,
            });
        }
        (customer, time, amount)
    }

    #[test]
    fn streaming_matches_sorting_on_ordered_rows() {
        for seed in 1..40u64 {
            let (customer, time, amount) = ordered_mess(300, 1 + seed % 23, seed * 7919);
            let tx = Transactions {
                n_customers: (1 + seed % 23) as usize,
                ticks_per_day: 10,
                ..table(&customer, &time, &amount)
            };
            assert!(is_time_ordered(&tx));
            for period in [
                Period::Hour,
                Period::Day,
                Period::Week(Weekday::Sun),
                Period::Week(Weekday::Fri),
                Period::Month,
                Period::Quarter,
                Period::Year,
            ] {
                for returns in [ReturnPolicy::Net, ReturnPolicy::Drop] {
                    for zero in [ZeroPolicy::Drop, ZeroPolicy::Keep] {
                        for include_first_transaction in [false, true] {
                            let options = SummaryOptions {
                                period,
                                include_first_transaction,
                                policy: RowPolicy {
                                    returns,
                                    zero,
                                    ..RowPolicy::default()
                                },
                                ..SummaryOptions::new(period)
                            };
                            let sorted = summary_with(&tx, &options, 1, Some(true)).unwrap();
                            for parts in [1, 2, 5, 64] {
                                let streamed = summary_with(&tx, &options, parts, Some(false)).unwrap();
                                assert_eq!(
                                    streamed, sorted,
                                    "seed {seed} {period:?} {returns:?} parts {parts}"
                                );
                            }
                            assert_eq!(summary(&tx, &options).unwrap(), sorted);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_return_waits_for_a_purchase_in_its_own_period() {
        // Day 0 buy; day 3: return, then a buy (the return nets into day 3, a repeat);
        // day 5: return without a buy that day (nets into day 3); day 9: buy.
        let customer = [0, 0, 0, 0, 0];
        let day = [0, 3, 3, 5, 9];
        let amount = [10.0, -2.0, 6.0, -1.0, 7.0];
        let options = SummaryOptions {
            policy: RowPolicy::default(),
            ..SummaryOptions::new(Period::Day)
        };
        let tx = table(&customer, &day, &amount);
        let streamed = summary_with(&tx, &options, 1, Some(false)).unwrap();
        assert_eq!(streamed, summary_with(&tx, &options, 1, Some(true)).unwrap());
        assert_eq!(streamed.monetary_value, vec![(6.0 - 2.0 - 1.0 + 7.0) / 2.0]);
        // Out of time order, the sorting path is taken.
        assert!(!is_time_ordered(&table(&[0, 0], &[2, 1], &[1.0, 1.0])));
        // Across the parallel chunks of the order check, with NaT at their edges.
        let n = 3 << 16;
        let mut time: Vec<i64> = (0..n as i64).map(|t| t / 3).collect();
        for &i in &[0, (1 << 16) - 1, 1 << 16, (2 << 16) + 5, n - 1] {
            time[i] = NAT;
        }
        let customer = vec![0i64; n];
        let amount = vec![1.0; n];
        assert!(is_time_ordered(&table(&customer, &time, &amount)));
        time[(1 << 16) + 1] = time[(1 << 16) - 2] - 1;
        assert!(!is_time_ordered(&table(&customer, &time, &amount)));
        time[(1 << 16) + 1] = time[(1 << 16) + 2];
        time[(2 << 16) + 7] = time[(2 << 16) + 6] - 1;
        assert!(!is_time_ordered(&table(&customer, &time, &amount)));
    }

    #[test]
    fn equal_to_the_state_bit_for_bit() {
        // Ordered (streaming path) and shuffled (sorting path) rows, amounts with cents,
        // and amounts off the fixed point (1e-30: the state's spill takes over).
        for seed in 1..30u64 {
            let (customer, mut time, amount) = ordered_mess(400, 1 + seed % 17, seed * 31);
            // Tenths and cents, whose float sums depend on their order.
            let mut amount: Vec<f64> = amount
                .iter()
                .enumerate()
                .map(|(i, a)| a * 0.1 + (i % 7) as f64 * 0.01)
                .collect();
            if seed % 3 == 0 {
                amount[7] = 1e-30;
            }
            if seed % 2 == 0 {
                time.reverse();
            }
            let tx = Transactions {
                n_customers: (1 + seed % 17) as usize,
                ticks_per_day: 10,
                ..table(&customer, &time, &amount)
            };
            for returns in [ReturnPolicy::Net, ReturnPolicy::Drop] {
                let options = SummaryOptions {
                    policy: RowPolicy {
                        returns,
                        ..RowPolicy::default()
                    },
                    ..SummaryOptions::new(Period::Week(Weekday::Sun))
                };
                let fast = summary(&tx, &options).unwrap();
                let state = crate::state::oneshot::summary(&tx, &options).unwrap();
                let bits = |s: &Summary| s.monetary_value.iter().map(|m| m.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&fast), bits(&state), "seed {seed}");
                assert_eq!(fast, state, "seed {seed}");
                let Some(end) = time.iter().copied().filter(|&t| t != NAT).max() else {
                    continue;
                };
                let cut = end / 2;
                if let (Ok(a), Ok(b)) = (
                    calibration_holdout(&tx, cut, &options),
                    crate::state::oneshot::calibration_holdout(&tx, cut, &options),
                ) {
                    assert_eq!(a, b, "seed {seed}");
                }
            }
        }
    }
}
