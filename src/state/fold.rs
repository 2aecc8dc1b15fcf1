//! Runs: a customer's BTYD stats of one phase; and the folded period log of a one-shot
//! state.
//!
//! A [`Run`] is what the summary rows need of a customer's entries: the distinct purchase
//! periods (their count, the first, the second and the last), the first period's and the
//! repeat periods' spend, returns netted in. A return nets into the latest purchase
//! period at or before it, or into the first one if it precedes them all: into the first
//! period's spend when it comes before the second purchase period, else into the repeat
//! spend. So once a customer's purchase periods are known, its returns can be netted in
//! any order.
//!
//! Finishing an ordered [`super::log::Log`] steps each customer's entries, in key order,
//! into a run ([`Run::step`]). A [`Fold`] steps the *rows* straight into runs, with no log
//! at all: purchases as they come (they must come in period order per customer, as in
//! the usual export), returns kept aside and netted at the end. Runs of two row sets
//! concatenate exactly when one's purchase periods all come at or after the other's,
//! which is how the parallel chunks of one table merge. A fold that meets a purchase out
//! of period order, or an amount off the fixed point, gives up, and the table is
//! aggregated again with the log (which takes any order, merge and amount). A fold is
//! never serialised or merged with a state of other rows: only [`super::oneshot`] makes
//! one.

use super::log::{is_holdout, is_return, period_of};
use super::{Stats, NO_INDEX};
use crate::money::Fixed;

/// A customer's running stats of one phase.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Run {
    periods: u32,
    purchase_rows: u32,
    return_rows: u32,
    /// First, second (when `periods >= 2`) and last purchase periods.
    first: i64,
    second: i64,
    last: i64,
    /// The first period's spend (with the returns netted into it), and the others'.
    first_sum: Fixed,
    repeat_sum: Fixed,
}

impl Run {
    /// The spend a return of period `period` nets into.
    #[inline]
    fn bucket_of_return(&mut self, period: i64) -> &mut Fixed {
        if self.periods >= 2 && period >= self.second {
            &mut self.repeat_sum
        } else {
            &mut self.first_sum
        }
    }

    /// Adds `rows` purchase rows of `period` summing to `sum`; `None` when `period`
    /// comes before the last purchase period, a count passes `u32` or a sum overflows.
    #[inline]
    pub(crate) fn purchase(&mut self, period: i64, rows: u32, sum: Fixed) -> Option<()> {
        if self.periods > 0 && period < self.last {
            return None;
        }
        self.purchase_rows = self.purchase_rows.checked_add(rows)?;
        if self.periods == 0 || period != self.last {
            self.periods = self.periods.checked_add(1)?;
            match self.periods {
                1 => self.first = period,
                2 => self.second = period,
                _ => {}
            }
            self.last = period;
        }
        let target = if self.periods == 1 {
            &mut self.first_sum
        } else {
            &mut self.repeat_sum
        };
        *target = target.checked_add(sum)?;
        Some(())
    }

    /// Nets `rows` return rows of `period` summing to `sum` into the spend of the latest
    /// purchase period at or before it, as the purchase periods stand now (so: once they
    /// are all known, or when every purchase period up to `period` is).
    #[inline]
    pub(crate) fn net_return(&mut self, period: i64, rows: u32, sum: Fixed) -> Option<()> {
        self.return_rows = self.return_rows.checked_add(rows)?;
        let target = self.bucket_of_return(period);
        *target = target.checked_add(sum)?;
        Some(())
    }

    /// Adds an entry of a log walked in key order (a period's purchases before its
    /// returns, so every purchase period up to a return's is known when it comes).
    #[inline]
    pub(crate) fn step(&mut self, key: i64, rows: u32, sum: Fixed) -> Option<()> {
        if is_return(key) {
            self.net_return(period_of(key), rows, sum)
        } else {
            self.purchase(period_of(key), rows, sum)
        }
    }

    /// Appends `other`, the run of later purchases (its first period at or after this
    /// one's last), neither with returns yet: the run of both, exactly as if `other`'s
    /// purchases were added after this one's. `None` when they overlap, a run holds
    /// returns, a count passes `u32` or a sum overflows.
    pub(crate) fn concat(&mut self, other: &Run) -> Option<()> {
        if self.return_rows != 0 || other.return_rows != 0 {
            return None;
        }
        if other.periods == 0 {
            return Some(());
        }
        if self.periods == 0 {
            *self = *other;
            return Some(());
        }
        if other.first < self.last {
            return None;
        }
        let same = other.first == self.last;
        self.purchase_rows = self.purchase_rows.checked_add(other.purchase_rows)?;
        // The other's first period is this one's last (same) or a new repeat period.
        let target = if same && self.periods == 1 {
            &mut self.first_sum
        } else {
            &mut self.repeat_sum
        };
        *target = target.checked_add(other.first_sum)?;
        self.repeat_sum = self.repeat_sum.checked_add(other.repeat_sum)?;
        if self.periods == 1 {
            match (same, other.periods) {
                (true, 1) => {}
                (true, _) => self.second = other.second,
                (false, _) => self.second = other.first,
            }
        }
        self.periods = self.periods.checked_add(other.periods - u32::from(same))?;
        self.last = other.last;
        Some(())
    }

