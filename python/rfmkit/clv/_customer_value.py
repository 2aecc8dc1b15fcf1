"""CLV as the seeds define it, on profit: each customer's current value (the margin
realised to date, CCV, 当前价值) plus potential value (the discounted expected profit over
a horizon, CPV, 潜在价值) from a fitted purchase model and a spend model: `value`, and
`cash_flows`, which keeps the terms of every period."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rfmkit import _units
from rfmkit._checks import require_finite
from rfmkit._io import frames
from rfmkit.clv import _inputs
from rfmkit.clv._bgbb import BetaGeoBetaBinomFitter
from rfmkit.clv._models import GammaGammaFitter, model_unit
from rfmkit.clv._value import _horizon, _margin, _number
from rfmkit.exceptions import ColumnNotFoundError, InvalidParameterError, NotFittedError, TimeUnitWarning

#: The method every purchase model has (BG/NBD, MBG/NBD, Pareto/NBD, lifetimes' fitters).
_PREDICT = "conditional_expected_number_of_purchases_up_to_time"
#: The method of a spend model (Gamma-Gamma).
_SPEND = "conditional_expected_average_profit"
#: The columns of the BTYD summary, never a customer id.
_BTYD = ("frequency", "recency", "T", "monetary_value")
#: What the note on the month says whenever a calendar unit meets a fixed one.
_MONTH_NOTE = (
    "a month is the CLV month of rfmkit's table of time units, not a calendar month: 30 days, 4.345 weeks, "
    "720 hours (lifetimes' factors); a quarter is 3 such months, a year 12 (360 days, 52.14 weeks)"
)


@dataclass(frozen=True)
class _Plan:
    """The checked inputs shared by `value` and `cash_flows`, one row per customer of the
    summary, in its order."""

    frame: frames.Frame
    ids: Any  # pandas Index, polars Series or pandas Series (pyarrow), as frames gives them
    id_name: str  # the id column of a polars or pyarrow result
    history: dict[str, np.ndarray]  # frequency, recency, T
    spend: np.ndarray  # expected spend per order
    margin: np.ndarray  # share of revenue that is profit, per customer
    cost_per_order: float
    cost_per_customer: float
    discount_rate: float
    horizon: int
    period_length: float  # one period in the purchase model's time unit
    info: dict[str, Any]


def _require_fitted(model: Any, role: str, method: str, kinds: str) -> None:
    if not callable(getattr(model, method, None)):
        raise InvalidParameterError(
            f"{role} must be a fitted model with .{method}(...) ({kinds}), got {type(model).__module__}."
            f"{type(model).__qualname__}"
        )
    if getattr(model, "params_", None) is None:
        raise NotFittedError(f"the {role} ({type(model).__name__}) is not fitted yet: call .fit(summary) first")


def _model_unit(model: Any, summary: Any, freq: str | None) -> tuple[str, float]:
    """The time unit of the purchase model's times and its multiplier: the model's own,
    checked against the summary's attrs and `freq`."""
    recorded, recorded_multiplier = _inputs.summary_unit(summary)
    known = getattr(model, "time_unit_", None)
    known = None if known is None else _inputs.normalize_freq(known, "the purchase model's time_unit_")
    if recorded is not None and known is not None and recorded != known:
        raise InvalidParameterError(
            f"the summary's times are in {recorded!r} (its attrs) but the purchase model was fitted on times in "
            f"{known!r}: pass the summary the model was fitted on, or refit the model on this one"
        )
    unit = model_unit(model, freq if freq is not None else recorded)
    if recorded is not None and unit != recorded:  # freq= says another unit than the summary
        raise InvalidParameterError(
            f"freq={freq!r} but the summary's times are in {recorded!r} (its attrs): drop freq=, or pass the "
            f"summary the model was fitted on"
        )
    multiplier = float(getattr(model, "freq_multiplier_", recorded_multiplier))
    if recorded is not None and multiplier != recorded_multiplier:
        raise InvalidParameterError(
            f"the summary's times are in units of {recorded_multiplier:g} × {recorded!r} (freq_multiplier) but the "
            f"purchase model's in units of {multiplier:g} × {unit!r}: pass the summary the model was fitted on"
        )
    return unit, multiplier


