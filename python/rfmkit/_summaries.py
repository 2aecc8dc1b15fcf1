"""Reports on scored and segmented tables: `segment_summary`, `migration`, `kpis`."""

from __future__ import annotations

import datetime as _dt
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rfmkit._actions import action_column
from rfmkit._checks import require_finite
from rfmkit._io import columns as _columns
from rfmkit._io import frames
from rfmkit._io import sources as _sources
from rfmkit._params import ROWS, pick
from rfmkit._scores import score
from rfmkit._segments import segment
from rfmkit.exceptions import DataQualityWarning, InvalidParameterError

SUMMARY_METRICS = ("recency", "frequency", "monetary")


def segment_summary(table: Any, by: str = "segment", *, actions: Any = None) -> Any:
    """Customers, revenue and mean / median R, F, M per group.

    Parameters
    ----------
    table : pandas.DataFrame, polars.DataFrame or pyarrow.Table
        With the `by` column and numeric ``recency``, ``frequency``, ``monetary``.
    by : str, default "segment"
        The group column (``segment``, ``tier``, ``quadrant``, a cluster label ...).
        Categorical groups are listed in category order, all of them, empty ones with 0
        customers; other groups in sorted order. Rows with a null group are counted in
        a ``None`` group (pandas: NaN) rather than dropped.
    actions : None, False, mapping or SegmentScheme, default None
        The ``action`` column: ``None`` adds the built-in recommended action of each group
        when the groups are the labels of a built-in scheme, the value matrix or the value
        tiers (`rfmkit.segment_actions`), in the labels' language; a mapping (label ->
        action) or a `rfmkit.SegmentScheme` (its ``actions``) gives your own (groups they
        leave out keep the built-in action, else ``""``); ``False`` adds none.

    Returns
    -------
    pandas.DataFrame, polars.DataFrame or pyarrow.Table
        One row per group (pandas: indexed by `by`; polars: `by` as first column):
        ``customers``, ``customer_share`` (of all customers), ``revenue`` (sum of
        ``monetary``), ``revenue_share`` (of the total revenue; NaN when it is 0),
        ``recency_mean``, ``recency_median``, ``frequency_mean``, ``frequency_median``,
        ``monetary_mean``, ``monetary_median`` (NaN for an empty group) and, see
        `actions`, ``action``.

    Examples
    --------
    >>> import pandas as pd, rfmkit
    >>> table = pd.DataFrame({"recency": [5, 10, 300], "frequency": [4, 2, 1],
    ...                       "monetary": [400.0, 100.0, 500.0],
    ...                       "segment": ["A", "A", "B"]})
    >>> rfmkit.segment_summary(table)[["customers", "customer_share", "revenue", "revenue_share", "recency_mean"]]
             customers  customer_share  revenue  revenue_share  recency_mean
    segment
    A                2        0.666667    500.0            0.5           7.5
    B                1        0.333333    500.0            0.5         300.0
    """
    if not isinstance(by, str):
        raise InvalidParameterError(f"by= must be a column name, got {by!r}")
    frame = frames.Frame.of(table)
    group_column = frame.column(by, "by")
    values = {name: frame.numbers(name, name) for name in SUMMARY_METRICS}
    groups = group_column.as_pandas()
    groups = pd.Series(
        np.asarray(groups) if not isinstance(groups.dtype, pd.CategoricalDtype) else groups.array, name=by
    )
    data = pd.DataFrame(dict(values.items()))
    data[by] = groups.array
    grouped = data.groupby(by, observed=False, sort=True, dropna=False)
    out = pd.DataFrame({"customers": grouped.size()})
    n = len(data)
    total = float(data["monetary"].sum())
    out["customer_share"] = out["customers"] / n if n else np.nan
    out["revenue"] = grouped["monetary"].sum()
    out["revenue_share"] = out["revenue"] / total if total != 0 else np.nan
    for name in SUMMARY_METRICS:
        out[f"{name}_mean"] = grouped[name].mean()
        out[f"{name}_median"] = grouped[name].median()
    out["customers"] = out["customers"].astype(np.int64)
    action = action_column(list(out.index), actions)
    if action is not None:
        out["action"] = action
    return frames.from_pandas(out, frame.frontend)


# --------------------------------------------------------------------------- migration


