"""rfmkit: customer-value analytics on transaction exports.

>>> import rfmkit
>>> table = rfmkit.rfm(orders, customer="customer_id", date="ordered_at", amount="amount")  # doctest: +SKIP
"""

from importlib.metadata import PackageNotFoundError, version

from rfmkit import clv, datasets
from rfmkit._cluster import KMeans, choose_k
from rfmkit._compare import Comparison, compare
from rfmkit._rfm import rfm
from rfmkit.exceptions import (
    ColumnNotFoundError,
    DataQualityWarning,
    DtypeError,
    InternalError,
    InvalidDataError,
    InvalidParameterError,
    InvalidRowError,
    NotFittedError,
    RfmkitError,
)

try:
    __version__ = version("rfmkit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "rfm",
    "KMeans",
    "choose_k",
    "compare",
    "Comparison",
    "clv",
    "datasets",
    "RfmkitError",
    "ColumnNotFoundError",
    "DtypeError",
    "InvalidParameterError",
    "InvalidRowError",
    "InvalidDataError",
    "NotFittedError",
    "InternalError",
    "DataQualityWarning",
    "__version__",
]
