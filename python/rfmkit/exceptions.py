"""rfmkit's exceptions and warnings.

Every error is a `RfmkitError`, itself a `ValueError`, so ``except ValueError`` keeps
working; each kind of failure has its own class. The classes are defined in the native
module so that the Rust core raises the same ones.
"""

from rfmkit._core import (
    ColumnNotFoundError,
    ConvergenceError,
    DtypeError,
    InternalError,
    InvalidDataError,
    InvalidParameterError,
    InvalidRowError,
    NotFittedError,
    RfmkitError,
    SchemeError,
)


class DataQualityWarning(UserWarning):
    """Rows were dropped (invalid, out of the observation, zero amounts, returns);
    ``rfmkit.quality(result)["dropped"]`` counts them by reason."""


class TimeUnitWarning(UserWarning):
    """A time unit or rate looks inconsistent with the data (e.g. ``freq="D"`` while every
    ``T`` is under four weeks, or a "monthly" discount rate that looks annual)."""


__all__ = [
    "ColumnNotFoundError",
    "ConvergenceError",
    "DataQualityWarning",
    "DtypeError",
    "InternalError",
    "InvalidDataError",
    "InvalidParameterError",
    "InvalidRowError",
    "NotFittedError",
    "RfmkitError",
    "SchemeError",
    "TimeUnitWarning",
]
