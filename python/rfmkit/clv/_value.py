"""Rule-based customer value on the RFM table of `rfmkit.rfm`: `historical` and `simple`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rfmkit import _units
from rfmkit._checks import require_finite
from rfmkit._io import frames
from rfmkit.exceptions import ColumnNotFoundError, InvalidParameterError


def _number(value: Any, name: str, *, low: float, high: float = math.inf, example: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidParameterError(f"{name} must be a number such as {example}, got {value!r}")
    if not (math.isfinite(value) and low <= value <= high):
        bounds = f"in [{low:g}, {high:g}]" if math.isfinite(high) else f">= {low:g}"
        raise InvalidParameterError(f"{name} must be a finite number {bounds} (e.g. {example}), got {value!r}")
    return float(value)


def _margin(value: Any) -> float:
    """The profit margin: a share of revenue in (0, 1]. A value above 1 is refused (30 for a
    30 % margin would value customers at 30 times their revenue)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidParameterError(f"margin must be a number such as 0.3 (a 30 % margin), got {value!r}")
    if not (math.isfinite(value) and 0 < value <= 1):
        hint = f"; for a {value:g} % margin pass margin={value / 100:g}" if 1 < value <= 100 else ""
        raise InvalidParameterError(
            f"margin={value!r} must be the profit share of revenue, above 0 and at most 1 (e.g. 0.3 for 30 %, 1.0 "
            f"for revenue){hint}"
        )
    return float(value)


def _horizon(value: Any) -> int:
    """A horizon: a whole number of periods >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidParameterError(f"horizon must be a whole number of periods >= 1 (e.g. 12), got {value!r}")
    return int(value)


def _rfm_columns(table: Any, wanted: tuple[str, ...], function: str) -> tuple[dict[str, np.ndarray], Any, frames.Frame]:
    """The wanted columns as float arrays, the customer ids (pandas index, or the first
    column of a polars or pyarrow table) and the table's frame."""
    frame = frames.Frame.of(table)
    missing = [name for name in wanted if name not in frame.names]
    if missing:
        hint = ""
        if "T" in frame.names:
            hint = " This looks like a BTYD summary (rfmkit.clv.summary); use the fitters on it instead."
        raise ColumnNotFoundError(
            f"{function} takes the RFM table of rfmkit.rfm; column(s) {', '.join(map(repr, missing))} are missing "
            f"(its columns are: {', '.join(map(repr, frame.names))}).{hint}"
        )
    columns = {name: frame.numbers(name, name) for name in wanted}
    require_finite(columns, f"{function} needs finite numbers")
    return columns, frame.row_ids(), frame


def _result(values: np.ndarray, ids: Any, frame: frames.Frame, name: str, info: dict[str, Any]) -> Any:
    """A Series indexed by customer (pandas), or a table of the customer id and the value
    (polars, pyarrow)."""
    return frames.customer_values(frame.frontend, ids, frame.names[0], name, values, info)


def historical(table: Any, *, margin: float = 1.0) -> Any:
    """Value to date: ``margin × monetary`` of each customer of the RFM table.

    Parameters
    ----------
    table : pandas.DataFrame, polars.DataFrame or pyarrow.Table
        The result of `rfmkit.rfm` (``monetary`` is net of returns under ``returns="net"``).
    margin : float, default 1.0
        Share of revenue that is profit (1.0 gives revenue).

    Returns
    -------
    pandas.Series named ``historical_clv`` indexed by customer (polars: a DataFrame with
    the customer id and ``historical_clv``), in the currency of the amounts.

    Examples
    --------
    >>> import pandas as pd, rfmkit
    >>> orders = pd.DataFrame({"id": [1, 1, 2], "day": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-15"]),
    ...                        "spend": [100.0, 50.0, 80.0]})
    >>> rfmkit.clv.historical(rfmkit.rfm(orders, customer="id", date="day", amount="spend"), margin=0.3)
    id
    1    45.0
    2    24.0
    Name: historical_clv, dtype: float64
    """
    margin = _margin(margin)
    columns, ids, frame = _rfm_columns(table, ("monetary",), "rfmkit.clv.historical")
    return _result(margin * columns["monetary"], ids, frame, "historical_clv", {"margin": margin})


