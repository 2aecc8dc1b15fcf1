"""Time units, as the Rust core's one table defines them (src/periods.rs).

Every Python function that takes a time unit (`freq=` of the BTYD summary, the fitters and
`customer_lifetime_value`, `period=` of `rfmkit.clv.simple`, `analyze`'s CLV step) reads it
here, and this module only asks the core: there is no second list of aliases or lengths.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from rfmkit import _core
from rfmkit.exceptions import InvalidParameterError


@dataclass(frozen=True)
class TimeUnit:
    """One row of the table: the name results record, the nominal length in days, and the
    units in the CLV month (lifetimes' factors: 30 days, 4.345 weeks, 720 hours)."""

    canonical: str
    days: float
    periods_per_month: float


@functools.cache
def aliases() -> tuple[str, ...]:
    """Every accepted alias, in the core's order."""
    return tuple(_core.time_unit_aliases())


def time_unit(value: Any, name: str = "freq") -> TimeUnit:
    """The unit of alias `value`; anything else raises `InvalidParameterError` naming
    `name`, the value and the accepted aliases.

    Examples
    --------
    >>> from rfmkit._units import time_unit
    >>> time_unit("W-SUN")
    TimeUnit(canonical='W', days=7.0, periods_per_month=4.345)
    >>> time_unit("Q").periods_per_month
    0.3333333333333333
    """
    if isinstance(value, str) and value in aliases():
        unit = _core.time_unit(value)
        return TimeUnit(unit["canonical"], float(unit["days"]), float(unit["periods_per_month"]))
    listed = ", ".join(repr(alias) for alias in aliases())
    raise InvalidParameterError(
        f"{name}={value!r} is not a time unit; pass one of {listed} (pandas' aliases: 'h' hours, 'D' days, "
        f"'W' weeks ending on Sunday, 'W-WED' weeks ending on Wednesday, 'M' months, 'Q' quarters, 'Y' years)"
    )


def is_calendar(unit: TimeUnit) -> bool:
    """Months, quarters and years: units of no fixed length, which the table counts in
    months (hours, days and weeks have a fixed length in days)."""
    return unit.days >= time_unit("M").days


def length_in(period: TimeUnit, unit: TimeUnit) -> float:
    """The length of one `period` in `unit`s, read from the table.

    Units of a fixed length (hours, days, weeks) convert by their days (a week is 7 days,
    a day 24 hours), calendar units (months, quarters, years) by theirs (a quarter is 3
    months, a year 12); from a calendar unit to a fixed one through the CLV month of the
    table (``periods_per_month``: 30 days, 4.345 weeks, 720 hours — lifetimes' factors),
    so that a month of a daily model is 30 days and one of a weekly model 4.345 weeks.

    Examples
    --------
    >>> from rfmkit._units import length_in, time_unit
    >>> [length_in(time_unit(p), time_unit("D")) for p in ("D", "W", "M", "Q", "Y")]
    [1.0, 7.0, 30.0, 90.0, 360.0]
    >>> round(length_in(time_unit("M"), time_unit("W")), 3), length_in(time_unit("Y"), time_unit("M"))
    (4.345, 12.0)
    """
    if is_calendar(period) == is_calendar(unit):
        return period.days / unit.days
    month = time_unit("M").days
    if is_calendar(period):
        return period.days / month * unit.periods_per_month
    return 1.0 / period.periods_per_month / (unit.days / month)
