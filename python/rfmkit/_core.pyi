"""Type stubs of the private native module `rfmkit._core` (src/python/mod.rs)."""

from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

class RfmkitError(ValueError): ...
class ColumnNotFoundError(RfmkitError): ...
class DtypeError(RfmkitError): ...
class InvalidParameterError(RfmkitError): ...
class InvalidRowError(RfmkitError): ...
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
    offsets: npt.NDArray[np.int64],
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
def summary(
    table: _Table,
    *,
    freq: str,
    observation_end: int | None,
    include_first_transaction: bool,
    zero: str,
    returns: str,
    invalid: str,
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
) -> dict[str, Any]: ...

class ConvergenceError(RfmkitError): ...

_BgParams = tuple[float, float, float, float]
_GgParams = tuple[float, float, float]
_F64 = npt.NDArray[np.float64]

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