def _period_length(period: Any, unit: str, multiplier: float) -> tuple[_units.TimeUnit, float]:
    """The unit of `period` and its length in the model's time unit (`multiplier` × `unit`);
    a period shorter than that unit is refused."""
    period_unit = _units.time_unit(period, "period")
    length = _units.length_in(period_unit, _units.time_unit(unit)) / multiplier
    if length < 1.0 - 1e-12:
        model_unit = repr(unit) if multiplier == 1.0 else f"{multiplier:g} × {unit!r}"
        raise InvalidParameterError(
            f"period={period!r} is shorter than the purchase model's time unit ({model_unit}): the model's "
            f"times are counted in whole units of it; pass period={unit!r} or a longer unit, or fit the "
            f"model on a summary in a shorter freq"
        )
    return period_unit, length


def _discount_rate(value: Any, period: _units.TimeUnit) -> float:
    """The discount rate per period; a `TimeUnitWarning` when it is over 10 % a month (an
    annual rate passed as is, or a monthly one with period='D')."""
    rate = _number(value, "discount_rate", low=0.0, example="0.01")
    months = _units.length_in(period, _units.time_unit("M"))
    monthly = (1.0 + rate) ** (1.0 / months) - 1.0
    if monthly > 0.1:
        per_year = 12.0 / months
        warnings.warn(
            f"discount_rate={rate:g} is per period of {period.canonical!r}, {monthly:.0%} a month; for an annual "
            f"rate R pass (1 + R) ** (1 / {per_year:g}) - 1 ({per_year:g} periods of {period.canonical!r} make the "
            f"table's year)",
            TimeUnitWarning,
            stacklevel=4,
        )
    return rate


def _id_index(ids: Any) -> pd.Index:
    """The customer ids as a pandas Index (to match a Series on)."""
    if isinstance(ids, pd.Index):
        return ids
    return pd.Index(frames.series_as_pandas(ids))


def _per_customer(
    value: Any, name: str, frame: frames.Frame, ids: Any, *, table_column: str | None = None
) -> tuple[np.ndarray, str]:
    """One number per customer of the summary from `value`, and where they came from:
    a column name of the summary, a table (its `table_column`, matched on the customer
    id), a pandas Series (matched on its index, the customer id), other array-likes (in
    the summary's row order) or one number for every customer."""
    n = frame.n_rows
    if isinstance(value, str):
        return frame.numbers(value, name), f"column {value!r} of the summary"
    source = "given per customer, in the summary's row order"
    if frames.is_table(value):
        if table_column is None:
            raise InvalidParameterError(f"{name}= takes a number, a column name or numbers per customer, not a table")
        table = frames.indexed_pandas(value)
        if table_column not in table.columns:
            raise ColumnNotFoundError(
                f"{name}= got a table without a {table_column!r} column (its columns are: "
                f"{', '.join(map(repr, table.columns))}); pass the RFM table of rfmkit.rfm, a column name of the "
                f"summary or the numbers per customer"
            )
        value = table[table_column]
        source = f"{table_column!r} of the table passed, matched on the customer id"
    elif isinstance(value, pd.Series):
        source = "given per customer, matched on the customer id (the Series' index)"
    elif np.ndim(value) == 0:
        number = _inputs.column(value, name)[0]
        return np.full(n, number), "one number for every customer"
    numbers = _inputs.column(value, name)
    if isinstance(value, pd.Series):
        numbers = _aligned(value.index, numbers, name, _id_index(ids), source)
    elif len(numbers) != n:
        raise InvalidParameterError(
            f"{name} has {len(numbers)} values but the summary has {n} customers; pass one per customer of the "
            f"summary, in its order (or a pandas Series indexed by customer id)"
        )
    return numbers, source


