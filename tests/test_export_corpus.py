"""A corpus of small export files as ERPs, shops and spreadsheets write them, each run
through the CLI (`rfmkit rfm`) and the Python API (`read_transactions` + `rfm`), with its
expected table or error."""

from __future__ import annotations

import codecs
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import rfmkit
from frames import CLI_COLUMNS
from rfmkit.cli import main

HEADER = "id,d,a\n"


def text(content: str, encoding: str = "utf-8", bom: bytes = b"") -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_bytes(bom + content.encode(encoding))

    return write


def excel_file(frame: pd.DataFrame) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        frame.to_excel(path, index=False)

    return write


def parquet_file(frame: pd.DataFrame) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        frame.to_parquet(path, index=False)

    return write


@dataclass
class Case:
    name: str
    write: Callable[[Path], None]
    suffix: str = ".csv"
    options: dict = field(default_factory=dict)  # Python keyword -> value (the CLI flag is derived)
    # customer -> (frequency, monetary, first purchase day): the expected table
    table: dict | None = None
    dropped: dict = field(default_factory=dict)
    error: str | None = None
    cli_error: str | None = None  # the CLI refuses what Python gives as an empty table


CASES = [
    Case(
        "utf8",
        text(HEADER + "1,2024-01-01,10\n2,2024-01-02,20.5\n1,2024-01-05,5\n"),
        table={"1": (2, 15.0, "2024-01-01"), "2": (1, 20.5, "2024-01-02")},
    ),
    Case(
        "utf8 with BOM", text(HEADER + "1,2024-01-01,10\n", bom=codecs.BOM_UTF8), table={"1": (1, 10.0, "2024-01-01")}
    ),
    Case(
        "utf16 with BOM",
        text("客户,d,a\n甲,2024-01-01,10\n乙,2024-01-02,20\n", "utf-16"),
        options={"customer": "客户"},
        table={"甲": (1, 10.0, "2024-01-01"), "乙": (1, 20.0, "2024-01-02")},
    ),
    Case(
        "gbk named",
        text("客户,日期,金额\n甲,2024-01-01,10\n乙,2024-01-02,20\n", "gbk"),
        options={"customer": "客户", "date": "日期", "amount": "金额", "encoding": "gbk"},
        table={"甲": (1, 10.0, "2024-01-01"), "乙": (1, 20.0, "2024-01-02")},
    ),
    Case(
        "gbk unnamed",
        text("客户,日期,金额\n甲,2024-01-01,10\n", "gbk"),
        options={"customer": "客户", "date": "日期", "amount": "金额"},
        error="is not utf8 text",
    ),
    Case(
        "semicolon, decimal comma, thousands dot",
        text("id;d;a\n00017;03.04.2024;1.234,50\n00017;25.04.2024;12,00\n00018;25.04.2024;x\n"),
        options={"decimal": ",", "thousands": "."},
        table={"00017": (2, 1246.5, "2024-04-03")},
        dropped={"invalid_amount": 1},
    ),
    Case(
        "dd/mm",
        text(HEADER + "1,03/04/2024,10\n2,25/04/2024,20\n1,12/05/2024,5\n"),
        table={"1": (2, 15.0, "2024-04-03"), "2": (1, 20.0, "2024-04-25")},
    ),
    Case(
        "mm/dd",
        text(HEADER + "1,04/03/2024,10\n2,04/25/2024,20\n"),
        table={"1": (1, 10.0, "2024-04-03"), "2": (1, 20.0, "2024-04-25")},
    ),
    Case("ambiguous dd/mm or mm/dd", text(HEADER + "1,03/04/2024,10\n2,04/05/2024,20\n"), error="is ambiguous"),
    Case(
        "ambiguous, --dayfirst",
        text(HEADER + "1,03/04/2024,10\n2,04/05/2024,20\n"),
        options={"dayfirst": True},
        table={"1": (1, 10.0, "2024-04-03"), "2": (1, 20.0, "2024-05-04")},
    ),
    Case(
        "yyyymmdd text",
        text(HEADER + "00001,19970101,11.77\n00002,19970112,12.00\n"),
        table={"00001": (1, 11.77, "1997-01-01"), "00002": (1, 12.0, "1997-01-12")},
    ),
    Case(
        "yyyymmdd integers in Parquet",
        parquet_file(pd.DataFrame({"id": ["a", "b"], "d": [19970101, 19970112], "a": [1.0, 2.0]})),
        suffix=".parquet",
        error="date_format='%Y%m%d'",
    ),
    Case(
        "yyyymmdd integers with --date-format",
        parquet_file(pd.DataFrame({"id": ["a", "b"], "d": [19970101, 19970112], "a": [1.0, 2.0]})),
        suffix=".parquet",
        options={"date_format": "%Y%m%d"},
        table={"a": (1, 1.0, "1997-01-01"), "b": (1, 2.0, "1997-01-12")},
    ),
    Case(
        "Excel serial days",
        text(HEADER + "1,45292,10\n2,45293.5,20\n"),
        options={"date_format": "excel"},
        table={"1": (1, 10.0, "2024-01-01"), "2": (1, 20.0, "2024-01-02")},
    ),
    Case(
        "unix seconds",
        text(HEADER + "1,1704067200,10\n2,1704153600,20\n"),
        options={"date_format": "unix"},
        table={"1": (1, 10.0, "2024-01-01"), "2": (1, 20.0, "2024-01-02")},
    ),
    Case(
        "sentinel date",
        text(HEADER + "1,2024-01-01,10\n2,9999-12-31,20\n1,2024-02-01,5\n"),
        table={"1": (2, 15.0, "2024-01-01")},
        dropped={"date_out_of_range": 1},
    ),
    Case(
        "not a date",
        text(HEADER + "1,2024-01-01,10\n2,unknown,20\n"),
        table={"1": (1, 10.0, "2024-01-01")},
        dropped={"unparseable_date": 1},
    ),
    Case(
        "mixed UTC offsets",
        text(HEADER + "1,2024-01-01T23:00:00+08:00,10\n2,2024-01-01T10:00:00+00:00,20\n"),
        table={"1": (1, 10.0, "2024-01-01"), "2": (1, 20.0, "2024-01-01")},
    ),
    Case(
        "naive and aware mixed",
        text(HEADER + "1,2024-01-01T23:00:00+08:00,10\n2,2024-01-01T10:00:00,20\n"),
        error="mixes times with a UTC offset",
    ),
    Case("empty file", text(""), error="is empty"),
    Case("header only", text(HEADER), table={}, cli_error="has a header but no rows"),
    Case(
        "no usable row: amounts in another notation",
        text("id;d;a\n1;2024-01-01;1.234,50\n"),
        table={},
        dropped={"invalid_amount": 1},
        cli_error="e.g. '1.234,50'): pass the file's notation",
    ),
    Case(
        "quoted fields with separators and newlines",
        text('id,d,a\n"1,5",2024-01-01,"10"\n"multi\nline",2024-01-02,20\n"1,5",2024-01-03,1\n'),
        table={"1,5": (2, 11.0, "2024-01-01"), "multi\nline": (1, 20.0, "2024-01-02")},
    ),
    Case(
        "leading zeros and a blank id",
        text(HEADER + "007,2024-01-01,10\n7,2024-01-02,20\n,2024-01-03,5\n"),
        table={"007": (1, 10.0, "2024-01-01"), "7": (1, 20.0, "2024-01-02")},
        dropped={"missing_customer": 1},
    ),
    Case(
        "whitespace aligned (CDNOW_master.txt)",
        text(" id  d  a\n 00001 19970101 11.77\n"),
        error="the header did not split into columns",
    ),
    Case("tab separated", text("id\td\ta\n1\t2024-01-01\t10\n"), suffix=".tsv", table={"1": (1, 10.0, "2024-01-01")}),
    Case(
        "wrong column",
        text(HEADER + "1,2024-01-01,10\n"),
        options={"customer": "ID"},
        error="customer column 'ID' is not in",
    ),
    Case(
        "Excel workbook",
        excel_file(pd.DataFrame({"id": ["007", "008"], "d": ["2024-01-01", "2024-01-02"], "a": [1.5, 2.0]})),
        suffix=".xlsx",
        table={"007": (1, 1.5, "2024-01-01"), "008": (1, 2.0, "2024-01-02")},
    ),
]

