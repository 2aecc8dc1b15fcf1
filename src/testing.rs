//! Helpers shared by the unit tests of several modules.

use crate::rows::{ColumnNames, Transactions};
use crate::state::Ids;

/// A xorshift64 generator (shifts 13, 7, 17), enough for test data; seed it with a
/// non-zero state.
pub(crate) struct XorShift(pub(crate) u64);

impl XorShift {
    /// The next value modulo `m` (`m = 0` is taken as 1).
    pub(crate) fn next(&mut self, m: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % m.max(1)
    }
}

/// `words` as Arrow text: int64 offsets and the utf-8 bytes.
pub(crate) fn utf8(words: &[&str]) -> (Vec<i64>, Vec<u8>) {
    let mut offsets = vec![0i64];
    let mut data = Vec::new();
    for word in words {
        data.extend_from_slice(word.as_bytes());
        offsets.push(data.len() as i64);
    }
    (offsets, data)
}

/// Integer ids, all valid.
pub(crate) fn int_ids(values: &[i64]) -> Ids<'_> {
    Ids::Int {
        values,
        validity: None,
    }
}

/// A table of codes (`-1` null) with one day per tick.
pub(crate) fn table<'a>(customer: &'a [i64], day: &'a [i64], amount: &'a [f64]) -> Transactions<'a> {
    Transactions {
        customer,
        n_customers: customer.iter().max().map_or(0, |&c| c.max(0) as usize + 1),
        time: day,
        ticks_per_day: 1,
        amount: Some(amount),
        order: None,
        n_orders: 0,
        names: ColumnNames::default(),
    }
}

/// Random draws for simulated model data: uniforms, exponentials and gammas of whole shapes.
pub(crate) struct Draws(pub(crate) XorShift);

impl Draws {
    /// A uniform in (0, 1).
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.0.next(1 << 53) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// An exponential of rate 1.
    pub(crate) fn exponential(&mut self) -> f64 {
        -self.uniform().ln()
    }

    /// A gamma of whole `shape` and `rate` (a sum of `shape` exponentials over `rate`).
    pub(crate) fn gamma(&mut self, shape: u32, rate: f64) -> f64 {
        (0..shape).map(|_| self.exponential()).sum::<f64>() / rate
    }
}

/// Whether `error` is a [`crate::RfmError::Convergence`] whose message holds every one of
/// `parts`; panics with the message otherwise.
pub(crate) fn assert_convergence_error(error: &crate::error::RfmError, parts: &[&str]) {
    let message = error.to_string();
    assert!(
        matches!(error, crate::error::RfmError::Convergence { .. }),
        "not a convergence error: {message}"
    );
    for part in parts {
        assert!(message.contains(part), "{part:?} is not in: {message}");
    }
}
