"""Plots of rfmkit's tables (matplotlib, an optional extra: ``pip install 'rfmkit[plot]'``).

Every function takes the table rfmkit gives (or the object holding it), draws on `ax`
(a new figure when ``ax is None``) and returns the axes, in the manner of
``lifetimes.plotting``. matplotlib is imported only when a function is called.

Every function takes ``lang="en"`` or ``"zh"`` for its titles, axes and legends.
Chinese (those words, or Chinese segment labels) needs a font with CJK glyphs. When
matplotlib finds one (Noto Sans CJK, WenQuanYi, SimHei, Microsoft YaHei, PingFang, ...),
it is used; when none is installed, everything is drawn in English and a
`PlotFontWarning` says so (on Debian/Ubuntu: ``apt install fonts-noto-cjk``).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rfmkit._io import frames
from rfmkit._text import column_label, text
from rfmkit.exceptions import InvalidParameterError

__all__ = [
    "PlotFontWarning",
    "calibration_holdout",
    "choose_k",
    "cluster_centers",
    "clv_distribution",
    "cohorts",
    "crosstab",
    "frequency_recency_matrix",
    "migration",
    "period_transactions",
    "probability_alive_matrix",
    "rf_heatmap",
    "segments",
    "tracking_transactions",
]


class PlotFontWarning(UserWarning):
    """No CJK font is installed: Chinese labels were drawn with their English names."""


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "rfmkit's plots need matplotlib: pip install 'rfmkit[plot]' (or pip install matplotlib)"
        ) from None
    return plt


def _axes(ax: Any, figsize: tuple[float, float]) -> Any:
    if ax is not None:
        return ax
    _, ax = _pyplot().subplots(figsize=figsize, layout="constrained")
    return ax


# --------------------------------------------------------------------------- CJK labels


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


@functools.lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of an installed font that draws Chinese, or None (Simplified
    Chinese sans-serif fonts first)."""
    _pyplot()
    from matplotlib import font_manager

    found = _draws_chinese(_by_preference(font_manager.fontManager.ttflist))
    if found is None:
        # matplotlib lists the fonts it found when it was first imported, and a font installed
        # since (apt install fonts-noto-cjk) is not in that list: look for one on the system.
        known = list(font_manager.fontManager.ttflist)
        names = ("cjk", "sourcehan", "wqy", "wenquanyi", "simhei", "simsun", "msyh", "yahei", "pingfang", "heiti")
        for path in font_manager.findSystemFonts():
            if any(name in Path(path).name.lower().replace("-", "").replace("_", "") for name in names):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        found = _draws_chinese(_by_preference([f for f in font_manager.fontManager.ttflist if f not in known]))
    return found


def _by_preference(entries: Sequence[Any]) -> list[Any]:
    preferred = ("Sans CJK SC", "Sans SC", "Sans CJK", "Source Han Sans", "WenQuanYi", "SimHei", "YaHei", "PingFang")
    return sorted(
        entries, key=lambda f: next((i for i, name in enumerate(preferred) if name in f.name), len(preferred))
    )


def _draws_chinese(entries: Sequence[Any]) -> str | None:
    """The name of the first font of `entries` with a glyph for 客."""
    from matplotlib import ft2font

    probe = ord("客")
    for entry in entries:
        if entry.name.startswith("Last Resort"):  # matplotlib's placeholder glyphs for every code point
            continue
        try:
            if probe in ft2font.FT2Font(entry.fname).get_charmap():
                return str(entry.name)
        except (OSError, RuntimeError, ValueError):  # unreadable font file
            continue
    return None


@functools.lru_cache(maxsize=1)
def _zh_to_en() -> dict[str, str]:
    from rfmkit._cluster import _RANK_WORDS
    from rfmkit._segments import labels

    pairs: dict[str, str] = {}
    for scheme in ("rfm11", "rfm10", "classic8", "value4", "value_matrix", "tiers"):
        pairs.update(zip(labels(scheme, "zh"), labels(scheme, "en")))
    # the words of cluster names: namesake qualifiers and the mixed marker
    for words in _RANK_WORDS.values():
        pairs.update(zip(words["zh"][0], words["en"][0]))
    pairs["(混合)"] = " (mixed)"
    return pairs


def _english(label: str) -> str:
    """`label` with every built-in Chinese label in it replaced by its English name
    (``"0 重要价值客户"`` -> ``"0 important value"``)."""
    pairs = _zh_to_en()
    if label in pairs:
        return pairs[label]
    for zh in sorted(pairs, key=len, reverse=True):
        label = label.replace(zh, pairs[zh])
    return label


