//! The period log of the BTYD views: one entry per customer, period, phase and kind, with
//! its row count and exact money sum.

use super::{Spill, BLOCK};
use crate::money::Fixed;

/// Marks a customer without an entry in [`Log::latest`].
const NONE: u32 = u32::MAX;

/// The key of an entry: its period, then its phase (calibration before holdout), then its
/// kind (purchases before returns), so that sorting by key walks each phase in period
/// order with a period's returns after its purchases.
#[inline]
pub(crate) fn key(period: i64, holdout: bool, is_return: bool) -> i64 {
    period
        .saturating_mul(4)
        .saturating_add(2 * i64::from(holdout) + i64::from(is_return))
}

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

#[derive(Debug, Clone, Default)]
pub(crate) struct Log {
    pub(crate) entries: Vec<Entry>,
    /// Per customer, the index of its latest entry: rows in time order (the usual export)
    /// land in it while their key stays the same.
    latest: Vec<u32>,
    /// `entries[..compacted]` are grouped by customer (in index order), sorted by key and
    /// distinct; later entries are appended as rows come.
    compacted: usize,
    /// Per customer, the start of its entries in `entries[..compacted]` (`n + 1` values).
    offsets: Vec<usize>,
}

impl Log {
    /// A log of `entries` (not yet compacted).
    pub(crate) fn from_entries(entries: Vec<Entry>) -> Log {
        Log {
            entries,
            ..Log::default()
        }
    }

    /// Adds one row of `customer` with `key` and `amount`.
    #[inline]
    pub(crate) fn add(&mut self, customer: u32, key: i64, amount: f64, spill: &mut Vec<Spill>) {
        let c = customer as usize;
        if c >= self.latest.len() {
            self.latest.resize(c + 1, NONE);
        }
        let latest = self.latest[c];
        let entry = match self.entries.get_mut(latest as usize) {
            Some(entry) if latest != NONE && entry.key == key => entry,
            _ => {
                self.latest[c] = self.entries.len() as u32;
                self.entries.push(Entry {
                    key,
                    customer,
                    rows: 0,
                    sum: Fixed::ZERO,
                });
                let last = self.entries.len() - 1;
                &mut self.entries[last]
            }
        };
        entry.rows += 1;
        super::add_money(&mut entry.sum, amount, spill, customer, key);
    }

    /// Appends the entries of `other` with their customers renumbered by `remap`.
    pub(crate) fn absorb(&mut self, other: Log, remap: &[u32], n_customers: usize) {
        self.entries.reserve(other.entries.len());
        for mut entry in other.entries {
            if let Some(&target) = remap.get(entry.customer as usize) {
                entry.customer = target;
                self.entries.push(entry);
            }
        }
        if self.latest.len() < n_customers {
            self.latest.resize(n_customers, NONE);
        }
    }

    /// Compacts when the appended entries outgrow the compacted ones (and a block), so
    /// that the log stays within about twice its distinct entries.
    pub(crate) fn maybe_compact(&mut self, n_customers: usize) -> Vec<Spill> {
        let appended = self.entries.len() - self.compacted.min(self.entries.len());
        if appended > BLOCK.max(self.compacted) {
            self.compact(n_customers)
        } else {
            Vec::new()
        }
    }

    /// Groups the entries by customer (a counting sort, stable), sorts each customer's by
    /// key and folds equal keys. Returns the sums that overflowed, as exact spill pieces.
    pub(crate) fn compact(&mut self, n_customers: usize) -> Vec<Spill> {
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
        let mut cursor = offsets.clone();
        let mut grouped = vec![
            Entry {
                key: 0,
                customer: 0,
                rows: 0,
                sum: Fixed::ZERO
            };
            self.entries.len()
        ];
        for entry in &self.entries {
            let slot = &mut cursor[entry.customer as usize];
            grouped[*slot] = *entry;
            *slot += 1;
        }
        self.entries = Vec::new();
        let mut out = Vec::with_capacity(grouped.len());
        let mut new_offsets = Vec::with_capacity(n + 1);
        self.latest.clear();
        self.latest.resize(n, NONE);
        for c in 0..n {
            new_offsets.push(out.len());
            let slice = &mut grouped[offsets[c]..offsets[c + 1]];
            if !slice.windows(2).all(|w| w[0].key <= w[1].key) {
                slice.sort_by_key(|e| e.key);
            }
            for entry in slice.iter() {
                let start = new_offsets[c];
                let same = out.len() > start && out.last().is_some_and(|last| entry_matches(last, entry));
                match out.last_mut() {
                    Some(last) if same => {
                        let last: &mut Entry = last;
                        last.rows += entry.rows;
                        match last.sum.checked_add(entry.sum) {
                            Some(sum) => last.sum = sum,
                            None => {
                                for piece in entry.sum.exact_parts() {
                                    spill.push(Spill {
                                        customer: entry.customer,
                                        key: entry.key,
                                        value: piece,
                                    });
                                }
                            }
                        }
                    }
                    _ => out.push(*entry),
                }
            }
            if out.len() > new_offsets[c] {
                self.latest[c] = (out.len() - 1) as u32;
            }
        }
        new_offsets.push(out.len());
        self.entries = out;
        self.compacted = self.entries.len();
        self.offsets = new_offsets;
        spill
    }

    /// The entries of each customer after a full compaction, `offsets[c]..offsets[c + 1]`.
    pub(crate) fn customer_entries(&self, c: usize) -> &[Entry] {
        match (self.offsets.get(c), self.offsets.get(c + 1)) {
            (Some(&start), Some(&end)) => self.entries.get(start..end).unwrap_or_default(),
            _ => &[],
        }
    }

    /// Whether every entry is compacted.
    pub(crate) fn is_compact(&self) -> bool {
        self.compacted == self.entries.len()
    }
}

#[inline]
fn entry_matches(a: &Entry, b: &Entry) -> bool {
    a.customer == b.customer && a.key == b.key
}
