"""`rfmkit.clv.value` (current + potential value on profit) and `rfmkit.clv.cash_flows`:
the reference of the definition (tests/clv_reference.py), `customer_lifetime_value` and
lifetimes for margin 1 without costs, CDNOW end to end, the unit table's period lengths,
properties on random summaries, errors, polars and pyarrow."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cdnow
import rfmkit
from clv_reference import PERIOD_IN_UNIT, reference_cash_flows, reference_value

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import lifetimes
    import lifetimes.utils
    from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value

pytestmark = pytest.mark.filterwarnings("ignore::rfmkit.DataQualityWarning")

SETTINGS = dict(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
NAMES = dict(customer="customer_id", date="ordered_at", amount="amount")
CDNOW = dict(customer="customer_id", date="date", amount="dollar_value")
CDNOW_END = "1997-09-30"


@pytest.fixture(scope="module")
def fitted():
    """A daily summary of 600 generated customers, its RFM table, BG/NBD and Gamma-Gamma."""
    orders = rfmkit.datasets.make_transactions(600, seed=21)
    summary = rfmkit.clv.summary(orders, **NAMES, freq="D")
    table = rfmkit.rfm(orders, **NAMES, zero="keep")
    bgf = rfmkit.clv.BetaGeoFitter().fit(summary)
    ggf = rfmkit.clv.GammaGammaFitter().fit(summary)
    return orders, summary, table, bgf, ggf


def expected_spend(ggf, summary: pd.DataFrame) -> np.ndarray:
    return np.asarray(ggf.conditional_expected_average_profit(summary["frequency"], summary["monetary_value"]))


def bgnbd(params=(0.5, 20.0, 0.7, 3.0), unit="D"):
    model = rfmkit.clv.BetaGeoFitter()
    model.params_ = pd.Series(params, index=["r", "alpha", "a", "b"])
    model.time_unit_ = unit
    return model


def gamma_gamma(params=(6.0, 4.0, 15.0)):
    model = rfmkit.clv.GammaGammaFitter()
    model.params_ = pd.Series(params, index=["p", "q", "v"])
    return model


def small_summary() -> pd.DataFrame:
    return pd.DataFrame(
        {"frequency": [2.0, 0.0, 5.0], "recency": [30.0, 0.0, 70.0], "T": [90.0, 40.0, 80.0]},
        index=pd.Index(["a", "b", "c"], name="customer"),
    )


# --------------------------------------------------------------------------- the definition


@pytest.mark.parametrize(
    "period, horizon, margin, cost_per_order, cost_per_customer, discount_rate",
    [
        ("M", 12, 0.3, 0.0, 0.0, 0.01),
        ("M", 6, "per customer", 1.5, 0.4, 0.02),
        ("W", 20, 0.25, 0.5, 0.1, 0.002),
        ("D", 10, 1.0, 0.0, 0.0, 0.0),
        ("Q", 4, 0.4, 3.0, 1.0, 0.03),
        ("Y", 2, 0.5, 0.0, 2.0, 0.1),
    ],
)
def test_value_and_cash_flows_match_the_reference(
    fitted, period, horizon, margin, cost_per_order, cost_per_customer, discount_rate
):
    _, summary, table, bgf, ggf = fitted
    if margin == "per customer":
        margin = np.linspace(0.1, 1.0, len(summary))
    options = dict(
        period=period,
        horizon=horizon,
        discount_rate=discount_rate,
        cost_per_order=cost_per_order,
        cost_per_customer=cost_per_customer,
    )
    got = rfmkit.clv.value(bgf, ggf, summary, revenue=table, margin=margin, **options)
    revenue = table["monetary"].loc[summary.index]
    want = reference_value(bgf, expected_spend(ggf, summary), summary, revenue, margin=margin, unit="D", **options)
    assert list(got.columns) == ["current_value", "potential_value", "total_value"]
    assert got.index.equals(summary.index)
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-10, atol=1e-10)
    assert (got["total_value"] == got["current_value"] + got["potential_value"]).all()

    flows = rfmkit.clv.cash_flows(bgf, ggf, summary, margin=margin, **options)
    reference = reference_cash_flows(bgf, expected_spend(ggf, summary), summary, margin=margin, unit="D", **options)
    assert flows.index.names == ["customer_id", "period"] and len(flows) == len(summary) * horizon
    assert flows.index.get_level_values("period").tolist() == list(range(1, horizon + 1)) * len(summary)
    np.testing.assert_allclose(flows[reference.columns].to_numpy(), reference.to_numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(
        flows["discount_factor"], 1 / (1 + discount_rate) ** flows.index.get_level_values("period"), rtol=1e-15
    )
    # The discounted terms add up to potential_value, exactly.
    terms = flows["discounted_profit"].to_numpy().reshape(len(summary), horizon)
    np.testing.assert_array_equal(terms.sum(axis=1), got["potential_value"].to_numpy())
    by_customer = flows["discounted_profit"].groupby(level="customer_id", sort=False).sum()
    np.testing.assert_allclose(by_customer.to_numpy(), got["potential_value"].to_numpy(), rtol=1e-12, atol=1e-12)
    for name in ("margin", "cost_per_order", "cost_per_customer", "horizon", "discount_rate"):
        if name != "margin" or isinstance(margin, float):
            assert rfmkit.quality(got)[name] == options.get(name, margin)
    assert rfmkit.quality(got)["period"] == rfmkit.quality(flows)["period"] == period
    assert rfmkit.quality(got)["period_length"] == PERIOD_IN_UNIT[(period, "D")]


def test_costs_are_charged_as_documented(fitted):
    """cost_per_customer: every period, every customer, discounted; cost_per_order: per
    expected order. Costs above the margin make the potential value negative, and it stays."""
    _, summary, table, bgf, ggf = fitted
    options = dict(revenue=table, margin=0.3, horizon=12, discount_rate=0.01)
    plain = rfmkit.clv.value(bgf, ggf, summary, **options)
    contact = rfmkit.clv.value(bgf, ggf, summary, cost_per_customer=2.0, **options)
    annuity = sum(1 / 1.01**k for k in range(1, 13))
    np.testing.assert_allclose(plain["potential_value"] - contact["potential_value"], 2.0 * annuity, rtol=1e-12)
    assert (contact["current_value"] == plain["current_value"]).all()
    per_order = rfmkit.clv.value(bgf, ggf, summary, cost_per_order=4.0, **options)
    flows = rfmkit.clv.cash_flows(bgf, ggf, summary, margin=0.3)
    discounted_orders = (flows["expected_orders"] * flows["discount_factor"]).groupby(level=0, sort=False).sum()
    np.testing.assert_allclose(
        plain["potential_value"] - per_order["potential_value"], 4.0 * discounted_orders.to_numpy(), rtol=1e-9
    )
    costly = rfmkit.clv.value(bgf, ggf, summary, cost_per_customer=50.0, **options)
    assert (costly["potential_value"] < 0).any()


# --------------------------------------------------------------------------- lifetimes' CLV


@pytest.mark.parametrize("model", [rfmkit.clv.BetaGeoFitter, rfmkit.clv.ModifiedBetaGeoFitter])
@pytest.mark.parametrize("freq, multiplier", [("D", 1), ("W", 1), ("D", 7), ("h", 1)])
def test_margin_one_without_costs_is_customer_lifetime_value(model, freq, multiplier):
    """period="M", margin 1, no costs: the potential value is `customer_lifetime_value`
    (the Rust loop for BG/NBD, the generic one for MBG/NBD) to 1e-9."""
    orders = rfmkit.datasets.make_transactions(400, seed=22)
    if freq == "h":
        # half a year: over the last 60 or 90 days nobody has dropped out yet, and BG/NBD's
        # drop-out runs off (a ConvergenceError)
        orders = orders[orders["ordered_at"] >= orders["ordered_at"].max() - pd.Timedelta(days=180)]
    summary = rfmkit.clv.summary(orders, **NAMES, freq=freq, freq_multiplier=multiplier)
    bgf = model().fit(summary)
    ggf = rfmkit.clv.GammaGammaFitter().fit(summary)
    f, r, t_age, m = summary["frequency"], summary["recency"], summary["T"], summary["monetary_value"]
    for horizon, rate in [(12, 0.01), (3, 0.0), (24, 0.05)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", rfmkit.TimeUnitWarning)  # hours: T of half a year
            clv = ggf.customer_lifetime_value(bgf, f, r, t_age, m, time=horizon, discount_rate=rate)
            got = rfmkit.clv.value(bgf, ggf, summary, revenue=0.0, margin=1.0, horizon=horizon, discount_rate=rate)
        np.testing.assert_allclose(got["potential_value"], clv, rtol=1e-9, atol=1e-12)
        assert rfmkit.quality(got)["period_length"] == clv.attrs["rfmkit"]["periods_per_month"]
        assert (got["current_value"] == 0).all()


def lifetimes_value(bgf, ggf, summary: pd.DataFrame, horizon: int, rate: float, freq: str) -> np.ndarray:
    bgf.predict = bgf.conditional_expected_number_of_purchases_up_to_time  # set by lifetimes' fit only
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = ggf.customer_lifetime_value(
            bgf,
            summary["frequency"],
            summary["recency"],
            summary["T"],
            summary["monetary_value"],
            time=horizon,
            discount_rate=rate,
            freq=freq,
        )
    return np.asarray(values, dtype=np.float64)


def lifetimes_models(bgf_params: pd.Series, ggf_params: pd.Series):
    bgf, ggf = lifetimes.BetaGeoFitter(), lifetimes.GammaGammaFitter()
    bgf.params_, ggf.params_ = bgf_params[["r", "alpha", "a", "b"]].copy(), ggf_params[["p", "q", "v"]].copy()
    return bgf, ggf


def test_cdnow_end_to_end_is_lifetimes():
    """CDNOW's sample of the BG/NBD paper, transactions to 1997-09-30: the daily summary,
    our fits, then lifetimes' CLV at our parameters is our potential value (margin 1, no
    costs); the current value is margin × each customer's dollars to date (zero-dollar
    purchases kept, as the summary keeps them)."""
    sample = cdnow.sample()
    summary = rfmkit.clv.summary(sample, **CDNOW, freq="D", observation_period_end=CDNOW_END)
    table = rfmkit.rfm(sample, **CDNOW, as_of="1997-10-01", zero="keep")
    bgf = rfmkit.clv.BetaGeoFitter().fit(summary)
    ggf = rfmkit.clv.GammaGammaFitter().fit(summary)
    got = rfmkit.clv.value(bgf, ggf, summary, revenue=table, margin=1.0, horizon=12, discount_rate=0.01)
    theirs = lifetimes_value(*lifetimes_models(bgf.params_, ggf.params_), summary, 12, 0.01, "D")
    np.testing.assert_allclose(got["potential_value"], theirs, rtol=1e-9)  # measured: 5.5e-14
    dollars = sample[sample["date"] <= CDNOW_END].groupby("customer_id")["dollar_value"].sum()
    np.testing.assert_allclose(got["current_value"], dollars.loc[summary.index].to_numpy(), rtol=1e-12)
    shares = rfmkit.clv.value(bgf, ggf, summary, revenue=table, margin=0.3)
    np.testing.assert_allclose(shares[["current_value", "potential_value"]], 0.3 * got.iloc[:, :2], rtol=1e-12)


def test_cdnow_weekly_summary_is_lifetimes():
    """lifetimes' own CDNOW summary in weeks (a month is 4.345 weeks in both libraries)."""
    data = load_cdnow_summary_data_with_monetary_value()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bgf_theirs = lifetimes.BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"])
        repeat = data[data["frequency"] > 0]
        ggf_theirs = lifetimes.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    bgf, ggf = bgnbd(tuple(bgf_theirs.params_[["r", "alpha", "a", "b"]]), unit="W"), rfmkit.clv.GammaGammaFitter()
    ggf.params_ = ggf_theirs.params_.copy()
    for horizon, rate in [(12, 0.01), (36, 0.0)]:
        got = rfmkit.clv.value(bgf, ggf, data, revenue=0.0, margin=1.0, horizon=horizon, discount_rate=rate)
        want = lifetimes_value(bgf_theirs, ggf_theirs, data, horizon, rate, "W")
        np.testing.assert_allclose(got["potential_value"], want, rtol=1e-9)  # measured: 1.1e-13
        assert rfmkit.quality(got)["period_length"] == 4.345


