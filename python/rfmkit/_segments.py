"""Rule-based segments: `segment` (rfm11, rfm10, classic8, value4, custom schemes),
`SegmentScheme`, `value_matrix` and `value_tiers`.

The rules and the labels of the built-in schemes live in the Rust core
(``src/segments.rs``), which evaluates custom schemes too. `classic8_segments` is the one
entry point of the classic8 rule on plain arrays.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from rfmkit import _core
from rfmkit._checks import require_finite
from rfmkit._io import frames
from rfmkit._scores import (
    METRICS,
    SCORE_COLUMNS,
    check_keys,
    check_lang,
    number,
    scored_bins,
)
from rfmkit.exceptions import ColumnNotFoundError, InvalidParameterError, SchemeError

SCORE_SCHEMES = ("rfm11", "rfm10", "value4")
#: The built-in schemes, as the core names them (it owns the vocabulary).
SCHEMES = tuple(_core.vocabulary()["schemes"])


def labels(scheme: str, lang: str = "en") -> list[str]:
    """The labels of a built-in scheme (``"rfm11"``, ``"rfm10"``, ``"classic8"``,
    ``"value4"``, ``"value_matrix"``, ``"tiers"``), in category order (best first).

    Examples
    --------
    >>> from rfmkit._segments import labels
    >>> labels("value4", "zh")
    ['高价值客户', '潜力客户', '沉睡客户', '流失客户']
    """
    return _core.scheme_labels(scheme, check_lang(lang))


# --------------------------------------------------------------------------- splits


def mean(values: np.ndarray) -> float:
    """The exactly rounded sum of `values` (`math.fsum`) over their count."""
    return math.fsum(np.asarray(values, dtype=np.float64).tolist()) / len(values)


def split_values(columns: Mapping[str, np.ndarray], split: Any) -> dict[str, float]:
    """The split value of each column: its mean (of the exactly rounded sum, so that no
    row order changes it), its median, or the given numbers.

    `split` is ``"mean"``, ``"median"`` or a mapping with a number for every column name.
    An empty column splits at 0 (there is nothing to split).

    Examples
    --------
    >>> import numpy as np
    >>> from rfmkit._segments import split_values
    >>> split_values({"frequency": np.array([1.0, 2.0, 6.0])}, "median")
    {'frequency': 2.0}
    """
    names = list(columns)
    if isinstance(split, str):
        if split not in ("mean", "median"):
            raise InvalidParameterError(
                f"split={split!r} is not one of 'mean', 'median' or a mapping of numbers such as "
                "{" + ", ".join(f"{name!r}: ..." for name in names) + "}"
            )
        # The mean of the exactly rounded sum: independent of the row order (and the same
        # on a cluster, whose partitions' exact partial sums add up to it).
        statistic = mean if split == "mean" else np.median
        return {name: float(statistic(values)) if len(values) else 0.0 for name, values in columns.items()}
    if not isinstance(split, Mapping):
        raise InvalidParameterError(f"split must be 'mean', 'median' or a mapping of numbers, got {split!r}")
    check_keys(split, names, "split")
    out = {}
    for name in names:
        value = number(split[name], f"split[{name!r}]")
        if not math.isfinite(value):
            raise InvalidParameterError(f"split[{name!r}] is {value}; pass a finite number")
        out[name] = value
    return out


def classic8_segments(
    recency: Any, frequency: Any, monetary: Any, *, split: Any = "mean", lang: str = "en"
) -> pd.Categorical:
    """The classic8 rule (the Chinese RFM model) on plain arrays.

    R is high when recency is **strictly below** its split value, F and M when
    frequency and monetary are **strictly above** theirs; a value equal to its split is
    low. The eight segments, in category order: Important Value 重要价值客户 (R↑F↑M↑),
    Important Develop 重要发展客户 (R↑F↓M↑), Important Retain 重要保持客户 (R↓F↑M↑),
    Important Win-back 重要挽留客户 (R↓F↓M↑), General Value 一般价值客户 (R↑F↑M↓),
    General Develop 一般发展客户 (R↑F↓M↓), General Retain 一般保持客户 (R↓F↑M↓),
    General Win-back 一般挽留客户 (R↓F↓M↓).

    Parameters
    ----------
    recency, frequency, monetary : array-like of numbers
        Raw RFM values (days, purchases, money), all of one length, finite.
    split : "mean", "median" or mapping
        ``"mean"`` / ``"median"`` of the given arrays, or explicit split values
        ``{"recency": 40.0, "frequency": 3.0, "monetary": 250.0}`` (e.g. the means of
        another table of customers).
    lang : {"en", "zh"}

    Returns
    -------
    pandas.Categorical
        Ordered, with all eight labels as categories.

    Examples
    --------
    >>> from rfmkit._segments import classic8_segments
    >>> split = {"recency": 30.0, "frequency": 3.0, "monetary": 250.0}
    >>> list(classic8_segments([10, 30, 90], [5, 3, 1], [400, 500, 100], split=split, lang="zh"))
    ['重要价值客户', '重要挽留客户', '一般挽留客户']
    """
    lang = check_lang(lang)
    columns = {
        name: np.ascontiguousarray(values, dtype=np.float64)
        for name, values in zip(METRICS, (recency, frequency, monetary))
    }
    for name, values in columns.items():
        if values.ndim != 1:
            raise InvalidParameterError(f"{name} must be one-dimensional, got shape {values.shape}")
    codes, _ = _classic8_codes(columns, split)
    return pd.Categorical.from_codes(codes, categories=pd.Index(labels("classic8", lang)), ordered=True)


def _classic8_codes(columns: Mapping[str, np.ndarray], split: Any) -> tuple[np.ndarray, dict[str, float]]:
    """classic8's codes of finite R, F, M columns and the split values used; a value that
    is not finite is the data's error (it has no side of a split), named by column and row."""
    require_finite(columns, "classic8 compares finite values with their split")
    at = split_values(columns, split)
    codes = _core.classic8(
        columns["recency"], columns["frequency"], columns["monetary"], (at["recency"], at["frequency"], at["monetary"])
    )
    return codes, at


