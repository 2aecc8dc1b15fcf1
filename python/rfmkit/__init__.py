"""rfmkit: customer-value analytics on transaction exports.

>>> import rfmkit
>>> table = rfmkit.rfm(orders, customer="customer_id", date="ordered_at", amount="amount")  # doctest: +SKIP
"""

import importlib.metadata as _metadata

from rfmkit import clv, datasets, exceptions, plot
from rfmkit._actions import segment_actions
from rfmkit._aggregate import Aggregator
from rfmkit._cluster import KMeans, choose_k
from rfmkit._cohorts import Cohorts, cohorts
from rfmkit._compare import Comparison, compare
from rfmkit._io.files import read_transactions
from rfmkit._io.sources import scan_transactions
from rfmkit._report import Report, analyze
from rfmkit._rfm import quality, rfm
from rfmkit._scores import score
from rfmkit._segments import SegmentScheme, segment, value_matrix, value_tiers
from rfmkit._summaries import Migration, kpis, migration, segment_summary
from rfmkit.exceptions import *  # noqa: F403 (every exception and warning, as listed in its __all__)

try:
    __version__ = _metadata.version("rfmkit")
except _metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "Aggregator",
    "Cohorts",
    "Comparison",
    "KMeans",
    "Migration",
    "Report",
    "SegmentScheme",
    "__version__",
    "analyze",
    "choose_k",
    "clv",
    "cohorts",
    "compare",
    "datasets",
    "kpis",
    "migration",
    "plot",
    "quality",
    "read_transactions",
    "rfm",
    "scan_transactions",
    "score",
    "segment",
    "segment_actions",
    "segment_summary",
    "value_matrix",
    "value_tiers",
]
__all__ += exceptions.__all__
