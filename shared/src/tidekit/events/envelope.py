"""CloudEvents 1.0 envelope in Kafka binary content mode (`ce_*` headers, JSON data).

Headers carried on every record: ce_specversion, ce_id, ce_source, ce_type, ce_subject
(the TID), ce_time, ce_dataschema (type and schema version), content-type, W3C traceparent
(and tracestate when present), and two extension attributes, ce_causationid (the id of
the event that caused this one) and ce_correlationid (the id of the first event of the
chain), which let consumers and analytics follow causality across topics.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from cloudevents.v1.kafka import KafkaMessage, from_binary

from tidekit.clock import wall_clock_now

from .base import DomainEvent, EventRegistry, JsonDict

SCHEMA_URI = "urn:tidemark:schema:{type}:{version}"
CONTENT_TYPE = "application/json"
_CONTENT_TYPE_BYTES = CONTENT_TYPE.encode()
# One encoder for every record's data (json.dumps with these options builds one per call).
_DATA_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True)
KafkaHeaders = list[tuple[str, bytes]]


class MalformedRecord(ValueError):
    """The Kafka record is not a Tidemark CloudEvent (missing header, bad JSON...)."""


def new_event_id() -> str:
    """A random (version 4) UUID's text, as str(uuid.uuid4()) but without building the UUID
    object, which cost more than the rest of an event's id (one per event written)."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # the RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class Cause(Protocol):
    """What an event needs of its cause: its id and the id of its chain's first event."""

    @property
    def id(self) -> str: ...

    @property
    def correlation_id(self) -> str | None: ...


@dataclass(frozen=True)
class CauseRef:
    id: str
    correlation_id: str | None


@dataclass(frozen=True)
class Origin:
    """Where events that no event caused come from, when it differs per stream of one
    append (a scheduler firing timers of many tickets): the trace they belong to (W3C
    headers) and the chain they join (its correlation id; None starts a chain of their own)."""

    trace: Mapping[str, str]
    correlation_id: str | None = None


@dataclass(frozen=True)
class Envelope:
    id: str
    type: str
    source: str
    subject: str
    time: datetime
    schema_version: int
    data: JsonDict
    causation_id: str | None = None
    correlation_id: str | None = None
    trace: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def wrap(
        cls,
        domain_event: DomainEvent,
        *,
        source: str,
        time: datetime | None = None,
        caused_by: Cause | None = None,
        chain: str | None = None,
        trace: Mapping[str, str] | None = None,
    ) -> Envelope:
        """`time` is ce_time: services pass their runtime clock's time (the event store
        does); without it (tests and tools that publish by hand) the wall clock. The event
        joins the chain of `caused_by`, else the chain `chain` names, else starts one."""
        event_id = new_event_id()
        if caused_by is not None:
            correlation_id = caused_by.correlation_id or caused_by.id
        else:
            correlation_id = chain or event_id
        return cls(
            id=event_id,
            type=domain_event.event_type,
            source=source,
            subject=domain_event.stream_id(),
            time=(time if time is not None else wall_clock_now()).astimezone(UTC),
            schema_version=domain_event.schema_version,
            data=domain_event.model_dump(mode="json"),
            causation_id=caused_by.id if caused_by else None,
            correlation_id=correlation_id,
            trace=dict(trace or {}),
        )

    @property
    def dataschema(self) -> str:
        return _dataschema(self.type, self.schema_version)

    def decode(self, registry: EventRegistry) -> DomainEvent:
        return registry.decode(self.type, self.schema_version, self.data)

    # --- Kafka binary content mode -------------------------------------------------------
    def to_kafka(self) -> tuple[bytes, bytes, KafkaHeaders]:
        """(key, value, headers) for a Kafka record keyed by the subject (the TID).

        The record cloudevents' `to_binary` makes, header for header and byte for byte,
        written out here: building its CloudEvent and KafkaMessage cost more than the rest
        of an event's write (the sla-timer wraps thousands a second). The unit tests hold
        it to `to_binary`'s output."""
        headers: KafkaHeaders = [
            ("content-type", _CONTENT_TYPE_BYTES),
            ("ce_id", self.id.encode()),
            ("ce_type", self.type.encode()),
            ("ce_source", self.source.encode()),
            ("ce_subject", self.subject.encode()),
            ("ce_time", _rfc3339(self.time).encode()),
            ("ce_specversion", b"1.0"),
            ("ce_dataschema", self.dataschema.encode()),
        ]
        if self.causation_id:
            headers.append(("ce_causationid", self.causation_id.encode()))
        if self.correlation_id:
            headers.append(("ce_correlationid", self.correlation_id.encode()))
        headers += [(k, v.encode()) for k, v in self.trace.items()]
        return self.subject.encode(), _DATA_ENCODER.encode(self.data).encode(), headers

    @classmethod
    def from_kafka(cls, value: bytes | None, headers: Sequence[tuple[str, bytes]]) -> Envelope:
        header_map = {k.lower(): v for k, v in headers}
        if value is None:
            raise MalformedRecord("record has no value")
        try:
            ce = from_binary(KafkaMessage(header_map, None, value))
        except Exception as exc:  # cloudevents raises several unrelated types
            raise MalformedRecord(f"not a CloudEvents binary record: {exc}") from exc
        attrs = ce.get_attributes()
        missing = [a for a in ("subject", "time", "dataschema") if not attrs.get(a)]
        if missing:
            raise MalformedRecord(f"missing CloudEvents attributes: {', '.join(missing)}")
        if not isinstance(ce.data, dict):
            raise MalformedRecord("event data is not a JSON object")
        try:
            version = int(str(attrs["dataschema"]).rsplit(":", 1)[1])
            time = datetime.fromisoformat(str(attrs["time"]).replace("Z", "+00:00"))
        except (IndexError, ValueError) as exc:
            raise MalformedRecord(f"bad dataschema or time attribute: {exc}") from exc
        trace: dict[str, str] = {
            k: header_map[k].decode() for k in ("traceparent", "tracestate") if k in header_map
        }
        return cls(
            id=str(attrs["id"]),
            type=str(attrs["type"]),
            source=str(attrs["source"]),
            subject=str(attrs["subject"]),
            time=time.astimezone(UTC),
            schema_version=version,
            data=ce.data,
            causation_id=attrs.get("causationid"),
            correlation_id=attrs.get("correlationid"),
            trace=trace,
        )


# Both remembered: a batch's events share one time, and few (type, version) pairs exist.
@functools.lru_cache(maxsize=256)
def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@functools.lru_cache(maxsize=256)
def _dataschema(event_type: str, version: int) -> str:
    return SCHEMA_URI.format(type=event_type, version=version)
