"""Inputs that are not in memory, as a stream of Arrow record batches.

`open_source` takes a polars LazyFrame, a pyarrow RecordBatch, a RecordBatchReader (or
any object that exports an Arrow stream, ``__arrow_c_stream__``), an iterable, iterator
or generator of record batches, a pyarrow Dataset, or a path, glob, folder or list of
Parquet/CSV/Excel files, and checks the named columns before any row is read. Its
`Source.batches` then gives only those columns, in bounded batches (at most
`BATCH_ROWS` rows each), so that reading takes one batch of memory at a time, never all
rows. CSV files are read with the conventions of `rfmkit.read_transactions` (the same
`rfmkit._io.files.CsvFile`): ids and dates as text, amounts in the file's notation.

In-memory tables (pandas, polars and pyarrow) are not sources: `is_source` tells them
apart.
"""

from __future__ import annotations

import glob
import itertools
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rfmkit import _progress
from rfmkit._io import files as _files
from rfmkit.exceptions import (
    ColumnNotFoundError,
    InvalidDataError,
    InvalidParameterError,
)

#: The most rows a batch holds; a source's own larger batches are sliced (no copy).
BATCH_ROWS = 1 << 20
# batches (and files) a dataset scan reads ahead: with Parquet's pre-buffering off, a 20M
# rows file reads as fast as with Arrow's defaults (16 batches, 4 files, pre-buffered)
# at a third of the memory (peak Arrow memory ~5 batches of 1M rows instead of ~25)
_READAHEAD = 1
_GLOB = re.compile(r"[*?[]")
# a folder's names that are no data: hidden files, markers (_SUCCESS, _metadata), Excel locks
_NOT_DATA = (".", "_", "~$")


@dataclass(frozen=True)
class Scan:
    """Files to read in batches with the reading options of `rfmkit.read_transactions`
    (made by `rfmkit.scan_transactions`); nothing is read until a function reads it."""

    path: Any
    sep: str | None = None
    decimal: str = "."
    thousands: str | None = None
    encoding: str | None = None

    def __repr__(self) -> str:
        options = {
            k: v
            for k, v in (
                ("sep", self.sep),
                ("decimal", self.decimal),
                ("thousands", self.thousands),
                ("encoding", self.encoding),
            )
            if v not in (None, ".")
        }
        shown = "".join(f", {k}={v!r}" for k, v in options.items())
        return f"rfmkit.scan_transactions({self.path!r}{shown})"


def scan_transactions(
    path: Any,
    *,
    sep: str | None = None,
    decimal: str = ".",
    thousands: str | None = None,
    encoding: str | None = None,
) -> Scan:
    """Export files to be read in batches, with their notation: pass the result where a
    path goes (`rfmkit.rfm`, `rfmkit.clv.summary`, `calibration_holdout`, `migration`,
    `analyze`, `Aggregator.update`). Only the named columns of one batch at a time are in
    memory.

    Parameters
    ----------
    path : str, Path, or a list of them
        A file, a glob (``"orders/*.csv"``) or a folder of Parquet, CSV or Excel files.
    sep, decimal, thousands, encoding
        The CSV notation, as in `rfmkit.read_transactions`: the field separator (default:
        sniffed from the header), the decimal mark of amounts (``","`` for ``12,50``), the
        thousands separator (``"."`` for ``1.234,50``), the text encoding (e.g.
        ``"gb18030"``).

    Examples
    --------
    >>> scan_transactions("exports/*.csv", sep=";", decimal=",")
    rfmkit.scan_transactions('exports/*.csv', sep=';', decimal=',')
    """
    return Scan(path, sep=sep, decimal=decimal, thousands=thousands, encoding=encoding)


