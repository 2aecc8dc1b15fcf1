"""Progress over the named steps of a long call: a tqdm bar when tqdm is installed and
progress is wanted, nothing otherwise (no bar is never an error)."""

from __future__ import annotations

from typing import Any


class Steps:
    """Announces each step of a fixed list; ``Steps(names, enabled=False)`` is silent.

    >>> steps = Steps(["read", "score"], enabled=False)
    >>> steps.start("read"); steps.start("score"); steps.close()
    """

    def __init__(self, names: list[str], *, enabled: bool = True, description: str = "rfmkit") -> None:
        self._bar: Any = None
        if enabled and names:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(total=len(names), desc=description, leave=False)
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
