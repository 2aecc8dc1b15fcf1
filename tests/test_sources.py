"""Inputs read in batches (`rfmkit._io.sources`): every kind gives the same rows as the
same columns read in memory, in bounded batches, with the columns checked first."""

from __future__ import annotations

import importlib.util
import itertools
import os
import subprocess
import sys
import types
import warnings

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

import rfmkit
from rfmkit._io import files as _files
from rfmkit._io import sources as _sources
from rfmkit._io.sources import is_source, open_source
from rfmkit.exceptions import (
    ColumnNotFoundError,
    InvalidDataError,
    InvalidParameterError,
)

pl = pytest.importorskip("polars")

ROWS = 10_000
BOUND = 1_000
ROLES = {"customer": "customer_id", "date": "ordered_at", "amount": "amount"}
NAMES = ["customer_id", "ordered_at", "amount"]


@pytest.fixture
def bound(monkeypatch):
    monkeypatch.setattr(_sources, "BATCH_ROWS", BOUND)
    return BOUND


@pytest.fixture
def table():
    rng = np.random.default_rng(7)
    return pa.table(
        {
            "note": pa.array([f"n{i}" for i in range(ROWS)]),
            "amount": pa.array(np.round(rng.uniform(-20, 500, ROWS), 2)),
            "customer_id": pa.array([f"{i % 997:05d}" for i in range(ROWS)]),
            "ordered_at": pa.array((np.datetime64("2024-01-01") + rng.integers(0, 365, ROWS)).astype("datetime64[ms]")),
        }
    )


def read_all(source, columns=None):
    batches = list(source.batches(columns))
    assert all(0 < b.num_rows <= _sources.BATCH_ROWS for b in batches)
    names = source.schema.names if columns is None else columns
    assert all(b.schema.names == names for b in batches)
    return batches, pa.Table.from_batches(batches, schema=source.schema if columns is None else None)


def parquet_files(table, folder, parts=3):
    folder.mkdir(exist_ok=True)
    bounds = np.linspace(0, table.num_rows, parts + 1).astype(int)
    paths = []
    for part, (start, stop) in enumerate(itertools.pairwise(bounds)):
        path = folder / f"part-{part}.parquet"
        pq.write_table(table.slice(start, stop - start), path, row_group_size=3_000)
        paths.append(path)
    return paths


# --------------------------------------------------------------------------- is_source


def test_what_is_a_source(tmp_path, table):
    import pandas as pd

    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    batch = table.to_batches()[0]
    sources = [
        str(path),
        path,
        [path, path],
        (str(path),),
        batch,
        pa.RecordBatchReader.from_batches(table.schema, [batch]),
        iter([batch]),
        (b for b in [batch]),
        [batch],
        ds.dataset(path),
        pl.scan_parquet(path),
    ]
    tables = [
        table,
        table.to_pandas(),
        pl.from_arrow(table),
        {"a": [1]},
        b"x.csv",
        table.column(0),
        pd.Series([1]),
        np.arange(3),
        3,
        None,
        pl.Series([1]),
    ]
    assert [is_source(s) for s in sources] == [True] * len(sources)
    assert [is_source(t) for t in tables] == [False] * len(tables)