def is_source(data: Any) -> bool:
    """Whether `data` is an input read in batches rather than a table in memory.

    True for a polars LazyFrame, a pyarrow RecordBatch, RecordBatchReader or Dataset, an
    object exporting an Arrow stream (``__arrow_c_stream__``), a path (str or
    os.PathLike) or a list or tuple of them, a list or tuple of pyarrow objects (record
    batches or tables), and any other iterable (of record batches, checked when read).
    False for pandas, polars and pyarrow tables, series and arrays, numpy arrays, bytes,
    dicts, and lists or tuples of anything else (rows: a table to build first). Imports
    nothing: the object's type tells.

    >>> is_source("orders/*.parquet"), is_source({"a": [1]})
    (True, False)
    """
    if isinstance(data, (str, os.PathLike, Scan)):
        return True
    if isinstance(data, (bytes, bytearray, memoryview, Mapping)):
        return False
    if isinstance(data, (list, tuple)) and data:
        first = data[0]
        return isinstance(first, (str, os.PathLike)) or type(first).__module__.split(".")[0] == "pyarrow"
    kind = type(data)
    package = kind.__module__.split(".")[0]
    if package in ("pandas", "numpy"):
        return False
    if package == "polars":
        return _is_lazyframe(data)
    if package == "pyarrow":
        return _arrow_kind(data) is not None
    return hasattr(kind, "__arrow_c_stream__") or hasattr(kind, "__iter__")


def result_kind(data: Any) -> str:
    """The kind of table rfmkit's results of `data` come in: the table's own kind for a
    table in memory; for an input read in batches polars for a LazyFrame, pandas for
    files, datasets, readers and batches (rfmkit reads those as Arrow batches, which says
    nothing of what the caller works in)."""
    if not is_source(data):
        from rfmkit._io import frames

        return frames.kind_of(data)
    return "polars" if _is_lazyframe(data) else "pandas"


def can_reread(data: Any) -> bool:
    """Whether `open_source(data, ...)` gives a source that can be read more than once
    (`Source.rereadable`), told without opening it (opening an iterator takes its first
    item): False for readers, Arrow streams, iterators and generators.

    >>> can_reread("orders/*.parquet"), can_reread(iter([]))
    (True, False)
    """
    if _is_lazyframe(data) or isinstance(data, (str, os.PathLike, list, tuple, Scan)):
        return True
    kind = _arrow_kind(data) if type(data).__module__.startswith("pyarrow") else None
    return kind in ("batch", "dataset")


def require_rereadable(data: Any, function: str, why: str) -> None:
    """Refuses an input read in batches that can be read once, for a function that
    reads its input more than once (`why`)."""
    if is_source(data) and not can_reread(data):
        raise InvalidParameterError(
            f"{function} reads its input more than once ({why}), and a {type(data).__qualname__} can be read once: "
            f"pass files, a pyarrow Dataset, a polars LazyFrame or a list of record batches, or read it into a "
            f"table first (e.g. reader.read_all())"
        )


def _is_lazyframe(data: Any) -> bool:
    return type(data).__module__.startswith("polars") and any(c.__name__ == "LazyFrame" for c in type(data).__mro__)


def _arrow_kind(data: Any) -> str | None:
    """ "batch", "reader" or "dataset" for those pyarrow objects, else None."""
    for cls in type(data).__mro__:
        if cls.__module__ == "pyarrow.lib" and cls.__name__ == "RecordBatch":
            return "batch"
        if cls.__module__ == "pyarrow.lib" and cls.__name__ == "RecordBatchReader":
            return "reader"
        if cls.__module__ == "pyarrow._dataset" and cls.__name__ == "Dataset":
            return "dataset"
    return None


