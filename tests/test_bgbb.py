"""BG/BB against the paper (Fader, Hardie & Shang 2010) and lifetimes'
BetaGeoBetaBinomFitter on the donations data, and its errors."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import rfmkit

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import lifetimes
    from lifetimes.datasets import load_donations


@pytest.fixture(scope="module")
def donations():
    return load_donations()


def test_reproduces_the_papers_estimates_and_lifetimes(donations):
    model = rfmkit.clv.BetaGeoBetaBinomFitter().fit(donations)  # the frame: frequency, recency, periods, weights
    np.testing.assert_allclose(model.params_.round(3), [1.204, 0.750, 0.657, 2.783])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = lifetimes.BetaGeoBetaBinomFitter().fit(
            donations["frequency"], donations["recency"], donations["periods"], weights=donations["weights"]
        )
    names = ["alpha", "beta", "gamma", "delta"]
    np.testing.assert_allclose(model.params_[names], theirs.params_[names], rtol=1e-4)
    assert model.objective_ == pytest.approx(theirs._negative_log_likelihood_, rel=1e-9)
    assert model.n_customers_ == 11_104
    model.params_ = theirs.params_[names].copy()
    f, r, n = donations["frequency"], donations["recency"], donations["periods"]
    for m in (1, 5, 10):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want_alive = theirs.conditional_probability_alive(m, f, r, n)
            want_expected = theirs.conditional_expected_number_of_purchases_up_to_time(m, f, r, n)
        np.testing.assert_allclose(model.conditional_probability_alive(m, f, r, n), want_alive, rtol=1e-9)
        np.testing.assert_allclose(
            model.conditional_expected_number_of_purchases_up_to_time(m, f, r, n), want_expected, rtol=1e-9
        )


def test_weights_equal_repeated_rows(donations):
    # every other pattern: an estimate (the first 8 patterns, the most loyal donors, are a
    # limit: gamma and delta run off together, a ConvergenceError)
    small = donations.iloc[::2]
    weighted = rfmkit.clv.BetaGeoBetaBinomFitter().fit(small)
    rows = small.loc[small.index.repeat(small["weights"])].drop(columns="weights")
    repeated = rfmkit.clv.BetaGeoBetaBinomFitter().fit(rows["frequency"], rows["recency"], rows["periods"])
    np.testing.assert_allclose(weighted.params_, repeated.params_, rtol=1e-8)


def test_bad_rows_are_clear_errors():
    for frequency, recency, message in ((2, 1, "recency must be at least frequency"), (1.5, 2, "whole number")):
        with pytest.raises(rfmkit.InvalidDataError, match=message):
            rfmkit.clv.BetaGeoBetaBinomFitter().fit([frequency, 0], [recency, 0], [6, 6])
    with pytest.raises(rfmkit.ConvergenceError, match="Only 2 of 3 customers made a purchase"):
        rfmkit.clv.BetaGeoBetaBinomFitter().fit(
            pd.DataFrame({"frequency": [0, 1, 3], "recency": [0, 2, 5], "periods": 6})
        )
    model = rfmkit.clv.BetaGeoBetaBinomFitter()
    model.params_ = pd.Series([1.204, 0.750, 0.657, 2.783], index=["alpha", "beta", "gamma", "delta"])
    with pytest.raises(rfmkit.InvalidParameterError, match="m_periods_in_future must be a finite time >= 0"):
        model.conditional_probability_alive(-1, [0], [0], [6])


def simulate_bgbb(n: int, params: dict[str, float], periods: int, seed: int) -> np.ndarray:
    """BG/BB customers over `periods` opportunities: an active one may leave (theta) before
    each opportunity, then buys at it with probability p. Returns who bought at which
    opportunity (customers x opportunities)."""
    rng = np.random.default_rng(seed)
    p = rng.beta(params["alpha"], params["beta"], n)
    theta = rng.beta(params["gamma"], params["delta"], n)
    alive = np.ones(n, dtype=bool)
    bought = np.zeros((n, periods), dtype=bool)
    for t in range(periods):
        alive &= rng.random(n) >= theta
        bought[:, t] = alive & (rng.random(n) < p)
    return bought


def test_next_purchase_matches_a_simulation_of_the_model():
    """Discrete histories condition exactly: customers with the same (x, t_x) after 6
    opportunities, and whether they buy in the next m."""
    params = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
    model = rfmkit.clv.BetaGeoBetaBinomFitter()
    model.params_ = pd.Series(params)
    bought = simulate_bgbb(400_000, params, periods=6 + 8, seed=4)
    history, future = bought[:, :6], bought[:, 6:]
    x = history.sum(axis=1).astype(float)
    last = np.where(history.any(axis=1), 6 - np.argmax(history[:, ::-1], axis=1), 0).astype(float)
    first_after = np.where(future.any(axis=1), np.argmax(future, axis=1) + 1, np.inf)
    checked = 0
    for fx, ftx in {(a, b) for a, b in zip(x, last)}:
        group = (x == fx) & (last == ftx)
        if group.sum() < 3000:
            continue
        for m in (1, 3, 8):
            share = (first_after[group] <= m).mean()
            predicted = model.conditional_probability_of_purchase_within(m, fx, ftx, 6)
            assert abs(predicted - share) < 4 * np.sqrt(share * (1 - share) / group.sum()) + 1e-3, (fx, ftx, m)
            checked += 1
        median = model.conditional_median_time_to_next_purchase(fx, ftx, 6)
        if np.isfinite(median) and median <= 8:
            assert (first_after[group] <= median).mean() >= 0.5 - 0.01
            assert (first_after[group] <= median - 1).mean() < 0.5 + 0.01
    assert checked >= 15
