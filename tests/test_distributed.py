"""rfmkit.spark and rfmkit.dask against one machine: the same rows give the same table,
bit for bit (values, customer ids, accounting), whatever the number of partitions."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
import pytest

import rfmkit
from local_spark import local_spark
from rfmkit._segments import split_values
from rfmkit.exceptions import ColumnNotFoundError, InvalidParameterError

dd = pytest.importorskip("dask.dataframe")
import rfmkit.dask  # noqa: E402 (after the skip: dask is optional)


def messy(seed: int, n: int = 3000, ids: str = "int", tz: str | None = None) -> pd.DataFrame:
    """Transactions with what real exports have: null ids, NaN amounts, returns, zero
    amounts, several rows a day, customers with one row, times of day."""
    rng = np.random.default_rng(seed)
    customer = rng.integers(0, max(n // 6, 1), n).astype(float)
    customer[rng.random(n) < 0.02] = np.nan
    seconds = rng.integers(0, 400 * 86_400, n)
    amount = np.round(rng.lognormal(3, 1, n), 2)
    amount[rng.random(n) < 0.08] *= -1
    amount[rng.random(n) < 0.03] = 0.0
    amount[rng.random(n) < 0.02] = np.nan
    df = pd.DataFrame(
        {
            "cid": pd.array(customer, dtype="Float64").astype("Int64"),
            "ts": pd.Timestamp("2023-03-01") + pd.to_timedelta(seconds, unit="s"),
            "amt": amount,
        }
    )
    if ids == "str":
        df["cid"] = df["cid"].map(lambda v: None if pd.isna(v) else f"C{v:05d}").astype(object)
    if tz is not None:
        df["ts"] = df["ts"].dt.tz_localize(tz)
    return df


def quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        return function(*args, **kwargs)


def assert_same(one: pd.DataFrame, got: pd.DataFrame, accounting: dict) -> None:
    one = one.sort_index()
    got = got.sort_index()
    assert list(got.columns) == list(one.columns)
    assert [str(v) for v in got.index] == [str(v) for v in one.index]
    for column in one.columns:
        a, b = one[column].to_numpy(), got[column].to_numpy()
        if a.dtype.kind == "M":
            a = pd.to_datetime(a).tz_localize(None) if getattr(one[column].dt, "tz", None) else a
            a, b = np.asarray(a, "datetime64[us]"), np.asarray(b, "datetime64[us]")
            assert np.array_equal(a, b), column
        else:
            assert a.dtype == b.dtype, column
            assert np.array_equal(
                a.view(np.uint64) if a.dtype == np.float64 else a, b.view(np.uint64) if b.dtype == np.float64 else b
            ), column
    assert accounting == one.attrs["rfmkit"]


COLUMNS = dict(customer="cid", date="ts", amount="amt")


def order_lines(n: int = 1_000_000, seed: int = 3, ids: str = "int") -> pd.DataFrame:
    """`n` order lines in no order: ~8 lines a customer over a few orders (the lines of an
    order share its day), with every kind of row a policy decides on: null customer,
    order and date, NaN, zero and negative amounts (returns)."""
    rng = np.random.default_rng(seed)
    customers = max(n // 8, 1)
    customer = rng.integers(0, customers, n)
    order_of_customer = rng.integers(0, 4, n)
    order = customer * 4 + order_of_customer
    day = (order * 7919) % 700
    seconds = day * 86_400 + rng.integers(0, 86_400, n)
    amount = np.round(rng.lognormal(3, 1, n), 2)
    amount[rng.random(n) < 0.06] *= -1
    amount[rng.random(n) < 0.03] = 0.0
    amount[rng.random(n) < 0.01] = np.nan
    df = pd.DataFrame(
        {
            "cid": pd.array(customer, dtype="Int64"),
            "ts": pd.Timestamp("2022-01-01") + pd.to_timedelta(seconds, unit="s"),
            "amt": amount,
            "oid": pd.array(order, dtype="Int64"),
        }
    )
    df.loc[rng.random(n) < 0.01, "cid"] = pd.NA
    df.loc[rng.random(n) < 0.01, "oid"] = pd.NA
    df.loc[rng.random(n) < 0.01, "ts"] = pd.NaT
    if ids == "str":
        df["cid"] = df["cid"].map(lambda v: None if pd.isna(v) else f"C{v:07d}").astype(object)
    return df


#: The single-machine function, the cluster function's name and options: every view and
#: every row policy, order lines, a window with and without as_of.
BIG_CASES = [
    (rfmkit.rfm, "rfm", {}),
    (rfmkit.rfm, "rfm", {"order": "oid", "zero": "keep", "returns": "drop"}),
    (rfmkit.rfm, "rfm", {"window": 180}),
    (rfmkit.rfm, "rfm", {"as_of": "2023-06-01", "window": 365, "order": "oid"}),
    (rfmkit.clv.summary, "summary", {"freq": "W", "zero": "drop", "returns": "net"}),
    (rfmkit.clv.calibration_holdout, "calibration_holdout", {"calibration_period_end": "2023-03-31", "freq": "D"}),
]


@pytest.mark.parametrize("ids", ["int", "str"])
@pytest.mark.parametrize("partitions", [1, 2, 5])
def test_dask_views_equal_one_machine(ids: str, partitions: int) -> None:
    df = messy(partitions * 7 + len(ids), ids=ids)
    ddf = dd.from_pandas(df, npartitions=3)
    cases = [
        (rfmkit.rfm, rfmkit.dask.rfm, {}),
        (rfmkit.rfm, rfmkit.dask.rfm, {"as_of": "2024-02-01", "window": 90}),
        (rfmkit.clv.summary, rfmkit.dask.summary, {"freq": "W"}),
        (rfmkit.clv.summary, rfmkit.dask.summary, {"include_first_transaction": True, "freq_multiplier": 7}),
        (rfmkit.clv.calibration_holdout, rfmkit.dask.calibration_holdout, {"calibration_period_end": "2023-12-31"}),
    ]
    for single, distributed, options in cases:
        one = quiet(single, df, **COLUMNS, **options)
        table, accounting = quiet(distributed, ddf, **COLUMNS, partitions=partitions, **options)
        assert_same(one, table.compute(), accounting)


@pytest.mark.parametrize("ids", ["int", "str"])
def test_dask_equals_one_machine_on_a_million_order_lines(ids: str) -> None:
    df = order_lines(ids=ids)
    ddf = dd.from_pandas(df, npartitions=16)  # rows in no order: every customer over many partitions
    for single, name, options in BIG_CASES if ids == "int" else BIG_CASES[:1] + BIG_CASES[4:5]:
        one = quiet(single, df, **COLUMNS, **options)
        table, accounting = quiet(getattr(rfmkit.dask, name), ddf, **COLUMNS, partitions=7, **options)
        assert_same(one, table.compute(), accounting)


def test_dask_buckets_without_customers_and_a_window_without_valid_rows() -> None:
    # More buckets than customers: buckets without a piece keep the input's types (a
    # time zone, microseconds); a window without as_of and no valid row is an empty table.
    df = pd.DataFrame(
        {
            "cid": [1, 2, 1, 2],
            "ts": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-02-01", "2024-02-05"])
            .as_unit("us")
            .tz_localize("Europe/Paris"),
            "amt": [3.0, 1.0, 2.0, 5.0],
        }
    )
    for options in ({}, {"window": 30}):
        one = rfmkit.rfm(df, **COLUMNS, **options)
        table, accounting = rfmkit.dask.rfm(dd.from_pandas(df, npartitions=2), **COLUMNS, partitions=8, **options)
        assert_same(one, table.compute(), accounting)
    invalid = df.assign(amt=np.nan)
    for frame in (invalid, invalid.iloc[:0]):
        one = quiet(rfmkit.rfm, frame, **COLUMNS, window=30)
        table, accounting = quiet(rfmkit.dask.rfm, dd.from_pandas(frame, npartitions=2), **COLUMNS, window=30)
        assert_same(one, table.compute(), accounting)


def test_dask_time_zones_and_errors() -> None:
    df = messy(3, tz="Asia/Shanghai")
    ddf = dd.from_pandas(df, npartitions=2)
    one = quiet(rfmkit.rfm, df, **COLUMNS)
    table, accounting = quiet(rfmkit.dask.rfm, ddf, **COLUMNS)
    got = table.compute()
    assert got["first_purchase"].dt.tz is not None
    assert_same(one, got, accounting)
    with pytest.raises(ColumnNotFoundError, match="amount='spend'"):
        rfmkit.dask.rfm(ddf, customer="cid", date="ts", amount="spend")
    text = dd.from_pandas(df.assign(ts=df["ts"].dt.strftime("%d/%m/%Y")), npartitions=2)
    with pytest.raises(InvalidParameterError, match="date_format="):
        rfmkit.dask.rfm(text, **COLUMNS)
    as_text = df.assign(ts=df["ts"].dt.strftime("%d/%m/%Y"))
    table, accounting = quiet(rfmkit.dask.rfm, text, **COLUMNS, date_format="%d/%m/%Y")
    assert_same(quiet(rfmkit.rfm, as_text, **COLUMNS, date_format="%d/%m/%Y"), table.compute(), accounting)
    with pytest.raises(InvalidParameterError, match="partitions"):
        rfmkit.dask.rfm(ddf, **COLUMNS, partitions=0)
    with pytest.raises(InvalidParameterError, match="use rfmkit.clv.summary$"):
        rfmkit.dask.summary(df, **COLUMNS)
    # An end written as an integer (as integer dates are) is no date, as on one machine.
    with pytest.raises(InvalidParameterError, match="observation_period_end=19980630 is not a date"):
        rfmkit.dask.summary(ddf, **COLUMNS, observation_period_end=19980630)
    with pytest.raises(InvalidParameterError, match="as_of=19980101 is not a date"):
        rfmkit.dask.rfm(ddf, **COLUMNS, as_of=19980101)
    with pytest.raises(rfmkit.InvalidRowError, match="within one partition"):
        rfmkit.dask.summary(ddf, **COLUMNS, invalid="raise")
    with pytest.raises(rfmkit.DtypeError, match="to_numeric"):
        rfmkit.dask.rfm(dd.from_pandas(df.assign(amt=df["amt"].astype(str)), npartitions=2), **COLUMNS)
    scored, info = rfmkit.dask.score(quiet(rfmkit.dask.rfm, ddf, **COLUMNS)[0].head(0, compute=False))
    assert len(scored.compute()) == 0 and info["score"]["levels"]["recency"] == 0
    with pytest.warns(rfmkit.DataQualityWarning, match="rfmkit.dask.rfm dropped"):
        rfmkit.dask.rfm(ddf, **COLUMNS)


SCORINGS = [
    {},
    {"bins": 4, "method": "midrank"},
    {"bins": 3, "weights": (1, 0.5, 2.25)},
    {
        "method": "thresholds",
        "thresholds": {"recency": [30, 60, 90, 180], "frequency": [1, 2, 4, 8], "monetary": [50, 100, 250, 1000]},
    },
]


def assert_same_scores(one: pd.DataFrame, got: pd.DataFrame, info: dict) -> None:
    one, got = one.sort_index(), got.sort_index()
    assert [str(v) for v in got.index] == [str(v) for v in one.index]
    for column in ("r_score", "f_score", "m_score", "rfm_score"):
        assert got[column].dtype == one[column].dtype, column
        assert np.array_equal(got[column].to_numpy(), one[column].to_numpy()), column
    assert got["rfm_code"].astype(str).tolist() == one["rfm_code"].astype(str).tolist()
    assert info == {"score": one.attrs["rfmkit"]["score"]}


def test_dask_scores_equal_one_machine() -> None:
    df = messy(21, n=6000)
    one_table = quiet(rfmkit.rfm, df, **COLUMNS)
    table, _ = quiet(rfmkit.dask.rfm, dd.from_pandas(df, npartitions=3), **COLUMNS, partitions=4)
    for options in SCORINGS:
        one = rfmkit.score(one_table, **options)
        scored, info = rfmkit.dask.score(table, **options)
        got = scored.compute()
        assert isinstance(got["rfm_code"].dtype, pd.CategoricalDtype)
        assert_same_scores(one, got, info)
    with pytest.raises(InvalidParameterError, match="thresholds"):
        rfmkit.dask.score(table, method="thresholds")
    with pytest.raises(ColumnNotFoundError, match="monetary"):
        rfmkit.dask.score(table.drop(columns=["monetary"]))


def segmentations():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        custom = rfmkit.SegmentScheme(
            [
                (("VIP", "贵宾"), {"r_score": (4, 5), "m_score": (5, 5)}),
                (("Big spender", "大额客户"), {"monetary": ">= 300"}),
            ]
        )
    return [
        ("rfm11", {}),
        ("rfm10", {"lang": "zh"}),
        ("value4", {}),
        ("classic8", {}),
        ("classic8", {"split": "median", "lang": "zh"}),
        ("classic8", {"split": {"recency": 60, "frequency": 2, "monetary": 150.5}}),
        (custom, {}),
    ]


def assert_same_segments(one: pd.DataFrame, got: pd.DataFrame, info: dict) -> None:
    one, got = one.sort_index(), got.sort_index()
    assert [str(v) for v in got.index] == [str(v) for v in one.index]
    assert got["segment"].astype(str).tolist() == one["segment"].astype(str).tolist()
    assert info == {"segment": one.attrs["rfmkit"]["segment"]}


def test_dask_segments_equal_one_machine() -> None:
    df = messy(31, n=6000)
    one_scored = rfmkit.score(quiet(rfmkit.rfm, df, **COLUMNS))
    table, _ = quiet(rfmkit.dask.rfm, dd.from_pandas(df, npartitions=3), **COLUMNS, partitions=4)
    scored, _ = rfmkit.dask.score(table)
    for scheme, options in segmentations():
        one = rfmkit.segment(one_scored, scheme, **options)
        segmented, info = rfmkit.dask.segment(scored, scheme, **options)
        got = segmented.compute()
        assert isinstance(got["segment"].dtype, pd.CategoricalDtype)
        assert list(got["segment"].cat.categories) == list(one["segment"].cat.categories)
        assert_same_segments(one, got, info)
    four, _ = rfmkit.dask.score(table, bins=4)
    with pytest.raises(InvalidParameterError, match="bins="):
        rfmkit.dask.segment(four, "value4")
    assert rfmkit.dask.segment(four, "value4", bins=4)[1]["segment"]["bins"] == 4


def fitted_models(df: pd.DataFrame):
    """BG/NBD, Gamma-Gamma and k-means fitted on one machine, and the single-machine
    predictions every distributed one must equal."""
    summary = quiet(rfmkit.clv.summary, df, **COLUMNS, freq="W")
    # messy's customers buy at uniform random times: one purchase rate for all and no
    # drop-out, so a BG/NBD fit on them is a limit (a ConvergenceError); CDNOW's parameters
    # (weeks) make the predictions
    bgf = rfmkit.clv.BetaGeoFitter()
    bgf.params_, bgf.time_unit_ = rfmkit.datasets.cdnow_params("bgnbd"), "W"
    ggf = rfmkit.clv.GammaGammaFitter().fit(summary[summary["frequency"] > 0])
    table = quiet(rfmkit.rfm, df, **COLUMNS)
    km = rfmkit.KMeans(3, random_state=0).fit(table[["recency", "frequency", "monetary"]])
    f, r, T, m = (summary[c] for c in ("frequency", "recency", "T", "monetary_value"))
    expected = {
        "p_alive": bgf.conditional_probability_alive(f, r, T),
        "expected_purchases": bgf.conditional_expected_number_of_purchases_up_to_time(10, f, r, T),
        "expected_spend": ggf.conditional_expected_average_profit(f, m),
        "clv": ggf.customer_lifetime_value(bgf, f, r, T, m, time=6, discount_rate=0.02),
        "cluster": pd.Series(km.predict(table[["recency", "frequency", "monetary"]]), index=table.index),
    }
    return bgf, ggf, km, expected


def assert_predictions(got: pd.DataFrame, expected: dict, columns: list) -> None:
    got = got.sort_index()
    for column in columns:
        one = expected[column].sort_index()
        assert [str(v) for v in got.index] == [str(v) for v in one.index]
        assert np.array_equal(np.asarray(got[column]), np.asarray(one)), column


def test_dask_predictions_equal_one_machine() -> None:
    df = messy(41, n=8000)
    bgf, ggf, km, expected = fitted_models(df)
    ddf = dd.from_pandas(df, npartitions=3)
    summary, _ = quiet(rfmkit.dask.summary, ddf, **COLUMNS, freq="W", partitions=4)
    table, _ = quiet(rfmkit.dask.rfm, ddf, **COLUMNS, partitions=4)
    got, info = rfmkit.dask.predict(summary, bgf, t=10)
    assert info["predict"]["columns"] == ["p_alive", "expected_purchases"]
    assert_predictions(got.compute(), expected, ["p_alive", "expected_purchases"])
    got, _ = rfmkit.dask.predict(summary, ggf, purchase_model=bgf, time=6, discount_rate=0.02)
    assert_predictions(got.compute(), expected, ["expected_spend", "clv"])
    got, _ = rfmkit.dask.predict(table, km)
    assert_predictions(got.compute(), expected, ["cluster"])
    with pytest.raises(ColumnNotFoundError, match="T"):
        rfmkit.dask.predict(table, bgf)
    with pytest.raises(InvalidParameterError, match="model must be"):
        rfmkit.dask.predict(table, object())


def test_split_mean_is_independent_of_row_order() -> None:
    rng = np.random.default_rng(4)
    values = rng.lognormal(3, 2, 5001).round(2)
    means = {split_values({"m": rng.permutation(values)}, "mean")["m"] for _ in range(20)}
    assert len(means) == 1


# ---------------------------------------------------------------------------- Spark


def _java() -> bool:
    return any(
        os.access(os.path.join(path, "java"), os.X_OK) for path in os.environ.get("PATH", "").split(os.pathsep)
    ) or bool(os.environ.get("JAVA_HOME"))


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark")
    if not _java():
        pytest.skip("Spark needs Java")
    session = local_spark("rfmkit-tests", partitions=4, memory="2g")
    yield session
    session.stop()


def _spark_table(table) -> pd.DataFrame:
    frame = table.toPandas()
    return frame.set_index(frame.columns[0])


@pytest.mark.parametrize("ids", ["int", "str"])
def test_spark_views_equal_one_machine(spark, ids: str) -> None:
    import rfmkit.spark

    df = messy(11, ids=ids)
    sdf = spark.createDataFrame(df)
    cases = [
        (rfmkit.rfm, rfmkit.spark.rfm, {}, 3),
        (rfmkit.rfm, rfmkit.spark.rfm, {"as_of": "2024-02-01", "window": 90}, 1),
        (rfmkit.clv.summary, rfmkit.spark.summary, {"freq": "W"}, 2),
        (
            rfmkit.clv.calibration_holdout,
            rfmkit.spark.calibration_holdout,
            {"calibration_period_end": "2023-12-31"},
            None,
        ),
    ]
    for single, distributed, options, partitions in cases:
        one = quiet(single, df, **COLUMNS, **options)
        table, accounting = quiet(distributed, sdf, **COLUMNS, partitions=partitions, **options)
        got = _spark_table(table)
        if ids == "int":
            got.index = got.index.astype("Int64")
        assert_same(one, got, accounting)
        table.unpersist()


@pytest.mark.parametrize("ids", ["int", "str"])
def test_spark_equals_one_machine_on_a_million_order_lines(spark, ids: str) -> None:
    import rfmkit.spark

    df = order_lines(ids=ids, seed=5)
    # Round robin: every customer over many partitions. Cached, so that each job reads
    # the cache instead of sending the driver's million rows in its tasks again.
    sdf = spark.createDataFrame(df).repartition(8).persist()
    sdf.count()
    cases = [BIG_CASES[1], BIG_CASES[2], BIG_CASES[5]] if ids == "int" else [BIG_CASES[0], BIG_CASES[4]]
    for single, name, options in cases:
        one = quiet(single, df, **COLUMNS, **options)
        table, accounting = quiet(getattr(rfmkit.spark, name), sdf, **COLUMNS, partitions=5, **options)
        got = _spark_table(table)
        if ids == "int":
            got.index = got.index.astype("Int64")
        assert_same(one, got, accounting)
        table.unpersist()
    sdf.unpersist()


def test_spark_window_without_as_of_and_without_valid_rows(spark) -> None:
    import rfmkit.spark

    df = messy(4, n=50).assign(amt=np.nan)
    for frame in (df, df.iloc[:0]):
        one = quiet(rfmkit.rfm, frame, **COLUMNS, window=30)
        sdf = spark.createDataFrame(frame, "cid long, ts timestamp, amt double")
        table, accounting = quiet(rfmkit.spark.rfm, sdf, **COLUMNS, window=30, partitions=3)
        assert table.count() == 0 and accounting == one.attrs["rfmkit"]
        table.unpersist()


def test_spark_buckets_fill_one_partition_each(spark) -> None:
    """The bucket keys are computed with Spark's own hash (checked against `hash()`), so
    that `repartition(n, bucket)` gives every bucket a partition of its own."""
    from pyspark.sql import functions as F

    from rfmkit.spark import _murmur3_int, _partition_keys

    values = [*list(range(-300, 3000)), 2**31 - 1, -(2**31), 123456789]
    hashed = spark.createDataFrame([(v,) for v in values], "v int").select(F.hash("v")).collect()
    assert [row[0] for row in hashed] == [_murmur3_int(v) for v in values]
    for n in (1, 2, 5, 8, 64):
        keys = _partition_keys(n)
        placed = (
            spark.createDataFrame([(k,) for k in keys], "k int")
            .repartition(n, "k")
            .select(F.spark_partition_id().alias("p"))
            .groupBy("p")
            .count()
            .collect()
        )
        assert sorted(row["p"] for row in placed) == list(range(n))


def test_spark_scores_equal_one_machine(spark) -> None:
    import rfmkit.spark

    df = messy(23, n=6000, ids="str")
    one_table = quiet(rfmkit.rfm, df, **COLUMNS)
    table, _ = quiet(rfmkit.spark.rfm, spark.createDataFrame(df), **COLUMNS, partitions=3)
    for options in SCORINGS:
        one = rfmkit.score(one_table, **options)
        scored, info = rfmkit.spark.score(table, **options)
        assert_same_scores(one, _spark_table(scored), info)
    table.unpersist()


def test_spark_segments_equal_one_machine(spark) -> None:
    import rfmkit.spark

    df = messy(33, n=6000)
    one_scored = rfmkit.score(quiet(rfmkit.rfm, df, **COLUMNS))
    table, _ = quiet(rfmkit.spark.rfm, spark.createDataFrame(df), **COLUMNS, partitions=3)
    scored, _ = rfmkit.spark.score(table)
    for scheme, options in segmentations():
        one = rfmkit.segment(one_scored, scheme, **options)
        segmented, info = rfmkit.spark.segment(scored, scheme, **options)
        got = _spark_table(segmented)
        got.index = got.index.astype("Int64")
        assert_same_segments(one, got, info)
    table.unpersist()


def test_spark_predictions_equal_one_machine(spark) -> None:
    import rfmkit.spark

    df = messy(43, n=8000)
    bgf, ggf, km, expected = fitted_models(df)
    sdf = spark.createDataFrame(df)
    summary, _ = quiet(rfmkit.spark.summary, sdf, **COLUMNS, freq="W", partitions=3)
    table, _ = quiet(rfmkit.spark.rfm, sdf, **COLUMNS, partitions=3)
    for data, model, options, columns in [
        (summary, bgf, {"t": 10}, ["p_alive", "expected_purchases"]),
        (summary, ggf, {"purchase_model": bgf, "time": 6, "discount_rate": 0.02}, ["expected_spend", "clv"]),
        (table, km, {}, ["cluster"]),
    ]:
        got, _ = rfmkit.spark.predict(data, model, **options)
        got = _spark_table(got)
        got.index = got.index.astype("Int64")
        assert_predictions(got, expected, columns)
    summary.unpersist()
    table.unpersist()


def test_spark_keeps_the_kind_of_the_date_column_in_any_session_zone(spark) -> None:
    """Wall-clock timestamps and dates come back as they went in, whatever the session's
    zone (a timestamp_ntz written out as a UTC instant was shown 8 hours late in
    Asia/Shanghai); instants are counted on the session's calendar."""
    import datetime as dt

    import rfmkit.spark

    rows = [
        (1, dt.datetime(2024, 1, 1, 2, 0), 10.0),
        (1, dt.datetime(2024, 1, 5, 23, 0), 5.0),
        (2, dt.datetime(2024, 1, 3, 12, 0), 7.5),
    ]
    local = pd.DataFrame(rows, columns=["cid", "ts", "amt"])
    one = rfmkit.rfm(local, **COLUMNS)
    previous = spark.conf.get("spark.sql.session.timeZone")
    try:
        for zone in ("Asia/Shanghai", "America/New_York"):
            spark.conf.set("spark.sql.session.timeZone", zone)
            wall = spark.createDataFrame(rows, "cid long, ts timestamp_ntz, amt double")
            table, _ = rfmkit.spark.rfm(wall, **COLUMNS, partitions=1)
            got = _spark_table(table).sort_index()
            assert got["last_purchase"].tolist() == one["last_purchase"].tolist()
            assert got["recency"].tolist() == one["recency"].tolist()
            table.unpersist()
            days = spark.createDataFrame(rows, "cid long, ts timestamp_ntz, amt double").selectExpr(
                "cid", "to_date(ts) as ts", "amt"
            )
            table, _ = rfmkit.spark.rfm(days, **COLUMNS, partitions=2)
            got = _spark_table(table).sort_index()
            as_dates = rfmkit.rfm(local.assign(ts=local["ts"].dt.normalize()), **COLUMNS)
            assert [str(d)[:10] for d in got["first_purchase"]] == [str(d)[:10] for d in as_dates["first_purchase"]]
            assert got["recency"].tolist() == as_dates["recency"].tolist()
            table.unpersist()
    finally:
        spark.conf.set("spark.sql.session.timeZone", previous)


