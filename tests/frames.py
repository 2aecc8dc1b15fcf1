"""Hypothesis strategies for random transaction tables and the column builders behind them.

A drawn `Spec` is a plain list of rows (customer number or None, timestamp in ns or
None, amount, order number or None) plus the dtypes to build the columns with, so a
failing example prints readably and the same rows can be rebuilt in any frontend.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from hypothesis import strategies as st

NS_PER_DAY = 86_400_000_000_000

ID_KINDS = [
    "int64",
    "int64_large",
    "uint32",
    "object_str",
    "str",
    "category",
    "float",
    "float_frac",
    "Int64",
    "object_int",
    "int64[pyarrow]",
    "string[pyarrow]",
]
# kinds whose columns cannot hold a null id
NON_NULLABLE_IDS = {"int64", "int64_large", "uint32"}

DATE_KINDS = [
    "naive_s",
    "naive_ms",
    "naive_us",
    "naive_ns",
    "tz_s:UTC",
    "tz_ms:Asia/Shanghai",
    "tz_us:America/New_York",
    "tz_ns:Asia/Kolkata",
    "tz_us:Pacific/Kiritimati",
    "tz_ns:America/Los_Angeles",
    "date_objects",
    "datetime_objects",
    "arrow_us",
    "arrow_ns:Europe/Berlin",
]
AMOUNT_KINDS = ["float64", "float64", "float64", "Float64", "double[pyarrow]", "float32"]
ORDER_KINDS = ["float", "object_str", "Int64", "int64[pyarrow]"]

STRING_IDS = ["a", "b", "A", "", "客户甲", "a ", "Z9", "0", "é", "e\u0301"]

BASES = [
    dt.datetime(2024, 3, 1),  # a leap year's February behind it
    dt.datetime(1970, 1, 20),  # around the epoch: negative ticks
    dt.datetime(2021, 11, 20),  # US DST end (Nov 7) in range
    dt.datetime(2000, 1, 1),
]


@dataclass
class Spec:
    rows: list  # (customer number | None, ns since epoch | None, amount, order number | None)
    id_kind: str = "int64"
    date_kind: str = "naive_ns"
    amount_kind: str = "float64"
    order_kind: str = "float"
    base_ns: int = 0
    extra: dict = field(default_factory=dict)

    def __repr__(self) -> str:  # compact, pasteable
        return (
            f"Spec(rows={self.rows!r}, id_kind={self.id_kind!r}, date_kind={self.date_kind!r}, "
            f"amount_kind={self.amount_kind!r}, order_kind={self.order_kind!r}, base_ns={self.base_ns})"
        )


# --------------------------------------------------------------------------- columns


def id_column(values: list, kind: str) -> pd.Series:
    if kind in NON_NULLABLE_IDS:
        assert all(v is not None for v in values)
    if kind == "int64":
        return pd.Series(values, dtype="int64")
    if kind == "int64_large":
        return pd.Series([2**62 + 3 * v for v in values], dtype="int64")
    if kind == "uint32":
        return pd.Series(values, dtype="uint32")
    strings = [
        None if v is None else STRING_IDS[v % len(STRING_IDS)] + ("" if v < len(STRING_IDS) else str(v)) for v in values
    ]
    if kind == "object_str":
        return pd.Series(strings, dtype=object)
    if kind == "str":
        return pd.Series(strings, dtype="str")
    if kind == "category":
        present = sorted({s for s in strings if s is not None}, reverse=True)
        return pd.Series(pd.Categorical(strings, categories=[*present, "unused-category"]))
    if kind == "float":
        return pd.Series([np.nan if v is None else float(v) for v in values], dtype="float64")
    if kind == "float_frac":
        return pd.Series([np.nan if v is None else v + 0.5 for v in values], dtype="float64")
    if kind == "Int64":
        return pd.Series(pd.array(values, dtype="Int64"))
    if kind == "object_int":
        return pd.Series(values, dtype=object)
    if kind == "int64[pyarrow]":
        return pd.Series(pd.array(values, dtype="int64[pyarrow]"))
    if kind == "string[pyarrow]":
        return pd.Series(pd.array(strings, dtype="string[pyarrow]"))
    raise ValueError(kind)


def date_column(ns: list, kind: str) -> pd.Series:
    raw = pd.Series(np.array([np.iinfo(np.int64).min if v is None else v for v in ns], dtype=np.int64).view("M8[ns]"))
    if kind.startswith("naive_"):
        return raw.astype(f"datetime64[{kind[6:]}]")
    if kind.startswith("tz_"):
        unit, tz = kind[3:].split(":")
        return raw.dt.tz_localize("UTC").dt.tz_convert(tz).dt.as_unit(unit)
    if kind == "date_objects":
        return pd.Series([None if pd.isna(s) else s.date() for s in raw], dtype=object)
    if kind == "datetime_objects":
        # whole microseconds: python datetimes cannot carry nanoseconds
        return pd.Series([None if pd.isna(s) else s.floor("us").to_pydatetime() for s in raw], dtype=object)
    if kind == "arrow_us":
        return raw.astype("datetime64[us]").astype("timestamp[us][pyarrow]")
    if kind.startswith("arrow_ns:"):
        tz = kind.split(":")[1]
        return (
            raw.dt.tz_localize("UTC").dt.tz_convert(tz).astype(pd.ArrowDtype(__import__("pyarrow").timestamp("ns", tz)))
        )
    raise ValueError(kind)


def amount_column(values: list, kind: str) -> pd.Series:
    if kind == "float64":
        return pd.Series(values, dtype="float64")
    if kind == "float32":
        # float32 holds our dyadic / small amounts exactly only when they are; the
        # builder keeps the float64 values that float32 represents exactly
        return pd.Series(values, dtype="float32")
    if kind == "Float64":
        return pd.Series(
            pd.array([pd.NA if (isinstance(v, float) and np.isnan(v)) else v for v in values], dtype="Float64")
        )
    if kind == "double[pyarrow]":
        return pd.Series(
            pd.array([None if (isinstance(v, float) and np.isnan(v)) else v for v in values], dtype="double[pyarrow]")
        )
    raise ValueError(kind)


def order_column(values: list, kind: str) -> pd.Series:
    if kind == "float":
        return pd.Series([np.nan if v is None else float(v) for v in values], dtype="float64")
    if kind == "object_str":
        return pd.Series([None if v is None else f"INV-{v}" for v in values], dtype=object)
    if kind == "Int64":
        return pd.Series(pd.array(values, dtype="Int64"))
    if kind == "int64[pyarrow]":
        return pd.Series(pd.array(values, dtype="int64[pyarrow]"))
    raise ValueError(kind)


def build(spec: Spec, with_order: bool = False) -> pd.DataFrame:
    rows = spec.rows
    data = {
        "customer": id_column([r[0] for r in rows], spec.id_kind),
        "ts": date_column([r[1] for r in rows], spec.date_kind),
        "amount": amount_column([r[2] for r in rows], spec.amount_kind),
    }
    if with_order:
        data["order"] = order_column([r[3] for r in rows], spec.order_kind)
    return pd.DataFrame(data)


# --------------------------------------------------------------------------- strategies

DYADIC = st.sampled_from([0.25, 0.5, 1.0, 1.5, 2.0, 3.75, 10.0, 12.5, 99.0, 100.0, 1024.0])
ANY_POSITIVE = st.floats(min_value=0.01, max_value=10_000, allow_nan=False, allow_infinity=False).map(
    lambda v: round(v, 2)
)


def amounts(allow_invalid: bool = True, allow_zero: bool = True, allow_negative: bool = True):
    choices = [(8, DYADIC), (3, ANY_POSITIVE)]
    if allow_zero:
        choices.append((2, st.just(0.0)))
        choices.append((1, st.just(-0.0)))
    if allow_negative:
        choices.append((2, DYADIC.map(lambda v: -v)))
        choices.append((1, ANY_POSITIVE.map(lambda v: -v)))
    if allow_invalid:
        choices.append((1, st.sampled_from([float("nan"), float("inf"), float("-inf")])))
    weighted = []
    for weight, strategy in choices:
        weighted.extend([strategy] * weight)
    return st.one_of(*weighted)


@st.composite
def specs(
    draw,
    max_rows: int = 24,
    id_kinds=ID_KINDS,
    date_kinds=DATE_KINDS,
    amount_kinds=AMOUNT_KINDS,
    allow_invalid: bool = True,
    allow_zero: bool = True,
    allow_negative: bool = True,
    min_rows: int = 0,
    span_days: int = 60,
    whole_days: bool | None = None,
):
    id_kind = draw(st.sampled_from(id_kinds))
    date_kind = draw(st.sampled_from(date_kinds))
    amount_kind = draw(st.sampled_from(amount_kinds))
    order_kind = draw(st.sampled_from(ORDER_KINDS))
    base = draw(st.sampled_from(BASES))
    base_ns = int(pd.Timestamp(base).value)
    pool = draw(st.integers(1, 7))
    n = draw(st.integers(min_rows, max_rows))
    nullable_ids = allow_invalid and id_kind not in NON_NULLABLE_IDS
    if whole_days is None:
        whole_days = draw(st.booleans())
    # few distinct instants, to get ties on the same timestamp and the same day
    instants = draw(
        st.lists(
            st.tuples(
                st.integers(-span_days, 0),
                st.just(0) if whole_days else st.integers(0, NS_PER_DAY - 1),
            ),
            min_size=1,
            max_size=8,
        )
    )
    rows = []
    for _ in range(n):
        c = draw(st.integers(0, pool - 1))
        if nullable_ids and draw(st.integers(0, 14)) == 0:
            c = None
        day, nanos = draw(st.sampled_from(instants))
        t = base_ns + day * NS_PER_DAY + nanos
        if allow_invalid and draw(st.integers(0, 19)) == 0:
            t = None
        a = draw(amounts(allow_invalid, allow_zero, allow_negative))
        if amount_kind == "float32":
            a = float(np.float32(a))
        o = draw(st.integers(0, 4))
        if allow_invalid and draw(st.integers(0, 14)) == 0:
            o = None
        rows.append((c, t, a, o))
    return Spec(rows, id_kind, date_kind, amount_kind, order_kind, base_ns)


def base_day(spec: Spec) -> dt.date:
    return pd.Timestamp(spec.base_ns).date()


# --------------------------------------------------------------------------- other frontends

# the kinds each frontend holds as they are (polars has no object column, for instance)
POLARS_ID_KINDS = ["int64", "object_str", "category", "float", "Int64"]
POLARS_DATE_KINDS = [
    "naive_ms",
    "naive_us",
    "naive_ns",
    "tz_us:Asia/Shanghai",
    "tz_ns:America/New_York",
    "date_objects",
]
FRONTENDS = ["pandas", "pyarrow", "polars", "pandas_arrow"]


def to_polars(df: pd.DataFrame):
    import math

    import polars as pl

    columns = {}
    for name in df.columns:
        series = df[name]
        if isinstance(series.dtype, pd.CategoricalDtype):
            columns[name] = pl.Series(name, [None if pd.isna(v) else v for v in series], dtype=pl.Categorical)
        elif series.dtype == object and len(series) and all(isinstance(v, dt.date) or v is None for v in series):
            columns[name] = pl.Series(name, list(series), dtype=pl.Date)
        elif series.dtype == object:
            values = [None if (v is None or (isinstance(v, float) and math.isnan(v))) else v for v in series]
            columns[name] = pl.Series(
                name, values, dtype=pl.String if any(isinstance(v, str) for v in values) else None
            )
        else:
            columns[name] = pl.from_pandas(series)
    return pl.DataFrame(columns)


def to_frontend(df: pd.DataFrame, frontend: str):
    """The same rows as a pyarrow Table, a polars DataFrame, or a pandas frame of
    Arrow-backed columns (what read_parquet / dtype_backend="pyarrow" give)."""
    import pyarrow as pa

    if frontend == "pandas":
        return df
    if frontend == "polars":
        return to_polars(df)
    table = pa.Table.from_pandas(df, preserve_index=False)
    if frontend == "pyarrow":
        return table
    if frontend == "pandas_arrow":
        return table.to_pandas(types_mapper=pd.ArrowDtype)
    raise ValueError(frontend)


def as_pandas_result(out, customer: str) -> pd.DataFrame:
    """A result of any frontend as pandas indexed by customer id (polars: its first column)."""
    if type(out).__module__.startswith("polars"):
        attrs = getattr(out, "attrs", {})
        frame = pd.DataFrame(
            {c: out.get_column(c).to_list() for c in out.columns[1:]},
            index=pd.Index(out.get_column(customer).to_list()),
        )
        frame.attrs = attrs
        return frame
    if type(out).__module__.startswith("pyarrow"):  # pyarrow in, pyarrow out: the ids first
        import rfmkit

        frame = out.to_pandas().set_index(customer)
        frame.index.name = None if frame.index.name == customer else frame.index.name
        frame.attrs["rfmkit"] = rfmkit.quality(out)
        return frame
    return out


#: The column options of the CLI for the orders of `rfmkit.datasets.make_transactions`.
CLI_COLUMNS = ["--customer", "customer_id", "--date", "ordered_at", "--amount", "amount"]


def analyze_sample(orders: pd.DataFrame, **options):
    """`rfmkit.analyze` of `rfmkit.datasets.make_transactions` output (its column names,
    orders, no progress bar), its warnings about dropped rows silenced."""
    import warnings

    import rfmkit

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        return rfmkit.analyze(
            orders,
            customer="customer_id",
            date="ordered_at",
            amount="amount",
            order="order_id",
            progress=False,
            **options,
        )
