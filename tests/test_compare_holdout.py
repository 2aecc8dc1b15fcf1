"""Which grouping should I act on: the variance of next-period behaviour each grouping
explains (against a least-squares oracle), and analyze's holdout and cluster stability."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rfmkit
from rfmkit._report.page import WORDS


def r_squared_on_groups(groups: np.ndarray, y: np.ndarray) -> float:
    """The R² of a least-squares fit of `y` on one-hot groups (the oracle)."""
    design = (groups[:, None] == np.unique(groups)[None, :]).astype(float)
    fitted = design @ np.linalg.lstsq(design, y, rcond=None)[0]
    total = ((y - y.mean()) ** 2).sum()
    return 1.0 - ((y - fitted) ** 2).sum() / total


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 4), st.floats(0, 1000, allow_nan=False)), min_size=3, max_size=80
    )
)
def test_explained_variance_is_the_r_squared_on_the_groups(rows):
    segments = np.array([f"s{r[0]}" for r in rows])
    clusters = np.array([r[1] for r in rows])
    spend = np.array([r[2] for r in rows])
    holdout = pd.DataFrame({"spend": spend, "purchases": (spend > 500).astype(float)})
    result = rfmkit.compare(segments, clusters, holdout=holdout)
    for column in holdout.columns:
        y = holdout[column].to_numpy()
        if y.min() == y.max():
            assert np.isnan(result.explained.loc["segments", column])
            continue
        for grouping, groups in (("segments", segments), ("clusters", clusters)):
            assert result.explained.loc[grouping, column] == pytest.approx(r_squared_on_groups(groups, y), abs=1e-9)


def test_customers_missing_from_the_holdout_did_nothing():
    segments = pd.Series(["a", "a", "b", "b"], index=[10, 11, 12, 13])
    clusters = pd.Series([0, 1, 0, 1], index=[10, 11, 12, 13])
    holdout = pd.DataFrame({"purchases": [2.0, 2.0]}, index=[10, 11])  # 12 and 13 bought nothing
    result = rfmkit.compare(segments, clusters, holdout=holdout)
    assert result.explained.loc["segments", "purchases"] == pytest.approx(1.0)
    assert result.explained.loc["clusters", "purchases"] == pytest.approx(0.0)


def test_a_bad_holdout_is_a_clear_error():
    with pytest.raises(rfmkit.DtypeError, match="holdout must be a pandas DataFrame"):
        rfmkit.compare(["a", "b"], [0, 1], holdout=[1, 2])
    with pytest.raises(rfmkit.DtypeError, match="holdout column 'who' is not numeric"):
        rfmkit.compare(["a", "b"], [0, 1], holdout=pd.DataFrame({"who": ["x", "y"]}))
    with pytest.raises(rfmkit.InvalidDataError, match="'spend' has a value that is not a finite number"):
        rfmkit.compare(["a", "b"], [0, 1], holdout=pd.DataFrame({"spend": [1.0, np.nan]}))


def _analyze(orders, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        return rfmkit.analyze(
            orders,
            customer="customer_id",
            date="ordered_at",
            amount="amount",
            order="order_id",
            progress=False,
            **options,
        )


def test_analyze_says_which_grouping_predicts_the_holdout():
    orders = rfmkit.datasets.make_transactions(1200, seed=8)
    report = _analyze(orders, k=4)
    comparison = report.comparison
    assert comparison.holdout == {"start": "2024-10-02", "end": "2024-12-30", "days": 90}
    explained = comparison.explained
    assert list(explained.index) == ["segments", "clusters"] and list(explained.columns) == ["purchases", "spend"]
    assert ((explained >= 0) & (explained <= 1)).all().all()
    # the same numbers from the public functions, made as of the start of the holdout
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        roles = {"customer": "customer_id", "date": "ordered_at", "amount": "amount", "order": "order_id"}
        before = rfmkit.rfm(orders, **roles, as_of="2024-10-02")
        after = rfmkit.rfm(orders, **roles, as_of="2024-12-31", window=90)
    segments = rfmkit.segment(rfmkit.score(before), "rfm11")["segment"]
    purchases = after["frequency"].reindex(before.index).fillna(0).to_numpy(dtype=float)
    assert explained.loc["segments", "purchases"] == pytest.approx(
        r_squared_on_groups(segments.astype(str).to_numpy(), purchases), abs=1e-9
    )
    stability = comparison.stability
    assert stability["seeds"] == 3 and 0 <= stability["ari_min"] <= stability["ari_mean"] <= 1
    assert WORDS["predicts sentence"][0].split(":")[0] in report.to_html()


def test_short_history_or_none_skips_the_holdout():
    orders = rfmkit.datasets.make_transactions(300, seed=2)
    report = _analyze(orders, k=3, holdout_days=365)
    assert report.comparison.explained is None
    assert any("which grouping predicts: skipped" in note for note in report.notes)
    assert report.comparison.stability["seeds"] == 3  # stability needs no holdout
    report = _analyze(orders, k=3, holdout_days=None)
    assert report.comparison.explained is None and not report.comparison.stability
    with pytest.raises(rfmkit.InvalidParameterError, match="holdout_days=0"):
        _analyze(orders, k=3, holdout_days=0)