def _aligned(index: pd.Index, numbers: np.ndarray, name: str, customers: pd.Index, source: str) -> np.ndarray:
    """`numbers` (labelled by `index`) in the order of the summary's `customers`."""
    if index.has_duplicates:
        first = index[index.duplicated()][0]
        raise InvalidParameterError(f"{name}: customer {first!r} appears more than once ({source})")
    positions = index.get_indexer(customers)
    missing = np.flatnonzero(positions < 0)
    if missing.size:
        if "table" in source:
            hint = (
                "make both from the same orders with the same zero= (rfmkit.rfm drops zero-amount purchases by "
                "default, rfmkit.clv.summary keeps them: pass zero='keep' to rfm)"
            )
        else:
            hint = "for values in the summary's row order pass .to_numpy()"
        raise InvalidParameterError(
            f"{name}: {missing.size} of the summary's {len(customers)} customers are missing (first: "
            f"{customers[missing[0]]!r}; {source}); {hint}"
        )
    return numbers[positions]


def _margins(margin: Any, frame: frames.Frame, ids: Any) -> tuple[np.ndarray, Any]:
    """The margin per customer and what attrs record: the number, or where the margins
    came from. Each must be a share of revenue in (0, 1] (`_margin`'s message)."""
    if np.ndim(margin) == 0 and not isinstance(margin, str):
        share = _margin(margin)
        return np.full(frame.n_rows, share), share
    values, source = _per_customer(margin, "margin", frame, ids)
    bad = np.flatnonzero(~((values > 0) & (values <= 1)))
    if bad.size:
        try:
            _margin(float(values[bad[0]]))
        except InvalidParameterError as error:
            customer = _id_index(ids)[bad[0]]
            raise InvalidParameterError(f"margin of customer {customer!r} (row {bad[0]}): {error}") from None
    return values, f"per customer ({source})"


def _spend(spend_model: Any, frame: frames.Frame, ids: Any, frequency: np.ndarray) -> tuple[np.ndarray, str]:
    """Expected spend per order: from a spend model on the summary's `frequency` and
    monetary_value, or as given."""
    if callable(getattr(spend_model, _SPEND, None)):
        _require_fitted(spend_model, "spend model", _SPEND, "GammaGammaFitter")
        monetary = _inputs.summary_columns(frame.data, ("monetary_value",))["monetary_value"]
        spend = getattr(spend_model, _SPEND)(frequency, _inputs.column(monetary, "monetary_value"))
        return np.asarray(spend, dtype=np.float64), f"{type(spend_model).__name__}.{_SPEND}"
    if spend_model is None or isinstance(spend_model, bool):
        raise InvalidParameterError(
            f"spend_model must be a fitted GammaGammaFitter, or the expected spend per order (a number, a column "
            f"name of the summary or numbers per customer), got {spend_model!r}"
        )
    values, source = _per_customer(spend_model, "spend_model", frame, ids)
    bad = np.flatnonzero(~(np.isfinite(values) & (values >= 0)))
    if bad.size:
        raise InvalidParameterError(
            f"spend_model: the expected spend per order must be finite and >= 0, got {float(values[bad[0]])!r} at "
            f"row {bad[0]} ({source})"
        )
    return values, f"expected spend per order {source}"