def _language(lang: str, labels: Sequence[Any] = ()) -> tuple[str, Any, str | None]:
    """How to draw a plot in `lang` whose tick labels are `labels`: the language of its
    words, a function turning each label into a drawable one, and the font (None: the
    default). Chinese needs a CJK font; without one, words and labels are drawn in English
    with one `PlotFontWarning`."""
    from rfmkit._scores import check_lang

    lang = check_lang(lang)
    if lang == "en" and not any(_has_cjk(str(label)) for label in labels):
        return "en", str, None
    font = cjk_font()
    if font is None:
        warnings.warn(
            "no font with Chinese glyphs is installed, so the labels are drawn in English; "
            "install one (e.g. apt install fonts-noto-cjk) to see the Chinese labels",
            PlotFontWarning,
            stacklevel=3,
        )
        return "en", (lambda label: _english(str(label))), None
    return lang, str, font


def _words(ax: Any, font: str | None, *, title: str, xlabel: str | None = None, ylabel: str | None = None) -> None:
    """The title and axis labels of `ax`, in `font` when one is given."""
    kw = {"fontfamily": font} if font else {}
    ax.set_title(title, **kw)
    if xlabel is not None:
        ax.set_xlabel(xlabel, **kw)
    if ylabel is not None:
        ax.set_ylabel(ylabel, **kw)


def _use_font(ax: Any, font: str | None) -> None:
    """Draws the tick labels and the legend of `ax` with `font` (tick labels are made at
    draw time, so the font is set on the axes, not on today's tick objects)."""
    if font is None:
        return
    ax.tick_params(labelfontfamily=font)
    legend = ax.get_legend()
    if legend is not None:
        for text in legend.get_texts():
            text.set_fontfamily(font)


# --------------------------------------------------------------------------- heat maps


def _heatmap(
    ax: Any,
    frame: pd.DataFrame,
    *,
    fmt: str,
    cmap: str,
    label: Any,
    colorbar: str,
    font: str | None = None,
    annotate: bool = True,
    vmax: float | None = None,
) -> Any:
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    image = ax.imshow(values, cmap=cmap, aspect="auto", vmax=vmax)
    ax.set_xticks(range(frame.shape[1]), [label(c) for c in frame.columns], rotation=45, ha="right")
    ax.set_yticks(range(frame.shape[0]), [label(r) for r in frame.index])
    for (i, j), value in np.ndenumerate(values):
        if annotate and np.isfinite(value):
            red, green, blue, _ = image.cmap(image.norm(value))
            dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
            ax.text(j, i, format(value, fmt), ha="center", va="center", fontsize=8, color="white" if dark else "black")
    bar = ax.figure.colorbar(image, ax=ax)
    bar.set_label(colorbar, **({"fontfamily": font} if font else {}))
    return ax


def _frame_of(obj: Any, attribute: str, index: str | None = None, *, labels_first: bool = False) -> pd.DataFrame:
    """The table to draw as pandas (`attribute` of a report or model, or the table itself).
    A polars or pyarrow table has no index: its first column becomes it when it is named
    `index` (the labels the plot shows: the segment, the cluster, k), or whatever its name
    with `labels_first` (a crosstab's row labels)."""
    frame = getattr(obj, attribute, obj)
    if frames.is_table(frame) and not isinstance(frame, pd.DataFrame):
        frame = frames.to_pandas(frame)
        first = frame.columns[0] if len(frame.columns) else None
        if first is not None and (labels_first or first == index):
            frame = frame.set_index(first)
    if not isinstance(frame, pd.DataFrame):
        raise InvalidParameterError(f"expected a DataFrame (or an object with .{attribute}), got {type(obj).__name__}")
    return frame


