"""One table of time units (src/periods.rs) for every function that takes one.

The oracle of the periods is pandas' own ``to_period``: a summary in any unit equals the
BTYD definitions computed on ``Series.dt.to_period(freq)`` ordinals. (lifetimes 0.11.3
cannot do anchored weeks, quarters or years on pandas 3: it divides by
``np.timedelta64(1, freq)``.)
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

import rfmkit
from rfmkit import _core
from rfmkit._units import aliases, time_unit

pytestmark = pytest.mark.filterwarnings("ignore::rfmkit.DataQualityWarning")

# Units in pandas' Period spelling (to_period refuses the offset aliases "ME", "QE", "YE").
PANDAS_UNITS = ["h", "D", "W", "W-MON", "W-TUE", "W-WED", "W-THU", "W-FRI", "W-SAT", "M", "Q", "Y"]


#: The columns of `random_orders`.
COLUMNS = dict(customer="customer", date="ts", amount="amount")


def random_orders(seed: int, n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2019-12-20").value
    span = int(pd.Timedelta(days=3 * 365).value)
    stamps = pd.to_datetime(start + rng.integers(0, span, n))
    return pd.DataFrame(
        {
            "customer": rng.integers(0, 60, n),
            "ts": stamps,
            "amount": rng.integers(1, 50, n).astype(np.float64),
        }
    )


def pandas_summary(orders: pd.DataFrame, freq: str, end: pd.Timestamp) -> pd.DataFrame:
    """frequency, recency, T, monetary_value from ``to_period(freq)`` ordinals."""
    rows = orders[orders["ts"].dt.to_period(freq) <= end.to_period(freq)].copy()
    rows["period"] = rows["ts"].dt.to_period(freq).array.asi8
    end_period = pd.Series([end]).dt.to_period(freq).array.asi8[0]
    records = {}
    for customer, group in rows.groupby("customer"):
        spend = group.groupby("period")["amount"].sum().sort_index()
        first, last = spend.index[0], spend.index[-1]
        repeats = spend.iloc[1:]
        records[customer] = {
            "frequency": float(len(repeats)),
            "recency": float(last - first),
            "T": float(end_period - first),
            "monetary_value": float(repeats.mean()) if len(repeats) else 0.0,
        }
    return pd.DataFrame.from_dict(records, orient="index")


@pytest.mark.parametrize("freq", PANDAS_UNITS)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_summary_periods_are_pandas_to_period(freq, seed):
    orders = random_orders(seed)
    end = orders["ts"].sort_values().iloc[-40] if seed == 2 else orders["ts"].max()
    got = rfmkit.clv.summary(orders, **COLUMNS, freq=freq, observation_period_end=end if seed == 2 else None)
    want = pandas_summary(orders, freq, end)
    assert sorted(got.index) == sorted(want.index)
    pd.testing.assert_frame_equal(got.loc[want.index], want, check_names=False, check_index_type=False, rtol=1e-12)
    assert got.attrs["rfmkit"]["freq"] == time_unit(freq).canonical


def test_calibration_holdout_in_quarters_is_pandas_to_period():
    orders = random_orders(4)
    cal_end, obs_end = pd.Timestamp("2021-05-17 13:00"), pd.Timestamp("2022-08-02")
    for freq in ["Q", "Y", "W-WED"]:
        got = rfmkit.clv.calibration_holdout(
            orders, **COLUMNS, freq=freq, calibration_period_end=cal_end, observation_period_end=obs_end
        )
        calibration = pandas_summary(orders[orders["ts"] <= cal_end], freq, cal_end)
        assert sorted(got.index) == sorted(calibration.index)
        np.testing.assert_allclose(got.loc[calibration.index, "T_cal"], calibration["T"])
        periods = pd.Series([cal_end, obs_end]).dt.to_period(freq).array.asi8
        assert (got["duration_holdout"] == periods[1] - periods[0]).all()
        holdout = orders[(orders["ts"] > cal_end) & (orders["ts"] <= obs_end)]
        holdout_periods = holdout.assign(p=holdout["ts"].dt.to_period(freq).array.asi8).groupby("customer")["p"]
        want = holdout_periods.nunique().reindex(got.index, fill_value=0).astype(float)
        np.testing.assert_array_equal(got["frequency_holdout"], want)


def test_every_alias_gives_the_summary_of_its_canonical_unit_and_the_fitters_take_it():
    orders = random_orders(5)
    for alias in aliases():
        unit = time_unit(alias)
        got = rfmkit.clv.summary(orders, **COLUMNS, freq=alias)
        canonical = rfmkit.clv.summary(orders, **COLUMNS, freq=unit.canonical)
        pd.testing.assert_frame_equal(got, canonical)
        assert got.attrs["rfmkit"]["freq"] == unit.canonical
        model = rfmkit.clv.BetaGeoFitter(penalizer_coef=0.01)
        try:
            model.fit(got, freq=alias)
        except rfmkit.ConvergenceError:  # a few periods (years) may not fit; the unit was accepted
            continue
        assert model.time_unit_ == unit.canonical


def test_the_week_ending_on_sunday_summary_fits_and_values():
    """The bug of the old second list: summary(freq="W-SUN") worked, fit refused it."""
    orders = rfmkit.datasets.make_transactions(500, seed=3)
    summary = rfmkit.clv.summary(orders, customer="customer_id", date="ordered_at", amount="amount", freq="W-SUN")
    bgf = rfmkit.clv.BetaGeoFitter().fit(summary)
    assert bgf.time_unit_ == "W"
    ggf = rfmkit.clv.GammaGammaFitter().fit(summary)
    value = ggf.customer_lifetime_value(
        bgf, summary["frequency"], summary["recency"], summary["T"], summary["monetary_value"], freq="W-SUN"
    )
    assert value.attrs["rfmkit"]["time_unit"] == "W"
    assert value.attrs["rfmkit"]["periods_per_month"] == 4.345


@pytest.mark.parametrize(
    "alias, canonical, days, periods_per_month",
    [
        ("H", "h", 1 / 24, 720.0),
        ("D", "D", 1.0, 30.0),
        ("W-SUN", "W", 7.0, 4.345),
        ("W-WED", "W-WED", 7.0, 4.345),
        ("ME", "M", 30.0, 1.0),
        ("QE", "Q", 90.0, 1 / 3),
        ("A", "Y", 360.0, 1 / 12),
    ],
)
def test_the_table(alias, canonical, days, periods_per_month):
    assert _core.time_unit(alias) == {"canonical": canonical, "days": days, "periods_per_month": periods_per_month}


def test_clv_month_in_quarters():
    """customer_lifetime_value steps by the table's month: 1/3 of a quarter."""
    bgf = rfmkit.clv.BetaGeoFitter()
    bgf.params_, bgf.time_unit_ = rfmkit.datasets.cdnow_params("bgnbd"), "Q"
    ggf = rfmkit.clv.GammaGammaFitter()
    ggf.params_ = rfmkit.datasets.cdnow_params("gamma_gamma")
    args = ([2.0, 0.0], [3.0, 0.0], [4.0, 4.0], [30.0, 0.0])
    value = ggf.customer_lifetime_value(bgf, *args, time=6, discount_rate=0.01)
    spend = ggf.conditional_expected_average_profit(args[0], args[3])
    cumulative = [bgf.conditional_expected_number_of_purchases_up_to_time(k / 3, *args[:3]) for k in range(7)]
    want = sum(spend * (cumulative[k] - cumulative[k - 1]) / 1.01**k for k in range(1, 7))
    np.testing.assert_allclose(value, want, rtol=1e-9)


