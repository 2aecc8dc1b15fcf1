"""`rfmkit.analyze`: one call from a transaction export to a `Report`, as a pipeline of
steps (RFM table, scores and segments, CLV models, value tiers, clusters, comparison)."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pandas as pd

from rfmkit._io import frames
from rfmkit._io import sources as _sources
from rfmkit._params import ROWS, arguments, pick
from rfmkit._progress import Steps
from rfmkit._report.report import NET_NEGATIVE_ROW, Report
from rfmkit._text import CLV_MODEL_NAMES
from rfmkit.clv._models import BetaGeoFitter, ModifiedBetaGeoFitter
from rfmkit.clv._pareto import ParetoNBDFitter
from rfmkit.exceptions import (
    ConvergenceError,
    DataQualityWarning,
    InternalError,
    InvalidDataError,
    InvalidParameterError,
    RfmkitError,
)


def analyze(
    data: Any,
    *,
    customer: str,
    date: str,
    amount: str,
    order: str | None = None,
    as_of: Any = None,
    window: Any = None,
    scheme: Any = "rfm11",
    actions: Any = None,
    bins: int = 5,
    k: Any = "auto",
    k_range: Any = range(3, 9),
    clv: bool = True,
    clv_model: str = "bgnbd",
    margin: float = 1.0,
    clv_horizon: int = 12,
    discount_rate: float = 0.01,
    churn_after: int = 365,
    cohorts: str | None = "M",
    holdout_days: int | None = 90,
    lang: str = "en",
    random_state: int | None = 0,
    progress: bool = True,
    zero: str | None = None,
    returns: str = "net",
    invalid: str = "drop",
    date_format: str | None = None,
    dayfirst: bool | None = None,
) -> Report:
    """From a transaction table to a `Report`: RFM, scores, segments, value tiers, K-means
    clusters with a chosen k, segments vs clusters, KPIs and CLV — in one call.

    Parameters
    ----------
    data : table, or an input read in batches
        One row per transaction (or order line with `order`), as for `rfmkit.rfm`. An
        input read in batches is read twice with `clv` (the RFM table, then the BTYD
        summary): files, a Dataset, a LazyFrame or a list of record batches, not a reader.
    customer, date, amount, order, as_of, window, returns, invalid, date_format, dayfirst
        As for `rfmkit.rfm`. `window` applies to the RFM table, the scores, segments and
        clusters; the CLV models are fitted on each customer's whole history up to
        `as_of` (a window would make long-standing customers look new to BG/NBD).
    zero : {"drop", "keep"} or None, default None
        Zero-amount rows. ``None`` lets each step use its own default: the RFM table
        drops them (`rfmkit.rfm`: frequency and monetary count paid purchases), the BTYD
        summary of the CLV step keeps them as purchases (`rfmkit.clv.summary`, as
        lifetimes and the papers). ``"drop"`` or ``"keep"`` applies to both steps.
    scheme : str or SegmentScheme, default "rfm11"
        The segment scheme (`rfmkit.segment`).
    actions : None, False or mapping, default None
        The recommended action per segment in ``report.segments["action"]`` (see
        `rfmkit.segment_summary`): the built-in ones of the scheme (a `SegmentScheme`: its
        ``actions``), your own as a mapping of label -> action, or none with False.
    bins : int, default 5
        Quantile score bins (`rfmkit.score`).
    k : "auto", int or None, default "auto"
        Clusters: ``"auto"`` picks k with `rfmkit.choose_k` over `k_range` (the k with the
        highest silhouette); an int of at least 2 fits that many; ``None`` (or 0) skips
        clustering.
    k_range : iterable of int, default range(3, 9)
        The k tried by ``k="auto"``. It starts at 3: RFM features often split best into
        "active" and "lapsed", which is too coarse to act on; pass ``range(2, 9)`` to
        let 2 win.
    clv : bool, default True
        Fit BG/NBD + Gamma-Gamma on the daily BTYD summary (`rfmkit.clv.summary` up to
        the day before `as_of`, returns left out and zero amounts kept as that summary
        does by default) and add
        ``p_alive``, ``expected_purchases`` and ``clv`` per customer. When the models
        cannot be fitted (fewer than 10 repeat customers, or a fit that is a limit rather
        than an estimate: `rfmkit.ConvergenceError`, e.g. every repeat customer paying the
        same) the report says why in ``notes`` and the tiers use monetary instead.
    clv_model : {"bgnbd", "mbgnbd", "pareto", "auto"}, default "bgnbd"
        The purchase model of the CLV step: BG/NBD, MBG/NBD (one-time buyers may have
        dropped out: P(alive) < 1 for them), Pareto/NBD (customers may leave at any time),
        or ``"auto"``: the three fitted on the history before the last `holdout_days` (90
        when None), the one whose predictions of each customer's purchases in those days
        have the lowest mean absolute error is kept (``report.clv_model["choice"]`` the
        comparison, shown on the page), then fitted on the whole history.
    margin : float, default 1.0
        Profit margin applied to CLV (1.0: CLV in revenue).
    clv_horizon : int, default 12
        CLV horizon in months; ``expected_purchases`` is over the same horizon.
    discount_rate : float, default 0.01
        Monthly discount rate of the CLV.
    churn_after : int, default 365
        Days without a purchase after which a customer counts as churned (`rfmkit.kpis`).
    holdout_days : int or None, default 90
        With clusters: which grouping tells more about what customers do next. The
        segments and clusters are made again as of `holdout_days` before `as_of` (same
        window, scheme, bins and k), and ``report.comparison.explained`` gives the share
        of the variance of each customer's purchases and spend in those last days that
        each grouping explains, adjusted for the number of groups
        (``comparison.holdout``: the period, its ``end`` the last day). Skipped (with a
        note) when the history before the holdout is shorter than twice the holdout or
        has fewer than 100 customers, or the input is read in batches. None skips it.
        With clusters, ``comparison.stability`` gives their adjusted Rand index against
        refits with 3 other seeds.
    cohorts : str or None, default "M"
        The period of the acquisition cohorts (`rfmkit.cohorts`, in ``report.cohorts``);
        None skips them. An input read in batches gets none (a note says so).
    lang : {"en", "zh"}
        Labels of segments, tiers and cluster names.
    random_state : int or None, default 0
        Seed of the clustering (the same seed gives the same report).
    progress : bool, default True
        A progress bar over the steps (when tqdm is installed).

    Returns
    -------
    Report

    Examples
    --------
    >>> import rfmkit
    >>> orders = rfmkit.datasets.make_transactions(400, seed=2)
    >>> report = rfmkit.analyze(orders, customer="customer_id", date="ordered_at", amount="amount",
    ...                         order="order_id", k=3, progress=False)
    >>> report.customers.columns.tolist()[:3]
    ['recency', 'frequency', 'monetary']
    >>> len(report.clusters), int(report.segments["customers"].sum()) == len(report.customers)
    (3, True)
    >>> sorted(report.kpis)[:3]
    ['active_customers', 'churn_rate', 'customers']
    """
    import rfmkit
    from rfmkit._segments import SegmentScheme

    passed = dict(locals())
    k = None if k == 0 else k
    _check_options(
        data, lang=lang, k=k, clv=clv, clv_horizon=clv_horizon, margin=margin, scheme=scheme, bins=bins, actions=actions
    )
    if clv_model not in CLV_MODELS and clv_model != "auto":
        choices = ", ".join(repr(name) for name in [*CLV_MODELS, "auto"])
        raise InvalidParameterError(f"clv_model={clv_model!r} is not one of {choices}")
    if holdout_days is not None and not (
        isinstance(holdout_days, (int, np.integer))
        and not isinstance(holdout_days, bool)
        and 1 <= holdout_days <= 36_500
    ):
        raise InvalidParameterError(
            f"holdout_days={holdout_days!r} must be a positive whole number of days, at most 36,500 (e.g. 90), or None"
        )
    if cohorts is not None:
        rfmkit._cohorts.check_freq(cohorts)
    settings = arguments(
        analyze, passed, "data", "k_range", "progress", "returns", "invalid", "date_format", "dayfirst"
    )
    settings.update(scheme=scheme if isinstance(scheme, str) else repr(scheme), k=k)
    names = ["RFM table", "scores and segments"]
    if clv:
        names.append("CLV models")
    if cohorts is not None:
        names.append("cohorts")
    if k is not None:
        names.append("which grouping predicts")
    if k is not None:
        names += ["choosing k"] * (k == "auto") + ["clusters", "comparison"]
    steps = Steps(names, enabled=progress)
    notes: list[str] = []
    try:
        steps.start("RFM table")
        given, table = _rfm_step(data, passed, zero)
        kind, info = frames.kind_of(given), table.attrs["rfmkit"]
        # the CLV step reads the same date column: with the format found here, not inferred again
        date_format = date_format or info.get("date_format")
        steps.start("scores and segments")
        scored = rfmkit.score(table, bins=bins)
        customers = rfmkit.segment(scored, scheme, lang=lang)
        fitted_clv: dict[str, Any] = {}
        if clv:
            steps.start("CLV models")
            clv_columns, fitted_clv = _clv(
                data,
                customer,
                date,
                amount,
                info,
                margin,
                clv_horizon,
                discount_rate,
                zero,
                invalid,
                notes,
                {"date_format": date_format, "dayfirst": dayfirst},
                choice=clv_model,
                holdout_days=holdout_days or 90,
            )
            if clv_columns is not None:
                customers = customers.join(clv_columns)
        cohort_table = None
        if cohorts is not None and len(customers) > 0:
            steps.start("cohorts")
            cohort_table = _cohort_step(data, {**passed, "date_format": date_format}, cohorts, notes)
        tier_by = "clv" if "clv" in customers.columns else "monetary"
        customers = rfmkit.value_tiers(customers, by=tier_by, lang=lang)
        clustering = _Clustering()
        if k is not None and len(customers) > 0:
            clustering = _cluster_step(customers, k, k_range, random_state, scheme, lang, steps, notes)
        if clustering.comparison is not None:
            steps.start("which grouping predicts")
            found = {"stability": _stability(clustering, random_state)}
            if holdout_days is not None:
                found.update(_holdout(data, passed, clustering, info, bins=bins, notes=notes))
            clustering.comparison = dataclasses.replace(clustering.comparison, **found)
        clusters, choose, comparison = clustering.profile, clustering.choose_k, clustering.comparison
        if len(customers) == 0:
            notes.append(
                f"no customers: none of the {info['rows_in']:,} rows is a purchase to count "
                f"(dropped: {info['dropped'] or 'none'}); the report's tables are empty"
            )
        own_actions = scheme if actions is None and isinstance(scheme, SegmentScheme) else actions
        segments = rfmkit.segment_summary(customers, by="segment", actions=own_actions)
        tiers = rfmkit.segment_summary(customers, by="tier")
        kpis = rfmkit.kpis(customers, churn_after=churn_after)
    finally:
        steps.close()
    customers.attrs["rfmkit"] = info
    quality = _quality_table(info, clustering.net_negative)

    def back(table: Any) -> Any:  # in the kind of table the caller gave
        return None if table is None else frames.from_pandas(table, kind, frames.info_of(table) or None)

    # The pandas tables, as the report's own figures, page and files use them.
    own = {"customers": customers, "segments": segments, "clusters": clusters, "choose_k": choose}
    own.update(tiers=tiers, quality=quality, crosstab=comparison.crosstab if comparison is not None else None)
    if kind != "pandas":
        if not customers.index.equals(table.index):  # every step keeps the customers in order
            raise InternalError("analyze: the customer table lost the order of the RFM table")
        added = [name for name in customers.columns if name not in table.columns]
        customers_given = frames.append_columns(given, customers[added], info)
    else:
        customers_given = customers
    if comparison is not None:
        comparison = dataclasses.replace(
            comparison,
            crosstab=back(comparison.crosstab),
            row_shares=back(comparison.row_shares),
            column_shares=back(comparison.column_shares),
            clusters=back(comparison.clusters),
        )
    report = Report(
        customers=customers_given,
        segments=back(segments),
        clusters=back(clusters),
        choose_k=back(choose),
        comparison=comparison,
        tiers=back(tiers),
        kpis=kpis,
        quality=back(quality),
        clv_model=fitted_clv,
        settings=settings,
        notes=notes,
        kind=kind,
        cohorts=cohort_table,
    )
    report._pandas = {name: table for name, table in own.items() if table is not None}
    return report


def _check_options(
    data: Any, *, lang: Any, k: Any, clv: Any, clv_horizon: Any, margin: Any, scheme: Any, bins: Any, actions: Any
) -> None:
    """The options of `analyze`, checked before any work (the steps check them again)."""
    from rfmkit._actions import action_column
    from rfmkit._scores import check_bins
    from rfmkit._segments import SCHEMES, SegmentScheme

    if lang not in ("en", "zh"):
        raise InvalidParameterError(f"lang={lang!r} is not one of 'en', 'zh'")
    if not (k is None or k == "auto" or (isinstance(k, (int, np.integer)) and not isinstance(k, bool) and k >= 2)):
        raise InvalidParameterError(
            f"k must be 'auto', a number of clusters of at least 2, or None (no clusters), got {k!r}"
        )
    if not (isinstance(scheme, SegmentScheme) or (isinstance(scheme, str) and scheme in SCHEMES)):
        raise InvalidParameterError(
            f"scheme={scheme!r} is not one of {', '.join(map(repr, SCHEMES))} or a rfmkit.SegmentScheme"
        )
    check_bins(bins)
    action_column([], actions)
    if isinstance(actions, dict) and isinstance(scheme, str) and scheme in SCHEMES:
        # the labels the segments will have: a key among none of them would be lost
        from rfmkit._segments import labels

        action_column(labels(scheme, lang), actions)
    if not isinstance(clv, bool):
        raise InvalidParameterError(f"clv must be True or False, got {clv!r}")
    if clv:
        _sources.require_rereadable(data, "rfmkit.analyze", "the RFM table, then the BTYD summary of the CLV step")
    if not (
        isinstance(clv_horizon, (int, np.integer)) and not isinstance(clv_horizon, bool) and 1 <= clv_horizon <= 1200
    ):
        raise InvalidParameterError(
            f"clv_horizon={clv_horizon!r} must be the CLV horizon in whole months, 1 to 1200 (e.g. 12)"
        )
    if isinstance(margin, bool) or not isinstance(margin, (int, float, np.integer, np.floating)) or not 0 < margin <= 1:
        raise InvalidParameterError(
            f"margin={margin!r} must be the profit share of revenue, above 0 and at most 1 "
            f"(e.g. 0.3 for a 30 % margin; 1.0 values revenue)"
        )


def _rfm_step(data: Any, passed: dict[str, Any], zero: str | None) -> tuple[Any, pd.DataFrame]:
    """The RFM table in the caller's kind (its ids and dates keep their types) and as
    pandas, for the steps; rfm's warnings (what it dropped) are raised again at the
    caller's line."""
    import rfmkit

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        given = rfmkit.rfm(data, **pick(passed, ROWS, "zero"), **_zero_option(zero))
    for warning in caught:
        warnings.warn(warning.message, warning.category, stacklevel=3)
    return given, frames.indexed_pandas(given)


