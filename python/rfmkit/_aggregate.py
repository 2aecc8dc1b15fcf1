"""`rfmkit.Aggregator`: the per-customer state of the core for batches that arrive one
at a time, and the inputs of `rfmkit.rfm` and `rfmkit.clv` read in batches through it.

Each batch is converted as `rfmkit.rfm` converts a table (`_columns.prepare`): ids as they
are (integers or text), dates by the one date rule, amounts as float64. What must be the
same in every batch is fixed by the first one that tells it and checked on the later
ones: the date format inferred from text, the time zone, the kind of ids. Timestamps go
to the core in one unit (nanoseconds: every unit of the inputs divides a day of them),
so batches of any resolution and merged aggregators agree. The rows themselves are not
kept: results are rebuilt from the state, in the types of the first batch's columns
(`_columns.ColumnType`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import pandas as pd

from rfmkit import _core, _rfm, _units
from rfmkit._io import columns as _columns
from rfmkit._io import dates as _dates
from rfmkit._io import files as _files
from rfmkit._io import sources as _sources
from rfmkit.exceptions import (
    DtypeError,
    InvalidDataError,
    InvalidParameterError,
    RfmkitError,
)

#: What `Aggregator.to_bytes` writes, and the version of its layout.
FORMAT = "rfmkit.Aggregator"
VERSION = 1
_META = b"rfmkit.aggregator"
# after the Arrow IPC stream (whose readers stop at its end): a tag and a checksum of the
# stream, so that damaged bytes are refused, never read
_TAG = b"RFMKIT-AGGREGATOR"
_DIGEST_SIZE = 32
NS_PER_DAY = _columns.TICKS_PER_DAY["ns"]
_KIND_WORDS = {"int": "integers", "text": "text"}


def _iso(value: Any, name: str) -> str | None:
    """A date parameter as ISO text (JSON-able, and equal however it was given)."""
    if value is None:
        return None
    return _columns.to_timestamp(value, name).isoformat()


class Aggregator:
    """The per-customer state of `rfmkit.rfm` (and of the BTYD summary) for data that
    arrives in batches: update it batch by batch, merge aggregators of disjoint rows,
    ship it as bytes, and finish it into the same table as `rfmkit.rfm` on all the rows.

    Memory is the state (per customer: a few numbers; with `freq`, the distinct
    purchase periods; with `order`, the distinct orders), never the rows. Money is
    summed exactly, so the result does not depend on how the rows were split into
    batches, in which order they came, or how aggregators were merged: it equals
    `rfmkit.rfm` on the whole table bit for bit.

    Parameters
    ----------
    customer, date, amount, order, as_of, window, zero, returns, invalid, date_format, dayfirst
        As for `rfmkit.rfm`. `as_of` is fixed here, not at `finish`, when `window` is
        given (rows are classified as they come). `amount` may be None for an
        aggregator that only makes the BTYD summary. Customer and order ids must be
        integers or text in every batch (or categoricals of them, or floats holding
        whole numbers); anything else is a `DtypeError` that says how to cast.
    freq, observation_period_end, calibration_period_end
        Keep the BTYD periods too (`freq`, as for `rfmkit.clv.summary`), for `summary`,
        or, with `calibration_period_end`, for `calibration_holdout`. `zero` and
        `returns` apply to every view: pass ``zero="keep", returns="drop"`` for the
        conventions of lifetimes (`rfmkit.clv.summary`'s defaults).

    Notes
    -----
    What the first batch tells is fixed for the later ones: the format of text dates
    inferred from it (a later value that does not fit is an ``unparseable_date`` row),
    its time zone (a batch in another zone is a `DtypeError`), the kind of ids (text or
    integers), and the types of the result's ids and timestamps (a later batch of a
    finer time unit refines them). Customers come out in order of first appearance:
    the order of the batches given to one aggregator, then the new customers of each
    merged one (a batch whose customer or order ids are all missing, before any batch
    had one, is counted, but its customers take their place at their next rows). A
    tz-aware timestamp whose wall-clock time a daylight-saving change repeats comes
    back as the first of the two instants (the state keeps wall-clock times).
    Categorical ids come back as their values.

    Examples
    --------
    >>> import pandas as pd, rfmkit
    >>> january = pd.DataFrame({"customer_id": [1, 1, 2],
    ...     "ordered_at": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-01-05"]),
    ...     "amount": [20.0, 30.0, 15.0]})
    >>> february = pd.DataFrame({"customer_id": [2, 3],
    ...     "ordered_at": pd.to_datetime(["2024-02-01", "2024-02-03"]), "amount": [5.0, 40.0]})
    >>> columns = dict(customer="customer_id", date="ordered_at", amount="amount")
    >>> first = rfmkit.Aggregator(**columns).update(january)
    >>> second = rfmkit.Aggregator(**columns).update(february)
    >>> shipped = rfmkit.Aggregator.from_bytes(second.to_bytes())  # e.g. from another process
    >>> table = first.merge(shipped).finish()
    >>> table[["recency", "frequency", "monetary", "tenure"]]
                 recency  frequency  monetary  tenure
    customer_id
    1                 25          2      50.0      34
    2                  3          2      20.0      30
    3                  1          1      40.0       1
    >>> table.equals(rfmkit.rfm(pd.concat([january, february]), **columns))
    True
    """

    def __init__(
        self,
        *,
        customer: str,
        date: str,
        amount: str | None,
        order: str | None = None,
        as_of: Any = None,
        window: Any = None,
        zero: str = "drop",
        returns: str = "net",
        invalid: str = "drop",
        date_format: str | None = None,
        dayfirst: bool | None = None,
        freq: str | None = None,
        observation_period_end: Any = None,
        calibration_period_end: Any = None,
    ) -> None:
        for role, name in (("customer", customer), ("date", date), ("amount", amount), ("order", order)):
            if not (isinstance(name, str) or (name is None and role in ("amount", "order"))):
                raise InvalidParameterError(f"{role}= must be a column name (a string), got {name!r}")
        _dates.check_options(date_format, dayfirst)
        if amount is None and (as_of is not None or window is not None):
            raise InvalidParameterError(
                "as_of and window are for the RFM table, which needs amount=: give the amount column, or leave "
                "them out for an aggregator of the BTYD summary only"
            )
        if freq is None and (observation_period_end is not None or calibration_period_end is not None):
            raise InvalidParameterError(
                "observation_period_end and calibration_period_end are for the BTYD summary: give freq= too "
                "(e.g. freq='D')"
            )
        if as_of is not None:
            _rfm.as_of_day(as_of, None)  # a date without a time of day
        self._params: dict[str, Any] = {
            "customer": customer,
            "date": date,
            "amount": amount,
            "order": order,
            "as_of": _iso(as_of, "as_of"),
            "window": _rfm._window_days(window),
            "zero": zero,
            "returns": returns,
            "invalid": invalid,
            "date_format": date_format,
            "dayfirst": None if dayfirst is None else bool(dayfirst),
            "freq": _units.time_unit(freq).canonical if freq is not None else None,
            "observation_period_end": _iso(observation_period_end, "observation_period_end"),
            "calibration_period_end": _iso(calibration_period_end, "calibration_period_end"),
        }
        if self._params["window"] is not None and as_of is None:
            raise InvalidParameterError(
                "window= needs as_of= in an Aggregator: rows are classified as they come, before the last date is "
                "known; give the observation date, e.g. as_of='2024-07-01'"
            )
        # The core checks the policies, the period and the cut-offs, with its own words.
        _core.State(**self._state_options(None))
        self._state: Any = None
        self._tz: str | None = None
        self._tz_known = False
        self._date_format: str | None = None
        self._notes: list[str] = []
        self._date_drops: dict[str, int] = {}
        # an amount text of a file that was no number (for the warning's hint; not shipped)
        self._amount_example: str | None = None
        # rows of batches whose ids were all null before any batch told their kind: never
        # given to the core (which would fix the kind), counted by reason
        self._unfed: dict[str, int] = {}
        self._kinds: dict[str, str] = {}
        self._frontend: str | None = None
        self._customer_type: _columns.ColumnType | None = None
        self._customer_type_known = False
        self._date_type: _columns.ColumnType | None = None
        self._date_type_known = False
        self._rows_seen = 0
        self._failed: str | None = None

    # ------------------------------------------------------------------ reading

    def update(self, data: Any) -> Aggregator:
        """Adds the rows of `data`.

        Parameters
        ----------
        data
            A pandas, polars or pyarrow table (or record batch), a reader of pandas
            chunks (``pd.read_csv(..., chunksize=...)``) or a list of pandas frames, or
            any input of `rfmkit.rfm` read in batches (a LazyFrame, a reader, a Dataset,
            files), read here batch by batch. Never modified.

        Returns
        -------
        Aggregator
            self.

        Raises
        ------
        ColumnNotFoundError, DtypeError, InvalidRowError
            As `rfmkit.rfm` for the same rows; a `DtypeError` also for a batch whose
            time zone or kind of ids differs from the earlier ones'. After an error
            raised by the core (`InvalidRowError`), the aggregator holds part of the
            batch and refuses further use.
        """
        self._check_usable()
        if _sources.is_source(data):
            self._frontend = self._frontend or _sources.result_kind(data)
            for table in _tables(data, self._roles()):
                self._update_table(table)
        elif hasattr(data, "get_chunk") or (
            isinstance(data, (list, tuple)) and data and isinstance(data[0], pd.DataFrame)
        ):
            for chunk in data:  # pandas chunks, one table each
                self._update_table(chunk)
        else:
            self._update_table(data)
        return self

    def _roles(self) -> dict[str, str]:
        p = self._params
        return {role: p[role] for role in ("customer", "date", "amount", "order") if p[role] is not None}

    def _prepare(self, data: Any, invalid: str) -> _columns.Prepared:
        p = self._params
        return _columns.prepare(
            data,
            customer=p["customer"],
            date=p["date"],
            amount=p["amount"],
            order=p["order"],
            for_state=True,
            date_format=self._date_format or p["date_format"],
            dayfirst=p["dayfirst"],
            invalid=invalid,
            row_base=self._rows_seen,
        )

    def _update_table(self, data: Any) -> None:
        p = self._params
        if self._amount_example is None:
            self._amount_example = _files.amount_example(data)
        prepared = self._prepare(data, p["invalid"])
        reading = prepared.dates
        assert reading is not None
        times = prepared.times
        n = len(times.ticks)
        # Checks first: nothing changes when a batch is refused.
        customers, customer_kind = self._ids(prepared.raw_ids, "customer")
        orders, order_kind = (None, None)
        if prepared.raw_orders is not None:
            orders, order_kind = self._ids(prepared.raw_orders, "order")
        # Ids all null, of a kind no batch told yet (the core would fix one): every row is
        # invalid, and is counted here by its reason, as the core would; under
        # invalid="raise" the core reports the first one (null integers then).
        skip = (customers is None or (prepared.raw_orders is not None and orders is None)) and p["invalid"] != "raise"
        unfed = _reasons(prepared) if skip else {}
        if customers is None:
            customers = _null_ids("int", n)
        if prepared.raw_orders is not None and orders is None:
            orders = _null_ids("int", n)
        zone = _columns.zone_name(times.tz)
        # A column of timestamps tells its zone and unit by its type; text, numbers and
        # objects only by a value read (all missing, they read as naive, whatever they are).
        written = prepared.frame.column(p["date"], "date").values
        typed = reading.source is None and getattr(written, "dtype", None) != object
        tells_zone = typed or bool((times.ticks != _columns.NAT).any())
        if tells_zone:
            self._check_zone(zone, "in this batch")
        state = self._state
        if state is None and not skip:
            state = _core.State(**self._state_options(zone if tells_zone else None))
        if not skip and n:
            ticks = _nanoseconds(times.ticks, times.ticks_per_day)
            try:
                state.update(customers, ticks, prepared.table.amount, orders)
            except RfmkitError as error:
                self._failed = f"{type(error).__name__}: {error}"
                self._state = state
                raise
        # The batch is in: record what it told.
        self._state = state
        for reason, count in unfed.items():
            self._unfed[reason] = self._unfed.get(reason, 0) + count
        if tells_zone and not self._tz_known:
            self._tz, self._tz_known = zone, True
        if reading.format is not None and self._date_format is None:
            self._date_format = reading.format
        self._notes += [note for note in reading.notes if note not in self._notes]
        for reason, count in (prepared.date_drops or {}).items():
            self._date_drops[reason] = self._date_drops.get(reason, 0) + count
        for role, kind in (("customer", customer_kind), ("order", order_kind)):
            if kind is not None and role not in self._kinds and not skip:
                self._kinds[role] = kind
        if self._frontend is None:
            self._frontend = prepared.frame.frontend
        if self._customer_type is None or (customer_kind is not None and not self._customer_type_known):
            # (a batch of no id tells the type of an empty result, until one with ids tells it)
            self._customer_type = _columns.ColumnType.of(prepared.customers.column)
            self._customer_type_known = customer_kind is not None
        self._note_date_type(_columns.ColumnType.of(times.output), tells_zone)
        self._rows_seen += n

    def _ids(self, ids: Any, role: str) -> tuple[Any, str | None]:
        """The ids of a batch and their kind, checked against the earlier batches'; ids
        that are all null take the known kind ((None, None) when none is known)."""
        kind = "text" if len(ids) == 3 else "int"
        n = len(ids[0]) - 1 if kind == "text" else len(ids[0])
        validity = ids[-1]
        known = self._kinds.get(role)
        if n == 0 or (validity is not None and not validity.any()):
            return (None, None) if known is None else (_null_ids(known, n), None)
        if known is not None and known != kind:
            name = self._params[role]
            raise DtypeError(
                f"{role} column {name!r} holds {_KIND_WORDS[kind]} in this batch but {_KIND_WORDS[known]} in the "
                f"earlier ones, so one id could count as two; make it one type in every batch, e.g. "
                f"df[{name!r}].astype(str)"
            )
        return ids, kind

    def _check_zone(self, zone: str | None, where: str) -> None:
        if self._tz_known and zone != self._tz:
            name = self._params["date"]
            raise DtypeError(
                f"date column {name!r} is in time zone {zone or 'none (naive)'} {where} but in "
                f"{self._tz or 'none (naive)'} in the first batch; days are counted on one wall clock: convert "
                f"every batch to one zone first: "
                + (
                    f"naive timestamps to a zone with df[{name!r}].dt.tz_localize({self._tz!r}), aware ones with "
                    f"df[{name!r}].dt.tz_convert({self._tz!r})"
                    if self._tz
                    else f"aware timestamps to naive wall clock with df[{name!r}].dt.tz_localize(None)"
                )
            )
        # a state made before any batch told the zone: its cut-offs must not depend on it
        made_without_zone = not self._tz_known and self._state is not None and zone != self._tz
        if made_without_zone and self._state_options(zone) != self._state.options():
            raise InvalidDataError(
                f"the first batches told no time zone (their dates were all missing), and as_of or the period "
                f"ends depend on it (the dates are in {zone}); give those parameters without a time zone, or "
                f"start with a batch that has dates"
            )

    def _note_date_type(self, kind: _columns.ColumnType, tells: bool) -> None:
        current = self._date_type
        if current is None or (tells and not self._date_type_known):
            self._date_type, self._date_type_known = kind, tells
        elif (
            kind.frontend == current.frontend
            and kind.pandas_kind() == current.pandas_kind()
            and kind.is_finer_than(current)
        ):
            self._date_type = kind

    def _state_options(self, tz: str | None) -> dict[str, Any]:
        p = self._params
        rfm = p["amount"] is not None

        def ticks(name: str) -> int | None:
            if p[name] is None:
                return None
            return _columns.ticks_of_stamp(_columns.wall_clock(pd.Timestamp(p[name]), tz), NS_PER_DAY)

        return {
            "ticks_per_day": NS_PER_DAY,
            "zero": p["zero"],
            "returns": p["returns"],
            "invalid": p["invalid"],
            "rfm": rfm,
            "as_of_day": _rfm.as_of_day(p["as_of"], tz) if rfm else None,
            "window": p["window"] if rfm else None,
            "freq": p["freq"],
            "observation_end": ticks("observation_period_end"),
            "calibration_end": ticks("calibration_period_end"),
            "orders": p["order"] is not None,
            "names": (p["customer"], p["date"], p["amount"] or "", p["order"] or ""),
        }

    def _check_usable(self) -> None:
        if self._failed is not None:
            raise InvalidParameterError(
                f"this Aggregator stopped on an error in a batch ({self._failed}) and holds part of that batch; "
                f"make a new one"
            )

    def _last_valid_time(self, data: Any) -> int | None:
        """The last timestamp (ns) of a valid row of `data` (customer, date, amount and
        order given), converted as `update` converts it: the first pass of `rfmkit.rfm`
        with a window and no as_of. Fixes the date format as `update` does."""
        prepared = self._prepare(data, "drop")
        reading = prepared.dates
        if reading is not None and reading.format is not None and self._date_format is None:
            self._date_format = reading.format
        ticks = prepared.times.ticks
        valid = ticks != _columns.NAT
        for ids in (prepared.raw_ids, prepared.raw_orders):
            if ids is not None and ids[-1] is not None:
                valid &= ids[-1]
        if prepared.table.amount is not None:
            valid &= np.isfinite(prepared.table.amount)
        if not valid.any():
            return None
        return int(_nanoseconds(ticks[valid], prepared.times.ticks_per_day).max())

    # ------------------------------------------------------------------ merging

    def merge(self, other: Aggregator) -> Aggregator:
        """Folds in `other` (an aggregator of other rows, made with the same parameters):
        this aggregator then holds the state of both row sets. `other` is unchanged.

        Returns
        -------
        Aggregator
            self.

        Raises
        ------
        InvalidParameterError
            `other` was made with other parameters, or is this aggregator.
        DtypeError
            The aggregators saw dates in different time zones, or ids of different kinds.
        """
        if not isinstance(other, Aggregator):
            raise InvalidParameterError(f"merge takes an rfmkit.Aggregator, got {type(other).__qualname__}")
        if other is self:
            raise InvalidParameterError("an Aggregator cannot be merged into itself (its rows would count twice)")
        self._check_usable()
        other._check_usable()
        differ = [key for key in self._params if self._params[key] != other._params[key]]
        if differ:
            shown = "; ".join(f"{key}={self._params[key]!r} here, {other._params[key]!r} there" for key in differ)
            raise InvalidParameterError(
                f"cannot merge aggregators made with other parameters ({shown}): make every aggregator with the "
                f"same parameters"
            )
        if other._tz_known:
            self._check_zone(other._tz, "in the other aggregator")
        if self._date_format and other._date_format and self._date_format != other._date_format:
            raise InvalidParameterError(
                f"the aggregators read their text dates with different formats ({self._date_format!r} here, "
                f"{other._date_format!r} there; each inferred its own): pass date_format= to every aggregator"
            )
        for role, kind in other._kinds.items():
            known = self._kinds.get(role)
            if known is not None and known != kind:
                raise DtypeError(
                    f"{role} column {self._params[role]!r} holds {_KIND_WORDS[known]} here but "
                    f"{_KIND_WORDS[kind]} in the other aggregator; make it one type in every batch"
                )
        if other._state is not None:
            if self._state is None:
                state = _core.State(**other._state.options())
                state.merge(other._state)
                self._state = state
            else:
                self._state.merge(other._state)
        if other._tz_known and not self._tz_known:
            self._tz, self._tz_known = other._tz, True
        self._date_format = self._date_format or other._date_format
        self._notes += [note for note in other._notes if note not in self._notes]
        for reason, count in other._date_drops.items():
            self._date_drops[reason] = self._date_drops.get(reason, 0) + count
        for reason, count in other._unfed.items():
            self._unfed[reason] = self._unfed.get(reason, 0) + count
        for role, kind in other._kinds.items():
            self._kinds.setdefault(role, kind)
        self._frontend = self._frontend or other._frontend
        if other._customer_type is not None and (
            self._customer_type is None or (other._customer_type_known and not self._customer_type_known)
        ):
            self._customer_type, self._customer_type_known = other._customer_type, other._customer_type_known
        if other._date_type is not None:
            self._note_date_type(other._date_type, other._date_type_known)
        self._rows_seen += other._rows_seen
        self._amount_example = self._amount_example or other._amount_example
        return self

    # ------------------------------------------------------------------ finishing

    @property
    def rows_in(self) -> int:
        """Rows given to the aggregator so far (with those of merged aggregators)."""
        return (self._state.rows_in if self._state is not None else 0) + sum(self._unfed.values())

    def finish(self, as_of: Any = None) -> Any:
        """The RFM table of the rows so far, as `rfmkit.rfm` gives it for them.

        Parameters
        ----------
        as_of : date-like, optional
            The observation date, when not given to the aggregator: it must be after
            the last row (rows already aggregated cannot be counted as after it).
            Default: the day after the last valid row.

        Returns
        -------
        pandas.DataFrame, polars.DataFrame or pyarrow.Table
            The columns, index, dtypes and ``attrs["rfmkit"]`` accounting of
            `rfmkit.rfm`; polars when the first batch was polars (or a LazyFrame).
            The aggregator is unchanged: it can take more rows and finish again.
        """
        self._check_usable()
        return self._finish_rfm(as_of, "rfmkit.Aggregator.finish", stacklevel=5)

    def _finish_rfm(self, as_of: Any, function: str, *, window_days: Any = "params", stacklevel: int) -> Any:
        p = self._params
        if p["amount"] is None:
            raise InvalidParameterError(
                "this Aggregator was made without amount=, and the RFM table needs the amounts; make it with the "
                "amount column"
            )
        result = self._state_or_empty().finish_rfm(as_of_day=_rfm.as_of_day(as_of, self._tz))
        info = self._account(result, function, stacklevel)
        columns = _rfm.table_columns(
            result,
            info,
            p["window"] if window_days == "params" else window_days,
            self._timestamps(result["first_time"]),
            self._timestamps(result["last_time"]),
        )
        return self._build(result["keys"], columns, info)

    def summary(self, *, freq_multiplier: float = 1, include_first_transaction: bool = False) -> Any:
        """The BTYD summary of the rows so far, as `rfmkit.clv.summary` gives it (needs
        `freq`; `freq_multiplier` and `include_first_transaction` as there).

        Returns
        -------
        pandas.DataFrame, polars.DataFrame or pyarrow.Table
        """
        self._check_usable()
        return self._finish_summary(
            "summary", freq_multiplier, include_first_transaction, "rfmkit.Aggregator.summary", stacklevel=5
        )

    def calibration_holdout(self, *, freq_multiplier: float = 1, include_first_transaction: bool = False) -> Any:
        """The calibration summary and holdout columns of the rows so far, as
        `rfmkit.clv.calibration_holdout` gives them (needs `freq` and
        `calibration_period_end`).

        Returns
        -------
        pandas.DataFrame, polars.DataFrame or pyarrow.Table
        """
        self._check_usable()
        return self._finish_summary(
            "calibration_holdout",
            freq_multiplier,
            include_first_transaction,
            "rfmkit.Aggregator.calibration_holdout",
            stacklevel=5,
        )

    def _finish_summary(
        self, view: str, freq_multiplier: Any, include_first_transaction: bool, function: str, *, stacklevel: int
    ) -> Any:
        from rfmkit.clv import _summary

        p = self._params
        if p["freq"] is None:
            raise InvalidParameterError(
                f"this Aggregator was made without freq=, so it kept no BTYD periods for {view}(); make it with "
                f"freq= (e.g. 'D')"
            )
        calibration = p["calibration_period_end"] is not None
        if view == "summary" and calibration:
            raise InvalidParameterError(
                "this Aggregator splits calibration and holdout (calibration_period_end=): finish it with "
                "calibration_holdout()"
            )
        if view == "calibration_holdout" and not calibration:
            raise InvalidParameterError(
                "calibration_holdout() needs an Aggregator made with calibration_period_end= (and freq=)"
            )
        multiplier = _summary._check_multiplier(freq_multiplier)
        state = self._state_or_empty()
        with_amount = p["amount"] is not None
        if view == "summary":
            result = state.finish_summary(include_first_transaction=bool(include_first_transaction))
            info = self._account(result, function, stacklevel)
            columns = _summary.summary_columns(
                result, info, freq=p["freq"], multiplier=multiplier, ticks_per_day=NS_PER_DAY, with_amount=with_amount
            )
        else:
            result = state.finish_calibration_holdout(include_first_transaction=bool(include_first_transaction))
            info = self._account(result, function, stacklevel)
            columns = _summary.calibration_columns(
                result,
                info,
                freq=p["freq"],
                multiplier=multiplier,
                calibration_end=state.options()["calibration_end"],
                ticks_per_day=NS_PER_DAY,
                with_amount=with_amount,
            )
        return self._build(result["keys"], columns, info)

    def _state_or_empty(self) -> Any:
        if self._state is not None:
            return self._state
        return _core.State(**self._state_options(self._tz))

    def _account(self, result: dict[str, Any], function: str, stacklevel: int) -> dict[str, Any]:
        return _columns.account(
            result,
            function,
            date_drops=self._date_drops,
            date_format=self._date_format,
            notes=self._notes,
            unfed=self._unfed,
            amount_example=self._amount_example,
            stacklevel=stacklevel,
        )

    def _timestamps(self, ticks: np.ndarray) -> Any:
        """Timestamps of the wall-clock nanoseconds `ticks`, in the type of the date column."""
        import pyarrow as pa

        wall = np.ascontiguousarray(ticks, dtype=np.int64).view("datetime64[ns]")
        if self._tz is not None:
            local = pd.DatetimeIndex(wall).tz_localize(
                self._tz, ambiguous=np.ones(len(wall), dtype=bool), nonexistent="shift_forward"
            )
            array = pa.array(local)
        else:
            array = pa.array(wall)
        kind = self._date_type or _columns.ColumnType("pandas", pa.timestamp("ns"), "numpy:datetime64[ns]")
        return kind.column(self._params["date"], array).take(np.arange(len(wall), dtype=np.int64))

    def _build(self, keys: Any, columns: dict[str, Any], info: dict[str, Any]) -> Any:
        import pyarrow as pa

        if isinstance(keys, tuple):
            offsets, data = keys
            array = pa.LargeStringArray.from_buffers(len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(data))
        else:
            array = pa.array(np.asarray(keys, dtype=np.int64))
        kind = self._customer_type or _columns.ColumnType("pandas", pa.int64(), "numpy:int64")
        n = len(array)
        customers = _columns.Codes(
            np.empty(0, dtype=np.int64), np.arange(n, dtype=np.int64), kind.column(self._params["customer"], array)
        )
        return _columns.build_table(self._frontend or "pandas", customers, np.arange(n, dtype=np.int64), columns, info)

    # ------------------------------------------------------------------ bytes

    def to_bytes(self) -> bytes:
        """The aggregator as bytes, for `from_bytes` in another process: an Arrow IPC
        stream of one row (the state's columns as lists) with the parameters and what
        the batches told in the schema's metadata (JSON), then a checksum. Pickling an
        aggregator writes these bytes."""
        import pyarrow as pa

        self._check_usable()
        columns = self._state.columns() if self._state is not None else {}
        arrays = {name: value for name, value in columns.items() if isinstance(value, np.ndarray)}
        scalars = {name: value for name, value in columns.items() if not isinstance(value, np.ndarray)}
        meta = {
            "format": FORMAT,
            "version": VERSION,
            "params": self._params,
            "state": _json_options(self._state.options()) if self._state is not None else None,
            "scalars": scalars,
            "dtypes": {name: array.dtype.str for name, array in arrays.items()},
            "tz": self._tz,
            "tz_known": self._tz_known,
            "date_format": self._date_format,
            "notes": self._notes,
            "date_drops": self._date_drops,
            "unfed": self._unfed,
            "kinds": self._kinds,
            "frontend": self._frontend,
            "customer_type": self._customer_type.spec() if self._customer_type is not None else None,
            "customer_type_known": self._customer_type_known,
            "date_type": self._date_type.spec() if self._date_type is not None else None,
            "date_type_known": self._date_type_known,
            "rows_seen": self._rows_seen,
        }
        text = json.dumps(meta, sort_keys=True).encode()
        fields, values = [], []
        for name, array in arrays.items():
            flat = pa.array(array)
            values.append(pa.LargeListArray.from_arrays(pa.array([0, len(flat)], type=pa.int64()), flat))
            fields.append(pa.field(name, values[-1].type))
        schema = pa.schema(fields, metadata={_META: text})
        table = pa.Table.from_arrays(values, schema=schema) if values else schema.empty_table()
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, schema) as writer:
            writer.write_table(table)
        return seal(sink.getvalue().to_pybytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> Aggregator:
        """The aggregator written by `to_bytes`.

        Raises
        ------
        InvalidDataError
            `data` is not such bytes: damaged, truncated, or written by a version of
            rfmkit whose layout this one does not read.
        """
        import pyarrow as pa

        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidDataError(
                f"from_bytes takes the bytes of Aggregator.to_bytes(), got {type(data).__qualname__}"
            )
        stream = unseal(memoryview(data).cast("B"))
        try:
            table = pa.ipc.open_stream(pa.py_buffer(stream)).read_all()
        except (pa.ArrowException, OSError, ValueError) as error:
            raise InvalidDataError(
                f"these bytes are not an rfmkit Aggregator (Arrow IPC could not read them: {error})"
            ) from None
        metadata = table.schema.metadata or {}
        if _META not in metadata:
            raise InvalidDataError("these bytes are Arrow IPC, but not an rfmkit Aggregator (no aggregator metadata)")
        text = metadata[_META]
        try:
            meta = json.loads(text)
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise ValueError("another format")
            version = meta.get("version")
            if version != VERSION:
                raise InvalidDataError(
                    f"these bytes hold an Aggregator of layout version {version!r}; this rfmkit reads version "
                    f"{VERSION}: finish it with the rfmkit that wrote it, or aggregate again"
                )
            arrays = {}
            for name, dtype in meta["dtypes"].items():
                column = table.column(name)
                if table.num_rows != 1 or column.num_chunks != 1:
                    raise ValueError(f"column {name} is not one list")
                values = column.chunk(0).flatten().to_numpy(zero_copy_only=False)
                arrays[name] = np.ascontiguousarray(values, dtype=np.dtype(dtype))
            if len(table.schema.names) != len(arrays):
                raise ValueError("columns that the metadata does not list")
            params = meta["params"]
            aggregator = cls(**params)
            if aggregator._params != params:
                raise ValueError("parameters not as written")
            if meta["state"] is not None:
                options = dict(meta["state"], names=tuple(meta["state"]["names"]))
                aggregator._state = _core.State.from_columns(options, {**arrays, **meta["scalars"]})
            aggregator._tz = meta["tz"]
            aggregator._tz_known = bool(meta["tz_known"])
            aggregator._date_format = meta["date_format"]
            aggregator._notes = [str(note) for note in meta["notes"]]
            aggregator._date_drops = {str(k): int(v) for k, v in meta["date_drops"].items()}
            aggregator._unfed = {str(k): int(v) for k, v in meta["unfed"].items()}
            aggregator._kinds = {str(k): str(v) for k, v in meta["kinds"].items()}
            aggregator._frontend = meta["frontend"]
            for name in ("customer_type", "date_type"):
                spec = meta[name]
                setattr(aggregator, f"_{name}", _columns.ColumnType.of_spec(spec) if spec is not None else None)
            aggregator._date_type_known = bool(meta["date_type_known"])
            aggregator._customer_type_known = bool(meta["customer_type_known"])
            aggregator._rows_seen = int(meta["rows_seen"])
        except InvalidDataError:
            raise
        except (
            RfmkitError,
            ValueError,
            TypeError,
            KeyError,
            AttributeError,
            IndexError,
            OverflowError,
            pa.ArrowException,
        ) as error:
            raise InvalidDataError(
                f"these bytes are a damaged rfmkit Aggregator ({type(error).__name__}: {error})"
            ) from None
        return aggregator

    def __reduce__(self) -> tuple[Any, ...]:
        return (_from_bytes, (self.to_bytes(),))

    def __repr__(self) -> str:
        shown = ", ".join(f"{key}={value!r}" for key, value in self._params.items() if value is not None)
        customers = self._state.n_customers if self._state is not None else 0
        return f"Aggregator({shown}) <{self.rows_in} rows, {customers} customers>"


def _from_bytes(data: bytes) -> Aggregator:
    return Aggregator.from_bytes(data)


def split(aggregator: Aggregator, parts: int) -> list[Aggregator]:
    """`aggregator`'s customers in `parts` aggregators by a fixed hash of their ids (an id
    goes to the same part in every process; `_core.State.split`): merged, they finish
    as `aggregator` does. Each part keeps what the batches told; the rows dropped, also
    those dropped before the core (unreadable dates, batches of null ids), are counted
    in the first. Needs a state of one view (the RFM records or the BTYD periods)."""
    aggregator._check_usable()
    if aggregator._state is None:
        return [aggregator] + [_emptied(aggregator, None) for _ in range(parts - 1)]
    states = aggregator._state.split(parts)
    first = _emptied(aggregator, states[0])
    first._date_drops, first._unfed = dict(aggregator._date_drops), dict(aggregator._unfed)
    first._rows_seen = aggregator._rows_seen - sum(state.rows_in for state in states[1:])
    return [first] + [_emptied(aggregator, state) for state in states[1:]]


def _emptied(aggregator: Aggregator, state: Any) -> Aggregator:
    """A copy of `aggregator` holding `state`, with no rows counted outside it."""
    # (not copy.copy: it would pickle the aggregator, i.e. write and read its bytes)
    piece = object.__new__(type(aggregator))
    piece.__dict__.update(aggregator.__dict__)
    piece._state = state
    piece._notes, piece._kinds = list(aggregator._notes), dict(aggregator._kinds)
    piece._date_drops, piece._unfed = {}, {}
    piece._rows_seen = state.rows_in if state is not None else 0
    return piece


def _json_options(options: dict[str, Any]) -> dict[str, Any]:
    return {key: list(value) if isinstance(value, tuple) else value for key, value in options.items()}


def seal(stream: bytes) -> bytes:
    """`stream` followed by the tag and its checksum."""
    return stream + _TAG + hashlib.blake2b(stream, digest_size=_DIGEST_SIZE).digest()


def unseal(data: Any) -> memoryview:
    """The stream of sealed bytes (a view, no copy); InvalidDataError when they are not
    sealed or damaged."""
    data = memoryview(data)
    end = len(data) - _DIGEST_SIZE - len(_TAG)
    if end < 0 or data[end : end + len(_TAG)] != _TAG:
        raise InvalidDataError(
            "these bytes are not an rfmkit Aggregator written by Aggregator.to_bytes() (or they were cut short)"
        )
    stream = data[:end]
    if hashlib.blake2b(stream, digest_size=_DIGEST_SIZE).digest() != data[end + len(_TAG) :]:
        raise InvalidDataError("these bytes are a damaged rfmkit Aggregator: their checksum does not match")
    return stream


def _reasons(prepared: _columns.Prepared) -> dict[str, int]:
    """Why each row of a batch whose customer or order ids are all null is invalid, as
    the core classifies rows: the customer, then the date, the amount, the order."""
    valid = np.ones(len(prepared.times.ticks), dtype=bool)
    counts = {}
    checks = [
        ("missing_customer", raw[-1] if (raw := prepared.raw_ids) is not None and raw[-1] is not None else None),
        ("missing_date", prepared.times.ticks != _columns.NAT),
        ("invalid_amount", np.isfinite(prepared.table.amount) if prepared.table.amount is not None else None),
        ("missing_order", prepared.raw_orders[-1] if prepared.raw_orders is not None else None),
    ]
    for reason, ok in checks:
        if ok is None:
            continue
        failing = valid & ~ok
        if failing.any():
            counts[reason] = int(failing.sum())
        valid &= ok
    assert not valid.any()  # (the batch has all null customer or order ids)
    return counts


def _null_ids(kind: str, n: int) -> tuple[Any, ...]:
    """`n` null ids of `kind`, as `_columns.state_ids` gives ids."""
    if kind == "text":
        return np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.uint8), np.zeros(n, dtype=bool)
    return np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)


def _nanoseconds(ticks: np.ndarray, ticks_per_day: int) -> np.ndarray:
    """Wall-clock ticks in nanoseconds, NaT kept (dates are within 1900..2100 by now: no
    overflow). `ticks` may be a view of the user's column: a new array when scaled."""
    factor = NS_PER_DAY // ticks_per_day
    if factor == 1:
        return ticks
    out = np.full(len(ticks), _columns.NAT, dtype=np.int64)
    np.multiply(ticks, factor, out=out, where=ticks != _columns.NAT)
    return out