def _require(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidParameterError(f"{what} needs the column(s) {missing}; the table has {list(frame.columns)}")


# --------------------------------------------------------------------------- the plots


def segments(summary: Any, *, ax: Any = None, by: str = "segment", lang: str = "en") -> Any:
    """Share of customers and share of revenue per segment, side by side.

    Parameters
    ----------
    summary : pandas.DataFrame
        The table of `rfmkit.segment_summary` (columns ``customer_share`` and
        ``revenue_share``, one row per segment).
    ax : matplotlib Axes, optional
    by : str, default "segment"
        The group column, when the groups are a column rather than the index.
    lang : {"en", "zh"}
        The language of the title, axes and legend.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd, rfmkit.plot
    >>> summary = pd.DataFrame({"customer_share": [0.2, 0.8], "revenue_share": [0.7, 0.3]},
    ...                        index=pd.Index(["Champions", "Lost"], name="segment"))
    >>> ax = rfmkit.plot.segments(summary)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['Champions', 'Lost']
    """
    frame = _frame_of(summary, "segments", by)
    if by in frame.columns:
        frame = frame.set_index(by)
    _require(frame, ["customer_share", "revenue_share"], "plot.segments")
    frame = frame[frame["customer_share"] > 0] if len(frame) else frame
    ax = _axes(ax, (7, 0.45 * len(frame) + 1.5))
    positions = np.arange(len(frame))
    height = 0.4
    lang, label, font = _language(lang, list(frame.index))
    customers, revenue = text("customers %", lang), text("revenue %", lang)
    ax.barh(positions - height / 2, frame["customer_share"] * 100, height, label=customers, color="#4c72b0")
    ax.barh(positions + height / 2, frame["revenue_share"] * 100, height, label=revenue, color="#dd8452")
    ax.set_yticks(positions, [label(i) for i in frame.index])
    ax.invert_yaxis()
    _words(ax, font, title=text("segments title", lang), xlabel=text("share (%)", lang))
    ax.legend(loc="best")
    _use_font(ax, font)
    return ax


def rf_heatmap(table: Any, *, ax: Any = None, value: str = "monetary", agg: str = "mean", lang: str = "en") -> Any:
    """Heat map of a value (default: mean monetary) over recency score × frequency score.

    Parameters
    ----------
    table : pandas.DataFrame, polars.DataFrame or pyarrow.Table
        A scored RFM table (columns ``r_score``, ``f_score`` and `value`), e.g. from
        `rfmkit.score`.
    value : str
        The column to aggregate per cell.
    agg : {"mean", "median", "sum", "count"}
    lang : {"en", "zh"}
        The language of the title and axes.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd, rfmkit.plot
    >>> scored = pd.DataFrame({"r_score": [1, 5, 5], "f_score": [1, 5, 4], "monetary": [10.0, 90.0, 50.0]})
    >>> ax = rfmkit.plot.rf_heatmap(scored)
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('frequency score', 'recency score')
    """
    frame = _frame_of(table, "customers")
    if agg not in ("mean", "median", "sum", "count"):
        raise InvalidParameterError(f"agg={agg!r} is not one of 'mean', 'median', 'sum', 'count'")
    _require(frame, ["r_score", "f_score", value], "plot.rf_heatmap")
    grid = frame.pivot_table(index="r_score", columns="f_score", values=value, aggfunc=agg, observed=True)  # type: ignore[call-overload,arg-type,unused-ignore]
    grid = grid.sort_index(ascending=False)
    ax = _axes(ax, (6, 4.5))
    lang, _, font = _language(lang)
    what = value if lang == "en" else column_label(value, lang)
    bar = f"{agg} {value}" if lang == "en" else text(agg, lang) + what
    _heatmap(ax, grid, fmt=",.0f", cmap="viridis", label=str, colorbar=bar, font=font)
    ax.set_xticks(range(grid.shape[1]), [str(c) for c in grid.columns], rotation=0, ha="center")
    title = text("heatmap title", lang, agg.capitalize() if lang == "en" else text(agg, lang), what)
    _words(ax, font, title=title, xlabel=text("frequency score", lang), ylabel=text("recency score", lang))
    return ax


def cluster_centers(centers: Any, *, ax: Any = None, lang: str = "en") -> Any:
    """Cluster centres as parallel coordinates: each feature standardised across the
    centres (z-score), one line per cluster, with the centre values in the legend.

    Parameters
    ----------
    centers : pandas.DataFrame or a fitted `rfmkit.KMeans`
        One row per cluster, one column per feature (``KMeans.cluster_centers_``).
    lang : {"en", "zh"}
        The language of the title and axes.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd, rfmkit.plot
    >>> centers = pd.DataFrame({"recency": [10.0, 200.0], "frequency": [8.0, 1.0], "monetary": [900.0, 40.0]})
    >>> ax = rfmkit.plot.cluster_centers(centers)
    >>> [text.get_text()[:12] for text in ax.get_legend().get_texts()]
    ['0: recency=1', '1: recency=2']
    """
    frame = _frame_of(centers, "cluster_centers_", "cluster")
    frame = frame.select_dtypes("number")
    if frame.empty:
        raise InvalidParameterError("plot.cluster_centers needs a table of numeric cluster centres")
    spread = frame.std(ddof=0).replace(0.0, 1.0)
    scaled = (frame - frame.mean()) / spread
    ax = _axes(ax, (7, 4))
    positions = np.arange(frame.shape[1])
    lang, label, font = _language(lang, list(frame.index))
    for name, row in scaled.iterrows():
        raw = ", ".join(f"{c if lang == 'en' else column_label(c, lang)}={v:,.3g}" for c, v in frame.loc[name].items())
        ax.plot(positions, row.to_numpy(), marker="o", label=f"{label(name)}: {raw}")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncols=1, frameon=False)
    _use_font(ax, font)
    ax.set_xticks(positions, [str(c) if lang == "en" else column_label(c, lang) for c in frame.columns])
    ax.axhline(0.0, color="grey", linewidth=0.8)
    _words(ax, font, title=text("centres title", lang), ylabel=text("centres axis", lang))
    _use_font(ax, font)
    return ax