def test_any_purchase_model_with_the_method_works():
    """A lifetimes model (no time_unit_: freq= or the summary's attrs says it) gives the
    same terms as ours at the same parameters."""
    data = load_cdnow_summary_data_with_monetary_value().head(200)
    ours = bgnbd(tuple(rfmkit.datasets.cdnow_params("bgnbd")), unit="W")
    theirs, _ = lifetimes_models(ours.params_, rfmkit.datasets.cdnow_params("gamma_gamma"))
    want = rfmkit.clv.cash_flows(ours, 35.0, data, margin=0.3, period="Q", horizon=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = rfmkit.clv.cash_flows(theirs, 35.0, data, margin=0.3, period="Q", horizon=4, freq="W")
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-9, atol=1e-12)
    assert rfmkit.quality(got)["purchase_model"] == "BetaGeoFitter"


# --------------------------------------------------------------------------- units


def test_period_lengths_come_from_the_unit_table():
    summary = small_summary()
    for (period, unit), length in PERIOD_IN_UNIT.items():
        model = bgnbd(unit=unit)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", rfmkit.TimeUnitWarning)  # T in hours or years
            info = rfmkit.quality(rfmkit.clv.value(model, 10.0, summary, revenue=0.0, margin=0.5, period=period))
        assert info["period_length"] == pytest.approx(length, rel=1e-15), (period, unit)
        assert info["time_unit"] == unit and info["period"] == period
        calendar = {"M", "Q", "Y"}
        # The 30-day month is said in words whenever a calendar unit was turned into a fixed one.
        assert ("month" in info) == ((period in calendar) != (unit in calendar)), (period, unit)
        if "month" in info:
            assert "30 days, 4.345 weeks, 720 hours" in info["month"] and "not a calendar month" in info["month"]