    /// The stats with the money exactly rounded; `None` when a sum overflows.
    pub(crate) fn stats(&self) -> Option<Stats> {
        Some(Stats {
            periods: u64::from(self.periods),
            purchase_rows: u64::from(self.purchase_rows),
            return_rows: u64::from(self.return_rows),
            first: self.first,
            last: self.last,
            repeat: self.repeat_sum.to_f64(),
            total: self.first_sum.checked_add(self.repeat_sum)?.to_f64(),
        })
    }
}

/// A return row kept aside by a [`Fold`] until its customer's purchase periods are known.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeldReturn {
    customer: u32,
    key: i64,
    amount: Fixed,
}

/// The period log of a one-shot state, folded into one run per customer and phase as the
/// rows come (see the module documentation).
#[derive(Debug, Clone, Default)]
pub(crate) struct Fold {
    pub(crate) calibration: Vec<Run>,
    /// Empty until a holdout row comes.
    pub(crate) holdout: Vec<Run>,
    /// The return rows, netted in when the runs are finished.
    pub(crate) returns: Vec<HeldReturn>,
    /// A purchase came out of period order or an amount off the fixed point: the runs
    /// are incomplete and the rows must be aggregated with the log.
    pub(crate) gave_up: bool,
}

impl Fold {
    #[inline]
    pub(crate) fn reserve_customers(&mut self, n: usize) {
        if self.calibration.len() < n {
            self.calibration.resize(n, Run::default());
        }
        if !self.holdout.is_empty() && self.holdout.len() < n {
            self.holdout.resize(n, Run::default());
        }
    }

    #[inline]
    pub(crate) fn prefetch(&self, customer: u32) {
        if (customer as usize) < self.calibration.len() {
            crate::rows::prefetch_whole(&self.calibration, customer as usize);
        }
    }

    /// Adds one row of `customer` with `key` and `amount`: a purchase to its run, a
    /// return aside. `false` (and the fold gives up) when it cannot.
    #[inline]
    #[must_use]
    pub(crate) fn add(&mut self, customer: u32, key: i64, amount: f64) -> bool {
        let Some(amount) = Fixed::of(amount) else {
            self.gave_up = true;
            return false;
        };
        if is_return(key) {
            self.returns.push(HeldReturn {
                customer,
                key,
                amount,
            });
            return true;
        }
        let c = customer as usize;
        let runs = if is_holdout(key) {
            if self.holdout.len() < self.calibration.len().max(c + 1) {
                self.holdout
                    .resize(self.calibration.len().max(c + 1), Run::default());
            }
            &mut self.holdout
        } else {
            if self.calibration.len() <= c {
                self.calibration.resize(c + 1, Run::default());
            }
            &mut self.calibration
        };
        let added = runs[c].purchase(period_of(key), 1, amount).is_some();
        if !added {
            self.gave_up = true;
        }
        added
    }

    /// Appends the runs of `other` (the fold of later rows) and takes its returns, its
    /// customers renumbered by `remap`; gives up when a customer's purchases overlap.
    pub(crate) fn absorb(&mut self, other: &Fold, remap: &[u32], n: usize) {
        if other.gave_up {
            self.gave_up = true;
        }
        if self.gave_up {
            return;
        }
        self.reserve_customers(n);
        if !other.holdout.is_empty() && self.holdout.is_empty() {
            self.holdout = vec![Run::default(); n];
        }
        for (mine, theirs) in [
            (&mut self.calibration, &other.calibration),
            (&mut self.holdout, &other.holdout),
        ] {
            for (k, run) in theirs.iter().enumerate() {
                let Some(&target) = remap.get(k) else { continue };
                if target == NO_INDEX {
                    continue;
                }
                let Some(slot) = mine.get_mut(target as usize) else {
                    self.gave_up = true;
                    return;
                };
                if slot.concat(run).is_none() {
                    self.gave_up = true;
                    return;
                }
            }
        }
        self.returns.reserve(other.returns.len());
        for held in &other.returns {
            if let Some(&customer) = remap.get(held.customer as usize) {
                self.returns.push(HeldReturn { customer, ..*held });
            }
        }
    }

    /// The stats of every customer, calibration and holdout (empty without holdout rows),
    /// the returns netted in; `None` when a sum overflows.
    pub(crate) fn stats(&self, n: usize) -> Option<(Vec<Stats>, Vec<Stats>)> {
        if self.returns.is_empty() {
            return Some((
                phase_stats(&self.calibration, n)?,
                holdout_stats(&self.holdout, n)?,
            ));
        }
        let mut calibration = self.calibration.clone();
        let mut holdout = self.holdout.clone();
        for held in &self.returns {
            let runs = if is_holdout(held.key) {
                &mut holdout
            } else {
                &mut calibration
            };
            let c = held.customer as usize;
            if runs.len() <= c {
                runs.resize(n.max(c + 1), Run::default());
            }
            runs[c].net_return(period_of(held.key), 1, held.amount)?;
        }
        Some((phase_stats(&calibration, n)?, holdout_stats(&holdout, n)?))
    }
}

/// The stats of customers `0..n` (those without a run: none).
fn phase_stats(runs: &[Run], n: usize) -> Option<Vec<Stats>> {
    (0..n)
        .map(|c| runs.get(c).map_or(Some(Stats::default()), Run::stats))
        .collect()
}

/// [`phase_stats`] of the holdout: empty without holdout rows.
fn holdout_stats(runs: &[Run], n: usize) -> Option<Vec<Stats>> {
    if runs.is_empty() {
        Some(Vec::new())
    } else {
        phase_stats(runs, n)
    }
}