# --------------------------------------------------------------------------- inputs read in batches


def _tables(data: Any, roles: dict[str, str], progress: bool = False, source: Any = None) -> Any:
    """The batches of a source as tables for `Aggregator.update`: polars DataFrames for a
    LazyFrame (its results are polars), pyarrow Tables otherwise."""
    import pyarrow as pa

    if source is None:
        source = _sources.open_source(data, roles, progress=progress)
    if _sources._is_lazyframe(data):
        import polars as pl

        for batch in source.batches():
            yield pl.from_arrow(batch)
    else:
        pool = pa.default_memory_pool()
        for batch in source.batches():
            yield pa.Table.from_batches([batch])
            # The batch is aggregated: give its buffers back, so that the allocator's cache
            # does not grow with the rows read.
            pool.release_unused()


def rfm_of_source(data: Any, *, progress: bool, **parameters: Any) -> Any:
    """`rfmkit.rfm` of an input read in batches (`_sources.is_source`)."""
    window_days = _rfm._window_days(parameters["window"])
    roles = {role: parameters[role] for role in ("customer", "date", "amount", "order") if parameters[role] is not None}
    source = _sources.open_source(data, roles, progress=progress)
    if window_days is not None and parameters["as_of"] is None:
        if not source.rereadable:
            raise InvalidParameterError(
                f"window= without as_of= reads the input twice (first its last date: as_of is the day after it), "
                f"and {source.description} can be read once: pass as_of= (e.g. as_of='2024-07-01'), or an input "
                f"that can be read again (files, a Dataset, a LazyFrame, a list of record batches)"
            )
        probe = Aggregator(**{**parameters, "window": None})
        last = None
        for table in _tables(data, roles, source=source):
            found = probe._last_valid_time(table)
            if found is not None and (last is None or found > last):
                last = found
        if last is None:  # no valid row: no observation, as in memory
            parameters = {**parameters, "window": None}
        else:
            day = last // NS_PER_DAY + 1
            parameters = {**parameters, "as_of": _columns.stamp_of_day(day)}
    aggregator = Aggregator(**parameters)
    aggregator._frontend = _sources.result_kind(data)
    for table in _tables(data, roles, source=source):
        aggregator._update_table(table)
    return aggregator._finish_rfm(None, "rfmkit.rfm", window_days=window_days, stacklevel=6)


def view_of_source(data: Any, view: str, parameters: dict[str, Any], finish: dict[str, Any], *, progress: bool) -> Any:
    """`rfmkit.clv.summary` or `calibration_holdout` (`view`) of an input read in batches."""
    aggregator = Aggregator(**parameters)
    aggregator._frontend = _sources.result_kind(data)
    for table in _tables(data, aggregator._roles(), progress=progress):
        aggregator._update_table(table)
    function = f"rfmkit.clv.{view}"
    return aggregator._finish_summary(
        view, finish["freq_multiplier"], finish["include_first_transaction"], function, stacklevel=7
    )
