#!/usr/bin/env python
"""Benchmark: the RFM table of a CSV export, rfmkit's reader + core against duckdb (and
polars) reading the same file, in one run.

Usage::

    python benches/bench_read.py                   # 10M rows, ~1M customers, 3 repetitions
    python benches/bench_read.py --rows 2000000 --repeat 3

What is measured
----------------
One CSV file (fixed seed) as an export writes it: zero-padded text customer ids
(``C0001234``), timestamps as ``YYYY-MM-DD HH:MM:SS`` text, amounts with two decimals.

* ``rfmkit read``: ``rfmkit.read_transactions`` (pyarrow.csv, three columns, ids as text).
* ``rfmkit rfm``: ``rfmkit.rfm`` on that table (the date rule on the text, then the core).
* ``rfmkit read + rfm``: both, the work of ``rfmkit rfm FILE OUT`` without writing.
* ``rfmkit CLI``: ``rfmkit rfm FILE OUT.parquet`` in a subprocess (start-up and writing
  included).
* ``duckdb read`` / ``duckdb aggregate``: ``CREATE TABLE`` from ``read_csv`` (typed
  columns), then recency/frequency/monetary/first/last per customer; ``duckdb read +
  aggregate``: one query on the file.
* ``polars read + aggregate`` (when installed): ``scan_csv`` with the datetime parsed, the
  same aggregation, collected.

Interleaved repetitions, the starting tool rotating; medians and ratios to rfmkit.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

warnings.simplefilter("ignore")

import rfmkit  # noqa: E402

SEED = 20241205


def generate(path: Path, rows: int) -> None:
    import pyarrow as pa
    import pyarrow.csv as csv

    rng = np.random.default_rng(SEED)
    customers = max(rows // 10, 1)
    ids = rng.integers(0, customers, rows)
    seconds = rng.integers(0, 3 * 365 * 86_400, rows) + 1_640_995_200  # 2022..2024
    stamps = pa.array(seconds.astype("datetime64[s]"))
    import pyarrow.compute as pc

    table = pa.table(
        {
            "customer_id": pc.binary_join_element_wise(
                "C", pc.utf8_lpad(pc.cast(pa.array(ids), pa.string()), 7, "0"), ""
            ),
            "ordered_at": pc.strftime(stamps, format="%Y-%m-%d %H:%M:%S"),
            "amount": np.round(rng.lognormal(3.5, 1.0, rows), 2),
        }
    )
    csv.write_csv(table, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="rfmkit-bench-read-"))
    path = folder / "orders.csv"
    start = time.perf_counter()
    generate(path, args.rows)
    print(
        f"{args.rows:,} rows, {path.stat().st_size / 1e6:,.0f} MB CSV, written in {time.perf_counter() - start:.1f} s; "
        f"rfmkit {rfmkit.__version__}, {os.cpu_count()} cpus"
    )
    names = dict(customer="customer_id", date="ordered_at", amount="amount")
    state: dict[str, Any] = {}

    def rfmkit_read() -> None:
        state["table"] = rfmkit.read_transactions(path, **names)

    def rfmkit_rfm() -> None:
        if "table" not in state:
            rfmkit_read()
        state["rfm"] = rfmkit.rfm(state["table"], **names)

    def rfmkit_both() -> None:
        rfmkit.rfm(rfmkit.read_transactions(path, **names), **names)

    def rfmkit_cli() -> None:
        out = folder / "customers.parquet"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "rfmkit.cli",
                "rfm",
                str(path),
                str(out),
                "--customer",
                "customer_id",
                "--date",
                "ordered_at",
                "--amount",
                "amount",
            ],
            check=True,
            capture_output=True,
        )

    tools: dict[str, Callable[[], Any]] = {
        "rfmkit read": rfmkit_read,
        "rfmkit rfm": rfmkit_rfm,
        "rfmkit read + rfm": rfmkit_both,
        "rfmkit CLI (subprocess)": rfmkit_cli,
    }
    query = (
        "SELECT customer_id, date_diff('day', max(ordered_at)::DATE, (SELECT max(ordered_at)::DATE + 1 FROM {src})) "
        "AS recency, count(*) AS frequency, sum(amount) AS monetary, min(ordered_at) AS first_purchase, "
        "max(ordered_at) AS last_purchase FROM {src} WHERE amount > 0 GROUP BY customer_id"
    )
    try:
        import duckdb

        typed = (
            f"read_csv('{path}', header=true, columns={{'customer_id': 'VARCHAR', 'ordered_at': 'TIMESTAMP', "
            f"'amount': 'DOUBLE'}})"
        )
        connection = duckdb.connect()

        def duckdb_read() -> None:
            connection.execute(f"CREATE OR REPLACE TABLE t AS SELECT * FROM {typed}")

        def duckdb_aggregate() -> None:
            if not connection.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 't'"
            ).fetchone()[0]:
                duckdb_read()
            connection.execute(query.format(src="t")).to_arrow_table()

        def duckdb_both() -> None:
            connection.execute(query.format(src=typed)).to_arrow_table()

        tools.update(
            {"duckdb read": duckdb_read, "duckdb aggregate": duckdb_aggregate, "duckdb read + aggregate": duckdb_both}
        )
        print(f"duckdb {duckdb.__version__}")
    except ImportError:
        print("duckdb not installed (pip install duckdb): skipped")
    try:
        import polars as pl

        def polars_both() -> None:
            frame = pl.scan_csv(path, schema_overrides={"customer_id": pl.String}).with_columns(
                pl.col("ordered_at").str.to_datetime("%Y-%m-%d %H:%M:%S")
            )
            end = frame.select(pl.col("ordered_at").max().dt.date() + pl.duration(days=1)).collect().item()
            frame.filter(pl.col("amount") > 0).group_by("customer_id").agg(
                recency=(pl.lit(end) - pl.col("ordered_at").max().dt.date()).dt.total_days(),
                frequency=pl.len(),
                monetary=pl.col("amount").sum(),
                first_purchase=pl.col("ordered_at").min(),
                last_purchase=pl.col("ordered_at").max(),
            ).collect()

        tools["polars read + aggregate"] = polars_both
        print(f"polars {pl.__version__}")
    except ImportError:
        pass

    times: dict[str, list[float]] = {name: [] for name in tools}
    order = list(tools)
    for rep in range(args.repeat):
        for name in order[rep % len(order) :] + order[: rep % len(order)]:
            begin = time.perf_counter()
            tools[name]()
            times[name].append(time.perf_counter() - begin)
    medians = {name: statistics.median(values) for name, values in times.items()}
    rfm_table = state.get("rfm")
    if rfm_table is not None:
        print(f"rfmkit: {len(rfm_table):,} customers, dates read as {rfm_table.attrs['rfmkit'].get('date_format')}")
    print(f"\n{'tool':28s} {'median s':>9s} {'min s':>8s}  ratio to rfmkit")
    pairs = {
        "duckdb read": "rfmkit read",
        "duckdb aggregate": "rfmkit rfm",
        "duckdb read + aggregate": "rfmkit read + rfm",
        "polars read + aggregate": "rfmkit read + rfm",
    }
    for name, median in medians.items():
        base = pairs.get(name)
        ratio = f"{median / medians[base]:.2f}x ({base})" if base else ""
        print(f"{name:28s} {median:9.3f} {min(times[name]):8.3f}  {ratio}")
    share = medians["rfmkit read"] / medians["rfmkit read + rfm"]
    print(f"\nrfmkit: reading is {share:.0%} of read + rfm")


if __name__ == "__main__":
    main()