# --------------------------------------------------------------------------- custom schemes

_OPERATORS = ("<=", ">=", "==", "<", ">")


def _number(value: Any, where: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise SchemeError(f"{where}: {value!r} is not a number")
    if math.isnan(value):
        raise SchemeError(f"{where}: NaN is not a bound")
    return float(value)


def _condition(spec: Any, where: str) -> tuple[tuple[float, bool] | None, tuple[float, bool] | None]:
    """(lower, upper) ends, each None or (value, inclusive), of one condition."""
    if isinstance(spec, str):
        text = spec.strip()
        for op in _OPERATORS:
            if text.startswith(op):
                value = text[len(op) :].strip()
                try:
                    number = float(value)
                except ValueError:
                    raise SchemeError(f"{where}: {spec!r} is not a comparison like '<= 30' or '>= 4'") from None
                number = _number(number, where)
                return {
                    "<": (None, (number, False)),
                    "<=": (None, (number, True)),
                    ">": ((number, False), None),
                    ">=": ((number, True), None),
                    "==": ((number, True), (number, True)),
                }[op]
        raise SchemeError(f"{where}: {spec!r} is not a comparison like '<= 30', '> 100' or '== 5'")
    if isinstance(spec, (int, float, np.integer, np.floating)) and not isinstance(spec, (bool, np.bool_)):
        number = _number(spec, where)
        return (number, True), (number, True)
    if isinstance(spec, (tuple, list)) and len(spec) == 2:
        lower = None if spec[0] is None else (_number(spec[0], where), True)
        upper = None if spec[1] is None else (_number(spec[1], where), True)
        if lower is not None and upper is not None and lower[0] > upper[0]:
            raise SchemeError(f"{where}: the range {tuple(spec)!r} is empty (low end above high end)")
        return lower, upper
    raise SchemeError(
        f"{where}: {spec!r} is not a condition; use a (low, high) range with inclusive ends (None for open), "
        "a comparison string like '< 30' or '>= 4', or a number for equality"
    )


def _label(name: Any, where: str) -> tuple[str, str]:
    if isinstance(name, str):
        return name, name
    if isinstance(name, Mapping) and set(name) == {"en", "zh"} and all(isinstance(v, str) for v in name.values()):
        return name["en"], name["zh"]
    if isinstance(name, tuple) and len(name) == 2 and all(isinstance(v, str) for v in name):
        return name[0], name[1]
    raise SchemeError(f"{where}: the name {name!r} must be a string, an (en, zh) pair or {{'en': ..., 'zh': ...}}")


class SegmentScheme:
    """A custom segment scheme: an ordered list of named rules, first match wins.

    Each rule is ``(name, conditions)``: `name` is a string (both languages), an
    ``(en, zh)`` pair or ``{"en": ..., "zh": ...}``; `conditions` maps a column name to a
    condition, and a row satisfies the rule when it satisfies all of them (an empty
    mapping matches every row). A condition is a ``(low, high)`` range with inclusive
    ends (``None`` for an open end), a comparison string (``"< 30"``, ``"<= 30"``,
    ``"> 100"``, ``">= 4"``, ``"== 5"``) or a number (equality). Columns may be scores
    (``r_score``, ``f_score``, ``m_score``: whole numbers 1..`bins`) or any numeric
    column of the table (``recency``, ``monetary``, a CLV column ...). Several rules may
    share a name. Rows that match no rule get the `other` label, last among the
    categories.

    Construction checks the rules exactly (box arithmetic over the columns' domains,
    in the Rust core) and reports, by a `UserWarning` and in the attributes:

    - ``overlaps_``: pairs of rule positions ``(earlier, later)`` that some row
      satisfies both (the earlier one wins);
    - ``unreachable_``: positions of rules that no row can reach;
    - ``uncovered_``: whether some values match no rule (and get `other`).

    Parameters
    ----------
    rules : sequence of (name, mapping)
    other : str, (en, zh) pair or mapping, default ("other", "其他")
    bins : int, default 5
        The score range assumed by the checks for score columns.
    actions : mapping, optional
        The recommended action of each segment (label in either language -> action: a
        string, an ``(en, zh)`` pair or ``{"en": ..., "zh": ...}``). They appear in the
        ``action`` column of `rfmkit.segment_summary` and of `rfmkit.analyze`'s report.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd, rfmkit
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     scheme = rfmkit.SegmentScheme([
    ...         (("VIP", "贵宾"), {"r_score": (4, 5), "m_score": (5, 5)}),
    ...         (("Big spender", "大额客户"), {"monetary": ">= 1000"}),
    ...         (("Recent", "近期客户"), {"recency": "<= 30"}),
    ...     ])
    >>> print(caught[0].message)
    SegmentScheme rules overlapping (the earlier rule wins): rule 0 ('VIP') and rule 1 ('Big spender'), ...
    >>> scheme.overlaps_, scheme.unreachable_, scheme.uncovered_
    ([(0, 1), (0, 2), (1, 2)], [], True)
    >>> table = pd.DataFrame({"recency": [5, 200, 20, 400], "monetary": [2000.0, 1500.0, 50.0, 10.0],
    ...                       "r_score": [5, 1, 4, 1], "m_score": [5, 5, 2, 1]})
    >>> rfmkit.segment(table, scheme, lang="zh")["segment"].tolist()
    ['贵宾', '大额客户', '近期客户', '其他']
    """

    def __init__(
        self,
        rules: Sequence[tuple[Any, Mapping[str, Any]]],
        *,
        other: Any = ("other", "其他"),
        bins: int = 5,
        actions: Mapping[str, Any] | None = None,
    ):
        from rfmkit._scores import check_bins

        self.bins = check_bins(bins)
        if isinstance(rules, (str, bytes, Mapping)) or not isinstance(rules, Sequence) or not rules:
            raise SchemeError("rules must be a non-empty list of (name, {column: condition}) pairs")
        self.labels_en: list[str] = []
        self.labels_zh: list[str] = []
        self.columns: list[str] = []
        self.rules: list[tuple[int, list[tuple[int, Any, Any]]]] = []
        for position, rule in enumerate(rules):
            where = f"rule {position}"
            if not (isinstance(rule, (tuple, list)) and len(rule) == 2 and isinstance(rule[1], Mapping)):
                raise SchemeError(f"{where} is {rule!r}; each rule is a (name, {{column: condition}}) pair")
            en, zh = _label(rule[0], where)
            where = f"rule {position} ({en!r})"
            label = self._label_index(en, zh, where)
            conditions = []
            for column, spec in rule[1].items():
                if not isinstance(column, str):
                    raise SchemeError(f"{where}: column names are strings, got {column!r}")
                lower, upper = _condition(spec, f"{where}, column {column!r}")
                if column not in self.columns:
                    self.columns.append(column)
                conditions.append((self.columns.index(column), lower, upper))
            self.rules.append((label, conditions))
        other_en, other_zh = _label(other, "other")
        self.other = self._label_index(other_en, other_zh, "other")
        self._actions = self._read_actions(actions)
        analysis = _core.analyze_scheme(self._variables(), self.rules, self.labels_en, self.other)
        self.overlaps_: list[tuple[int, int]] = [(int(a), int(b)) for a, b in analysis["overlaps"]]
        self.unreachable_: list[int] = list(analysis["unreachable"])
        self.uncovered_: bool = bool(analysis["uncovered"])
        notes = []
        if self.unreachable_:
            notes.append(
                "unreachable (every row they match is taken by an earlier rule): "
                + ", ".join(self._describe(i) for i in self.unreachable_)
            )
        if self.overlaps_:
            notes.append(
                "overlapping (the earlier rule wins): "
                + ", ".join(f"{self._describe(i)} and {self._describe(j)}" for i, j in self.overlaps_)
            )
        if notes:
            warnings.warn("SegmentScheme rules " + "; ".join(notes), UserWarning, stacklevel=2)

    def _label_index(self, en: str, zh: str, where: str) -> int:
        if en in self.labels_en:
            index = self.labels_en.index(en)
            if self.labels_zh[index] != zh:
                raise SchemeError(f"{where}: {en!r} is already named {self.labels_zh[index]!r} in Chinese, not {zh!r}")
            return index
        if zh in self.labels_zh:
            raise SchemeError(
                f"{where}: the Chinese name {zh!r} already belongs to {self.labels_en[self.labels_zh.index(zh)]!r}"
            )
        self.labels_en.append(en)
        self.labels_zh.append(zh)
        return len(self.labels_en) - 1

    def _read_actions(self, actions: Mapping[str, Any] | None) -> dict[str, tuple[str, str]]:
        """English label -> (action in English, in Chinese)."""
        if actions is None:
            return {}
        if not isinstance(actions, Mapping):
            raise SchemeError(f"actions must be a mapping of segment label to action, got {actions!r}")
        out = {}
        for label, action in actions.items():
            if label in self.labels_en:
                en = label
            elif label in self.labels_zh:
                en = self.labels_en[self.labels_zh.index(label)]
            else:
                raise SchemeError(
                    f"actions: {label!r} is not a segment of this scheme; its labels are {self.labels_en!r} "
                    f"(or in Chinese {self.labels_zh!r})"
                )
            out[en] = _label(action, f"actions[{label!r}]")
        return out

    def actions(self, lang: str = "en") -> dict[str, str]:
        """The recommended actions given for the segments (label -> action), in `lang`.

        Examples
        --------
        >>> import rfmkit
        >>> scheme = rfmkit.SegmentScheme([(("Recent", "近期"), {"recency": "< 30"})],
        ...                               actions={"Recent": ("Thank them", "感谢他们")})
        >>> scheme.actions("zh")
        {'近期': '感谢他们'}
        """
        zh = check_lang(lang) == "zh"
        return {
            (self.labels_zh[self.labels_en.index(en)] if zh else en): pair[1 if zh else 0]
            for en, pair in self._actions.items()
        }

    def _describe(self, position: int) -> str:
        return f"rule {position} ({self.labels_en[self.rules[position][0]]!r})"

    def _variables(self) -> list[tuple[str, bool, float, float]]:
        out = []
        for column in self.columns:
            if column in SCORE_COLUMNS:
                out.append((column, True, 1.0, float(self.bins)))
            else:
                out.append((column, False, -math.inf, math.inf))
        return out

    def labels(self, lang: str = "en") -> list[str]:
        """The segment labels in category order (rule order, `other` last).

        Examples
        --------
        >>> import rfmkit
        >>> rfmkit.SegmentScheme([(("Recent", "近期"), {"recency": "< 30"})]).labels("zh")
        ['近期', '其他']
        """
        return list(self.labels_zh if check_lang(lang) == "zh" else self.labels_en)

    def __repr__(self) -> str:
        return f"SegmentScheme({len(self.rules)} rules, labels={self.labels_en!r})"

    def _codes(self, frame: Any) -> np.ndarray:
        columns = [frame.numbers(name, "segment rule") for name in self.columns]
        return _core.segment_custom(columns, self._variables(), self.rules, self.labels_en, self.other)


# --------------------------------------------------------------------------- segment


def segment(
    table: Any, scheme: Any = "rfm11", *, lang: str = "en", split: Any = "mean", bins: int | None = None
) -> Any:
    """Rule-based segments of an RFM table, as an ordered categorical ``segment`` column.

    Parameters
    ----------
    table : pandas.DataFrame, polars.DataFrame or pyarrow.Table
        For ``"rfm11"``, ``"rfm10"`` and ``"value4"``: a table with ``r_score``,
        ``f_score``, ``m_score`` (from `rfmkit.score`, or your own whole numbers
        1..`bins`). For ``"classic8"``: raw ``recency``, ``frequency``, ``monetary``.
        For a `SegmentScheme`: the columns its rules name. Never modified.
    scheme : {"rfm11", "rfm10", "classic8", "value4"} or SegmentScheme
        First match wins in every scheme; the rules (see the README, "Scores and
        segments"):

        - ``"rfm11"``: Putler's 11 segments on R and ``FM = ceil((F + M) / 2)`` (scores
          1..5), rules in this order: Champions R4-5 FM4-5; Can't Lose Them R1 FM4-5;
          Lost R1 FM1; New Customers R4-5 FM1; Promising R3-4 FM1; Need Attention R2-3
          FM2-3; About To Sleep R2-3 FM1-2; Hibernating R1-2 FM1-2; At Risk R1-2 FM2-5;
          Loyal Customers R2-5 FM3-5; Potential Loyalist R3-5 FM1-3. Every one of the
          125 codes gets one segment and every segment occurs.
        - ``"rfm10"``: the R x F grid (scores 1..5): Champions R5 F4-5; Loyal Customers
          R3-4 F4-5; Potential Loyalists R4-5 F2-3; New Customers R5 F1; Promising R4 F1;
          Need Attention R3 F3; About To Sleep R3 F1-2; At Risk R1-2 F3-4; Can't Lose
          R1-2 F5; Hibernating R1-2 F1-2.
        - ``"classic8"``: raw R, F, M against their split values (see
          `classic8_segments`): R↑ when recency < split, F↑ / M↑ when frequency /
          monetary > split.
        - ``"value4"``: R and FM against the middle score ``(bins + 1) / 2``: High Value
          (R > mid, FM > mid), Potential (R > mid, FM <= mid), Sleeping (R <= mid,
          FM > mid), Lost (R <= mid, FM <= mid).
    lang : {"en", "zh"}
        English or Chinese labels.
    split : "mean", "median" or mapping
        classic8 only: the split values, the table's mean or median or
        ``{"recency": ..., "frequency": ..., "monetary": ...}``.
    bins : int, optional
        Score range for ``"value4"`` and the checks; default: the bins `rfmkit.score`
        recorded, else the ones the categories of the ``rfm_code`` column tell (they
        survive filters, merges and Parquet), else 5.

    Returns
    -------
    pandas.DataFrame, polars.DataFrame or pyarrow.Table
        A copy of `table` (of its kind) with ``segment``: an ordered pandas Categorical
        with every label of the scheme as a category, best first (polars: Enum;
        pyarrow: a dictionary column). ``rfmkit.quality(result)["segment"]`` records the
        scheme (and classic8's split values).

    Raises
    ------
    ColumnNotFoundError
        A score or raw column the scheme needs is missing.
    InvalidDataError
        A score outside 1..`bins` or fractional, or a NaN value.
    InvalidParameterError, SchemeError

    Examples
    --------
    >>> import pandas as pd, rfmkit
    >>> table = pd.DataFrame({"r_score": [5, 1, 3, 2], "f_score": [5, 5, 1, 2], "m_score": [4, 4, 1, 1]})
    >>> rfmkit.segment(table, "rfm11")["segment"].tolist()
    ['Champions', "Can't Lose Them", 'Promising', 'Need Attention']
    >>> rfmkit.segment(table, "rfm10", lang="zh")["segment"].tolist()
    ['冠军客户', '不能失去的客户', '即将沉睡客户', '休眠客户']
    """
    lang = check_lang(lang)
    frame = frames.Frame.of(table)
    if isinstance(scheme, SegmentScheme):
        codes = scheme._codes(frame)
        names = scheme.labels(lang)
        info: dict[str, Any] = {"scheme": "custom", "labels": scheme.labels("en")}
    elif scheme in SCORE_SCHEMES:
        missing = [name for name in SCORE_COLUMNS if name not in frame.names]
        if missing:
            raise ColumnNotFoundError(
                f"scheme {scheme!r} reads the scores {', '.join(SCORE_COLUMNS)}, and the table has no "
                f"{', '.join(map(repr, missing))}: score it first, rfmkit.segment(rfmkit.score(table), {scheme!r})"
            )
        r, f, m = (frame.numbers(name, name) for name in SCORE_COLUMNS)
        n_bins = scored_bins(frame, bins, (r, f, m))
        codes = _core.segment_scores(scheme, r, f, m, n_bins)
        names = labels(scheme, lang)
        info = {"scheme": scheme, "bins": n_bins}
    elif scheme == "classic8":
        codes, at = _classic8_codes({name: frame.numbers(name, name) for name in METRICS}, split)
        names = labels("classic8", lang)
        info = {"scheme": "classic8", "split": at}
    else:
        raise InvalidParameterError(
            f"scheme={scheme!r} is not one of 'rfm11', 'rfm10', 'classic8', 'value4' or a rfmkit.SegmentScheme"
        )
    return frames.with_columns(frame, {"segment": frames.categorical(codes, names, frame.frontend)}, {"segment": info})


def value_matrix(table: Any, *, split: Any = "mean", lang: str = "en") -> Any:
    """The customer value matrix: quadrants of frequency x average order value.

    F is high when ``frequency`` is strictly above its split value, AOV when
    ``avg_order_value`` is strictly above its own (a value equal to the split is low):
    Best 优质型客户 (F high, AOV high), Frequent 常规型客户 (F high, AOV low),
    Spender 意愿型客户 (F low, AOV high), Uncertain 不确定型客户 (F low, AOV low).

    Parameters
    ----------
    table : pandas.DataFrame, polars.DataFrame or pyarrow.Table
        With ``frequency`` and ``avg_order_value`` columns (`rfmkit.rfm`'s result).
    split : "mean", "median" or mapping
        The tables's mean or median, or ``{"frequency": ..., "avg_order_value": ...}``.
    lang : {"en", "zh"}

    Returns
    -------
    pandas.DataFrame, polars.DataFrame or pyarrow.Table
        A copy with an ordered categorical ``quadrant`` column (polars: Enum);
        ``attrs["rfmkit"]["value_matrix"]`` holds the split values.

    Examples
    --------
    >>> import pandas as pd, rfmkit
    >>> table = pd.DataFrame({"frequency": [6, 5, 1, 1], "avg_order_value": [80.0, 10.0, 90.0, 5.0]})
    >>> rfmkit.value_matrix(table, lang="zh")["quadrant"].tolist()
    ['优质型客户', '常规型客户', '意愿型客户', '不确定型客户']
    """
    lang = check_lang(lang)
    frame = frames.Frame.of(table)
    columns = {name: frame.numbers(name, name) for name in ("frequency", "avg_order_value")}
    at = split_values(columns, split)
    codes = _core.value_matrix(
        columns["frequency"], columns["avg_order_value"], (at["frequency"], at["avg_order_value"])
    )
    quadrant = frames.categorical(codes, labels("value_matrix", lang), frame.frontend)
    return frames.with_columns(frame, {"quadrant": quadrant}, {"value_matrix": {"split": at}})


def value_tiers(
    table: Any,
    *,
    by: str = "monetary",
    cuts: Sequence[float] = (0.01, 0.05, 0.20),
    lang: str = "en",
    labels: Sequence[str] | None = None,
) -> Any:
    """Pareto value tiers: platinum (top 1 %), gold (next 4 %), iron (next 15 %), lead (rest).

    A customer's tier is the first whose cumulative cut ``c`` satisfies
    ``(number of customers with a strictly larger value) < c * n``. Ties never split:
    a group of equal values that straddles a cut goes **up**, to the higher tier, so a
    tier may hold slightly more than its share (and the top customer is always in the
    top tier).

    Parameters
    ----------
    table : pandas.DataFrame, polars.DataFrame or pyarrow.Table
    by : str, default "monetary"
        Any numeric value column (``monetary``, a CLV column ...); finite values.
    cuts : increasing shares in (0, 1), default (0.01, 0.05, 0.20)
        Cumulative shares of customers of the tiers above the last one.
    lang : {"en", "zh"}
        platinum / gold / iron / lead or 白金 / 黄金 / 铁 / 铅.
    labels : sequence of str, optional
        Own tier names, best first, one more than `cuts` (needed when `cuts` does not
        have three entries).

    Returns
    -------
    pandas.DataFrame, polars.DataFrame or pyarrow.Table
        A copy with an ordered categorical ``tier`` column, best first (polars: Enum).

    Examples
    --------
    >>> import pandas as pd, rfmkit
    >>> table = pd.DataFrame({"monetary": [float(v) for v in range(1, 101)]})
    >>> rfmkit.value_tiers(table)["tier"].value_counts(sort=False).to_dict()
    {'platinum': 1, 'gold': 4, 'iron': 15, 'lead': 80}
    """
    lang = check_lang(lang)
    if isinstance(cuts, (str, bytes)) or not isinstance(cuts, (Sequence, np.ndarray)):
        raise InvalidParameterError(f"cuts must be a sequence of shares such as (0.01, 0.05, 0.20), got {cuts!r}")
    cut_values = [number(cut, f"cuts entries ({cuts!r})") for cut in cuts]
    if labels is None:
        if len(cut_values) != 3:
            raise InvalidParameterError(
                f"{len(cut_values)} cuts make {len(cut_values) + 1} tiers; pass labels= with "
                f"{len(cut_values) + 1} names, best first (the default names are for 3 cuts)"
            )
        names = _core.scheme_labels("tiers", lang)
    else:
        names = [str(label) for label in labels]
        if len(names) != len(cut_values) + 1 or len(set(names)) != len(names):
            raise InvalidParameterError(
                f"labels= needs {len(cut_values) + 1} distinct names for {len(cut_values)} cuts, got {list(labels)!r}"
            )
    if not isinstance(by, str):
        raise InvalidParameterError(f"by= must be a column name, got {by!r}")
    frame = frames.Frame.of(table)
    values = frame.numbers(by, "by")
    codes = _core.value_tiers(values, cut_values, by)
    tier = frames.categorical(codes, names, frame.frontend)
    return frames.with_columns(frame, {"tier": tier}, {"value_tiers": {"by": by, "cuts": cut_values}})
