"""The one date rule (python/rfmkit/_dates.py) through the Python API: text read with one
format for the whole column, numbers only with a date_format, values that are not dates
counted by reason; every frontend alike."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rfmkit
from rfmkit import DtypeError, InvalidParameterError, InvalidRowError

COLS = dict(customer="c", date="d", amount="a")


def orders(dates) -> pd.DataFrame:
    n = len(dates)
    return pd.DataFrame({"c": [f"{i % 3:03d}" for i in range(n)], "a": np.arange(1.0, n + 1), "d": dates})


def rfm(data, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        return rfmkit.rfm(data, **COLS, **kwargs)


def firsts(table) -> list[str]:
    return [str(pd.Timestamp(v).date()) for v in table["first_purchase"]]


def test_day_first_text_is_read_with_one_format():
    # 03/04 could be either; 25/04 only day first: the whole column is day first
    table = rfm(orders(["03/04/2024", "25/04/2024", "12/05/2024"]))
    assert firsts(table) == ["2024-04-03", "2024-04-25", "2024-05-12"]
    assert table.attrs["rfmkit"]["date_format"] == "%d/%m/%Y"
    table = rfm(orders(["04/03/2024", "04/25/2024", "05/12/2024"]))
    assert firsts(table) == ["2024-04-03", "2024-04-25", "2024-05-12"]
    assert table.attrs["rfmkit"]["date_format"] == "%m/%d/%Y"


def test_ambiguous_text_is_an_error_naming_dayfirst():
    data = orders(["03/04/2024", "04/05/2024", "01/02/2024"])
    with pytest.raises(DtypeError, match=r"date column 'd' is ambiguous.*'03/04/2024'.*dayfirst=True"):
        rfm(data)
    assert firsts(rfm(data, dayfirst=True)) == ["2024-04-03", "2024-05-04", "2024-02-01"]
    assert firsts(rfm(data, dayfirst=False)) == ["2024-03-04", "2024-04-05", "2024-01-02"]
    assert firsts(rfm(data, date_format="%d/%m/%Y")) == ["2024-04-03", "2024-05-04", "2024-02-01"]


def test_integer_dates_are_never_nanoseconds():
    data = orders([19970101, 19970112, 19980630])
    with pytest.raises(DtypeError, match=r"never reads numbers as epoch nanoseconds.*yyyymmdd.*date_format='%Y%m%d'"):
        rfm(data)
    assert firsts(rfm(data, date_format="%Y%m%d")) == ["1997-01-01", "1997-01-12", "1998-06-30"]
    excel = orders([45292, 45293, 45300])
    with pytest.raises(DtypeError, match=r"Excel serial days \(e.g. 45292 = 2024-01-01\).*date_format='excel'"):
        rfm(excel)
    assert firsts(rfm(excel, date_format="excel")) == ["2024-01-01", "2024-01-02", "2024-01-09"]
    unix = orders([1_704_067_200, 1_704_153_600, 1_704_240_000])
    assert firsts(rfm(unix, date_format="unix")) == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert firsts(rfm(orders([1_704_067_200_000, 1_704_153_600_000, 1_704_240_000_000]), date_format="unix_ms")) == [
        "2024-01-01",
        "2024-01-02",
        "2024-01-03",
    ]
    # excel days carry the time of day in their fraction
    table = rfm(orders([45292.5, 45293.25, 45300.0]), date_format="excel")
    assert str(table["first_purchase"].iloc[0]) == "2024-01-01 12:00:00"


@pytest.mark.parametrize(
    "values, date_format, reason",
    [
        (["2024-01-03", "2024-01-04", "9999-12-31"], None, "date_out_of_range"),
        (["2024-01-03", "2024-01-04", "1899-12-31"], None, "date_out_of_range"),
        (["2024-01-03", "2024-01-04", "not a date"], None, "unparseable_date"),
        (["2024-01-03", "2024-01-04", "2024-02-30"], None, "unparseable_date"),
        ([20240103, 20240104, 99991231], "%Y%m%d", "date_out_of_range"),
        ([45294, 45295, 1e9], "excel", "date_out_of_range"),
        ([20240103, 20240104, 20241350], "%Y%m%d", "unparseable_date"),
    ],
)
def test_values_that_are_not_dates_are_counted_or_raise(values, date_format, reason):
    data = orders(values)
    table = rfm(data, date_format=date_format)
    info = table.attrs["rfmkit"]
    assert info["dropped"] == {reason: 1}
    assert info["rows_in"] == info["rows_used"] + 1 == 3
    with pytest.raises(InvalidRowError, match=rf"row 2 \(0-based position\): date column 'd' is .*\(as {reason}\)"):
        rfm(data, date_format=date_format, invalid="raise")


def test_sentinel_dates_in_timestamp_columns_are_out_of_range():
    stamps = pd.Series(pd.to_datetime(["2024-01-03", "2024-01-04", "2200-01-01"]).astype("datetime64[s]"))
    table = rfm(orders(stamps))
    assert table.attrs["rfmkit"]["dropped"] == {"date_out_of_range": 1}
    assert table.attrs["rfmkit"]["as_of"] == "2024-01-05"


def test_a_missing_customer_comes_before_a_bad_date():
    data = orders(["2024-01-03", "nope", "2024-01-05"])
    data.loc[1, "c"] = None
    assert rfm(data).attrs["rfmkit"]["dropped"] == {"missing_customer": 1}
    with pytest.raises(InvalidRowError, match="customer"):
        rfm(data, invalid="raise")


def test_utc_offsets():
    mixed = orders(["2024-01-01T23:00:00+08:00", "2024-01-01T10:00:00+00:00", "2024-01-02T01:00:00Z"])
    table = rfm(mixed)
    assert str(table["first_purchase"].dtype) == "datetime64[us, UTC]"
    assert [str(v) for v in table["first_purchase"]] == [
        "2024-01-01 15:00:00+00:00",
        "2024-01-01 10:00:00+00:00",
        "2024-01-02 01:00:00+00:00",
    ]
    same = rfm(orders(["2024-01-01T23:00:00+08:00", "2024-01-02T10:00:00+08:00", "2024-01-03T01:00:00+08:00"]))
    # one offset: the wall clock of the data (23:00 on the 1st is the 1st)
    assert firsts(same) == ["2024-01-01", "2024-01-02", "2024-01-03"]
    with pytest.raises(DtypeError, match=r"mixes times with a UTC offset .* and without"):
        rfm(orders(["2024-01-01T23:00:00+08:00", "2024-01-02T10:00:00", "2024-01-03T01:00:00+08:00"]))


def test_bad_options():
    with pytest.raises(InvalidParameterError, match="date_format='YYYYMMDD' is not a strftime format"):
        rfm(orders(["2024-01-01"]), date_format="YYYYMMDD")
    with pytest.raises(InvalidParameterError, match="dayfirst must be True, False or None"):
        rfm(orders(["2024-01-01"]), dayfirst="yes")


@pytest.mark.parametrize("frontend", ["pandas_object", "pandas_str", "pandas_arrow", "polars", "pyarrow"])
def test_every_frontend_reads_text_dates_alike(frontend):
    data = orders(["25/12/2023", "03/01/2024", "not a date", "9999-12-31", "14/02/2024", None])
    if frontend == "pandas_str":
        data["d"] = data["d"].astype("string")
    elif frontend == "pandas_arrow":
        data["d"] = data["d"].astype(pd.ArrowDtype(pa.string()))
    elif frontend == "polars":
        data = pl.from_pandas(data)
    elif frontend == "pyarrow":
        data = pa.Table.from_pandas(data, preserve_index=False)
    table = rfm(data)
    assert rfmkit.quality(table)["dropped"] == {"unparseable_date": 1, "date_out_of_range": 1, "missing_date": 1}
    assert rfmkit.quality(table)["date_format"] == "%d/%m/%Y"
    if isinstance(table, (pl.DataFrame, pa.Table)):  # the kind given: the customer id first
        table = table.to_pandas().set_index("c")
    # customer 002 has no date at all: "not a date" and a null
    assert firsts(table) == ["2023-12-25", "2024-01-03"]
    assert [str(v) for v in table["last_purchase"]] == ["2023-12-25 00:00:00", "2024-02-14 00:00:00"]


FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y %H:%M", "%Y%m%d", "%d.%m.%Y %H:%M:%S", "%Y/%m/%d"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    days=st.lists(st.integers(0, 3000), min_size=1, max_size=40),
    minutes=st.integers(0, 1439),
    fmt=st.sampled_from(FORMATS),
    as_numbers=st.booleans(),
)
def test_text_dates_give_the_table_of_the_timestamps(days, minutes, fmt, as_numbers):
    """Any column of dates written in one format: the same RFM table as the timestamps,
    with the format given, and inferred when the values are unambiguous."""
    stamps = pd.Series([pd.Timestamp("2015-03-01") + pd.Timedelta(days=d, minutes=minutes) for d in days])
    if "%H" not in fmt:
        stamps = stamps.dt.normalize()
    text = stamps.dt.strftime(fmt)
    want = rfm(orders(stamps.astype("datetime64[us]")))
    column = text.astype(np.int64) if (as_numbers and fmt == "%Y%m%d") else text
    got = rfm(orders(column), date_format=fmt)
    pd.testing.assert_frame_equal(
        got.drop(columns=["first_purchase", "last_purchase"]), want.drop(columns=["first_purchase", "last_purchase"])
    )
    assert [pd.Timestamp(v) for v in got["first_purchase"]] == [pd.Timestamp(v) for v in want["first_purchase"]]
    if column.dtype == object:
        try:
            inferred = rfm(orders(column))
        except DtypeError as error:  # day/month ambiguous on these values: named
            assert "ambiguous" in str(error) and fmt in ("%d/%m/%Y", "%m/%d/%Y %H:%M", "%d.%m.%Y %H:%M:%S")
        else:
            assert [pd.Timestamp(v) for v in inferred["first_purchase"]] == [
                pd.Timestamp(v) for v in want["first_purchase"]
            ]


def test_summary_and_calibration_follow_the_same_rule():
    data = orders(["2024-01-03", "2024-01-04", "2024-02-10", "9999-12-31", "2024-03-01", "2024-03-05"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        summary = rfmkit.clv.summary(data, **COLS)
        split = rfmkit.clv.calibration_holdout(data, **COLS, calibration_period_end="2024-02-15")
    assert summary.attrs["rfmkit"]["dropped"] == {"date_out_of_range": 1}
    assert split.attrs["rfmkit"]["dropped"]["date_out_of_range"] == 1
    with pytest.raises(DtypeError, match="date_format='%Y%m%d'"):
        rfmkit.clv.summary(orders([20240101, 20240102]), **COLS)


def test_dates_as_datetime_objects_still_work():
    table = rfm(orders([dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 3)]))
    assert firsts(table) == ["2024-01-01", "2024-01-02", "2024-01-03"]


@pytest.mark.parametrize("frontend", ["pyarrow", "polars", "pandas_arrow"])
def test_analyze_gives_the_same_customers_from_every_frontend(frontend):
    from frames import to_frontend

    orders_ = rfmkit.datasets.make_transactions(300, seed=5)
    options = dict(customer="customer_id", date="ordered_at", amount="amount", order="order_id", k=3, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        want = rfmkit.analyze(orders_, **options).customers
        got = rfmkit.analyze(to_frontend(orders_, frontend), **options).customers
    if not isinstance(got, pd.DataFrame):  # polars in, polars out; pyarrow in, pyarrow out
        got = got.to_pandas().set_index("customer_id")
    got.index = got.index.astype(want.index.dtype)
    columns = [c for c in want.columns if c not in ("first_purchase", "last_purchase")]
    pd.testing.assert_frame_equal(got[columns], want[columns], check_index_type=False, check_categorical=False)
    for column in ("first_purchase", "last_purchase"):
        assert [pd.Timestamp(v) for v in got[column]] == [pd.Timestamp(v) for v in want[column]]


def test_long_columns_blank_cells_padding_and_a_stray_offset():
    """The paths of long columns (format from a sample, second look at the misses)."""
    days = [f"2024-{1 + i % 12:02d}-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00" for i in range(6000)]
    padded = days.copy()
    padded[10], padded[20], padded[30] = " " + padded[10] + " ", "", "   "
    table = rfm(orders(padded))
    assert table.attrs["rfmkit"]["dropped"] == {"missing_date": 2}
    assert table.attrs["rfmkit"]["date_format"] == "%Y-%m-%d %H:%M:%S"
    stray = days.copy()
    stray[5997] = "2024-03-01 10:00:00+08:00"
    with pytest.raises(DtypeError, match=r"mixes times with a UTC offset \('2024-03-01 10:00:00\+08:00'\) and without"):
        rfm(orders(stray))


@pytest.mark.parametrize(
    "values, options, want",
    [
        # a typo in a dd-mm-yyyy column is one bad row (its "-2024" is no UTC offset)
        (["13-01-2024", "14-01-2024", "31-02-2024"], {}, ("%d-%m-%Y", {"unparseable_date": 1})),
        # dayfirst never drops a year-first column
        (["2024-01-05", "2024-02-06", "2024-03-07"], {"dayfirst": True}, ("%Y-%m-%d", {})),
        (["20240105", "20240206", "20240307"], {"dayfirst": True}, ("%Y%m%d", {})),
        # year-month-day with any separator, never year-day-month
        (["2024.01.05", "2024.02.06", "2024.03.07"], {}, ("%Y.%m.%d", {})),
        (["2024.01.05", "2024.02.06", "2024.13.07"], {}, ("%Y.%m.%d", {"unparseable_date": 1})),
        # two-digit years
        (["13/06/24", "15/07/24", "20/07/24"], {}, ("%d/%m/%y", {})),
    ],
)
def test_adversarial_columns_from_review(values, options, want):
    table = rfm(orders(values), **options)
    info = table.attrs["rfmkit"]
    assert (info["date_format"], info["dropped"]) == want


@pytest.mark.parametrize(
    "values, message",
    [
        (["1700000000", "1700086400", "1700186400"], r"numbers written as text.*unix seconds"),
        (["45292", "45293", "45294"], r"numbers written as text.*Excel serial days"),
        (["unknown", "n/a", "x"], r"reads as no date format, e.g. 'unknown'"),
    ],
)
def test_a_column_no_format_reads_is_an_error_with_a_hint(values, message):
    with pytest.raises(DtypeError, match=message):
        rfm(orders(values))


def test_categorical_date_text_and_boolean_ids():
    data = orders(["2024-01-05", "2024-01-06", "2024-01-07"])
    assert firsts(rfm(data.astype({"d": "category"}))) == firsts(rfm(data))
    with pytest.raises(DtypeError, match="mixes True/False with other ids"):
        rfm(data.assign(c=[True, 1, "a"]))


def test_out_of_range_raise_quotes_the_text_as_written():
    with pytest.raises(InvalidRowError, match=r"date column 'd' is '9999-12-31', outside"):
        rfm(orders(["2024-01-03", "2024-01-04", "9999-12-31"]), invalid="raise")
