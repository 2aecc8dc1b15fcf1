#!/usr/bin/env python
"""End-to-end benchmark of rfmkit against pandas, polars, duckdb and lifetimes.

Usage::

    python benches/bench_rfm.py                      # 1M and 10M rows, 5 repetitions
    python benches/bench_rfm.py --rows 1000000 --repeat 3
    python benches/bench_rfm.py --quick              # 100k rows, 2 repetitions (smoke check)

What is measured
----------------
Synthetic transaction tables (fixed seed): ``rows / 10`` customers (~1M at 10M rows)
with skewed activity, datetime64[us] timestamps (pandas 3's default unit) over two
years in chronological order, positive float amounts (no nulls, no returns). Every
table exists with int64 customer ids (database-like numbers with gaps) and with string
ids (pandas 3's default ``str`` dtype, Arrow-backed).

Two sections, each a pandas frame in -> a pandas frame (indexed by customer) out:

* RFM: ``rfmkit.rfm`` against the same seven columns (recency, frequency, monetary,
  avg_order_value, first/last purchase, tenure; as_of = day after the last transaction)
  computed with a pandas groupby, polars (lazy group_by) and duckdb SQL on the
  registered pandas frame (``.df()``).
* lifetimes summary: ``rfmkit.clv.summary`` against duckdb SQL computing the same four
  columns and ``lifetimes.utils.summary_data_from_transaction_data``.

The peers implement the definitions for this clean data only (every row is a purchase);
rfmkit also validates every row (nulls, non-finite, zero and negative amounts) and
accounts for it, so the comparison favours the peers.

Polars starts from a polars frame built before timing (``pl.from_pandas``, whose cost is
printed once but not timed); its result is converted to pandas (``to_pandas`` +
``set_index``) inside the timing, like every other tool's. duckdb registers the pandas
frame inside the timing. All tools use their default thread pools (rfmkit: rayon).

Before timing, every peer's output is checked once against rfmkit's (sorted by
customer; integers and timestamps exactly, floats to 1e-9 relative).

Timing is interleaved: each repetition runs every tool once, the starting tool rotating,
and the median over repetitions is reported. Peak memory is measured per tool in a fresh
subprocess: it generates the same data, builds the tool's input, then resets the peak
RSS (``/proc/self/clear_refs``) and runs the tool once; the figure is peak RSS minus the
RSS before the call (it includes the output frame; freed heap is trimmed before). Where the peak cannot be reset, the
fallback is ``ru_maxrss`` minus its value after data generation (marked ``*``); it is
unreliable since ``ru_maxrss`` also holds the peak before data generation and, across
fork + exec, the parent's.

lifetimes is slow on big inputs (~15-30 s a call at 10M rows): above ``--lifetimes-max-rows``
(default 2M) it runs on the rows of a random 100k-customer subset instead, against rfmkit on that same subset (said so in
the output).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

warnings.simplefilter("ignore", FutureWarning)
warnings.simplefilter("ignore", DeprecationWarning)

import rfmkit  # noqa: E402

warnings.simplefilter("ignore", rfmkit.DataQualityWarning)

SEED = 20240601
CUSTOMER, DATE, AMOUNT = "customer_id", "ordered_at", "amount"
RFM_TOOLS = ("rfmkit", "pandas", "polars", "duckdb")
SUMMARY_TOOLS = ("rfmkit", "duckdb", "lifetimes")
SUBSET_CUSTOMERS = 100_000
RFM_COLUMNS = ["recency", "frequency", "monetary", "avg_order_value", "first_purchase", "last_purchase", "tenure"]
SUMMARY_COLUMNS = ["frequency", "recency", "T", "monetary_value"]


# --------------------------------------------------------------------------- data


def generate(n_rows: int, id_kind: str, subset: bool = False) -> pd.DataFrame:
    """The transaction table: deterministic for (n_rows, id_kind, subset)."""
    rng = np.random.default_rng(SEED)
    n_customers = max(n_rows // 10, 1)
    # Skewed activity (density ~ 1/sqrt(rank)); ranks are shuffled so activity is not tied to ids.
    rank = np.minimum((rng.random(n_rows) ** 2 * n_customers).astype(np.int64), n_customers - 1)
    code = rng.permutation(n_customers)[rank]
    del rank
    # Database-like ids: increasing numbers with gaps.
    pool = np.sort(rng.choice(3 * n_customers, size=n_customers, replace=False)).astype(np.int64) + 1_000_000
    start = np.datetime64("2023-01-01T00:00:00", "us").astype(np.int64)
    span_us = 2 * 365 * 86_400 * 1_000_000
    ticks = np.sort(rng.integers(0, span_us, n_rows)) // 1_000_000 * 1_000_000 + start
    amount = np.round(rng.lognormal(3.5, 0.9, n_rows), 2) + 0.01
    if subset:
        # Codes are a random permutation of ranks, so the first codes are random customers.
        keep = code < min(SUBSET_CUSTOMERS, n_customers)
        code, ticks, amount = code[keep], ticks[keep], amount[keep]
    if id_kind == "int":
        ids: Any = pool[code]
    else:
        labels = pa.array(np.char.add("C", pool.astype("U")).astype(object), type=pa.string())
        ids = pd.Series(labels.take(pa.array(code)).to_pandas(), name=CUSTOMER)
        assert isinstance(ids.dtype, pd.StringDtype), ids.dtype
    df = pd.DataFrame({CUSTOMER: ids, DATE: ticks.view("datetime64[us]"), AMOUNT: amount})
    return df


def to_polars(df: pd.DataFrame) -> Any:
    import polars as pl

    return pl.from_pandas(df)


# --------------------------------------------------------------------------- RFM tools


def rfm_rfmkit(df: pd.DataFrame, _: Any) -> pd.DataFrame:
    return rfmkit.rfm(df, customer=CUSTOMER, date=DATE, amount=AMOUNT)


def rfm_pandas(df: pd.DataFrame, _: Any) -> pd.DataFrame:
    as_of = df[DATE].max().normalize() + pd.Timedelta(days=1)
    out = df.groupby(CUSTOMER, sort=False).agg(
        frequency=(AMOUNT, "size"),
        monetary=(AMOUNT, "sum"),
        first_purchase=(DATE, "min"),
        last_purchase=(DATE, "max"),
    )
    out["recency"] = (as_of - out["last_purchase"].dt.normalize()).dt.days
    out["tenure"] = (as_of - out["first_purchase"].dt.normalize()).dt.days
    out["avg_order_value"] = out["monetary"] / out["frequency"]
    return out[RFM_COLUMNS]


def polars_rfm_query(lf: Any) -> Any:
    """The RFM table of a polars LazyFrame of transactions (lazy: collect it your way)."""
    import polars as pl

    as_of = lf.select(as_of=pl.col(DATE).max().dt.truncate("1d") + pl.duration(days=1))
    return (
        lf.group_by(CUSTOMER)
        .agg(
            frequency=pl.len().cast(pl.Int64),
            monetary=pl.col(AMOUNT).sum(),
            first_purchase=pl.col(DATE).min(),
            last_purchase=pl.col(DATE).max(),
        )
        .join(as_of, how="cross")
        .select(
            pl.col(CUSTOMER),
            recency=(pl.col("as_of") - pl.col("last_purchase").dt.truncate("1d")).dt.total_days(),
            frequency=pl.col("frequency"),
            monetary=pl.col("monetary"),
            avg_order_value=pl.col("monetary") / pl.col("frequency"),
            first_purchase=pl.col("first_purchase"),
            last_purchase=pl.col("last_purchase"),
            tenure=(pl.col("as_of") - pl.col("first_purchase").dt.truncate("1d")).dt.total_days(),
        )
    )


def rfm_polars(_: pd.DataFrame, pf: Any) -> pd.DataFrame:
    return polars_rfm_query(pf.lazy()).collect().to_pandas().set_index(CUSTOMER)


RFM_SQL = f"""
WITH bounds AS (SELECT CAST(max({DATE}) AS DATE) + 1 AS as_of FROM tx)
SELECT {CUSTOMER},
       date_diff('day', CAST(max({DATE}) AS DATE), any_value(as_of)) AS recency,
       count(*) AS frequency,
       sum({AMOUNT}) AS monetary,
       sum({AMOUNT}) / count(*) AS avg_order_value,
       min({DATE}) AS first_purchase,
       max({DATE}) AS last_purchase,
       date_diff('day', CAST(min({DATE}) AS DATE), any_value(as_of)) AS tenure
