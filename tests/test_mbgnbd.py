"""MBG/NBD against lifetimes' ModifiedBetaGeoFitter on the CDNOW summary and on simulated
summaries: parameters within 1e-4 relative, objective within 1e-6, predictions within
1e-6; and the property it exists for: one-time buyers have P(alive) < 1."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import rfmkit
from clv_reference import simulate_bgnbd

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import lifetimes
    from lifetimes.datasets import load_cdnow_summary


def quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def check(data, penalizer: float = 0.0):
    f, r, age = data["frequency"], data["recency"], data["T"]
    theirs = quiet(lifetimes.ModifiedBetaGeoFitter(penalizer_coef=penalizer).fit, f, r, age)
    ours = rfmkit.clv.ModifiedBetaGeoFitter(penalizer_coef=penalizer).fit(f, r, age, freq="W")
    names = ["r", "alpha", "a", "b"]
    np.testing.assert_allclose(ours.params_[names], theirs.params_[names], rtol=1e-4)
    np.testing.assert_allclose(ours.objective_, theirs._negative_log_likelihood_, rtol=1e-6)
    # the predictions at the same parameters
    ours.params_ = theirs.params_[names].copy()
    for t in (1.0, 13.0, 39.0):
        np.testing.assert_allclose(
            ours.conditional_expected_number_of_purchases_up_to_time(t, f, r, age),
            quiet(theirs.conditional_expected_number_of_purchases_up_to_time, t, f, r, age),
            rtol=1e-6,
        )
    np.testing.assert_allclose(
        ours.conditional_probability_alive(f, r, age), quiet(theirs.conditional_probability_alive, f, r, age), rtol=1e-9
    )
    np.testing.assert_allclose(
        ours.expected_number_of_purchases_up_to_time([13.0, 52.0]),
        quiet(theirs.expected_number_of_purchases_up_to_time, np.array([13.0, 52.0])),
        rtol=1e-6,
    )
    return ours


def test_cdnow_matches_lifetimes():
    data = load_cdnow_summary()
    model = check(data)
    one_time = data["frequency"] == 0
    alive = model.conditional_probability_alive(data["frequency"], data["recency"], data["T"])
    assert (alive[one_time.to_numpy()] < 1).all()  # BG/NBD would give 1


@pytest.mark.parametrize("seed", [1, 2])
def test_simulated_summaries_match_lifetimes(seed):
    data = simulate_bgnbd(2000, 0.243, 4.414, 0.793, 2.426, seed=seed)
    check(data)
    check(data, penalizer=0.01)


def test_clv_with_the_modified_model_uses_its_predictions():
    data = load_cdnow_summary()
    model = rfmkit.clv.ModifiedBetaGeoFitter().fit(data["frequency"], data["recency"], data["T"], freq="W")
    spend = rfmkit.clv.GammaGammaFitter()
    spend.params_ = rfmkit.datasets.cdnow_params("gamma_gamma")
    f, r, age = data["frequency"], data["recency"], data["T"]
    money = np.full(len(data), 40.0)
    value = spend.customer_lifetime_value(model, f, r, age, money, time=3, freq="W", discount_rate=0.01)
    # by hand: the monthly increments of the model's expectations, discounted
    per_purchase = spend.conditional_expected_average_profit(f, money)
    step = 4.345
    cumulative = [model.conditional_expected_number_of_purchases_up_to_time(k * step, f, r, age) for k in range(4)]
    want = sum(per_purchase * (cumulative[k] - cumulative[k - 1]) / 1.01**k for k in range(1, 4))
    np.testing.assert_allclose(value, want, rtol=1e-12)
