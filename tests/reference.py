"""Reference implementations (the test oracle) of rfmkit's definitions.

Written from the "Definitions" section of DESIGN.md, row by row in plain Python on
top of pandas, deliberately slow and obvious.  Nothing here looks at src/ or at
rfmkit's Python front: if this module and rfmkit disagree, one of them misreads
the contract and the test says which numbers differ.

Conventions used throughout
---------------------------
* A row's *day* is the calendar day of its timestamp on its own wall clock
  (tz-aware timestamps: their local date), as a proleptic Gregorian ordinal
  (``datetime.date.toordinal``).
* Amount sums use ``math.fsum`` (exact), so the only float error in a comparison
  is rfmkit's own.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import OrderedDict
from typing import Any

import numpy as np
import pandas as pd

RFM_COLUMNS = ["recency", "frequency", "monetary", "avg_order_value", "first_purchase", "last_purchase", "tenure"]


class ReferenceRowError(ValueError):
    """The reference's stand-in for `rfmkit.InvalidRowError`."""

    def __init__(self, position: int, column: str, value: Any, reason: str):
        super().__init__(f"row {position}: {column}={value!r} ({reason})")
        self.position = position
        self.column = column
        self.value = value
        self.reason = reason


# --------------------------------------------------------------------------- scalars


def is_null(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, (np.floating,)) and np.isnan(value):
        return True
    if isinstance(value, np.datetime64) and np.isnat(value):
        return True
    try:
        return bool(pd.isna(value)) if np.ndim(value) == 0 else False
    except (TypeError, ValueError):
        return False


def is_missing_id(value: Any) -> bool:
    """A null id, or text that is empty or only blanks (an export's empty cell)."""
    return is_null(value) or (isinstance(value, str) and not value.strip())


def to_stamp(value: Any) -> pd.Timestamp | None:
    """A row's timestamp as a pandas Timestamp (tz-aware ones keep their zone)."""
    if is_null(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value
    if isinstance(value, dt.datetime):
        return pd.Timestamp(value)
    if isinstance(value, dt.date):
        return pd.Timestamp(value.year, value.month, value.day)
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value)
    raise TypeError(f"not a timestamp: {value!r}")


def wall(stamp: pd.Timestamp) -> dt.datetime:
    """The naive wall-clock datetime of a timestamp (its own local time)."""
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp


def day_of(stamp: pd.Timestamp) -> int:
    # For a tz-aware Timestamp `.date()` is its local calendar date.
    return stamp.date().toordinal()


def amount_of(value: Any) -> float:
    if is_null(value):
        return math.nan
    return float(value)


def as_of_ordinal(as_of: Any, tz: Any) -> int:
    """The ordinal of an `as_of` parameter on the data's wall clock; it must be a date."""
    stamp = as_of if isinstance(as_of, pd.Timestamp) else pd.Timestamp(as_of)
    if stamp.tzinfo is not None:
        if tz is not None:
            stamp = stamp.tz_convert(tz)
        stamp = stamp.tz_localize(None)
    if stamp != stamp.normalize():
        raise ValueError(f"as_of={as_of!r} has a time of day")
    return stamp.date().toordinal()


def ordinal_stamp(ordinal: int) -> pd.Timestamp:
    return pd.Timestamp(dt.date.fromordinal(ordinal))


def column_tz(series: pd.Series) -> Any:
    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        return dtype.tz
    if isinstance(dtype, pd.ArrowDtype):
        return getattr(dtype.pyarrow_dtype, "tz", None)
    return None


def column_values(series: pd.Series) -> list:
    """Python values of a column, nulls included (whatever their spelling)."""
    return list(series.astype(object)) if not isinstance(series.dtype, pd.CategoricalDtype) else list(series)


# --------------------------------------------------------------------------- rfm


def _row_invalid(cust: Any, stamp: Any, amt: float, order_value: Any, with_order: bool) -> str | None:
    if is_missing_id(cust):
        return "missing_customer"
    if stamp is None:
        return "missing_date"
    if not math.isfinite(amt):
        return "invalid_amount"
    if with_order and is_missing_id(order_value):
        return "missing_order"
    return None


