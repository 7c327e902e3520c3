"""Counts the property-test examples that ran, and prints them at the end of the run."""

from __future__ import annotations

from collections import Counter
from typing import Any

EXAMPLES: Counter[str] = Counter()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if EXAMPLES:
        terminalreporter.section("SLA property-test examples that ran")
        for name, count in sorted(EXAMPLES.items()):
            terminalreporter.write_line(f"{count:6d}  {name}")
