//! The views finished from a [`State`]: the RFM table, the BTYD summary and the
//! calibration/holdout split.

use hashbrown::HashMap;
use rayon::prelude::*;

use super::fold::Run;
use super::log::{is_holdout, is_return, period_of, Entry};
use super::{calibration_after_end, State, RECORD_SUM};
use crate::error::{Result, RfmError};
use crate::money::{exact_sum, Fixed};
use crate::rows::{customer_ranges, parallel_parts, prefetch_whole, Accounting, DropReason, PREFETCH_AHEAD};

/// One row per customer with at least one purchase, in order of first appearance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RfmTable {
    /// The customer's index in the state (its code for [`crate::rfm`]).
    pub customer: Vec<i64>,
    /// Whole days from the day of the last purchase to `as_of`.
    pub recency: Vec<i64>,
    /// Number of purchases (distinct orders when orders are given).
    pub frequency: Vec<i64>,
    /// Sum of purchases, plus returns under `returns="net"`, exactly rounded.
    pub monetary: Vec<f64>,
    pub avg_order_value: Vec<f64>,
    /// Row of the first purchase (earliest timestamp, then lowest row); empty when not asked
    /// for or when row numbers exceed `u32`.
    pub first_row: Vec<i64>,
    /// Row of the last purchase (latest timestamp, then lowest row).
    pub last_row: Vec<i64>,
    /// Timestamps (ticks) of the first and last purchase.
    pub first_time: Vec<i64>,
    pub last_time: Vec<i64>,
    /// Whole days from the day of the first purchase to `as_of`.
    pub tenure: Vec<i64>,
    /// The observation date used; `None` when no row is valid.
    pub as_of_day: Option<i64>,
    pub accounting: Accounting,
}

/// One row per customer with a purchase, in order of first appearance. Durations are in
/// whole periods.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub customer: Vec<i64>,
    /// Number of purchase periods after the first (all of them with `include_first_transaction`).
    pub frequency: Vec<f64>,
    /// Periods from the first to the last purchase period.
    pub recency: Vec<f64>,
    /// Periods from the first purchase period to the end of the observation.
    pub t: Vec<f64>,
    /// Mean spend of the repeat periods, 0 when there are none; empty without amounts.
    pub monetary_value: Vec<f64>,
    /// The observation end used (ticks); `None` when no row is valid.
    pub observation_end: Option<i64>,
    pub accounting: Accounting,
}

/// [`Summary`] of the calibration period plus what the same customers did in the holdout.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CalibrationHoldout {
    pub calibration: Summary,
    /// Distinct purchase periods in the holdout, per calibration customer.
    pub frequency_holdout: Vec<f64>,
    /// Holdout spend (purchases, and returns under `returns="net"`) over the holdout
    /// purchase rows.
    pub monetary_value_holdout: Vec<f64>,
    /// Periods from the calibration end to the observation end.
    pub duration_holdout: f64,
}

/// An exact sum under construction: a fixed-point part and the amounts that did not fit.
#[derive(Debug, Clone, Default)]
struct Money {
    fixed: Fixed,
    extras: Vec<f64>,
}

impl Money {
    fn add(&mut self, fixed: Fixed, extras: &[f64]) {
        match self.fixed.checked_add(fixed) {
            Some(sum) => self.fixed = sum,
            None => self.extras.extend(fixed.exact_parts()),
        }
        self.extras.extend_from_slice(extras);
    }

    fn absorb(&mut self, other: &Money) {
        self.add(other.fixed, &other.extras);
    }

    fn value(&self) -> f64 {
        exact_sum(self.fixed, self.extras.iter().copied())
    }
}

/// The spilled amounts by (customer, key).
fn spills_by_target(state: &State) -> HashMap<(u32, i64), Vec<f64>> {
    let mut map: HashMap<(u32, i64), Vec<f64>> = HashMap::new();
    for spill in &state.spill {
        map.entry((spill.customer, spill.key))
            .or_default()
            .push(spill.value);
    }
    map
}

fn to_accounting(state: &State, view: &[u64; DropReason::COUNT]) -> Accounting {
    let mut accounting = Accounting {
        rows_in: state.rows_in as usize,
        ..Accounting::default()
    };
    for (slot, (a, b)) in accounting
        .dropped
        .iter_mut()
        .zip(state.counts.invalid.iter().zip(view.iter()))
    {
        *slot = (a + b) as usize;
    }
    accounting
}