@dataclass
class Migration:
    """Segments at two observation dates and the transitions between them.

    Attributes
    ----------
    counts : pandas.DataFrame, polars.DataFrame or pyarrow.Table
        Of the kind of the data given (polars and pyarrow: the row labels as the first
        column ``earlier``). Customers by state at `earlier` (rows) and at `later` (columns). A customer's
        state at a date is its segment when it has a purchase in the observation (with
        `window`: in the window before the date); ``inactive`` when it bought before but
        not in the window (only with `window`); and, at `earlier` only, ``new`` when its
        first purchase ever is on or after `earlier` (whatever the window). Every
        customer with a purchase before `later` is counted once. Rows are the scheme's
        labels in category order plus ``inactive`` and ``new``; columns the labels plus
        ``inactive`` (zh: 不活跃(窗口外), 新客户(期初无)).
    shares : pandas.DataFrame, polars.DataFrame or pyarrow.Table
        `counts` divided by its row sums (each row sums to 1; an empty row is NaN).
    customers : pandas.DataFrame, polars.DataFrame or pyarrow.Table
        One row per customer (indexed by customer id; polars and pyarrow: the id first):
        ``earlier`` and ``later`` state.
    earlier, later : str
        The two observation dates (ISO), exclusive as in `rfmkit.rfm`.
    quality : dict
        The accounting of the `rfmkit.rfm` calls (``attrs["rfmkit"]``): ``earlier``,
        ``later`` and, with a `window`, ``history`` (the whole history before `later`,
        which tells ``new`` from ``inactive``).

    Examples
    --------
    >>> import pandas as pd, rfmkit
    >>> orders = pd.DataFrame({"customer_id": [1, 2, 1], "amount": [10.0, 20.0, 30.0],
    ...                        "ordered_at": pd.to_datetime(["2024-01-02", "2024-02-01", "2024-03-01"])})
    >>> moves = rfmkit.migration(orders, customer="customer_id", date="ordered_at", amount="amount",
    ...                          as_of=("2024-01-15", "2024-04-01"), scheme="classic8")
    >>> moves.earlier, moves.later, int(moves.counts.to_numpy().sum())
    ('2024-01-15', '2024-04-01', 2)
    >>> moves.customers["earlier"].tolist()
    ['General Win-back', 'new']
    """

    counts: pd.DataFrame
    shares: pd.DataFrame
    customers: pd.DataFrame
    earlier: str
    later: str
    quality: dict[str, Any] = field(default_factory=dict)


def _rfm_table(data: Any, as_of: Any, rfm_options: dict[str, Any]) -> pd.DataFrame:
    """`rfmkit.rfm` as pandas, its DataQualityWarnings held back (the caller reports them)."""
    from rfmkit._rfm import rfm

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataQualityWarning)
        table = rfm(data, as_of=as_of, **rfm_options)
    others = [w for w in caught if not issubclass(w.category, DataQualityWarning)]
    for w in others:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return frames.indexed_pandas(table)


def _snapshot(
    data: Any,
    as_of: Any,
    rfm_options: dict[str, Any],
    score_options: dict[str, Any],
    scheme: Any,
    lang: str,
    split: Any,
) -> tuple[pd.Series, pd.DataFrame, list[str]]:
    """The segment of each customer at `as_of`, the RFM table and the scheme's labels."""
    table = _rfm_table(data, as_of, rfm_options)
    scored = table if scheme == "classic8" else score(table, **score_options)
    column = segment(scored, scheme, lang=lang, split=split)["segment"]
    return column, table, list(column.cat.categories)


