"""`rfmkit.Aggregator` and the inputs read in batches.

The oracle is the in-memory function on the whole table: an aggregator fed any split of
the rows into batches, in any order, merged in any tree (and shipped as bytes on the
way) finishes into `rfmkit.rfm`'s table bit for bit, and the BTYD views into
`rfmkit.clv.summary` / `calibration_holdout` bit for bit (every money sum is exactly
rounded, also checked against `math.fsum`). Each input read in batches through
`rfmkit.rfm` gives the result of the same rows in memory.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import pickle
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import rfmkit
from frames import (
    DATE_KINDS,
    ID_KINDS,
    POLARS_DATE_KINDS,
    POLARS_ID_KINDS,
    base_day,
    build,
    specs,
    to_polars,
)
from reference import CALIBRATION_HOLDOUT_COLUMNS
from rfmkit import _aggregate
from rfmkit._io import sources as _sources
from rfmkit.exceptions import (
    ColumnNotFoundError,
    DataQualityWarning,
    DtypeError,
    InvalidDataError,
    InvalidParameterError,
    InvalidRowError,
)

pl = pytest.importorskip("polars")

pytestmark = pytest.mark.filterwarnings("ignore::rfmkit.DataQualityWarning")

SETTINGS = dict(deadline=None, suppress_health_check=list(HealthCheck))
COLS = dict(customer="customer", date="ts", amount="amount")
# categoricals come back as their values, non-whole float ids are refused (tested apart)
EXACT_ID_KINDS = [kind for kind in ID_KINDS if kind not in ("category", "float_frac")]
FLOAT_COLUMNS = (
    "monetary",
    "avg_order_value",
    "frequency",
    "recency",
    "T",
    "monetary_value",
    *CALIBRATION_HOLDOUT_COLUMNS,
)


# --------------------------------------------------------------------------- helpers


def bits(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).view(np.int64)


def _indexed(table):
    if not isinstance(table, pa.Table):
        return table
    out = table.to_pandas().set_index(table.column_names[0])
    out.attrs["rfmkit"] = rfmkit.quality(table)
    return out


def assert_same(got, want, *, ordered: bool = True, close: tuple[str, ...] = ()) -> None:
    """The same table: index (in order, or as a set), columns, dtypes, attrs; float
    columns bit for bit (but those in `close`, to 1e-12)."""
    if type(want).__module__.startswith("polars"):
        from polars.testing import assert_frame_equal

        assert type(got).__module__.startswith("polars")
        assert got.attrs == want.attrs
        if not ordered:
            key = want.columns[0]
            got, want = got.sort(key), want.sort(key)
        assert_frame_equal(got, want, check_exact=not close, rel_tol=1e-12)
        return
    if isinstance(want, pa.Table) or isinstance(got, pa.Table):
        # pyarrow in, pyarrow out (the customer id first); sources read in batches give
        # pandas: compared as pandas, with the record of each
        got, want = (_indexed(table) for table in (got, want))
    assert got.index.dtype == want.index.dtype
    assert got.index.name == want.index.name
    assert len(got) == len(want) and set(got.index) == set(want.index)
    if not ordered:
        got = got.loc[want.index]
    tolerant = dict.fromkeys(close, (False, 1e-12))
    for name in want.columns:
        exact, rtol = tolerant.get(name, (True, 0))
        pd.testing.assert_series_equal(got[name], want[name], check_exact=exact, rtol=rtol or 1e-5)
        if exact and name in FLOAT_COLUMNS:
            assert (bits(got[name]) == bits(want[name])).all(), name
    assert list(got.columns) == list(want.columns)
    assert got.attrs == want.attrs


def has_ambiguous_wall_times(series: pd.Series) -> bool:
    """Whether a tz-aware column holds a wall-clock time that a DST change repeats (the
    aggregator gives back the first of the two instants: documented)."""
    dtype = series.dtype
    tz = getattr(dtype, "tz", None) or getattr(getattr(dtype, "pyarrow_dtype", None), "tz", None)
    if tz is None:
        return False
    values = pa.array(series, from_pandas=True).to_pandas().dropna()
    if values.empty:
        return False
    wall = values.dt.tz_localize(None)
    return bool(wall.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").isna().any())


def pieces(data, bounds: list[int]) -> list:
    if isinstance(data, pa.Table):
        return [data.slice(a, b - a) for a, b in itertools.pairwise(bounds)]
    if isinstance(data, pd.DataFrame):
        return [data.iloc[a:b] for a, b in itertools.pairwise(bounds)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@st.composite
def plans(draw, n: int) -> dict:
    """A split of `n` rows into 1-50 batches, the order they are fed in, the aggregators
    they go to, which aggregators travel as bytes, and the merge tree."""
    k = draw(st.integers(1, 50))
    cuts = sorted(draw(st.lists(st.integers(0, n), min_size=k - 1, max_size=k - 1)))
    order = draw(st.permutations(range(k)))
    m = draw(st.integers(1, k))
    owner = draw(st.lists(st.integers(0, m - 1), min_size=k, max_size=k))
    shipped = draw(st.lists(st.booleans(), min_size=m, max_size=m))
    tree = draw(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)), min_size=m, max_size=m))
    return {"bounds": [0, *cuts, n], "order": order, "m": m, "owner": owner, "shipped": shipped, "tree": tree}


def aggregate(data, plan: dict, **parameters) -> rfmkit.Aggregator:
    """`data` split, fed and merged as `plan` says."""
    batches = pieces(data, plan["bounds"])
    aggregators = [rfmkit.Aggregator(**parameters) for _ in range(plan["m"])]
    for index in plan["order"]:
        aggregators[plan["owner"][index]].update(batches[index])
    aggregators = [
        rfmkit.Aggregator.from_bytes(a.to_bytes()) if ship else a for a, ship in zip(aggregators, plan["shipped"])
    ]
    for i, j in plan["tree"]:
        if len(aggregators) == 1:
            break
        a = aggregators.pop(i % len(aggregators))
        b = aggregators[j % len(aggregators)]
        b.merge(a)
    return aggregators[0]


def sequential(data, bounds: list[int], **parameters) -> rfmkit.Aggregator:
    aggregator = rfmkit.Aggregator(**parameters)
    for batch in pieces(data, bounds):
        aggregator.update(batch)
    return aggregator


@st.composite
def rfm_options(draw, spec) -> dict:
    options = {"zero": draw(st.sampled_from(["drop", "keep"])), "returns": draw(st.sampled_from(["net", "drop"]))}
    if draw(st.booleans()):
        as_of = base_day(spec) + dt.timedelta(days=draw(st.integers(-30, 3)))
        options["as_of"] = as_of.isoformat()
        if draw(st.booleans()):
            options["window"] = draw(st.integers(1, 40))
    return options


@st.composite
def rfm_cases(draw) -> tuple[pd.DataFrame, dict, bool]:
    """A table of exact ids, with an order column or not, and `rfm_options` for it (naming
    the order column when there is one); the last item says whether there is."""
    spec = draw(specs(max_rows=60, id_kinds=EXACT_ID_KINDS, date_kinds=DATE_KINDS))
    with_order = draw(st.booleans())
    frame = build(spec, with_order)
    options = draw(rfm_options(spec))
    if with_order:
        options["order"] = "order"
    return frame, options, with_order


def on_the_wall_clock_where_ambiguous(frame: pd.DataFrame, got: pd.DataFrame, want: pd.DataFrame) -> None:
    """First and last purchases of `got` and `want` as wall times where `frame`'s dates
    hold a wall time a DST change repeats (see `has_ambiguous_wall_times`)."""
    if has_ambiguous_wall_times(frame["ts"]):
        for name in ("first_purchase", "last_purchase"):
            got[name] = got[name].dt.tz_localize(None)
            want[name] = want[name].dt.tz_localize(None)


# --------------------------------------------------------------------------- rfm: splits and merges


@settings(max_examples=120, **SETTINGS)
@given(data=st.data(), case=rfm_cases())
def test_any_split_order_and_merge_tree_equals_rfm_on_the_whole(data, case):
    frame, options, _ = case
    before = frame.copy(deep=True)
    want = rfmkit.rfm(frame, **COLS, **options)
    got = aggregate(frame, data.draw(plans(len(frame))), **COLS, **options).finish()
    pd.testing.assert_frame_equal(frame, before)  # inputs are never modified
    on_the_wall_clock_where_ambiguous(frame, got, want)
    assert_same(got, want, ordered=False)


@settings(max_examples=60, **SETTINGS)
@given(data=st.data(), case=rfm_cases())
def test_batches_in_order_keep_the_order_of_first_appearance(data, case):
    frame, options, with_order = case
    want = rfmkit.rfm(frame, **COLS, **options)
    n = len(frame)
    bounds = [0, *sorted(data.draw(st.lists(st.integers(0, n), max_size=8))), n]
    one = sequential(frame, bounds, **COLS, **options)
    # a left fold of aggregators of consecutive batches: the same order
    folded = rfmkit.Aggregator(**COLS, **options)
    for batch in pieces(frame, bounds):
        folded.merge(rfmkit.Aggregator(**COLS, **options).update(batch))
    for aggregator, fresh in ((one, False), (folded, True)):
        got = aggregator.finish()
        on_the_wall_clock_where_ambiguous(frame, got, want)
        assert_same(got, want, ordered=registers_in_order(frame, bounds, with_order, fresh))


def registers_in_order(frame: pd.DataFrame, bounds: list[int], with_order: bool, fresh: bool) -> bool:
    """False when a batch before the first order id (of its aggregator: every batch for
    `fresh` aggregators) has customers but no order id: its rows are counted without
    reaching the core (which would fix the kind of order ids), so its customers take
    their place at their next rows (documented)."""
    if not with_order:
        return True
    for a, b in itertools.pairwise(bounds):
        part = frame.iloc[a:b]
        if part["order"].notna().any():
            if not fresh:
                return True
        elif part["customer"].notna().any():
            return False
    return True


@settings(max_examples=40, **SETTINGS)
@given(
    data=st.data(),
    spec=specs(max_rows=40, id_kinds=POLARS_ID_KINDS, date_kinds=POLARS_DATE_KINDS),
    frontend=st.sampled_from(["polars", "pyarrow"]),
)
def test_polars_and_arrow_batches_equal_rfm_of_the_whole(data, spec, frontend):
    if spec.id_kind == "category":
        spec.id_kind = "object_str"
    # (to_polars makes a column of only None a Date column: no ids)
    assume(any(row[0] is not None for row in spec.rows))
    frame = build(spec)
    whole = to_polars(frame) if frontend == "polars" else pa.Table.from_pandas(frame, preserve_index=False)
    options = data.draw(rfm_options(spec))
    want = rfmkit.rfm(whole, **COLS, **options)
    got = aggregate(whole, data.draw(plans(len(frame))), **COLS, **options).finish()
    assert_same(got, want, ordered=False)


# --------------------------------------------------------------------------- the BTYD views


def fsum_monetary(frame: pd.DataFrame, freq: str, zero: str, include_first: bool) -> pd.Series:
    """The exactly rounded `monetary_value` (returns dropped, no observation end): the
    sum of the counted periods' amounts by math.fsum, over their number."""
    rows = frame.dropna(subset=["customer", "ts"])
    amount = pd.to_numeric(rows["amount"].astype("float64"), errors="coerce")
    kept = np.isfinite(amount) & ((amount > 0) | ((amount == 0) & (zero == "keep")))
    rows, amount = rows[kept], amount[kept]
    stamps = pa.array(rows["ts"], from_pandas=True).to_pandas(date_as_object=False)
    stamps.index = rows.index
    if getattr(stamps.dtype, "tz", None) is not None:
        stamps = stamps.dt.tz_localize(None)
    periods = stamps.dt.to_period(freq)
    out = {}
    for customer, index in rows.groupby("customer", sort=False).groups.items():
        period = periods.loc[index]
        first = period.min()
        counted = amount.loc[index][(period != first) | include_first].tolist()
        n = period.nunique() - (0 if include_first else 1)
        out[customer] = math.fsum(counted) / n if n else 0.0
    return pd.Series(out, dtype=np.float64)


