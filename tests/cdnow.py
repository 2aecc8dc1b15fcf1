"""CDNOW (Fader & Hardie's public retail export), as shipped in the `lifetimes` wheel.

`CDNOW_master.txt`: 69,659 order lines of 23,570 customers, 1997-01-01 .. 1998-06-30,
whitespace separated, with raw integer dates (yyyymmdd) and zero-padded ids.
`CDNOW_sample.txt`: the 2,357-customer sample (6,919 rows) used in the BG/NBD paper.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import pandas as pd

COLUMNS = ["customer_id", "date", "number_of_cds", "dollar_value"]


def _path(name: str) -> Path:
    # found without importing lifetimes (its import warns under pandas 3)
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("lifetimes (a test dependency: pip install '.[test]') ships the CDNOW files")
    return Path(spec.origin).parent / "datasets" / name


@functools.cache
def _load(name: str) -> pd.DataFrame:
    if name == "CDNOW_master.txt":
        names, skip = COLUMNS, 1
    else:  # the sample also carries its own customer number after the master id
        names, skip = ["customer_id", "sample_id", *COLUMNS[1:]], 0
    frame = pd.read_csv(
        _path(name),
        sep=r"\s+",
        header=None,
        names=names,
        skiprows=skip,
        dtype={"customer_id": str, "sample_id": str, "date": str},
    )
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame


def master() -> pd.DataFrame:
    """CDNOW master: a fresh copy each call (tests may not share mutations)."""
    return _load("CDNOW_master.txt").copy()


def sample() -> pd.DataFrame:
    """The CDNOW sample of the BG/NBD paper (2,357 customers)."""
    return _load("CDNOW_sample.txt").copy()
