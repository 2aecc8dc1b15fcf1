//! The one aggregation engine: a per-customer state that batches of rows update, that
//! two states merge into exactly, and that the RFM table, the BTYD summary and the
//! calibration/holdout split are finished from (DESIGN.md, "Definitions").
//!
//! - Every row goes through one classifier ([`State::update`], `classify.rs`): invalid by reason, then
//!   outside the observation, then purchase, return or dropped by the zero/return policy.
//! - Per customer, a [`Record`] holds what the RFM table needs: first and last purchase
//!   time (and row), purchase and return rows, and the money sum. Money is summed exactly
//!   ([`crate::money`]), so no result depends on row order, batching, thread count or
//!   how states were merged.
//! - For the BTYD views, a log holds one entry per customer, period, phase (calibration or
//!   holdout) and kind (purchase or return): what distinct purchase periods and the
//!   netting of returns into the right period need. It is compacted (grouped by customer,
//!   sorted, merged) as it grows, so its size follows the distinct customer-periods, not
//!   the rows.
//! - Distinct orders per customer are a set of (customer, order) pairs.
//!
//! Merging two states adds their counts, takes the extremes, adds the exact sums and
//! unites the logs and sets: the merge of the states of two disjoint row sets is the
//! state of their union.

mod classify;
mod finish;
mod fold;
pub mod keys;
mod log;
pub mod oneshot;
mod parts;
mod split;

use hashbrown::HashSet;
use rayon::prelude::*;

use finish::Stats;
pub use finish::{CalibrationHoldout, RfmTable, Summary};
pub use keys::{Ids, Keys, Offsets};
pub use parts::{KeyParts, Parts};
pub use split::buckets_of;

use crate::error::{Result, RfmError};
use crate::money::Fixed;
use crate::periods::Period;
use crate::rows::{
    prefetch_whole, row_chunks, ColumnNames, DropReason, InvalidPolicy, RowPolicy, NAT, PREFETCH_AHEAD,
};
use classify::{first_invalid, invalid_row_error};
use fold::Fold;
use log::Log;

/// Days from 1970-01-01 a timestamp, `as_of` or window may lie within (2^40 days, some
/// three billion years): day and period arithmetic then never overflows.
pub const MAX_DAYS: i64 = 1 << 40;

/// Which RFM observation the rows are classified against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RfmView {
    /// Observation date (exclusive) as a day number; `None`: the day after the last valid
    /// row, known at the end (then no row is after it).
    pub as_of_day: Option<i64>,
    /// Only rows on days in `[as_of - window, as_of)` count; needs `as_of_day`.
    pub window_days: Option<i64>,
}

/// The BTYD periods and cut-offs the rows are classified against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryView {
    pub period: Period,
    /// Without a calibration end: rows in periods after the period of this tick are
    /// excluded. With one: rows after this tick are excluded from the holdout.
    /// `None`: the last valid row (nothing is excluded).
    pub observation_end: Option<i64>,
    /// Rows up to this tick (inclusive) are the calibration, later ones the holdout.
    pub calibration_end: Option<i64>,
}

/// What a [`State`] classifies rows for and keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateOptions {
    pub policy: RowPolicy,
    /// Ticks in one day: 86_400 for seconds, ..., 86_400e9 for nanoseconds, 1 for days.
    pub ticks_per_day: i64,
    /// Keep the per-customer records of the RFM table.
    pub rfm: Option<RfmView>,
    /// Keep the period log of the BTYD summary (and the calibration/holdout split).
    pub summary: Option<SummaryView>,
    /// Count distinct orders (the batches then carry an order column).
    pub orders: bool,
    /// Column names, for error messages.
    pub names: ColumnNames,
}

