"""Which dead letters go where on a redrive (tidekit.ops.dlq), and the one-line refusals."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from tidekit.ops.cli import run
from tidekit.ops.connect import OpsSettings
from tidekit.ops.dlq import DeadLetter, plan_redrive, redriven_headers
from tidekit.ops.records import Record


def letter(offset: int, event_id: str, consumer: str, source: str) -> DeadLetter:
    headers = [("ce_id", event_id.encode()), ("ce_type", b"ticket.rated"),
               ("dlq_reason", b"handler error: boom"), ("dlq_consumer", consumer.encode()),
               ("dlq_source", source.encode())]  # fmt: skip
    return DeadLetter(Record("t.v1.dlq", 0, offset, datetime.now(UTC), b"TID-1", b"{}", headers))


def test_each_record_goes_to_the_redrive_topic_of_the_group_that_failed_it_once() -> None:
    letters = [
        letter(0, "e1", "tidemark.notifier.main", "t.v1/2/40"),
        letter(1, "e1", "tidemark.sla-timer.main", "t.v1/2/40"),
        # e1 re-driven to the notifier earlier and failed again: its source is the redrive
        # topic, and it goes back to the same redrive topic, once.
        letter(2, "e1", "tidemark.notifier.main", "t.v1.redrive.tidemark.notifier.main/0/3"),
        letter(3, "e2", "tidemark.notifier.main", "t.v1/1/7"),
    ]
    plan = plan_redrive(letters, event_id=None)
    assert [(p.letter.event_id, p.target) for p in plan] == [
        ("e1", "t.v1.redrive.tidemark.notifier.main"),
        ("e1", "t.v1.redrive.tidemark.sla-timer.main"),
        ("e2", "t.v1.redrive.tidemark.notifier.main"),
    ]
    assert [p.letter.event_id for p in plan_redrive(letters, event_id="e2")] == ["e2"]


def test_a_redriven_record_says_where_it_came_from_and_drops_the_dlq_headers() -> None:
    dead = letter(5, "e1", "tidemark.notifier.main", "t.v1/2/40")
    headers = dict(redriven_headers(dead, "2026-03-02T09:00:00+00:00"))
    assert headers["redriven_from"] == b"t.v1.dlq/0/5"
    assert headers["ce_id"] == b"e1"
    assert not {"dlq_reason", "dlq_consumer", "dlq_source"} & headers.keys()


async def test_unreachable_kafka_or_postgres_is_one_line_and_exit_2() -> None:
    nowhere = OpsSettings(
        kafka_bootstrap="127.0.0.1:1", database_url="postgresql://ops:secret@127.0.0.1:1/x"
    )
    commands = (
        ["lag"], ["dlq", "list"], ["dlq", "show", "intake"], ["dlq", "redrive", "intake", "--all"],
        ["timeline", "TID-1"], ["replay", "intake", "--to-topic", "backfill"],
    )  # fmt: skip
    for argv in commands:
        err = io.StringIO()
        assert await run(argv, nowhere, out=io.StringIO(), err=err) == 2
        lines = err.getvalue().splitlines()
        assert len(lines) == 1 and lines[0].startswith("tidemark-ops: cannot reach"), lines
        assert "secret" not in lines[0]


async def test_replay_refuses_the_live_topic_unless_asked_by_name() -> None:
    err = io.StringIO()
    live = ["replay", "intake", "--to-topic", "tidemark.intake.v1"]
    assert await run(live, OpsSettings(), out=io.StringIO(), err=err) == 2
    assert "refusing to replay into tidemark.intake.v1" in err.getvalue()
