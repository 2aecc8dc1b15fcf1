"""`rfmkit.score`: R, F and M scores, the rfm code and the weighted score.

Also the small table helpers the scores, segments and reports share: numeric columns
as float64 arrays, a copy of the table with new columns (pandas, polars or pyarrow), and
ordered categorical columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from rfmkit import _core
from rfmkit._io import frames
from rfmkit.exceptions import InvalidParameterError

METRICS = ("recency", "frequency", "monetary")
SCORE_COLUMNS = ("r_score", "f_score", "m_score")
#: The scoring rules of `score`: balanced quantiles (the default), the older mid-rank
#: quantiles, and user thresholds.
METHODS = ("quantile", "midrank", "thresholds")
LANGS = ("en", "zh")


# --------------------------------------------------------------------------- table helpers


def check_lang(lang: Any) -> str:
    if lang not in LANGS:
        raise InvalidParameterError(f"lang={lang!r} is not one of 'en' (English labels), 'zh' (Chinese labels)")
    return lang


def check_method(method: Any, thresholds: Any) -> None:
    """`method` is one of `METHODS`, and `thresholds` are given with ``"thresholds"`` only."""
    if method not in METHODS:
        raise InvalidParameterError(
            f"method={method!r} is not one of 'quantile' (balanced quantiles, the default), "
            f"'midrank' (the older mid-rank rule), 'thresholds' (your edges)"
        )
    if method == "thresholds" and thresholds is None:
        raise InvalidParameterError(
            "method='thresholds' needs thresholds=, e.g. "
            "{'recency': [30, 60, 90, 180], 'frequency': [1, 2, 4, 8], 'monetary': [50, 100, 250, 1000]}"
        )
    if method != "thresholds" and thresholds is not None:
        raise InvalidParameterError(f"thresholds= is given but method={method!r}; pass method='thresholds' to use them")


def check_bins(bins: Any) -> int:
    if isinstance(bins, (bool, np.bool_)) or not isinstance(bins, (int, np.integer)) or not 2 <= bins <= 9:
        raise InvalidParameterError(
            f"bins={bins!r} is out of range: pass a whole number from 2 to 9 (5 is the usual choice)"
        )
    return int(bins)


def number(value: Any, what: str) -> float:
    """`value` as a float, or `InvalidParameterError` naming `what`."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidParameterError(f"{what} must be a number, got {value!r}")
    return float(value)


def check_keys(mapping: Mapping[str, Any], names: Sequence[str], what: str) -> None:
    """`InvalidParameterError` unless `mapping` has exactly the keys `names`."""
    unknown = [key for key in mapping if key not in names]
    missing = [name for name in names if name not in mapping]
    if unknown or missing:
        raise InvalidParameterError(
            f"{what} needs exactly the keys {list(names)}"
            + (f"; unknown: {unknown}" if unknown else "")
            + (f"; missing: {missing}" if missing else "")
        )


# --------------------------------------------------------------------------- score


def _thresholds(thresholds: Any) -> tuple[list[float], list[float], list[float]]:
    if not isinstance(thresholds, Mapping):
        raise InvalidParameterError(
            "thresholds must be a mapping of edges per metric, e.g. "
            "{'recency': [30, 60, 90, 180], 'frequency': [1, 2, 4, 8], 'monetary': [50, 100, 250, 1000]}"
        )
    check_keys(thresholds, METRICS, "thresholds")
    edges = []
    for key in METRICS:
        value = thresholds[key]
        if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
            raise InvalidParameterError(f"thresholds[{key!r}] must be a list of numbers, got {value!r}")
        edges.append([number(edge, f"thresholds[{key!r}] entries") for edge in value])
    return edges[0], edges[1], edges[2]


def _weights(weights: Any) -> tuple[float, float, float]:
    if isinstance(weights, (str, bytes)) or not isinstance(weights, (Sequence, np.ndarray)) or len(weights) != 3:
        raise InvalidParameterError(f"weights must be three numbers (recency, frequency, monetary), got {weights!r}")
    values = tuple(number(w, "weights") for w in weights)
    return values[0], values[1], values[2]


def code_labels(bins: int) -> list[str]:
    """All ``bins**3`` rfm codes ("111" ... "555") in the order of the core's code index."""
    digits = [str(d) for d in range(1, bins + 1)]
    return [r + f + m for r in digits for f in digits for m in digits]


