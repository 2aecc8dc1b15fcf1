//! Per-customer RFM features from a transaction table (DESIGN.md, "Definitions").

use hashbrown::HashSet;
use rayon::prelude::*;

use crate::encode::{id_bounds, slot_of, EMPTY_SLOT};
use crate::error::{Result, RfmError};
use crate::rows::{
    kind_of_amount, parallel_parts, prefetch, prefetch_whole, Accounting, DropReason, InvalidPolicy, Kind,
    ReturnPolicy, RowPolicy, Tally, Transactions, NAT, PREFETCH_AHEAD,
};

/// Options of [`rfm`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RfmOptions {
    /// Observation date (exclusive) as a day number; `None`: the day after the last valid row.
    pub as_of_day: Option<i64>,
    /// Only rows on days in `[as_of - window, as_of)` count.
    pub window_days: Option<i64>,
    pub policy: RowPolicy,
}

/// One row per customer with at least one purchase, in customer-code order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RfmTable {
    pub customer: Vec<i64>,
    /// Whole days from the day of the last purchase to `as_of`.
    pub recency: Vec<i64>,
    /// Number of purchases (distinct orders when orders are given).
    pub frequency: Vec<i64>,
    /// Sum of purchases, plus returns under `returns="net"`.
    pub monetary: Vec<f64>,
    pub avg_order_value: Vec<f64>,
    /// Row of the first purchase (earliest timestamp, then lowest row).
    pub first_row: Vec<i64>,
    /// Row of the last purchase (latest timestamp, then lowest row).
    pub last_row: Vec<i64>,
    /// Timestamps (ticks) of the first and last purchase: the times of `first_row`, `last_row`.
    pub first_time: Vec<i64>,
    pub last_time: Vec<i64>,
    /// Whole days from the day of the first purchase to `as_of`.
    pub tenure: Vec<i64>,
    /// The observation date used; `None` when no row is valid.
    pub as_of_day: Option<i64>,
    pub accounting: Accounting,
}

/// Running state of one customer. One small struct per customer (not one array per
/// field): each row then touches one state, mostly within one cache line, which is what
/// the aggregation's speed hangs on. Rows are `u32` to keep it at 40 bytes.
#[derive(Debug, Clone, Copy)]
struct CustomerState {
    first_time: i64,
    last_time: i64,
    /// Purchases and, under `returns="net"`, returns, summed in row order.
    sum: f64,
    first_row: u32,
    last_row: u32,
    purchase_rows: u32,
    return_rows: u32,
}

impl CustomerState {
    /// Folds `later`, whose rows all come after this one's, into `self`: strict
    /// comparisons keep the earlier (lower) row among equal timestamps.
    fn merge(&mut self, later: &CustomerState) {
        if later.first_time < self.first_time {
            self.first_time = later.first_time;
            self.first_row = later.first_row;
        }
        if later.last_time > self.last_time {
            self.last_time = later.last_time;
            self.last_row = later.last_row;
        }
        self.purchase_rows += later.purchase_rows;
        self.return_rows += later.return_rows;
        self.sum += later.sum;
    }

    const EMPTY: CustomerState = CustomerState {
        first_time: i64::MAX,
        last_time: i64::MIN,
        sum: 0.0,
        first_row: 0,
        last_row: 0,
        purchase_rows: 0,
        return_rows: 0,
    };

    /// A purchase at `time` in row `row`; rows come in increasing order, so among equal
    /// timestamps the first and last purchase keep the lowest row.
    #[inline]
    fn purchase(&mut self, time: i64, row: u32, amount: f64) {
        if time < self.first_time {
            self.first_time = time;
            self.first_row = row;
        }
        if time > self.last_time {
            self.last_time = time;
            self.last_row = row;
        }
        self.purchase_rows += 1;
        self.sum += amount;
    }
}

/// The observation as tick bounds: `day(t) >= as_of` iff `t >= as_of * ticks_per_day`
/// (floor division), so rows are classified without a division each.
#[derive(Debug, Clone, Copy)]
struct Observation {
    end_tick: i64,
    start_tick: Option<i64>,
}

impl Observation {
    fn new(as_of_day: i64, window_start: Option<i64>, ticks_per_day: i64) -> Self {
        Observation {
            end_tick: as_of_day.saturating_mul(ticks_per_day),
            start_tick: window_start.map(|day| day.saturating_mul(ticks_per_day)),
        }
    }

    #[inline]
    fn excludes(&self, tick: i64) -> Option<DropReason> {
        if tick >= self.end_tick {
            Some(DropReason::AfterAsOf)
        } else if self.start_tick.is_some_and(|start| tick < start) {
            Some(DropReason::BeforeWindow)
        } else {
            None
        }
    }
}

