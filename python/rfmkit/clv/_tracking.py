"""`tracking_transactions`: a purchase model's expected repeat transactions over calendar
time against the actual ones (Fader, Hardie & Lee's tracking plot)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rfmkit import _core
from rfmkit._io import columns as _columns
from rfmkit._io import frames
from rfmkit._io import sources as _sources
from rfmkit.clv._models import model_unit
from rfmkit.clv._summary import _end_ticks, _stamp_of_ticks
from rfmkit.exceptions import InternalError, InvalidParameterError

KINDS = ("cumulative", "incremental")


def tracking_transactions(
    model: Any,
    data: Any,
    *,
    customer: str,
    date: str,
    amount: str | None = None,
    kind: str = "cumulative",
    freq: str | None = None,
    observation_period_end: Any = None,
    zero: str = "keep",
    returns: str = "drop",
    invalid: str = "drop",
    date_format: str | None = None,
    dayfirst: bool | None = None,
) -> Any:
    """Repeat transactions per calendar period, actual and expected by a purchase model:
    the table of the tracking plot (`rfmkit.plot.tracking_transactions`), lifetimes'
    ``expected_cumulative_transactions`` computed exactly.

    Periods are those of the model's time unit, from the period of the first purchase in
    the data to the period of `observation_period_end`. Rows are read as
    `rfmkit.clv.summary` reads them (same parameters, same accounting), and a repeat
    transaction is what the summary's ``frequency`` counts: a purchase period of a
    customer after its first one (two purchases on one day are one transaction with
    ``freq="D"``). So the last ``actual`` of the cumulative table is the summary's total
    ``frequency``.

    ``predicted`` is the model's expectation for the same customers, not a simulation:
    a customer whose first purchase is in period ``s`` makes ``E[N(k + 1 - s)]`` repeat
    transactions by the end of period ``k`` (the model's
    ``expected_number_of_purchases_up_to_time``, ages divided by the model's
    ``freq_multiplier_``), summed over the customers. This is lifetimes' convention
    (``expected_cumulative_transactions``): a customer's age at the end of period ``k`` is
    ``k + 1 − s``, one period more than the summary's ``T`` counts for the same period
    (``T = k − s``), as if born at the start of its first period. When the observation end is not the last day of its period (a week
    that ends after it), that last period is partial (``last_period_partial`` in the
    attrs): its actual transactions cover the days up to the end, the prediction the
    whole period; end the observation on a period's last day to compare whole periods.

    Parameters
    ----------
    model : a fitted `BetaGeoFitter` or `ModifiedBetaGeoFitter`
        Or any model with ``expected_number_of_purchases_up_to_time(t)``.
    data : pandas.DataFrame, polars.DataFrame or pyarrow.Table
        One row per transaction, as for `rfmkit.clv.summary` (a table in memory: read
        files first, e.g. with `rfmkit.read_transactions`).
    customer, date, amount, observation_period_end, zero, returns, invalid, date_format, dayfirst
        As for `rfmkit.clv.summary`.
    kind : {"cumulative", "incremental"}, default "cumulative"
        Repeat transactions up to the end of each period, or in each period.
    freq : str, optional
        The model's time unit (an alias of `rfmkit.clv.summary`): default the unit the
        model was fitted in (``time_unit_``); required when the model does not know it, an
        error when it disagrees. Periods of days only (``"D"``, ``"W"``, ``"W-MON"`` ...,
        ``"M"``, ``"Q"``, ``"Y"``).

    Returns
    -------
    pandas.DataFrame (a polars or pyarrow table for such an input)
        One row per period: ``period`` (periods since the first one), ``period_start``
        (its first day), ``actual`` and ``predicted``; ``.attrs["rfmkit"]`` holds the
        row accounting, ``freq``, ``freq_multiplier``, ``kind``,
        ``observation_period_end`` and ``last_period_partial``.

    Raises
    ------
    InvalidParameterError
        A `kind` or `freq` not listed, a model without the expectation, hours, or an
        input read in batches.
    ColumnNotFoundError
        A column that is not in `data` (named, with the closest one).

    Examples
    --------
    Two customers in weeks (``W``: Monday to Sunday) with the CDNOW parameters; customer
    1 buys again in week 1 (twice: one transaction) and customer 2 in week 2:

    >>> import pandas as pd, rfmkit
    >>> model = rfmkit.clv.BetaGeoFitter()
    >>> model.params_ = rfmkit.datasets.cdnow_params("bgnbd")
    >>> orders = pd.DataFrame({
    ...     "id": [1, 1, 1, 2, 2],
    ...     "day": pd.to_datetime(["2024-01-01", "2024-01-09", "2024-01-10", "2024-01-08", "2024-01-17"]),
    ... })
    >>> rfmkit.clv.tracking_transactions(model, orders, customer="id", date="day", freq="W").round({"predicted": 4})
       period period_start  actual  predicted
    0       0   2024-01-01       0     0.0532
    1       1   2024-01-08       1     0.1564
    2       2   2024-01-15       2     0.2539

    By the end of week 1, customer 1 is two weeks old and customer 2 one week:

    >>> float(model.expected_number_of_purchases_up_to_time([2, 1]).sum().round(4))
    0.1564
    """
    frontend = frames.kind_of(data)
    table, _ = tracking_table(
        model,
        data,
        customer=customer,
        date=date,
        amount=amount,
        kind=kind,
        freq=freq,
        observation_period_end=observation_period_end,
        zero=zero,
        returns=returns,
        invalid=invalid,
        date_format=date_format,
        dayfirst=dayfirst,
    )
    return frames.from_pandas(table, frontend, frames.info_of(table))


def tracking_table(
    model: Any,
    data: Any,
    *,
    customer: str,
    date: str,
    amount: str | None,
    kind: str,
    freq: str | None,
    observation_period_end: Any,
    zero: str,
    returns: str,
    invalid: str,
    date_format: str | None,
    dayfirst: bool | None,
    calibration_period_end: Any = None,
) -> tuple[pd.DataFrame, int | None]:
    """`tracking_transactions` as pandas, and the row of the period that holds
    `calibration_period_end` (read on the data's wall clock, as `calibration_holdout` reads its
    calibration end; None without one)."""
    if kind not in KINDS:
        raise InvalidParameterError(f"kind={kind!r} is not one of 'cumulative', 'incremental'")
    expected = getattr(model, "expected_number_of_purchases_up_to_time", None)
    if not callable(expected):
        raise InvalidParameterError(
            f"model must be a purchase model with expected_number_of_purchases_up_to_time (a fitted "
            f"rfmkit.clv.BetaGeoFitter or ModifiedBetaGeoFitter), got {type(model).__name__}"
        )
    require_fitted = getattr(model, "_require_fitted", None)
    if callable(require_fitted):
        require_fitted()
    unit = model_unit(model, freq)
    if unit == "h":
        raise InvalidParameterError(
            "tracking_transactions counts calendar periods of days (D, W, W-MON ..., M, Q, Y), and the model is "
            "in hours: fit it on a summary in days (rfmkit.clv.summary(..., freq='D')) to track it"
        )
    multiplier = float(getattr(model, "freq_multiplier_", 1.0))
    if _sources.is_source(data):
        raise InvalidParameterError(
            "rfmkit.clv.tracking_transactions reads a table in memory; read the files first, e.g. "
            "rfmkit.read_transactions(...), or collect the LazyFrame"
        )
    prepared = _columns.prepare(
        data,
        customer=customer,
        date=date,
        amount=amount,
        ids_as_they_are=False,
        date_format=date_format,
        dayfirst=dayfirst,
        invalid=invalid,
    )
    end_ticks, _ = _end_ticks(observation_period_end, "observation_period_end", prepared.times)
    calibration_ticks, calibration_stamp = _end_ticks(calibration_period_end, "calibration_period_end", prepared.times)
    whole = _core.summary(
        prepared.table,
        freq=unit,
        observation_end=end_ticks,
        include_first_transaction=False,
        zero=zero,
        returns=returns,
        invalid=invalid,
    )
    # the warning points at the caller of tracking_transactions or of the plot
    info = _columns.quality(whole, "rfmkit.clv.tracking_transactions", prepared, stacklevel=5)
    ticks_per_day = prepared.times.ticks_per_day
    info.update(
        freq=unit,
        freq_multiplier=multiplier,
        kind=kind,
        observation_period_end=_stamp_of_ticks(whole["observation_end"], ticks_per_day),
    )
    if len(whole["customer"]) == 0:
        _columns.release_codes(prepared)
        if calibration_period_end is not None:
            raise InvalidParameterError(
                f"calibration_period_end={calibration_period_end!r}: there is no purchase up to the observation end to track"
            )
        info["last_period_partial"] = False
        return _table(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), info), None

    # The periods from the earliest dated row to the observation end, from the core's table
    # of time units, and the first day after them: rows from it on are after the end.
    ticks = prepared.times.ticks
    first_day = int(ticks[ticks != _columns.NAT].min()) // ticks_per_day
    end_day = int(whole["observation_end"]) // ticks_per_day
    bounds = np.asarray(_core.cohort_period_starts(unit, first_day, end_day + 366), dtype=np.int64)
    n_periods = int(np.searchsorted(bounds, end_day, side="right"))
    activity = _core.cohort_activity(
        prepared.table, as_of_day=int(bounds[n_periods]), period_starts=bounds[:n_periods], zero=zero, returns=returns
    )
    _columns.release_codes(prepared)
    info["last_period_partial"] = bool(end_day + 1 != bounds[n_periods])
    # each customer's purchase periods, in order (the core sorts by customer, then period)
    bought = np.asarray(activity["purchased"], dtype=bool)
    buyers = np.asarray(activity["customer"], dtype=np.int64)[bought]
    periods = np.asarray(activity["period"], dtype=np.int64)[bought]
    is_first = np.ones(len(buyers), dtype=bool)
    is_first[1:] = buyers[1:] != buyers[:-1]
    origin = int(periods[is_first].min())
    n = n_periods - origin
    births = np.bincount(periods[is_first] - origin, minlength=n)
    repeats = np.bincount(periods[~is_first] - origin, minlength=n)
    if births.sum() != len(whole["customer"]) or repeats.sum() != np.sum(whole["frequency"]):
        raise InternalError(
            f"the periods of the purchases ({births.sum()} customers, {repeats.sum()} repeat transactions) disagree "
            f"with the summary ({len(whole['customer'])}, {np.sum(whole['frequency']):g}); please report this"
        )
    # E[N(age)] at the ends of the periods, ages 1..n, in one call; the customers born in
    # period s are at age k + 1 - s at the end of period k: a convolution.
    ages = np.arange(1, n + 1, dtype=np.float64) / multiplier
    curve = np.asarray(expected(ages), dtype=np.float64)
    predicted = np.convolve(births.astype(np.float64), curve)[:n]
    actual = np.cumsum(repeats)
    if kind == "incremental":
        actual, predicted = repeats, np.diff(predicted, prepend=0.0)
    calibration_period = None
    if calibration_ticks is not None:
        calibration_period = int(np.searchsorted(bounds, calibration_ticks // ticks_per_day, side="right")) - 1 - origin
        if not 0 <= calibration_period < n:
            start, end = (_columns.stamp_of_day(int(day)).date() for day in (bounds[origin], bounds[n_periods] - 1))
            raise InvalidParameterError(
                f"calibration_period_end={calibration_period_end!r} ({calibration_stamp}) is outside the tracked periods "
                f"({start} to {end}); pass a date between the first purchase and the observation end"
            )
    return _table(bounds[origin:n_periods], actual, predicted, info), calibration_period


def _table(starts: np.ndarray, actual: np.ndarray, predicted: np.ndarray, info: dict[str, Any]) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "period": np.arange(len(starts), dtype=np.int64),
            "period_start": pd.to_datetime(starts, unit="D"),
            "actual": actual.astype(np.int64),
            "predicted": predicted,
        }
    )
    table.attrs["rfmkit"] = info
    return table