FROM tx CROSS JOIN bounds
GROUP BY {CUSTOMER}
"""


def _duckdb(df: pd.DataFrame, con: Any, sql: str) -> pd.DataFrame:
    con.register("tx", df)
    try:
        out = con.sql(sql).df()
    finally:
        con.unregister("tx")
    return out.set_index(CUSTOMER)


def rfm_duckdb(df: pd.DataFrame, con: Any) -> pd.DataFrame:
    return _duckdb(df, con, RFM_SQL)


# --------------------------------------------------------------------------- summary tools


def summary_rfmkit(df: pd.DataFrame, _: Any) -> pd.DataFrame:
    return rfmkit.clv.summary(df, customer=CUSTOMER, date=DATE, amount=AMOUNT, freq="D")


SUMMARY_SQL = f"""
WITH days AS (
    SELECT {CUSTOMER}, CAST({DATE} AS DATE) AS day, sum({AMOUNT}) AS spend
    FROM tx WHERE {AMOUNT} > 0
    GROUP BY ALL
),
per_customer AS (
    SELECT {CUSTOMER}, count(*) AS n, min(day) AS first_day, max(day) AS last_day,
           sum(spend) AS total, arg_min(spend, day) AS first_spend
    FROM days GROUP BY {CUSTOMER}
),
bounds AS (SELECT CAST(max({DATE}) AS DATE) AS end_day FROM tx)
SELECT {CUSTOMER},
       CAST(n - 1 AS DOUBLE) AS frequency,
       CAST(last_day - first_day AS DOUBLE) AS recency,
       CAST(end_day - first_day AS DOUBLE) AS "T",
       CASE WHEN n > 1 THEN (total - first_spend) / (n - 1) ELSE 0.0 END AS monetary_value