COLUMNS = {"customer": "id", "date": "d", "amount": "a"}
READ_OPTIONS = ("sep", "decimal", "thousands", "encoding")


def flags(options: dict) -> list[str]:
    out = []
    for key, value in options.items():
        if key == "dayfirst":
            out.append("--dayfirst" if value else "--monthfirst")
        else:
            out += ["--" + key.replace("_", "-"), str(value)]
    return out


def check_table(table: pd.DataFrame, case: Case) -> None:
    record = rfmkit.quality(table)
    if isinstance(table, pa.Table):  # read_transactions gives a pyarrow Table: rfm gives one back
        table = table.to_pandas().set_index(table.column_names[0])
    got = {
        str(customer): (int(row.frequency), round(float(row.monetary), 6), str(pd.Timestamp(row.first_purchase).date()))
        for customer, row in table.iterrows()
    }
    assert got == case.table
    dropped = {k: v for k, v in record["dropped"].items() if k != "zero_amount"}
    assert dropped == case.dropped


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_corpus_through_python(case, tmp_path):
    path = tmp_path / f"export{case.suffix}"
    case.write(path)
    options = {**COLUMNS, **case.options}
    read = {k: options.pop(k) for k in READ_OPTIONS if k in options}
    columns = {k: options.pop(k) for k in ("customer", "date", "amount")}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
            data = rfmkit.read_transactions(path, **columns, **read)
            table = rfmkit.rfm(data, **columns, **options)
    except rfmkit.RfmkitError as error:
        assert case.error is not None, f"unexpected error: {error}"
        assert case.error in str(error)
        return
    assert case.error is None, "expected an error"
    check_table(table, case)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_corpus_through_the_cli(case, tmp_path, capsys):
    path = tmp_path / f"export{case.suffix}"
    case.write(path)
    out = tmp_path / "customers.parquet"
    options = {**COLUMNS, **case.options}
    columns = [f"--{k}={options.pop(k)}" for k in ("customer", "date", "amount")]
    code = main(["rfm", str(path), str(out), *columns, *flags(options)])
    err = capsys.readouterr().err
    expected_error = case.error or case.cli_error
    if expected_error is not None:
        assert code == 2
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("rfmkit: error:") and expected_error in lines[0], err
        assert not out.exists()
        return
    assert code == 0, err
    assert err.strip().splitlines()[-1].startswith("rfmkit: rows read ")
    table = pd.read_parquet(out)
    table.attrs = {"rfmkit": {"dropped": _dropped(err)}}
    check_table(table, case)


