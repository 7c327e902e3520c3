"""The obligations a timeline shows after each step, folded from the sla.* events."""

from __future__ import annotations

from typing import Any

from tidekit.ops.obligations import steps

OID = "TID-7/1"


def started(oid: str = OID, deadline: str = "2026-12-01T10:00:00Z") -> tuple[str, dict[str, Any]]:
    return "sla.clock_started", {"obligation_id": oid, "kind": "first_response",
                                 "deadline": deadline}  # fmt: skip


def test_states_follow_the_events_and_a_late_reply_stays_breached() -> None:
    history = [
        ("ticket.submitted", {"tid": "TID-7"}),
        started(),
        ("sla.clock_paused", {"obligation_id": OID}),
        ("sla.clock_resumed", {"obligation_id": OID, "deadline": "2026-12-01T11:00:00Z"}),
        ("sla.warning", {"obligation_id": OID}),
        ("sla.breached", {"obligation_id": OID}),
        ("sla.clock_met", {"obligation_id": OID}),
    ]
    after = [[(o.state, o.deadline, o.warned) for o in known] for known in steps(history)]
    assert after == [
        [],
        [("running", "2026-12-01T10:00:00Z", False)],
        [("paused", None, False)],
        [("running", "2026-12-01T11:00:00Z", False)],
        [("running", "2026-12-01T11:00:00Z", True)],
        [("breached", "2026-12-01T11:00:00Z", True)],
        [("breached", "2026-12-01T11:00:00Z", True)],  # replied late: still breached
    ]


def test_a_reply_in_time_meets_it_and_a_new_target_moves_the_deadline() -> None:
    history = [
        started(),
        ("sla.target_changed", {"obligation_id": OID, "new_deadline": "2026-12-02T10:00:00Z"}),
        ("sla.clock_met", {"obligation_id": OID}),
    ]
    last = steps(history)
    assert last[1][0].deadline == "2026-12-02T10:00:00Z"
    assert last[2][0].state == "met"


def test_obligations_are_listed_by_number_and_strangers_are_ignored() -> None:
    history = [
        started("TID-7/10"),
        started("TID-7/2"),
        ("sla.breached", {"obligation_id": "TID-7/99"}),  # its start is not in this history
    ]
    final = steps(history)[-1]
    assert [o.obligation_id for o in final] == ["TID-7/2", "TID-7/10"]
    assert final[0].short() == "/2 first_response running due 2026-12-01T10:00:00Z"
