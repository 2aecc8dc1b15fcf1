"""rfmkit: customer-value analytics on transaction exports.

>>> import rfmkit
>>> table = rfmkit.rfm(orders, customer="customer_id", date="ordered_at", amount="amount")  # doctest: +SKIP
"""

from importlib.metadata import PackageNotFoundError, version

from rfmkit import clv, datasets
from rfmkit._reports import Migration, kpis, migration, segment_summary
from rfmkit._cluster import KMeans, choose_k
from rfmkit._compare import Comparison, compare
from rfmkit._rfm import rfm
from rfmkit._scores import score
from rfmkit._segments import SegmentScheme, segment, value_matrix, value_tiers
from rfmkit.exceptions import (
    ColumnNotFoundError,
    DataQualityWarning,
    DtypeError,
    InternalError,
    InvalidDataError,
    InvalidParameterError,
    InvalidRowError,
    InvalidValueError,
    NotFittedError,
    RfmkitError,
    SchemeError,
)

try:
    __version__ = version("rfmkit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "rfm",
    "score",
    "segment",
    "SegmentScheme",
    "value_tiers",
    "value_matrix",
    "segment_summary",
    "migration",
    "Migration",
    "kpis",
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
    "InvalidValueError",
    "SchemeError",
    "InvalidDataError",
    "NotFittedError",
    "InternalError",
    "DataQualityWarning",
    "__version__",
]
