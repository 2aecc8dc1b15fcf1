"""Plots of rfmkit's tables (matplotlib, an optional extra: ``pip install 'rfmkit[plot]'``).

Every function takes the table rfmkit gives (or the object holding it), draws on `ax`
(a new figure when ``ax is None``) and returns the axes, in the manner of
``lifetimes.plotting``. matplotlib is imported only when a function is called.

Chinese labels (``lang="zh"``) need a font with CJK glyphs. When matplotlib finds one
(Noto Sans CJK, WenQuanYi, SimHei, Microsoft YaHei, PingFang, ...), it is used; when
none is installed, the labels fall back to their English names and a
`PlotFontWarning` says so (on Debian/Ubuntu: ``apt install fonts-noto-cjk``).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from rfmkit._io import frames
from rfmkit.exceptions import InvalidParameterError

__all__ = [
    "PlotFontWarning",
    "choose_k",
    "cluster_centers",
    "clv_distribution",
    "crosstab",
    "migration",
    "rf_heatmap",
    "segments",
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
    """The family name of an installed font that draws Chinese, or None."""
    _pyplot()
    from matplotlib import font_manager, ft2font

    preferred = ("Noto Sans CJK", "Source Han Sans", "WenQuanYi", "SimHei", "Microsoft YaHei", "PingFang", "Heiti")
    candidates = sorted(
        font_manager.fontManager.ttflist,
        key=lambda f: next((i for i, name in enumerate(preferred) if name in f.name), len(preferred)),
    )
    probe = ord("客")
    for entry in candidates:
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


def _cjk_labels(labels: Sequence[Any]) -> tuple[Any, str | None]:
    """How to draw `labels`: a function turning each label into a drawable one and the
    font to draw them with (None: the default font). Chinese labels are kept when a
    CJK font exists, and drawn with their English names (with a warning) when none does."""
    if not any(_has_cjk(str(label)) for label in labels):
        return str, None
    font = cjk_font()
    if font is None:
        warnings.warn(
            "no font with Chinese glyphs is installed, so the labels are drawn in English; "
            "install one (e.g. apt install fonts-noto-cjk) to see the Chinese labels",
            PlotFontWarning,
            stacklevel=3,
        )
        return (lambda label: _english(str(label))), None
    return str, font


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


def _heatmap(ax: Any, frame: pd.DataFrame, *, fmt: str, cmap: str, label: Any, colorbar: str) -> Any:
    values = frame.to_numpy(dtype=np.float64)
    image = ax.imshow(values, cmap=cmap, aspect="auto")
    ax.set_xticks(range(frame.shape[1]), [label(c) for c in frame.columns], rotation=45, ha="right")
    ax.set_yticks(range(frame.shape[0]), [label(r) for r in frame.index])
    for (i, j), value in np.ndenumerate(values):
        if np.isfinite(value):
            red, green, blue, _ = image.cmap(image.norm(value))
            dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
            ax.text(j, i, format(value, fmt), ha="center", va="center", fontsize=8, color="white" if dark else "black")
    ax.figure.colorbar(image, ax=ax, label=colorbar)
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


def segments(summary: Any, *, ax: Any = None, by: str = "segment") -> Any:
    """Share of customers and share of revenue per segment, side by side.

    Parameters
    ----------
    summary : pandas.DataFrame
        The table of `rfmkit.segment_summary` (columns ``customer_share`` and
        ``revenue_share``, one row per segment).
    ax : matplotlib Axes, optional

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
    label, font = _cjk_labels(list(frame.index))
    ax.barh(positions - height / 2, frame["customer_share"] * 100, height, label="customers %", color="#4c72b0")
    ax.barh(positions + height / 2, frame["revenue_share"] * 100, height, label="revenue %", color="#dd8452")
    ax.set_yticks(positions, [label(i) for i in frame.index])
    ax.invert_yaxis()
    ax.set_xlabel("share (%)")
    ax.set_title("Segments: share of customers and of revenue")
    ax.legend(loc="lower right")
    _use_font(ax, font)
    return ax


def rf_heatmap(table: Any, *, ax: Any = None, value: str = "monetary", agg: str = "mean") -> Any:
    """Heat map of a value (default: mean monetary) over recency score × frequency score.

    Parameters
    ----------
    table : pandas.DataFrame, polars.DataFrame or pyarrow.Table
        A scored RFM table (columns ``r_score``, ``f_score`` and `value`), e.g. from
        `rfmkit.score`.
    value : str
        The column to aggregate per cell.
    agg : {"mean", "median", "sum", "count"}

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
    _heatmap(ax, grid, fmt=",.0f", cmap="viridis", label=str, colorbar=f"{agg} {value}")
    ax.set_xticks(range(grid.shape[1]), [str(c) for c in grid.columns], rotation=0, ha="center")
    ax.set_xlabel("frequency score")
    ax.set_ylabel("recency score")
    ax.set_title(f"{agg.capitalize()} {value} by recency × frequency score")
    return ax


def cluster_centers(centers: Any, *, ax: Any = None) -> Any:
    """Cluster centres as parallel coordinates: each feature standardised across the
    centres (z-score), one line per cluster, with the centre values in the legend.

    Parameters
    ----------
    centers : pandas.DataFrame or a fitted `rfmkit.KMeans`
        One row per cluster, one column per feature (``KMeans.cluster_centers_``).

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
    label, font = _cjk_labels(frame.index)
    for name, row in scaled.iterrows():
        raw = ", ".join(f"{c}={v:,.3g}" for c, v in frame.loc[name].items())
        ax.plot(positions, row.to_numpy(), marker="o", label=f"{label(name)}: {raw}")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncols=1, frameon=False)
    _use_font(ax, font)
    ax.set_xticks(positions, [str(c) for c in frame.columns])
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_ylabel("centre (z-score across clusters)")
    ax.set_title("Cluster centres")
    return ax