@settings(max_examples=80, **SETTINGS)
@given(
    data=st.data(),
    spec=specs(max_rows=60, id_kinds=EXACT_ID_KINDS, date_kinds=DATE_KINDS),
    freq=st.sampled_from(["D", "W", "M", "h"]),
    zero=st.sampled_from(["keep", "drop"]),
    returns=st.sampled_from(["drop", "net"]),
    include_first=st.booleans(),
)
def test_summary_of_any_split_equals_clv_summary(data, spec, freq, zero, returns, include_first):
    frame = build(spec)
    options = dict(freq=freq, zero=zero, returns=returns)
    if data.draw(st.booleans()):
        options["observation_period_end"] = (
            base_day(spec) - dt.timedelta(days=data.draw(st.integers(0, 30)))
        ).isoformat()
    want = rfmkit.clv.summary(frame, **COLS, **options, include_first_transaction=include_first)
    merged = aggregate(frame, data.draw(plans(len(frame))), **COLS, **options)
    got = merged.summary(include_first_transaction=include_first)
    assert_same(got, want, ordered=False)
    # the merge of any split is bit for bit the one-batch state
    one = sequential(frame, [0, len(frame)], **COLS, **options).summary(include_first_transaction=include_first)
    assert_same(got, one, ordered=False)
    if returns == "drop" and "observation_period_end" not in options and freq != "h" and len(got):
        oracle = fsum_monetary(frame, freq, zero, include_first)
        assert (bits(got["monetary_value"]) == bits(oracle.loc[got.index])).all()