def test_spark_results_free_their_cache_and_keep_whole_number_ids(spark) -> None:
    import rfmkit.spark

    df = messy(7).assign(cid=lambda d: d["cid"].astype("float64"))
    persistent = spark.sparkContext._jsc.getPersistentRDDs
    before = len(persistent())
    table, _ = quiet(rfmkit.spark.rfm, spark.createDataFrame(df), **COLUMNS, partitions=2)
    assert table.is_cached and len(persistent()) == before + 1
    assert table.schema["cid"].dataType.typeName() == "long"  # as one machine: int64
    table.unpersist(blocking=True)
    assert len(persistent()) == before
    scored, info = rfmkit.spark.score(table.limit(0))
    assert scored.count() == 0 and info["score"]["levels"] == {"recency": 0, "frequency": 0, "monetary": 0}


def test_spark_errors(spark) -> None:
    import rfmkit.spark

    df = messy(5)
    sdf = spark.createDataFrame(df)
    with pytest.raises(ColumnNotFoundError, match="date='day'"):
        rfmkit.spark.rfm(sdf, customer="cid", date="day", amount="amt")
    text = spark.createDataFrame(df.assign(ts=df["ts"].dt.strftime("%Y-%m-%d")))
    with pytest.raises(InvalidParameterError, match="date_format="):
        rfmkit.spark.summary(text, **COLUMNS)
    with pytest.warns(rfmkit.DataQualityWarning, match="rfmkit.spark.rfm dropped"):
        rfmkit.spark.rfm(sdf, **COLUMNS)
    as_text = spark.createDataFrame(df.assign(amt=df["amt"].astype(str)))
    with pytest.raises(rfmkit.DtypeError, match="cast"):
        rfmkit.spark.rfm(as_text, **COLUMNS)
    numbers = spark.createDataFrame(df.assign(ts=df["ts"].dt.strftime("%Y%m%d").astype(int)))
    with pytest.raises(InvalidParameterError, match="%Y%m%d"):
        rfmkit.spark.rfm(numbers, **COLUMNS)
    with pytest.raises(InvalidParameterError, match="rfmkit.rfm"):
        rfmkit.spark.rfm(df, **COLUMNS)
    with pytest.raises(rfmkit.InvalidRowError, match="within one partition"):
        rfmkit.spark.rfm(sdf, **COLUMNS, invalid="raise")
    result = quiet(rfmkit.spark.rfm, sdf, **COLUMNS)
    with pytest.raises(InvalidParameterError, match="unpack"):
        rfmkit.spark.score(result)
    result.table.unpersist()
