"""The dataframe front: find the columns, coerce each once, hand numpy arrays to the core.

Every supported input (pandas with numpy- or Arrow-backed columns, polars, pyarrow) is
reduced here to the arrays the Rust core works on: dense int64 customer codes, int64
wall-clock timestamps with their ticks per day, float64 amounts. Nothing here writes
to the user's data: numpy views are only read, conversions make new arrays.
"""

from __future__ import annotations

import contextvars
import datetime as _dt
import re
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rfmkit import _core
from rfmkit._io import dates as _dates
from rfmkit._io import frames
from rfmkit._io.frames import Column, Frame
from rfmkit._io.frames import pyarrow as _pyarrow
from rfmkit.exceptions import (
    DataQualityWarning,
    DtypeError,
    InvalidParameterError,
    InvalidRowError,
)

NAT = np.iinfo(np.int64).min
TICKS_PER_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}


@dataclass(frozen=True)
class ColumnType:
    """The type of an input column, to give values back in it from Arrow arrays: what a
    state finishes (ids, timestamps) comes out in the types the in-memory functions take
    from the column itself (`Column.take`). `spec` / `of_spec` write and read it.

    Categoricals are described by their categories' type: a state keeps the values."""

    frontend: str  # "pandas", "polars" or "arrow"
    arrow: Any  # the Arrow type of the values (pyarrow.DataType)
    # pandas: how its dtype is rebuilt: "arrow" (an ArrowDtype of `arrow`), "tz" (a
    # DatetimeTZDtype of `arrow`'s unit and zone), "string:<storage>:<nan|NA>", "numpy:<dtype>"
    pandas: str | None = None

    @classmethod
    def of(cls, column: Column) -> ColumnType:
        pa = _pyarrow()
        values = column.values
        if column.frontend == "pandas":
            dtype = values.dtype
            if isinstance(dtype, pd.CategoricalDtype):
                dtype = dtype.categories.dtype
            if isinstance(dtype, pd.ArrowDtype):
                kind = dtype.pyarrow_dtype
                return cls("pandas", kind.value_type if pa.types.is_dictionary(kind) else kind, "arrow")
            if isinstance(dtype, pd.StringDtype):
                na = "NA" if dtype.na_value is pd.NA else "nan"
                return cls("pandas", pa.large_string(), f"string:{dtype.storage}:{na}")
            if isinstance(dtype, pd.DatetimeTZDtype):
                return cls("pandas", pa.timestamp(dtype.unit, zone_name(dtype.tz)), "tz")
            try:
                kind = pa.array(pd.Series([], dtype=dtype), from_pandas=True).type
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                kind = pa.null()
            return cls("pandas", kind, f"numpy:{dtype}")
        array = column.to_arrow()
        kind = array.type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        return cls(column.frontend, kind)

    def column(self, name: str, array: Any) -> Column:
        """A column of this type holding `array` (a pyarrow Array of values that fit it:
        int64 ids for an integer type, strings for text, timestamps for dates)."""
        pa = _pyarrow()
        import pyarrow.compute as pc

        if pa.types.is_null(self.arrow) and len(array) == 0:
            array = pa.nulls(0)  # a column of only nulls: an empty result keeps its type
        elif (self.pandas is None or self.pandas in ("arrow", "tz") or pa.types.is_timestamp(self.arrow)) and (
            array.type != self.arrow and not pa.types.is_null(self.arrow)
        ):
            array = pc.cast(array, self.arrow, safe=False)
        if self.frontend == "polars":
            import polars as pl

            return Column(name, "polars", pl.from_arrow(array))
        if self.frontend == "arrow":
            return Column(name, "arrow", pa.chunked_array([array], type=array.type))
        if self.pandas == "arrow":
            return Column(name, "pandas", pd.Series(pd.arrays.ArrowExtensionArray(array)))
        series = array.to_pandas(date_as_object=False)
        dtype = self.pandas_dtype()
        if series.dtype != dtype:
            series = series.astype(dtype)
        return Column(name, "pandas", series)

    def pandas_dtype(self) -> Any:
        kind, _, rest = (self.pandas or "").partition(":")
        if kind == "arrow":
            return pd.ArrowDtype(self.arrow)
        if kind == "tz":
            return pd.DatetimeTZDtype(self.arrow.unit, self.arrow.tz)
        if kind == "string":
            storage, _, na = rest.partition(":")
            return pd.StringDtype(storage, na_value=pd.NA if na == "NA" else np.nan)
        return pd.api.types.pandas_dtype(rest)

    def pandas_kind(self) -> str:
        """How the pandas dtype is rebuilt ("arrow", "tz", "string", "numpy"; "" off pandas)."""
        return (self.pandas or "").partition(":")[0]

    def is_finer_than(self, other: ColumnType) -> bool:
        """Timestamps of a finer unit than `other`'s (a later batch of a state: the
        finer unit holds both)."""
        pa = _pyarrow()
        if not pa.types.is_timestamp(self.arrow):
            return False
        if not pa.types.is_timestamp(other.arrow):
            return True
        units = ["s", "ms", "us", "ns"]
        return units.index(self.arrow.unit) > units.index(other.arrow.unit)

    def spec(self) -> dict[str, Any]:
        """JSON-able, with the Arrow type as IPC bytes in base64."""
        import base64

        schema = _pyarrow().schema([_pyarrow().field("values", self.arrow)])
        return {
            "frontend": self.frontend,
            "pandas": self.pandas,
            "arrow": base64.b64encode(schema.serialize().to_pybytes()).decode("ascii"),
        }

    @classmethod
    def of_spec(cls, spec: dict[str, Any]) -> ColumnType:
        import base64

        pa = _pyarrow()
        schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(spec["arrow"], validate=True)))
        if spec["frontend"] not in ("pandas", "polars", "arrow"):
            raise ValueError(f"unknown frontend {spec['frontend']!r}")
        kind = cls(spec["frontend"], schema.field(0).type, spec["pandas"])
        if kind.frontend == "pandas":
            kind.pandas_dtype()  # a spec it cannot read fails here, not when finishing
        return kind