@settings(max_examples=60, **SETTINGS)
@given(
    data=st.data(),
    spec=specs(max_rows=60, id_kinds=EXACT_ID_KINDS, date_kinds=DATE_KINDS),
    freq=st.sampled_from(["D", "W"]),
    returns=st.sampled_from(["drop", "net"]),
)
def test_calibration_holdout_of_any_split_equals_clv_calibration_holdout(data, spec, freq, returns):
    frame = build(spec)
    calibration = base_day(spec) - dt.timedelta(days=data.draw(st.integers(5, 40)))
    options = dict(
        freq=freq,
        returns=returns,
        zero="keep",
        calibration_period_end=calibration.isoformat(),
        observation_period_end=base_day(spec).isoformat(),
    )
    want = rfmkit.clv.calibration_holdout(frame, **COLS, **options)
    got = aggregate(frame, data.draw(plans(len(frame))), **COLS, **options).calibration_holdout()
    assert_same(got, want, ordered=False)
    one = sequential(frame, [0, len(frame)], **COLS, **options).calibration_holdout()
    assert_same(got, one, ordered=False)


def test_one_aggregator_serves_the_rfm_table_and_the_summary(orders):
    aggregator = sequential(orders, [0, 700, 1500, len(orders)], **ORDER_COLS, freq="W")
    assert_same(aggregator.finish(), rfmkit.rfm(orders, **ORDER_COLS))
    want = rfmkit.clv.summary(orders, **ORDER_COLS, freq="W", zero="drop", returns="net")
    assert_same(aggregator.summary(), want)
    with pytest.raises(InvalidParameterError, match="calibration_holdout\\(\\) needs"):
        aggregator.calibration_holdout()
    with pytest.raises(InvalidParameterError, match="without freq="):
        rfmkit.Aggregator(**ORDER_COLS).summary()
    with pytest.raises(InvalidParameterError, match="finish it with calibration_holdout"):
        rfmkit.Aggregator(**ORDER_COLS, freq="D", calibration_period_end="2024-03-01").summary()
    with pytest.raises(InvalidParameterError, match="needs the amounts"):
        rfmkit.Aggregator(customer="customer_id", date="ordered_at", amount=None, freq="D").finish()


# --------------------------------------------------------------------------- fixtures


ORDER_COLS = dict(customer="customer_id", date="ordered_at", amount="amount")


@pytest.fixture
def orders() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 3_000
    frame = pd.DataFrame(
        {
            "customer_id": pd.array([f"{i:05d}" for i in rng.integers(0, 400, n)], dtype="str"),
            "ordered_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 200 * 86_400, n), unit="s"),
            "amount": np.round(rng.normal(40, 35, n), 2),
            "invoice": rng.integers(0, 1_200, n),
        }
    )
    frame.loc[::53, "amount"] = np.nan
    frame.loc[::61, "ordered_at"] = pd.NaT
    frame.loc[::71, "customer_id"] = None
    frame.loc[::43, "amount"] = 0.0
    return frame


# --------------------------------------------------------------------------- bytes and pickles


def test_bytes_round_trip_then_merge_equals_the_whole(orders):
    parts = [orders.iloc[:900], orders.iloc[900:2000], orders.iloc[2000:]]
    aggregators = [rfmkit.Aggregator(**ORDER_COLS, order="invoice").update(part) for part in parts]
    shipped = [rfmkit.Aggregator.from_bytes(a.to_bytes()) for a in aggregators]
    assert all(s.to_bytes() == a.to_bytes() for s, a in zip(shipped, aggregators))
    merged = shipped[0].merge(shipped[1]).merge(shipped[2])
    assert_same(merged.finish(), rfmkit.rfm(orders, **ORDER_COLS, order="invoice"))
    # a shipped aggregator goes on taking batches
    more = rfmkit.Aggregator.from_bytes(aggregators[0].to_bytes()).update(parts[1]).update(parts[2])
    assert_same(more.finish(), rfmkit.rfm(orders, **ORDER_COLS, order="invoice"))


