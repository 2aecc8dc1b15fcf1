"""Passing a public function's parameters on, by the one list of them: its signature."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

#: The parameters that say how the rows of a transaction table are read and counted, as
#: `rfmkit.rfm` names them (`analyze`, `migration`, the CLI and the clusters pass them on).
ROWS = (
    "customer",
    "date",
    "amount",
    "order",
    "as_of",
    "window",
    "zero",
    "returns",
    "invalid",
    "date_format",
    "dayfirst",
)


def pick(values: dict[str, Any], names: tuple[str, ...], *leave_out: str) -> dict[str, Any]:
    """The entries `names` of `values` (a ``locals()`` or a namespace's ``vars()``), but `leave_out`."""
    return {name: values[name] for name in names if name not in leave_out}


def arguments(function: Callable[..., Any], values: dict[str, Any], *leave_out: str) -> dict[str, Any]:
    """The parameters of `function` with their values in `values` (its ``locals()``, taken
    before anything else is assigned), but those in `leave_out`.

    >>> def f(data, *, customer, date, progress=False):
    ...     return arguments(f, locals(), "data", "progress")
    >>> f(None, customer="id", date="day")
    {'customer': 'id', 'date': 'day'}
    """
    return {name: values[name] for name in inspect.signature(function).parameters if name not in leave_out}