def zone_name(tz: Any) -> str | None:
    """A time zone as Arrow names it ("UTC", "Europe/Berlin", "+08:00"): one spelling
    for the zone objects of pandas, the standard library and Arrow's strings."""
    if tz is None or isinstance(tz, str):
        return tz
    return _pyarrow().array(pd.Series([], dtype=pd.DatetimeTZDtype("ns", tz))).type.tz


# --------------------------------------------------------------------------- ids


@dataclass
class Codes:
    """Dense codes of an id column and the row where each code first appears."""

    codes: np.ndarray
    first_rows: np.ndarray
    column: Column

    @property
    def n(self) -> int:
        return len(self.first_rows)

    def ids(self, codes: np.ndarray) -> Any:
        """The original ids of `codes`, in the column's type."""
        rows = self.first_rows[codes]
        values = self.column.take(rows)
        if self.column.frontend == "arrow":
            return _integral_floats_as_int_arrow(values)
        if self.column.frontend != "polars":
            values = _integral_floats_as_int(values)
        return values


def _integral_floats_as_int(values: Any) -> Any:
    # An int id column with nulls arrives as float; its ids are still integers.
    dtype = getattr(values, "dtype", None)
    if dtype is None or not pd.api.types.is_float_dtype(dtype):
        return values
    as_float = np.asarray(values, dtype=np.float64)
    if as_float.size and np.all(as_float == np.round(as_float)) and np.all(np.abs(as_float) < 2**53):
        return as_float.astype(np.int64)
    return values


def _integral_floats_as_int_arrow(values: Any) -> Any:
    """`_integral_floats_as_int` of an Arrow array (other types as they are)."""
    pa = _pyarrow()
    if not pa.types.is_floating(values.type):
        return values
    as_int = _integral_floats_as_int(values.to_numpy())
    return pa.chunked_array([pa.array(as_int)]) if as_int.dtype == np.int64 else values


def _factorize_arrow(array: Any) -> dict[str, Any]:
    """Codes of an Arrow array: ints and floats through numpy, strings from their buffers."""
    pa = _pyarrow()
    import pyarrow.compute as pc

    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    kind = array.type
    if pa.types.is_dictionary(kind):
        return _factorize_arrow(pc.cast(array, kind.value_type))
    validity = None
    if array.null_count:
        validity = np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    if pa.types.is_integer(kind) or pa.types.is_boolean(kind):
        values = np.asarray(pc.cast(array, pa.int64()).fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)
        return _core.factorize_int(values, validity)
    if pa.types.is_floating(kind):
        values = pc.cast(array, pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
        return _core.factorize_float(np.ascontiguousarray(values, dtype=np.float64))
    if _is_arrow_text(kind):
        offsets, data, validity = _arrow_text_buffers(array, validity)
        return _core.factorize_utf8(offsets, data, validity)
    return _factorize_generic(array.to_pandas())


def _is_arrow_text(kind: Any) -> bool:
    pa = _pyarrow()
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind))


