"""Customer-lifetime-value tools.

The BTYD summary here uses the vocabulary of `lifetimes`: its ``frequency`` is the
number of *repeat* purchase periods and its ``recency`` the age of the customer at the
last purchase, in periods. Those are not the RFM ``frequency`` / ``recency`` of
`rfmkit.rfm` (all purchases; days since the last purchase).
"""

from rfmkit.clv._bgbb import BetaGeoBetaBinomFitter
from rfmkit.clv._customer_value import cash_flows, value
from rfmkit.clv._models import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter
from rfmkit.clv._pareto import ParetoNBDFitter
from rfmkit.clv._retention import ShiftedBetaGeoFitter
from rfmkit.clv._summary import calibration_holdout, summary
from rfmkit.clv._tracking import tracking_transactions
from rfmkit.clv._value import historical, simple

__all__ = [
    "BetaGeoBetaBinomFitter",
    "BetaGeoFitter",
    "GammaGammaFitter",
    "ModifiedBetaGeoFitter",
    "ParetoNBDFitter",
    "ShiftedBetaGeoFitter",
    "calibration_holdout",
    "cash_flows",
    "historical",
    "simple",
    "summary",
    "tracking_transactions",
    "value",
]