@dataclasses.dataclass
class _Clustering:
    """What the cluster step made (all None when it was skipped or not asked for)."""

    profile: pd.DataFrame | None = None
    choose_k: pd.DataFrame | None = None
    comparison: Any = None
    net_negative: int | None = None
    model: Any = None
    features: pd.DataFrame | None = None


def _cluster_step(
    customers: pd.DataFrame,
    k: Any,
    k_range: Any,
    random_state: Any,
    scheme: Any,
    lang: str,
    steps: Steps,
    notes: list[str],
) -> _Clustering:
    """K-means on the customers (k given, or chosen by choose_k over `k_range`), the
    clusters named after the segments, and the comparison; adds ``cluster`` and
    ``cluster_name`` to `customers`. Data that cannot be clustered (one customer, every
    customer with one purchase) gets a note instead."""
    import rfmkit

    choose = None
    try:
        if k == "auto":
            steps.start("choosing k")
            k_values = [value for value in k_range if value < len(customers)]
            if not k_values:
                raise InvalidDataError(f"no k of k_range={k_range!r} is below the {len(customers)} customers")
            # the model of the suggested k is the one choose_k fitted: not fitted again
            choose, fitted = _choose_k(customers, k_values, random_state)
            steps.start("clusters")
            model = fitted(int(choose.attrs["rfmkit"]["suggested_k"]))
        else:
            steps.start("clusters")
            model = rfmkit.KMeans(int(k), random_state=random_state).fit(customers)
    except InvalidDataError as error:
        notes.append(f"clusters skipped: {error}")
        return _Clustering()
    labels = model.labels_
    net_negative = _net_negative_customers(customers, model)
    if net_negative:
        notes.append(
            f"{net_negative:,} customer(s) have a negative clustered feature (net-negative monetary: "
            "returns above purchases); they are clustered like the others, on the signed log "
            "sign(x)·log1p(|x|)"
        )
    # Named after the segments shown beside them, in both languages.
    profile = model.profile(customers, scheme, segments=customers["segment"])
    customers["cluster"] = labels
    customers["cluster_name"] = profile["name_zh" if lang == "zh" else "name_en"].to_numpy()[labels]
    steps.start("comparison")
    comparison = rfmkit.compare(customers["segment"], customers["cluster"])
    return _Clustering(profile, choose, comparison, net_negative, model, customers[list(model.feature_names_in_)])


