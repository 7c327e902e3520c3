"""Who may do what on Kafka: each service's ACLs for the StandardAuthorizer.

Each service has its own Kafka user. It may write (and create) only its own topic and the
dead-letter topics of the topics it reads; read the topics it reads, its own consumer
groups (`tidemark.<service>.*`) and the redrive topics of those groups (created by it);
and write idempotently on the cluster. Nothing else: a
service that tries to write another's topic gets TOPIC_AUTHORIZATION_FAILED.

The dev stack's secured broker and the tests apply these; an operator gets the same as
kafka-acls.sh commands from `python -m tidekit.kafka.acls` (docs/operations.md).
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from tidekit.events.topics import TOPICS, dlq_topic, redrive_topic

# service -> the services whose topics it reads (its ConsumerSpecs in app.py; a unit test
# keeps the two in step)
READS: Final[dict[str, tuple[str, ...]]] = {
    "intake": ("classifier", "sla-timer", "notifier", "escalation"),
    "classifier": ("intake",),
    "sla-timer": ("intake", "classifier", "escalation"),
    "notifier": ("intake", "classifier", "sla-timer", "escalation"),
    "escalation": ("intake", "classifier", "sla-timer"),
}
# every event type the sla-timer publishes: intake (the ticket's clocks) and escalation (the
# board, the reports) follow all of them
_EVERY_SLA_EVENT: Final = frozenset(
    {
        "sla.breached",
        "sla.clock_met",
        "sla.clock_paused",
        "sla.clock_resumed",
        "sla.clock_started",
        "sla.target_changed",
        "sla.warning",
    }
)
# service -> the event types its consumers handle (the handlers of its ConsumerSpecs in
# app.py; the same unit test keeps them in step): the receivers in docs/asyncapi.yaml
HANDLES: Final[dict[str, frozenset[str]]] = {
    "intake": _EVERY_SLA_EVENT
    | {
        "license.recorded",
        "notification.bounced",
        "notification.failed",
        "notification.sent",
        "ticket.classified",
        "ticket.escalated",
        "ticket.queued",
        "ticket.reclassified",
        "vip_coupon.refused",
        "vip_coupon.spent",
    },
    "classifier": frozenset(
        {
            "ticket.submitted",
        }
    ),
    "sla-timer": frozenset(
        {
            "ticket.classified",
            "ticket.closed",
            "ticket.escalated",
            "ticket.message_added",
            "ticket.reclassified",
            "ticket.reopened",
            "ticket.resolved",
            "ticket.staff_replied",
            "ticket.status_changed",
        }
    ),
    "notifier": frozenset(
        {
            "sla.breached",
            "sla.clock_started",
            "sla.warning",
            "ticket.classified",
            "ticket.closed",
            "ticket.credentials_destroyed",
            "ticket.escalated",
            "ticket.message_added",
            "ticket.queued",
            "ticket.reclassified",
            "ticket.resolved",
            "ticket.staff_replied",
            "ticket.submitted",
            "vip_coupon.refused",
        }
    ),
    "escalation": _EVERY_SLA_EVENT
    | {
        "ticket.classified",
        "ticket.closed",
        "ticket.reclassified",
        "ticket.reopened",
        "ticket.resolved",
        "ticket.submitted",  # the board's subject column
        "ticket.supervisor_review_requested",
    },
}
CLUSTER: Final = "kafka-cluster"

ResourceType = Literal["topic", "group", "cluster"]
PatternType = Literal["literal", "prefixed"]
Operation = Literal["read", "write", "create", "describe", "idempotent_write"]


@dataclass(frozen=True)
class Acl:
    """One ALLOW binding for any host."""

    principal: str  # User:<name>
    resource_type: ResourceType
    resource_name: str
    pattern_type: PatternType
    operation: Operation


def default_user(service: str) -> str:
    return f"tidemark-{service}"


def written_topics(service: str, namespace: str = "") -> list[str]:
    """Its own topic, and the DLQs of what it reads (a consumer dead-letters there)."""
    return [namespace + TOPICS[service], *(dlq_topic(t) for t in read_topics(service, namespace))]


def read_topics(service: str, namespace: str = "") -> list[str]:
    return [namespace + TOPICS[upstream] for upstream in READS[service]]


def group_prefix(service: str, namespace: str = "") -> str:
    """Every consumer group of the service: the main one and any named extra one."""
    return f"{namespace}tidemark.{service}."


def redrive_prefixes(service: str, namespace: str = "") -> list[str]:
    """The redrive topics of its groups (`<topic>.redrive.<group>`, for every topic it reads
    and every group of it): it creates and reads them; the operator's tool writes them."""
    return [
        redrive_topic(t, group_prefix(service, namespace)) for t in read_topics(service, namespace)
    ]


