"""Pure numpy/pandas references of the cluster definitions (the oracles of test_cluster.py).

Each function restates one definition of README "Clusters and comparison" as directly
as possible, without rfmkit: the feature transform, the classic8 naming of a centre,
the cluster profile, the crosstab with dominant segment and purity, and the silhouette.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CLASSIC8_EN = {
    "R↑F↑M↑": "Important Value",
    "R↑F↓M↑": "Important Develop",
    "R↓F↑M↑": "Important Retain",
    "R↓F↓M↑": "Important Win-back",
    "R↑F↑M↓": "General Value",
    "R↑F↓M↓": "General Develop",
    "R↓F↑M↓": "General Retain",
    "R↓F↓M↓": "General Win-back",
}
CLASSIC8_ZH = {
    "R↑F↑M↑": "重要价值客户",
    "R↑F↓M↑": "重要发展客户",
    "R↓F↑M↑": "重要保持客户",
    "R↓F↓M↑": "重要挽留客户",
    "R↑F↑M↓": "一般价值客户",
    "R↑F↓M↓": "一般发展客户",
    "R↓F↑M↓": "一般保持客户",
    "R↓F↓M↓": "一般挽留客户",
}


def transformed(table: pd.DataFrame, features=("recency", "frequency", "monetary")) -> np.ndarray:
    """log1p, then standardised with the population std."""
    values = np.log1p(table[list(features)].to_numpy(dtype=float))
    return (values - values.mean(axis=0)) / values.std(axis=0)


def profile(table: pd.DataFrame, labels: np.ndarray, centres: pd.DataFrame) -> pd.DataFrame:
    """The profile of the clusters `labels` of `table` with centres in original units."""
    frame = table[["recency", "frequency", "monetary"]].astype(float).assign(cluster=labels)
    rows = []
    for cluster in range(len(centres)):
        members = frame[frame["cluster"] == cluster]
        centre = centres.loc[cluster]
        # the centres are log1p means mapped back, so the split is too
        split = np.expm1(np.log1p(frame[["recency", "frequency", "monetary"]]).mean())
        pattern = (
            ("R↑" if centre["recency"] < split["recency"] else "R↓")
            + ("F↑" if centre["frequency"] > split["frequency"] else "F↓")
            + ("M↑" if centre["monetary"] > split["monetary"] else "M↓")
        )
        rows.append(
            {
                "cluster": cluster,
                "customers": len(members),
                "customer_share": len(members) / len(frame),
                "revenue": members["monetary"].sum(),
                "revenue_share": members["monetary"].sum() / frame["monetary"].sum(),
                "recency_mean": members["recency"].mean(),
                "frequency_mean": members["frequency"].mean(),
                "monetary_mean": members["monetary"].mean(),
                "recency_median": members["recency"].median(),
                "frequency_median": members["frequency"].median(),
                "monetary_median": members["monetary"].median(),
                "pattern": pattern,
                "name_zh": CLASSIC8_ZH[pattern],
                "name_en": CLASSIC8_EN[pattern],
            }
        )
    out = pd.DataFrame(rows).set_index("cluster")
    # Namesakes get a number by revenue, highest first (ties: lower cluster first).
    for pattern, group in out.groupby("pattern"):
        if len(group) > 1:
            ranked = group.reset_index().sort_values(["revenue", "cluster"], ascending=[False, True])["cluster"]
            for rank, cluster in enumerate(ranked, start=1):
                out.loc[cluster, "name_zh"] += f" ({rank})"
                out.loc[cluster, "name_en"] += f" ({rank})"
    return out


def crosstab(segments, clusters) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts per segment × cluster, and per cluster its dominant segment and purity."""
    counts = pd.crosstab(pd.Series(list(segments), name="segment"), pd.Series(list(clusters), name="cluster"))
    dominant = counts.idxmax(axis=0)
    purity = counts.max(axis=0) / counts.sum(axis=0)
    return counts, pd.DataFrame({"dominant_segment": dominant, "purity": purity})


def silhouette(points: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette with exact Euclidean distances."""
    distances = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(axis=2))
    values = []
    for i, own in enumerate(labels):
        same = labels == own
        if same.sum() == 1:
            values.append(0.0)
            continue
        a = distances[i, same].sum() / (same.sum() - 1)
        b = min(distances[i, labels == other].mean() for other in np.unique(labels) if other != own)
        values.append((b - a) / max(a, b) if max(a, b) > 0 else 0.0)
    return float(np.mean(values))
