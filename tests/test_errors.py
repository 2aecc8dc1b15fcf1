"""Every error path: the right exception class and a message that names the problem and the fix."""

import datetime as dt
import warnings

import numpy as np
import pandas as pd
import pytest

import rfmkit
from rfmkit import (
    ColumnNotFoundError,
    DataQualityWarning,
    DtypeError,
    InvalidParameterError,
    InvalidRowError,
    RfmkitError,
)


@pytest.fixture
def orders():
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 1, 3],
            "ordered_at": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-05", "2024-01-06"]),
            "amount": [10.0, 20.0, 5.0, 7.0],
        }
    )


COLS = dict(customer="customer_id", date="ordered_at", amount="amount")


def test_error_hierarchy():
    for cls in (ColumnNotFoundError, DtypeError, InvalidParameterError, InvalidRowError, rfmkit.InternalError):
        assert issubclass(cls, RfmkitError)
    assert issubclass(RfmkitError, ValueError)
    assert issubclass(DataQualityWarning, UserWarning)


def test_missing_column_lists_the_columns_and_suggests(orders):
    with pytest.raises(
        ColumnNotFoundError,
        match=r"customer column 'Customer_ID' is not in the data; its columns are: 'customer_id', 'ordered_at', 'amount'. Did you mean 'customer_id'\?",
    ):
        rfmkit.rfm(orders, customer="Customer_ID", date="ordered_at", amount="amount")
    with pytest.raises(ColumnNotFoundError, match="amount column 'price'"):
        rfmkit.rfm(orders, customer="customer_id", date="ordered_at", amount="price")
    with pytest.raises(ColumnNotFoundError, match="order column 'invoice'"):
        rfmkit.rfm(orders, **COLS, order="invoice")


def test_string_dates_are_read_with_one_format(orders):
    frame = orders.assign(ordered_at=orders["ordered_at"].dt.strftime("%Y-%m-%d"))
    got = rfmkit.rfm(frame, **COLS)
    want = rfmkit.rfm(orders, **COLS)
    pd.testing.assert_frame_equal(
        got.drop(columns=["first_purchase", "last_purchase"]), want.drop(columns=["first_purchase", "last_purchase"])
    )
    assert got.attrs["rfmkit"]["date_format"] == "%Y-%m-%d"


def test_numeric_dates_are_never_epoch_nanoseconds(orders):
    frame = orders.assign(ordered_at=1_704_067_200 + np.arange(4) * 86_400)
    with pytest.raises(
        DtypeError, match=r"holds numbers.*never reads numbers as epoch nanoseconds.*unix seconds.*date_format='unix'"
    ):
        rfmkit.rfm(frame, **COLS)


def test_string_amounts_say_how_to_convert(orders):
    frame = orders.assign(amount=["1", "2", "x", "4"])
    with pytest.raises(DtypeError, match=r"amount column 'amount'.*pd.to_numeric"):
        rfmkit.rfm(frame, **COLS)


def test_not_a_frame():
    with pytest.raises(
        DtypeError, match="must be a pandas DataFrame, a polars DataFrame or a pyarrow Table, got builtins.list"
    ):
        rfmkit.rfm([1, 2], **COLS)


@pytest.mark.parametrize(
    "column, value, message",
    [
        ("customer_id", None, r"row 2 \(0-based position\): customer column 'customer_id' is null"),
        ("ordered_at", pd.NaT, r"row 2 \(0-based position\): date column 'ordered_at' is null \(NaT\)"),
        ("amount", np.nan, r"row 2 \(0-based position\): amount column 'amount' is null \(NaN\)"),
        ("amount", np.inf, r"row 2 \(0-based position\): amount column 'amount' is inf \(not finite\)"),
    ],
)
def test_invalid_raise_names_the_first_bad_row(orders, column, value, message):
    frame = orders.copy()
    if column == "customer_id":
        frame[column] = frame[column].astype(float)
    frame.loc[2, column] = value
    frame.loc[3, column] = value
    with pytest.raises(InvalidRowError, match=message):
        rfmkit.rfm(frame, **COLS, invalid="raise")


def test_returns_raise(orders):
    frame = orders.assign(amount=[10.0, -3.0, 5.0, 7.0])
    with pytest.raises(InvalidRowError, match=r"row 1 .*amount column 'amount' is -3 \(a return\).*returns=\"net\""):
        rfmkit.rfm(frame, **COLS, returns="raise")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(zero="none"), r'zero="none" is not one of "drop", "keep"'),
        (dict(returns="keep"), r'returns="keep" is not one of "net", "drop", "raise"'),
        (dict(invalid="skip"), r'invalid="skip" is not one of "drop", "raise"'),
        (dict(window=0), "window must be a positive number of days, got 0"),
        (dict(window=-5), "window must be a positive number of days"),
        (dict(window=1.5), "window must be a whole number of days"),
        (dict(window=dt.timedelta(hours=36)), "not a whole number of days"),
        (dict(as_of="yesterday"), "as_of='yesterday' is not a date"),
        (dict(as_of="2024-01-03 12:00"), "as_of='2024-01-03 12:00' has a time of day"),
        (dict(as_of=20240103), "is not a date"),
    ],
)
def test_bad_parameters(orders, kwargs, message):
    with pytest.raises(InvalidParameterError, match=message):
        rfmkit.rfm(orders, **COLS, **kwargs)


