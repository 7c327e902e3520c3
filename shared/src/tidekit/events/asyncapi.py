"""The event contract as an AsyncAPI 3.0 document (docs/asyncapi.yaml), from the registry.

One channel per topic and one per its DLQ; one message per event type, its payload the
published JSON Schema file of its current version (docs/schemas/<type>.v<N>.json), the
CloudEvents Kafka headers as a message trait and the TID as the record key. Who sends is
the topic's owner (the module an event is defined in); who receives comes from
`tidekit.kafka.acls.HANDLES` (kept in step with the services' ConsumerSpecs by a test).
Written by `make schemas`; a test validates it against the AsyncAPI 3.0.0 JSON Schema and
fails when it is stale.
"""

from __future__ import annotations

from typing import Any, Final

import yaml

from tidekit.events import registry
from tidekit.events.base import DomainEvent
from tidekit.events.topics import TOPICS, dlq_topic
from tidekit.kafka.acls import HANDLES, READS

OWNER_OF_MODULE: Final = {"intake": "intake", "classifier": "classifier", "sla": "sla-timer",
                          "notifier": "notifier", "escalation": "escalation"}  # fmt: skip
KAFKA_BINDING: Final = "0.5.0"
CE_HEADERS: Final[dict[str, str]] = {
    "ce_specversion": "CloudEvents version, always 1.0",
    "ce_id": "the event's id (UUID): unique, the same on every redelivery and replay; "
    "de-duplicate on it",
    "ce_source": "tidemark/<service> that wrote it",
    "ce_type": "the event type (the message name)",
    "ce_subject": "the ticket id (TID), also the record key",
    "ce_time": "when it occurred (RFC 3339, UTC)",
    "ce_dataschema": "urn:tidemark:schema:<type>:<version>: the schema version of the data",
    "ce_partitionkey": "the record key (the TID)",
    "ce_causationid": "id of the event that caused this one (absent for a first cause)",
    "ce_correlationid": "id of the first event of the causal chain",
    "content-type": "application/json",
    "traceparent": "W3C trace context",
    "tracestate": "W3C trace context (when present)",
}
REQUIRED_HEADERS: Final = ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject",
                           "ce_time", "ce_dataschema", "content-type"]  # fmt: skip


def owner(cls: type[DomainEvent]) -> str:
    return OWNER_OF_MODULE[cls.__module__.rsplit(".", 1)[-1]]


def receivers(event_type: str) -> list[str]:
    return [s for s in TOPICS if event_type in HANDLES[s]]


def _message(cls: type[DomainEvent]) -> dict[str, Any]:
    name = cls.event_type
    doc = (cls.__doc__ or "").strip()
    return {
        "name": name,
        "title": name,
        "summary": doc.split("\n\n")[0].replace("\n", " ") if doc else name,
        "contentType": "application/json",
        "payload": {"$ref": f"./schemas/{name}.v{cls.schema_version}.json"},
        "correlationId": {"location": "$message.header#/ce_correlationid"},
        "traits": [{"$ref": "#/components/messageTraits/cloudEvents"}],
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": "the TID"},
                "bindingVersion": KAFKA_BINDING,
            }
        },
        "x-schema-version": cls.schema_version,
        "x-sender": owner(cls),
        "x-receivers": receivers(name),
    }


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/{kind}/{name}"}


def document() -> dict[str, Any]:
    events = list(registry)
    by_owner = {s: [c.event_type for c in events if owner(c) == s] for s in TOPICS}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for service, topic in TOPICS.items():
        messages = {t: {"$ref": f"#/components/messages/{t}"} for t in by_owner[service]}
        channels[service] = {
            "address": topic,
            "title": f"{service}'s events",
            "description": f"Written only by {service} (through its outbox); keyed by TID, "
            "so a ticket's events are in order within a partition.",
            "messages": messages,
            "bindings": {
                "kafka": {"topic": topic, "partitions": 3, "bindingVersion": KAFKA_BINDING}
            },
        }
        channels[f"{service}-dlq"] = {
            "address": dlq_topic(topic),
            "title": f"dead letters of {topic}",
            "description": "Records of the topic a consumer could not parse or handle, as "
            "they were, plus the headers dlq_reason, dlq_consumer, dlq_source "
            "(`tidemark-ops dlq show|redrive`).",
            "messages": {t: {"$ref": f"#/channels/{service}/messages/{t}"} for t in messages},
        }
        operations[f"{service}.send"] = {
            "action": "send",
            "channel": _ref("channels", service),
            "summary": f"{service} publishes its events",
            "messages": [_ref(f"channels/{service}/messages", t) for t in messages],
        }
    for reader, upstreams in READS.items():
        for upstream in upstreams:
            handled = [t for t in by_owner[upstream] if t in HANDLES[reader]]
            operations[f"{reader}.receive.{upstream}"] = {
                "action": "receive",
                "channel": _ref("channels", upstream),
                "summary": f"{reader} handles these {upstream} events (others it skips)",
                "messages": [_ref(f"channels/{upstream}/messages", t) for t in handled],
                "bindings": {
                    "kafka": {
                        "groupId": {"type": "string", "const": f"tidemark.{reader}.main"},
                        "bindingVersion": KAFKA_BINDING,
                    }
                },
            }
            operations[f"{reader}.deadletter.{upstream}"] = {
                "action": "send",
                "channel": _ref("channels", f"{upstream}-dlq"),
                "summary": f"{reader} dead-letters {upstream} records it cannot handle",
            }
    trait_headers = {
        "type": "object",
        "required": REQUIRED_HEADERS,
        "properties": {k: {"type": "string", "description": d} for k, d in CE_HEADERS.items()},
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Tidemark events",
            "version": "1.0.0",
            "description": "Generated by `make schemas` from tidekit's event registry; do not "
            "edit. Topic names get TIDEMARK_TOPIC_NAMESPACE before them when one is set.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": {c.event_type: _message(c) for c in events},
            "messageTraits": {
                "cloudEvents": {
                    "summary": "CloudEvents 1.0, Kafka binary content mode",
                    "headers": trait_headers,
                }
            },
        },
    }


def render() -> str:
    return yaml.safe_dump(document(), sort_keys=False, width=100, allow_unicode=True)