def _plan(
    purchase_model: Any,
    spend_model: Any,
    summary: Any,
    *,
    margin: Any,
    period: Any,
    horizon: Any,
    discount_rate: Any,
    cost_per_order: Any,
    cost_per_customer: Any,
    freq: str | None,
    function: str,
) -> _Plan:
    if isinstance(purchase_model, BetaGeoBetaBinomFitter):
        raise InvalidParameterError(
            f"{function} needs a purchase model in continuous time (BetaGeoFitter, ModifiedBetaGeoFitter, ...); "
            f"BG/BB counts discrete opportunities, not periods of time"
        )
    _require_fitted(purchase_model, "purchase model", _PREDICT, "BetaGeoFitter, ModifiedBetaGeoFitter, ...")
    if not frames.is_table(summary):
        raise InvalidParameterError(
            f"{function} takes the BTYD summary as a table (rfmkit.clv.summary: pandas indexed by customer, or "
            f"polars / pyarrow with the id first), got {type(summary).__module__}.{type(summary).__qualname__}"
        )
    frame = frames.Frame.of(summary)
    ids, id_name = frame.row_ids(exclude=_BTYD), (frame.names[0] if frame.names else "row")
    if ids is None:  # a hand-made polars or pyarrow summary without an id column: row numbers
        ids, id_name = pd.Series(np.arange(frame.n_rows)), "row"
    history = _inputs.broadcast(**_inputs.summary_columns(summary, ("frequency", "recency", "T")))
    unit, multiplier = _model_unit(purchase_model, summary, freq)
    GammaGammaFitter._check_scale(unit, history["T"])
    period_unit, length = _period_length(period, unit, multiplier)
    horizon = _horizon(horizon)
    rate = _discount_rate(discount_rate, period_unit)
    per_order = _number(cost_per_order, "cost_per_order", low=0.0, example="2.5")
    per_customer = _number(cost_per_customer, "cost_per_customer", low=0.0, example="1.0")
    margins, margin_info = _margins(margin, frame, ids)
    spend, spend_info = _spend(spend_model, frame, ids, history["frequency"])
    require_finite({"spend": spend}, f"{function} needs a finite expected spend per order")
    info: dict[str, Any] = {
        "purchase_model": type(purchase_model).__name__,
        "spend": spend_info,
        "margin": margin_info,
        "cost_per_order": per_order,
        "cost_per_customer": per_customer,
        "period": period_unit.canonical,
        "horizon": horizon,
        "discount_rate": rate,
        "time_unit": unit,
        "freq_multiplier": multiplier,
        "period_length": length,
    }
    if _units.is_calendar(period_unit) != _units.is_calendar(_units.time_unit(unit)):
        info["month"] = _MONTH_NOTE  # a calendar unit in a fixed one: through the 30-day month
    return _Plan(
        frame=frame,
        ids=ids,
        id_name=id_name,
        history=history,
        spend=spend,
        margin=margins,
        cost_per_order=per_order,
        cost_per_customer=per_customer,
        discount_rate=rate,
        horizon=horizon,
        period_length=length,
        info=info,
    )


def _terms(model: Any, plan: _Plan) -> dict[str, np.ndarray]:
    """The per-period terms, customers × periods: expected orders ``C(k·L) − C((k−1)·L)``
    (``C`` the model's expected purchases up to a time, ``L`` the period length), revenue,
    cost, profit and the discounted profit; and the discount factors of the periods."""
    predict = getattr(model, _PREDICT)
    history = plan.history
    n = len(history["frequency"])
    cumulative = np.zeros((n, plan.horizon + 1))
    for k in range(1, plan.horizon + 1):
        expected = predict(k * plan.period_length, history["frequency"], history["recency"], history["T"])
        cumulative[:, k] = np.asarray(expected, dtype=np.float64)
    orders = np.diff(cumulative, axis=1)
    revenue = plan.spend[:, None] * orders
    cost = plan.cost_per_order * orders + plan.cost_per_customer
    profit = plan.margin[:, None] * revenue - cost
    growth = (1.0 + plan.discount_rate) ** np.arange(1, plan.horizon + 1, dtype=np.float64)
    return {
        "expected_orders": orders,
        "expected_revenue": revenue,
        "expected_cost": cost,
        "expected_profit": profit,
        "discount_factor": 1.0 / growth,
        "discounted_profit": profit / growth,
    }


