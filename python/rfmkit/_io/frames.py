"""Which kind of table the caller passed, its columns by name, and results in that kind.

With `columns` (which reads the transaction columns of each kind into the core's
arrays) and `sources` (inputs read in batches), the package that tells pandas, polars
and pyarrow apart. Inputs are looked up here (`Frame`, `Column`); results are built here
in the caller's kind: pandas in -> pandas out (indexed by customer id), polars in ->
polars out and pyarrow in -> pyarrow out (the customer id as the first column). The
tables of the core's arrays (`customer_table`) are built from them directly, keeping
the types of the input's ids and dates; the tables computed with pandas (summaries,
profiles, the report) go to polars and pyarrow through Arrow (`from_pandas`). The other
modules pass the kind along as an opaque string.

narwhals was considered: it is made for frame-agnostic code, but rfmkit reads its input
columns as Arrow buffers (zero-copy text ids, time zones, dictionaries; see `columns`) and
builds results from numpy arrays of the core, which it would not simplify; the
dispatch it would replace is this one module.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rfmkit._io import sources
from rfmkit.exceptions import ColumnNotFoundError, DtypeError, InvalidParameterError

#: Where a pyarrow result keeps rfmkit's record (schema metadata survives Parquet).
_ARROW_KEY = b"rfmkit"


def polars() -> Any:
    import polars

    return polars


def pyarrow() -> Any:
    """The pyarrow module, or None where it is not installed."""
    try:
        import pyarrow
    except ImportError:  # pragma: no cover - exercised only without pyarrow
        return None
    return pyarrow


def is_polars_frame(data: Any) -> bool:
    return type(data).__module__.startswith("polars") and type(data).__name__ == "DataFrame"


def is_arrow_table(data: Any) -> bool:
    pa = pyarrow()
    return pa is not None and isinstance(data, pa.Table)


@dataclass
class Column:
    """One input column with where it came from, so results can be restored in its type."""

    name: str
    frontend: str  # "pandas", "polars" or "arrow"
    values: Any  # pd.Series, pl.Series or pa.ChunkedArray

    def to_arrow(self) -> Any:
        if self.frontend == "polars":
            return self.values.to_arrow()
        if self.frontend == "arrow":
            return self.values
        return pyarrow().array(self.values, from_pandas=True)

    def categories(self) -> list[str] | None:
        """The categories of a categorical column (pandas Categorical, polars Enum or
        Categorical, Arrow dictionary), in their order; None for other columns."""
        values = self.values
        if self.frontend == "polars":
            dtype = values.dtype
            pl = polars()
            if isinstance(dtype, pl.Enum):
                return [str(c) for c in dtype.categories]
            return None
        if self.frontend == "arrow":
            pa = pyarrow()
            if not pa.types.is_dictionary(values.type):
                return None
            chunks = values.unify_dictionaries().chunks
            return [str(c) for c in chunks[0].dictionary.to_pylist()] if chunks else []
        if isinstance(values.dtype, pd.CategoricalDtype):
            return [str(c) for c in values.cat.categories]
        return None

    def as_pandas(self) -> pd.Series:
        """The values as a pandas Series (the column itself for pandas)."""
        return series_as_pandas(self.values)

    def numbers(self, role: str, *, booleans: bool = False, purpose: str | None = None) -> np.ndarray:
        """The column as a contiguous float64 array (nulls become NaN), never a view the
        caller could write through to the user's data... except a float64 numpy column,
        which is returned as it is (read-only use). DtypeError, naming the column and the
        cast to make, when it holds no numbers (booleans only where `booleans`)."""
        name = self.name
        values = self.values
        if self.frontend == "arrow":
            pa = pyarrow()
            kind = values.type
            if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)) and not (
                booleans and pa.types.is_boolean(kind)
            ):
                raise DtypeError(
                    f"{role} column {name!r} has type {kind}"
                    + (f"; {purpose} needs numbers: " if purpose else ", not numbers; ")
                    + f"cast it first, e.g. table.set_column(table.schema.get_field_index({name!r}), {name!r}, "
                    f"pyarrow.compute.cast(table[{name!r}], pyarrow.float64()))"
                )
            values = values.to_pandas()
        if self.frontend == "polars":
            pl = polars()
            dtype = values.dtype
            if not (dtype.is_numeric() or (booleans and dtype == pl.Boolean)):
                raise DtypeError(
                    f"{role} column {name!r} has dtype {dtype}"
                    + (f"; {purpose} needs numbers: " if purpose else ", not numbers; ")
                    + f"cast it first, e.g. pl.col({name!r}).cast(pl.Float64)"
                )
            return np.ascontiguousarray(values.cast(pl.Float64).fill_null(float("nan")).to_numpy(), dtype=np.float64)
        dtype = values.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in ("iuf" + ("b" if booleans else "")):
            return np.ascontiguousarray(values.to_numpy(), dtype=np.float64)  # no copy for float64
        numeric = pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.DatetimeTZDtype)
        if not numeric or (pd.api.types.is_bool_dtype(dtype) and not booleans):
            coerce = ", errors='coerce'" if purpose else ""
            raise DtypeError(
                f"{role} column {name!r} has dtype {dtype}"
                + (f"; {purpose} needs numbers: " if purpose else ", not numbers; ")
                + f"convert it first, e.g. df[{name!r}] = pd.to_numeric(df[{name!r}]{coerce})"
            )
        return np.ascontiguousarray(values.to_numpy(dtype=np.float64, na_value=np.nan))

    def take(self, rows: np.ndarray) -> Any:
        """The values at `rows`, in the column's own type: a polars Series, an Arrow
        ChunkedArray (its type kept: string, dictionary, date32 ...), a pandas array.

        Never a pandas Series: a Series would be aligned on its index (0..len) where the
        caller places the values by position, e.g. as the columns of a customer table."""
        if self.frontend == "polars":
            return self.values.gather(rows)
        if self.frontend == "arrow":
            return self.values.take(rows)
        return self.values.array.take(rows)

    def value(self, row: int) -> Any:
        """The value at `row` as a Python object (for messages)."""
        value = self.take(np.array([row], dtype=np.int64))[0]
        return value.as_py() if hasattr(value, "as_py") else value


@dataclass
class Frame:
    """A user's table with its columns looked up by name."""

    frontend: str
    data: Any
    names: list[str]
    n_rows: int

    @classmethod
    def of(cls, data: Any) -> Frame:
        if isinstance(data, pd.DataFrame):
            return cls("pandas", data, [str(c) for c in data.columns], len(data))
        if is_polars_frame(data):
            return cls("polars", data, list(data.columns), data.height)
        if is_arrow_table(data):
            return cls("arrow", data, list(data.column_names), data.num_rows)
        if isinstance(data, (str, os.PathLike)):
            raise DtypeError(
                f"data is a path ({str(data)!r}), not a table; read the file first with "
                f"rfmkit.read_transactions(path, customer=..., date=..., amount=...)"
            )
        if sources.is_source(data):
            # rfm, clv.summary and clv.calibration_holdout read these in batches; the
            # functions that land here need a table in memory
            kind = f"{type(data).__module__}.{type(data).__qualname__}"
            how = ".collect()" if sources._is_lazyframe(data) else "pyarrow.Table.from_batches(...) / reader.read_all()"
            raise DtypeError(
                f"data is a {kind}, an input read in batches: rfmkit.rfm, rfmkit.clv.summary and "
                f"rfmkit.clv.calibration_holdout (and rfmkit.Aggregator) take it as it is; this function needs a "
                f"table in memory: collect it first ({how})"
            )
        kind = f"{type(data).__module__}.{type(data).__qualname__}"
        if (isinstance(data, (list, tuple)) and data and isinstance(data[0], pd.DataFrame)) or hasattr(
            data, "get_chunk"
        ):
            # pd.read_csv(chunksize=...) or a list of frames: chunks, not one table
            raise DtypeError(
                f"data is a {kind} of pandas chunks, not one table: feed each chunk to an rfmkit.Aggregator "
                f"(aggregator.update(chunk) in a loop, then aggregator.finish()), or pd.concat(...) them first"
            )
        raise DtypeError(
            f"data must be a pandas DataFrame, a polars DataFrame or a pyarrow Table, "
            f"got {kind}; wrap it with pd.DataFrame(...) first"
        )

    def row_ids(self, exclude: Sequence[str] = ()) -> Any:
        """The customer ids of a table of one row per customer: a pandas table's index,
        the first column of a polars or pyarrow one (None when that column is in
        `exclude`, e.g. a feature)."""
        if self.frontend == "pandas":
            return self.data.index
        first = self.names[0] if self.names else None
        if first is None or first in exclude:
            return None
        return self.data.get_column(first) if self.frontend == "polars" else self.data.column(first).to_pandas()

    def numbers(self, name: Any, role: str) -> np.ndarray:
        """Column `name` as float64 numbers (`Column.numbers`)."""
        return self.column(name, role).numbers(role)

    def column(self, name: Any, role: str) -> Column:
        if not isinstance(name, str):
            if self.frontend == "pandas" and name in self.data.columns:
                return Column(str(name), "pandas", self.data[name])
            raise InvalidParameterError(f"{role}= must be a column name (a string), got {name!r}")
        if name not in self.names:
            shown = ", ".join(repr(n) for n in self.names[:30])
            more = f" and {len(self.names) - 30} more" if len(self.names) > 30 else ""
            hint = close_match(name, self.names)
            raise ColumnNotFoundError(
                f"{role} column {name!r} is not in the data; its columns are: {shown}{more}"
                + (f". Did you mean {hint!r}?" if hint else "")
            )
        if self.frontend == "pandas":
            values = self.data[name]
            if isinstance(values, pd.DataFrame):
                raise ColumnNotFoundError(f"{role} column {name!r} appears more than once in the data")
            return Column(name, "pandas", values)
        if self.frontend == "polars":
            return Column(name, "polars", self.data.get_column(name))
        return Column(name, "arrow", self.data.column(name))


