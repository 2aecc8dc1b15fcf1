#!/usr/bin/env python
"""Benchmark: scoring and segmenting an RFM table with rfmkit against pandas (and polars).

Usage::

    python benches/bench_scores.py                     # 1M customers, 7 repetitions
    python benches/bench_scores.py --customers 200000 --repeat 3
    python benches/bench_scores.py --quick             # 100k customers, 3 repetitions

What is measured
----------------
A synthetic RFM table (fixed seed) of ``--customers`` rows indexed by string customer
ids, shaped like `rfmkit.rfm`'s output: integer recency 1..730 days, geometric
frequency (mostly 1-3: heavy ties), lognormal monetary. Every tool starts from this
pandas frame and returns a pandas frame with the scores (and the segment).

* ``rfmkit score``: ``rfmkit.score(table)`` (balanced quantile scores, the default:
  an exact dynamic programme over the distinct values; rfm_code, rfm_score) - and
  ``+ segment``: then ``rfmkit.segment(scored, "rfm11")``.
* ``rfmkit mid-rank score + segment``: the same with ``method="midrank"`` (the older
  rule, which the pandas and polars mid-rank peers implement); the balanced rule must
  stay within 2x of it (issue 11).
* ``pandas qcut``: the scoring of the usual tutorials, ``pd.qcut(col.rank(method="first"),
  5, labels=...)`` for R, F and M (ties split by row order), the code by string
  concatenation, the sum; ``+ segment``: then the tutorials' R-F regex map (rfm10).
* ``pandas mid-rank``: rfmkit's exact definitions written with vectorised pandas/numpy
  (``rank(method="average")``, the integer floor formula, a categorical code, rfm11 by
  a 5x5 lookup grid) - the fastest pandas implementation of the same result; its
  output is checked equal to rfmkit's before timing.
* ``polars mid-rank`` (when polars is installed): the same definitions in polars
  expressions, starting from a polars frame built before timing, output converted to
  pandas inside the timing.

Timing is interleaved: each repetition runs every tool once, the starting tool rotating;
the median over repetitions is reported, with the ratio to rfmkit's median. All tools
use their default threads (rfmkit: rayon on all cores).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

warnings.simplefilter("ignore", FutureWarning)

import rfmkit  # noqa: E402

SEED = 20240607
RFM11_GRID = np.array(
    [  # rows R = 1..5, columns FM = 1..5: label index of rfmkit's rfm11 categories
        [10, 9, 7, 8, 8],
        [6, 5, 5, 7, 7],
        [4, 5, 5, 1, 1],
        [3, 2, 1, 0, 0],
        [3, 2, 1, 0, 0],
    ]
)
RFM11 = rfmkit._segments.labels("rfm11")  # the peers' segments carry rfmkit's labels
RFM10_MAP = {
    r"[1-2][1-2]": "hibernating",
    r"[1-2][3-4]": "at risk",
    r"[1-2]5": "can't lose",
    r"3[1-2]": "about to sleep",
    r"33": "need attention",
    r"[3-4][4-5]": "loyal customers",
    r"41": "promising",
    r"51": "new customers",
    r"[4-5][2-3]": "potential loyalists",
    r"5[4-5]": "champions",
}


def generate(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    frequency = rng.geometric(0.45, n)
    monetary = np.round(rng.lognormal(3.8, 1.0, n) * frequency, 2)
    return pd.DataFrame(
        {"recency": rng.integers(1, 731, n), "frequency": frequency, "monetary": monetary},
        index=pd.Index(np.char.add("C", np.arange(n).astype("U")), name="customer_id"),
    )


# --------------------------------------------------------------------------- tools


def rfmkit_score(table: pd.DataFrame) -> pd.DataFrame:
    return rfmkit.score(table)


def rfmkit_score_segment(table: pd.DataFrame) -> pd.DataFrame:
    return rfmkit.segment(rfmkit.score(table), "rfm11")


def rfmkit_midrank_score_segment(table: pd.DataFrame) -> pd.DataFrame:
    return rfmkit.segment(rfmkit.score(table, method="midrank"), "rfm11")


def qcut_score(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    out["r_score"] = pd.qcut(out["recency"].rank(method="first"), 5, labels=[5, 4, 3, 2, 1]).astype(int)
    out["f_score"] = pd.qcut(out["frequency"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5]).astype(int)
    out["m_score"] = pd.qcut(out["monetary"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5]).astype(int)
    out["rfm_code"] = out["r_score"].astype(str) + out["f_score"].astype(str) + out["m_score"].astype(str)
    out["rfm_score"] = out["r_score"] + out["f_score"] + out["m_score"]
    return out


def qcut_score_segment(table: pd.DataFrame) -> pd.DataFrame:
    out = qcut_score(table)
    out["segment"] = (out["r_score"].astype(str) + out["f_score"].astype(str)).replace(RFM10_MAP, regex=True)
    return out


def _midrank(values: pd.Series, bins: int, lower_is_better: bool) -> np.ndarray:
    x = -values if lower_is_better else values
    twice_rank_minus_one = (2 * x.rank(method="average").to_numpy() - 1).astype(np.int64)
    return twice_rank_minus_one * bins // (2 * len(x)) + 1


CODES = [f"{r}{f}{m}" for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)]


def pandas_midrank_score_segment(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    r = _midrank(out["recency"], 5, True)
    f = _midrank(out["frequency"], 5, False)
    m = _midrank(out["monetary"], 5, False)
    out["r_score"], out["f_score"], out["m_score"] = r, f, m
    out["rfm_code"] = pd.Categorical.from_codes((r - 1) * 25 + (f - 1) * 5 + (m - 1), categories=CODES)
    out["rfm_score"] = r + f + m
    fm = (f + m + 1) // 2
    out["segment"] = pd.Categorical.from_codes(RFM11_GRID[r - 1, fm - 1], categories=RFM11, ordered=True)
    return out


def polars_midrank_score_segment(frame: Any, index_name: str) -> pd.DataFrame:
    import polars as pl

    n = frame.height

    def midrank(column: str, lower_is_better: bool) -> Any:
        expr = pl.col(column)
        if lower_is_better:
            expr = -expr
        return ((expr.rank("average") * 2 - 1).cast(pl.Int64) * 5 // (2 * n) + 1).alias(column[0] + "_score")

    out = frame.with_columns(midrank("recency", True), midrank("frequency", False), midrank("monetary", False))
    out = out.with_columns(
        ((pl.col("r_score") - 1) * 25 + (pl.col("f_score") - 1) * 5 + (pl.col("m_score") - 1)).alias("code"),
        (pl.col("r_score") + pl.col("f_score") + pl.col("m_score")).alias("rfm_score"),
        ((pl.col("f_score") + pl.col("m_score") + 1) // 2).alias("fm"),
    )
    result = out.to_pandas().set_index(index_name)
    r, fm = result["r_score"].to_numpy(), result.pop("fm").to_numpy()
    result["rfm_code"] = pd.Categorical.from_codes(result.pop("code").to_numpy(), categories=CODES)
    result["segment"] = pd.Categorical.from_codes(RFM11_GRID[r - 1, fm - 1], categories=RFM11, ordered=True)
    return result


# --------------------------------------------------------------------------- harness


def check(table: pd.DataFrame, polars_frame: Any) -> None:
    want = rfmkit_midrank_score_segment(table)
    peers = {"pandas mid-rank": pandas_midrank_score_segment(table)}
    if polars_frame is not None:
        peers["polars mid-rank"] = polars_midrank_score_segment(polars_frame, table.index.name)
    for name, table_of_peer in peers.items():
        got = table_of_peer.loc[want.index]
        for column in ["r_score", "f_score", "m_score", "rfm_score"]:
            np.testing.assert_array_equal(got[column].to_numpy(), want[column].to_numpy(), err_msg=f"{name} {column}")
        assert got["rfm_code"].astype(str).tolist() == want["rfm_code"].astype(str).tolist(), name
        assert got["segment"].astype(str).tolist() == want["segment"].astype(str).tolist(), name
    print("check: pandas/polars mid-rank scores, codes and rfm11 segments equal rfmkit's (method='midrank')")


def run(tools: dict[str, Callable[[], Any]], repeat: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in tools}
    names = list(tools)
    for rep in range(repeat):
        rotation = names[rep % len(names) :] + names[: rep % len(names)]
        for name in rotation:
            start = time.perf_counter()
            tools[name]()
            times[name].append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="100k customers, 3 repetitions")
    args = parser.parse_args()
    if args.quick:
        args.customers, args.repeat = 100_000, 3
    print(
        f"rfmkit {rfmkit.__version__}, pandas {pd.__version__}, numpy {np.__version__}, python {platform.python_version()}, {os.cpu_count()} cpus"
    )
    table = generate(args.customers)
    try:
        import polars as pl

        polars_frame = pl.from_pandas(table.reset_index())
        print(f"polars {pl.__version__}")
    except ImportError:
        polars_frame = None
    print(f"{args.customers:,} customers, {args.repeat} interleaved repetitions (median)")
    check(table, polars_frame)
    tools: dict[str, Callable[[], Any]] = {
        "rfmkit score": lambda: rfmkit_score(table),
        "rfmkit score + segment": lambda: rfmkit_score_segment(table),
        "rfmkit mid-rank score + segment": lambda: rfmkit_midrank_score_segment(table),
        "pandas qcut score": lambda: qcut_score(table),
        "pandas qcut score + segment": lambda: qcut_score_segment(table),
        "pandas mid-rank score + segment": lambda: pandas_midrank_score_segment(table),
    }
    if polars_frame is not None:
        tools["polars mid-rank score + segment"] = lambda: polars_midrank_score_segment(polars_frame, "customer_id")
    times = run(tools, args.repeat)
    medians = {name: statistics.median(values) for name, values in times.items()}
    print()
    print(f"{'tool':34s} {'median s':>9s} {'min s':>8s} {'max s':>8s}  ratio")
    for name, median in medians.items():
        if "mid-rank" in name:
            base_name = "rfmkit mid-rank score + segment"
        else:
            base_name = "rfmkit score" if "segment" not in name else "rfmkit score + segment"
        base = medians[base_name]
        ratio = "1.0x (base)" if name == base_name else f"{median / base:.1f}x {base_name}"
        print(f"{name:34s} {median:9.3f} {min(times[name]):8.3f} {max(times[name]):8.3f}  {ratio}")
    target = medians["pandas qcut score"] / medians["rfmkit score + segment"]
    cost = medians["rfmkit score + segment"] / medians["rfmkit mid-rank score + segment"]
    print(
        f"\nissue 11 target (balanced score + segment within 2x of the mid-rank rule): {cost:.2f}x "
        f"-> {'met' if cost <= 2 else 'NOT met'} in this run"
    )
    print(
        f"issue 3 target (rfmkit score + segment vs pandas qcut score alone, >= 10x): {target:.1f}x "
        f"-> {'met' if target >= 10 else 'NOT met'} in this run"
    )


if __name__ == "__main__":
    main()
