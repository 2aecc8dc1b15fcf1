"""The report as one self-contained HTML page, in English or Chinese.

Everything is inline: the CSS, and the charts as SVG whose text stays text (the reader's
browser draws it, Chinese included); nothing is fetched from the network. The sections:
headline figures, segments with their recommended actions, the R × F heat map, value
tiers and the value matrix, clusters, segments vs clusters, CLV, data quality and the
method notes. `notebook` is the compact view Jupyter shows for a `Report`.
"""

from __future__ import annotations

import html
import io
import math
import platform
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rfmkit._io import frames
from rfmkit._text import CLV_MODEL_NAMES, column_label, dropped_label, text, word

if TYPE_CHECKING:
    from rfmkit._report.report import Report

# --------------------------------------------------------------------------- numbers


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _share(value: float) -> str:
    return "<0.1%" if 0 < abs(value) < 0.0005 else f"{value:.1%}"


def _days(value: Any) -> str:
    """A number of days as people write it (a timedelta as its days)."""
    days = value.days if hasattr(value, "days") else value
    return f"{days:,}"


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _decimal(value: float) -> str:
    return f"{value:,.2f}"


def _ratio(value: float) -> str:
    return f"{value:.2f}×"


def _formatter(column: str) -> Callable[[float], str]:
    """How a number of `column` is written."""
    if column.endswith("_share") or column.startswith("p_"):
        return _share
    if column.endswith("_vs_all"):
        return _ratio
    if column in ("customers", "rows", "frequency") or column.startswith(("recency", "tenure")):
        return _count
    if column.startswith(("monetary", "revenue", "clv", "avg_order_value")):
        return _money
    return _decimal


