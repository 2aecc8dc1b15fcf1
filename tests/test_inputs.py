"""Every supported input form gives the same table: id types, timestamp types, frontends."""

import datetime as dt
import warnings

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import rfmkit

COLS = dict(customer="cid", date="ts", amount="amt")

BASE = pd.DataFrame(
    {
        "cid": [7, 3, 7, 9, 3, 7],
        "ts": pd.to_datetime(
            [
                "2024-03-01 10:00",
                "2024-03-02 23:59",
                "2024-03-05 00:00",
                "2024-03-05 08:00",
                "2024-03-09 00:00",
                "2024-03-10 12:00",
            ]
        ),
        "amt": [10.0, 4.5, 2.0, 8.0, 1.5, -1.0],
        "oid": ["a", "b", "c", "d", "e", "f"],
    }
)
EXPECTED = pd.DataFrame(
    {
        "recency": [6, 2, 6],
        "frequency": [2, 2, 1],
        "monetary": [11.0, 6.0, 8.0],
        "tenure": [10, 9, 6],
    },
    index=pd.Index([7, 3, 9], name="cid"),
)


def check(table, ids=None, record=None):
    expected = EXPECTED if ids is None else EXPECTED.set_axis(pd.Index(ids, name="cid", tupleize_cols=False))
    got = table[["recency", "frequency", "monetary", "tenure"]]
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True))
    assert got.index.tolist() == expected.index.tolist()
    assert got.index.name == "cid"
    assert list(table.columns) == list(rfmkit._rfm.RFM_COLUMNS)
    assert (record or rfmkit.quality(table))["rows_used"] == 6


