//! The views of one in-memory table, each a [`State`] updated once and finished: the
//! Rust API of the core, on a [`Transactions`] table of dense customer codes or (the BTYD
//! views) one [`Batch`] of ids as they are.

use rayon::prelude::*;

use super::CalibrationHoldout;
use super::{Batch, Ids, RfmTable, RfmView, State, StateOptions, Summary, SummaryView};

use crate::error::Result;
use crate::periods::Period;
use crate::rows::{ReturnPolicy, RowPolicy, Transactions, ZeroPolicy};

/// Options of [`rfm`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RfmOptions {
    /// Observation date (exclusive) as a day number; `None`: the day after the last valid row.
    pub as_of_day: Option<i64>,
    /// Only rows on days in `[as_of - window, as_of)` count.
    pub window_days: Option<i64>,
    pub policy: RowPolicy,
}

/// Options of [`summary`] and [`calibration_holdout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryOptions {
    pub period: Period,
    /// Rows in periods after the period of this timestamp (ticks) are excluded;
    /// `None`: the last valid timestamp.
    pub observation_end: Option<i64>,
    /// Count the first purchase period in `frequency` and in `monetary_value`.
    pub include_first_transaction: bool,
    pub policy: RowPolicy,
}

impl SummaryOptions {
    /// No cut-off, zero amounts kept as purchases (as lifetimes and the papers count
    /// them), returns dropped (spend models need positive amounts).
    pub fn new(period: Period) -> Self {
        SummaryOptions {
            period,
            observation_end: None,
            include_first_transaction: false,
            policy: RowPolicy {
                returns: ReturnPolicy::Drop,
                zero: ZeroPolicy::Keep,
                ..RowPolicy::default()
            },
        }
    }
}

/// The codes of `tx` as ids: a code is its own id, [`crate::rows::NULL_CODE`] a null.
struct CodeIds {
    valid: Option<Vec<bool>>,
    order_valid: Option<Vec<bool>>,
}

impl CodeIds {
    fn of(tx: &Transactions<'_>) -> Result<CodeIds> {
        tx.validate()?;
        // Validity only where a code is null (the scan is much cheaper than the vector).
        let validity = |codes: &[i64]| {
            codes
                .par_iter()
                .any(|&c| c < 0)
                .then(|| codes.par_iter().map(|&c| c >= 0).collect())
        };
        Ok(CodeIds {
            valid: validity(tx.customer),
            order_valid: tx.order.and_then(validity),
        })
    }

    fn batch<'a>(&'a self, tx: &Transactions<'a>) -> Batch<'a> {
        Batch {
            customer: Ids::Int {
                values: tx.customer,
                validity: self.valid.as_deref(),
            },
            time: tx.time,
            amount: tx.amount,
            order: tx.order.map(|values| Ids::Int {
                values,
                validity: self.order_valid.as_deref(),
            }),
        }
    }
}

/// The codes of the state's customers, in its index order.
fn codes(state: &State) -> Vec<i64> {
    match state.customers() {
        super::Keys::Int(keys) => keys.keys.clone(),
        _ => Vec::new(),
    }
}

/// The positions that put `codes` (distinct codes of one table, so small and
/// non-negative) in increasing order: placed by code, no sort.
fn order_by(codes: &[i64]) -> Vec<usize> {
    let n = codes.iter().max().map_or(0, |&m| m.max(0) as usize + 1);
    let mut slot = vec![usize::MAX; n];
    for (k, &code) in codes.iter().enumerate() {
        slot[code.max(0) as usize] = k;
    }
    slot.into_iter().filter(|&k| k != usize::MAX).collect()
}

fn permute<T: Copy>(values: &mut Vec<T>, order: &[usize]) {
    if values.len() == order.len() {
        *values = order.iter().map(|&k| values[k]).collect();
    }
}

