//! A [`State`] split by customer: the states of disjoint customer sets whose merge is the
//! state again. This is how a cluster aggregates: every partition of the rows makes its
//! state and splits it into buckets by a hash of the customer id, the buckets of one
//! number (from every partition) meet in one place and are merged and finished there.
//!
//! The hash is fixed (the same in every process, machine and version): states split in
//! different processes must send a customer to the same bucket.

use hashbrown::HashMap;

use super::parts::{KeyParts, Parts};
use super::State;
use crate::error::{Result, RfmError};
use crate::rows::DropReason;

/// The bucket (of `n`) of every customer of `keys`.
pub fn buckets_of(keys: &KeyParts, n: usize) -> Vec<u32> {
    let n = n.max(1) as u64;
    let of = |hash: u64| (mix(hash) % n) as u32;
    match keys {
        KeyParts::Empty => Vec::new(),
        KeyParts::Int(values) => values.iter().map(|&v| of(v as u64)).collect(),
        KeyParts::Utf8 { offsets, data } => offsets
            .windows(2)
            .map(|w| {
                let bytes = data.get(w[0] as usize..w[1] as usize).unwrap_or_default();
                of(fnv1a(bytes))
            })
            .collect(),
    }
}

/// The finaliser of splitmix64: every input bit moves every output bit.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Builds the key columns of one bucket, id by id.
struct KeyBuilder(KeyParts);

impl KeyBuilder {
    fn like(keys: &KeyParts) -> Self {
        KeyBuilder(match keys {
            KeyParts::Empty => KeyParts::Empty,
            KeyParts::Int(_) => KeyParts::Int(Vec::new()),
            KeyParts::Utf8 { .. } => KeyParts::Utf8 {
                offsets: vec![0],
                data: Vec::new(),
            },
        })
    }

    /// Appends key `k` of `from`.
    fn push(&mut self, from: &KeyParts, k: usize) {
        match (&mut self.0, from) {
            (KeyParts::Int(out), KeyParts::Int(values)) => out.push(values[k]),
            (KeyParts::Utf8 { offsets, data }, KeyParts::Utf8 { offsets: o, data: d }) => {
                let bytes = d.get(o[k] as usize..o[k + 1] as usize).unwrap_or_default();
                data.extend_from_slice(bytes);
                offsets.push(data.len() as i64);
            }
            _ => {}
        }
    }

    fn finish(self) -> KeyParts {
        match self.0 {
            // A bucket of no id keeps no kind (it merges with either).
            KeyParts::Int(v) if v.is_empty() => KeyParts::Empty,
            KeyParts::Utf8 { offsets, .. } if offsets.len() == 1 => KeyParts::Empty,
            keys => keys,
        }
    }
}

