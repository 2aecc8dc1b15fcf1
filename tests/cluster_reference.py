"""Pure numpy/pandas references of the cluster definitions (the oracles of test_cluster.py).

Each function restates one definition of README "Clusters and comparison" as directly
as possible, without rfmkit: the feature transform (signed log1p, standardised), the
canonical row order, the cluster profile with the names after the dominant segment, the
crosstab with dominant segment and purity, and the silhouette.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RFM = ["recency", "frequency", "monetary"]

# The words that rank namesake clusters, best first (README "Clusters and comparison").
WORDS = {
    ("recency", "en"): ["most recent", "more recent", "middle recency", "less recent", "least recent"],
    ("frequency", "en"): ["most frequent", "more frequent", "middle frequency", "less frequent", "least frequent"],
    ("monetary", "en"): ["highest spend", "higher spend", "middle spend", "lower spend", "lowest spend"],
    ("recency", "zh"): ["最近购买", "较近购买", "近度居中", "较久未购", "最久未购"],
    ("frequency", "zh"): ["购买最频繁", "频次较高", "频次居中", "频次较低", "购买最少"],
    ("monetary", "zh"): ["消费最高", "消费较高", "消费居中", "消费较低", "消费最低"],
}
LEVELS = {2: [1, 3], 3: [0, 2, 4], 4: [0, 1, 3, 4], 5: [0, 1, 2, 3, 4]}


def signed_log1p(values):
    return np.sign(values) * np.log1p(np.abs(values))


def transformed(table: pd.DataFrame, features=("recency", "frequency", "monetary")) -> np.ndarray:
    """The signed log1p, then standardised with the population std."""
    values = signed_log1p(table[list(features)].to_numpy(dtype=float))
    return (values - values.mean(axis=0)) / values.std(axis=0)


def canonical_rows(points: np.ndarray) -> np.ndarray:
    """The rows sorted lexicographically (first column first)."""
    return points[np.lexsort(points.T[::-1])]


def profile(table: pd.DataFrame, labels, centres: np.ndarray, segments, zh: dict) -> pd.DataFrame:
    """The profile of the clusters `labels` of `table`, named after `segments` (English
    labels per customer, an ordered Categorical; `zh` maps them to Chinese), with
    `centres` the k x 3 R, F, M centres in the standardised transformed space.
    Only for namesakes that differ on their widest feature."""
    frame = table[RFM].astype(float).assign(cluster=np.asarray(labels), segment=np.asarray(segments))
    order = list(segments.categories)
    rows = []
    for cluster in range(len(centres)):
        members = frame[frame["cluster"] == cluster]
        counts = members["segment"].value_counts().reindex(order, fill_value=0)
        dominant = counts.idxmax()  # the first in segment order on a tie
        rows.append(
            {
                "cluster": cluster,
                "customers": len(members),
                "customer_share": len(members) / len(frame),
                "revenue": members["monetary"].sum(),
                "revenue_share": members["monetary"].sum() / frame["monetary"].sum(),
                **{f"{name}_mean": members[name].mean() for name in RFM},
                **{f"{name}_median": members[name].median() for name in RFM},
                **{f"{name}_vs_all": members[name].mean() / frame[name].mean() for name in RFM},
                "segment_en": dominant,
                "segment_zh": zh[dominant],
                "segment_share": counts.max() / len(members),
                # fewer than half hold the dominant segment: "(mixed)"
                "name_en": dominant if counts.max() >= len(members) / 2 else f"{dominant} (mixed)",
                "name_zh": zh[dominant] if counts.max() >= len(members) / 2 else f"{zh[dominant]}(混合)",
            }
        )
    out = pd.DataFrame(rows).set_index("cluster")
    for _, group in out.groupby("name_en"):
        if len(group) < 2:
            continue
        members = list(group.index)
        spread = centres[members].max(axis=0) - centres[members].min(axis=0)
        j = int(np.argmax(spread))  # the first of R, F, M on a tie
        values = centres[members, j]
        assert len(set(values)) == len(values), "the reference covers distinct centres only"
        best_first = np.argsort(values if RFM[j] == "recency" else -values)
        for rank, position in enumerate(best_first):
            cluster = members[position]
            m = len(members)
            for lang in ("en", "zh"):
                word = WORDS[(RFM[j], lang)][LEVELS[m][rank]]
                out.loc[cluster, f"name_{lang}"] += f" · {word}"
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
