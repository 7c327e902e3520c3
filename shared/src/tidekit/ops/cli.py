"""`tidemark-ops`: the operator's console (dead letters, replay, timeline, consumer lag,
retention, rebuild).

Reads the services' settings from the environment (TIDEMARK_DATABASE_URL,
TIDEMARK_KAFKA_BOOTSTRAP and the Kafka TLS/SASL settings, TIDEMARK_TOPIC_NAMESPACE). Exit
status: 0 done, 1 the command found something wrong (a lag above --max-lag, an id not on
the DLQ, a record not republished), 2 it could not run (Kafka or Postgres unreachable, a
refused or bad argument): always with one line on stderr saying why.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

import asyncpg
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from tidekit.events.topics import TOPICS
from tidekit.ops import dlq, lag, rebuild, replay, retention, timeline
from tidekit.ops.connect import OpsSettings, Unreachable


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tidemark-ops", description=__doc__.split("\n")[0])
    commands = p.add_subparsers(dest="command", required=True)

    dlq_cmd = commands.add_parser("dlq", help="dead-lettered records").add_subparsers(
        dest="dlq_command", required=True
    )
    ls = dlq_cmd.add_parser("list", help="per DLQ topic: count and oldest record")
    ls.add_argument("--service", choices=list(TOPICS),
                    help="only what this service's consumers dead-lettered")  # fmt: skip
    show = dlq_cmd.add_parser("show", help="the records of one DLQ")
    show.add_argument("topic", help="a DLQ topic, its source topic, or a service")
    show.add_argument("--limit", type=int, default=50)
    rd = dlq_cmd.add_parser("redrive", help="hand dead letters back to the group that failed them")
    rd.add_argument("topic", help="a DLQ topic, its source topic, or a service")
    which = rd.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", dest="event_id", help="only the record with this CloudEvents id")
    which.add_argument("--all", action="store_true", help="every record on the DLQ")
    rd.add_argument("--dry-run", action="store_true")

    rp = commands.add_parser("replay", help="republish a service's events from its event store")
    rp.add_argument("service", choices=list(TOPICS))
    start = rp.add_mutually_exclusive_group()
    start.add_argument("--from-position", type=int, help="first event store position to send")
    start.add_argument("--since", type=datetime.fromisoformat,
                       help="first event that occurred at or after this ISO time")  # fmt: skip
    rp.add_argument("--to-topic", required=True)
    rp.add_argument("--into-live-topic", action="store_true",
                    help="allow --to-topic to be the service's own live topic")  # fmt: skip
    rp.add_argument(
        "--checkpoint", type=Path, help="keep the last position sent here; a run goes on from it"
    )
    rp.add_argument("--schema", help="the event store's Postgres schema (default: the service's)")
    rp.add_argument("--batch-size", type=int, default=replay.BATCH,
                    help="events acknowledged between two checkpoints")  # fmt: skip
    rp.add_argument("--dry-run", action="store_true")

    tl = commands.add_parser("timeline", help="a ticket's events from every service, causally")
    tl.add_argument("tid")
    tl.add_argument("--json", action="store_true")

    rt = commands.add_parser("retention", help="what the retention workers would prune now")
    rt.add_argument("--service", choices=list(TOPICS), help="only this service")
    rt.add_argument("--schema", help="its Postgres schema (default: the service's)")

    rb = commands.add_parser("rebuild", help="rebuild a service's read models from its events")
    rb.add_argument("service", choices=list(TOPICS))
    rb.add_argument("--schema", help="its Postgres schema (default: the service's)")

    lg = commands.add_parser("lag", help="consumer lag per group and partition")
    lg.add_argument("--max-lag", type=int, help="exit 1 when a partition is further behind")
    lg.add_argument("--group", help="only this consumer group")
    return p


async def run(
    argv: Sequence[str],
    settings: OpsSettings | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    args = parser().parse_args(argv)
    try:
        s = settings or OpsSettings()
        return await _dispatch(args, s, out, err)
    except ValidationError as exc:
        err.write(f"tidemark-ops: bad settings: {exc.errors()[0]['loc']}: "
                  f"{exc.errors()[0]['msg']}\n")  # fmt: skip
    except Unreachable as exc:
        err.write(f"tidemark-ops: {exc}\n")
    except KafkaError as exc:
        err.write(f"tidemark-ops: Kafka refused: {exc}\n")
    except asyncpg.PostgresError as exc:  # e.g. no such schema: that service never ran here
        err.write(f"tidemark-ops: PostgreSQL refused: {type(exc).__name__}: {exc}\n")
    except (ValueError, TimeoutError) as exc:
        err.write(f"tidemark-ops: {exc or type(exc).__name__}\n")
    return 2


async def _dispatch(args: argparse.Namespace, s: OpsSettings, out: TextIO, err: TextIO) -> int:
    if args.command == "dlq":
        if args.dlq_command == "list":
            return await dlq.list_dlqs(s, out, args.service)
        if args.dlq_command == "show":
            return await dlq.show_dlq(s, args.topic, out, args.limit)
        return await dlq.redrive(s, args.topic, out, event_id=args.event_id, dry_run=args.dry_run)
    if args.command == "replay":
        request = replay.ReplayRequest(
            service=args.service,
            to_topic=args.to_topic,
            from_position=args.from_position,
            since=args.since,
            dry_run=args.dry_run,
            into_live_topic=args.into_live_topic,
            checkpoint=args.checkpoint,
            schema=args.schema,
            batch_size=args.batch_size,
        )
        return await replay.replay(s, request, out, err)
    if args.command == "timeline":
        return await timeline.timeline(s, args.tid, out, as_json=args.json)
    if args.command == "rebuild":
        return await rebuild.rebuild_service(s, args.service, out, schema=args.schema)
    if args.command == "retention":
        return await retention.retention(s, out, service=args.service, schema=args.schema)
    return await lag.lag(s, out, max_lag=args.max_lag, group=args.group)


def main(argv: Sequence[str] | None = None) -> None:
    # The clients' own connection-retry logs would bury the one line that says what failed.
    logging.basicConfig(level=logging.CRITICAL)
    try:
        code = asyncio.run(run(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        code = 130  # replay has said where to resume
    raise SystemExit(code)


if __name__ == "__main__":
    main()