impl StateOptions {
    fn check(&self) -> Result<()> {
        if self.ticks_per_day <= 0 {
            return Err(RfmError::parameter(
                "ticks_per_day",
                format!("must be positive, got {}", self.ticks_per_day),
            ));
        }
        if let Some(view) = self.rfm {
            let far = |day: i64| day.unsigned_abs() > MAX_DAYS as u64;
            if view.as_of_day.is_some_and(far) || view.window_days.is_some_and(far) {
                return Err(RfmError::parameter(
                    "as_of",
                    format!("as_of and window must lie within {MAX_DAYS} days of 1970-01-01"),
                ));
            }
            if let Some(window) = view.window_days {
                if window <= 0 {
                    return Err(RfmError::parameter(
                        "window",
                        format!("must be a positive number of days, got {window}"),
                    ));
                }
                let Some(as_of) = view.as_of_day else {
                    return Err(RfmError::parameter(
                        "window",
                        "a window needs as_of when rows are aggregated batch by batch: give as_of, \
                         or read the data once first to find its last date",
                    ));
                };
                as_of.checked_sub(window).ok_or_else(|| {
                    RfmError::parameter("window", format!("{window} days before as_of is out of range"))
                })?;
            }
        }
        if let Some(view) = self.summary {
            if let (Some(calibration), Some(end)) = (view.calibration_end, view.observation_end) {
                if calibration >= end {
                    return Err(calibration_after_end());
                }
            }
        }
        Ok(())
    }
}

pub(crate) fn calibration_after_end() -> RfmError {
    RfmError::parameter(
        "calibration_period_end",
        "must be before observation_period_end (and before the last transaction when that is not given)",
    )
}

/// One batch of rows: ids as they are, timestamps in ticks (wall clock, [`NAT`] for null),
/// amounts (`None`: every valid row is a purchase of amount 0, for the BTYD frequency).
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    pub customer: Ids<'a>,
    pub time: &'a [i64],
    pub amount: Option<&'a [f64]>,
    pub order: Option<Ids<'a>>,
}

impl Batch<'_> {
    pub fn len(&self) -> usize {
        self.customer.len()
    }

    pub fn is_empty(&self) -> bool {
        self.customer.is_empty()
    }

    /// Why row `i` is invalid (the customer, then the date, the amount, the order), if it
    /// is; a row past a column's end reads as invalid.
    #[inline]
    fn invalid_reason(&self, i: usize) -> Option<DropReason> {
        if !self.customer.is_valid(i) {
            Some(DropReason::MissingCustomer)
        } else if self.time.get(i).is_none_or(|&t| t == NAT) {
            Some(DropReason::MissingDate)
        } else if self
            .amount
            .is_some_and(|a| a.get(i).is_none_or(|v| !v.is_finite()))
        {
            Some(DropReason::InvalidAmount)
        } else if self.order.as_ref().is_some_and(|o| !o.is_valid(i)) {
            Some(DropReason::MissingOrder)
        } else {
            None
        }
    }

    /// The last timestamp of a valid row whatever its amount (the default `as_of` is the
    /// day after it), without classifying the rows into a state.
    pub fn max_valid_time(&self) -> Option<i64> {
        crate::rows::max_valid_time(self.len(), self.time, |i| self.invalid_reason(i).is_none())
    }

    fn check(&self, options: &StateOptions) -> Result<()> {
        let n = self.len();
        let check_len = |what: &'static str, got: usize| crate::rows::same_length(what, got, n);
        self.customer.check("customer")?;
        check_len("date", self.time.len())?;
        if let Some(amount) = self.amount {
            check_len("amount", amount.len())?;
        } else if options.rfm.is_some() {
            return Err(RfmError::parameter(
                "amount",
                "the RFM table needs an amount column",
            ));
        }
        match (&self.order, options.orders) {
            (Some(order), true) => {
                order.check("order")?;
                check_len("order", order.len())?;
            }
            (None, true) => {
                return Err(RfmError::parameter(
                    "order",
                    "this state counts distinct orders: every batch needs the order column",
                ))
            }
            (Some(_), false) => {
                return Err(RfmError::parameter(
                    "order",
                    "this state was made without orders: it cannot take an order column",
                ))
            }
            (None, false) => {}
        }
        Ok(())
    }
}