def _cell(value: Any, column: str) -> tuple[str, bool]:
    """The text of a cell and whether it is a number (right-aligned)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–", True
    if isinstance(value, (bool, np.bool_)):
        return str(value), False
    if isinstance(value, (int, float, np.integer, np.floating)):
        return _formatter(column)(float(value)), True
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else str(value), False
    return str(value), False


def table(frame: pd.DataFrame, lang: str, *, max_rows: int = 50, label: str | None = None) -> str:
    """`frame` as an HTML table with human column labels, money with two decimals and
    thousands separators, shares as percentages; the index is the first column."""
    index_name = label or str(frame.index.name or "")
    head = [f"<th>{html.escape(column_label(index_name, lang))}</th>"]
    head += [f"<th>{html.escape(column_label(c, lang))}</th>" for c in frame.columns]
    rows = []
    for key, row in frame.head(max_rows).iterrows():
        cells = [f"<th>{html.escape(str(key))}</th>"]
        for column, value in row.items():
            shown, number = _cell(value, str(column))
            kind = "num" if number else "long" if column == "action" else "text"
            cells.append(f"<td class='{kind}'>{html.escape(shown)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if len(frame) > max_rows:
        more = f"<p class='more'>{html.escape(word('more rows', lang, n=len(frame) - max_rows))}</p>"
    return (
        "<div class='scroll'><table><thead><tr>"
        + "".join(head)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
        + more
    )


# --------------------------------------------------------------------------- charts


class Charts:
    """Draws charts to inline SVG; remembers whether a Chinese font was missing."""

    def __init__(self, lang: str):
        self.lang = lang
        self.font_missing = False
        self.available = True
        self._count = 0
        try:
            from rfmkit import plot

            plot._pyplot()
        except ImportError:
            self.available = False

    def svg(self, draw: Callable[[Any], Any], size: tuple[float, float]) -> str:
        """`draw(ax)` on a new figure of `size` inches, as an inline SVG element."""
        if not self.available:
            return ""
        import matplotlib
        from matplotlib.figure import Figure

        from rfmkit import plot

        self._count += 1
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", plot.PlotFontWarning)
            with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": f"rfmkit-{self._count}"}):
                figure = Figure(figsize=size, layout="constrained")
                draw(figure.subplots())
                buffer = io.StringIO()
                figure.savefig(buffer, format="svg", metadata={"Date": None})
        if any(issubclass(w.category, plot.PlotFontWarning) for w in caught):
            self.font_missing = True
        svg = buffer.getvalue()
        # inline: no XML prolog; drawn at its own size, narrower on a narrow screen
        return svg[svg.index("<svg") :].replace("<svg ", '<svg class="chart" ', 1)


# --------------------------------------------------------------------------- sections


def _section(anchor: str, title: str, *parts: str) -> str:
    return f"<section id='{anchor}'><h2>{html.escape(title)}</h2>" + "".join(parts) + "</section>"


def _p(words: str, cls: str = "") -> str:
    return f"<p{f' class={cls!r}' if cls else ''}>{html.escape(words)}</p>"


def _headline(report: Report, lang: str) -> str:
    k = report.kpis
    info = frames.info_of(report.customers)
    customers = report.pandas("customers")
    revenue = float(customers["monetary"].sum()) if len(customers) else 0.0
    purchases = float(customers["frequency"].sum()) if len(customers) else 0.0
    churn_after = report.settings.get("churn_after", 365)
    cards = [
        (word("kpi customers", lang), _count(len(customers))),
        (word("kpi revenue", lang), _money(revenue)),
        (word("kpi repeat", lang), _maybe(_share, k.get("repeat_purchase_rate"))),
        (word("kpi churn", lang).format(_days(churn_after)), _maybe(_share, k.get("churn_rate"))),
        (word("kpi aov", lang), _money(revenue / purchases) if purchases else "–"),
        (word("kpi top20", lang), _maybe(_share, k.get("top20_revenue_share"))),
        (word("kpi active", lang), _count(k.get("active_customers", 0))),
        (word("kpi rows", lang), f"{info.get('rows_used', 0):,} / {info.get('rows_in', 0):,}"),
    ]
    if "clv" in customers.columns:
        months = report.clv_model.get("horizon_months")
        cards.append((word("kpi clv", lang).format(months), _money(float(customers["clv"].sum()))))
    if report.clusters is not None:
        cards.append((word("kpi clusters", lang), str(len(report.pandas("clusters")))))
    body = "".join(
        f"<div class='card'><div class='value'>{html.escape(v)}</div><div class='label'>{html.escape(n)}</div></div>"
        for n, v in cards
    )
    return f"<div class='cards'>{body}</div>"


def _maybe(fmt: Callable[[float], str], value: Any) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else fmt(float(value))


def _segments(report: Report, lang: str, charts: Charts) -> str:
    from rfmkit import plot

    summary = report.pandas("segments")
    columns = [
        c
        for c in (
            "customers",
            "customer_share",
            "revenue",
            "revenue_share",
            "recency_mean",
            "frequency_mean",
            "monetary_mean",
            "action",
        )
        if c in summary.columns
    ]
    chart = charts.svg(lambda ax: plot.segments(summary, ax=ax, lang=lang), (8, 0.38 * len(summary) + 1.4))
    return _section(
        "segments",
        word("segments", lang),
        _p(_segments_intro(report, lang)),
        chart,
        table(summary[columns], lang),
    )


def _segments_intro(report: Report, lang: str) -> str:
    """How the segments were made: the scores of a score scheme, classic8's split values,
    or the user's rules."""
    from rfmkit._segments import SCHEMES, split_values

    scheme = report.settings.get("scheme", "rfm11")
    customers = report.pandas("customers")
    if scheme == "classic8" and len(customers):
        # analyze splits at the mean, as segment(..., "classic8") does by default
        columns = {name: customers[name].to_numpy(dtype=np.float64) for name in ("recency", "frequency", "monetary")}
        split = split_values(columns, "mean")
        return word(
            "segments intro classic8",
            lang,
            split=word("mean", lang),
            r=split["recency"],
            f=split["frequency"],
            m=split["monetary"],
        )
    if scheme not in SCHEMES:
        return word("segments intro custom", lang)
    return word("segments intro", lang, scheme=scheme, bins=report.settings.get("bins", 5))


