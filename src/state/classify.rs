//! The one classifier of rows: every row of a batch is invalid (by reason), outside the
//! observation, a purchase, a return, or dropped by the zero and return policies, and
//! goes into the customer's record, the BTYD log (or fold) and the distinct orders.

use rayon::prelude::*;

use super::keys::Lookup;
use super::{
    add_money, log, too_many_rows, Batch, Counts, Record, RfmView, State, SummaryView, BLOCK, MAX_DAYS,
    NO_INDEX, RECORD_SUM,
};
use crate::error::{Result, RfmError};
use crate::periods::{Period, PeriodCache};
use crate::rows::{
    kind_of_amount, prefetch_whole, ColumnNames, DropReason, InvalidPolicy, Kind, ReturnPolicy, RowPolicy,
    NAT, PREFETCH_AHEAD,
};

/// Rows whose ids are looked up before they are classified.
const SUB_BLOCK: usize = 1 << 12;

impl State {
    /// Classifies rows `rows` of `batch` into this (fresh) state, in blocks between which
    /// the log is compacted.
    pub(super) fn add_rows(&mut self, batch: &Batch<'_>, rows: std::ops::Range<usize>) -> Result<()> {
        self.customers.prepare(&batch.customer, "customer")?;
        if let (Some(orders), Some(order)) = (self.orders.as_mut(), batch.order.as_ref()) {
            orders.keys.prepare(order, "order")?;
        }
        if self.row_base + self.rows_in + rows.len() as u64 > u64::from(u32::MAX) {
            self.rows_fit = false;
        }
        if let Some(log) = self.log.as_mut() {
            // At most one entry per row: no reallocation while the rows come (the pages
            // of capacity never written are never touched).
            log.entries.reserve(rows.len());
        }
        let mut start = rows.start;
        while start < rows.end {
            let end = (start + BLOCK).min(rows.end);
            self.add_block(batch, start..end)?;
            self.rows_in += (end - start) as u64;
            if !self.folded_completely() {
                return Ok(());
            }
            if let Some(log) = self.log.as_mut() {
                let spilled = log.maybe_compact(self.customers.len())?;
                self.spill.extend(spilled);
            }
            start = end;
        }
        Ok(())
    }

