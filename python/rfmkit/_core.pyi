"""Type stubs of the private native module `rfmkit._core` (src/python/mod.rs)."""

from typing import Any, Protocol, TypeAlias, final

import numpy as np
import numpy.typing as npt
from typing_extensions import Self

__all__ = [
    "ColumnNotFoundError",
    "ConvergenceError",
    "DtypeError",
    "InternalError",
    "InvalidDataError",
    "InvalidParameterError",
    "InvalidRowError",
    "NotFittedError",
    "RfmkitError",
    "SchemeError",
    "State",
    "analyze_scheme",
    "bgbb_fit",
    "bgbb_log_likelihoods",
    "bgnbd_conditional_expected",
    "bgnbd_expected",
    "bgnbd_fit",
    "bgnbd_lifetime_value",
    "bgnbd_log_likelihood",
    "bgnbd_probability_alive",
    "bgnbd_probability_of_n",
    "calibration_holdout",
    "canonical_order",
    "classic8",
    "clv_value_draws",
    "cohort_activity",
    "cohort_period_starts",
    "compare_labels",
    "exact_partials",
    "factorize_float",
    "factorize_int",
    "factorize_utf8",
    "gamma_gamma_expected_spend",
    "gamma_gamma_fit",
    "histogram_scores",
    "internal_score",
    "kmeans_distances",
    "kmeans_fit",
    "kmeans_predict",
    "mbgnbd_conditional_expected",
    "mbgnbd_expected",
    "mbgnbd_fit",
    "mbgnbd_lifetime_value",
    "mbgnbd_log_likelihood",
    "mbgnbd_probability_alive",
    "mbgnbd_probability_of_n",
    "pareto_conditional_expected",
    "pareto_expected",
    "pareto_fit",
    "pareto_lifetime_value",
    "pareto_log_likelihood",
    "pareto_median_time_to_next_purchase",
    "pareto_probability_alive",
    "pareto_probability_of_n",
    "pareto_probability_of_purchase_within",
    "rfm",
    "rfm_ids",
    "sbg_fit",
    "sbg_log_likelihood",
    "scheme_labels",
    "score",
    "segment_custom",
    "segment_scores",
    "silhouette_scores",
    "summary",
    "time_unit",
    "time_unit_aliases",
    "value_matrix",
    "value_tiers",
    "vocabulary",
]

class RfmkitError(ValueError): ...
class ColumnNotFoundError(RfmkitError): ...
class DtypeError(RfmkitError): ...
class InvalidParameterError(RfmkitError): ...
class InvalidRowError(RfmkitError): ...
class SchemeError(RfmkitError): ...
class InvalidDataError(RfmkitError): ...
class NotFittedError(RfmkitError): ...
class InternalError(RfmkitError): ...

class _Table(Protocol):
    customer: npt.NDArray[np.int64]
    n_customers: int
    time: npt.NDArray[np.int64]
    ticks_per_day: int
    amount: npt.NDArray[np.float64] | None
    order: npt.NDArray[np.int64] | None
    n_orders: int
    names: tuple[str, str, str, str]

def factorize_int(
    values: npt.NDArray[np.int64], validity: npt.NDArray[np.bool_] | None = None
) -> dict[str, npt.NDArray[np.int64]]: ...
def factorize_float(values: npt.NDArray[np.float64]) -> dict[str, npt.NDArray[np.int64]]: ...
def factorize_utf8(
    offsets: npt.NDArray[np.int64] | npt.NDArray[np.int32],
    data: npt.NDArray[np.uint8],
    validity: npt.NDArray[np.bool_] | None = None,
) -> dict[str, npt.NDArray[np.int64]]: ...
def rfm(
    table: _Table,
    *,
    as_of_day: int | None,
    window: int | None,
    zero: str,
    returns: str,
    invalid: str,
) -> dict[str, Any]: ...