_INVALID_COLUMN = {
    "missing_customer": "customer",
    "missing_date": "date",
    "invalid_amount": "amount",
    "missing_order": "order",
}


def reference_rfm(
    df: pd.DataFrame,
    customer: str,
    date: str,
    amount: str,
    order: str | None = None,
    as_of: Any = None,
    window: int | None = None,
    zero: str = "drop",
    returns: str = "net",
    invalid: str = "drop",
) -> tuple[pd.DataFrame, dict]:
    """The RFM table of DESIGN.md "Definitions".

    Returns ``(table, accounting)``: `table` is indexed by customer id (python values,
    object index) in order of the customer's first row in `df`, with the columns of
    `RFM_COLUMNS`; `accounting` has ``rows_in``, ``rows_used``, ``dropped`` (only
    reasons with a non-zero count) and ``as_of`` (naive midnight Timestamp or None).
    Raises `ReferenceRowError` where rfmkit must raise `InvalidRowError`.
    """
    if isinstance(window, dt.timedelta):
        window = pd.Timedelta(window).days
    n = len(df)
    customers = column_values(df[customer])
    stamps = [to_stamp(v) for v in column_values(df[date])]
    amounts = [amount_of(v) for v in column_values(df[amount])]
    orders = column_values(df[order]) if order is not None else [None] * n
    tz = column_tz(df[date])

    # 1. invalid fields, in the order customer, date, amount, order
    reason: list[str | None] = []
    for i in range(n):
        r = _row_invalid(customers[i], stamps[i], amounts[i], orders[i], order is not None)
        if r is not None and invalid == "raise":
            col = {"customer": customer, "date": date, "amount": amount, "order": order}[_INVALID_COLUMN[r]]
            value = {"customer": customers[i], "date": stamps[i], "amount": amounts[i], "order": orders[i]}[
                _INVALID_COLUMN[r]
            ]
            raise ReferenceRowError(i, col, value, r)
        reason.append(r)
    days = [day_of(s) if s is not None else None for s in stamps]

    # 2. as_of: given, or the day after the last valid row (any amount sign)
    if as_of is not None:
        as_of_day = as_of_ordinal(as_of, tz)
    else:
        valid_days = [days[i] for i in range(n) if reason[i] is None]
        as_of_day = max(valid_days) + 1 if valid_days else None
    window_start = as_of_day - window if (window is not None and as_of_day is not None) else None

    # 3. after_as_of, before_window, then the amount policy
    kind: list[str | None] = [None] * n  # "purchase" / "return" for rows still in play
    for i in range(n):
        if reason[i] is not None:
            continue
        if days[i] >= as_of_day:
            reason[i] = "after_as_of"
            continue
        if window_start is not None and days[i] < window_start:
            reason[i] = "before_window"
            continue
        a = amounts[i]
        if a > 0:
            kind[i] = "purchase"
        elif a == 0:
            if zero == "keep":
                kind[i] = "purchase"
            elif zero == "drop":
                reason[i] = "zero_amount"
            else:
                raise ValueError(zero)
        else:
            if returns == "net":
                kind[i] = "return"
            elif returns == "drop":
                reason[i] = "return"
            elif returns == "raise":
                raise ReferenceRowError(i, amount, a, "return")
            else:
                raise ValueError(returns)

    # 4. customers with a purchase; returns of the others are dropped
    first_row: dict[Any, int] = OrderedDict()
    for i in range(n):
        if not is_missing_id(customers[i]) and customers[i] not in first_row:
            first_row[customers[i]] = i
    buyers = {customers[i] for i in range(n) if kind[i] == "purchase"}
    for i in range(n):
        if kind[i] == "return" and customers[i] not in buyers:
            kind[i] = None
            reason[i] = "return_without_purchase"

    rows: dict[Any, dict] = {}
    for i in range(n):
        if kind[i] is None:
            continue
        c = customers[i]
        row = rows.setdefault(c, {"amounts": [], "orders": set(), "n": 0, "first": None, "last": None})
        row["amounts"].append(amounts[i])
        if kind[i] == "purchase":
            row["n"] += 1
            if order is not None:
                row["orders"].add(orders[i])
            s = stamps[i]
            if row["first"] is None or s < row["first"]:
                row["first"] = s
            if row["last"] is None or s > row["last"]:
                row["last"] = s

    ids = [c for c in first_row if c in rows]
    records = []
    for c in ids:
        row = rows[c]
        frequency = len(row["orders"]) if order is not None else row["n"]
        monetary = math.fsum(row["amounts"])
        records.append(
            {
                "recency": as_of_day - day_of(row["last"]),
                "frequency": frequency,
                "monetary": monetary,
                "avg_order_value": monetary / frequency,
                "first_purchase": row["first"],
                "last_purchase": row["last"],
                "tenure": as_of_day - day_of(row["first"]),
                "_scale": math.fsum(abs(a) for a in row["amounts"]),
            }
        )
    table = pd.DataFrame.from_records(records, columns=[*RFM_COLUMNS, "_scale"])
    table.index = pd.Index(ids, dtype=object, name=customer)

    accounting = {
        **_accounting(reason, kind),
        "as_of": ordinal_stamp(as_of_day) if as_of_day is not None else None,
    }
    return table, accounting


