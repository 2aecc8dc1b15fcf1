"""`rfmkit.rfm`: the per-customer RFM table."""

from __future__ import annotations

import copy
import datetime as _dt
from typing import Any

import numpy as np
import pandas as pd

from rfmkit import _core
from rfmkit._io import columns as _columns
from rfmkit._io import frames
from rfmkit._io import sources as _sources
from rfmkit._params import arguments
from rfmkit.exceptions import InvalidDataError, InvalidParameterError

RFM_COLUMNS = ("recency", "frequency", "monetary", "avg_order_value", "first_purchase", "last_purchase", "tenure")


def _window_days(window: Any) -> int | None:
    if window is None:
        return None
    if isinstance(window, (_dt.timedelta, pd.Timedelta, np.timedelta64)):
        delta = pd.Timedelta(window)
        if delta != delta.floor("D"):
            raise InvalidParameterError(f"window={window!r} is not a whole number of days")
        window = delta.days
    if isinstance(window, (bool, np.bool_)) or not isinstance(window, (int, np.integer)):
        raise InvalidParameterError(f"window must be a whole number of days (e.g. 365), got {window!r}")
    if window <= 0:
        raise InvalidParameterError(f"window must be a positive number of days, got {window}")
    return int(window)


def as_of_day(as_of: Any, tz: Any) -> int | None:
    """The observation date as a day number on the data's wall clock."""
    if as_of is None:
        return None
    stamp = _columns.wall_clock(_columns.to_timestamp(as_of, "as_of"), tz)
    if stamp != stamp.normalize():
        raise InvalidParameterError(
            f"as_of={as_of!r} has a time of day; as_of is a date (rows on or after it are excluded): "
            f"pass {stamp.normalize().date().isoformat()!r} or the next day"
        )
    return _columns.day_of_stamp(stamp)


