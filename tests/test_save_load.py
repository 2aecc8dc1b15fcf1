"""Fitted models written as plain JSON and read back give the same predictions."""

from __future__ import annotations

import json

import numpy as np
import pytest

import rfmkit
from rfmkit.clv import BetaGeoFitter, GammaGammaFitter, ShiftedBetaGeoFitter


@pytest.fixture(scope="module")
def summary():
    orders = rfmkit.datasets.make_transactions(1500, seed=4)
    with pytest.warns(rfmkit.DataQualityWarning):
        return rfmkit.clv.summary(orders, customer="customer_id", date="ordered_at", amount="amount", freq="D")


def test_bgnbd_and_gamma_gamma_round_trip(summary, tmp_path):
    bgf, ggf = BetaGeoFitter().fit(summary), GammaGammaFitter().fit(summary)
    bgf_back = BetaGeoFitter.load(bgf.save(tmp_path / "bgf.json"))
    ggf_back = GammaGammaFitter.load(ggf.save(tmp_path / "ggf.json"))
    f, r, age = summary["frequency"], summary["recency"], summary["T"]
    np.testing.assert_array_equal(
        bgf_back.conditional_probability_alive(f, r, age), bgf.conditional_probability_alive(f, r, age)
    )
    assert bgf_back.time_unit_ == "D" and ggf_back.n_without_repeat_ == ggf.n_without_repeat_
    for fitted, back in ((bgf, bgf_back), (ggf, ggf_back)):
        assert back.summary.equals(fitted.summary)
        assert back.log_likelihood_ == fitted.log_likelihood_
    value = ggf.customer_lifetime_value(bgf, f, r, age, summary["monetary_value"], time=12)
    again = ggf_back.customer_lifetime_value(bgf_back, f, r, age, summary["monetary_value"], time=12)
    np.testing.assert_array_equal(again, value)
    # plain JSON: no NaN, no pickle
    state = json.loads((tmp_path / "bgf.json").read_text())
    assert state["model"] == "BetaGeoFitter" and set(state["params"]) == {"r", "alpha", "a", "b"}


def test_sbg_round_trip_and_wrong_files(tmp_path):
    model = ShiftedBetaGeoFitter().fit([1000, 869, 743, 653, 593, 551, 517, 491])
    back = ShiftedBetaGeoFitter.load(model.save(tmp_path / "sbg.json"))
    np.testing.assert_array_equal(back.survival_function(range(10)), model.survival_function(range(10)))
    with pytest.raises(rfmkit.InvalidParameterError, match="holds a ShiftedBetaGeoFitter, not a BetaGeoFitter"):
        BetaGeoFitter.load(tmp_path / "sbg.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(rfmkit.InvalidParameterError, match="is not a model written by save"):
        ShiftedBetaGeoFitter.load(tmp_path / "bad.json")
    with pytest.raises(rfmkit.NotFittedError):
        ShiftedBetaGeoFitter().save(tmp_path / "unfitted.json")


def test_modified_model_numpy_penalizer_and_bad_files(summary, tmp_path):
    model = rfmkit.clv.ModifiedBetaGeoFitter(penalizer_coef=np.int64(0)).fit(summary)
    back = rfmkit.clv.ModifiedBetaGeoFitter.load(model.save(tmp_path / "mbg.json"))
    f, r, age = summary["frequency"], summary["recency"], summary["T"]
    np.testing.assert_array_equal(
        back.conditional_probability_alive(f, r, age), model.conditional_probability_alive(f, r, age)
    )
    by_hand = BetaGeoFitter()
    by_hand.params_ = rfmkit.datasets.cdnow_params("bgnbd")
    with pytest.raises(rfmkit.NotFittedError, match="parameters but no fit"):
        by_hand.save(tmp_path / "hand.json")
    (tmp_path / "half.json").write_text('{"model": "BetaGeoFitter"}')
    with pytest.raises(rfmkit.InvalidParameterError, match="is not a model written by save"):
        BetaGeoFitter.load(tmp_path / "half.json")
