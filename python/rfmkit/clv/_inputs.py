"""Model inputs: columns of any array-like to float64 numpy arrays, results back in the
caller's container, and the time unit a BTYD summary carries."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rfmkit import _units
from rfmkit._io import frames
from rfmkit.exceptions import ColumnNotFoundError, DtypeError, InvalidParameterError


def normalize_freq(freq: Any, name: str = "freq") -> str:
    """The canonical name of time unit `freq` (``"W-SUN"`` -> ``"W"``, ``"ME"`` -> ``"M"``)."""
    return _units.time_unit(freq, name).canonical


def column(value: Any, name: str) -> np.ndarray:
    """A float64 1-d array (a copy when the input is not already one); never writes to it."""
    if frames.is_series(value) and not isinstance(value, pd.Series):
        value = frames.Column(name, frames.kind_of(value), value).numbers(name)
    elif isinstance(value, pd.Series):
        if not (pd.api.types.is_numeric_dtype(value.dtype) and not pd.api.types.is_bool_dtype(value.dtype)):
            raise DtypeError(f"{name} must hold numbers, got dtype {value.dtype}")
        value = value.to_numpy(dtype=np.float64, na_value=np.nan)
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise DtypeError(f"{name} must hold numbers, got {type(value).__name__} {value!r:.80}") from None
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise DtypeError(f"{name} must be one-dimensional, got shape {array.shape}")
    return np.ascontiguousarray(array)


def broadcast(**columns: Any) -> dict[str, np.ndarray]:
    """Columns (or scalars) of one length, contiguous float64."""
    arrays = {name: column(value, name) for name, value in columns.items()}
    lengths = {len(a) for a in arrays.values() if len(a) != 1}
    if len(lengths) > 1:
        shown = ", ".join(f"{name} has {len(a)}" for name, a in arrays.items())
        raise InvalidParameterError(f"the inputs have different lengths ({shown}); pass columns of one summary")
    n = lengths.pop() if lengths else 1
    return {name: np.ascontiguousarray(np.broadcast_to(a, (n,)), dtype=np.float64) for name, a in arrays.items()}


def summary_columns(frame: Any, wanted: tuple[str, ...]) -> dict[str, Any]:
    """The BTYD columns of a summary table (pandas, polars or pyarrow); the calibration
    table of `calibration_holdout` works too (``frequency_cal``, ...)."""
    table = frames.Frame.of(frame)
    names = [str(c) for c in table.names]
    out = {}
    for want in wanted:
        for candidate in (want, f"{want}_cal"):
            if candidate in names:
                out[want] = table.column(candidate, want).values
                break
        else:
            hint = ""
            if "tenure" in names:
                hint = (
                    "; this looks like the RFM table of rfmkit.rfm, whose recency and frequency are not the BTYD "
                    "ones: use rfmkit.clv.summary(...)"
                )
            raise ColumnNotFoundError(
                f"column {want!r} is not in the summary (its columns are: {', '.join(map(repr, names))}){hint}"
            )
    return out


def summary_unit(frame: Any) -> tuple[str | None, float]:
    """(freq, freq_multiplier) recorded by `rfmkit.clv.summary` in the frame's attrs."""
    info = frames.info_of(frame)
    freq = info.get("freq")
    return (normalize_freq(freq) if freq is not None else None), float(info.get("freq_multiplier", 1.0))