def _accounting(reason: list[str | None], kinds: list[str | None]) -> dict:
    """``rows_in``, ``rows_used`` (the rows of a kind) and ``dropped`` (reason -> count) of
    rows that each have a kind or a drop reason."""
    dropped: dict[str, int] = {}
    for r in reason:
        if r is not None:
            dropped[r] = dropped.get(r, 0) + 1
    rows_used = sum(1 for k in kinds if k is not None)
    assert len(reason) == rows_used + sum(dropped.values())
    return {"rows_in": len(reason), "rows_used": rows_used, "dropped": dropped}


# --------------------------------------------------------------------------- BTYD summary


def period_of(stamp: pd.Timestamp, freq: str) -> int:
    """An integer period number on the wall clock; differences count periods."""
    w = wall(stamp)
    ordinal = w.date().toordinal()
    if freq == "D":
        return ordinal
    if freq == "h":
        return ordinal * 24 + w.hour
    if freq == "W":
        # Weeks ending on Sunday (pandas "W" = "W-SUN"), i.e. starting on Monday;
        # date(1, 1, 1) (ordinal 1) is a Monday.
        return (ordinal - 1) // 7
    if freq == "M":
        return w.year * 12 + (w.month - 1)
    raise ValueError(freq)


def _end_stamp(value: Any, tz: Any) -> pd.Timestamp:
    stamp = value if isinstance(value, pd.Timestamp) else pd.Timestamp(value)
    if stamp.tzinfo is not None:
        if tz is not None:
            stamp = stamp.tz_convert(tz)
        stamp = stamp.tz_localize(None)
    return stamp


def _summary_rows(
    df: pd.DataFrame, customer: str, date: str, amount: str | None, invalid: str
) -> tuple[list, list, list, list[str | None]]:
    n = len(df)
    customers = column_values(df[customer])
    stamps = [to_stamp(v) for v in column_values(df[date])]
    amounts = [amount_of(v) for v in column_values(df[amount])] if amount is not None else [1.0] * n
    reason: list[str | None] = []
    for i in range(n):
        r = _row_invalid(customers[i], stamps[i], amounts[i], None, False)
        if r is not None and invalid == "raise":
            raise ReferenceRowError(i, {"missing_customer": customer, "missing_date": date}.get(r, amount), None, r)
        reason.append(r)
    return customers, stamps, amounts, reason