@dataclass
class Source:
    """An input opened for reading in batches.

    Attributes
    ----------
    schema : pyarrow.Schema
        The selected columns, in the order they were named.
    total_rows : int or None
        The number of rows when it is known without reading them (Parquet footers, a
        Parquet or in-memory Dataset, record batches in memory), else None.
    rereadable : bool
        Whether `batches` can be called again: True for files, datasets, LazyFrames and
        batches in a list; False for readers, iterators and generators.
    description : str
        What is read, for progress bars and messages, e.g. ``"orders/*.parquet (3 files)"``.
    """

    schema: Any
    total_rows: int | None
    rereadable: bool
    description: str
    # the batches of a list of the selected column names (a source may give more columns)
    _read: Callable[[list[str]], Iterable[Any]] = field(repr=False)
    _progress: bool = field(default=False, repr=False)
    _used: bool = field(default=False, repr=False)

    def batches(self, columns: list[str] | None = None) -> Iterator[Any]:
        """The rows as pyarrow record batches of at most `BATCH_ROWS` rows each (none
        empty), with `columns` (default: all selected ones) in that order; larger batches
        of the source are sliced (no copy). With ``progress=True`` a tqdm bar counts the
        rows (of `total_rows` when known).

        Raises
        ------
        ColumnNotFoundError
            A column that was not selected by `open_source`.
        InvalidParameterError
            A second call on a source that can be read once (``rereadable`` is False).
        """
        names = list(self.schema.names) if columns is None else list(columns)
        for name in names:
            if name not in self.schema.names:
                shown = ", ".join(repr(n) for n in self.schema.names)
                raise ColumnNotFoundError(
                    f"column {name!r} was not selected when {self.description} was opened; its selected columns "
                    f"are: {shown}"
                )
        if not self.rereadable:
            if self._used:
                raise InvalidParameterError(
                    f"{self.description} can be read once, and was read already: pass a list of record batches, "
                    f"a pyarrow Table or Dataset, a polars LazyFrame or files to read the input more than once"
                )
            self._used = True
        return self._stream(names)

    def _stream(self, names: list[str]) -> Iterator[Any]:
        limit = BATCH_ROWS
        rows = _progress.Rows(self.total_rows, self.description, enabled=self._progress)
        try:
            for batch in self._read(names):
                if batch.schema.names != names:
                    batch = batch.select(names)
                for start in range(0, batch.num_rows, limit):
                    piece = batch.slice(start, limit) if batch.num_rows > limit else batch
                    rows.update(piece.num_rows)
                    yield piece
        finally:
            rows.close()


def open_source(
    data: Any,
    columns: dict[str, str],
    *,
    sep: str | None = None,
    decimal: str = ".",
    thousands: str | None = None,
    encoding: str | None = None,
    progress: bool = False,
) -> Source:
    """Opens `data` (see `is_source`) for reading the columns named in `columns`.

    Parameters
    ----------
    data
        A polars LazyFrame, pyarrow RecordBatch, RecordBatchReader or Dataset, an object
        exporting an Arrow stream, an iterable of record batches (or pyarrow Tables), or
        a path, glob, folder (its files, in sub-folders too, but those whose names start
        with ``.``, ``_`` or ``~$``) or list of them, of one format: Parquet, CSV (``.csv``,
        ``.tsv``, ``.txt``, ``.gz``, ``.bz2``) or Excel. Excel files are not streamable:
        each is read whole (with `rfmkit.read_transactions`' conventions) when reached.
    columns : dict
        Role (``"customer"``, ``"date"``, ``"amount"``, ``"order"``) -> column name.
    sep, decimal, thousands, encoding
        For CSV files, as in `rfmkit.read_transactions`.
    progress : bool
        A tqdm bar over the rows of each `Source.batches` (when tqdm is installed).

    Raises
    ------
    ColumnNotFoundError
        A named column is not in the input (in one of its files), before any row is read.
    InvalidParameterError
        A path that does not exist, a glob that matches no file, files of mixed formats,
        an iterable whose first item is no record batch.
    InvalidDataError
        An empty iterator (no record batch: the columns cannot be checked), files whose
        columns have different types.

    Examples
    --------
    >>> import pyarrow as pa
    >>> batch = pa.record_batch({"id": ["a", "b"], "d": ["2024-01-01", "2024-01-02"], "x": [1, 2]})
    >>> source = open_source([batch, batch], {"customer": "id", "date": "d"})
    >>> source.schema.names, source.total_rows, source.rereadable
    (['id', 'd'], 4, True)
    >>> [b.num_rows for b in source.batches(["d"])]
    [2, 2]
    """
    roles = _roles(columns)
    if isinstance(data, Scan):
        source = _open_files(
            data.path, roles, sep=data.sep, decimal=data.decimal, thousands=data.thousands, encoding=data.encoding
        )
    elif _is_lazyframe(data):
        source = _open_lazyframe(data, roles)
    elif isinstance(data, (str, os.PathLike)) or (
        isinstance(data, (list, tuple)) and data and isinstance(data[0], (str, os.PathLike))
    ):
        source = _open_files(data, roles, sep=sep, decimal=decimal, thousands=thousands, encoding=encoding)
    else:
        kind = _arrow_kind(data) if type(data).__module__.startswith("pyarrow") else None
        if kind == "batch":
            source = _open_batches([data], roles, "a record batch", rereadable=True)
        elif kind == "reader":
            source = _open_reader(data, roles, "a record batch reader")
        elif kind == "dataset":
            source = _open_dataset(data, roles)
        elif is_source(data) and hasattr(type(data), "__arrow_c_stream__"):
            source = _open_reader(_reader_of_stream(data), roles, f"an Arrow stream ({type(data).__qualname__})")
        elif is_source(data) or isinstance(data, (list, tuple)):  # (a list of other items: named below)
            rereadable = isinstance(data, (list, tuple))
            what = "a list of record batches" if rereadable else "an iterator of record batches"
            source = _open_batches(data, roles, what, rereadable=rereadable)
        else:
            raise InvalidParameterError(
                f"data is a {type(data).__module__}.{type(data).__qualname__}, not an input read in batches "
                f"(a polars LazyFrame, pyarrow record batches or Dataset, or Parquet/CSV files)"
            )
    source._progress = progress
    return source


