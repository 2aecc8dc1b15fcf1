"""`rfmkit.cohorts`: acquisition cohorts, the retention view of a transaction table."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rfmkit import _core
from rfmkit._io import columns as _columns
from rfmkit._io import frames
from rfmkit._io import sources as _sources
from rfmkit._params import pick
from rfmkit._rfm import as_of_day
from rfmkit._units import time_unit
from rfmkit.exceptions import InvalidParameterError


def check_freq(freq: Any) -> str:
    """The canonical name of a cohort period: a unit of days of the one table of time
    units (D, W and the anchored weeks W-MON ... W-SAT, M, Q, Y and their aliases)."""
    unit = time_unit(freq, "freq")
    if unit.canonical == "h":
        raise InvalidParameterError(
            f"freq={freq!r}: cohorts are periods of days; pass 'M', 'W', 'W-MON', 'Q', 'Y' or 'D'"
        )
    return unit.canonical


def _label(start: pd.Timestamp, freq: str) -> str:
    """How a period is named: 2024-03, 2024Q1, 2024, or the first day of a week or day."""
    if freq == "M":
        return f"{start.year}-{start.month:02d}"
    if freq == "Q":
        return f"{start.year}Q{(start.month - 1) // 3 + 1}"
    if freq == "Y":
        return str(start.year)
    return start.date().isoformat()


@dataclass
class Cohorts:
    """Customers and revenue by acquisition cohort and periods since the first purchase.

    Attributes
    ----------
    customers : pandas.DataFrame, polars.DataFrame or pyarrow.Table
        Rows: the cohorts (the period of each customer's first purchase, e.g.
        ``"2024-03"``), oldest first. Columns ``0, 1, 2, ...``: periods since the first
        purchase (polars and pyarrow: the cohort as first column ``cohort`` and the periods
        as ``"0"``, ``"1"``, ...). A cell counts the customers of the cohort with a purchase
        in that period; column 0 is the cohort's size. Cells after `as_of` are null.
    shares : same kind
        `customers` divided by the cohort's size (column 0 is 1).
    revenue : same kind
        The cohort's spend in the period: its customers' purchases, and their returns
        under ``returns="net"`` (a return dated before a customer's first purchase counts
        in period 0), so that the cells add up to the RFM table's monetary.
    freq : str
        The period, by the canonical name of the table of time units: ``"M"``, ``"Q"``,
        ``"Y"``, ``"W"`` (weeks ending on Sunday), ``"W-WED"`` ... or ``"D"``.
    quality : dict
        The row accounting (as `rfmkit.quality`), ``as_of`` and ``last_period_partial``
        (whether the last period is cut short by `as_of`).
    """

    customers: Any
    shares: Any
    revenue: Any
    freq: str
    quality: dict[str, Any] = field(default_factory=dict)
    #: The tables as pandas (the report and the plot use them).
    _pandas: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False, compare=False)

    def pandas(self, name: str) -> pd.DataFrame:
        """Table `name` (``"customers"``, ``"shares"`` or ``"revenue"``) as pandas,
        indexed by cohort."""
        return self._pandas[name]


def cohorts(
    data: Any,
    *,
    customer: str,
    date: str,
    amount: str,
    order: str | None = None,
    as_of: Any = None,
    freq: str = "M",
    zero: str = "drop",
    returns: str = "net",
    invalid: str = "drop",
    date_format: str | None = None,
    dayfirst: bool | None = None,
) -> Cohorts:
    """Acquisition cohorts: customers active and revenue by the period of their first
    purchase × periods since then, counts and shares.

    A customer's cohort is the calendar period of its first purchase; it is active in a
    period when it has a purchase in it. Purchases, returns, zero amounts and invalid
    rows are read as `rfmkit.rfm` reads them (same parameters, same accounting): the
    counts are those of `rfmkit.rfm` with a window on each period. The core reads the rows
    twice: for the RFM table, then for each customer's purchases and returns by period.

    Parameters
    ----------
    data : pandas.DataFrame, polars.DataFrame or pyarrow.Table
        One row per transaction (or order line with `order`). Never modified.
    customer, date, amount, order, as_of, zero, returns, invalid, date_format, dayfirst
        As for `rfmkit.rfm`.
    freq : str, default "M"
        The period, a unit of days of the one table of time units: ``"M"`` calendar
        months, ``"Q"`` quarters, ``"Y"`` years, ``"W"`` weeks ending on Sunday (or
        ``"W-MON"`` ... ``"W-SAT"``), ``"D"`` days. Rows are named ``2024-03``, ``2024Q1``,
        ``2024``, or by the first day of the week or the day.

    Returns
    -------
    Cohorts

    Raises
    ------
    InvalidParameterError
        `freq` is not one of the periods, or `data` is read in batches (files, a
        LazyFrame, a Dataset: read it into a table first, e.g. with
        `rfmkit.read_transactions`).

    Examples
    --------
    >>> import pandas as pd, rfmkit
    >>> orders = pd.DataFrame({
    ...     "customer_id": [1, 1, 2, 3, 3],
    ...     "ordered_at": pd.to_datetime(["2024-01-05", "2024-02-10", "2024-01-20", "2024-02-01", "2024-03-03"]),
    ...     "amount": [20.0, 30.0, 15.0, 10.0, 12.0],
    ... })
    >>> table = rfmkit.cohorts(orders, customer="customer_id", date="ordered_at", amount="amount", freq="M")
    >>> table.customers  # doctest: +NORMALIZE_WHITESPACE
    periods_since_first  0     1     2
    cohort
    2024-01              2     1     0
    2024-02              1     1  <NA>
    2024-03              0  <NA>  <NA>
    >>> float(table.shares.loc["2024-01", 1])
    0.5
    """
    freq = check_freq(freq)
    if _sources.is_source(data):
        raise InvalidParameterError(
            "rfmkit.cohorts reads a table in memory; read the files first, e.g. "
            "rfmkit.read_transactions(...), or collect the LazyFrame"
        )
    kind = frames.kind_of(data)
    reading = ("customer", "date", "amount", "order", "date_format", "dayfirst", "invalid")
    prepared = _columns.prepare(data, **pick(locals(), reading))
    options = {"zero": zero, "returns": returns, "invalid": invalid}
    whole = _core.rfm(prepared.table, as_of_day=as_of_day(as_of, prepared.times.tz), window=None, **options)
    info = _columns.quality(whole, "rfmkit.cohorts", prepared)
    end = whole["as_of_day"]
    info["as_of"] = _columns.stamp_of_day(end).date().isoformat() if end is not None else None
    if end is None or len(whole["customer"]) == 0:
        _columns.release_codes(prepared)
        return _result(np.zeros((0, 0)), np.zeros((0, 0)), [], freq, {**info, "last_period_partial": False}, kind)
    first_day = end - np.asarray(whole["tenure"], dtype=np.int64)
    # the periods from the first purchase to as_of (included: it tells whether the last
    # period before it is whole), from the core's table of time units
    bounds = np.asarray(_core.cohort_period_starts(freq, int(first_day.min()), int(end)), dtype=np.int64)
    starts = bounds[bounds < end]
    activity = _core.cohort_activity(prepared.table, as_of_day=end, period_starts=starts, zero=zero, returns=returns)
    cohort_of = np.full(prepared.table.n_customers, -1, dtype=np.int64)
    cohort_of[np.asarray(whole["customer"], dtype=np.int64)] = np.searchsorted(starts, first_day, side="right") - 1
    cohort = cohort_of[activity["customer"]]
    # the customers of the RFM table (a customer with returns only is not one: the RFM
    # table counts its rows as dropped); returns before the first purchase count in period 0
    known = cohort >= 0
    cohort, period = cohort[known], activity["period"][known]
    since = np.maximum(period - cohort, 0)
    purchased = activity["purchased"][known]
    counts = np.zeros((len(starts), len(starts)))
    revenue = np.zeros((len(starts), len(starts)))
    np.add.at(counts, (cohort[purchased], since[purchased]), 1.0)
    np.add.at(revenue, (cohort, since), activity["spend"][known])
    _columns.release_codes(prepared)
    info["last_period_partial"] = bool(bounds[-1] != end)
    labels = [_label(_columns.stamp_of_day(int(day)), freq) for day in starts]
    return _result(counts, revenue, labels, freq, info, kind)


def _result(
    counts: np.ndarray, revenue: np.ndarray, labels: list[str], freq: str, info: dict[str, Any], kind: str
) -> Cohorts:
    n = len(labels)
    after = np.arange(n)[:, None] + np.arange(n)[None, :] >= n  # the cells after as_of
    index = pd.Index(labels, name="cohort")
    columns = pd.RangeIndex(n, name="periods_since_first")
    count_table = pd.DataFrame(counts, index=index, columns=columns).astype("Int64").mask(after)
    sizes = counts[:, 0] if n else counts[:, :0].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(sizes[:, None] > 0, counts / sizes[:, None], np.nan)
    share_table = pd.DataFrame(shares, index=index, columns=columns).mask(after)
    revenue_table = pd.DataFrame(revenue, index=index, columns=columns).mask(after)
    own = {"customers": count_table, "shares": share_table, "revenue": revenue_table}
    given = {name: frames.from_pandas(table.copy(), kind, copy.deepcopy(info)) for name, table in own.items()}
    return Cohorts(given["customers"], given["shares"], given["revenue"], freq, info, own)