impl State {
    /// The RFM table. `as_of_day` overrides the default observation date (the day after
    /// the last valid row) of a state made without one; it must then be after that day.
    /// Without `with_rows` (or when row numbers exceed `u32`), `first_row` and `last_row`
    /// are empty.
    ///
    /// # Errors
    /// [`RfmError::Parameter`] when the state keeps no RFM records, or for an `as_of_day`
    /// that rows already aggregated are on or after.
    pub fn finish_rfm(&self, as_of_day: Option<i64>, with_rows: bool) -> Result<RfmTable> {
        let Some(view) = self.options.rfm else {
            return Err(RfmError::parameter(
                "rfm",
                "this state was made without the RFM view",
            ));
        };
        let tpd = self.options.ticks_per_day;
        let day = |ticks: i64| ticks.div_euclid(tpd);
        let last_day = self.max_time.map(day);
        let as_of = match (view.as_of_day, as_of_day) {
            (Some(fixed), Some(asked)) if fixed != asked => {
                return Err(RfmError::parameter(
                    "as_of",
                    format!(
                    "the state was aggregated with as_of day {fixed}; it cannot be finished at day {asked}"
                ),
                ))
            }
            (Some(fixed), _) => Some(fixed),
            (None, Some(asked)) => {
                if last_day.is_some_and(|last| asked <= last) {
                    return Err(RfmError::parameter(
                        "as_of",
                        "rows on or after this as_of were already aggregated: give as_of when the \
                         state is made, so that later rows are counted as after_as_of",
                    ));
                }
                Some(asked)
            }
            (None, None) => last_day.map(|last| last + 1),
        };
        let mut accounting = to_accounting(self, &self.counts.rfm);
        let Some(as_of) = as_of else {
            return Ok(RfmTable {
                accounting,
                ..RfmTable::default()
            });
        };
        let spills = spills_by_target(self);
        let orders = self.orders.as_ref().map(|orders| {
            let mut counts = vec![0u32; self.records.len()];
            for &(customer, _) in &orders.pairs {
                if let Some(count) = counts.get_mut(customer as usize) {
                    *count += 1;
                }
            }
            counts
        });
        let buyers = self.records.iter().filter(|r| r.purchases > 0).count();
        let with_rows = with_rows && self.rows_fit;
        let mut table = RfmTable {
            as_of_day: Some(as_of),
            customer: Vec::with_capacity(buyers),
            recency: Vec::with_capacity(buyers),
            frequency: Vec::with_capacity(buyers),
            monetary: Vec::with_capacity(buyers),
            avg_order_value: Vec::with_capacity(buyers),
            first_row: Vec::with_capacity(if with_rows { buyers } else { 0 }),
            last_row: Vec::with_capacity(if with_rows { buyers } else { 0 }),
            first_time: Vec::with_capacity(buyers),
            last_time: Vec::with_capacity(buyers),
            tenure: Vec::with_capacity(buyers),
            ..RfmTable::default()
        };
        for (c, record) in self.records.iter().enumerate() {
            if record.purchases == 0 {
                accounting.dropped[DropReason::ReturnWithoutPurchase as usize] += record.returns as usize;
                continue;
            }
            accounting.rows_used += record.purchases as usize + record.returns as usize;
            let frequency = orders
                .as_ref()
                .and_then(|counts| counts.get(c))
                .map_or(i64::from(record.purchases), |&count| i64::from(count));
            let monetary = match spills.get(&(c as u32, RECORD_SUM)) {
                Some(extras) => exact_sum(record.sum, extras.iter().copied()),
                None => record.sum.to_f64(),
            };
            table.customer.push(c as i64);
            table.recency.push(as_of - day(record.last_time));
            table.frequency.push(frequency);
            table.monetary.push(monetary);
            table.avg_order_value.push(monetary / frequency as f64);
            if with_rows {
                table.first_row.push(i64::from(record.first_row));
                table.last_row.push(i64::from(record.last_row));
            }
            table.first_time.push(record.first_time);
            table.last_time.push(record.last_time);
            table.tenure.push(as_of - day(record.first_time));
        }
        table.accounting = accounting;
        Ok(table)
    }