def choose_k(curves: Any, *, ax: Any = None) -> Any:
    """The choose-k curves: inertia (elbow, left axis) and silhouette (right axis) per k,
    with the suggested k marked.

    Parameters
    ----------
    curves : pandas.DataFrame
        The table of `rfmkit.choose_k` (index or column ``k``; columns ``inertia`` and
        ``silhouette``; ``attrs["rfmkit"]["suggested_k"]`` when present).

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
    ks = frame.index.to_numpy()
    ax.plot(ks, frame["inertia"], marker="o", color="#4c72b0", label="inertia")
    ax.set_xlabel("k (number of clusters)")
    ax.set_ylabel("inertia (transformed space)", color="#4c72b0")
    if "silhouette" in frame.columns:
        twin = ax.twinx()
        twin.plot(ks, frame["silhouette"], marker="s", color="#dd8452", label="silhouette")
        twin.set_ylabel("silhouette", color="#dd8452")
    suggested = frame.attrs.get("rfmkit", {}).get("suggested_k")
    if suggested is not None:
        ax.axvline(suggested, color="grey", linestyle="--", linewidth=1, label=f"suggested k = {suggested}")
        ax.legend(loc="upper right", fontsize=8)
    ax.set_xticks(ks)
    ax.set_title("Choosing k")
    return ax


def clv_distribution(values: Any, *, ax: Any = None, bins: int = 50, column: str = "clv") -> Any:
    """Histogram of customer lifetime values, with the mean and median marked.

    Parameters
    ----------
    values : array-like, pandas.Series or a table with a `column` column
    bins : int

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np, rfmkit.plot
    >>> ax = rfmkit.plot.clv_distribution(np.array([10.0, 20.0, 35.0, 400.0]))
    >>> ax.get_xlabel()
    'customer lifetime value\\n(1 above 389, the 99th percentile, not shown)'
    """
    if frames.is_table(values) or hasattr(values, "customers"):
        frame = _frame_of(values, "customers")
        _require(frame, [column], "plot.clv_distribution")
        values = frame[column]
    data = np.asarray(values, dtype=np.float64)
    data = data[np.isfinite(data)]
    ax = _axes(ax, (6, 4))
    xlabel = "customer lifetime value"
    if data.size:
        # CLV is heavily skewed: the axis stops at the 99th percentile, and says so.
        cut = float(np.quantile(data, 0.99))
        shown = data[data <= cut]
        ax.hist(shown, bins=bins, color="#4c72b0", alpha=0.85)
        ax.axvline(np.mean(data), color="#c44e52", linestyle="--", label=f"mean {np.mean(data):,.2f}")
        ax.axvline(np.median(data), color="#55a868", linestyle=":", label=f"median {np.median(data):,.2f}")
        ax.legend()
        above = data.size - shown.size
        if above:
            xlabel += f"\n({above:,} above {cut:,.0f}, the 99th percentile, not shown)"
    ax.set_xlabel(xlabel)
    ax.set_ylabel("customers")
    ax.set_title("CLV distribution")
    return ax


def crosstab(comparison: Any, *, ax: Any = None, normalize: str = "columns") -> Any:
    """Heat map of the segment × cluster crosstab.

    Parameters
    ----------
    comparison : rfmkit.Comparison or pandas.DataFrame
        The result of `rfmkit.compare` (its ``crosstab``: segments as rows, clusters as
        columns) or the count table itself.
    normalize : {"columns", "index", "none"}
        Shares within each cluster (default: the composition of a cluster), within
        each segment, or raw counts.

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
    label, font = _cjk_labels(frame.index)
    _heatmap(ax, frame, fmt=fmt, cmap="Blues", label=label, colorbar=bar)
    _use_font(ax, font)
    ax.set_xticks(range(frame.shape[1]), [str(c) for c in frame.columns], rotation=0, ha="center")
    ax.set_xlabel("cluster")
    ax.set_ylabel("segment")
    ax.set_title("Segments × clusters")
    return ax


def migration(matrix: Any, *, ax: Any = None) -> Any:
    """Heat map of a segment migration: rows are the segments at the earlier date,
    columns at the later one, cells the share of the row's customers.

    Parameters
    ----------
    matrix : pandas.DataFrame
        The row-share matrix of `rfmkit.migration` (or its counts: rows are normalised
        here).

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
    label, font = _cjk_labels([*frame.index, *frame.columns])
    _heatmap(ax, frame, fmt=".0%", cmap="Purples", label=label, colorbar="share of the earlier segment")
    _use_font(ax, font)
    ax.set_xlabel("segment at the later date")
    ax.set_ylabel("segment at the earlier date")
    ax.set_title("Segment migration")
    return ax
