"""Where a ticket's CPU goes: each process's CPU time (/proc, user + system) over a run.

Wall-clock figures on this shared 2-core machine move with its load; CPU seconds per
ticket per process move much less, and they add up to what bounds the pipeline: with
2 cores, tickets/s can never exceed 2 / (CPU seconds of all processes per ticket).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # fields after "pid (comm)", from state on


def cpu_seconds(pid: int, with_reaped_children: bool = False) -> float:
    """utime + stime of `pid` (and, optionally, of its children it has waited for)."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
    own = utime + stime
    return (own + (cutime + cstime if with_reaped_children else 0)) / TICKS


def tree_seconds(root: int) -> float:
    """A process and its live children (PostgreSQL: the postmaster, its backends and
    workers), plus the children it has already reaped."""
    total = cpu_seconds(root, with_reaped_children=True)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) and int(fields[1]) == root:
            total += cpu_seconds(int(entry.name))
    return total


@dataclass
class CpuMeter:
    """Snapshots of named processes' CPU seconds; `trees` are counted with their children."""

    pids: dict[str, int]
    trees: dict[str, int]

    def snapshot(self) -> dict[str, float]:
        seen = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        seen.update({name: tree_seconds(pid) for name, pid in self.trees.items()})
        return seen

    @staticmethod
    def per_item(before: dict[str, float], after: dict[str, float], items: int) -> dict[str, float]:
        """Milliseconds of CPU per item, by process, and their total."""
        ms = {name: 1000 * (after[name] - before.get(name, 0.0)) / items for name in after}
        ms["total"] = sum(ms.values())
        return {name: round(value, 2) for name, value in ms.items()}


def postmaster_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