/// Computes the RFM table.
///
/// # Errors
/// [`RfmError::Parameter`] for a window that is not positive or more than `u32::MAX` rows,
/// the errors of [`Transactions::validate`], and [`RfmError::InvalidRow`] /
/// [`RfmError::ReturnRow`] under the `raise` policies.
pub fn rfm(tx: &Transactions<'_>, options: &RfmOptions) -> Result<RfmTable> {
    rfm_in_parts(tx, options, parallel_parts(tx.len()))
}

/// [`rfm`] with the customers split into `parts` ranges aggregated in parallel.
fn rfm_in_parts(tx: &Transactions<'_>, options: &RfmOptions, parts: usize) -> Result<RfmTable> {
    tx.validate_shape()?;
    if tx.amount.is_none() {
        return Err(RfmError::parameter(
            "amount",
            "the RFM table needs an amount column",
        ));
    }
    if u32::try_from(tx.len()).is_err() {
        return Err(RfmError::parameter(
            "data",
            format!(
                "{} rows is more than the {} rfmkit handles in one call; split the data",
                tx.len(),
                u32::MAX
            ),
        ));
    }
    if let Some(window) = options.window_days {
        if window <= 0 {
            return Err(RfmError::parameter(
                "window",
                format!("must be a positive number of days, got {window}"),
            ));
        }
    }
    let policy = options.policy;
    let raises = policy.invalid == InvalidPolicy::Raise || policy.returns == ReturnPolicy::Raise;
    // With the default `as_of` (the day after the last valid row) no valid row can be on or
    // after it, so the last valid time is found in the aggregation pass itself; a window or a
    // `raise` policy needs the observation before the pass.
    let as_of_known_first = options.as_of_day.is_some() || options.window_days.is_some() || raises;
    let mut as_of_day = match options.as_of_day {
        Some(day) => Some(day),
        None if as_of_known_first => {
            tx.validate()?;
            tx.max_valid_time().map(|t| tx.day(t) + 1)
        }
        None => None,
    };
    let window_start = match (as_of_day, options.window_days) {
        (Some(as_of), Some(window)) => Some(as_of.checked_sub(window).ok_or_else(|| {
            RfmError::parameter("window", format!("{window} days before as_of is out of range"))
        })?),
        _ => None,
    };
    let observation = as_of_day.map(|day| Observation::new(day, window_start, tx.ticks_per_day));
    if raises {
        tx.check_rows(&policy, |time| {
            observation.is_some_and(|obs| obs.excludes(time).is_none())
        })?;
    }

    // Contiguous row chunks, one per worker, each with states for every customer, merged
    // in row order: each row is read once (splitting customers instead made every worker
    // read every row, 1.5x the work, which no spare core pays for on a busy machine).
    let n = tx.len();
    let size = n.div_ceil(parts.max(1)).max(1);
    let chunks: Vec<std::ops::Range<usize>> = (0..parts.max(1))
        .map(|c| (c * size).min(n)..((c + 1) * size).min(n))
        .collect();
    let results: Vec<Result<Partial>> = chunks
        .into_par_iter()
        .map(|rows| aggregate_rows(tx, rows, observation, &policy))
        .collect();
    let mut partials: Vec<Partial> = Vec::with_capacity(results.len());
    for result in results {
        // The first error in row order.
        partials.push(result?);
    }
    let mut parts_in_order = partials.into_iter();
    let mut merged = parts_in_order.next().unwrap_or_else(|| Partial {
        states: vec![CustomerState::EMPTY; tx.n_customers],
        counts: Accounting::default(),
        max_time: None,
    });
    for later in parts_in_order {
        merged
            .states
            .par_iter_mut()
            .zip(later.states.par_iter())
            .with_min_len(1 << 14)
            .for_each(|(state, later)| state.merge(later));
        merged.counts.add(&later.counts);
        merged.max_time = merged.max_time.max(later.max_time);
    }
    let partials = [merged];
    let mut accounting = Accounting {
        rows_in: tx.len(),
        ..Accounting::default()
    };
    let mut max_time: Option<i64> = None;
    for partial in &partials {
        accounting.add(&partial.counts);
        max_time = max_time.max(partial.max_time);
    }
    if as_of_day.is_none() {
        as_of_day = max_time.map(|t| tx.day(t) + 1);
    }
    let Some(as_of_day) = as_of_day else {
        // No valid row at all: every row was dropped for its invalid field.
        return Ok(RfmTable {
            accounting,
            ..RfmTable::default()
        });
    };
    let observation = observation.unwrap_or_else(|| Observation::new(as_of_day, None, tx.ticks_per_day));

    let order_counts = tx
        .order
        .map(|order| distinct_orders(tx, order, observation, &policy));

    let [merged] = partials;
    Ok(finish_table(
        &merged.states,
        order_counts.as_deref(),
        as_of_day,
        tx.ticks_per_day,
        accounting,
        true,
    ))
}

