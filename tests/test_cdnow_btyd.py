"""The BTYD summary on CDNOW (Fader & Hardie's real export), against lifetimes.

The sample of the BG/NBD paper: 2,357 customers, 8 of whose rows are $0 purchases. The
summary counts them by default, as lifetimes and the paper do, so every customer is in
it; the paper's summary (``lifetimes.datasets.load_cdnow_summary``) is daily periods in
weeks (``freq="D", freq_multiplier=7``) up to 1997-09-30, and its BG/NBD fit gives the
paper's parameters.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import cdnow
import rfmkit

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import lifetimes.datasets as lifetimes_datasets
    import lifetimes.utils as lifetimes_utils

NAMES = dict(customer="customer_id", date="date", amount="dollar_value")
CALIBRATION_END = "1997-09-30"
OBSERVATION_END = "1998-06-30"

pytestmark = pytest.mark.filterwarnings("ignore::rfmkit.DataQualityWarning")


def max_abs_difference(got: pd.DataFrame, want: pd.DataFrame) -> float:
    """Same customers and columns (in lifetimes' order); the largest absolute difference."""
    assert sorted(got.index) == sorted(want.index)
    assert list(got.columns) == list(want.columns)
    aligned = got.loc[want.index]
    return float(np.abs(aligned.to_numpy(dtype=np.float64) - want.to_numpy(dtype=np.float64)).max())


@pytest.mark.parametrize("freq", ["D", "W"])
def test_cdnow_sample_summary_is_lifetimes_row_for_row(freq):
    sample = cdnow.sample()
    assert (sample["dollar_value"] == 0).sum() == 8
    got = rfmkit.clv.summary(sample, **NAMES, freq=freq, observation_period_end=CALIBRATION_END)
    want = lifetimes_utils.summary_data_from_transaction_data(
        sample,
        "customer_id",
        "date",
        monetary_value_col="dollar_value",
        observation_period_end=CALIBRATION_END,
        freq=freq,
    )
    assert len(got) == len(want) == 2357
    assert max_abs_difference(got, want) < 1e-9
    info = got.attrs["rfmkit"]
    assert set(info["dropped"]) == {"after_observation_end"}
    assert info["rows_in"] == len(sample) == info["rows_used"] + info["dropped"]["after_observation_end"]


def test_cdnow_sample_zero_drop_leaves_out_the_customers_with_only_free_purchases():
    sample = cdnow.sample()
    with pytest.warns(rfmkit.DataQualityWarning, match="zero"):
        dropped = rfmkit.clv.summary(sample, **NAMES, observation_period_end=CALIBRATION_END, zero="drop")
    before_end = sample[sample["date"] <= CALIBRATION_END]
    paying = before_end.loc[before_end["dollar_value"] > 0, "customer_id"].unique()
    assert sorted(dropped.index) == sorted(paying)
    assert len(dropped) < 2357
    assert dropped.attrs["rfmkit"]["dropped"]["zero_amount"] == int((before_end["dollar_value"] == 0).sum())


def test_cdnow_sample_in_weeks_is_the_paper_summary_and_fit():
    sample = cdnow.sample()
    weeks = rfmkit.clv.summary(sample, **NAMES, freq="D", freq_multiplier=7, observation_period_end=CALIBRATION_END)
    paper = lifetimes_datasets.load_cdnow_summary(index_col=[0])
    sample_ids = sample.drop_duplicates("customer_id").set_index("customer_id")["sample_id"].astype(int)
    mine = weeks.set_axis(sample_ids.loc[weeks.index].to_numpy()).sort_index()
    assert mine.index.tolist() == paper.index.tolist()
    np.testing.assert_array_equal(mine["frequency"], paper["frequency"])
    # The paper's file rounds the weeks to two decimals.
    np.testing.assert_allclose(mine[["recency", "T"]], paper[["recency", "T"]], atol=0.005 + 1e-12)
    model = rfmkit.clv.BetaGeoFitter().fit(weeks)
    np.testing.assert_allclose(model.params_, rfmkit.datasets.cdnow_params("bgnbd"), rtol=2e-4)
    assert model.time_unit_ == "D" and model.freq_multiplier_ == 7


@pytest.mark.parametrize("freq", ["D", "W"])
def test_cdnow_sample_calibration_holdout_is_lifetimes_row_for_row(freq):
    sample = cdnow.sample()
    got = rfmkit.clv.calibration_holdout(
        sample, **NAMES, freq=freq, calibration_period_end=CALIBRATION_END, observation_period_end=OBSERVATION_END
    )
    want = lifetimes_utils.calibration_and_holdout_data(
        sample,
        "customer_id",
        "date",
        calibration_period_end=CALIBRATION_END,
        observation_period_end=OBSERVATION_END,
        freq=freq,
        monetary_value_col="dollar_value",
    )
    assert len(got) == len(want) == 2357
    assert max_abs_difference(got, want) < 1e-9
    assert got.attrs["rfmkit"]["rows_used"] == len(sample)
