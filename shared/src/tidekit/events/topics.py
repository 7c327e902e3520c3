"""Topic names (SPEC 3.3): each service owns one topic and is its only writer."""

from __future__ import annotations

from typing import Final

TOPICS: Final[dict[str, str]] = {
    "intake": "tidemark.intake.v1",
    "classifier": "tidemark.classifier.v1",
    "sla-timer": "tidemark.sla.v1",
    "notifier": "tidemark.notifier.v1",
    "escalation": "tidemark.escalation.v1",
}


def topic_for_source(service: str) -> str:
    return TOPICS[service]


def dlq_topic(topic: str) -> str:
    """Where records of `topic` that cannot be parsed or handled go, with the reason."""
    return f"{topic}.dlq"


REDRIVE_MARK: Final = ".redrive."


def redrive_topic(topic: str, group: str) -> str:
    """Where `tidemark-ops dlq redrive` hands dead letters of `topic` back to the consumer
    group `group` alone: only that group reads it, so no other consumer sees them again."""
    return f"{topic}{REDRIVE_MARK}{group}"


def origin_topic(topic: str) -> str:
    """The topic a record was first published to: `topic` itself, or the topic a redrive
    topic hands records of back (its dead letters go to that topic's DLQ again)."""
    return topic.split(REDRIVE_MARK, 1)[0]