@settings(max_examples=80, **SETTINGS)
@given(data=st.data(), case=rfm_cases())
def test_an_aggregator_split_by_customer_merges_back_to_rfm_on_the_whole(data, case):
    """What a cluster does: each part of the rows makes its aggregator and splits it by
    customer; the pieces of each bucket, shipped as bytes and merged in any order, give
    their customers' rows of `rfmkit.rfm`, and the buckets' accountings add up."""
    frame, options, _ = case
    want = rfmkit.rfm(frame, **COLS, **options)
    buckets = data.draw(st.integers(1, 5))
    bounds = data.draw(plans(len(frame)))["bounds"]
    shipped_buckets: list[list[bytes]] = [[] for _ in range(buckets)]
    for part in pieces(frame, bounds):
        aggregator = rfmkit.Aggregator(**COLS, **options).update(part)
        for bucket, piece in enumerate(_aggregate.split(aggregator, buckets)):
            shipped_buckets[bucket].append(piece.to_bytes())
    tables, rows_in, dropped = [], 0, {}
    for shipped in shipped_buckets:
        merged = rfmkit.Aggregator(**COLS, **options)
        for k in data.draw(st.permutations(range(len(shipped)))):
            merged.merge(rfmkit.Aggregator.from_bytes(shipped[k]))
        table = merged.finish(as_of=want.attrs["rfmkit"]["as_of"] if "as_of" not in options else None)
        if len(table):  # (a bucket of no customer has ids of no known type)
            tables.append(table)
        rows_in += table.attrs["rfmkit"]["rows_in"]
        for reason, count in table.attrs["rfmkit"]["dropped"].items():
            dropped[reason] = dropped.get(reason, 0) + count
    assert all(table.index.dtype == want.index.dtype for table in tables)
    got = pd.concat(tables).astype(tables[0].dtypes.to_dict()) if tables else want  # (concat infers types)
    got.index = got.index.astype(want.index.dtype)
    got.attrs = want.attrs
    assert sorted(map(str, got.index)) == sorted(map(str, want.index))  # every customer in one bucket
    assert_same(got, want, ordered=False)
    assert (rows_in, dropped) == (want.attrs["rfmkit"]["rows_in"], want.attrs["rfmkit"]["dropped"])


def test_a_state_of_both_views_does_not_split(orders):
    both = rfmkit.Aggregator(**ORDER_COLS, freq="W").update(orders)
    with pytest.raises(rfmkit.InvalidParameterError, match="both the RFM records and the BTYD periods"):
        _aggregate.split(both, 2)


def test_text_order_ids_among_invalid_rows_in_long_batches(orders):
    # (the core once counted a text order twice after an invalid row; long batches only)
    frame = orders.assign(invoice=orders["invoice"].map(lambda i: f"INV-{i:05d}").astype("str"))
    want = rfmkit.rfm(frame, **ORDER_COLS, order="invoice")
    for bounds in ([0, len(frame)], [0, 1300, len(frame)]):
        assert_same(sequential(frame, bounds, **ORDER_COLS, order="invoice").finish(), want)


def test_pickle_round_trip(orders):
    aggregator = sequential(orders, [0, 1000, len(orders)], **ORDER_COLS, freq="D", zero="keep", returns="drop")
    back = pickle.loads(pickle.dumps(aggregator))
    assert_same(back.finish(), aggregator.finish())
    assert_same(back.summary(), aggregator.summary())
    assert back.rows_in == aggregator.rows_in == len(orders)
    empty = pickle.loads(pickle.dumps(rfmkit.Aggregator(**ORDER_COLS)))
    assert empty.rows_in == 0 and len(empty.finish()) == 0


