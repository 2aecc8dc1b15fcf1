//! A [`State`] as plain columns and back: what travels between processes (the Python
//! layer writes them as Arrow IPC). Reading checks everything, since the bytes may come
//! from anywhere: a bad part is an error, never a panic or a wrong state.

use hashbrown::HashSet;

use super::keys::Lookup;
use super::log::{is_holdout, period_of, Entry, Log, MAX_PERIOD};
use super::{Counts, Ids, Keys, Offsets, Orders, Record, Spill, State, StateOptions};
use crate::error::{Result, RfmError};
use crate::money::Fixed;
use crate::rows::DropReason;

/// Ids as columns: integers, or Arrow large strings (`offsets` has one more value than ids).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum KeyParts {
    #[default]
    Empty,
    Int(Vec<i64>),
    Utf8 {
        offsets: Vec<i64>,
        data: Vec<u8>,
    },
}

/// Every field of a [`State`], as columns. Sums are `Fixed` values split into two i64 words.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parts {
    pub customers: KeyParts,
    /// Per customer (RFM view only).
    pub first_time: Vec<i64>,
    pub last_time: Vec<i64>,
    pub sum_high: Vec<i64>,
    pub sum_low: Vec<i64>,
    pub first_row: Vec<u32>,
    pub last_row: Vec<u32>,
    pub purchases: Vec<u32>,
    pub returns: Vec<u32>,
    /// The period log (BTYD views only), compacted.
    pub log_customer: Vec<u32>,
    pub log_key: Vec<i64>,
    pub log_rows: Vec<u32>,
    pub log_sum_high: Vec<i64>,
    pub log_sum_low: Vec<i64>,
    /// Amounts kept outside the exact sums.
    pub spill_customer: Vec<u32>,
    pub spill_key: Vec<i64>,
    pub spill_value: Vec<f64>,
    /// Distinct orders (with orders only).
    pub orders: KeyParts,
    pub pair_customer: Vec<u32>,
    pub pair_order: Vec<u32>,
    /// Dropped rows by reason: invalid, then the RFM view's, then the summary's.
    pub counts: Vec<u64>,
    pub rows_in: u64,
    pub row_base: u64,
    pub rows_fit: bool,
    pub max_time: Option<i64>,
}

fn key_parts(keys: &Keys) -> KeyParts {
    match keys {
        Keys::Empty => KeyParts::Empty,
        Keys::Int(keys) => KeyParts::Int(keys.keys.clone()),
        Keys::Utf8(keys) => KeyParts::Utf8 {
            offsets: keys.offsets.clone(),
            data: keys.data.clone(),
        },
    }
}

/// The keys of `parts` in their order; an error when one repeats.
fn keys_of(parts: &KeyParts, what: &'static str) -> Result<Keys> {
    let ids = match parts {
        KeyParts::Empty => return Ok(Keys::Empty),
        KeyParts::Int(values) => Ids::Int {
            values,
            validity: None,
        },
        KeyParts::Utf8 { offsets, data } => {
            if offsets.is_empty() {
                return Err(bad(what, "text ids need at least one offset"));
            }
            Ids::Utf8 {
                offsets: Offsets::Large(offsets),
                data,
                validity: None,
            }
        }
    };
    ids.check(what)?;
    let mut keys = Keys::Empty;
    keys.prepare(&ids, what)?;
    let n = ids.len();
    let mut lookup = Lookup::new(&mut keys, ids, 0);
    for i in 0..n {
        if lookup.index(i, n) != Some(i as u32) {
            return Err(bad(what, "an id appears twice"));
        }
    }
    Ok(keys)
}

fn bad(what: &str, detail: &str) -> RfmError {
    RfmError::parameter(
        "state",
        format!("the serialised state is damaged or not an rfmkit state ({what}: {detail})"),
    )
}