# An id column as the core reads it: integers ``(values, validity)`` or Arrow text
# ``(offsets, data, validity)``; validity None means no null.
_Ids: TypeAlias = (
    tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_] | None]
    | tuple[npt.NDArray[np.int32] | npt.NDArray[np.int64], npt.NDArray[np.uint8], npt.NDArray[np.bool_] | None]
)

def rfm_ids(
    table: _Table,
    ids: _Ids,
    *,
    as_of_day: int | None,
    window: int | None,
    zero: str,
    returns: str,
    invalid: str,
) -> dict[str, Any]: ...

@final
class State:
    """The mergeable per-customer state (src/state): update, merge, finish, columns."""

    def __new__(
        cls,
        *,
        ticks_per_day: int,
        zero: str,
        returns: str,
        invalid: str,
        rfm: bool,
        as_of_day: int | None = None,
        window: int | None = None,
        freq: str | None = None,
        observation_end: int | None = None,
        calibration_end: int | None = None,
        orders: bool = False,
        names: tuple[str, str, str, str] = ...,  # ("customer", "date", "amount", "order")
    ) -> Self: ...
    def update(
        self,
        customer: _Ids,
        time: npt.NDArray[np.int64],
        amount: npt.NDArray[np.float64] | None = None,
        order: _Ids | None = None,
    ) -> None: ...
    def merge(self, other: State) -> None: ...
    def note_max_time(self, time: int) -> None: ...
    def split(self, n: int) -> list[State]: ...
    @property
    def rows_in(self) -> int: ...
    @property
    def max_time(self) -> int | None: ...
    @property
    def n_customers(self) -> int: ...
    @property
    def key_kind(self) -> str: ...
    def finish_rfm(self, as_of_day: int | None = None) -> dict[str, Any]: ...
    def finish_summary(self, include_first_transaction: bool = False) -> dict[str, Any]: ...
    def finish_calibration_holdout(self, include_first_transaction: bool = False) -> dict[str, Any]: ...
    def options(self) -> dict[str, Any]: ...
    def columns(self) -> dict[str, Any]: ...
    @staticmethod
    def from_columns(options: dict[str, Any], columns: dict[str, Any]) -> State: ...

def cohort_period_starts(freq: str, first_day: int, last_day: int) -> list[int]: ...
def cohort_activity(
    table: _Table,
    *,
    as_of_day: int,
    period_starts: npt.NDArray[np.int64],
    zero: str,
    returns: str,
) -> dict[str, Any]: ...
def exact_partials(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]: ...
def time_unit(alias: str) -> dict[str, Any]: ...
def time_unit_aliases() -> list[str]: ...
def vocabulary() -> dict[str, list[str]]: ...
def summary(
    table: _Table,
    *,
    freq: str,
    observation_end: int | None,
    include_first_transaction: bool,
    zero: str,
    returns: str,
    invalid: str,
    ids: _Ids | None = None,
) -> dict[str, Any]: ...
def calibration_holdout(
    table: _Table,
    *,
    calibration_end: int,
    freq: str,
    observation_end: int | None,
    include_first_transaction: bool,
    zero: str,
    returns: str,
    invalid: str,
    ids: _Ids | None = None,
) -> dict[str, Any]: ...

# scores and segments (src/python/segments.rs)
def histogram_scores(
    values: npt.NDArray[np.float64],
    counts: npt.NDArray[np.int64],
    *,
    bins: int,
    method: str,
    lower_is_better: bool,
    name: str,
) -> npt.NDArray[np.int64]: ...

_Bound: TypeAlias = tuple[float, bool] | None
_Variable: TypeAlias = tuple[str, bool, float, float]
_Rule: TypeAlias = tuple[int, list[tuple[int, _Bound, _Bound]]]