/// One customer's RFM running state: 48 bytes, one row touches one (or two) cache lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) first_time: i64,
    pub(crate) last_time: i64,
    /// Purchases and, under `returns="net"`, returns; amounts that do not fit go to the spill.
    pub(crate) sum: Fixed,
    pub(crate) first_row: u32,
    pub(crate) last_row: u32,
    pub(crate) purchases: u32,
    pub(crate) returns: u32,
}

impl Record {
    pub(crate) const EMPTY: Record = Record {
        first_time: i64::MAX,
        last_time: i64::MIN,
        sum: Fixed::ZERO,
        first_row: u32::MAX,
        last_row: u32::MAX,
        purchases: 0,
        returns: 0,
    };

    /// `false` when the customer's purchase count would pass `u32::MAX`.
    #[inline]
    #[must_use]
    fn purchase(&mut self, time: i64, row: u32) -> bool {
        if time < self.first_time || (time == self.first_time && row < self.first_row) {
            self.first_time = time;
            self.first_row = row;
        }
        if time > self.last_time || (time == self.last_time && row < self.last_row) {
            self.last_time = time;
            self.last_row = row;
        }
        match self.purchases.checked_add(1) {
            Some(count) => {
                self.purchases = count;
                true
            }
            None => false,
        }
    }

    /// Folds `other` in: the earlier first and the later last purchase (the lower row
    /// among equal times), counts added. The sums are added by the caller.
    /// `false` when a count would pass `u32::MAX`.
    #[must_use]
    fn merge_times(&mut self, other: &Record) -> bool {
        if other.purchases > 0 {
            if self.purchases == 0 {
                (self.first_time, self.first_row, self.last_time, self.last_row) =
                    (other.first_time, other.first_row, other.last_time, other.last_row);
            } else {
                if (other.first_time, other.first_row) < (self.first_time, self.first_row) {
                    (self.first_time, self.first_row) = (other.first_time, other.first_row);
                }
                if other.last_time > self.last_time
                    || (other.last_time == self.last_time && other.last_row < self.last_row)
                {
                    (self.last_time, self.last_row) = (other.last_time, other.last_row);
                }
            }
        }
        match (
            self.purchases.checked_add(other.purchases),
            self.returns.checked_add(other.returns),
        ) {
            (Some(purchases), Some(returns)) => {
                (self.purchases, self.returns) = (purchases, returns);
                true
            }
            _ => false,
        }
    }
}

/// An amount that did not fit its exact sum: it is added at the end with an exact
/// summation. `key` is [`RECORD_SUM`] for a record's sum, else the log entry's key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Spill {
    pub(crate) customer: u32,
    pub(crate) key: i64,
    pub(crate) value: f64,
}

/// The `Spill::key` of a record's sum (no log key is this small).
pub(crate) const RECORD_SUM: i64 = i64::MIN;

/// Distinct orders per customer.
#[derive(Debug, Clone, Default)]
pub(crate) struct Orders {
    pub(crate) keys: Keys,
    pub(crate) pairs: HashSet<(u32, u32)>,
}

/// Rows dropped, by reason: the invalid ones (shared by every view) and those each
/// view drops on its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) invalid: [u64; DropReason::COUNT],
    pub(crate) rfm: [u64; DropReason::COUNT],
    pub(crate) summary: [u64; DropReason::COUNT],
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        for (mine, theirs) in [
            (&mut self.invalid, &other.invalid),
            (&mut self.rfm, &other.rfm),
            (&mut self.summary, &other.summary),
        ] {
            for (a, b) in mine.iter_mut().zip(theirs) {
                *a += b;
            }
        }
    }
}

/// The mergeable per-customer state (see the module documentation).
#[derive(Debug, Clone)]
pub struct State {
    pub(crate) options: StateOptions,
    pub(crate) customers: Keys,
    /// One per customer when the RFM view is kept (else empty).
    pub(crate) records: Vec<Record>,
    pub(crate) log: Option<Log>,
    /// Instead of the log, in a one-shot state: the periods folded as the rows come.
    pub(crate) fold: Option<Fold>,
    /// When asked for ([`State::record_first_rows`]): per customer, the row where its id
    /// first appears (so a caller can take the id from its own column).
    pub(crate) first_rows: Option<Vec<u64>>,
    pub(crate) orders: Option<Orders>,
    pub(crate) spill: Vec<Spill>,
    pub(crate) counts: Counts,
    pub(crate) rows_in: u64,
    /// Row number of this state's first row; rows are numbered on from it.
    pub(crate) row_base: u64,
    /// Whether every row number fits a `u32` (else first/last rows are not given).
    pub(crate) rows_fit: bool,
    /// Last valid timestamp (ticks), over every valid row whatever its amount.
    pub(crate) max_time: Option<i64>,
}