impl State {
    /// The checks of a state read from parts: every row accounted for in each view, log
    /// keys that the options can make, and a last time no purchase is after.
    fn check_parts(&self) -> Result<()> {
        if self.row_base.checked_add(self.rows_in).is_none() {
            return Err(bad("rows", "more rows than a 64-bit count holds"));
        }
        let sum = |counts: &[u64]| counts.iter().map(|&c| u128::from(c)).sum::<u128>();
        let invalid = sum(&self.counts.invalid);
        let rows_in = u128::from(self.rows_in);
        if self.options.rfm.is_some() {
            let kept: u128 = self
                .records
                .iter()
                .map(|r| u128::from(r.purchases) + u128::from(r.returns))
                .sum();
            if invalid + sum(&self.counts.rfm) + kept != rows_in {
                return Err(bad("counts", "the rows of the RFM view do not add up to rows_in"));
            }
            let last = self
                .records
                .iter()
                .filter(|r| r.purchases > 0)
                .map(|r| r.last_time)
                .max();
            if last.is_some_and(|last| self.max_time.is_none_or(|max| last > max)) {
                return Err(bad("max_time", "a purchase after the last time"));
            }
        }
        if let (Some(log), Some(view)) = (self.log.as_ref(), self.options.summary) {
            let logged: u128 = log.entries.iter().map(|e| u128::from(e.rows)).sum();
            if invalid + sum(&self.counts.summary) + logged != rows_in {
                return Err(bad(
                    "counts",
                    "the rows of the summary view do not add up to rows_in",
                ));
            }
            let bad_key = log.entries.iter().any(|e| {
                (is_holdout(e.key) && view.calibration_end.is_none())
                    || period_of(e.key).unsigned_abs() > MAX_PERIOD
            });
            if bad_key {
                return Err(bad("log", "a key the options cannot make"));
            }
            if !log.entries.is_empty() && self.max_time.is_none() {
                return Err(bad("max_time", "entries without a last time"));
            }
        }
        if self.options.rfm.is_none() && self.options.summary.is_none() && invalid > rows_in {
            return Err(bad("counts", "more invalid rows than rows"));
        }
        Ok(())
    }

    /// The state as columns (the log compacted first).
    ///
    /// # Errors
    /// [`RfmError::Parameter`] when compacting the log folds more than `u32::MAX` rows
    /// into one entry.
    pub fn to_parts(&mut self) -> Result<Parts> {
        if self.fold.is_some() {
            return Err(RfmError::Internal("a one-shot folded state has no parts".into()));
        }
        let n = self.customers.len();
        if let Some(log) = self.log.as_mut() {
            let spilled = log.compact(n)?;
            self.spill.extend(spilled);
        }
        let mut parts = Parts {
            customers: key_parts(&self.customers),
            counts: [self.counts.invalid, self.counts.rfm, self.counts.summary].concat(),
            rows_in: self.rows_in,
            row_base: self.row_base,
            rows_fit: self.rows_fit,
            max_time: self.max_time,
            ..Parts::default()
        };
        for r in &self.records {
            let (high, low) = r.sum.to_words();
            parts.first_time.push(r.first_time);
            parts.last_time.push(r.last_time);
            parts.sum_high.push(high);
            parts.sum_low.push(low);
            parts.first_row.push(r.first_row);
            parts.last_row.push(r.last_row);
            parts.purchases.push(r.purchases);
            parts.returns.push(r.returns);
        }
        if let Some(log) = self.log.as_ref() {
            for e in &log.entries {
                let (high, low) = e.sum.to_words();
                parts.log_customer.push(e.customer);
                parts.log_key.push(e.key);
                parts.log_rows.push(e.rows);
                parts.log_sum_high.push(high);
                parts.log_sum_low.push(low);
            }
        }
        for s in &self.spill {
            parts.spill_customer.push(s.customer);
            parts.spill_key.push(s.key);
            parts.spill_value.push(s.value);
        }
        if let Some(orders) = self.orders.as_ref() {
            parts.orders = key_parts(&orders.keys);
            let mut pairs: Vec<(u32, u32)> = orders.pairs.iter().copied().collect();
            pairs.sort_unstable();
            for (c, o) in pairs {
                parts.pair_customer.push(c);
                parts.pair_order.push(o);
            }
        }
        Ok(parts)
    }

