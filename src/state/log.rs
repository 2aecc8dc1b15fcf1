//! The period log of the BTYD views: one entry per customer, period, phase and kind, with
//! its row count and exact money sum.

use super::{Spill, BLOCK};
use crate::error::Result;
use crate::money::Fixed;

/// The key of an entry: its period, then its phase (calibration before holdout), then its
/// kind (purchases before returns), so that sorting by key walks each phase in period
/// order with a period's returns after its purchases.
#[inline]
pub(crate) fn key(period: i64, holdout: bool, is_return: bool) -> i64 {
    period
        .saturating_mul(4)
        .saturating_add(2 * i64::from(holdout) + i64::from(is_return))
}

/// The largest period (in absolute value) a key holds: an hour index of a tick within
/// the ±2^40 days the state accepts, times 24, fits well below.
pub(crate) const MAX_PERIOD: u64 = 1 << 50;

/// The period of a key.
#[inline]
pub(crate) fn period_of(key: i64) -> i64 {
    key.div_euclid(4)
}

#[inline]
pub(crate) fn is_holdout(key: i64) -> bool {
    key.rem_euclid(4) >= 2
}

#[inline]
pub(crate) fn is_return(key: i64) -> bool {
    key.rem_euclid(2) == 1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) key: i64,
    pub(crate) customer: u32,
    pub(crate) rows: u32,
    pub(crate) sum: Fixed,
}