def test_damaged_bytes_are_an_invalid_data_error(orders):
    good = rfmkit.Aggregator(**ORDER_COLS).update(orders.iloc[:200]).to_bytes()
    rng = np.random.default_rng(3)
    damaged = [b"", b"garbage", good[:-1], good[: len(good) // 2], good[:10], good + b"x", b"\x00" * len(good)]
    for position in rng.choice(len(good), size=300, replace=False):
        flipped = bytearray(good)
        flipped[position] ^= 1 << int(rng.integers(0, 8))
        damaged.append(bytes(flipped))
    for data in damaged:
        with pytest.raises(InvalidDataError):
            rfmkit.Aggregator.from_bytes(data)
    with pytest.raises(InvalidDataError):
        rfmkit.Aggregator.from_bytes("not bytes")  # type: ignore[arg-type]


def test_bytes_of_another_layout_version_are_refused(orders):
    table = pa.ipc.open_stream(_aggregate.unseal(rfmkit.Aggregator(**ORDER_COLS).update(orders).to_bytes())).read_all()
    meta = dict(table.schema.metadata)
    for version, match in ((2, "layout version 2"), (None, "layout version None")):
        text = meta[b"rfmkit.aggregator"].replace(b'"version": 1', f'"version": {version or "null"}'.encode())
        changed = table.replace_schema_metadata({**meta, b"rfmkit.aggregator": text})
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, changed.schema) as writer:
            writer.write_table(changed)
        with pytest.raises(InvalidDataError, match=match):
            rfmkit.Aggregator.from_bytes(_aggregate.seal(sink.getvalue().to_pybytes()))
    # Arrow IPC of something else, sealed: not an aggregator
    sink = pa.BufferOutputStream()
    other = pa.table({"x": [1, 2]})
    with pa.ipc.new_stream(sink, other.schema) as writer:
        writer.write_table(other)
    with pytest.raises(InvalidDataError, match="not an rfmkit Aggregator"):
        rfmkit.Aggregator.from_bytes(_aggregate.seal(sink.getvalue().to_pybytes()))


# --------------------------------------------------------------------------- what merges and what does not


def test_aggregators_of_other_parameters_do_not_merge(orders):
    base = rfmkit.Aggregator(**ORDER_COLS).update(orders.iloc[:100])
    for other in (
        rfmkit.Aggregator(**ORDER_COLS, zero="keep"),
        rfmkit.Aggregator(**ORDER_COLS, as_of="2024-08-01"),
        rfmkit.Aggregator(**ORDER_COLS, order="invoice"),
        rfmkit.Aggregator(**{**ORDER_COLS, "amount": "invoice"}),
        rfmkit.Aggregator(**ORDER_COLS, freq="D"),
    ):
        with pytest.raises(InvalidParameterError, match="other parameters"):
            base.merge(other.update(orders.iloc[100:200]) if other._params["order"] is None else other)
    with pytest.raises(InvalidParameterError, match="into itself"):
        base.merge(base)
    with pytest.raises(InvalidParameterError, match="takes an rfmkit.Aggregator"):
        base.merge(orders)  # type: ignore[arg-type]
    # the same parameters however they were spelled
    same = rfmkit.Aggregator(**ORDER_COLS, as_of=dt.date(2024, 8, 1), window=dt.timedelta(days=30))
    same.merge(rfmkit.Aggregator(**ORDER_COLS, as_of="2024-08-01", window=30))


def test_aggregators_of_other_zones_or_id_kinds_do_not_merge(orders):
    utc = orders.assign(ordered_at=orders["ordered_at"].dt.tz_localize("UTC"))
    naive = rfmkit.Aggregator(**ORDER_COLS).update(orders.iloc[:100])
    with pytest.raises(DtypeError, match="time zone UTC in the other aggregator but in none"):
        naive.merge(rfmkit.Aggregator(**ORDER_COLS).update(utc.iloc[100:200]))
    ints = orders.assign(customer_id=np.arange(len(orders)))
    with pytest.raises(DtypeError, match="holds text here but integers in the other"):
        naive.merge(rfmkit.Aggregator(**ORDER_COLS).update(ints.iloc[100:200]))
    # nothing changed by the refusals
    assert_same(naive.finish(), rfmkit.rfm(orders.iloc[:100], **ORDER_COLS))


# --------------------------------------------------------------------------- what the first batch fixes


def test_text_dates_read_by_the_format_of_the_first_batch():
    first = pd.DataFrame(
        {"id": ["a", "b", "a"], "day": ["25/01/2024", "13/02/2024", "03/03/2024"], "x": [1.0, 2.0, 3.0]}
    )
    # alone these read both ways (03/04 is 3 April or 4 March): the first batch settled it
    later = pd.DataFrame(
        {"id": ["b", "c", "c"], "day": ["03/04/2024", "05/04/2024", "2024-04-06"], "x": [4.0, 5.0, 6.0]}
    )
    columns = dict(customer="id", date="day", amount="x")
    with pytest.raises(DtypeError, match="ambiguous"):
        rfmkit.rfm(later, **columns)
    aggregator = rfmkit.Aggregator(**columns).update(first).update(later)
    got = aggregator.finish()
    want = rfmkit.rfm(pd.concat([first, later], ignore_index=True), **columns)
    assert_same(got, want)
    assert got.attrs["rfmkit"]["date_format"] == "%d/%m/%Y"
    assert got.attrs["rfmkit"]["dropped"] == {"unparseable_date": 1}  # 2024-04-06 is not dd/mm/yyyy
    assert got.loc["b", "last_purchase"] == pd.Timestamp("2024-04-03")
    # the format travels with the aggregator, and a merge of another format is refused
    shipped = rfmkit.Aggregator.from_bytes(rfmkit.Aggregator(**columns).update(first).to_bytes())
    assert_same(shipped.update(later).finish(), want)
    month_first = pd.DataFrame({"id": ["z"], "day": ["12/31/2024"], "x": [1.0]})
    with pytest.raises(InvalidParameterError, match="different formats"):
        rfmkit.Aggregator(**columns).update(first).merge(rfmkit.Aggregator(**columns).update(month_first))


def test_a_batch_in_another_time_zone_is_an_error(orders):
    shanghai = orders.assign(ordered_at=orders["ordered_at"].dt.tz_localize("Asia/Shanghai"))
    aggregator = rfmkit.Aggregator(**ORDER_COLS).update(shanghai.iloc[:100])
    berlin = shanghai.assign(ordered_at=shanghai["ordered_at"].dt.tz_convert("Europe/Berlin"))
    with pytest.raises(DtypeError, match="time zone Europe/Berlin in this batch but in Asia/Shanghai"):
        aggregator.update(berlin.iloc[100:200])
    with pytest.raises(DtypeError, match="none \\(naive\\) in this batch"):
        aggregator.update(orders.iloc[100:200])
    # the zone of pandas, the standard library and Arrow: one zone
    aggregator.update(pa.Table.from_pandas(shanghai.iloc[100:], preserve_index=False))
    want = rfmkit.rfm(shanghai, **ORDER_COLS)
    assert_same(aggregator.finish(), want)
    assert str(aggregator.finish()["first_purchase"].dtype) == "datetime64[us, Asia/Shanghai]"


def test_ids_of_another_kind_in_a_later_batch_are_an_error(orders):
    aggregator = rfmkit.Aggregator(**ORDER_COLS).update(orders.iloc[:100])
    ints = orders.assign(customer_id=np.arange(len(orders)))
    with pytest.raises(DtypeError, match="'customer_id' holds integers in this batch but text in the earlier ones"):
        aggregator.update(ints.iloc[100:200])
    with_orders = rfmkit.Aggregator(**ORDER_COLS, order="invoice").update(orders.iloc[:100])
    with pytest.raises(DtypeError, match="'invoice' holds text"):
        with_orders.update(orders.iloc[100:200].assign(invoice=lambda f: f["invoice"].astype(str)))
    assert aggregator.rows_in == 100  # refused batches leave nothing behind


@pytest.mark.parametrize(
    "values, match",
    [
        (pd.Series([True, False, True]), "holds values of dtype bool"),
        (pd.Series([1.5, 2.0, 3.0]), "holds numbers that are not whole, e.g. 1.5;"),
        (pd.Series([1, "a", 2], dtype=object), "holds mixed-integer values"),
        (pd.Series([dt.date(2024, 1, 1)] * 3, dtype=object), "holds date values"),
        (pd.Series(pd.to_datetime(["2024-01-01"] * 3)), "holds values of dtype datetime64"),
    ],
)
def test_ids_that_are_neither_integers_nor_text_are_a_dtype_error(values, match):
    frame = pd.DataFrame(
        {"id": values, "day": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]), "x": [1.0, 2.0, 3.0]}
    )
    with pytest.raises(DtypeError, match=f"customer column 'id' {match}.*astype\\(str\\)"):
        rfmkit.Aggregator(customer="id", date="day", amount="x").update(frame)