#: The purchase models of the CLV step, by the name `analyze(clv_model=...)` takes.
CLV_MODELS: dict[str, Any] = {"bgnbd": BetaGeoFitter, "mbgnbd": ModifiedBetaGeoFitter, "pareto": ParetoNBDFitter}


#: Seeds of the refits that measure how stable the clusters are.
STABILITY_SEEDS = 3


def _stability(clustering: _Clustering, seed: Any) -> dict[str, Any]:
    """How reproducible the clusters are: the adjusted Rand index of their labels against
    refits of the same model with `STABILITY_SEEDS` other seeds."""
    import rfmkit

    model = clustering.model
    others = [None if seed is None else int(seed) + i for i in range(1, STABILITY_SEEDS + 1)]
    agreements = [
        rfmkit.compare(
            model.labels_,
            rfmkit.KMeans(**{**model.get_params(), "random_state": other}).fit(clustering.features).labels_,
        ).adjusted_rand
        for other in others
    ]
    return {"seeds": len(others), "ari_mean": float(np.mean(agreements)), "ari_min": float(np.min(agreements))}


#: Customers the history before the holdout needs for the comparison of what groupings predict.
HOLDOUT_CUSTOMERS = 100


def _holdout(
    data: Any, passed: dict[str, Any], clustering: _Clustering, info: dict[str, Any], *, bins: int, notes: list[str]
) -> dict[str, Any]:
    """What the groupings tell about the last `holdout_days` before `as_of`: segments and
    clusters made again as of the start of those days (with the report's window, scheme,
    bins and k), and the share of the variance of each customer's purchases and spend in
    them they explain (`rfmkit.compare(..., holdout=)`). Empty (with a note) when the
    history before is too short or too small."""
    import rfmkit

    days = passed["holdout_days"]
    end = pd.Timestamp(info["as_of"])
    start = end - pd.Timedelta(days=days)
    if _sources.is_source(data):
        notes.append("which grouping predicts: skipped, it reads the data again and the input is read in batches")
        return {}
    rows = {**pick(passed, ROWS, "as_of", "window", "zero"), **_zero_option(passed["zero"])}
    rows["date_format"] = rows["date_format"] or info.get("date_format")  # as the RFM step read the dates
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        before = frames.indexed_pandas(
            rfmkit.rfm(data, **rows, as_of=start.date().isoformat(), window=passed["window"])
        )
        history = int(before["tenure"].max()) if len(before) else 0
        k = clustering.model.n_clusters
        if len(before) < max(HOLDOUT_CUSTOMERS, k + 1) or history < 2 * days:
            notes.append(
                f"which grouping predicts: skipped, the history before the last {days} days is {history} days long "
                f"with {len(before):,} customers (it needs {2 * days} days and {max(HOLDOUT_CUSTOMERS, k + 1)} customers)"
            )
            return {}
        after = frames.indexed_pandas(rfmkit.rfm(data, **rows, as_of=end.date().isoformat(), window=days))
    try:
        segments = rfmkit.segment(rfmkit.score(before, bins=bins), passed["scheme"])["segment"]
        clusters = rfmkit.KMeans(**clustering.model.get_params()).fit(before).labels_
    except RfmkitError as error:
        notes.append(f"which grouping predicts: skipped, the history before the last {days} days: {error}")
        return {}
    holdout = pd.DataFrame({"purchases": after["frequency"], "spend": after["monetary"]})
    explained = rfmkit.compare(segments, pd.Series(clusters, index=before.index), holdout=holdout).explained
    if explained.isna().all().all():
        notes.append(f"which grouping predicts: skipped, none of the customers bought in the last {days} days")
        return {}
    # the last day of the holdout (as_of is exclusive)
    period = {"start": start.date().isoformat(), "end": (end - pd.Timedelta(days=1)).date().isoformat(), "days": days}
    return {"explained": explained, "holdout": period}