def close_match(name: str, names: list[str]) -> str | None:
    import difflib

    lowered = {n.lower(): n for n in names}
    if name.lower() in lowered:
        return lowered[name.lower()]
    matches = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
    return matches[0] if matches else None


def is_polars_series(value: Any) -> bool:
    return type(value).__module__.startswith("polars") and type(value).__name__ == "Series"


def is_table(data: Any) -> bool:
    """A table of one of the kinds rfmkit takes (not a lazy frame or a stream)."""
    return isinstance(data, pd.DataFrame) or is_polars_frame(data) or is_arrow_table(data)


def is_series(value: Any) -> bool:
    return (
        isinstance(value, pd.Series)
        or is_polars_series(value)
        or ((pa := pyarrow()) is not None and isinstance(value, (pa.Array, pa.ChunkedArray)))
    )


def kind_of(data: Any) -> str:
    """ "pandas", "polars" or "arrow" for a table (or a column) of that kind, else "pandas"
    (arrays and lists give pandas results)."""
    if is_polars_frame(data) or is_polars_series(data):
        return "polars"
    pa = pyarrow()
    if pa is not None and isinstance(data, (pa.Table, pa.Array, pa.ChunkedArray)):
        return "arrow"
    return "pandas"


# --------------------------------------------------------------------------- results


