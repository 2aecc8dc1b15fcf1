"""`BetaGeoBetaBinomFitter`: repeat purchases at discrete opportunities (BG/BB, Fader, Hardie
& Shang 2010), with the names of `lifetimes.BetaGeoBetaBinomFitter`, fitted in the Rust core."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rfmkit import _core
from rfmkit._io import frames
from rfmkit.clv import _inputs
from rfmkit.clv._models import _check_penalizer, _Fitter, _non_negative
from rfmkit.exceptions import InvalidParameterError

_lgamma = np.frompyfunc(math.lgamma, 1, 1)


def _ln_gamma(values: Any) -> np.ndarray:
    return np.asarray(_lgamma(np.asarray(values, dtype=np.float64)), dtype=np.float64)


def _ln_beta(x: Any, y: Any) -> np.ndarray:
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return _ln_gamma(x) + _ln_gamma(y) - _ln_gamma(x + y)


class BetaGeoBetaBinomFitter(_Fitter):
    """The BG/BB model of purchases at discrete opportunities (yearly donations, a weekly
    event, an issue of a magazine): at each of ``n_periods`` opportunities an active customer
    buys with probability ``p ~ Beta(alpha, beta)``, then drops out with probability
    ``theta ~ Beta(gamma, delta)`` (Fader, Hardie & Shang 2010). As
    `lifetimes.BetaGeoBetaBinomFitter`: ``frequency`` is the number of opportunities with a
    purchase, ``recency`` the opportunity of the last one (0 without any), ``n_periods`` the
    opportunities; fitted by maximum likelihood in the Rust core.

    Parameters
    ----------
    penalizer_coef : float, default 0.0
        L2 penalty ``penalizer_coef * (alpha² + beta² + gamma² + delta²)`` on the mean
        negative log-likelihood.

    Examples
    --------
    Donors followed over 6 yearly opportunities, as patterns with their counts (on the
    paper's 11,104 donors, lifetimes' ``donations`` data, the fit gives the paper's 1.204,
    0.750, 0.657, 2.783; see the tests):

    >>> import pandas as pd, rfmkit
    >>> donations = pd.DataFrame({"frequency": [0, 1, 2, 6], "recency": [0, 1, 5, 6], "periods": 6,
    ...                           "weights": [3464, 1091, 197, 1203]})
    >>> model = rfmkit.clv.BetaGeoBetaBinomFitter().fit(
    ...     donations["frequency"], donations["recency"], donations["periods"], weights=donations["weights"])
    >>> model.conditional_probability_alive(1, [6, 0], [6, 0], [6, 6]).round(3)
    array([0.947, 0.037])
    """

    _param_names = ("alpha", "beta", "gamma", "delta")

    def fit(
        self,
        frequency: Any,
        recency: Any = None,
        n_periods: Any = None,
        weights: Any = None,
        initial_params: Any = None,
        tol: float = 1e-10,
        max_iterations: int = 2000,
    ) -> BetaGeoBetaBinomFitter:
        """Fits the model.

        Parameters
        ----------
        frequency, recency, n_periods : array-like, or a frame as `frequency`
            Per customer (or per pattern with `weights`): opportunities with a purchase,
            the opportunity of the last purchase (0 without any), opportunities. A frame
            gives them by these names (``periods`` is read for ``n_periods``, as
            lifetimes' ``donations``) and ``weights`` when it has it.
        weights : array-like, optional
            Customers per row.

        Raises
        ------
        InvalidDataError
            A row that is not whole numbers with ``0 <= frequency <= recency <= n_periods``
            (``recency`` 0 exactly when ``frequency`` is 0).
        ConvergenceError
            When the fit gives no estimate, as `BetaGeoFitter.fit`: the optimiser stopped
            before an optimum, or a parameter ran off (outside 1e-6..1e6) or the likelihood
            is flat (few customers with a purchase, everyone buying at every opportunity).
            The message says which, why, the counts and whether ``penalizer_coef=0.01``
            gives a finite fit.
        """
        if frames.is_table(frequency):
            table = frames.indexed_pandas(frequency)
            periods = "n_periods" if "n_periods" in table.columns else "periods"
            frequency, recency, n_periods = table["frequency"], table["recency"], table[periods]
            if weights is None and "weights" in table.columns:
                weights = table["weights"]
        columns = {"frequency": frequency, "recency": recency, "n_periods": n_periods}
        penalizer = _check_penalizer(self.penalizer_coef)
        self._fit(_core.bgbb_fit, penalizer, columns, weights, initial_params, tol, max_iterations)
        return self

    def _log_likelihoods(self, frequency: Any, recency: Any, n_periods: Any) -> dict[str, np.ndarray]:
        data = _inputs.broadcast(frequency=frequency, recency=recency, n_periods=n_periods)
        data["ll"] = np.asarray(
            _core.bgbb_log_likelihoods(self._params(), data["frequency"], data["recency"], data["n_periods"])
        )
        return data

    def conditional_probability_alive(
        self, m_periods_in_future: Any, frequency: Any, recency: Any, n_periods: Any
    ) -> Any:
        """The probability that a customer with history ``(frequency, recency, n_periods)``
        is still active at opportunity ``n_periods + m_periods_in_future``:
        ``B(alpha+x, beta+n−x)/B(alpha,beta) · B(gamma, delta+n+m)/B(gamma,delta) / L``."""
        m = np.asarray(_non_negative("m_periods_in_future", m_periods_in_future), dtype=np.float64)
        data = self._log_likelihoods(frequency, recency, n_periods)
        alpha, beta, gamma, delta = self._params()
        x, n = data["frequency"], data["n_periods"]
        ln_alive = (
            _ln_beta(alpha + x, beta + n - x)
            - _ln_beta(alpha, beta)
            + _ln_beta(gamma, delta + n + m)
            - _ln_beta(gamma, delta)
        )
        return frames.column_like(frequency, np.exp(ln_alive - data["ll"]), "probability_alive")

    def conditional_expected_number_of_purchases_up_to_time(
        self, m_periods_in_future: Any, frequency: Any, recency: Any, n_periods: Any
    ) -> Any:
        """Expected purchases in the next `m_periods_in_future` opportunities of customers
        with history ``(frequency, recency, n_periods)`` (equation 13 of the paper, as
        lifetimes)."""
        m = np.asarray(_non_negative("m_periods_in_future", m_periods_in_future), dtype=np.float64)
        data = self._log_likelihoods(frequency, recency, n_periods)
        alpha, beta, gamma, delta = self._params()
        x, n = data["frequency"], data["n_periods"]
        ln_p2 = _ln_beta(alpha + x + 1, beta + n - x) - _ln_beta(alpha, beta)
        p3 = delta / (gamma - 1) * math.exp(math.lgamma(gamma + delta) - math.lgamma(1 + delta))
        p4 = np.exp(_ln_gamma(1 + delta + n) - _ln_gamma(gamma + delta + n))
        p5 = np.exp(_ln_gamma(1 + delta + n + m) - _ln_gamma(gamma + delta + n + m))
        out = np.exp(ln_p2 - data["ll"]) * p3 * (p4 - p5)
        return frames.column_like(frequency, out, "expected_purchases")

    def conditional_probability_of_purchase_within(
        self, m_periods_in_future: Any, frequency: Any, recency: Any, n_periods: Any
    ) -> Any:
        """The probability of at least one purchase in the next `m_periods_in_future`
        opportunities, given the history: ``1 − L(x, t_x, n + m) / L(x, t_x, n)``, since
        no purchase in those opportunities extends the history to the pattern
        ``(x, t_x, n + m)`` (``L`` the model's likelihood). Checked against a simulation of
        the model in the tests.

        Examples
        --------
        >>> import pandas as pd, rfmkit
        >>> model = rfmkit.clv.BetaGeoBetaBinomFitter()
        >>> model.params_ = pd.Series({"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783})
        >>> model.conditional_probability_of_purchase_within(1, [6, 1, 0], [6, 1, 0], 6).round(3)
        array([0.843, 0.019, 0.016])
        """
        m = np.asarray(_non_negative("m_periods_in_future", m_periods_in_future), dtype=np.float64)
        if (m != np.floor(m)).any():
            raise InvalidParameterError(
                f"m_periods_in_future counts opportunities: whole numbers, got {m_periods_in_future!r}"
            )
        data = self._log_likelihoods(frequency, recency, n_periods)
        later = self._log_likelihoods(data["frequency"], data["recency"], data["n_periods"] + m)
        return frames.column_like(frequency, -np.expm1(later["ll"] - data["ll"]), "probability_of_purchase")

    #: The most opportunities ahead the median time to the next purchase looks.
    MAX_OPPORTUNITIES_AHEAD = 4096

    def conditional_median_time_to_next_purchase(self, frequency: Any, recency: Any, n_periods: Any) -> Any:
        """The number of opportunities within which the customer buys again with probability
        1/2: the smallest ``m`` where `conditional_probability_of_purchase_within` reaches
        0.5; NaN when it does not within ``MAX_OPPORTUNITIES_AHEAD`` (4,096) opportunities
        (the customer has more likely left for good).

        Examples
        --------
        >>> import pandas as pd, rfmkit
        >>> model = rfmkit.clv.BetaGeoBetaBinomFitter()
        >>> model.params_ = pd.Series({"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783})
        >>> model.conditional_median_time_to_next_purchase([6, 3, 0], [6, 6, 0], 6)
        array([ 1.,  2., nan])
        """
        data = _inputs.broadcast(frequency=frequency, recency=recency, n_periods=n_periods)
        f, r, n = data["frequency"], data["recency"], data["n_periods"]

        def within(m: np.ndarray) -> np.ndarray:
            return np.asarray(self.conditional_probability_of_purchase_within(m, f, r, n))

        # the smallest m with P >= 1/2, by bisection on whole numbers (P rises with m)
        low, high = np.zeros(len(f)), np.full(len(f), float(self.MAX_OPPORTUNITIES_AHEAD))
        reached = within(high) >= 0.5
        while (high - low > 1).any():
            middle = np.floor((low + high) / 2)
            above = within(middle) >= 0.5
            high = np.where(above, middle, high)
            low = np.where(above, low, middle)
        out = np.where(reached, high, np.nan)
        return frames.column_like(frequency, out, "median_time_to_next_purchase")