def _classify_amount(
    a: float, zero: str, returns: str, position: int, amount: str | None
) -> tuple[str | None, str | None]:
    """(kind, drop reason) of a row that passed the other checks."""
    if a > 0:
        return "purchase", None
    if a == 0:
        return ("purchase", None) if zero == "keep" else (None, "zero_amount")
    if returns == "net":
        return "return", None
    if returns == "drop":
        return None, "return"
    raise ReferenceRowError(position, amount, a, "return")


def _btyd(
    periods: list[int],
    amounts: list[float],
    kinds: list[str],
    end_period: int,
    include_first_transaction: bool,
    freq_multiplier: float,
) -> dict:
    """One customer's frequency, recency, T and monetary_value from its rows."""
    spend: dict[int, list[float]] = {}
    for p, a, k in zip(periods, amounts, kinds):
        if k == "purchase":
            spend.setdefault(p, []).append(a)
    buy_periods = sorted(spend)
    for p, a, k in zip(periods, amounts, kinds):
        if k == "return":
            # netted into the latest purchase period at or before the return
            earlier = [q for q in buy_periods if q <= p]
            spend[earlier[-1] if earlier else buy_periods[0]].append(a)
    first, last = buy_periods[0], buy_periods[-1]
    counted = buy_periods if include_first_transaction else buy_periods[1:]
    totals = [math.fsum(spend[p]) for p in counted]
    return {
        "frequency": float(len(counted)),
        "recency": (last - first) / freq_multiplier,
        "T": (end_period - first) / freq_multiplier,
        "monetary_value": (math.fsum(totals) / len(totals)) if totals else 0.0,
    }


def reference_summary(
    df: pd.DataFrame,
    customer: str,
    date: str,
    amount: str | None = None,
    freq: str = "D",
    observation_period_end: Any = None,
    freq_multiplier: float = 1,
    include_first_transaction: bool = False,
    zero: str = "drop",
    returns: str = "drop",
    invalid: str = "drop",
) -> tuple[pd.DataFrame, dict]:
    """The lifetimes summary (`summary_data_from_transaction_data` semantics).

    Periods of `freq` on the wall clock; rows in periods after the period of
    `observation_period_end` (default: the last valid timestamp) are dropped as
    ``after_observation_end``.  With ``freq="M"`` durations are whole calendar months.
    """
    customers, stamps, amounts, reason = _summary_rows(df, customer, date, amount, invalid)
    n = len(df)
    tz = column_tz(df[date])
    if observation_period_end is not None:
        end = _end_stamp(observation_period_end, tz)
    else:
        valid = [wall(stamps[i]) for i in range(n) if reason[i] is None]
        end = max(valid) if valid else None
    end_period = period_of(end, freq) if end is not None else None

    kinds: list[str | None] = [None] * n
    for i in range(n):
        if reason[i] is not None:
            continue
        if period_of(stamps[i], freq) > end_period:
            reason[i] = "after_observation_end"
            continue
        kinds[i], reason[i] = _classify_amount(amounts[i], zero, returns, i, amount)
    buyers = {customers[i] for i in range(n) if kinds[i] == "purchase"}
    for i in range(n):
        if kinds[i] == "return" and customers[i] not in buyers:
            kinds[i], reason[i] = None, "return_without_purchase"

    order: list = []
    per: dict[Any, tuple[list, list, list]] = {}
    for i in range(n):
        if not is_missing_id(customers[i]) and customers[i] not in per:
            per[customers[i]] = ([], [], [])
            order.append(customers[i])
        if kinds[i] is not None:
            p, a, k = per[customers[i]]
            p.append(period_of(stamps[i], freq))
            a.append(amounts[i])
            k.append(kinds[i])
    ids = [c for c in order if c in buyers]
    records = [_btyd(*per[c], end_period, include_first_transaction, freq_multiplier) for c in ids]
    columns = ["frequency", "recency", "T"] + (["monetary_value"] if amount is not None else [])
    table = pd.DataFrame.from_records(records, columns=["frequency", "recency", "T", "monetary_value"])[columns]
    table.index = pd.Index(ids, dtype=object, name=customer)
    return table, _accounting(reason, kinds)


