"""Golden JSON round-trips, the envelope on the wire, schema currency, upcasting."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from tidekit.events import registry
from tidekit.events.base import DomainEvent, EventRegistry, UnknownEventType
from tidekit.events.envelope import Envelope, MalformedRecord
from tidekit.events.schemas import render, schema_documents

from .samples import SAMPLES

GOLDEN = Path(__file__).parent / "golden"
SCHEMAS = Path(__file__).parents[3] / "docs" / "schemas"
SPEC_TYPES = {
    "ticket.submitted",
    "ticket.message_added",
    "ticket.staff_replied",
    "ticket.status_changed",
    "ticket.resolved",
    "ticket.closed",
    "ticket.reopened",
    "ticket.rated",
    "ticket.supervisor_review_requested",
    "ticket.credentials_stored",
    "ticket.credentials_destroyed",
    "ticket.classified",
    "ticket.reclassified",
    "vip_coupon.spent",
    "vip_coupon.refused",
    "sla.clock_started",
    "sla.clock_paused",
    "sla.clock_resumed",
    "sla.clock_met",
    "sla.target_changed",
    "sla.warning",
    "sla.breached",
    "notification.sent",
    "notification.failed",
    "ticket.escalated",
    "ticket.queued",
}


def test_every_spec_event_type_is_registered_and_sampled() -> None:
    registered = {cls.event_type for cls in registry}
    assert SPEC_TYPES <= registered
    assert set(SAMPLES) == registered


@pytest.mark.parametrize("event_type", sorted(SAMPLES))
def test_golden_round_trip(event_type: str) -> None:
    golden = json.loads((GOLDEN / f"{event_type}.json").read_text())
    assert golden == SAMPLES[event_type], "sample and golden file disagree"
    model = registry.decode(event_type, registry.model_for(event_type).schema_version, golden)
    assert model.model_dump(mode="json") == golden
    with pytest.raises(ValidationError):
        model.__class__.model_validate({**golden, "unexpected_field": 1})


@pytest.mark.parametrize("event_type", sorted(SAMPLES))
def test_events_are_frozen(event_type: str) -> None:
    version = registry.model_for(event_type).schema_version
    model = registry.decode(event_type, version, SAMPLES[event_type])
    with pytest.raises(ValidationError):
        model.tid = "TID-2"  # type: ignore[misc]


def test_envelope_survives_the_kafka_wire() -> None:
    submitted = registry.decode("ticket.submitted", 1, SAMPLES["ticket.submitted"])
    first = Envelope.wrap(submitted, source="tidemark/intake")
    classified = registry.decode("ticket.classified", 1, SAMPLES["ticket.classified"])
    trace = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    second = Envelope.wrap(
        classified,
        source="tidemark/classifier",
        caused_by=first,
        trace=trace,
        time=datetime(2026, 11, 27, 15, 5, tzinfo=UTC),
    )
    key, value, headers = second.to_kafka()
    names = {k for k, _ in headers}
    assert key == b"TID-1000"
    assert {
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_specversion",
        "ce_subject",
        "ce_time",
        "content-type",
        "traceparent",
        "ce_causationid",
        "ce_correlationid",
    } <= names
    assert dict(headers)["ce_time"] == b"2026-11-27T15:05:00Z"
    back = Envelope.from_kafka(value, headers)
    assert back == second
    assert back.causation_id == first.id and back.correlation_id == first.id
    assert back.decode(registry) == classified


@pytest.mark.parametrize(
    "headers, value",
    [
        ([], b"{}"),
        (
            [("ce_specversion", b"1.0"), ("ce_id", b"x"), ("ce_type", b"t"), ("ce_source", b"s")],
            b"{}",
        ),
        (
            [
                ("ce_specversion", b"1.0"),
                ("ce_id", b"x"),
                ("ce_type", b"ticket.rated"),
                ("ce_source", b"s"),
                ("ce_subject", b"TID-1"),
                ("ce_time", b"2026-01-01T00:00:00Z"),
                ("ce_dataschema", b"urn:tidemark:schema:ticket.rated:1"),
            ],
            b"not json",
        ),
    ],
)
def test_malformed_records_are_refused_with_a_reason(
    headers: list[tuple[str, bytes]], value: bytes
) -> None:
    with pytest.raises(MalformedRecord):
        Envelope.from_kafka(value, headers)


def test_published_schemas_are_current() -> None:
    documents = schema_documents()
    on_disk = {p.name for p in SCHEMAS.glob("*.json")}
    assert set(documents) <= on_disk, "run `make schemas` and commit docs/schemas"
    for name, document in documents.items():
        assert (SCHEMAS / name).read_text() == render(document), f"{name} is stale: make schemas"
    # Older versions stay published (records of them are still on the topics and readable
    # through upcasters): every version below the current one has its file, kept as it was
    # released; nothing else lies in the folder.
    older = {
        f"{cls.event_type}.v{version}.json"
        for cls in registry
        for version in range(1, cls.schema_version)
    }
    assert older <= on_disk, f"old schema versions missing: {sorted(older - on_disk)}"
    assert on_disk == set(documents) | older, f"stray files: {on_disk - set(documents) - older}"


def test_old_versions_stay_readable_through_upcasters() -> None:
    local = EventRegistry()

    @local.register
    class Rated(DomainEvent):
        event_type = "test.rated"
        schema_version = 2
        tid: str
        stars: int

    @local.upcaster("test.rated", from_version=1)
    def _v1_to_v2(data: dict[str, object]) -> dict[str, object]:
        return {"tid": data["tid"], "stars": data["rating"]}

    assert local.decode("test.rated", 1, {"tid": "TID-1", "rating": 4}) == Rated(
        tid="TID-1", stars=4
    )
    with pytest.raises(UnknownEventType):
        local.decode("test.rated", 3, {"tid": "TID-1", "stars": 4})
    with pytest.raises(UnknownEventType):
        local.decode("test.other", 1, {})


@pytest.mark.parametrize("event_type", ["sla.clock_resumed", "sla.clock_met"])
def test_v1_sla_clock_records_read_with_no_policy_version(event_type: str) -> None:
    # v1 did not record the policy version; v2 does. An old record says "unknown" (None),
    # never a guessed version.
    current = SAMPLES[event_type]
    assert current["policy_version"] == "2026.1"
    v1 = {k: v for k, v in current.items() if k != "policy_version"}
    model = registry.decode(event_type, 1, v1)
    assert model.model_dump(mode="json") == {**v1, "policy_version": None}
    assert registry.model_for(event_type).schema_version == 2


def test_a_version_1_ticket_resolved_reads_with_an_unknown_resolution_time() -> None:
    v1 = {"tid": "TID-1000", "resolved_by": "agent-7", "resolved_at": "2026-11-27T15:05:00Z"}
    resolved = registry.decode("ticket.resolved", 1, v1)
    assert resolved.model_dump(mode="json") == {
        **v1,
        "resolution_seconds": None,
        "resolution_business_seconds": None,
        "on_hold_seconds": None,
    }
