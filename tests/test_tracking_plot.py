"""The tracking plot (lifetimes' plot_cumulative_transactions / plot_incremental_transactions)
and its table, `rfmkit.clv.tracking_transactions`: the actual repeat transactions against a
row-by-row oracle, the prediction against the model summed customer by customer and against
lifetimes' `expected_cumulative_transactions` on CDNOW, and the plot's lines and words."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cdnow
import rfmkit
import rfmkit.plot
from frames import build, specs, to_polars
from reference import _classify_amount, _end_stamp, _summary_rows, column_tz, period_of, wall
from rfmkit.datasets import cdnow_params

pytest.importorskip("matplotlib")

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
REL = 1e-6  # the agreement asked of the prediction, relative, at every period
NAMES = dict(customer="customer", date="ts", amount="amount")


def bgnbd(unit: str | None = "W") -> rfmkit.clv.BetaGeoFitter:
    model = rfmkit.clv.BetaGeoFitter()
    model.params_ = cdnow_params("bgnbd")
    model.time_unit_ = unit
    return model


# --------------------------------------------------------------------------- the oracle


def reference_tracking(
    df: pd.DataFrame,
    model,
    *,
    customer: str,
    date: str,
    amount: str | None,
    freq: str,
    observation_period_end=None,
    zero: str = "keep",
    returns: str = "drop",
    multiplier: float = 1.0,
) -> pd.DataFrame:
    """Per period (from the first purchase period to the observation end's), row by row:
    the repeat transactions of the BTYD summary (a customer's purchase periods after its
    first one) and the model's expectation summed customer by customer, E[N(k + 1 - s)] for
    a customer born in period s at the end of period k."""
    customers, stamps, amounts, reason = _summary_rows(df, customer, date, amount, "drop")
    if observation_period_end is not None:
        end = _end_stamp(observation_period_end, column_tz(df[date]))
    else:
        end = max(wall(stamps[i]) for i in range(len(df)) if reason[i] is None)
    end_period = period_of(end, freq)
    bought: dict = {}
    for i in range(len(df)):
        if reason[i] is not None or period_of(stamps[i], freq) > end_period:
            continue
        kind, _ = _classify_amount(amounts[i], zero, returns, i, amount)
        if kind == "purchase":
            bought.setdefault(customers[i], set()).add(period_of(stamps[i], freq))
    start = min(min(periods) for periods in bought.values())
    n = end_period - start + 1
    actual = np.zeros(n, dtype=np.int64)
    predicted = np.zeros(n)
    for periods in bought.values():
        born, *repeats = sorted(periods)
        for p in repeats:
            actual[p - start] += 1
        s = born - start
        ages = (np.arange(s, n) + 1 - s) / multiplier
        predicted[s:] += np.asarray(model.expected_number_of_purchases_up_to_time(ages))
    return pd.DataFrame({"period": np.arange(n), "actual": actual, "predicted": predicted})


def check_against(got: pd.DataFrame, want: pd.DataFrame, rel: float = 1e-12) -> None:
    assert list(got["period"]) == list(want["period"])
    np.testing.assert_array_equal(got["actual"].to_numpy(), want["actual"].to_numpy())
    np.testing.assert_allclose(got["predicted"].to_numpy(), want["predicted"].to_numpy(), rtol=rel, atol=1e-12)


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    # order lines, returns, gifts (amount 0), invalid rows, times of day
    return rfmkit.datasets.make_transactions(400, seed=3, days=200)


@pytest.mark.parametrize("freq", ["D", "W", "M"])
def test_actual_and_predicted_match_the_row_by_row_oracle(orders, freq):
    model = bgnbd(freq)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        got = rfmkit.clv.tracking_transactions(
            model, orders, customer="customer_id", date="ordered_at", amount="amount", kind="incremental"
        )
    want = reference_tracking(orders, model, customer="customer_id", date="ordered_at", amount="amount", freq=freq)
    want["predicted"] = np.diff(want["predicted"], prepend=0.0)
    check_against(got, want, rel=1e-9)
    # the period's first day: the start of the calendar period
    first = orders["ordered_at"].dropna().min()
    assert got["period_start"].iloc[0] == first.to_period(freq).start_time.normalize()


def test_the_observation_end_and_the_row_rules_are_the_summarys(orders):
    model = bgnbd("W")
    options = dict(observation_period_end="2023-05-10", zero="drop", returns="net")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        got = rfmkit.clv.tracking_transactions(
            model, orders, customer="customer_id", date="ordered_at", amount="amount", **options
        )
        summary = rfmkit.clv.summary(
            orders, customer="customer_id", date="ordered_at", amount="amount", freq="W", **options
        )
    want = reference_tracking(
        orders, model, customer="customer_id", date="ordered_at", amount="amount", freq="W", **options
    )
    want["actual"] = want["actual"].cumsum()
    check_against(got, want, rel=1e-9)
    assert got["actual"].iloc[-1] == summary["frequency"].sum()
    info = rfmkit.quality(got)
    assert info["dropped"] == rfmkit.quality(summary)["dropped"]
    assert info["observation_period_end"] == "2023-05-10T00:00:00"
    assert info["last_period_partial"]  # a Wednesday: the week runs to Sunday


def test_freq_multiplier_divides_the_ages(orders):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        summary = rfmkit.clv.summary(orders, customer="customer_id", date="ordered_at", freq="D", freq_multiplier=7)
        # 400 customers over 200 days: unpenalised, a and b run off together (one drop-out
        # probability for all, a ConvergenceError); the penalty keeps them finite
        model = rfmkit.clv.BetaGeoFitter(penalizer_coef=0.01).fit(summary)
        got = rfmkit.clv.tracking_transactions(model, orders, customer="customer_id", date="ordered_at")
    assert model.freq_multiplier_ == 7.0
    want = reference_tracking(orders, model, customer="customer_id", date="ordered_at", amount=None, freq="D")
    assert not np.allclose(got["predicted"], want["predicted"])  # ages in days would be wrong
    want = reference_tracking(
        orders, model, customer="customer_id", date="ordered_at", amount=None, freq="D", multiplier=7.0
    )
    want["actual"] = want["actual"].cumsum()
    check_against(got, want, rel=1e-9)


# --------------------------------------------------------------------------- lifetimes on CDNOW


@pytest.fixture(scope="module")
def cdnow_master() -> pd.DataFrame:
    return cdnow.master()


def lifetimes_tracking(model_class: str, transactions: pd.DataFrame, freq: str, periods: int):
    """lifetimes' fit on its own summary of CDNOW, and its expected_cumulative_transactions."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import lifetimes
        import lifetimes.utils

        summary = lifetimes.utils.summary_data_from_transaction_data(transactions, "customer_id", "date", freq=freq)
        theirs = getattr(lifetimes, model_class)().fit(summary["frequency"], summary["recency"], summary["T"])
        table = lifetimes.utils.expected_cumulative_transactions(
            theirs, transactions, "date", "customer_id", t=periods, freq=freq
        )
    return theirs.params_, table


@pytest.mark.parametrize(
    ("model_class", "freq", "periods"),
    [("BetaGeoFitter", "D", 546), ("ModifiedBetaGeoFitter", "D", 546), ("BetaGeoFitter", "W", 79)],
)
def test_cdnow_agrees_with_lifetimes_expected_cumulative_transactions(cdnow_master, model_class, freq, periods):
    params, theirs = lifetimes_tracking(model_class, cdnow_master, freq, periods)
    model = getattr(rfmkit.clv, model_class)()
    model.params_ = params.copy()
    got = rfmkit.clv.tracking_transactions(model, cdnow_master, customer="customer_id", date="date", freq=freq)
    # 1997-01-01 .. 1998-06-30: 546 days, 79 weeks (Monday 1996-12-30 .. Sunday 1998-07-05)
    assert len(got) == len(theirs) == periods
    np.testing.assert_array_equal(got["actual"].to_numpy(), theirs["actual"].to_numpy())
    np.testing.assert_allclose(got["predicted"].to_numpy(), theirs["predicted"].to_numpy(), rtol=REL, atol=0)
    summary = rfmkit.clv.summary(cdnow_master, customer="customer_id", date="date", freq=freq)
    assert got["actual"].iloc[-1] == summary["frequency"].sum() == (44_021 if freq == "D" else 40_629)


# --------------------------------------------------------------------------- properties


@settings(max_examples=150, **SETTINGS)
@given(spec=specs(max_rows=40, min_rows=1), freq=st.sampled_from(["D", "W", "M"]), polars=st.booleans())
def test_incremental_adds_up_to_cumulative_and_to_the_summarys_frequency(spec, freq, polars):
    df = build(spec)
    data = to_polars(df) if polars else df
    model = bgnbd(freq)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        summary = rfmkit.clv.summary(data, **NAMES, freq=freq)
        cumulative = rfmkit.clv.tracking_transactions(model, data, **NAMES)
        incremental = rfmkit.clv.tracking_transactions(model, data, **NAMES, kind="incremental")
    if polars:
        cumulative, incremental = cumulative.to_pandas(), incremental.to_pandas()
    total = float(np.asarray(summary["frequency"]).sum())
    if len(cumulative) == 0:
        assert total == 0 and len(incremental) == 0
        return
    np.testing.assert_array_equal(incremental["actual"].cumsum(), cumulative["actual"])
    np.testing.assert_allclose(incremental["predicted"].cumsum(), cumulative["predicted"], rtol=1e-12, atol=1e-12)
    assert cumulative["actual"].iloc[-1] == total
    assert np.all(np.diff(cumulative["predicted"]) > 0)  # every customer ages
    want = reference_tracking(df, model, **NAMES, freq=freq)
    want["actual"] = want["actual"].cumsum()
    check_against(cumulative, want, rel=1e-9)


# --------------------------------------------------------------------------- inputs and errors


def test_polars_in_polars_out(orders):
    pl = pytest.importorskip("polars")
    model = bgnbd("W")
    names = dict(customer="customer_id", date="ordered_at", amount="amount")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        want = rfmkit.clv.tracking_transactions(model, orders, **names)
        got = rfmkit.clv.tracking_transactions(model, pl.from_pandas(orders), **names)
    assert isinstance(got, pl.DataFrame)
    assert got.columns == ["period", "period_start", "actual", "predicted"]
    pd.testing.assert_frame_equal(got.to_pandas(), want, check_dtype=False)


def test_text_dates_are_read_by_the_package_rules():
    model = bgnbd("D")
    text = pd.DataFrame({"id": ["007", "007", "8"], "day": ["2024-01-01", "2024-01-03", "2024-01-02"]})
    got = rfmkit.clv.tracking_transactions(model, text, customer="id", date="day")
    assert list(got["actual"]) == [0, 0, 1]
    ambiguous = pd.DataFrame({"id": [1, 1], "day": ["01/02/2024", "03/02/2024"]})
    with pytest.raises(rfmkit.DtypeError, match="date column 'day' is ambiguous.*dayfirst=True"):
        rfmkit.clv.tracking_transactions(model, ambiguous, customer="id", date="day")
    got = rfmkit.clv.tracking_transactions(model, ambiguous, customer="id", date="day", dayfirst=True)
    assert list(got["period_start"]) == list(pd.date_range("2024-02-01", "2024-02-03"))  # 1 .. 3 February


def test_errors_name_what_is_wrong(orders):
    model = bgnbd("W")
    names = dict(customer="customer_id", date="ordered_at")
    with pytest.raises(rfmkit.ColumnNotFoundError, match="ordered_on"):
        rfmkit.clv.tracking_transactions(model, orders, customer="customer_id", date="ordered_on")
    with pytest.raises(rfmkit.InvalidParameterError, match="kind='total'"):
        rfmkit.clv.tracking_transactions(model, orders, **names, kind="total")
    with pytest.raises(
        rfmkit.InvalidParameterError, match="freq='D' but the purchase model was fitted on times in 'W'"
    ):
        rfmkit.clv.tracking_transactions(model, orders, **names, freq="D")
    with pytest.raises(rfmkit.InvalidParameterError, match="freq= is required"):
        rfmkit.clv.tracking_transactions(bgnbd(None), orders, **names)
    with pytest.raises(rfmkit.InvalidParameterError, match="in hours"):
        rfmkit.clv.tracking_transactions(bgnbd("h"), orders, **names)
    with pytest.raises(rfmkit.NotFittedError):
        rfmkit.clv.tracking_transactions(rfmkit.clv.BetaGeoFitter(), orders, **names, freq="W")
    with pytest.raises(rfmkit.InvalidParameterError, match="expected_number_of_purchases_up_to_time"):
        rfmkit.clv.tracking_transactions(rfmkit.clv.GammaGammaFitter(), orders, **names, freq="W")
    with pytest.raises(rfmkit.InvalidParameterError, match="table in memory"):
        rfmkit.clv.tracking_transactions(model, "orders/*.parquet", **names)
    with pytest.raises(rfmkit.InvalidParameterError, match="observation_period_end='soon'"):
        rfmkit.clv.tracking_transactions(model, orders, **names, observation_period_end="soon")
    with pytest.raises(rfmkit.InvalidRowError, match="ordered_at"):
        rfmkit.clv.tracking_transactions(model, orders, **names, invalid="raise")


def test_no_purchase_gives_an_empty_table():
    model = bgnbd("D")
    none = pd.DataFrame({"id": [1, 2], "day": pd.to_datetime(["2024-01-01", "2024-01-02"]), "amount": [-1.0, -2.0]})
    with pytest.warns(rfmkit.DataQualityWarning, match="2 return"):
        got = rfmkit.clv.tracking_transactions(model, none, customer="id", date="day", amount="amount")
    assert got.empty and list(got.columns) == ["period", "period_start", "actual", "predicted"]


# --------------------------------------------------------------------------- the plot


def test_the_plot_draws_the_table_with_the_calibration_end(orders):
    import matplotlib.pyplot as plt

    model = bgnbd("W")
    names = dict(customer="customer_id", date="ordered_at", amount="amount")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        for kind in ("cumulative", "incremental"):
            table = rfmkit.clv.tracking_transactions(model, orders, **names, kind=kind)
            ax = rfmkit.plot.tracking_transactions(
                model, orders, **names, kind=kind, calibration_period_end="2023-04-12 18:00"
            )
            observed, predicted, calibration = ax.get_lines()
            np.testing.assert_array_equal(observed.get_ydata(), table["actual"])
            np.testing.assert_array_equal(predicted.get_ydata(), table["predicted"])
            np.testing.assert_array_equal(observed.get_xdata(), table["period"])
            # 2023-04-12 is in the week of Monday 2023-04-10
            week = int(np.flatnonzero(table["period_start"] == pd.Timestamp("2023-04-10"))[0])
            assert list(calibration.get_xdata()) == [week, week]
            assert [t.get_text() for t in ax.get_legend().get_texts()] == [
                "observed",
                "model",
                "end of the calibration",
            ]
            start = table["period_start"].iloc[0].date().isoformat()
            assert ax.get_xlabel() == f"weeks since {start}"
            plt.close(ax.figure)
    assert ax.get_title() == "Tracking repeat transactions per period"
    assert ax.get_ylabel() == "repeat transactions in the period"


def test_the_plot_without_a_calibration_end_and_on_a_given_axes(orders):
    import matplotlib.pyplot as plt

    _, given_ax = plt.subplots()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        ax = rfmkit.plot.tracking_transactions(
            bgnbd("M"), orders, customer="customer_id", date="ordered_at", ax=given_ax
        )
    assert ax is given_ax
    assert len(ax.get_lines()) == 2
    assert ax.get_title() == "Tracking cumulative repeat transactions"
    assert ax.get_xlabel().startswith("months since ")
    assert ax.get_ylabel() == "cumulative repeat transactions"
    plt.close(ax.figure)


def test_the_plot_refuses_a_calibration_end_outside_the_periods(orders):
    with pytest.raises(rfmkit.InvalidParameterError, match="outside the tracked periods"):
        rfmkit.plot.tracking_transactions(
            bgnbd("W"), orders.dropna(), customer="customer_id", date="ordered_at", calibration_period_end="2030-01-01"
        )


def test_the_plot_in_chinese(orders, monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.setattr(rfmkit.plot, "cjk_font", lambda: "DejaVu Sans")  # the words, whatever the font
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        warnings.simplefilter("error", rfmkit.plot.PlotFontWarning)
        ax = rfmkit.plot.tracking_transactions(
            bgnbd("W"),
            orders,
            customer="customer_id",
            date="ordered_at",
            calibration_period_end="2023-04-12",
            lang="zh",
        )
    assert ax.get_title() == "累计复购交易：实际与模型"
    assert ax.get_ylabel() == "累计复购交易次数"
    assert ax.get_xlabel().startswith("自 ") and ax.get_xlabel().endswith(" 起的周数")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["实际", "模型", "校准期结束"]
    plt.close(ax.figure)


def test_without_a_cjk_font_the_chinese_plot_is_drawn_in_english(orders, monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.setattr(rfmkit.plot, "cjk_font", lambda: None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        with pytest.warns(rfmkit.plot.PlotFontWarning):
            ax = rfmkit.plot.tracking_transactions(
                bgnbd("W"), orders, customer="customer_id", date="ordered_at", lang="zh"
            )
    assert ax.get_title() == "Tracking cumulative repeat transactions"
    plt.close(ax.figure)