def _roles(columns: dict[str, str]) -> dict[str, str]:
    if not isinstance(columns, Mapping) or not columns:
        raise InvalidParameterError(
            f"columns must map roles to column names, e.g. {{'customer': 'id'}}, got {columns!r}"
        )
    for role, name in columns.items():
        if not isinstance(name, str):
            raise InvalidParameterError(f"{role}= must be a column name (a string), got {name!r}")
    return dict(columns)


def _selected(roles: dict[str, str]) -> list[str]:
    return list(dict.fromkeys(roles.values()))


def _select_schema(schema: Any, names: list[str]) -> Any:
    import pyarrow as pa

    return pa.schema([schema.field(name) for name in names])


# --------------------------------------------------------------------------- polars


def _open_lazyframe(frame: Any, roles: dict[str, str]) -> Source:
    import polars as pl

    _files.check_columns(frame.collect_schema().names(), roles, "the LazyFrame")
    names = _selected(roles)
    schema = pl.DataFrame(schema=frame.select(names).collect_schema()).to_arrow().schema

    if not hasattr(frame, "collect_batches"):
        raise InvalidParameterError(
            "reading a polars LazyFrame in batches needs LazyFrame.collect_batches, which this polars lacks: "
            "pip install -U polars (or collect it first, if it fits in memory)"
        )

    def read(wanted: list[str]) -> Iterator[Any]:
        # polars' streaming engine, in chunks of at most BATCH_ROWS rows: never collected whole
        for chunk in frame.select(wanted).collect_batches(chunk_size=BATCH_ROWS, lazy=True):
            yield from chunk.to_arrow().to_batches()

    return Source(schema, None, True, "a polars LazyFrame", read)


# --------------------------------------------------------------------------- Arrow objects


def _open_reader(reader: Any, roles: dict[str, str], description: str) -> Source:
    _files.check_columns(reader.schema.names, roles, description)
    names = _selected(roles)
    return Source(_select_schema(reader.schema, names), None, False, description, lambda wanted: reader)


def _reader_of_stream(data: Any) -> Any:
    import pyarrow as pa

    if not hasattr(pa.RecordBatchReader, "from_stream"):  # pyarrow < 15
        raise InvalidParameterError(
            f"reading a {type(data).__qualname__} (an Arrow stream) needs pyarrow 15 or later: pip install -U pyarrow"
        )
    return pa.RecordBatchReader.from_stream(data)


def _open_dataset(dataset: Any, roles: dict[str, str]) -> Source:
    import pyarrow.dataset as ds

    _files.check_columns(dataset.schema.names, roles, "the dataset")
    names = _selected(roles)
    total = None
    parquet = isinstance(dataset, ds.FileSystemDataset) and isinstance(dataset.format, ds.ParquetFileFormat)
    if parquet or isinstance(dataset, ds.InMemoryDataset):
        total = dataset.count_rows()  # from the Parquet footers, or the batches in memory
    description = "a dataset"
    if isinstance(dataset, ds.FileSystemDataset):
        description += f" of {len(dataset.files)} file" + ("s" if len(dataset.files) != 1 else "")
    return Source(
        _select_schema(dataset.schema, names), total, True, description, lambda wanted: _scan(dataset, wanted)
    )


