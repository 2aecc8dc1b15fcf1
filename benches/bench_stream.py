#!/usr/bin/env python
"""RFM from a Parquet file on disk: rfmkit streaming the file against loading it first,
and against polars' streaming engine and duckdb reading the same file.

Usage::

    python benches/bench_stream.py                   # 10M rows, 3 repetitions
    python benches/bench_stream.py --rows 1000000 --repeat 2
    python benches/bench_stream.py --quick           # 200k rows, 1 repetition (smoke check)

What is measured
----------------
The transaction table of ``bench_rfm.py`` (same generator and seed: ``rows / 10``
customers, int ids, datetime64[us], positive amounts) written once to a Parquet file
(row groups of 1M rows) in a temporary folder. Each tool starts from the path:

* ``rfmkit.rfm(path)``: the file read in bounded record batches of the named columns
  into the mergeable customer state (issue 13's streaming input);
* ``rfmkit.rfm(pyarrow.parquet.read_table(path))``: the whole file loaded, then the
  in-memory call;
* polars: ``scan_parquet`` + the RFM group-by, collected with the streaming engine;
* duckdb: the RFM SQL of ``bench_rfm.py`` on ``read_parquet(path)``.

Each result is checked once against the in-memory rfmkit table (sorted by customer;
integers and timestamps exactly, floats to 1e-9 relative), and the streamed rfmkit table
must equal the in-memory one exactly (same rows, same order, same bits).

Time: median of interleaved repetitions. Memory: peak RSS of a fresh subprocess that
runs the tool once, minus its RSS before the call (``/proc/self/clear_refs``), as in
``bench_rfm.py``; the goal is streaming <= 0.5x of loading + in-memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_rfm as common

TOOLS = ("rfmkit_stream", "rfmkit_loaded", "polars_streaming", "duckdb")


def write_file(rows: int, folder: str) -> str:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = os.path.join(folder, f"transactions_{rows}.parquet")
    if not os.path.exists(path):
        table = pa.Table.from_pandas(common.generate(rows, "int"), preserve_index=False)
        pq.write_table(table, path, row_group_size=1 << 20)
    return path


def rfm_stream(path: str) -> pd.DataFrame:
    import rfmkit

    return rfmkit.rfm(path, customer=common.CUSTOMER, date=common.DATE, amount=common.AMOUNT)


def rfm_loaded(path: str) -> pd.DataFrame:
    import pyarrow.parquet as pq

    import rfmkit

    table = pq.read_table(path, columns=[common.CUSTOMER, common.DATE, common.AMOUNT])
    return rfmkit.rfm(table, customer=common.CUSTOMER, date=common.DATE, amount=common.AMOUNT)


def rfm_polars_streaming(path: str) -> pd.DataFrame:
    import polars as pl

    query = common.polars_rfm_query(pl.scan_parquet(path))
    return query.collect(engine="streaming").to_pandas().set_index(common.CUSTOMER)


def rfm_duckdb(path: str) -> pd.DataFrame:
    import duckdb

    sql = common.RFM_SQL.replace("FROM tx", f"FROM read_parquet('{path}') AS tx")
    return duckdb.sql(sql).df().set_index(common.CUSTOMER)


FUNCTIONS: dict[str, Callable[[str], pd.DataFrame]] = {
    "rfmkit_stream": rfm_stream,
    "rfmkit_loaded": rfm_loaded,
    "polars_streaming": rfm_polars_streaming,
    "duckdb": rfm_duckdb,
}


def memory_worker(tool: str, path: str) -> None:
    """Runs in a fresh subprocess; prints one JSON line."""
    import gc
    import resource

    import duckdb  # noqa: F401  (imports outside the measured call)
    import polars  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    import rfmkit  # noqa: F401

    gc.collect()
    common._trim_heap()
    baseline = common._status_kb("VmRSS")
    exact = common._reset_peak()
    if not exact:
        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = FUNCTIONS[tool](path)
    peak = common._status_kb("VmHWM") if exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    del out
    print(json.dumps({"delta_kb": max(peak - baseline, 0), "exact": exact}))


def measure_memory(tool: str, path: str) -> dict | None:
    done = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--memory-worker", tool, path],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print(f"    memory worker {tool} failed: {done.stderr.strip().splitlines()[-1:]}")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def identical(a: pd.DataFrame, b: pd.DataFrame) -> str | None:
    """None when both tables are equal in rows, order, dtypes and bits."""
    if list(a.index) != list(b.index) or list(a.columns) != list(b.columns):
        return "rows or columns differ"
    for column in a.columns:
        x, y = a[column].to_numpy(), b[column].to_numpy()
        if x.dtype != y.dtype:
            return f"{column}: dtype {x.dtype} vs {y.dtype}"
        if x.dtype.kind == "f":
            if not np.array_equal(x.view(np.int64), y.view(np.int64)):
                return f"{column}: bits differ"
        elif not np.array_equal(x, y):
            return f"{column}: values differ"
    if a.attrs.get("rfmkit", {}).get("dropped") != b.attrs.get("rfmkit", {}).get("dropped"):
        return "accounting differs"
    return None


def main() -> None:
    parser = common.one_table_parser(__doc__, rows=10_000_000)
    parser.add_argument("--memory-worker", nargs=2, metavar=("TOOL", "PATH"))
    args = parser.parse_args()
    if args.memory_worker:
        memory_worker(*args.memory_worker)
        return
    if args.quick:
        args.rows, args.repeat = 200_000, 1
    common.machine()
    with tempfile.TemporaryDirectory(prefix="rfmkit-stream-") as folder:
        path = write_file(args.rows, folder)
        print(f"\n== {args.rows:,} rows in {os.path.basename(path)} ({os.path.getsize(path) / 1e6:.0f} MB on disk)")
        reference = rfm_loaded(path)
        streamed = rfm_stream(path)
        problem = identical(streamed, reference)
        print(
            f"  rfmkit streamed vs loaded: {'identical (rows, order, bits, accounting)' if problem is None else 'DIFFERENT: ' + problem}"
        )
        checks = {"rfmkit_stream": "identical" if problem is None else "DIFFERENT", "rfmkit_loaded": "reference"}
        for tool in ("polars_streaming", "duckdb"):
            checks[tool] = common.compare(reference, FUNCTIONS[tool](path), list(reference.columns)) or "ok"
        times = common.time_interleaved(
            {tool: (lambda tool=tool: FUNCTIONS[tool](path)) for tool in TOOLS}, args.repeat
        )
        memory = {tool: measure_memory(tool, path) for tool in TOOLS}
        base_time = float(np.median(times["rfmkit_stream"]))
        loaded_mb = (memory["rfmkit_loaded"] or {}).get("delta_kb", 0) / 1024
        print(f"  {'tool':<18}{'median s':>10}{'ratio':>9}{'min-max s':>16}{'peak MB':>10}{'vs loaded':>11}  check")
        for tool in TOOLS:
            runs = times[tool]
            entry = memory[tool]
            mb = entry["delta_kb"] / 1024 if entry else float("nan")
            share = f"{mb / loaded_mb:.2f}x" if loaded_mb else "-"
            print(
                f"  {tool:<18}{np.median(runs):>10.3f}{np.median(runs) / base_time:>8.2f}x"
                f"{min(runs):>8.3f}-{max(runs):.3f}{mb:>10.0f}{share:>11}  {checks[tool]}"
            )


if __name__ == "__main__":
    main()
