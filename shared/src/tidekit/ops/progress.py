"""A progress line for long runs: rich's bar on a terminal, else a plain line per step."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any, TextIO


class Progress:
    """`advance(n, position)` after each batch; `rate` is events per second so far."""

    def __init__(self, total: int, out: TextIO, label: str = "events") -> None:
        self.total = total
        self.done = 0
        self.position = 0
        self._out = out
        self._label = label
        self._started = time.monotonic()
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        if self._out.isatty():
            try:  # rich is in the workspace's lock, but tidekit does not require it
                from rich.progress import Progress as RichProgress
            except ImportError:
                return self
            self._bar = RichProgress(transient=False)
            self._bar.start()
            self._task = self._bar.add_task(self._label, total=self.total)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    @property
    def elapsed(self) -> float:
        return max(time.monotonic() - self._started, 1e-6)

    @property
    def rate(self) -> float:
        return self.done / self.elapsed

    def advance(self, count: int, position: int) -> None:
        self.done += count
        self.position = position
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done, description=f"{self.rate:.0f}/s")
        else:
            self._out.write(
                f"{self.done}/{self.total} {self._label}, position {position}, "
                f"{self.rate:.0f} events/s\n"
            )
            self._out.flush()