def score(
    table: Any,
    *,
    bins: int = 5,
    method: str = "quantile",
    thresholds: Mapping[str, Sequence[float]] | None = None,
    weights: Sequence[float] = (1, 1, 1),
) -> Any:
    """R, F and M scores of an RFM table, its rfm code and weighted score.

    Parameters
    ----------
    table : pandas.DataFrame, polars.DataFrame or pyarrow.Table
        A table with numeric ``recency``, ``frequency`` and ``monetary`` columns, such
        as `rfmkit.rfm`'s result. Never modified.
    bins : int, default 5
        Number of scores per metric, 2 to 9 (each score is one digit of the code).
    method : {"quantile", "midrank", "thresholds"}
        ``"quantile"`` (the default): balanced, tie-aware quantile scores. The sorted
        distinct values of a metric are cut into `bins` contiguous groups scored
        ``1..bins`` (recency reversed, so a short recency scores high): equal values
        share a score, and whenever there are at least `bins` distinct values every
        score is used. Among such cuts the one whose group sizes are closest to
        ``n / bins`` (least ``Σ (size − n/bins)²``, found exactly) wins; equally good cuts
        go to the one closest to the exact quantile positions. Untied data get exact
        quantiles; a tie bigger than ``n / bins`` (half the customers bought once) is one
        group, and the other values share the remaining scores evenly. With fewer
        distinct values than `bins`, each value gets its mid-rank score (below), moved
        just enough to keep the scores distinct; the unused scores are recorded in
        ``attrs["rfmkit"]["score"]["levels"]``. ``"midrank"``: the older mid-rank rule:
        with ``n`` customers, ties given their average rank, a value's percentile is
        ``p = (avg_rank - 0.5) / n`` and its score ``floor(p * bins) + 1`` (a 50 % tie at
        the bottom gets score 2, and score 1 is never given). Both are independent of
        the row order. ``"thresholds"``: scores from the edges in `thresholds`.
    thresholds : mapping, optional
        With ``method="thresholds"``: ``bins - 1`` strictly increasing edges for each of
        ``"recency"``, ``"frequency"`` and ``"monetary"``. Intervals are closed on the
        right, ``(-inf, e1], (e1, e2], ..., (e_last, inf)``, scored ``1..bins`` from the
        lowest up for frequency and monetary and ``bins..1`` for recency: recency edges
        ``[30, 60, 90, 180]`` give 5 to recency <= 30, 4 to 31..60, ..., 1 above 180.
    weights : three numbers, default (1, 1, 1)
        Non-negative weights of R, F and M in ``rfm_score``.

    Returns
    -------
    pandas.DataFrame, polars.DataFrame or pyarrow.Table
        A copy of `table` with ``r_score``, ``f_score``, ``m_score`` (int64),
        ``rfm_code`` (e.g. ``"545"``: a categorical over all ``bins**3`` codes; polars:
        Enum) and ``rfm_score = wr * r_score + wf * f_score + wm * m_score`` (int64 when
        the weights are whole numbers, else float64). ``attrs["rfmkit"]["score"]`` records
        bins, method, thresholds, weights and ``levels``: how many distinct scores each of
        R, F, M uses (less than `bins` only when a metric has fewer distinct values).

    Raises
    ------
    ColumnNotFoundError
        ``recency``, ``frequency`` or ``monetary`` is missing.
    InvalidParameterError
        Bad `bins`, `method`, `thresholds` (unsorted, duplicate or missing edges) or
        `weights` (negative, all zero).
    InvalidDataError
        A NaN or infinite value in a scored column.

    Examples
    --------
    >>> import pandas as pd, rfmkit
    >>> table = pd.DataFrame({"recency": [3, 40, 200, 10], "frequency": [5, 1, 1, 2],
    ...                       "monetary": [500.0, 20.0, 35.0, 80.0]})
    >>> rfmkit.score(table, bins=4)[["r_score", "f_score", "m_score", "rfm_code", "rfm_score"]]
       r_score  f_score  m_score rfm_code  rfm_score
    0        4        4        4      444         12
    1        2        2        1      221          5
    2        1        2        2      122          5
    3        3        3        3      333          9
    >>> rfmkit.score(table, bins=4).attrs["rfmkit"]["score"]["levels"]  # 3 distinct frequencies
    {'recency': 4, 'frequency': 3, 'monetary': 4}

    Half of these customers bought once: balanced scores give them 1 and use every
    score; the mid-rank rule gives them 2 and never 1.

    >>> once = pd.DataFrame({"recency": [5, 9, 30, 60, 90, 120, 200, 365],
    ...                      "frequency": [1, 1, 1, 1, 2, 3, 4, 6],
    ...                      "monetary": [20.0, 35.0, 15.0, 60.0, 80.0, 150.0, 210.0, 400.0]})
    >>> rfmkit.score(once, bins=4)["f_score"].tolist()
    [1, 1, 1, 1, 2, 3, 4, 4]
    >>> rfmkit.score(once, bins=4, method="midrank")["f_score"].tolist()
    [2, 2, 2, 2, 3, 3, 4, 4]
    >>> edges = {"recency": [30, 60, 90, 180], "frequency": [1, 2, 4, 8],
    ...          "monetary": [50, 100, 250, 1000]}
    >>> rfmkit.score(table, method="thresholds", thresholds=edges)["rfm_code"].tolist()
    ['544', '411', '111', '522']
    """
    bins = check_bins(bins)
    check_method(method, thresholds)
    edges = _thresholds(thresholds) if thresholds is not None else None
    weight_values = _weights(weights)
    frame = frames.Frame.of(table)
    values = [frame.numbers(name, name) for name in METRICS]
    result = _core.score(
        values[0],
        values[1],
        values[2],
        bins=bins,
        method="quantile" if method == "thresholds" else method,
        thresholds=edges,
        weights=weight_values,
        names=METRICS,
    )
    total = result["total"]
    if all(float(w).is_integer() for w in weight_values):
        total = total.astype(np.int64)
    columns = {
        "r_score": result["r_score"],
        "f_score": result["f_score"],
        "m_score": result["m_score"],
        "rfm_code": frames.categorical(result["code"], code_labels(bins), frame.frontend, ordered=False),
        "rfm_score": total,
    }
    info = {
        "score": {
            "bins": bins,
            "method": method,
            "thresholds": dict(zip(METRICS, edges)) if edges is not None else None,
            "weights": list(weight_values),
            "levels": {
                metric: int(np.count_nonzero(np.bincount(result[column], minlength=bins + 1)))
                for metric, column in zip(METRICS, SCORE_COLUMNS)
            },
        }
    }
    return frames.with_columns(frame, columns, info)


