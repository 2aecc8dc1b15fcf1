//! Calendar periods (hour, day, week, month) as integer indexes, the way pandas'
//! `to_period` buckets timestamps: weeks end on Sunday ("W" is "W-SUN").

use crate::error::{Result, RfmError};

/// The unit of the lifetimes-style summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Hour,
    Day,
    Week,
    Month,
}

impl Period {
    /// Parses the pandas alias: `h`/`H`, `D`, `W`, `M`.
    ///
    /// # Errors
    /// [`RfmError::Parameter`] for anything else.
    pub fn parse(alias: &str) -> Result<Period> {
        match alias {
            "h" | "H" => Ok(Period::Hour),
            "D" => Ok(Period::Day),
            "W" | "W-SUN" => Ok(Period::Week),
            "M" | "ME" => Ok(Period::Month),
            other => Err(RfmError::parameter(
                "freq",
                format!("unknown period {other:?}; use one of \"h\", \"D\", \"W\", \"M\""),
            )),
        }
    }

    /// Index of the period holding `ticks`; consecutive periods have consecutive indexes,
    /// so differences of indexes count whole periods.
    #[inline]
    pub fn index(self, ticks: i64, ticks_per_day: i64) -> i64 {
        let day = ticks.div_euclid(ticks_per_day);
        match self {
            Period::Day => day,
            Period::Hour => {
                let within_day = ticks.rem_euclid(ticks_per_day) as i128;
                day * 24 + (within_day * 24 / ticks_per_day as i128) as i64
            }
            // 1970-01-01 is a Thursday; weeks start on Monday.
            Period::Week => (day + 3).div_euclid(7),
            Period::Month => {
                let (year, month, _) = civil_from_days(day);
                year * 12 + (month as i64 - 1)
            }
        }
    }
}

impl Period {
    /// The first tick of period `index` (the smallest tick `t` with `self.index(t) >= index`),
    /// clamped to the `i64` range.
    pub fn start_tick(self, index: i64, ticks_per_day: i64) -> i64 {
        let tpd = i128::from(ticks_per_day);
        let index = i128::from(index);
        let ticks = match self {
            Period::Day => index * tpd,
            Period::Hour => {
                let (day, hour) = (index.div_euclid(24), index.rem_euclid(24));
                // The first tick t of the day with floor(t * 24 / tpd) >= hour.
                day * tpd + (hour * tpd + 23) / 24
            }
            Period::Week => (index * 7 - 3) * tpd,
            Period::Month => {
                let days = days_from_civil(index.div_euclid(12), (index.rem_euclid(12) + 1) as u32);
                days * tpd
            }
        };
        ticks.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }
}

/// The period of the ticks of a stream that mostly stays in one period (rows in time
/// order): a tick inside the cached period's bounds needs no division.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PeriodCache {
    period: Period,
    ticks_per_day: i64,
    index: i64,
    start: i64,
    end: i64,
}

impl PeriodCache {
    pub(crate) fn new(period: Period, ticks_per_day: i64) -> Self {
        PeriodCache {
            period,
            ticks_per_day,
            index: 0,
            start: 0,
            end: 0,
        }
    }

    /// `self.period.index(ticks, ticks_per_day)`.
    #[inline]
    pub(crate) fn index(&mut self, ticks: i64) -> i64 {
        if ticks < self.start || ticks >= self.end {
            self.index = self.period.index(ticks, self.ticks_per_day);
            self.start = self.period.start_tick(self.index, self.ticks_per_day);
            self.end = self
                .period
                .start_tick(self.index.saturating_add(1), self.ticks_per_day);
        }
        self.index
    }
}

/// Day number (days since 1970-01-01) of the first day of `month` (1..=12) of `year`,
/// Howard Hinnant's `days_from_civil`.
fn days_from_civil(year: i128, month: u32) -> i128 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i128::from(month);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month 1..=12, day 1..=31) of a day number (days since 1970-01-01),
/// Howard Hinnant's `civil_from_days`.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(19_783), (2024, 3, 1));
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2024-01-07 is a Sunday (day 19_729), 2024-01-08 a Monday.
        let week = |day| Period::Week.index(day, 1);
        assert_eq!(week(19_728), week(19_729));
        assert_eq!(week(19_729) + 1, week(19_730));
    }

    #[test]
    fn period_bounds_hold_exactly_the_ticks_of_the_period() {
        for ticks_per_day in [1, 7, 24, 86_400, 86_400_000_000] {
            for period in [Period::Hour, Period::Day, Period::Week, Period::Month] {
                let mut cache = PeriodCache::new(period, ticks_per_day);
                let step = (ticks_per_day / 5).max(1);
                for k in -3_000i64..3_000 {
                    let ticks = 19_000 * ticks_per_day + k * step * 13 + k % 3;
                    let index = period.index(ticks, ticks_per_day);
                    let start = period.start_tick(index, ticks_per_day);
                    let end = period.start_tick(index + 1, ticks_per_day);
                    assert!(
                        start <= ticks && ticks < end,
                        "{period:?} {ticks_per_day} {ticks}"
                    );
                    assert_eq!(period.index(start, ticks_per_day), index);
                    assert_eq!(period.index(end - 1, ticks_per_day), index);
                    // Greater, not always by one: with fewer than 24 ticks a day, some hours are empty.
                    assert!(period.index(end, ticks_per_day) > index);
                    assert_eq!(cache.index(ticks), index);
                }
            }
        }
        assert_eq!(days_from_civil(1970, 1), 0);
        assert_eq!(days_from_civil(2024, 3), 19_783);
        assert_eq!(Period::Day.start_tick(i64::MAX, 86_400), i64::MAX);
    }

    #[test]
    fn hours_and_months() {
        let ns_per_day = 86_400_000_000_000;
        assert_eq!(
            Period::Hour.index(ns_per_day + 3_600_000_000_000 * 5 + 1, ns_per_day),
            29
        );
        assert_eq!(Period::Hour.index(-1, ns_per_day), -1);
        assert_eq!(Period::Month.index(0, 1), 1970 * 12);
        assert_eq!(Period::Month.index(31, 1), 1970 * 12 + 1);
        assert!(Period::parse("Q").is_err());
    }
}
