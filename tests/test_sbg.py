"""The shifted-beta-geometric retention model against Fader & Hardie (2007), a scipy
oracle of its likelihood, closed forms and a Monte Carlo simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize
from scipy.special import betaln

import rfmkit
from rfmkit.clv import ShiftedBetaGeoFitter

# Fader & Hardie (2007), table 1: of 1,000 customers, still active after 0..12 years; the
# paper fits years 0..7 and projects the rest.
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394]


def scipy_log_likelihood(params, cohorts) -> float:
    alpha, beta = params
    total = 0.0
    for survivors in cohorts:
        n = np.asarray(survivors, dtype=float)
        t = np.arange(1, len(n))
        churn = betaln(alpha + 1, beta + t - 1) - betaln(alpha, beta)
        total += float(
            ((n[:-1] - n[1:]) * churn).sum() + n[-1] * (betaln(alpha, beta + len(n) - 1) - betaln(alpha, beta))
        )
    return total


def scipy_fit(cohorts):
    found = minimize(
        lambda x: -scipy_log_likelihood(np.exp(x), cohorts),
        [0.1, 0.1],
        method="Nelder-Mead",
        options={"xatol": 1e-12, "fatol": 1e-12, "maxiter": 20_000},
    )
    return np.exp(found.x), -found.fun


@pytest.mark.parametrize(("survivors", "alpha", "beta"), [(REGULAR, 0.704, 1.182), (HIGH_END, 0.668, 3.806)])
def test_reproduces_the_papers_estimates_and_the_oracle(survivors, alpha, beta):
    model = ShiftedBetaGeoFitter().fit(survivors[:8])
    assert model.params_["alpha"] == pytest.approx(alpha, abs=5e-4)
    assert model.params_["beta"] == pytest.approx(beta, abs=5e-4)
    params, log_likelihood = scipy_fit([survivors[:8]])
    np.testing.assert_allclose(model.params_.to_numpy(), params, rtol=1e-5)
    assert model.log_likelihood_ == pytest.approx(log_likelihood, abs=1e-6)
    assert model.log_likelihood(survivors[:8]) == pytest.approx(log_likelihood, abs=1e-6)
    assert (model.summary["se(coef)"] > 0).all()
    # the paper's point: the projection of years 8..12 from years 0..7 stays close
    projected = 1000 * model.survival_function(range(8, 13))
    np.testing.assert_allclose(projected, survivors[8:], rtol=0.05)


def test_curves_follow_the_closed_forms():
    model = ShiftedBetaGeoFitter().fit(REGULAR[:8])
    alpha, beta = model.params_
    t = np.arange(0, 15)
    np.testing.assert_allclose(
        model.survival_function(t), np.exp(betaln(alpha, beta + t) - betaln(alpha, beta)), rtol=1e-12
    )
    t = t[1:]
    np.testing.assert_allclose(
        model.churn_probability(t), np.exp(betaln(alpha + 1, beta + t - 1) - betaln(alpha, beta)), rtol=1e-10
    )
    np.testing.assert_allclose(model.retention_rate(t), model.survival_function(t) / model.survival_function(t - 1))
    assert model.churn_probability(t).sum() + model.survival_function([14])[0] == pytest.approx(1.0)


def test_survival_matches_a_simulation():
    model = ShiftedBetaGeoFitter()
    model.fit(HIGH_END[:8])
    alpha, beta = model.params_
    rng = np.random.default_rng(7)
    theta = rng.beta(alpha, beta, size=200_000)
    lifetime = rng.geometric(theta)  # the period in which each customer leaves
    for t in (1, 3, 7, 12):
        share = (lifetime > t).mean()
        standard_error = np.sqrt(share * (1 - share) / len(lifetime))
        assert abs(share - model.survival_function([t])[0]) < 4 * standard_error


def test_several_cohorts_as_a_list_or_a_frame():
    cohorts = [REGULAR[:8], REGULAR[:5], [500, 330, 250]]
    from_list = ShiftedBetaGeoFitter().fit(cohorts)
    frame = pd.DataFrame([c + [np.nan] * (8 - len(c)) for c in cohorts], index=["2019", "2020", "2021"])
    from_frame = ShiftedBetaGeoFitter().fit(frame)
    np.testing.assert_allclose(from_list.params_, from_frame.params_, rtol=1e-12)
    params, log_likelihood = scipy_fit(cohorts)
    np.testing.assert_allclose(from_list.params_.to_numpy(), params, rtol=1e-5)
    assert from_list.log_likelihood_ == pytest.approx(log_likelihood, abs=1e-6)
    assert from_list.n_customers_ == 2500


def test_bad_survivors_get_clear_errors():
    with pytest.raises(rfmkit.InvalidDataError, match="survivors never increase"):
        ShiftedBetaGeoFitter().fit([100, 80, 90])
    with pytest.raises(rfmkit.InvalidDataError, match="at least two"):
        ShiftedBetaGeoFitter().fit([100])
    with pytest.raises(rfmkit.InvalidDataError, match="empty count before its last one"):
        ShiftedBetaGeoFitter().fit(pd.DataFrame([[100, np.nan, 50]]))
    with pytest.raises(rfmkit.InvalidDataError, match="finite numbers >= 0"):
        ShiftedBetaGeoFitter().fit([100, -3])
    with pytest.raises(rfmkit.NotFittedError):
        ShiftedBetaGeoFitter().survival_function([1])
    model = ShiftedBetaGeoFitter().fit(REGULAR[:8])
    with pytest.raises(rfmkit.InvalidParameterError, match="whole numbers of periods >= 1"):
        model.retention_rate([0])
    with pytest.raises(rfmkit.InvalidParameterError, match="whole numbers of periods >= 0"):
        model.survival_function([1.5])


def test_survivors_that_cannot_identify_the_model_are_refused():
    for survivors, message in (
        ([100, 60], "cannot tell alpha and beta apart"),
        ([100, 100, 100], "cannot tell alpha and beta apart"),
        ([100, 0, 0], "cannot tell alpha and beta apart"),
        ([1.0, 0.631, 0.468], "counts of customers"),
        ([[1000, 631], 468], "mixes counts and lists of counts"),
    ):
        with pytest.raises(rfmkit.InvalidDataError, match=message):
            ShiftedBetaGeoFitter().fit(survivors)
    # a 2-D array is a row per cohort
    both = np.array([REGULAR[:8], HIGH_END[:8]])
    np.testing.assert_allclose(
        ShiftedBetaGeoFitter().fit(both).params_, ShiftedBetaGeoFitter().fit([REGULAR[:8], HIGH_END[:8]]).params_
    )
