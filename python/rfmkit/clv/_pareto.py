"""`ParetoNBDFitter`: the Pareto/NBD purchase model with lifetimes' names, fitted and
evaluated in the Rust core."""

from __future__ import annotations

from typing import Any

import numpy as np

from rfmkit._io import frames
from rfmkit.clv import _inputs
from rfmkit.clv._models import _non_negative, _PurchaseFitter


class ParetoNBDFitter(_PurchaseFitter):
    """The Pareto/NBD purchase model (Schmittlein, Morrison & Colombo 1987), as
    `lifetimes.ParetoNBDFitter`.

    An active customer buys as a Poisson process with rate ``λ ~ Gamma(r, alpha)`` and
    stays active for an exponential time of rate ``μ ~ Gamma(s, beta)``: unlike BG/NBD, a
    customer may leave at any moment, so a one-time buyer long silent has ``P(alive) < 1``.
    The likelihood needs the Gauss hypergeometric function; the core sums its series (all
    terms positive, in log space) with its derivatives, and fits by Newton steps on
    log-parameters: lifetimes' optimum (it uses Nelder–Mead from a random start) to more
    digits. Same time scaling (the largest ``T`` is 1) and objective as lifetimes:
    ``−Σ w·ln L / mean(w) + penalizer_coef · (r² + alpha² + s² + beta²)``.

    Parameters
    ----------
    penalizer_coef : float, default 0.0

    Attributes
    ----------
    params_ : pandas.Series
        ``r, alpha, s, beta``; ``alpha`` and ``beta`` are in the time unit of the data.
    log_likelihood_, objective_, variance_matrix_, standard_errors_, confidence_intervals_,
    time_unit_, freq_multiplier_, n_customers_, n_patterns_, n_iter_, gradient_norm_
        As `BetaGeoFitter` (``objective_`` is lifetimes' ``_negative_log_likelihood_``).

    Examples
    --------
    The CDNOW sample (2,357 customers, weeks) gives the published 0.55, 10.58, 0.61, 11.67:

    >>> import rfmkit
    >>> model = rfmkit.clv.ParetoNBDFitter()
    >>> model.params_ = rfmkit.datasets.cdnow_params("pareto")
    >>> model.conditional_probability_alive([0, 2, 2], [0, 30.43, 5.0], 38.86).round(3)
    array([0.295, 0.869, 0.13 ])
    >>> model.conditional_expected_number_of_purchases_up_to_time(39, [0, 2], [0, 30.43], 38.86).round(4)
    array([0.1071, 1.4551])
    """

    _param_names = ("r", "alpha", "s", "beta")
    _core_model = "pareto"

    def conditional_probability_of_purchase_within(self, t: Any, frequency: Any, recency: Any, T: Any) -> Any:
        """The probability of at least one purchase in the next `t` time units, given the
        history: ``P(alive) · (1 − P(no purchase in t | alive))``. An active customer's
        rates are then ``λ ~ Gamma(r+x, alpha+T)`` and ``μ ~ Gamma(s, beta+T)``, so the
        second factor is the likelihood of a new customer with those parameters who does not
        buy in `t`. Checked against a simulation of the model in the tests.

        Examples
        --------
        >>> import rfmkit
        >>> model = rfmkit.clv.ParetoNBDFitter()
        >>> model.params_ = rfmkit.datasets.cdnow_params("pareto")
        >>> model.conditional_probability_of_purchase_within(4, [0, 2, 2], [0, 30.43, 5.0], 38.86).round(3)
        array([0.012, 0.153, 0.023])
        """
        data = _inputs.broadcast(t=_non_negative("t", t), frequency=frequency, recency=recency, T=T)
        out = self._core("probability_of_purchase_within")(
            self._params(), data["t"], data["frequency"], data["recency"], data["T"]
        )
        return frames.column_like(frequency, out, "probability_of_purchase")

    def conditional_median_time_to_next_purchase(self, frequency: Any, recency: Any, T: Any) -> Any:
        """The time (in the model's unit) within which the customer buys again with
        probability 1/2: where `conditional_probability_of_purchase_within` reaches 0.5 (by
        bisection); NaN when it never does (the customer is more likely never to buy again).

        Examples
        --------
        >>> import rfmkit
        >>> model = rfmkit.clv.ParetoNBDFitter()
        >>> model.params_ = rfmkit.datasets.cdnow_params("pareto")
        >>> model.conditional_median_time_to_next_purchase([0, 10, 2], [0, 38.0, 5.0], 38.86).round(2)
        array([ nan, 3.51,  nan])
        """
        data = _inputs.broadcast(frequency=frequency, recency=recency, T=T)
        out = self._core("median_time_to_next_purchase")(self._params(), data["frequency"], data["recency"], data["T"])
        return frames.column_like(frequency, out, "median_time_to_next_purchase")

    def conditional_probability_of_n_purchases_up_to_time(
        self, n: Any, t: Any, frequency: Any, recency: Any, T: Any
    ) -> Any:
        """P(exactly `n` repeat purchases in the next `t`) given the history (Fader & Hardie
        2006, "Deriving the conditional PMF of the Pareto/NBD model", equation 16), as
        lifetimes' method of that name (same argument order).

        Examples
        --------
        >>> import rfmkit
        >>> model = rfmkit.clv.ParetoNBDFitter()
        >>> model.params_ = rfmkit.datasets.cdnow_params("pareto")
        >>> model.conditional_probability_of_n_purchases_up_to_time(1, 39, [0, 2], [0, 30.43], 38.86).round(4)
        array([0.0459, 0.2193])
        """
        data = _inputs.broadcast(n=n, t=_non_negative("t", t), frequency=frequency, recency=recency, T=T)
        out = self._core("probability_of_n")(
            self._params(), data["n"], data["t"], data["frequency"], data["recency"], data["T"]
        )
        if all(np.ndim(v) == 0 for v in (n, t, frequency, recency, T)):
            return float(out[0])
        return frames.column_like(frequency, out, "probability")

    def probability_of_n_purchases_up_to_time(self, t: Any, n: Any) -> Any:
        """P(N(t) = n): the probability that a new customer makes `n` repeat purchases in `t`
        (the conditional PMF at ``x = t_x = T = 0``). Returns a float for scalar inputs.

        Examples
        --------
        >>> import rfmkit
        >>> model = rfmkit.clv.ParetoNBDFitter()
        >>> model.params_ = rfmkit.datasets.cdnow_params("pareto")
        >>> round(model.probability_of_n_purchases_up_to_time(52, 0), 4)
        0.5738
        """
        data = _inputs.broadcast(t=_non_negative("t", t), n=n)
        zeros = np.zeros(len(data["t"]))
        out = self._core("probability_of_n")(self._params(), data["n"], data["t"], zeros, zeros, zeros)
        if np.ndim(t) == 0 and np.ndim(n) == 0:
            return float(out[0])
        return out