def value(
    purchase_model: Any,
    spend_model: Any,
    summary: Any,
    *,
    revenue: Any,
    margin: Any,
    period: str = "M",
    horizon: int = 12,
    discount_rate: float = 0.01,
    cost_per_order: float = 0.0,
    cost_per_customer: float = 0.0,
    freq: str | None = None,
) -> Any:
    """Customer value as current value + potential value (当前价值 + 潜在价值), on profit.

    For customer *i*, with ``C_i(u)`` the expected repeat purchases in the next ``u`` time
    units (`purchase_model`), ``s_i`` the expected spend per order (`spend_model`), ``L``
    the length of one `period` in the model's time unit, ``m_i`` the margin, ``c_o``
    `cost_per_order`, ``c_c`` `cost_per_customer` and ``d`` `discount_rate`::

        orders_ik        = C_i(k·L) − C_i((k−1)·L)                        k = 1..horizon
        profit_ik        = m_i · s_i · orders_ik − c_o · orders_ik − c_c
        current_value_i  = m_i · revenue_i                                (CCV: realised margin to date)
        potential_value_i = sum_k profit_ik / (1 + d)^k                   (CPV)
        total_value_i    = current_value_i + potential_value_i

    `cash_flows` returns every ``profit_ik`` term. With ``margin=1`` and no costs,
    ``potential_value`` for ``period="M"`` is `GammaGammaFitter.customer_lifetime_value`
    (lifetimes' CLV).

    Parameters
    ----------
    purchase_model : BetaGeoFitter, ModifiedBetaGeoFitter, ...
        A fitted purchase model: any model with
        ``conditional_expected_number_of_purchases_up_to_time(t, frequency, recency, T)``
        (lifetimes' fitters too). An "order" here is one of its purchases: a purchase
        period of the summary (with ``freq="D"``, a day with purchases).
    spend_model : GammaGammaFitter, str, array-like or float
        Expected spend per order: a fitted Gamma-Gamma model
        (``conditional_expected_average_profit`` of the summary's ``frequency`` and
        ``monetary_value``), or the spend itself — a column name of `summary`, numbers per
        customer (as `revenue`), or one number for all (e.g. an average order value).
    summary : pandas.DataFrame, polars.DataFrame or pyarrow.Table
        The BTYD summary (`rfmkit.clv.summary`) the purchase model was fitted on, or one of
        the same customers at a later date; its ``frequency``, ``recency`` and ``T`` (and
        ``monetary_value`` for a spend model). The result has its customers, in its order.
    revenue : table, str, pandas.Series, array-like or float
        Each customer's realised revenue to date, the base of the current value. The BTYD
        summary does not hold it (its ``monetary_value`` is the mean spend of the *repeat*
        periods, without the first purchase), so it is passed: the RFM table of
        `rfmkit.rfm` (its ``monetary``, net of returns by default, matched on the customer
        id), a column name of `summary`, a pandas Series indexed by customer id, numbers in
        the summary's row order, or one number (0 values the future alone). Every customer
        of the summary must have one: make the RFM table from the same orders with
        ``zero="keep"`` (the summary keeps zero-amount purchases, `rfmkit.rfm` drops them
        by default). A net-negative revenue (returns above purchases) is kept.
    margin : float, str or array-like
        Share of revenue that is profit, in (0, 1] (0.3 for 30 %; 1.0 values revenue): one
        number, or one per customer (a column name of `summary`, a Series indexed by
        customer id or numbers in the summary's order), each in (0, 1]. A percentage such
        as 30 is refused with the fix.
    period : str, default "M"
        The unit of the horizon and of the discount rate: an alias of rfmkit's table of
        time units (``"D"``, ``"W"``, ``"M"``, ``"Q"``, ``"Y"``, ...), at least as long as
        the purchase model's time unit. Its length in the model's unit comes from the
        table: fixed units by their days (a week is 7 days), calendar units by their
        months (a quarter is 3), and a calendar unit in a fixed one through the table's
        **CLV month of 30 days (4.345 weeks, 720 hours)** — not calendar months; a year is
        360 days. ``attrs`` record the length and, when a month of 30 days was used, say
        so.
    horizon : int, default 12
        Number of future periods (a whole number >= 1).
    discount_rate : float, default 0.01
        Discount rate **per period** (>= 0): period k is divided by ``(1 + d)^k``. A
        `TimeUnitWarning` flags a rate above 10 % a month (an annual rate passed as is).
    cost_per_order : float, default 0.0
        Money per expected order (picking, shipping, payment fees), >= 0.
    cost_per_customer : float, default 0.0
        Money per customer per period (a contact or service cost), >= 0: charged in
        **every** period of the horizon to **every** customer, whatever the model expects
        it to do — what a contact cost is (the chance that a BG/NBD customer is still alive
        in a future period has no closed form, and a customer kept on the list costs the
        same either way). Costs above the margin make the profit, and the potential value,
        negative: such a customer costs more than it is expected to bring in; that is kept.
    freq : str, optional
        Time unit of ``recency`` and ``T``; needed only when neither the model nor the
        summary records it (as in `GammaGammaFitter.customer_lifetime_value`).

    Returns
    -------
    pandas.DataFrame (polars, pyarrow: the kind of `summary`)
        One row per customer of the summary (pandas: indexed by its customer id; polars and
        pyarrow: the id first), in the currency of the amounts: ``current_value``,
        ``potential_value``, ``total_value``. ``attrs["rfmkit"]`` (pyarrow: the schema
        metadata; `rfmkit.quality` reads both) records ``purchase_model``, ``spend``,
        ``revenue``, ``margin``, ``cost_per_order``, ``cost_per_customer``, ``period``,
        ``horizon``, ``discount_rate``, the model's ``time_unit`` and ``freq_multiplier``,
        ``period_length`` (one period in that unit) and, when a calendar unit was converted
        to a fixed one, ``month`` (the 30-day month, in words).

    Raises
    ------
    rfmkit.InvalidParameterError
        A margin outside (0, 1]; a negative cost or discount rate; a horizon that is no
        whole number >= 1; an unknown period or one shorter than the model's time unit;
        values of another length than the summary, or customers missing from them; a time
        unit that disagrees with the model's.
    rfmkit.NotFittedError
        A model that is not fitted.

    See Also
    --------
    cash_flows : the terms of every period.
    historical, simple : rule-based values on the RFM table.

    Examples
    --------
    >>> import pandas as pd, rfmkit
    >>> bgf = rfmkit.clv.BetaGeoFitter()
    >>> bgf.params_, bgf.time_unit_ = rfmkit.datasets.cdnow_params("bgnbd"), "W"
    >>> ggf = rfmkit.clv.GammaGammaFitter()
    >>> ggf.params_ = rfmkit.datasets.cdnow_params("gamma_gamma")
    >>> summary = pd.DataFrame({"frequency": [2.0, 0.0], "recency": [30.43, 0.0], "T": [38.86, 38.86],
    ...                         "monetary_value": [30.0, 0.0]}, index=pd.Index(["a", "b"], name="customer"))
    >>> rfmkit.clv.value(bgf, ggf, summary, revenue=[95.0, 20.0], margin=1.0).round(2)
              current_value  potential_value  total_value
    customer
    a                  95.0            45.51       140.51
    b                  20.0             8.34        28.34
    >>> value = rfmkit.clv.value(bgf, ggf, summary, revenue=[95.0, 20.0], margin=0.3, cost_per_order=2.0)
    >>> value.round(2)
              current_value  potential_value  total_value
    customer
    a                  28.5            10.71        39.21
    b                   6.0             2.03         8.03
    >>> {key: rfmkit.quality(value)[key] for key in ("period", "time_unit", "period_length")}
    {'period': 'M', 'time_unit': 'W', 'period_length': 4.345}
    >>> rfmkit.quality(value)["month"]
    "a month is the CLV month of rfmkit's table of time units, not a calendar month: 30 days, 4.345 weeks, 720 hours (lifetimes' factors); a quarter is 3 such months, a year 12 (360 days, 52.14 weeks)"
    """
    plan = _plan(
        purchase_model,
        spend_model,
        summary,
        margin=margin,
        period=period,
        horizon=horizon,
        discount_rate=discount_rate,
        cost_per_order=cost_per_order,
        cost_per_customer=cost_per_customer,
        freq=freq,
        function="rfmkit.clv.value",
    )
    realised, source = _per_customer(revenue, "revenue", plan.frame, plan.ids, table_column="monetary")
    require_finite({"revenue": realised}, "rfmkit.clv.value needs each customer's realised revenue")
    potential = _terms(purchase_model, plan)["discounted_profit"].sum(axis=1)
    current = plan.margin * realised
    columns = {"current_value": current, "potential_value": potential, "total_value": current + potential}
    return _table(plan, columns, {**plan.info, "revenue": source})