def test_multiplier_and_anchored_weeks():
    summary = small_summary()
    days = bgnbd(unit="D")
    days.freq_multiplier_ = 7.0  # a daily summary divided by 7
    info = rfmkit.quality(rfmkit.clv.value(days, 10.0, summary, revenue=0.0, margin=0.5, period="M"))
    assert info["period_length"] == pytest.approx(30 / 7) and info["freq_multiplier"] == 7.0
    assert (
        rfmkit.quality(rfmkit.clv.value(days, 10.0, summary, revenue=0.0, margin=0.5, period="W"))["period_length"] == 1
    )
    weeks = bgnbd(unit="W-WED")
    info = rfmkit.quality(rfmkit.clv.value(weeks, 10.0, summary, revenue=0.0, margin=0.5, period="W-MON"))
    assert info["period_length"] == 1.0 and info["period"] == "W-MON" and info["time_unit"] == "W-WED"


# --------------------------------------------------------------------------- properties


@st.composite
def cases(draw):
    n = draw(st.integers(1, 12))
    rows = []
    for _ in range(n):
        age = draw(st.floats(1, 400, allow_nan=False))
        x = draw(st.integers(0, 30))
        recency = 0.0 if x == 0 else draw(st.floats(0, 1)) * age
        rows.append((float(x), recency, age, draw(st.floats(0, 500)), draw(st.floats(1, 200))))
    frame = pd.DataFrame(rows, columns=["frequency", "recency", "T", "revenue", "spend"])
    frame.index = pd.Index([f"c{i}" for i in range(n)], name="customer")
    options = dict(
        period=draw(st.sampled_from(["D", "W", "M", "Q"])),
        horizon=draw(st.integers(1, 15)),
        discount_rate=draw(st.sampled_from([0.0, 0.001, 0.01])),
        cost_per_order=draw(st.sampled_from([0.0, 1.0, 7.5])),
        cost_per_customer=draw(st.sampled_from([0.0, 0.3])),
    )
    margins = np.array([draw(st.floats(0.01, 1.0)) for _ in range(n)])
    return frame, options, margins


