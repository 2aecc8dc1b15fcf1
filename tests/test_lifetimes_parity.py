"""`rfmkit.clv.summary` / `calibration_holdout` against `lifetimes.utils` and the reference.

lifetimes 0.11.3 on pandas 3 needs freq "h" (not "H"), cannot do "M" (tested against
the reference: whole calendar months between period starts), and its
`calibration_and_holdout_data` only works with a monetary column (without one it
fails inside pandas), so the no-amount calibration parity passes lifetimes an amount
column and compares the other columns.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import rfmkit
from frames import (
    FRONTENDS,
    NS_PER_DAY,
    POLARS_DATE_KINDS,
    POLARS_ID_KINDS,
    Spec,
    as_pandas_result,
    build,
    specs,
    to_frontend,
)
from reference import (
    CALIBRATION_HOLDOUT_COLUMNS,
    ReferenceRowError,
    reference_calibration_holdout,
    reference_summary,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import lifetimes.utils as lifetimes_utils

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
NAMES = dict(customer="customer", date="ts")
FREQS = ["D", "W", "h"]
MULTIPLIERS = [1, 1, 2, 7, 24, 2.5]


def quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def assert_frames_close(got: pd.DataFrame, want: pd.DataFrame, columns: list[str] | None = None) -> None:
    """Same customers and columns; values to rel 1e-9 (absolute 1e-12 around 0)."""
    columns = list(want.columns) if columns is None else columns
    assert list(got.columns) == columns or set(columns) <= set(got.columns), (list(got.columns), columns)
    got_ids = got.index.tolist()
    want_ids = want.index.tolist()
    assert len(set(got_ids)) == len(got_ids)
    assert set(got_ids) == set(want_ids), (got_ids, want_ids)
    position = {c: i for i, c in enumerate(got_ids)}
    for j, cid in enumerate(want_ids):
        for column in columns:
            a = float(got[column].iloc[position[cid]])
            b = float(want[column].iloc[j])
            assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (cid, column, a, b)
    for column in columns:
        assert got[column].dtype == np.float64, (column, got[column].dtype)


def lifetimes_summary(df: pd.DataFrame, amount: str | None = None, **options) -> pd.DataFrame:
    """`lifetimes.utils.summary_data_from_transaction_data` of `df` with the names of
    `rfmkit.clv.summary`: `amount` is its ``monetary_value_col``."""
    return quiet(
        lifetimes_utils.summary_data_from_transaction_data, df, "customer", "ts", monetary_value_col=amount, **options
    )


def lifetimes_calibration_holdout(df: pd.DataFrame, amount: str | None = None, **options) -> pd.DataFrame:
    """`lifetimes.utils.calibration_and_holdout_data` of `df` with the names of
    `rfmkit.clv.calibration_holdout`: `amount` is its ``monetary_value_col``."""
    return quiet(
        lifetimes_utils.calibration_and_holdout_data, df, "customer", "ts", monetary_value_col=amount, **options
    )


def assert_same_accounting(got: pd.DataFrame, accounting: dict) -> None:
    info = rfmkit.quality(got)
    assert (info["rows_in"], info["rows_used"], info["dropped"]) == (
        accounting["rows_in"],
        accounting["rows_used"],
        accounting["dropped"],
    )


def check_against_reference(function, reference, frames, kwargs, columns, errors) -> pd.DataFrame | None:
    """`function` of rfmkit on the second of `frames` (the first in a frontend) against
    `reference` on the first: the same `columns`, values and accounting, or, where the
    reference raises the first of `errors`, rfmkit the second. The result as pandas."""
    df, data_in = frames
    refused, raised = errors
    try:
        want, accounting = reference(df, **NAMES, **kwargs)
    except refused:
        with pytest.raises(raised):
            quiet(function, data_in, **NAMES, **kwargs)
        return None
    got = as_pandas_result(quiet(function, data_in, **NAMES, **kwargs), "customer")
    assert list(got.columns) == columns
    assert_frames_close(got, want)
    assert_same_accounting(got, accounting)
    return got


def summary_columns(with_amount: bool) -> list[str]:
    return ["frequency", "recency", "T"] + (["monetary_value"] if with_amount else [])


def holdout_columns(with_amount: bool) -> list[str]:
    if with_amount:
        return list(CALIBRATION_HOLDOUT_COLUMNS)
    return ["frequency_cal", "recency_cal", "T_cal", "frequency_holdout", "duration_holdout"]


# --------------------------------------------------------------------------- data


@st.composite
def clean_specs(draw, allow_zero: bool = False, max_rows: int = 30, span_days: int = 60):
    """Valid rows only, positive amounts (and zeros when asked), naive timestamps."""
    return draw(
        specs(
            max_rows=max_rows,
            min_rows=1,
            id_kinds=["int64", "object_str"],
            date_kinds=["naive_us", "naive_ns", "naive_s"],
            amount_kinds=["float64"],
            allow_invalid=False,
            allow_zero=allow_zero,
            allow_negative=False,
            span_days=span_days,
        )
    )


def frame_of(spec: Spec) -> pd.DataFrame:
    df = build(spec)
    df["amount"] = df["amount"] + 0.0  # -0.0 -> 0.0
    # rfmkit counts a blank text id as a missing customer where lifetimes makes it one
    # customer (a departure the README states): these valid-rows-only tests use named ids
    df["customer"] = df["customer"].map(lambda c: "(blank)" if isinstance(c, str) and not c.strip() else c)
    return df


@st.composite
def end_stamp(draw, spec: Spec, earliest: int = -40, latest: int = 10):
    day = draw(st.integers(earliest, latest))
    nanos = draw(st.sampled_from([0, 0, 3_600_000_000_000 * 13 + 5, NS_PER_DAY - 1]))
    stamp = pd.Timestamp(spec.base_ns + day * NS_PER_DAY + nanos).floor("s")
    return draw(st.sampled_from([stamp, str(stamp), stamp.to_pydatetime()]))


# --------------------------------------------------------------------------- summary vs lifetimes


@settings(max_examples=200, **SETTINGS)
@given(st.data())
def test_summary_matches_lifetimes(data):
    spec = data.draw(clean_specs())
    df = frame_of(spec)
    freq = data.draw(st.sampled_from(FREQS))
    with_amount = data.draw(st.booleans())
    include_first = data.draw(st.booleans())
    multiplier = data.draw(st.sampled_from(MULTIPLIERS))
    end = data.draw(st.one_of(st.none(), end_stamp(spec)))
    if end is not None:
        assume(pd.Timestamp(end).to_period(freq).to_timestamp() >= df["ts"].min().to_period(freq).to_timestamp())
    options = dict(
        amount="amount" if with_amount else None,
        freq=freq,
        observation_period_end=end,
        freq_multiplier=multiplier,
        include_first_transaction=include_first,
    )
    got = quiet(rfmkit.clv.summary, df, **NAMES, **options)
    want = lifetimes_summary(df, **options)
    assert list(got.columns) == summary_columns(with_amount)
    assert_frames_close(got, want)
    info = rfmkit.quality(got)
    assert info["rows_in"] == len(df) == info["rows_used"] + sum(info["dropped"].values())
    assert set(info["dropped"]) <= {"after_observation_end"}


@settings(max_examples=100, **SETTINGS)
@given(st.data())
def test_summary_zero_keep_matches_lifetimes(data):
    """Zero amounts are purchases in lifetimes; rfmkit agrees under zero="keep"."""
    spec = data.draw(clean_specs(allow_zero=True))
    df = frame_of(spec)
    freq = data.draw(st.sampled_from(FREQS))
    include_first = data.draw(st.booleans())
    with_amount = data.draw(st.booleans())
    options = dict(amount="amount" if with_amount else None, freq=freq, include_first_transaction=include_first)
    got = quiet(rfmkit.clv.summary, df, **NAMES, **options, zero="keep")
    want = lifetimes_summary(df, **options)
    assert_frames_close(got, want)
    assert rfmkit.quality(got)["dropped"] == {}
    assert rfmkit.quality(got)["rows_used"] == len(df)


@settings(max_examples=100, **SETTINGS)
@given(st.data())
def test_summary_default_keeps_zero_and_drops_returns_like_lifetimes_on_filtered_rows(data):
    """Default zero="keep", returns="drop" == lifetimes on the rows with an amount >= 0;
    zero="drop" == lifetimes on the rows with a positive amount (with the observation end
    of all rows: the default end is the last valid row)."""
    spec = data.draw(
        specs(
            min_rows=1,
            id_kinds=["int64", "object_str"],
            date_kinds=["naive_us"],
            amount_kinds=["float64"],
            allow_invalid=False,
        )
    )
    df = frame_of(spec)
    freq = data.draw(st.sampled_from(FREQS))
    include_first = data.draw(st.booleans())
    zero = data.draw(st.sampled_from([None, "drop"]))
    counted = df[df["amount"] > 0] if zero == "drop" else df[df["amount"] >= 0]
    assume(len(counted) > 0)
    options = {} if zero is None else {"zero": zero}
    got = quiet(
        rfmkit.clv.summary, df, **NAMES, amount="amount", freq=freq, include_first_transaction=include_first, **options
    )
    want = lifetimes_summary(
        counted,
        amount="amount",
        observation_period_end=df["ts"].max(),
        freq=freq,
        include_first_transaction=include_first,
    )
    assert_frames_close(got, want)
    dropped = rfmkit.quality(got)["dropped"]
    expected = {}
    if zero == "drop" and (df["amount"] == 0).any():
        expected["zero_amount"] = int((df["amount"] == 0).sum())
    if (df["amount"] < 0).any():
        expected["return"] = int((df["amount"] < 0).sum())
    assert dropped == expected
    assert rfmkit.quality(got)["rows_used"] == len(counted)


# --------------------------------------------------------------------------- summary vs the reference


@settings(max_examples=150, **SETTINGS)
@given(st.data())
def test_summary_of_rows_in_time_order_matches_reference(data):
    """Rows in time order (the usual export) take the one-pass streaming path of the core:
    no cut-off, no `raise` policy. Returns before, between and within purchase periods."""
    spec = data.draw(
        specs(
            id_kinds=["int64", "str", "float"],
            date_kinds=["naive_us", "tz_ns:America/New_York", "date_objects"],
            amount_kinds=["float64"],
            span_days=data.draw(st.sampled_from([3, 60, 400])),
        )
    )
    df = build(spec)
    wall = pd.to_datetime(df["ts"])
    if wall.dt.tz is not None:
        wall = wall.dt.tz_localize(None)
    df = df.iloc[np.argsort(wall.to_numpy(), kind="stable")].reset_index(drop=True)
    with_amount = data.draw(st.booleans())
    kwargs = dict(
        amount="amount" if with_amount else None,
        freq=data.draw(st.sampled_from(["D", "W", "h", "M"])),
        include_first_transaction=data.draw(st.booleans()),
        zero=data.draw(st.sampled_from(["drop", "keep"])),
        returns=data.draw(st.sampled_from(["drop", "net"])),
    )
    want, accounting = reference_summary(df, **NAMES, **kwargs)
    got = quiet(rfmkit.clv.summary, df, **NAMES, **kwargs)
    assert_frames_close(got, want)
    assert_same_accounting(got, accounting)


@settings(max_examples=250, **SETTINGS)
@given(st.data())
def test_summary_matches_reference(data):
    """Every freq including "M", invalid rows, returns, zeros, tz-aware timestamps."""
    frontend = data.draw(st.sampled_from(FRONTENDS))
    polars = frontend == "polars"
    spec = data.draw(
        specs(
            id_kinds=POLARS_ID_KINDS
            if polars
            else ["int64", "object_str", "str", "float", "category", "int64[pyarrow]"],
            date_kinds=POLARS_DATE_KINDS
            if polars
            else ["naive_s", "naive_us", "naive_ns", "tz_us:Asia/Shanghai", "tz_ns:America/New_York", "date_objects"],
            amount_kinds=["float64"] if polars else ["float64", "Float64"],
            span_days=data.draw(st.sampled_from([3, 60, 400])),
        )
    )
    df = build(spec)
    data_in = to_frontend(df, frontend)
    freq = data.draw(st.sampled_from(["D", "W", "h", "M"]))
    with_amount = data.draw(st.booleans())
    kwargs = dict(
        amount="amount" if with_amount else None,
        freq=freq,
        freq_multiplier=data.draw(st.sampled_from(MULTIPLIERS)),
        include_first_transaction=data.draw(st.booleans()),
        zero=data.draw(st.sampled_from(["drop", "keep"])),
        returns=data.draw(st.sampled_from(["drop", "net", "raise"])),
        invalid=data.draw(st.sampled_from(["drop", "drop", "raise"])),
    )
    if data.draw(st.booleans()):
        kwargs["observation_period_end"] = data.draw(end_stamp(spec, latest=2))
    got = check_against_reference(
        rfmkit.clv.summary,
        reference_summary,
        (df, data_in),
        kwargs,
        summary_columns(with_amount),
        (ReferenceRowError, rfmkit.InvalidRowError),
    )
    if got is not None:
        info = rfmkit.quality(got)
        assert info["rows_in"] == info["rows_used"] + sum(info["dropped"].values())


# --------------------------------------------------------------------------- calibration / holdout


@settings(max_examples=150, **SETTINGS)
@given(st.data())
def test_calibration_holdout_matches_lifetimes(data):
    spec = data.draw(clean_specs(allow_zero=data.draw(st.booleans()), max_rows=30))
    df = frame_of(spec)
    freq = data.draw(st.sampled_from(FREQS))
    with_amount = data.draw(st.booleans())
    include_first = data.draw(st.booleans())
    multiplier = data.draw(st.sampled_from(MULTIPLIERS))
    cal_end = data.draw(end_stamp(spec, earliest=-50, latest=-5))
    obs_end = data.draw(st.one_of(st.none(), end_stamp(spec, earliest=-20, latest=5)))
    cal_ts = pd.Timestamp(cal_end)
    obs_ts = pd.Timestamp(obs_end) if obs_end is not None else df["ts"].max()
    assume(obs_ts > cal_ts)
    calibration = df[df["ts"] <= cal_ts]
    holdout = df[(df["ts"] > cal_ts) & (df["ts"] <= obs_ts)]
    assume(len(calibration) > 0 and len(holdout) > 0)  # lifetimes raises on an empty holdout
    options = dict(
        calibration_period_end=cal_end,
        observation_period_end=obs_end,
        freq=freq,
        freq_multiplier=multiplier,
        include_first_transaction=include_first,
    )
    got = quiet(
        rfmkit.clv.calibration_holdout, df, **NAMES, **options, amount="amount" if with_amount else None, zero="keep"
    )
    want = lifetimes_calibration_holdout(df, amount="amount", **options)  # lifetimes fails without one on pandas 3
    assert list(got.columns) == holdout_columns(with_amount)
    assert_frames_close(got, want, holdout_columns(with_amount))
    info = rfmkit.quality(got)
    assert info["rows_in"] == len(df) == info["rows_used"] + sum(info["dropped"].values())


@settings(max_examples=200, **SETTINGS)
@given(st.data())
def test_calibration_holdout_matches_reference(data):
    frontend = data.draw(st.sampled_from(FRONTENDS))
    spec = data.draw(
        specs(
            id_kinds=["int64", "object_str", "float", "category"],
            date_kinds=["naive_us", "naive_ns", "tz_us:Asia/Shanghai", "date_objects"],
            amount_kinds=["float64"],
        )
    )
    df = build(spec)
    data_in = to_frontend(df, frontend)
    freq = data.draw(st.sampled_from(["D", "W", "h", "M"]))
    with_amount = data.draw(st.booleans())
    kwargs = dict(
        calibration_period_end=data.draw(end_stamp(spec, earliest=-50, latest=-5)),
        amount="amount" if with_amount else None,
        freq=freq,
        freq_multiplier=data.draw(st.sampled_from(MULTIPLIERS)),
        include_first_transaction=data.draw(st.booleans()),
        zero=data.draw(st.sampled_from(["drop", "keep"])),
        returns=data.draw(st.sampled_from(["drop", "net"])),
    )
    if data.draw(st.booleans()):
        kwargs["observation_period_end"] = data.draw(end_stamp(spec, earliest=-4, latest=3))
    check_against_reference(
        rfmkit.clv.calibration_holdout,
        reference_calibration_holdout,
        (df, data_in),
        kwargs,
        holdout_columns(with_amount),
        # no holdout period: no valid row and no end given, or the ends out of order
        (ValueError, rfmkit.InvalidParameterError),
    )


# --------------------------------------------------------------------------- hand cases


def tx(rows, amount: bool = True) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["customer", "ts", "amount"])
    df["ts"] = pd.to_datetime(df["ts"], format="ISO8601")
    return df if amount else df.drop(columns="amount")


HAND = tx(
    [
        (1, "2024-01-01 09:00", 10.0),
        (1, "2024-01-01 18:00", 5.0),  # same day: one period for D, two for h
        (1, "2024-01-07 23:00", 20.0),  # Sunday: same W-SUN week as Jan 1 (Mon)
        (1, "2024-01-08 00:30", 40.0),  # Monday: next week
        (2, "2024-01-03 12:00", 8.0),
        (3, "2024-02-29 12:00", 1.0),
        (3, "2024-03-01 01:00", 3.0),
    ]
)


@pytest.mark.parametrize("freq", FREQS)
@pytest.mark.parametrize("include_first", [False, True])
@pytest.mark.parametrize("end", [None, "2024-03-10", "2024-03-01 00:59"])
def test_summary_hand_cases_match_lifetimes(freq, include_first, end):
    options = dict(amount="amount", freq=freq, observation_period_end=end, include_first_transaction=include_first)
    got = quiet(rfmkit.clv.summary, HAND, **NAMES, **options)
    want = lifetimes_summary(HAND, **options)
    assert_frames_close(got, want)


def test_summary_hand_case_literal_numbers():
    got = quiet(rfmkit.clv.summary, HAND, **NAMES, amount="amount", freq="D", observation_period_end="2024-03-10")
    # customer 1: purchase days Jan 1 (15), Jan 7 (20), Jan 8 (40); T from Jan 1 to Mar 10 = 69
    # customer 2: Jan 3 only; customer 3: Feb 29, Mar 1
    expected = pd.DataFrame(
        {
            "frequency": [2.0, 0.0, 1.0],
            "recency": [7.0, 0.0, 1.0],
            "T": [69.0, 67.0, 10.0],
            "monetary_value": [30.0, 0.0, 3.0],
        },
        index=pd.Index([1, 2, 3], name="customer"),
    )
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12, check_index_type=False)
    weekly = quiet(rfmkit.clv.summary, HAND, **NAMES, amount="amount", freq="W", observation_period_end="2024-03-10")
    # weeks start Monday: Jan 1-7 is week 0, Jan 8 week 1, Feb 26-Mar 3 week 8, Mar 4-10 week 9
    assert weekly.loc[1].tolist() == [1.0, 1.0, 9.0, 40.0]
    assert weekly.loc[3].tolist() == [0.0, 0.0, 1.0, 0.0]
    hourly = quiet(
        rfmkit.clv.summary,
        HAND,
        **NAMES,
        amount="amount",
        freq="h",
        freq_multiplier=24,
        observation_period_end="2024-01-08 06:00",
    )
    # customer 1: hours 09, 18 (Jan 1), Jan 7 23h, Jan 8 00h; recency 159 h, T 165 h
    assert hourly.loc[1].tolist() == pytest.approx([3.0, 159 / 24, 165 / 24, (5.0 + 20.0 + 40.0) / 3])
    assert list(hourly.index) == [1, 2]  # customer 3 starts after the end
    assert rfmkit.quality(hourly)["dropped"] == {"after_observation_end": 2}


def test_summary_monthly_whole_calendar_months():
    df = tx(
        [
            (1, "2024-01-31 23:00", 10.0),
            (1, "2024-02-01 00:00", 4.0),  # next month although 1 hour later
            (1, "2024-02-29 00:00", 6.0),  # same month: one period of 10
            (1, "2025-01-01 00:00", 7.0),
            (2, "2024-12-31 00:00", 3.0),
        ]
    )
    got = quiet(rfmkit.clv.summary, df, **NAMES, amount="amount", freq="M", observation_period_end="2025-03-15")
    # customer 1: months 2024-01, 2024-02, 2025-01 -> frequency 2, recency 12, T 14 (2024-01 -> 2025-03)
    assert got.loc[1].tolist() == [2.0, 12.0, 14.0, (10.0 + 7.0) / 2]
    assert got.loc[2].tolist() == [0.0, 0.0, 3.0, 0.0]
    want, _ = reference_summary(df, **NAMES, amount="amount", freq="M", observation_period_end="2025-03-15")
    assert_frames_close(got, want)


def test_calibration_holdout_hand_case_matches_lifetimes():
    df = tx(
        [
            (1, "2024-01-01", 10.0),
            (1, "2024-01-05 10:00", 6.0),
            (1, "2024-01-10 12:00", 4.0),  # same day as calibration_period_end but later: holdout
            (1, "2024-01-20", 8.0),
            (1, "2024-01-20 18:00", 2.0),  # same holdout day: one holdout period, two rows in the mean
            (2, "2024-01-03", 5.0),
            (3, "2024-01-25", 9.0),  # holdout only: not in the result
            (2, "2024-02-15", 9.0),  # after observation_period_end
        ]
    )
    for freq in FREQS:
        options = dict(
            amount="amount", freq=freq, calibration_period_end="2024-01-10 11:00", observation_period_end="2024-01-31"
        )
        got = quiet(rfmkit.clv.calibration_holdout, df, **NAMES, **options)
        want = lifetimes_calibration_holdout(df, **options)
        assert_frames_close(got, want, holdout_columns(True))
    got = quiet(
        rfmkit.clv.calibration_holdout,
        df,
        **NAMES,
        amount="amount",
        calibration_period_end="2024-01-10 11:00",
        observation_period_end="2024-01-31",
    )
    assert got.loc[1].tolist() == [1.0, 4.0, 9.0, 6.0, 2.0, (4.0 + 8.0 + 2.0) / 3, 21.0]
    assert got.loc[2].tolist() == [0.0, 0.0, 7.0, 0.0, 0.0, 0.0, 21.0]
    assert list(got.index) == [1, 2]
    info = rfmkit.quality(got)
    assert info["dropped"] == {"holdout_without_calibration": 1, "after_observation_end": 1}
    assert info["rows_used"] == 6


def test_zero_amount_rows_keep_matches_lifetimes():
    df = tx(
        [
            (1, "2024-01-01", 10.0),
            (1, "2024-01-04", 0.0),  # a free item: a purchase period under zero="keep"
            (2, "2024-01-02", 0.0),  # a customer with only a free item
            (2, "2024-01-02", 0.0),
            (3, "2024-01-05", 2.0),
        ]
    )
    for freq in FREQS:
        kept = quiet(rfmkit.clv.summary, df, **NAMES, amount="amount", freq=freq, zero="keep")
        want = lifetimes_summary(df, amount="amount", freq=freq)
        assert_frames_close(kept, want)
    default = quiet(rfmkit.clv.summary, df, **NAMES, amount="amount")
    assert_frames_close(default, quiet(rfmkit.clv.summary, df, **NAMES, amount="amount", zero="keep"))
    dropped = quiet(rfmkit.clv.summary, df, **NAMES, amount="amount", zero="drop")
    assert list(dropped.index) == [1, 3]
    assert dropped.loc[1].tolist() == [0.0, 0.0, 4.0, 0.0]  # T up to the last valid row (Jan 5)
    assert rfmkit.quality(dropped)["dropped"] == {"zero_amount": 3}