def choose_k(curves: Any, *, ax: Any = None, lang: str = "en") -> Any:
    """The choose-k curves: inertia (elbow, left axis) and silhouette (right axis) per k,
    with the suggested k marked.

    Parameters
    ----------
    curves : pandas.DataFrame
        The table of `rfmkit.choose_k` (index or column ``k``; columns ``inertia`` and
        ``silhouette``; ``attrs["rfmkit"]["suggested_k"]`` when present).
    lang : {"en", "zh"}
        The language of the title, axes and legend.

    Returns
    -------
    matplotlib Axes
        The left axes; the silhouette axes is its twin.

    Examples
    --------
    >>> import pandas as pd, rfmkit.plot
    >>> curves = pd.DataFrame({"inertia": [90.0, 50.0, 40.0], "silhouette": [0.4, 0.5, 0.45]},
    ...                       index=pd.Index([2, 3, 4], name="k"))
    >>> ax = rfmkit.plot.choose_k(curves)
    >>> ax.get_xlabel()
    'k (number of clusters)'
    """
    frame = _frame_of(curves, "choose_k", "k")
    if "k" in frame.columns:
        frame = frame.set_index("k")
    _require(frame, ["inertia"], "plot.choose_k")
    ax = _axes(ax, (6, 4))
    lang, _, font = _language(lang)
    kw = {"fontfamily": font} if font else {}
    ks = frame.index.to_numpy()
    ax.plot(ks, frame["inertia"], marker="o", color="#4c72b0", label=text("inertia", lang))
    _words(ax, font, title=text("choose k title", lang), xlabel=text("k axis", lang))
    ax.set_ylabel(text("inertia axis", lang), color="#4c72b0", **kw)
    if "silhouette" in frame.columns:
        twin = ax.twinx()
        twin.plot(ks, frame["silhouette"], marker="s", color="#dd8452", label=text("silhouette", lang))
        twin.set_ylabel(text("silhouette", lang), color="#dd8452", **kw)
    suggested = frame.attrs.get("rfmkit", {}).get("suggested_k")
    if suggested is not None:
        ax.axvline(suggested, color="grey", linestyle="--", linewidth=1, label=text("suggested k", lang, suggested))
    # one legend for the lines of both axes
    lines = [line for axes in ax.figure.axes if axes.bbox.bounds == ax.bbox.bounds for line in axes.get_lines()]
    ax.legend(lines, [line.get_label() for line in lines], loc="upper right", fontsize=8)
    ax.set_xticks(ks)
    _use_font(ax, font)
    return ax


def clv_distribution(values: Any, *, ax: Any = None, bins: int = 50, column: str = "clv", lang: str = "en") -> Any:
    """Histogram of customer lifetime values, with the mean and median marked.

    Parameters
    ----------
    values : array-like, pandas.Series or a table with a `column` column
    bins : int
    lang : {"en", "zh"}
        The language of the title, axes and legend.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np, rfmkit.plot
    >>> ax = rfmkit.plot.clv_distribution(np.array([10.0, 20.0, 35.0, 400.0]))
    >>> [text.get_text() for text in ax.get_legend().get_texts()][-1]
    '(1 above 389, the 99th percentile, not shown)'
    """
    if frames.is_table(values) or hasattr(values, "customers"):
        frame = _frame_of(values, "customers")
        _require(frame, [column], "plot.clv_distribution")
        values = frame[column]
    data = np.asarray(values, dtype=np.float64)
    data = data[np.isfinite(data)]
    ax = _axes(ax, (6, 4))
    lang, _, font = _language(lang)
    xlabel = text("clv axis", lang)
    if data.size:
        # CLV is heavily skewed: the axis stops at the 99th percentile, and says so.
        cut = float(np.quantile(data, 0.99))
        shown = data[data <= cut]
        ax.hist(shown, bins=bins, color="#4c72b0", alpha=0.85)
        ax.axvline(np.mean(data), color="#c44e52", linestyle="--", label=text("mean value", lang, np.mean(data)))
        ax.axvline(np.median(data), color="#55a868", linestyle=":", label=text("median value", lang, np.median(data)))
        above = data.size - shown.size
        if above:  # said in the legend, one line of its own
            ax.plot([], [], " ", label=text("clv cut", lang, above, cut))
        ax.legend()
    _words(ax, font, title=text("clv title", lang), xlabel=xlabel, ylabel=text("customers", lang).lower())
    _use_font(ax, font)
    return ax


