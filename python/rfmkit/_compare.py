"""`rfmkit.compare`: how data-driven clusters relate to rule-based segments."""

from __future__ import annotations

import html
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rfmkit import _core
from rfmkit._io import frames
from rfmkit.exceptions import DataQualityWarning, DtypeError, InvalidDataError

SCORES = ("adjusted_rand", "normalized_mutual_info", "homogeneity", "completeness", "v_measure")


@dataclass(repr=False)
class Comparison:
    """Segments (the reference labelling) against clusters (the prediction).

    Attributes
    ----------
    crosstab : DataFrame
        Customers per segment (rows) and cluster (columns).
    row_shares : DataFrame
        Each segment's split over the clusters (rows sum to 1).
    column_shares : DataFrame
        Each cluster's composition by segment (columns sum to 1).
    clusters : DataFrame
        Per cluster: ``customers``, ``dominant_segment`` (its most common segment; the
        first in segment order on a tie) and ``purity`` (that segment's share of it).
    adjusted_rand, normalized_mutual_info, homogeneity, completeness, v_measure : float
        As scikit-learn's ``adjusted_rand_score``, ``normalized_mutual_info_score``
        (arithmetic mean normalisation), ``homogeneity_score``, ``completeness_score``
        and ``v_measure_score`` with ``labels_true=segments``, ``labels_pred=clusters``.
    n : int
        Customers compared.
    dropped : dict
        Customers left out, by reason (``missing_segment``, ``missing_cluster``).
    explained : DataFrame or None
        With `holdout`: the share of the variance of each holdout column (e.g. the
        purchases and the spend in the period after the labels were made) that each
        grouping explains (rows ``segments`` and ``clusters``), adjusted for the number
        of groups (`explained_share`: the adjusted R² of a regression on the group, so
        that 11 segments and 3 clusters compare fairly; about 0 when the grouping says
        nothing about what customers did next, 1 when it tells it exactly). NaN for a
        column that does not vary.
    holdout : dict
        What the holdout was (``analyze`` records its period: ``start``, ``end``, ``days``).
    stability : dict
        How reproducible the clusters are (``analyze``: ``seeds``, and the adjusted Rand
        index of the clusters against refits with other seeds: ``ari_mean``,
        ``ari_min``).
    """

    crosstab: Any
    row_shares: Any
    column_shares: Any
    clusters: Any
    adjusted_rand: float
    normalized_mutual_info: float
    homogeneity: float
    completeness: float
    v_measure: float
    n: int
    dropped: dict[str, Any] = field(default_factory=dict)
    explained: Any = None
    holdout: dict[str, Any] = field(default_factory=dict)
    stability: dict[str, Any] = field(default_factory=dict)

    def scores(self) -> dict[str, float]:
        """The five agreement scores as a dict.

        Examples
        --------
        >>> import numpy as np, rfmkit
        >>> sorted(rfmkit.compare(["a", "a", "b"], [0, 0, 1]).scores().values())
        [1.0, 1.0, 1.0, 1.0, 1.0]
        """
        return {name: getattr(self, name) for name in SCORES}

    def __repr__(self) -> str:
        scores = ", ".join(f"{name}={value:.4f}" for name, value in self.scores().items())
        crosstab = frames.indexed_pandas(self.crosstab)
        return f"Comparison(n={self.n}, segments={crosstab.shape[0]}, clusters={crosstab.shape[1]}, {scores})"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th>{html.escape(name)}</th><td>{value:.4f}</td></tr>" for name, value in self.scores().items()
        )
        crosstab = frames.indexed_pandas(self.crosstab)
        clusters = frames.indexed_pandas(self.clusters)
        dropped = sum(self.dropped.values())
        note = f"<p>{dropped} customer(s) left out: {html.escape(str(self.dropped))}</p>" if dropped else ""
        return (
            f"<div><h4>Segments vs clusters ({self.n} customers)</h4>{note}"
            f"<table><tbody>{rows}</tbody></table>"
            f"<h5>Customers per segment (rows) and cluster (columns)</h5>{crosstab.to_html()}"
            f"<h5>Clusters</h5>{clusters.to_html()}</div>"
        )


def _as_labels(values: Any, role: str) -> tuple[Any, str]:
    """A pandas Series of labels, and the kind of table results go back in."""
    if isinstance(values, pd.Series):
        return values, "pandas"
    if frames.is_series(values):
        return frames.series_as_pandas(values), frames.kind_of(values)
    if frames.is_table(values):
        raise DtypeError(
            f"{role} must be one column of labels (a Series or an array), got a DataFrame; pick its column, e.g. df['segment']"
        )
    array = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
    if array.ndim != 1:
        raise DtypeError(f"{role} must be 1-D (one label per customer), got an array of shape {array.shape}")
    return pd.Series(values if isinstance(values, np.ndarray) else list(values)), "pandas"