    /// The period stats of every customer, calibration (or the whole summary) and holdout
    /// (empty or one per customer).
    /// Fast path: an ordered log (the usual time-ordered rows and batches) without spilled
    /// amounts is walked in place, each customer's stats updated entry by entry. Otherwise
    /// the log is grouped and sorted (compacted) and each customer's entries summed
    /// exactly, spills included. Both give the same bits.
    fn period_stats(&mut self) -> Result<(Vec<Stats>, Vec<Stats>)> {
        let n = self.customers.len();
        if let Some(fold) = self.fold.as_ref() {
            if fold.gave_up {
                return Err(RfmError::Internal(
                    "a folded period log that gave up was finished".into(),
                ));
            }
            return fold
                .stats(n)
                .ok_or_else(|| RfmError::Internal("a folded sum overflowed".into()));
        }
        let Some(log) = self.log.as_mut() else {
            return Err(RfmError::parameter(
                "summary",
                "this state was made without the BTYD summary view",
            ));
        };
        if log.grouped && self.spill.is_empty() {
            // Compacted (while the rows came) and unchanged since: each customer's entries
            // are together, in key order.
            if let Some(stats) = walk_grouped(log, n) {
                return Ok(stats);
            }
        }
        if log.ordered && self.spill.is_empty() {
            // Each customer's closed entries, then its open one: in key order.
            if let Some(stats) = walk(&[&log.entries, log.open_entries()], n) {
                return Ok(stats);
            }
        }
        let spilled = log.compact(n)?;
        self.spill.extend(spilled);
        let spills = spills_by_target(self);
        let Some(log) = self.log.as_ref() else {
            return Err(RfmError::Internal("no period log".into()));
        };
        let mut calibration = Vec::with_capacity(n);
        let mut holdout = Vec::with_capacity(n);
        for c in 0..n {
            let entries = log.customer_entries(c);
            calibration.push(PeriodStats::of(entries, false, c as u32, &spills).stats());
            holdout.push(PeriodStats::of(entries, true, c as u32, &spills).stats());
        }
        Ok((calibration, holdout))
    }

    /// The lifetimes-style summary of every customer with a purchase.
    ///
    /// # Errors
    /// [`RfmError::Parameter`] when the state keeps no period log or was made with a
    /// calibration end (finish the split instead).
    pub fn finish_summary(&mut self, include_first_transaction: bool) -> Result<Summary> {
        let Some(view) = self.options.summary else {
            return Err(RfmError::parameter(
                "summary",
                "this state was made without the BTYD summary view",
            ));
        };
        if view.calibration_end.is_some() {
            return Err(RfmError::parameter(
                "calibration_period_end",
                "this state splits calibration and holdout: finish it with the calibration/holdout view",
            ));
        }
        let (stats, _) = self.period_stats()?;
        let end = view.observation_end.or(self.max_time);
        let mut accounting = to_accounting(self, &self.counts.summary);
        let Some(end) = end else {
            return Ok(Summary {
                accounting,
                ..Summary::default()
            });
        };
        let end_period = view.period.index(end, self.options.ticks_per_day);
        let mut out = Summary::default();
        for (c, s) in stats.iter().enumerate() {
            if s.periods == 0 {
                accounting.dropped[DropReason::ReturnWithoutPurchase as usize] += s.return_rows as usize;
                continue;
            }
            accounting.rows_used += (s.purchase_rows + s.return_rows) as usize;
            push_summary_row(&mut out, c, s, end_period, include_first_transaction);
        }
        out.observation_end = Some(end);
        out.accounting = accounting;
        Ok(out)
    }