def simple(
    table: Any,
    *,
    margin: float,
    discount_rate: float,
    horizon: int,
    period: str = "M",
    retention: float | None = None,
) -> Any:
    """Simple predictive value: average order value × purchase rate × margin × the
    discounted retention curve over `horizon` periods.

    For customer *i*, with ``P`` the period length in days (``"D"`` 1, ``"W"`` 7,
    ``"M"`` 30, ``"Q"`` 90, ``"Y"`` 360: the lengths of rfmkit's one table of time units,
    whose month is lifetimes' 30 days) and the RFM columns of `rfmkit.rfm`::

        rate_i  = frequency_i / max(tenure_i / P, 1)          # purchases per period
        value_i = margin × avg_order_value_i × rate_i × sum_{k=1..horizon} retention^k / (1 + discount_rate)^k

    ``retention`` is the probability that a customer still buys in the next period.
    When not given it is estimated from the table as the period-over-period repeat rate:
    among the customers whose first purchase is more than one period before ``as_of``
    (``tenure > P``), the share who bought in the last period (``recency <= P``).

    Parameters
    ----------
    table : pandas.DataFrame, polars.DataFrame or pyarrow.Table
        The result of `rfmkit.rfm`.
    margin : float
        Share of revenue that is profit.
    discount_rate : float
        Discount rate **per period** (0.01 with ``period="M"`` is 1 % a month).
    horizon : int
        Number of future periods.
    period : str, default "M"
        A time unit of `rfmkit.clv.summary` of a day or longer (``"D"``, ``"W"`` and the
        anchored weeks, ``"M"``/``"ME"``, ``"Q"``/``"QE"``, ``"Y"``/``"YE"``/``"A"``); only
        its length matters here. ``attrs`` record its canonical name.
    retention : float in [0, 1], optional

    Returns
    -------
    pandas.Series named ``simple_clv`` (polars: a DataFrame with the id and the value); its
    ``attrs["rfmkit"]`` records ``retention`` (and whether it was estimated), the period,
    the horizon, the discount rate and ``discounted_retention`` (the sum above).

    Examples
    --------
    >>> import pandas as pd, rfmkit
    >>> orders = pd.DataFrame({
    ...     "id": [1, 1, 1, 2, 3, 3],
    ...     "day": pd.to_datetime(["2024-01-05", "2024-03-01", "2024-05-20", "2024-02-10", "2024-01-20", "2024-04-01"]),
    ...     "spend": [100.0, 50.0, 60.0, 80.0, 30.0, 30.0]})
    >>> table = rfmkit.rfm(orders, customer="id", date="day", amount="spend", as_of="2024-06-01")
    >>> value = rfmkit.clv.simple(table, margin=0.3, discount_rate=0.01, horizon=12)
    >>> value.round(2)
    id
    1    6.29
    2    3.17
    3    2.00
    Name: simple_clv, dtype: float64
    >>> round(value.attrs["rfmkit"]["retention"], 4)
    0.3333
    """
    margin = _margin(margin)
    discount_rate = _number(discount_rate, "discount_rate", low=0.0, example="0.01")
    horizon = _horizon(horizon)
    unit = _units.time_unit(period, "period")
    if unit.days < 1:
        raise InvalidParameterError(
            f"period={period!r} is shorter than a day, but the RFM table counts whole days (recency, tenure); "
            f"pass period='D' or a longer unit"
        )
    days = unit.days
    wanted = ("recency", "frequency", "avg_order_value", "tenure")
    columns, ids, frame = _rfm_columns(table, wanted, "rfmkit.clv.simple")
    estimated = retention is None
    if retention is None:
        eligible = columns["tenure"] > days
        if not eligible.any():
            raise InvalidParameterError(
                f"cannot estimate retention: no customer's first purchase is more than one period ({days:g} days) "
                f"before as_of; pass retention= (e.g. 0.8)"
            )
        retention = float(np.mean(columns["recency"][eligible] <= days))
    else:
        retention = _number(retention, "retention", low=0.0, high=1.0, example="0.8")
    k = np.arange(1, horizon + 1, dtype=np.float64)
    discounted_retention = float(np.sum((retention / (1.0 + discount_rate)) ** k))
    rate = columns["frequency"] / np.maximum(columns["tenure"] / days, 1.0)
    values = margin * columns["avg_order_value"] * rate * discounted_retention
    info = {
        "retention": retention,
        "retention_estimated": estimated,
        "period": unit.canonical,
        "period_days": days,
        "horizon": horizon,
        "discount_rate": discount_rate,
        "margin": margin,
        "discounted_retention": discounted_retention,
    }
    return _result(values, ids, frame, "simple_clv", info)