def test_is_source_imports_neither_polars_nor_pyarrow_dataset():
    code = (
        "import sys, pandas as pd, pyarrow as pa; from rfmkit._io.sources import is_source\n"
        "assert not is_source(pd.DataFrame({'a': [1]})) and not is_source(pa.table({'a': [1]}))\n"
        "assert is_source('x.parquet') and is_source([pa.record_batch({'a': [1]})]) and is_source(iter([]))\n"
        "print(sorted(m for m in sys.modules if m.startswith('polars') or m == 'pyarrow.dataset'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- every kind, bounded, equal


def _kinds(table, tmp_path):
    """kind -> (opener of the input, the same columns read in memory, rereadable, total rows)."""
    folder = tmp_path / "orders"
    paths = parquet_files(table, folder)
    expected = table.select(NAMES)
    single = tmp_path / "one.parquet"
    pq.write_table(table, single, row_group_size=4_000)
    big_batch = table.combine_chunks().to_batches()[0]
    assert big_batch.num_rows == ROWS

    class Foreign:  # another library's table that exports an Arrow stream
        def __arrow_c_stream__(self, requested_schema=None):
            return table.__arrow_c_stream__(requested_schema)

    lazy_expected = pl.scan_parquet(single).select(NAMES).collect().to_arrow()
    return {
        "record batch": (lambda: big_batch, expected, True, ROWS),
        "reader": (
            lambda: pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=2_500)),
            expected,
            False,
            None,
        ),
        "generator": (lambda: (b for b in table.to_batches(max_chunksize=3_000)), expected, False, None),
        "iterator of tables": (lambda: iter([table.slice(0, 4_000), table.slice(4_000)]), expected, False, None),
        "list of batches": (lambda: table.to_batches(max_chunksize=1_500), expected, True, ROWS),
        "arrow stream": (Foreign, expected, False, None),
        "dataset": (lambda: ds.dataset(folder, format="parquet"), expected, True, ROWS),
        "in-memory dataset": (lambda: ds.dataset(table), expected, True, ROWS),
        "lazyframe": (lambda: pl.scan_parquet(single), lazy_expected, True, None),
        "parquet path": (lambda: single, expected, True, ROWS),
        "parquet glob": (lambda: str(folder / "part-*.parquet"), expected, True, ROWS),
        "parquet list": (lambda: [str(p) for p in paths], expected, True, ROWS),
        "parquet folder": (lambda: folder, expected, True, ROWS),
    }


KINDS = [
    "record batch",
    "reader",
    "generator",
    "iterator of tables",
    "list of batches",
    "arrow stream",
    "dataset",
    "in-memory dataset",
    "lazyframe",
    "parquet path",
    "parquet glob",
    "parquet list",
    "parquet folder",
]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_gives_the_rows_in_bounded_batches(kind, table, tmp_path, bound):
    make, expected, rereadable, total = _kinds(table, tmp_path)[kind]
    source = open_source(make(), ROLES)
    assert source.schema.names == NAMES
    assert source.schema == expected.schema
    assert (source.rereadable, source.total_rows) == (rereadable, total)
    batches, got = read_all(source)
    assert len(batches) >= ROWS // BOUND
    assert got.equals(expected)


@pytest.mark.parametrize("kind", KINDS)
def test_reading_again_or_the_read_once_error(kind, table, tmp_path):
    make, expected, rereadable, _ = _kinds(table, tmp_path)[kind]
    source = open_source(make(), ROLES)
    assert read_all(source)[1].equals(expected)
    if rereadable:
        assert read_all(source)[1].equals(expected)
    else:
        with pytest.raises(InvalidParameterError, match="can be read once"):
            source.batches()


@pytest.mark.parametrize("kind", KINDS)
def test_columns_are_a_subset_in_the_order_asked(kind, table, tmp_path):
    make, expected, _, _ = _kinds(table, tmp_path)[kind]
    source = open_source(make(), {"amount": "amount", "customer": "customer_id"})
    assert source.schema.names == ["amount", "customer_id"]
    _, got = read_all(source, ["customer_id", "amount"])
    assert got.equals(expected.select(["customer_id", "amount"]))
    if source.rereadable:
        with pytest.raises(ColumnNotFoundError, match="'ordered_at' was not selected"):
            source.batches(["ordered_at"])


@pytest.mark.parametrize("kind", KINDS)
def test_a_missing_column_is_named_before_any_row_is_read(kind, table, tmp_path):
    make, _, _, _ = _kinds(table, tmp_path)[kind]
    with pytest.raises(ColumnNotFoundError) as error:
        open_source(make(), {**ROLES, "order": "order_Id"})
    message = str(error.value)
    assert "order column 'order_Id' is not in" in message
    assert all(repr(name) in message for name in ["note", "amount", "customer_id", "ordered_at"])


def test_a_close_name_is_suggested_and_long_lists_cut(tmp_path, table):
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'customer_id'"):
        open_source(table.to_batches(), {"customer": "Customer_ID"})
    wide = pl.LazyFrame({f"c{i}": [i] for i in range(40)})
    with pytest.raises(
        ColumnNotFoundError, match=r"'id' is not in the LazyFrame; its columns are: 'c0', .*'c29' and 10 more$"
    ):
        open_source(wide, {"customer": "id"})


