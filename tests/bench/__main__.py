"""`make bench`: every benchmark, each printing figures measured side by side in one run."""

from __future__ import annotations

import importlib
import sys

SECTIONS = [
    "tests.bench.bench_sla",
    "tests.bench.bench_intake",
    "tests.bench.bench_inbound_mail",  # 200 KB e-mails over SMTP vs bare POST
    "tests.bench.bench_classifier",
    "tests.bench.bench_sla_timer",
    "tests.bench.bench_notifier",
    "tests.bench.bench_escalation",
]


def main() -> int:
    chosen = [s for s in SECTIONS if not sys.argv[1:] or any(a in s for a in sys.argv[1:])]
    for name in chosen:
        print(f"\n######## {name} ########", flush=True)
        importlib.import_module(name).main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
