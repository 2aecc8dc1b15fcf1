"""The core's mergeable state through the binding: batches merged in any order give the
in-memory `rfmkit.rfm` table bit for bit (money sums are exactly rounded)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import rfmkit
from rfmkit import _core


def _state() -> _core.State:
    return _core.State(ticks_per_day=86_400, zero="drop", returns="net", invalid="drop", rfm=True)


@pytest.mark.parametrize("kind", ["int", "text"])
def test_merged_batches_equal_the_in_memory_table(kind: str) -> None:
    rng = np.random.default_rng(7)
    n = 20_000
    ids = rng.integers(0, 1_500, n)
    seconds = rng.integers(0, 400 * 86_400, n).astype(np.int64)
    amount = np.round(rng.normal(40, 30, n), 2)  # returns, zeros and cents
    amount[rng.integers(0, n, 50)] = 0.1  # amounts whose float sums depend on order
    frame = pd.DataFrame(
        {
            "customer": ids if kind == "int" else pd.array([f"c{i:05d}" for i in ids], dtype="str"),
            "ts": pd.to_datetime(seconds, unit="s"),
            "amount": amount,
        }
    )
    expected = rfmkit.rfm(frame, customer="customer", date="ts", amount="amount")

    def ids_of(rows: slice):
        if kind == "int":
            return (np.ascontiguousarray(ids[rows], dtype=np.int64), None)
        import pyarrow as pa

        array = pa.array([f"c{i:05d}" for i in ids[rows]], type=pa.large_string())
        _, offsets, data = array.buffers()
        return (
            np.frombuffer(offsets, dtype=np.int64)[: len(array) + 1].copy(),
            np.frombuffer(data, dtype=np.uint8),
            None,
        )

    cuts = [0, 3_000, 11_000, n]
    states = []
    for start, end in itertools.pairwise(cuts):
        state = _state()
        rows = slice(start, end)
        state.update(ids_of(rows), seconds[rows], amount[rows])
        states.append(state)
    merged = states[2]
    merged.merge(states[0])
    merged.merge(states[1])
    result = merged.finish_rfm()
    keys = result["keys"]
    if kind == "text":
        offsets, data = keys
        keys = [bytes(data[offsets[k] : offsets[k + 1]]).decode() for k in range(len(offsets) - 1)]
    got = pd.DataFrame(
        {"monetary": result["monetary"], "frequency": result["frequency"], "recency": result["recency"]},
        index=pd.Index(keys, name="customer"),
    ).sort_index()
    want = expected[["monetary", "frequency", "recency"]].sort_index()
    assert list(got.index) == list(want.index)
    assert (got["monetary"].to_numpy().view(np.int64) == want["monetary"].to_numpy().view(np.int64)).all()
    assert (got["frequency"].to_numpy() == want["frequency"].to_numpy()).all()
    assert (got["recency"].to_numpy() == want["recency"].to_numpy()).all()
    assert merged.rows_in == n


def test_states_of_other_options_or_kinds_do_not_merge() -> None:
    ints, texts = _state(), _state()
    ints.update((np.array([1, 2], dtype=np.int64), None), np.array([0, 86_400], dtype=np.int64), np.array([1.0, 2.0]))
    texts.update(
        (np.array([0, 1, 2], dtype=np.int64), np.frombuffer(b"ab", dtype=np.uint8), None),
        np.array([0, 86_400], dtype=np.int64),
        np.array([1.0, 2.0]),
    )
    with pytest.raises(rfmkit.InvalidParameterError, match="different kinds"):
        ints.merge(texts)
    other = _core.State(ticks_per_day=86_400, zero="keep", returns="net", invalid="drop", rfm=True)
    with pytest.raises(rfmkit.InvalidParameterError, match="different options"):
        ints.merge(other)
    with pytest.raises(rfmkit.InvalidParameterError, match="as_of"):
        ints.finish_rfm(as_of_day=0)