    fn add_block(&mut self, batch: &Batch<'_>, rows: std::ops::Range<usize>) -> Result<()> {
        let options = self.options.clone();
        let policy = options.policy;
        let tpd = options.ticks_per_day;
        let rfm_bounds = options.rfm.map(|view| RfmBounds::new(view, tpd));
        let summary = options.summary.map(|view| SummaryBounds::new(view, tpd));
        // Rows in time order mostly share the period of the row before: no division then.
        let mut periods = options
            .summary
            .map_or(PeriodCache::new(Period::Day, tpd), |view| {
                PeriodCache::new(view.period, tpd)
            });
        let end = rows.end;
        let first = rows.start;
        let block_base = self.row_base + self.rows_in;
        let tick_limit = (MAX_DAYS as u64).saturating_mul(tpd as u64);
        let mut lookup = Lookup::new(&mut self.customers, batch.customer, first);
        let mut order_lookup = match (self.orders.as_mut(), batch.order) {
            (Some(orders), Some(order)) => {
                Some((Lookup::new(&mut orders.keys, order, first), &mut orders.pairs))
            }
            _ => None,
        };
        let mut max_time = self.max_time.unwrap_or(NAT);
        let records = &mut self.records;
        let mut log = self.log.as_mut();
        let mut fold = self.fold.as_mut();
        let spill = &mut self.spill;
        let counts = &mut self.counts;
        // Ids are looked up a sub-block at a time (in row order, so indexes follow first
        // appearance), then the rows are classified with each state prefetched a few rows
        // ahead from the looked-up indexes.
        let mut indexes = vec![NO_INDEX; SUB_BLOCK.min(end - first)];
        let mut order_indexes = vec![NO_INDEX; if order_lookup.is_some() { indexes.len() } else { 0 }];
        let mut sub = first;
        while sub < end {
            let sub_end = (sub + SUB_BLOCK).min(end);
            for (slot, i) in indexes.iter_mut().zip(sub..sub_end) {
                *slot = lookup.index(i, end).unwrap_or(NO_INDEX);
            }
            if let Some(first_rows) = self.first_rows.as_mut() {
                // Indexes are given in order of first appearance: a new one is the next.
                for (&index, i) in indexes.iter().zip(sub..sub_end) {
                    if index as usize == first_rows.len() {
                        first_rows.push(block_base + (i - first) as u64);
                    }
                }
            }
            // Order ids of every row, in row order (the text lookup hashes rows ahead and
            // needs each one looked up in turn), before any row is classified.
            if let Some((order_lookup, _)) = order_lookup.as_mut() {
                for (slot, i) in order_indexes.iter_mut().zip(sub..sub_end) {
                    *slot = order_lookup.index(i, end).unwrap_or(NO_INDEX);
                }
            }
            if rfm_bounds.is_some() && records.len() < lookup.len() {
                records.resize(lookup.len(), Record::EMPTY);
            }
            if let Some(log) = log.as_mut() {
                log.reserve_customers(lookup.len());
            }
            if let Some(fold) = fold.as_mut() {
                fold.reserve_customers(lookup.len());
            }
            for i in sub..sub_end {
                let k = i - sub;
                if let Some(&ahead) = indexes.get(k + PREFETCH_AHEAD) {
                    if ahead != NO_INDEX && k + PREFETCH_AHEAD < sub_end - sub {
                        if !records.is_empty() {
                            prefetch_whole(records, ahead as usize);
                        }
                        if let Some(log) = log.as_ref() {
                            log.prefetch(ahead);
                        }
                        if let Some(fold) = fold.as_ref() {
                            fold.prefetch(ahead);
                        }
                    }
                }
                let row_number = block_base + (i - first) as u64;
                // A row invalid for `reason`: counted (or an error under invalid="raise").
                macro_rules! drop_invalid {
                    ($reason:expr) => {{
                        invalid(
                            counts,
                            &policy,
                            $reason,
                            batch,
                            i,
                            row_number,
                            &options.names,
                        )?;
                        continue;
                    }};
                }
                let customer = indexes[k];
                if customer == NO_INDEX {
                    drop_invalid!(DropReason::MissingCustomer);
                }
                let row = u32::try_from(row_number).unwrap_or(u32::MAX);
                let time = batch.time[i];
                if time == NAT {
                    drop_invalid!(DropReason::MissingDate);
                }
                if time.unsigned_abs() > tick_limit {
                    return Err(far_date_error(time, row_number, &options.names));
                }
                let amount = batch.amount.map_or(0.0, |a| a[i]);
                if !amount.is_finite() {
                    drop_invalid!(DropReason::InvalidAmount);
                }
                let order = if order_lookup.is_some() {
                    match order_indexes[k] {
                        NO_INDEX => {
                            drop_invalid!(DropReason::MissingOrder);
                        }
                        order => Some(order),
                    }
                } else {
                    None
                };
                max_time = max_time.max(time);
                let kind = if batch.amount.is_some() {
                    kind_of_amount(amount, &policy)
                } else {
                    Kind::Purchase
                };
                if let Some(bounds) = rfm_bounds {
                    if let Some(reason) = bounds.excludes(time) {
                        counts.rfm[reason as usize] += 1;
                    } else {
                        if kind == Kind::Dropped(DropReason::Return) && policy.returns == ReturnPolicy::Raise
                        {
                            return Err(return_error(batch, i, row_number, &options.names));
                        }
                        let record = &mut records[customer as usize];
                        match kind {
                            Kind::Purchase => {
                                if !record.purchase(time, row) {
                                    return Err(too_many_rows());
                                }
                                add_money(&mut record.sum, amount, spill, customer, RECORD_SUM);
                                if let (Some((_, pairs)), Some(order)) = (order_lookup.as_mut(), order) {
                                    pairs.insert((customer, order));
                                }
                            }
                            Kind::Return => {
                                record.returns = record.returns.checked_add(1).ok_or_else(too_many_rows)?;
                                add_money(&mut record.sum, amount, spill, customer, RECORD_SUM);
                            }
                            Kind::Dropped(reason) => counts.rfm[reason as usize] += 1,
                        }
                    }
                }
                if let Some(bounds) = summary {
                    match bounds.classify(time, &mut periods) {
                        Err(reason) => counts.summary[reason as usize] += 1,
                        Ok((phase, period)) => {
                            if kind == Kind::Dropped(DropReason::Return)
                                && policy.returns == ReturnPolicy::Raise
                            {
                                return Err(return_error(batch, i, row_number, &options.names));
                            }
                            match kind {
                                Kind::Purchase | Kind::Return => {
                                    let key = log::key(period, phase, kind == Kind::Return);
                                    if let Some(fold) = fold.as_mut() {
                                        if !fold.add(customer, key, amount) {
                                            // Given up: the rows go to a plain state instead.
                                            return Ok(());
                                        }
                                    } else if let Some(log) = log.as_mut() {
                                        if !log.add(customer, key, amount, spill) {
                                            return Err(too_many_rows());
                                        }
                                    }
                                }
                                Kind::Dropped(reason) => counts.summary[reason as usize] += 1,
                            }
                        }
                    }
                }
            }
            sub = sub_end;
        }
        self.max_time = (max_time != NAT).then_some(max_time);
        Ok(())
    }
}