def test_a_csv_dataset_has_no_row_count(tmp_path, table, bound):
    path = tmp_path / "orders.csv"
    pacsv.write_csv(table, path)
    dataset = ds.dataset(path, format="csv")
    source = open_source(dataset, ROLES)
    assert source.total_rows is None and source.description == "a dataset of 1 file"
    assert read_all(source)[1].equals(dataset.to_table(columns=NAMES))


def test_a_lazyframe_is_streamed_not_collected(tmp_path, table, bound, monkeypatch):
    path = tmp_path / "orders.parquet"
    pq.write_table(table, path, row_group_size=2_000)
    frame = pl.scan_parquet(path).filter(pl.col("amount") > 0)
    expected = frame.select(NAMES).collect().to_arrow()

    def refuse(*args, **kwargs):
        raise AssertionError("the LazyFrame was collected whole")

    monkeypatch.setattr(pl.LazyFrame, "collect", refuse)
    source = open_source(frame, ROLES)
    batches, got = read_all(source)
    assert len(batches) >= expected.num_rows // BOUND
    assert got.equals(expected)


def test_an_object_with_more_rows_than_the_bound_is_sliced_without_copies(table, bound):
    batch = table.combine_chunks().to_batches()[0]
    pieces = list(open_source(batch, ROLES).batches(["amount"]))
    assert [p.num_rows for p in pieces] == [BOUND] * (ROWS // BOUND)
    data = batch.column("amount").buffers()[1]
    assert all(p.column(0).buffers()[1].address == data.address for p in pieces)


# --------------------------------------------------------------------------- iterators


def test_an_item_that_is_not_a_batch(table):
    batches = table.to_batches(max_chunksize=5_000)
    source = open_source(iter([batches[0], {"customer_id": "1"}, batches[1]]), ROLES)
    with pytest.raises(
        InvalidParameterError, match=r"item 1 of the input is a builtins\.dict, not a pyarrow\.RecordBatch"
    ):
        list(source.batches())
    with pytest.raises(InvalidParameterError, match="item 0 of the input is a pandas.*DataFrame"):
        open_source([table.to_pandas()], ROLES)
    with pytest.raises(InvalidParameterError, match="item 1 of the input"):  # a list is checked whole at once
        open_source([batches[0], "x"], ROLES)


def test_batches_whose_types_differ_from_the_first(table):
    first, second = table.to_batches(max_chunksize=5_000)
    other = second.set_column(second.schema.get_field_index("amount"), "amount", pa.array(["1.5"] * second.num_rows))
    source = open_source((b for b in [first, other]), ROLES)
    with pytest.raises(InvalidDataError, match="column 'amount' is string in record batch 1 but double in the first"):
        list(source.batches())
    with pytest.raises(InvalidDataError, match="record batch 1 has no column 'ordered_at'"):
        open_source([first, second.drop_columns(["ordered_at"])], ROLES)
    # a column that is not read may differ
    assert read_all(open_source([first, other], {"customer": "customer_id"}))[1].num_rows == ROWS


def test_an_iterator_without_any_batch(table):
    with pytest.raises(InvalidDataError, match="no record batch in the input"):
        open_source(iter([]), ROLES)
    empty = open_source(iter([table.slice(0, 0)]), ROLES)  # an empty table still has columns
    assert empty.schema.names == NAMES and list(empty.batches()) == []


# --------------------------------------------------------------------------- files


def test_an_empty_parquet_file(tmp_path, table):
    path = tmp_path / "empty.parquet"
    pq.write_table(table.slice(0, 0), path)
    source = open_source(path, ROLES)
    assert source.total_rows == 0 and source.schema == table.select(NAMES).schema
    assert list(source.batches()) == []
    other = tmp_path / "full.parquet"
    pq.write_table(table, other)
    assert read_all(open_source([path, other], ROLES))[1].equals(table.select(NAMES))


def test_parquet_files_whose_types_differ(tmp_path, table):
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    pq.write_table(table, first)
    pq.write_table(table.set_column(2, "customer_id", pa.array(np.arange(ROWS))), second)
    with pytest.raises(InvalidDataError, match="column 'customer_id' is int64 in b.parquet but string in a.parquet"):
        open_source([first, second], ROLES)


def test_missing_files_globs_folders_and_formats(tmp_path, table):
    with pytest.raises(InvalidParameterError, match="does not exist"):
        open_source(tmp_path / "nothing.parquet", ROLES)
    with pytest.raises(InvalidParameterError, match=r"no file matches .*\*\.parquet"):
        open_source(str(tmp_path / "*.parquet"), ROLES)
    with pytest.raises(InvalidParameterError, match="holds no .parquet"):
        open_source(tmp_path, ROLES)
    paths = parquet_files(table, tmp_path / "orders")
    with pytest.raises(InvalidParameterError, match="is given twice"):
        open_source([paths[0], str(tmp_path / "orders" / "*.parquet")], ROLES)
    csv_path = tmp_path / "orders" / "more.csv"
    pacsv.write_csv(table, csv_path)
    with pytest.raises(InvalidParameterError, match="mix formats"):
        open_source(tmp_path / "orders", ROLES)
    with pytest.raises(InvalidParameterError, match="use a .csv"):
        open_source([paths[0], tmp_path / "notes.json"], ROLES)
    csv_path.unlink()
    # a folder's hidden and underscore files (and sub-folders) are not data
    (tmp_path / "orders" / "_SUCCESS").write_text("")
    (tmp_path / "orders" / ".part-9.parquet.crc").write_text("x")
    (tmp_path / "orders" / "_tmp").mkdir()
    pq.write_table(table, tmp_path / "orders" / "_tmp" / "part-9.parquet")
    source = open_source(tmp_path / "orders", ROLES)
    assert source.description == f"{tmp_path / 'orders'} (3 files)"
    assert read_all(source)[1].equals(table.select(NAMES))


def test_a_zero_byte_csv_is_the_error_of_read_transactions(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(InvalidDataError, match="is empty"):
        open_source(path, ROLES)


EXPORT = (
    "kunde;datum;betrag;notiz\n"
    + "".join(
        f"{i % 37:05d};{(i % 28) + 1:02d}.04.2024;{i % 3}.{i % 1000:03d},{i % 100:02d};x{i}\n" for i in range(1, 3_000)
    )
    + "00017;25.04.2024;nicht;y\n00017;26.04.2024;;y\n"
)
EXPORT_ROLES = {"customer": "kunde", "date": "datum", "amount": "betrag"}


@pytest.mark.parametrize(
    "encoding,bom,options",
    [
        ("utf-8", b"", {}),
        ("utf-8", b"\xef\xbb\xbf", {}),
        ("utf-16", b"", {}),
        ("gb18030", b"", {"encoding": "gb18030"}),
    ],
)
def test_csv_streamed_is_read_transactions(tmp_path, encoding, bom, options, bound, monkeypatch):
    path = tmp_path / "export.csv"
    path.write_bytes(bom + EXPORT.replace("notiz", "备注").encode(encoding))
    whole = rfmkit.read_transactions(path, **EXPORT_ROLES, decimal=",", thousands=".", **options)
    monkeypatch.setattr(_files, "_CSV_BLOCK", 16 * 1024)  # several blocks, hence batches
    source = open_source(path, EXPORT_ROLES, decimal=",", thousands=".", **options)
    assert source.schema == whole.schema and source.rereadable and source.total_rows is None
    batches, got = read_all(source)
    assert len(batches) > 3
    assert got.equals(whole)
    assert got.column("kunde")[0].as_py() == "00001"  # ids as written
    assert got.column("betrag")[0].as_py() == 1001.01  # '1.001,01'
    assert got.column("betrag").null_count == 2  # 'nicht' and the empty cell
    assert _files.amount_example(batches[-1]) == "nicht"


def test_csv_with_a_non_number_late_in_plain_notation(tmp_path, bound, monkeypatch):
    """An amount that is not a number in a later block restarts the file with the amounts
    read as text: the rows come out once, as read_transactions reads them."""
    lines = [f"{i:04d},2024-01-{i % 28 + 1:02d},{i}.5" for i in range(3_000)]
    lines[2_500] = "0042,2024-01-02,zwölf"
    path = tmp_path / "plain.csv"
    path.write_text("id,d,a\n" + "\n".join(lines) + "\n")
    roles = {"customer": "id", "date": "d", "amount": "a"}
    whole = rfmkit.read_transactions(path, **roles)
    monkeypatch.setattr(_files, "_CSV_BLOCK", 8 * 1024)
    batches, got = read_all(open_source(path, roles))
    assert len(batches) > 3 and got.equals(whole) and got.column("a").null_count == 1


def test_csv_errors_are_those_of_read_transactions(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("客户,日期,金额\n甲,2024-01-01,10\n".encode("gb18030"))
    roles = {"customer": "客户", "date": "日期", "amount": "金额"}
    with pytest.raises(InvalidDataError) as whole:
        rfmkit.read_transactions(path, **roles)
    with pytest.raises(InvalidDataError) as streamed:
        list(open_source(path, roles).batches())
    assert str(streamed.value) == str(whole.value) and "is not utf8 text" in str(whole.value)
    aligned = tmp_path / "aligned.txt"
    aligned.write_text(" id  d  a\n 00001 19970101 11.77\n")
    with pytest.raises(ColumnNotFoundError, match="the header did not split into columns"):
        open_source(aligned, {"customer": "id"})


def test_csv_files_together_header_only_included(tmp_path, bound):
    roles = {"customer": "id", "date": "d", "amount": "a"}
    (tmp_path / "a.csv").write_text("id;d;a\n007;2024-01-01;1,5\n")
    (tmp_path / "b.csv").write_text("id,d,a\n")  # header only: no rows
    (tmp_path / "c.tsv").write_text("a\td\tid\n2,25\t2024-01-02\t008\n")
    source = open_source(tmp_path, roles, decimal=",")
    assert source.description == f"{tmp_path} (3 files)"
    _, got = read_all(source)
    assert got.to_pydict() == {"id": ["007", "008"], "d": ["2024-01-01", "2024-01-02"], "a": [1.5, 2.25]}
    with pytest.raises(ColumnNotFoundError, match="customer column 'id' is not in d.csv"):
        (tmp_path / "d.csv").write_text("ID,d,a\n1,2024-01-01,1\n")
        open_source(tmp_path, roles, decimal=",")


def test_excel_files_are_read_whole_each(tmp_path, bound):
    pytest.importorskip("openpyxl")
    import pandas as pd

    roles = {"customer": "id", "date": "d", "amount": "a"}
    frames = [
        pd.DataFrame({"id": ["007", "008"] * 700, "d": ["2024-01-01"] * 1400, "a": [1.5, 2.0] * 700}),
        pd.DataFrame({"id": ["009"], "d": ["2024-01-03"], "a": [3]}),
    ]
    paths = [tmp_path / "a.xlsx", tmp_path / "b.xlsx"]
    for frame, path in zip(frames, paths):
        frame.to_excel(path, index=False)
    wholes = [rfmkit.read_transactions(p, **roles) for p in paths]
    assert wholes[1].schema.field("a").type == pa.int64()  # all whole: pandas reads ints
    expected = pa.concat_tables([w.cast(wholes[0].schema) for w in wholes])
    source = open_source(paths, roles)
    assert read_all(source)[1].equals(expected)
    assert read_all(source)[1].equals(expected)


# --------------------------------------------------------------------------- progress


def test_progress_bar_without_warnings(tmp_path, table, capsys):
    pytest.importorskip("tqdm")
    path = tmp_path / "orders.parquet"
    pq.write_table(table, path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = pa.Table.from_batches(list(open_source(path, ROLES, progress=True).batches()))
        assert got.num_rows == ROWS
        assert "orders.parquet" in capsys.readouterr().err
        list(open_source(path, ROLES).batches())
        assert capsys.readouterr().err == ""


def test_progress_without_tqdm_is_silent(tmp_path, table, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import tqdm.auto -> ImportError
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batches = list(open_source(table.to_batches(), ROLES, progress=True).batches())
    assert sum(b.num_rows for b in batches) == ROWS
    assert capsys.readouterr().err == ""


def test_progress_in_a_notebook_without_ipywidgets_warns_nothing(tmp_path, table, monkeypatch, capsys):
    """tqdm.auto warns there ("IProgress not found") and falls back to a text bar."""
    pytest.importorskip("tqdm")
    if importlib.util.find_spec("ipywidgets") is not None:
        pytest.skip("ipywidgets is installed: tqdm would draw a widget")
    ipython = pytest.importorskip("IPython")
    kernel = types.SimpleNamespace(config={"IPKernelApp": {}})
    monkeypatch.setattr(ipython, "get_ipython", lambda: kernel)
    monkeypatch.setitem(sys.modules, "ipykernel.zmqshell", types.ModuleType("ipykernel.zmqshell"))
    for name in list(os.environ):
        if name == "QT_API" or name.startswith("SPYDER"):
            monkeypatch.delenv(name)
    for name in ("tqdm.auto", "tqdm.autonotebook", "tqdm.notebook"):  # imported anew, in the "notebook"
        monkeypatch.delitem(sys.modules, name, raising=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert sum(b.num_rows for b in open_source(table.to_batches(), ROLES, progress=True).batches()) == ROWS
    assert caught == []
    assert "a list of record batches" in capsys.readouterr().err


def test_scan_transactions_carries_the_notation(tmp_path) -> None:
    """A decimal-comma, ';'-separated, gb18030 CSV read in batches through
    `scan_transactions` equals the same file read whole by `read_transactions`; without
    the notation the amounts are not numbers (every row an invalid amount)."""
    import pandas as pd

    import rfmkit

    path = tmp_path / "export.csv"
    lines = ["客户;日期;金额"] + [f"C{i % 7:03d};2024-0{1 + i % 9}-1{i % 10};{i},5{i % 10}" for i in range(200)]
    path.write_text("\n".join(lines) + "\n", encoding="gb18030")
    columns = {"customer": "客户", "date": "日期", "amount": "金额"}
    scan = rfmkit.scan_transactions(path, sep=";", decimal=",", encoding="gb18030")
    assert "decimal=','" in repr(scan)
    whole = rfmkit.read_transactions(path, **columns, sep=";", decimal=",", encoding="gb18030")
    want = rfmkit.rfm(whole, **columns)  # a pyarrow Table in: one out
    got = rfmkit.rfm(scan, **columns)  # files read in batches: pandas out
    pd.testing.assert_frame_equal(got, want.to_pandas().set_index("客户"))
    assert rfmkit.quality(got) == rfmkit.quality(want)
    assert got["monetary"].sum() == pytest.approx(sum(i + 0.5 + (i % 10) / 100 for i in range(200)))
    with pytest.raises(rfmkit.InvalidDataError, match="scan_transactions"):
        rfmkit.rfm(str(path), **columns)  # not UTF-8: the message names the way to pass the encoding
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = rfmkit.rfm(rfmkit.scan_transactions(path, sep=";", encoding="gb18030"), **columns)
    assert rfmkit.quality(plain)["dropped"] == {"invalid_amount": 200}


def test_unread_amounts_get_a_hint(tmp_path) -> None:
    """Amounts with thousands separators read without `thousands=`: the rows are dropped
    and counted, and the warning quotes such an amount and names the notation options,
    for a file read whole and for one read in batches."""
    import rfmkit

    path = tmp_path / "thousands.csv"
    path.write_text(
        "c,d,a\n" + "".join(f'{i % 3},2024-01-0{1 + i % 9},"1,{i:03d}.50"\n' for i in range(30)), encoding="utf-8"
    )
    columns = {"customer": "c", "date": "d", "amount": "a"}
    for data in (rfmkit.read_transactions(path, **columns), rfmkit.scan_transactions(path)):
        with pytest.warns(rfmkit.DataQualityWarning, match=r"written like '1,0\d\d\.50'.*thousands="):
            out = rfmkit.rfm(data, **columns)
        assert rfmkit.quality(out)["dropped"] == {"invalid_amount": 30}
    fixed = rfmkit.rfm(rfmkit.scan_transactions(path, thousands=","), **columns)
    assert fixed["monetary"].sum() == pytest.approx(sum(1000 + i + 0.5 for i in range(30)))