#: The columns of `rfmkit.clv.calibration_holdout` with amounts, in their order.
CALIBRATION_HOLDOUT_COLUMNS = (
    "frequency_cal",
    "recency_cal",
    "T_cal",
    "monetary_value_cal",
    "frequency_holdout",
    "monetary_value_holdout",
    "duration_holdout",
)


def reference_calibration_holdout(
    df: pd.DataFrame,
    customer: str,
    date: str,
    calibration_period_end: Any,
    observation_period_end: Any = None,
    amount: str | None = None,
    freq: str = "D",
    freq_multiplier: float = 1,
    include_first_transaction: bool = False,
    zero: str = "drop",
    returns: str = "drop",
    invalid: str = "drop",
) -> tuple[pd.DataFrame, dict]:
    """`calibration_and_holdout_data` semantics.

    Calibration rows: timestamp <= `calibration_period_end`; holdout rows:
    `calibration_period_end` < timestamp <= `observation_period_end` (default: the last
    valid timestamp), compared as timestamps on the wall clock.  Later rows are
    ``after_observation_end``; holdout rows of customers without a calibration purchase
    are ``holdout_without_calibration``.
    """
    customers, stamps, amounts, reason = _summary_rows(df, customer, date, amount, invalid)
    n = len(df)
    tz = column_tz(df[date])
    cal_end = _end_stamp(calibration_period_end, tz)
    if observation_period_end is not None:
        obs_end = _end_stamp(observation_period_end, tz)
    else:
        valid = [wall(stamps[i]) for i in range(n) if reason[i] is None]
        if not valid:
            raise ValueError("no valid row and no observation_period_end: there is no holdout period")
        obs_end = max(valid)
    if not obs_end > cal_end:
        raise ValueError("calibration_period_end must be before observation_period_end")
    cal_period = period_of(cal_end, freq)

    kinds: list[str | None] = [None] * n
    side: list[str | None] = [None] * n
    for i in range(n):
        if reason[i] is not None:
            continue
        w = wall(stamps[i])
        if w > obs_end:
            reason[i] = "after_observation_end"
            continue
        side[i] = "cal" if w <= cal_end else "hold"
        kinds[i], reason[i] = _classify_amount(amounts[i], zero, returns, i, amount)
    cal_buyers = {customers[i] for i in range(n) if kinds[i] == "purchase" and side[i] == "cal"}
    for i in range(n):
        if kinds[i] is None:
            continue
        if customers[i] not in cal_buyers:
            if side[i] == "hold":
                kinds[i], reason[i] = None, "holdout_without_calibration"
            elif kinds[i] == "return":
                kinds[i], reason[i] = None, "return_without_purchase"

    order: list = []
    cal: dict[Any, tuple[list, list, list]] = {}
    hold: dict[Any, tuple[list, list, list]] = {}
    for i in range(n):
        c = customers[i]
        if not is_missing_id(c) and c not in order:
            order.append(c)
        if kinds[i] is None:
            continue
        target = cal if side[i] == "cal" else hold
        p, a, k = target.setdefault(c, ([], [], []))
        p.append(period_of(stamps[i], freq))
        a.append(amounts[i])
        k.append(kinds[i])
    ids = [c for c in order if c in cal_buyers]
    duration = (period_of(obs_end, freq) - cal_period) / freq_multiplier
    records = []
    for c in ids:
        r = _btyd(*cal[c], cal_period, include_first_transaction, freq_multiplier)
        hp, ha, hk = hold.get(c, ([], [], []))
        buy = [(p, a) for p, a, k in zip(hp, ha, hk) if k == "purchase"]
        records.append(
            {
                "frequency_cal": r["frequency"],
                "recency_cal": r["recency"],
                "T_cal": r["T"],
                "monetary_value_cal": r["monetary_value"],
                "frequency_holdout": float(len({p for p, _ in buy})),
                # returns under "net" reduce the holdout spend, as they reduce the calibration one
                "monetary_value_holdout": (
                    math.fsum(a for a, k in zip(ha, hk) if k in ("purchase", "return")) / len(buy)
                )
                if buy
                else 0.0,
                "duration_holdout": duration,
            }
        )
    columns = ["frequency_cal", "recency_cal", "T_cal"]
    if amount is not None:
        columns.append("monetary_value_cal")
    columns.append("frequency_holdout")
    if amount is not None:
        columns.append("monetary_value_holdout")
    columns.append("duration_holdout")
    table = pd.DataFrame.from_records(records, columns=list(CALIBRATION_HOLDOUT_COLUMNS))[columns]
    table.index = pd.Index(ids, dtype=object, name=customer)
    return table, _accounting(reason, kinds)