def _quality_table(info: dict[str, Any], net_negative: int | None) -> pd.DataFrame:
    """Rows in, used and dropped by reason, and the clustered customers with a negative feature."""
    rows = {"rows_in": info["rows_in"], "rows_used": info["rows_used"]}
    rows.update({f"dropped: {reason}": count for reason, count in info["dropped"].items()})
    if net_negative is not None:
        rows[NET_NEGATIVE_ROW] = net_negative
    return pd.DataFrame({"rows": list(rows.values())}, index=pd.Index(list(rows), name="accounting"))


def _choose_k(customers: pd.DataFrame, k_values: list[int], random_state: Any) -> tuple[Any, Any]:
    """`rfmkit.choose_k` with its defaults, and the fitted model of each k."""
    import inspect

    from rfmkit._cluster import _choose_k, choose_k

    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(choose_k).parameters.items()
        if parameter.default is not inspect.Parameter.empty and name != "k"
    }
    return _choose_k(customers, k_values, **{**defaults, "random_state": random_state})


def _cohort_step(data: Any, passed: dict[str, Any], freq: str, notes: list[str]) -> Any:
    """`rfmkit.cohorts` of the transactions with the rows read as the RFM table reads them;
    None (with a note) for an input read in batches."""
    import rfmkit

    if _sources.is_source(data):
        notes.append("cohorts skipped: they read a table in memory, not files or batches")
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # rfm warned about the same rows
        return rfmkit.cohorts(data, **pick(passed, ROWS, "window", "zero"), **_zero_option(passed["zero"]), freq=freq)