def crosstab(comparison: Any, *, ax: Any = None, normalize: str = "columns", lang: str = "en") -> Any:
    """Heat map of the segment × cluster crosstab.

    Parameters
    ----------
    comparison : rfmkit.Comparison or pandas.DataFrame
        The result of `rfmkit.compare` (its ``crosstab``: segments as rows, clusters as
        columns) or the count table itself.
    normalize : {"columns", "index", "none"}
        Shares within each cluster (default: the composition of a cluster), within
        each segment, or raw counts.
    lang : {"en", "zh"}
        The language of the title and axes.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd, rfmkit.plot
    >>> counts = pd.DataFrame([[8, 1], [2, 9]], index=["A", "B"], columns=[0, 1])
    >>> ax = rfmkit.plot.crosstab(counts)
    >>> ax.get_xlabel()
    'cluster'
    """
    frame = _frame_of(comparison, "crosstab", labels_first=True).astype(np.float64)
    if normalize == "columns":
        frame = frame / frame.sum(axis=0).replace(0.0, np.nan)
        fmt, bar = ".0%", "share of the cluster"
    elif normalize == "index":
        frame = frame.div(frame.sum(axis=1).replace(0.0, np.nan), axis=0)
        fmt, bar = ".0%", "share of the segment"
    elif normalize == "none":
        fmt, bar = ",.0f", "customers"
    else:
        raise InvalidParameterError(f"normalize={normalize!r} is not one of 'columns', 'index', 'none'")
    ax = _axes(ax, (1.0 * frame.shape[1] + 4, 0.45 * frame.shape[0] + 2))
    lang, label, font = _language(lang, list(frame.index))
    bar = text(bar, lang).lower() if bar == "customers" else text(bar, lang)
    _heatmap(ax, frame, fmt=fmt, cmap="Blues", label=label, colorbar=bar, font=font)
    _use_font(ax, font)
    ax.set_xticks(range(frame.shape[1]), [str(c) for c in frame.columns], rotation=0, ha="center")
    xlabel, ylabel = (text("cluster", lang), text("segment", lang))
    if lang == "en":
        xlabel, ylabel = xlabel.lower(), ylabel.lower()
    _words(ax, font, title=text("crosstab title", lang), xlabel=xlabel, ylabel=ylabel)
    return ax


def migration(matrix: Any, *, ax: Any = None, lang: str = "en") -> Any:
    """Heat map of a segment migration: rows are the segments at the earlier date,
    columns at the later one, cells the share of the row's customers.

    Parameters
    ----------
    matrix : pandas.DataFrame
        The row-share matrix of `rfmkit.migration` (or its counts: rows are normalised
        here).
    lang : {"en", "zh"}
        The language of the title and axes.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd, rfmkit.plot
    >>> moves = pd.DataFrame([[5, 5], [0, 10]], index=["Champions", "Lost"], columns=["Champions", "Lost"])
    >>> ax = rfmkit.plot.migration(moves)
    >>> ax.get_ylabel()
    'segment at the earlier date'
    """
    frame = _frame_of(matrix, "shares", labels_first=True).astype(np.float64)
    frame = frame.div(frame.sum(axis=1).replace(0.0, np.nan), axis=0)
    ax = _axes(ax, (0.9 * frame.shape[1] + 4, 0.45 * frame.shape[0] + 2))
    lang, label, font = _language(lang, [*frame.index, *frame.columns])
    bar = text("share of the earlier segment", lang)
    _heatmap(ax, frame, fmt=".0%", cmap="Purples", label=label, colorbar=bar, font=font)
    _use_font(ax, font)
    _words(
        ax,
        font,
        title=text("migration title", lang),
        xlabel=text("later segment", lang),
        ylabel=text("earlier segment", lang),
    )
    return ax