    /// The calibration summary up to the calibration end and, for the same customers,
    /// their purchases in the holdout.
    ///
    /// # Errors
    /// [`RfmError::Parameter`] when the state has no calibration end, no valid row, or
    /// a calibration end not before the observation end.
    pub fn finish_calibration_holdout(
        &mut self,
        include_first_transaction: bool,
    ) -> Result<CalibrationHoldout> {
        let Some(view) = self.options.summary else {
            return Err(RfmError::parameter(
                "summary",
                "this state was made without the BTYD summary view",
            ));
        };
        let Some(calibration_end) = view.calibration_end else {
            return Err(RfmError::parameter(
                "calibration_period_end",
                "this state was made without a calibration end",
            ));
        };
        let Some(observation_end) = view.observation_end.or(self.max_time) else {
            return Err(RfmError::parameter(
                "observation_period_end",
                "the data has no valid row, so there is no holdout period",
            ));
        };
        if calibration_end >= observation_end {
            return Err(calibration_after_end());
        }
        let (stats, holdout) = self.period_stats()?;
        let tpd = self.options.ticks_per_day;
        let period = view.period;
        let cal_period = period.index(calibration_end, tpd);
        let mut accounting = to_accounting(self, &self.counts.summary);
        let mut calibration = Summary::default();
        let mut frequency_holdout = Vec::new();
        let mut monetary_value_holdout = Vec::new();
        for (c, s) in stats.iter().enumerate() {
            let h = &holdout.get(c).copied().unwrap_or_default();
            let holdout_rows = (h.purchase_rows + h.return_rows) as usize;
            if s.periods == 0 {
                accounting.dropped[DropReason::ReturnWithoutPurchase as usize] += s.return_rows as usize;
                accounting.dropped[DropReason::HoldoutWithoutCalibration as usize] += holdout_rows;
                continue;
            }
            accounting.rows_used += (s.purchase_rows + s.return_rows) as usize + holdout_rows;
            push_summary_row(&mut calibration, c, s, cal_period, include_first_transaction);
            frequency_holdout.push(h.periods as f64);
            monetary_value_holdout.push(if h.purchase_rows == 0 {
                0.0
            } else {
                h.total / h.purchase_rows as f64
            });
        }
        calibration.observation_end = Some(calibration_end);
        calibration.accounting = accounting;
        Ok(CalibrationHoldout {
            calibration,
            frequency_holdout,
            monetary_value_holdout,
            duration_holdout: (period.index(observation_end, tpd) - cal_period) as f64,
        })
    }
}

/// One customer's stats of one phase, money exactly rounded: what the summary rows need.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Stats {
    pub(crate) periods: u64,
    pub(crate) purchase_rows: u64,
    pub(crate) return_rows: u64,
    pub(crate) first: i64,
    pub(crate) last: i64,
    /// The repeat periods' spend (returns netted in).
    pub(crate) repeat: f64,
    /// All the spend.
    pub(crate) total: f64,
}

/// The stats of every customer of a grouped log (see [`super::log::Log::grouped`]),
/// ranges of customers in parallel; `None` when a sum overflows (the exact path then).
fn walk_grouped(log: &super::log::Log, n: usize) -> Option<(Vec<Stats>, Vec<Stats>)> {
    let ranges = customer_ranges(n, parallel_parts(log.entries.len()));
    let pieces: Vec<Option<(Vec<Stats>, Vec<Stats>)>> = ranges
        .into_par_iter()
        .map(|range| {
            let mut calibration = Vec::with_capacity(range.len());
            let mut holdout = Vec::with_capacity(range.len());
            for c in range {
                let (mut cal, mut hold) = (Run::default(), Run::default());
                for entry in log.customer_entries(c) {
                    let run = if is_holdout(entry.key) {
                        &mut hold
                    } else {
                        &mut cal
                    };
                    run.step(entry.key, entry.rows, entry.sum)?;
                }
                calibration.push(cal.stats()?);
                holdout.push(hold.stats()?);
            }
            Some((calibration, holdout))
        })
        .collect();
    concat_phases(pieces, n)
}

/// Walks `entries` (each customer's in non-decreasing key order) into the stats of the
/// calibration and holdout phases; `None` when a sum overflows (the exact path then).
/// Ranges of customers are walked in parallel, each over every entry.
fn walk(entries: &[&[Entry]], n: usize) -> Option<(Vec<Stats>, Vec<Stats>)> {
    let parts = parallel_parts(entries.iter().map(|e| e.len()).sum());
    let pieces: Vec<Option<(Vec<Stats>, Vec<Stats>)>> = customer_ranges(n, parts)
        .into_par_iter()
        .map(|range| walk_range(entries, range))
        .collect();
    concat_phases(pieces, n)
}

/// The stats of the ranges of customers walked in `pieces`, in order, for `n` customers;
/// `None` when a piece is.
fn concat_phases(
    pieces: Vec<Option<(Vec<Stats>, Vec<Stats>)>>,
    n: usize,
) -> Option<(Vec<Stats>, Vec<Stats>)> {
    let mut calibration = Vec::with_capacity(n);
    let mut holdout = Vec::with_capacity(n);
    for piece in pieces {
        let (c, h) = piece?;
        calibration.extend(c);
        holdout.extend(h);
    }
    Some((calibration, holdout))
}