def _scan(dataset: Any, columns: list[str]) -> Iterator[Any]:
    """The batches of a dataset, a few read ahead (Parquet without pre-buffering whole row groups)."""
    import pyarrow.dataset as ds

    options = {}
    if isinstance(dataset, ds.FileSystemDataset) and isinstance(dataset.format, ds.ParquetFileFormat):
        options["fragment_scan_options"] = ds.ParquetFragmentScanOptions(pre_buffer=False)
    return dataset.to_batches(
        columns=columns, batch_size=BATCH_ROWS, batch_readahead=_READAHEAD, fragment_readahead=_READAHEAD, **options
    )


def _open_batches(data: Iterable[Any], roles: dict[str, str], description: str, *, rereadable: bool) -> Source:
    """Record batches (or pyarrow Tables) from a list, an iterator or a generator; the
    schema is the first item's, and every later item must have the same types."""
    items = iter(data)
    first = next(items, None)
    if first is None:
        raise InvalidDataError(
            f"no record batch in the input ({description}): the columns cannot be checked; pass at least one "
            f"record batch, or a pyarrow Table with the columns"
        )
    _check_item(first, 0)
    _files.check_columns(first.schema.names, roles, "the first record batch")
    names = _selected(roles)
    schema = _select_schema(first.schema, names)
    total: int | None = None
    if rereadable:  # in memory: every item is checked now, and counted
        total = 0
        for position, item in enumerate(data):
            _check_item(item, position)
            _check_types(item.schema, schema, position)
            total += item.num_rows
    else:
        data = itertools.chain([first], items)

    def read(wanted: list[str]) -> Iterator[Any]:
        expected = _select_schema(schema, wanted)
        for position, item in enumerate(data):
            _check_item(item, position)
            _check_types(item.schema, expected, position)
            if _arrow_kind(item) == "batch":
                yield item
            else:
                yield from item.select(wanted).to_batches()

    return Source(schema, total, rereadable, description, read)


def _check_item(item: Any, position: int) -> None:
    kind = _arrow_kind(item) if type(item).__module__.startswith("pyarrow") else None
    if kind == "batch" or (type(item).__name__ == "Table" and type(item).__module__ == "pyarrow.lib"):
        return
    found = f"{type(item).__module__}.{type(item).__qualname__}"
    raise InvalidParameterError(
        f"item {position} of the input is a {found}, not a pyarrow.RecordBatch: an iterable input must give "
        f"record batches (or pyarrow Tables); convert each item first, e.g. pa.RecordBatch.from_pandas(frame) "
        f"or polars_frame.to_arrow()"
    )


def _check_types(schema: Any, expected: Any, position: int) -> None:
    for wanted in expected:
        index = schema.get_field_index(wanted.name)
        if index < 0:
            raise InvalidDataError(
                f"record batch {position} has no column {wanted.name!r}, which the first one has; every batch of "
                f"the input must have the same columns"
            )
        found = schema.field(index).type
        if found != wanted.type:
            raise InvalidDataError(
                f"column {wanted.name!r} is {found} in record batch {position} but {wanted.type} in the first one; "
                f"every batch of the input must have the same types (cast them to the first's)"
            )


# --------------------------------------------------------------------------- files


def _open_files(data: Any, roles: dict[str, str], **csv_options: Any) -> Source:
    paths, description = _expand(data)
    kinds = {path: _files.file_format(path) for path in paths}
    if len(set(kinds.values())) > 1:
        first = paths[0]
        other = next(path for path in paths if kinds[path] != kinds[first])
        raise InvalidParameterError(
            f"the input files mix formats ({first.name} is {kinds[first]}, {other.name} is {kinds[other]}); "
            f"read files of one format at a time"
        )
    for path in paths:
        _files.check_file(path)
    kind = kinds[paths[0]]
    if kind == "parquet":
        return _open_parquet(paths, roles, description)
    if kind == "csv":
        return _open_csv(paths, roles, description, csv_options)
    return _open_excel(paths, roles, description, csv_options)