def service_acls(service: str, user: str | None = None, namespace: str = "") -> list[Acl]:
    principal = f"User:{user or default_user(service)}"
    acls = [
        Acl(principal, "topic", topic, "literal", operation)
        for topic in written_topics(service, namespace)
        for operation in ("write", "describe", "create")  # create: a service makes its own
    ]
    acls += [Acl(principal, "topic", t, "literal", "read") for t in read_topics(service, namespace)]
    acls += [
        Acl(principal, "topic", prefix, "prefixed", operation)
        for prefix in redrive_prefixes(service, namespace)
        for operation in ("read", "describe", "create")
    ]
    acls.append(Acl(principal, "group", group_prefix(service, namespace), "prefixed", "read"))
    acls.append(Acl(principal, "cluster", CLUSTER, "literal", "idempotent_write"))
    return acls


def all_acls(users: dict[str, str] | None = None, namespace: str = "") -> list[Acl]:
    """Every service's ACLs; `users` maps a service to its Kafka user (default tidemark-<svc>)."""
    users = users or {}
    return [
        acl for service in TOPICS for acl in service_acls(service, users.get(service), namespace)
    ]


_OPTION: Final[dict[ResourceType, str]] = {
    "topic": "--topic", "group": "--group", "cluster": "--cluster"
}  # fmt: skip
_OPERATION: Final[dict[Operation, str]] = {
    "read": "Read", "write": "Write", "create": "Create", "describe": "Describe",
    "idempotent_write": "IdempotentWrite",
}  # fmt: skip


def kafka_acls_commands(acls: Iterable[Acl], bootstrap: str, command_config: str) -> list[str]:
    """kafka-acls.sh commands adding `acls`: one per principal and set of operations on
    resources of one kind (kafka-acls applies each --operation to each resource given)."""
    operations: dict[tuple[str, PatternType, ResourceType, str], list[Operation]] = {}
    for acl in acls:
        resource = (acl.principal, acl.pattern_type, acl.resource_type, acl.resource_name)
        operations.setdefault(resource, []).append(acl.operation)
    merged: dict[tuple[str, PatternType, ResourceType, tuple[Operation, ...]], list[str]] = {}
    for (principal, pattern, rtype, name), granted in operations.items():
        merged.setdefault((principal, pattern, rtype, tuple(granted)), []).append(name)
    commands = []
    for (principal, pattern, rtype, ops), names in merged.items():
        args = ["kafka-acls.sh", "--bootstrap-server", bootstrap, "--command-config",
                command_config, "--add", "--allow-principal", principal]  # fmt: skip
        for operation in ops:
            args += ["--operation", _OPERATION[operation]]
        if pattern == "prefixed":
            args += ["--resource-pattern-type", "prefixed"]
        for name in names:
            args += ["--cluster"] if rtype == "cluster" else [_OPTION[rtype], name]
        commands.append(shlex.join(args))
    return commands


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tidekit.kafka.acls",
        description="Print the kafka-acls.sh commands that give each service its Kafka ACLs.",
    )
    parser.add_argument("--bootstrap", required=True, help="host:port of the brokers")
    parser.add_argument("--command-config", default="admin.properties",
                        help="the admin's client properties (SASL_SSL, super user)")  # fmt: skip
    parser.add_argument("--namespace", default="", help="TIDEMARK_TOPIC_NAMESPACE, e.g. staging.")
    parser.add_argument("--user", action="append", default=[], metavar="SERVICE=USER",
                        help="a service's Kafka user (default tidemark-<service>)")  # fmt: skip
    args = parser.parse_args(argv)
    users = dict(item.split("=", 1) for item in args.user)
    acls = all_acls(users, args.namespace)
    for command in kafka_acls_commands(acls, args.bootstrap, args.command_config):
        print(command)


if __name__ == "__main__":
    main()