def test_categorical_and_float_ids_come_back_as_their_values():
    days = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"])
    frame = pd.DataFrame(
        {
            "id": pd.Categorical(["b", "a", "b", None], categories=["a", "b", "c"]),
            "day": days,
            "x": [1.0, 2.0, 3.0, 4.0],
        }
    )
    columns = dict(customer="id", date="day", amount="x")
    got = sequential(frame, [0, 2, 4], **columns).finish()
    want = rfmkit.rfm(frame, **columns)
    assert list(got.index) == list(want.index) == ["b", "a"]
    assert got.index.dtype == frame["id"].cat.categories.dtype
    assert_same(got.reset_index(drop=True), want.reset_index(drop=True))
    floats = frame.assign(id=[2.0, np.nan, 2.0, 7.0])
    assert_same(sequential(floats, [0, 2, 4], **columns).finish(), rfmkit.rfm(floats, **columns))


def test_batches_whose_ids_are_all_null_before_the_kind_is_known():
    days = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"])
    frame = pd.DataFrame({"id": [None, None, "a", None, "b"], "day": days, "x": [1.0, 2.0, 3.0, 4.0, 5.0]})
    columns = dict(customer="id", date="day", amount="x")
    # pandas reads a chunk of only missing ids as float NaN
    chunks = [frame.iloc[:2].assign(id=np.nan), frame.iloc[2:3], frame.iloc[3:4].assign(id=np.nan), frame.iloc[4:]]
    aggregator = rfmkit.Aggregator(**columns)
    for chunk in chunks:
        aggregator.update(chunk)
    want = rfmkit.rfm(frame, **columns)
    assert_same(aggregator.finish(), want)
    assert want.attrs["rfmkit"]["dropped"] == {"missing_customer": 3}
    only_nulls = rfmkit.Aggregator(**columns).update(chunks[0])
    back = rfmkit.Aggregator.from_bytes(only_nulls.to_bytes())
    assert back.rows_in == 2
    assert back.merge(rfmkit.Aggregator(**columns).update(frame.iloc[2:])).finish().attrs == want.attrs


# --------------------------------------------------------------------------- rows and parameters


def test_invalid_raise_names_the_row_counted_over_the_batches(orders):
    for column, value in (("amount", np.inf), ("ordered_at", pd.NaT)):
        frame = orders.dropna().reset_index(drop=True)
        frame.loc[2_100, column] = value
        with pytest.raises(InvalidRowError) as whole:
            rfmkit.rfm(frame, **ORDER_COLS, invalid="raise")
        aggregator = rfmkit.Aggregator(**ORDER_COLS, invalid="raise").update(frame.iloc[:2_000])
        with pytest.raises(InvalidRowError) as batched:
            aggregator.update(frame.iloc[2_000:])
        assert str(batched.value) == str(whole.value)
        assert "row 2100" in str(batched.value)
        with pytest.raises(InvalidParameterError, match="stopped on an error"):
            aggregator.finish()
    text = pd.DataFrame({"id": [1, 2, 3], "day": ["2024-01-01", "2024-01-02", "9999-12-31"], "x": [1.0, 2.0, 3.0]})
    columns = dict(customer="id", date="day", amount="x", invalid="raise")
    with pytest.raises(InvalidRowError) as whole:
        rfmkit.rfm(text, **columns)
    with pytest.raises(InvalidRowError) as batched:
        rfmkit.Aggregator(**columns).update(text.iloc[:2]).update(text.iloc[2:])
    assert str(batched.value) == str(whole.value)


def test_parameters_are_checked_when_made():
    with pytest.raises(InvalidParameterError, match="window= needs as_of="):
        rfmkit.Aggregator(**ORDER_COLS, window=30)
    with pytest.raises(InvalidParameterError, match="zero="):
        rfmkit.Aggregator(**ORDER_COLS, zero="maybe")
    with pytest.raises(InvalidParameterError, match="freq='QS' is not a time unit"):
        rfmkit.Aggregator(**ORDER_COLS, freq="QS")
    with pytest.raises(InvalidParameterError, match="give freq="):
        rfmkit.Aggregator(**ORDER_COLS, calibration_period_end="2024-01-01")
    with pytest.raises(InvalidParameterError, match="must be before observation_period_end"):
        rfmkit.Aggregator(
            **ORDER_COLS, freq="D", calibration_period_end="2024-03-01", observation_period_end="2024-02-01"
        )
    with pytest.raises(InvalidParameterError, match="time of day"):
        rfmkit.Aggregator(**ORDER_COLS, as_of="2024-01-01 10:00")
    with pytest.raises(InvalidParameterError, match="column name"):
        rfmkit.Aggregator(customer=1, date="d", amount="a")  # type: ignore[arg-type]


