"""Meaning carried by columns: score, segment, value_tiers, segment_summary and profile
find their inputs by column name, so they work after the frame operations users make
(filter, select, query, merge, concat, a Parquet round trip) on pandas, polars and
pyarrow results, where the record of how a table was made (``attrs``) is lost."""

import warnings

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import rfmkit

KEYS = dict(customer="customer_id", date="ordered_at", amount="amount", order="order_id")


@pytest.fixture(scope="module")
def orders():
    return rfmkit.datasets.make_transactions(600, seed=11)


@pytest.fixture(scope="module")
def scored(orders):
    return as_kind(orders, "pandas")


def as_kind(orders: pd.DataFrame, kind: str):
    """The scored RFM table of `orders` given to rfmkit as a table of `kind`."""
    data = {
        "pandas": orders,
        "polars": pl.from_pandas(orders),
        "arrow": pa.Table.from_pandas(orders, preserve_index=False),
    }[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        return rfmkit.score(rfmkit.rfm(data, **KEYS))


def to_pandas(table) -> pd.DataFrame:
    if isinstance(table, pd.DataFrame):
        return table
    out = table.to_pandas()
    return out.set_index(out.columns[0])


def low_scores(table):
    """The customers with every score <= 3: the highest score left is 3, not 5."""
    if isinstance(table, pd.DataFrame):
        return table[(table["r_score"] <= 3) & (table["f_score"] <= 3) & (table["m_score"] <= 3)]
    if isinstance(table, pl.DataFrame):
        return table.filter((pl.col("r_score") <= 3) & (pl.col("f_score") <= 3) & (pl.col("m_score") <= 3))
    import pyarrow.compute as pc

    keep = pc.and_(
        pc.and_(pc.less_equal(table["r_score"], 3), pc.less_equal(table["f_score"], 3)),
        pc.less_equal(table["m_score"], 3),
    )
    return table.filter(keep)


def operations(kind: str, tmp_path):
    """(name, function) pairs: each gives a table of some of the customers, with the score
    columns and without the record of rfmkit.score."""

    def parquet(table):
        path = tmp_path / f"{kind}.parquet"
        if isinstance(table, pd.DataFrame):
            table.to_parquet(path)
            return pd.read_parquet(path)
        if isinstance(table, pl.DataFrame):
            table.write_parquet(path)
            return pl.read_parquet(path)
        pq.write_table(table, path)
        return pq.read_table(path)

    def merge(table):
        if isinstance(table, pd.DataFrame):
            extra = pd.DataFrame({"customer_id": table.index, "note": "x"})
            return table.reset_index().merge(extra, on="customer_id").set_index("customer_id")
        if isinstance(table, pl.DataFrame):
            return table.join(pl.DataFrame({"customer_id": table["customer_id"], "note": "x"}), on="customer_id")
        extra = pa.table({"customer_id": table["customer_id"], "note": pa.array(["x"] * table.num_rows)})
        return table.join(extra, "customer_id")

    def concat(table):
        if isinstance(table, pd.DataFrame):
            half = len(table) // 2
            return pd.concat([table.iloc[:half], table.iloc[half:].assign(extra=1)]).drop(columns="extra")
        if isinstance(table, pl.DataFrame):
            half = table.height // 2
            return pl.concat([table.head(half), table.tail(table.height - half)])
        half = table.num_rows // 2
        return pa.concat_tables([table.slice(0, half), table.slice(half)])

    def select(table):
        names = ["customer_id", "recency", "frequency", "monetary", "r_score", "f_score", "m_score", "rfm_code"]
        if isinstance(table, pd.DataFrame):
            return table[names[1:]]
        return table.select(names)

    def query(table):
        if isinstance(table, pd.DataFrame):
            return table.query("r_score <= 3 and f_score <= 3 and m_score <= 3")
        return low_scores(table)

    def no_record(table):
        if isinstance(table, pd.DataFrame):
            out = table.copy()
            out.attrs = {}
            return out
        if isinstance(table, pa.Table):
            return table.replace_schema_metadata(None)
        return table.clone()

    steps = {"filter": low_scores, "select": select, "query": query, "merge": merge, "concat": concat}
    yield from ((name, lambda t, f=f: no_record(f(t))) for name, f in steps.items())
    yield "parquet", lambda t: no_record(parquet(low_scores(t)))


@pytest.mark.parametrize("kind", ["pandas", "polars", "arrow"])
def test_segments_after_frame_operations_equal_the_segments_before(orders, kind, tmp_path):
    whole = as_kind(orders, kind)
    for scheme in ("rfm11", "value4"):
        want = to_pandas(rfmkit.segment(whole, scheme))["segment"].astype(str)
        for name, operation in operations(kind, tmp_path):
            part = operation(whole)
            with pytest.raises(rfmkit.InvalidDataError):
                rfmkit.quality(part)  # the record is gone ...
            got = to_pandas(rfmkit.segment(part, scheme))  # ... the columns still tell
            assert type(got) is pd.DataFrame
            labels = got["segment"].astype(str)
            assert len(labels) > 0, name
            pd.testing.assert_series_equal(labels, want.loc[labels.index], check_names=False, obj=f"{name} {scheme}")


@pytest.mark.parametrize("kind", ["pandas", "polars", "arrow"])
def test_summaries_tiers_and_profiles_after_frame_operations(orders, kind, tmp_path):
    whole = as_kind(orders, kind)
    model = rfmkit.KMeans(3, random_state=0).fit(whole)
    for name, operation in operations(kind, tmp_path):
        part = rfmkit.segment(operation(whole), "rfm11")
        n = len(to_pandas(part))
        summary = to_pandas(rfmkit.segment_summary(part))
        assert int(summary["customers"].sum()) == n, name
        tiers = to_pandas(rfmkit.value_tiers(part))
        assert tiers["tier"].notna().all() and len(tiers) == n, name
        profile = to_pandas(model.profile(part, segments=to_pandas(part)["segment"].to_numpy()))
        assert int(profile["customers"].sum()) == n, name


def test_without_codes_nor_record_a_table_scored_with_other_bins_is_refused(scored):
    """Selecting away rfm_code from a table whose highest score is 3 leaves nothing that
    tells the bins: an error that asks for bins=, not a guess."""
    part = low_scores(scored)[["recency", "frequency", "monetary", "r_score", "f_score", "m_score"]].copy()
    part.attrs = {}
    with pytest.raises(rfmkit.InvalidParameterError, match="pass bins="):
        rfmkit.segment(part, "rfm11")
    assert rfmkit.segment(part, "rfm11", bins=5)["segment"].notna().all()


def test_codes_of_other_bins_are_read_from_the_column(scored):
    three = rfmkit.score(scored[["recency", "frequency", "monetary"]], bins=3)
    part = three[three["r_score"] <= 2].copy()
    part.attrs = {}
    np.testing.assert_array_equal(
        rfmkit.segment(part, "value4")["segment"].astype(str),
        rfmkit.segment(part, "value4", bins=3)["segment"].astype(str),
    )
