"""rfmkit: customer-value analytics on transaction exports.

>>> import rfmkit
>>> table = rfmkit.rfm(orders, customer="customer_id", date="ordered_at", amount="amount")  # doctest: +SKIP
"""

from importlib.metadata import PackageNotFoundError, version

from rfmkit import clv, datasets
from rfmkit._rfm import rfm
from rfmkit.exceptions import (
    ColumnNotFoundError,
    ConvergenceError,
    DataQualityWarning,
    DtypeError,
    InternalError,
    InvalidParameterError,
    InvalidRowError,
    NotFittedError,
    RfmkitError,
    TimeUnitWarning,
)

try:
    __version__ = version("rfmkit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "rfm",
    "clv",
    "datasets",
    "RfmkitError",
    "ColumnNotFoundError",
    "DtypeError",
    "InvalidParameterError",
    "InvalidRowError",
    "InternalError",
    "ConvergenceError",
    "NotFittedError",
    "DataQualityWarning",
    "TimeUnitWarning",
    "__version__",
]
