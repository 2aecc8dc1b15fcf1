"""Scores and segments against the pandas reference (tests/reference_scores.py), their
properties (hypothesis), the 125-code cover, labels in both languages, and bad inputs."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reference_scores as ref
import rfmkit
from rfmkit import (
    ColumnNotFoundError,
    DtypeError,
    InvalidDataError,
    InvalidParameterError,
    SchemeError,
)
from rfmkit._segments import classic8_segments

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def rfm_table(n: int = 200, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frequency = rng.geometric(0.4, n)
    monetary = np.round(rng.lognormal(4, 1, n) * frequency, 2)
    return pd.DataFrame(
        {
            "recency": rng.integers(1, 400, n),
            "frequency": frequency,
            "monetary": monetary,
            "avg_order_value": monetary / frequency,
        },
        index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"),
    )


# a column of values with many ties, as RFM columns have
tied_values = st.lists(
    st.integers(0, 12).map(float) | st.floats(-50, 50, allow_nan=False, allow_infinity=False), min_size=1, max_size=60
)


# --------------------------------------------------------------------------- score


@SETTINGS
@given(recency=tied_values, bins=st.integers(2, 9), method=st.sampled_from(["quantile", "midrank"]), data=st.data())
def test_quantile_scores_match_the_reference(recency, bins, method, data):
    n = len(recency)
    frequency = data.draw(st.lists(st.integers(1, 6).map(float), min_size=n, max_size=n))
    monetary = data.draw(st.lists(st.floats(-100, 1e6, allow_nan=False), min_size=n, max_size=n))
    table = pd.DataFrame({"recency": recency, "frequency": frequency, "monetary": monetary})
    got = rfmkit.score(table, bins=bins, method=method)
    want = ref.score_table(table, bins, method=method)
    for column in ["r_score", "f_score", "m_score", "rfm_score"]:
        np.testing.assert_array_equal(got[column].to_numpy(), want[column].to_numpy(), err_msg=column)
    assert got["rfm_code"].astype(str).tolist() == want["rfm_code"].tolist()


@settings(max_examples=300, deadline=None)
@given(counts=st.lists(st.integers(1, 30) | st.integers(1, 3), min_size=2, max_size=11), bins=st.integers(2, 9))
def test_the_balanced_programme_is_the_brute_force_optimum(counts, bins):
    # The oracle's programme against every cut; then rfmkit against both, on values
    # built from the counts (value i repeated counts[i] times, in a shuffled order).
    groups = min(bins, len(counts))
    assert ref.balanced_starts_dp(counts, groups) == ref.balanced_starts_brute_force(counts, groups)
    values = np.repeat(np.arange(len(counts), dtype=float), counts)
    np.random.default_rng(len(values)).shuffle(values)
    table = pd.DataFrame({"recency": values, "frequency": values, "monetary": values})
    got = rfmkit.score(table, bins=bins)
    np.testing.assert_array_equal(got["m_score"], ref.balanced_scores(values, bins, brute_force=True))
    np.testing.assert_array_equal(
        got["r_score"], ref.balanced_scores(values, bins, lower_is_better=True, brute_force=True)
    )


@SETTINGS
@given(values=tied_values, bins=st.integers(2, 9))
def test_balanced_scores_use_every_score_when_there_are_enough_distinct_values(values, bins):
    table = pd.DataFrame({"recency": values, "frequency": values, "monetary": values})
    scored = rfmkit.score(table, bins=bins)
    distinct = len(np.unique(np.asarray(values) + 0.0))
    for column in ("r_score", "f_score", "m_score"):
        used = np.unique(scored[column])
        if distinct >= bins:
            assert used.tolist() == list(range(1, bins + 1))
        else:
            assert len(used) == distinct  # distinct values keep distinct scores
    levels = scored.attrs["rfmkit"]["score"]["levels"]
    assert levels == {name: min(distinct, bins) for name in ("recency", "frequency", "monetary")}


@SETTINGS
@given(
    values=tied_values,
    bins=st.integers(2, 9),
    seed=st.integers(0, 2**32 - 1),
    method=st.sampled_from(["quantile", "midrank"]),
)
def test_scores_are_invariant_to_row_order_and_monotone(values, bins, seed, method):
    n = len(values)
    table = pd.DataFrame({"recency": values, "frequency": values, "monetary": values})
    scored = rfmkit.score(table, bins=bins, method=method)
    order = np.random.default_rng(seed).permutation(n)
    shuffled = rfmkit.score(table.iloc[order], bins=bins, method=method)
    pd.testing.assert_frame_equal(shuffled.loc[scored.index], scored)
    x = np.asarray(values)
    for column, sign in (("r_score", -1), ("f_score", 1), ("m_score", 1)):
        s = scored[column].to_numpy()
        assert s.min() >= 1 and s.max() <= bins
        # equal values get equal scores; a larger value never scores lower (higher for recency)
        for i, j in itertools.combinations(range(n), 2):
            if x[i] == x[j]:
                assert s[i] == s[j]
            elif (x[i] < x[j]) == (sign > 0):
                assert s[i] <= s[j]
            else:
                assert s[i] >= s[j]


def test_scores_on_the_rfm_table_and_distinct_values():
    table = rfm_table(1000)
    got = rfmkit.score(table)
    want = ref.score_table(table)
    pd.testing.assert_frame_equal(got[["r_score", "f_score", "m_score"]], want[["r_score", "f_score", "m_score"]])
    # with distinct values the five scores hold 20 % each
    distinct = pd.DataFrame({"recency": np.arange(100.0), "frequency": np.arange(100.0), "monetary": np.arange(100.0)})
    counts = rfmkit.score(distinct)["m_score"].value_counts().sort_index()
    assert counts.tolist() == [20] * 5
    assert list(got.columns[: len(table.columns)]) == list(table.columns)
    levels = {"recency": 5, "frequency": 5, "monetary": 5}
    assert got.attrs["rfmkit"]["score"] == {
        "bins": 5,
        "method": "quantile",
        "thresholds": None,
        "weights": [1.0, 1.0, 1.0],
        "levels": levels,
    }
    midrank = rfmkit.score(table, method="midrank")
    pd.testing.assert_frame_equal(
        midrank[["r_score", "f_score", "m_score"]],
        ref.score_table(table, method="midrank")[["r_score", "f_score", "m_score"]],
    )


def test_threshold_scores_match_the_reference():
    table = rfm_table(500, seed=2)
    edges = {"recency": [30, 60, 90, 180], "frequency": [1, 2, 4, 8], "monetary": [50, 100, 250, 1000]}
    got = rfmkit.score(table, method="thresholds", thresholds=edges, weights=(0.5, 0.25, 0.25))
    want = ref.score_table(table, thresholds=edges, weights=(0.5, 0.25, 0.25))
    for column in ["r_score", "f_score", "m_score", "rfm_score"]:
        np.testing.assert_array_equal(got[column].to_numpy(), want[column].to_numpy(), err_msg=column)
    assert got["rfm_score"].dtype == np.float64
    # the seeds' example: recency 30/60/90/180 days -> 5..1, edges belong to the lower interval
    boundary = pd.DataFrame(
        {"recency": [30, 31, 60, 61, 90, 91, 180, 181], "frequency": [1] * 8, "monetary": [1.0] * 8}
    )
    scored = rfmkit.score(boundary, method="thresholds", thresholds=edges)
    assert scored["r_score"].tolist() == [5, 4, 4, 3, 3, 2, 2, 1]


def test_weights_and_code_categories():
    table = rfm_table(50)
    got = rfmkit.score(table, weights=(3, 2, 1), bins=3)
    np.testing.assert_array_equal(got["rfm_score"], 3 * got["r_score"] + 2 * got["f_score"] + got["m_score"])
    assert got["rfm_score"].dtype == np.int64
    assert len(got["rfm_code"].cat.categories) == 27
    assert got["rfm_code"].cat.categories[0] == "111"


def test_score_does_not_modify_its_input():
    table = rfm_table(30)
    table.attrs["rfmkit"] = {"as_of": "2024-01-01"}
    before = table.copy()
    scored = rfmkit.score(table)
    segmented = rfmkit.segment(scored)
    pd.testing.assert_frame_equal(table, before)
    assert table.attrs == {"rfmkit": {"as_of": "2024-01-01"}}
    assert "segment" not in scored.columns
    assert segmented.attrs["rfmkit"]["as_of"] == "2024-01-01"


def test_empty_and_single_customer_tables():
    empty = pd.DataFrame(
        {
            "recency": pd.Series([], dtype="int64"),
            "frequency": pd.Series([], dtype="int64"),
            "monetary": pd.Series([], dtype="float64"),
        }
    )
    scored = rfmkit.score(empty)
    assert len(scored) == 0 and list(scored.columns)[-5:] == ["r_score", "f_score", "m_score", "rfm_code", "rfm_score"]
    for scheme in ["rfm11", "rfm10", "value4", "classic8"]:
        assert len(rfmkit.segment(scored, scheme)) == 0
    one = pd.DataFrame({"recency": [3], "frequency": [2], "monetary": [10.0]})
    scored = rfmkit.score(one)
    # the single customer sits in the middle: p = 0.5
    assert scored["rfm_code"].tolist() == ["333"]
    assert rfmkit.segment(scored)["segment"].tolist() == ["Need Attention"]
    assert rfmkit.segment(one, "classic8")["segment"].tolist() == ["General Win-back"]


def test_score_from_rfm_output_pandas_and_polars():
    pl = pytest.importorskip("polars")
    orders = rfmkit.datasets.make_transactions(300, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        table = rfmkit.rfm(orders, customer="customer_id", date="ordered_at", amount="amount")
        table_pl = rfmkit.rfm(pl.from_pandas(orders), customer="customer_id", date="ordered_at", amount="amount")
    scored = rfmkit.segment(rfmkit.score(table))
    scored_pl = rfmkit.segment(rfmkit.score(table_pl))
    assert isinstance(scored_pl, pl.DataFrame)
    assert scored_pl.schema["segment"] == pl.Enum(ref.RFM11_EN)
    assert scored_pl.schema["rfm_code"] == pl.Enum(ref.RFM11_EN) or isinstance(scored_pl.schema["rfm_code"], pl.Enum)
    assert scored_pl["segment"].cast(pl.String).to_list() == scored["segment"].astype(str).tolist()
    assert scored_pl["r_score"].to_list() == scored["r_score"].tolist()
    assert scored_pl.attrs["rfmkit"]["score"]["bins"] == 5  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- segment schemes


def all_codes(bins: int = 5) -> pd.DataFrame:
    codes = list(itertools.product(range(1, bins + 1), repeat=3))
    return pd.DataFrame(codes, columns=["r_score", "f_score", "m_score"])


@pytest.mark.parametrize(
    "scheme, labels", [("rfm11", ref.RFM11_EN), ("rfm10", ref.RFM10_EN), ("value4", ref.VALUE4_EN)]
)
def test_every_one_of_the_125_codes_maps_to_one_segment_and_every_segment_occurs(scheme, labels):
    codes = all_codes()
    got = rfmkit.segment(codes, scheme)["segment"]
    assert got.notna().all() and len(got) == 125
    assert list(got.cat.categories) == labels and got.cat.ordered
    assert set(got) == set(labels)
    if scheme == "rfm11":
        want = ref.rfm11(codes["r_score"], codes["f_score"], codes["m_score"])
    elif scheme == "rfm10":
        want = ref.rfm10(codes["r_score"], codes["f_score"])
    else:
        want = ref.value4(codes["r_score"], codes["f_score"], codes["m_score"])
    assert got.astype(str).tolist() == want


@pytest.mark.parametrize("bins", [2, 3, 4, 6, 9])
def test_value4_with_other_bins(bins):
    codes = all_codes(bins)
    got = rfmkit.segment(codes, "value4", bins=bins)["segment"].astype(str).tolist()
    assert got == ref.value4(codes["r_score"], codes["f_score"], codes["m_score"], bins)
    assert set(got) == set(ref.VALUE4_EN)


@pytest.mark.parametrize(
    "scheme, en, zh",
    [
        ("rfm11", ref.RFM11_EN, ref.RFM11_ZH),
        ("rfm10", ref.RFM10_EN, ref.RFM10_ZH),
        ("value4", ref.VALUE4_EN, ref.VALUE4_ZH),
        ("classic8", ref.CLASSIC8_EN, ref.CLASSIC8_ZH),
    ],
)
def test_labels_in_english_and_chinese(scheme, en, zh):
    table = all_codes().assign(
        recency=np.arange(125) % 7, frequency=np.arange(125) % 5, monetary=np.arange(125) % 11 * 10.0
    )
    got_en = rfmkit.segment(table, scheme, lang="en")["segment"]
    got_zh = rfmkit.segment(table, scheme, lang="zh")["segment"]
    assert list(got_en.cat.categories) == en and list(got_zh.cat.categories) == zh
    assert got_en.cat.ordered and got_zh.cat.ordered
    # the same customers, translated
    np.testing.assert_array_equal(got_en.cat.codes, got_zh.cat.codes)


@SETTINGS
@given(
    rows=st.lists(
        st.tuples(st.integers(1, 60), st.integers(1, 6), st.sampled_from([0.0, 10.0, 25.5, 99.0, 250.0, 1000.0])),
        min_size=1,
        max_size=40,
    ),
    split=st.sampled_from(["mean", "median", "explicit"]),
)
def test_classic8_matches_the_reference(rows, split):
    table = pd.DataFrame(rows, columns=["recency", "frequency", "monetary"])
    if split == "explicit":
        # split values that equal some data values: equal is low
        split = {"recency": float(table["recency"].iloc[0]), "frequency": 3.0, "monetary": 99.0}
        at = split
    else:
        at = {c: float(getattr(table[c], split)()) for c in ["recency", "frequency", "monetary"]}
    got = rfmkit.segment(table, "classic8", split=split)
    assert got["segment"].astype(str).tolist() == ref.classic8(
        table["recency"], table["frequency"], table["monetary"], at
    )
    assert got.attrs["rfmkit"]["segment"]["split"] == pytest.approx(at)
    arrays = classic8_segments(table["recency"].to_numpy(), table["frequency"], list(table["monetary"]), split=split)
    assert list(arrays) == got["segment"].tolist()


def test_classic8_equal_to_the_split_is_low():
    split = {"recency": 30, "frequency": 3, "monetary": 250}
    got = classic8_segments([29, 30, 31], [4, 3, 2], [251, 250, 249], split=split)
    assert list(got) == ["Important Value", "General Win-back", "General Win-back"]
    zh = classic8_segments([29], [4], [251], split=split, lang="zh")
    assert list(zh) == ["重要价值客户"] and list(zh.categories) == ref.CLASSIC8_ZH


def test_segment_works_on_scored_and_bare_tables_and_polars():
    pl = pytest.importorskip("polars")
    table = rfm_table(300)
    scored = rfmkit.score(table)
    bare = scored[["r_score", "f_score", "m_score"]].reset_index(drop=True)
    a = rfmkit.segment(scored, "rfm11")["segment"].tolist()
    b = rfmkit.segment(bare, "rfm11")["segment"].tolist()
    c = rfmkit.segment(pl.from_pandas(bare), "rfm11")["segment"].cast(pl.String).to_list()
    assert a == b == c
    assert a == ref.rfm11(bare["r_score"], bare["f_score"], bare["m_score"])


# --------------------------------------------------------------------------- custom schemes


def test_custom_scheme_reports_overlaps_unreachable_and_other():
    with pytest.warns(UserWarning, match=r"unreachable .*rule 2 \('Dormant VIP'\)"):
        scheme = rfmkit.SegmentScheme(
            [
                ({"en": "VIP", "zh": "贵宾"}, {"m_score": (5, 5)}),
                ("Recent", {"recency": "< 30"}),
                ("Dormant VIP", {"m_score": 5, "recency": ">= 365"}),
                ("Regular", {"f_score": ">= 3", "recency": (30, 364)}),
            ]
        )
    assert scheme.unreachable_ == [2]
    assert (0, 2) in scheme.overlaps_ and (0, 1) in scheme.overlaps_
    assert scheme.uncovered_
    assert scheme.labels("zh") == ["贵宾", "Recent", "Dormant VIP", "Regular", "其他"]
    table = pd.DataFrame(
        {"m_score": [5, 1, 2, 3, 1], "f_score": [1, 1, 4, 1, 3], "recency": [400, 10, 100, 100, 364.5]}
    )
    got = rfmkit.segment(table, scheme)
    assert got["segment"].tolist() == ["VIP", "Recent", "Regular", "other", "other"]
    assert list(got["segment"].cat.categories) == ["VIP", "Recent", "Dormant VIP", "Regular", "other"]
    # the summary counts the unmatched customers under "other", and the unreachable rule as empty
    summary = rfmkit.segment_summary(got.assign(frequency=1, monetary=1.0))
    assert summary.loc["other", "customers"] == 2
    assert summary.loc["Dormant VIP", "customers"] == 0


def test_custom_scheme_that_covers_everything_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheme = rfmkit.SegmentScheme([("recent", {"recency": "< 90"}), ("old", {"recency": ">= 90"})])
    assert (scheme.overlaps_, scheme.unreachable_, scheme.uncovered_) == ([], [], False)
    # the built-in rfm10 written as a custom scheme gives the same segments
    rules = [
        ("Champions", {"r_score": 5, "f_score": (4, 5)}),
        ("Loyal Customers", {"r_score": (3, 4), "f_score": (4, 5)}),
        ("Potential Loyalists", {"r_score": (4, 5), "f_score": (2, 3)}),
        ("New Customers", {"r_score": 5, "f_score": 1}),
        ("Promising", {"r_score": 4, "f_score": 1}),
        ("Need Attention", {"r_score": 3, "f_score": 3}),
        ("About To Sleep", {"r_score": 3, "f_score": (1, 2)}),
        ("At Risk", {"r_score": (1, 2), "f_score": (3, 4)}),
        ("Can't Lose", {"r_score": (1, 2), "f_score": 5}),
        ("Hibernating", {"r_score": (1, 2), "f_score": (1, 2)}),
    ]
    custom = rfmkit.SegmentScheme(rules)
    assert (custom.overlaps_, custom.unreachable_, custom.uncovered_) == ([], [], False)
    codes = all_codes()
    assert rfmkit.segment(codes, custom)["segment"].tolist() == rfmkit.segment(codes, "rfm10")["segment"].tolist()


@pytest.mark.parametrize(
    "rules, match",
    [
        ([], "non-empty list"),
        ("VIP", "non-empty list"),
        ([("VIP",)], "rule 0"),
        ([("VIP", {"monetary": "about 100"})], r"rule 0 \('VIP'\), column 'monetary': 'about 100' is not a comparison"),
        ([("VIP", {"monetary": (100, 10)})], "is empty"),
        ([("VIP", {"monetary": float("nan")})], "NaN"),
        ([("VIP", {"monetary": {"min": 1}})], "is not a condition"),
        ([(("VIP", "贵宾"), {}), (("VIP", "大客户"), {})], "already named"),
        ([(3, {})], "must be a string"),
    ],
)
def test_bad_custom_rules(rules, match):
    with pytest.raises(SchemeError, match=match):
        rfmkit.SegmentScheme(rules)


# --------------------------------------------------------------------------- tiers, matrix


@SETTINGS
@given(values=st.lists(st.integers(0, 30).map(float), min_size=1, max_size=150))
def test_value_tiers_match_the_reference(values):
    table = pd.DataFrame({"clv": values})
    got = rfmkit.value_tiers(table, by="clv")["tier"]
    assert got.astype(str).tolist() == ref.tiers(values)
    # ties never split
    frame = pd.DataFrame({"v": values, "t": got.cat.codes})
    assert (frame.groupby("v")["t"].nunique() == 1).all()
    zh = rfmkit.value_tiers(table, by="clv", lang="zh")["tier"]
    assert list(zh.cat.categories) == ref.TIERS_ZH


def test_value_tiers_on_distinct_values_and_custom_cuts():
    table = pd.DataFrame({"monetary": np.arange(1000.0)})
    got = rfmkit.value_tiers(table)["tier"].value_counts(sort=False)
    assert got.tolist() == [10, 40, 150, 800]
    halves = rfmkit.value_tiers(table, cuts=[0.5], labels=["top", "bottom"])["tier"]
    assert halves.value_counts(sort=False).tolist() == [500, 500]
    for cuts, match in [
        ((0.05, 0.01, 0.2), "strictly increasing"),
        ((0.0, 0.5, 0.9), "strictly increasing"),
        ((0.1, 1.0, 0.5), "strictly increasing"),
        ((0.5,), "labels="),
    ]:
        with pytest.raises(InvalidParameterError, match=match):
            rfmkit.value_tiers(table, cuts=cuts)
    with pytest.raises(ColumnNotFoundError, match="by column 'clv'"):
        rfmkit.value_tiers(table, by="clv")


@pytest.mark.parametrize("split", ["mean", "median", {"frequency": 2, "avg_order_value": 50.0}])
def test_value_matrix_matches_the_reference(split):
    table = rfm_table(400)
    got = rfmkit.value_matrix(table, split=split)
    at = (
        split
        if isinstance(split, dict)
        else {c: float(getattr(table[c], split)()) for c in ["frequency", "avg_order_value"]}
    )
    assert got["quadrant"].astype(str).tolist() == ref.value_matrix(table["frequency"], table["avg_order_value"], at)
    assert list(got["quadrant"].cat.categories) == ref.MATRIX_EN
    zh = rfmkit.value_matrix(table, split=split, lang="zh")["quadrant"]
    assert list(zh.cat.categories) == ref.MATRIX_ZH


# --------------------------------------------------------------------------- summary, KPIs


def assert_summary_equal(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert [str(i) for i in got.index] == [str(i) for i in want.index]
    # the numbers the oracle computes; beside them only the text column of actions
    assert set(got.columns) - set(want.columns) <= {"action"}
    np.testing.assert_allclose(
        got[want.columns].to_numpy(dtype=float), want.to_numpy(dtype=float), rtol=1e-12, equal_nan=True
    )


def test_segment_summary_matches_pandas():
    table = rfmkit.segment(rfmkit.score(rfm_table(500)), "rfm11")
    got = rfmkit.segment_summary(table)
    want = ref.summary(table, "segment")
    assert list(got.index) == ref.RFM11_EN
    assert_summary_equal(got, want)
    assert got["customers"].sum() == 500
    assert math.isclose(got["revenue_share"].sum(), 1.0)


def test_segment_summary_polars_and_plain_groups():
    pl = pytest.importorskip("polars")
    table = rfmkit.value_tiers(rfm_table(200))
    # polars in -> Enum tiers -> polars summary in tier order
    tiers_pl = rfmkit.value_tiers(pl.from_pandas(rfm_table(200).reset_index()))
    assert tiers_pl.schema["tier"] == pl.Enum(ref.TIERS_EN)
    got = rfmkit.segment_summary(tiers_pl, by="tier")
    assert isinstance(got, pl.DataFrame)
    assert got["tier"].cast(pl.String).to_list() == ref.TIERS_EN
    assert got["customers"].to_list() == rfmkit.segment_summary(table, by="tier")["customers"].tolist()
    plain = table.assign(group=np.where(table["frequency"] > 1, "repeat", "single"))
    got = rfmkit.segment_summary(plain, by="group")
    assert_summary_equal(got, ref.summary(plain, "group"))


def test_kpis_match_the_reference():
    table = rfm_table(321)
    got = rfmkit.kpis(table, churn_after=180)
    want = ref.kpis(table, 180)
    assert got.keys() == want.keys()
    for key in want:
        assert math.isclose(got[key], want[key], rel_tol=1e-12), key
    assert rfmkit.kpis(table) == rfmkit.kpis(table, churn_after=365)  # a year, analyze's default
    assert rfmkit.kpis(table)["churn_rate"] == ref.kpis(table, 365)["churn_rate"]
    empty = rfmkit.kpis(table.iloc[:0], churn_after=30)
    assert empty["customers"] == 0 and math.isnan(empty["churn_rate"])
    for bad in [0, -5, 1.5, "180"]:
        with pytest.raises(InvalidParameterError, match="churn_after"):
            rfmkit.kpis(table, churn_after=bad)


# --------------------------------------------------------------------------- migration


def test_migration_against_two_reference_snapshots():
    orders = rfmkit.datasets.make_transactions(400, seed=11)
    dates = ("2024-07-01", "2024-10-01")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        moves = rfmkit.migration(
            orders, customer="customer_id", date="ordered_at", amount="amount", as_of=dates, scheme="rfm10"
        )
        snapshots = []
        for day in dates:
            table = rfmkit.rfm(orders, customer="customer_id", date="ordered_at", amount="amount", as_of=day)
            scores = ref.score_table(table)
            snapshots.append(pd.Series(ref.rfm10(scores["r_score"], scores["f_score"]), index=table.index))
    before, after = snapshots
    assert set(before.index) <= set(after.index)
    want = pd.crosstab(before.reindex(after.index).fillna("new"), after)
    counts = moves.counts
    assert list(counts.index) == [*ref.RFM10_EN, "inactive", "new"]
    assert list(counts.columns) == [*ref.RFM10_EN, "inactive"]
    for row in want.index:
        for column in want.columns:
            assert counts.loc[row, column] == want.loc[row, column], (row, column)
    assert counts["inactive"].sum() == 0 and counts.loc["inactive"].sum() == 0
    assert counts.to_numpy().sum() == len(after)
    rows = counts.sum(axis=1)
    np.testing.assert_allclose(moves.shares[rows > 0].sum(axis=1), 1.0)
    assert moves.customers.loc[after.index, "later"].astype(str).tolist() == after.tolist()


def test_migration_with_a_window_has_inactive_customers():
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "b", "a", "c"],
            "ordered_at": pd.to_datetime(["2024-01-10", "2024-02-01", "2024-05-01", "2024-05-20"]),
            "amount": [10.0, 20.0, 30.0, 40.0],
        }
    )
    moves = rfmkit.migration(
        orders,
        customer="customer_id",
        date="ordered_at",
        amount="amount",
        as_of=("2024-03-01", "2024-06-01"),
        window=90,
        scheme="classic8",
        lang="zh",
    )
    assert moves.customers.loc["b", "later"] == "不活跃(窗口外)"
    assert moves.customers.loc["c", "earlier"] == "新客户(期初无)"
    assert moves.counts.to_numpy().sum() == 3
    with pytest.raises(InvalidParameterError, match="first date must be before"):
        rfmkit.migration(
            orders, customer="customer_id", date="ordered_at", amount="amount", as_of=("2024-06-01", "2024-03-01")
        )


# --------------------------------------------------------------------------- bad inputs


@pytest.fixture
def scored():
    return rfmkit.score(rfm_table(40))


def test_missing_columns_are_named(scored):
    with pytest.raises(ColumnNotFoundError, match=r"the table has no 'm_score': score it first"):
        rfmkit.segment(scored.drop(columns="m_score"), "rfm11")
    with pytest.raises(ColumnNotFoundError, match=r"monetary column 'monetary' is not in the data.*"):
        rfmkit.score(scored.drop(columns="monetary"))
    with pytest.raises(
        ColumnNotFoundError, match="recency column 'recency' is not in the data.*Did you mean 'Recency'"
    ):
        rfmkit.score(scored.rename(columns={"recency": "Recency"}))
    with pytest.raises(ColumnNotFoundError, match="segment rule column 'clv'"):
        rfmkit.segment(scored, rfmkit.SegmentScheme([("rich", {"clv": "> 100"})]))


@pytest.mark.parametrize("bins", [1, 0, -3, 10, 2.5, True, "5"])
def test_bad_bins(bins):
    with pytest.raises(InvalidParameterError, match=r"bins=.* is out of range: pass a whole number from 2 to 9"):
        rfmkit.score(rfm_table(10), bins=bins)


@pytest.mark.parametrize(
    "thresholds, match",
    [
        (
            {"recency": [60, 30, 90, 180], "frequency": [1, 2, 4, 8], "monetary": [1, 2, 3, 4]},
            r"thresholds\['recency'\] = \[60.0, 30.0, 90.0, 180.0\]: edges are not in increasing order",
        ),
        (
            {"recency": [30, 60, 90, 180], "frequency": [1, 2, 2, 8], "monetary": [1, 2, 3, 4]},
            r"thresholds\['frequency'\].*2 appears twice",
        ),
        (
            {"recency": [30, 60, 90], "frequency": [1, 2, 4, 8], "monetary": [1, 2, 3, 4]},
            r"3 edges make 4 scores but bins=5; give 4 edges or pass bins=4",
        ),
        ({"recency": [30, 60, 90, 180], "frequency": [1, 2, 4, 8]}, r"missing: \['monetary'\]"),
        (
            {"recency": [30, 60, 90, 180], "frequency": [1, 2, 4, 8], "monetary": [1, 2, 3, 4], "tenure": [1]},
            r"unknown: \['tenure'\]",
        ),
        ({"recency": "30,60", "frequency": [1, 2, 4, 8], "monetary": [1, 2, 3, 4]}, "must be a list of numbers"),
        (
            {"recency": [30, 60, float("inf"), 180], "frequency": [1, 2, 4, 8], "monetary": [1, 2, 3, 4]},
            "inf is not a finite number",
        ),
    ],
)
def test_bad_thresholds(thresholds, match):
    with pytest.raises(InvalidParameterError, match=match):
        rfmkit.score(rfm_table(10), method="thresholds", thresholds=thresholds)


def test_bad_method_and_weights():
    table = rfm_table(10)
    with pytest.raises(InvalidParameterError, match="needs thresholds="):
        rfmkit.score(table, method="thresholds")
    with pytest.raises(InvalidParameterError, match="pass method='thresholds'"):
        rfmkit.score(table, thresholds={"recency": [1], "frequency": [1], "monetary": [1]})
    with pytest.raises(InvalidParameterError, match="method='qcut' is not one of"):
        rfmkit.score(table, method="qcut")
    with pytest.raises(InvalidParameterError, match=r"weights=\[-1.0, 1.0, 1.0\] must be finite and non-negative"):
        rfmkit.score(table, weights=(-1, 1, 1))
    with pytest.raises(InvalidParameterError, match="all zero"):
        rfmkit.score(table, weights=(0, 0, 0))
    with pytest.raises(InvalidParameterError, match="three numbers"):
        rfmkit.score(table, weights=(1, 1))


def test_bad_values_name_the_column_row_and_value(scored):
    table = rfm_table(10)
    table.iloc[3, table.columns.get_loc("monetary")] = np.nan
    with pytest.raises(
        InvalidDataError, match=r"column 'monetary' is NaN \(or null\) at row 3 \(0-based position\): .*drop or fill"
    ):
        rfmkit.score(table)
    bad = scored.copy()
    bad.iloc[2, bad.columns.get_loc("r_score")] = 6
    with pytest.raises(InvalidDataError, match=r"column 'r_score' is 6 at row 2.*whole numbers from 1 to 5"):
        rfmkit.segment(bad, "rfm11")
    with pytest.raises(
        InvalidParameterError, match=r"scheme \"rfm10\" is defined on scores 1..5 but the table has bins=4"
    ):
        rfmkit.segment(rfmkit.score(rfm_table(20), bins=4), "rfm10")
    with pytest.raises(DtypeError, match=r"recency column 'recency' has dtype object"):
        rfmkit.score(rfm_table(10).astype({"recency": str}).astype({"recency": object}))


def test_bad_scheme_lang_and_split(scored):
    with pytest.raises(InvalidParameterError, match="scheme='rfm12' is not one of"):
        rfmkit.segment(scored, "rfm12")
    with pytest.raises(InvalidParameterError, match="lang='cn' is not one of 'en'"):
        rfmkit.segment(scored, lang="cn")
    with pytest.raises(InvalidParameterError, match="split='avg' is not one of 'mean', 'median'"):
        rfmkit.segment(scored, "classic8", split="avg")
    with pytest.raises(InvalidParameterError, match=r"missing: \['monetary'\]"):
        rfmkit.segment(scored, "classic8", split={"recency": 1, "frequency": 2})
    with pytest.raises(InvalidParameterError, match=r"split\['recency'\] is nan"):
        rfmkit.segment(scored, "classic8", split={"recency": float("nan"), "frequency": 2, "monetary": 3})


def test_kpis_name_a_bad_value():
    table = rfm_table(10)
    table.iloc[4, table.columns.get_loc("recency")] = np.nan
    with pytest.raises(InvalidDataError, match=r"column 'recency' is NaN \(or null\) at row 4"):
        rfmkit.kpis(table, churn_after=90)


def test_migration_from_polars_equals_pandas_in_polars():
    pl = pytest.importorskip("polars")
    orders = rfmkit.datasets.make_transactions(150, seed=5)
    kwargs = dict(
        customer="customer_id", date="ordered_at", amount="amount", as_of=("2024-06-01", "2024-12-01"), scheme="value4"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        a = rfmkit.migration(orders, **kwargs)
        b = rfmkit.migration(pl.from_pandas(orders), **kwargs)
    assert isinstance(b.counts, pl.DataFrame) and b.counts.columns[0] == "earlier"  # polars in, polars out
    pd.testing.assert_frame_equal(a.counts, b.counts.to_pandas().set_index("earlier"), check_names=False)
    assert list(b.counts.columns[1:]) == list(a.counts.columns)
    assert a.quality["earlier"]["rows_in"] == len(orders) == rfmkit.quality(b)["earlier"]["rows_in"]


def test_segment_asks_for_bins_when_the_scoring_is_not_recorded():
    table = rfm_table(300, seed=5)
    scored = rfmkit.score(table, bins=4)
    expected = rfmkit.segment(scored, "value4")["segment"]
    # a polars filter (or a pandas merge) drops the attrs that record bins=4
    filtered = pl.from_pandas(scored.reset_index()).filter(pl.col("monetary") > -1e18)
    assert not getattr(filtered, "attrs", {}).get("rfmkit")
    with pytest.raises(InvalidParameterError, match=r"highest score is 4, not 5: pass bins= .*bins=4"):
        rfmkit.segment(filtered, "value4")
    got = rfmkit.segment(filtered, "value4", bins=4)["segment"].to_list()
    assert got == expected.astype(str).tolist()
    # scores that reach 5 are taken as 5 bins, as before
    plain = pd.DataFrame(
        rfmkit.score(table)[["r_score", "f_score", "m_score"]].to_numpy(), columns=["r_score", "f_score", "m_score"]
    )
    assert (
        rfmkit.segment(plain, "rfm11")["segment"].tolist()
        == rfmkit.segment(rfmkit.score(table), "rfm11")["segment"].tolist()
    )


@pytest.mark.parametrize("method", ["quantile", "midrank"])
@pytest.mark.parametrize("bins", [2, 5, 9])
def test_large_tables_take_the_sorting_paths_and_match_the_reference(bins, method):
    # Above 4096 distinct values the core sorts the keys (balanced) or finds the score
    # steps by selection (mid-rank) instead of counting every distinct value by hashing;
    # above 16384 distinct values the balanced programme splits its layers over threads.
    rng = np.random.default_rng(bins)
    n = 24_000
    monetary = np.round(rng.lognormal(4, 1.2, n), 3)
    monetary[rng.integers(0, n, 6_000)] = 25.0  # a heavy tie inside the range
    table = pd.DataFrame(
        {"recency": rng.integers(1, 9000, n), "frequency": rng.geometric(0.3, n), "monetary": monetary}
    )
    assert table["monetary"].nunique() > 16384 and table["recency"].nunique() > 4096
    got = rfmkit.score(table, bins=bins, method=method)
    want = ref.score_table(table, bins, method=method)
    for column in ("r_score", "f_score", "m_score"):
        np.testing.assert_array_equal(got[column].to_numpy(), want[column].to_numpy())
