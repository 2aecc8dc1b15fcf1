"""The single-machine engine on the partitions of a cluster's table: what `rfmkit.spark`
and `rfmkit.dask` share.

One plan for every view (the README's "Beyond one machine" says why):

1. Only for an RFM window without `as_of` (rows are classified against the window as
   they come): every partition's rows go through the engine's row rule
   (`Aggregator._last_valid_time`) and the driver takes the latest valid timestamp.
2. Each partition of the rows, as it is, goes through an `Aggregator`, whose state is
   split into buckets by a fixed hash of the customer id (`partition_states`): every
   customer of the partition is in one bucket, and the same customer is in the same
   bucket in every partition. The state of a partition is a few numbers per customer
   (with the BTYD periods: per customer and period), not its rows.
3. The pieces of each bucket meet in one place (Spark: ``repartition`` on the bucket;
   Dask: a task per bucket), are merged and finished (`bucket_table`), told the last
   valid time of all the rows for the default end. The state sums money exactly, so
   neither the partitioning, the order of the rows nor the order of the merges changes
   a bit: each customer comes out exactly as on one machine, and the buckets'
   accountings add up to the whole table's.

The functions here run where the partitions are (executors, workers): they take
Arrow record batches or pandas frames and return plain values.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import pandas as pd

from rfmkit._aggregate import NS_PER_DAY, Aggregator, split
from rfmkit._io import columns as _columns
from rfmkit._params import pick
from rfmkit.exceptions import (
    DataQualityWarning,
    InvalidDataError,
    InvalidParameterError,
)

VIEWS = ("rfm", "summary", "calibration_holdout")


class Result(NamedTuple):
    """A customer table computed on a cluster, and where the rows went.

    `table` is a Spark or Dask DataFrame with the columns of the single-machine result
    (the customer id first); `accounting` is the dict that the single-machine result
    keeps in ``attrs["rfmkit"]`` (``rows_in``, ``rows_used``, ``dropped`` by reason, the
    end used), summed over the partitions."""

    table: Any
    accounting: dict[str, Any]


def row_params(
    view: str,
    *,
    customer: str,
    date: str,
    amount: str | None,
    order: str | None = None,
    zero: str,
    returns: str,
    invalid: str,
    date_format: str | None,
    dayfirst: bool | None,
    as_of: Any = None,
    window: Any = None,
    freq: str | None = None,
    observation_period_end: Any = None,
    calibration_period_end: Any = None,
) -> dict[str, Any]:
    """The `Aggregator` parameters of `view`, checked now (on the driver) by making one."""
    if view not in VIEWS:
        raise InvalidParameterError(f"unknown view {view!r}; expected one of {VIEWS}")
    params = pick(locals(), ("customer", "date", "amount", "zero", "returns", "invalid", "date_format", "dayfirst"))
    if view == "rfm":
        if amount is None:
            raise InvalidParameterError("the RFM table needs amount= (the column of the amounts)")
        params.update(order=order, as_of=_text(as_of, "as_of"), window=window)
    else:
        params.update(freq=freq, observation_period_end=_text(observation_period_end, "observation_period_end"))
        if view == "calibration_holdout":
            if calibration_period_end is None:
                raise InvalidParameterError("calibration_period_end is required, e.g. '2024-06-30'")
            params.update(calibration_period_end=_text(calibration_period_end, "calibration_period_end"))
    _reader(view, params)
    return params


#: Buckets when not given: as many as the input has partitions, up to this many (each
#: input partition sends a piece to every bucket it has customers of).
MAX_BUCKETS = 64


def _reader(view: str, params: dict[str, Any]) -> Aggregator:
    """An aggregator of `params` for checking them and reading rows; a window without
    as_of takes a stand-in end (the real one, the day after the last valid row, is found
    by a first pass over the rows with this aggregator)."""
    return Aggregator(**{**params, "as_of": _NO_END} if needs_end(view, params) else params)


def _text(value: Any, name: str) -> Any:
    """A date parameter in a form that travels to the workers unchanged; a value that is
    no date (e.g. the integer 20240630) is the error of one machine."""
    if value is None:
        return value
    stamp = _columns.to_timestamp(value, name)
    return value if isinstance(value, str) else stamp.isoformat()


def needs_end(view: str, params: dict[str, Any]) -> bool:
    """Whether the global end must be found before the rows are aggregated: an RFM window
    without `as_of` (the other ends are found from the partitions' states)."""
    return view == "rfm" and params.get("window") is not None and params.get("as_of") is None


class _PeriodsOnly(Aggregator):
    """An aggregator of the BTYD periods only, also with amounts (a plain one keeps the
    RFM records too when given amounts): its state splits by customer."""

    def _state_options(self, tz: str | None) -> dict[str, Any]:
        return {**super()._state_options(tz), "rfm": False, "as_of_day": None, "window": None}


def _aggregator(view: str, params: dict[str, Any]) -> Aggregator:
    """The aggregator of a partition: its rows come as Arrow batches, its tables are
    pandas (what the partitions' code works on)."""
    aggregator = Aggregator(**params) if view == "rfm" else _PeriodsOnly(**params)
    aggregator._frontend = "pandas"
    return aggregator


#: Rows given to an aggregator at once (a cluster's batches are small: Spark's hold 10,000).
CHUNK_ROWS = 1 << 20


def partition_states(
    batches: Iterable[Any], view: str, params: dict[str, Any], buckets: int
) -> tuple[dict[int, bytes], int | None]:
    """The state of a partition's rows (Arrow record batches or pandas frames) split into
    `buckets` by customer, ``{bucket: Aggregator bytes}`` for each bucket that holds a
    customer (or, bucket 0, a dropped row), and the last valid time of the rows
    (wall-clock nanoseconds; None without a valid row)."""
    aggregator = _aggregator(view, params)
    with _rows_of_a_partition():
        for chunk in _chunks(batches):
            aggregator.update(chunk)
    latest = aggregator._state.max_time if aggregator._state is not None else None
    pieces = {
        bucket: piece.to_bytes()
        for bucket, piece in enumerate(split(aggregator, buckets))
        if piece.rows_in or (piece._state is not None and piece._state.n_customers)
    }
    return pieces, latest


def _chunks(batches: Iterable[Any]) -> Iterator[Any]:
    """The batches as tables of about `CHUNK_ROWS` rows (Arrow) or one by one (pandas)."""
    import pyarrow as pa

    pending: list[Any] = []
    rows = 0
    for batch in batches:
        if not _rows(batch):
            continue
        if not isinstance(batch, pa.RecordBatch):
            yield batch
            continue
        pending.append(batch)
        rows += batch.num_rows
        if rows >= CHUNK_ROWS:
            yield pa.Table.from_batches(pending)
            pending, rows = [], 0
    if pending:
        yield pa.Table.from_batches(pending)


def bucket_table(
    pieces: Iterable[bytes],
    view: str,
    params: dict[str, Any],
    finish: dict[str, Any],
    last: int | None,
    like: Any = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The view of the customers of one bucket (or of several), from the partitions'
    pieces of it: merged, told the last valid time `last` of all the rows, finished as a
    pandas frame with the customer id as a column; with its accounting. No pieces: the
    view of no row (its columns and types, those of the rows `like` when given), or the
    error of one machine for it."""
    kind = Aggregator if view == "rfm" else _PeriodsOnly
    aggregator = _aggregator(view, params)
    if like is not None:
        aggregator.update(like.iloc[:0])  # no row: only the types of the columns
    for data in pieces:
        aggregator.merge(kind.from_bytes(data))
    if last is not None:
        if aggregator._state is None:
            aggregator._state = aggregator._state_or_empty()
        aggregator._state.note_max_time(last)
    return _finished(aggregator, view, finish)


def _finished(aggregator: Aggregator, view: str, finish: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    # The driver warns once, with the counts of every partition.
    token = _columns.QUIET.set(True)
    try:
        if view == "rfm":
            table = aggregator.finish()
        elif view == "summary":
            table = aggregator.summary(**finish)
        else:
            table = aggregator.calibration_holdout(**finish)
    finally:
        _columns.QUIET.reset(token)
    accounting = dict(table.attrs.get("rfmkit", {}))
    table = table.reset_index()
    table.attrs = {}
    return table, accounting


def last_valid_time(batches: Iterable[Any], params: dict[str, Any]) -> int | None:
    """The last valid timestamp of a partition's rows (wall-clock nanoseconds), by the
    engine's row rule; `None` without a valid row."""
    aggregator = _reader("rfm", params)
    latest: int | None = None
    for batch in batches:
        if _rows(batch) == 0:
            continue
        if hasattr(batch, "num_rows") and not hasattr(batch, "num_chunks"):
            import pyarrow as pa

            batch = pa.Table.from_batches([batch])  # a record batch: read as a table
        with _rows_of_a_partition():
            ticks = aggregator._last_valid_time(batch)
        if ticks is not None and (latest is None or ticks > latest):
            latest = ticks
    return latest


#: The `as_of` that a window is aggregated with when no row is valid (every row is then
#: dropped as invalid whatever the end; the accounting says ``as_of: None``, as one
#: machine's).
_NO_END = "2000-01-01"


def with_end(view: str, params: dict[str, Any], last: int | None) -> dict[str, Any]:
    """`params` with `as_of` made from the latest valid timestamp `last` as one machine
    makes it (the day after it), when `needs_end`."""
    if not needs_end(view, params):
        return params
    if last is None:
        return {**params, "as_of": _NO_END}
    day = last // NS_PER_DAY + 1
    return {**params, "as_of": (pd.Timestamp(0) + pd.Timedelta(days=int(day))).date().isoformat()}


def total_accounting(
    parts: Iterable[dict[str, Any]], function: str, *, base: dict[str, Any], end_found: bool, stacklevel: int
) -> dict[str, Any]:
    """`add_accountings`, with ``as_of: None`` when the first pass found no valid row
    (`end_found` false: the rows were aggregated with the stand-in end of `with_end`)."""
    total = add_accountings(parts, function, base=base, stacklevel=stacklevel + 1)
    if not end_found:
        total["as_of"] = None
    return total


@contextlib.contextmanager
def _rows_of_a_partition() -> Iterator[None]:
    """Says, in an `InvalidRowError` (``invalid="raise"``, ``returns="raise"``), that its
    row number counts within one partition, not in the input."""
    from rfmkit.exceptions import InvalidRowError

    try:
        yield
    except InvalidRowError as error:
        raise InvalidRowError(
            f"{error} [the row number counts within one partition of the cluster's rows, not in the input: look "
            f"for the value]"
        ) from None


def _rows(batch: Any) -> int:
    return int(batch.num_rows) if hasattr(batch, "num_rows") else len(batch)


def add_accountings(
    parts: Iterable[dict[str, Any]], function: str, *, base: dict[str, Any] | None = None, stacklevel: int = 3
) -> dict[str, Any]:
    """The accountings of the partitions added up (the counts; the other entries, the
    same in every partition, taken once; those of `base`, the accounting of no rows,
    when no partition has them), with the single-machine warning when rows were
    dropped."""
    total: dict[str, Any] = {"rows_in": 0, "rows_used": 0, "dropped": {}}
    for part in parts:
        total["rows_in"] += int(part.get("rows_in", 0))
        total["rows_used"] += int(part.get("rows_used", 0))
        for reason, count in part.get("dropped", {}).items():
            total["dropped"][reason] = total["dropped"].get(reason, 0) + int(count)
        for key, value in part.items():
            if key not in ("rows_in", "rows_used", "dropped") and value is not None:
                total.setdefault(key, value)
    for key, value in (base or {}).items():
        total.setdefault(key, value)
    dropped = sum(total["dropped"].values())
    if dropped:
        detail = ", ".join(f"{count} {reason}" for reason, count in total["dropped"].items())
        warnings.warn(
            f"{function} dropped {dropped} of {total['rows_in']} rows ({detail}); the counts are in result.accounting",
            DataQualityWarning,
            stacklevel=stacklevel,
        )
    return total


def check_text_dates(kind: str, date_format: str | None, frontend: str) -> None:
    """Dates that are not timestamps (`kind` "text" or "number") need `date_format` on a
    cluster: each partition would otherwise infer its own format from its own rows."""
    if date_format is not None or kind not in ("text", "number"):
        return
    if kind == "number":
        raise InvalidParameterError(
            f"the date column holds numbers: on {frontend}, give their format, e.g. date_format='%Y%m%d' for "
            f"20240131 (or 'unix' / 'unix_ms' for epoch seconds / milliseconds, 'excel' for Excel serial days)"
        )
    raise InvalidParameterError(
        f"the date column holds text: on {frontend}, give date_format= (e.g. '%Y-%m-%d' or '%d/%m/%Y'), or "
        f"cast the column to a timestamp first, so that every partition reads the dates the same way"
    )


# ---------------------------------------------------------------------------- scores


@dataclass(frozen=True)
class ScoreRule:
    """How every customer of a cluster's table is scored: for each metric, its sorted
    distinct values and their scores (from the whole table's histogram), or
    ``{"thresholds": edges}`` (scored by `rfmkit.score` itself); with the bins and weights,
    and `info`, what ``attrs["rfmkit"]["score"]`` of `rfmkit.score` records."""

    steps: dict[str, Any]
    bins: int
    weights: tuple[Any, ...]
    info: dict[str, Any]


def score_rule(histograms: dict[str, Any], *, bins: Any, method: str, thresholds: Any, weights: Any) -> ScoreRule:
    """The rule of `rfmkit.score` for a table known by `histograms` (metric -> (distinct
    values, counts)); `histograms` is not read for ``method="thresholds"``."""
    import numpy as np

    from rfmkit import _core, _scores

    bins = _scores.check_bins(bins)
    _scores.check_method(method, thresholds)
    weight_values = _scores._weights(weights)
    steps: dict[str, Any] = {}
    levels: dict[str, int] = {}
    if thresholds is not None:
        # Edges score each value on its own: every partition is scored by `rfmkit.score`
        # (which checks the edges; here once, on no customer).
        _scores.score(
            pd.DataFrame({m: np.empty(0) for m in _scores.METRICS}),
            bins=bins,
            method=method,
            thresholds=thresholds,
            weights=weights,
        )
        steps = {"thresholds": thresholds}
    else:
        for metric in _scores.METRICS:
            values, counts = histograms[metric]
            values = np.asarray(values, dtype=np.float64)
            if values.size == 0:
                # No customer: nothing to score (as `rfmkit.score` on an empty table).
                steps[metric] = (values, np.empty(0, dtype=np.int64))
                levels[metric] = 0
                continue
            scores = _core.histogram_scores(
                values,
                np.asarray(counts, dtype=np.int64),
                bins=bins,
                method=method,
                lower_is_better=metric == "recency",
                name=metric,
            )
            order = np.argsort(values, kind="stable")
            steps[metric] = (values[order], scores[order])
            levels[metric] = int(np.unique(scores).size)
    info = {
        "bins": bins,
        "method": method,
        "thresholds": None if thresholds is None else {k: [float(x) for x in v] for k, v in thresholds.items()},
        "weights": [float(w) for w in weight_values],
        "levels": levels,
    }
    return ScoreRule(steps, bins, weight_values, info)


def apply_scores(frame: pd.DataFrame, rule: ScoreRule, *, code_as_text: bool) -> pd.DataFrame:
    """`frame` (a partition of the customer table) with the score columns of
    `rfmkit.score`, by `rule`."""
    import numpy as np

    from rfmkit import _scores

    if "thresholds" in rule.steps:
        out = _scores.score(
            frame, bins=rule.bins, method="thresholds", thresholds=rule.steps["thresholds"], weights=rule.weights
        )
        out.attrs = {}
        if code_as_text:
            out["rfm_code"] = out["rfm_code"].astype(object)
        return out
    out = frame.copy()
    scores = []
    for metric, column in zip(_scores.METRICS, _scores.SCORE_COLUMNS):
        values = np.asarray(frame[metric], dtype=np.float64)
        if not np.isfinite(values).all():
            raise InvalidDataError(
                f"the {metric!r} column holds a NaN or infinite value; scores need finite numbers: drop or fill "
                f"those customers first"
            )
        distinct, of_distinct = rule.steps[metric]
        at = np.minimum(np.searchsorted(distinct, values, side="left"), max(len(distinct) - 1, 0))
        if len(values) and not (len(distinct) and np.array_equal(distinct[at], values)):
            raise InvalidParameterError(f"a {metric} value of this partition is not in the table's histogram")
        score = of_distinct[at] if len(values) else np.empty(0, dtype=np.int64)
        score = np.asarray(score, dtype=np.int64)
        out[column] = score
        scores.append(score)
    r, f, m = scores
    codes = (r - 1) * rule.bins * rule.bins + (f - 1) * rule.bins + (m - 1)
    labels = _scores.code_labels(rule.bins)
    if code_as_text:
        out["rfm_code"] = np.asarray(labels, dtype=object)[codes]
    else:
        out["rfm_code"] = pd.Categorical.from_codes(codes, categories=pd.Index(labels), ordered=True)
    w = rule.weights
    total = w[0] * r.astype(np.float64) + w[1] * f.astype(np.float64) + w[2] * m.astype(np.float64)
    if all(float(x).is_integer() for x in w):
        total = total.astype(np.int64)
    out["rfm_score"] = total
    return out


# ---------------------------------------------------------------------------- segments

#: The raw columns classic8 splits.
CLASSIC8_COLUMNS = ("recency", "frequency", "monetary")


def partial_sums(frame: pd.DataFrame, columns: tuple[Any, ...]) -> dict[str, Any]:
    """Per column of a partition: its row count and the floats whose exact sum is the
    column's (`_core.exact_partials`), to be added up with `math.fsum` over the partitions."""
    import numpy as np

    from rfmkit import _core

    out = {}
    for column in columns:
        values = np.asarray(frame[column], dtype=np.float64)
        if not np.isfinite(values).all():
            raise InvalidDataError(
                f"the {column!r} column holds a NaN or infinite value; segments need finite numbers: drop or fill "
                f"those customers first"
            )
        out[column] = (len(values), _core.exact_partials(values).tolist())
    return out


def mean_of_partials(parts: Iterable[dict[str, Any]], columns: tuple[Any, ...]) -> dict[str, Any]:
    """The means `rfmkit.segment` splits at (`_segments.mean`), from the partitions'
    `partial_sums`."""
    import math

    out = {}
    for column in columns:
        count = 0
        partials: list[Any] = []
        for part in parts:
            n, pieces = part[column]
            count += n
            partials.extend(pieces)
        out[column] = math.fsum(partials) / count if count else 0.0
    return out


def median_of_histogram(values: Any, counts: Any) -> float:
    """`numpy.median` of the column whose distinct `values` occur `counts` times."""
    import numpy as np

    values = np.asarray(values, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.int64)
    if not np.isfinite(values).all():
        raise InvalidDataError("a NaN or infinite value: segments need finite numbers; drop or fill those customers")
    order = np.argsort(values, kind="stable")
    values, counts = values[order], counts[order]
    n = int(counts.sum())
    if n == 0:
        return 0.0
    ends = np.cumsum(counts)
    low = values[int(np.searchsorted(ends, (n - 1) // 2, side="right"))]
    high = values[int(np.searchsorted(ends, n // 2, side="right"))]
    return float(low) if n % 2 else float((low + high) / 2)


def segment_options(scheme: Any, split: Any, bins: Any, top_score: Any) -> dict[str, Any]:
    """The options of `rfmkit.segment` every partition is segmented with: classic8's
    split values (``split`` as numbers), or the bins of the score schemes (given, else 5
    when the highest score of the table is 5, as `rfmkit.segment` guesses)."""
    from rfmkit import _scores

    if scheme == "classic8":
        return {"split": split}
    if bins is not None:
        return {"bins": _scores.check_bins(bins)}
    if top_score is not None and float(top_score) != 5.0:
        raise InvalidParameterError(
            f"the table's highest score is {float(top_score):g}, not 5, and a cluster's table records no bins: pass "
            f"bins= (the bins given to score, e.g. bins={max(2, min(9, int(top_score)))})"
        )
    return {"bins": 5}


def apply_segment(
    frame: pd.DataFrame, scheme: Any, lang: str, options: dict[str, Any], *, code_as_text: bool
) -> pd.DataFrame:
    """`frame` (a partition of the customer table) with the ``segment`` column of
    `rfmkit.segment`."""
    from rfmkit._segments import segment

    out = segment(frame, scheme, lang=lang, **options)
    out.attrs = {}
    if code_as_text:
        out["segment"] = out["segment"].astype(object)
    return out


def segment_info(empty: pd.DataFrame, scheme: Any, lang: str, options: dict[str, Any]) -> dict[str, Any]:
    """What ``attrs["rfmkit"]["segment"]`` of `rfmkit.segment` records, for `options`."""
    from rfmkit._segments import segment

    return {"segment": segment(empty, scheme, lang=lang, **options).attrs["rfmkit"]["segment"]}


# ---------------------------------------------------------------------------- predictions


@dataclass(frozen=True)
class Prediction:
    """What `predict` adds to each partition of a customer table, and from which columns."""

    model: Any
    kind: str
    needs: tuple[Any, ...]
    adds: tuple[Any, ...]
    options: dict[str, Any]


def prediction(model: Any, *, t: Any, purchase_model: Any, time: Any, discount_rate: Any, freq: Any) -> Prediction:
    """The predictions of a fitted `model` (checked on the driver by predicting for no
    customer): ``BetaGeoFitter`` → ``p_alive`` (and ``expected_purchases`` over `t`
    periods); ``GammaGammaFitter`` → ``expected_spend`` (and ``clv`` with the
    `purchase_model`, over `time` months at `discount_rate` a month); `rfmkit.KMeans` →
    ``cluster``."""
    import numpy as np

    from rfmkit._cluster import KMeans
    from rfmkit.clv import BetaGeoFitter, GammaGammaFitter

    options = {"t": t, "purchase_model": purchase_model, "time": time, "discount_rate": discount_rate, "freq": freq}
    if isinstance(model, BetaGeoFitter):
        needs: tuple[Any, ...] = ("frequency", "recency", "T")
        adds: tuple[Any, ...] = ("p_alive",) + (("expected_purchases",) if t is not None else ())
        kind = "purchases"
    elif isinstance(model, GammaGammaFitter):
        if purchase_model is not None and not isinstance(purchase_model, BetaGeoFitter):
            raise InvalidParameterError("purchase_model must be a fitted rfmkit.clv.BetaGeoFitter")
        needs = ("frequency", "monetary_value") + (("recency", "T") if purchase_model is not None else ())
        adds = ("expected_spend",) + (("clv",) if purchase_model is not None else ())
        kind = "spend"
    elif isinstance(model, KMeans):
        names = getattr(model, "feature_names_in_", None)
        if names is None:
            from rfmkit.exceptions import NotFittedError

            raise NotFittedError("the KMeans model is not fitted: fit it (on the table or a sample of it) first")
        needs = tuple(str(name) for name in names)
        adds = ("cluster",)
        kind = "clusters"
    else:
        given = type(model)
        raise InvalidParameterError(
            f"model must be a fitted rfmkit.clv.BetaGeoFitter, rfmkit.clv.GammaGammaFitter or rfmkit.KMeans, got "
            f"{given.__module__}.{given.__qualname__}"
        )
    plan = Prediction(model, kind, needs, adds, options)
    apply_prediction(pd.DataFrame({name: np.empty(0, dtype=np.float64) for name in needs}), plan)
    return plan


def apply_prediction(frame: pd.DataFrame, plan: Prediction) -> pd.DataFrame:
    """`frame` (a partition of the customer table) with the columns of `plan`, computed
    by the single-machine model row by row."""
    import numpy as np

    out = frame.copy()
    column = {name: np.asarray(frame[name], dtype=np.float64) for name in plan.needs}
    model, options = plan.model, plan.options
    if plan.kind == "purchases":
        f, r, T = column["frequency"], column["recency"], column["T"]
        out["p_alive"] = np.asarray(model.conditional_probability_alive(f, r, T), dtype=np.float64)
        if options["t"] is not None:
            out["expected_purchases"] = np.asarray(
                model.conditional_expected_number_of_purchases_up_to_time(options["t"], f, r, T), dtype=np.float64
            )
    elif plan.kind == "spend":
        f, m = column["frequency"], column["monetary_value"]
        out["expected_spend"] = np.asarray(model.conditional_expected_average_profit(f, m), dtype=np.float64)
        if options["purchase_model"] is not None:
            out["clv"] = np.asarray(
                model.customer_lifetime_value(
                    options["purchase_model"],
                    f,
                    column["recency"],
                    column["T"],
                    m,
                    time=options["time"],
                    discount_rate=options["discount_rate"],
                    freq=options["freq"],
                ),
                dtype=np.float64,
            )
    else:
        features = pd.DataFrame({name: column[name] for name in plan.needs})
        out["cluster"] = np.asarray(model.predict(features), dtype=np.int64) if len(features) else np.empty(0, np.int64)
    return out