def test_finish_at_a_later_as_of(orders):
    aggregator = sequential(orders, [0, 1500, len(orders)], **ORDER_COLS)
    assert_same(aggregator.finish(as_of="2024-09-01"), rfmkit.rfm(orders, **ORDER_COLS, as_of="2024-09-01"))
    with pytest.raises(InvalidParameterError, match="already aggregated"):
        aggregator.finish(as_of="2024-02-01")
    # finishing changes nothing: more rows, another finish
    assert aggregator.rows_in == len(orders)


def test_a_warning_says_what_was_dropped(orders):
    aggregator = sequential(orders, [0, 1500, len(orders)], **ORDER_COLS)
    with pytest.warns(DataQualityWarning, match=r"rfmkit.Aggregator.finish dropped \d+ of 3000 rows") as caught:
        aggregator.finish()
    assert caught[0].filename == __file__


def test_an_aggregator_of_no_rows():
    table = rfmkit.Aggregator(**ORDER_COLS).finish()
    assert len(table) == 0 and list(table.columns) == list(
        rfmkit.rfm(
            pd.DataFrame(
                {
                    "customer_id": pd.Series([], dtype="int64"),
                    "ordered_at": pd.Series([], dtype="datetime64[ns]"),
                    "amount": pd.Series([], dtype="float64"),
                }
            ),
            **ORDER_COLS,
        ).columns
    )
    assert table.attrs["rfmkit"] == {"rows_in": 0, "rows_used": 0, "dropped": {}, "as_of": None}


def test_polars_first_batch_gives_polars(orders):
    frame = pl.from_pandas(orders.drop(columns="invoice"))
    got = sequential(frame, [0, 1000, 2000, len(orders)], **ORDER_COLS).finish()
    assert_same(got, rfmkit.rfm(frame, **ORDER_COLS))


def test_daylight_saving_repeated_wall_time_comes_back_as_its_first_instant():
    instants = pd.to_datetime(["2024-10-27 00:30", "2024-10-27 01:30"]).tz_localize("UTC").tz_convert("Europe/Berlin")
    frame = pd.DataFrame({"id": [1, 1], "day": instants, "x": [1.0, 2.0]})  # 02:30 CEST, then 02:30 CET
    got = rfmkit.Aggregator(customer="id", date="day", amount="x").update(frame).finish()
    want = rfmkit.rfm(frame, customer="id", date="day", amount="x")
    assert got.loc[1, "first_purchase"] == want.loc[1, "first_purchase"] == instants[0]
    assert got.loc[1, "last_purchase"].tz_localize(None) == want.loc[1, "last_purchase"].tz_localize(None)
    assert got.loc[1, "last_purchase"] == instants[0]  # the first of the two 02:30


# --------------------------------------------------------------------------- inputs read in batches


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(_sources, "BATCH_ROWS", 257)


@pytest.fixture
def export(orders, tmp_path):
    table = pa.Table.from_pandas(orders, preserve_index=False)
    folder = tmp_path / "parts"
    folder.mkdir()
    bounds = [0, 1000, 2200, table.num_rows]
    for part, (a, b) in enumerate(itertools.pairwise(bounds)):
        pq.write_table(table.slice(a, b - a), folder / f"part-{part}.parquet", row_group_size=400)
    single = tmp_path / "orders.parquet"
    pq.write_table(table, single, row_group_size=500)
    return {"table": table, "folder": folder, "single": single}


@pytest.mark.parametrize("options", [{}, {"order": "invoice"}, {"as_of": "2024-06-01", "window": 60}, {"window": 45}])
def test_every_input_read_in_batches_equals_the_same_rows_in_memory(export, small_batches, options):
    table = export["table"]
    want = rfmkit.rfm(pd.read_parquet(export["single"]), **ORDER_COLS, **options)
    assert_same(rfmkit.rfm(export["single"], **ORDER_COLS, **options), want)
    assert_same(rfmkit.rfm(str(export["folder"]), **ORDER_COLS, **options), want)
    assert_same(rfmkit.rfm(str(export["folder"] / "*.parquet"), **ORDER_COLS, **options), want)
    assert_same(rfmkit.rfm(sorted(export["folder"].iterdir()), **ORDER_COLS, **options), want)
    in_memory = rfmkit.rfm(table, **ORDER_COLS, **options)
    assert_same(in_memory, want)
    assert_same(rfmkit.rfm(ds.dataset(export["single"]), **ORDER_COLS, **options), in_memory)
    assert_same(rfmkit.rfm(table.to_batches(max_chunksize=300), **ORDER_COLS, **options), in_memory)
    assert_same(rfmkit.rfm(table.combine_chunks().to_batches()[0], **ORDER_COLS, **options), in_memory)
    lazy = pl.scan_parquet(export["single"])
    assert_same(rfmkit.rfm(lazy, **ORDER_COLS, **options), rfmkit.rfm(lazy.collect(), **ORDER_COLS, **options))
    if "window" in options and "as_of" not in options:
        with pytest.raises(InvalidParameterError, match="a record batch reader can be read once: pass as_of="):
            rfmkit.rfm(table.to_reader(max_chunksize=300), **ORDER_COLS, **options)
        with pytest.raises(InvalidParameterError, match="an iterator of record batches can be read once"):
            rfmkit.rfm(iter(table.to_batches(max_chunksize=300)), **ORDER_COLS, **options)
    else:
        assert_same(rfmkit.rfm(table.to_reader(max_chunksize=300), **ORDER_COLS, **options), in_memory)
        assert_same(rfmkit.rfm((b for b in table.to_batches(max_chunksize=300)), **ORDER_COLS, **options), in_memory)