def cohorts(table: Any, *, ax: Any = None, value: str = "shares", lang: str = "en") -> Any:
    """Heat map of acquisition cohorts: for each cohort (rows, the period of the first
    purchase) the share of its customers active in each period since (columns).

    Parameters
    ----------
    table : rfmkit.Cohorts or pandas.DataFrame
        The result of `rfmkit.cohorts`, or one of its tables.
    value : {"shares", "customers", "revenue"}
        Which table of a `Cohorts` to draw. Cohorts without customers are left out.
    lang : {"en", "zh"}
        The language of the title and axes.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd, rfmkit.plot
    >>> shares = pd.DataFrame([[1.0, 0.4, 0.3], [1.0, 0.5, None]], index=["2024-01", "2024-02"])
    >>> ax = rfmkit.plot.cohorts(shares)
    >>> ax.get_xlabel()
    'periods since the first purchase'
    """
    if value not in ("shares", "customers", "revenue"):
        raise InvalidParameterError(f"value={value!r} is not one of 'shares', 'customers', 'revenue'")
    freq = getattr(table, "freq", None)
    if hasattr(table, "pandas") and freq is not None:
        frame = table.pandas(value)
        sizes = table.pandas("customers").iloc[:, 0] if frame.shape[1] else None
    else:
        frame = _frame_of(table, value, labels_first=True)
        sizes = frame.iloc[:, 0] if value == "customers" and frame.shape[1] else None
    frame = frame.astype("float64")
    if sizes is not None:  # cohorts without customers are left out; the others show their size
        keep = (sizes.fillna(0) > 0).to_numpy()
        frame = frame[keep]
        frame.index = [f"{cohort} ({int(size):,})" for cohort, size in zip(frame.index, sizes[keep])]
    ax = _axes(ax, (0.35 * frame.shape[1] + 4, 0.3 * frame.shape[0] + 2))
    lang, _, font = _language(lang)
    fmt = ".0%" if value == "shares" else ",.0f"
    bar = text("share of the cohort" if value == "shares" else value, lang)
    # the colours spread over the later periods: period 0 is the whole cohort
    later = frame.iloc[:, 1:].to_numpy(dtype=np.float64, na_value=np.nan)
    vmax = float(np.nanmax(later)) if value != "revenue" and np.isfinite(later).any() else None
    annotate = frame.shape[1] <= 13
    _heatmap(ax, frame, fmt=fmt, cmap="Greens", label=str, colorbar=bar, font=font, annotate=annotate, vmax=vmax)
    ax.set_xticks(range(frame.shape[1]), [str(c) for c in frame.columns], rotation=0, ha="center")
    unit = str(freq)[:1] if freq else ""
    axis = text(f"cohort axis {unit}", lang) if unit in ("D", "W", "M", "Q", "Y") else text("cohort axis", lang)
    title = text(f"cohort title {value}", lang)
    _words(ax, font, title=title, xlabel=axis, ylabel=text("cohort", lang))
    return ax


# --------------------------------------------------------------------------- BTYD diagnostics


def _model_grid(predict: Any, model: Any, max_frequency: int | None, max_recency: float | None) -> np.ndarray:
    """`predict(frequency, recency, T)` on the frequency (rows) × recency (columns) grid of
    lifetimes' matrix plots, T the longest history (default 20 repeat purchases, 52 time
    units); NaN where no customer can be (repeat purchases 0 with a recency)."""
    model._require_fitted()
    age = float(max_recency) if max_recency is not None else 52.0
    frequencies = np.arange(int(max_frequency) + 1 if max_frequency is not None else 21, dtype=np.float64)
    x, r = np.meshgrid(frequencies, np.arange(int(age) + 1, dtype=np.float64), indexing="ij")
    valid = (x > 0) | (r == 0)
    values = np.asarray(predict(x.ravel(), np.where(valid, r, 0).ravel(), age), dtype=np.float64).reshape(x.shape)
    return np.where(valid, values, np.nan)


def _matrix_plot(ax: Any, grid: np.ndarray, title: str, bar: str, lang: str) -> Any:
    lang, _, font = _language(lang)
    image = ax.imshow(grid, aspect="auto", cmap="viridis", origin="upper")
    bar_axes = ax.figure.colorbar(image, ax=ax)
    bar_axes.set_label(bar, **({"fontfamily": font} if font else {}))
    _words(
        ax,
        font,
        title=title,
        xlabel=text("customer's recency", lang),
        ylabel=text("customer's frequency", lang),
    )
    return ax


def frequency_recency_matrix(
    model: Any,
    *,
    t: float = 1.0,
    max_frequency: int | None = None,
    max_recency: float | None = None,
    ax: Any = None,
    lang: str = "en",
) -> Any:
    """Expected purchases in the next `t` time units of a customer by frequency (rows,
    repeat purchases) and recency (columns, age at the last purchase), for a customer
    observed for ``T = max_recency`` — lifetimes' ``plot_frequency_recency_matrix``.

    Parameters
    ----------
    model : a fitted `rfmkit.clv.BetaGeoFitter` or `ModifiedBetaGeoFitter`
    t : float, default 1.0
        The horizon, in the model's time unit.
    max_frequency, max_recency : optional
        The grid's extent (default 20 repeat purchases, 52 time units).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import rfmkit, rfmkit.plot
    >>> model = rfmkit.clv.BetaGeoFitter()
    >>> model.params_ = rfmkit.datasets.cdnow_params("bgnbd")
    >>> ax = rfmkit.plot.frequency_recency_matrix(model, max_frequency=5, max_recency=38)
    >>> ax.images[0].get_array().shape
    (6, 39)
    """
    grid = _model_grid(
        lambda x, r, age: model.conditional_expected_number_of_purchases_up_to_time(t, x, r, age),
        model,
        max_frequency,
        max_recency,
    )
    ax = _axes(ax, (7, 5))
    lang_used = _language(lang)[0]
    return _matrix_plot(
        ax, grid, text("frequency recency title", lang_used, t), text("expected purchases", lang_used), lang
    )