def _codes(labels: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Dense codes in label order (categories in their order; otherwise sorted when the
    labels sort, else in order of appearance)."""
    try:
        codes, uniques = pd.factorize(labels, sort=True)
    except TypeError:
        codes, uniques = pd.factorize(labels, sort=False)
    return np.ascontiguousarray(codes, dtype=np.int64), pd.Index(uniques)


def compare(segments: Any, clusters: Any, *, holdout: Any = None) -> Comparison:
    """Compares rule-based segments (the reference) with clusters (the prediction).

    Parameters
    ----------
    segments, clusters : Series (pandas or polars), pyarrow array, numpy array or list
        One label per customer, of any type. When both are pandas Series they are
        aligned on their index (the same customers, in any order); otherwise by position.
        Customers with a null label are left out and counted (``Comparison.dropped``,
        with a `DataQualityWarning`).
    holdout : pandas.DataFrame, optional
        What the customers did next, one numeric column per measure (e.g. ``purchases``
        and ``spend`` in the period after the labels were made): indexed by customer
        when the labels are pandas Series (a customer it leaves out did nothing: 0),
        else one row per label. Adds ``explained``: which grouping tells more about it.

    Returns
    -------
    Comparison
        The crosstab (counts, row and column shares), each cluster's dominant segment
        and purity, and the adjusted Rand index, NMI, homogeneity, completeness and
        V-measure (equal to scikit-learn's). Tables are polars when an input is polars, pyarrow when one is a pyarrow array (the labels as the first column).

    Raises
    ------
    InvalidDataError
        Lengths differ, the Series hold different customers or repeat one, or no
        customer is left.

    Examples
    --------
    >>> import rfmkit
    >>> segments = ["loyal", "loyal", "loyal", "new", "new", "lost"]
    >>> clusters = [0, 0, 1, 1, 1, 2]
    >>> result = rfmkit.compare(segments, clusters)
    >>> result.crosstab
    cluster  0  1  2
    segment
    lost     0  0  1
    loyal    2  1  0
    new      0  2  0
    >>> round(result.adjusted_rand, 4), round(result.homogeneity, 4)
    (0.3182, 0.6853)
    >>> result.clusters
             customers dominant_segment    purity
    cluster
    0                2            loyal  1.000000
    1                3              new  0.666667
    2                1             lost  1.000000
    """
    true, true_kind = _as_labels(segments, "segments")
    pred, pred_kind = _as_labels(clusters, "clusters")
    if isinstance(segments, pd.Series) and isinstance(clusters, pd.Series):
        true, pred = _align(true, pred)
    elif len(true) != len(pred):
        raise InvalidDataError(
            f"segments has {len(true)} labels and clusters {len(pred)}; pass one label of each per customer"
        )
    else:
        true = true.reset_index(drop=True)
        pred = pred.reset_index(drop=True)
    missing_true = true.isna().to_numpy()
    missing_pred = pred.isna().to_numpy() & ~missing_true
    dropped = {}
    if missing_true.any():
        dropped["missing_segment"] = int(missing_true.sum())
    if missing_pred.any():
        dropped["missing_cluster"] = int(missing_pred.sum())
    keep = ~(missing_true | missing_pred)
    if dropped:
        warnings.warn(
            f"rfmkit.compare left out {sum(dropped.values())} of {len(keep)} customers with a null label "
            f"({', '.join(f'{c} {r}' for r, c in dropped.items())}); the counts are in result.dropped",
            DataQualityWarning,
            stacklevel=2,
        )
        true, pred = true[keep], pred[keep]
    if len(true) == 0:
        raise InvalidDataError("there are no customers to compare: the labels are empty (or all null)")
    true_codes, true_names = _codes(true)
    pred_codes, pred_names = _codes(pred)
    by_index = isinstance(segments, pd.Series) and isinstance(clusters, pd.Series)
    explained = None
    if holdout is not None:
        explained = _explained(holdout, true.index, by_index, len(keep), true_codes, pred_codes)
    result = _core.compare_labels(true_codes, pred_codes)
    counts = pd.DataFrame(
        result["crosstab"],
        index=pd.Index(true_names, name="segment"),
        columns=pd.Index(pred_names, name="cluster"),
    )
    row_shares = counts.div(counts.sum(axis=1), axis=0)
    column_shares = counts.div(counts.sum(axis=0), axis=1)
    dominant = counts.to_numpy().argmax(axis=0)
    sizes = counts.sum(axis=0)
    per_cluster = pd.DataFrame(
        {
            "customers": sizes.to_numpy(dtype=np.int64),
            "dominant_segment": true_names.take(dominant),
            "purity": counts.to_numpy().max(axis=0) / sizes.to_numpy(),
        },
        index=pd.Index(pred_names, name="cluster"),
    )
    tables = [counts, row_shares, column_shares, per_cluster]
    kind = next((k for k in (true_kind, pred_kind) if k != "pandas"), "pandas")
    tables = [frames.from_pandas(table, kind) for table in tables]
    crosstab, row_shares, column_shares, per_cluster = tables
    return Comparison(
        crosstab=crosstab,
        row_shares=row_shares,
        column_shares=column_shares,
        clusters=per_cluster,
        adjusted_rand=float(result["adjusted_rand"]),
        normalized_mutual_info=float(result["normalized_mutual_info"]),
        homogeneity=float(result["homogeneity"]),
        completeness=float(result["completeness"]),
        v_measure=float(result["v_measure"]),
        n=len(true),
        dropped=dropped,
        explained=explained,
    )


def _explained(
    holdout: Any, customers: pd.Index, by_index: bool, n: int, segments: np.ndarray, clusters: np.ndarray
) -> pd.DataFrame:
    """The share of the variance of each holdout column explained by each grouping, the
    holdout lined up with the customers compared: by index when the labels were Series
    (a customer it leaves out did nothing: 0), else by position (one row per label)."""
    if not isinstance(holdout, pd.DataFrame):
        kind = type(holdout).__module__.split(".")[0]
        raise DtypeError(
            f"holdout must be a pandas DataFrame of what customers did next (e.g. purchases, spend), got a "
            f"{kind} {type(holdout).__name__}; convert it with .to_pandas() (indexed by customer for Series labels)"
        )
    columns = {}
    for column in holdout.columns:
        try:
            values = holdout[column].to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            raise DtypeError(f"holdout column {column!r} is not numeric") from None
        if not np.isfinite(values).all():
            raise InvalidDataError(f"holdout column {column!r} has a value that is not a finite number")
        columns[column] = values
    if by_index:
        if not holdout.index.is_unique:
            repeated = holdout.index[holdout.index.duplicated()].tolist()[0]
            raise InvalidDataError(f"holdout has customer {repeated!r} more than once in its index")
        if len(customers) and not holdout.index.isin(customers).any():
            raise InvalidDataError(
                f"holdout shares no customer with the labels (its index holds e.g. {holdout.index[0]!r}, the labels' "
                f"{customers[0]!r}): index the holdout by the labels' customers (a customer it leaves out did nothing)"
                if len(holdout)
                else "holdout is empty: it holds what the customers did next, one row per customer"
            )
        table = pd.DataFrame(columns, index=holdout.index).reindex(customers).fillna(0.0)
    else:
        if len(holdout) != n:
            raise InvalidDataError(
                f"holdout has {len(holdout)} rows for {n} labels: with labels that are not pandas Series it is "
                f"lined up by position, one row per label (or pass the labels as Series indexed by customer)"
            )
        table = pd.DataFrame(columns).take(np.asarray(customers, dtype=np.int64))
    out = {
        column: [
            explained_share(segments, table[column].to_numpy()),
            explained_share(clusters, table[column].to_numpy()),
        ]
        for column in table.columns
    }
    return pd.DataFrame(out, index=pd.Index(["segments", "clusters"], name="grouping"))


def explained_share(groups: np.ndarray, values: np.ndarray) -> float:
    """The share of the variance of `values` that the grouping `groups` (codes) explains,
    adjusted for the number of groups (epsilon squared, the adjusted R² of a least-squares
    fit on the group): ``1 − (SSW / (n − k)) / (SST / (n − 1))`` with ``k`` the groups that
    hold a value. Unadjusted, the share grows with the number of groups even for random
    labels (by about ``(k − 1) / (n − 1)``); adjusted, random labels give about 0 (and it
    can be slightly negative). NaN when the values do not vary or ``n <= k``.

    Examples
    --------
    >>> import numpy as np
    >>> from rfmkit._compare import explained_share
    >>> explained_share(np.array([0, 0, 1, 1]), np.array([1.0, 1.0, 3.0, 3.0]))
    1.0
    >>> round(explained_share(np.array([0, 1, 0, 1]), np.array([1.0, 1.0, 3.0, 3.0])), 3)
    -0.5
    """
    n = len(values)
    counts = np.bincount(groups)
    k = int((counts > 0).sum())
    if n <= k or values.min() == values.max():
        return float("nan")
    means = np.bincount(groups, weights=values) / np.where(counts > 0, counts, 1)
    within = float(((values - means[groups]) ** 2).sum())
    total = float(((values - values.mean()) ** 2).sum())
    if total == 0.0:  # values that differ below the smallest double's square
        return float("nan")
    return 1.0 - (within / (n - k)) / (total / (n - 1))


def _align(true: pd.Series, pred: pd.Series) -> tuple[pd.Series, pd.Series]:
    for role, series in (("segments", true), ("clusters", pred)):
        if not series.index.is_unique:
            repeated = series.index[series.index.duplicated()][0]
            raise InvalidDataError(
                f"{role} has customer {repeated!r} more than once in its index; pass one label per customer"
            )
    if true.index.equals(pred.index):
        return true, pred
    only_true = true.index.difference(pred.index)
    only_pred = pred.index.difference(true.index)
    if len(only_true) or len(only_pred):
        detail = []
        if len(only_true):
            detail.append(f"{len(only_true)} only in segments (e.g. {only_true[0]!r})")
        if len(only_pred):
            detail.append(f"{len(only_pred)} only in clusters (e.g. {only_pred[0]!r})")
        raise InvalidDataError(
            f"segments and clusters are Series over different customers: {'; '.join(detail)}. "
            f"Pass labels for the same customers (e.g. clusters.reindex(segments.index)), "
            f"or arrays to compare by position"
        )
    return true, pred.reindex(true.index)
