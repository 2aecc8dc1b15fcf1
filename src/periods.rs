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
