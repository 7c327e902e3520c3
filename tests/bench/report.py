"""Every figure a benchmark run measured, kept for `python -m tests.bench --json FILE`.

One JSON document: section -> figure -> value, with the unit in the figure's name
(`_rps`, `_ms`, `_s`, `per_s`), so a script can compare two runs. The report states what
was measured; it never judges a figure against a goal.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

Figure = float | int | str | bool | None | list[Any] | dict[str, Any]

_figures: dict[str, dict[str, Figure]] = {}


def figure(section: str, name: str, value: Figure) -> None:
    """Record one figure; a later value of the same name replaces the earlier one."""
    _figures.setdefault(section, {})[name] = value


def figures() -> dict[str, dict[str, Figure]]:
    return {section: dict(values) for section, values in _figures.items()}


def clear() -> None:
    _figures.clear()


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (/proc/loadavg): how busy the machine was."""
    return [round(x, 2) for x in os.getloadavg()]


def write(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures(), indent=2, sort_keys=True) + "\n")
