"""Transaction exports from files, and tables to files.

Reading is built on Arrow's readers (``pyarrow.csv``, ``pyarrow.parquet``): only the
named columns are read; customer and order ids are text exactly as written (``00001``
stays ``00001``); amounts are numbers in the file's own notation (decimal comma,
thousands separators); dates stay as they are written, for the one date rule of
`rfmkit.rfm` (``date_format=``, ``dayfirst=``). The encoding is UTF-8 with or without a
byte-order mark, UTF-16 with a mark, or any Python codec named by ``encoding=`` (e.g.
``gb18030`` for Chinese ERP exports).

CSV files written by rfmkit are UTF-8 with a byte-order mark, so that Excel shows Chinese
labels; money columns are rounded to cents there (Parquet keeps full precision).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rfmkit.exceptions import (
    ColumnNotFoundError,
    InvalidDataError,
    InvalidParameterError,
)

CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".gz", ".bz2")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
_SEPARATORS = (",", ";", "\t", "|")
# what a money column is called in rfmkit's tables: rounded to cents in CSV files
_MONEY = re.compile(r"(^|_)(monetary|revenue|clv|value|amount|spend|profit)(_|$)")
_NOT_MONEY = re.compile(r"share|_vs_|rate|ratio|index")


def read_transactions(
    path: str | Path,
    *,
    customer: str,
    date: str,
    amount: str,
    order: str | None = None,
    sep: str | None = None,
    decimal: str = ".",
    thousands: str | None = None,
    encoding: str | None = None,
) -> Any:
    """The named columns of a CSV/TSV, Parquet or Excel export as a pyarrow Table.

    Parameters
    ----------
    path : str or Path
        ``.csv``, ``.tsv``, ``.txt`` (or compressed ``.gz``/``.bz2``), ``.parquet``,
        ``.xlsx``.
    customer, date, amount, order : str
        Column names; only these columns are read.
    sep : str, optional
        Field separator of a text file. Default: a tab for ``.tsv``, else the one of
        ``, ; TAB |`` that splits the header line most.
    decimal, thousands : str
        The number notation of the amounts, e.g. ``decimal=",", thousands="."`` for
        ``1.234,50``. An amount that is not a number becomes null (an invalid row).
    encoding : str, optional
        Default: UTF-8, with or without a byte-order mark, or UTF-16 with its mark.

    Returns
    -------
    pyarrow.Table
        Customer and order ids as text (CSV), dates as written, amounts as float64.

    Examples
    --------
    >>> import tempfile, pathlib, rfmkit
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "orders.csv").write_text(
    ...     "kunde;datum;betrag\\n00017;03.04.2024;1.234,50\\n00017;25.04.2024;12,00\\n", encoding="utf-8")
    >>> table = rfmkit.read_transactions(folder / "orders.csv", customer="kunde", date="datum",
    ...                                  amount="betrag", decimal=",", thousands=".")
    >>> table.column("kunde").to_pylist(), table.column("betrag").to_pylist()
    (['00017', '00017'], [1234.5, 12.0])
    """
    path = Path(path)
    check_file(path)
    roles = {"customer": customer, "date": date, "amount": amount}
    if order is not None:
        roles["order"] = order
    kind = file_format(path)
    if kind == "parquet":
        return _read_parquet(path, roles)
    if kind == "excel":
        return read_excel(path, roles, decimal, thousands)
    return CsvFile.open(path, roles, sep=sep, decimal=decimal, thousands=thousands, encoding=encoding).table()


def check_file(path: Path) -> None:
    """A readable input file: it exists, is no folder and is not empty."""
    if not path.exists():
        raise InvalidParameterError(f"input file {str(path)!r} does not exist")
    if path.is_dir():
        raise InvalidParameterError(f"input {str(path)!r} is a folder, not a file")
    if path.stat().st_size == 0:
        raise InvalidDataError(f"input file {str(path)!r} is empty (0 bytes): there is no header and no row")


def file_format(path: Path) -> str:
    """``"parquet"``, ``"csv"`` or ``"excel"``, by the file's suffix."""
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in EXCEL_SUFFIXES:
        return "excel"
    if suffix in CSV_SUFFIXES:
        return "csv"
    raise InvalidParameterError(f"cannot read {str(path)!r}: use a .csv, .tsv, .txt (or .gz), .parquet or .xlsx file")


