//! Per-customer RFM features from a transaction table (DESIGN.md, "Definitions").

use hashbrown::HashSet;
use rayon::prelude::*;

use crate::error::{Result, RfmError};
use crate::rows::{row_chunks, Accounting, DropReason, Kind, RowPolicy, Transactions};

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
    /// Whole days from the day of the first purchase to `as_of`.
    pub tenure: Vec<i64>,
    /// The observation date used; `None` when no row is valid.
    pub as_of_day: Option<i64>,
    pub accounting: Accounting,
}

/// Running state of one customer. One struct per customer (not one array per field):
/// each row then touches one cache line, which is what the aggregation's speed hangs on.
#[derive(Debug, Clone, Copy)]
struct CustomerState {
    first_time: i64,
    first_row: i64,
    last_time: i64,
    last_row: i64,
    purchase_sum: f64,
    return_sum: f64,
    purchase_rows: u32,
    return_rows: u32,
}

impl CustomerState {
    const EMPTY: CustomerState = CustomerState {
        first_time: i64::MAX,
        first_row: -1,
        last_time: i64::MIN,
        last_row: -1,
        purchase_sum: 0.0,
        return_sum: 0.0,
        purchase_rows: 0,
        return_rows: 0,
    };

    /// Folds `later`, whose rows all come after this one's, into `self`.
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
        self.purchase_sum += later.purchase_sum;
        self.return_rows += later.return_rows;
        self.return_sum += later.return_sum;
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
/// [`RfmError::Parameter`] for a window that is not positive, the errors of
/// [`Transactions::validate`], and [`RfmError::InvalidRow`] / [`RfmError::ReturnRow`]
/// under the `raise` policies.
pub fn rfm(tx: &Transactions<'_>, options: &RfmOptions) -> Result<RfmTable> {
    tx.validate()?;
    if tx.amount.is_none() {
        return Err(RfmError::parameter(
            "amount",
            "the RFM table needs an amount column",
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
    let as_of_day = match options.as_of_day {
        Some(day) => Some(day),
        None => tx.max_valid_time().map(|t| tx.day(t) + 1),
    };
    let window_start = match (as_of_day, options.window_days) {
        (Some(as_of), Some(window)) => Some(as_of.checked_sub(window).ok_or_else(|| {
            RfmError::parameter("window", format!("{window} days before as_of is out of range"))
        })?),
        _ => None,
    };
    let observation = as_of_day.map(|day| Observation::new(day, window_start, tx.ticks_per_day));
    tx.check_rows(&policy, |time| {
        observation.is_some_and(|obs| obs.excludes(time).is_none())
    })?;

    let mut accounting = Accounting {
        rows_in: tx.len(),
        ..Accounting::default()
    };
    let (Some(as_of_day), Some(observation)) = (as_of_day, observation) else {
        // No valid row at all: every row is dropped for its invalid field.
        for i in 0..tx.len() {
            if let Some(reason) = tx.invalid_reason(i) {
                accounting.drop_row(reason);
            }
        }
        return Ok(RfmTable {
            accounting,
            ..RfmTable::default()
        });
    };

    let n_customers = tx.n_customers;
    let amount = tx.amount.unwrap_or_default();
    let partials: Vec<(Vec<CustomerState>, Accounting)> = row_chunks(tx.len())
        .into_par_iter()
        .map(|range| {
            let mut states = vec![CustomerState::EMPTY; n_customers];
            let mut counts = Accounting::default();
            for i in range {
                if let Some(reason) = tx.invalid_reason(i) {
                    counts.drop_row(reason);
                    continue;
                }
                let time = tx.time[i];
                if let Some(reason) = observation.excludes(time) {
                    counts.drop_row(reason);
                    continue;
                }
                let state = &mut states[tx.customer[i] as usize];
                match tx.amount_kind(i, &policy) {
                    Kind::Purchase => {
                        if time < state.first_time {
                            state.first_time = time;
                            state.first_row = i as i64;
                        }
                        if time > state.last_time {
                            state.last_time = time;
                            state.last_row = i as i64;
                        }
                        state.purchase_rows += 1;
                        state.purchase_sum += amount[i];
                    }
                    Kind::Return => {
                        state.return_rows += 1;
                        state.return_sum += amount[i];
                    }
                    Kind::Dropped(reason) => counts.drop_row(reason),
                }
            }
            (states, counts)
        })
        .collect();
    let mut parts = partials.into_iter();
    let (mut states, counts) = parts
        .next()
        .unwrap_or_else(|| (vec![CustomerState::EMPTY; n_customers], Accounting::default()));
    accounting.add(&counts);
    for (later, counts) in parts {
        states
            .iter_mut()
            .zip(later.iter())
            .for_each(|(state, later)| state.merge(later));
        accounting.add(&counts);
    }

    let order_counts = tx
        .order
        .map(|order| distinct_orders(tx, order, observation, &policy));

    let mut table = RfmTable {
        as_of_day: Some(as_of_day),
        ..RfmTable::default()
    };
    for (c, state) in states.iter().enumerate() {
        let purchases = state.purchase_rows as usize;
        let returns = state.return_rows as usize;
        if purchases == 0 {
            accounting.dropped[DropReason::ReturnWithoutPurchase as usize] += returns;
            continue;
        }
        accounting.rows_used += purchases + returns;
        let frequency = order_counts
            .as_ref()
            .map_or(purchases as i64, |counts| counts[c] as i64);
        let monetary = state.purchase_sum + state.return_sum;
        table.customer.push(c as i64);
        table.recency.push(as_of_day - tx.day(state.last_time));
        table.tenure.push(as_of_day - tx.day(state.first_time));
        table.frequency.push(frequency);
        table.monetary.push(monetary);
        table.avg_order_value.push(monetary / frequency as f64);
        table.first_row.push(state.first_row);
        table.last_row.push(state.last_row);
    }
    table.accounting = accounting;
    Ok(table)
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
