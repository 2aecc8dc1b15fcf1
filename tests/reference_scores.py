"""Reference implementations (the test oracle) of the scores and segments.

Written from DESIGN.md ("Scores and segments") and the README's rule tables in plain
pandas, deliberately obvious: every cut of the distinct values (small inputs) and a
plain dynamic programme for the balanced quantile rule, exact fractions for the
mid-rank rule, ``pd.cut`` for the thresholds, the tutorials' regex map for rfm10, an explicit 5 x 5 grid for rfm11.
Nothing here calls rfmkit.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pandas as pd

RFM11_EN = [
    "Champions",
    "Loyal Customers",
    "Potential Loyalist",
    "New Customers",
    "Promising",
    "Need Attention",
    "About To Sleep",
    "At Risk",
    "Can't Lose Them",
    "Hibernating",
    "Lost",
]
RFM11_ZH = [
    "冠军客户",
    "忠诚客户",
    "潜在忠诚客户",
    "新客户",
    "有潜力客户",
    "需要关注客户",
    "即将沉睡客户",
    "流失风险客户",
    "不能失去的客户",
    "休眠客户",
    "已流失客户",
]
RFM10_EN = [
    "Champions",
    "Loyal Customers",
    "Potential Loyalists",
    "New Customers",
    "Promising",
    "Need Attention",
    "About To Sleep",
    "At Risk",
    "Can't Lose",
    "Hibernating",
]
RFM10_ZH = RFM11_ZH[:10]  # rfm10's Chinese labels are rfm11's first ten
CLASSIC8_EN = [
    "Important Value",
    "Important Develop",
    "Important Retain",
    "Important Win-back",
    "General Value",
    "General Develop",
    "General Retain",
    "General Win-back",
]
CLASSIC8_ZH = [
    "重要价值客户",
    "重要发展客户",
    "重要保持客户",
    "重要挽留客户",
    "一般价值客户",
    "一般发展客户",
    "一般保持客户",
    "一般挽留客户",
]
VALUE4_EN = ["High Value", "Potential", "Sleeping", "Lost"]
VALUE4_ZH = ["高价值客户", "潜力客户", "沉睡客户", "流失客户"]
MATRIX_EN = ["Best", "Frequent", "Spender", "Uncertain"]
MATRIX_ZH = ["优质型客户", "常规型客户", "意愿型客户", "不确定型客户"]
TIERS_EN = ["platinum", "gold", "iron", "lead"]
TIERS_ZH = ["白金", "黄金", "铁", "铅"]

# rfm11 on R (rows, 5 first) x FM (columns 1..5), as the README's grid
_C, _L, _P, _N, _PR, _NA, _S, _AR, _CL, _H, _LO = RFM11_EN
RFM11_GRID = {
    5: [_N, _P, _L, _C, _C],
    4: [_N, _P, _L, _C, _C],
    3: [_PR, _NA, _NA, _L, _L],
    2: [_S, _NA, _NA, _AR, _AR],
    1: [_LO, _H, _AR, _CL, _CL],
}

# rfm10: the R-F regex map of the Python tutorials, applied in this order
RFM10_MAP = {
    r"[1-2][1-2]": "Hibernating",
    r"[1-2][3-4]": "At Risk",
    r"[1-2]5": "Can't Lose",
    r"3[1-2]": "About To Sleep",
    r"33": "Need Attention",
    r"[3-4][4-5]": "Loyal Customers",
    r"41": "Promising",
    r"51": "New Customers",
    r"[4-5][2-3]": "Potential Loyalists",
    r"5[4-5]": "Champions",
}


def _distinct(values, lower_is_better: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted distinct values (negated when lower is better), their counts, and each
    value's position among them."""
    x = np.asarray(values, dtype=float) + 0.0  # -0.0 and 0.0 are one value
    if lower_is_better:
        x = -x + 0.0
    distinct, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    return distinct, counts.astype(np.int64), inverse


def _cut_cost(counts, starts, bins: int, n: int) -> tuple[int, int]:
    """(Σ size², Σ (bins·x_k − k·n)²) of the groups starting at `starts` (DESIGN's
    balance, then closeness of the cut positions x_k to the exact quantiles)."""
    ends = [*starts[1:], len(counts)]
    sizes = [int(sum(counts[a:b])) for a, b in zip(starts, ends)]
    positions = np.cumsum(sizes)[:-1]
    return sum(s * s for s in sizes), sum((bins * int(x) - (k + 1) * n) ** 2 for k, x in enumerate(positions))


