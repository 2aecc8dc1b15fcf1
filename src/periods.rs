//! The one table of time units: calendar periods (hour, day, week, month, quarter, year)
//! as integer indexes the way pandas' `to_period` buckets timestamps, and the nominal
//! length of each unit that the CLV formulas need.
//!
//! Every function that takes a `freq` (the BTYD summary, calibration/holdout, the fitters,
//! `customer_lifetime_value`, `clv.simple`'s `period`, `analyze`) asks this table, through
//! the binding, rather than keeping its own list: an alias one function accepts, they all
//! accept.

use crate::error::{Result, RfmError};

/// The day a week ends on, as pandas' anchored weeks name it ("W-WED" ends on Wednesday
/// and so starts on Thursday).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    /// Monday 0 .. Sunday 6.
    fn number(self) -> i64 {
        self as i64
    }
}

/// A time unit of the BTYD summary and the CLV models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Hour,
    Day,
    /// Seven days ending on the given weekday; pandas' "W" is `Week(Weekday::Sun)`.
    Week(Weekday),
    Month,
    /// Calendar quarters (January–March, ...), pandas' "Q" (= "Q-DEC").
    Quarter,
    /// Calendar years, pandas' "Y" (= "Y-DEC").
    Year,
}

/// Days in the month of the CLV formulas: lifetimes' `customer_lifetime_value` counts a
/// month as 30 days (and 720 hours). Quarters and years are 3 and 12 such months (the
/// 30/360 convention), so that every unit's length follows from this one number.
pub const MONTH_DAYS: f64 = 30.0;

/// Weeks in a month, lifetimes' factor (365.25 / 12 / 7 rounded): not `MONTH_DAYS / 7`,
/// so that weekly CLVs reproduce lifetimes.
pub const WEEKS_PER_MONTH: f64 = 4.345;

/// Every accepted `freq` alias and its unit, in the order the error messages list them.
pub const TIME_UNIT_ALIASES: &[(&str, Period)] = &[
    ("h", Period::Hour),
    ("H", Period::Hour),
    ("D", Period::Day),
    ("W", Period::Week(Weekday::Sun)),
    ("W-SUN", Period::Week(Weekday::Sun)),
    ("W-MON", Period::Week(Weekday::Mon)),
    ("W-TUE", Period::Week(Weekday::Tue)),
    ("W-WED", Period::Week(Weekday::Wed)),
    ("W-THU", Period::Week(Weekday::Thu)),
    ("W-FRI", Period::Week(Weekday::Fri)),
    ("W-SAT", Period::Week(Weekday::Sat)),
    ("M", Period::Month),
    ("ME", Period::Month),
    ("Q", Period::Quarter),
    ("QE", Period::Quarter),
    ("Y", Period::Year),
    ("YE", Period::Year),
    ("A", Period::Year),
];

impl Period {
    /// Parses a pandas alias of [`TIME_UNIT_ALIASES`]: `h`/`H`, `D`, `W` (= `W-SUN`),
    /// `W-MON` .. `W-SAT`, `M`/`ME`, `Q`/`QE`, `Y`/`YE`/`A`.
    ///
    /// # Errors
    /// [`RfmError::Parameter`] (naming `freq`) for anything else, listing the aliases.
    pub fn parse(alias: &str) -> Result<Period> {
        TIME_UNIT_ALIASES
            .iter()
            .find(|(name, _)| *name == alias)
            .map(|&(_, period)| period)
            .ok_or_else(|| {
                RfmError::parameter(
                    "freq",
                    format!(
                        "{alias:?} is not a time unit; use one of {}",
                        Period::alias_list()
                    ),
                )
            })
    }

    /// The accepted aliases, quoted and comma-separated (for error messages).
    pub fn alias_list() -> String {
        TIME_UNIT_ALIASES
            .iter()
            .map(|(name, _)| format!("{name:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The name a summary and a fitted model record: the shortest pandas alias
    /// ("W" for weeks ending on Sunday, "W-WED" for the anchored ones).
    pub fn canonical(self) -> &'static str {
        match self {
            Period::Hour => "h",
            Period::Day => "D",
            Period::Week(Weekday::Sun) => "W",
            Period::Week(Weekday::Mon) => "W-MON",
            Period::Week(Weekday::Tue) => "W-TUE",
            Period::Week(Weekday::Wed) => "W-WED",
            Period::Week(Weekday::Thu) => "W-THU",
            Period::Week(Weekday::Fri) => "W-FRI",
            Period::Week(Weekday::Sat) => "W-SAT",
            Period::Month => "M",
            Period::Quarter => "Q",
            Period::Year => "Y",
        }
    }

    /// Nominal length of one unit in days: an hour 1/24, a week 7, a month [`MONTH_DAYS`],
    /// a quarter 3 and a year 12 months.
    pub fn days(self) -> f64 {
        match self {
            Period::Hour => 1.0 / 24.0,
            Period::Day => 1.0,
            Period::Week(_) => 7.0,
            Period::Month => MONTH_DAYS,
            Period::Quarter => 3.0 * MONTH_DAYS,
            Period::Year => 12.0 * MONTH_DAYS,
        }
    }

    /// Units in the month of the CLV formulas (lifetimes' factors): 720 hours, 30 days,
    /// [`WEEKS_PER_MONTH`] weeks, 1 month, 1/3 quarter, 1/12 year.
    pub fn periods_per_month(self) -> f64 {
        match self {
            Period::Week(_) => WEEKS_PER_MONTH,
            other => MONTH_DAYS / other.days(),
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
            Period::Week(ends_on) => (day + week_offset(ends_on)).div_euclid(7),
            Period::Month => {
                let (year, month, _) = civil_from_days(day);
                year * 12 + (month as i64 - 1)
            }
            Period::Quarter => {
                let (year, month, _) = civil_from_days(day);
                year * 4 + (month as i64 - 1) / 3
            }
            Period::Year => civil_from_days(day).0,
        }
    }

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
            Period::Week(ends_on) => (index * 7 - i128::from(week_offset(ends_on))) * tpd,
            Period::Month => {
                let days = days_from_civil(index.div_euclid(12), (index.rem_euclid(12) + 1) as u32);
                days * tpd
            }
            Period::Quarter => {
                let month = (index.rem_euclid(4) * 3 + 1) as u32;
                days_from_civil(index.div_euclid(4), month) * tpd
            }
            Period::Year => days_from_civil(index, 1) * tpd,
        };
        ticks.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }
}