def _expand(data: Any) -> tuple[list[Path], str]:
    """The files of a path, glob or folder, or of a list of them, and their description."""
    given = [data] if isinstance(data, (str, os.PathLike)) else list(data)
    paths: list[Path] = []
    for item in given:
        if not isinstance(item, (str, os.PathLike)):
            raise InvalidParameterError(
                f"a list of input files holds {item!r}, which is not a path; pass paths (str or pathlib.Path) only"
            )
        text = os.fsdecode(item)
        path = Path(text)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and not any(part.startswith(_NOT_DATA) for part in p.relative_to(path).parts)
                and p.suffix.lower() in _files.PARQUET_SUFFIXES + _files.CSV_SUFFIXES + _files.EXCEL_SUFFIXES
            )
            if not found:
                raise InvalidParameterError(f"folder {text!r} holds no .parquet, .csv (.tsv, .txt, .gz) or .xlsx file")
        elif path.exists() or not _GLOB.search(text):
            found = [path]  # a missing file is reported by _files.check_file
        else:
            found = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
            if not found:
                raise InvalidParameterError(f"no file matches {text!r}")
        paths += found
    if not paths:
        raise InvalidParameterError("the list of input files is empty")
    seen: set[Path] = set()
    for path in paths:
        key = path.resolve()
        if key in seen:
            raise InvalidParameterError(f"{str(path)!r} is given twice: its rows would be counted twice")
        seen.add(key)
    if len(paths) == 1:
        return paths, paths[0].name
    where = os.fsdecode(given[0]) if len(given) == 1 else f"{paths[0].name}, ..."
    return paths, f"{where} ({len(paths)} files)"


def _open_parquet(paths: list[Path], roles: dict[str, str], description: str) -> Source:
    import pyarrow as pa
    import pyarrow.dataset as ds

    names = _selected(roles)
    schema = None
    total = 0
    for path in paths:
        parquet = _files.parquet_file(path)
        _files.check_columns(parquet.schema_arrow.names, roles, path)
        selected = _select_schema(parquet.schema_arrow, names)
        if schema is None:
            schema, first = selected, path
        else:
            _check_file_types(selected, schema, path, first)
        total += parquet.metadata.num_rows
    dataset = ds.dataset([str(path) for path in paths], format="parquet", schema=schema)

    def read(wanted: list[str]) -> Iterator[Any]:
        try:
            yield from _scan(dataset, wanted)
        except (pa.ArrowInvalid, OSError) as error:
            raise InvalidDataError(f"cannot read {description} as Parquet: {error}") from None

    return Source(schema, total, True, description, read)


def _check_file_types(schema: Any, expected: Any, path: Path, first: Path) -> None:
    for wanted in expected:
        found = schema.field(wanted.name).type
        if found != wanted.type:
            raise InvalidDataError(
                f"column {wanted.name!r} is {found} in {path.name} but {wanted.type} in {first.name}; the files "
                f"must have the same column types"
            )


def _open_csv(paths: list[Path], roles: dict[str, str], description: str, options: dict[str, Any]) -> Source:
    import pyarrow as pa

    csv_files = [_files.CsvFile.open(path, roles, **options) for path in paths]  # each header checked
    types = csv_files[0].types
    schema = pa.schema([(name, types[name]) for name in _selected(roles)])

    def read(wanted: list[str]) -> Iterator[Any]:
        for csv_file in csv_files:
            yield from csv_file.batches(wanted)

    return Source(schema, None, True, description, read)


def _open_excel(paths: list[Path], roles: dict[str, str], description: str, options: dict[str, Any]) -> Source:
    """Excel workbooks, each read whole when reached (the first already at opening, for its
    schema, and kept for the first reading). Amounts are float64 in every file: pandas
    reads a workbook whose amounts are all whole as int64, and the files must agree."""
    import pandas as pd
    import pyarrow as pa

    names = _selected(roles)
    decimal, thousands = options["decimal"], options["thousands"]
    amounts = [name for role, name in roles.items() if role == "amount"]

    def read_excel(path: Path) -> Any:
        table = _files.read_excel(path, roles, decimal, thousands).select(names)
        for name in amounts:
            index = table.schema.get_field_index(name)
            if pa.types.is_integer(table.schema.field(index).type):
                table = table.set_column(index, name, table.column(name).cast(pa.float64()))
        return table

    first = [read_excel(paths[0])]
    for path in paths[1:]:  # the header row only
        _files.check_columns([str(c) for c in pd.read_excel(path, nrows=0).columns], roles, path)
    schema = first[0].schema

    def read(wanted: list[str]) -> Iterator[Any]:
        for position, path in enumerate(paths):
            table = first.pop() if position == 0 and first else read_excel(path)
            _check_file_types(table.schema, schema, path, paths[0])
            yield from table.select(wanted).to_batches()

    return Source(schema, None, True, description, read)