FROM per_customer CROSS JOIN bounds
"""


def summary_duckdb(df: pd.DataFrame, con: Any) -> pd.DataFrame:
    return _duckdb(df, con, SUMMARY_SQL)


def summary_lifetimes(df: pd.DataFrame, _: Any) -> pd.DataFrame:
    from lifetimes.utils import summary_data_from_transaction_data

    return summary_data_from_transaction_data(df, CUSTOMER, DATE, monetary_value_col=AMOUNT, freq="D")


FUNCTIONS: dict[tuple[str, str], Callable[[pd.DataFrame, Any], pd.DataFrame]] = {
    ("rfm", "rfmkit"): rfm_rfmkit,
    ("rfm", "pandas"): rfm_pandas,
    ("rfm", "polars"): rfm_polars,
    ("rfm", "duckdb"): rfm_duckdb,
    ("summary", "rfmkit"): summary_rfmkit,
    ("summary", "duckdb"): summary_duckdb,
    ("summary", "lifetimes"): summary_lifetimes,
}


def setup(tool: str, df: pd.DataFrame) -> Any:
    """The per-tool input built before timing: a polars frame, a duckdb connection."""
    if tool == "polars":
        return to_polars(df)
    if tool == "duckdb":
        import duckdb

        return duckdb.connect()
    if tool == "lifetimes":
        import lifetimes.utils  # noqa: F401  (import cost is not part of the call)
    return None


# --------------------------------------------------------------------------- checks


def _sorted(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    frame = frame[columns].copy()
    frame.index = pd.Index(np.asarray(frame.index.astype(str) if frame.index.dtype != np.int64 else frame.index))
    return frame.sort_index()


def compare(reference: pd.DataFrame, other: pd.DataFrame, columns: list[str]) -> str | None:
    """None when `other` has the same rows and values as `reference`, else what differs."""
    ref, got = _sorted(reference, columns), _sorted(other, columns)
    if len(ref) != len(got):
        return f"{len(got)} rows instead of {len(ref)}"
    if not np.array_equal(ref.index.to_numpy(), got.index.to_numpy()):
        return "different customers"
    for column in columns:
        a, b = ref[column], got[column]
        if pd.api.types.is_datetime64_any_dtype(a.dtype):
            ok = np.array_equal(a.to_numpy().astype("datetime64[us]"), b.to_numpy().astype("datetime64[us]"))
        elif pd.api.types.is_integer_dtype(a.dtype) and pd.api.types.is_integer_dtype(b.dtype):
            ok = np.array_equal(a.to_numpy(), b.to_numpy())
        else:
            ok = np.allclose(a.to_numpy(dtype=float), b.to_numpy(dtype=float), rtol=1e-9, atol=1e-9)
        if not ok:
            return f"column {column!r} differs"
    return None


# --------------------------------------------------------------------------- memory


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _trim_heap() -> None:
    """Gives freed heap memory back to the OS, so that memory left free by data generation
    does not absorb part of the tool's peak."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def memory_worker(section: str, tool: str, rows: int, id_kind: str, subset: bool) -> None:
    """Runs in a fresh subprocess; prints one JSON line."""
    df = generate(rows, id_kind, subset)
    state = setup(tool, df)
    function = FUNCTIONS[(section, tool)]
    gc.collect()
    _trim_heap()
    baseline = _status_kb("VmRSS")
    exact = _reset_peak()
    if not exact:
        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = function(df, state)
    # Not ru_maxrss when the peak could be reset: across fork/vfork + exec the kernel carries
    # the parent's peak into the child's ru_maxrss, so it would report the parent's size.
    peak = _status_kb("VmHWM") if exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    del out
    print(json.dumps({"baseline_kb": baseline, "peak_kb": peak, "delta_kb": max(peak - baseline, 0), "exact": exact}))