/// Computes the RFM table, one row per customer with a purchase in customer-code order.
///
/// # Errors
/// [`crate::RfmError::Parameter`] for a window that is not positive or more than
/// `u32::MAX` rows, the errors of [`Transactions::validate`], and
/// [`crate::RfmError::InvalidRow`] / [`crate::RfmError::ReturnRow`] under the `raise` policies.
pub fn rfm(tx: &Transactions<'_>, options: &RfmOptions) -> Result<RfmTable> {
    let ids = CodeIds::of(tx)?;
    let batch = ids.batch(tx);
    // A window with the default as_of: the last valid row first.
    let as_of_day = match (options.as_of_day, options.window_days) {
        (None, Some(_)) => tx.max_valid_time().map(|t| tx.day(t) + 1),
        (day, _) => day,
    };
    let window_days = if as_of_day.is_none() {
        None
    } else {
        options.window_days
    };
    if let Some(window) = options.window_days {
        if window <= 0 || as_of_day.is_none() {
            // Checked by the state (a window needs an as_of; without a valid row there is none).
            StateOptions {
                rfm: Some(RfmView {
                    as_of_day: Some(0),
                    window_days: Some(window),
                }),
                ..state_options(tx, options.policy, false)
            }
            .check()?;
        }
    }
    let mut state = State::new(StateOptions {
        rfm: Some(RfmView {
            as_of_day,
            window_days,
        }),
        ..state_options(tx, options.policy, tx.order.is_some())
    })?;
    state.update(&batch)?;
    let mut table = state.finish_rfm(None, true)?;
    let keys = codes(&state);
    let mut customer: Vec<i64> = table.customer.iter().map(|&k| keys[k as usize]).collect();
    let order = order_by(&customer);
    permute(&mut customer, &order);
    table.customer = customer;
    for column in [
        &mut table.recency,
        &mut table.frequency,
        &mut table.first_row,
        &mut table.last_row,
        &mut table.first_time,
        &mut table.last_time,
        &mut table.tenure,
    ] {
        permute(column, &order);
    }
    permute(&mut table.monetary, &order);
    permute(&mut table.avg_order_value, &order);
    Ok(table)
}

fn state_options(tx: &Transactions<'_>, policy: RowPolicy, orders: bool) -> StateOptions {
    StateOptions {
        policy,
        ticks_per_day: tx.ticks_per_day,
        rfm: None,
        summary: None,
        orders,
        names: tx.names.clone(),
    }
}

/// The state of one whole table's rows `batch` for a BTYD view, and its finish: folded in
/// one pass over the rows when that works (each customer's rows in time order, the usual
/// export), else (or on any error, so that errors are the plain state's) with the period
/// log. With `first_rows`, the state records the row where each id first appears.
fn btyd<T>(
    batch: &Batch<'_>,
    options: StateOptions,
    first_rows: bool,
    finish: impl Fn(&mut State) -> Result<T>,
) -> Result<(State, T)> {
    let start = |state: &mut State| {
        if first_rows {
            state.record_first_rows();
        }
        state.update(batch)
    };
    let mut folded = State::folding(options.clone())?;
    if start(&mut folded).is_ok() && folded.folded_completely() {
        if let Ok(out) = finish(&mut folded) {
            return Ok((folded, out));
        }
    }
    drop(folded);
    let mut state = State::new(options)?;
    start(&mut state)?;
    let out = finish(&mut state)?;
    Ok((state, out))
}

/// The rows where the ids of `customers` (state indexes) first appear.
fn first_rows_of(state: &State, customers: &[i64]) -> Result<Vec<u64>> {
    let rows = state.first_rows().unwrap_or_default();
    customers
        .iter()
        .map(|&k| {
            rows.get(k as usize)
                .copied()
                .filter(|&row| row != u64::MAX)
                .ok_or_else(|| crate::RfmError::Internal(format!("no first row recorded for customer {k}")))
        })
        .collect()
}

/// [`btyd`] of one whole table given as one batch (ids as they are), recording the first
/// rows: its view finished by `finish`, with the row where the id of each of its
/// `customers` first appears.
fn btyd_of_batch<T>(
    batch: &Batch<'_>,
    options: StateOptions,
    include_first_transaction: bool,
    finish: impl Fn(&mut State, bool) -> Result<T>,
    customers: impl Fn(&T) -> &[i64],
) -> Result<(T, Vec<u64>)> {
    let (state, out) = btyd(batch, options, true, |state| {
        finish(state, include_first_transaction)
    })?;
    let rows = first_rows_of(&state, customers(&out))?;
    Ok((out, rows))
}