def check_columns(names: list[str], roles: dict[str, str], where: str | Path, separator: str | None = None) -> None:
    """Raises ColumnNotFoundError for the first role whose column is not in `names`, naming
    the role, the column, where it was looked for (a file, or e.g. "the LazyFrame") and the
    columns there are, with a close match when there is one."""
    from rfmkit._io.frames import close_match as _close_match

    place = where.name if isinstance(where, Path) else where
    for role, name in roles.items():
        if name not in names:
            shown = ", ".join(repr(n) for n in names[:30])
            more = f" and {len(names) - 30} more" if len(names) > 30 else ""
            hint = _close_match(name, names)
            unsplit = ""
            if separator is not None and len(names) == 1:
                shown_sep = {"\t": "TAB"}.get(separator, separator)
                unsplit = (
                    f"; the header did not split into columns on {shown_sep!r}: pass the file's separator "
                    f"with sep= (CLI: --sep), e.g. ';' or '\\t' (whitespace-aligned text needs converting first)"
                )
            raise ColumnNotFoundError(
                f"{role} column {name!r} is not in {place}; its columns are: {shown}{more}"
                + (f". Did you mean {hint!r}?" if hint else "")
                + unsplit
            )


def parquet_file(path: Path) -> Any:
    """The `pyarrow.parquet.ParquetFile` of `path` (its footer: schema and row count)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise InvalidDataError(f"cannot read {path.name} as Parquet: {error}") from None


def _read_parquet(path: Path, roles: dict[str, str]) -> Any:
    import pyarrow as pa

    parquet = parquet_file(path)
    check_columns(parquet.schema_arrow.names, roles, path)
    try:
        return parquet.read(columns=list(dict.fromkeys(roles.values())))
    except (pa.ArrowInvalid, OSError) as error:
        raise InvalidDataError(f"cannot read {path.name} as Parquet: {error}") from None


# the roles whose columns are text as written (ids, and dates for the one date rule);
# any other role (the amount) is a number in the file's notation
_TEXT_ROLES = ("customer", "order", "date")
_ID_ROLES = ("customer", "order")


def read_excel(path: Path, roles: dict[str, str], decimal: str = ".", thousands: str | None = None) -> Any:
    """The named columns of an Excel workbook (read whole: Excel files are not streamed)."""
    import pyarrow as pa

    text_columns = {name: str for role, name in roles.items() if role in _ID_ROLES}
    try:
        frame = pd.read_excel(path, dtype=text_columns)
    except ImportError:
        raise ImportError("reading Excel needs openpyxl: pip install 'rfmkit[excel]'") from None
    check_columns([str(c) for c in frame.columns], roles, path)
    frame = frame[list(dict.fromkeys(roles.values()))]
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for name in _number_columns(roles):
        values = table.column(name)
        if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
            text = pa.array(frame[name].astype("string"), type=pa.string(), from_pandas=True)
            table = _replace_column(table, name, _numbers(text, decimal, thousands))
    return table


def _number_columns(roles: dict[str, str]) -> list[str]:
    text = {name for role, name in roles.items() if role in _TEXT_ROLES}
    return [name for role, name in roles.items() if role not in _TEXT_ROLES and name not in text]


def _replace_column(data: Any, name: str, values: Any) -> Any:
    """`data` (a Table or a RecordBatch) with column `name` replaced by `values`."""
    columns = list(data.columns)
    columns[data.schema.get_field_index(name)] = values
    return type(data).from_arrays(columns, names=data.schema.names).replace_schema_metadata(data.schema.metadata)


def _encoding(path: Path, encoding: str | None) -> str:
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InvalidParameterError(
                f"encoding={encoding!r} is not a known text encoding; e.g. 'utf-8', 'gb18030', 'gbk', 'latin-1', 'utf-16'"
            ) from None
        return encoding
    with open(path, "rb") as handle:
        head = handle.read(4)
    if path.suffix.lower() in (".gz", ".bz2"):
        return "utf8"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf8"  # Arrow skips a UTF-8 byte-order mark


def _sniff_separator(path: Path, encoding: str) -> str:
    import pyarrow as pa

    if path.suffix.lower() == ".tsv":
        return "\t"
    try:
        with pa.input_stream(str(path), compression="detect") as stream:
            head = stream.read(64 * 1024)
        text = head.decode("utf-8" if encoding == "utf8" else encoding, errors="replace")
    except (OSError, LookupError):
        return ","
    header = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    # count separators outside quotes
    unquoted = re.sub(r'"[^"]*"', "", header)
    counts = {candidate: unquoted.count(candidate) for candidate in _SEPARATORS}
    best = max(counts, key=lambda c: counts[c])
    return best if counts[best] > 0 else ","


_CSV_BLOCK = 1 << 24  # bytes of text a block (the streaming reader's batch)


@dataclass(frozen=True)
class CsvFile:
    """One CSV export and how rfmkit reads it, for the whole-file reader
    (`read_transactions`) and the streaming one (`rfmkit._io.sources`) alike: the encoding
    and separator found once, ids and dates as text, amounts in the file's notation.
    `open` checks the named columns against the header before any row is read."""

    path: Path
    roles: dict[str, str]
    separator: str
    encoding: str
    decimal: str = "."
    thousands: str | None = None

    @classmethod
    def open(
        cls,
        path: Path,
        roles: dict[str, str],
        *,
        sep: str | None = None,
        decimal: str = ".",
        thousands: str | None = None,
        encoding: str | None = None,
    ) -> CsvFile:
        text_encoding = _encoding(path, encoding)
        separator = sep if sep is not None else _sniff_separator(path, text_encoding)
        if separator == "\\t":
            separator = "\t"
        if len(separator) != 1:
            raise InvalidParameterError(f"sep={separator!r} must be one character, e.g. ',', ';' or '\\t'")
        file = cls(path, roles, separator, text_encoding, decimal, thousands)
        check_columns(file._header(), roles, path, separator)
        return file

    @property
    def types(self) -> dict[str, Any]:
        """The Arrow type of each named column as read: text, or float64 for amounts."""
        import pyarrow as pa

        numbers = set(_number_columns(self.roles))
        return {name: pa.float64() if name in numbers else pa.string() for name in dict.fromkeys(self.roles.values())}

    def table(self) -> Any:
        """The named columns of the whole file as a pyarrow Table."""
        import pyarrow as pa
        from pyarrow import csv

        amounts_as_text = not self._plain_numbers
        while True:
            try:
                table = csv.read_csv(
                    self.path,
                    read_options=self._read_options(),
                    parse_options=self._parse_options(),
                    convert_options=self._convert_options(None, amounts_as_text),
                )
                break
            except (pa.ArrowInvalid, UnicodeDecodeError) as error:
                if amounts_as_text or not _not_a_number(error):
                    raise self._error(error) from None
                amounts_as_text = True  # an amount that is not a number: read them as text, make it null
        return self._numbers(table)

    def batches(self, columns: list[str] | None = None) -> Iterator[Any]:
        """The named columns (or `columns` of them) as record batches of one block of text
        each, in the file's order. A first amount that is not a number restarts the file
        with the amounts read as text (as `table` does) and skips the rows already given;
        the rows given before it were read by Arrow's number parser, which differs from
        the text rule only in reading 'inf' as infinity (an invalid amount either way)."""
        import pyarrow as pa
        from pyarrow import csv

        amounts_as_text = not self._plain_numbers
        given = 0
        reader = None
        try:
            while True:
                try:
                    if reader is None:
                        reader = csv.open_csv(
                            self.path,
                            read_options=self._read_options(),
                            parse_options=self._parse_options(),
                            convert_options=self._convert_options(columns, amounts_as_text),
                        )
                        skip = given
                    batch = reader.read_next_batch()
                except StopIteration:
                    return
                except (pa.ArrowInvalid, UnicodeDecodeError) as error:
                    if amounts_as_text or not _not_a_number(error):
                        raise self._error(error) from None
                    amounts_as_text = True
                    if reader is not None:
                        reader.close()
                    reader = None
                    continue
                if skip:
                    dropped = min(skip, batch.num_rows)
                    batch, skip = batch.slice(dropped), skip - dropped
                if batch.num_rows:
                    given += batch.num_rows
                    yield self._numbers(batch)
        finally:
            if reader is not None:
                reader.close()

    @property
    def _plain_numbers(self) -> bool:
        return self.decimal == "." and self.thousands is None

    def _read_options(self, block_size: int | None = None) -> Any:
        from pyarrow import csv

        return csv.ReadOptions(encoding=self.encoding, block_size=block_size or _CSV_BLOCK)

    def _parse_options(self) -> Any:
        from pyarrow import csv

        return csv.ParseOptions(delimiter=self.separator, newlines_in_values=True)

    def _convert_options(self, columns: list[str] | None, amounts_as_text: bool) -> Any:
        import pyarrow as pa
        from pyarrow import csv

        types = self.types
        if amounts_as_text:
            types = {name: pa.string() for name in types}
        wanted = list(types) if columns is None else list(columns)
        return csv.ConvertOptions(
            column_types={name: types[name] for name in wanted},
            include_columns=wanted,
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        )

    def _numbers(self, data: Any) -> Any:
        """`data` (a Table or a RecordBatch) with its amounts read as text turned into
        numbers in the file's notation; the first that is not one is quoted in the schema
        metadata (see `amount_example`)."""
        import pyarrow as pa

        for name in _number_columns(self.roles):
            if name not in data.schema.names:
                continue
            text = data.column(name)
            if not pa.types.is_string(text.type):
                continue
            numbers = _numbers(text, self.decimal, self.thousands)
            data = _replace_column(data, name, numbers)
            if name == self.roles.get("amount"):
                data = _with_amount_example(data, text, numbers)
        return data

    def _header(self) -> list[str]:
        """The column names (the reader's first block; every column as text)."""
        import pyarrow as pa
        from pyarrow import csv

        # a small first block: only the header is wanted (the reader infers types from it)
        failure: Exception | None = None
        for block_size in (1 << 16, None):  # the full block for a header longer than 64 KiB
            try:
                with csv.open_csv(
                    self.path, read_options=self._read_options(block_size), parse_options=self._parse_options()
                ) as reader:
                    return list(reader.schema.names)
            except (pa.ArrowInvalid, UnicodeDecodeError) as error:
                failure = error
        assert failure is not None  # the loop returned or failed
        raise self._error(failure) from None

    def _error(self, error: Exception) -> Exception:
        return _read_error(self.path, error, self.separator, self.encoding)


def _not_a_number(error: Exception) -> bool:
    """Whether Arrow failed on an amount that is not a number (read as float64)."""
    return "conversion error to double" in str(error)


def _read_error(path: Path, error: Exception, separator: str, encoding: str) -> Exception:
    message = str(error).splitlines()[0]
    if (
        isinstance(error, UnicodeDecodeError)
        or "UTF8" in message
        or "utf8" in message.lower()
        or "decode" in message.lower()
    ):
        return InvalidDataError(
            f"{path.name} is not {encoding} text ({message}); pass its encoding (encoding= of read_transactions or "
            f"scan_transactions in Python, --encoding in the CLI), e.g. gb18030 (Chinese ERP exports), latin-1 or utf-16"
        )
    if "Empty CSV file" in message:
        return InvalidDataError(f"{path.name} has no header line: there are no columns to read")
    shown = {"\t": "TAB"}.get(separator, separator)
    return InvalidDataError(
        f"cannot read {path.name} as CSV separated by {shown!r}: {message}; check the separator (sep=, CLI --sep)"
    )


def _numbers(text: Any, decimal: str, thousands: str | None) -> Any:
    """Amounts written as text in the file's notation to float64; null where they are
    not numbers (counted later as invalid amounts)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    values = pc.utf8_trim_whitespace(text)
    # Only numbers written in the given notation pass: thousands marks in groups of three
    # before the decimal mark, one decimal mark. '1.500' under decimal=',' without
    # thousands='.', or '1,234.5' under decimal=',', is not a number (never 1.5 or 1.2345).
    d = re.escape(decimal)
    plain = rf"[+-]?(\d+({d}\d*)?|{d}\d+)([eE][+-]?\d+)?"
    pattern = plain
    if thousands:
        t = re.escape(thousands)
        pattern = rf"{plain}|[+-]?\d{{1,3}}({t}\d{{3}})+({d}\d*)?"
    numeric = pc.match_substring_regex(values, rf"^({pattern})$")
    if thousands:
        values = pc.replace_substring(values, thousands, "")
    if decimal != ".":
        values = pc.replace_substring(values, decimal, ".")
    cleaned = pc.if_else(numeric, values, pa.scalar(None, pa.string()))
    return pc.cast(cleaned, pa.float64())


#: The key of the table's schema metadata that quotes an amount that was not a number.
AMOUNT_EXAMPLE = b"rfmkit.amount_not_a_number"


def _with_amount_example(table: Any, text: Any, numbers: Any) -> Any:
    """`table` with, in its schema metadata, the first amount text that did not read as a
    number (for the messages of the CLI: '1.234,50' says which flag is missing)."""
    import pyarrow.compute as pc

    lost = pc.and_(pc.is_valid(text), pc.is_null(numbers))
    if not pc.any(lost).as_py():
        return table
    blank = pc.equal(pc.utf8_trim_whitespace(text), "")
    lost = pc.and_(lost, pc.invert(blank))
    if not pc.any(lost).as_py():
        return table
    example = pc.filter(text, lost)[0].as_py()
    return table.replace_schema_metadata({**(table.schema.metadata or {}), AMOUNT_EXAMPLE: example.encode("utf-8")})


def amount_example(table: Any) -> str | None:
    """The amount text quoted by `_with_amount_example`, if any."""
    metadata = getattr(getattr(table, "schema", None), "metadata", None) or {}
    value = metadata.get(AMOUNT_EXAMPLE)
    return value.decode("utf-8") if value is not None else None


# --------------------------------------------------------------------------- writing


def money_columns(table: pd.DataFrame) -> list[str]:
    return [
        str(c)
        for c in table.columns
        if _MONEY.search(str(c)) and not _NOT_MONEY.search(str(c)) and pd.api.types.is_float_dtype(table[c].dtype)
    ]


def write_parquet(table: pd.DataFrame, path: Path) -> None:
    """A pandas result as Parquet that every reader takes as rfmkit gives it: pandas gets
    it back indexed (pandas' own metadata, its attrs included), pyarrow and polars with the
    index (the customer id, the segment ...) as the first column and rfmkit's record in
    the schema metadata (`rfmkit.quality` reads it)."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from rfmkit._io import frames

    arrow = pa.Table.from_pandas(table)
    index = [name for name in table.index.names if name is not None and name in arrow.column_names]
    arrow = arrow.select(index + [name for name in arrow.column_names if name not in index])
    if table.attrs:
        metadata = dict(arrow.schema.metadata or {})
        metadata[b"PANDAS_ATTRS"] = json.dumps(table.attrs, default=str).encode()
        arrow = arrow.replace_schema_metadata(metadata)
    record = frames.info_of(table)
    pq.write_table(frames.with_info(arrow, record) if record else arrow, path)


def write_csv(table: pd.DataFrame, path: Path, *, index: bool = True) -> None:
    """A table as CSV for people and spreadsheets: UTF-8 with a byte-order mark (Excel
    then reads Chinese labels), money rounded to cents."""
    out = table.copy()
    for column in money_columns(out):
        out[column] = np.round(out[column].to_numpy(dtype=np.float64), 2)
    out.to_csv(path, index=index, encoding="utf-8-sig")


def write_excel(tables: dict[str, pd.DataFrame], path: Path) -> None:
    """Tables as the sheets of one workbook, the index as the first column. With
    rustpy-xlsxwriter (a writer in Rust, ``pip install 'rfmkit[excel]'``): about 1 s for
    100,000 customers; else with openpyxl (about 20 times slower). Labels are written as
    text and time-zone-aware timestamps as their wall clock (Excel has no time zones)."""
    sheets = {name: _excel_ready(table) for name, table in tables.items()}
    try:
        from rustpy_xlsxwriter import FastExcel
    except ImportError:
        _write_excel_openpyxl(sheets, path)
        return
    workbook = FastExcel(str(path))
    for name, table in sheets.items():
        workbook = workbook.sheet(name, table)
    workbook.save()


def _write_excel_openpyxl(sheets: dict[str, pd.DataFrame], path: Path) -> None:
    try:
        import openpyxl  # noqa: F401  (pandas' writer)
    except ImportError:
        raise ImportError(
            "writing Excel needs rustpy-xlsxwriter (fast) or openpyxl: pip install 'rfmkit[excel]'"
        ) from None
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, table in sheets.items():
            table.to_excel(writer, sheet_name=name, index=False)


def _excel_ready(table: pd.DataFrame) -> pd.DataFrame:
    keep_index = not (isinstance(table.index, pd.RangeIndex) and table.index.name is None)
    out = table.reset_index() if keep_index else table.copy()
    out.attrs = {}
    out.columns = [str(c) for c in out.columns]
    for name in out.columns:
        values = out[name]
        if isinstance(values.dtype, pd.CategoricalDtype):
            out[name] = values.astype(object).where(values.notna(), None)
        elif isinstance(values.dtype, pd.DatetimeTZDtype):
            out[name] = values.dt.tz_localize(None)
        elif isinstance(values.dtype, pd.Int64Dtype):
            out[name] = values.astype("float64")
    return out