def _choose_purchase_model(
    data: Any, reading: dict[str, Any], end: str, days: int, notes: list[str]
) -> tuple[str, pd.DataFrame | None]:
    """The purchase model with the lowest mean absolute error of each customer's purchases
    (distinct days) in the last `days` before `end` (inclusive), predicted by the models
    fitted on the history before; BG/NBD (with a note) when that history is too short."""
    import rfmkit

    start = (pd.Timestamp(end) - pd.Timedelta(days=days)).date().isoformat()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        table = frames.indexed_pandas(
            rfmkit.clv.calibration_holdout(
                data, calibration_period_end=start, observation_period_end=end, freq="D", **reading
            )
        )
    f, r, age = table["frequency_cal"], table["recency_cal"], table["T_cal"]
    if len(table) < 20 or (f > 0).sum() < 10 or float(age.max()) < 2 * days:
        notes.append(
            f"CLV model: BG/NBD; choosing needs a history of at least {2 * days} days before the last {days} "
            "and 10 repeat customers in it"
        )
        return "bgnbd", None
    rows = {}
    for name, model in CLV_MODELS.items():
        try:
            fitted = model().fit(f, r, age, freq="D")
        except RfmkitError as error:
            notes.append(f"CLV model choice: {CLV_MODEL_NAMES[name]} left out, it could not be fitted: {error}")
            continue
        predicted = np.asarray(
            fitted.conditional_expected_number_of_purchases_up_to_time(table["duration_holdout"], f, r, age)
        )
        if not np.isfinite(predicted).all():
            notes.append(f"CLV model choice: {CLV_MODEL_NAMES[name]} left out, some of its predictions are not finite")
            continue
        actual = table["frequency_holdout"].to_numpy(dtype=np.float64)
        rows[name] = {
            "holdout_mae": float(np.mean(np.abs(predicted - actual))),
            "holdout_rmse": float(np.sqrt(np.mean((predicted - actual) ** 2))),
            "predicted_purchases": float(predicted.sum()),
            "actual_purchases": float(actual.sum()),
        }
    if not rows:
        return "bgnbd", None
    comparison = pd.DataFrame(rows).T.rename_axis("model")
    comparison.attrs["rfmkit"] = {"start": start, "end": end, "days": days}
    return str(comparison["holdout_mae"].idxmin()), comparison