def rfm(
    data: Any,
    *,
    customer: str,
    date: str,
    amount: str,
    order: str | None = None,
    as_of: Any = None,
    window: Any = None,
    zero: str = "drop",
    returns: str = "net",
    invalid: str = "drop",
    date_format: str | None = None,
    dayfirst: bool | None = None,
    progress: bool = False,
) -> Any:
    """Per-customer RFM features of a transaction table.

    Parameters
    ----------
    data : table, or an input read in batches
        One row per transaction, or per order line when `order` is given. Never modified.
        A pandas, polars or pyarrow table in memory; or an input read in bounded batches
        of the named columns (memory: the per-customer state plus one batch, see
        `rfmkit.Aggregator`): a polars LazyFrame, a pyarrow RecordBatch,
        RecordBatchReader or Dataset, an iterable of record batches, or a path, glob,
        folder or list of Parquet/CSV/Excel files (read as `rfmkit.read_transactions`
        reads them). The result is the same as for the rows in memory; the ids of an
        input read in batches must be integers or text, and its first batch fixes the
        date format read from text and the time zone (see `rfmkit.Aggregator`).
    customer, date, amount : str
        Column names. Customer ids may be of any type (int, string, categorical, float
        with nulls); dates are timestamps of any resolution, tz-aware or naive,
        ``datetime.date`` objects, text (read with one format for the whole column, see
        `date_format`) or numbers with a `date_format`. Day arithmetic uses the calendar
        days of the timestamps on their own wall clock.
    order : str, optional
        Order (invoice) id column: order lines of one order count as one purchase.
    as_of : date-like, optional
        Observation date, exclusive: rows on or after it are excluded and counted.
        Default: the day after the last valid transaction.
    window : int or timedelta, optional
        Only rows on days in ``[as_of - window, as_of)`` count; earlier ones are counted
        as ``before_window``.
    zero : {"drop", "keep"}
        Zero amounts are dropped and counted (default: ``frequency`` and ``monetary``
        describe what customers paid for), or kept as purchases. The BTYD summary of
        `rfmkit.clv.summary` keeps them by default instead, as lifetimes and the papers
        count a transaction whatever its value.
    returns : {"net", "drop", "raise"}
        Negative amounts reduce monetary without being purchases (``"net"``), are dropped
        and counted, or raise `InvalidRowError`.
    invalid : {"drop", "raise"}
        Rows with a null customer, a null date or a non-finite amount (or a null order)
        are dropped and counted, or raise `InvalidRowError` naming the first one. A
        date text that fits no format counts as ``unparseable_date``, a date before
        1900-01-01 or after 2100-12-31 (e.g. a ``9999-12-31`` sentinel) as
        ``date_out_of_range``.
    date_format : str, optional
        How a date column of text or numbers is written: a strftime format
        (``"%d/%m/%Y"``, ``"%Y%m%d"``), ``"ISO8601"``, ``"excel"`` (spreadsheet serial
        days), ``"unix"`` (seconds) or ``"unix_ms"``. Numbers are never read without
        it (never as epoch nanoseconds). Text without it: the one format that reads the
        most values, inferred from the column and recorded in
        ``attrs["rfmkit"]["date_format"]``; when day/month and month/day both read every
        value, an error asks for `dayfirst`. Text with mixed UTC offsets is converted to
        UTC; offsets on some values only are an error.
    dayfirst : bool, optional
        For text dates such as ``03/04/2024``: True reads day first (3 April), False
        month first (4 March).
    progress : bool, default False
        A tqdm bar over the rows of an input read in batches.

    Returns
    -------
    pandas.DataFrame, polars.DataFrame or pyarrow.Table
        The kind of table given: pandas for pandas (and for files, datasets, readers and
        record batches read in batches), polars for a polars DataFrame or LazyFrame,
        pyarrow for a pyarrow Table. One row per customer with at least one purchase, in
        order of first appearance, indexed by customer id (pandas; polars and pyarrow: a
        first column named like `customer`):

        - ``recency``: whole days from the day of the last purchase to `as_of`
          (1 for a purchase on the day before `as_of`);
        - ``frequency``: number of purchases (distinct orders with `order`);
        - ``monetary``: sum of the purchases, plus the returns under ``returns="net"``;
        - ``avg_order_value``: ``monetary / frequency``;
        - ``first_purchase``, ``last_purchase``: their timestamps;
        - ``tenure``: whole days from the day of the first purchase to `as_of`.

        `rfmkit.quality` of it gives ``rows_in``, ``rows_used``, ``dropped`` (reason ->
        count, with ``rows_in == rows_used + sum(dropped.values())``) and ``as_of`` (an
        ISO date string); the table carries them (``attrs["rfmkit"]`` of pandas and
        polars, the schema metadata of pyarrow, which Parquet keeps).
        A `DataQualityWarning` says what was dropped.

    Raises
    ------
    ColumnNotFoundError
        A named column is missing; the message lists the columns there are.
    DtypeError
        A column cannot be used as it is; the message says how to convert it.
    InvalidParameterError
        A parameter outside its domain (a policy, a window, `as_of` with a time of day).
    InvalidRowError
        With ``invalid="raise"`` (or ``returns="raise"``): the first row it refuses, by
        position, column and value.

    Examples
    --------
    >>> import pandas as pd, rfmkit
    >>> orders = pd.DataFrame({
    ...     "customer_id": [1, 1, 2],
    ...     "ordered_at": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-01-05"]),
    ...     "amount": [20.0, 30.0, 15.0],
    ... })
    >>> table = rfmkit.rfm(orders, customer="customer_id", date="ordered_at", amount="amount")
    >>> table[["recency", "frequency", "monetary", "tenure"]]
                 recency  frequency  monetary  tenure
    customer_id
    1                  1          2      50.0      10
    2                  6          1      15.0       6
    >>> rfmkit.quality(table)["as_of"]
    '2024-01-11'
    """
    if _sources.is_source(data):
        from rfmkit import _aggregate

        return _aggregate.rfm_of_source(data, **arguments(rfm, locals(), "data"))
    window_days = _window_days(window)
    # Integer and text ids (without orders) go to the core as they are, hashed there;
    # other ids are encoded first.
    prepared = _columns.prepare(
        data,
        customer=customer,
        date=date,
        amount=amount,
        order=order,
        ids_as_they_are=order is None,
        date_format=date_format,
        dayfirst=dayfirst,
        invalid=invalid,
    )
    options = {
        "as_of_day": as_of_day(as_of, prepared.times.tz),
        "window": window_days,
        "zero": zero,
        "returns": returns,
        "invalid": invalid,
    }
    result = _columns.run_core(prepared, _core.rfm, _core.rfm_ids, **options)
    info = _columns.quality(result, "rfmkit.rfm", prepared)
    columns = table_columns(
        result,
        info,
        window_days,
        prepared.times.of_rows(result["first_row"], result["first_time"]),
        prepared.times.of_rows(result["last_row"], result["last_time"]),
    )
    return _columns.build(prepared, result["customer"], columns, info)