/// The table of the customers with a purchase among `states` (in their order), with the
/// rows they use added to `accounting` and their returns without purchase counted.
/// Ranges of states are counted, then written, in parallel.
fn finish_table(
    states: &[CustomerState],
    order_counts: Option<&[u32]>,
    as_of_day: i64,
    ticks_per_day: i64,
    mut accounting: Accounting,
    with_rows: bool,
) -> RfmTable {
    const RANGE: usize = 1 << 15;
    let row_count = |buyers: usize| if with_rows { buyers } else { 0 };
    let ranges: Vec<&[CustomerState]> = states.chunks(RANGE).collect();
    let tallies: Vec<Tally> = ranges
        .par_iter()
        .map(|range| {
            Tally::of(range.iter().map(|s| {
                (
                    s.purchase_rows > 0,
                    s.purchase_rows as usize,
                    s.return_rows as usize,
                )
            }))
        })
        .collect();
    let buyers = accounting.add_tallies(&tallies);
    // Zeroed memory comes lazily from the OS; every element is written below.
    let mut table = RfmTable {
        as_of_day: Some(as_of_day),
        customer: vec![0; buyers],
        recency: vec![0; buyers],
        frequency: vec![0; buyers],
        monetary: vec![0.0; buyers],
        avg_order_value: vec![0.0; buyers],
        first_row: vec![0; row_count(buyers)],
        last_row: vec![0; row_count(buyers)],
        first_time: vec![0; buyers],
        last_time: vec![0; buyers],
        tenure: vec![0; buyers],
        accounting,
    };
    let mut out = OutRows::of(&mut table);
    let mut pieces = Vec::with_capacity(ranges.len());
    for tally in &tallies {
        let (piece, rest) = out.split_at(tally.buyers);
        pieces.push(piece);
        out = rest;
    }
    let day = |ticks: i64| ticks.div_euclid(ticks_per_day);
    pieces
        .into_par_iter()
        .zip(ranges.into_par_iter())
        .enumerate()
        .for_each(|(r, (mut out, range))| {
            let mut k = 0;
            for (offset, state) in range.iter().enumerate() {
                let purchases = state.purchase_rows;
                if purchases == 0 {
                    continue;
                }
                let c = r * RANGE + offset;
                let frequency = order_counts
                    .and_then(|counts| counts.get(c))
                    .map_or(i64::from(purchases), |&count| i64::from(count));
                out.write(
                    k,
                    [
                        c as i64,
                        as_of_day - day(state.last_time),
                        frequency,
                        i64::from(state.first_row),
                        i64::from(state.last_row),
                        state.first_time,
                        state.last_time,
                        as_of_day - day(state.first_time),
                    ],
                    state.sum,
                    state.sum / frequency as f64,
                );
                k += 1;
            }
        });
    table
}

/// Mutable slices of the columns of an [`RfmTable`], to write ranges of rows in parallel.
struct OutRows<'a> {
    ints: [&'a mut [i64]; 8],
    monetary: &'a mut [f64],
    avg_order_value: &'a mut [f64],
}

impl<'a> OutRows<'a> {
    fn of(table: &'a mut RfmTable) -> Self {
        OutRows {
            ints: [
                &mut table.customer,
                &mut table.recency,
                &mut table.frequency,
                &mut table.first_row,
                &mut table.last_row,
                &mut table.first_time,
                &mut table.last_time,
                &mut table.tenure,
            ],
            monetary: &mut table.monetary,
            avg_order_value: &mut table.avg_order_value,
        }
    }

