"""`python -m tests.chaos [--seed N] [--tickets 10000] [--rate 50]`: the chaos run (`make
chaos`). Prints the fault script (replay it with the same --seed), then the table; exits 1
when an invariant fails, 2 when the run itself could not be made."""

from __future__ import annotations

import argparse
import random
import sys

from tidemark_devstack.common import DevstackError

from .report import table
from .run import ChaosConfig, run


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    p.add_argument("--seed", type=int, default=None, help="replays a run's faults (default: new)")
    p.add_argument("--tickets", type=int, default=10_000)
    p.add_argument("--rate", type=float, default=50.0, help="tickets per second")
    p.add_argument("--brokers", type=int, default=3)
    p.add_argument("--replicas", type=int, default=2, help="processes per service")
    p.add_argument("--target", default="2m", help="every first-response target (policy)")
    p.add_argument("--kafka-outage", type=float, default=20.0, help="seconds Kafka is stopped")
    p.add_argument("--no-pause", action="store_true", help="no SIGSTOP of a replica")
    args = p.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1_000_000)
    config = ChaosConfig(
        seed=seed, tickets=args.tickets, rate=args.rate, brokers=args.brokers,
        replicas=args.replicas, target=args.target, kafka_outage=args.kafka_outage,
        pause=not args.no_pause,
    )  # fmt: skip
    print(f"chaos run, seed {seed} (replay: python -m tests.chaos --seed {seed} ...)", flush=True)
    try:
        outcome = run(config)
    except DevstackError as exc:
        print(f"!! the stack could not be run: {exc}", file=sys.stderr)
        return 2
    print(table(outcome), flush=True)
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