# Daily periods at 1 % each are 35 % a month: the TimeUnitWarning is right, and not the point here.
PROPERTY = pytest.mark.filterwarnings("ignore::rfmkit.TimeUnitWarning")


@PROPERTY
@settings(**SETTINGS)
@given(cases())
def test_random_summaries_match_the_reference_and_are_not_mutated(case):
    frame, options, margins = case
    model = bgnbd()
    before, margins_before = frame.copy(), margins.copy()
    got = rfmkit.clv.value(model, "spend", frame, revenue="revenue", margin=margins, **options)
    want = reference_value(model, frame["spend"], frame, frame["revenue"], margin=margins, unit="D", **options)
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-9, atol=1e-9)
    flows = rfmkit.clv.cash_flows(model, "spend", frame, margin=margins, **options)
    np.testing.assert_array_equal(
        flows["discounted_profit"].to_numpy().reshape(len(frame), options["horizon"]).sum(axis=1),
        got["potential_value"].to_numpy(),
    )
    pd.testing.assert_frame_equal(frame, before)
    np.testing.assert_array_equal(margins, margins_before)
    assert frame.attrs == before.attrs == {}


@PROPERTY
@settings(**SETTINGS)
@given(cases())
def test_without_costs_potential_value_grows_with_the_horizon(case):
    frame, options, _ = case
    options = {**options, "cost_per_order": 0.0, "cost_per_customer": 0.0}
    model = bgnbd()
    shorter = rfmkit.clv.value(model, "spend", frame, revenue=0.0, margin=0.5, **options)
    longer = rfmkit.clv.value(
        model, "spend", frame, revenue=0.0, margin=0.5, **{**options, "horizon": 2 + options["horizon"]}
    )
    assert (shorter["potential_value"] >= 0).all()
    assert (longer["potential_value"] >= shorter["potential_value"] * (1 - 1e-12)).all()