def probability_alive_matrix(
    model: Any, *, max_frequency: int | None = None, max_recency: float | None = None, ax: Any = None, lang: str = "en"
) -> Any:
    """P(alive) of a customer by frequency (rows) and recency (columns), observed for
    ``T = max_recency`` — lifetimes' ``plot_probability_alive_matrix``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import rfmkit, rfmkit.plot
    >>> model = rfmkit.clv.BetaGeoFitter()
    >>> model.params_ = rfmkit.datasets.cdnow_params("bgnbd")
    >>> ax = rfmkit.plot.probability_alive_matrix(model, max_frequency=3, max_recency=10)
    >>> round(float(ax.images[0].get_array()[3, 10]), 3)  # 3 repeat purchases, the last just now
    0.848
    """
    grid = _model_grid(model.conditional_probability_alive, model, max_frequency, max_recency)
    ax = _axes(ax, (7, 5))
    lang_used = _language(lang)[0]
    return _matrix_plot(ax, grid, text("alive title", lang_used), "P(alive)", lang)


def period_transactions(model: Any, summary: Any, *, max_frequency: int = 7, ax: Any = None, lang: str = "en") -> Any:
    """Customers by number of repeat purchases: observed (the summary) against the model's
    expectation for the same customers, ``Σ_i P(N(T_i) = n)`` (the last bar is
    ``max_frequency`` or more) — the check of lifetimes' ``plot_period_transactions``,
    as an exact expectation instead of a simulation.

    Parameters
    ----------
    model : a fitted `rfmkit.clv.BetaGeoFitter`, `ModifiedBetaGeoFitter` or `ParetoNBDFitter`
    summary : table
        The BTYD summary the model was fitted on (``frequency``, ``T``).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd, rfmkit, rfmkit.plot
    >>> model = rfmkit.clv.BetaGeoFitter()
    >>> model.params_ = rfmkit.datasets.cdnow_params("bgnbd")
    >>> summary = pd.DataFrame({"frequency": [0, 0, 1, 3], "recency": [0, 0, 5.0, 20.0], "T": [30.0, 38, 38, 38]})
    >>> ax = rfmkit.plot.period_transactions(model, summary, max_frequency=3)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['0', '1', '2', '3+']
    """
    frame = _frame_of(summary, "summary")
    _require(frame, ["frequency", "T"], "plot.period_transactions")
    observed_x = frame["frequency"].to_numpy(dtype=np.float64)
    ages = frame["T"].to_numpy(dtype=np.float64)
    counts = np.arange(max_frequency + 1)
    observed = np.array([(np.minimum(observed_x, max_frequency) == n).sum() for n in counts], dtype=np.float64)
    # P(N(T) = n) depends on T only: once per distinct age, weighted by its customers.
    distinct, customers = np.unique(ages, return_counts=True)
    expected = np.array(
        [
            float(np.dot(customers, model.probability_of_n_purchases_up_to_time(distinct, np.full(len(distinct), n))))
            for n in counts[:-1]
        ]
    )
    expected = np.append(expected, len(ages) - expected.sum())
    ax = _axes(ax, (7, 4))
    lang, _, font = _language(lang)
    width = 0.4
    ax.bar(counts - width / 2, observed, width, label=text("observed", lang), color="#4c72b0")
    ax.bar(counts + width / 2, expected, width, label=text("model", lang), color="#dd8452")
    ax.set_xticks(counts, [str(n) for n in counts[:-1]] + [f"{max_frequency}+"])
    _words(
        ax,
        font,
        title=text("period title", lang),
        xlabel=text("repeat purchases", lang),
        ylabel=text("customers", lang).lower(),
    )
    ax.legend()
    _use_font(ax, font)
    return ax


