"""Which grouping should I act on: the variance of next-period behaviour each grouping
explains (against a least-squares oracle), and analyze's holdout and cluster stability."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import rfmkit
from frames import analyze_sample
from rfmkit._text import WORDS


def r_squared_on_groups(groups: np.ndarray, y: np.ndarray) -> float:
    """The adjusted R² of a least-squares fit of `y` on one-hot groups (the oracle)."""
    design = (groups[:, None] == np.unique(groups)[None, :]).astype(float)
    fitted = design @ np.linalg.lstsq(design, y, rcond=None)[0]
    total = ((y - y.mean()) ** 2).sum()
    n, k = len(y), design.shape[1]
    return 1.0 - (((y - fitted) ** 2).sum() / (n - k)) / (total / (n - 1))


@settings(max_examples=60, deadline=None)
@example(rows=[(0, 0, 683.1298362086411)] * 3)  # equal amounts whose mean is a rounding off them
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
        for grouping, groups in (("segments", segments), ("clusters", clusters)):
            # a constant column (exactly, or below what a double's square holds) explains nothing
            if y.min() == y.max() or ((y - y.mean()) ** 2).sum() == 0 or len(y) <= len(np.unique(groups)):
                assert np.isnan(result.explained.loc[grouping, column])
            else:
                expected = r_squared_on_groups(groups, y)
                assert result.explained.loc[grouping, column] == pytest.approx(expected, abs=1e-9)


def test_random_labels_explain_about_nothing_whatever_their_number():
    """Adjusted for the number of groups: 11 random segments do not beat 3 random clusters."""
    rng = np.random.default_rng(3)
    shares = []
    for _ in range(200):
        spend = rng.exponential(50.0, size=100)
        result = rfmkit.compare(rng.integers(0, 11, 100), rng.integers(0, 3, 100), holdout=pd.DataFrame({"s": spend}))
        shares.append(result.explained["s"].to_numpy())
    assert np.abs(np.mean(shares, axis=0)).max() < 0.02


def test_customers_missing_from_the_holdout_did_nothing():
    index = [10, 11, 12, 13, 14, 15]
    segments = pd.Series(["a", "a", "a", "b", "b", "b"], index=index)
    clusters = pd.Series([0, 1, 0, 1, 0, 1], index=index)
    holdout = pd.DataFrame({"purchases": [2.0, 2.0, 2.0]}, index=[12, 11, 10])  # 13..15 bought nothing
    result = rfmkit.compare(segments, clusters, holdout=holdout)
    y = np.array([2.0, 2.0, 2.0, 0.0, 0.0, 0.0])
    assert result.explained.loc["segments", "purchases"] == pytest.approx(1.0)
    assert result.explained.loc["clusters", "purchases"] == pytest.approx(
        r_squared_on_groups(clusters.to_numpy(), y), abs=1e-12
    )


def test_positional_labels_take_the_holdout_by_position_after_null_labels():
    segments = ["a", None, "a", "b", "b", "a", "b"]
    clusters = [0, 1, 1, 0, 1, 0, 1]
    holdout = pd.DataFrame({"spend": [5.0, 99.0, 4.0, 1.0, 0.0, 6.0, 2.0]}, index=[70, 71, 72, 73, 74, 75, 76])
    with pytest.warns(rfmkit.DataQualityWarning):
        result = rfmkit.compare(segments, clusters, holdout=holdout)
    kept = np.array([0, 2, 3, 4, 5, 6])
    y = holdout["spend"].to_numpy()[kept]
    groups = np.array(segments, dtype=object)[kept].astype(str)
    assert result.explained.loc["segments", "spend"] == pytest.approx(r_squared_on_groups(groups, y), abs=1e-12)


def test_a_bad_holdout_is_a_clear_error():
    with pytest.raises(rfmkit.DtypeError, match="holdout must be a pandas DataFrame"):
        rfmkit.compare(["a", "b"], [0, 1], holdout=[1, 2])
    with pytest.raises(rfmkit.DtypeError, match="got a polars DataFrame; convert it with .to_pandas"):
        rfmkit.compare(["a", "b"], [0, 1], holdout=pl.DataFrame({"s": [1.0, 2.0]}))
    with pytest.raises(rfmkit.DtypeError, match="holdout column 'who' is not numeric"):
        rfmkit.compare(["a", "b"], [0, 1], holdout=pd.DataFrame({"who": ["x", "y"]}))
    with pytest.raises(rfmkit.InvalidDataError, match="'spend' has a value that is not a finite number"):
        rfmkit.compare(["a", "b"], [0, 1], holdout=pd.DataFrame({"spend": [1.0, np.nan]}))
    with pytest.raises(rfmkit.InvalidDataError, match="holdout has 3 rows for 2 labels"):
        rfmkit.compare(["a", "b"], [0, 1], holdout=pd.DataFrame({"spend": [1.0, 2.0, 3.0]}, index=[1, 2, 3]))
    series = (pd.Series(["a", "b"], index=[1, 2]), pd.Series([0, 1], index=[1, 2]))
    with pytest.raises(rfmkit.InvalidDataError, match="'spend' has a value that is not a finite number"):
        rfmkit.compare(*series, holdout=pd.DataFrame({"spend": [np.nan]}, index=[1]))
    with pytest.raises(rfmkit.InvalidDataError, match="customer 1 more than once"):
        rfmkit.compare(*series, holdout=pd.DataFrame({"spend": [1.0, 2.0]}, index=[1, 1]))


_analyze = analyze_sample


def test_analyze_says_which_grouping_predicts_the_holdout():
    orders = rfmkit.datasets.make_transactions(1200, seed=8)
    report = _analyze(orders, k=4)
    comparison = report.comparison
    assert comparison.holdout == {"start": "2024-10-02", "end": "2024-12-30", "days": 90}
    explained = comparison.explained
    assert list(explained.index) == ["segments", "clusters"] and list(explained.columns) == ["purchases", "spend"]
    assert ((explained >= 0) & (explained <= 1)).all().all()
    # the holdout from the raw rows: the customers with a purchase before 2024-10-02, their
    # orders and spend on days 2024-10-02 .. 2024-12-30
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        roles = {"customer": "customer_id", "date": "ordered_at", "amount": "amount", "order": "order_id"}
        before = rfmkit.rfm(orders, **roles, as_of="2024-10-02")
    rows = orders.dropna(subset=["customer_id", "ordered_at", "amount", "order_id"])
    day = rows["ordered_at"].dt.normalize()
    window = rows[(day >= "2024-10-02") & (day < "2024-12-31") & (rows["amount"] != 0)]
    bought = window[window["amount"] > 0]
    purchases = bought.groupby("customer_id")["order_id"].nunique().reindex(before.index).fillna(0)
    spend = window.groupby("customer_id")["amount"].sum()
    spend = spend[spend.index.isin(bought["customer_id"])].reindex(before.index).fillna(0)
    segments = rfmkit.segment(rfmkit.score(before), "rfm11")["segment"].astype(str).to_numpy()
    for column, values in (("purchases", purchases), ("spend", spend)):
        assert explained.loc["segments", column] == pytest.approx(
            r_squared_on_groups(segments, values.to_numpy(dtype=float)), abs=1e-9
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
    assert report.comparison.explained is None and report.comparison.stability["seeds"] == 3
    for bad in (0, -5, 200_000):
        with pytest.raises(rfmkit.InvalidParameterError, match=f"holdout_days={bad} must be a positive whole number"):
            _analyze(orders, k=3, holdout_days=bad)


def test_more_clusters_than_customers_before_the_holdout_is_a_note_not_a_crash():
    orders = rfmkit.datasets.make_transactions(400, seed=5)
    recent = orders[orders["ordered_at"] >= "2024-06-01"]
    report = _analyze(recent, k=8, holdout_days=90)
    assert report.comparison.explained is None
    assert any("which grouping predicts: skipped" in note for note in report.notes)


def test_a_holdout_indexed_by_other_customers_is_an_error_not_nans():
    segments, clusters = pd.Series(["a", "b", "a"]), pd.Series([0, 1, 1])
    holdout = pd.DataFrame({"purchases": [1.0, 2.0, 3.0]}, index=["c0", "c1", "c2"])
    with pytest.raises(rfmkit.InvalidDataError, match="holdout shares no customer with the labels"):
        rfmkit.compare(segments, clusters, holdout=holdout)
