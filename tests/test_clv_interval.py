"""The uncertainty of the CLV from the estimation of the models (parametric bootstrap in the
Rust core) against a numpy Monte Carlo of the same draws, and its limits: no covariance
gives the point value; more customers, narrower intervals; seeded. Also the core's
lifetime value of MBG/NBD and Pareto/NBD against the models' own predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import rfmkit
from clv_reference import simulate_bgnbd, simulate_spend
from rfmkit.clv import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter, ParetoNBDFitter

MODELS = [BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter]


def summary_of(n: int, seed: int) -> pd.DataFrame:
    data = simulate_bgnbd(n, 0.5, 6.0, 0.7, 3.0, seed=seed, max_age=52.0)
    data["monetary_value"] = simulate_spend(data["frequency"].to_numpy(), 6.0, 4.0, 15.0, seed=seed + 1)
    return data


@pytest.fixture(scope="module")
def fitted():
    data = summary_of(3000, seed=3)
    spend = GammaGammaFitter().fit(data["frequency"], data["monetary_value"])
    return data, spend


def columns(data):
    return [data[c] for c in ("frequency", "recency", "T", "monetary_value")]


@pytest.mark.parametrize("model_class", MODELS)
def test_the_core_value_equals_the_models_own_predictions(fitted, model_class):
    data, spend = fitted
    model = model_class().fit(data["frequency"], data["recency"], data["T"], freq="W")
    f, r, t, m = columns(data)
    fast = spend.customer_lifetime_value(model, f, r, t, m, time=12, freq="W")
    expected = spend.conditional_expected_average_profit(f.to_numpy(), m.to_numpy())
    frame = {"frequency": f.to_numpy(), "recency": r.to_numpy(), "T": t.to_numpy()}
    slow = spend._generic_value(model, frame, np.asarray(expected), 12, 4.345, 0.01)
    np.testing.assert_allclose(fast, slow, rtol=1e-9, atol=1e-12)


def reference_draws(model, spend, data, draws: int, seed: int) -> np.ndarray:
    """Each customer's CLV under parameters drawn in numpy from the log-normal of the
    delta method, computed with the models' own methods (parameters set by hand)."""
    rng = np.random.default_rng(seed)
    f, r, t, m = columns(data)
    values = []
    for fit in (model, spend):
        p = fit.params_.to_numpy()
        log_cov = fit.variance_matrix_.to_numpy() / np.outer(p, p)
        values.append(np.exp(rng.multivariate_normal(np.log(p), log_cov, size=3 * draws)))
    purchase_draws, spend_draws = values[0], values[1][values[1][:, 1] > 1][:draws]
    out = np.empty((draws, len(data)))
    for d in range(draws):
        purchase = type(model)()
        purchase.params_, purchase.time_unit_ = pd.Series(purchase_draws[d], index=model.params_.index), "W"
        money = GammaGammaFitter()
        money.params_ = pd.Series(spend_draws[d], index=spend.params_.index)
        out[d] = money.customer_lifetime_value(purchase, f, r, t, m, time=12)
    return out


@pytest.mark.parametrize("model_class", MODELS)
def test_the_interval_matches_a_numpy_monte_carlo_of_the_same_draws(fitted, model_class):
    data, spend = fitted
    model = model_class().fit(data["frequency"], data["recency"], data["T"], freq="W")
    some = data.iloc[[0, 1, 5, 17, 40, 99, 250, 777]]
    ours = spend.customer_lifetime_value_interval(model, *columns(some), draws=2000, seed=4)
    theirs = reference_draws(model, spend, some, draws=2000, seed=5)
    # the same distribution: means within 4 standard errors, sds and quantiles within 10 %
    error = np.sqrt(ours["clv_sd"] ** 2 / 2000 + theirs.std(axis=0) ** 2 / 2000)
    assert (np.abs(ours["clv_mean"] - theirs.mean(axis=0)) < 4 * error + 1e-12).all()
    np.testing.assert_allclose(ours["clv_sd"], theirs.std(axis=0, ddof=1), rtol=0.1)
    for column, q in (("clv_low", 0.05), ("clv_high", 0.95)):
        np.testing.assert_allclose(ours[column], np.quantile(theirs, q, axis=0), rtol=0.1)
    assert (ours["clv_sd"] > 0).all()