/// What to add to a day number (days since 1970-01-01, a Thursday) so that the weeks
/// ending on `ends_on` start at multiples of 7: the week starts the day after it ends.
fn week_offset(ends_on: Weekday) -> i64 {
    const THURSDAY: i64 = 3;
    let starts_on = (ends_on.number() + 1) % 7;
    (THURSDAY - starts_on).rem_euclid(7)
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
        let week = |day| Period::Week(Weekday::Sun).index(day, 1);
        assert_eq!(week(19_728), week(19_729));
        assert_eq!(week(19_729) + 1, week(19_730));
    }

    #[test]
    fn anchored_weeks_end_on_their_day() {
        // 2024-01-03 is a Wednesday (day 19_725): "W-WED" weeks run Thursday..Wednesday.
        let wednesday = 19_725;
        for (ends_on, end_day) in [
            (Weekday::Mon, wednesday - 2),
            (Weekday::Tue, wednesday - 1),
            (Weekday::Wed, wednesday),
            (Weekday::Thu, wednesday + 1),
            (Weekday::Fri, wednesday + 2),
            (Weekday::Sat, wednesday + 3),
            (Weekday::Sun, wednesday + 4),
        ] {
            let week = |day| Period::Week(ends_on).index(day, 1);
            assert_eq!(week(end_day - 6), week(end_day), "{ends_on:?}");
            assert_eq!(week(end_day) + 1, week(end_day + 1), "{ends_on:?}");
        }
    }

    #[test]
    fn the_table_of_units() {
        for &(alias, period) in TIME_UNIT_ALIASES {
            assert_eq!(Period::parse(alias), Ok(period));
            // The canonical name is itself an alias of the same unit.
            assert_eq!(Period::parse(period.canonical()), Ok(period));
            assert!(period.days() > 0.0 && period.periods_per_month() > 0.0);
        }
        assert_eq!(Period::parse("W-SUN"), Ok(Period::Week(Weekday::Sun)));
        assert_eq!(Period::Week(Weekday::Sun).canonical(), "W");
        assert_eq!(Period::Day.periods_per_month(), 30.0);
        assert_eq!(Period::Hour.periods_per_month(), 720.0);
        assert_eq!(Period::Week(Weekday::Wed).periods_per_month(), 4.345);
        assert_eq!(Period::Month.periods_per_month(), 1.0);
        assert_eq!(Period::Quarter.periods_per_month(), 1.0 / 3.0);
        assert_eq!(Period::Year.periods_per_month(), 1.0 / 12.0);
        assert_eq!(Period::Year.days(), 360.0);
        let error = Period::parse("weekly").unwrap_err().to_string();
        assert!(
            error.contains("`freq`") && error.contains("\"weekly\"") && error.contains("\"W-WED\""),
            "{error}"
        );
    }

    #[test]
    fn quarters_and_years_are_calendar_ones() {
        // 2024-03-31 (day 19_813) and 2024-04-01.
        assert_eq!(Period::Quarter.index(19_813, 1), 2024 * 4);
        assert_eq!(Period::Quarter.index(19_814, 1), 2024 * 4 + 1);
        assert_eq!(Period::Year.index(19_813, 1), 2024);
        assert_eq!(Period::Year.index(-1, 1), 1969);
        assert_eq!(Period::Quarter.start_tick(2024 * 4 + 1, 1), 19_814);
        assert_eq!(Period::Year.start_tick(1970, 1), 0);
    }

    #[test]
    fn period_bounds_hold_exactly_the_ticks_of_the_period() {
        for ticks_per_day in [1, 7, 24, 86_400, 86_400_000_000] {
            for period in [
                Period::Hour,
                Period::Day,
                Period::Week(Weekday::Sun),
                Period::Week(Weekday::Wed),
                Period::Month,
                Period::Quarter,
                Period::Year,
            ] {
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
        assert!(Period::parse("2W").is_err());
    }
}