def measure_memory(section: str, tool: str, rows: int, id_kind: str, subset: bool) -> dict | None:
    command = [sys.executable, os.path.abspath(__file__), "--memory-worker", section, tool, str(rows), id_kind]
    if subset:
        command.append("--subset")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"    memory worker {section}/{tool} failed: {done.stderr.strip().splitlines()[-1:]}")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- timing


def time_interleaved(calls: dict[str, Callable[[], Any]], repeat: int) -> dict[str, list[float]]:
    names = list(calls)
    times: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(repeat):
        order = names[rep % len(names) :] + names[: rep % len(names)]
        for name in order:
            gc.collect()
            start = time.perf_counter()
            out = calls[name]()
            times[name].append(time.perf_counter() - start)
            del out
    return times


def fmt_seconds(seconds: float) -> str:
    return f"{seconds:.3f}" if seconds < 100 else f"{seconds:.1f}"


def fmt_mb(entry: dict | None) -> str:
    if entry is None:
        return "n/a"
    return f"{entry['delta_kb'] / 1024:.0f}" + ("" if entry["exact"] else "*")


def run_section(
    section: str,
    label: str,
    df: pd.DataFrame,
    rows: int,
    id_kind: str,
    tools: tuple[str, ...],
    repeat: int,
    memory: bool,
    subset: bool = False,
) -> dict[str, dict]:
    """Checks, times and measures `tools` on `df`; prints the table rows; returns the results."""
    columns = RFM_COLUMNS if section == "rfm" else SUMMARY_COLUMNS
    states = {tool: setup(tool, df) for tool in tools}
    calls = {tool: (lambda f=FUNCTIONS[(section, tool)], s=states[tool]: f(df, s)) for tool in tools}
    # One checked run per tool, which is also the warm-up.
    reference = calls["rfmkit"]()
    status: dict[str, str] = {"rfmkit": "reference"}
    for tool in tools[1:]:
        problem = compare(reference, calls[tool](), columns)
        status[tool] = "ok" if problem is None else f"MISMATCH: {problem}"
    del reference
    times = time_interleaved(calls, repeat)
    results: dict[str, dict] = {}
    for tool in tools:
        results[tool] = {"median": statistics.median(times[tool]), "times": times[tool], "check": status[tool]}
        results[tool]["memory"] = measure_memory(section, tool, rows, id_kind, subset) if memory else None
    base = results["rfmkit"]["median"]
    for tool in tools:
        r = results[tool]
        spread = f"{min(r['times']):.3f}-{max(r['times']):.3f}"
        print(
            f"  {label:<24} {tool:<10} {fmt_seconds(r['median']):>9} {r['median'] / base:>8.2f}x"
            f" {spread:>15} {fmt_mb(r['memory']):>9}  {r['check']}"
        )
    return results