def calibration_holdout(model: Any, table: Any, *, max_frequency: int = 7, ax: Any = None, lang: str = "en") -> Any:
    """Average purchases in the holdout against the model's prediction from the
    calibration period, by calibration frequency (the last point: ``max_frequency`` or
    more) — lifetimes' ``plot_calibration_purchases_vs_holdout_purchases``.

    Parameters
    ----------
    model : a fitted BG/NBD or MBG/NBD model, fitted on the calibration columns
    table : the result of `rfmkit.clv.calibration_holdout`

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd, rfmkit, rfmkit.plot
    >>> model = rfmkit.clv.BetaGeoFitter()
    >>> model.params_ = rfmkit.datasets.cdnow_params("bgnbd")
    >>> table = pd.DataFrame({"frequency_cal": [0, 1, 2], "recency_cal": [0, 10.0, 30.0], "T_cal": 39.0,
    ...                       "frequency_holdout": [0, 1, 2], "duration_holdout": 39.0})
    >>> ax = rfmkit.plot.calibration_holdout(model, table, max_frequency=2)
    >>> [line.get_label() for line in ax.get_lines()]
    ['observed', 'model']
    """
    frame = _frame_of(table, "table")
    columns = ["frequency_cal", "recency_cal", "T_cal", "frequency_holdout", "duration_holdout"]
    _require(frame, columns, "plot.calibration_holdout")
    predicted = np.asarray(
        model.conditional_expected_number_of_purchases_up_to_time(
            frame["duration_holdout"], frame["frequency_cal"], frame["recency_cal"], frame["T_cal"]
        ),
        dtype=np.float64,
    )
    group = np.minimum(frame["frequency_cal"].to_numpy(dtype=np.float64), max_frequency)
    data = pd.DataFrame(
        {"group": group, "observed": frame["frequency_holdout"].to_numpy(dtype=np.float64), "model": predicted}
    )
    means = data.groupby("group")[["observed", "model"]].mean()
    ax = _axes(ax, (7, 4))
    lang, _, font = _language(lang)
    ax.plot(means.index, means["observed"], marker="o", label=text("observed", lang))
    ax.plot(means.index, means["model"], marker="s", label=text("model", lang))
    ax.set_xticks(means.index, [str(int(g)) if g < max_frequency else f"{max_frequency}+" for g in means.index])
    _words(
        ax,
        font,
        title=text("calibration title", lang),
        xlabel=text("calibration purchases", lang),
        ylabel=text("holdout purchases", lang),
    )
    ax.legend()
    _use_font(ax, font)
    return ax


def tracking_transactions(
    model: Any,
    data: Any,
    *,
    customer: str,
    date: str,
    amount: str | None = None,
    kind: str = "cumulative",
    calibration_period_end: Any = None,
    freq: str | None = None,
    observation_period_end: Any = None,
    zero: str = "keep",
    returns: str = "drop",
    invalid: str = "drop",
    date_format: str | None = None,
    dayfirst: bool | None = None,
    ax: Any = None,
    lang: str = "en",
) -> Any:
    """Repeat transactions over calendar time, actual against the model's exact
    expectation, cumulative or per period, with the end of the calibration marked —
    lifetimes' ``plot_cumulative_transactions`` and ``plot_incremental_transactions``.

    Draws the table of `rfmkit.clv.tracking_transactions` (same parameters): one line
    of the actual repeat transactions, one of the model's, by period since the first
    purchase in the data.

    Parameters
    ----------
    model : a fitted `rfmkit.clv.BetaGeoFitter` or `ModifiedBetaGeoFitter`
    data : table
        The transactions (pandas, polars or pyarrow), read as `rfmkit.clv.summary` reads them.
    customer, date, amount, freq, observation_period_end, zero, returns, invalid, date_format, dayfirst
        As for `rfmkit.clv.tracking_transactions`.
    kind : {"cumulative", "incremental"}, default "cumulative"
        Repeat transactions up to the end of each period, or in each period.
    calibration_period_end : date-like, optional
        The end of the calibration (as for `rfmkit.clv.calibration_holdout`): a vertical
        line at the period that holds it.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import rfmkit, rfmkit.plot
    >>> orders = rfmkit.datasets.make_transactions(300, seed=1)
    >>> model = rfmkit.clv.BetaGeoFitter()
    >>> model.params_ = rfmkit.datasets.cdnow_params("bgnbd")
    >>> ax = rfmkit.plot.tracking_transactions(model, orders, customer="customer_id", date="ordered_at",
    ...                                        freq="W", calibration_period_end="2024-06-30")
    >>> [line.get_label() for line in ax.get_lines()]
    ['observed', 'model', 'end of the calibration']
    """
    from rfmkit.clv._tracking import tracking_table

    table, calibration = tracking_table(
        model,
        data,
        customer=customer,
        date=date,
        amount=amount,
        kind=kind,
        freq=freq,
        observation_period_end=observation_period_end,
        zero=zero,
        returns=returns,
        invalid=invalid,
        date_format=date_format,
        dayfirst=dayfirst,
        calibration_period_end=calibration_period_end,
    )
    unit = str(table.attrs["rfmkit"]["freq"])[:1]  # W-WED: weeks
    ax = _axes(ax, (8, 4.5))
    lang, _, font = _language(lang)
    ax.plot(table["period"], table["actual"], label=text("observed", lang), color="#4c72b0")
    ax.plot(table["period"], table["predicted"], label=text("model", lang), color="#dd8452", linestyle="--")
    if calibration is not None:
        ax.axvline(calibration, color="grey", linestyle=":", label=text("calibration end", lang))
    since = table["period_start"].iloc[0].date().isoformat() if len(table) else "—"
    _words(
        ax,
        font,
        title=text(f"tracking title {kind}", lang),
        xlabel=text(f"tracking periods {unit}", lang, since),
        ylabel=text(f"tracking axis {kind}", lang),
    )
    ax.legend()
    _use_font(ax, font)
    return ax
