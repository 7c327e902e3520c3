"""`replay SERVICE --to-topic T`: republish a service's events from its event store.

Each event goes out as the service's relay first sent it: the same CloudEvents id, type,
subject, time and causation, keyed by the TID, in position order (so per TID in stream
order). The live topic is refused unless asked for by name, because every consumer of it
would see the events again. A run interrupted (Ctrl-C) says where to resume; with
`--checkpoint FILE` the last position sent is also kept there after every batch, and a run
started with the same file goes on from it.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

import asyncpg

from tidekit.clock import SystemClock
from tidekit.events import registry
from tidekit.kafka.acls import READS
from tidekit.kafka.clients import ensure_topics
from tidekit.kafka.connection import KafkaConnection
from tidekit.ops.connect import OpsSettings, database, kafka_writer, schema_of
from tidekit.ops.progress import Progress
from tidekit.store.eventstore import EventStore

BATCH = 1000


@dataclass(frozen=True)
class ReplayRequest:
    """What `replay` is asked: the service whose event store to read, the topic to
    send to, and where to start (a position, a time, or the checkpoint file)."""

    service: str
    to_topic: str
    from_position: int | None = None
    since: datetime | None = None
    dry_run: bool = False
    into_live_topic: bool = False
    checkpoint: Path | None = None
    schema: str | None = None  # the event store's schema, when not the service's own name
    batch_size: int = BATCH  # events sent and acknowledged between two checkpoints


@dataclass(frozen=True)
class ReplayResult:
    events: int
    last_position: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def live_topic_warning(settings: OpsSettings, service: str, topic: str) -> str:
    readers = [s for s, upstreams in READS.items() if service in upstreams]
    return (
        f"WARNING: replaying into the live topic {topic}: every consumer of it "
        f"({', '.join(readers)}, and any analytics reader) receives these events again with "
        "their original ids; the services' inboxes drop the ones they handled, readers "
        "without de-duplication by ce_id see duplicates"
    )


async def first_position(conn: asyncpg.Connection, req: ReplayRequest) -> int:
    if req.checkpoint is not None and req.checkpoint.exists() and req.from_position is None:
        return int(json.loads(req.checkpoint.read_text())["last_position"]) + 1
    if req.from_position is not None:
        return req.from_position
    if req.since is not None:
        found = await conn.fetchval(
            "SELECT min(position) FROM events WHERE occurred_at >= $1", req.since
        )
        return int(found) if found is not None else 2**62
    return 1


async def replay(settings: OpsSettings, req: ReplayRequest, out: TextIO, err: TextIO) -> int:
    schema = req.schema or schema_of(req.service)
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", schema):
        raise ValueError(f"bad schema name {schema!r}")
    live = settings.topic(req.service)
    if req.to_topic == live and not req.into_live_topic:
        err.write(
            f"refusing to replay into {live}, {req.service}'s live topic (every consumer would "
            "see its events again); pass --into-live-topic if that is really meant\n"
        )
        return 2
    if req.to_topic == live:
        err.write(live_topic_warning(settings, req.service, live) + "\n")
    store = EventStore(source=f"tidemark/{req.service}", topic=req.to_topic,
                       registry=registry, clock=SystemClock())  # fmt: skip
    async with database(settings) as conn:
        await conn.execute(f"SET search_path TO {schema}")
        start = await first_position(conn, req)
        total = int(await conn.fetchval("SELECT count(*) FROM events WHERE position >= $1", start))
        if req.dry_run:
            out.write(f"would replay {total} event(s) of {req.service} from position {start} "
                      f"to {req.to_topic}\n")  # fmt: skip
            return 0
        await ensure_topics(KafkaConnection.from_settings(settings), [req.to_topic],
                            partitions=settings.topic_partitions)  # fmt: skip
        async with kafka_writer(settings) as producer:
            with Progress(total, err) as progress:
                after = start - 1
                try:
                    while True:
                        batch = await store.read_all(
                            conn, after_position=after, limit=req.batch_size
                        )
                        if not batch:
                            break
                        sent = [
                            await producer.send(req.to_topic, value=value, key=key, headers=hdrs)
                            for key, value, hdrs in (e.envelope.to_kafka() for e in batch)
                        ]
                        await asyncio.gather(*sent)  # acknowledged before the position moves
                        after = batch[-1].position
                        _save_checkpoint(req, after)
                        progress.advance(len(batch), after)
                except (KeyboardInterrupt, asyncio.CancelledError):
                    err.write(
                        f"\ninterrupted after position {after}; resume with: tidemark-ops "
                        f"replay {req.service} --from-position {after + 1} "
                        f"--to-topic {req.to_topic}\n"
                    )
                    raise
    result = ReplayResult(progress.done, after, progress.elapsed)
    out.write(f"replayed {result.events} event(s) of {req.service} to {req.to_topic} "
              f"(positions {start}..{result.last_position}) in {result.seconds:.2f} s, "
              f"{result.rate:.0f} events/s\n")  # fmt: skip
    return 0


def _save_checkpoint(req: ReplayRequest, last_position: int) -> None:
    if req.checkpoint is not None:
        state = {"service": req.service, "to_topic": req.to_topic, "last_position": last_position}
        req.checkpoint.write_text(json.dumps(state) + "\n")