# --------------------------------------------------------------------------- reports


def one_table_parser(doc: str, rows: int) -> argparse.ArgumentParser:
    """The options of a bench of one table (``bench_stream``, ``bench_distributed``):
    ``--rows`` (default `rows`), ``--repeat`` (default 3) and ``--quick`` (the bench runs
    200k rows once); the description is the first paragraph of `doc`."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=rows)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    return parser


def machine() -> None:
    import duckdb
    import lifetimes
    import polars as pl

    cpu = "?"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem_gb = float("nan")
    print("machine")
    print(f"  cpu: {cpu}; nproc {len(os.sched_getaffinity(0))} (cpu_count {os.cpu_count()}); RAM {mem_gb:.1f} GiB")
    load = os.getloadavg()
    print(f"  load average at start: {' '.join(f'{x:.2f}' for x in load)}")
    if load[0] > 0.5 * len(os.sched_getaffinity(0)):
        print("  WARNING: the machine is busy; timings are noisy (see the min-max column)")
    print(f"  {platform.platform()}; Python {platform.python_version()}")
    print(
        f"  rfmkit {rfmkit.__version__} ({os.path.dirname(rfmkit.__file__)}), numpy {np.__version__}, "
        f"pandas {pd.__version__}, pyarrow {pa.__version__}, polars {pl.__version__}, "
        f"duckdb {duckdb.__version__}, lifetimes {lifetimes.__version__}"
    )
    threads = duckdb.connect().sql("SELECT current_setting('threads')").fetchall()[0][0]
    print(
        f"  threads: rayon {os.environ.get('RAYON_NUM_THREADS', 'default (= nproc)')}, "
        f"polars {pl.thread_pool_size()}, duckdb {threads}, pandas 1"
    )


def describe(df: pd.DataFrame, label: str) -> None:
    print(
        f"  {label}: {len(df):,} rows, {df[CUSTOMER].nunique():,} customers, "
        f"{df[DATE].min().date()} .. {df[DATE].max().date()}, dtypes "
        + ", ".join(f"{c}={t}" for c, t in df.dtypes.astype(str).items())
    )


def breakdown(df: pd.DataFrame, repeat: int) -> list[str]:
    """Where rfmkit's time goes: the Python front (private API) against the Rust core."""
    try:
        from rfmkit import _core
        from rfmkit._io import columns as _columns
    except ImportError:
        return ["    (breakdown unavailable: rfmkit internals changed)"]
    try:
        prepared = _columns.prepare(df, customer=CUSTOMER, date=DATE, amount=AMOUNT, ids_as_they_are=True)
        policy = {"zero": "drop", "returns": "net", "invalid": "drop"}
        rfm_result = _core.rfm_ids(prepared.table, prepared.raw_ids, as_of_day=None, window=None, **policy)
        coded = _columns.prepare(df, customer=CUSTOMER, date=DATE, amount=AMOUNT)
        summary_policy = {"zero": "drop", "returns": "drop", "invalid": "drop"}
        summary_result = _core.summary(
            coded.table, freq="D", observation_end=None, include_first_transaction=False, **summary_policy
        )
        column = _columns.Column(CUSTOMER, "pandas", df[CUSTOMER])

        def build() -> Any:
            prepared.customers.first_rows = rfm_result["first_rows"]
            columns = {
                "recency": rfm_result["recency"],
                "first_purchase": prepared.times.take(rfm_result["first_row"]),
                "last_purchase": prepared.times.take(rfm_result["last_row"]),
            }
            return _columns.build(prepared, rfm_result["customer"], columns, {})

        calls = {
            "rfmkit.rfm (whole)": lambda: rfm_rfmkit(df, None),
            "  prepare (all columns)": lambda: _columns.prepare(
                df, customer=CUSTOMER, date=DATE, amount=AMOUNT, ids_as_they_are=True
            ),
            "    of which the ids": lambda: _columns.raw_ids(column),
            "  _core.rfm_ids (classify, aggregate, finish)": lambda: _core.rfm_ids(
                prepared.table, prepared.raw_ids, as_of_day=None, window=None, **policy
            ),
            "  build output (3 columns)": build,
            "rfmkit.clv.summary (whole)": lambda: summary_rfmkit(df, None),
            "  _core.summary": lambda: _core.summary(
                coded.table, freq="D", observation_end=None, include_first_transaction=False, **summary_policy
            ),
        }
        del summary_result
    except Exception as error:  # noqa: BLE001 - private API: report and go on
        return [f"    (breakdown unavailable: {type(error).__name__}: {error})"]
    times = time_interleaved(calls, repeat)
    return [f"    {name:<46} {statistics.median(values):.3f} s" for name, values in times.items()]


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def targets(id_kind: str, rfm: dict, summary: dict, lifetimes_pair: dict) -> None:
    """`lifetimes_pair`: rfmkit's and lifetimes' results on the same rows."""
    base = rfm["rfmkit"]["median"]
    fastest = min(("polars", "duckdb"), key=lambda t: rfm[t]["median"])
    speedup = rfm[fastest]["median"] / base
    need = 3.0 if id_kind == "int" else 2.0
    print(
        f"    RFM: {speedup:.2f}x faster than the fastest of polars/duckdb ({fastest}); target >= {need:g}x: {verdict(speedup >= need)}"
    )
    memory = {t: rfm[t]["memory"] for t in ("rfmkit", "pandas")}
    if all(memory.values()):
        mine, theirs = memory["rfmkit"]["delta_kb"], memory["pandas"]["delta_kb"]
        print(
            f"    RFM peak memory: rfmkit {mine / 1024:.0f} MB vs pandas {theirs / 1024:.0f} MB; target below pandas: {verdict(mine < theirs)}"
        )
    duck = summary["duckdb"]["median"] / summary["rfmkit"]["median"]
    print(f"    summary: {duck:.2f}x faster than duckdb; target >= 5x: {verdict(duck >= 5)}")
    ratio = lifetimes_pair["lifetimes"]["median"] / lifetimes_pair["rfmkit"]["median"]
    print(f"    summary: {ratio:.1f}x faster than lifetimes; target >= 20x: {verdict(ratio >= 20)}")
    memory = {t: lifetimes_pair[t]["memory"] for t in ("rfmkit", "lifetimes")}
    if all(memory.values()):
        mine, theirs = memory["rfmkit"]["delta_kb"], memory["lifetimes"]["delta_kb"]
        print(
            f"    summary peak memory: rfmkit {mine / 1024:.0f} MB vs lifetimes (pandas) {theirs / 1024:.0f} MB: {verdict(mine < theirs)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", help="comma-separated row counts (default 1000000,10000000)")
    parser.add_argument("--repeat", type=int, help="repetitions per tool (default 5)")
    parser.add_argument("--quick", action="store_true", help="100k rows, 2 repetitions: a smoke check")
    parser.add_argument("--ids", default="int,str", help="id kinds to run: int, str or both (default)")
    parser.add_argument("--no-memory", action="store_true", help="skip the per-tool memory subprocesses")
    parser.add_argument("--no-breakdown", action="store_true", help="skip the rfmkit time breakdown")
    parser.add_argument(
        "--lifetimes-max-rows",
        type=int,
        default=2_000_000,
        help=f"above this, lifetimes runs on a {SUBSET_CUSTOMERS:,}-customer subset (default 2000000)",
    )
    parser.add_argument("--memory-worker", nargs=4, metavar=("SECTION", "TOOL", "ROWS", "IDS"), help=argparse.SUPPRESS)
    parser.add_argument("--subset", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.memory_worker:
        section, tool, rows, id_kind = args.memory_worker
        memory_worker(section, tool, int(rows), id_kind, args.subset)
        return

    rows_list = [int(r) for r in (args.rows or ("100000" if args.quick else "1000000,10000000")).split(",")]
    repeat = args.repeat or (2 if args.quick else 5)
    id_kinds = [k.strip() for k in args.ids.split(",")]
    memory = not args.no_memory
    started = time.perf_counter()

    machine()
    print(f"  repetitions {repeat} (median reported, interleaved round-robin), seed {SEED}")
    print()
    header = f"  {'dataset':<24} {'tool':<10} {'median s':>9} {'ratio':>9} {'min-max s':>15} {'peak MB':>9}  check"
    note = (
        "  ratio = tool time / rfmkit time (> 1: rfmkit is faster); peak MB = peak RSS of one call minus RSS before it"
    )
    for rows in rows_list:
        for id_kind in id_kinds:
            label = f"{rows / 1e6:g}M rows, {id_kind} ids"
            df = generate(rows, id_kind)
            print(f"== {label}")
            describe(df, "data")
            if "polars" in RFM_TOOLS:
                start = time.perf_counter()
                to_polars(df)
                print(f"  (pl.from_pandas, not timed below: {time.perf_counter() - start:.3f} s)")
            print(" RFM")
            print(header)
            rfm = run_section("rfm", label, df, rows, id_kind, RFM_TOOLS, repeat, memory)
            print(" lifetimes summary")
            print(header)
            if rows > args.lifetimes_max_rows:
                summary = run_section("summary", label, df, rows, id_kind, SUMMARY_TOOLS[:2], repeat, memory)
                pieces = [] if args.no_breakdown else breakdown(df, repeat)
                del df
                gc.collect()
                sub = generate(rows, id_kind, subset=True)
                sub_label = f"{SUBSET_CUSTOMERS // 1000}k-cust subset"
                print(
                    f"  lifetimes is not run on all {rows:,} rows (--lifetimes-max-rows {args.lifetimes_max_rows:,}): "
                    f"it runs on the {len(sub):,} rows of {SUBSET_CUSTOMERS:,} random customers, against rfmkit on the same rows"
                )
                subset_results = run_section(
                    "summary", sub_label, sub, rows, id_kind, ("rfmkit", "lifetimes"), repeat, memory, subset=True
                )
                lifetimes_pair = subset_results
                df = sub
            else:
                summary = run_section("summary", label, df, rows, id_kind, SUMMARY_TOOLS, repeat, memory)
                lifetimes_pair = summary
                pieces = [] if args.no_breakdown else breakdown(df, repeat)
            print(note)
            print(" targets")
            targets(id_kind, rfm, summary, lifetimes_pair)
            if pieces:
                print(" rfmkit breakdown (medians; prepare = ids + timestamps + amounts to numpy, private API)")
                print("\n".join(pieces))
            del df
            gc.collect()
            print()
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"total wall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
