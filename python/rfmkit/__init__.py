"""rfmkit: customer-value analytics on transaction exports.

>>> import rfmkit
>>> table = rfmkit.rfm(orders, customer="customer_id", date="ordered_at", amount="amount")  # doctest: +SKIP
"""

from importlib.metadata import PackageNotFoundError, version

from rfmkit import clv, datasets, plot
from rfmkit._aggregate import Aggregator
from rfmkit._cluster import KMeans, choose_k
from rfmkit._compare import Comparison, compare
from rfmkit._files import read_transactions
from rfmkit._report import Report, analyze
from rfmkit._reports import Migration, kpis, migration, segment_summary
from rfmkit._rfm import rfm
from rfmkit._scores import score
from rfmkit._segments import SegmentScheme, segment, value_matrix, value_tiers
from rfmkit._sources import scan_transactions
from rfmkit.exceptions import (
    ColumnNotFoundError,
    ConvergenceError,
    DataQualityWarning,
    DtypeError,
    InternalError,
    InvalidDataError,
    InvalidParameterError,
    InvalidRowError,
    NotFittedError,
    RfmkitError,
    SchemeError,
    TimeUnitWarning,
)

try:
    __version__ = version("rfmkit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "Aggregator",
    "ColumnNotFoundError",
    "Comparison",
    "ConvergenceError",
    "DataQualityWarning",
    "DtypeError",
    "InternalError",
    "InvalidDataError",
    "InvalidParameterError",
    "InvalidRowError",
    # clusters and the comparison
    "KMeans",
    "Migration",
    "NotFittedError",
    "Report",
    # errors and warnings
    "RfmkitError",
    "SchemeError",
    "SegmentScheme",
    "TimeUnitWarning",
    "__version__",
    # the whole analysis
    "analyze",
    "choose_k",
    # modules
    "clv",
    "compare",
    "datasets",
    "kpis",
    "migration",
    "plot",
    # reading exports and the RFM table
    "read_transactions",
    "rfm",
    "scan_transactions",
    # scores and segments
    "score",
    "segment",
    "segment_summary",
    "value_matrix",
    "value_tiers",
]