    /// The state of `parts` made with `options`.
    ///
    /// # Errors
    /// [`RfmError::Parameter`] (naming `state`) when a column has the wrong length, an
    /// index is out of range, an id repeats, a count is inconsistent, or the options are
    /// invalid.
    pub fn from_parts(options: StateOptions, parts: Parts) -> Result<State> {
        let mut state = State::new(options)?;
        state.customers = keys_of(&parts.customers, "customers")?;
        let n = state.customers.len();
        let with_rfm = state.options.rfm.is_some();
        let columns = [
            parts.first_time.len(),
            parts.last_time.len(),
            parts.sum_high.len(),
            parts.sum_low.len(),
            parts.first_row.len(),
            parts.last_row.len(),
            parts.purchases.len(),
            parts.returns.len(),
        ];
        let expected = if with_rfm { n } else { 0 };
        if columns.iter().any(|&len| len != expected) {
            return Err(bad("records", "one per customer expected"));
        }
        state.records = (0..expected)
            .map(|k| Record {
                first_time: parts.first_time[k],
                last_time: parts.last_time[k],
                sum: Fixed::from_words(parts.sum_high[k], parts.sum_low[k]),
                first_row: parts.first_row[k],
                last_row: parts.last_row[k],
                purchases: parts.purchases[k],
                returns: parts.returns[k],
            })
            .collect();
        if state
            .records
            .iter()
            .any(|r| r.purchases > 0 && r.first_time > r.last_time)
        {
            return Err(bad("records", "a first purchase after the last"));
        }
        let m = parts.log_customer.len();
        if [
            parts.log_key.len(),
            parts.log_rows.len(),
            parts.log_sum_high.len(),
            parts.log_sum_low.len(),
        ]
        .iter()
        .any(|&len| len != m)
        {
            return Err(bad("log", "columns of different lengths"));
        }
        if m > 0 && state.log.is_none() {
            return Err(bad("log", "a period log in a state without the summary view"));
        }
        if let Some(log) = state.log.as_mut() {
            let mut entries = Vec::with_capacity(m);
            for k in 0..m {
                if parts.log_customer[k] as usize >= n || parts.log_rows[k] == 0 {
                    return Err(bad("log", "an entry of no customer or no row"));
                }
                entries.push(Entry {
                    key: parts.log_key[k],
                    customer: parts.log_customer[k],
                    rows: parts.log_rows[k],
                    sum: Fixed::from_words(parts.log_sum_high[k], parts.log_sum_low[k]),
                });
            }
            *log = Log::from_entries(entries);
            let spilled = log.compact(n)?;
            state.spill.extend(spilled);
        }
        let s = parts.spill_customer.len();
        if parts.spill_key.len() != s || parts.spill_value.len() != s {
            return Err(bad("spill", "columns of different lengths"));
        }
        for k in 0..s {
            if parts.spill_customer[k] as usize >= n || !parts.spill_value[k].is_finite() {
                return Err(bad("spill", "an amount of no customer, or not finite"));
            }
            state.spill.push(Spill {
                customer: parts.spill_customer[k],
                key: parts.spill_key[k],
                value: parts.spill_value[k],
            });
        }
        match state.orders.as_mut() {
            Some(orders) => {
                orders.keys = keys_of(&parts.orders, "orders")?;
                let n_orders = orders.keys.len();
                if parts.pair_customer.len() != parts.pair_order.len() {
                    return Err(bad("orders", "columns of different lengths"));
                }
                let mut pairs = HashSet::with_capacity(parts.pair_customer.len());
                for (&c, &o) in parts.pair_customer.iter().zip(&parts.pair_order) {
                    if c as usize >= n || o as usize >= n_orders || !pairs.insert((c, o)) {
                        return Err(bad("orders", "a pair out of range or repeated"));
                    }
                }
                *orders = Orders {
                    keys: std::mem::take(&mut orders.keys),
                    pairs,
                };
            }
            None => {
                if !parts.pair_customer.is_empty() || parts.orders != KeyParts::Empty {
                    return Err(bad("orders", "orders in a state made without them"));
                }
            }
        }
        if parts.counts.len() != 3 * DropReason::COUNT {
            return Err(bad("counts", "wrong number of counts"));
        }
        let mut counts = Counts::default();
        for (k, &value) in parts.counts.iter().enumerate() {
            let slot = match k / DropReason::COUNT {
                0 => &mut counts.invalid,
                1 => &mut counts.rfm,
                _ => &mut counts.summary,
            };
            slot[k % DropReason::COUNT] = value;
        }
        state.counts = counts;
        state.rows_in = parts.rows_in;
        state.row_base = parts.row_base;
        state.rows_fit = parts.rows_fit;
        state.max_time = parts.max_time;
        state.check_parts()?;
        Ok(state)
    }
}