def categorical(codes: np.ndarray, labels: Sequence[str], kind: str, ordered: bool = True) -> Any:
    """A column of labels from their codes: an (ordered) pandas Categorical, a polars Enum
    or an Arrow dictionary array, with every label as a category."""
    labels = [str(label) for label in labels]
    if kind == "polars":
        pl = polars()
        values = np.asarray(labels, dtype=object)[codes] if len(codes) else np.array([], dtype=object)
        return pl.Series(values, dtype=pl.String).cast(pl.Enum(labels))
    if kind == "arrow":
        pa = pyarrow()
        indices = pa.array(np.asarray(codes, dtype=np.int32), mask=np.asarray(codes) < 0)
        return pa.DictionaryArray.from_arrays(indices, pa.array(labels, type=pa.string()), ordered=ordered)
    return pd.Categorical.from_codes(codes, categories=pd.Index(labels), ordered=ordered)


def info_of(table: Any) -> dict[str, Any]:
    """rfmkit's record of how a result was made (``attrs["rfmkit"]`` of a pandas or polars
    result, the schema metadata of a pyarrow one); empty when a frame operation dropped it."""
    if is_arrow_table(table):
        metadata = table.schema.metadata or {}
        if _ARROW_KEY in metadata:
            return dict(json.loads(metadata[_ARROW_KEY]))
        # a pandas result written by pandas (to_parquet keeps its attrs there)
        attrs = json.loads(metadata.get(b"PANDAS_ATTRS", b"{}"))
        return dict(attrs.get("rfmkit", {}) or {}) if isinstance(attrs, dict) else {}
    attrs = getattr(table, "attrs", None) or {}
    return dict(attrs.get("rfmkit", {}) or {})