def test_excel_files_and_arrow_streams_equal_the_same_rows_in_memory(orders, export, tmp_path, small_batches):
    pytest.importorskip("openpyxl")
    frame = orders.iloc[:400].drop(columns="invoice")
    paths = [tmp_path / "a.xlsx", tmp_path / "b.xlsx"]
    frame.iloc[:250].to_excel(paths[0], index=False)
    frame.iloc[250:].to_excel(paths[1], index=False)
    whole = pa.concat_tables([rfmkit.read_transactions(path, **ORDER_COLS) for path in paths])
    assert_same(rfmkit.rfm(paths, **ORDER_COLS), rfmkit.rfm(whole, **ORDER_COLS))

    class Foreign:  # another library's table that exports an Arrow stream
        def __arrow_c_stream__(self, requested_schema=None):
            return export["table"].__arrow_c_stream__(requested_schema)

    assert_same(rfmkit.rfm(Foreign(), **ORDER_COLS), rfmkit.rfm(export["table"], **ORDER_COLS))


def test_window_without_as_of_finds_the_last_valid_row(export, small_batches, tmp_path):
    # the last dated row has no valid amount: as_of is the day after the last *valid* row
    frame = pd.read_parquet(export["single"])
    frame.loc[len(frame)] = ["99999", pd.Timestamp("2024-12-31"), np.nan, 1]
    path = tmp_path / "late.parquet"
    frame.to_parquet(path)
    want = rfmkit.rfm(frame, **ORDER_COLS, window=30)
    got = rfmkit.rfm(path, **ORDER_COLS, window=30)
    assert_same(got, want)
    last_valid = frame.dropna()["ordered_at"].max()
    assert got.attrs["rfmkit"]["as_of"] == (last_valid.normalize() + pd.Timedelta(days=1)).date().isoformat()
    assert last_valid < pd.Timestamp("2024-12-01")


def test_csv_files_read_in_batches_equal_read_transactions(orders, tmp_path, small_batches):
    path = tmp_path / "orders.csv"
    orders.to_csv(path, index=False)
    want = rfmkit.rfm(rfmkit.read_transactions(path, **ORDER_COLS, order="invoice"), **ORDER_COLS, order="invoice")
    got = rfmkit.rfm(path, **ORDER_COLS, order="invoice")
    assert_same(got, want)
    assert rfmkit.quality(got)["date_format"] == rfmkit.quality(want)["date_format"]


def test_clv_views_of_inputs_read_in_batches(export, small_batches):
    frame = pd.read_parquet(export["single"])
    for freq in ("D", "W"):
        want = rfmkit.clv.summary(frame, **ORDER_COLS, freq=freq)
        assert_same(rfmkit.clv.summary(export["single"], **ORDER_COLS, freq=freq), want)
    options = dict(freq="D", calibration_period_end="2024-05-01", observation_period_end="2024-07-01")
    want = rfmkit.clv.calibration_holdout(frame, **ORDER_COLS, **options)
    got = rfmkit.clv.calibration_holdout(export["table"].to_reader(max_chunksize=500), **ORDER_COLS, **options)
    assert_same(got, want)
    lazy = pl.scan_parquet(export["single"])
    got = rfmkit.clv.summary(lazy, customer="customer_id", date="ordered_at", freq="W")
    assert_same(got, rfmkit.clv.summary(lazy.collect(), customer="customer_id", date="ordered_at", freq="W"))


def test_migration_reads_files_and_refuses_a_reader_it_would_read_twice(export, small_batches):
    options = dict(**ORDER_COLS, as_of=("2024-04-01", "2024-07-01"), scheme="value4")
    want = rfmkit.migration(pd.read_parquet(export["single"]), **options)
    got = rfmkit.migration(export["single"], **options)
    pd.testing.assert_frame_equal(got.counts, want.counts)
    pd.testing.assert_frame_equal(got.customers, want.customers)
    with pytest.raises(InvalidParameterError, match="reads its input more than once"):
        rfmkit.migration(export["table"].to_reader(), **options)
    with pytest.raises(InvalidParameterError, match="reads its input more than once"):
        rfmkit.analyze(export["table"].to_reader(), **ORDER_COLS, progress=False)


def test_aggregator_update_reads_an_input_in_batches(export, small_batches):
    aggregator = rfmkit.Aggregator(**ORDER_COLS).update(export["folder"])
    assert_same(aggregator.finish(), rfmkit.rfm(export["table"], **ORDER_COLS))
    with pytest.raises(ColumnNotFoundError, match="'nope'"):
        rfmkit.Aggregator(customer="nope", date="ordered_at", amount="amount").update(export["single"])


def test_a_lazyframe_where_a_table_is_needed_says_to_collect_it(export):
    lazy = pl.scan_parquet(export["single"])
    with pytest.raises(DtypeError, match=r"LazyFrame, an input read in batches.*\.collect\(\)"):
        rfmkit.score(lazy)


def test_progress_bar_on_a_long_read(export, small_batches):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = rfmkit.rfm(export["single"], **ORDER_COLS, progress=True)
    assert len(got) > 0


def test_chunked_pandas_readers() -> None:
    """`pd.read_csv(chunksize=...)` and lists of frames: an Aggregator reads them chunk by
    chunk; rfmkit.rfm refuses them with the way to do it."""
    import io

    text = "customer,date,amount\n" + "".join(f"{i % 5},2024-01-{1 + i % 28:02d},{i}.25\n" for i in range(60))
    want = rfmkit.rfm(
        pd.read_csv(io.StringIO(text), parse_dates=["date"]), customer="customer", date="date", amount="amount"
    )
    reader = pd.read_csv(io.StringIO(text), parse_dates=["date"], chunksize=7)
    got = rfmkit.Aggregator(customer="customer", date="date", amount="amount").update(reader).finish()
    assert_same(got, want)
    frames = list(pd.read_csv(io.StringIO(text), parse_dates=["date"], chunksize=25))
    assert_same(rfmkit.Aggregator(customer="customer", date="date", amount="amount").update(frames).finish(), want)
    with pytest.raises(rfmkit.DtypeError, match="Aggregator"):
        rfmkit.rfm(pd.read_csv(io.StringIO(text), chunksize=7), customer="customer", date="date", amount="amount")
