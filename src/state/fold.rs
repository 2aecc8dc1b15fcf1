//! Runs: a customer's BTYD stats of one phase, folded from its entries in key order; and
//! the folded period log of a one-shot state.
//!
//! A [`Run`] is what the summary rows need of a customer's entries (distinct purchase
//! periods, first and last, the first period's and the repeat periods' spend, returns
//! netted in). Finishing an ordered [`super::log::Log`] steps each customer's entries
//! into a run. A [`Fold`] steps the *rows* straight into runs: no log at all, so a table
//! in memory whose rows come in time order per customer (the usual export) is summarised
//! in one pass over its rows. Runs of two row sets concatenate exactly when one's keys
//! all come at or after the other's, which is how the parallel chunks of one table
//! merge; a fold that meets a row out of order, or an amount off the fixed point, gives
//! up, and the table is aggregated again with the log (which takes any order, merge and
//! amount). A fold is never serialised or merged with a state of other rows: only
//! [`super::oneshot`] makes one.

use super::log::{is_holdout, is_return, period_of};
use super::{Stats, NO_INDEX};
use crate::money::Fixed;

/// The key before every key.
const NO_KEY: i64 = i64::MIN;

/// A customer's running stats of one phase while its entries come in key order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Run {
    periods: u32,
    purchase_rows: u32,
    return_rows: u32,
    /// First and last purchase periods.
    first: i64,
    last: i64,
    /// First and last keys of any entry ([`NO_KEY`]: none yet).
    first_key: i64,
    last_key: i64,
    /// Returns before the first purchase period (netted into it).
    pending: Fixed,
    first_sum: Fixed,
    repeat_sum: Fixed,
}

impl Default for Run {
    fn default() -> Self {
        Run {
            periods: 0,
            purchase_rows: 0,
            return_rows: 0,
            first: 0,
            last: 0,
            first_key: NO_KEY,
            last_key: NO_KEY,
            pending: Fixed::ZERO,
            first_sum: Fixed::ZERO,
            repeat_sum: Fixed::ZERO,
        }
    }
}

impl Run {
    /// The sum that returns and same-period purchases now go to: the first period's, or
    /// the repeat periods' (before any purchase: the pending returns).
    #[inline]
    fn current(&mut self) -> &mut Fixed {
        match self.periods {
            0 => &mut self.pending,
            1 => &mut self.first_sum,
            _ => &mut self.repeat_sum,
        }
    }

    /// Adds an entry (`rows` rows of `key` summing to `sum`); `None` when its key comes
    /// before the last one, a count passes `u32`, or a sum overflows its fixed point.
    #[inline]
    pub(crate) fn step(&mut self, key: i64, rows: u32, sum: Fixed) -> Option<()> {
        if key < self.last_key {
            return None;
        }
        if self.first_key == NO_KEY {
            self.first_key = key;
        }
        self.last_key = key;
        if is_return(key) {
            self.return_rows = self.return_rows.checked_add(rows)?;
        } else {
            self.purchase_rows = self.purchase_rows.checked_add(rows)?;
            let period = period_of(key);
            if self.periods == 0 || period != self.last {
                self.periods += 1;
                if self.periods == 1 {
                    self.first = period;
                }
                self.last = period;
            }
        }
        let target = self.current();
        *target = target.checked_add(sum)?;
        Some(())
    }

    /// Appends `other`, a run of entries whose keys all come at or after this one's:
    /// the run of both, exactly as if `other`'s entries were stepped in after this one's.
    /// `None` when they overlap, a count passes `u32` or a sum overflows.
    pub(crate) fn concat(&mut self, other: &Run) -> Option<()> {
        if other.first_key == NO_KEY {
            return Some(());
        }
        if self.first_key == NO_KEY {
            *self = *other;
            return Some(());
        }
        if other.first_key < self.last_key {
            return None;
        }
        self.purchase_rows = self.purchase_rows.checked_add(other.purchase_rows)?;
        self.return_rows = self.return_rows.checked_add(other.return_rows)?;
        if self.periods == 0 {
            // Only returns so far: they net into the other's first period, as its own
            // pending returns do.
            let pending = self.pending.checked_add(other.pending)?;
            *self = Run {
                pending,
                purchase_rows: self.purchase_rows,
                return_rows: self.return_rows,
                first_key: self.first_key,
                ..*other
            };
            return Some(());
        }
        // The other's returns before its first purchase net into this run's last period.
        let current = self.current();
        *current = current.checked_add(other.pending)?;
        if other.periods > 0 {
            let same = other.first == self.last;
            let target = if same {
                self.current()
            } else {
                &mut self.repeat_sum
            };
            *target = target.checked_add(other.first_sum)?;
            self.repeat_sum = self.repeat_sum.checked_add(other.repeat_sum)?;
            self.periods = self.periods.checked_add(other.periods - u32::from(same))?;
            self.last = other.last;
        }
        self.last_key = other.last_key;
        Some(())
    }

    /// The stats with the money exactly rounded; `None` when a sum overflows.
    pub(crate) fn stats(&self) -> Option<Stats> {
        let first = self.first_sum.checked_add(self.pending)?;
        Some(Stats {
            periods: u64::from(self.periods),
            purchase_rows: u64::from(self.purchase_rows),
            return_rows: u64::from(self.return_rows),
            first: self.first,
            last: self.last,
            repeat: self.repeat_sum.to_f64(),
            total: first.checked_add(self.repeat_sum)?.to_f64(),
        })
    }
}

/// The period log of a one-shot state, folded into one run per customer and phase as the
/// rows come (see the module documentation).
#[derive(Debug, Clone, Default)]
pub(crate) struct Fold {
    pub(crate) calibration: Vec<Run>,
    /// Empty until a holdout row comes.
    pub(crate) holdout: Vec<Run>,
    /// A row came out of order or with an amount off the fixed point: the runs are
    /// incomplete and the rows must be aggregated with the log.
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

    /// Steps one row of `customer` with `key` and `amount` into its run; `false` (and
    /// the fold gives up) when it cannot.
    #[inline]
    #[must_use]
    pub(crate) fn add(&mut self, customer: u32, key: i64, amount: f64) -> bool {
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
        let added = Fixed::of(amount).and_then(|sum| runs[c].step(key, 1, sum));
        if added.is_none() {
            self.gave_up = true;
        }
        added.is_some()
    }

    /// Appends the runs of `other` (the fold of later rows), its customers renumbered by
    /// `remap`; gives up when a customer's runs overlap.
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
    }

    /// The stats of every customer, calibration and holdout (empty without holdout rows);
    /// `None` when a sum overflows.
    pub(crate) fn stats(&self, n: usize) -> Option<(Vec<Stats>, Vec<Stats>)> {
        let phase = |runs: &[Run]| -> Option<Vec<Stats>> {
            (0..n)
                .map(|c| runs.get(c).map_or(Some(Stats::default()), Run::stats))
                .collect()
        };
        let holdout = if self.holdout.is_empty() {
            Vec::new()
        } else {
            phase(&self.holdout)?
        };
        Some((phase(&self.calibration)?, holdout))
    }
}