def with_info(table: Any, info: dict[str, Any]) -> Any:
    """`table` carrying `info` as its record (in place for pandas and polars, whose attrs
    are per object; a new pyarrow Table, which is immutable)."""
    if is_arrow_table(table):
        metadata = dict(table.schema.metadata or {})
        metadata[_ARROW_KEY] = json.dumps(info, default=str).encode()
        return table.replace_schema_metadata(metadata)
    table.attrs = {**(getattr(table, "attrs", None) or {}), "rfmkit": info}
    return table


def customer_table(kind: str, ids: Any, id_name: str, columns: dict[str, Any], info: dict[str, Any]) -> Any:
    """A table of one row per customer in `kind`: pandas indexed by the ids, polars and
    pyarrow with them as the first column; the columns are the core's fresh arrays."""
    if kind == "polars":
        pl = polars()
        out = pl.DataFrame({id_name: ids, **columns})
        return with_info(out, info)
    if kind == "arrow":
        pa = pyarrow()
        arrays = {id_name: _arrow_array(ids), **{name: _arrow_array(values) for name, values in columns.items()}}
        return with_info(pa.table(arrays), info)
    index = pd.Index(_pandas_values(ids), name=id_name, tupleize_cols=False)
    # copy=False: the columns are fresh arrays of the core, owned by the result alone; this
    # keeps one block per column instead of copying them into consolidated 2-D blocks.
    out = pd.DataFrame({key: _pandas_values(value) for key, value in columns.items()}, index=index, copy=False)
    return with_info(out, info)


def from_pandas(table: pd.DataFrame, kind: str, info: dict[str, Any] | None = None) -> Any:
    """A result computed on pandas, in the caller's `kind`: polars and pyarrow get the
    index as the first column (unless it is a plain row number) and string column names."""
    if kind not in ("polars", "arrow"):  # pandas, and what arrays give
        if info is not None:
            table.attrs["rfmkit"] = info
        return table
    pa = pyarrow()
    flat = table.copy(deep=False)
    flat.columns = [str(c) for c in flat.columns]
    keep_index = not (isinstance(flat.index, pd.RangeIndex) and flat.index.name is None)
    if keep_index:
        flat = flat.reset_index()
    arrow = pa.Table.from_pandas(flat, preserve_index=False)
    arrow = arrow.replace_schema_metadata(None)  # pandas' own metadata means nothing to polars
    for position, name in enumerate(flat.columns):
        values = flat[name]
        if kind == "arrow" and isinstance(values.dtype, pd.CategoricalDtype):
            # labels as rfmkit's functions give them on pyarrow (int32 codes, string labels)
            column = categorical(values.cat.codes.to_numpy(), list(values.cat.categories), "arrow", values.cat.ordered)
            arrow = arrow.set_column(position, name, column)
    if kind == "polars":
        pl = polars()
        out = pl.from_arrow(arrow)
        # labels (segments, tiers) as the Enum that rfmkit's polars functions give
        enums = {
            name: pl.Enum([str(c) for c in flat[name].cat.categories])
            for name in flat.columns
            if isinstance(flat[name].dtype, pd.CategoricalDtype)
        }
        out = out.with_columns([pl.col(name).cast(pl.String).cast(dtype) for name, dtype in enums.items()])
    else:
        out = arrow
    return with_info(out, info) if info is not None else out


def append_columns(table: Any, extra: pd.DataFrame, info: dict[str, Any]) -> Any:
    """`table` (any kind, one row per row of `extra`, in its order) with the columns of
    `extra` added as `from_pandas` builds them, and `info` as its record: the columns the
    table had keep their types (ids, dates) where a round trip through pandas would not."""
    kind = kind_of(table)
    if kind == "pandas":
        out = pd.concat([table, extra.set_axis(table.index)], axis=1)
        return with_info(out, info)
    added = from_pandas(extra.reset_index(drop=True), kind)
    if kind == "polars":
        out = table.hstack(added)
    else:
        out = table
        for name in added.column_names:
            out = out.append_column(added.field(name), added.column(name))
    return with_info(out, info)


