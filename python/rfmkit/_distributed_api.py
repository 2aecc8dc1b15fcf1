"""The functions of `rfmkit.spark` and `rfmkit.dask`, written once: each framework
gives a `Cluster` its few primitives (run a view on co-partitioned rows, a column's
histogram, a row-wise map over the partitions, ...), and every public function is the
same sequence of them. The plan and the partition-side work are in `_distributed`."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pandas as pd

from rfmkit import _distributed
from rfmkit._distributed import Result
from rfmkit.exceptions import ColumnNotFoundError, InvalidParameterError

#: What each function of a cluster is on a table in memory.
_ONE_MACHINE = {
    "rfm": "rfmkit.rfm",
    "summary": "rfmkit.clv.summary",
    "calibration_holdout": "rfmkit.clv.calibration_holdout",
    "score": "rfmkit.score",
    "segment": "rfmkit.segment",
    "predict": "the model's own methods (e.g. BetaGeoFitter.conditional_probability_alive)",
}


class Cluster:
    """One framework's primitives; the public functions below use only these."""

    #: "Spark" or "Dask", for messages; the module's name for warnings.
    name = ""
    module = ""
    #: Whether text labels (rfm codes, segments) are plain text (Spark) or categoricals.
    labels_as_text = False

    # -- primitives ---------------------------------------------------------------
    def columns(self, table: Any) -> list[str]:
        raise NotImplementedError

    def date_kind(self, table: Any, column: str) -> str:
        """ "time" (timestamps, dates), "number" or "text"."""
        raise NotImplementedError

    def amount_is_numeric(self, table: Any, column: str) -> bool:
        raise NotImplementedError

    def is_frame(self, table: Any) -> bool:
        """Whether `table` is a DataFrame of this framework."""
        raise NotImplementedError

    def run_view(
        self, table: Any, view: str, params: dict[str, Any], finish: dict[str, Any], partitions: Any, function: str
    ) -> Result:
        raise NotImplementedError

    def histogram(self, table: Any, column: str) -> tuple[Any, Any]:
        """The distinct values of `column` (NaN for nulls) and how often each occurs."""
        raise NotImplementedError

    def maximum(self, table: Any, columns: tuple[Any, ...]) -> Any:
        raise NotImplementedError

    def distinct_counts(self, table: Any, columns: tuple[Any, ...]) -> dict[str, int]:
        raise NotImplementedError

    def partial_sums(self, table: Any, columns: tuple[Any, ...]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def empty(self, table: Any) -> pd.DataFrame:
        """The table with no rows, as pandas (its columns and types)."""
        raise NotImplementedError

    def map_rows(self, table: Any, function: Callable[[pd.DataFrame], pd.DataFrame]) -> Any:
        """`function` applied to every partition (as pandas); it adds columns only."""
        raise NotImplementedError

    # -- the public functions -------------------------------------------------------
    def check_frame(self, table: Any, function: str) -> None:
        if self.is_frame(table):
            return
        if isinstance(table, Result):
            raise InvalidParameterError(
                f"{self.module}.{function} takes the table of a Result: unpack it first, "
                f"table, info = {self.module}.<function>(...)"
            )
        raise InvalidParameterError(
            f"{self.module}.{function} takes a {self.name} DataFrame, got {type(table).__module__}."
            f"{type(table).__qualname__}; for a table in memory use {_ONE_MACHINE[function]}"
        )

    def check_columns(self, table: Any, names: dict[str, Any]) -> None:
        present = self.columns(table)
        for role, name in names.items():
            if name is not None and name not in present:
                raise ColumnNotFoundError(
                    f"{role}={name!r} is not a column of the DataFrame; its columns are {sorted(map(str, present))}"
                )

    def view(self, table: Any, view: str, params: dict[str, Any], finish: dict[str, Any], partitions: Any) -> Result:
        from rfmkit.exceptions import DtypeError

        self.check_frame(table, view)
        self.check_columns(table, {role: params.get(role) for role in ("customer", "date", "amount", "order")})
        amount = params.get("amount")
        if amount is not None and not self.amount_is_numeric(table, amount):
            cast = (
                "df.withColumn(name, F.col(name).cast('double'))"
                if self.name == "Spark"
                else ("df[name] = dd.to_numeric(df[name])")
            )
            raise DtypeError(
                f"the amount column {amount!r} is not numeric on {self.name} (text read from a CSV?): cast it first, "
                f"e.g. {cast}; for amounts written with a decimal comma or thousands separators, read the files "
                f"with rfmkit.scan_transactions(..., decimal=',', thousands='.') instead"
            )
        if partitions is not None and (
            not isinstance(partitions, int) or isinstance(partitions, bool) or partitions < 1
        ):
            raise InvalidParameterError(f"partitions must be a positive integer, got {partitions!r}")
        _distributed.check_text_dates(self.date_kind(table, params["date"]), params["date_format"], self.name)
        return self.run_view(table, view, params, finish, partitions, f"{self.module}.{view}")

    def score(self, table: Any, *, bins: Any, method: str, thresholds: Any, weights: Any) -> Result:
        from rfmkit import _scores

        self.check_frame(table, "score")
        missing = [metric for metric in _scores.METRICS if metric not in self.columns(table)]
        if missing:
            raise ColumnNotFoundError(
                f"the table has no {', '.join(map(repr, missing))} column; its columns are "
                f"{sorted(map(str, self.columns(table)))}"
            )
        histograms = {}
        if method != "thresholds":
            histograms = {metric: self.histogram(table, metric) for metric in _scores.METRICS}
        rule = _distributed.score_rule(histograms, bins=bins, method=method, thresholds=thresholds, weights=weights)
        text = self.labels_as_text
        scored = self.map_rows(table, lambda frame: _distributed.apply_scores(frame, rule, code_as_text=text))
        info = dict(rule.info)
        if method == "thresholds":
            used = self.distinct_counts(scored, _scores.SCORE_COLUMNS)
            info["levels"] = {metric: used[c] for metric, c in zip(_scores.METRICS, _scores.SCORE_COLUMNS)}
        return Result(scored, {"score": info})

    def segment(self, table: Any, scheme: Any, *, lang: str, split: Any, bins: Any) -> Result:
        from rfmkit import _scores
        from rfmkit._scores import check_lang
        from rfmkit._segments import split_values

        self.check_frame(table, "segment")
        lang = check_lang(lang)
        empty = self.empty(table)
        if scheme == "classic8":
            columns = _distributed.CLASSIC8_COLUMNS
            for column in columns:
                if column not in self.columns(table):
                    raise ColumnNotFoundError(f"classic8 splits {column!r}, and the table has no such column")
            if split == "mean":
                at = _distributed.mean_of_partials(self.partial_sums(table, columns), columns)
            elif split == "median":
                at = {c: _distributed.median_of_histogram(*self.histogram(table, c)) for c in columns}
            else:
                at = split_values({c: empty[c].to_numpy() for c in columns}, split)
            options = _distributed.segment_options(scheme, at, bins, None)
        else:
            top = None
            if bins is None and all(c in self.columns(table) for c in _scores.SCORE_COLUMNS):
                top = self.maximum(table, _scores.SCORE_COLUMNS)
            options = _distributed.segment_options(scheme, split, bins, top)
        info = _distributed.segment_info(empty, scheme, lang, options)
        text = self.labels_as_text
        segmented = self.map_rows(
            table, lambda frame: _distributed.apply_segment(frame, scheme, lang, options, code_as_text=text)
        )
        return Result(segmented, info)

    def predict(self, table: Any, model: Any, **options: Any) -> Result:
        self.check_frame(table, "predict")
        plan = _distributed.prediction(model, **options)
        missing = [name for name in plan.needs if name not in self.columns(table)]
        if missing:
            raise ColumnNotFoundError(
                f"{type(model).__name__} predicts from {list(plan.needs)}, and the table has no {missing}"
            )
        info = {"predict": {"model": type(model).__name__, "columns": list(plan.adds)}}
        return Result(self.map_rows(table, lambda frame: _distributed.apply_prediction(frame, plan)), info)


def _view_function(cluster: Cluster, view: str, local: Callable[..., Any]) -> Callable[..., Result]:
    """`view` on `cluster` with the parameters and defaults of `local`, the function of one
    machine (one list of them: its signature), its data called `df`, and `partitions` for
    its `progress`."""
    kept = list(inspect.signature(local).parameters.values())[1:]
    signature = inspect.Signature(
        [
            inspect.Parameter("df", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation="Any"),
            *(parameter for parameter in kept if parameter.name != "progress"),
            inspect.Parameter("partitions", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="int | None"),
        ],
        return_annotation="Result",
    )

    def function(*args: Any, **kwargs: Any) -> Result:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        df, partitions = values.pop("df"), values.pop("partitions")
        finish: dict[str, Any] = {
            name: values.pop(name) for name in ("freq_multiplier", "include_first_transaction") if name in values
        }
        return cluster.view(df, view, _distributed.row_params(view, **values), finish, partitions)

    function.__signature__ = signature  # type: ignore[attr-defined]
    return function


def public_functions(cluster: Cluster) -> dict[str, Callable[..., Result]]:
    """`rfm`, `summary`, `calibration_holdout`, `score`, `segment` and `predict` on
    `cluster` (in this order), with the parameters (and defaults) of the single-machine
    functions."""
    import rfmkit

    rfm = _view_function(cluster, "rfm", rfmkit.rfm)
    summary = _view_function(cluster, "summary", rfmkit.clv.summary)
    calibration_holdout = _view_function(cluster, "calibration_holdout", rfmkit.clv.calibration_holdout)

    def score(
        table: Any, *, bins: int = 5, method: str = "quantile", thresholds: Any = None, weights: Any = (1, 1, 1)
    ) -> Result:
        return cluster.score(table, bins=bins, method=method, thresholds=thresholds, weights=weights)

    def segment(
        table: Any, scheme: Any = "rfm11", *, lang: str = "en", split: Any = "mean", bins: Any = None
    ) -> Result:
        return cluster.segment(table, scheme, lang=lang, split=split, bins=bins)

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
        return cluster.predict(
            table, model, t=t, purchase_model=purchase_model, time=time, discount_rate=discount_rate, freq=freq
        )

    functions: dict[str, Callable[..., Result]] = {
        "rfm": rfm,
        "summary": summary,
        "calibration_holdout": calibration_holdout,
        "score": score,
        "segment": segment,
        "predict": predict,
    }
    for name, function in functions.items():
        function.__doc__ = DOCS[name].format(frame=cluster.name, module=cluster.module)
        function.__module__ = cluster.module
        function.__qualname__ = function.__name__ = name
    return functions


DOCS = {
    "rfm": """The RFM table of a {frame} DataFrame, as `rfmkit.rfm` gives it on one machine.

    Parameters are those of `rfmkit.rfm`; `partitions` is the number of partitions the rows
    are spread over by customer. When `as_of` is not given, one pass finds the last valid
    date first. Text dates need `date_format`.

    Returns
    -------
    Result
        ``(table, accounting)``: a {frame} DataFrame with the customer id and the columns of
        `rfmkit.rfm`, and the accounting dict of ``attrs["rfmkit"]`` summed over the
        partitions (a `DataQualityWarning` when rows were dropped, as on one machine).
    """,
    "summary": """The BTYD summary of a {frame} DataFrame, as `rfmkit.clv.summary` gives it on one
    machine (``frequency, recency, T[, monetary_value]``); see `{module}.rfm` for the result.
    """,
    "calibration_holdout": """The calibration summary and holdout columns of a {frame} DataFrame, as
    `rfmkit.clv.calibration_holdout` gives them on one machine; see `{module}.rfm`.
    """,
    "score": """R, F and M scores of a {frame} customer table (``recency``, ``frequency``,
    ``monetary`` columns, e.g. `{module}.rfm`'s), as `rfmkit.score` gives them on the whole table.

    The quantile rules need the whole distribution of each metric: its histogram (distinct
    values and counts) is collected and scored by the core, never the table. Returns
    ``(table, info)``: the table with ``r_score, f_score, m_score``, ``rfm_code`` and
    ``rfm_score``, and ``{{"score": ...}}``, what ``attrs["rfmkit"]["score"]`` records.
    """,
    "segment": """Rule-based segments of a {frame} customer table, as `rfmkit.segment` gives them on
    the whole table (a ``segment`` column). classic8's ``"mean"`` / ``"median"`` split values
    come from the whole table (exact partial sums / each column's histogram); the score
    schemes read `bins` (default: 5 when the table's highest score is 5). Returns
    ``(table, info)`` with what ``attrs["rfmkit"]["segment"]`` records on one machine.
    """,
    "predict": """Predictions of a model fitted on one machine, added to every customer of a {frame}
    table partition by partition, equal to the model's single-machine predictions.

    Fit the model from the table or from a sample of it. Then a ``BetaGeoFitter`` adds
    ``p_alive`` (and ``expected_purchases`` over `t` periods) from ``frequency, recency, T``;
    a ``GammaGammaFitter`` adds ``expected_spend`` from ``frequency, monetary_value``, and
    with ``purchase_model=`` (a fitted ``BetaGeoFitter``) ``clv`` over `time` months at
    `discount_rate` a month; an `rfmkit.KMeans` adds ``cluster`` from the columns it was
    fitted on. Returns ``(table, info)``; `info` names the model and the added columns.
    """,
}