def balanced_starts_brute_force(counts, groups: int) -> list[int]:
    """The first distinct value of each group: every cut tried, the least cost, then the
    lexicographically lowest cuts."""
    n = int(sum(counts))
    best = None
    for cuts in itertools.combinations(range(1, len(counts)), groups - 1):
        starts = [0, *cuts]
        cost = _cut_cost(counts, starts, groups, n)
        if best is None or cost < best[0]:
            best = (cost, starts)
    return best[1]


def balanced_starts_dp(counts, groups: int) -> list[int]:
    """The same optimum by the plain O(groups · d²) dynamic programme (numpy per cell)."""
    counts = np.asarray(counts, dtype=np.int64)
    d, n = len(counts), int(counts.sum())
    prefix = np.concatenate([[0], np.cumsum(counts)])
    inf = np.iinfo(np.int64).max
    balance = np.full(d + 1, inf)
    closeness = np.full(d + 1, inf)
    balance[1:] = prefix[1:] ** 2
    closeness[1:] = (groups * prefix[1:] - n) ** 2
    choice = []
    for layer in range(2, groups + 1):
        new_balance = np.full(d + 1, inf)
        new_closeness = np.full(d + 1, inf)
        best_k = np.zeros(d + 1, dtype=np.int64)
        ends = range(layer, d + 1) if layer < groups else [d]
        for j in ends:
            k = np.arange(layer - 1, j)
            feasible = balance[k] < inf
            k = k[feasible]
            first = balance[k] + (prefix[j] - prefix[k]) ** 2
            tied = k[first == first.min()]
            second = closeness[tied]
            pick = tied[np.argmin(second)]  # argmin: the lowest k among equals
            best_k[j] = pick
            new_balance[j] = first.min()
            new_closeness[j] = closeness[pick] + (0 if layer == groups else (groups * prefix[j] - layer * n) ** 2)
        balance, closeness = new_balance, new_closeness
        choice.append(best_k)
    starts = [0] * groups
    end = d
    for layer in range(groups, 1, -1):
        end = int(choice[layer - 2][end])
        starts[layer - 1] = end
    return starts


def balanced_scores(values, bins: int, lower_is_better: bool = False, brute_force: bool = False) -> np.ndarray:
    """DESIGN's balanced quantile scores: contiguous groups of the sorted distinct values,
    every score used when there are at least `bins` distinct values, the most balanced
    cut; with fewer distinct values, mid-rank scores moved to stay distinct."""
    distinct, counts, inverse = _distinct(values, lower_is_better)
    d = len(distinct)
    if d == 0:
        return np.zeros(0, dtype=np.int64)
    if d <= bins:
        n = int(counts.sum())
        below = np.concatenate([[0], np.cumsum(counts)[:-1]])
        scores = [math.floor(Fraction(int(2 * b + c), 2 * n) * bins) + 1 for b, c in zip(below, counts)]
        for g in range(1, d):
            scores[g] = max(scores[g], scores[g - 1] + 1)
        for g in range(d - 1, -1, -1):
            scores[g] = min(scores[g], bins if g == d - 1 else scores[g + 1] - 1)
        group_score = np.asarray(scores, dtype=np.int64)
    else:
        starts = (balanced_starts_brute_force if brute_force else balanced_starts_dp)(counts, bins)
        group_of_distinct = np.searchsorted(np.asarray(starts), np.arange(d), side="right") - 1
        group_score = group_of_distinct + 1
    return group_score[inverse].astype(np.int64)


def midrank_scores(values, bins: int, lower_is_better: bool = False) -> np.ndarray:
    """floor(p * bins) + 1 with p = (average rank - 1/2) / n, in exact fractions."""
    series = pd.Series(np.asarray(values, dtype=float))
    if lower_is_better:
        series = -series
    ranks = series.rank(method="average")
    n = len(series)
    out = []
    for rank in ranks:
        p = (Fraction(rank) - Fraction(1, 2)) / n
        out.append(math.floor(p * bins) + 1)
    return np.array(out, dtype=np.int64)


def threshold_scores(values, edges, lower_is_better: bool = False) -> np.ndarray:
    bins = len(edges) + 1
    cut = pd.cut(
        pd.Series(np.asarray(values, dtype=float)), [-np.inf, *edges, np.inf], right=True, labels=range(1, bins + 1)
    )
    scores = cut.astype(np.int64).to_numpy()
    return bins + 1 - scores if lower_is_better else scores