def test_without_covariance_the_interval_is_the_point_and_draws_are_seeded(fitted, tmp_path):
    data, spend = fitted
    model = BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"], freq="W")
    f, r, t, m = columns(data)
    interval = spend.customer_lifetime_value_interval(model, f, r, t, m, draws=50, seed=1)
    assert interval.index.equals(f.index)
    np.testing.assert_allclose(interval["clv"], spend.customer_lifetime_value(model, f, r, t, m), rtol=1e-12)
    again = spend.customer_lifetime_value_interval(model, f, r, t, m, draws=50, seed=1)
    other = spend.customer_lifetime_value_interval(model, f, r, t, m, draws=50, seed=2)
    pd.testing.assert_frame_equal(interval, again)
    assert not np.allclose(interval["clv_high"], other["clv_high"])
    # no uncertainty: every draw is the fitted parameters
    exact_model = BetaGeoFitter.load(model.save(tmp_path / "bg.json"))
    exact_model.variance_matrix_ = exact_model.variance_matrix_ * 0.0
    exact_spend = GammaGammaFitter.load(spend.save(tmp_path / "gg.json"))
    exact_spend.variance_matrix_ = exact_spend.variance_matrix_ * 0.0
    point = exact_spend.customer_lifetime_value_interval(exact_model, f, r, t, m, draws=20)
    for column in ("clv_mean", "clv_low", "clv_high"):
        np.testing.assert_allclose(point[column], point["clv"], rtol=1e-12, atol=1e-12)


def test_more_customers_give_narrower_intervals():
    widths = []
    for n in (600, 6000):
        data = summary_of(n, seed=8)
        model = BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"], freq="W")
        spend = GammaGammaFitter().fit(data["frequency"], data["monetary_value"])
        head = data.iloc[:300]
        interval = spend.customer_lifetime_value_interval(model, *columns(head), draws=300, seed=0)
        widths.append(np.median((interval["clv_high"] - interval["clv_low"]) / interval["clv"]))
    # the standard errors shrink as 1/sqrt(n): ten times the customers, about a third of the width
    assert widths[1] < widths[0] / 2


def test_bad_requests_are_clear(fitted):
    data, spend = fitted
    f, r, t, m = columns(data)
    model = BetaGeoFitter().fit(f, r, t, freq="W")
    hand = BetaGeoFitter()
    hand.params_, hand.time_unit_ = model.params_.copy(), "W"
    with pytest.raises(rfmkit.NotFittedError, match="set by hand"):
        spend.customer_lifetime_value_interval(hand, f, r, t, m)
    with pytest.raises(rfmkit.InvalidParameterError, match="level is the coverage"):
        spend.customer_lifetime_value_interval(model, f, r, t, m, level=90)
    for bad in (5, -5, 2.5):
        with pytest.raises(rfmkit.InvalidParameterError, match="draws must be a whole number between 10 and 100000"):
            spend.customer_lifetime_value_interval(model, f, r, t, m, draws=bad)
    for bad in (-1, 2**70):
        with pytest.raises(rfmkit.InvalidParameterError, match="seed must be a whole number"):
            spend.customer_lifetime_value_interval(model, f, r, t, m, seed=bad)
    assert len(spend.customer_lifetime_value_interval(model, f, r, t, m, level=np.float32(0.8), draws=10)) == len(f)
    infinite = GammaGammaFitter()
    infinite.params_ = spend.params_.copy()
    infinite.params_["q"] = 0.6
    infinite.variance_matrix_ = spend.variance_matrix_
    with pytest.raises(rfmkit.InvalidParameterError, match="q is 0.6 <= 1"):
        infinite.customer_lifetime_value_interval(model, f, r, t, m)

    class Foreign:
        params_ = model.params_

    with pytest.raises(rfmkit.InvalidParameterError, match="needs an rfmkit purchase model"):
        spend.customer_lifetime_value_interval(Foreign(), f, r, t, m, freq="W")


def test_spend_draws_without_a_mean_are_drawn_again(fitted, tmp_path):
    data, spend = fitted
    model = BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"], freq="W")
    uncertain = GammaGammaFitter.load(spend.save(tmp_path / "gg.json"))
    q = float(uncertain.params_["q"])
    # a standard error of q twice q - 1: about a sixth of the draws falls at or below 1
    uncertain.variance_matrix_ = uncertain.variance_matrix_ * 0.0
    uncertain.variance_matrix_.loc["q", "q"] = (2.0 * (q - 1.0)) ** 2
    interval = uncertain.customer_lifetime_value_interval(model, *columns(data.iloc[:50]), draws=400, seed=3)
    assert interval.attrs["rfmkit"]["spend_draws_redrawn"] > 20
    assert np.isfinite(interval[["clv_mean", "clv_low", "clv_high"]].to_numpy()).all()
    assert interval.attrs["rfmkit"]["draws_not_finite"] == 0
