#!/usr/bin/env python
"""RFM on Spark (local mode) and Dask against their hand-written equivalents and one
machine, on the same Parquet file.

Usage::

    python benches/bench_distributed.py                  # 5M rows, 3 repetitions
    python benches/bench_distributed.py --rows 1000000 --repeat 2
    python benches/bench_distributed.py --quick          # 200k rows, 1 repetition

What is measured
----------------
The transaction table of ``bench_rfm.py`` (same generator: ``rows / 10`` customers, int
ids, timestamps, positive amounts) written once to a Parquet file. Each tool starts from
a DataFrame reading that file and ends with the customer table materialised:

* ``rfmkit.spark.rfm`` (local[2], 8 buckets, session time zone UTC; the result
  counted), against Spark SQL's group-by computing the same seven columns, and against
  moving the rows to Python through ``mapInArrow`` without doing anything with them
  (the floor of any engine that runs in Python on Spark);
* ``rfmkit.dask.rfm`` (4 partitions; computed), against a dask group-by computing them;
* ``rfmkit.rfm`` on the file loaded in memory, for reference;
* the BTYD summary (``freq="D"``) the same three ways (no hand-written peer: its
  distinct purchase days and repeat spend are what the engine is for).

Every result is checked once against ``rfmkit.rfm`` (sorted by customer; integers and
timestamps exactly, floats to 1e-9 relative; rfmkit's own results bit for bit). Times
are medians of interleaved repetitions after one warm-up run; Spark's start-up is not
timed. Ratios are against rfmkit on the same framework (> 1: rfmkit is faster).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
import bench_rfm as common
import rfmkit
import rfmkit.dask
import rfmkit.spark
from local_spark import local_spark

CUSTOMER, DATE, AMOUNT = common.CUSTOMER, common.DATE, common.AMOUNT
COLUMNS = dict(customer=CUSTOMER, date=DATE, amount=AMOUNT)


def spark_sql_rfm(sdf: Any) -> Any:
    from pyspark.sql import functions as F

    as_of = sdf.agg(F.date_add(F.to_date(F.max(DATE)), 1).alias("as_of"))
    grouped = sdf.groupBy(CUSTOMER).agg(
        F.count(F.lit(1)).alias("frequency"),
        F.sum(AMOUNT).alias("monetary"),
        F.min(DATE).alias("first_purchase"),
        F.max(DATE).alias("last_purchase"),
    )
    return grouped.crossJoin(as_of).select(
        CUSTOMER,
        F.datediff("as_of", F.to_date("last_purchase")).cast("long").alias("recency"),
        "frequency",
        "monetary",
        (F.col("monetary") / F.col("frequency")).alias("avg_order_value"),
        "first_purchase",
        "last_purchase",
        F.datediff("as_of", F.to_date("first_purchase")).cast("long").alias("tenure"),
    )


def dask_rfm(ddf: Any) -> pd.DataFrame:
    as_of = ddf[DATE].max().compute().normalize() + pd.Timedelta(days=1)
    out = (
        ddf.groupby(CUSTOMER)
        .agg(
            frequency=(AMOUNT, "count"),
            monetary=(AMOUNT, "sum"),
            first_purchase=(DATE, "min"),
            last_purchase=(DATE, "max"),
        )
        .compute()
    )
    out["recency"] = (as_of - out["last_purchase"].dt.normalize()).dt.days
    out["tenure"] = (as_of - out["first_purchase"].dt.normalize()).dt.days
    out["avg_order_value"] = out["monetary"] / out["frequency"]
    return out[common.RFM_COLUMNS]


def _count_rows(batches: Any) -> Any:
    import pyarrow as pa

    yield pa.RecordBatch.from_pydict({"rows": [sum(batch.num_rows for batch in batches)]})


def check(reference: pd.DataFrame, other: pd.DataFrame, exact: bool) -> str:
    other = other.copy()
    for column in ("first_purchase", "last_purchase"):
        if getattr(other[column].dt, "tz", None) is not None:
            other[column] = other[column].dt.tz_localize(None)
    other.index = other.index.astype(np.int64)
    if exact:
        a = reference.sort_index()
        b = other.sort_index()[list(reference.columns)]
        same = a.index.equals(b.index) and all(
            np.array_equal(np.asarray(a[c]).astype(np.asarray(b[c]).dtype), np.asarray(b[c])) for c in a.columns
        )
        return "bit for bit" if same else "DIFFERS"
    problem = common.compare(reference, other, common.RFM_COLUMNS)
    return "ok" if problem is None else f"DIFFERS: {problem}"


def timed(calls: dict[str, Callable[[], Any]], repeat: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():  # warm-up
        call()
    for _ in range(repeat):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = common.one_table_parser(__doc__, rows=5_000_000)
    args = parser.parse_args()
    rows, repeat = (200_000, 1) if args.quick else (args.rows, args.repeat)
    warnings.simplefilter("ignore")
    import dask
    import dask.dataframe as dd
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "transactions.parquet")
        data = common.generate(rows, "int")
        data.to_parquet(path, row_group_size=1 << 20, index=False)
        print(f"{rows:,} rows, {data[CUSTOMER].nunique():,} customers, {os.cpu_count()} cores; Parquet {path}")
        del data
        reference = rfmkit.rfm(pq.read_table(path).to_pandas(), **COLUMNS)

        spark = local_spark("rfmkit-bench", partitions=8, memory="6g")
        sdf = spark.read.parquet(path)

        def spark_rfmkit() -> Any:
            table, _ = rfmkit.spark.rfm(sdf, **COLUMNS, partitions=8)
            table.count()
            table.unpersist()
            return table

        def spark_sql() -> Any:
            return spark_sql_rfm(sdf).write.format("noop").mode("overwrite").save()

        def spark_rows_to_python() -> Any:
            # The floor of any engine that runs in Python on Spark: the rows moved to the
            # Python workers as Arrow batches, and nothing done with them.
            return sdf.select(CUSTOMER, DATE, AMOUNT).mapInArrow(_count_rows, "rows long").collect()

        ddf = dd.read_parquet(path, split_row_groups=True)
        ddf = ddf.repartition(npartitions=4)

        def dask_rfmkit() -> pd.DataFrame:
            table, _ = rfmkit.dask.rfm(ddf, **COLUMNS, partitions=4)
            return table.compute()

        def one_machine() -> pd.DataFrame:
            return rfmkit.rfm(pq.read_table(path).to_pandas(), **COLUMNS)

        def spark_summary() -> Any:
            table, _ = rfmkit.spark.summary(sdf, **COLUMNS, freq="D", partitions=8)
            table.count()
            table.unpersist()
            return table

        def dask_summary() -> pd.DataFrame:
            table, _ = rfmkit.dask.summary(ddf, **COLUMNS, freq="D", partitions=4)
            return table.compute()

        def one_machine_summary() -> pd.DataFrame:
            return rfmkit.clv.summary(pq.read_table(path).to_pandas(), **COLUMNS, freq="D")

        table, _ = rfmkit.spark.rfm(sdf, **COLUMNS, partitions=8)
        print(
            "  checks: rfmkit.spark",
            check(reference, table.toPandas().set_index(CUSTOMER), exact=True),
            "| Spark SQL",
            check(reference, spark_sql_rfm(sdf).toPandas().set_index(CUSTOMER), exact=False),
            "| rfmkit.dask",
            check(reference, dask_rfmkit(), exact=True),
            "| dask group-by",
            check(reference, dask_rfm(ddf), exact=False),
        )
        table.unpersist()
        with dask.config.set(scheduler="threads"):
            times = timed(
                {
                    "rfmkit.spark.rfm": spark_rfmkit,
                    "Spark SQL group-by": spark_sql,
                    "Spark rows to Python only": spark_rows_to_python,
                    "rfmkit.dask.rfm": dask_rfmkit,
                    "dask group-by": lambda: dask_rfm(ddf),
                    "rfmkit.rfm (file loaded)": one_machine,
                    "rfmkit.spark.summary": spark_summary,
                    "rfmkit.dask.summary": dask_summary,
                    "rfmkit.clv.summary (file loaded)": one_machine_summary,
                },
                repeat,
            )
        medians = {name: statistics.median(values) for name, values in times.items()}
        print(f"  {'tool':28s} {'median s':>9s} {'min-max s':>14s} {'ratio':>7s}")
        pairs = {"Spark SQL group-by": "rfmkit.spark.rfm", "dask group-by": "rfmkit.dask.rfm"}
        for name, values in times.items():
            ratio = f"{medians[name] / medians[pairs[name]]:.2f}x" if name in pairs else ""
            print(f"  {name:28s} {medians[name]:9.3f} {min(values):6.3f}-{max(values):6.3f} {ratio:>7s}")
        print("  ratio = peer time / rfmkit time on the same framework (> 1: rfmkit is faster)")
        spark.stop()


if __name__ == "__main__":
    main()
