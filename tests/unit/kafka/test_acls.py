"""Each service's Kafka ACLs: written from the topics it reads, checked against its app."""

from __future__ import annotations

import importlib

import pytest

from tidekit.events import TOPICS
from tidekit.kafka.acls import HANDLES, all_acls, kafka_acls_commands, read_topics, service_acls
from tidemark_devstack.services import SERVICES


@pytest.mark.parametrize("service", list(SERVICES))
def test_the_acls_let_each_service_read_exactly_what_its_app_consumes(service: str) -> None:
    app = importlib.import_module(f"{SERVICES[service]}.app").create_app()  # nothing connects
    consumed = {topic for spec in app.state.runtime.consumers for topic in spec.topics}
    assert set(read_topics(service)) == consumed
    handled = {t for spec in app.state.runtime.consumers for t in spec.handlers.event_types()}
    assert HANDLES[service] == handled  # the receivers of docs/asyncapi.yaml
    granted = {a.resource_name for a in service_acls(service) if a.operation == "read"}
    redrives = {f"{topic}.redrive.tidemark.{service}." for topic in consumed}
    # ... and its consumer groups, and (prefixed) the redrive topics of those groups
    assert granted == consumed | {f"tidemark.{service}."} | redrives
    runtime = app.state.runtime
    subscribed = {t for spec in runtime.consumers for t in runtime.redrive_topics_of(spec)}
    assert all(any(t.startswith(prefix) for prefix in redrives) for t in subscribed)


def test_a_service_writes_only_its_own_topic_and_the_dlqs_of_what_it_reads() -> None:
    written = {
        (a.principal, a.resource_name)
        for a in all_acls()
        if a.resource_type == "topic"
        and a.operation in ("write", "create")
        and a.pattern_type == "literal"
    }
    # Redrive topics: a service creates and reads its own groups' ones; only the operator
    # writes them.
    redrive = [a for a in all_acls() if ".redrive." in a.resource_name]
    assert redrive and {a.operation for a in redrive} == {"read", "describe", "create"}
    assert {name for user, name in written if user == "User:tidemark-classifier"} == {
        "tidemark.classifier.v1",
        "tidemark.intake.v1.dlq",
    }
    for user, topic in written:
        if not topic.endswith(".dlq"):
            owner = next(s for s, t in TOPICS.items() if t == topic)
            assert user == f"User:tidemark-{owner}", (user, topic)


def test_groups_are_prefixed_and_idempotent_writes_allowed_on_the_cluster() -> None:
    acls = service_acls("sla-timer", user="svc-sla", namespace="staging.")
    assert {a.principal for a in acls} == {"User:svc-sla"}
    groups = [a for a in acls if a.resource_type == "group"]
    assert [(g.resource_name, g.pattern_type, g.operation) for g in groups] == [
        ("staging.tidemark.sla-timer.", "prefixed", "read")
    ]
    assert [(a.resource_type, a.operation) for a in acls if a.resource_type == "cluster"] == [
        ("cluster", "idempotent_write")
    ]
    assert all(a.resource_name.startswith("staging.") for a in acls if a.resource_type == "topic")


def test_the_operator_gets_kafka_acls_commands() -> None:
    commands = kafka_acls_commands(service_acls("classifier"), "kafka1:9093", "admin.properties")
    assert commands[0] == (
        "kafka-acls.sh --bootstrap-server kafka1:9093 --command-config admin.properties --add "
        "--allow-principal User:tidemark-classifier --operation Write --operation Describe "
        "--operation Create --topic tidemark.classifier.v1 --topic tidemark.intake.v1.dlq"
    )
    assert commands[1:] == [
        "kafka-acls.sh --bootstrap-server kafka1:9093 --command-config admin.properties --add "
        "--allow-principal User:tidemark-classifier --operation Read --topic tidemark.intake.v1",
        "kafka-acls.sh --bootstrap-server kafka1:9093 --command-config admin.properties --add "
        "--allow-principal User:tidemark-classifier --operation Read --operation Describe "
        "--operation Create --resource-pattern-type prefixed "
        "--topic tidemark.intake.v1.redrive.tidemark.classifier.",
        "kafka-acls.sh --bootstrap-server kafka1:9093 --command-config admin.properties --add "
        "--allow-principal User:tidemark-classifier --operation Read "
        "--resource-pattern-type prefixed --group tidemark.classifier.",
        "kafka-acls.sh --bootstrap-server kafka1:9093 --command-config admin.properties --add "
        "--allow-principal User:tidemark-classifier --operation IdempotentWrite --cluster",
    ]