def cash_flows(
    purchase_model: Any,
    spend_model: Any,
    summary: Any,
    *,
    margin: Any,
    period: str = "M",
    horizon: int = 12,
    discount_rate: float = 0.01,
    cost_per_order: float = 0.0,
    cost_per_customer: float = 0.0,
    freq: str | None = None,
) -> Any:
    """The expected cash flow of every customer in every period of the horizon: the terms
    whose discounted sum is `value`'s ``potential_value`` (CPV, 潜在价值).

    Period ``k`` (1 .. `horizon`) runs from ``(k−1)·L`` to ``k·L`` after the end of the
    observation, ``L`` the length of one `period` in the purchase model's time unit
    (``attrs["rfmkit"]["period_length"]``; a month of a daily model is the table's 30
    days, of a weekly one 4.345 weeks, and ``attrs`` say so).

    Parameters
    ----------
    purchase_model, spend_model, summary, margin, period, horizon, discount_rate, cost_per_order, cost_per_customer, freq
        As for `value` (which also takes ``revenue``, for the current value: the terms here
        are the future's).

    Returns
    -------
    pandas.DataFrame (polars, pyarrow: the kind of `summary`)
        One row per customer and period, customer by customer (pandas: indexed by the
        customer id and ``period``; polars and pyarrow: the id and ``period`` first), with

        - ``period``: 1 .. `horizon`, in units of `period` (``attrs["rfmkit"]["period"]``);
        - ``expected_orders``: ``C(k·L) − C((k−1)·L)``;
        - ``expected_revenue``: expected spend per order × ``expected_orders``;
        - ``expected_cost``: ``cost_per_order`` × ``expected_orders`` + ``cost_per_customer``;
        - ``expected_profit``: margin × ``expected_revenue`` − ``expected_cost``;
        - ``discount_factor``: ``1 / (1 + discount_rate)^k``;
        - ``discounted_profit``: ``expected_profit / (1 + discount_rate)^k``; summed over
          the periods of a customer, its ``potential_value``.

        ``attrs["rfmkit"]`` as `value`'s (without ``revenue``).

    Examples
    --------
    >>> import pandas as pd, rfmkit
    >>> bgf = rfmkit.clv.BetaGeoFitter()
    >>> bgf.params_, bgf.time_unit_ = rfmkit.datasets.cdnow_params("bgnbd"), "W"
    >>> summary = pd.DataFrame({"frequency": [2.0, 0.0], "recency": [30.43, 0.0], "T": [38.86, 38.86]},
    ...                        index=pd.Index(["a", "b"], name="customer"))
    >>> flows = rfmkit.clv.cash_flows(bgf, 30.0, summary, margin=0.3, period="Q", horizon=2,
    ...                               cost_per_customer=0.5)
    >>> flows[["expected_orders", "expected_profit", "discounted_profit"]].round(3)
                     expected_orders  expected_profit  discounted_profit
    customer period
    a        1                 0.458            3.625              3.589
             2                 0.405            3.148              3.086
    b        1                 0.070            0.130              0.129
             2                 0.065            0.083              0.081
    >>> rfmkit.quality(flows)["period"], rfmkit.quality(flows)["period_length"]  # a quarter, in weeks
    ('Q', 13.035)
    >>> flows["discounted_profit"].groupby(level="customer").sum().round(3).to_dict()
    {'a': 6.675, 'b': 0.21}
    """
    plan = _plan(
        purchase_model,
        spend_model,
        summary,
        margin=margin,
        period=period,
        horizon=horizon,
        discount_rate=discount_rate,
        cost_per_order=cost_per_order,
        cost_per_customer=cost_per_customer,
        freq=freq,
        function="rfmkit.clv.cash_flows",
    )
    terms = _terms(purchase_model, plan)
    n, horizon = len(plan.spend), plan.horizon
    rows = np.repeat(np.arange(n), horizon)
    periods = np.tile(np.arange(1, horizon + 1, dtype=np.int64), n)
    # customer by customer, period by period: the matrices' C order
    columns = {name: np.tile(terms[name], n) if name == "discount_factor" else terms[name].ravel() for name in terms}
    if plan.frame.frontend == "pandas":
        index = pd.MultiIndex.from_arrays([plan.ids.take(rows), periods], names=[plan.frame.data.index.name, "period"])
        return frames.with_info(pd.DataFrame(columns, index=index, copy=False), plan.info)
    ids = plan.ids.gather(rows) if frames.is_polars_series(plan.ids) else plan.ids.take(rows)
    return frames.customer_table(plan.frame.frontend, ids, plan.id_name, {"period": periods, **columns}, plan.info)


def _table(plan: _Plan, columns: dict[str, np.ndarray], info: dict[str, Any]) -> Any:
    """One row per customer of the summary, in its kind."""
    if plan.frame.frontend == "pandas":
        return frames.with_info(pd.DataFrame(columns, index=plan.ids, copy=False), info)
    return frames.customer_table(plan.frame.frontend, plan.ids, plan.id_name, columns, info)