def _heatmap(report: Report, lang: str, charts: Charts) -> str:
    from rfmkit import plot

    customers = report.pandas("customers")
    if not len(customers) or not charts.available:
        return ""
    chart = charts.svg(lambda ax: plot.rf_heatmap(customers, ax=ax, lang=lang), (6.5, 4.5))
    return _section("heatmap", word("heatmap", lang), _p(word("heatmap intro", lang)), chart)


def _cohorts(report: Report, lang: str, charts: Charts) -> str:
    from rfmkit import plot

    cohorts = report.cohorts
    if cohorts is None or cohorts.pandas("shares").empty:
        return ""
    period = word(f"period {cohorts.freq[:1]}", lang)
    shares = cohorts.pandas("shares")
    sized = shares[shares.iloc[:, 0].fillna(0) > 0]
    parts = [_p(word("cohorts intro", lang, period=period, n="n"))]
    if cohorts.quality.get("last_period_partial"):
        parts.append(_p(word("cohorts partial", lang, period=period), "note"))
    parts.append(
        charts.svg(
            lambda ax: plot.cohorts(cohorts, ax=ax, lang=lang),
            (min(0.35 * sized.shape[1] + 4, 11), min(0.3 * len(sized) + 2, 12)),
        )
    )
    return _section("cohorts", word("cohorts", lang), *parts)


def _tiers(report: Report, lang: str) -> str:
    import rfmkit

    customers = report.pandas("customers")
    tiers = report.pandas("tiers")
    by = text("clv" if "clv" in customers.columns else "monetary", lang)
    columns = [
        c
        for c in ("customers", "customer_share", "revenue", "revenue_share", "monetary_mean", "action")
        if c in tiers.columns
    ]
    parts = [_p(word("tiers intro", lang, by=by)), table(tiers[columns], lang)]
    if len(customers) and (customers["frequency"] > 0).all():
        matrix = rfmkit.value_matrix(customers[["recency", "frequency", "monetary", "avg_order_value"]], lang=lang)
        summary = rfmkit.segment_summary(matrix, by="quadrant")
        parts.append(table(summary[[c for c in columns if c in summary.columns]], lang))
    return _section("tiers", word("tiers", lang), *parts)


def _clusters(report: Report, lang: str, charts: Charts) -> str:
    from rfmkit import plot

    if report.clusters is None:
        return ""
    profile = report.pandas("clusters")
    name = "name_zh" if lang == "zh" else "name_en"
    shown = profile[
        [
            c
            for c in (
                name,
                "customers",
                "customer_share",
                "revenue_share",
                "recency_mean",
                "frequency_mean",
                "monetary_mean",
            )
            if c in profile.columns
        ]
    ].rename(columns={name: "name"})
    how = ""
    if report.choose_k is not None:
        ks = report.pandas("choose_k").index
        how = word("chosen k", lang).format(f"{int(ks.min())}–{int(ks.max())}")
    chart = charts.svg(lambda ax: plot.cluster_centers(report._centres(lang), ax=ax, lang=lang), (8, 4.8))
    return _section(
        "clusters",
        word("clusters", lang),
        _p(word("clusters intro", lang, k=len(profile), how=how)),
        table(shown, lang),
        chart,
    )