@pytest.mark.parametrize(
    "convert, ids",
    [
        (lambda s: s, None),
        (lambda s: s.astype("int32"), None),
        (lambda s: s.astype("uint16"), None),
        (lambda s: s.astype("Int64"), None),
        (lambda s: s.astype("int64[pyarrow]"), None),
        (lambda s: s.astype(float), None),
        (lambda s: s.astype("category"), None),
        (lambda s: ("C" + s.astype(str)).astype(object), ["C7", "C3", "C9"]),
        (lambda s: ("C" + s.astype(str)).astype("str"), ["C7", "C3", "C9"]),
        (lambda s: ("C" + s.astype(str)).astype("string[python]"), ["C7", "C3", "C9"]),
        (lambda s: ("C" + s.astype(str)).astype("string[pyarrow]"), ["C7", "C3", "C9"]),
        (lambda s: ("C" + s.astype(str)).astype(pd.ArrowDtype(pa.string())), ["C7", "C3", "C9"]),
        (lambda s: s.map(lambda v: (v, "x")), [(7, "x"), (3, "x"), (9, "x")]),
    ],
    ids=[
        "int64",
        "int32",
        "uint16",
        "Int64",
        "arrow-int",
        "float",
        "category",
        "object-str",
        "str",
        "string-python",
        "string-pyarrow",
        "arrow-string",
        "tuples",
    ],
)
def test_customer_id_types(convert, ids):
    frame = BASE.assign(cid=convert(BASE["cid"]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = rfmkit.rfm(frame, **COLS)
    if ids is None:
        assert table.index.tolist() == [7, 3, 9]
    check(table, ids)


def test_float_ids_with_nulls_come_back_as_ints():
    frame = BASE.assign(cid=BASE["cid"].astype(float))
    frame.loc[5, "cid"] = np.nan
    with pytest.warns(rfmkit.DataQualityWarning):
        table = rfmkit.rfm(frame, **COLS)
    assert table.index.dtype == np.int64
    assert rfmkit.quality(table)["dropped"] == {"missing_customer": 1}


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
@pytest.mark.parametrize("tz", [None, "Asia/Shanghai", "America/New_York"])
def test_timestamp_units_and_time_zones(unit, tz):
    ts = BASE["ts"].astype(f"datetime64[{unit}]")
    if tz:
        # The same wall clock in another zone: the days, and so the table, do not change.
        ts = ts.dt.tz_localize(tz)
    table = rfmkit.rfm(BASE.assign(ts=ts), **COLS)
    check(table)
    assert table["first_purchase"].dtype == ts.dtype
    assert table["last_purchase"].iloc[0] == ts.iloc[2]


def test_date_objects_and_arrow_timestamps():
    dates = BASE["ts"].dt.date
    table = rfmkit.rfm(BASE.assign(ts=dates), **COLS)
    check(table)
    arrow_ts = BASE["ts"].astype(pd.ArrowDtype(pa.timestamp("ms", tz="Europe/Berlin")))
    check(rfmkit.rfm(BASE.assign(ts=BASE["ts"].dt.tz_localize("Europe/Berlin").astype(arrow_ts.dtype)), **COLS))
    date32 = pd.Series(pa.array(dates.tolist(), pa.date32()), dtype=pd.ArrowDtype(pa.date32()))
    check(rfmkit.rfm(BASE.assign(ts=date32), **COLS))


def test_utc_instants_use_their_own_wall_clock():
    # 2024-03-01 23:30 in New York is 2024-03-02 04:30 UTC: the day is the local one.
    ts = pd.Series(pd.to_datetime(["2024-03-02 04:30", "2024-03-03 12:00"], utc=True)).dt.tz_convert("America/New_York")
    frame = pd.DataFrame({"cid": [1, 2], "ts": ts, "amt": [1.0, 1.0]})
    table = rfmkit.rfm(frame, **COLS)
    assert rfmkit.quality(table)["as_of"] == "2024-03-04"
    assert table.loc[1, "recency"] == 3


def test_amount_types():
    for amounts in (
        BASE["amt"].astype("Float64"),
        BASE["amt"].astype("float32"),
        BASE["amt"].astype(object),
        BASE["amt"].astype(pd.ArrowDtype(pa.float64())),
        BASE["amt"].map(lambda v: __import__("decimal").Decimal(str(v))),
    ):
        check(rfmkit.rfm(BASE.assign(amt=amounts), **COLS))
    ints = rfmkit.rfm(BASE.assign(amt=[10, 4, 2, 8, 1, -1]), **COLS)
    assert ints["monetary"].tolist() == [11.0, 5.0, 8.0]


def test_polars_in_polars_out():
    frame = pl.from_pandas(BASE)
    table = rfmkit.rfm(frame, **COLS)
    assert isinstance(table, pl.DataFrame)
    assert table.columns == ["cid", *rfmkit._rfm.RFM_COLUMNS]
    assert table["cid"].to_list() == [7, 3, 9]
    assert table["monetary"].to_list() == [11.0, 6.0, 8.0]
    assert table["first_purchase"].dtype == frame["ts"].dtype
    assert rfmkit.quality(table)["rows_in"] == 6
    strings = rfmkit.rfm(frame.with_columns(pl.col("cid").cast(pl.String)), **COLS)
    assert strings["cid"].to_list() == ["7", "3", "9"]
    cats = rfmkit.rfm(frame.with_columns(pl.col("cid").cast(pl.String).cast(pl.Categorical)), **COLS)
    assert cats["recency"].to_list() == [6, 2, 6]
    tz = rfmkit.rfm(frame.with_columns(pl.col("ts").dt.replace_time_zone("Asia/Tokyo")), **COLS)
    assert tz["tenure"].to_list() == [10, 9, 6]


def test_pyarrow_table_in_pyarrow_out():
    table = rfmkit.rfm(pa.Table.from_pandas(BASE, preserve_index=False), **COLS)
    assert isinstance(table, pa.Table) and table.column_names[0] == "cid"
    check(table.to_pandas().set_index("cid"), record=rfmkit.quality(table))


def test_orders_of_any_type_collapse_lines():
    frame = BASE.assign(oid=["a", "b", "a", "d", "e", "f"])
    table = rfmkit.rfm(frame, **COLS, order="oid")
    assert table.loc[7, "frequency"] == 1
    assert table.loc[7, "avg_order_value"] == 11.0
    frame = BASE.assign(oid=[1, 2, 1, 4, 5, 6])
    assert rfmkit.rfm(frame, **COLS, order="oid").loc[7, "frequency"] == 1


@pytest.mark.parametrize("frontend", ["pandas", "polars", "arrow"])
def test_empty_input_gives_an_empty_typed_table(frontend):
    frame = BASE.iloc[:0]
    data = {
        "pandas": frame,
        "polars": pl.from_pandas(frame),
        "arrow": pa.Table.from_pandas(frame, preserve_index=False),
    }[frontend]
    table = rfmkit.rfm(data, **COLS)
    assert len(table) == 0
    assert rfmkit.quality(table) == {"rows_in": 0, "rows_used": 0, "dropped": {}, "as_of": None}
    if frontend == "pandas":
        assert table.dtypes.to_dict() == {
            "recency": np.int64,
            "frequency": np.int64,
            "monetary": np.float64,
            "avg_order_value": np.float64,
            "first_purchase": frame["ts"].dtype,
            "last_purchase": frame["ts"].dtype,
            "tenure": np.int64,
        }
        assert table.index.name == "cid"


def test_one_row():
    table = rfmkit.rfm(BASE.iloc[:1], **COLS)
    assert table.to_dict("list")["recency"] == [1]
    assert rfmkit.quality(table)["as_of"] == "2024-03-02"


def test_inputs_are_not_mutated():
    frame = BASE.assign(cid=BASE["cid"].astype("category"), ts=BASE["ts"].dt.tz_localize("UTC"))
    before = frame.copy(deep=True)
    rfmkit.rfm(frame, **COLS, order="oid")
    with pytest.warns(rfmkit.DataQualityWarning, match="1 return"):
        rfmkit.clv.summary(frame, customer="cid", date="ts", amount="amt")
    pd.testing.assert_frame_equal(frame, before)


def test_as_of_accepts_dates_and_strings():
    for as_of in ("2024-03-11", dt.date(2024, 3, 11), pd.Timestamp("2024-03-11"), np.datetime64("2024-03-11")):
        assert rfmkit.rfm(BASE, **COLS, as_of=as_of)["recency"].tolist() == [6, 2, 6]


@pytest.mark.parametrize(
    "table, reason",
    [
        (pa.table({"cid": pa.array([1, 2]), "ts": pa.nulls(2), "amt": pa.array([1.0, 2.0])}), "missing_date"),
        (
            pa.table({"cid": pa.nulls(2), "ts": pa.array([dt.date(2024, 1, 1)] * 2), "amt": pa.array([1.0, 2.0])}),
            "missing_customer",
        ),
        (pl.DataFrame({"cid": [1, 2], "ts": [dt.date(2024, 1, 1)] * 2, "amt": [None, None]}), "invalid_amount"),
    ],
)
def test_columns_of_only_nulls_are_counted_not_rejected(table, reason):
    # Arrow gives an all-null column the type `null`; its rows are invalid, not a type error.
    with pytest.warns(rfmkit.DataQualityWarning):
        result = rfmkit.rfm(table, **COLS)
    assert len(result) == 0
    assert rfmkit.quality(result)["dropped"] == {reason: 2}
    with pytest.warns(rfmkit.DataQualityWarning):
        summary = rfmkit.clv.summary(table, customer="cid", date="ts", amount="amt")
    assert rfmkit.quality(summary)["dropped"] == {reason: 2}


def test_empty_arrow_table_of_date_objects():
    # pa.Table.from_pandas of an empty object column of dates has the type `null`.
    table = pa.Table.from_pandas(
        pd.DataFrame(
            {
                "cid": pd.Series([], dtype="int64"),
                "ts": pd.Series([], dtype=object),
                "amt": pd.Series([], dtype="float64"),
            }
        )
    )
    assert pa.types.is_null(table.schema.field("ts").type)
    result = rfmkit.rfm(table, **COLS)
    assert len(result) == 0 and rfmkit.quality(result)["rows_in"] == 0


@pytest.mark.parametrize("kind", ["string", "large_string", "string_view", "sliced", "pandas_str", "polars"])
def test_string_ids_in_parallel_chunks_keep_first_appearance_order(kind):
    # Enough rows for the parallel chunks of the encoder; ids that only start in the second
    # half (a new id in a later chunk), ids shared by both halves, long ids, and nulls.
    from rfmkit._io import columns as _columns

    n = 300_000
    rows = np.arange(n)
    ids = np.where(rows < n // 2, rows % 5_000, rows % 9_000).astype(object)
    labels = np.array([f"id-{k}" if k % 3 else f"a-long-customer-identifier-{k}" for k in ids], dtype=object)
    labels[rows % 97 == 0] = None
    expected_codes, _ = pd.factorize(pd.Series(labels, dtype=object), use_na_sentinel=True)
    array = pa.array(labels, type=pa.string())
    if kind == "large_string":
        array = array.cast(pa.large_string())
    elif kind == "string_view":
        array = array.cast(pa.string_view())
    if kind == "sliced":
        array = pa.array(np.concatenate([["pad", None], labels]), type=pa.string()).slice(2)
    if kind == "pandas_str":
        column = _columns.Column("cid", "pandas", pd.Series(labels, dtype="str"))
    elif kind == "polars":
        column = _columns.Column("cid", "polars", pl.Series("cid", array))
    else:
        column = _columns.Column("cid", "arrow", pa.chunked_array([array]))
    codes = _columns.factorize(column)
    np.testing.assert_array_equal(codes.codes, expected_codes)
    first = pd.Series(expected_codes).drop_duplicates()
    first = first[first >= 0]
    np.testing.assert_array_equal(codes.first_rows, first.index.to_numpy())


# --------------------------------------------------------------------------- ids and names of real exports


def test_non_string_column_names():
    days = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"])
    frame = pd.DataFrame({0: [1, 2, 1], 1: days, 2: [1.0, 2.0, 3.0]})
    table = rfmkit.rfm(frame, customer=0, date=1, amount=2)
    assert table["frequency"].tolist() == [2, 1]
    assert rfmkit.clv.summary(frame, customer=0, date=1, amount=2)["frequency"].tolist() == [1.0, 0.0]
    nested = frame.set_axis(pd.MultiIndex.from_tuples([("a", "x"), ("a", "y"), ("b", "z")]), axis=1)
    assert rfmkit.rfm(nested, customer=("a", "x"), date=("a", "y"), amount=("b", "z"))["monetary"].tolist() == [
        4.0,
        2.0,
    ]


def test_ids_that_collide_as_text_are_an_error():
    days = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"])
    frame = pd.DataFrame({"c": [1, "1", 2], "d": days, "a": [1.0, 2.0, 3.0]})
    with pytest.raises(
        rfmkit.DtypeError,
        match=r"customer column 'c' mixes numbers and text that read the same \(1 and '1'\).*astype\(str\)",
    ):
        rfmkit.rfm(frame, customer="c", date="d", amount="a")
    # the opt-in: one type
    assert rfmkit.rfm(frame.astype({"c": str}), customer="c", date="d", amount="a")["frequency"].tolist() == [2, 1]
    # numbers and text that do not collide stay distinct ids
    mixed = frame.assign(c=[1, "x", 1])
    assert rfmkit.rfm(mixed, customer="c", date="d", amount="a").index.tolist() == [1, "x"]
    with pytest.raises(rfmkit.DtypeError, match="order column 'o' mixes numbers and text"):
        rfmkit.rfm(frame.assign(c=1, o=[7, "7", 8]), customer="c", date="d", amount="a", order="o")


def test_unhashable_ids_are_a_clear_error():
    days = pd.to_datetime(["2024-01-01", "2024-01-02"])
    frame = pd.DataFrame({"c": [[1], [2]], "d": days, "a": [1.0, 2.0]})
    with pytest.raises(rfmkit.DtypeError, match=r"customer column 'c' holds values that cannot be ids, e.g. \[1\]"):
        rfmkit.rfm(frame, customer="c", date="d", amount="a")


@pytest.mark.filterwarnings("ignore::rfmkit.DataQualityWarning")
@pytest.mark.parametrize(
    "convert", [lambda s: s, lambda s: s.astype("string"), lambda s: s.astype(pd.ArrowDtype(pa.string()))]
)
def test_empty_text_ids_are_missing_customers(convert):
    days = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"])
    frame = pd.DataFrame(
        {"c": convert(pd.Series(["a", "", "  ", "a"], dtype=object)), "d": days, "a": [1.0, 2.0, 3.0, 4.0]}
    )
    table = rfmkit.rfm(frame, customer="c", date="d", amount="a")
    assert table.index.tolist() == ["a"]
    assert rfmkit.quality(table)["dropped"] == {"missing_customer": 2}
    with pytest.raises(rfmkit.InvalidRowError, match="row 1"):
        rfmkit.rfm(frame, customer="c", date="d", amount="a", invalid="raise")


def test_pyarrow_results_keep_the_types_of_the_input_columns():
    """pyarrow in, pyarrow out, in the input's types: string ids stay string (not
    large_string), dictionary ids stay dictionaries, date32 dates stay date32, so the
    result joins back onto the orders."""
    days = pa.array([dt.date(2024, 1, 1), dt.date(2024, 1, 5), dt.date(2024, 2, 1)])
    orders = pa.table({"id": ["a", "b", "a"], "d": days, "x": [1.0, 2.0, 3.0]})
    table = rfmkit.rfm(orders, customer="id", date="d", amount="x")
    assert table.schema.field("id").type == pa.string()
    assert table.schema.field("first_purchase").type == pa.date32()
    assert orders.join(table, "id").num_rows == 3
    coded = orders.set_column(0, "id", orders["id"].dictionary_encode())
    assert pa.types.is_dictionary(rfmkit.rfm(coded, customer="id", date="d", amount="x").schema.field("id").type)


def test_the_clv_models_fit_a_pyarrow_summary_as_a_pandas_one():
    orders = rfmkit.datasets.make_transactions(400, seed=8)
    keys = dict(customer="customer_id", date="ordered_at", amount="amount")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        want = rfmkit.clv.summary(orders, **keys)
        got = rfmkit.clv.summary(pa.Table.from_pandas(orders, preserve_index=False), **keys)
    assert isinstance(got, pa.Table)
    pd.testing.assert_series_equal(
        rfmkit.clv.BetaGeoFitter().fit(got).params_, rfmkit.clv.BetaGeoFitter().fit(want).params_
    )
    repeat = want[want["frequency"] > 0]
    pd.testing.assert_series_equal(
        rfmkit.clv.GammaGammaFitter().fit(got.filter(pc.greater(got["frequency"], 0))).params_,
        rfmkit.clv.GammaGammaFitter().fit(repeat).params_,
    )


@pytest.mark.parametrize("kind", ["polars", "arrow"])
def test_plots_take_polars_and_pyarrow_tables_of_the_user(kind):
    """A table without an id column keeps all its columns (the first is not taken for an index)."""
    import matplotlib

    matplotlib.use("Agg")
    frame = pd.DataFrame({"r_score": [1, 5, 5], "f_score": [1, 5, 4], "monetary": [10.0, 90.0, 50.0]})
    table = pl.from_pandas(frame) if kind == "polars" else pa.Table.from_pandas(frame, preserve_index=False)
    ax = rfmkit.plot.rf_heatmap(table)
    assert ax.get_xlabel() == "frequency score"
    clv = pl.DataFrame({"clv": [1.0, 2.0, 3.0]}) if kind == "polars" else pa.table({"clv": [1.0, 2.0, 3.0]})
    assert rfmkit.plot.clv_distribution(clv).get_xlabel().startswith("customer lifetime value")
