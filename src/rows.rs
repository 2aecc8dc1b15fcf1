//! The input table of the core and the rules that sort each row into
//! "purchase", "return" or a counted reason to drop it (DESIGN.md, "Definitions").

use crate::error::{Field, Result, RfmError};

/// Code of a null customer or order id.
pub const NULL_CODE: i64 = -1;
/// numpy's `NaT`: the smallest `i64`.
pub const NAT: i64 = i64::MIN;

/// A policy's value from its name, by the one table of its names (the words users pass:
/// `invalid="drop"`, `zero="keep"`, `returns="net"`).
pub trait Named: Sized + Copy + 'static {
    /// The parameter the policy is passed as.
    const PARAMETER: &'static str;
    /// Every name and its value, in the order messages list them.
    const NAMES: &'static [(&'static str, Self)];

    /// The value named `name`.
    ///
    /// # Errors
    /// [`RfmError::Parameter`] naming the parameter, the value and the accepted names.
    fn parse(name: &str) -> Result<Self> {
        Self::NAMES
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, value)| *value)
            .ok_or_else(|| {
                let allowed: Vec<String> = Self::NAMES
                    .iter()
                    .map(|(known, _)| format!("{known:?}"))
                    .collect();
                RfmError::parameter(
                    Self::PARAMETER,
                    format!(
                        "{}={name:?} is not one of {}",
                        Self::PARAMETER,
                        allowed.join(", ")
                    ),
                )
            })
    }

    /// The accepted names, in order.
    fn names() -> Vec<&'static str> {
        Self::NAMES.iter().map(|(name, _)| *name).collect()
    }
}

impl Named for InvalidPolicy {
    const PARAMETER: &'static str = "invalid";
    const NAMES: &'static [(&'static str, Self)] = &[("drop", Self::Drop), ("raise", Self::Raise)];
}

impl Named for ZeroPolicy {
    const PARAMETER: &'static str = "zero";
    const NAMES: &'static [(&'static str, Self)] = &[("drop", Self::Drop), ("keep", Self::Keep)];
}

impl Named for ReturnPolicy {
    const PARAMETER: &'static str = "returns";
    const NAMES: &'static [(&'static str, Self)] =
        &[("net", Self::Net), ("drop", Self::Drop), ("raise", Self::Raise)];
}

/// What to do with invalid rows (null id, null timestamp, non-finite amount).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidPolicy {
    /// Drop them and count them by reason.
    Drop,
    /// Fail on the first one, naming its row, column and value.
    Raise,
}

/// What to do with zero amounts (gifts, free items).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZeroPolicy {
    /// Drop them and count them.
    Drop,
    /// Keep them: a zero-amount row is a purchase.
    Keep,
}

/// What to do with negative amounts (returns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnPolicy {
    /// They reduce monetary but are not purchases and move no purchase date.
    Net,
    /// Drop them and count them.
    Drop,
    /// Fail on the first one.
    Raise,
}

/// The policies shared by every aggregation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowPolicy {
    pub invalid: InvalidPolicy,
    pub zero: ZeroPolicy,
    pub returns: ReturnPolicy,
}

impl Default for RowPolicy {
    fn default() -> Self {
        RowPolicy {
            invalid: InvalidPolicy::Drop,
            zero: ZeroPolicy::Drop,
            returns: ReturnPolicy::Net,
        }
    }
}

/// Why a row was not used. The names are the keys users see in `dropped`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum DropReason {
    MissingCustomer = 0,
    MissingDate,
    InvalidAmount,
    MissingOrder,
    AfterAsOf,
    BeforeWindow,
    AfterObservationEnd,
    ZeroAmount,
    Return,
    ReturnWithoutPurchase,
    HoldoutWithoutCalibration,
}