def table_columns(
    result: dict[str, Any], info: dict[str, Any], window_days: int | None, first_purchase: Any, last_purchase: Any
) -> dict[str, Any]:
    """The columns of the RFM table from the core's result (and its first and last
    purchases in the input's type); records `as_of` and `window` in the accounting `info`."""
    day = result["as_of_day"]
    info["as_of"] = _columns.stamp_of_day(day).date().isoformat() if day is not None else None
    if window_days is not None:
        info["window"] = window_days
    return {
        "recency": result["recency"],
        "frequency": result["frequency"],
        "monetary": result["monetary"],
        "avg_order_value": result["avg_order_value"],
        "first_purchase": first_purchase,
        "last_purchase": last_purchase,
        "tenure": result["tenure"],
    }


def quality(table: Any) -> dict[str, Any]:
    """What rfmkit recorded making `table`: the row accounting and the choices it made.

    Parameters
    ----------
    table : pandas.DataFrame, polars.DataFrame, pyarrow.Table, Report or Migration
        A table an rfmkit function returned (`rfmkit.rfm`, `rfmkit.clv.summary`,
        `rfmkit.score`, `rfmkit.segment`, ...); a `Report` gives its customers' record, a
        `Migration` the records of its RFM tables (``earlier``, ``later``).

    Returns
    -------
    dict
        ``rows_in``, ``rows_used`` and ``dropped`` (reason -> count; ``rows_in ==
        rows_used + sum(dropped.values())``), ``as_of`` (ISO date) or
        ``observation_period_end``, ``date_format`` when dates were read from text, and
        what later steps added (``score``: bins and levels, ``segment``: the scheme and
        its split values, ...). A copy: changing it changes nothing. A table made by a
        later step from one that had lost its record (e.g. `rfmkit.segment` of a polars
        join) has only that step's entries.

    Raises
    ------
    InvalidDataError
        The table carries no record: pandas and polars keep it in ``attrs``, which
        merges, concatenations and polars operations drop (a pyarrow table keeps it in
        its schema metadata, which Parquet keeps). Take the quality of the table rfmkit
        returned, before such operations.

    Examples
    --------
    >>> import pandas as pd, rfmkit
    >>> orders = pd.DataFrame({"id": [1, 1, None], "day": pd.to_datetime(["2024-01-01", "2024-01-09", "2024-01-03"]),
    ...                        "amount": [20.0, 30.0, 15.0]})
    >>> table = rfmkit.rfm(orders, customer="id", date="day", amount="amount")
    >>> rfmkit.quality(table)
    {'rows_in': 3, 'rows_used': 2, 'dropped': {'missing_customer': 1}, 'as_of': '2024-01-10'}
    """
    if hasattr(table, "customers") and hasattr(table, "clv_model"):  # a Report: its customers' record
        return quality(table.customers)
    if isinstance(getattr(table, "quality", None), dict):  # a Migration: the record of each RFM table
        return copy.deepcopy(table.quality)
    record = frames.info_of(table) if frames.is_table(table) or isinstance(table, pd.Series) else {}
    if not record:
        raise InvalidDataError(
            f"this {type(table).__module__.split('.')[0]} {type(table).__name__} carries no rfmkit record: it was not "
            f"made by rfmkit, or an operation dropped it (pandas and polars keep it in attrs, which merges, "
            f"concatenations and polars operations drop); take rfmkit.quality(...) of the table rfmkit returned"
        )
    return copy.deepcopy(record)