/// The first invalid row of `batch` and why (the customer, then the date, the amount, the order).
pub(super) fn first_invalid(batch: &Batch<'_>) -> Option<(usize, DropReason)> {
    let i = (0..batch.len())
        .into_par_iter()
        .with_min_len(1 << 16)
        .position_first(|i| batch.invalid_reason(i).is_some())?;
    batch.invalid_reason(i).map(|r| (i, r))
}

/// Counts an invalid row, or fails on it under `invalid="raise"`.
fn invalid(
    counts: &mut Counts,
    policy: &RowPolicy,
    reason: DropReason,
    batch: &Batch<'_>,
    i: usize,
    row: u64,
    names: &ColumnNames,
) -> Result<()> {
    if policy.invalid == InvalidPolicy::Raise {
        return Err(invalid_row_error(reason, batch, i, row, names));
    }
    counts.invalid[reason as usize] += 1;
    Ok(())
}

pub(super) fn invalid_row_error(
    reason: DropReason,
    batch: &Batch<'_>,
    i: usize,
    row: u64,
    names: &ColumnNames,
) -> RfmError {
    let row = usize::try_from(row).unwrap_or(usize::MAX);
    crate::rows::invalid_row_error(reason, row, batch.amount.map(|amount| amount[i]), names)
}

fn far_date_error(time: i64, row: u64, names: &ColumnNames) -> RfmError {
    RfmError::parameter(
        "date",
        format!(
            "row {row}: the date column {:?} holds {time} ticks, more than {MAX_DAYS} days from \
             1970-01-01; such a value is no date (check the column's unit)",
            names.date
        ),
    )
}

fn return_error(batch: &Batch<'_>, i: usize, row: u64, names: &ColumnNames) -> RfmError {
    RfmError::ReturnRow {
        row: usize::try_from(row).unwrap_or(usize::MAX),
        name: names.amount.clone(),
        value: batch.amount.map_or(f64::NAN, |amount| amount[i]),
    }
}

/// The RFM observation as tick bounds: `day(t) >= as_of` iff `t >= as_of * ticks_per_day`
/// (floor division), so rows are classified without a division each.
#[derive(Debug, Clone, Copy)]
struct RfmBounds {
    end_tick: Option<i64>,
    start_tick: Option<i64>,
}

impl RfmBounds {
    /// Day bounds as ticks; a bound beyond the tick range is no bound (after the last
    /// tick) or excludes everything (before the first).
    fn new(view: RfmView, ticks_per_day: i64) -> Self {
        let tick = |day: i64| day.checked_mul(ticks_per_day);
        let end_tick = view.as_of_day.and_then(|day| match tick(day) {
            Some(t) => Some(t),
            None if day < 0 => Some(i64::MIN),
            None => None,
        });
        let start_tick = match (view.as_of_day, view.window_days) {
            (Some(as_of), Some(window)) => {
                let day = as_of - window;
                match tick(day) {
                    Some(t) => Some(t),
                    None if day > 0 => Some(i64::MAX),
                    None => None,
                }
            }
            _ => None,
        };
        RfmBounds { end_tick, start_tick }
    }

    #[inline]
    fn excludes(&self, tick: i64) -> Option<DropReason> {
        if self.end_tick.is_some_and(|end| tick >= end) {
            Some(DropReason::AfterAsOf)
        } else if self.start_tick.is_some_and(|start| tick < start) {
            Some(DropReason::BeforeWindow)
        } else {
            None
        }
    }
}

/// The BTYD cut-offs: a row's phase (0 calibration, 1 holdout) and period, or why it is out.
#[derive(Debug, Clone, Copy)]
struct SummaryBounds {
    /// Without calibration: the last period kept.
    end_period: Option<i64>,
    /// With calibration: the last tick kept, and the calibration's last tick.
    end_tick: Option<i64>,
    calibration_end: Option<i64>,
}

impl SummaryBounds {
    fn new(view: SummaryView, ticks_per_day: i64) -> Self {
        let with_calibration = view.calibration_end.is_some();
        SummaryBounds {
            end_period: if with_calibration {
                None
            } else {
                view.observation_end.map(|t| view.period.index(t, ticks_per_day))
            },
            end_tick: if with_calibration {
                view.observation_end
            } else {
                None
            },
            calibration_end: view.calibration_end,
        }
    }

    #[inline]
    fn classify(&self, time: i64, periods: &mut PeriodCache) -> std::result::Result<(bool, i64), DropReason> {
        let period = periods.index(time);
        if self.end_period.is_some_and(|end| period > end) || self.end_tick.is_some_and(|end| time > end) {
            return Err(DropReason::AfterObservationEnd);
        }
        let holdout = self.calibration_end.is_some_and(|end| time > end);
        Ok((holdout, period))
    }
}