def test_clv_bad_parameters(orders):
    with pytest.raises(InvalidParameterError, match=r"freq='QS' is not a time unit; pass one of 'h', 'H', 'D'"):
        rfmkit.clv.summary(orders, customer="customer_id", date="ordered_at", freq="QS")
    for bad in (0, float("inf"), float("nan"), True, "7"):
        with pytest.raises(InvalidParameterError, match="freq_multiplier must be a positive, finite number"):
            rfmkit.clv.summary(orders, customer="customer_id", date="ordered_at", freq_multiplier=bad)
    weekly = rfmkit.clv.summary(orders, customer="customer_id", date="ordered_at", freq_multiplier=np.int64(7))
    pd.testing.assert_frame_equal(
        weekly, rfmkit.clv.summary(orders, customer="customer_id", date="ordered_at", freq_multiplier=7)
    )
    with pytest.raises(InvalidParameterError, match="calibration_period_end.*must be before observation_period_end"):
        rfmkit.clv.calibration_holdout(
            orders, customer="customer_id", date="ordered_at", calibration_period_end="2024-02-01"
        )


def test_dropped_rows_warn_with_counts(orders):
    frame = orders.assign(amount=[10.0, 0.0, np.nan, 7.0])
    with pytest.warns(DataQualityWarning, match=r"dropped 2 of 4 rows \(1 invalid_amount, 1 zero_amount\)"):
        table = rfmkit.rfm(frame, **COLS)
    assert table.attrs["rfmkit"]["dropped"] == {"invalid_amount": 1, "zero_amount": 1}


def test_clean_data_does_not_warn(orders):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rfmkit.rfm(orders, **COLS)


def test_a_path_is_read_and_a_missing_file_is_named(tmp_path):
    with pytest.raises(InvalidParameterError, match=r"input file '.*orders.csv' does not exist"):
        rfmkit.rfm(str(tmp_path / "orders.csv"), **COLS)
    # where a table in memory is needed, a path still says how to read it
    with pytest.raises(DtypeError, match=r"data is a path .*rfmkit.read_transactions\(path"):
        rfmkit.score(str(tmp_path / "orders.csv"))


@pytest.mark.parametrize("margin", [0, -1, 30, float("nan"), "0.3", True])
def test_analyze_refuses_a_margin_that_is_no_share(orders, margin):
    with pytest.raises(InvalidParameterError, match="must be the profit share of revenue"):
        rfmkit.analyze(orders, **COLS, margin=margin, progress=False)


def test_messages_name_what_the_user_passed():
    """A NaN monetary under classic8 is the data's error (not `split`'s, a parameter the
    user never passed); a CLV horizon that is no positive number of months is refused
    before any work."""
    orders = rfmkit.datasets.make_transactions(200, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        table = rfmkit.rfm(orders, customer="customer_id", date="ordered_at", amount="amount")
    table.loc[table.index[3], "monetary"] = np.nan
    with pytest.raises(rfmkit.InvalidDataError, match=r"column 'monetary' is NaN \(or null\) at row 3"):
        rfmkit.segment(table, "classic8")
    for horizon in (-1, 0, 2.5, True):
        with pytest.raises(InvalidParameterError, match="clv_horizon=.* whole months"):
            rfmkit.analyze(orders, customer="customer_id", date="ordered_at", amount="amount", clv_horizon=horizon)


def test_a_given_date_format_that_most_dates_do_not_fit_is_an_error():
    """dd/mm dates read with date_format='%m/%d/%Y' would drop most rows and swap day and
    month in the rest: an error that names the format, the column and a value."""
    days = pd.date_range("2024-01-01", periods=120, freq="D")
    orders = pd.DataFrame({"c": np.arange(120) % 9, "d": days.strftime("%d/%m/%Y"), "a": 1.0})
    with pytest.raises(
        rfmkit.DtypeError, match=r"date_format='%m/%d/%Y' does not fit .* column 'd' \(e.g. '13/01/2024'\)"
    ):
        rfmkit.rfm(orders, customer="c", date="d", amount="a", date_format="%m/%d/%Y")
    assert rfmkit.quality(rfmkit.rfm(orders, customer="c", date="d", amount="a"))["date_format"] == "%d/%m/%Y"
    one_bad = orders.assign(d=orders["d"].where(orders.index != 5, "31/31/2024"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        table = rfmkit.rfm(one_bad, customer="c", date="d", amount="a", date_format="%d/%m/%Y")
    assert rfmkit.quality(table)["dropped"] == {"unparseable_date": 1}  # a stray value is counted, not an error


def test_analyze_checks_its_options_before_any_work():
    orders = rfmkit.datasets.make_transactions(100, seed=2)
    keys = dict(customer="customer_id", date="ordered_at", amount="amount", progress=False)
    for bad, words in ((dict(k=1), "at least 2"), (dict(scheme="rfm12"), "rfm12"), (dict(bins=12), "bins=12")):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(InvalidParameterError, match=words):
                rfmkit.analyze(orders, **keys, **bad)
        assert not caught  # refused before the RFM table (no dropped-rows warning first)
    report = rfmkit.analyze(orders.iloc[:0], **keys)
    assert len(report.customers) == 0 and report.notes[0].startswith("no customers")
