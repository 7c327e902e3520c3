"""`make bench`: every benchmark, each printing figures measured side by side in one run.

    python -m tests.bench [SECTION ...] [--json FILE]   all sections, or those named
    python -m tests.bench quick [--json FILE]           intake ratio, pipeline tickets/s and
                                                        POST->ack latency, in under 3 minutes
    python -m tests.bench quick --anchor [--json FILE]  and the reference chain's ratios

`--json FILE` also writes every figure the run recorded (section -> figure -> value, units
in the names) with the machine's load average at the start and end. The exit status is 0
whatever the figures are: this reports, it does not judge.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from . import report

SECTIONS = [
    "tests.bench.bench_sla",
    "tests.bench.bench_intake",
    "tests.bench.bench_inbound_mail",  # 200 KB e-mails over SMTP vs bare POST
    "tests.bench.bench_classifier",
    "tests.bench.bench_sla_timer",
    "tests.bench.bench_notifier",
    "tests.bench.bench_escalation",
    "tests.bench.bench_rebuild",  # tidemark-ops rebuild and replay, events/s
]


class _Tee(io.TextIOBase):
    """Prints as usual and keeps a copy, for sections that report only by printing."""

    def __init__(self, out: TextIO) -> None:
        self.out, self.lines = out, io.StringIO()

    def write(self, text: str) -> int:
        self.lines.write(text)
        return self.out.write(text)

    def flush(self) -> None:
        self.out.flush()


def _run_section(name: str) -> None:
    short = name.rsplit(".", 1)[-1].removeprefix("bench_")
    before = set(report.figures())
    tee = _Tee(sys.stdout)
    with contextlib.redirect_stdout(tee):
        returned: Any = importlib.import_module(name).main()
    if isinstance(returned, dict):
        for figure, value in returned.items():
            report.figure(short, figure, value)
    if not set(report.figures()) - before and not isinstance(returned, dict):
        # no figure of its own yet: keep its table's lines, so the run is still on record
        report.figure(short, "table_lines", tee.lines.getvalue().strip().splitlines())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("sections", nargs="*", help="'quick', or parts of section names")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument(
        "--anchor",
        action="store_true",
        help="quick: also run the reference chain and print ratios to it (longer)",
    )
    args = parser.parse_args(argv)
    report.clear()
    report.figure("run", "mode", "quick" if args.sections == ["quick"] else "sections")
    report.figure("run", "load_average_start", report.load_average())
    started = time.monotonic()
    try:
        if args.sections == ["quick"]:
            print("\n######## quick: intake, pipeline, POST -> ack ########", flush=True)
            importlib.import_module("tests.bench.bench_intake").quick(anchor=args.anchor)
        else:
            wanted = args.sections
            for name in [s for s in SECTIONS if not wanted or any(a in s for a in wanted)]:
                print(f"\n######## {name} ########", flush=True)
                _run_section(name)
    finally:
        report.figure("run", "load_average_end", report.load_average())
        report.figure("run", "wall_s", round(time.monotonic() - started, 1))
        if args.json is not None:
            report.write(args.json)
            print(f"\nfigures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
