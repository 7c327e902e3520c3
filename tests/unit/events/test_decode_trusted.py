"""`EventRegistry.decode_trusted` (a rebuild's decode of its own stored JSON) gives the very
event `decode` gives, for every event type and through the upcasters; it skips only the
checks the data passed when written (the e-mail syntax)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from pydantic import ValidationError

from tidekit.events import registry
from tidekit.events.intake import TicketSubmitted

from .samples import SAMPLES


@pytest.mark.parametrize("event_type", sorted(SAMPLES))
def test_trusted_decode_gives_the_validated_event(event_type: str) -> None:
    version = registry.model_for(event_type).schema_version
    validated = registry.decode(event_type, version, SAMPLES[event_type])

    trusted = registry.decode_trusted(event_type, version, json.dumps(SAMPLES[event_type]))

    assert type(trusted) is type(validated)
    assert trusted == validated
    assert trusted.model_dump(mode="json") == SAMPLES[event_type]
    for value in trusted.__dict__.values():
        if hasattr(value, "utcoffset"):
            assert value.utcoffset() == timedelta(0)  # normalised to UTC as decode does


def test_an_old_version_is_upcast_on_the_trusted_path_too() -> None:
    v1 = {k: v for k, v in SAMPLES["sla.clock_met"].items() if k != "policy_version"}

    trusted = registry.decode_trusted("sla.clock_met", 1, json.dumps(v1))

    assert trusted == registry.decode("sla.clock_met", 1, v1)
    assert trusted.policy_version is None  # type: ignore[attr-defined]


def test_only_the_checks_passed_when_written_are_skipped() -> None:
    stored = {**SAMPLES["ticket.submitted"], "requester": {
        **SAMPLES["ticket.submitted"]["requester"], "email": "not an address"}}  # fmt: skip
    with pytest.raises(ValidationError):
        registry.decode("ticket.submitted", TicketSubmitted.schema_version, stored)
    trusted = registry.decode_trusted(
        "ticket.submitted", TicketSubmitted.schema_version, json.dumps(stored)
    )
    assert isinstance(trusted, TicketSubmitted)
    with pytest.raises(ValidationError):  # a wrong type is still refused
        registry.decode_trusted(
            "ticket.submitted", TicketSubmitted.schema_version, json.dumps({**stored, "tid": 7})
        )