def score_table(
    table: pd.DataFrame, bins: int = 5, thresholds=None, weights=(1, 1, 1), method: str = "quantile"
) -> pd.DataFrame:
    out = pd.DataFrame(index=table.index)
    if thresholds is None:
        rule = balanced_scores if method == "quantile" else midrank_scores
        out["r_score"] = rule(table["recency"], bins, lower_is_better=True)
        out["f_score"] = rule(table["frequency"], bins)
        out["m_score"] = rule(table["monetary"], bins)
    else:
        out["r_score"] = threshold_scores(table["recency"], thresholds["recency"], lower_is_better=True)
        out["f_score"] = threshold_scores(table["frequency"], thresholds["frequency"])
        out["m_score"] = threshold_scores(table["monetary"], thresholds["monetary"])
    out["rfm_code"] = out["r_score"].astype(str) + out["f_score"].astype(str) + out["m_score"].astype(str)
    out["rfm_score"] = weights[0] * out["r_score"] + weights[1] * out["f_score"] + weights[2] * out["m_score"]
    return out


def fm(f, m) -> np.ndarray:
    return np.array([math.ceil(Fraction(int(a) + int(b), 2)) for a, b in zip(f, m)], dtype=np.int64)


def rfm11(r, f, m) -> list[str]:
    return [RFM11_GRID[int(ri)][fmi - 1] for ri, fmi in zip(r, fm(f, m))]


def rfm10(r, f) -> list[str]:
    codes = pd.Series([f"{int(a)}{int(b)}" for a, b in zip(r, f)], dtype=object)
    return codes.replace(RFM10_MAP, regex=True).tolist()


def value4(r, f, m, bins: int = 5) -> list[str]:
    middle = Fraction(bins + 1, 2)
    out = []
    for ri, fmi in zip(r, fm(f, m)):
        r_high, fm_high = ri > middle, fmi > middle
        out.append(
            VALUE4_EN[{(True, True): 0, (True, False): 1, (False, True): 2, (False, False): 3}[(r_high, fm_high)]]
        )
    return out


def classic8(recency, frequency, monetary, split: dict) -> list[str]:
    r_high = np.asarray(recency, dtype=float) < split["recency"]
    f_high = np.asarray(frequency, dtype=float) > split["frequency"]
    m_high = np.asarray(monetary, dtype=float) > split["monetary"]
    names = {
        (True, True, True): "Important Value",
        (True, False, True): "Important Develop",
        (False, True, True): "Important Retain",
        (False, False, True): "Important Win-back",
        (True, True, False): "General Value",
        (True, False, False): "General Develop",
        (False, True, False): "General Retain",
        (False, False, False): "General Win-back",
    }
    return [names[(bool(a), bool(b), bool(c))] for a, b, c in zip(r_high, f_high, m_high)]


def value_matrix(frequency, aov, split: dict) -> list[str]:
    f_high = np.asarray(frequency, dtype=float) > split["frequency"]
    a_high = np.asarray(aov, dtype=float) > split["avg_order_value"]
    names = {(True, True): "Best", (True, False): "Frequent", (False, True): "Spender", (False, False): "Uncertain"}
    return [names[(bool(a), bool(b))] for a, b in zip(f_high, a_high)]


def tiers(values, cuts=(0.01, 0.05, 0.20), labels=TIERS_EN) -> list[str]:
    values = np.asarray(values, dtype=float)
    n = len(values)
    out = []
    for v in values:
        larger = int((values > v).sum())
        index = next((k for k, c in enumerate(cuts) if larger < c * n), len(cuts))
        out.append(labels[index])
    return out


def summary(table: pd.DataFrame, by: str) -> pd.DataFrame:
    rows = {}
    groups = table[by]
    categories = (
        list(groups.cat.categories) if isinstance(groups.dtype, pd.CategoricalDtype) else sorted(groups.unique())
    )
    total = table["monetary"].sum()
    for group in categories:
        part = table[table[by] == group]
        rows[group] = {
            "customers": len(part),
            "customer_share": len(part) / len(table),
            "revenue": part["monetary"].sum(),
            "revenue_share": part["monetary"].sum() / total,
            **{
                f"{c}_{s}": getattr(part[c], s)() if len(part) else np.nan
                for c in ("recency", "frequency", "monetary")
                for s in ("mean", "median")
            },
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def kpis(table: pd.DataFrame, churn_after: int) -> dict:
    n = len(table)
    money = sorted(table["monetary"].tolist())
    total = math.fsum(money)
    top = math.ceil(n / 5)
    gini = sum((2 * i - n - 1) * x for i, x in enumerate(money, start=1)) / (n * total)
    return {
        "customers": n,
        "active_customers": int((table["recency"] <= churn_after).sum()),
        "churn_rate": float((table["recency"] > churn_after).mean()),
        "repeat_purchase_rate": float((table["frequency"] >= 2).mean()),
        "top20_revenue_share": math.fsum(money[n - top :]) / total,
        "gini_monetary": gini,
    }