def score(
    recency: npt.NDArray[np.float64],
    frequency: npt.NDArray[np.float64],
    monetary: npt.NDArray[np.float64],
    *,
    bins: int,
    method: str,
    thresholds: tuple[list[float], list[float], list[float]] | None,
    weights: tuple[float, float, float],
    names: tuple[str, str, str],
) -> dict[str, Any]: ...
def segment_scores(
    scheme: str,
    r: npt.NDArray[np.float64],
    f: npt.NDArray[np.float64],
    m: npt.NDArray[np.float64],
    bins: int,
) -> npt.NDArray[np.int64]: ...
def classic8(
    recency: npt.NDArray[np.float64],
    frequency: npt.NDArray[np.float64],
    monetary: npt.NDArray[np.float64],
    split: tuple[float, float, float],
) -> npt.NDArray[np.int64]: ...
def value_matrix(
    frequency: npt.NDArray[np.float64],
    avg_order_value: npt.NDArray[np.float64],
    split: tuple[float, float],
) -> npt.NDArray[np.int64]: ...
def value_tiers(values: npt.NDArray[np.float64], cuts: list[float], name: str) -> npt.NDArray[np.int64]: ...
def scheme_labels(scheme: str, lang: str) -> list[str]: ...
def analyze_scheme(variables: list[_Variable], rules: list[_Rule], labels: list[str], other: int) -> dict[str, Any]: ...
def sbg_fit(
    survivors: npt.NDArray[np.float64],
    lengths: npt.NDArray[np.int64],
    *,
    penalizer_coef: float,
    initial_params: list[float] | None,
    tol: float,
    max_iterations: int,
) -> dict[str, Any]: ...
def sbg_log_likelihood(
    params: tuple[float, float], survivors: npt.NDArray[np.float64], lengths: npt.NDArray[np.int64]
) -> float: ...
def segment_custom(
    columns: list[npt.NDArray[np.float64]],
    variables: list[_Variable],
    rules: list[_Rule],
    labels: list[str],
    other: int,
) -> npt.NDArray[np.int64]: ...
def kmeans_fit(
    points: npt.NDArray[np.float64],
    *,
    n_clusters: int,
    n_init: int,
    max_iter: int,
    tol: float,
    seed: int,
    backend: str,
) -> dict[str, Any]: ...
def canonical_order(
    points: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]: ...
def kmeans_predict(points: npt.NDArray[np.float64], centers: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]: ...
def kmeans_distances(points: npt.NDArray[np.float64], centers: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]: ...
def silhouette_scores(
    points: npt.NDArray[np.float64],
    labellings: list[npt.NDArray[np.int64]],
    rows: npt.NDArray[np.int64] | None = None,
) -> list[float]: ...
def internal_score(name: str, points: npt.NDArray[np.float64], labels: npt.NDArray[np.int64]) -> float: ...
def compare_labels(labels_true: npt.NDArray[np.int64], labels_pred: npt.NDArray[np.int64]) -> dict[str, Any]: ...

class ConvergenceError(RfmkitError): ...

_BgParams: TypeAlias = tuple[float, float, float, float]
_ParetoParams: TypeAlias = tuple[float, float, float, float]
_GgParams: TypeAlias = tuple[float, float, float]
_F64: TypeAlias = npt.NDArray[np.float64]