impl Parts {
    /// The parts of the customers of each bucket (`bucket[k]` is customer `k`'s, below
    /// `n`), customers renumbered in their order here. Each bucket counts its own kept
    /// rows in `rows_in`; the dropped rows, and so the rest of `rows_in`, stay in bucket 0.
    /// `rows_kept[k]` is how many rows customer `k` holds in the one view kept.
    fn split(self, bucket: &[u32], n: usize, rows_kept: &[u64]) -> Vec<Parts> {
        let mut local = vec![0u32; bucket.len()];
        let mut sizes = vec![0u32; n];
        for (slot, &b) in local.iter_mut().zip(bucket) {
            *slot = sizes[b as usize];
            sizes[b as usize] += 1;
        }
        let mut out: Vec<Parts> = (0..n)
            .map(|_| Parts {
                counts: vec![0; self.counts.len()],
                row_base: self.row_base,
                rows_fit: self.rows_fit,
                max_time: self.max_time,
                ..Parts::default()
            })
            .collect();
        let mut customers: Vec<KeyBuilder> = (0..n).map(|_| KeyBuilder::like(&self.customers)).collect();
        let with_records = !self.first_time.is_empty();
        for (k, &b) in bucket.iter().enumerate() {
            let part = &mut out[b as usize];
            customers[b as usize].push(&self.customers, k);
            part.rows_in += rows_kept[k];
            if with_records {
                part.first_time.push(self.first_time[k]);
                part.last_time.push(self.last_time[k]);
                part.sum_high.push(self.sum_high[k]);
                part.sum_low.push(self.sum_low[k]);
                part.first_row.push(self.first_row[k]);
                part.last_row.push(self.last_row[k]);
                part.purchases.push(self.purchases[k]);
                part.returns.push(self.returns[k]);
            }
        }
        for (part, keys) in out.iter_mut().zip(customers) {
            part.customers = keys.finish();
        }
        // The rows of the log and of the spill to the buckets of their customers.
        let mut scatter = |customers: &[u32], push: &mut dyn FnMut(&mut Parts, usize, u32)| {
            for (row, &c) in customers.iter().enumerate() {
                push(&mut out[bucket[c as usize] as usize], row, local[c as usize]);
            }
        };
        scatter(&self.log_customer, &mut |part, e, c| {
            part.log_customer.push(c);
            part.log_key.push(self.log_key[e]);
            part.log_rows.push(self.log_rows[e]);
            part.log_sum_high.push(self.log_sum_high[e]);
            part.log_sum_low.push(self.log_sum_low[e]);
        });
        scatter(&self.spill_customer, &mut |part, s, c| {
            part.spill_customer.push(c);
            part.spill_key.push(self.spill_key[s]);
            part.spill_value.push(self.spill_value[s]);
        });
        if !self.pair_customer.is_empty() {
            // Each bucket keeps the orders of its pairs, renumbered in their order there.
            let mut orders: Vec<(KeyBuilder, HashMap<u32, u32>)> = (0..n)
                .map(|_| (KeyBuilder::like(&self.orders), HashMap::new()))
                .collect();
            for (&c, &o) in self.pair_customer.iter().zip(&self.pair_order) {
                let b = bucket[c as usize] as usize;
                let (keys, seen) = &mut orders[b];
                let next = seen.len() as u32;
                let index = *seen.entry(o).or_insert_with(|| {
                    keys.push(&self.orders, o as usize);
                    next
                });
                out[b].pair_customer.push(local[c as usize]);
                out[b].pair_order.push(index);
            }
            for (part, (keys, _)) in out.iter_mut().zip(orders) {
                part.orders = keys.finish();
            }
        }
        let kept: u64 = out.iter().map(|p| p.rows_in).sum();
        out[0].rows_in += self.rows_in.saturating_sub(kept);
        out[0].counts = self.counts;
        out
    }
}

impl State {
    /// This state's customers in `n` states by a fixed hash of their ids ([`buckets_of`]):
    /// merging them gives this state's results bit for bit. Each split state counts the
    /// rows of its customers; the dropped rows are counted in the first one. Every split
    /// state keeps this state's last time. The log is compacted first.
    ///
    /// # Errors
    /// [`RfmError::Parameter`] when `n` is 0, or when the state keeps both the RFM
    /// records and the BTYD periods (a row can be kept by one view and dropped by the
    /// other, so its customer's rows would not be one number).
    pub fn split(&mut self, n: usize) -> Result<Vec<State>> {
        if n == 0 {
            return Err(RfmError::parameter("n", "a state splits into one part or more"));
        }
        if self.options.rfm.is_some() && self.options.summary.is_some() {
            return Err(RfmError::parameter(
                "state",
                "a state that keeps both the RFM records and the BTYD periods does not split: make one \
                 state per view",
            ));
        }
        let parts = self.to_parts()?;
        let customers = parts.customers_len();
        let mut rows_kept = vec![0u64; customers];
        if self.options.rfm.is_some() {
            for (k, slot) in rows_kept.iter_mut().enumerate() {
                *slot = u64::from(parts.purchases[k]) + u64::from(parts.returns[k]);
            }
        }
        for (&c, &rows) in parts.log_customer.iter().zip(&parts.log_rows) {
            rows_kept[c as usize] += u64::from(rows);
        }
        let bucket = buckets_of(&parts.customers, n);
        debug_assert_eq!(parts.counts.len(), 3 * DropReason::COUNT);
        parts
            .split(&bucket, n, &rows_kept)
            .into_iter()
            .map(|part| State::from_parts(self.options.clone(), part))
            .collect()
    }
}

impl Parts {
    fn customers_len(&self) -> usize {
        match &self.customers {
            KeyParts::Empty => 0,
            KeyParts::Int(values) => values.len(),
            KeyParts::Utf8 { offsets, .. } => offsets.len().saturating_sub(1),
        }
    }
}
