"""`ShiftedBetaGeoFitter`: retention of contractual customers (subscriptions, memberships),
the shifted-beta-geometric model of Fader & Hardie (2007), fitted in the Rust core."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rfmkit import _core
from rfmkit.clv._models import _check_penalizer, _Fitter, _initial
from rfmkit.exceptions import InvalidDataError, InvalidParameterError


class ShiftedBetaGeoFitter(_Fitter):
    """The shifted-beta-geometric (sBG) model of contractual retention (Fader & Hardie
    2007, "How to project customer retention").

    At the end of each period every customer renews with probability ``1 − θ``; ``θ``
    varies across customers as ``Beta(alpha, beta)``. So the customers who stay are more
    and more the loyal ones and the retention rate rises over time:
    ``r(t) = (beta + t − 1) / (alpha + beta + t − 1)``. Fitted by maximum likelihood on the
    number of customers of one or several cohorts still active after t = 0, 1, 2, ...
    periods (the Rust core; analytic gradient and Hessian).

    Parameters
    ----------
    penalizer_coef : float, default 0.0
        L2 penalty ``penalizer_coef * (alpha² + beta²)`` on the mean negative
        log-likelihood per customer.

    Attributes
    ----------
    params_ : pandas.Series
        ``alpha, beta``.
    log_likelihood_, objective_, variance_matrix_, standard_errors_, confidence_intervals_
        As `BetaGeoFitter`.
    n_customers_ : float
        Customers at t = 0, all cohorts.

    Examples
    --------
    The regular customers of Fader & Hardie (2007), 1,000 at the start, still active after
    1..7 years; the paper's estimates are alpha 0.704, beta 1.182:

    >>> import rfmkit
    >>> regular = [1000, 631, 468, 382, 326, 289, 262, 241]
    >>> model = rfmkit.clv.ShiftedBetaGeoFitter().fit(regular)
    >>> model.params_.round(3).to_dict()
    {'alpha': 0.704, 'beta': 1.182}
    >>> (1000 * model.survival_function([8, 12])).round(0)  # projected; observed 223 and 173
    array([220., 170.])
    >>> model.retention_rate([1, 2, 7]).round(3)
    array([0.627, 0.756, 0.911])
    """

    _param_names = ("alpha", "beta")

    def fit(
        self, survivors: Any, initial_params: Any = None, tol: float = 1e-10, max_iterations: int = 2000
    ) -> ShiftedBetaGeoFitter:
        """Fits the model to cohorts' survivors.

        Parameters
        ----------
        survivors : array-like, list of array-likes, 2-D array or pandas.DataFrame
            The customers of a cohort still active at t = 0, 1, 2, ... (the first count is
            the cohort's size; whole numbers of customers, never increasing: the standard
            errors count customers). Several cohorts: a list of such sequences (of any
            lengths), a 2-D array (a row per cohort), or a DataFrame with a row per cohort
            and a column per t, empty (NaN) after a cohort's last observed period. The
            model needs some customers who leave and a cohort observed for two periods
            (three counts) with customers left: with one period only ``alpha / (alpha +
            beta)`` can be known.
        initial_params : (float, float), optional
            Starting log-parameters; default 0.1 each.
        tol, max_iterations
            The optimiser's gradient tolerance and iteration limit.

        Returns
        -------
        ShiftedBetaGeoFitter

        Raises
        ------
        InvalidDataError
            Survivors that increase, are negative, not whole or not finite; a cohort with
            fewer than two counts or without customers; cohorts that cannot tell the
            parameters apart (nobody leaves, everybody has left after one period, or no
            cohort has three counts).
        ConvergenceError
            The fit gives no estimate: the optimiser stopped before an optimum, or alpha and
            beta ran off (outside 1e-6..1e6) or the likelihood is flat. That happens when the
            survivors show no spread of churn probabilities: the same share leaves in every
            period (alpha and beta run off to infinity), or those left after the first
            period never leave (both run off to 0). The message says which, the counts, and
            whether ``penalizer_coef=0.01`` gives a finite fit.
        """
        flat, lengths = _cohorts(survivors)
        out = _core.sbg_fit(
            flat,
            lengths,
            penalizer_coef=_check_penalizer(self.penalizer_coef),
            initial_params=_initial(initial_params, 2),
            tol=float(tol),
            max_iterations=int(max_iterations),
        )
        self._store(out)
        return self

    def log_likelihood(self, survivors: Any) -> float:
        """The total log-likelihood of cohorts' survivors (as `fit` takes them) under the
        fitted parameters."""
        flat, lengths = _cohorts(survivors)
        return float(_core.sbg_log_likelihood(self._params(), flat, lengths))

    def survival_function(self, t: Any) -> np.ndarray:
        """``S(t)``: the share of a cohort still active after `t` periods (whole numbers
        >= 0; ``S(0) = 1``)."""
        periods = _periods(t, 0)
        alpha, beta = self._params()
        steps = np.arange(int(periods.max(initial=0)), dtype=np.float64)
        survival = np.concatenate([[1.0], np.cumprod((beta + steps) / (alpha + beta + steps))])
        return survival[periods]

    def retention_rate(self, t: Any) -> np.ndarray:
        """``r(t) = S(t) / S(t − 1)``: the share of the customers active after ``t − 1``
        periods who renew in period `t` (whole numbers >= 1)."""
        periods = _periods(t, 1).astype(np.float64)
        alpha, beta = self._params()
        return (beta + periods - 1.0) / (alpha + beta + periods - 1.0)

    def churn_probability(self, t: Any) -> np.ndarray:
        """``P(T = t) = S(t − 1) − S(t)``: the share of a cohort that leaves in period `t`
        (whole numbers >= 1)."""
        periods = _periods(t, 1)
        return self.survival_function(periods - 1) - self.survival_function(periods)


def _periods(t: Any, smallest: int) -> np.ndarray:
    values = np.atleast_1d(np.asarray(t, dtype=np.float64))
    if (
        values.ndim != 1
        or not np.isfinite(values).all()
        or (values != np.floor(values)).any()
        or (values < smallest).any()
    ):
        raise InvalidParameterError(f"t must be whole numbers of periods >= {smallest}, got {t!r}")
    return values.astype(np.int64)


def _cohorts(survivors: Any) -> tuple[np.ndarray, np.ndarray]:
    """The survivors of every cohort in a row, and each cohort's length."""
    if isinstance(survivors, pd.DataFrame):
        rows = [row.to_numpy(dtype=np.float64) for _, row in survivors.iterrows()]
        cohorts = []
        for position, row in enumerate(rows):
            observed = ~np.isnan(row)
            length = int(observed.sum())
            if not observed[:length].all():
                raise InvalidDataError(
                    f"cohort {position} ({survivors.index[position]!r}) has an empty count before its last one; "
                    "only the periods after the last observed one may be empty"
                )
            cohorts.append(row[:length])
    elif isinstance(survivors, np.ndarray) and survivors.ndim == 2:
        cohorts = [np.asarray(row, dtype=np.float64) for row in survivors]
    else:
        values = survivors if isinstance(survivors, (list, tuple)) else [survivors]
        nested = bool(values) and all(np.ndim(v) == 1 for v in values)
        if not nested and any(np.ndim(v) == 1 for v in values):
            raise InvalidDataError(
                "survivors mixes counts and lists of counts: pass one cohort's counts, or a list with one list per cohort"
            )
        cohorts = (
            [np.asarray(v, dtype=np.float64) for v in values] if nested else [np.asarray(values, dtype=np.float64)]
        )
    if any(c.ndim != 1 for c in cohorts):
        raise InvalidDataError(
            "survivors must be one cohort's counts (1-D), a list of them, a 2-D array or a DataFrame with a row per "
            "cohort"
        )
    lengths = np.array([len(c) for c in cohorts], dtype=np.int64)
    flat = np.concatenate(cohorts) if cohorts else np.empty(0)
    return np.ascontiguousarray(flat, dtype=np.float64), lengths