def _sentence(error: Exception) -> str:
    """An error's message as a sentence: capitalised, ending in a full stop."""
    text = str(error).strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else f"{text}."


def _zero_option(zero: str | None) -> dict[str, Any]:
    """`zero=` for one step: nothing when None, so that the step keeps its own default."""
    return {} if zero is None else {"zero": zero}


def _net_negative_customers(customers: pd.DataFrame, model: Any) -> int:
    """Customers with a negative value in a feature the model clustered on (in an RFM
    table only monetary can be: returns above purchases)."""
    names = list(model.feature_names_in_)
    return int((customers[names].to_numpy(dtype=np.float64) < 0).any(axis=1).sum())


def _clv(
    data: Any,
    customer: str,
    date: str,
    amount: str,
    info: dict[str, Any],
    margin: float,
    horizon: int,
    discount_rate: float,
    zero: str | None,
    invalid: str,
    notes: list[str],
    dates: dict[str, Any],
    *,
    choice: str = "bgnbd",
    holdout_days: int = 90,
) -> tuple[pd.DataFrame | None, dict[str, Any]]:
    """BG/NBD + Gamma-Gamma on the daily BTYD summary up to the day before `as_of`.

    The summary keeps its own default for returns (dropped and counted): BG/NBD counts
    purchases and Gamma-Gamma needs the positive spend of each purchase; and for zero
    amounts (kept, as lifetimes) unless `zero` is given."""
    import rfmkit
    from rfmkit._units import time_unit

    unit = time_unit("D")

    if info.get("as_of") is None:
        return None, {"skipped": "no valid rows"}
    end = (pd.Timestamp(info["as_of"]) - pd.Timedelta(days=1)).date().isoformat()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        summary = rfmkit.clv.summary(
            data,
            customer=customer,
            date=date,
            amount=amount,
            freq=unit.canonical,
            observation_period_end=end,
            invalid=invalid,
            **dates,
            **_zero_option(zero),
        )
    summary = frames.indexed_pandas(summary)
    repeat = summary["frequency"] > 0
    if repeat.sum() < 10 or len(summary) < 20:
        note = (
            f"CLV skipped: {int(repeat.sum())} repeat customers of {len(summary)} are too few to fit "
            "BG/NBD + Gamma-Gamma (need at least 10 of 20)"
        )
        notes.append(note)
        return None, {"skipped": note}
    comparison = None
    candidates = [choice]
    if choice == "auto":
        reading = {"customer": customer, "date": date, "invalid": invalid, **dates, **_zero_option(zero)}
        best, comparison = _choose_purchase_model(data, reading, end, holdout_days, notes)
        candidates = [best] if comparison is None else [str(m) for m in comparison["holdout_mae"].sort_values().index]
    try:
        # the best model on the holdout; the next best when it cannot be fitted on the whole history
        for choice in candidates:
            try:
                bgf = CLV_MODELS[choice]().fit(summary)
                break
            except RfmkitError as error:
                if choice == candidates[-1]:
                    raise
                notes.append(
                    f"CLV model: {CLV_MODEL_NAMES[choice]} could not be fitted on the whole history ({error}); "
                    "the next best on the holdout is used"
                )
        spenders = repeat & (summary["monetary_value"] > 0)
        ggf = rfmkit.clv.GammaGammaFitter().fit(
            summary.loc[spenders, "frequency"], summary.loc[spenders, "monetary_value"]
        )
        # The horizon in months, in the summary's unit (lifetimes' month: 30 days).
        t = horizon * unit.periods_per_month
        f, r, big_t = summary["frequency"], summary["recency"], summary["T"]
        columns = pd.DataFrame(index=summary.index)
        columns["p_alive"] = np.asarray(bgf.conditional_probability_alive(f, r, big_t), dtype=np.float64)
        columns["expected_purchases"] = np.asarray(
            bgf.conditional_expected_number_of_purchases_up_to_time(t, f, r, big_t), dtype=np.float64
        )
        # the next month, in days (the summary's unit)
        columns["p_purchase_30d"] = np.asarray(
            bgf.conditional_probability_of_purchase_within(30.0 / unit.days, f, r, big_t), dtype=np.float64
        )
        columns["next_purchase_days"] = unit.days * np.asarray(
            bgf.conditional_median_time_to_next_purchase(f, r, big_t), dtype=np.float64
        )
        value = ggf.customer_lifetime_value(
            bgf,
            f,
            r,
            big_t,
            summary["monetary_value"],
            time=horizon,
            discount_rate=discount_rate,
            freq=unit.canonical,
        )
        columns["clv"] = margin * np.asarray(value, dtype=np.float64)
    except ConvergenceError as error:
        note = (
            f"CLV skipped, the value tiers use monetary instead: {_sentence(error)} analyze fits without a penalty; "
            "where the message says one gives a finite fit, fit the models on rfmkit.clv.summary of the data "
            "yourself with it."
        )
        notes.append(note)
        return None, {"skipped": note}
    except RfmkitError as error:
        note = f"CLV skipped: {error}"
        notes.append(note)
        return None, {"skipped": note}
    model = {
        choice: bgf,
        "purchase_model": choice,
        "choice": comparison,
        "gamma_gamma": ggf,
        "horizon_months": horizon,
        "discount_rate_per_month": discount_rate,
        "margin": margin,
        "time_unit": unit.canonical,
        "observation_period_end": end,
        "summary": summary,
    }
    return columns, model