def _dropped(err: str) -> dict:
    line = err.strip().splitlines()[-1]
    part = line.split("dropped: ", 1)[1].split(" (dates read", 1)[0]
    if part == "none":
        return {}
    items = re.sub(r" \(e\.g\. '[^']*'\)", "", part).split(", ")
    return {reason: int(count.replace(",", "")) for count, reason in (item.split(" ", 1) for item in items)}


def test_csv_outputs_open_in_excel_with_chinese_labels(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "1,2024-01-01,10.123\n2,2024-01-02,20\n", encoding="utf-8")
    out = tmp_path / "report"
    assert (
        main(
            [
                "analyze",
                str(path),
                "--out",
                str(out),
                "--customer",
                "id",
                "--date",
                "d",
                "--amount",
                "a",
                "--k",
                "none",
                "--no-clv",
                "--lang",
                "zh",
            ]
        )
        == 0
    )
    raw = (out / "customers.csv").read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)
    customers = pd.read_csv(out / "customers.csv", encoding="utf-8-sig", dtype={"id": str})
    assert customers.loc[customers["id"] == "1", "monetary"].item() == 10.12  # cents in CSV
    assert pd.read_parquet(out / "customers.parquet")["monetary"].iloc[0] == 10.123  # full precision
    assert customers["segment"].str.contains("客户").all()


def test_analyze_owns_its_out_folder(tmp_path, capsys):
    path = tmp_path / "orders.csv"
    orders = rfmkit.datasets.make_transactions(200, seed=4).dropna()
    orders.astype({"customer_id": "int64"}).to_csv(path, index=False)
    out = tmp_path / "report"
    base = [
        "analyze",
        str(path),
        "--out",
        str(out),
        *CLI_COLUMNS,
        "--no-clv",
    ]
    assert main([*base, "--k", "3"]) == 0
    assert (out / "clusters.csv").exists() and (out / "rfmkit-manifest.json").exists()
    # a second run without clusters removes the first run's cluster tables
    assert main([*base, "--k", "none"]) == 0
    assert not (out / "clusters.csv").exists() and not (out / "clusters.parquet").exists()
    assert "removed" in capsys.readouterr().err
    # a folder rfmkit did not write is refused unless --overwrite
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    assert main([*base[:3], str(other), *base[4:], "--k", "none"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main([*base[:3], str(other), *base[4:], "--k", "none", "--overwrite"]) == 0
    assert (other / "keep.txt").read_text() == "mine"


def test_unexpected_failures_are_one_line_and_debug_shows_the_traceback(tmp_path, capsys, monkeypatch):
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "1,2024-01-01,10\n", encoding="utf-8")

    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(rfmkit, "rfm", broken)
    argv = ["rfm", str(path), str(tmp_path / "o.csv"), "--customer", "id", "--date", "d", "--amount", "a"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unexpected ZeroDivisionError: boom" in err and "--debug" in err
    assert main([*argv, "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err