def bgbb_fit(
    frequency: _F64,
    recency: _F64,
    n_periods: _F64,
    weights: _F64 | None = None,
    *,
    penalizer_coef: float,
    initial_params: list[float] | None,
    tol: float,
    max_iterations: int,
) -> dict[str, Any]: ...
def bgbb_log_likelihoods(
    params: tuple[float, float, float, float], frequency: _F64, recency: _F64, n_periods: _F64
) -> _F64: ...
def bgnbd_fit(
    frequency: _F64,
    recency: _F64,
    T: _F64,
    weights: _F64 | None = None,
    *,
    penalizer_coef: float,
    initial_params: list[float] | None,
    tol: float,
    max_iterations: int,
) -> dict[str, Any]: ...
def bgnbd_log_likelihood(
    params: _BgParams, frequency: _F64, recency: _F64, T: _F64, weights: _F64 | None = None
) -> float: ...
def bgnbd_conditional_expected(params: _BgParams, t: _F64, frequency: _F64, recency: _F64, T: _F64) -> _F64: ...
def bgnbd_probability_alive(params: _BgParams, frequency: _F64, recency: _F64, T: _F64) -> _F64: ...
def bgnbd_expected(params: _BgParams, t: _F64) -> _F64: ...
def bgnbd_probability_of_n(params: _BgParams, t: _F64, n: _F64) -> _F64: ...
def bgnbd_lifetime_value(
    params: _BgParams,
    frequency: _F64,
    recency: _F64,
    T: _F64,
    spend: _F64,
    *,
    horizon: int,
    step: float,
    discount_rate: float,
) -> _F64: ...
def mbgnbd_fit(
    frequency: _F64,
    recency: _F64,
    T: _F64,
    weights: _F64 | None = None,
    *,
    penalizer_coef: float,
    initial_params: list[float] | None,
    tol: float,
    max_iterations: int,
) -> dict[str, Any]: ...
def mbgnbd_log_likelihood(
    params: _BgParams, frequency: _F64, recency: _F64, T: _F64, weights: _F64 | None = None
) -> float: ...
def mbgnbd_conditional_expected(params: _BgParams, t: _F64, frequency: _F64, recency: _F64, T: _F64) -> _F64: ...
def mbgnbd_probability_alive(params: _BgParams, frequency: _F64, recency: _F64, T: _F64) -> _F64: ...
def mbgnbd_expected(params: _BgParams, t: _F64) -> _F64: ...
def mbgnbd_lifetime_value(
    params: _BgParams,
    frequency: _F64,
    recency: _F64,
    T: _F64,
    spend: _F64,
    *,
    horizon: int,
    step: float,
    discount_rate: float,
) -> _F64: ...
def pareto_lifetime_value(
    params: _ParetoParams,
    frequency: _F64,
    recency: _F64,
    T: _F64,
    spend: _F64,
    *,
    horizon: int,
    step: float,
    discount_rate: float,
) -> _F64: ...
def clv_value_draws(
    family: str,
    purchase_params: list[float],
    purchase_covariance: list[list[float]],
    spend_params: list[float],
    spend_covariance: list[list[float]],
    frequency: _F64,
    recency: _F64,
    T: _F64,
    monetary_value: _F64,
    *,
    horizon: int,
    step: float,
    discount_rate: float,
    draws: int,
    seed: int,
    probabilities: list[float],
) -> dict[str, Any]: ...
def mbgnbd_probability_of_n(params: _BgParams, t: _F64, n: _F64) -> _F64: ...
def pareto_fit(
    frequency: _F64,
    recency: _F64,
    T: _F64,
    weights: _F64 | None = None,
    *,
    penalizer_coef: float,
    initial_params: list[float] | None,
    tol: float,
    max_iterations: int,
) -> dict[str, Any]: ...
def pareto_log_likelihood(
    params: _ParetoParams, frequency: _F64, recency: _F64, T: _F64, weights: _F64 | None = None
) -> float: ...
def pareto_conditional_expected(params: _ParetoParams, t: _F64, frequency: _F64, recency: _F64, T: _F64) -> _F64: ...
def pareto_probability_alive(params: _ParetoParams, frequency: _F64, recency: _F64, T: _F64) -> _F64: ...
def pareto_probability_of_purchase_within(
    params: _ParetoParams, t: _F64, frequency: _F64, recency: _F64, T: _F64
) -> _F64: ...
def pareto_median_time_to_next_purchase(params: _ParetoParams, frequency: _F64, recency: _F64, T: _F64) -> _F64: ...
def pareto_probability_of_n(
    params: _ParetoParams, n: _F64, t: _F64, frequency: _F64, recency: _F64, T: _F64
) -> _F64: ...
def pareto_expected(params: _ParetoParams, t: _F64) -> _F64: ...
def gamma_gamma_fit(
    frequency: _F64,
    monetary_value: _F64,
    weights: _F64 | None = None,
    *,
    penalizer_coef: float,
    initial_params: list[float] | None,
    tol: float,
    max_iterations: int,
) -> dict[str, Any]: ...
def gamma_gamma_expected_spend(params: _GgParams, frequency: _F64, monetary_value: _F64) -> _F64: ...