/// The lifetimes-style summary of one whole table given as one batch (ids as they are),
/// `options` with the summary view and no calibration end: customers (state indexes) in
/// order of first appearance, with the row where each id first appears.
///
/// # Errors
/// Those of [`State::new`], [`State::update`] and [`State::finish_summary`].
pub fn summary_of_batch(
    batch: &Batch<'_>,
    options: StateOptions,
    include_first_transaction: bool,
) -> Result<(Summary, Vec<u64>)> {
    btyd_of_batch(
        batch,
        options,
        include_first_transaction,
        State::finish_summary,
        |out| &out.customer,
    )
}

/// [`summary_of_batch`] for the calibration/holdout split (`options` with a calibration end).
///
/// # Errors
/// Those of [`State::new`], [`State::update`] and [`State::finish_calibration_holdout`].
pub fn calibration_holdout_of_batch(
    batch: &Batch<'_>,
    options: StateOptions,
    include_first_transaction: bool,
) -> Result<(CalibrationHoldout, Vec<u64>)> {
    btyd_of_batch(
        batch,
        options,
        include_first_transaction,
        State::finish_calibration_holdout,
        |out| &out.calibration.customer,
    )
}

/// [`btyd`] of the table by its customer codes, with the summary view of `options`
/// (and a calibration end when given), finished by `finish`.
fn btyd_of_codes<T>(
    tx: &Transactions<'_>,
    options: &SummaryOptions,
    calibration_end: Option<i64>,
    finish: impl Fn(&mut State, bool) -> Result<T>,
) -> Result<(State, T)> {
    let state_options = StateOptions {
        summary: Some(SummaryView {
            period: options.period,
            observation_end: options.observation_end,
            calibration_end,
        }),
        ..state_options(tx, options.policy, false)
    };
    let ids = CodeIds::of(tx)?;
    btyd(&ids.batch(tx), state_options, false, |state| {
        finish(state, options.include_first_transaction)
    })
}

fn summary_codes(state: &State, summary: &mut Summary) -> Vec<usize> {
    let keys = codes(state);
    let mut customer: Vec<i64> = summary.customer.iter().map(|&k| keys[k as usize]).collect();
    let order = order_by(&customer);
    permute(&mut customer, &order);
    summary.customer = customer;
    permute(&mut summary.frequency, &order);
    permute(&mut summary.recency, &order);
    permute(&mut summary.t, &order);
    permute(&mut summary.monetary_value, &order);
    order
}

/// The lifetimes-style summary of every customer with a purchase, in customer-code order.
///
/// # Errors
/// The errors of [`Transactions::validate`], and [`crate::RfmError::InvalidRow`] /
/// [`crate::RfmError::ReturnRow`] under the `raise` policies.
pub fn summary(tx: &Transactions<'_>, options: &SummaryOptions) -> Result<Summary> {
    let (state, mut out) = btyd_of_codes(tx, options, None, State::finish_summary)?;
    if tx.amount.is_none() {
        out.monetary_value.clear();
    }
    summary_codes(&state, &mut out);
    Ok(out)
}

/// Calibration summary up to `calibration_end` (inclusive, ticks) and, for the same
/// customers, their purchases in `(calibration_end, observation_end]`.
///
/// # Errors
/// [`crate::RfmError::Parameter`] when the calibration end is not before the observation
/// end, and the errors of [`summary`].
pub fn calibration_holdout(
    tx: &Transactions<'_>,
    calibration_end: i64,
    options: &SummaryOptions,
) -> Result<CalibrationHoldout> {
    let (state, mut out) = btyd_of_codes(
        tx,
        options,
        Some(calibration_end),
        State::finish_calibration_holdout,
    )?;
    if tx.amount.is_none() {
        out.calibration.monetary_value.clear();
    }
    let order = summary_codes(&state, &mut out.calibration);
    permute(&mut out.frequency_holdout, &order);
    permute(&mut out.monetary_value_holdout, &order);
    Ok(out)
}
