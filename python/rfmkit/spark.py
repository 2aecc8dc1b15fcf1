"""rfmkit on Spark: the RFM table, the BTYD summary and the calibration/holdout split of
a Spark DataFrame of transactions, equal bit for bit to `rfmkit.rfm`,
`rfmkit.clv.summary` and `rfmkit.clv.calibration_holdout` on the same rows.

Needs ``pip install 'rfmkit[spark]'`` (pyspark >= 3.5; Arrow-based, no Python UDFs row
by row). How it works (`rfmkit._distributed`): every input partition aggregates its
rows into the engine's per-customer state and splits it into buckets by customer
(``mapInArrow``); the buckets are repartitioned (a state is a few numbers per customer,
not the rows), merged and finished where they land, told the last valid date of all
the rows. Each call computes its result and keeps it cached
(``result.table.unpersist()`` frees it), so that the accounting can be returned with it.

Dates: timestamp and date columns are read as Spark gives them, on the session's time
zone (``spark.sql.session.timeZone``): days are counted on that zone's calendar, so pin
it (e.g. to ``UTC``, or to the zone of the business) for results that do not depend on
the cluster's default. Text dates need ``date_format=``.

Examples
--------
>>> from pyspark.sql import SparkSession                      # doctest: +SKIP
>>> spark = SparkSession.builder.getOrCreate()                # doctest: +SKIP
>>> orders = spark.read.parquet("orders/")                    # doctest: +SKIP
>>> table, accounting = rfmkit.spark.rfm(orders, customer="customer_id",
...     date="ordered_at", amount="amount")                   # doctest: +SKIP
>>> accounting["rows_used"]                                   # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd

from rfmkit import _distributed, exceptions
from rfmkit._distributed import Result
from rfmkit._distributed_api import Cluster, public_functions

__all__ = ["Result", "calibration_holdout", "predict", "rfm", "score", "segment", "summary"]

ACCOUNTING = "__rfmkit_accounting"
_NUMBERS = ("byte", "short", "integer", "long", "float", "double", "decimal")


class _Spark(Cluster):
    name = "Spark"
    module = "rfmkit.spark"
    labels_as_text = True

    def columns(self, table: Any) -> list[str]:
        return [field.name for field in table.schema.fields]

    def date_kind(self, table: Any, column: str) -> str:
        kind = table.schema[column].dataType.typeName()
        if kind in ("timestamp", "timestamp_ntz", "date"):
            return "time"
        return "number" if kind in _NUMBERS else "text"

    def amount_is_numeric(self, table: Any, column: str) -> bool:
        return table.schema[column].dataType.typeName() in _NUMBERS

    def is_frame(self, table: Any) -> bool:
        return hasattr(table, "schema") and hasattr(table, "mapInArrow")

    def run_view(
        self, table: Any, view: str, params: dict[str, Any], finish: dict[str, Any], partitions: Any, function: str
    ) -> Result:
        return _run(table, view, params, finish, partitions, function)

    def histogram(self, table: Any, column: str) -> tuple[Any, Any]:
        counts = table.groupBy(column).count().toPandas()
        return counts[column].to_numpy(dtype="float64", na_value=float("nan")), counts["count"].to_numpy()

    def maximum(self, table: Any, columns: tuple[Any, ...]) -> Any:
        from pyspark.sql import functions as F

        return table.agg(F.greatest(*[F.max(c) for c in columns])).collect()[0][0]

    def distinct_counts(self, table: Any, columns: tuple[Any, ...]) -> dict[str, int]:
        from pyspark.sql import functions as F

        row = table.agg(*[F.countDistinct(c).alias(c) for c in columns]).collect()[0]
        return {c: int(row[c]) for c in columns}

    def partial_sums(self, table: Any, columns: tuple[Any, ...]) -> list[dict[str, Any]]:
        def sums(batches: Iterator[Any]) -> Iterator[Any]:
            import pyarrow as pa

            frames = [batch.to_pandas() for batch in batches]
            frame = pd.concat(frames) if frames else pd.DataFrame({c: [] for c in columns})
            yield pa.RecordBatch.from_pydict({"part": [json.dumps(_distributed.partial_sums(frame, columns))]})

        rows = table.select(*columns).mapInArrow(sums, "part string").collect()
        return [json.loads(row[0]) for row in rows]

    def empty(self, table: Any) -> pd.DataFrame:
        return table.limit(0).toPandas()

    def map_rows(self, table: Any, function: Callable[[pd.DataFrame], pd.DataFrame]) -> Any:
        from pyspark.sql import types as T

        before = self.empty(table)
        added = [(name, kind) for name, kind in _arrow_kinds(function(before)).items() if name not in before.columns]
        spark_types = {"int64": T.LongType(), "float64": T.DoubleType(), "string": T.StringType()}
        schema = T.StructType(
            list(table.schema.fields) + [T.StructField(name, spark_types[kind], True) for name, kind in added]
        )

        def mapper(batches: Iterator[Any]) -> Iterator[Any]:
            import pyarrow as pa

            arrow_types = {"int64": pa.int64(), "float64": pa.float64(), "string": pa.string()}
            for batch in batches:
                out = function(batch.to_pandas())
                target = pa.schema(list(batch.schema) + [pa.field(n, arrow_types[k]) for n, k in added])
                yield pa.RecordBatch.from_pandas(out[target.names], schema=target, preserve_index=False)

        return table.mapInArrow(mapper, schema)


def _arrow_kinds(frame: pd.DataFrame) -> dict[str, str]:
    """The kind of each column of a pandas frame as the Arrow batches carry it."""
    kinds = {}
    for name in frame.columns:
        dtype = frame[name].dtype
        kinds[name] = "int64" if dtype.kind in "iu" else "float64" if dtype.kind == "f" else "string"
    return kinds


rfm, summary, calibration_holdout, score, segment, predict = public_functions(_Spark()).values()


def _run(
    df: Any, view: str, params: dict[str, Any], finish: dict[str, Any], partitions: int | None, function: str
) -> Result:
    with _task_errors():
        return _run_view(df, view, params, finish, partitions, function)


@contextlib.contextmanager
def _task_errors() -> Iterator[None]:
    """An rfmkit error raised inside a Spark task, raised again as itself on the driver
    (Spark wraps it in a PythonException with the JVM's stack trace)."""
    from pyspark.errors import PythonException

    try:
        yield
    except PythonException as error:
        found = re.search(r"rfmkit\.(?:exceptions\.)?(\w+Error): (.*)", str(error))
        kind = getattr(exceptions, found.group(1), None) if found else None
        if found is None or kind is None or not (isinstance(kind, type) and issubclass(kind, Exception)):
            raise
        raise kind(found.group(2).strip()) from None


def _run_view(
    df: Any, view: str, params: dict[str, Any], finish: dict[str, Any], partitions: int | None, function: str
) -> Result:
    from pyspark import StorageLevel
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    names = [params["customer"], params["date"]] + [
        params[key] for key in ("amount", "order") if params.get(key) is not None
    ]
    fields = {field.name: field for field in df.schema.fields}
    rows = df.select(*names)
    end_found = True
    if _distributed.needs_end(view, params):
        latest = rows.mapInArrow(_last_valid_mapper(params), "latest long").agg(F.max("latest")).collect()[0][0]
        end_found = latest is not None
        params = _distributed.with_end(view, params, latest)
    buckets = partitions or _default_buckets(df)
    states = rows.mapInArrow(_states_mapper(view, params, buckets), "bucket int, state binary, latest long")
    states = states.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        latest = states.agg(F.max("latest")).collect()[0][0]
        empty, base = _distributed.bucket_table([], view, params, finish, latest)
        columns = [(str(name), str(empty[name].dtype.kind)) for name in list(empty.columns)[1:]]
        types = _OutputTypes(fields[params["customer"]].dataType, fields[params["date"]].dataType)
        # Each bucket to a partition of its own: the bucket column holds a number that
        # Spark's hash partitioning sends to the partition of the bucket's number.
        mapped = states.repartition(buckets, "bucket").mapInArrow(
            _bucket_mapper(view, params, finish, latest, columns, types), types.schema(params["customer"], columns)
        )
        # The accounting rows are observed on their way (one job, one cache: the table
        # the caller gets, so that its unpersist() frees it), and left out of the table.
        observed = Observation(f"rfmkit-{uuid.uuid4().hex}")
        table = (
            mapped.observe(observed, F.collect_list(ACCOUNTING).alias(ACCOUNTING))
            .where(F.col(ACCOUNTING).isNull())
            .drop(ACCOUNTING)
            .persist(StorageLevel.MEMORY_AND_DISK)
        )
        table.count()
    finally:
        states.unpersist()
    # A task run twice (a retry, speculation) reports its bucket twice: once each.
    parts = {}
    for text in observed.get[ACCOUNTING]:
        buckets_of_task, part = json.loads(text)
        parts[tuple(buckets_of_task)] = part
    accounting = _distributed.total_accounting(parts.values(), function, base=base, end_found=end_found, stacklevel=6)
    return Result(table, accounting)


def _murmur3_int(value: int, seed: int = 42) -> int:
    """Spark's ``hash()`` of an IntegerType value (Murmur3 x86 32-bit, seed 42): what its
    hash partitioning takes modulo the number of partitions."""
    mask = 0xFFFFFFFF

    def rotl(x: int, r: int) -> int:
        return ((x << r) | (x >> (32 - r))) & mask

    k1 = (value & mask) * 0xCC9E2D51 & mask
    k1 = rotl(k1, 15) * 0x1B873593 & mask
    h1 = rotl((seed ^ k1) & mask, 13)
    h1 = (h1 * 5 + 0xE6546B64) & mask
    h1 ^= 4
    h1 ^= h1 >> 16
    h1 = h1 * 0x85EBCA6B & mask
    h1 ^= h1 >> 13
    h1 = h1 * 0xC2B2AE35 & mask
    h1 ^= h1 >> 16
    return h1 - (1 << 32) if h1 & 0x80000000 else h1


def _partition_keys(n: int) -> list[int]:
    """For each partition number below `n`, the smallest int that ``repartition(n, col)``
    sends there (``pmod(hash(col), n)``), so that n buckets fill n partitions one each
    (any other int keeps the result right, only less balanced)."""
    keys: dict[int, int] = {}
    candidate = 0
    while len(keys) < n and candidate < 64 * n + 1024:
        keys.setdefault(_murmur3_int(candidate) % n, candidate)
        candidate += 1
    return [keys.get(p, p) for p in range(n)]


def _default_buckets(df: Any) -> int:
    """As many buckets as the input has partitions (Spark's default of 200 shuffle
    partitions costs a Python task each, seconds on small tables), at most
    `_distributed.MAX_BUCKETS`; on Spark Connect (no partition count) that many."""
    return min(_input_partitions(df) or _distributed.MAX_BUCKETS, _distributed.MAX_BUCKETS)


def _input_partitions(df: Any) -> int | None:
    try:
        return max(int(df.rdd.getNumPartitions()), 1)
    except Exception:  # noqa: BLE001  (Spark Connect has no RDDs: Spark's default then)
        return None


class _OutputTypes:
    """The Spark and Arrow types of a view's columns: the customer id as the input gives
    it (whole-number floats as integers, as on one machine), timestamps as the date
    column's kind (instants, wall-clock timestamps or dates), counts and money as long
    and double."""

    def __init__(self, customer: Any, date: Any) -> None:
        from pyspark.sql import types as T
        from pyspark.sql.pandas.types import to_arrow_type

        if isinstance(customer, (T.DoubleType, T.FloatType)):
            customer = T.LongType()
        self.customer = customer
        self.customer_arrow = to_arrow_type(customer)
        kind = date.typeName()
        if kind == "timestamp":
            self.time, self.time_arrow = T.TimestampType(), "instant"
        elif kind == "date":
            self.time, self.time_arrow = T.DateType(), "date"
        else:
            # timestamp_ntz, and text dates read with date_format: wall-clock times
            self.time, self.time_arrow = T.TimestampNTZType(), "wall"

    def schema(self, customer_name: str, columns: list[tuple[str, str]]) -> Any:
        from pyspark.sql import types as T

        kinds = {"i": T.LongType(), "f": T.DoubleType(), "M": self.time}
        fields = [T.StructField(customer_name, self.customer, True)]
        fields += [T.StructField(name, kinds[kind], True) for name, kind in columns]
        fields.append(T.StructField(ACCOUNTING, T.StringType(), True))
        return T.StructType(fields)

    def arrow(self, kind: str) -> Any:
        import pyarrow as pa

        if kind == "i":
            return pa.int64()
        if kind == "f":
            return pa.float64()
        return {"instant": pa.timestamp("us", tz="UTC"), "wall": pa.timestamp("us"), "date": pa.date32()}[
            self.time_arrow
        ]


def _last_valid_mapper(params: dict[str, Any]) -> Any:
    def mapper(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        latest = _distributed.last_valid_time(batches, params)
        yield pa.RecordBatch.from_pydict({"latest": pa.array([latest], pa.int64())})

    return mapper


def _states_mapper(view: str, params: dict[str, Any], buckets: int) -> Any:
    keys = _partition_keys(buckets)

    def mapper(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        pieces, latest = _distributed.partition_states(batches, view, params, buckets)
        for bucket, data in pieces.items():
            # One piece a batch: Arrow binary columns hold up to 2 GiB.
            yield pa.RecordBatch.from_pydict(
                {
                    "bucket": pa.array([keys[bucket]], pa.int32()),
                    "state": pa.array([data], pa.binary()),
                    "latest": pa.array([latest], pa.int64()),
                }
            )

    return mapper


def _bucket_mapper(
    view: str,
    params: dict[str, Any],
    finish: dict[str, Any],
    latest: int | None,
    columns: list[tuple[str, str]],
    types: _OutputTypes,
) -> Any:
    def mapper(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        pieces, keys_in = [], set()
        for batch in batches:
            pieces += batch.column("state").to_pylist()
            keys_in.update(batch.column("bucket").to_pylist())
        if not pieces:
            return
        table, accounting = _distributed.bucket_table(pieces, view, params, finish, latest)
        customer = table.columns[0]
        if len(table):
            arrays = {customer: pa.array(table.iloc[:, 0], from_pandas=True).cast(types.customer_arrow)}
            for name, kind in columns:
                arrays[name] = pa.array(table[name], from_pandas=True).cast(types.arrow(kind))
            arrays[ACCOUNTING] = pa.nulls(len(table), pa.string())
            yield pa.RecordBatch.from_pydict(arrays)
        if accounting.get("rows_in"):
            row = {customer: pa.nulls(1, types.customer_arrow)}
            for name, kind in columns:
                row[name] = pa.nulls(1, types.arrow(kind))
            # keyed by the buckets of this task, which a retry of it repeats
            text = json.dumps([sorted(keys_in), accounting], sort_keys=True, default=str)
            row[ACCOUNTING] = pa.array([text], pa.string())
            yield pa.RecordBatch.from_pydict(row)

    return mapper