    /// The first `k` rows and the rest (`k` is at most the number of rows; an empty
    /// column stays empty).
    fn split_at(self, k: usize) -> (Self, Self) {
        let mut heads: [&'a mut [i64]; 8] = Default::default();
        let mut tails: [&'a mut [i64]; 8] = Default::default();
        for ((column, head), tail) in self.ints.into_iter().zip(heads.iter_mut()).zip(tails.iter_mut()) {
            let k = k.min(column.len());
            (*head, *tail) = column.split_at_mut(k);
        }
        let (monetary, monetary_rest) = self.monetary.split_at_mut(k);
        let (aov, aov_rest) = self.avg_order_value.split_at_mut(k);
        (
            OutRows {
                ints: heads,
                monetary,
                avg_order_value: aov,
            },
            OutRows {
                ints: tails,
                monetary: monetary_rest,
                avg_order_value: aov_rest,
            },
        )
    }

    /// Row `k`: the integer columns in the order of `ints`, then monetary and the average.
    #[inline]
    fn write(&mut self, k: usize, ints: [i64; 8], monetary: f64, avg_order_value: f64) {
        for (column, value) in self.ints.iter_mut().zip(ints) {
            if let Some(slot) = column.get_mut(k) {
                *slot = value;
            }
        }
        if let Some(slot) = self.monetary.get_mut(k) {
            *slot = monetary;
        }
        if let Some(slot) = self.avg_order_value.get_mut(k) {
            *slot = avg_order_value;
        }
    }
}

/// The states of every customer over one chunk of rows, what the chunk dropped, and its
/// last valid time.
struct Partial {
    states: Vec<CustomerState>,
    counts: Accounting,
    max_time: Option<i64>,
}

/// Aggregates the rows `rows` (in order) into states for every customer.
fn aggregate_rows(
    tx: &Transactions<'_>,
    rows: std::ops::Range<usize>,
    observation: Option<Observation>,
    policy: &RowPolicy,
) -> Result<Partial> {
    let amount = tx.amount.unwrap_or_default();
    let n_customers = tx.n_customers;
    let mut states = vec![CustomerState::EMPTY; n_customers];
    let mut counts = Accounting::default();
    let mut max_time = NAT;
    let end = rows.end;
    for i in rows {
        if i + PREFETCH_AHEAD < end {
            if let Some(&ahead) = tx.customer.get(i + PREFETCH_AHEAD) {
                // Only valid codes: a prefetch of an address outside the allocation costs a
                // page-table walk for nothing.
                if (ahead as u64) < n_customers as u64 {
                    prefetch_whole(&states, ahead as usize);
                }
            }
        }
        let Some(customer) = tx.customer_index(i)? else {
            counts.drop_row(DropReason::MissingCustomer);
            continue;
        };
        if let Some(reason) = tx.invalid_reason(i) {
            counts.drop_row(reason);
            continue;
        }
        // `rfm` checked that there are amounts and that row numbers fit in u32.
        let (time, value, row) = (tx.time[i], amount[i], i as u32);
        let state = states.get_mut(customer);
        add_valid_row(
            state,
            time,
            value,
            row,
            observation,
            policy,
            &mut counts,
            &mut max_time,
        );
    }
    Ok(Partial {
        states,
        counts,
        max_time: latest_time(max_time),
    })
}

/// A row of a known customer with a valid date and amount: its time counts towards
/// `max_time`; then it is dropped when `observation` excludes it, else it goes into
/// `state` as a purchase or a return, or is dropped by `policy`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn add_valid_row(
    state: Option<&mut CustomerState>,
    time: i64,
    value: f64,
    row: u32,
    observation: Option<Observation>,
    policy: &RowPolicy,
    counts: &mut Accounting,
    max_time: &mut i64,
) {
    *max_time = (*max_time).max(time);
    if let Some(reason) = observation.and_then(|obs| obs.excludes(time)) {
        counts.drop_row(reason);
        return;
    }
    let Some(state) = state else {
        return;
    };
    match kind_of_amount(value, policy) {
        Kind::Purchase => state.purchase(time, row, value),
        Kind::Return => {
            state.return_rows += 1;
            state.sum += value;
        }
        Kind::Dropped(reason) => counts.drop_row(reason),
    }
}

/// The latest time of a chunk's valid rows from their running maximum (which starts at
/// [`NAT`], below every valid time); `None` when it has none.
fn latest_time(max_time: i64) -> Option<i64> {
    (max_time != NAT).then_some(max_time)
}

/// The columns of [`rfm_int_ids`]: integer ids as they are, not codes.
#[derive(Debug, Clone, Copy)]
pub struct IdColumns<'a> {
    /// Customer id per row; `validity[i] == false` marks a null.
    pub ids: &'a [i64],
    pub validity: Option<&'a [bool]>,
    /// Timestamp per row in ticks (wall clock), or [`NAT`].
    pub time: &'a [i64],
    pub ticks_per_day: i64,
    pub amount: &'a [f64],
}

/// [`rfm`] straight from integer ids that fill a dense range (the usual customer
/// numbers), without a code per row: each worker looks its rows' ids up in a table of
/// its own that numbers them in order of first appearance and aggregates at once, and
/// the workers' customers are merged in row order. `table.customer` indexes the
/// returned rows, the row where each customer first appears.
///
/// Without `with_rows`, `first_row` and `last_row` are left empty (a caller that only
/// needs the times saves 16 bytes per customer).
///
/// `Ok(None)` when this path does not apply (ids too sparse for a table, no valid id,
/// a `raise` policy, a window without `as_of`, a bad parameter or column length): then
/// [`crate::encode::encode_i64`] and [`rfm`] give the same table (and the errors).
///
/// # Errors
/// None at present; the signature leaves room for them.
pub fn rfm_int_ids(
    columns: &IdColumns<'_>,
    options: &RfmOptions,
    with_rows: bool,
) -> Result<Option<(RfmTable, Vec<i64>)>> {
    Ok(rfm_int_ids_in_parts(
        columns,
        options,
        parallel_parts(columns.ids.len()),
        with_rows,
    ))
}

