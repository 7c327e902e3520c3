"""Tidemark's domain events: frozen models, a registry, and the CloudEvents envelope.

Importing this package registers every event type of every service's topic.
"""

from . import classifier, escalation, intake, notifier, sla
from .base import DomainEvent, EventRegistry, UnknownEventType, event, registry
from .topics import TOPICS, dlq_topic, origin_topic, redrive_topic, topic_for_source

__all__ = [
    "TOPICS",
    "DomainEvent",
    "EventRegistry",
    "UnknownEventType",
    "classifier",
    "dlq_topic",
    "escalation",
    "event",
    "intake",
    "notifier",
    "origin_topic",
    "redrive_topic",
    "registry",
    "sla",
    "topic_for_source",
]
