"""What the consumer decodes: only records of the types it handles."""

from __future__ import annotations

from typing import Any, cast

from aiokafka import ConsumerRecord

from tidekit.events import registry
from tidekit.kafka.consumer import DeadLetter, EventConsumer
from tidekit.messaging.registry import HandlerRegistry


async def _ignore(event: Any, uow: Any) -> None:
    return None


def _consumer(handles: str) -> EventConsumer:
    return EventConsumer(
        name="test",
        kafka="127.0.0.1:1",
        topics=["t"],
        pool=cast(Any, None),  # _decode touches neither Postgres nor Kafka
        registry=registry,
        handlers=HandlerRegistry({registry.model_for(handles): _ignore}),
        store=cast(Any, None),
        dlq_producer=cast(Any, None),
    )


def _record(value: bytes, ce_type: str) -> ConsumerRecord[bytes, bytes]:
    headers = [("ce_type", ce_type.encode()), ("ce_id", b"1")]
    return ConsumerRecord("t", 0, 0, 0, 0, b"TID-1", value, None, len(value), -1, headers)


def test_a_known_type_it_does_not_handle_is_skipped_without_parsing_its_data() -> None:
    dead: list[DeadLetter] = []
    # Not even JSON: had the consumer parsed it, it would be a dead letter.
    got = _consumer("ticket.submitted")._decode(_record(b"\x00garbage", "sla.warning"), dead)
    assert got is None
    assert dead == []


def test_a_type_it_handles_is_parsed_and_a_bad_one_dead_lettered() -> None:
    dead: list[DeadLetter] = []
    got = _consumer("sla.warning")._decode(_record(b"\x00garbage", "sla.warning"), dead)
    assert got is None
    assert [d.reason.split(":")[0] for d in dead] == ["unparseable"]


def test_an_unknown_type_is_still_dead_lettered() -> None:
    dead: list[DeadLetter] = []
    _consumer("sla.warning")._decode(_record(b"{}", "no.such_type"), dead)
    assert len(dead) == 1
