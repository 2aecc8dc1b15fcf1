"""rfmkit on Dask: the RFM table, the BTYD summary and the calibration/holdout split of
a Dask DataFrame of transactions, equal bit for bit to `rfmkit.rfm`,
`rfmkit.clv.summary` and `rfmkit.clv.calibration_holdout` on the same rows.

Needs ``pip install 'rfmkit[dask]'``. How it works (`rfmkit._distributed`): when the end
is not given, one pass finds the last valid date with the engine's row rule; then the
rows are shuffled on the customer column and every partition goes through the
single-machine engine with that end. Each call computes its result and keeps it
persisted (in the cluster's memory with a distributed client), so that the accounting
can be returned with it. Text dates need ``date_format=``.

Examples
--------
>>> import dask.dataframe as dd                               # doctest: +SKIP
>>> orders = dd.read_parquet("orders/")                       # doctest: +SKIP
>>> table, accounting = rfmkit.dask.rfm(orders, customer="customer_id",
...     date="ordered_at", amount="amount")                   # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from rfmkit import _distributed
from rfmkit._distributed import Result
from rfmkit.exceptions import ColumnNotFoundError, InvalidParameterError

__all__ = ["Result", "rfm", "summary", "calibration_holdout", "score", "segment", "predict"]


def rfm(
    ddf: Any,
    *,
    customer: str,
    date: str,
    amount: str,
    order: str | None = None,
    as_of: Any = None,
    window: Any = None,
    zero: str = "drop",
    returns: str = "net",
    invalid: str = "drop",
    date_format: str | None = None,
    dayfirst: bool | None = None,
    partitions: int | None = None,
) -> Result:
    """The RFM table of a Dask DataFrame, as `rfmkit.rfm` gives it on one machine.

    Parameters are those of `rfmkit.rfm`; `partitions` is the number of partitions the
    rows are shuffled into by customer (default: as many as the input has).

    Returns
    -------
    Result
        ``(table, accounting)``: a Dask DataFrame indexed by customer id with the columns
        of `rfmkit.rfm`, and the accounting dict.
    """
    params = _distributed.row_params(
        "rfm", customer=customer, date=date, amount=amount, order=order, as_of=as_of, window=window, zero=zero,
        returns=returns, invalid=invalid, date_format=date_format, dayfirst=dayfirst,
    )
    return _run(ddf, "rfm", params, {}, partitions, "rfmkit.dask.rfm")


def summary(
    ddf: Any,
    *,
    customer: str,
    date: str,
    amount: str | None = None,
    freq: str = "D",
    freq_multiplier: float = 1,
    observation_period_end: Any = None,
    include_first_transaction: bool = False,
    zero: str = "keep",
    returns: str = "drop",
    invalid: str = "drop",
    date_format: str | None = None,
    dayfirst: bool | None = None,
    partitions: int | None = None,
) -> Result:
    """The BTYD summary of a Dask DataFrame, as `rfmkit.clv.summary` gives it on one
    machine; see `rfm` for the result."""
    params = _distributed.row_params(
        "summary", customer=customer, date=date, amount=amount, freq=freq,
        observation_period_end=observation_period_end, zero=zero, returns=returns, invalid=invalid,
        date_format=date_format, dayfirst=dayfirst,
    )
    finish = {"freq_multiplier": freq_multiplier, "include_first_transaction": include_first_transaction}
    return _run(ddf, "summary", params, finish, partitions, "rfmkit.dask.summary")


def calibration_holdout(
    ddf: Any,
    *,
    customer: str,
    date: str,
    calibration_period_end: Any,
    observation_period_end: Any = None,
    amount: str | None = None,
    freq: str = "D",
    freq_multiplier: float = 1,
    include_first_transaction: bool = False,
    zero: str = "keep",
    returns: str = "drop",
    invalid: str = "drop",
    date_format: str | None = None,
    dayfirst: bool | None = None,
    partitions: int | None = None,
) -> Result:
    """The calibration summary and holdout columns of a Dask DataFrame, as
    `rfmkit.clv.calibration_holdout` gives them on one machine; see `rfm`."""
    params = _distributed.row_params(
        "calibration_holdout", customer=customer, date=date, amount=amount, freq=freq,
        observation_period_end=observation_period_end, calibration_period_end=calibration_period_end, zero=zero,
        returns=returns, invalid=invalid, date_format=date_format, dayfirst=dayfirst,
    )
    finish = {"freq_multiplier": freq_multiplier, "include_first_transaction": include_first_transaction}
    return _run(ddf, "calibration_holdout", params, finish, partitions, "rfmkit.dask.calibration_holdout")


def _run(ddf: Any, view: str, params: dict, finish: dict, partitions: int | None, function: str) -> Result:
    import dask
    import dask.dataframe as dd
    import pandas as pd

    names = [params["customer"], params["date"]] + [
        params[key] for key in ("amount", "order") if params.get(key) is not None
    ]
    for role, name in zip(("customer", "date", "amount", "order"), names):
        if name not in ddf.columns:
            raise ColumnNotFoundError(
                f"{role}={name!r} is not a column of the DataFrame; its columns are {sorted(map(str, ddf.columns))}"
            )
    if partitions is not None and (not isinstance(partitions, int) or isinstance(partitions, bool) or partitions < 1):
        raise InvalidParameterError(f"partitions must be a positive integer, got {partitions!r}")
    date_kind = ddf[params["date"]].dtype
    _distributed.check_text_dates(not pd.api.types.is_datetime64_any_dtype(date_kind), params["date_format"], "Dask")
    rows = ddf[names]
    if _distributed.needs_end(view, params):
        parts = [dask.delayed(_distributed.last_valid_time)([part], params) for part in rows.to_delayed()]
        latest = [value for value in dask.compute(*parts) if value is not None]
        params = _distributed.with_end(view, params, max(latest) if latest else None)
    spread = rows.shuffle(on=params["customer"], npartitions=partitions or rows.npartitions)
    results = [dask.delayed(_partition)(part, view, params, finish) for part in spread.to_delayed()]
    results = list(dask.persist(*results))
    accountings = dask.compute(*[dask.delayed(_second)(result) for result in results])
    accounting = _distributed.add_accountings(accountings, function, stacklevel=4)
    table = dd.from_delayed([dask.delayed(_first)(result) for result in results])
    return Result(table, accounting)


def _partition(part: Any, view: str, params: dict, finish: dict) -> tuple[Any, dict]:
    """The single-machine view of one partition, indexed by customer id."""
    table, accounting = _distributed.partition_table([part], view, params, finish)
    table = table.set_index(table.columns[0])
    if not len(table):
        # No customer here: the index takes the id column's type, as the others do.
        table.index = part[params["customer"]].iloc[:0].dropna().astype(part[params["customer"]].dtype)
    return table, accounting


def _first(pair: tuple[Any, dict]) -> Any:
    return pair[0]


def _second(pair: tuple[Any, dict]) -> dict:
    return pair[1]


def score(
    table: Any,
    *,
    bins: int = 5,
    method: str = "quantile",
    thresholds: Any = None,
    weights: Any = (1, 1, 1),
) -> Result:
    """R, F and M scores of a Dask customer table, as `rfmkit.score` gives them on the
    whole table; the quantile rules collect each metric's histogram (distinct values and
    counts), never the table. Returns ``(table, info)`` as `rfmkit.spark.score`, with
    ``rfm_code`` categorical as on one machine."""
    import dask

    from rfmkit import _scores

    for metric in _scores.METRICS:
        if metric not in table.columns:
            raise ColumnNotFoundError(
                f"the table has no {metric!r} column; its columns are {sorted(map(str, table.columns))}"
            )
    histograms = {}
    if method != "thresholds":
        counts = dask.compute(*[table[metric].value_counts(dropna=False) for metric in _scores.METRICS])
        for metric, count in zip(_scores.METRICS, counts):
            histograms[metric] = (count.index.to_numpy(dtype="float64", na_value=float("nan")), count.to_numpy())
    rule = _distributed.score_rule(histograms, bins=bins, method=method, thresholds=thresholds, weights=weights)
    meta = _distributed.apply_scores(table._meta, rule, code_as_text=False)
    scored = table.map_partitions(_distributed.apply_scores, rule, code_as_text=False, meta=meta)
    info = dict(rule.info)
    if method == "thresholds":
        used = dask.compute(*[scored[c].unique() for c in _scores.SCORE_COLUMNS])
        info["levels"] = {metric: int(len(u)) for metric, u in zip(_scores.METRICS, used)}
    return Result(scored, {"score": info})


def segment(table: Any, scheme: Any = "rfm11", *, lang: str = "en", split: Any = "mean", bins: Any = None) -> Result:
    """Rule-based segments of a Dask customer table, as `rfmkit.segment` gives them on the
    whole table (an ordered categorical ``segment``); see `rfmkit.spark.segment`."""
    import dask

    from rfmkit import _scores
    from rfmkit._segments import check_lang, split_values

    lang = check_lang(lang)
    empty = table._meta
    if scheme == "classic8":
        columns = _distributed.CLASSIC8_COLUMNS
        for column in columns:
            if column not in table.columns:
                raise ColumnNotFoundError(f"classic8 splits {column!r}, and the table has no such column")
        if split == "mean":
            parts = [dask.delayed(_distributed.partial_sums)(part, columns) for part in table[list(columns)].to_delayed()]
            at = _distributed.mean_of_partials(dask.compute(*parts), columns)
        elif split == "median":
            counts = dask.compute(*[table[c].value_counts(dropna=False) for c in columns])
            at = {c: _distributed.median_of_histogram(count.index.to_numpy(dtype="float64", na_value=float("nan")),
                                                      count.to_numpy()) for c, count in zip(columns, counts)}
        else:
            at = split_values({c: empty[c].to_numpy() for c in columns}, split)
        options = _distributed.segment_options(scheme, at, bins, None)
    else:
        top = None
        if bins is None and all(c in table.columns for c in _scores.SCORE_COLUMNS):
            top = max(dask.compute(*[table[c].max() for c in _scores.SCORE_COLUMNS]))
        options = _distributed.segment_options(scheme, split, bins, top)
    info = _distributed.segment_info(empty, scheme, lang, options)
    meta = _distributed.apply_segment(empty, scheme, lang, options, code_as_text=False)
    segmented = table.map_partitions(_distributed.apply_segment, scheme, lang, options, code_as_text=False, meta=meta)
    return Result(segmented, info)


def predict(
    table: Any,
    model: Any,
    *,
    t: Any = None,
    purchase_model: Any = None,
    time: int = 12,
    discount_rate: float = 0.01,
    freq: str | None = None,
) -> Result:
    """Predictions of a model fitted on one machine, added to every customer of a Dask
    table partition by partition; see `rfmkit.spark.predict`."""
    plan = _distributed.prediction(
        model, t=t, purchase_model=purchase_model, time=time, discount_rate=discount_rate, freq=freq
    )
    missing = [name for name in plan.needs if name not in table.columns]
    if missing:
        raise ColumnNotFoundError(
            f"{type(model).__name__} predicts from {list(plan.needs)}, and the table has no {missing}"
        )
    meta = _distributed.apply_prediction(table._meta, plan)
    info = {"predict": {"model": type(model).__name__, "columns": list(plan.adds)}}
    return Result(table.map_partitions(_distributed.apply_prediction, plan, meta=meta), info)