impl DropReason {
    pub const COUNT: usize = 11;
    pub const ALL: [DropReason; DropReason::COUNT] = [
        DropReason::MissingCustomer,
        DropReason::MissingDate,
        DropReason::InvalidAmount,
        DropReason::MissingOrder,
        DropReason::AfterAsOf,
        DropReason::BeforeWindow,
        DropReason::AfterObservationEnd,
        DropReason::ZeroAmount,
        DropReason::Return,
        DropReason::ReturnWithoutPurchase,
        DropReason::HoldoutWithoutCalibration,
    ];

    /// The key of this reason in `attrs["rfmkit"]["dropped"]`.
    pub fn name(self) -> &'static str {
        match self {
            DropReason::MissingCustomer => "missing_customer",
            DropReason::MissingDate => "missing_date",
            DropReason::InvalidAmount => "invalid_amount",
            DropReason::MissingOrder => "missing_order",
            DropReason::AfterAsOf => "after_as_of",
            DropReason::BeforeWindow => "before_window",
            DropReason::AfterObservationEnd => "after_observation_end",
            DropReason::ZeroAmount => "zero_amount",
            DropReason::Return => "return",
            DropReason::ReturnWithoutPurchase => "return_without_purchase",
            DropReason::HoldoutWithoutCalibration => "holdout_without_calibration",
        }
    }
}

/// Where every input row went: `rows_in == rows_used + sum(dropped)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accounting {
    pub rows_in: usize,
    pub rows_used: usize,
    pub dropped: [usize; DropReason::COUNT],
}

impl Accounting {
    /// The reasons with a non-zero count, in a fixed order.
    pub fn dropped_counts(&self) -> Vec<(&'static str, usize)> {
        DropReason::ALL
            .iter()
            .filter(|reason| self.dropped[**reason as usize] > 0)
            .map(|reason| (reason.name(), self.dropped[*reason as usize]))
            .collect()
    }

    /// Total number of dropped rows.
    pub fn dropped_total(&self) -> usize {
        self.dropped.iter().sum()
    }
}

/// Column names, only used to write error messages users can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnNames {
    pub customer: String,
    pub date: String,
    pub amount: String,
    pub order: String,
}

impl Default for ColumnNames {
    fn default() -> Self {
        ColumnNames {
            customer: "customer".into(),
            date: "date".into(),
            amount: "amount".into(),
            order: "order".into(),
        }
    }
}

/// A transaction table in the form the core works on: dense codes instead of
/// ids, integer timestamps ("ticks", wall clock) instead of datetimes.
#[derive(Debug, Clone)]
pub struct Transactions<'a> {
    /// Customer code per row, in `0..n_customers`, or [`NULL_CODE`].
    pub customer: &'a [i64],
    pub n_customers: usize,
    /// Timestamp per row in ticks since the epoch (wall clock), or [`NAT`].
    pub time: &'a [i64],
    /// Ticks in one day: 86_400 for seconds, ..., 86_400e9 for nanoseconds, 1 for dates.
    pub ticks_per_day: i64,
    /// Amount per row; `None` when the table has no amount (every valid row is a purchase).
    pub amount: Option<&'a [f64]>,
    /// Order code per row in `0..n_orders`, or [`NULL_CODE`]; `None` when rows are orders.
    pub order: Option<&'a [i64]>,
    pub n_orders: usize,
    pub names: ColumnNames,
}

/// What a row is, once it is known to be valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Purchase,
    Return,
    Dropped(DropReason),
}

impl<'a> Transactions<'a> {
    /// Checks lengths, codes and units so that nothing later can index out of bounds.
    ///
    /// # Errors
    /// [`RfmError::Length`], [`RfmError::Code`] or [`RfmError::Parameter`].
    pub fn validate(&self) -> Result<()> {
        self.validate_shape()?;
        check_codes("customer", self.customer, self.n_customers)
    }