@pytest.mark.parametrize("bad", ["2W", "weekly", "min", "", None, 7, "W-sun", "QS"])
def test_anything_else_is_refused_up_front_with_the_list(bad):
    orders = random_orders(6, n=50)
    listed = (
        re.escape(repr(bad))
        + r" is not a time unit; pass one of 'h', 'H', 'D', 'W', 'W-SUN', 'W-MON'.*'Q', 'QE', 'Y', 'YE', 'A'"
    )
    with pytest.raises(rfmkit.InvalidParameterError, match="freq=" + listed):
        rfmkit.clv.summary(orders, customer="customer", date="ts", freq=bad)
    with pytest.raises(rfmkit.InvalidParameterError, match="freq=" + listed):
        rfmkit.clv.calibration_holdout(
            orders, customer="customer", date="ts", freq=bad, calibration_period_end="2021-01-01"
        )
    if bad is not None:  # fit(freq=None) is "unit unknown"
        with pytest.raises(rfmkit.InvalidParameterError, match="freq=" + listed):
            rfmkit.clv.BetaGeoFitter().fit([0, 1], [0, 1.0], [2.0, 3.0], freq=bad)
    table = rfmkit.rfm(orders, **COLUMNS)
    with pytest.raises(rfmkit.InvalidParameterError, match="period=" + listed):
        rfmkit.clv.simple(table, margin=0.3, discount_rate=0.01, horizon=12, period=bad)


def test_simple_takes_the_table_units_of_a_day_or_longer():
    orders = random_orders(7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        table = rfmkit.rfm(orders, **COLUMNS)
    quarterly = rfmkit.clv.simple(table, margin=0.3, discount_rate=0.03, horizon=4, period="QE", retention=0.8)
    assert quarterly.attrs["rfmkit"]["period"] == "Q" and quarterly.attrs["rfmkit"]["period_days"] == 90.0
    rate = table["frequency"] / np.maximum(table["tenure"] / 90.0, 1.0)
    curve = sum((0.8 / 1.03) ** k for k in range(1, 5))
    np.testing.assert_allclose(quarterly, 0.3 * table["avg_order_value"] * rate * curve, rtol=1e-12)
    with pytest.raises(rfmkit.InvalidParameterError, match="period='h' is shorter than a day"):
        rfmkit.clv.simple(table, margin=0.3, discount_rate=0.01, horizon=12, period="h")