fn walk_range(slices: &[&[Entry]], range: std::ops::Range<usize>) -> Option<(Vec<Stats>, Vec<Stats>)> {
    let (first, width) = (range.start, range.len());
    let mut calibration = vec![Run::default(); width];
    let mut holdout: Vec<Run> = Vec::new();
    for entries in slices {
        for (k, entry) in entries.iter().enumerate() {
            if entry.rows == 0 {
                continue;
            }
            if let Some(ahead) = entries.get(k + PREFETCH_AHEAD) {
                let local = (ahead.customer as usize).wrapping_sub(first);
                if local < width {
                    prefetch_whole(&calibration, local);
                }
            }
            let local = (entry.customer as usize).wrapping_sub(first);
            if local >= width {
                continue;
            }
            let walk = if is_holdout(entry.key) {
                if holdout.is_empty() {
                    holdout = vec![Run::default(); width];
                }
                holdout.get_mut(local)?
            } else {
                calibration.get_mut(local)?
            };
            walk.step(entry.key, entry.rows, entry.sum)?;
        }
    }
    let calibration: Option<Vec<Stats>> = calibration.iter().map(Run::stats).collect();
    let holdout: Option<Vec<Stats>> = if holdout.is_empty() {
        Some(vec![Stats::default(); width])
    } else {
        holdout.iter().map(Run::stats).collect()
    };
    Some((calibration?, holdout?))
}

fn push_summary_row(out: &mut Summary, c: usize, s: &Stats, end_period: i64, include_first: bool) {
    let repeats = s.periods - 1;
    let (frequency, monetary) = if include_first {
        (s.periods as f64, s.total / s.periods as f64)
    } else if repeats == 0 {
        (0.0, 0.0)
    } else {
        (repeats as f64, s.repeat / repeats as f64)
    };
    out.customer.push(c as i64);
    out.frequency.push(frequency);
    out.recency.push((s.last - s.first) as f64);
    out.t.push((end_period - s.first) as f64);
    out.monetary_value.push(monetary);
}

/// What one customer's entries of one phase add up to.
#[derive(Debug, Clone, Default)]
struct PeriodStats {
    periods: usize,
    first: i64,
    last: i64,
    first_sum: Money,
    repeat_sum: Money,
    purchase_rows: usize,
    return_rows: usize,
}

impl PeriodStats {
    /// Walks the entries of the phase in key order (periods ascending, a period's returns
    /// after its purchases). A return is netted into the latest purchase period at or
    /// before it, or into the first one if it precedes them all.
    fn of(
        entries: &[Entry],
        holdout: bool,
        customer: u32,
        spills: &HashMap<(u32, i64), Vec<f64>>,
    ) -> PeriodStats {
        let mut stats = PeriodStats::default();
        let mut pending = Money::default();
        for entry in entries.iter().filter(|e| is_holdout(e.key) == holdout) {
            let extras = if spills.is_empty() {
                &[][..]
            } else {
                spills.get(&(customer, entry.key)).map_or(&[][..], Vec::as_slice)
            };
            if is_return(entry.key) {
                stats.return_rows += entry.rows as usize;
                match stats.periods {
                    0 => pending.add(entry.sum, extras),
                    1 => stats.first_sum.add(entry.sum, extras),
                    _ => stats.repeat_sum.add(entry.sum, extras),
                }
                continue;
            }
            stats.purchase_rows += entry.rows as usize;
            let period = period_of(entry.key);
            stats.periods += 1;
            if stats.periods == 1 {
                stats.first = period;
                stats.first_sum.add(entry.sum, extras);
            } else {
                stats.repeat_sum.add(entry.sum, extras);
            }
            stats.last = period;
        }
        stats.first_sum.absorb(&pending);
        stats
    }

    fn stats(&self) -> Stats {
        let mut total = self.first_sum.clone();
        total.absorb(&self.repeat_sum);
        Stats {
            periods: self.periods as u64,
            purchase_rows: self.purchase_rows as u64,
            return_rows: self.return_rows as u64,
            first: self.first,
            last: self.last,
            repeat: self.repeat_sum.value(),
            total: total.value(),
        }
    }
}