def to_pandas(table: Any) -> pd.DataFrame:
    """Any table as pandas (a pandas table as it is, not a copy; polars and pyarrow with a
    plain row index), its record in ``attrs["rfmkit"]``."""
    if isinstance(table, pd.DataFrame):
        return table
    info = info_of(table)
    if is_arrow_table(table) or is_polars_frame(table):
        out = table.to_pandas()
    else:
        raise DtypeError(
            f"expected a pandas DataFrame, a polars DataFrame or a pyarrow Table, got "
            f"{type(table).__module__}.{type(table).__qualname__}"
        )
    if info:
        out.attrs["rfmkit"] = info
    return out


def customer_values(kind: str, ids: Any, id_name: str, name: str, values: np.ndarray, info: dict[str, Any]) -> Any:
    """One value per customer: a pandas Series indexed by the ids, or (polars, pyarrow) a
    table of the ids and the values."""
    if kind in ("polars", "arrow"):
        return customer_table(kind, ids, id_name, {name: values}, info)
    series = pd.Series(values, index=ids, name=name)
    series.attrs["rfmkit"] = info
    return series


def series_as_pandas(values: Any) -> pd.Series:
    """A pandas, polars or pyarrow column as a pandas Series."""
    if isinstance(values, pd.Series):
        return values
    out = values.to_pandas()
    return out if isinstance(out, pd.Series) else pd.Series(out)


def indexed_pandas(table: Any) -> pd.DataFrame:
    """A result table as pandas indexed as rfmkit gives it to pandas users: a pandas table
    as it is; a polars or pyarrow one (from `from_pandas` or `customer_table`) with its
    first column as the index."""
    if isinstance(table, pd.DataFrame):
        return table
    out = to_pandas(table)
    return out.set_index(out.columns[0]) if len(out.columns) else out


def column_like(template: Any, values: np.ndarray, name: str) -> Any:
    """`values` in the container of `template`: a pandas Series keeps its index, a polars
    Series gives a polars Series, a pyarrow array a pyarrow array, a scalar (with scalar
    other inputs) a float, anything else a numpy array."""
    if np.ndim(template) == 0 and len(values) == 1 and not isinstance(template, (pd.Series, np.ndarray)):
        return float(values[0])
    if isinstance(template, pd.Series) and len(template) == len(values):
        return pd.Series(values, index=template.index, name=name)
    if is_polars_series(template) and len(template) == len(values):
        return polars().Series(name, values)
    pa = pyarrow()
    if pa is not None and isinstance(template, (pa.Array, pa.ChunkedArray)) and len(template) == len(values):
        return pa.array(values)
    return values


def with_columns(frame: Frame, columns: dict[str, Any], info: dict[str, Any]) -> Any:
    """A copy of the table with `columns` added (or replaced, moved last) and `info`
    merged into its record; the input is not modified."""
    table = frame.data
    record = {**copy.deepcopy(info_of(table)), **info}
    if frame.frontend == "polars":
        pl = polars()
        out = table.with_columns([pl.Series(name, values) for name, values in columns.items()])
        return with_info(out, record)
    if frame.frontend == "arrow":
        out = table.drop_columns([name for name in columns if name in table.column_names])
        for name, values in columns.items():
            out = out.append_column(name, _arrow_array(values))
        return with_info(out, record)
    # one concat instead of a setitem per column: pandas copies every array it sets,
    # while concat of the new arrays is lazy (copy-on-write); replaced columns move last
    replaced = [name for name in columns if name in table.columns]
    kept = table.drop(columns=replaced) if replaced else table
    added = pd.DataFrame(columns, index=table.index, copy=False)
    out = pd.concat([kept, added], axis=1)
    out.attrs = copy.deepcopy(dict(getattr(table, "attrs", {}) or {}))
    return with_info(out, record)


def _arrow_array(values: Any) -> Any:
    pa = pyarrow()
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    if is_polars_series(values):
        return values.to_arrow()
    if isinstance(values, pd.Categorical):
        return pa.array(values)
    return pa.array(values, from_pandas=True)


def _pandas_values(value: Any) -> Any:
    """Values for a pandas column (never a Series, which would align on its index)."""
    if is_polars_series(value):
        return value.to_pandas().array
    pa = pyarrow()
    if pa is not None and isinstance(value, (pa.Array, pa.ChunkedArray)):
        return value.to_pandas(date_as_object=False).array
    return value
