"""`analyze`'s CLV step: zero amounts per step, and the CLV month from the table of units."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import rfmkit

NAMES = dict(customer="customer_id", date="ordered_at", amount="amount")


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    base = rfmkit.datasets.make_transactions(400, seed=4)
    base = base[base["amount"] != 0]
    # Customers whose only purchases are free items: in the BTYD summary by default, not in rfm.
    free = pd.DataFrame(
        {
            "customer_id": [900001, 900002, 900002],
            "order_id": ["F1", "F2", "F3"],
            "ordered_at": pd.to_datetime(["2024-03-01", "2024-04-01", "2024-06-01"]),
            "amount": [0.0, 0.0, 0.0],
        }
    )
    return pd.concat([base, free], ignore_index=True)


def run(orders: pd.DataFrame, **options) -> rfmkit.Report:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rfmkit.analyze(orders, **NAMES, k=None, progress=False, **options)


def summary_size(orders: pd.DataFrame, end: str, **options) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        return float(len(rfmkit.clv.summary(orders, **NAMES, observation_period_end=end, **options)))


def test_zero_none_lets_each_step_keep_its_default(orders):
    report = run(orders)
    assert report.settings["zero"] is None
    assert 900001 not in report.customers.index and 900002 not in report.customers.index
    assert report.customers.attrs["rfmkit"]["dropped"]["zero_amount"] == 3
    end = report.clv_model["observation_period_end"]
    # BG/NBD was fitted on the summary's own default: the free-only customers are in it.
    assert report.clv_model["bgnbd"].n_customers_ == summary_size(orders, end) == summary_size(orders, end, zero="keep")
    assert summary_size(orders, end, zero="drop") == summary_size(orders, end) - 2


@pytest.mark.parametrize("zero", ["drop", "keep"])
def test_an_explicit_zero_applies_to_both_steps(orders, zero):
    report = run(orders, zero=zero)
    assert (900001 in report.customers.index) == (zero == "keep")
    end = report.clv_model["observation_period_end"]
    assert report.clv_model["bgnbd"].n_customers_ == summary_size(orders, end, zero=zero)


def test_expected_purchases_cover_the_horizon_in_the_summary_unit(orders):
    report = run(orders, clv_horizon=6)
    model = report.clv_model
    assert model["time_unit"] == "D"
    customers = report.customers
    end = model["observation_period_end"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        summary = rfmkit.clv.summary(orders, **NAMES, observation_period_end=end).loc[customers.index]
    # Six months of lifetimes' 30 days.
    want = model["bgnbd"].conditional_expected_number_of_purchases_up_to_time(
        180, summary["frequency"], summary["recency"], summary["T"]
    )
    pd.testing.assert_series_equal(customers["expected_purchases"], want, check_names=False, rtol=1e-12)


def test_the_default_summary_feeds_gamma_gamma_with_free_repeat_purchases(orders):
    """Customer 900002 bought twice, both free: frequency 1, monetary_value 0. The fit
    leaves it out (a Gamma spend has no density at 0) and counts it; its expected spend
    is the population mean shrunk towards 0."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        summary = rfmkit.clv.summary(orders, **NAMES)
    assert summary.loc[900002, ["frequency", "monetary_value"]].tolist() == [1.0, 0.0]
    model = rfmkit.clv.GammaGammaFitter().fit(summary)
    paid = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    reference = rfmkit.clv.GammaGammaFitter().fit(paid["frequency"], paid["monetary_value"])
    pd.testing.assert_series_equal(model.params_, reference.params_)
    assert model.n_without_repeat_spend_ == 1
    assert model.n_without_repeat_ == int((summary["frequency"] == 0).sum())
    p, q, v = model.params_
    weight = p / (p + q - 1)
    spend = model.conditional_expected_average_profit(1, 0.0)
    assert spend == pytest.approx((1 - weight) * v * p / (q - 1), rel=1e-12)
    with pytest.raises(rfmkit.InvalidDataError, match=r"monetary_value\[0\] is -1.*mean repeat spend >= 0"):
        model.conditional_expected_average_profit([1], [-1.0])


def test_the_purchase_model_can_be_chosen_on_a_holdout():
    from frames import analyze_sample
    from rfmkit._text import WORDS

    orders = rfmkit.datasets.make_transactions(1500, seed=6)
    report = analyze_sample(orders, k=None, clv_model="auto")
    choice = report.clv_model["choice"]
    assert list(choice.index) == ["bgnbd", "mbgnbd", "pareto"]
    assert report.clv_model["purchase_model"] == choice["holdout_mae"].idxmin()
    assert choice["actual_purchases"].nunique() == 1  # the same customers and days for every model
    page = report.to_html()
    assert WORDS["clv choice"][0].split(" was chosen")[1][:10] in page
    # the comparison table, with every model by name
    assert "Mean absolute error" in page and all(name in page for name in ("BG/NBD", "MBG/NBD", "Pareto/NBD"))
    # MBG/NBD and Pareto/NBD: one-time buyers may have dropped out
    for name, fitter in (("mbgnbd", rfmkit.clv.ModifiedBetaGeoFitter), ("pareto", rfmkit.clv.ParetoNBDFitter)):
        other = analyze_sample(orders, k=None, clv_model=name)
        assert isinstance(other.clv_model[name], fitter)
        one_time = other.customers["frequency"] == 1
        assert (other.customers.loc[one_time, "p_alive"] < 1).all()
        assert other.customers[["p_purchase_30d", "clv"]].notna().all().all()
        page = other.to_html()
        assert WORDS[f"p_alive note {name}"][0][:40] in page
        # the fit check: observed against expected customers by repeat purchases
        assert WORDS["fit check"][0] in page
        summary = other.clv_model["summary"]
        assert other.clv_model[name].n_customers_ == len(summary)
    with pytest.raises(rfmkit.InvalidParameterError, match="clv_model='nbd' is not one of 'bgnbd', 'mbgnbd', 'pareto'"):
        analyze_sample(orders, k=None, clv_model="nbd")