def _comparison(report: Report, lang: str, charts: Charts) -> str:
    from rfmkit import plot

    if report.comparison is None:
        return ""
    scores = report.comparison.scores()
    ari, nmi = scores["adjusted_rand"], scores["normalized_mutual_info"]
    agree = word("agree high" if ari >= 0.65 else "agree mid" if ari >= 0.3 else "agree low", lang)
    crosstab = report.pandas("crosstab")
    chart = charts.svg(
        lambda ax: plot.crosstab(crosstab, ax=ax, lang=lang),
        (0.9 * crosstab.shape[1] + 4, 0.4 * crosstab.shape[0] + 2),
    )
    parts = [_p(word("comparison sentence", lang, ari=ari, nmi=nmi, agree=agree))]
    comparison = report.comparison
    shares = None
    if comparison.explained is not None:
        explained = frames.indexed_pandas(comparison.explained)
        shares = explained.loc[["segments", "clusters"], ["purchases", "spend"]].to_numpy(dtype=np.float64)
    if shares is not None and np.isfinite(shares).all():
        # an adjusted share below 0 explains nothing: shown as 0 %
        (sp, ss), (cp, cs) = np.maximum(shares, 0.0)
        margin = (sp + ss) / 2 - (cp + cs) / 2
        verdict = word(
            "segments predict" if margin > 0.02 else "clusters predict" if margin < -0.02 else "both predict", lang
        )
        parts.append(
            _p(word("predicts sentence", lang, sp=sp, ss=ss, cp=cp, cs=cs, verdict=verdict, **comparison.holdout))
        )
    if comparison.stability:
        mean = comparison.stability["ari_mean"]
        stable = word("stable" if mean >= 0.9 else "fairly stable" if mean >= 0.7 else "unstable", lang)
        parts.append(
            _p(
                word(
                    "stability sentence",
                    lang,
                    stable=stable,
                    seeds=comparison.stability["seeds"],
                    mean=mean,
                    min=comparison.stability["ari_min"],
                )
            )
        )
    return _section("comparison", word("comparison", lang), *parts, chart)


def _clv(report: Report, lang: str, charts: Charts) -> str:
    from rfmkit import plot

    customers = report.pandas("customers")
    if "clv" not in customers.columns:
        return ""
    model = report.clv_model
    chosen = model.get("purchase_model", "bgnbd")
    name = CLV_MODEL_NAMES.get(chosen, chosen)
    intro = word(
        "clv intro",
        lang,
        model=name,
        months=model.get("horizon_months"),
        rate=model.get("discount_rate_per_month", 0.0),
        margin=model.get("margin", 1.0),
        total=_money(float(customers["clv"].sum())),
    )
    chart = charts.svg(lambda ax: plot.clv_distribution(customers["clv"], ax=ax, lang=lang), (7, 4))
    columns = [
        c
        for c in (
            "segment",
            "recency",
            "frequency",
            "monetary",
            "p_alive",
            "p_purchase_30d",
            "next_purchase_days",
            "clv",
        )
        if c in customers.columns
    ]
    top = customers.sort_values("clv", ascending=False).head(20)[columns]
    return _section(
        "clv",
        word("clv", lang),
        _p(intro),
        chart,
        *_clv_choice(model, name, lang),
        _p(word(ALIVE_NOTES.get(chosen, "p_alive note"), lang), "note"),
        *_fit_check(model, chosen, name, lang, charts),
        f"<h3>{html.escape(word('top customers', lang).format(text('clv', lang)))}</h3>",
        table(top, lang, label="customer"),
    )


def _fit_check(model: dict[str, Any], chosen: str, name: str, lang: str, charts: Charts) -> list[str]:
    """How well the purchase model fits: customers by repeat purchases, observed and
    expected by the model (`plot.period_transactions`)."""
    from rfmkit import plot

    fitted, summary = model.get(chosen), model.get("summary")
    if fitted is None or summary is None:
        return []
    chart = charts.svg(lambda ax: plot.period_transactions(fitted, summary, ax=ax, lang=lang), (7, 4))
    return [f"<h3>{html.escape(word('fit check', lang))}</h3>", _p(word("fit check intro", lang, model=name)), chart]


#: The note on P(alive) under each purchase model.
ALIVE_NOTES = {"mbgnbd": "p_alive note mbgnbd", "pareto": "p_alive note pareto"}


