"""The lifetimes-compatible summary: `summary` and `calibration_holdout`."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from rfmkit import _core, _units
from rfmkit._io import columns as _columns
from rfmkit._io import sources as _sources
from rfmkit._params import arguments
from rfmkit.exceptions import InvalidParameterError


def _end_ticks(value: Any, name: str, times: _columns.Times) -> tuple[int, pd.Timestamp] | tuple[None, None]:
    if value is None:
        return None, None
    stamp = _columns.wall_clock(_columns.to_timestamp(value, name), times.tz)
    return _columns.ticks_of_stamp(stamp, times.ticks_per_day), stamp


def _check_multiplier(freq_multiplier: Any) -> float:
    if (
        isinstance(freq_multiplier, (bool, np.bool_))
        or not isinstance(freq_multiplier, numbers.Real)
        or not (math.isfinite(freq_multiplier) and float(freq_multiplier) > 0)
    ):
        raise InvalidParameterError(
            f"freq_multiplier must be a positive, finite number (e.g. 7 for weeks of a daily summary), "
            f"got {freq_multiplier!r}"
        )
    return float(freq_multiplier)


def _divided(values: np.ndarray, multiplier: float) -> np.ndarray:
    """`values / multiplier` in place: `values` is a fresh array of the core, owned by the
    caller alone; dividing by 1 is exact, so it is skipped."""
    if multiplier != 1.0:
        np.divide(values, multiplier, out=values)
    return values


def _stamp_of_ticks(ticks: int | None, ticks_per_day: int) -> str | None:
    """ISO text, so that the attrs stay JSON-serialisable (pandas writes them to Parquet)."""
    if ticks is None:
        return None
    return pd.Timestamp(ticks * (_columns.TICKS_PER_DAY["ns"] // ticks_per_day)).isoformat()


def summary_columns(
    result: dict[str, Any], info: dict[str, Any], *, freq: str, multiplier: float, ticks_per_day: int, with_amount: bool
) -> dict[str, Any]:
    """The columns of the summary from the core's result; records the observation end,
    `freq` and `freq_multiplier` in the accounting `info`."""
    info["observation_period_end"] = _stamp_of_ticks(result["observation_end"], ticks_per_day)
    info["freq"] = freq
    info["freq_multiplier"] = multiplier
    columns = {
        "frequency": result["frequency"],
        "recency": _divided(result["recency"], multiplier),
        "T": _divided(result["T"], multiplier),
    }
    if with_amount:
        columns["monetary_value"] = result["monetary_value"]
    return columns


def calibration_columns(
    result: dict[str, Any],
    info: dict[str, Any],
    *,
    freq: str,
    multiplier: float,
    calibration_end: int,
    ticks_per_day: int,
    with_amount: bool,
) -> dict[str, Any]:
    """The columns of the calibration/holdout table from the core's result; records the
    calibration end, `freq` and `freq_multiplier` in the accounting `info`."""
    info["calibration_period_end"] = _stamp_of_ticks(calibration_end, ticks_per_day)
    info["freq"] = freq
    info["freq_multiplier"] = multiplier
    columns = {
        "frequency_cal": result["frequency"],
        "recency_cal": result["recency"] / multiplier,
        "T_cal": result["T"] / multiplier,
    }
    if with_amount:
        columns["monetary_value_cal"] = result["monetary_value"]
    columns["frequency_holdout"] = result["frequency_holdout"]
    if with_amount:
        columns["monetary_value_holdout"] = result["monetary_value_holdout"]
    columns["duration_holdout"] = np.full(len(result["customer"]), result["duration_holdout"] / multiplier)
    return columns


#: The parameters of summary and calibration_holdout that are not the Aggregator's.
_NOT_ROWS = ("data", "freq_multiplier", "include_first_transaction", "progress")


def _streamed(
    data: Any, view: Callable[..., Any], passed: dict[str, Any], unit: _units.TimeUnit, multiplier: float
) -> Any:
    """The BTYD view `view` (`summary` or `calibration_holdout`, called with the arguments
    `passed`) of an input read in batches."""
    from rfmkit import _aggregate

    parameters = {**arguments(view, passed, *_NOT_ROWS), "freq": unit.canonical}
    finish = dict(freq_multiplier=multiplier, include_first_transaction=passed["include_first_transaction"])
    return _aggregate.view_of_source(data, view.__name__, parameters, finish, progress=passed["progress"])


def _in_memory(
    prepared: _columns.Prepared,
    passed: dict[str, Any],
    unit: _units.TimeUnit,
    multiplier: float,
    calibration_end: int | None = None,
) -> Any:
    """The BTYD summary of the table in memory `prepared` (`summary` called with the
    arguments `passed`), or with `calibration_end` (ticks) its calibration/holdout table
    (`calibration_holdout`)."""
    view = "summary" if calibration_end is None else "calibration_holdout"
    core = getattr(_core, view)
    calibration = {} if calibration_end is None else {"calibration_end": calibration_end}
    end_ticks, _ = _end_ticks(passed["observation_period_end"], "observation_period_end", prepared.times)
    result = _columns.run_core(
        prepared,
        core,
        _with_ids(core),
        **calibration,
        freq=unit.canonical,
        observation_end=end_ticks,
        include_first_transaction=bool(passed["include_first_transaction"]),
        zero=passed["zero"],
        returns=passed["returns"],
        invalid=passed["invalid"],
    )
    info = _columns.quality(result, f"rfmkit.clv.{view}", prepared)
    freq, ticks_per_day, with_amount = unit.canonical, prepared.times.ticks_per_day, passed["amount"] is not None
    if calibration_end is None:
        columns = summary_columns(
            result, info, freq=freq, multiplier=multiplier, ticks_per_day=ticks_per_day, with_amount=with_amount
        )
    else:
        columns = calibration_columns(
            result,
            info,
            freq=freq,
            multiplier=multiplier,
            calibration_end=calibration_end,
            ticks_per_day=ticks_per_day,
            with_amount=with_amount,
        )
    return _columns.build(prepared, result["customer"], columns, info)


def summary(
    data: Any,
    *,
    customer: str,
    date: str,
    amount: str | None = None,
    freq: str = "D",
    observation_period_end: Any = None,
    freq_multiplier: float = 1,
    include_first_transaction: bool = False,
    zero: str = "keep",
    returns: str = "drop",
    invalid: str = "drop",
    date_format: str | None = None,
    dayfirst: bool | None = None,
    progress: bool = False,
) -> Any:
    """The BTYD summary of `lifetimes.utils.summary_data_from_transaction_data`.

    Timestamps are bucketed into periods of `freq` exactly as pandas' ``to_period(freq)``
    does; for every customer with a purchase:

    - ``frequency``: number of purchase periods after the first one (*repeat* periods,
      not the RFM frequency);
    - ``recency``: periods from the first to the last purchase period (the customer's
      age at the last purchase, not the RFM recency);
    - ``T``: periods from the first purchase period to `observation_period_end`'s period;
    - ``monetary_value`` (with `amount`): mean spend of the repeat periods, 0 without any.

    ``recency`` and ``T`` are divided by `freq_multiplier`. With `freq="M"`, ``"Q"`` or
    ``"Y"`` durations count whole calendar months, quarters or years (lifetimes divides
    by a fixed length, and fails with those units on pandas >= 2).

    A purchase is a row with a positive or zero amount: zero-amount rows (free items,
    gifts) count by default, as in lifetimes and the BTYD papers, where a purchase is a
    transaction whatever its value. `rfmkit.rfm` drops them by default instead, because
    its ``frequency`` and ``monetary`` describe what customers paid for; pass
    ``zero="drop"`` here to fit on the same purchases as `rfmkit.rfm`.

    Parameters
    ----------
    data : table, or an input read in batches
        As for `rfmkit.rfm`: a pandas, polars or pyarrow table, or a LazyFrame, record
        batches, a reader, a Dataset or Parquet/CSV/Excel files, read in batches.
    customer, date : str
        Column names, as for `rfmkit.rfm`.
    amount : str, optional
        Spend column; without it every valid row is a purchase.
    freq : str, default "D"
        The time unit, a pandas alias from rfmkit's one table of units: ``"h"`` (or
        ``"H"``) hours, ``"D"`` days, ``"W"`` (= ``"W-SUN"``) weeks ending on Sunday,
        ``"W-MON"`` .. ``"W-SAT"`` weeks ending on that day, ``"M"`` (``"ME"``) calendar
        months, ``"Q"`` (``"QE"``) calendar quarters, ``"Y"`` (``"YE"``, ``"A"``) calendar
        years. Anything else raises `InvalidParameterError` listing them. The summary's
        ``attrs["rfmkit"]["freq"]`` records the canonical name (``"W-SUN"`` -> ``"W"``),
        which the fitters read.
    observation_period_end : date-like, optional
        Rows in later periods are excluded and counted; default the last valid timestamp.
    freq_multiplier : float
    include_first_transaction : bool
        Count the first period in ``frequency`` and ``monetary_value``.
    zero : {"keep", "drop"}, default "keep"
        Zero amounts are purchases (default, as in lifetimes and the papers) or are
        dropped and counted (as `rfmkit.rfm` does by default).
    returns : {"drop", "net", "raise"}
        Negative amounts are dropped (default: spend models need positive spend), netted
        into the latest purchase period at or before them, or raise.
    invalid : {"drop", "raise"}
    progress : bool, default False
        A tqdm bar over the rows of an input read in batches.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id, float columns ``frequency, recency, T[, monetary_value]``;
        ``.attrs["rfmkit"]`` holds the row accounting and ``observation_period_end``.

    Examples
    --------
    >>> import pandas as pd, rfmkit
    >>> orders = pd.DataFrame({
    ...     "id": [1, 1, 1, 2],
    ...     "day": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-05", "2024-01-03"]),
    ...     "spend": [10.0, 5.0, 20.0, 8.0],
    ... })
    >>> rfmkit.clv.summary(orders, customer="id", date="day", amount="spend")
        frequency  recency    T  monetary_value
    id
    1         1.0      4.0  4.0            20.0
    2         0.0      0.0  2.0             0.0

    Weeks ending on Wednesday, as pandas' ``to_period("W-WED")`` (Thursday to Wednesday):

    >>> rfmkit.clv.summary(orders, customer="id", date="day", amount="spend", freq="W-WED")
        frequency  recency    T  monetary_value
    id
    1         1.0      1.0  1.0            20.0
    2         0.0      0.0  1.0             0.0
    """
    passed = dict(locals())
    unit = _units.time_unit(freq)
    multiplier = _check_multiplier(freq_multiplier)
    if _sources.is_source(data):
        return _streamed(data, summary, passed, unit, multiplier)
    prepared = _prepare(data, customer, date, amount, date_format, dayfirst, invalid)
    return _in_memory(prepared, passed, unit, multiplier)


def _prepare(
    data: Any,
    customer: str,
    date: str,
    amount: str | None,
    date_format: str | None,
    dayfirst: bool | None,
    invalid: str,
) -> _columns.Prepared:
    """The table of a one-shot BTYD view: integer and text ids go to the core as they are."""
    return _columns.prepare(
        data,
        customer=customer,
        date=date,
        amount=amount,
        ids_as_they_are=True,
        date_format=date_format,
        dayfirst=dayfirst,
        invalid=invalid,
    )


def _with_ids(function: Any) -> Any:
    """`function(table, ids, **options)` for `_columns.run_core`: the ids passed by keyword."""
    return lambda table, ids, **options: function(table, ids=ids, **options)


def calibration_holdout(
    data: Any,
    *,
    customer: str,
    date: str,
    calibration_period_end: Any,
    observation_period_end: Any = None,
    amount: str | None = None,
    freq: str = "D",
    freq_multiplier: float = 1,
    include_first_transaction: bool = False,
    zero: str = "keep",
    returns: str = "drop",
    invalid: str = "drop",
    date_format: str | None = None,
    dayfirst: bool | None = None,
    progress: bool = False,
) -> Any:
    """Calibration summary and holdout counts, as `lifetimes.utils.calibration_and_holdout_data`.

    Rows up to `calibration_period_end` (inclusive, compared as timestamps) form the
    calibration summary (columns ``frequency_cal, recency_cal, T_cal[, monetary_value_cal]``,
    see `summary`); rows after it and up to `observation_period_end` give, for the same
    customers, ``frequency_holdout`` (distinct purchase periods), ``monetary_value_holdout``
    (the holdout spend over the number of holdout purchase rows; under ``returns="net"``
    the holdout returns reduce that spend) and ``duration_holdout`` (periods between
    the two ends, divided by `freq_multiplier`). Holdout rows of customers without a
    calibration purchase are counted as ``holdout_without_calibration``.

    `data` (a table, or an input read in batches), `freq`, `freq_multiplier`,
    `include_first_transaction`, `zero` (zero amounts are purchases by default, as in
    lifetimes), `returns`, `invalid` and `progress` are as for `summary`.

    Examples
    --------
    >>> import pandas as pd, rfmkit
    >>> orders = pd.DataFrame({
    ...     "id": [1, 1, 2, 3],
    ...     "day": pd.to_datetime(["2024-01-01", "2024-01-20", "2024-01-03", "2024-01-25"]),
    ... })
    >>> rfmkit.clv.calibration_holdout(orders, customer="id", date="day",
    ...     calibration_period_end="2024-01-10", observation_period_end="2024-01-31")
        frequency_cal  recency_cal  T_cal  frequency_holdout  duration_holdout
    id
    1             0.0          0.0    9.0                1.0              21.0
    2             0.0          0.0    7.0                0.0              21.0
    """
    passed = dict(locals())
    unit = _units.time_unit(freq)
    multiplier = _check_multiplier(freq_multiplier)
    if calibration_period_end is None:
        raise InvalidParameterError("calibration_period_end is required, e.g. '2024-06-30'")
    if _sources.is_source(data):
        return _streamed(data, calibration_holdout, passed, unit, multiplier)
    prepared = _prepare(data, customer, date, amount, date_format, dayfirst, invalid)
    cal_ticks, _ = _end_ticks(calibration_period_end, "calibration_period_end", prepared.times)
    assert cal_ticks is not None  # calibration_period_end is required above
    return _in_memory(prepared, passed, unit, multiplier, cal_ticks)
