"""The README's Python examples run, and show what they print.

Each ```python block of README.md runs in order in one namespace (a block may use the
names of the blocks before it), in a folder with the files the examples read
(``orders.csv``; ``exports/`` of Parquet files and of ';'-separated gb18030 CSV files).
An expression statement followed by comment lines (``# ...``) is a doctest: the comment
is what it shows, compared as doctest does (white space folded, ``...`` for any text),
but in the blocks that read the reader's own export (``orders.csv``, ``exports/``),
whose comments show what a real export gave: those run, unchecked. The Spark blocks
need a Databricks-style catalog and are only compiled.

After a change of what an example prints, ``RFMKIT_UPDATE_README=1 pytest
tests/test_readme.py`` writes the new outputs into README.md (read the diff).
"""

from __future__ import annotations

import ast
import doctest
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rfmkit

README = Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(r"^```python\n(.*?)^```", re.M | re.S)
CHECKER = doctest.OutputChecker()
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def blocks() -> list[tuple[int, str]]:
    text = README.read_text(encoding="utf-8")
    return [(text[: m.start()].count("\n") + 2, m.group(1)) for m in FENCE.finditer(text)]


UPDATE = os.environ.get("RFMKIT_UPDATE_README") == "1"


def statements(source: str) -> list[tuple[ast.stmt, str | None]]:
    """Each top-level statement with the output its comment lines show (None: none)."""
    lines = source.split("\n")
    tree = ast.parse(source)
    out = []
    for node in tree.body:
        expected = None
        if isinstance(node, ast.Expr):
            following = []
            for line in lines[node.end_lineno :]:
                if not line.startswith("#"):
                    break
                following.append(line[2:] if line.startswith("# ") else line[1:])
            if following:
                expected = "\n".join(following) + "\n"
        out.append((node, expected))
    return out


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """The files the examples read, in a fresh working folder."""
    monkeypatch.chdir(tmp_path)
    orders = rfmkit.datasets.make_transactions(800, seed=21)
    export = orders.rename(columns={"order_id": "invoice_no"})
    export.to_csv("orders.csv", index=False)
    Path("exports").mkdir()
    half = len(export) // 2
    export.iloc[:half].to_parquet("exports/orders-1.parquet")
    export.iloc[half:].to_parquet("exports/orders-2.parquet")
    chinese = export.rename(columns={"customer_id": "客户", "ordered_at": "日期", "amount": "金额"})
    chinese = chinese[["客户", "日期", "金额"]].assign(金额=chinese["金额"].map(lambda v: f"{v:.2f}".replace(".", ",")))
    chinese.to_csv("exports/orders.csv", sep=";", index=False, encoding="gb18030")
    return tmp_path


def test_the_readme_examples_run_and_show_what_they_print(workspace):
    import matplotlib

    matplotlib.use("Agg")
    namespace: dict = {"__name__": "readme"}
    updates: list[tuple[int, str, str]] = []
    checked = 0
    with warnings.catch_warnings(), pd.option_context("display.width", 250, "display.max_columns", 50):
        warnings.simplefilter("ignore")
        for line, source in blocks():
            code = compile(source, f"README.md:{line}", "exec")
            if "spark" in source:
                continue  # a Databricks catalog and session: compiled only
            if "payload" in source:
                columns = dict(customer="customer_id", date="ordered_at", amount="amount")
                orders = pd.read_csv("orders.csv", parse_dates=["ordered_at"])
                namespace["payload"] = rfmkit.Aggregator(**columns).update(orders.iloc[:10]).to_bytes()
            assert code is not None
            illustrative = "orders.csv" in source or "exports/" in source
            for node, expected in statements(source):
                where = f"README.md:{line + node.lineno - 1}"
                if expected is None or illustrative:
                    exec(compile(ast.Module([node], []), where, "exec"), namespace)
                    continue
                value = eval(compile(ast.Expression(node.value), where, "eval"), namespace)
                got = repr(value) + "\n"
                if UPDATE and not CHECKER.check_output(expected, got, FLAGS):
                    updates.append((line + node.end_lineno - 1, expected, got))
                    continue
                assert CHECKER.check_output(expected, got, FLAGS), f"{where} shows\n{expected}but gives\n{got}"
                checked += 1
    if updates:
        _rewrite(updates)
        pytest.fail(f"README.md: {len(updates)} outputs rewritten; read the diff")
    assert checked >= 15
    assert isinstance(namespace["table"], pd.DataFrame) and np.isfinite(namespace["table"]["monetary"]).all()


def _rewrite(updates: list[tuple[int, str, str]]) -> None:
    """Puts each new output as comment lines after the statement that ends at line `at`."""
    lines = README.read_text(encoding="utf-8").split("\n")
    for at, expected, got in sorted(updates, reverse=True):
        old = expected.rstrip("\n").count("\n") + 1
        new = ["# " + text.rstrip() if text.strip() else "#" for text in got.rstrip("\n").split("\n")]
        lines[at : at + old] = new
    README.write_text("\n".join(lines), encoding="utf-8")