def _arrow_text_buffers(array: Any, validity: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The offsets, data and validity of an Arrow string array, as the core reads them (no
    copy of the strings). A blank cell of an export is no id: it is null (missing_customer)."""
    pa = _pyarrow()
    import pyarrow.compute as pc

    if pa.types.is_string_view(array.type):
        array = pc.cast(array, pa.large_string())
    # int32 offsets (`string`) are read as they are: no cast, no copy.
    offset_dtype = np.int64 if pa.types.is_large_string(array.type) else np.int32
    _, offsets_buffer, data_buffer = array.buffers()
    if offsets_buffer is None:  # an empty array may have no buffers
        offsets = np.zeros(1, dtype=offset_dtype)
    else:
        offsets = np.frombuffer(offsets_buffer, dtype=offset_dtype)[array.offset : array.offset + len(array) + 1]
    # Blank (empty, or only whitespace) without a temporary per string: one byte a row.
    blank = offsets[1:] == offsets[:-1]
    blank |= np.asarray(pc.utf8_is_space(array).fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    if blank.any():
        present = ~blank
        if array.null_count:
            present &= np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        validity = present if validity is None else (validity & present)
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    return np.ascontiguousarray(offsets), data, validity


def raw_ids(column: Column) -> tuple[Any, ...] | None:
    """The ids of an integer or text id column as the core reads them without codes:
    ``(int64 values, validity)`` or Arrow ``(offsets, data, validity)`` (validity None: no
    null); None for any other column (it is factorized)."""
    pa = _pyarrow()
    import pyarrow.compute as pc

    if column.frontend == "pandas":
        dtype = column.values.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "iu" and not (dtype.kind == "u" and dtype.itemsize == 8):
            return np.ascontiguousarray(column.values.to_numpy(), dtype=np.int64), None
        arrow_text = (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow") or (
            isinstance(dtype, pd.ArrowDtype) and _is_arrow_text(dtype.pyarrow_dtype)
        )
        if not arrow_text:
            return None
        array = pa.array(column.values)
    else:
        array = column.to_arrow()
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    validity = None
    if array.null_count:
        validity = np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    if _is_arrow_text(array.type):
        return _arrow_text_buffers(array, validity)
    if not pa.types.is_integer(array.type) or array.type == pa.uint64():
        return None
    values = np.asarray(pc.cast(array, pa.int64()).fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)
    return values, validity


def state_ids(column: Column, role: str) -> tuple[Any, ...]:
    """The ids of a column as `_core.State.update` reads them: ``(int64 values, validity)``
    for integers (and floats holding whole numbers: an int column with nulls), Arrow
    ``(offsets, data, validity)`` for text, categoricals by their categories' values.
    Validity is None when no id is null. Any other column is a `DtypeError` that says
    how to cast it (a state keeps ids as they are, without codes: no other kind can be
    merged across batches)."""
    ids = raw_ids(column)
    if ids is not None:
        return ids
    pa = _pyarrow()
    values = column.values
    if column.frontend == "pandas":
        dtype = values.dtype
        if isinstance(dtype, np.dtype) and dtype.kind == "O":
            inferred = pd.api.types.infer_dtype(values, skipna=True)
            if inferred not in ("string", "integer", "floating", "mixed-integer-float", "empty"):
                raise DtypeError(_ids_hint(column.name, role, f"{inferred} values"))
        elif isinstance(dtype, np.dtype) and dtype.kind not in "iuf":
            raise DtypeError(_ids_hint(column.name, role, f"values of dtype {dtype}"))
        try:
            array = pa.array(values, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            raise DtypeError(_ids_hint(column.name, role, "mixed values")) from None
    else:
        array = column.to_arrow()
    return _state_ids_arrow(array, column.name, role)


def _state_ids_arrow(array: Any, name: str, role: str) -> tuple[Any, ...]:
    pa = _pyarrow()
    import pyarrow.compute as pc

    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    kind = array.type
    if pa.types.is_dictionary(kind):
        return _state_ids_arrow(pc.cast(array, kind.value_type), name, role)
    if pa.types.is_null(kind):  # only nulls (e.g. an empty object column): ids of no kind
        return np.zeros(len(array), dtype=np.int64), np.zeros(len(array), dtype=bool)
    validity = None
    if array.null_count:
        validity = np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    if _is_arrow_text(kind):
        return _arrow_text_buffers(array, validity)
    if kind == pa.uint64():
        if len(array) and (pc.max(array).as_py() or 0) >= 2**63:
            raise DtypeError(_ids_hint(name, role, "unsigned 64-bit integers beyond the int64 range"))
        kind = pa.int64()
    if pa.types.is_integer(kind):
        values = pc.cast(array, pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
        return np.ascontiguousarray(values, dtype=np.int64), validity
    if pa.types.is_floating(kind):
        values = np.asarray(
            pc.cast(array, pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False), dtype=np.float64
        )
        present = ~np.isnan(values)
        whole = present & (values == np.round(values)) & (np.abs(values) < 2**53)
        if not np.array_equal(whole, present):
            example = float(values[present & ~whole][0])
            raise DtypeError(_ids_hint(name, role, f"numbers that are not whole, e.g. {example!r}"))
        return np.where(present, values, 0).astype(np.int64), None if present.all() else present
    raise DtypeError(_ids_hint(name, role, f"values of type {kind}"))


def _ids_hint(name: str, role: str, what: str) -> str:
    return (
        f"{role} column {name!r} holds {what}; ids read in batches must be integers or text (one of them in "
        f"every batch): cast the column first, e.g. df[{name!r}].astype(str) (or .astype('Int64') for whole "
        f"numbers), or pl.col({name!r}).cast(pl.String) in polars"
    )


def _factorize_generic(values: Any, name: str = "id", role: str = "id") -> dict[str, Any]:
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    except TypeError:
        example = next((v for v in values if isinstance(v, (list, dict, set, np.ndarray))), None)
        raise DtypeError(
            f"{role} column {name!r} holds values that cannot be ids, e.g. {example!r} (lists, dicts, arrays); "
            f"ids must be numbers or text"
        ) from None
    codes = np.ascontiguousarray(codes, dtype=np.int64)
    first_rows = np.full(len(uniques), -1, dtype=np.int64)
    present = codes >= 0
    rows = np.nonzero(present)[0]
    # Reversed assignment leaves the first row of each code.
    first_rows[codes[rows[::-1]]] = rows[::-1]
    return {"codes": codes, "first_rows": first_rows}


def factorize(column: Column, role: str = "id") -> Codes:
    """Dense int64 codes (-1 for null, and for empty or blank text) of an id column of any type."""
    if column.frontend == "pandas":
        result = _factorize_pandas(column.values, column.name, role)
    else:
        result = _factorize_arrow(column.to_arrow())
    return Codes(result["codes"], result["first_rows"], column)


def _factorize_pandas(series: pd.Series, name: str, role: str) -> dict[str, Any]:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        codes = np.ascontiguousarray(series.cat.codes.to_numpy(), dtype=np.int64)
        categories = dtype.categories
        if pd.api.types.infer_dtype(categories, skipna=True) == "string":
            blank = np.nonzero(np.asarray([not str(c).strip() for c in categories], dtype=bool))[0]
            if len(blank):  # an empty category is no id, as an empty text id
                codes = np.where(np.isin(codes, blank), -1, codes)
        return _core.factorize_int(codes, codes >= 0)
    if isinstance(dtype, np.dtype):
        if dtype.kind in "iu" and not (dtype.kind == "u" and dtype.itemsize == 8):
            return _core.factorize_int(np.ascontiguousarray(series.to_numpy(), dtype=np.int64), None)
        if dtype.kind == "b":
            return _core.factorize_int(series.to_numpy().astype(np.int64), None)
        if dtype.kind == "f":
            return _core.factorize_float(np.ascontiguousarray(series.to_numpy(), dtype=np.float64))
    pa = _pyarrow()
    if pa is not None:
        is_arrow_backed = isinstance(dtype, pd.ArrowDtype) or (
            isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"
        )
        if is_arrow_backed:
            return _factorize_arrow(pa.array(series))
        if dtype == object or isinstance(dtype, pd.StringDtype):
            inferred = pd.api.types.infer_dtype(series, skipna=True)
            if inferred == "string":
                return _factorize_arrow(pa.array(series, from_pandas=True))
            if inferred in ("mixed-integer", "mixed-integer-float", "mixed"):
                _check_text_collisions(series, name, role)
    if pd.api.types.is_extension_array_dtype(dtype) and pd.api.types.is_integer_dtype(dtype):
        values = series.to_numpy(dtype=np.int64, na_value=0)
        return _core.factorize_int(np.ascontiguousarray(values), ~series.isna().to_numpy())
    return _factorize_generic(series, name, role)


def _check_text_collisions(series: pd.Series, name: str, role: str) -> None:
    """Numbers and text in one id column: `1` and `"1"` are one id in any export, so two
    values that read the same as text are an error, not two customers."""
    present = series[series.notna()]
    booleans = [v for v in present if isinstance(v, (bool, np.bool_))]
    if booleans and len(booleans) < len(present):
        raise DtypeError(
            f"{role} column {name!r} mixes True/False with other ids (e.g. {booleans[0]!r}), and True would be "
            f"the same customer as 1; make the column one type first"
        )
    try:
        distinct = pd.unique(present)
    except TypeError:
        return  # unhashable values: reported by the factorization
    as_text = pd.Series([str(int(v)) if isinstance(v, float) and v.is_integer() else str(v) for v in distinct])
    repeated = as_text[as_text.duplicated(keep=False)]
    if len(repeated):
        first = repeated.iloc[0]
        examples = [repr(v) for v, t in zip(distinct, as_text) if t == first][:2]
        raise DtypeError(
            f"{role} column {name!r} mixes numbers and text that read the same ({' and '.join(examples)}), so one "
            f"customer would count as two; make the column one type first, with one spelling per customer "
            f"(e.g. df[{name!r}].astype(str) when the numbers are whole ints) to treat them as one id"
        )


# --------------------------------------------------------------------------- timestamps


@dataclass
class Times:
    """Wall-clock timestamps as int64 ticks, and how to give back the original values."""

    ticks: np.ndarray
    ticks_per_day: int
    tz: Any
    output: Column  # datetime values to take first/last purchases from

    def take(self, rows: np.ndarray) -> Any:
        return self.output.take(rows)

    def needs_rows(self) -> bool:
        """Whether `of_rows` reads its rows (else only the ticks)."""
        column = self.output
        dtype = getattr(column.values, "dtype", None)
        return not (
            column.frontend == "pandas" and self.tz is None and isinstance(dtype, np.dtype) and dtype.kind == "M"
        )

    def of_rows(self, rows: np.ndarray, ticks: np.ndarray) -> Any:
        """The timestamps of `rows`, whose ticks are `ticks`: a view of `ticks` for naive
        numpy datetimes (no gather from the column), else taken from the column."""
        if not self.needs_rows():
            return np.ascontiguousarray(ticks, dtype=np.int64).view(self.output.values.dtype)
        return self.take(rows)


def _date_hint(name: str, what: str) -> str:
    return (
        f"date column {name!r} holds {what}, not timestamps; make it one type first: timestamps, or text "
        f"(df[{name!r}].astype(str)) read with date_format= (e.g. '%Y%m%d') — never pd.to_datetime on "
        f"numbers, which reads them as epoch nanoseconds"
    )


def timestamps(
    column: Column, date_format: str | None = None, dayfirst: bool | None = None
) -> tuple[Times, _dates.DateReading]:
    """The wall-clock ticks of a date column, reading text and numbers by the one date
    rule of `_dates`; dates outside 1900..2100 become missing (NaT) and are listed in the
    returned reading with the rows that are not dates."""
    reading = _dates.DateReading()
    written = column
    converted = _text_or_number_dates(column, date_format, dayfirst, reading)
    if converted is not None:
        column = _column_like(column, converted)
    times = _timestamps_pandas(column) if column.frontend == "pandas" else _timestamps_arrow(column)
    # messages quote the value as written (the text '9999-12-31', not a parsed timestamp)
    return _outside_range_as_missing(times, reading, written), reading


def _text_or_number_dates(
    column: Column, date_format: str | None, dayfirst: bool | None, reading: _dates.DateReading
) -> pd.Series | None:
    """Datetimes of a column of text or numbers (None: the column holds dates already)."""
    kind, values = _date_source(column)
    reading.source = kind
    if kind == "text":
        return _dates.text_to_datetimes(values, column.name, date_format, dayfirst, reading)
    if kind == "numbers":
        return _dates.numbers_to_datetimes(values, column.name, date_format, reading)
    return None


def _date_source(column: Column) -> tuple[str | None, Any]:
    """("text", object array), ("numbers", float64 array) or (None, None) for a column of
    dates or times, or of anything else (left to the timestamp readers' errors)."""
    if column.frontend == "pandas":
        series = column.values
        dtype = series.dtype
        if isinstance(dtype, (pd.ArrowDtype, pd.CategoricalDtype)):
            # (a categorical becomes an Arrow dictionary: text categories are read as text)
            return _arrow_date_source(_pyarrow().array(series))
        if isinstance(dtype, pd.StringDtype):
            return "text", _pyarrow().array(series, type=_pyarrow().string(), from_pandas=True)
        if dtype == object:
            inferred = pd.api.types.infer_dtype(series, skipna=True)
            if inferred == "string":
                return "text", series.to_numpy(dtype=object)
            if inferred in ("integer", "floating", "mixed-integer-float"):
                return "numbers", pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            return None, None
        if pd.api.types.is_bool_dtype(dtype):
            return None, None
        if pd.api.types.is_numeric_dtype(dtype):
            return "numbers", series.to_numpy(dtype=np.float64, na_value=np.nan)
        return None, None
    return _arrow_date_source(column.to_arrow())


def _arrow_date_source(array: Any) -> tuple[str | None, Any]:
    pa = _pyarrow()
    kind = array.type
    if pa.types.is_dictionary(kind):
        import pyarrow.compute as pc

        array = pc.cast(array, kind.value_type)
        kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return "text", array
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        import pyarrow.compute as pc

        values = pc.cast(array, pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
        return "numbers", np.asarray(values, dtype=np.float64)
    return None, None


def _column_like(column: Column, values: pd.Series) -> Column:
    """Parsed datetimes as a column of the input's frontend (results keep its type)."""
    if column.frontend == "polars":
        import polars as pl

        return Column(column.name, "polars", pl.from_pandas(values))
    if column.frontend == "arrow":
        pa = _pyarrow()
        return Column(column.name, "arrow", pa.chunked_array([pa.Array.from_pandas(values)]))
    return Column(column.name, "pandas", values)


class _ValuesOf:
    """Row -> value of a column, for messages that quote one value."""

    def __init__(self, column: Column) -> None:
        self.column = column

    def __getitem__(self, row: int) -> Any:
        return self.column.value(row)


def _outside_range_as_missing(times: Times, reading: _dates.DateReading, written: Column) -> Times:
    ticks = times.ticks
    present = ticks != NAT
    day = ticks // times.ticks_per_day
    outside = present & ((day < _dates.FIRST_DAY) | (day > _dates.LAST_DAY))
    if not outside.any():
        return times
    reading.add(_dates.OUT_OF_RANGE, outside, _ValuesOf(written))
    ticks = ticks.copy()  # may be a view of the user's column
    ticks[outside] = NAT
    return Times(ticks, times.ticks_per_day, times.tz, times.output)


def _timestamps_pandas(column: Column) -> Times:
    series = column.values
    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        wall = series.dt.tz_localize(None)
        unit = np.datetime_data(wall.dtype)[0]
        return Times(_ticks_of(wall), TICKS_PER_DAY[unit], dtype.tz, column)
    if isinstance(dtype, np.dtype) and dtype.kind == "M":
        unit = np.datetime_data(dtype)[0]
        if unit not in TICKS_PER_DAY:
            series = series.astype("datetime64[s]")
            unit = "s"
            column = Column(column.name, "pandas", series)
        return Times(_ticks_of(series), TICKS_PER_DAY[unit], None, column)
    if isinstance(dtype, pd.ArrowDtype):
        arrow = _timestamps_arrow(Column(column.name, "arrow", _pyarrow().chunked_array([_pyarrow().array(series)])))
        # first/last purchases are taken from the pandas column: they keep its Arrow dtype
        arrow.output = column
        return arrow
    if dtype == object:
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        if inferred in ("date", "datetime", "datetime64", "empty"):
            try:
                converted = pd.to_datetime(series)
            except (ValueError, TypeError) as error:
                raise DtypeError(
                    f"date column {column.name!r} mixes time zones or date types ({error}); "
                    f"convert it with pd.to_datetime(df[{column.name!r}], utc=True)"
                ) from None
            if not isinstance(converted.dtype, (np.dtype, pd.DatetimeTZDtype)) or (
                isinstance(converted.dtype, np.dtype) and converted.dtype.kind != "M"
            ):
                converted = converted.astype("datetime64[s]")
            return _timestamps_pandas(Column(column.name, "pandas", converted))
        raise DtypeError(_date_hint(column.name, f"{inferred} values"))
    # (text and numbers were read by the date rule before: what is left is no date)
    raise DtypeError(_date_hint(column.name, f"values of dtype {dtype}"))


def _ticks_of(series: pd.Series) -> np.ndarray:
    values = series.to_numpy()
    return np.ascontiguousarray(values.view(np.int64))


def _timestamps_arrow(column: Column) -> Times:
    pa = _pyarrow()
    import pyarrow.compute as pc

    array = column.to_arrow()
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    kind = array.type
    if pa.types.is_null(kind):
        # Only nulls (e.g. an empty column of date objects): every row is a missing date.
        return Times(np.full(len(array), NAT, dtype=np.int64), 1, None, column)
    if pa.types.is_timestamp(kind):
        tz = kind.tz
        wall = pc.local_timestamp(array) if tz else array
        ticks = pc.cast(wall, pa.int64()).fill_null(NAT).to_numpy(zero_copy_only=False)
        return Times(np.ascontiguousarray(ticks, dtype=np.int64), TICKS_PER_DAY[kind.unit], tz, column)
    if pa.types.is_date32(kind):
        # days as seconds: ends given with a time of day (and hourly periods) stay exact
        days = pc.cast(array, pa.int32()).cast(pa.int64())
        ticks = pc.multiply(days, TICKS_PER_DAY["s"]).fill_null(NAT).to_numpy(zero_copy_only=False)
        return Times(np.ascontiguousarray(ticks, dtype=np.int64), TICKS_PER_DAY["s"], None, column)
    if pa.types.is_date64(kind):
        ticks = pc.cast(array, pa.int64()).fill_null(NAT).to_numpy(zero_copy_only=False)
        return Times(np.ascontiguousarray(ticks, dtype=np.int64), TICKS_PER_DAY["ms"], None, column)
    # (text and numbers were read by the date rule before: what is left is no date)
    raise DtypeError(_date_hint(column.name, f"values of type {kind}"))


# --------------------------------------------------------------------------- amounts


def amounts(column: Column) -> np.ndarray:
    """float64 amounts, NaN for null."""
    name = column.name
    hint = (
        f"amount column {name!r} holds {{what}}; convert it to numbers first, e.g. "
        f"df[{name!r}] = pd.to_numeric(df[{name!r}], errors='coerce') (bad values become NaN and are counted)"
    )
    if column.frontend == "pandas":
        series = column.values
        dtype = series.dtype
        if isinstance(dtype, np.dtype):
            if dtype.kind in "iuf":
                return np.ascontiguousarray(series.to_numpy(), dtype=np.float64)
            if dtype.kind == "O":
                inferred = pd.api.types.infer_dtype(series, skipna=True)
                if inferred in ("integer", "floating", "mixed-integer-float", "decimal", "empty"):
                    return np.ascontiguousarray(
                        pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
                    )
                raise DtypeError(hint.format(what=f"{inferred} values"))
            raise DtypeError(hint.format(what=f"values of dtype {dtype}"))
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            if isinstance(dtype, pd.ArrowDtype):
                return _amounts_arrow(_pyarrow().array(series), hint)
            return np.ascontiguousarray(series.to_numpy(dtype=np.float64, na_value=np.nan))
        if isinstance(dtype, pd.ArrowDtype):
            return _amounts_arrow(_pyarrow().array(series), hint)
        raise DtypeError(hint.format(what=f"values of dtype {dtype}"))
    return _amounts_arrow(column.to_arrow(), hint)


def _amounts_arrow(array: Any, hint: str) -> np.ndarray:
    pa = _pyarrow()
    import pyarrow.compute as pc

    kind = array.type
    if pa.types.is_null(kind):  # only nulls: every row is an invalid amount
        return np.full(len(array), np.nan, dtype=np.float64)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        values = pc.cast(array, pa.float64()).fill_null(np.nan)
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
        return np.ascontiguousarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
    raise DtypeError(hint.format(what=f"values of type {kind}"))


# --------------------------------------------------------------------------- dates given as parameters


#: Text dates that read one way only: year first (ISO 8601 and its kin).
_YEAR_FIRST = re.compile(r"^\s*\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[ T].*)?$")


def _unambiguous(value: str, name: str) -> None:
    """Refuses a text date that reads as two different days, day first or month first
    ('01/07/1998': 1 July or 7 January), rather than guessing."""
    if _YEAR_FIRST.match(value):
        return
    readings = set()
    for dayfirst in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                readings.add(pd.to_datetime(value, dayfirst=dayfirst))
            except (ValueError, TypeError, OverflowError):
                continue
    if len(readings) > 1:
        first, second = sorted(readings)
        raise InvalidParameterError(
            f"{name}={value!r} reads as {first.date().isoformat()} or {second.date().isoformat()} (month or day "
            f"first); write it year first, e.g. {name}={first.date().isoformat()!r} or {second.date().isoformat()!r} "
            f"(dayfirst and date_format read the date column, not {name})"
        )


def to_timestamp(value: Any, name: str) -> pd.Timestamp:
    if isinstance(value, (str, _dt.date, np.datetime64, pd.Timestamp)):
        if isinstance(value, str):
            _unambiguous(value, name)
        try:
            stamp = pd.Timestamp(value)
        except (ValueError, TypeError):
            raise InvalidParameterError(
                f"{name}={value!r} is not a date; pass a date such as '2024-06-30' or datetime.date(2024, 6, 30)"
            ) from None
        if pd.isna(stamp):
            raise InvalidParameterError(f"{name} must be a date, got {value!r}")
        return stamp
    raise InvalidParameterError(
        f"{name}={value!r} is not a date; pass a date such as '2024-06-30' or datetime.date(2024, 6, 30)"
    )


def wall_clock(stamp: pd.Timestamp, tz: Any) -> pd.Timestamp:
    """The timestamp on the data's wall clock (naive)."""
    if stamp.tzinfo is not None:
        if tz is not None:
            stamp = stamp.tz_convert(tz)
        stamp = stamp.tz_localize(None)
    return stamp


def ticks_of_stamp(stamp: pd.Timestamp, ticks_per_day: int) -> int:
    nanos = stamp.as_unit("ns").value
    return nanos // (TICKS_PER_DAY["ns"] // ticks_per_day)


def day_of_stamp(stamp: pd.Timestamp) -> int:
    return int((stamp.normalize() - pd.Timestamp(0)).days)


def stamp_of_day(day: int) -> pd.Timestamp:
    return pd.Timestamp(0) + pd.Timedelta(days=int(day))


# --------------------------------------------------------------------------- the core table


@dataclass
class CoreTable:
    """The attributes the Rust binding reads (see `Table` in src/python/mod.rs)."""

    customer: np.ndarray
    n_customers: int
    time: np.ndarray
    ticks_per_day: int
    amount: np.ndarray | None
    order: np.ndarray | None
    n_orders: int
    names: tuple[str, str, str, str]


@dataclass
class Prepared:
    frame: Frame
    customers: Codes
    times: Times
    table: CoreTable
    # Customer ids not encoded (`prepare(..., ids_as_they_are=True)`), as `raw_ids` gives
    # them to the core; `customers` and the table's codes are empty then.
    raw_ids: tuple[Any, ...] | None = None
    # How the date column was read, and the rows it made invalid that the core counts as
    # `missing_date` (their customer is valid), by their own reason.
    dates: _dates.DateReading | None = None
    date_drops: dict[str, int] | None = None
    # Order ids as they are (`prepare(..., for_state=True)`), as `state_ids` gives them.
    raw_orders: tuple[Any, ...] | None = None


def prepare(
    data: Any,
    *,
    customer: str,
    date: str,
    amount: str | None,
    order: str | None = None,
    ids_as_they_are: bool = False,
    for_state: bool = False,
    date_format: str | None = None,
    dayfirst: bool | None = None,
    invalid: str = "drop",
    row_base: int = 0,
) -> Prepared:
    """Looks up and converts the columns of a transaction table. With
    `ids_as_they_are`, integer and text customer ids are left unencoded in `raw_ids` (for
    `_core.rfm_ids`); other ids are encoded. With `for_state`, customer and order ids are
    left unencoded in `raw_ids` and `raw_orders` (for `_core.State.update`) and must be
    integers or text (`state_ids`). Dates follow the one date rule (`_dates`, with
    `date_format` and `dayfirst`); with ``invalid="raise"`` a value that is not a date
    raises when it is the first invalid row (its position counted from `row_base`)."""
    _dates.check_options(date_format, dayfirst)
    frame = Frame.of(data)
    customer_column = frame.column(customer, "customer")
    date_column = frame.column(date, "date")
    amount_column = frame.column(amount, "amount") if amount is not None else None
    order_column = frame.column(order, "order") if order is not None else None
    times, reading = timestamps(date_column, date_format, dayfirst)
    amount_values = amounts(amount_column) if amount_column is not None else None
    ids: tuple[Any, ...] | None
    if for_state:
        ids = state_ids(customer_column, "customer")
    else:
        ids = raw_ids(customer_column) if ids_as_they_are else None
    if ids is not None:
        empty = np.empty(0, dtype=np.int64)
        customers = Codes(empty, empty, customer_column)
    else:
        customers = factorize(customer_column, "customer")
    raw_orders = None
    orders = None
    if order_column is not None:
        if for_state:
            raw_orders = state_ids(order_column, "order")
        else:
            orders = factorize(order_column, "order")
    table = CoreTable(
        customer=customers.codes,
        n_customers=customers.n,
        time=times.ticks,
        ticks_per_day=times.ticks_per_day,
        amount=amount_values,
        order=orders.codes if orders is not None else None,
        n_orders=orders.n if orders is not None else 0,
        names=(
            customer_column.name,
            date_column.name,
            amount_column.name if amount_column is not None else "",
            order_column.name if order_column is not None else "",
        ),
    )
    prepared = Prepared(frame, customers, times, table, ids, reading, raw_orders=raw_orders)
    _account_dates(prepared, invalid, row_base)
    return prepared


def _account_dates(prepared: Prepared, invalid: str, row_base: int = 0) -> None:
    """Counts the rows that are not dates by reason, as the core classifies rows: the
    first failing field wins, and the customer comes before the date."""
    reading = prepared.dates
    if reading is None or not reading.bad_rows:
        return
    if prepared.raw_ids is not None:
        valid_customer = prepared.raw_ids[-1]
    else:
        valid_customer = prepared.customers.codes >= 0
    prepared.date_drops = {
        reason: int((mask if valid_customer is None else mask & valid_customer).sum())
        for reason, mask in reading.bad_rows.items()
    }
    if invalid != "raise":
        return
    first = reading.first_bad_row(valid_customer)
    if first is None:
        return
    row, reason = first
    table = prepared.table
    earlier = slice(0, row)
    # an earlier row invalid for another reason is the core's to report
    if valid_customer is not None and not valid_customer[earlier].all():
        return
    if (table.time[earlier] == NAT).any():
        return
    if table.amount is not None and not np.isfinite(table.amount[earlier]).all():
        return
    if table.order is not None and (table.order[earlier] < 0).any():
        return
    order_validity = prepared.raw_orders[-1] if prepared.raw_orders is not None else None
    if order_validity is not None and not order_validity[earlier].all():
        return
    value = reading.value_at(reason, row)
    shown = repr(str(value) if isinstance(value, (_dt.date, np.datetime64)) else value)
    what = (
        "outside 1900-01-01..2100-12-31"
        if reason == _dates.OUT_OF_RANGE
        else "not a date" + (f" in the format {reading.format!r}" if reading.format else "")
    )
    raise InvalidRowError(
        f"row {row_base + row} (0-based position): date column {table.names[1]!r} is {shown}, {what}; fix or drop such "
        f'rows, pass date_format= if the format is another, or invalid="drop" to drop and count them '
        f"(as {reason})"
    )


def run_core(prepared: Prepared, on_codes: Any, on_ids: Any, **options: Any) -> dict[str, Any]:
    """The core's result on the prepared table: ``on_ids(table, ids, **options)`` when the
    ids went as they are (`raw_ids`; the result numbers its customers and gives the row
    where each one's id first appears, `first_rows`), else ``on_codes(table, **options)``.
    The per-row codes are released afterwards."""
    if prepared.raw_ids is not None:
        result = on_ids(prepared.table, prepared.raw_ids, **options)
        prepared.customers.first_rows = result["first_rows"]
        prepared.raw_ids = None
    else:
        result = on_codes(prepared.table, **options)
    release_codes(prepared)
    return result


def release_codes(prepared: Prepared) -> None:
    """Drops the per-row code arrays once the core has run: the output is built from
    `first_rows` only, and 8 bytes a row less is most of the peak memory of a call."""
    prepared.table.customer = np.empty(0, dtype=np.int64)
    prepared.table.order = None
    prepared.customers.codes = np.empty(0, dtype=np.int64)


def quality(
    result: dict[str, Any], function: str, prepared: Prepared | None = None, *, stacklevel: int = 4
) -> dict[str, Any]:
    """The accounting dict, with a warning when rows were dropped. The core counts every
    row without a date as `missing_date`; the ones whose text or number was not a date
    move to their own reasons here. The warning's `stacklevel` is counted from `account`
    (4: the caller of the function that calls this)."""
    from rfmkit._io import files as _files

    dates = prepared.dates if prepared is not None else None
    return account(
        result,
        function,
        date_drops=prepared.date_drops if prepared is not None and dates is not None else None,
        date_format=dates.format if dates is not None else None,
        notes=dates.notes if dates is not None else (),
        amount_example=_files.amount_example(prepared.frame.data) if prepared is not None else None,
        stacklevel=stacklevel,
    )


#: Set (per thread and task) where the accounting is added up elsewhere and warned about
#: once: the partitions of `rfmkit.spark` and `rfmkit.dask`. (`warnings.catch_warnings`
#: is no help there: it swaps the process-wide filters, and threads undo each other.)
QUIET: contextvars.ContextVar[bool] = contextvars.ContextVar("rfmkit_quiet", default=False)


def account(
    result: dict[str, Any],
    function: str,
    *,
    date_drops: dict[str, int] | None,
    date_format: str | None,
    notes: Any = (),
    unfed: dict[str, int] | None = None,
    amount_example: str | None = None,
    stacklevel: int = 3,
) -> dict[str, Any]:
    """`quality` from its pieces: the core's counts, the rows the date rule made invalid
    by reason (counted by the core as `missing_date`), the date format and notes, and
    invalid rows that never reached the core, by reason (`unfed`). The warning points
    `stacklevel` frames up."""
    info: dict[str, Any] = {
        "rows_in": int(result["rows_in"]),
        "rows_used": int(result["rows_used"]),
        "dropped": dict(result["dropped"]),
    }
    for reason, count in (unfed or {}).items():
        info["rows_in"] += count
        info["dropped"][reason] = info["dropped"].get(reason, 0) + count
    if date_drops:
        dropped = info["dropped"]
        moved = sum(date_drops.values())
        remaining = dropped.get("missing_date", 0) - moved
        dropped.pop("missing_date", None)
        if remaining:
            dropped["missing_date"] = remaining
        for reason, count in date_drops.items():
            if count:
                dropped[reason] = count
    if date_format is not None:
        info["date_format"] = date_format
    if notes:
        info["notes"] = list(notes)
    dropped = sum(info["dropped"].values())
    if dropped and not QUIET.get():
        detail = ", ".join(f"{count} {reason}" for reason, count in info["dropped"].items())
        hint = ""
        if info["dropped"].get("invalid_amount") and amount_example is not None:
            # amounts of a file that are no numbers in the notation it was read with
            hint = (
                f"; amounts written like {amount_example!r} are not numbers as read: give the file's notation "
                f"(decimal=, thousands= of rfmkit.read_transactions or rfmkit.scan_transactions; --decimal, "
                f"--thousands in the CLI)"
            )
        warnings.warn(
            f"{function} dropped {dropped} of {info['rows_in']} rows ({detail}); "
            f"rfmkit.quality(result) counts them{hint}",
            DataQualityWarning,
            stacklevel=stacklevel,
        )
    return info


def build(prepared: Prepared, index_codes: np.ndarray, columns: dict[str, Any], attrs: dict[str, Any]) -> Any:
    """The result table in the input's frontend: indexed by customer id (pandas) or with
    the customer id as the first column (polars)."""
    return build_table(prepared.frame.frontend, prepared.customers, index_codes, columns, attrs)


def build_table(
    frontend: str, customers: Codes, index_codes: np.ndarray, columns: dict[str, Any], attrs: dict[str, Any]
) -> Any:
    """`build` for the ids of `customers` in a table of `frontend`."""
    return frames.customer_table(frontend, customers.ids(index_codes), customers.column.name, columns, attrs)