def migration(
    data: Any,
    *,
    customer: str,
    date: str,
    amount: str,
    as_of: tuple[Any, Any],
    scheme: Any = "rfm11",
    lang: str = "en",
    split: Any = "mean",
    bins: int = 5,
    method: str = "quantile",
    thresholds: Any = None,
    weights: Any = (1, 1, 1),
    order: str | None = None,
    window: Any = None,
    zero: str = "drop",
    returns: str = "net",
    invalid: str = "drop",
    date_format: str | None = None,
    dayfirst: bool | None = None,
) -> Migration:
    """Segment transitions between two observation dates (the quarterly re-scoring).

    `data` is a table or an input read in batches, as for `rfmkit.rfm` (one that can be
    read again: files, a Dataset, a LazyFrame, a list of record batches). At each date of
    ``as_of = (earlier, later)`` the transactions before it are turned into an RFM table (`rfmkit.rfm` with `order`, `window`, `zero`, `returns`,
    `invalid`, `date_format`, `dayfirst`), scored afresh (`rfmkit.score` with `bins`, `method`, `thresholds`,
    `weights`; not for classic8) and segmented (`rfmkit.segment` with `scheme`, `lang`,
    `split`); then each customer's two states are crossed.

    The states besides the segments (a purchase is as `rfmkit.rfm` counts it, under the
    same `zero`, `returns` and `order`):

    - ``new`` (row only; zh 新客户(期初无)): the first purchase ever is on or after
      `earlier` — no purchase at all before `earlier`, however long ago. A customer who
      bought before `earlier` is never ``new``, even when a `window` leaves its old
      purchases out of the earlier table.
    - ``inactive`` (row and column; zh 不活跃(窗口外)): at that date the customer has
      bought before but not in the `window` before the date, so it is in no segment.
      Without `window` nobody is inactive. The row ``inactive`` -> a segment counts the
      reactivated customers; the column counts those who dropped out of the window
      (what a report may call lapsed).

    Returns
    -------
    Migration
        ``counts`` and ``shares`` (row shares) of the transition matrix, with
        ``inactive`` and ``new`` as extra rows and ``inactive`` as an extra column, and
        the per-customer ``customers`` table: every customer with a purchase before
        `later`, once. Rows dropped by the `rfmkit.rfm` calls are in ``quality``;
        a `DataQualityWarning` is raised only for invalid rows (rows on or after a date
        are expected here and not announced).

    Examples
    --------
    >>> import pandas as pd, rfmkit
    >>> orders = pd.DataFrame({
    ...     "customer_id": [1, 2, 3, 1, 2, 4],
    ...     "ordered_at": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-03-20",
    ...                                   "2024-04-02", "2024-05-01", "2024-06-15"]),
    ...     "amount": [100.0, 20.0, 30.0, 80.0, 10.0, 60.0],
    ... })
    >>> moves = rfmkit.migration(orders, customer="customer_id", date="ordered_at", amount="amount",
    ...                          as_of=("2024-04-01", "2024-07-01"), scheme="value4")
    >>> moves.customers
                   earlier      later
    customer_id
    1             Sleeping   Sleeping
    2                 Lost  Potential
    3            Potential       Lost
    4                  new  Potential
    >>> moves.counts.loc[["Potential", "Lost", "new"], ["Potential", "Lost"]]
    later      Potential  Lost
    earlier
    Potential          0     1
    Lost               1     0
    new                1     0
    """
    if not (isinstance(as_of, (tuple, list)) and len(as_of) == 2):
        raise InvalidParameterError(f"as_of must be a pair of dates (earlier, later), got {as_of!r}")
    _sources.require_rereadable(data, "rfmkit.migration", "an RFM table at each date")
    stamps = [_columns.to_timestamp(value, "as_of") for value in as_of]
    if not stamps[0] < stamps[1]:
        raise InvalidParameterError(f"as_of=({as_of[0]!r}, {as_of[1]!r}): the first date must be before the second")
    rfm_options = pick(locals(), ROWS, "as_of")
    score_options = dict(bins=bins, method=method, thresholds=thresholds, weights=weights)
    before, earlier_table, labels = _snapshot(data, as_of[0], rfm_options, score_options, scheme, lang, split)
    after, later_table, _ = _snapshot(data, as_of[1], rfm_options, score_options, scheme, lang, split)
    quality = {"earlier": earlier_table.attrs["rfmkit"], "later": later_table.attrs["rfmkit"]}
    # Whole history before `later`: the customers to count, and (by tenure) who had bought
    # before `earlier`. Without a window that is the later table itself.
    history = later_table
    if window is not None:
        history = _rfm_table(data, as_of[1], {**rfm_options, "window": None})
        quality["history"] = history.attrs["rfmkit"]
    invalid_drops: dict[str, int] = {}
    for info in quality.values():
        for reason, count in info.get("dropped", {}).items():
            if reason not in ("after_as_of", "before_window") and count:
                invalid_drops[reason] = invalid_drops.get(reason, 0) + count
    if invalid_drops:
        detail = ", ".join(f"{count} {reason}" for reason, count in invalid_drops.items())
        warnings.warn(
            f"rfmkit.migration dropped rows ({detail}, summed over the RFM tables); the counts are in result.quality",
            DataQualityWarning,
            stacklevel=2,
        )
    if lang == "zh":
        new_label, inactive_label = "新客户(期初无)", "不活跃(窗口外)"
    else:
        new_label, inactive_label = "new", "inactive"
    rows = [*labels, inactive_label, new_label]
    columns = [*labels, inactive_label]
    ids = history.index
    # Whole days between the two dates (rfm takes dates only): a first purchase more than
    # that many days before `later` (its tenure) is before `earlier`.
    days_between = (stamps[1].date() - stamps[0].date()).days
    bought_before = pd.Series(history["tenure"].to_numpy() > days_between, index=ids)
    earlier = before.astype(object).reindex(ids)
    earlier = earlier.where(earlier.notna(), np.where(bought_before, inactive_label, new_label))
    later = after.astype(object).reindex(ids).fillna(inactive_label)
    customers = pd.DataFrame(
        {
            "earlier": pd.Categorical(earlier.to_numpy(), categories=rows),
            "later": pd.Categorical(later.to_numpy(), categories=columns),
        },
        index=ids,
    )
    counts = pd.crosstab(customers["earlier"], customers["later"], dropna=False).reindex(
        index=rows, columns=columns, fill_value=0
    )
    counts.index.name, counts.columns.name = "earlier", "later"
    counts = counts.astype(np.int64)
    totals = counts.sum(axis=1)
    shares = counts.div(totals.where(totals > 0), axis=0)
    dates = [s.date().isoformat() for s in stamps]
    kind = _sources.result_kind(data)  # the tables in the kind rfm gives for `data`
    counts_, shares_, customers_ = (frames.from_pandas(table, kind) for table in (counts, shares, customers))
    return Migration(counts_, shares_, customers_, dates[0], dates[1], quality)