/// A null id in the looked-up indexes.
const NO_INDEX: u32 = u32::MAX;

/// Rows classified between two compactions of the log at most (bounds its growth).
const BLOCK: usize = 1 << 20;

impl State {
    /// An empty state.
    ///
    /// # Errors
    /// [`RfmError::Parameter`] for a window that is not positive or without `as_of`, a
    /// calibration end not before the observation end, or a bad `ticks_per_day`.
    pub fn new(options: StateOptions) -> Result<State> {
        options.check()?;
        Ok(State::empty(options))
    }

    /// A state of checked `options` with nothing in it.
    fn empty(options: StateOptions) -> State {
        State {
            log: options.summary.map(|_| Log::default()),
            fold: None,
            first_rows: None,
            orders: options.orders.then(Orders::default),
            options,
            customers: Keys::Empty,
            records: Vec::new(),
            spill: Vec::new(),
            counts: Counts::default(),
            rows_in: 0,
            row_base: 0,
            rows_fit: true,
            max_time: None,
        }
    }

    /// A state of `options` that folds its BTYD periods as the rows come instead of
    /// logging them ([`fold`]): fast, but only for rows that are all updated at once and
    /// never merged with other rows; [`State::folded_completely`] says whether it worked.
    pub(crate) fn folding(options: StateOptions) -> Result<State> {
        let mut state = State::new(options)?;
        state.start_fold();
        Ok(state)
    }

    /// Records, from now on, the row where each customer's id first appears; call it on
    /// an empty state.
    pub(crate) fn record_first_rows(&mut self) {
        if self.customers.is_empty() {
            self.first_rows = Some(Vec::new());
        }
    }

    /// Per customer, the row where its id first appears, when recorded.
    pub(crate) fn first_rows(&self) -> Option<&[u64]> {
        self.first_rows.as_deref()
    }

    fn start_fold(&mut self) {
        if self.log.take().is_some() {
            self.fold = Some(Fold::default());
        }
    }

    /// Whether a folding state took every row (else aggregate them again with a plain one).
    pub(crate) fn folded_completely(&self) -> bool {
        self.fold.as_ref().is_none_or(|fold| !fold.gave_up)
    }

    pub fn options(&self) -> &StateOptions {
        &self.options
    }

    /// The customer ids seen (also those of rows that were then dropped).
    pub fn customers(&self) -> &Keys {
        &self.customers
    }

    /// Rows classified so far.
    pub fn rows_in(&self) -> u64 {
        self.rows_in
    }

    /// The last valid timestamp seen (ticks).
    pub fn max_time(&self) -> Option<i64> {
        self.max_time
    }

    /// Notes that rows elsewhere (in states not merged here) had valid timestamps up to
    /// `time`: the default ends of the finishes (the day after it for the RFM table, it
    /// for the BTYD views) are then those of all the rows. Nothing else changes.
    pub fn note_max_time(&mut self, time: i64) {
        self.max_time = self.max_time.max(Some(time));
    }