def _clv_choice(model: dict[str, Any], name: str, lang: str) -> list[str]:
    """Why the purchase model was chosen (analyze(clv_model="auto")): one sentence and the
    comparison of the models on the holdout days."""
    choice = model.get("choice")
    if choice is None or len(choice) < 2:
        return []
    chosen = model["purchase_model"]
    others = ", ".join(
        f"{CLV_MODEL_NAMES.get(other, other)} {choice.loc[other, 'holdout_mae']:.3f}"
        for other in choice.index
        if other != chosen
    )
    shown = choice.rename(index=lambda m: CLV_MODEL_NAMES.get(m, m))
    return [
        _p(
            word(
                "clv choice",
                lang,
                model=name,
                days=choice.attrs["rfmkit"]["days"],
                mae=choice.loc[chosen, "holdout_mae"],
                others=others,
            )
        ),
        table(shown, lang, label="purchase_model"),
    ]


def _quality(report: Report, lang: str) -> str:
    from rfmkit._report.report import NET_NEGATIVE_ROW

    quality = report.pandas("quality")
    labels = []
    for row in quality.index:
        if row.startswith("dropped: "):
            labels.append(dropped_label(row.removeprefix("dropped: "), lang))
        elif row == NET_NEGATIVE_ROW:
            labels.append(text("net_negative", lang))
        else:
            labels.append(text(row, lang))
    shown = pd.DataFrame({"rows": quality["rows"].to_numpy()}, index=pd.Index(labels, name=" "))
    return _section("quality", word("quality", lang), _p(word("quality intro", lang)), table(shown, lang))


def _method(report: Report, lang: str) -> str:
    import rfmkit

    info = frames.info_of(report.customers)
    settings = report.settings
    lines = [word(key, lang) for key in ("def as_of", "def rfm", "def purchase", "def scores")]
    values = {
        "amount": word("positive or zero" if settings.get("zero") == "keep" else "positive", lang),
        "order_lines": word("order lines", lang) if settings.get("order") else "",
        "as_of": info.get("as_of") or "–",
        "bins": settings.get("bins", 5),
        "orders": word("orders", lang) if settings.get("order") else "",
        "returns": word("net returns", lang) if info.get("returns", "net") == "net" else "",
    }
    items = "".join(f"<li>{html.escape(line.format(**values))}</li>" for line in lines)
    shown = {k: v for k, v in settings.items() if v is not None}
    parameters = ", ".join(f"{k}={v!r}" for k, v in shown.items())
    versions = f"rfmkit {rfmkit.__version__}, numpy {np.__version__}, pandas {pd.__version__}, Python {platform.python_version()}"
    return _section(
        "method",
        word("method", lang),
        f"<ul>{items}</ul>",
        f"<p><b>{html.escape(word('parameters', lang))}</b>: <code>{html.escape(parameters)}</code></p>",
        f"<p><b>{html.escape(word('versions', lang))}</b>: {html.escape(versions)}</p>",
    )


def _notes(report: Report, lang: str, charts: Charts) -> str:
    notes = list(report.notes)
    if charts.font_missing:
        notes.insert(0, word("no cjk font", lang))
    if not charts.available:
        notes.insert(0, word("no charts", lang))
    if not notes:
        return ""
    return _section("notes", word("notes", lang), *(_p(note, "warning") for note in notes))


def _header(report: Report, lang: str) -> str:
    import rfmkit

    info = frames.info_of(report.customers)
    subtitle = word(
        "subtitle", lang, customers=len(report.customers), as_of=info.get("as_of") or "–", version=rfmkit.__version__
    )
    return f"<header><h1>{html.escape(word('title', lang))}</h1>{_p(subtitle, 'sub')}</header>"


def _contents(sections: Iterable[tuple[str, str]]) -> str:
    links = "".join(f"<li><a href='#{a}'>{html.escape(t)}</a></li>" for a, t in sections)
    return f"<nav><ol>{links}</ol></nav>"


