"""The envelope's Kafka record, written out by hand, is the one cloudevents' `to_binary`
makes (the library stays the reference: consumers decode with it)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from cloudevents.v1.http import CloudEvent
from cloudevents.v1.kafka import to_binary

from tidekit.events import registry
from tidekit.events.envelope import CONTENT_TYPE, Envelope, new_event_id

from .samples import SAMPLES


def library_record(env: Envelope) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """What `to_kafka` made when it built the record through the cloudevents library."""
    attributes = {
        "id": env.id,
        "type": env.type,
        "source": env.source,
        "subject": env.subject,
        "time": env.time.isoformat().replace("+00:00", "Z"),
        "specversion": "1.0",
        "datacontenttype": CONTENT_TYPE,
        "dataschema": env.dataschema,
        "partitionkey": env.subject,
    }
    if env.causation_id:
        attributes["causationid"] = env.causation_id
    if env.correlation_id:
        attributes["correlationid"] = env.correlation_id
    message = to_binary(
        CloudEvent(attributes, env.data),
        data_marshaller=lambda d: json.dumps(d, separators=(",", ":"), sort_keys=True),
    )
    headers = list(message.headers.items()) + [(k, v.encode()) for k, v in env.trace.items()]
    return message.key.encode(), message.value, headers


def envelopes() -> list[Envelope]:
    first = Envelope.wrap(
        registry.decode("ticket.submitted", 1, SAMPLES["ticket.submitted"]),
        source="tidemark/intake",
        time=datetime(2026, 11, 27, 15, 0, 0, 123456, tzinfo=UTC),
    )
    caused = Envelope.wrap(
        registry.decode("ticket.classified", 1, SAMPLES["ticket.classified"]),
        source="tidemark/classifier",
        caused_by=first,
        trace={
            "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "tracestate": "vendor=x",
        },
        time=datetime(2026, 11, 27, 15, 5, tzinfo=UTC),
    )
    # non-ASCII data, no causation, no correlation, no trace
    bare = Envelope(
        id="e-1",
        type="ticket.message_added",
        source="tidemark/intake",
        subject="TID-9",
        time=datetime(2026, 11, 27, 15, 6, tzinfo=UTC),
        schema_version=1,
        data={
            "z": "Gr\u00fc\u00dfe \u2013 \u2713",
            "a": [1, 2.5, None, True],
            "m": {"b": 1, "a": 2},
        },
    )
    return [first, caused, bare]


@pytest.mark.parametrize("env", envelopes(), ids=["first", "caused-traced", "bare"])
def test_to_kafka_makes_the_cloudevents_librarys_record_byte_for_byte(env: Envelope) -> None:
    assert env.to_kafka() == library_record(env)


@pytest.mark.parametrize("env", envelopes(), ids=["first", "caused-traced", "bare"])
def test_to_kafka_round_trips_through_the_librarys_decoder(env: Envelope) -> None:
    _, value, headers = env.to_kafka()
    assert Envelope.from_kafka(value, headers) == env


def test_event_ids_are_random_uuid4_text() -> None:
    ids = [new_event_id() for _ in range(1000)]
    assert len(set(ids)) == 1000
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text  # lower-case, hyphenated, as str(uuid.uuid4())
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