    /// Classifies and adds the rows of `batch`, in parallel on big batches (contiguous
    /// chunks, each into a state of its own, merged in row order).
    ///
    /// # Errors
    /// Length, offset and kind errors of the batch; [`RfmError::InvalidRow`] /
    /// [`RfmError::ReturnRow`] under the `raise` policies, naming the first offending row
    /// (counted from the first row of the first batch). After an error the state holds
    /// part of the batch: do not use it further.
    pub fn update(&mut self, batch: &Batch<'_>) -> Result<()> {
        batch.check(&self.options)?;
        if batch.is_empty() {
            // Nothing to add, and no id kind to fix from it.
            return Ok(());
        }
        self.row_base
            .checked_add(self.rows_in)
            .and_then(|rows| rows.checked_add(batch.len() as u64))
            .ok_or_else(|| RfmError::parameter("data", "more rows than a 64-bit count holds"))?;
        if self.options.policy.invalid == InvalidPolicy::Raise {
            // Invalid rows are reported before any return row, wherever they are in the batch.
            if let Some((i, reason)) = first_invalid(batch) {
                let row = self.row_base + self.rows_in + i as u64;
                return Err(invalid_row_error(reason, batch, i, row, &self.options.names));
            }
        }
        let n = batch.len();
        // Text ids in one pass: each parallel chunk would build a hash table of (nearly)
        // every id and the merge would hash them all again; on 10M rows and 1M ids that is
        // +145 MB of peak memory for 15% less time. Integer tables merge cheaply, but only
        // a state still empty (a whole table in one batch) is filled in parallel: batches
        // into a state that holds customers go in place (streaming 10M rows in 1M-row
        // batches: peak 502 MB -> 307 MB, the chunk states and their merges gone).
        let text = matches!(batch.customer, Ids::Utf8 { .. });
        if text || !self.customers.is_empty() || row_chunks(n).len() == 1 {
            // Straight into this state: on an error it keeps the rows before the offending one.
            return self.add_rows(batch, 0..n);
        }
        let base = self.row_base + self.rows_in;
        let states: Vec<Result<State>> = row_chunks(n)
            .into_par_iter()
            .map(|rows| {
                let mut part = State::empty(self.options.clone());
                if self.fold.is_some() {
                    part.start_fold();
                }
                if self.first_rows.is_some() {
                    part.record_first_rows();
                }
                part.row_base = base + rows.start as u64;
                part.add_rows(batch, rows)?;
                Ok(part)
            })
            .collect();
        let mut parts_in_order = Vec::with_capacity(states.len());
        for state in states {
            // The first error in row order.
            parts_in_order.push(state?);
        }
        let mut parts_in_order = parts_in_order.into_iter();
        let Some(mut merged) = parts_in_order.next() else {
            return Ok(());
        };
        for part in parts_in_order {
            merged.merge_owned(part)?;
        }
        self.merge_owned(merged)
    }

    /// Folds `other` into this state: the state of the union of both row sets.
    ///
    /// # Errors
    /// [`RfmError::Parameter`] when the states were made with other options or hold ids
    /// of different kinds (checked before any change: the state is then as it was), or
    /// when a customer's counts would pass `u32::MAX` (the state is then partly merged:
    /// do not use it further).
    pub fn merge(&mut self, other: &State) -> Result<()> {
        self.merge_owned(other.clone())
    }

