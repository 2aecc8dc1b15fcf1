"""`BetaGeoFitter` (BG/NBD), `ModifiedBetaGeoFitter` (MBG/NBD) and `GammaGammaFitter`,
with the names and semantics of `lifetimes` 0.11.3, fitted and evaluated in the Rust core;
`_PurchaseFitter`, what every purchase model of a BTYD summary shares."""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rfmkit import _core, _units
from rfmkit._io import frames
from rfmkit.clv import _inputs
from rfmkit.exceptions import InvalidParameterError, NotFittedError, TimeUnitWarning

if TYPE_CHECKING:
    from typing_extensions import Self

_Z_95 = 1.96


def _check_penalizer(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidParameterError(f"penalizer_coef must be a number >= 0 (e.g. 0.001), got {value!r}")
    if not (math.isfinite(value) and value >= 0):
        raise InvalidParameterError(f"penalizer_coef must be a finite number >= 0 (e.g. 0.001), got {value!r}")
    return float(value)


def _plain_numbers(matrix: Any) -> list[Any]:
    """A matrix as JSON lists, NaN as null."""
    return [[None if not math.isfinite(float(v)) else float(v) for v in row] for row in np.asarray(matrix)]


def _numbers(matrix: list[Any]) -> list[list[float]]:
    return [[math.nan if v is None else float(v) for v in row] for row in matrix]


def _initial(initial_params: Any, size: int) -> list[float] | None:
    if initial_params is None:
        return None
    values = [float(v) for v in np.asarray(initial_params, dtype=np.float64).ravel()]
    if len(values) != size:
        raise InvalidParameterError(f"initial_params must hold {size} log-parameters, got {len(values)}")
    return values


def _non_negative(name: str, value: Any) -> Any:
    """`value` (a number or numbers), checked finite and >= 0."""
    array = np.asarray(value, dtype=np.float64)
    if not np.isfinite(array).all() or (array < 0).any():
        raise InvalidParameterError(f"{name} must be a finite time >= 0 in the model's unit, got {value!r}")
    return value


def model_unit(model: Any, freq: str | None) -> str:
    """The time unit of a purchase model's times, by its canonical name: `freq` when given
    (an error when the model was fitted in another unit), else the model's ``time_unit_``
    (an error when it has none: the unit must be said)."""
    known = getattr(model, "time_unit_", None)
    if known is not None:
        # A unit set by hand (``model.time_unit_ = "W-SUN"``) is read like a fitted one.
        known = _inputs.normalize_freq(known, "the purchase model's time_unit_")
    if freq is None:
        if known is None:
            raise InvalidParameterError(
                "freq= is required: the purchase model does not know the time unit of recency and T; "
                "pass freq='D' (days), 'W' (weeks), 'M' (months), 'h' (hours) or another unit of "
                "rfmkit.clv.summary, or fit it on a summary frame from rfmkit.clv.summary, which records it"
            )
        return known
    unit = _inputs.normalize_freq(freq)
    if known is not None and unit != known:
        raise InvalidParameterError(
            f"freq={freq!r} but the purchase model was fitted on times in {known!r}: "
            f"pass freq={known!r} (or nothing), or refit on a summary in {unit!r}"
        )
    return unit


class _Fitter:
    """What both fitters share: the fitted-state checks, the summary and the repr."""

    _param_names: tuple[str, ...] = ()
    #: Fitted attributes beyond those of every model, kept by `save` and `load`.
    _extra_attributes: tuple[str, ...] = ()

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        self.penalizer_coef = penalizer_coef

    def _require_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call .fit(...) first")

    def _params(self) -> Any:
        """The parameters in the core's order, as the tuple its functions take."""
        self._require_fitted()
        return tuple(float(self.params_[name]) for name in self._param_names)

    def _fit(
        self,
        core_fit: Callable[..., dict[str, Any]],
        penalizer: float,
        columns: dict[str, Any],
        weights: Any,
        initial_params: Any,
        tol: float,
        max_iterations: int,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Fits by the core's `core_fit` on `columns` (name -> values, in the order it takes
        them) and `weights`, broadcast; stores the fit. Returns the arrays and the result."""
        extra = {} if weights is None else {"weights": weights}
        data = _inputs.broadcast(**columns, **extra)
        out = core_fit(
            *(data[name] for name in columns),
            data.get("weights"),
            penalizer_coef=penalizer,
            initial_params=_initial(initial_params, len(self._param_names)),
            tol=float(tol),
            max_iterations=int(max_iterations),
        )
        self._store(out)
        return data, out

    def _store(self, out: dict[str, Any]) -> None:
        names = list(self._param_names)
        self.params_ = pd.Series(out["params"], index=names, dtype=np.float64)
        self.log_likelihood_ = float(out["log_likelihood"])
        self.objective_ = float(out["objective"])
        self.hessian_ = np.array(out["hessian"], dtype=np.float64)
        covariance = out["covariance"]
        matrix = np.full((len(names), len(names)), np.nan) if covariance is None else np.array(covariance)
        self.variance_matrix_ = pd.DataFrame(matrix, index=names, columns=names)
        with np.errstate(invalid="ignore"):
            self.standard_errors_ = pd.Series(np.sqrt(np.diag(matrix)), index=names)
        self.confidence_intervals_ = pd.DataFrame(
            {
                "lower 95% bound": self.params_ - _Z_95 * self.standard_errors_,
                "upper 95% bound": self.params_ + _Z_95 * self.standard_errors_,
            }
        )
        self.n_iter_ = int(out["iterations"])
        self.gradient_norm_ = float(out["gradient_norm"])
        self.n_patterns_ = int(out["n_patterns"])
        self.n_customers_ = float(out["total_weight"])

    @property
    def summary(self) -> pd.DataFrame:
        """Parameters with standard errors and 95 % confidence bounds (lifetimes' columns)."""
        self._require_fitted()
        return pd.DataFrame(
            {
                "coef": self.params_,
                "se(coef)": self.standard_errors_,
                "lower 95% bound": self.confidence_intervals_["lower 95% bound"],
                "upper 95% bound": self.confidence_intervals_["upper 95% bound"],
            }
        )

    def save(self, path: str | Path) -> Path:
        """Writes the fitted model to `path` as plain JSON: the model's name, the rfmkit
        version, ``penalizer_coef``, the parameters, their covariance, the Hessian, the
        fit's statistics and (BG/NBD) the time unit. No pickle: any version reads it, and
        reading it runs no code. Returns the path.

        Examples
        --------
        >>> import tempfile, pathlib, rfmkit
        >>> model = rfmkit.clv.ShiftedBetaGeoFitter().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> path = model.save(pathlib.Path(tempfile.mkdtemp()) / "sbg.json")
        >>> rfmkit.clv.ShiftedBetaGeoFitter.load(path).params_.round(3).to_dict()
        {'alpha': 0.704, 'beta': 1.182}
        """
        import rfmkit

        self._require_fitted()
        if not hasattr(self, "variance_matrix_"):
            raise NotFittedError(
                f"this {type(self).__name__} has parameters but no fit (set by hand?): save() keeps what fit() "
                f"measured (covariance, log-likelihood); fit it first, or keep params_ yourself"
            )
        state = {
            "model": type(self).__name__,
            "rfmkit": rfmkit.__version__,
            "penalizer_coef": float(self.penalizer_coef),
            "params": self.params_.to_dict(),
            "covariance": _plain_numbers(self.variance_matrix_.to_numpy()),
            "hessian": _plain_numbers(self.hessian_),
            "log_likelihood": self.log_likelihood_,
            "objective": self.objective_,
            "iterations": self.n_iter_,
            "gradient_norm": self.gradient_norm_,
            "n_patterns": self.n_patterns_,
            "total_weight": self.n_customers_,
            "attributes": {name: getattr(self, name) for name in self._extra_attributes if hasattr(self, name)},
        }
        path = Path(path)
        path.write_text(json.dumps(state, indent=2, allow_nan=False), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Any:
        """The model `save` wrote to `path`, fitted as it was.

        Raises
        ------
        InvalidParameterError
            The file holds another model, or is no model `save` wrote.
        """
        try:
            state = json.loads(Path(path).read_text(encoding="utf-8"))
            model = state["model"]
            if model != cls.__name__:
                raise InvalidParameterError(
                    f"{str(path)!r} holds a {model}, not a {cls.__name__}: load it with rfmkit.clv.{model}.load"
                )
            fitted = cls(penalizer_coef=float(state["penalizer_coef"]))
            covariance = state["covariance"]
            fitted._store(
                {
                    **state,
                    "params": [float(state["params"][name]) for name in cls._param_names],
                    "covariance": None if covariance is None else _numbers(covariance),
                    "hessian": _numbers(state["hessian"]),
                }
            )
            for name, value in state["attributes"].items():
                setattr(fitted, name, value)
        except InvalidParameterError:
            raise
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise InvalidParameterError(f"{str(path)!r} is not a model written by save(): {error!r}") from None
        return fitted

    def __repr__(self) -> str:
        name = type(self).__name__
        if not hasattr(self, "params_"):
            return f"<rfmkit.clv.{name}: not fitted, penalizer_coef={self.penalizer_coef}>"
        params = ", ".join(f"{k}: {v:.2f}" for k, v in self.params_.items())
        if not hasattr(self, "n_customers_"):
            return f"<rfmkit.clv.{name}: parameters set by hand, {params}>"
        return f"<rfmkit.clv.{name}: fitted with {self.n_customers_:g} customers, {params}>"


class _PurchaseFitter(_Fitter):
    """What the purchase models of a BTYD summary share (BG/NBD, MBG/NBD, Pareto/NBD): the
    fit on ``frequency, recency, T`` with its time unit, and the predictions every one of
    them has, each computed by the core's ``_core.<model>_<function>``."""

    _extra_attributes = ("time_unit_", "freq_multiplier_")
    #: The model's functions in the core (`_core.<model>_<function>`).
    _core_model = ""

    def _core(self, function: str) -> Callable[..., Any]:
        return getattr(_core, f"{self._core_model}_{function}")

    def fit(
        self,
        frequency: Any,
        recency: Any = None,
        T: Any = None,
        weights: Any = None,
        initial_params: Any = None,
        tol: float = 1e-10,
        max_iterations: int = 2000,
        *,
        freq: str | None = None,
    ) -> Self:
        """Fits the model to a BTYD summary.

        Parameters
        ----------
        frequency, recency, T : array-like, or a summary frame as `frequency`
            Repeat purchase periods, age at the last purchase, age — all in one time unit
            (`rfmkit.clv.summary` makes them). A pandas, polars or pyarrow summary table may be
            passed alone; its time unit then comes from its attrs.
        weights : array-like, optional
            Customers per row (for an already compressed table).
        initial_params : array-like of 4, optional
            Starting log-parameters (default 0.1 each, as lifetimes).
        tol : float
            Gradient tolerance of the optimiser.
        max_iterations : int
        freq : str, optional
            The time unit of recency and T, when passing arrays (checked against the
            summary's unit when passing a frame): any alias `rfmkit.clv.summary` takes
            (``"h"``, ``"D"``, ``"W"`` = ``"W-SUN"``, ``"W-MON"`` .. ``"W-SAT"``,
            ``"M"``/``"ME"``, ``"Q"``/``"QE"``, ``"Y"``/``"YE"``/``"A"``); ``time_unit_``
            stores its canonical name (``"W-SUN"`` -> ``"W"``).

        Returns
        -------
        The model
            ``self``, fitted.

        Raises
        ------
        rfmkit.ConvergenceError
            When the fit gives no estimate: the optimiser stopped before an optimum, or what
            it found is a limit (see Notes). The message names the parameter that ran off and
            its value, says why (e.g. "Only 1 of 5 customers made a repeat purchase: the data
            cannot tell the purchase rate from the drop-out"), gives the data's counts
            (customers, repeat customers, distinct patterns) and what to do; when the fit had
            no penalty, it was tried again with ``penalizer_coef=0.01`` on the same data and
            the message says whether that gives a finite fit (and its parameters).
        rfmkit.InvalidParameterError
            For recency > T, a negative or fractional frequency, NaN, ... (names the row).

        Notes
        -----
        With few customers who bought again (one to three), one-time buyers only, or data
        that show no spread the model can measure (every repeat customer recent, every
        customer alike), the likelihood has no interior maximum: it keeps rising as
        parameters run off towards 0 or infinity (``r`` ~ 1e8, ``a`` ~ 1e-8), or it is flat.
        ``lifetimes`` then raises its ``ConvergenceError`` or returns those parameters;
        rfmkit raises `rfmkit.ConvergenceError` in both cases, since such a fit is a limit,
        not an estimate. The rule, on the parameters with times scaled so that the largest
        ``T`` is 1: a shape (``r``, ``a``, ``b``) outside 1e-6..1e6 or a scale (``alpha``)
        outside 1e-8..1e6 ran off (estimates of real and simulated data stay within about
        1e-3..400, penalised ones down to 1e-4); the objective still falling a log-unit
        further out along the flattest direction means the parameters along it are running
        off; a Hessian singular or not positive there means the likelihood is flat. A penalty (``penalizer_coef`` > 0) keeps parameters
        from running off to infinity, and a penalised fit that stays within the bounds is
        returned; it pulls them towards 0, so it does not help where the data show no
        drop-out.

        Examples
        --------
        >>> import rfmkit
        >>> summary = rfmkit.clv.summary(rfmkit.datasets.make_transactions(500, seed=1), customer="customer_id",
        ...                              date="ordered_at", freq="W-SUN")
        >>> model = rfmkit.clv.BetaGeoFitter().fit(summary)
        >>> model.n_customers_, model.time_unit_
        (500.0, 'W')

        Four customers are too few: the fit is a limit, and the message says so.

        >>> rfmkit.clv.BetaGeoFitter().fit([0, 2, 1, 5], [0, 5.0, 2, 9], [10, 8.0, 9, 10], freq="D")
        Traceback (most recent call last):
        ...
        rfmkit.ConvergenceError: the BG/NBD fit is a limit, not an estimate: ...
        """
        penalizer = _check_penalizer(self.penalizer_coef)
        unit, multiplier = None, 1.0
        if frames.is_table(frequency):
            unit, multiplier = _inputs.summary_unit(frequency)
            columns = _inputs.summary_columns(frequency, ("frequency", "recency", "T"))
            frequency, recency, T = columns["frequency"], columns["recency"], columns["T"]
        elif recency is None or T is None:
            raise InvalidParameterError(
                "fit needs frequency, recency and T (or a summary frame from rfmkit.clv.summary as the first argument)"
            )
        if freq is not None:
            freq = _inputs.normalize_freq(freq)
            if unit is not None and freq != unit:
                raise InvalidParameterError(
                    f"freq={freq!r} but the summary was made with freq={unit!r}; drop freq= or rebuild the summary"
                )
            unit = freq
        columns = {"frequency": frequency, "recency": recency, "T": T}
        data, _ = self._fit(self._core("fit"), penalizer, columns, weights, initial_params, tol, max_iterations)
        self.time_unit_ = unit
        self.freq_multiplier_ = multiplier
        self._max_T = float(np.max(data["T"]))
        return self

    def conditional_expected_number_of_purchases_up_to_time(
        self,
        t: Any,
        frequency: Any,
        recency: Any,
        T: Any,
    ) -> Any:
        """Expected repeat purchases in the next `t` time units of customers with history
        ``(frequency, recency, T)``: equation (10) of Fader, Hardie & Lee (2005).

        Examples
        --------
        >>> import rfmkit
        >>> model = rfmkit.clv.BetaGeoFitter()
        >>> model.params_ = rfmkit.datasets.cdnow_params("bgnbd")
        >>> round(model.conditional_expected_number_of_purchases_up_to_time(39, 2, 30.43, 38.86), 4)
        1.2259
        """
        data = _inputs.broadcast(t=t, frequency=frequency, recency=recency, T=T)
        out = self._core("conditional_expected")(
            self._params(), data["t"], data["frequency"], data["recency"], data["T"]
        )
        return frames.column_like(frequency, out, "expected_purchases")

    def predict(self, t: Any, frequency: Any, recency: Any, T: Any) -> Any:
        """Alias of `conditional_expected_number_of_purchases_up_to_time` (as lifetimes).

        Examples
        --------
        >>> import rfmkit
        >>> model = rfmkit.clv.BetaGeoFitter()
        >>> model.params_ = rfmkit.datasets.cdnow_params("bgnbd")
        >>> model.predict(39, [0, 2], [0, 30.43], [38.86, 38.86]).round(4)
        array([0.1948, 1.2259])
        """
        return self.conditional_expected_number_of_purchases_up_to_time(t, frequency, recency, T)

    def conditional_probability_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
        """P(alive) of customers with history ``(frequency, recency, T)``: 1 without a repeat
        purchase, else ``1 / (1 + a/(b+x−1) · ((alpha+T)/(alpha+recency))^(r+x))``.

        Examples
        --------
        >>> import rfmkit
        >>> model = rfmkit.clv.BetaGeoFitter()
        >>> model.params_ = rfmkit.datasets.cdnow_params("bgnbd")
        >>> model.conditional_probability_alive([0, 2, 2], [0, 30.43, 5.0], 38.86).round(3)
        array([1.   , 0.727, 0.124])
        """
        data = _inputs.broadcast(frequency=frequency, recency=recency, T=T)
        out = self._core("probability_alive")(self._params(), data["frequency"], data["recency"], data["T"])
        return frames.column_like(frequency, out, "probability_alive")

    def conditional_expected_number_of_purchases_in_interval(
        self, t1: Any, t2: Any, frequency: Any, recency: Any, T: Any
    ) -> Any:
        """Expected purchases in the interval ``(T + t1, T + t2]`` of customers with history
        ``(frequency, recency, T)``: the expectation up to `t2` less the one up to `t1`
        (`t1` <= `t2`, in the model's time unit).

        Examples
        --------
        >>> import rfmkit
        >>> model = rfmkit.clv.BetaGeoFitter()
        >>> model.params_ = rfmkit.datasets.cdnow_params("bgnbd")
        >>> model.conditional_expected_number_of_purchases_in_interval(13, 26, [0, 2], [0, 30.43], 38.86).round(4)
        array([0.0646, 0.4044])
        """
        first, second = _non_negative("t1", t1), _non_negative("t2", t2)
        if (np.asarray(first) > np.asarray(second)).any():
            raise InvalidParameterError(f"t1 must not exceed t2 (the interval (T + t1, T + t2]), got {t1!r} and {t2!r}")
        later = np.asarray(self.conditional_expected_number_of_purchases_up_to_time(second, frequency, recency, T))
        earlier = np.asarray(self.conditional_expected_number_of_purchases_up_to_time(first, frequency, recency, T))
        return frames.column_like(frequency, later - earlier, "expected_purchases")

    def expected_number_of_purchases_up_to_time(self, t: Any) -> Any:
        """Expected repeat purchases in `t` time units of a new customer (equation 9).

        Examples
        --------
        >>> import rfmkit
        >>> model = rfmkit.clv.BetaGeoFitter()
        >>> model.params_ = rfmkit.datasets.cdnow_params("bgnbd")
        >>> model.expected_number_of_purchases_up_to_time([13, 52]).round(4)
        array([0.5336, 1.444 ])
        """
        data = _inputs.broadcast(t=t)
        out = self._core("expected")(self._params(), data["t"])
        return frames.column_like(t, out, "expected_purchases")


class BetaGeoFitter(_PurchaseFitter):
    """The BG/NBD purchase model (Fader, Hardie & Lee 2005), as `lifetimes.BetaGeoFitter`.

    Each customer buys as a Poisson process with rate ``λ ~ Gamma(r, alpha)`` and after
    each purchase drops out with probability ``p ~ Beta(a, b)``. The fit maximises the
    likelihood in the Rust core (analytic gradient, BFGS on log-parameters, identical
    ``(frequency, recency, T)`` rows compressed) and gives lifetimes' optimum: same
    objective (mean negative log-likelihood + ``penalizer_coef * (r² + alpha² + a² + b²)``
    with times scaled so that the largest ``T`` is 1), same starting point.

    Parameters
    ----------
    penalizer_coef : float, default 0.0
        L2 penalty on the parameters; 0.001 to 0.1 helps when the fit does not converge.

    Attributes
    ----------
    params_ : pandas.Series
        ``r, alpha, a, b``; ``alpha`` is in the time unit of the data.
    log_likelihood_ : float
        Total log-likelihood of the data at ``params_`` (no penalty), in the data's unit.
    objective_ : float
        The minimised objective (lifetimes' ``_negative_log_likelihood_``).
    variance_matrix_, standard_errors_, confidence_intervals_
        From the Hessian of the objective (delta method, as lifetimes).
    time_unit_ : str or None
        The time unit of ``recency`` and ``T`` when known, by its canonical name ("h", "D",
        "W", "W-WED", ..., "M", "Q", "Y"): from the summary's attrs or ``fit(freq=...)``.
        `customer_lifetime_value` checks it.
    freq_multiplier_ : float
        The summary's ``freq_multiplier`` (its times are in units of ``freq_multiplier`` × freq).
    n_customers_, n_patterns_, n_iter_, gradient_norm_
        Customers fitted (sum of weights), distinct patterns, BFGS iterations, final gradient.

    Examples
    --------
    >>> import rfmkit
    >>> orders = rfmkit.datasets.make_transactions(2000, seed=1)
    >>> summary = rfmkit.clv.summary(orders, customer="customer_id", date="ordered_at",
    ...                              amount="amount", freq="D")
    >>> model = rfmkit.clv.BetaGeoFitter().fit(summary)
    >>> model.params_.round(3).to_dict()
    {'r': 0.362, 'alpha': 31.046, 'a': 0.737, 'b': 4.822}
    >>> model.time_unit_, model.n_customers_, model.n_patterns_
    ('D', 2000.0, 1630)
    >>> model.conditional_probability_alive(summary["frequency"], summary["recency"], summary["T"]).head(3).round(3)
    customer_id
    10967    0.926
    11675    1.000
    11564    0.980
    Name: probability_alive, dtype: float64
    """

    _param_names = ("r", "alpha", "a", "b")
    _core_model = "bgnbd"

    def conditional_probability_of_purchase_within(self, t: Any, frequency: Any, recency: Any, T: Any) -> Any:
        """The probability of at least one purchase in the next `t` time units, given the
        history ``(frequency, recency, T)``: ``P(alive) · (1 − ((alpha+T) / (alpha+T+t))^(r+x))``
        (an active customer buys at a Poisson rate whose distribution the history has
        updated to ``Gamma(r+x, alpha+T)``; BG/NBD customers drop out only right after a
        purchase). Checked against a simulation of the model in the tests.

        Examples
        --------
        >>> import rfmkit
        >>> model = rfmkit.clv.BetaGeoFitter()
        >>> model.params_ = rfmkit.datasets.cdnow_params("bgnbd")
        >>> model.conditional_probability_of_purchase_within(4, [0, 2, 2], [0, 30.43, 5.0], 38.86).round(3)
        array([0.021, 0.131, 0.022])
        """
        data = _inputs.broadcast(t=_non_negative("t", t), frequency=frequency, recency=recency, T=T)
        r, alpha = self._params()[:2]
        x, age = data["frequency"], data["T"]
        alive = self._core("probability_alive")(self._params(), x, data["recency"], age)
        none = np.exp((r + x) * np.log1p(-data["t"] / (alpha + age + data["t"])))
        return frames.column_like(frequency, alive * (1.0 - none), "probability_of_purchase")

    def conditional_median_time_to_next_purchase(self, frequency: Any, recency: Any, T: Any) -> Any:
        """The time (in the model's unit) within which a customer with history
        ``(frequency, recency, T)`` makes its next purchase with probability 1/2: the ``t``
        where `conditional_probability_of_purchase_within` reaches 0.5,
        ``(alpha+T) · ((1 − 0.5 / P(alive))^(−1/(r+x)) − 1)``; NaN when ``P(alive) <= 0.5``
        (the customer is more likely never to buy again, so there is no such time).

        Examples
        --------
        >>> import rfmkit
        >>> model = rfmkit.clv.BetaGeoFitter()
        >>> model.params_ = rfmkit.datasets.cdnow_params("bgnbd")
        >>> model.conditional_median_time_to_next_purchase([0, 10, 2], [0, 38.0, 5.0], 38.86).round(2)
        array([710.27,   3.43,    nan])
        """
        data = _inputs.broadcast(frequency=frequency, recency=recency, T=T)
        r, alpha = self._params()[:2]
        x, age = data["frequency"], data["T"]
        alive = np.asarray(self._core("probability_alive")(self._params(), x, data["recency"], age))
        with np.errstate(divide="ignore", invalid="ignore"):
            median = (alpha + age) * np.expm1(-np.log1p(-0.5 / alive) / (r + x))
        return frames.column_like(frequency, np.where(alive > 0.5, median, np.nan), "median_time_to_next_purchase")

    def probability_of_n_purchases_up_to_time(self, t: Any, n: Any) -> Any:
        """P(N(t) = n): probability that a new customer makes `n` repeat purchases in `t`
        time units (equation 8). Returns a float for scalar inputs.

        Examples
        --------
        >>> import rfmkit
        >>> model = rfmkit.clv.BetaGeoFitter()
        >>> model.params_ = rfmkit.datasets.cdnow_params("bgnbd")
        >>> round(model.probability_of_n_purchases_up_to_time(52, 0), 4)
        0.5389
        """
        data = _inputs.broadcast(t=t, n=n)
        out = self._core("probability_of_n")(self._params(), data["t"], data["n"])
        if np.ndim(t) == 0 and np.ndim(n) == 0:
            return float(out[0])
        return out


class GammaGammaFitter(_Fitter):
    """The Gamma-Gamma spend model (Fader & Hardie 2013), as `lifetimes.GammaGammaFitter`.

    A customer's spend per transaction is ``Gamma(p, ν)`` with ``ν ~ Gamma(q, v)``; the
    model is fitted on the repeat customers (``frequency > 0``) of a BTYD summary, with
    ``monetary_value`` their mean repeat spend. Rows with ``frequency == 0`` carry no
    repeat spend: `fit` leaves them out and counts them in ``n_without_repeat_``. Rows
    whose repeat purchases were all free (``frequency > 0``, ``monetary_value == 0``: the
    summary counts $0 purchases by default, as lifetimes) have no Gamma density either:
    `fit` leaves them out and counts them in ``n_without_repeat_spend_``; their expected
    spend is the population mean shrunk towards 0.

    Parameters
    ----------
    penalizer_coef : float, default 0.0
        L2 penalty ``penalizer_coef * (p² + q² + v²)`` added to the mean negative
        log-likelihood, as lifetimes.

    Attributes
    ----------
    params_ : pandas.Series
        ``p, q, v`` (``v`` in the currency of the spend).
    log_likelihood_, objective_, variance_matrix_, standard_errors_, confidence_intervals_
        As `BetaGeoFitter`.
    n_without_repeat_ : int
        Rows left out because ``frequency == 0``.
    n_without_repeat_spend_ : int
        Rows left out because ``frequency > 0`` but ``monetary_value == 0``.

    Examples
    --------
    >>> import rfmkit
    >>> orders = rfmkit.datasets.make_transactions(2000, seed=1)
    >>> summary = rfmkit.clv.summary(orders, customer="customer_id", date="ordered_at",
    ...                              amount="amount", freq="D")
    >>> model = rfmkit.clv.GammaGammaFitter().fit(summary)
    >>> model.params_.round(3).to_dict(), model.n_without_repeat_
    ({'p': 6.52, 'q': 3.8, 'v': 13.083}, 791)
    >>> model.conditional_expected_average_profit([2, 0], [35.0, 0.0]).round(2)
    array([34.2 , 30.46])
    """

    _param_names = ("p", "q", "v")
    _extra_attributes = ("n_without_repeat_", "n_without_repeat_spend_")

    def fit(
        self,
        frequency: Any,
        monetary_value: Any = None,
        weights: Any = None,
        initial_params: Any = None,
        tol: float = 1e-10,
        max_iterations: int = 2000,
    ) -> GammaGammaFitter:
        """Fits the model to the repeat customers.

        Parameters
        ----------
        frequency, monetary_value : array-like, or a summary frame as `frequency`
            Repeat purchase periods and mean repeat spend (`rfmkit.clv.summary` with
            ``amount=``); rows with ``frequency == 0`` are left out and counted.
        weights : array-like, optional
        initial_params : array-like of 3, optional
            Starting log-parameters (default 0.1 each, as lifetimes).
        tol : float
        max_iterations : int

        Returns
        -------
        GammaGammaFitter
            ``self``, fitted.

        Raises
        ------
        rfmkit.ConvergenceError
            When the fit gives no estimate, as `BetaGeoFitter.fit`: with few repeat
            customers, or spends that hardly vary (the same mean spend for every customer),
            ``p`` and ``q`` run off to infinity (scaled bounds: ``p`` and ``q`` 1e-6..1e6,
            ``v`` over the mean spend 1e-8..1e6). The message says which, why, the counts
            (repeat customers fitted, distinct mean spends) and whether
            ``penalizer_coef=0.01`` gives a finite fit.

        Examples
        --------
        Four repeat customers are too few for an estimate; a penalty gives a (shrunk) fit:

        >>> import rfmkit
        >>> rfmkit.clv.GammaGammaFitter().fit([1, 2, 4, 1], [20.0, 35.0, 28.5, 12.0])
        Traceback (most recent call last):
        ...
        rfmkit.ConvergenceError: the Gamma-Gamma fit is a limit, not an estimate: q ran off towards infinity, to ...
        >>> model = rfmkit.clv.GammaGammaFitter(penalizer_coef=0.01).fit([1, 2, 4, 1], [20.0, 35.0, 28.5, 12.0])
        >>> model.params_.round(3).to_dict()
        {'p': 4.424, 'q': 1.207, 'v': 4.012}
        """
        penalizer = _check_penalizer(self.penalizer_coef)
        if frames.is_table(frequency):
            columns = _inputs.summary_columns(frequency, ("frequency", "monetary_value"))
            frequency, monetary_value = columns["frequency"], columns["monetary_value"]
        elif monetary_value is None:
            raise InvalidParameterError("fit needs frequency and monetary_value (or a summary frame with both)")
        columns = {"frequency": frequency, "monetary_value": monetary_value}
        _, out = self._fit(_core.gamma_gamma_fit, penalizer, columns, weights, initial_params, tol, max_iterations)
        self.n_without_repeat_ = int(out["n_without_repeat"])
        self.n_without_repeat_spend_ = int(out["n_without_repeat_spend"])
        return self

    def conditional_expected_average_profit(self, frequency: Any, monetary_value: Any) -> Any:
        """Expected spend per transaction: ``(1 − w) · v p/(q − 1) + w · m`` with
        ``w = p x/(p x + q − 1)``; without repeat purchases, the population mean.

        Examples
        --------
        >>> import rfmkit
        >>> model = rfmkit.clv.GammaGammaFitter()
        >>> model.params_ = rfmkit.datasets.cdnow_params("gamma_gamma")
        >>> model.conditional_expected_average_profit([0, 3], [0.0, 40.0]).round(2)
        array([35.17, 39.38])
        """
        data = _inputs.broadcast(frequency=frequency, monetary_value=monetary_value)
        out = _core.gamma_gamma_expected_spend(self._params(), data["frequency"], data["monetary_value"])
        return frames.column_like(frequency, out, "expected_spend")

    def customer_lifetime_value(
        self,
        transaction_prediction_model: Any,
        frequency: Any,
        recency: Any,
        T: Any,
        monetary_value: Any,
        time: int = 12,
        discount_rate: float = 0.01,
        freq: str | None = None,
    ) -> Any:
        """Discounted value of each customer's purchases over the next `time` **months**.

        With ``C(u)`` the expected purchases up to ``u`` (`transaction_prediction_model`),
        ``m`` the expected spend per purchase (`conditional_expected_average_profit`) and
        ``L`` the length of a month in the unit of ``T``::

            CLV = sum_{k=1..time} m · (C(k·L) − C((k−1)·L)) / (1 + discount_rate)^k

        as lifetimes' ``customer_lifetime_value``: a month is 30 days, 4.345 weeks,
        720 hours, 1/3 quarter or 1/12 year (``L`` is divided by the summary's
        ``freq_multiplier``).

        Parameters
        ----------
        transaction_prediction_model : BetaGeoFitter, ModifiedBetaGeoFitter or ParetoNBDFitter
            A fitted purchase model, valued in the core (any other object with
            ``conditional_expected_number_of_purchases_up_to_time``, such as lifetimes'
            fitters, works through its own predictions, month by month).
        frequency, recency, T, monetary_value : array-like
            The BTYD summary the purchase model was fitted on (same time unit).
        time : int, default 12
            Horizon in **months**.
        discount_rate : float, default 0.01
            Discount rate **per month** (0.01 is 1 % a month, about 12.7 % a year).
        freq : str, optional
            Time unit of ``recency`` and ``T`` (an alias of `rfmkit.clv.summary`). Default: the unit the purchase model was
            fitted with (from the summary's attrs or ``fit(freq=...)``); required when the
            model does not know it, and an error when it disagrees with the model.

        Returns
        -------
        pandas.Series (or the container of `frequency`)
            Named ``clv``, in the currency of `monetary_value`; ``.attrs`` (pandas) record
            the horizon, the discount rate and the time unit.

        Warns
        -----
        rfmkit.TimeUnitWarning
            When ``T`` looks like another unit than `freq` (e.g. ``freq="D"`` with every
            ``T`` under 4 weeks) or the discount rate looks annual.

        Examples
        --------
        >>> import rfmkit
        >>> bgf = rfmkit.clv.BetaGeoFitter()
        >>> bgf.params_, bgf.time_unit_ = rfmkit.datasets.cdnow_params("bgnbd"), "W"
        >>> ggf = rfmkit.clv.GammaGammaFitter()
        >>> ggf.params_ = rfmkit.datasets.cdnow_params("gamma_gamma")
        >>> ggf.customer_lifetime_value(bgf, [2, 0], [30.43, 0.0], [38.86, 38.86], [30.0, 0.0]).round(2)
        array([45.51,  8.34])
        """
        unit, horizon, data, step, spend = self._value_inputs(
            transaction_prediction_model, frequency, recency, T, monetary_value, time, discount_rate, freq
        )
        values = self._value(transaction_prediction_model, data, spend, horizon, step, float(discount_rate))
        out = frames.column_like(frequency, values, "clv")
        if isinstance(out, pd.Series):
            out.attrs["rfmkit"] = {
                "horizon_months": horizon,
                "discount_rate_per_month": float(discount_rate),
                "time_unit": unit,
                "periods_per_month": step,
            }
        return out

    def customer_lifetime_value_interval(
        self,
        transaction_prediction_model: Any,
        frequency: Any,
        recency: Any,
        T: Any,
        monetary_value: Any,
        time: int = 12,
        discount_rate: float = 0.01,
        freq: str | None = None,
        *,
        draws: int = 500,
        level: float = 0.9,
        seed: int = 0,
    ) -> pd.DataFrame:
        """`customer_lifetime_value` with its uncertainty from the estimation of both
        models: a parametric bootstrap. `draws` parameter vectors of the purchase model and
        of this model are drawn from their fits' sampling distributions (log-normal, with the
        delta-method covariance ``variance_matrix_`` of each fit), and each customer's value
        is computed under every draw (in the Rust core).

        Parameters
        ----------
        transaction_prediction_model : BetaGeoFitter, ModifiedBetaGeoFitter or ParetoNBDFitter
            Fitted (its ``variance_matrix_`` is needed: parameters set by hand have none).
        frequency, recency, T, monetary_value, time, discount_rate, freq
            As `customer_lifetime_value`.
        draws : int, default 500
            Parameter draws (10 to 100,000); the run time grows with ``draws × customers``
            (100,000 customers, 500 draws: about 3 s with BG/NBD or MBG/NBD, 40 s with
            Pareto/NBD, whose P(alive) sums two series per customer and draw).
        level : float, default 0.9
            Coverage of the interval: ``clv_low`` and ``clv_high`` are the
            ``(1 − level)/2`` and ``(1 + level)/2`` quantiles of the draws.
        seed : int, default 0
            Seed of the draws (0 to 2**64 − 1): the same seed gives the same numbers.

        Notes
        -----
        Gamma-Gamma's mean spend exists only for ``q > 1``: draws with ``q <= 1`` are drawn
        again (their count is ``attrs["rfmkit"]["spend_draws_redrawn"]``), which truncates
        the distribution of ``q`` there; a fit with ``q <= 1`` is refused. Customer-draws
        whose value is not finite are left out and counted (``draws_not_finite``, with a
        ``RuntimeWarning``).

        Returns
        -------
        pandas.DataFrame
            One row per customer (the index of `frequency` when it is a Series): ``clv`` (at
            the fitted parameters, as `customer_lifetime_value`), ``clv_mean``, ``clv_sd``,
            ``clv_low``, ``clv_high``; ``attrs["rfmkit"]`` records draws, level, seed and the
            horizon. This is the uncertainty of the *expected* value from estimating the
            parameters; a single customer's realised value varies far more.

        Examples
        --------
        >>> import rfmkit
        >>> orders = rfmkit.datasets.make_transactions(2000, seed=1)
        >>> summary = rfmkit.clv.summary(orders, customer="customer_id", date="ordered_at",
        ...                              amount="amount", freq="D")
        >>> bgf = rfmkit.clv.BetaGeoFitter().fit(summary)
        >>> ggf = rfmkit.clv.GammaGammaFitter().fit(summary)
        >>> f, r, t, m = (summary[c] for c in ("frequency", "recency", "T", "monetary_value"))
        >>> interval = ggf.customer_lifetime_value_interval(bgf, f, r, t, m, draws=200, seed=1)
        >>> list(interval.columns)
        ['clv', 'clv_mean', 'clv_sd', 'clv_low', 'clv_high']
        >>> bool(((interval["clv_low"] <= interval["clv"]) & (interval["clv"] <= interval["clv_high"])).mean() > 0.9)
        True
        """
        model = transaction_prediction_model
        if not isinstance(model, _PurchaseFitter) or not model._core_model:
            raise InvalidParameterError(
                "the interval needs an rfmkit purchase model (BetaGeoFitter, ModifiedBetaGeoFitter or "
                f"ParetoNBDFitter), got {type(model).__name__}"
            )
        for fitted in (model, self):
            fitted._require_fitted()
            if not hasattr(fitted, "variance_matrix_"):
                raise NotFittedError(
                    f"this {type(fitted).__name__} has parameters but no fit (set by hand?): the interval draws "
                    "from the fit's covariance; fit it first"
                )
        if isinstance(level, bool) or not isinstance(level, (int, float, np.integer, np.floating)) or not 0 < level < 1:
            raise InvalidParameterError(f"level is the coverage of the interval, in (0, 1) (e.g. 0.9), got {level!r}")
        if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or not 10 <= draws <= 100_000:
            raise InvalidParameterError(f"draws must be a whole number between 10 and 100000, got {draws!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
            raise InvalidParameterError(f"seed must be a whole number between 0 and 2**64 - 1, got {seed!r}")
        if not float(self.params_["q"]) > 1:
            raise InvalidParameterError(
                f"the Gamma-Gamma q is {float(self.params_['q']):.3g} <= 1: its mean spend per purchase is infinite, "
                "so the value has no expectation to draw around; fit on more repeat customers"
            )
        unit, horizon, data, step, spend = self._value_inputs(
            model, frequency, recency, T, monetary_value, time, discount_rate, freq
        )
        point = self._value(model, data, spend, horizon, step, float(discount_rate))
        out = _core.clv_value_draws(
            model._core_model,
            list(model._params()),
            model.variance_matrix_.to_numpy().tolist(),
            list(self._params()),
            self.variance_matrix_.to_numpy().tolist(),
            data["frequency"],
            data["recency"],
            data["T"],
            data["monetary_value"],
            horizon=horizon,
            step=step,
            discount_rate=float(discount_rate),
            draws=int(draws),
            seed=int(seed),
            probabilities=[(1 - level) / 2, (1 + level) / 2],
        )
        index = frequency.index if isinstance(frequency, pd.Series) else None
        table = pd.DataFrame(
            {
                "clv": np.asarray(point, dtype=np.float64),
                "clv_mean": out["mean"],
                "clv_sd": out["sd"],
                "clv_low": out["quantiles"][0],
                "clv_high": out["quantiles"][1],
            },
            index=index,
        )
        table.attrs["rfmkit"] = {
            "draws": int(draws),
            "level": float(level),
            "seed": int(seed),
            "horizon_months": horizon,
            "discount_rate_per_month": float(discount_rate),
            "time_unit": unit,
            "spend_draws_redrawn": int(out["redrawn"]),
            "draws_not_finite": int(out["not_finite"]),
        }
        if out["not_finite"]:
            warnings.warn(
                f"{int(out['not_finite'])} of {int(draws) * len(table)} customer-draws gave no finite value (a "
                "prediction under extreme drawn parameters); they are left out of each customer's summaries",
                RuntimeWarning,
                stacklevel=2,
            )
        return table

    def _value_inputs(
        self,
        model: Any,
        frequency: Any,
        recency: Any,
        T: Any,
        monetary_value: Any,
        time: Any,
        discount_rate: Any,
        freq: str | None,
    ) -> tuple[str, int, dict[str, np.ndarray], float, np.ndarray]:
        """The checked inputs of a lifetime value: the time unit, the horizon in months, the
        columns, a month in the unit, the expected spend per purchase."""
        unit = model_unit(model, freq)
        horizon = self._horizon(time)
        if isinstance(discount_rate, bool) or not isinstance(discount_rate, (int, float, np.integer, np.floating)):
            raise InvalidParameterError(f"discount_rate must be a monthly rate such as 0.01, got {discount_rate!r}")
        if not (math.isfinite(discount_rate) and discount_rate > -1):
            raise InvalidParameterError(f"discount_rate must be a finite monthly rate > -1, got {discount_rate!r}")
        if discount_rate > 0.1:
            warnings.warn(
                f"discount_rate={discount_rate} is per month ({(1 + discount_rate) ** 12 - 1:.0%} a year); "
                f"for an annual rate R pass (1 + R) ** (1 / 12) - 1",
                TimeUnitWarning,
                stacklevel=3,
            )
        data = _inputs.broadcast(frequency=frequency, recency=recency, T=T, monetary_value=monetary_value)
        self._check_scale(unit, data["T"], stacklevel=4)
        multiplier = float(getattr(model, "freq_multiplier_", 1.0))
        step = _units.time_unit(unit).periods_per_month / multiplier
        spend = np.asarray(self.conditional_expected_average_profit(data["frequency"], data["monetary_value"]))
        return unit, horizon, data, step, np.ascontiguousarray(spend, dtype=np.float64)

    @staticmethod
    def _horizon(time: Any) -> int:
        if isinstance(time, bool) or not isinstance(time, (int, np.integer, float, np.floating)):
            raise InvalidParameterError(f"time is the horizon in months (a whole number such as 12), got {time!r}")
        if not (math.isfinite(time) and time == int(time) and 0 < time <= 12_000):
            raise InvalidParameterError(f"time is the horizon in months, a whole number in 1..12000, got {time!r}")
        return int(time)

    @staticmethod
    def _check_scale(unit: str, ages: np.ndarray, stacklevel: int = 3) -> None:
        finite = ages[np.isfinite(ages)]
        if finite.size == 0:
            return
        longest = float(np.max(finite))
        # The oldest customer's age in days under each unit; implausible ones are flagged.
        days = longest * _units.time_unit(unit).days
        if unit in ("D", "h") and longest > 0 and days < 28:
            hint = "weeks or months" if unit == "D" else "days"
            message = f"the oldest customer's T is {longest:g} with freq={unit!r} (under 4 weeks); if T is in {hint}, pass that freq"
        elif days > 100 * 365:
            message = f"the oldest customer's T is {longest:g} with freq={unit!r}, over 100 years; is T in days?"
        else:
            return
        warnings.warn(message, TimeUnitWarning, stacklevel=stacklevel)

    def _value(
        self,
        model: Any,
        data: dict[str, np.ndarray],
        spend: np.ndarray,
        horizon: int,
        step: float,
        discount_rate: float,
    ) -> np.ndarray:
        """The discounted values: in the core for rfmkit's purchase models, from the
        model's own predictions for any other (lifetimes' fitters, ...)."""
        if isinstance(model, _PurchaseFitter) and model._core_model:
            return np.asarray(
                model._core("lifetime_value")(
                    model._params(),
                    data["frequency"],
                    data["recency"],
                    data["T"],
                    spend,
                    horizon=horizon,
                    step=step,
                    discount_rate=discount_rate,
                )
            )
        return self._generic_value(model, data, spend, horizon, step, discount_rate)

    @staticmethod
    def _generic_value(
        model: Any, data: dict[str, np.ndarray], spend: np.ndarray, horizon: int, step: float, discount_rate: float
    ) -> np.ndarray:
        predict = model.conditional_expected_number_of_purchases_up_to_time
        previous = np.zeros(len(spend))
        values = np.zeros(len(spend))
        for k in range(1, horizon + 1):
            cumulative = np.asarray(predict(k * step, data["frequency"], data["recency"], data["T"]), dtype=np.float64)
            values += spend * (cumulative - previous) / (1 + discount_rate) ** k
            previous = cumulative
        return values


class ModifiedBetaGeoFitter(BetaGeoFitter):
    """The MBG/NBD purchase model (Batislam, Denizel & Filiztekin 2007), as
    `lifetimes.ModifiedBetaGeoFitter`: BG/NBD in which a customer may also drop out right
    after the first purchase, so that one-time buyers have ``P(alive) < 1`` (under
    BG/NBD they all have 1, which misleads in a retail report where half the customers
    bought once). Fitted in the Rust core with the same scaling, objective and start as
    `BetaGeoFitter`; the same methods and attributes.

    Examples
    --------
    >>> import rfmkit
    >>> model = rfmkit.clv.ModifiedBetaGeoFitter()
    >>> model.params_ = rfmkit.datasets.cdnow_params("bgnbd")
    >>> model.conditional_probability_alive([0, 2], [0, 30.43], 38.86).round(3)
    array([0.637, 0.774])
    """

    _core_model = "mbgnbd"
