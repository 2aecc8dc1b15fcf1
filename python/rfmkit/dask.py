"""rfmkit on Dask: the RFM table, the BTYD summary and the calibration/holdout split of
a Dask DataFrame of transactions, equal bit for bit to `rfmkit.rfm`,
`rfmkit.clv.summary` and `rfmkit.clv.calibration_holdout` on the same rows.

Needs ``pip install 'rfmkit[dask]'``. How it works (`rfmkit._distributed`): every
partition aggregates its rows into the engine's per-customer state and splits it into
buckets by customer; a task per bucket merges its pieces and finishes them, told the
last valid date of all the rows. Each call computes its result and keeps it persisted
(in the cluster's memory with a distributed client), so that the accounting can be
returned with it. Text dates need ``date_format=``.

Examples
--------
>>> import dask.dataframe as dd                               # doctest: +SKIP
>>> orders = dd.read_parquet("orders/")                       # doctest: +SKIP
>>> table, accounting = rfmkit.dask.rfm(orders, customer="customer_id",
...     date="ordered_at", amount="amount")                   # doctest: +SKIP
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import pandas as pd

from rfmkit import _distributed
from rfmkit._distributed import Result
from rfmkit._distributed_api import Cluster, public_functions

__all__ = ["Result", "calibration_holdout", "predict", "rfm", "score", "segment", "summary"]


class _Dask(Cluster):
    name = "Dask"
    module = "rfmkit.dask"
    labels_as_text = False

    def columns(self, table: Any) -> list[str]:
        return list(table.columns)

    def date_kind(self, table: Any, column: str) -> str:
        dtype = table[column].dtype
        if pd.api.types.is_datetime64_any_dtype(dtype):
            return "time"
        return "number" if pd.api.types.is_numeric_dtype(dtype) else "text"

    def amount_is_numeric(self, table: Any, column: str) -> bool:
        dtype = table[column].dtype
        return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)

    def is_frame(self, table: Any) -> bool:
        return hasattr(table, "to_delayed") and hasattr(table, "map_partitions") and hasattr(table, "_meta")

    def run_view(
        self, table: Any, view: str, params: dict[str, Any], finish: dict[str, Any], partitions: Any, function: str
    ) -> Result:
        return _run(table, view, params, finish, partitions, function)

    def histogram(self, table: Any, column: str) -> tuple[Any, Any]:
        counts = table[column].value_counts(dropna=False).compute()
        return counts.index.to_numpy(dtype="float64", na_value=float("nan")), counts.to_numpy()

    def maximum(self, table: Any, columns: tuple[Any, ...]) -> Any:
        import dask

        return max(dask.compute(*[table[c].max() for c in columns]))

    def distinct_counts(self, table: Any, columns: tuple[Any, ...]) -> dict[str, int]:
        import dask

        used = dask.compute(*[table[c].unique() for c in columns])
        return {c: len(u) for c, u in zip(columns, used)}

    def partial_sums(self, table: Any, columns: tuple[Any, ...]) -> list[dict[str, Any]]:
        import dask

        parts = [dask.delayed(_distributed.partial_sums)(part, columns) for part in table[list(columns)].to_delayed()]
        return list(dask.compute(*parts))

    def empty(self, table: Any) -> pd.DataFrame:
        return table._meta

    def map_rows(self, table: Any, function: Callable[[pd.DataFrame], pd.DataFrame]) -> Any:
        return table.map_partitions(function, meta=function(table._meta))


rfm, summary, calibration_holdout, score, segment, predict = public_functions(_Dask()).values()


def _run(
    ddf: Any, view: str, params: dict[str, Any], finish: dict[str, Any], partitions: int | None, function: str
) -> Result:
    import dask
    import dask.dataframe as dd

    names = [params["customer"], params["date"]] + [
        params[key] for key in ("amount", "order") if params.get(key) is not None
    ]
    rows = ddf[names]
    end_found = True
    if _distributed.needs_end(view, params):
        parts = [dask.delayed(_distributed.last_valid_time)([part], params) for part in rows.to_delayed()]
        ends = [value for value in dask.compute(*parts) if value is not None]
        end_found = bool(ends)
        params = _distributed.with_end(view, params, max(ends) if ends else None)
    buckets = partitions or min(rows.npartitions, _distributed.MAX_BUCKETS)
    states = dask.persist(
        *[dask.delayed(_distributed.partition_states)([part], view, params, buckets) for part in rows.to_delayed()]
    )
    times = [
        t for t in dask.compute(*[dask.delayed(operator.itemgetter(1))(state) for state in states]) if t is not None
    ]
    latest = max(times) if times else None
    empty, base = _distributed.bucket_table([], view, params, finish, latest, like=rows._meta)
    meta = empty.set_index(empty.columns[0])
    results = list(
        dask.persist(
            *[
                dask.delayed(_bucket)(
                    [dask.delayed(_pieces)(state, bucket) for state in states], view, params, finish, latest, meta
                )
                for bucket in range(buckets)
            ]
        )
    )
    del states
    accountings = [a for a in dask.compute(*[dask.delayed(operator.itemgetter(1))(r) for r in results]) if a]
    accounting = _distributed.total_accounting(accountings, function, base=base, end_found=end_found, stacklevel=6)
    table = dd.from_delayed([dask.delayed(operator.itemgetter(0))(result) for result in results], meta=meta)
    return Result(table, accounting)


def _pieces(state: tuple[Any, ...], bucket: int) -> list[bytes]:
    """A partition's piece of `bucket` (of `_distributed.partition_states`), if any."""
    piece = state[0].get(bucket)
    return [] if piece is None else [piece]


def _bucket(
    pieces: list[Any], view: str, params: dict[str, Any], finish: dict[str, Any], latest: int | None, meta: Any
) -> tuple[Any, dict[str, Any]]:
    """The single-machine view of one bucket's customers, indexed by customer id (`meta`,
    the table of no customer, when no partition had a piece of it)."""
    pieces = [data for part in pieces for data in part]
    if not pieces:
        return meta, {}
    table, accounting = _distributed.bucket_table(pieces, view, params, finish, latest)
    table = table.set_index(table.columns[0])
    if not len(table):
        return meta, accounting
    return table, accounting