@PROPERTY
@settings(**SETTINGS)
@given(cases(), st.floats(0.01, 1.0), st.floats(0.01, 1.0))
def test_value_is_linear_in_the_margin(case, low, high):
    """Without costs the values scale with the margin; with costs the potential value moves
    by the margin's change times the revenue's discounted value (an affine function)."""
    frame, options, _ = case
    model = bgnbd()

    def at(margin, **changes):
        return rfmkit.clv.value(model, "spend", frame, revenue="revenue", margin=margin, **{**options, **changes})

    revenue_only = at(1.0, cost_per_order=0.0, cost_per_customer=0.0)
    scaled = at(low, cost_per_order=0.0, cost_per_customer=0.0)
    np.testing.assert_allclose(scaled.to_numpy(), low * revenue_only.to_numpy(), rtol=1e-12, atol=1e-12)
    difference = at(high)["potential_value"] - at(low)["potential_value"]
    np.testing.assert_allclose(difference, (high - low) * revenue_only["potential_value"], rtol=1e-9, atol=1e-9)


# --------------------------------------------------------------------------- frames


def test_polars_and_pyarrow_in_give_the_same_values_out(fitted):
    pl = pytest.importorskip("polars")
    pa = pytest.importorskip("pyarrow")
    orders, summary, table, bgf, ggf = fitted
    want = rfmkit.clv.value(bgf, ggf, summary, revenue=table, margin=0.3, cost_per_order=1.0, horizon=6)
    want_flows = rfmkit.clv.cash_flows(bgf, ggf, summary, margin=0.3, cost_per_order=1.0, horizon=6)
    summary_pl = rfmkit.clv.summary(pl.from_pandas(orders), **NAMES, freq="D")
    table_pl = rfmkit.rfm(pl.from_pandas(orders), **NAMES, zero="keep")
    before = summary_pl.clone()
    got = rfmkit.clv.value(bgf, ggf, summary_pl, revenue=table_pl, margin=0.3, cost_per_order=1.0, horizon=6)
    assert isinstance(got, pl.DataFrame)
    assert got.columns == ["customer_id", "current_value", "potential_value", "total_value"]
    np.testing.assert_array_equal(got["customer_id"].to_numpy(), summary.index.to_numpy())
    np.testing.assert_allclose(got.select(want.columns).to_numpy(), want.to_numpy(), rtol=1e-12)
    assert rfmkit.quality(got)["period_length"] == 30.0
    assert summary_pl.equals(before)
    flows = rfmkit.clv.cash_flows(bgf, ggf, summary_pl, margin=0.3, cost_per_order=1.0, horizon=6)
    assert flows.columns[:2] == ["customer_id", "period"] and flows.height == 6 * len(summary)
    np.testing.assert_allclose(flows.select(want_flows.columns).to_numpy(), want_flows.to_numpy(), rtol=1e-12)
    # a polars column of margins, by position
    margins = pl.Series("margin", np.full(len(summary), 0.3))
    by_column = rfmkit.clv.value(bgf, ggf, summary_pl, revenue=table_pl, margin=margins, cost_per_order=1.0, horizon=6)
    np.testing.assert_allclose(by_column["total_value"].to_numpy(), got["total_value"].to_numpy(), rtol=1e-15)

    summary_pa = pa.Table.from_pandas(summary.reset_index()).replace_schema_metadata(None)
    arrow = rfmkit.clv.value(bgf, ggf, summary_pa, revenue=table, margin=0.3, cost_per_order=1.0, horizon=6, freq="D")
    assert isinstance(arrow, pa.Table) and arrow.column_names[0] == "customer_id"
    np.testing.assert_allclose(arrow.to_pandas()[want.columns].to_numpy(), want.to_numpy(), rtol=1e-12)
    assert rfmkit.quality(arrow)["time_unit"] == "D"