fn rfm_int_ids_in_parts(
    columns: &IdColumns<'_>,
    options: &RfmOptions,
    parts: usize,
    with_rows: bool,
) -> Option<(RfmTable, Vec<i64>)> {
    let n = columns.ids.len();
    let policy = options.policy;
    let applies = columns.time.len() == n
        && columns.amount.len() == n
        && columns.validity.is_none_or(|valid| valid.len() == n)
        && columns.ticks_per_day > 0
        && u32::try_from(n).is_ok()
        && policy.invalid != InvalidPolicy::Raise
        && policy.returns != ReturnPolicy::Raise
        && (options.window_days.is_none() || options.as_of_day.is_some())
        && options.window_days.is_none_or(|window| window > 0);
    if !applies {
        return None;
    }
    let (lo, span) = id_bounds(columns.ids, columns.validity)?;
    // One u32 slot per possible id and worker: at most 4 bytes per row and worker.
    if span > (n as u128).max(1 << 16) {
        return None;
    }
    let span = span as usize;
    let window_start = match (options.as_of_day, options.window_days) {
        (Some(as_of), Some(window)) => Some(as_of.checked_sub(window)?),
        _ => None,
    };
    let observation = options
        .as_of_day
        .map(|day| Observation::new(day, window_start, columns.ticks_per_day));

    let size = n.div_ceil(parts.max(1)).max(1);
    let chunks: Vec<std::ops::Range<usize>> = (0..parts.max(1))
        .map(|c| (c * size).min(n)..((c + 1) * size).min(n))
        .collect();
    let partials: Vec<IdPartial> = chunks
        .into_par_iter()
        .map(|rows| aggregate_id_rows(columns, rows, lo, span, observation, &policy))
        .collect();
    let mut parts_in_order = partials.into_iter();
    let mut merged = parts_in_order.next()?;
    for later in parts_in_order {
        merged.counts.add(&later.counts);
        merged.max_time = merged.max_time.max(later.max_time);
        merged.merge(&later, columns.ids, lo);
    }
    let IdPartial {
        table,
        states,
        rows,
        counts,
        max_time,
    } = merged;
    drop(table);
    let mut accounting = Accounting {
        rows_in: n,
        ..Accounting::default()
    };
    accounting.add(&counts);
    let as_of_day = match options.as_of_day {
        Some(day) => day,
        None => match max_time {
            Some(t) => t.div_euclid(columns.ticks_per_day) + 1,
            None => {
                return Some((
                    RfmTable {
                        accounting,
                        ..RfmTable::default()
                    },
                    rows,
                ))
            }
        },
    };
    let table = finish_table(
        &states,
        None,
        as_of_day,
        columns.ticks_per_day,
        accounting,
        with_rows,
    );
    Some((table, rows))
}

/// One chunk of rows aggregated by id: `table` maps `id - lo` to an index in `states`
/// and `rows` (the row where the id first appears in the chunk), in order of first
/// appearance in the chunk.
struct IdPartial {
    table: Vec<u32>,
    states: Vec<CustomerState>,
    rows: Vec<i64>,
    counts: Accounting,
    max_time: Option<i64>,
}

impl IdPartial {
    /// Folds `later`, the partial of the rows after this one's, into `self`: its
    /// customers seen here merge into their states, the new ones follow in its order.
    fn merge(&mut self, later: &IdPartial, ids: &[i64], lo: i64) {
        for (k, (state, &row)) in later.states.iter().zip(later.rows.iter()).enumerate() {
            // Two steps ahead, as in `aggregate_id_rows`: a table slot, then a state.
            if let Some(&ahead) = later.rows.get(k + 2 * PREFETCH_AHEAD) {
                if let Some(&id) = ids.get(ahead as usize) {
                    prefetch(&self.table, slot_of(id, lo));
                }
            }
            if let Some(&ahead) = later.rows.get(k + PREFETCH_AHEAD) {
                let index = ids
                    .get(ahead as usize)
                    .and_then(|&id| self.table.get(slot_of(id, lo)));
                if let Some(&index) = index {
                    if (index as usize) < self.states.len() {
                        prefetch_whole(&self.states, index as usize);
                    }
                }
            }
            let Some(slot) = ids
                .get(row as usize)
                .and_then(|&id| self.table.get_mut(slot_of(id, lo)))
            else {
                continue;
            };
            if *slot == EMPTY_SLOT {
                *slot = self.states.len() as u32;
                self.states.push(*state);
                self.rows.push(row);
            } else if let Some(mine) = self.states.get_mut(*slot as usize) {
                mine.merge(state);
            }
        }
    }
}

