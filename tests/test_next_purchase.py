"""BG/NBD next-purchase predictions against a simulation of the model: the probability of
a purchase within t, the median time to the next purchase, purchases in an interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import rfmkit
from rfmkit.clv import BetaGeoFitter

PARAMS = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # the BG/NBD paper's CDNOW fit (weeks)


def simulate(
    n: int, T: float, horizon: float, seed: int, *, modified: bool = False
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """BG/NBD customers who start with a purchase at 0: their summary at T, and the times of
    their purchases after T (first one, and count up to T + horizon). `modified`: MBG/NBD,
    where a customer may also drop out right after that first purchase."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(PARAMS["r"], 1.0 / PARAMS["alpha"], n)
    drop = rng.beta(PARAMS["a"], PARAMS["b"], n)
    time = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    if modified:
        alive &= rng.random(n) >= drop
    frequency = np.zeros(n)
    recency = np.zeros(n)
    first_after = np.full(n, np.inf)
    after = np.zeros(n)
    while alive.any():
        time = np.where(alive, time + rng.exponential(1.0 / rate), time)
        alive &= time <= T + horizon
        before = alive & (time <= T)
        frequency[before] += 1
        recency[before] = time[before]
        later = alive & (time > T)
        first_after[later] = np.minimum(first_after[later], time[later])
        after[later] += 1
        alive &= rng.random(n) >= drop  # drops out right after a purchase
    summary = pd.DataFrame({"frequency": frequency, "recency": recency, "T": T})
    return summary, first_after - T, after


@pytest.fixture(scope="module")
def simulated():
    return simulate(400_000, T=39.0, horizon=39.0, seed=11)


@pytest.fixture(scope="module")
def model():
    fitted = BetaGeoFitter()
    fitted.params_ = pd.Series(PARAMS)
    return fitted


def _by_history(summary: pd.DataFrame) -> list[np.ndarray]:
    """Groups of simulated customers with alike histories (frequency, recency band)."""
    x = summary["frequency"].clip(upper=4).to_numpy()
    band = np.minimum((summary["recency"] / 13).astype(int), 2).to_numpy()
    return [(x == f) & (band == b) for f in range(5) for b in range(3) if ((x == f) & (band == b)).sum() > 2000]


@pytest.mark.parametrize("t", [4.0, 13.0, 39.0])
def test_probability_of_a_purchase_within_t_matches_the_simulation(simulated, model, t):
    summary, wait, _ = simulated
    predicted = model.conditional_probability_of_purchase_within(
        t, summary["frequency"], summary["recency"], summary["T"]
    )
    observed = wait <= t
    for group in _by_history(summary):
        share = observed[group].mean()
        error = np.sqrt(share * (1 - share) / group.sum())
        assert abs(predicted[group].mean() - share) < 4 * error + 2e-3


def test_median_time_to_next_purchase_is_where_the_probability_reaches_a_half(simulated, model):
    summary, wait, _ = simulated
    f, r, age = summary["frequency"], summary["recency"], summary["T"]
    median = model.conditional_median_time_to_next_purchase(f, r, age)
    finite = np.isfinite(median)
    alive = model.conditional_probability_alive(f, r, age)
    assert (finite == (alive > 0.5)).all()
    at_median = model.conditional_probability_of_purchase_within(median[finite], f[finite], r[finite], age[finite])
    np.testing.assert_allclose(at_median, 0.5, atol=1e-9)
    # in the simulation, about half of a group with one median buys by then
    group = (summary["frequency"] == 2).to_numpy() & (summary["recency"] > 30).to_numpy()
    assert abs((wait[group] <= np.median(median[group])).mean() - 0.5) < 0.02


def test_purchases_in_an_interval_match_the_simulation(simulated, model):
    summary, _, after = simulated
    f, r, age = summary["frequency"], summary["recency"], summary["T"]
    predicted = model.conditional_expected_number_of_purchases_in_interval(0, 39, f, r, age)
    np.testing.assert_allclose(
        predicted, model.conditional_expected_number_of_purchases_up_to_time(39, f, r, age), rtol=1e-12
    )
    for group in _by_history(summary):
        spread = after[group].std() / np.sqrt(group.sum())
        assert abs(predicted[group].mean() - after[group].mean()) < 4 * spread + 2e-3
    with pytest.raises(rfmkit.InvalidParameterError, match="t1 must not exceed t2"):
        model.conditional_expected_number_of_purchases_in_interval(5, 2, f, r, age)
    with pytest.raises(rfmkit.InvalidParameterError, match="t must be a finite time >= 0"):
        model.conditional_probability_of_purchase_within(-1, f, r, age)


@pytest.mark.parametrize("t", [4.0, 13.0, 39.0])
def test_mbgnbd_probability_of_a_purchase_within_t_matches_a_simulation_of_mbgnbd(t):
    """MBG/NBD's own simulation (a customer may leave right after the first purchase too):
    its P(purchase within t) by history, one-time buyers included."""
    summary, wait, _ = simulate(300_000, T=39.0, horizon=39.0, seed=12, modified=True)
    model = rfmkit.clv.ModifiedBetaGeoFitter()
    model.params_ = pd.Series(PARAMS)
    predicted = model.conditional_probability_of_purchase_within(
        t, summary["frequency"], summary["recency"], summary["T"]
    )
    groups = _by_history(summary)
    assert len(groups) >= 6
    for group in groups:
        share = (wait[group] <= t).mean()
        error = np.sqrt(share * (1 - share) / group.sum())
        assert abs(predicted[group].mean() - share) < 4 * error + 2e-3