def test_revenue_and_margin_sources_agree(fitted):
    _, summary, table, bgf, ggf = fitted
    revenue = table["monetary"].loc[summary.index]
    want = rfmkit.clv.value(bgf, ggf, summary, revenue=table, margin=0.3)
    assert rfmkit.quality(want)["revenue"].startswith("'monetary' of the table")
    shuffled = revenue.sample(frac=1.0, random_state=0)  # a Series is matched on its index
    for source in (shuffled, revenue.to_numpy(), revenue.tolist()):
        got = rfmkit.clv.value(bgf, ggf, summary, revenue=source, margin=0.3)
        pd.testing.assert_frame_equal(got, want, check_exact=True)
    with_column = summary.assign(revenue=revenue, margin=0.3)
    got = rfmkit.clv.value(bgf, ggf, with_column, revenue="revenue", margin="margin")
    np.testing.assert_array_equal(got.to_numpy(), want.to_numpy())
    assert rfmkit.quality(got)["margin"] == "per customer (column 'margin' of the summary)"
    spend = expected_spend(ggf, summary)
    given = rfmkit.clv.value(bgf, pd.Series(spend, index=summary.index)[::-1], summary, revenue=table, margin=0.3)
    np.testing.assert_array_equal(given.to_numpy(), want.to_numpy())


# --------------------------------------------------------------------------- errors


