"""The BTYD diagnostic plots draw what the models say: the matrices are the model's
predictions on the grid, the period plot compares observed counts with the exact
expectation, the calibration plot averages holdout purchases by calibration frequency."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import rfmkit
import rfmkit.plot
from rfmkit.datasets import cdnow_params

pytest.importorskip("matplotlib")


@pytest.fixture
def model():
    fitted = rfmkit.clv.BetaGeoFitter()
    fitted.params_ = cdnow_params("bgnbd")
    return fitted


def test_matrices_are_the_models_predictions_on_the_grid(model):
    ax = rfmkit.plot.frequency_recency_matrix(model, t=4.0, max_frequency=6, max_recency=30)
    grid = np.asarray(ax.images[0].get_array())
    assert grid.shape == (7, 31)
    assert grid[2, 17] == pytest.approx(
        np.atleast_1d(model.conditional_expected_number_of_purchases_up_to_time(4.0, 2, 17, 30))[0]
    )
    assert np.isnan(grid[0, 5])  # no repeat purchase but a recency: no such customer
    ax = rfmkit.plot.probability_alive_matrix(model, max_frequency=6, max_recency=30, lang="zh")
    alive = np.asarray(ax.images[0].get_array())
    assert alive[4, 12] == pytest.approx(np.atleast_1d(model.conditional_probability_alive(4, 12, 30))[0])
    assert alive[0, 0] == 1.0


def test_period_transactions_compares_counts_with_the_exact_expectation(model):
    rng = np.random.default_rng(1)
    summary = pd.DataFrame({"frequency": rng.integers(0, 5, 300), "T": rng.uniform(20, 39, 300)})
    summary["recency"] = np.where(summary["frequency"] > 0, summary["T"] * 0.5, 0.0)
    ax = rfmkit.plot.period_transactions(model, summary, max_frequency=3)
    observed, expected = ax.containers
    assert [bar.get_height() for bar in observed] == [
        float((summary["frequency"].clip(upper=3) == n).sum()) for n in range(4)
    ]
    heights = [bar.get_height() for bar in expected]
    assert sum(heights) == pytest.approx(300)
    want = sum(model.probability_of_n_purchases_up_to_time(t, 1) for t in summary["T"])
    assert heights[1] == pytest.approx(want)


def test_calibration_holdout_averages_by_calibration_frequency(model):
    table = pd.DataFrame(
        {
            "frequency_cal": [0, 0, 1, 5, 9],
            "recency_cal": [0, 0, 10.0, 30.0, 35.0],
            "T_cal": 39.0,
            "frequency_holdout": [0, 2, 1, 3, 5],
            "duration_holdout": 39.0,
        }
    )
    ax = rfmkit.plot.calibration_holdout(model, table, max_frequency=5)
    observed, predicted = ax.get_lines()
    np.testing.assert_allclose(observed.get_ydata(), [1.0, 1.0, 4.0])  # 0, 1 and "5+" (5 and 9)
    expected = model.conditional_expected_number_of_purchases_up_to_time(39.0, [1], [10.0], [39.0])[0]
    assert predicted.get_ydata()[1] == pytest.approx(expected)


def test_period_transactions_of_pareto_with_repeated_ages():
    """Customers of one age are counted once per age and weighted: the same expectation as
    customer by customer (Pareto/NBD's conditional PMF at x = t_x = T = 0)."""
    pareto = rfmkit.clv.ParetoNBDFitter()
    pareto.params_ = rfmkit.datasets.cdnow_params("pareto")
    rng = np.random.default_rng(2)
    summary = pd.DataFrame({"frequency": rng.integers(0, 4, 200), "T": rng.integers(20, 25, 200).astype(float)})
    ax = rfmkit.plot.period_transactions(pareto, summary, max_frequency=3)
    heights = [bar.get_height() for bar in ax.containers[1]]
    for n in range(3):
        want = sum(pareto.probability_of_n_purchases_up_to_time(t, n) for t in summary["T"])
        assert heights[n] == pytest.approx(want, rel=1e-12)
    assert sum(heights) == pytest.approx(200)
