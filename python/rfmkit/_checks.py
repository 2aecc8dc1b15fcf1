"""Checks of values that several steps share, with one wording."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from rfmkit.exceptions import InvalidDataError


def require_finite(columns: Mapping[str, np.ndarray], needs: str) -> None:
    """An `InvalidDataError` naming the first column with a NaN (or null) or infinite
    value, its value and its 0-based row, and `needs`: what the step needs them for.

    >>> require_finite({"monetary": np.array([1.0, np.nan])}, "classic8 compares finite values")
    Traceback (most recent call last):
    ...
    rfmkit.InvalidDataError: column 'monetary' is NaN (or null) at row 1 (0-based position): classic8 compares finite values; drop or fill such rows first
    """
    for name, values in columns.items():
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            shown = "NaN (or null)" if np.isnan(values[bad[0]]) else values[bad[0]]
            raise InvalidDataError(
                f"column {name!r} is {shown} at row {bad[0]} (0-based position): {needs}; drop or fill such rows first"
            )