def scored_bins(frame: frames.Frame, bins: Any, scores: Sequence[np.ndarray] = ()) -> int:
    """`bins` as given, else the one recorded by `score`, else the one the categories of
    the ``rfm_code`` column tell (every code of `bins` scores: 125 for 5), else 5 when
    the `scores` reach 5.

    The categories travel with the column through filters, selections, merges, concats
    and Parquet (pandas categorical, polars Enum, Arrow dictionary), where the record does
    not. A table with neither whose highest score is not 5 may have been scored with other
    bins: guessing 5 would shift every "above the middle" rule, so it is an error that
    asks for `bins=`.
    """
    if bins is not None:
        return check_bins(bins)
    recorded = frames.info_of(frame.data).get("score", {})
    value = recorded.get("bins") if isinstance(recorded, Mapping) else None
    if value is not None:
        return check_bins(value)
    from_codes = _bins_of_codes(frame)
    if from_codes is not None:
        return from_codes
    finite = [values[np.isfinite(values)] for values in scores]
    top = max((float(values.max()) for values in finite if values.size), default=5.0)
    if top != 5.0:
        raise InvalidParameterError(
            f"the table does not tell how many bins it was scored with (rfmkit.score records it, and the "
            f"categories of its rfm_code column tell it; this table has neither) and its highest score is "
            f"{top:g}, not 5: pass bins= "
            f"(the bins given to rfmkit.score, e.g. bins={max(2, min(9, int(top)))})"
        )
    return 5


def _bins_of_codes(frame: frames.Frame) -> int | None:
    """The bins whose every code (``"111"`` .. ``"555"`` for 5) are exactly the categories of
    the table's ``rfm_code`` column, or None (no such column, or not categorical)."""
    if "rfm_code" not in frame.names:
        return None
    categories = frame.column("rfm_code", "rfm_code").categories()
    if not categories:
        return None
    bins = round(len(categories) ** (1 / 3))
    return bins if 2 <= bins <= 9 and list(categories) == code_labels(bins) else None
