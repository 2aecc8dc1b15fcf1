"""rfmkit.cohorts against the row-by-row definition (tests/reference.py), on generated
orders, on hypothesis' awkward tables (nulls, returns, zeros, one-day data) and on CDNOW."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rfmkit
from reference import reference_cohorts

ROLES = {"customer": "customer_id", "date": "ordered_at", "amount": "amount"}


def _cohorts(data, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        return rfmkit.cohorts(data, **ROLES, **options)


def _assert_matches(got: rfmkit.Cohorts, orders: pd.DataFrame, **options) -> None:
    want_counts, want_revenue = reference_cohorts(orders, "customer_id", "ordered_at", "amount", **options)
    counts = got.pandas("customers")
    assert list(counts.index) == list(want_counts.index)
    np.testing.assert_array_equal(counts.to_numpy(dtype=float, na_value=np.nan), want_counts.to_numpy())
    np.testing.assert_allclose(got.pandas("revenue").to_numpy(), want_revenue.to_numpy(), rtol=1e-9, atol=1e-9)
    sizes = want_counts.to_numpy()[:, :1]
    with np.errstate(invalid="ignore", divide="ignore"):
        want_shares = np.where(sizes > 0, want_counts.to_numpy() / sizes, np.nan)
    np.testing.assert_allclose(got.pandas("shares").to_numpy(), want_shares, equal_nan=True)


@pytest.mark.parametrize("freq", ["M", "W", "W-WED", "Q", "Y", "D"])
def test_generated_orders_match_the_definition(freq):
    orders = rfmkit.datasets.make_transactions(300, seed=5)
    got = _cohorts(orders, freq=freq)
    _assert_matches(got, orders, freq=freq)
    assert got.freq == freq
    counts = got.pandas("customers")
    # every customer is in its cohort's period 0, once
    assert int(counts[0].sum()) == len(_rfm(orders))


def _rfm(orders):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        return rfmkit.rfm(orders, **ROLES)


def test_as_of_and_policies_match_the_definition():
    orders = rfmkit.datasets.make_transactions(200, seed=9)
    for options in ({"as_of": "2024-06-15"}, {"zero": "keep"}, {"returns": "drop"}):
        _assert_matches(_cohorts(orders, **options), orders, **options)


def test_the_accounting_is_the_rfm_tables():
    orders = rfmkit.datasets.make_transactions(200, seed=3)
    got = _cohorts(orders, as_of="2024-10-20")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        reference = rfmkit.quality(rfmkit.rfm(orders, **ROLES, as_of="2024-10-20"))
    for key in ("rows_in", "rows_used", "dropped", "as_of"):
        assert got.quality[key] == reference[key]
    assert got.quality["last_period_partial"] is True  # October is cut at the 20th
    assert _cohorts(orders, as_of="2024-11-01").quality["last_period_partial"] is False


rows = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(0, 6)),
        st.one_of(st.none(), st.integers(0, 400)),
        st.one_of(st.just(float("nan")), st.sampled_from([0.0, -5.0]), st.floats(0.5, 500)),
    ),
    min_size=0,
    max_size=60,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows, freq=st.sampled_from(["M", "W", "Q"]), zero=st.sampled_from(["drop", "keep"]))
def test_any_table_matches_the_definition(rows, freq, zero):
    start = pd.Timestamp("2023-11-20")
    orders = pd.DataFrame(
        {
            "customer_id": pd.array([r[0] for r in rows], dtype="Int64"),
            "ordered_at": pd.to_datetime([start + pd.Timedelta(days=r[1]) if r[1] is not None else None for r in rows]),
            "amount": [r[2] for r in rows],
        }
    )
    before = orders.copy()
    got = _cohorts(orders, freq=freq, zero=zero)
    want_counts, _ = reference_cohorts(orders, "customer_id", "ordered_at", "amount", freq=freq, zero=zero)
    if want_counts.empty:
        assert got.pandas("customers").empty
    else:
        _assert_matches(got, orders, freq=freq, zero=zero)
    pd.testing.assert_frame_equal(orders, before)


def test_polars_and_pyarrow_in_give_their_own_kind():
    orders = rfmkit.datasets.make_transactions(150, seed=2)
    want = _cohorts(orders)
    for data, kind in ((pl.from_pandas(orders), pl.DataFrame), (pa.Table.from_pandas(orders), pa.Table)):
        got = _cohorts(data)
        assert isinstance(got.customers, kind) and isinstance(got.shares, kind) and isinstance(got.revenue, kind)
        names = got.customers.column_names if kind is pa.Table else got.customers.columns
        assert list(names[:2]) == ["cohort", "0"]
        pd.testing.assert_frame_equal(got.pandas("customers"), want.pandas("customers"))


def test_bad_input_gets_a_clear_error(tmp_path):
    orders = rfmkit.datasets.make_transactions(20, seed=1)
    with pytest.raises(rfmkit.InvalidParameterError, match="cohorts are periods of days"):
        rfmkit.cohorts(orders, **ROLES, freq="h")
    with pytest.raises(rfmkit.InvalidParameterError, match="freq='X' is not a time unit"):
        rfmkit.cohorts(orders, **ROLES, freq="X")
    with pytest.raises(rfmkit.ColumnNotFoundError, match="'when'"):
        rfmkit.cohorts(orders, customer="customer_id", date="when", amount="amount")
    path = tmp_path / "orders.csv"
    orders.to_csv(path, index=False)
    with pytest.raises(rfmkit.InvalidParameterError, match="read_transactions"):
        rfmkit.cohorts(str(path), **ROLES)


def test_no_purchase_gives_empty_tables():
    orders = pd.DataFrame(
        {"customer_id": [1, 2], "ordered_at": pd.to_datetime(["2024-01-01", None]), "amount": [0.0, 5.0]}
    )
    got = _cohorts(orders)
    assert got.pandas("customers").shape == (0, 0)
    assert got.quality["rows_in"] == 2


def test_cdnow_monthly_cohorts():
    """CDNOW's customers all made their first purchase in the first quarter of 1997: three
    cohorts, followed monthly to June 1998; 23,502 customers paid (68 of the 23,570 have
    only zero-amount rows, dropped as rfmkit.rfm drops them; kept with zero="keep")."""
    import cdnow

    orders = cdnow.master().rename(columns={"date": "ordered_at", "dollar_value": "amount"})
    got = _cohorts(orders, freq="M")
    counts = got.pandas("customers")
    assert list(counts.index[:3]) == ["1997-01", "1997-02", "1997-03"] and counts.index[-1] == "1998-06"
    assert int(counts[0].sum()) == 23_502 == len(_rfm(orders))
    # two customers whose first-quarter rows were all free pay first in November 1997
    assert counts[0].iloc[3:].to_dict() == {p: 2 if p == "1997-11" else 0 for p in counts.index[3:]}
    kept = _cohorts(orders, freq="M", zero="keep").pandas("customers")
    assert int(kept[0].sum()) == 23_570 and (kept[0].iloc[3:] == 0).all()
    assert got.quality["last_period_partial"] is False  # as_of 1998-07-01
    _assert_matches(got, orders, freq="M")


def test_revenue_adds_up_to_the_rfm_tables_monetary():
    """Nothing is lost: returns in a period without a purchase, or before the first
    purchase, are in the cohort's revenue too."""
    orders = rfmkit.datasets.make_transactions(3000, seed=1)
    got = _cohorts(orders)
    assert np.nansum(got.pandas("revenue").to_numpy()) == pytest.approx(_rfm(orders)["monetary"].sum(), rel=1e-12)


def test_time_zone_aware_dates_use_their_wall_clock():
    orders = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "ordered_at": pd.to_datetime(["2024-01-31 23:30", "2024-02-01 00:30", "2024-02-10 12:00"]).tz_localize(
                "Asia/Shanghai"
            ),
            "amount": [10.0, 5.0, 7.0],
        }
    )
    counts = _cohorts(orders).pandas("customers")
    assert counts.fillna(-1).to_dict("list") == {0: [1, 1], 1: [1, -1]}  # January: customer 1; February: 2