/// Aggregates the rows `rows` (in order) by id; the ids of valid rows lie in `lo..lo + span`.
fn aggregate_id_rows(
    columns: &IdColumns<'_>,
    rows: std::ops::Range<usize>,
    lo: i64,
    span: usize,
    observation: Option<Observation>,
    policy: &RowPolicy,
) -> IdPartial {
    let IdColumns {
        ids,
        validity,
        time,
        amount,
        ..
    } = *columns;
    let valid = |i: usize| validity.is_none_or(|valid| valid[i]);
    // At most one customer per slot or row of this part (reserving for the whole
    // input would reserve parts × rows of address space).
    let capacity = span.min(rows.len());
    let mut part = IdPartial {
        table: vec![EMPTY_SLOT; span],
        states: Vec::with_capacity(capacity),
        rows: Vec::with_capacity(capacity),
        counts: Accounting::default(),
        max_time: None,
    };
    let mut max_time = NAT;
    let end = rows.end;
    for i in rows {
        // Two steps ahead: the table slot of a later row, then the state of a nearer one.
        if let Some(&ahead) = ids.get(i + 4 * PREFETCH_AHEAD) {
            let slot = slot_of(ahead, lo);
            if slot < span && i + 4 * PREFETCH_AHEAD < end {
                prefetch(&part.table, slot);
            }
        }
        if let Some(&ahead) = ids.get(i + 2 * PREFETCH_AHEAD) {
            if let Some(&index) = part.table.get(slot_of(ahead, lo)) {
                if (index as usize) < part.states.len() && i + 2 * PREFETCH_AHEAD < end {
                    prefetch_whole(&part.states, index as usize);
                }
            }
        }
        // The bounds pass guarantees a slot for every valid id.
        let slot = match ids.get(i) {
            Some(&id) if valid(i) => part.table.get_mut(slot_of(id, lo)),
            _ => None,
        };
        let Some(slot) = slot else {
            part.counts.drop_row(DropReason::MissingCustomer);
            continue;
        };
        if *slot == EMPTY_SLOT {
            *slot = part.states.len() as u32;
            part.states.push(CustomerState::EMPTY);
            part.rows.push(i as i64);
        }
        let index = *slot as usize;
        let tick = time[i];
        if tick == NAT {
            part.counts.drop_row(DropReason::MissingDate);
            continue;
        }
        let value = amount[i];
        if !value.is_finite() {
            part.counts.drop_row(DropReason::InvalidAmount);
            continue;
        }
        // `rfm_int_ids` checked that row numbers fit in u32.
        let state = part.states.get_mut(index);
        add_valid_row(
            state,
            tick,
            value,
            i as u32,
            observation,
            policy,
            &mut part.counts,
            &mut max_time,
        );
    }
    part.max_time = latest_time(max_time);
    part
}