# --------------------------------------------------------------------------- KPIs


def _days(value: Any, name: str) -> int:
    if isinstance(value, (_dt.timedelta, pd.Timedelta, np.timedelta64)):
        delta = pd.Timedelta(value)
        if delta != delta.floor("D"):
            raise InvalidParameterError(f"{name}={value!r} is not a whole number of days")
        value = delta.days
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise InvalidParameterError(f"{name} must be a positive whole number of days (e.g. 180), got {value!r}")
    return int(value)


def kpis(table: Any, *, churn_after: Any = 365) -> dict[str, float]:
    """Headline customer KPIs of an RFM table.

    Parameters
    ----------
    table : pandas.DataFrame, polars.DataFrame or pyarrow.Table
        With ``recency`` (days), ``frequency`` and ``monetary`` (`rfmkit.rfm`'s result).
    churn_after : int or timedelta, default 365
        Days without a purchase after which a customer counts as churned (a year, as
        `rfmkit.analyze` assumes; pass the repurchase cycle of the business).

    Returns
    -------
    dict
        - ``customers``: rows of the table;
        - ``active_customers``: customers with ``recency <= churn_after``;
        - ``churn_rate``: share with ``recency > churn_after``;
        - ``repeat_purchase_rate``: share with ``frequency >= 2``;
        - ``top20_revenue_share``: the revenue of the ``ceil(0.2 * n)`` customers with
          the largest ``monetary``, over the total;
        - ``gini_monetary``: the Gini coefficient of ``monetary``,
          ``sum((2 i - n - 1) * x_(i)) / (n * sum(x))`` over the values sorted
          ascending (0: everyone spends the same; towards 1: one customer spends all).

        Rates are NaN for an empty table; the revenue share and the Gini are NaN when
        the total revenue is not positive.

    Examples
    --------
    >>> import pandas as pd, rfmkit
    >>> table = pd.DataFrame({"recency": [5, 40, 400, 20, 700], "frequency": [3, 1, 2, 1, 1],
    ...                       "monetary": [300.0, 50.0, 100.0, 30.0, 20.0]})
    >>> rfmkit.kpis(table, churn_after=365)
    {'customers': 5, 'active_customers': 3, 'churn_rate': 0.4, 'repeat_purchase_rate': 0.4, 'top20_revenue_share': 0.6, 'gini_monetary': 0.504}
    """
    days = _days(churn_after, "churn_after")
    frame = frames.Frame.of(table)
    recency = frame.numbers("recency", "recency")
    frequency = frame.numbers("frequency", "frequency")
    monetary = frame.numbers("monetary", "monetary")
    n = len(recency)
    require_finite({"recency": recency, "frequency": frequency, "monetary": monetary}, "KPIs need finite numbers")
    active = int(np.count_nonzero(recency <= days))
    ordered = np.sort(monetary)
    total = float(ordered.sum())
    top = math.ceil(0.2 * n)
    if total > 0:
        top_share = float(ordered[n - top :].sum()) / total
        ranks = np.arange(1, n + 1, dtype=np.float64)
        gini = float(((2 * ranks - n - 1) * ordered).sum()) / (n * total)
    else:
        top_share = gini = float("nan")
    return {
        "customers": n,
        "active_customers": active,
        "churn_rate": (n - active) / n if n else float("nan"),
        "repeat_purchase_rate": int(np.count_nonzero(frequency >= 2)) / n if n else float("nan"),
        "top20_revenue_share": top_share,
        "gini_monetary": gini,
    }