    fn merge_owned(&mut self, mut other: State) -> Result<()> {
        if other.options != self.options {
            return Err(RfmError::parameter(
                "other",
                "the states were made with different options (columns, policies, as_of, window, \
                 period or cut-offs) and cannot be merged",
            ));
        }
        if self.rows_in == 0 && self.customers.is_empty() {
            // Nothing here yet: take the other state as it is (keeps its key tables), with
            // the later last time (a split state may hold a last time and no row).
            let max_time = self.max_time.max(other.max_time);
            *self = other;
            self.max_time = max_time;
            return Ok(());
        }
        // Every check before any change: a refused merge leaves this state as it was.
        let orders_fit = match (self.orders.as_ref(), other.orders.as_ref()) {
            (Some(mine), Some(theirs)) => mine.keys.compatible(&theirs.keys),
            _ => true,
        };
        if !self.customers.compatible(&other.customers) || !orders_fit {
            return Err(RfmError::parameter(
                "other",
                "the states hold ids of different kinds (text and integers) and cannot be merged",
            ));
        }
        self.row_base
            .min(other.row_base)
            .checked_add(self.rows_in)
            .and_then(|rows| rows.checked_add(other.rows_in))
            .ok_or_else(|| RfmError::parameter("data", "more rows than a 64-bit count holds"))?;
        let remap = self.customers.absorb(&other.customers, "customer")?;
        let n = self.customers.len();
        if let Some(mine) = self.first_rows.as_mut() {
            // The earlier row wins, whatever the merge order.
            mine.resize(n, u64::MAX);
            if let Some(theirs) = other.first_rows.as_ref() {
                for (&target, &row) in remap.iter().zip(theirs) {
                    if let Some(slot) = mine.get_mut(target as usize) {
                        *slot = (*slot).min(row);
                    }
                }
            }
        }
        if self.options.rfm.is_some() {
            self.records.resize(n, Record::EMPTY);
            for (k, record) in other.records.iter().enumerate() {
                if let Some(&ahead) = remap.get(k + PREFETCH_AHEAD) {
                    if (ahead as usize) < self.records.len() {
                        prefetch_whole(&self.records, ahead as usize);
                    }
                }
                let Some(&target) = remap.get(k) else { continue };
                let Some(mine) = self.records.get_mut(target as usize) else {
                    continue;
                };
                if !mine.merge_times(record) {
                    return Err(too_many_rows());
                }
                match mine.sum.checked_add(record.sum) {
                    Some(sum) => mine.sum = sum,
                    None => {
                        // Both parts stay exact: the other's sum goes to the spill as exact pieces.
                        for piece in record.sum.exact_parts() {
                            self.spill.push(Spill {
                                customer: target,
                                key: RECORD_SUM,
                                value: piece,
                            });
                        }
                    }
                }
            }
        }
        for spill in &other.spill {
            if let Some(&target) = remap.get(spill.customer as usize) {
                self.spill.push(Spill {
                    customer: target,
                    ..*spill
                });
            }
        }
        if let (Some(mine), Some(theirs)) = (self.log.as_mut(), other.log.take()) {
            mine.absorb(theirs, &remap, n, &mut self.spill)?;
        }
        match (self.fold.as_mut(), other.fold.as_ref()) {
            (Some(mine), Some(theirs)) => mine.absorb(theirs, &remap, n),
            (None, None) => {}
            _ => {
                return Err(RfmError::Internal(
                    "a folded state merged with a logged one".into(),
                ))
            }
        }
        if let (Some(mine), Some(theirs)) = (self.orders.as_mut(), other.orders.as_ref()) {
            let order_remap = mine.keys.absorb(&theirs.keys, "order")?;
            mine.pairs.reserve(theirs.pairs.len());
            for &(customer, order) in &theirs.pairs {
                if let (Some(&c), Some(&o)) = (remap.get(customer as usize), order_remap.get(order as usize))
                {
                    mine.pairs.insert((c, o));
                }
            }
        }
        self.counts.add(&other.counts);
        self.rows_in += other.rows_in;
        self.rows_fit &= other.rows_fit;
        self.row_base = self.row_base.min(other.row_base);
        self.max_time = self.max_time.max(other.max_time);
        if let Some(log) = self.log.as_mut() {
            let spilled = log.maybe_compact(n)?;
            self.spill.extend(spilled);
        }
        Ok(())
    }
}

/// A customer with more rows than the per-customer counters hold.
pub(crate) fn too_many_rows() -> RfmError {
    RfmError::parameter(
        "data",
        format!(
            "a customer has more than {} rows (purchases or returns) in one state; rfmkit counts up \
             to that many per customer: split such an id (e.g. a guest account) out of the data",
            u32::MAX
        ),
    )
}

/// Adds `amount` to the exact sum `sum`, or to the spill when it does not fit.
#[inline]
pub(crate) fn add_money(sum: &mut Fixed, amount: f64, spill: &mut Vec<Spill>, customer: u32, key: i64) {
    match Fixed::of(amount).and_then(|fixed| sum.checked_add(fixed)) {
        Some(total) => *sum = total,
        None => spill.push(Spill {
            customer,
            key,
            value: amount,
        }),
    }
}

#[cfg(test)]
pub(crate) mod tests;

#[cfg(test)]
mod review_tests;
