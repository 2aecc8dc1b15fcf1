"""Recommended actions per segment: every built-in label has one in en and zh, and they
reach segment_summary, analyze's report and its CSV files; users override them."""

from __future__ import annotations

import re

import pandas as pd
import polars as pl
import pytest

import rfmkit
from rfmkit._actions import GROUPINGS
from rfmkit._segments import labels

CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.mark.parametrize("grouping", GROUPINGS)
def test_every_builtin_label_has_an_action_in_its_language(grouping):
    for lang in ("en", "zh"):
        actions = rfmkit.segment_actions(grouping, lang)
        assert list(actions) == labels(grouping, lang)
        for label, action in actions.items():
            assert len(action) >= 10, (label, action)
            assert bool(CJK.search(action)) == (lang == "zh"), (label, action)


def test_a_label_two_schemes_share_has_one_action():
    assert rfmkit.segment_actions("rfm11")["Lost"] == rfmkit.segment_actions("value4")["Lost"]
    assert rfmkit.segment_actions("rfm10")["Can't Lose"] == rfmkit.segment_actions("rfm11")["Can't Lose Them"]


def test_unknown_grouping_is_refused():
    with pytest.raises(rfmkit.InvalidParameterError, match="'rfm11'"):
        rfmkit.segment_actions("rfm12")


def _table(scheme: str = "classic8", lang: str = "en") -> pd.DataFrame:
    orders = rfmkit.datasets.make_transactions(400, seed=3)
    with pytest.warns(rfmkit.DataQualityWarning):
        table = rfmkit.rfm(orders, customer="customer_id", date="ordered_at", amount="amount")
    return rfmkit.value_tiers(rfmkit.segment(rfmkit.score(table), scheme, lang=lang), lang=lang)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_segment_summary_adds_the_builtin_action_in_the_labels_language(lang):
    table = _table(lang=lang)
    summary = rfmkit.segment_summary(table)
    expected = rfmkit.segment_actions("classic8", lang)
    assert summary["action"].to_dict() == expected
    tiers = rfmkit.segment_summary(table, by="tier")
    assert tiers["action"].to_dict() == rfmkit.segment_actions("tiers", lang)


def test_no_action_for_groups_without_one_or_when_turned_off():
    table = _table()
    table["cluster"] = table.index.to_numpy() % 3
    assert "action" not in rfmkit.segment_summary(table, by="cluster").columns
    assert "action" not in rfmkit.segment_summary(table, actions=False).columns
    # a column of plain text labels, some not built-in: no guessing
    table["group"] = ["Champions", "my own"] * (len(table) // 2) + ["Champions"] * (len(table) % 2)
    assert "action" not in rfmkit.segment_summary(table, by="group").columns


def test_user_actions_override_the_builtin_ones():
    table = _table()
    summary = rfmkit.segment_summary(table, actions={"Important Value": "Send a gift"})
    assert summary.loc["Important Value", "action"] == "Send a gift"
    assert summary.loc["General Win-back", "action"] == rfmkit.segment_actions("classic8")["General Win-back"]
    with pytest.raises(rfmkit.InvalidParameterError, match="mapping of segment label"):
        rfmkit.segment_summary(table, actions=["Send a gift"])
    # a typo, or a label of the other language, is refused rather than lost
    with pytest.raises(rfmkit.InvalidParameterError, match="'Important Valu' is not among the groups"):
        rfmkit.segment_summary(table, actions={"Important Valu": "Send a gift"})
    with pytest.raises(rfmkit.InvalidParameterError, match="'重要价值客户' is not among the groups"):
        rfmkit.segment_summary(table, actions={"重要价值客户": "送礼"})


def test_custom_scheme_carries_its_actions_in_both_languages():
    scheme = rfmkit.SegmentScheme(
        [(("Big", "大客户"), {"monetary": ">= 500"})],
        actions={"大客户": ("Call them", "打电话")},
    )
    assert scheme.actions("en") == {"Big": "Call them"}
    table = rfmkit.segment(_table(), scheme, lang="zh")
    summary = rfmkit.segment_summary(table, actions=scheme)
    assert summary["action"].to_dict() == {"大客户": "打电话", "其他": ""}
    assert rfmkit.segment_actions(scheme, "zh") == {"大客户": "打电话", "其他": ""}
    with pytest.raises(rfmkit.SchemeError, match="'Small' is not a segment of this scheme"):
        rfmkit.SegmentScheme([("Big", {"monetary": ">= 500"})], actions={"Small": "x"})


def test_polars_summary_has_the_action_column():
    summary = rfmkit.segment_summary(pl.from_pandas(_table().reset_index()))
    assert isinstance(summary, pl.DataFrame)
    assert dict(zip(summary["segment"], summary["action"])) == rfmkit.segment_actions("classic8")


def test_analyze_report_and_its_csv_carry_the_actions(tmp_path):
    orders = rfmkit.datasets.make_transactions(400, seed=4)
    with pytest.warns(rfmkit.DataQualityWarning):
        report = rfmkit.analyze(
            orders, customer="customer_id", date="ordered_at", amount="amount", k=None, clv=False, progress=False
        )
    assert report.segments["action"].to_dict() == rfmkit.segment_actions("rfm11")
    report.to_csv(tmp_path)
    written = pd.read_csv(tmp_path / "segments.csv", index_col=0)
    assert written["action"].tolist() == list(rfmkit.segment_actions("rfm11").values())
    with pytest.raises(rfmkit.InvalidParameterError, match="actions="):
        rfmkit.analyze(orders, customer="customer_id", date="ordered_at", amount="amount", actions=1)
