"""`rfmkit.rfm` against the reference implementation on random transaction tables."""

from __future__ import annotations

import copy
import datetime as dt
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rfmkit
from frames import DATE_KINDS, ID_KINDS, POLARS_DATE_KINDS, POLARS_ID_KINDS, Spec, base_day, build, specs, to_polars
from reference import RFM_COLUMNS, ReferenceRowError, reference_rfm

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
INT_COLUMNS = ["recency", "frequency", "tenure"]
FLOAT_COLUMNS = ["monetary", "avg_order_value"]
TIME_COLUMNS = ["first_purchase", "last_purchase"]


# --------------------------------------------------------------------------- helpers


def run_rfm(data, **kwargs):
    """rfmkit.rfm, also checking that a DataQualityWarning comes exactly when rows were dropped."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = rfmkit.rfm(data, **kwargs)
    attrs = rfmkit.quality(out)
    quality = [w for w in caught if issubclass(w.category, rfmkit.DataQualityWarning)]
    dropped = sum(attrs["dropped"].values())
    assert bool(quality) == bool(dropped), (attrs, [str(w.message) for w in quality])
    if quality:
        message = str(quality[0].message)
        for reason, count in attrs["dropped"].items():
            assert reason in message and str(count) in message, message
    return out


def py_ids(index) -> list:
    return list(index.tolist())


def as_stamp(value) -> pd.Timestamp:
    return value if isinstance(value, pd.Timestamp) else pd.Timestamp(value)


def assert_accounting(attrs: dict, expected: dict) -> None:
    assert attrs["rows_in"] == expected["rows_in"], (attrs, expected)
    assert attrs["rows_used"] == expected["rows_used"], (attrs, expected)
    got = dict(attrs["dropped"].items())
    assert all(v > 0 for v in got.values()), f"zero counts listed in dropped: {got}"
    assert got == expected["dropped"], (got, expected["dropped"])
    assert attrs["rows_in"] == attrs["rows_used"] + sum(attrs["dropped"].values())
    if expected["as_of"] is None:
        assert attrs["as_of"] is None
    else:
        assert attrs["as_of"] is not None
        assert as_stamp(attrs["as_of"]).date() == expected["as_of"].date(), (attrs["as_of"], expected["as_of"])


def assert_same_table(out: pd.DataFrame, ref: pd.DataFrame, *, check_order: bool = True) -> None:
    """Same customers; ints and timestamps exact, floats to rel 1e-9."""
    assert list(out.columns) == RFM_COLUMNS
    got_ids = py_ids(out.index)
    ref_ids = list(ref.index)
    assert len(set(got_ids)) == len(got_ids), f"duplicate customers {got_ids}"
    assert set(got_ids) == set(ref_ids), (got_ids, ref_ids)
    if check_order:
        assert got_ids == ref_ids, f"not in order of first appearance: {got_ids} vs {ref_ids}"
    for column in INT_COLUMNS:
        assert pd.api.types.is_integer_dtype(out[column].dtype), (column, out[column].dtype)
    for column in FLOAT_COLUMNS:
        assert pd.api.types.is_float_dtype(out[column].dtype), (column, out[column].dtype)
    position = {c: i for i, c in enumerate(got_ids)}
    for cid in ref_ids:
        i = position[cid]
        expected = ref.iloc[ref_ids.index(cid)]
        for column in INT_COLUMNS:
            assert int(out[column].iloc[i]) == int(expected[column]), (
                cid,
                column,
                out[column].iloc[i],
                expected[column],
            )
        for column in FLOAT_COLUMNS:
            got, want = float(out[column].iloc[i]), float(expected[column])
            scale = float(expected["_scale"]) / max(1, int(expected["frequency"]) if column == "avg_order_value" else 1)
            assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12 * scale), (cid, column, got, want)
        for column in TIME_COLUMNS:
            got, want = as_stamp(out[column].iloc[i]), as_stamp(expected[column])
            assert got == want, (cid, column, got, want)
            assert (got.tzinfo is None) == (want.tzinfo is None), (cid, column, got, want)
            if want.tzinfo is not None:
                assert str(got.tz) == str(want.tz), (cid, column, got, want)


def check_against_reference(df: pd.DataFrame, **kwargs) -> pd.DataFrame | None:
    names = dict(customer="customer", date="ts", amount="amount")
    try:
        ref, accounting = reference_rfm(df, **names, **kwargs)
    except ReferenceRowError as error:
        with pytest.raises(rfmkit.InvalidRowError) as raised:
            run_rfm(df, **names, **kwargs)
        message = str(raised.value)
        assert str(error.position) in message, (message, error)
        assert error.column in message, (message, error)
        return None
    out = run_rfm(df, **names, **kwargs)
    assert_accounting(rfmkit.quality(out), accounting)
    assert_same_table(out, ref)
    date_dtype = df["ts"].dtype
    if isinstance(date_dtype, pd.DatetimeTZDtype) or (isinstance(date_dtype, np.dtype) and date_dtype.kind == "M"):
        for column in TIME_COLUMNS:
            assert out[column].dtype == date_dtype, (column, out[column].dtype, date_dtype)
    return out


@st.composite
def parameters(draw, spec: Spec, allow_raise: bool = True):
    base = base_day(spec)
    kwargs = {}
    if draw(st.booleans()):
        day = base + dt.timedelta(days=draw(st.integers(-40, 3)))
        kwargs["as_of"] = draw(
            st.sampled_from([day.isoformat(), day, pd.Timestamp(day), np.datetime64(day.isoformat(), "D")])
        )
    if draw(st.integers(0, 2)) == 0:
        kwargs["window"] = draw(st.one_of(st.integers(1, 45), st.integers(1, 45).map(lambda d: dt.timedelta(days=d))))
    kwargs["zero"] = draw(st.sampled_from(["drop", "keep"]))
    kwargs["returns"] = draw(st.sampled_from(["net", "net", "drop"] + (["raise"] if allow_raise else [])))
    kwargs["invalid"] = draw(st.sampled_from(["drop", "drop", "drop"] + (["raise"] if allow_raise else [])))
    return kwargs


@st.composite
def cases(draw, spec_strategy=None, allow_raise: bool = True):
    """A spec (of `spec_strategy`, default `specs()`), its frame with an order column or
    not, and `parameters` for it (naming the order column when there is one)."""
    spec = draw(specs() if spec_strategy is None else spec_strategy)
    with_order = draw(st.booleans())
    kwargs = draw(parameters(spec, allow_raise))
    if with_order:
        kwargs["order"] = "order"
    return spec, build(spec, with_order=with_order), kwargs


# --------------------------------------------------------------------------- the oracle


@settings(max_examples=500, **SETTINGS)
@given(st.data())
def test_rfm_matches_reference(data):
    _, df, kwargs = data.draw(cases())
    check_against_reference(df, **kwargs)


@pytest.mark.parametrize("id_kind", ID_KINDS)
@settings(max_examples=25, **SETTINGS)
@given(st.data())
def test_rfm_every_id_type(id_kind, data):
    spec = data.draw(specs(id_kinds=[id_kind], date_kinds=["naive_us"]))
    kwargs = data.draw(parameters(spec, allow_raise=False))
    df = build(spec)
    check_against_reference(df, **kwargs)


@pytest.mark.parametrize("date_kind", DATE_KINDS)
@settings(max_examples=25, **SETTINGS)
@given(st.data())
def test_rfm_every_date_type(date_kind, data):
    spec = data.draw(specs(id_kinds=["int64", "object_str"], date_kinds=[date_kind]))
    kwargs = data.draw(parameters(spec, allow_raise=False))
    df = build(spec)
    check_against_reference(df, **kwargs)


@settings(max_examples=150, **SETTINGS)
@given(st.data())
def test_rfm_order_lines(data):
    """Multi-line orders: lines of one order id count once per customer."""
    spec = data.draw(specs(allow_invalid=data.draw(st.booleans())))
    kwargs = data.draw(parameters(spec, allow_raise=False))
    df = build(spec, with_order=True)
    check_against_reference(df, order="order", **kwargs)


@settings(max_examples=100, **SETTINGS)
@given(st.data())
def test_rfm_tiny_frames(data):
    """Empty and one-row frames under every policy."""
    _, df, kwargs = data.draw(cases(specs(max_rows=1)))
    out = check_against_reference(df, **kwargs)
    if out is not None and len(df) == 0:
        assert len(out) == 0 and list(out.columns) == RFM_COLUMNS


# --------------------------------------------------------------------------- invariants


@settings(max_examples=150, **SETTINGS)
@given(st.data())
def test_rfm_never_mutates_its_input(data):
    _, df, kwargs = data.draw(cases())
    before = copy.deepcopy(df)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rfmkit.rfm(df, customer="customer", date="ts", amount="amount", **kwargs)
    except rfmkit.InvalidRowError:
        pass
    pd.testing.assert_frame_equal(df, before, check_exact=True)
    assert df.attrs == before.attrs


@settings(max_examples=150, **SETTINGS)
@given(st.data())
def test_rfm_row_order_does_not_matter(data):
    _, df, kwargs = data.draw(cases(allow_raise=False))
    permutation = data.draw(st.permutations(range(len(df))))
    shuffled = df.iloc[list(permutation)].reset_index(drop=True)
    names = dict(customer="customer", date="ts", amount="amount")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = rfmkit.rfm(df, **names, **kwargs)
        b = rfmkit.rfm(shuffled, **names, **kwargs)
    assert rfmkit.quality(a)["rows_in"] == rfmkit.quality(b)["rows_in"]
    assert rfmkit.quality(a)["rows_used"] == rfmkit.quality(b)["rows_used"]
    assert rfmkit.quality(a)["dropped"] == rfmkit.quality(b)["dropped"]
    assert rfmkit.quality(a)["as_of"] == rfmkit.quality(b)["as_of"]
    a_ids, b_ids = py_ids(a.index), py_ids(b.index)
    assert sorted(map(repr, a_ids)) == sorted(map(repr, b_ids))
    b_pos = {c: i for i, c in enumerate(b_ids)}
    for i, cid in enumerate(a_ids):
        j = b_pos[cid]
        for column in INT_COLUMNS + TIME_COLUMNS:
            assert a[column].iloc[i] == b[column].iloc[j], (cid, column)
        for column in FLOAT_COLUMNS:
            assert math.isclose(a[column].iloc[i], b[column].iloc[j], rel_tol=1e-9, abs_tol=1e-9), (cid, column)


# --------------------------------------------------------------------------- other frontends


@settings(max_examples=120, **SETTINGS)
@given(st.data())
def test_rfm_polars_in_polars_out(data):
    import polars as pl

    spec, df, kwargs = data.draw(
        cases(
            specs(id_kinds=POLARS_ID_KINDS, date_kinds=POLARS_DATE_KINDS, amount_kinds=["float64"]), allow_raise=False
        )
    )
    if spec.date_kind == "date_objects" and len(df) == 0:
        df["ts"] = df["ts"].astype("datetime64[us]")
    frame = to_polars(df)
    before = frame.clone()
    ref, accounting = reference_rfm(df, "customer", "ts", "amount", **kwargs)
    out = run_rfm(frame, customer="customer", date="ts", amount="amount", **kwargs)
    assert isinstance(out, pl.DataFrame)
    assert out.columns == ["customer", *RFM_COLUMNS]
    assert_accounting(rfmkit.quality(out), accounting)
    assert frame.equals(before)
    as_pandas = pd.DataFrame(
        {c: out.get_column(c).to_list() for c in RFM_COLUMNS},
        index=pd.Index(out.get_column("customer").to_list()),
    )
    for c in INT_COLUMNS:
        as_pandas[c] = as_pandas[c].astype("int64")
        assert out.schema[c].is_integer(), (c, out.schema[c])
    for c in FLOAT_COLUMNS:
        as_pandas[c] = as_pandas[c].astype("float64")
    if len(ref):
        for c in TIME_COLUMNS:
            # through Arrow: python datetimes would lose nanoseconds
            as_pandas[c] = list(out.get_column(c).to_pandas())
            ref[c] = [pd.Timestamp(v) for v in ref[c]]
            assert out.schema[c] == frame.schema["ts"], (c, out.schema[c], frame.schema["ts"])
    assert_same_table(as_pandas, ref)


ARROW_ID_KINDS = ["int64", "object_str", "str", "float", "Int64", "category", "string[pyarrow]"]
# pyarrow holds the date kinds of polars, and seconds
ARROW_DATE_KINDS = ["naive_s", *POLARS_DATE_KINDS]


@settings(max_examples=120, **SETTINGS)
@given(st.data())
def test_rfm_pyarrow_table(data):
    import pyarrow as pa

    _, df, kwargs = data.draw(
        cases(
            specs(id_kinds=ARROW_ID_KINDS, date_kinds=ARROW_DATE_KINDS, amount_kinds=["float64", "Float64"]),
            allow_raise=False,
        )
    )
    table = pa.Table.from_pandas(df, preserve_index=False)
    ref, accounting = reference_rfm(df, "customer", "ts", "amount", **kwargs)
    out = run_rfm(table, customer="customer", date="ts", amount="amount", **kwargs)
    assert isinstance(out, pa.Table) and out.column_names[0] == "customer"  # pyarrow in, pyarrow out
    assert_accounting(rfmkit.quality(out), accounting)
    assert_same_table(out.to_pandas().set_index("customer"), ref)