def page(report: Report, lang: str) -> str:
    """The whole report as one self-contained HTML page."""
    charts = Charts(lang)
    built = [
        ("headline", _section("headline", word("headline", lang), _headline(report, lang))),
        ("segments", _segments(report, lang, charts)),
        ("heatmap", _heatmap(report, lang, charts)),
        ("cohorts", _cohorts(report, lang, charts)),
        ("tiers", _tiers(report, lang)),
        ("clusters", _clusters(report, lang, charts)),
        ("comparison", _comparison(report, lang, charts)),
        ("clv", _clv(report, lang, charts)),
        ("quality", _quality(report, lang)),
        ("method", _method(report, lang)),
    ]
    notes = _notes(report, lang, charts)
    present = [(anchor, word(anchor, lang)) for anchor, body in built if body]
    body = _header(report, lang) + notes + _contents(present) + "".join(b for _, b in built)
    html_lang = "zh-CN" if lang == "zh" else "en"
    return (
        f"<!DOCTYPE html><html lang='{html_lang}'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(word('title', lang))}</title><style>{CSS}</style></head>"
        f"<body class='rfmkit'>{body}</body></html>"
    )


def notebook(report: Report, lang: str) -> str:
    """The compact view of a report in Jupyter: headline, segments with one chart,
    clusters and data quality."""
    charts = Charts(lang)
    parts = [
        _header(report, lang),
        _headline(report, lang),
        _segments(report, lang, charts),
        _clusters_compact(report, lang),
        _quality(report, lang),
        _notes(report, lang, charts),
    ]
    return f"<div class='rfmkit'><style>{CSS}</style>" + "".join(parts) + "</div>"


def _clusters_compact(report: Report, lang: str) -> str:
    if report.clusters is None:
        return ""
    profile = report.pandas("clusters")
    name = "name_zh" if lang == "zh" else "name_en"
    shown = profile[[c for c in (name, "customers", "customer_share", "revenue_share") if c in profile.columns]]
    return _section("clusters", word("clusters", lang), table(shown.rename(columns={name: "name"}), lang))


CSS = """
.rfmkit{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",
"Hiragino Sans GB",sans-serif;color:#1f2933;line-height:1.45;max-width:1100px;margin:0 auto;padding:16px 24px}
.rfmkit h1{font-size:26px;margin:8px 0 2px}.rfmkit h2{font-size:20px;margin:28px 0 8px;border-bottom:2px solid #4c72b0;
padding-bottom:4px}.rfmkit h3{font-size:15px;margin:16px 0 6px}.rfmkit .sub{color:#52606d;margin:0 0 12px}
.rfmkit nav ol{columns:3;font-size:13px;margin:8px 0 4px;padding-left:20px}.rfmkit nav a{color:#2f5aa8}
.rfmkit .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:10px}
.rfmkit .card{border:1px solid #d9e2ec;border-radius:8px;padding:10px 12px;background:#f8fafc}
.rfmkit .card .value{font-size:22px;font-weight:600}.rfmkit .card .label{font-size:12px;color:#52606d}
.rfmkit .scroll{overflow-x:auto}.rfmkit table{border-collapse:collapse;font-size:13px;margin:6px 0 12px}
.rfmkit th,.rfmkit td{padding:4px 9px;border-bottom:1px solid #e4e7eb;vertical-align:top}
.rfmkit thead th{background:#f0f4f8;text-align:left}.rfmkit tbody th{text-align:left;font-weight:600;white-space:nowrap}
.rfmkit td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}.rfmkit td.text{text-align:left}
.rfmkit td.long{text-align:left;min-width:18em}
.rfmkit svg.chart{max-width:100%;height:auto;display:block;margin:8px 0}
.rfmkit .note{color:#52606d;font-size:13px}.rfmkit .more{color:#52606d;font-size:12px}
.rfmkit .warning{background:#fff4e5;border-left:4px solid #f0a202;padding:8px 12px}
.rfmkit code{font-size:12px;overflow-wrap:anywhere}
@media print{.rfmkit nav{display:none}.rfmkit section{break-inside:avoid-page}.rfmkit{max-width:none;padding:0}
.rfmkit h2{break-after:avoid}}
"""