# --------------------------------------------------------------------------- cohorts


def reference_cohorts(
    df: pd.DataFrame,
    customer: str,
    date: str,
    amount: str,
    as_of: Any = None,
    freq: str = "M",
    zero: str = "drop",
    returns: str = "net",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Acquisition cohorts by the definition, row by row: ``(customers, revenue)``, indexed
    by the cohort's period label, columns 0..n-1 periods since the first purchase, NaN
    after `as_of`. A customer's cohort is the period of its first purchase; it is active in
    a period with a purchase in it; revenue is all its customers' amounts in the period
    (purchases, and returns under "net"; a return before the first purchase in period 0)."""
    period_freq = {"W": "W-SUN", "M": "M", "Q": "Q", "Y": "Y", "D": "D"}.get(freq, freq)  # "W-WED" as it is
    customers = column_values(df[customer])
    stamps = [to_stamp(v) for v in column_values(df[date])]
    amounts = [amount_of(v) for v in column_values(df[amount])]
    tz = column_tz(df[date])
    valid = [
        i
        for i in range(len(df))
        if not is_missing_id(customers[i]) and stamps[i] is not None and math.isfinite(amounts[i])
    ]
    days = {i: day_of(stamps[i]) for i in valid}
    if as_of is not None:
        end = as_of_ordinal(as_of, tz)
    elif valid:
        end = max(days.values()) + 1
    else:
        return pd.DataFrame(), pd.DataFrame()
    rows = []
    for i in valid:
        if days[i] >= end:
            continue
        a = amounts[i]
        if a > 0 or (a == 0 and zero == "keep"):
            kind = "purchase"
        elif a < 0 and returns == "net":
            kind = "return"
        else:
            continue
        rows.append((customers[i], pd.Period(ordinal_stamp(days[i]), freq=period_freq), kind, a))
    purchases = [r for r in rows if r[2] == "purchase"]
    if not purchases:
        return pd.DataFrame(), pd.DataFrame()
    first: dict[Any, pd.Period] = {}
    for c, p, _, _ in purchases:
        first[c] = min(first.get(c, p), p)
    active = {(c, p) for c, p, _, _ in purchases}
    periods = pd.period_range(min(first.values()), pd.Period(ordinal_stamp(end - 1), freq=period_freq))
    labels = [str(p) if freq in ("M", "Q", "Y") else p.start_time.date().isoformat() for p in periods]
    n = len(periods)
    counts = np.zeros((n, n))
    revenue = np.zeros((n, n))
    position = {p: k for k, p in enumerate(periods)}
    for c, p in active:
        cohort = position[first[c]]
        counts[cohort, position[p] - cohort] += 1
    # every counted amount of a customer with a purchase; a return before its first
    # purchase's period counts in period 0
    for c, p, _, a in rows:
        if c in first:
            cohort = position[first[c]]
            since = max(position[p] - cohort, 0) if p in position else 0
            revenue[cohort, since] += a
    after = np.add.outer(np.arange(n), np.arange(n)) >= n
    counts[after] = np.nan
    revenue[after] = np.nan
    return pd.DataFrame(counts, index=labels), pd.DataFrame(revenue, index=labels)
