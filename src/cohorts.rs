//! Acquisition cohorts: what each customer spent in each calendar period in which it
//! bought, with the rows read as the RFM table reads them (the same validity, observation
//! date and zero and return policies), in one pass over the rows.

use crate::error::{Result, RfmError};
use crate::money::fsum;
use crate::rows::{kind_of_amount, Kind, RowPolicy, Transactions};

/// One entry per customer and period with a counted row (a purchase, or a return under
/// `returns="net"`), by customer then period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Activity {
    /// Customer code.
    pub customer: Vec<i64>,
    /// Period index: position in the `period_starts` given to [`activity`]; rows before
    /// the first period count in period 0.
    pub period: Vec<i64>,
    /// The customer's amounts in the period: its purchases and returns (the exactly
    /// rounded sum, in any row order).
    pub spend: Vec<f64>,
    /// Whether the customer made a purchase in the period (else only returns).
    pub purchased: Vec<bool>,
}

/// What every customer of `tx` bought and returned in each period: period `p` holds the
/// days in `[period_starts[p], period_starts[p + 1])` (the last one up to `as_of_day`,
/// exclusive; days before the first period count in it). Invalid rows, rows on or after
/// `as_of_day` and rows the policy drops are left out (they are counted by the RFM table
/// of the same rows), so that the spends add up to the RFM table's monetary.
///
/// # Errors
/// [`RfmError::Parameter`] when `period_starts` is empty or does not increase, and the
/// errors of [`Transactions::validate`].
pub fn activity(
    tx: &Transactions<'_>,
    as_of_day: i64,
    period_starts: &[i64],
    policy: &RowPolicy,
) -> Result<Activity> {
    tx.validate()?;
    if period_starts.is_empty() || period_starts.windows(2).any(|pair| pair[0] >= pair[1]) {
        return Err(RfmError::parameter(
            "period_starts",
            "the first days of the periods must be given in increasing order",
        ));
    }
    let periods = period_starts.len() as u64;
    // (customer * periods + period, amount, is a purchase), in row order
    let mut rows: Vec<(u64, f64, bool)> = Vec::new();
    for i in 0..tx.len() {
        if tx.invalid_reason(i).is_some() {
            continue;
        }
        let day = tx.day(tx.time[i]);
        if day >= as_of_day {
            continue;
        }
        let position = period_starts.partition_point(|&start| start <= day).max(1);
        let amount = tx.amount.map_or(0.0, |a| a[i]);
        let purchase = match tx
            .amount
            .map_or(Kind::Purchase, |_| kind_of_amount(amount, policy))
        {
            Kind::Purchase => true,
            Kind::Return => false,
            Kind::Dropped(_) => continue,
        };
        let key = (tx.customer[i] as u64) * periods + (position - 1) as u64;
        rows.push((key, amount, purchase));
    }
    rows.sort_by_key(|row| row.0);
    let mut out = Activity::default();
    for group in rows.chunk_by(|a, b| a.0 == b.0) {
        let key = group[0].0;
        out.customer.push((key / periods) as i64);
        out.period.push((key % periods) as i64);
        out.spend.push(fsum(group.iter().map(|row| row.1)));
        out.purchased.push(group.iter().any(|row| row.2));
    }
    Ok(out)
}

/// The first days of the periods (`period`: a day-based unit of the one table of time
/// units, [`crate::periods::Period`]) that hold the days `first_day..=last_day`, in order:
/// the `period_starts` of [`activity`] for cohorts in that unit.
///
/// # Errors
/// [`RfmError::Parameter`] for hours (cohorts are made of days) or `last_day < first_day`.
pub fn period_starts(period: crate::periods::Period, first_day: i64, last_day: i64) -> Result<Vec<i64>> {
    if period == crate::periods::Period::Hour {
        return Err(RfmError::parameter(
            "freq",
            "cohorts are periods of days: use D, W (or W-MON ...), M, Q or Y",
        ));
    }
    if last_day < first_day {
        return Err(RfmError::parameter(
            "last_day",
            format!("{last_day} is before {first_day}"),
        ));
    }
    let (first, last) = (period.index(first_day, 1), period.index(last_day, 1));
    Ok((first..=last).map(|index| period.start_tick(index, 1)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::{ReturnPolicy, ZeroPolicy, NAT, NULL_CODE};
    use crate::testing::table;

    #[test]
    fn periods_with_their_purchases_and_returns() {
        // periods: days [0, 10), [10, 20), [20, as_of = 25)
        let customer = [0, 0, 0, 1, 1, 2, NULL_CODE, 0, 2];
        let time = [1, 12, 13, 5, 21, 30, 3, NAT, 24];
        let amount = [10.0, 5.0, -2.0, 7.0, 0.0, 9.0, 4.0, 3.0, -1.0];
        let policy = RowPolicy::default();
        let got = activity(&table(&customer, &time, &amount), 25, &[0, 10, 20], &policy).unwrap();
        // customer 1's zero-amount row is dropped (no purchase in period 2); customer 2
        // bought after as_of only: its return in period 2 is spend without a purchase
        assert_eq!(got.customer, vec![0, 0, 1, 2]);
        assert_eq!(got.period, vec![0, 1, 0, 2]);
        assert_eq!(got.spend, vec![10.0, 3.0, 7.0, -1.0]);
        assert_eq!(got.purchased, vec![true, true, true, false]);

        let keep = RowPolicy {
            zero: ZeroPolicy::Keep,
            returns: ReturnPolicy::Drop,
            ..policy
        };
        let got = activity(&table(&customer, &time, &amount), 25, &[0, 10, 20], &keep).unwrap();
        assert_eq!(got.customer, vec![0, 0, 1, 1]);
        assert_eq!(got.period, vec![0, 1, 0, 2]);
        assert_eq!(got.spend, vec![10.0, 5.0, 7.0, 0.0]);
        assert!(got.purchased.iter().all(|&p| p));
    }

    #[test]
    fn rows_before_the_first_period_count_in_it() {
        let got = activity(
            &table(&[0, 0], &[-5, 2], &[-3.0, 4.0]),
            10,
            &[0],
            &RowPolicy::default(),
        )
        .unwrap();
        assert_eq!(
            (got.customer, got.period, got.spend),
            (vec![0], vec![0], vec![1.0])
        );
    }

    #[test]
    fn period_starts_follow_the_table_of_time_units() {
        use crate::periods::{Period, Weekday};
        // 2024-01-31 (Wednesday) .. 2024-03-02: day numbers 19753 .. 19784
        let months = period_starts(Period::Month, 19753, 19784).unwrap();
        assert_eq!(months, vec![19723, 19754, 19783]); // 1 Jan, 1 Feb, 1 Mar 2024
        let weeks = period_starts(Period::Week(Weekday::Wed), 19753, 19760).unwrap();
        assert_eq!(weeks, vec![19747, 19754]); // weeks ending on Wednesday start on Thursday
        assert!(period_starts(Period::Hour, 0, 1).is_err());
        assert!(period_starts(Period::Day, 5, 1).is_err());
    }

    #[test]
    fn period_starts_must_increase() {
        for starts in [&[][..], &[3, 3][..], &[5, 1][..]] {
            let error = activity(&table(&[0], &[1], &[1.0]), 10, starts, &RowPolicy::default()).unwrap_err();
            assert!(error.to_string().contains("increasing order"), "{error}");
        }
    }
}
