"""Progress over the named steps of a long call, or over the rows of a streamed input: a
tqdm bar when tqdm is installed and progress is wanted, nothing otherwise (no bar is never
an error, nor a warning)."""

from __future__ import annotations

import warnings
from typing import Any


def _bar(**options: Any) -> Any:
    """A `tqdm.auto` bar, or None without tqdm. Its warnings are silenced: in a notebook
    without ipywidgets tqdm warns and falls back to a text bar, which is fine here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return None
        return tqdm(**options)


class Steps:
    """Announces each step of a fixed list; ``Steps(names, enabled=False)`` is silent.

    >>> steps = Steps(["read", "score"], enabled=False)
    >>> steps.start("read"); steps.start("score"); steps.close()
    """

    def __init__(self, names: list[str], *, enabled: bool = True, description: str = "rfmkit") -> None:
        self._bar: Any = None
        if enabled and names:
            self._bar = _bar(total=len(names), desc=description, leave=False)
        self._started = False

    def start(self, name: str) -> None:
        if self._bar is None:
            return
        if self._started:
            self._bar.update(1)
        self._started = True
        self._bar.set_postfix_str(name)

    def close(self) -> None:
        if self._bar is not None:
            if self._started:
                self._bar.update(1)
            self._bar.close()
            self._bar = None


class Rows:
    """Counts the rows read so far, out of `total` when it is known; ``enabled=False`` is silent.

    >>> rows = Rows(10, "orders.parquet", enabled=False)
    >>> rows.update(4); rows.close()
    """

    def __init__(self, total: int | None, description: str, *, enabled: bool = True) -> None:
        self._bar: Any = None
        if enabled:
            self._bar = _bar(total=total, desc=description, unit=" rows", unit_scale=True, leave=False)

    def update(self, rows: int) -> None:
        if self._bar is not None:
            self._bar.update(rows)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