impl Entry {
    /// Folds in `other`, an entry of the same customer and key: its rows, and its sum
    /// (to the spill when the total does not fit).
    fn absorb(&mut self, other: Entry, spill: &mut Vec<Spill>) -> Result<()> {
        self.rows = self
            .rows
            .checked_add(other.rows)
            .ok_or_else(super::too_many_rows)?;
        match self.sum.checked_add(other.sum) {
            Some(sum) => self.sum = sum,
            None => spill.extend(other.sum.exact_parts().map(|value| Spill {
                customer: other.customer,
                key: other.key,
                value,
            })),
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Log {
    /// Closed entries: in append order, or grouped by customer after a compaction.
    pub(crate) entries: Vec<Entry>,
    /// Per customer, the entry its rows land in while their key stays the same (rows in
    /// time order, the usual export, make one entry per period). `rows == 0`: none open,
    /// and `key` is then the customer's last closed key ([`NO_KEY`]: no entry at all).
    open: Vec<Entry>,
    /// Whether every customer's entries come in non-decreasing key order (closed entries in
    /// array order, then the open one): then finishing needs no grouping.
    pub(crate) ordered: bool,
    /// Entries at the last compaction (compaction is geometric).
    compacted: usize,
    /// After a compaction, per customer, the start of its entries (`n + 1` values).
    offsets: Vec<usize>,
    /// Whether the entries are still as the last compaction grouped them (no row or
    /// entry added since): then each customer's are `offsets[c]..offsets[c + 1]`.
    pub(crate) grouped: bool,
}

/// The key of no entry (smaller than every key of a row).
const NO_KEY: i64 = i64::MIN;

const EMPTY: Entry = Entry {
    key: NO_KEY,
    customer: 0,
    rows: 0,
    sum: Fixed::ZERO,
};

impl Default for Log {
    fn default() -> Self {
        Log {
            entries: Vec::new(),
            open: Vec::new(),
            ordered: true,
            compacted: 0,
            offsets: Vec::new(),
            grouped: false,
        }
    }
}

impl Log {
    /// A log of `entries` in any order (not yet compacted).
    pub(crate) fn from_entries(entries: Vec<Entry>) -> Log {
        Log {
            entries,
            ordered: false,
            ..Log::default()
        }
    }

    /// Makes room for the open entries of `n` customers.
    #[inline]
    pub(crate) fn reserve_customers(&mut self, n: usize) {
        if self.open.len() < n {
            self.open.resize(n, EMPTY);
        }
    }

    /// Hints the cache about the open entry of `customer`.
    #[inline]
    pub(crate) fn prefetch(&self, customer: u32) {
        if (customer as usize) < self.open.len() {
            crate::rows::prefetch(&self.open, customer as usize);
        }
    }

    /// Adds one row of `customer` with `key` and `amount`; `false` when the entry's row
    /// count would pass `u32::MAX`.
    #[inline]
    #[must_use]
    pub(crate) fn add(&mut self, customer: u32, key: i64, amount: f64, spill: &mut Vec<Spill>) -> bool {
        self.grouped = false;
        let c = customer as usize;
        if c >= self.open.len() {
            self.open.resize(c + 1, EMPTY);
        }
        let open = &mut self.open[c];
        if open.rows == 0 || open.key != key {
            if key < open.key {
                self.ordered = false;
            }
            if open.rows != 0 {
                self.entries.push(*open);
            }
            *open = Entry {
                key,
                customer,
                rows: 0,
                sum: Fixed::ZERO,
            };
        }
        let Some(rows) = open.rows.checked_add(1) else {
            return false;
        };
        open.rows = rows;
        super::add_money(&mut open.sum, amount, spill, customer, key);
        true
    }

    /// Adds a whole entry (of a merged log) for its customer, as `add` adds a row.
    fn add_entry(&mut self, entry: Entry, spill: &mut Vec<Spill>) -> Result<()> {
        self.grouped = false;
        let c = entry.customer as usize;
        if c >= self.open.len() {
            self.open.resize(c + 1, EMPTY);
        }
        let open = &mut self.open[c];
        if open.rows != 0 && open.key == entry.key {
            return open.absorb(entry, spill);
        }
        if entry.key < open.key {
            self.ordered = false;
        }
        if open.rows != 0 {
            self.entries.push(*open);
        }
        *open = entry;
        Ok(())
    }

    /// The open entries, one per customer (`rows == 0`: none).
    pub(crate) fn open_entries(&self) -> &[Entry] {
        &self.open
    }

    /// Moves the open entries to the closed ones (keeping each customer's last key).
    pub(crate) fn close(&mut self) {
        for open in self.open.iter_mut() {
            if open.rows != 0 {
                self.entries.push(*open);
                open.rows = 0;
                open.sum = Fixed::ZERO;
            }
        }
    }

    /// Adds the entries of `other` with their customers renumbered by `remap`.
    pub(crate) fn absorb(
        &mut self,
        mut other: Log,
        remap: &[u32],
        n_customers: usize,
        spill: &mut Vec<Spill>,
    ) -> Result<()> {
        other.close();
        self.grouped = false;
        self.reserve_customers(n_customers);
        if !other.ordered || !self.ordered {
            // Unordered: a compaction folds the entries before any finish, so they are
            // just appended (renumbered), not folded into the open ones one by one.
            self.ordered = false;
            self.entries.reserve(other.entries.len());
            self.entries.extend(other.entries.into_iter().filter_map(|entry| {
                remap.get(entry.customer as usize).map(|&target| Entry {
                    customer: target,
                    ..entry
                })
            }));
            return Ok(());
        }
        self.entries.reserve(other.entries.len());
        let entries = other.entries;
        for (k, entry) in entries.iter().enumerate() {
            if let Some(ahead) = entries.get(k + crate::rows::PREFETCH_AHEAD) {
                if let Some(&target) = remap.get(ahead.customer as usize) {
                    self.prefetch(target);
                }
            }
            if let Some(&target) = remap.get(entry.customer as usize) {
                self.add_entry(
                    Entry {
                        customer: target,
                        ..*entry
                    },
                    spill,
                )?;
            }
        }
        Ok(())
    }

    /// Compacts an unordered log when its entries doubled since the last compaction (and
    /// passed a few blocks): duplicates of a customer-period then fold, so the log stays
    /// within about twice its distinct entries. An ordered log has no duplicates to fold.
    pub(crate) fn maybe_compact(&mut self, n_customers: usize) -> Result<Vec<Spill>> {
        if !self.ordered && self.entries.len() > (8 * BLOCK).max(2 * self.compacted) {
            self.compact(n_customers)
        } else {
            Ok(Vec::new())
        }
    }

    /// Groups the entries by customer (a counting sort, stable), sorts each customer's by
    /// key and folds equal keys. Returns the sums that overflowed, as exact spill pieces.
    ///
    /// # Errors
    /// [`super::too_many_rows`] when folded entries pass `u32::MAX` rows.
    pub(crate) fn compact(&mut self, n_customers: usize) -> Result<Vec<Spill>> {
        self.close();
        let n = n_customers.max(
            self.entries
                .iter()
                .map(|e| e.customer as usize + 1)
                .max()
                .unwrap_or(0),
        );
        let mut spill = Vec::new();
        let mut offsets = vec![0usize; n + 1];
        for entry in &self.entries {
            offsets[entry.customer as usize + 1] += 1;
        }
        for c in 0..n {
            offsets[c + 1] += offsets[c];
        }
        // Scatter the entries by customer (a stable counting sort): every slot of
        // `grouped` is written exactly once, so it is not zeroed first (320 MB at 10M
        // entries).
        let len = self.entries.len();
        let mut cursor = offsets.clone();
        let mut grouped: Vec<Entry> = Vec::with_capacity(len);
        {
            let slots = grouped.spare_capacity_mut();
            for entry in &self.entries {
                let slot = &mut cursor[entry.customer as usize];
                slots[*slot].write(*entry);
                *slot += 1;
            }
        }
        // SAFETY: the cursors run over `offsets[c]..offsets[c + 1]` for every customer,
        // and these ranges tile `0..len`: each of the first `len` slots was written above.
        unsafe { grouped.set_len(len) };
        self.entries = Vec::new();
        // Sort and fold each customer's entries in place (the folded ones never pass the
        // ones still to read).
        let mut new_offsets = Vec::with_capacity(n + 1);
        self.reserve_customers(n);
        let mut write = 0usize;
        for c in 0..n {
            let first = write;
            new_offsets.push(first);
            let slice = &mut grouped[offsets[c]..offsets[c + 1]];
            if !slice.windows(2).all(|w| w[0].key <= w[1].key) {
                slice.sort_by_key(|e| e.key);
            }
            for read in offsets[c]..offsets[c + 1] {
                let entry = grouped[read];
                if write > first && grouped[write - 1].key == entry.key {
                    grouped[write - 1].absorb(entry, &mut spill)?;
                } else {
                    grouped[write] = entry;
                    write += 1;
                }
            }
            if write > first {
                self.open[c].key = grouped[write - 1].key;
            }
        }
        grouped.truncate(write);
        let out = grouped;
        new_offsets.push(out.len());
        self.entries = out;
        self.compacted = self.entries.len();
        self.offsets = new_offsets;
        self.ordered = true;
        self.grouped = true;
        Ok(spill)
    }

    /// The entries of each customer after a full compaction, `offsets[c]..offsets[c + 1]`.
    pub(crate) fn customer_entries(&self, c: usize) -> &[Entry] {
        match (self.offsets.get(c), self.offsets.get(c + 1)) {
            (Some(&start), Some(&end)) => self.entries.get(start..end).unwrap_or_default(),
            _ => &[],
        }
    }
}