/// Distinct order codes among each customer's purchase rows.
///
/// An order normally belongs to one customer, so each order remembers the first
/// customer that bought in it; only the rare order shared by several customers
/// goes through a hash set of (customer, order) pairs.
fn distinct_orders(
    tx: &Transactions<'_>,
    order: &[i64],
    observation: Observation,
    policy: &RowPolicy,
) -> Vec<u32> {
    let mut counts = vec![0u32; tx.n_customers];
    let mut owner = vec![-1i64; tx.n_orders];
    let mut shared: HashSet<(i64, i64)> = HashSet::new();
    for (i, &order_code) in order.iter().enumerate() {
        if tx.invalid_reason(i).is_some()
            || observation.excludes(tx.time[i]).is_some()
            || tx.amount_kind(i, policy) != Kind::Purchase
        {
            continue;
        }
        let customer = tx.customer[i];
        let o = order_code as usize;
        if owner[o] < 0 {
            owner[o] = customer;
            counts[customer as usize] += 1;
        } else if owner[o] != customer && shared.insert((customer, order_code)) {
            counts[customer as usize] += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::{ColumnNames, InvalidPolicy, ReturnPolicy, ZeroPolicy, NAT, NULL_CODE};

    fn table<'a>(customer: &'a [i64], day: &'a [i64], amount: &'a [f64]) -> Transactions<'a> {
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

    #[test]
    fn definitions_on_a_small_table() {
        // customer 0 buys on days 10 and 14 and returns 5 on day 15; customer 1 only returns.
        let customer = [0, 0, 0, 1, 0];
        let day = [10, 14, 15, 12, 14];
        let amount = [20.0, 30.0, -5.0, -8.0, 0.0];
        let result = rfm(&table(&customer, &day, &amount), &RfmOptions::default()).unwrap();
        assert_eq!(result.as_of_day, Some(16));
        assert_eq!(result.customer, vec![0]);
        assert_eq!(result.recency, vec![2]);
        assert_eq!(result.tenure, vec![6]);
        assert_eq!(result.frequency, vec![2]);
        assert_eq!(result.monetary, vec![45.0]);
        assert_eq!(result.avg_order_value, vec![22.5]);
        assert_eq!((result.first_row[0], result.last_row[0]), (0, 1));
        assert_eq!((result.first_time[0], result.last_time[0]), (10, 14));
        let acc = &result.accounting;
        assert_eq!(acc.rows_used, 3);
        assert_eq!(
            acc.dropped_counts(),
            vec![("zero_amount", 1), ("return_without_purchase", 1)]
        );
        assert_eq!(acc.rows_in, acc.rows_used + acc.dropped_total());
    }

    #[test]
    fn as_of_window_and_policies() {
        let customer = [0, 0, 0, 0];
        let day = [1, 5, 9, 20];
        let amount = [1.0, 2.0, -1.0, 4.0];
        let tx = table(&customer, &day, &amount);
        let options = RfmOptions {
            as_of_day: Some(10),
            window_days: Some(6),
            policy: RowPolicy {
                returns: ReturnPolicy::Drop,
                ..RowPolicy::default()
            },
        };
        let result = rfm(&tx, &options).unwrap();
        assert_eq!(result.frequency, vec![1]);
        assert_eq!(result.recency, vec![5]);
        assert_eq!(
            result.accounting.dropped_counts(),
            vec![("after_as_of", 1), ("before_window", 1), ("return", 1)]
        );
        let zero_kept = RfmOptions {
            policy: RowPolicy {
                zero: ZeroPolicy::Keep,
                ..RowPolicy::default()
            },
            ..RfmOptions::default()
        };
        let zeros = rfm(&table(&[0], &[3], &[0.0]), &zero_kept).unwrap();
        assert_eq!((zeros.frequency[0], zeros.recency[0]), (1, 1));
        let window = RfmOptions {
            window_days: Some(0),
            ..RfmOptions::default()
        };
        assert!(matches!(
            rfm(&tx, &window),
            Err(RfmError::Parameter { name: "window", .. })
        ));
    }

    #[test]
    fn raise_policies_name_the_first_bad_row() {
        let customer = [0, NULL_CODE, 0];
        let day = [1, 2, NAT];
        let amount = [1.0, 2.0, -3.0];
        let raise = RfmOptions {
            policy: RowPolicy {
                invalid: InvalidPolicy::Raise,
                ..RowPolicy::default()
            },
            ..RfmOptions::default()
        };
        let error = rfm(&table(&customer, &day, &amount), &raise).unwrap_err();
        assert!(matches!(error, RfmError::InvalidRow { row: 1, .. }));
        assert!(error.to_string().contains("customer column 'customer' is null"));
        let returns = RfmOptions {
            policy: RowPolicy {
                returns: ReturnPolicy::Raise,
                ..RowPolicy::default()
            },
            ..RfmOptions::default()
        };
        let error = rfm(&table(&[0, 0], &[1, 2], &[1.0, -3.0]), &returns).unwrap_err();
        assert!(matches!(error, RfmError::ReturnRow { row: 1, .. }));
    }

    #[test]
    fn order_lines_collapse_per_customer() {
        let customer = [0, 0, 1, 0, 1];
        let order = [0, 0, 0, 1, 2];
        let day = [1, 1, 1, 2, 3];
        let amount = [5.0, 5.0, 3.0, 1.0, 2.0];
        let tx = Transactions {
            order: Some(&order),
            n_orders: 3,
            ..table(&customer, &day, &amount)
        };
        let result = rfm(&tx, &RfmOptions::default()).unwrap();
        // Order 0 is shared by both customers: it counts once for each.
        assert_eq!(result.frequency, vec![2, 2]);
        assert_eq!(result.monetary, vec![11.0, 5.0]);
    }

    /// A deterministic mess: nulls, NaT, NaN, zeros, returns, ties and unsorted times.
    fn messy(n: usize, n_customers: i64) -> (Vec<i64>, Vec<i64>, Vec<f64>) {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |m: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % m
        };
        let mut customer = Vec::new();
        let mut day = Vec::new();
        let mut amount = Vec::new();
        for _ in 0..n {
            customer.push(if next(20) == 0 {
                NULL_CODE
            } else {
                next(n_customers as u64) as i64
            });
            day.push(if next(30) == 0 { NAT } else { next(12) as i64 });
            amount.push(match next(10) {
                0 => f64::NAN,
                1 => 0.0,
                2 => -(next(50) as f64),
                _ => next(100) as f64 + 0.25,
            });
        }
        (customer, day, amount)
    }

    /// The defaults, a window with as_of, an as_of inside the data, and kept zeros with
    /// dropped returns.
    fn option_sets() -> [RfmOptions; 4] {
        [
            RfmOptions::default(),
            RfmOptions {
                as_of_day: Some(9),
                window_days: Some(5),
                ..RfmOptions::default()
            },
            RfmOptions {
                as_of_day: Some(4),
                ..RfmOptions::default()
            },
            RfmOptions {
                policy: RowPolicy {
                    zero: ZeroPolicy::Keep,
                    returns: ReturnPolicy::Drop,
                    ..RowPolicy::default()
                },
                ..RfmOptions::default()
            },
        ]
    }

    #[test]
    fn any_number_of_parts_gives_the_sequential_result() {
        let (customer, day, amount) = messy(500, 37);
        let tx = Transactions {
            n_customers: 37,
            ..table(&customer, &day, &amount)
        };
        let options = option_sets();
        for options in &options {
            let one = rfm_in_parts(&tx, options, 1).unwrap();
            // More parts than customers leaves some ranges empty.
            for parts in [2, 3, 36, 37, 64] {
                assert_eq!(rfm_in_parts(&tx, options, parts).unwrap(), one, "parts {parts}");
            }
            let acc = &one.accounting;
            assert_eq!(acc.rows_in, acc.rows_used + acc.dropped_total());
        }
    }

    #[test]
    fn int_ids_give_the_table_of_their_codes() {
        let (customer, day, amount) = messy(700, 41);
        // Ids with gaps, from a negative number on; null rows hold junk values.
        let ids: Vec<i64> = customer
            .iter()
            .map(|&c| if c < 0 { 123_456 } else { c * 3 - 50 })
            .collect();
        let validity: Vec<bool> = customer.iter().map(|&c| c >= 0).collect();
        let encoded = crate::encode::encode_i64(&ids, Some(&validity)).unwrap();
        let tx = Transactions {
            customer: &encoded.codes,
            n_customers: encoded.n_codes(),
            ..table(&customer, &day, &amount)
        };
        let columns = IdColumns {
            ids: &ids,
            validity: Some(&validity),
            time: &day,
            ticks_per_day: 1,
            amount: &amount,
        };
        let options = option_sets();
        for options in &options {
            let expected = rfm(&tx, options).unwrap();
            for parts in [1, 2, 3, 7, 64, 700, 900] {
                let (got, rows) = rfm_int_ids_in_parts(&columns, options, parts, true).unwrap();
                assert_eq!(got, expected, "parts {parts}");
                let (without_rows, _) = rfm_int_ids_in_parts(&columns, options, parts, false).unwrap();
                assert!(without_rows.first_row.is_empty() && without_rows.last_row.is_empty());
                let restored = RfmTable {
                    first_row: got.first_row.clone(),
                    last_row: got.last_row.clone(),
                    ..without_rows
                };
                assert_eq!(restored, expected, "parts {parts}, without rows");
                assert_eq!(rows, encoded.first_rows, "parts {parts}");
            }
        }
        // Not for this path: a raise policy, a window without as_of, sparse ids, no valid id.
        let raise = RfmOptions {
            policy: RowPolicy {
                invalid: InvalidPolicy::Raise,
                ..RowPolicy::default()
            },
            ..RfmOptions::default()
        };
        assert!(rfm_int_ids(&columns, &raise, true).unwrap().is_none());
        let window = RfmOptions {
            window_days: Some(3),
            ..RfmOptions::default()
        };
        assert!(rfm_int_ids(&columns, &window, true).unwrap().is_none());
        let sparse = [0, i64::MAX];
        let sparse_columns = IdColumns {
            ids: &sparse,
            validity: None,
            time: &[1, 2],
            ticks_per_day: 1,
            amount: &[1.0, 2.0],
        };
        assert!(rfm_int_ids(&sparse_columns, &RfmOptions::default(), true)
            .unwrap()
            .is_none());
        let nulls = IdColumns {
            validity: Some(&[false, false]),
            ids: &[1, 2],
            ..sparse_columns
        };
        assert!(rfm_int_ids(&nulls, &RfmOptions::default(), true)
            .unwrap()
            .is_none());
    }

    #[test]
    fn bad_codes_are_found_in_any_part() {
        let customer = [0, 1, 7, 2];
        let tx = Transactions {
            n_customers: 3,
            ..table(&customer, &[1, 2, 3, 4], &[1.0; 4])
        };
        for parts in [1, 2, 5] {
            assert!(matches!(
                rfm_in_parts(&tx, &RfmOptions::default(), parts),
                Err(RfmError::Code { row: 2, code: 7, .. })
            ));
        }
        let negative = [0, -3];
        let tx = table(&negative, &[1, 2], &[1.0, 1.0]);
        assert!(matches!(
            rfm(&tx, &RfmOptions::default()),
            Err(RfmError::Code { row: 1, .. })
        ));
    }

    #[test]
    fn bad_inputs_are_errors_not_panics() {
        let tx = table(&[0, 5], &[1, 2], &[1.0, 1.0]);
        let short = Transactions {
            n_customers: 2,
            ..tx.clone()
        };
        assert!(matches!(
            rfm(&short, &RfmOptions::default()),
            Err(RfmError::Code { row: 1, .. })
        ));
        let mismatched = Transactions {
            time: &[1],
            ..tx.clone()
        };
        assert!(matches!(
            rfm(&mismatched, &RfmOptions::default()),
            Err(RfmError::Length { .. })
        ));
        let empty = rfm(&table(&[], &[], &[]), &RfmOptions::default()).unwrap();
        assert!(empty.customer.is_empty() && empty.as_of_day.is_none());
        let all_invalid = rfm(&table(&[NULL_CODE], &[1], &[1.0]), &RfmOptions::default()).unwrap();
        assert_eq!(
            all_invalid.accounting.dropped_counts(),
            vec![("missing_customer", 1)]
        );
    }
}
