"""The HTML report as people see it: one self-contained page in English or Chinese, human
labels and numbers, an action per segment, a visible warning when Chinese cannot be
drawn; and the page rendered by a real browser (chromium, from Debian's packages)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import rfmkit
from frames import analyze_sample
from rfmkit import plot
from rfmkit._text import TEXT, WORDS

FIGURES = Path(__file__).resolve().parent.parent / "examples" / "figures"
SECTIONS = ("headline", "segments", "heatmap", "cohorts", "tiers", "clusters", "comparison", "clv", "quality", "method")


@pytest.fixture(scope="module")
def orders():
    return rfmkit.datasets.make_transactions(1500, seed=11)


def _analyze(orders, lang, scheme="rfm11"):
    return analyze_sample(orders, k=3, lang=lang, scheme=scheme)


@pytest.fixture(scope="module")
def reports(orders):
    return {"en": _analyze(orders, "en"), "zh": _analyze(orders, "zh", "classic8")}


def _visible_text(page: str) -> str:
    """The text a reader sees outside the charts (tags, styles and SVGs removed)."""
    page = re.sub(r"<style>.*?</style>|<svg.*?</svg>", " ", page, flags=re.S)
    return re.sub(r"<[^>]+>", " ", page)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_one_self_contained_page_with_every_section(reports, lang):
    page = reports[lang].to_html()
    assert page.startswith("<!DOCTYPE html>")
    # nothing is fetched: no script, no stylesheet link, no external image or font
    assert "<script" not in page and "<link" not in page and "<img" not in page
    assert not re.search(r"(src|href)=['\"]?https?:", page)
    assert "@import" not in page and not re.search(r"url\((?!#)", page)  # only the SVGs' own clip paths
    for anchor in SECTIONS:
        assert f"<section id='{anchor}'>" in page
    # segments, R x F heat map, cohorts, cluster centres, crosstab, CLV and its fit check
    assert page.count("<svg") == 7
    assert "@media print" in page


def test_english_and_chinese_throughout(reports):
    zh = _visible_text(reports["zh"].to_html())
    en = _visible_text(reports["en"].to_html())
    for key in (
        "title",
        "headline",
        "segments",
        "cohorts",
        "tiers",
        "clusters",
        "comparison",
        "clv",
        "quality",
        "method",
    ):
        english, chinese = WORDS[key]
        assert english in en and english not in zh
        assert chinese in zh
    # column labels are human, in the page's language: no raw names in headers
    for raw in ("recency_mean", "customer_share", "revenue_share", "monetary_mean", "p_alive"):
        assert f"<th>{raw}</th>" not in reports["en"].to_html()
        assert TEXT[raw][1] in zh and TEXT[raw][0] in en
    # the charts' words too
    zh_page = reports["zh"].to_html()
    assert TEXT["segments title"][1] in zh_page and TEXT["segments title"][0] not in zh_page


def test_numbers_are_written_for_people(reports):
    report = reports["en"]
    page = report.to_html()
    revenue = float(report.customers["monetary"].sum())
    assert f"{revenue:,.2f}" in page
    assert re.search(r"\d,\d{3}\.\d{2}<", page)  # thousands separators, two decimals
    assert not re.search(r">-?\d+\.\d{3,}<", page)  # no cell with three or more decimals
    share = float(report.segments["customer_share"].iloc[0])
    assert f">{share:.1%}<" in page


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_segment_has_its_action_on_the_page(reports, lang):
    report = reports[lang]
    page = report.to_html()
    for label, action in zip(report.segments.index, report.segments["action"]):
        assert action and action.replace("'", "&#x27;") in page, label


def test_missing_chinese_font_is_a_visible_warning(orders, monkeypatch):
    monkeypatch.setattr(plot, "cjk_font", lambda: None)
    report = _analyze(orders, "zh", "classic8")
    page = report.to_html()
    assert "class='warning'" in page
    assert "fonts-noto-cjk" in _visible_text(page)
    # and the charts fall back to English words
    assert TEXT["segments title"][0] in page


def test_page_without_matplotlib_says_how_to_get_the_charts(reports, monkeypatch):
    def no_matplotlib():
        raise ImportError("no matplotlib")

    monkeypatch.setattr(plot, "_pyplot", no_matplotlib)
    page = reports["en"].to_html()
    assert "<svg" not in page
    assert "pip install &#x27;rfmkit[plot]&#x27;" in page
    assert "<section id='segments'>" in page


def test_to_html_without_a_path_returns_the_page_and_writes_nothing(reports, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    page = reports["en"].to_html()
    assert isinstance(page, str) and list(tmp_path.iterdir()) == []
    # the language of a page can differ from the one analyze was given
    assert WORDS["title"][1] in reports["en"].to_html(lang="zh")


def _browser() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_real_browser_renders_the_page(reports, lang, tmp_path):
    """chromium draws the page (CI installs Debian's chromium and fonts-noto-cjk and sets
    RFMKIT_REQUIRE_BROWSER=1, so there the test cannot be skipped). With
    RFMKIT_UPDATE_SCREENSHOTS=1 the top of each page becomes the README's screenshot."""
    browser = _browser()
    if browser is None:
        if os.environ.get("RFMKIT_REQUIRE_BROWSER") == "1":
            pytest.fail("RFMKIT_REQUIRE_BROWSER=1 but no chromium is installed (apt install chromium)")
        pytest.skip("no chromium (apt install chromium fonts-noto-cjk)")
    from PIL import Image

    path = tmp_path / f"report_{lang}.html"
    reports[lang].to_html(path)
    shot = tmp_path / f"report_{lang}.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1200,2400",
            f"--screenshot={shot}",
            path.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=np.float64)
    assert pixels.shape == (2400, 1200)
    # not blank: text and charts cover a real part of the screen, in many shades
    drawn = pixels < 200
    assert drawn.mean() > 0.02
    assert len(np.unique(pixels.astype(np.uint8))) > 50
    rows_with_ink = drawn.any(axis=1).mean()
    assert rows_with_ink > 0.5
    if os.environ.get("RFMKIT_UPDATE_SCREENSHOTS") == "1":  # the README's pictures: the top of the page
        top = Image.open(shot).convert("RGB").crop((0, 0, 1200, 1600))
        top.quantize(colors=128).save(FIGURES / f"report_{lang}.png", optimize=True)
