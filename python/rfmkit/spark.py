"""rfmkit on Spark: the RFM table, the BTYD summary and the calibration/holdout split of
a Spark DataFrame of transactions, equal bit for bit to `rfmkit.rfm`,
`rfmkit.clv.summary` and `rfmkit.clv.calibration_holdout` on the same rows.

Needs ``pip install 'rfmkit[spark]'`` (pyspark >= 3.5; Arrow-based, no Python UDFs row
by row). How it works (`rfmkit._distributed`): when the end is not given, one pass finds
the last valid date with the engine's row rule; then the rows are repartitioned by
customer and every partition goes through the single-machine engine with that end.
Each call computes its result and keeps it cached (``result.table.unpersist()`` frees
it), so that the accounting can be returned with it.

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

import json
from typing import Any, Iterator

from rfmkit import _distributed
from rfmkit._distributed import Result
from rfmkit.exceptions import ColumnNotFoundError, InvalidParameterError

__all__ = ["Result", "rfm", "summary", "calibration_holdout", "score", "segment", "predict"]

ACCOUNTING = "__rfmkit_accounting"


def rfm(
    df: Any,
    *,
    customer: str,
    date: str,
    amount: str,
    order: str | None = None,
    as_of: Any = None,
    window: Any = None,
    zero: str = "drop",
    returns: str = "net",
    invalid: str = "drop",
    date_format: str | None = None,
    dayfirst: bool | None = None,
    partitions: int | None = None,
) -> Result:
    """The RFM table of a Spark DataFrame, as `rfmkit.rfm` gives it on one machine.

    Parameters are those of `rfmkit.rfm`; `partitions` is the number of partitions the
    rows are spread over by customer (default: ``spark.sql.shuffle.partitions``).

    Returns
    -------
    Result
        ``(table, accounting)``: a Spark DataFrame with the customer id and the columns
        of `rfmkit.rfm` (``recency, frequency, monetary, avg_order_value,
        first_purchase, last_purchase, tenure``), and the accounting dict.
    """
    params = _distributed.row_params(
        "rfm", customer=customer, date=date, amount=amount, order=order, as_of=as_of, window=window, zero=zero,
        returns=returns, invalid=invalid, date_format=date_format, dayfirst=dayfirst,
    )
    return _run(df, "rfm", params, {}, partitions, "rfmkit.spark.rfm")


def summary(
    df: Any,
    *,
    customer: str,
    date: str,
    amount: str | None = None,
    freq: str = "D",
    freq_multiplier: float = 1,
    observation_period_end: Any = None,
    include_first_transaction: bool = False,
    zero: str = "keep",
    returns: str = "drop",
    invalid: str = "drop",
    date_format: str | None = None,
    dayfirst: bool | None = None,
    partitions: int | None = None,
) -> Result:
    """The BTYD summary of a Spark DataFrame, as `rfmkit.clv.summary` gives it on one
    machine (``frequency, recency, T[, monetary_value]``); see `rfm` for the result."""
    params = _distributed.row_params(
        "summary", customer=customer, date=date, amount=amount, freq=freq,
        observation_period_end=observation_period_end, zero=zero, returns=returns, invalid=invalid,
        date_format=date_format, dayfirst=dayfirst,
    )
    finish = {"freq_multiplier": freq_multiplier, "include_first_transaction": include_first_transaction}
    return _run(df, "summary", params, finish, partitions, "rfmkit.spark.summary")


def calibration_holdout(
    df: Any,
    *,
    customer: str,
    date: str,
    calibration_period_end: Any,
    observation_period_end: Any = None,
    amount: str | None = None,
    freq: str = "D",
    freq_multiplier: float = 1,
    include_first_transaction: bool = False,
    zero: str = "keep",
    returns: str = "drop",
    invalid: str = "drop",
    date_format: str | None = None,
    dayfirst: bool | None = None,
    partitions: int | None = None,
) -> Result:
    """The calibration summary and holdout columns of a Spark DataFrame, as
    `rfmkit.clv.calibration_holdout` gives them on one machine; see `rfm`."""
    params = _distributed.row_params(
        "calibration_holdout", customer=customer, date=date, amount=amount, freq=freq,
        observation_period_end=observation_period_end, calibration_period_end=calibration_period_end, zero=zero,
        returns=returns, invalid=invalid, date_format=date_format, dayfirst=dayfirst,
    )
    finish = {"freq_multiplier": freq_multiplier, "include_first_transaction": include_first_transaction}
    return _run(df, "calibration_holdout", params, finish, partitions, "rfmkit.spark.calibration_holdout")


def _run(df: Any, view: str, params: dict, finish: dict, partitions: int | None, function: str) -> Result:
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    names = [params["customer"], params["date"]] + [
        params[key] for key in ("amount", "order") if params.get(key) is not None
    ]
    fields = {field.name: field for field in df.schema.fields}
    for role, name in zip(("customer", "date", "amount", "order"), names):
        if name not in fields:
            raise ColumnNotFoundError(
                f"{role}={name!r} is not a column of the DataFrame; its columns are {sorted(fields)}"
            )
    date_type = fields[params["date"]].dataType.typeName()
    _distributed.check_text_dates(date_type not in ("timestamp", "timestamp_ntz", "date"), params["date_format"],
                                  "Spark")
    rows = df.select(*names)
    if _distributed.needs_end(view, params):
        latest = rows.mapInArrow(_last_valid_mapper(params), "latest long").agg(F.max("latest")).collect()[0][0]
        params = _distributed.with_end(view, params, latest)
    columns = _result_columns(view, params, finish)
    schema = _schema(fields[params["customer"]], columns)
    if partitions is not None:
        if not isinstance(partitions, int) or isinstance(partitions, bool) or partitions < 1:
            raise InvalidParameterError(f"partitions must be a positive integer, got {partitions!r}")
        spread = rows.repartition(partitions, params["customer"])
    else:
        spread = rows.repartition(params["customer"])
    mapped = spread.mapInArrow(_view_mapper(view, params, finish, columns), schema).persist(
        StorageLevel.MEMORY_AND_DISK
    )
    parts = [json.loads(row[0]) for row in mapped.where(F.col(ACCOUNTING).isNotNull()).select(ACCOUNTING).collect()]
    accounting = _distributed.add_accountings(parts, function, stacklevel=4)
    table = mapped.where(F.col(ACCOUNTING).isNull()).drop(ACCOUNTING)
    return Result(table, accounting)


def _result_columns(view: str, params: dict, finish: dict) -> list[tuple[str, str]]:
    """The result's columns after the customer id, with their numpy kinds, from the
    single-machine engine run on no rows."""
    empty, _ = _distributed.partition_table([], view, params, finish)
    return [(str(name), empty[name].dtype.kind) for name in list(empty.columns)[1:]]


def _schema(customer: Any, columns: list[tuple[str, str]]) -> Any:
    from pyspark.sql import types as T

    kinds = {"i": T.LongType(), "f": T.DoubleType(), "M": T.TimestampType()}
    fields = [T.StructField(customer.name, customer.dataType, True)]
    fields += [T.StructField(name, kinds[kind], True) for name, kind in columns]
    fields.append(T.StructField(ACCOUNTING, T.StringType(), True))
    return T.StructType(fields)


def _last_valid_mapper(params: dict) -> Any:
    def mapper(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        latest = _distributed.last_valid_time(batches, params)
        yield pa.RecordBatch.from_pydict({"latest": pa.array([latest], pa.int64())})

    return mapper


def _view_mapper(view: str, params: dict, finish: dict, columns: list[tuple[str, str]]) -> Any:
    def mapper(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        customer_type = None

        def typed(stream: Iterator[Any]) -> Iterator[Any]:
            nonlocal customer_type
            for batch in stream:
                customer_type = batch.schema.field(0).type
                yield batch

        table, accounting = _distributed.partition_table(typed(batches), view, params, finish)
        if len(table):
            arrays = {table.columns[0]: pa.array(table.iloc[:, 0], from_pandas=True).cast(customer_type)}
            for name, kind in columns:
                values = pa.array(table[name], from_pandas=True)
                if kind == "M":
                    values = values.cast(pa.timestamp("us", tz="UTC"))
                arrays[name] = values
            arrays[ACCOUNTING] = pa.nulls(len(table), pa.string())
            yield pa.RecordBatch.from_pydict(arrays)
        if accounting.get("rows_in"):
            row = {table.columns[0]: pa.nulls(1, customer_type or pa.int64())}
            for name, kind in columns:
                row[name] = pa.nulls(
                    1, {"i": pa.int64(), "f": pa.float64(), "M": pa.timestamp("us", tz="UTC")}[kind]
                )
            row[ACCOUNTING] = pa.array([_distributed.accounting_text(accounting)], pa.string())
            yield pa.RecordBatch.from_pydict(row)

    return mapper


def score(
    table: Any,
    *,
    bins: int = 5,
    method: str = "quantile",
    thresholds: Any = None,
    weights: Any = (1, 1, 1),
) -> Result:
    """R, F and M scores of a Spark customer table (``recency``, ``frequency``,
    ``monetary`` columns, e.g. `rfm`'s), as `rfmkit.score` gives them on the whole table.

    The quantile rules need the whole distribution of each metric: its histogram
    (distinct values and counts) is collected, never the table. Returns ``(table,
    info)``: the table with ``r_score, f_score, m_score`` (long), ``rfm_code`` (text) and
    ``rfm_score``, and what ``attrs["rfmkit"]["score"]`` records on one machine.
    """
    from pyspark.sql import functions as F

    from rfmkit import _scores

    fields = {field.name for field in table.schema.fields}
    for metric in _scores.METRICS:
        if metric not in fields:
            raise ColumnNotFoundError(f"the table has no {metric!r} column; its columns are {sorted(fields)}")
    histograms = {}
    if method != "thresholds":
        for metric in _scores.METRICS:
            counts = table.groupBy(metric).count().toPandas()
            histograms[metric] = (counts[metric].to_numpy(dtype="float64", na_value=float("nan")),
                                  counts["count"].to_numpy())
    rule = _distributed.score_rule(histograms, bins=bins, method=method, thresholds=thresholds, weights=weights)
    from pyspark.sql import types as T

    whole = all(float(w).is_integer() for w in rule.weights)
    schema = T.StructType(
        list(table.schema.fields)
        + [T.StructField(column, T.LongType(), True) for column in _scores.SCORE_COLUMNS]
        + [T.StructField("rfm_code", T.StringType(), True),
           T.StructField("rfm_score", T.LongType() if whole else T.DoubleType(), True)]
    )

    def mapper(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        arrow_schema = None
        for batch in batches:
            frame = batch.to_pandas()
            scored = _distributed.apply_scores(frame, rule, code_as_text=True)
            arrow_schema = arrow_schema or pa.schema(
                list(batch.schema) + [pa.field(c, pa.int64()) for c in _scores.SCORE_COLUMNS]
                + [pa.field("rfm_code", pa.string()), pa.field("rfm_score", pa.int64() if whole else pa.float64())]
            )
            yield pa.RecordBatch.from_pandas(scored, schema=arrow_schema, preserve_index=False)

    scored = table.mapInArrow(mapper, schema)
    info = dict(rule.info)
    if method == "thresholds":
        used = scored.agg(*[F.countDistinct(c).alias(c) for c in _scores.SCORE_COLUMNS]).collect()[0]
        info["levels"] = {metric: int(used[c]) for metric, c in zip(_scores.METRICS, _scores.SCORE_COLUMNS)}
    return Result(scored, {"score": info})


def segment(table: Any, scheme: Any = "rfm11", *, lang: str = "en", split: Any = "mean", bins: Any = None) -> Result:
    """Rule-based segments of a Spark customer table, as `rfmkit.segment` gives them on
    the whole table: a text ``segment`` column. classic8's ``"mean"`` / ``"median"``
    split values come from the whole table (exact partial sums / each column's
    histogram); the score schemes read `bins` (default: 5 when the table's highest
    score is 5). Returns ``(table, info)`` with what ``attrs["rfmkit"]["segment"]``
    records on one machine."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    from rfmkit import _scores
    from rfmkit._segments import check_lang, split_values

    lang = check_lang(lang)
    fields = {field.name for field in table.schema.fields}
    empty = table.limit(0).toPandas()
    if scheme == "classic8":
        for column in _distributed.CLASSIC8_COLUMNS:
            if column not in fields:
                raise ColumnNotFoundError(f"classic8 splits {column!r}, and the table has no such column")
        if split == "mean":
            columns = _distributed.CLASSIC8_COLUMNS

            def sums(batches: Iterator[Any]) -> Iterator[Any]:
                import pandas as pd
                import pyarrow as pa

                frames = [batch.to_pandas() for batch in batches]
                frame = pd.concat(frames) if frames else pd.DataFrame({c: [] for c in columns})
                yield pa.RecordBatch.from_pydict({"part": [json.dumps(_distributed.partial_sums(frame, columns))]})

            parts = [json.loads(row[0]) for row in table.select(*columns).mapInArrow(sums, "part string").collect()]
            at = _distributed.mean_of_partials(parts, columns)
        elif split == "median":
            at = {}
            for column in _distributed.CLASSIC8_COLUMNS:
                counts = table.groupBy(column).count().toPandas()
                at[column] = _distributed.median_of_histogram(
                    counts[column].to_numpy(dtype="float64", na_value=float("nan")), counts["count"].to_numpy()
                )
        else:
            at = split_values({c: empty[c].to_numpy() for c in _distributed.CLASSIC8_COLUMNS}, split)
        options = _distributed.segment_options(scheme, at, bins, None)
    else:
        top = None
        if bins is None and all(c in fields for c in _scores.SCORE_COLUMNS):
            top = table.agg(F.greatest(*[F.max(c) for c in _scores.SCORE_COLUMNS])).collect()[0][0]
        options = _distributed.segment_options(scheme, split, bins, top)
    info = _distributed.segment_info(empty, scheme, lang, options)
    schema = T.StructType(list(table.schema.fields) + [T.StructField("segment", T.StringType(), True)])

    def mapper(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        for batch in batches:
            out = _distributed.apply_segment(batch.to_pandas(), scheme, lang, options, code_as_text=True)
            yield pa.RecordBatch.from_pandas(
                out, schema=batch.schema.append(pa.field("segment", pa.string())), preserve_index=False
            )

    return Result(table.mapInArrow(mapper, schema), info)


def predict(
    table: Any,
    model: Any,
    *,
    t: Any = None,
    purchase_model: Any = None,
    time: int = 12,
    discount_rate: float = 0.01,
    freq: str | None = None,
) -> Result:
    """Predictions of a model fitted on the driver, added to every customer of a Spark
    table through Arrow batches, equal to the model's single-machine predictions.

    Fit the model on one machine from the table (``table.toPandas()``) or from a sample
    of it (``table.sample(fraction=..., seed=...)``: the fit then sees a sample, the
    predictions cover everyone). Then:

    - a ``BetaGeoFitter`` adds ``p_alive`` (and ``expected_purchases`` over `t` periods)
      from ``frequency, recency, T`` (`summary`'s columns);
    - a ``GammaGammaFitter`` adds ``expected_spend`` from ``frequency, monetary_value``,
      and with ``purchase_model=`` (a fitted ``BetaGeoFitter``) ``clv`` over `time`
      months at `discount_rate` a month (as ``customer_lifetime_value``);
    - an `rfmkit.KMeans` adds ``cluster`` from the columns it was fitted on.

    Returns ``(table, info)``; `info` names the model and the added columns.
    """
    from pyspark.sql import types as T

    plan = _distributed.prediction(
        model, t=t, purchase_model=purchase_model, time=time, discount_rate=discount_rate, freq=freq
    )
    fields = {field.name for field in table.schema.fields}
    missing = [name for name in plan.needs if name not in fields]
    if missing:
        raise ColumnNotFoundError(
            f"{type(model).__name__} predicts from {list(plan.needs)}, and the table has no {missing}"
        )
    kinds = {"cluster": T.LongType()}
    schema = T.StructType(
        list(table.schema.fields) + [T.StructField(name, kinds.get(name, T.DoubleType()), True) for name in plan.adds]
    )

    def mapper(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        for batch in batches:
            out = _distributed.apply_prediction(batch.to_pandas(), plan)
            added = [pa.field(name, pa.int64() if name == "cluster" else pa.float64()) for name in plan.adds]
            target = pa.schema(list(batch.schema) + added)
            yield pa.RecordBatch.from_pandas(out, schema=target, preserve_index=False)

    info = {"predict": {"model": type(model).__name__, "columns": list(plan.adds)}}
    return Result(table.mapInArrow(mapper, schema), info)
