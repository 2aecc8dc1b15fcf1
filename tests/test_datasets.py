"""The sample generator: deterministic, with every kind of row rfmkit must handle."""

import numpy as np
import pytest

import rfmkit
from rfmkit.datasets import make_transactions


def test_deterministic_and_seeded():
    a = make_transactions(500, seed=7)
    assert a.equals(make_transactions(500, seed=7))
    assert not a.equals(make_transactions(500, seed=8))


def test_has_lines_returns_gifts_and_invalid_rows():
    data = make_transactions(2_000, seed=0)
    valid = data.dropna()
    assert (valid.groupby("order_id").size() > 1).any()
    assert (valid["amount"] < 0).any() and (valid["amount"] == 0).any()
    assert data["customer_id"].isna().sum() >= 1
    assert data["ordered_at"].isna().sum() >= 1
    assert data["amount"].isna().sum() >= 1
    with pytest.warns(rfmkit.DataQualityWarning):
        table = rfmkit.rfm(data, customer="customer_id", date="ordered_at", amount="amount", order="order_id")
    info = table.attrs["rfmkit"]
    assert info["rows_in"] == info["rows_used"] + sum(info["dropped"].values())
    assert 0 < len(table) <= 2_000


def test_repeat_behaviour_follows_the_model():
    # With r=0.6, alpha=40 (mean rate 0.015/day) and p ~ Beta(0.8, 4), a good share
    # of customers buy again, and spend is positive on average.
    data = make_transactions(3_000, seed=1, invalid_rows=0)
    with pytest.warns(rfmkit.DataQualityWarning):
        summary = rfmkit.clv.summary(data, customer="customer_id", date="ordered_at", amount="amount")
    repeat = (summary["frequency"] > 0).mean()
    assert 0.3 < repeat < 0.9
    assert np.all(summary.loc[summary["frequency"] > 0, "monetary_value"] > 0)


def test_bad_arguments():
    with pytest.raises(rfmkit.InvalidParameterError, match="n_customers"):
        make_transactions(-1)
    assert len(make_transactions(0)) == 0