def test_errors_name_the_fix():
    summary = small_summary()
    model = bgnbd(unit="W")
    value = rfmkit.clv.value

    def call(**changes):
        arguments = {"revenue": 1.0, "margin": 0.3, **changes}
        spend = arguments.pop("spend", 10.0)
        purchase = arguments.pop("model", model)
        return value(purchase, spend, arguments.pop("summary", summary), **arguments)

    with pytest.raises(rfmkit.InvalidParameterError, match="for a 30 % margin pass margin=0.3"):
        call(margin=30)
    with pytest.raises(rfmkit.InvalidParameterError, match=r"margin of customer 'b' \(row 1\).*margin=0.3"):
        call(margin=[0.3, 30, 0.2])
    with pytest.raises(rfmkit.InvalidParameterError, match="above 0 and at most 1"):
        call(margin=0)
    with pytest.raises(rfmkit.InvalidParameterError, match="cost_per_order must be a finite number >= 0"):
        call(cost_per_order=-1)
    with pytest.raises(rfmkit.InvalidParameterError, match="cost_per_customer must be a finite number >= 0"):
        call(cost_per_customer=float("nan"))
    for horizon in (0, 2.5, True, "12"):
        with pytest.raises(rfmkit.InvalidParameterError, match="horizon must be a whole number of periods >= 1"):
            call(horizon=horizon)
    with pytest.raises(rfmkit.InvalidParameterError, match=r"period='month' is not a time unit; pass one of"):
        call(period="month")
    with pytest.raises(
        rfmkit.InvalidParameterError,
        match=r"period='D' is shorter than the purchase model's time unit \('W'\).*period='W'",
    ):
        call(period="D")
    with pytest.raises(rfmkit.InvalidParameterError, match="revenue has 2 values but the summary has 3 customers"):
        call(revenue=[1.0, 2.0])
    with pytest.raises(rfmkit.InvalidParameterError, match="margin has 4 values"):
        call(margin=[0.3] * 4)
    with pytest.raises(rfmkit.InvalidParameterError, match=r"3 of the summary's 3 customers are missing.*to_numpy\(\)"):
        call(margin=pd.Series([0.3, 0.3, 0.3]))
    rfm_like = pd.DataFrame({"monetary": [1.0, 2.0]}, index=pd.Index(["a", "b"], name="customer"))
    with pytest.raises(rfmkit.InvalidParameterError, match="1 of the summary's 3 customers are missing.*zero='keep'"):
        call(revenue=rfm_like)
    with pytest.raises(rfmkit.ColumnNotFoundError, match="without a 'monetary' column"):
        call(revenue=rfm_like.rename(columns={"monetary": "spend"}))
    with pytest.raises(rfmkit.InvalidDataError, match="column 'revenue' is NaN"):
        call(revenue=[1.0, np.nan, 2.0])
    with pytest.raises(rfmkit.InvalidParameterError, match="discount_rate must be a finite number >= 0"):
        call(discount_rate=-0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the defaults: 1 % a month
        call()
        call(period="Y", discount_rate=0.1)
    with pytest.warns(rfmkit.TimeUnitWarning, match=r"20% a month.*\(1 \+ R\) \*\* \(1 / 12\) - 1"):
        call(discount_rate=0.2)
    with pytest.raises(rfmkit.NotFittedError, match=r"purchase model \(BetaGeoFitter\) is not fitted yet"):
        call(model=rfmkit.clv.BetaGeoFitter())
    with pytest.raises(rfmkit.NotFittedError, match=r"spend model \(GammaGammaFitter\) is not fitted yet"):
        call(spend=rfmkit.clv.GammaGammaFitter())
    with pytest.raises(rfmkit.InvalidParameterError, match="purchase model must be a fitted model with"):
        call(model=rfmkit.clv.ShiftedBetaGeoFitter())
    with pytest.raises(rfmkit.InvalidParameterError, match="BG/BB counts discrete opportunities"):
        call(model=rfmkit.clv.BetaGeoBetaBinomFitter())
    with pytest.raises(rfmkit.InvalidParameterError, match="spend_model must be a fitted GammaGammaFitter"):
        call(spend=None)
    with pytest.raises(rfmkit.InvalidParameterError, match="expected spend per order must be finite and >= 0"):
        call(spend=-3.0)
    with pytest.raises(rfmkit.ColumnNotFoundError, match="'monetary_value' is not in the summary"):
        value(
            model,
            gamma_gamma(),
            summary,
            revenue=1.0,
            margin=0.3,
        )
    with pytest.raises(rfmkit.InvalidParameterError, match="takes the BTYD summary as a table"):
        call(summary=summary.to_numpy())
    with pytest.raises(
        rfmkit.InvalidParameterError, match=r"freq='D' but the purchase model was fitted on times in 'W'"
    ):
        call(freq="D")
    dated = summary.copy()
    dated.attrs["rfmkit"] = {"freq": "D", "freq_multiplier": 1.0}
    with pytest.raises(rfmkit.InvalidParameterError, match="the summary's times are in 'D' .* fitted on times in 'W'"):
        call(summary=dated)
    unknown = bgnbd(unit=None)
    with pytest.raises(rfmkit.InvalidParameterError, match="freq= is required"):
        call(model=unknown)
    assert rfmkit.quality(call(model=unknown, summary=dated.assign(T=[90.0, 40.0, 80.0])))["time_unit"] == "D"
    with pytest.raises(
        rfmkit.InvalidParameterError, match=r"freq='W' but the summary's times are in 'D' \(its attrs\)"
    ):
        call(model=unknown, summary=dated, freq="W")
    with pytest.raises(rfmkit.InvalidParameterError, match="margin"):
        rfmkit.clv.cash_flows(model, 10.0, summary, margin=1.5)