    /// [`Transactions::validate`] but for the customer codes, which the aggregation passes
    /// check row by row as they read them (see [`Transactions::customer_index`]) rather than
    /// in a pass of their own.
    pub(crate) fn validate_shape(&self) -> Result<()> {
        let n = self.customer.len();
        let check_len = |what: &'static str, got: usize| same_length(what, got, n);
        check_len("date", self.time.len())?;
        if let Some(amount) = self.amount {
            check_len("amount", amount.len())?;
        }
        if let Some(order) = self.order {
            check_len("order", order.len())?;
            check_codes("order", order, self.n_orders)?;
        }
        if self.ticks_per_day <= 0 {
            return Err(RfmError::parameter(
                "ticks_per_day",
                format!("must be positive, got {}", self.ticks_per_day),
            ));
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.customer.len()
    }

    pub fn is_empty(&self) -> bool {
        self.customer.is_empty()
    }

    /// Calendar day (days since 1970-01-01) of a timestamp.
    #[inline]
    pub fn day(&self, ticks: i64) -> i64 {
        ticks.div_euclid(self.ticks_per_day)
    }

    /// The first reason that makes row `i` invalid, if any.
    #[inline]
    pub(crate) fn invalid_reason(&self, i: usize) -> Option<DropReason> {
        if self.customer[i] < 0 {
            return Some(DropReason::MissingCustomer);
        }
        if self.time[i] == NAT {
            return Some(DropReason::MissingDate);
        }
        if let Some(amount) = self.amount {
            if !amount[i].is_finite() {
                return Some(DropReason::InvalidAmount);
            }
        }
        if let Some(order) = self.order {
            if order[i] < 0 {
                return Some(DropReason::MissingOrder);
            }
        }
        None
    }

    /// Last valid timestamp (ticks), over every valid row whatever its amount.
    pub(crate) fn max_valid_time(&self) -> Option<i64> {
        max_valid_time(self.len(), self.time, |i| self.invalid_reason(i).is_none())
    }
}

/// The last of the timestamps `time` of the rows `0..rows` that `valid` accepts (in
/// parallel); `time` holds at least every valid row.
pub(crate) fn max_valid_time(
    rows: usize,
    time: &[i64],
    valid: impl Fn(usize) -> bool + Sync + Send,
) -> Option<i64> {
    use rayon::prelude::*;
    (0..rows)
        .into_par_iter()
        .with_min_len(1 << 16)
        .filter(|&i| valid(i))
        .map(|i| time[i])
        .max()
}

/// Purchase, return, or dropped by the zero and return policies, for the amount of a valid row.
#[inline]
pub(crate) fn kind_of_amount(value: f64, policy: &RowPolicy) -> Kind {
    if value > 0.0 {
        Kind::Purchase
    } else if value == 0.0 {
        match policy.zero {
            ZeroPolicy::Keep => Kind::Purchase,
            ZeroPolicy::Drop => Kind::Dropped(DropReason::ZeroAmount),
        }
    } else {
        match policy.returns {
            // Raise is checked up front by `check_rows`; counting is the safe fallback.
            ReturnPolicy::Net => Kind::Return,
            ReturnPolicy::Drop | ReturnPolicy::Raise => Kind::Dropped(DropReason::Return),
        }
    }
}

/// The error of `invalid="raise"` for `row`, invalid for `reason` (`amount`: the row's
/// amount, quoted when it is the amount that is invalid).
pub(crate) fn invalid_row_error(
    reason: DropReason,
    row: usize,
    amount: Option<f64>,
    names: &ColumnNames,
) -> RfmError {
    let (field, column, name, value) = match reason {
        DropReason::MissingCustomer => (Field::Customer, "customer", &names.customer, "null".to_string()),
        DropReason::MissingDate => (Field::Date, "date", &names.date, "null (NaT)".to_string()),
        DropReason::MissingOrder => (Field::Order, "order", &names.order, "null".to_string()),
        _ => {
            let value = amount.unwrap_or(f64::NAN);
            let text = if value.is_nan() {
                "null (NaN)".to_string()
            } else {
                format!("{value} (not finite)")
            };
            (Field::Amount, "amount", &names.amount, text)
        }
    };
    RfmError::InvalidRow {
        row,
        field,
        column,
        name: name.clone(),
        value,
    }
}

/// [`RfmError::Length`] unless the column `what` has the `expected` number of rows.
pub(crate) fn same_length(what: &'static str, got: usize, expected: usize) -> Result<()> {
    if got == expected {
        Ok(())
    } else {
        Err(RfmError::Length { what, got, expected })
    }
}

fn check_codes(what: &'static str, codes: &[i64], n_codes: usize) -> Result<()> {
    use rayon::prelude::*;
    let bad = codes
        .par_iter()
        .with_min_len(1 << 16)
        .position_first(|&code| code < NULL_CODE || (code >= 0 && code as u64 >= n_codes as u64));
    match bad {
        Some(row) => Err(RfmError::Code {
            what,
            row,
            code: codes[row],
            n_codes,
        }),
        None => Ok(()),
    }
}

/// Hints the CPU to load `slice[index]` into the cache: the aggregations touch one
/// per-customer state per row at random, and asking for it a few rows ahead overlaps
/// those cache misses instead of waiting for each in turn.
#[inline(always)]
pub(crate) fn prefetch<T>(slice: &[T], index: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let ptr = slice.as_ptr().wrapping_add(index);
        // SAFETY: a prefetch is only a hint: it never faults and reads nothing, whatever the
        // address (`wrapping_add` keeps the pointer arithmetic defined); SSE, the only target
        // feature it needs, is part of the x86_64 baseline.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(ptr.cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (slice, index);
}

/// [`prefetch`] of the first and the last byte of `slice[index]`: an element that
/// straddles two cache lines (a 40-byte state does one time in two) needs both.
#[inline(always)]
pub(crate) fn prefetch_whole<T>(slice: &[T], index: usize) {
    prefetch(slice, index);
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let last = slice
            .as_ptr()
            .wrapping_add(index)
            .cast::<u8>()
            .wrapping_add(std::mem::size_of::<T>().saturating_sub(1));
        // SAFETY: as in `prefetch`: a hint that never faults, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(last.cast::<i8>()) };
    }
}

/// How many rows ahead [`prefetch`] asks for a customer's state.
pub(crate) const PREFETCH_AHEAD: usize = 16;

/// Splits `0..n_customers` into `parts` contiguous ranges of about equal size (some may
/// be empty when there are more parts than customers).
pub(crate) fn customer_ranges(n_customers: usize, parts: usize) -> Vec<std::ops::Range<usize>> {
    let parts = parts.max(1);
    let size = n_customers.div_ceil(parts);
    (0..parts)
        .map(|p| (p * size).min(n_customers)..((p + 1) * size).min(n_customers))
        .collect()
}

/// Number of customer ranges to work on in parallel: one per worker on big inputs,
/// one below `1 << 16` rows, where threads cost more than they save.
pub(crate) fn parallel_parts(n_rows: usize) -> usize {
    if n_rows < 1 << 16 {
        1
    } else {
        rayon::current_num_threads().max(1)
    }
}

/// Splits `0..n` into contiguous chunks, one per worker, in row order.
pub(crate) fn row_chunks(n: usize) -> Vec<std::ops::Range<usize>> {
    const MIN_CHUNK: usize = 1 << 16;
    let workers = rayon::current_num_threads().max(1);
    let chunks = (n / MIN_CHUNK).clamp(1, workers);
    let size = n.div_ceil(chunks).max(1);
    (0..chunks)
        .map(|c| (c * size).min(n)..((c + 1) * size).min(n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_from_the_one_table_of_their_names() {
        assert_eq!(ZeroPolicy::parse("keep").unwrap(), ZeroPolicy::Keep);
        assert_eq!(ReturnPolicy::parse("raise").unwrap(), ReturnPolicy::Raise);
        assert_eq!(InvalidPolicy::names(), ["drop", "raise"]);
        let error = ReturnPolicy::parse("keep").unwrap_err().to_string();
        assert!(
            error.contains(r#"returns="keep" is not one of "net", "drop", "raise""#),
            "{error}"
        );
        assert!(matches!(
            ZeroPolicy::parse("none"),
            Err(RfmError::Parameter { name: "zero", .. })
        ));
    }
}
