"""The SLA report's arithmetic (docs/sla.md, "SLA attainment") against hand-computed cases,
with properties, and against examples/sla_attainment.py on the same events."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from tests.integration.test_attainment_example import as_pairs, example, history
from tidemark_escalation.reports.domain.attainment import (
    GROUP_BYS,
    KINDS,
    build_report,
    nearest_rank,
    outcome,
)
from tidemark_escalation.reports.domain.obligations import ObligationRecord, evolve

UTC_ZONE = ZoneInfo("UTC")
NOV, DEC = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)


def at(day: int, hour: int = 12, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def ob(name: str, deadline: datetime | None, *, kind: str = "first_response",
       level: str = "commercial", started: datetime | None = None, met: datetime | None = None,
       breached: bool = False, paused: float = 0.0) -> ObligationRecord:  # fmt: skip
    start = started or (deadline - timedelta(days=1) if deadline else at(1))
    return ObligationRecord(
        obligation_id=f"TID-{name}/1", tid=f"TID-{name}", kind=kind, level=level,
        severity="medium", queue="tier1", started_at=start, deadline=deadline, met_at=met,
        breached_at=deadline if breached else None, paused_seconds=paused,
    )  # fmt: skip


# Deadlines in November 2026 (Mondays: 2, 9, 16, 23, 30), the verdict as of 5 December.
CASES = [
    ob("A", at(10), met=at(9, 18)),  # met, 6 h after its start (9th 12:00)
    ob("B", at(12), met=at(13), breached=True),  # breached, replied 48 h after start
    ob("C", at(20)),  # no reply: breached once the 20th 12:00 passes
    ob("D", at(18), level="partner", met=at(18), paused=3600),  # met at the deadline instant
    ob("E", at(25), kind="next_response", met=at(24, 18)),  # met, 6 h after its start
    ob("F", at(2, month=12)),  # due in December: out
    ob("G", None),  # paused: no deadline, out
    ob("H", datetime(2026, 11, 1, tzinfo=UTC), level="non_commercial"),  # from is included
    ob("I", DEC),  # to is excluded
]


def report(as_of: datetime, group_by: str = "level", zone: ZoneInfo = UTC_ZONE,
           records: list[ObligationRecord] = CASES):  # type: ignore[no-untyped-def]  # fmt: skip
    return build_report(records, start=NOV, end=DEC, as_of=as_of, zone=zone, group_by=group_by)  # type: ignore[arg-type]


def counts(t) -> tuple[int, int, int, float | None]:  # type: ignore[no-untyped-def]
    return (t.met, t.breached, t.running, t.attainment)


def test_totals_by_hand() -> None:
    r = report(as_of=at(5, month=12))
    first = r.totals["first_response"]
    assert counts(first) == (2, 3, 0, 0.4)  # met A, D; breached B, C, H
    assert counts(r.totals["next_response"]) == (1, 0, 0, 1.0)
    # replies 6 h (A), 48 h (B, late), 24 h (D): nearest rank, median 2nd of 3, p90 3rd of 3
    assert sorted(first.response_seconds) == [21600, 86400, 172800]
    assert (first.median_response_seconds, first.p90_response_seconds) == (86400, 172800)
    assert first.paused_seconds == 3600


def test_a_deadline_not_yet_passed_is_running_and_left_out_of_attainment() -> None:
    r = report(as_of=at(19))  # C is due on the 20th
    assert counts(r.totals["first_response"]) == (2, 2, 1, 0.5)


def test_groups_by_level_and_week_and_hours_of_breaches() -> None:
    r = report(as_of=at(5, month=12))
    by_level = {(row.kind, row.group): counts(row.tally) for row in r.rows}
    assert by_level == {
        ("first_response", "commercial"): (1, 2, 0, 0.3333),
        ("first_response", "non_commercial"): (0, 1, 0, 0.0),
        ("first_response", "partner"): (1, 0, 0, 1.0),
        ("next_response", "commercial"): (1, 0, 0, 1.0),
    }
    weeks = {row.group: counts(row.tally) for row in report(at(5, month=12), "week").rows}
    # H (Sunday 1 Nov) belongs to the week of Monday 26 October
    assert weeks == {
        "2026-10-26": (0, 1, 0, 0.0),
        "2026-11-09": (1, 1, 0, 0.5),  # A, B
        "2026-11-16": (1, 1, 0, 0.5),  # D, C
        "2026-11-23": (1, 0, 0, 1.0),  # E (next response)
    }
    hours = r.breaches_by_hour["first_response"]
    assert (hours[12], hours[0], sum(hours)) == (2, 1, 3)
    assert sum(r.breaches_by_hour["next_response"]) == 0
    cells = {(c.level, c.week): c.tally.attainment for c in r.level_weeks
             if c.kind == "first_response"}  # fmt: skip
    assert cells[("commercial", "2026-11-09")] == 0.5 and cells[("partner", "2026-11-16")] == 1.0


def test_weeks_and_hours_are_read_in_the_report_zone() -> None:
    york = ZoneInfo("America/New_York")
    start, end = datetime(2026, 11, 1, tzinfo=york), datetime(2026, 12, 1, tzinfo=york)
    # H is due 1 Nov 00:00 UTC = 31 Oct 20:00 in New York (EDT): before the local month
    r = build_report(CASES, start=start, end=end, as_of=at(5, month=12), zone=york,
                     group_by="week")  # fmt: skip
    # ... and I (1 Dec 00:00 UTC = 30 Nov 19:00 EST) is in: met A, D; breached B, C, I
    assert counts(r.totals["first_response"]) == (2, 3, 0, 0.4)
    hours = r.breaches_by_hour["first_response"]
    assert (hours[7], hours[19], sum(hours)) == (2, 1, 3)  # B and C at 07:00 EST, I at 19:00


def test_queue_and_severity_groups_name_the_unknown() -> None:
    records = [replace(CASES[0], queue=None, severity=None), CASES[1]]
    r = report(at(5, month=12), "queue", records=records)
    assert [row.group for row in r.rows] == ["tier1", "unknown"]
    r = report(at(5, month=12), "severity", records=records)
    assert [row.group for row in r.rows] == ["medium", "none"]


def test_nearest_rank() -> None:
    assert nearest_rank([], 0.5) is None
    assert nearest_rank([5.0], 0.9) == 5.0
    assert nearest_rank([4.0, 1.0, 3.0, 2.0], 0.5) == 2.0  # the 2nd of 4
    assert nearest_rank([float(n) for n in range(1, 11)], 0.9) == 9.0  # the 9th of 10


def test_met_at_the_deadline_instant_is_met_and_a_deadline_reached_is_breached() -> None:
    assert outcome(ob("X", at(10), met=at(10)), as_of=at(11)) == "met"
    assert outcome(ob("X", at(10)), as_of=at(10)) == "breached"
    assert outcome(ob("X", at(10)), as_of=at(10) - timedelta(microseconds=1)) == "running"
    assert outcome(ob("X", None), as_of=at(10)) is None


# --- the fold, and the example on the same events ------------------------------------------


def fold(events, queue: str | None = "tier1") -> dict[str, ObligationRecord]:  # type: ignore[no-untyped-def]
    records: dict[str, ObligationRecord] = {}
    for e in events:
        new = evolve(records.get(e.obligation_id), e, queue)
        if new is not None:
            records[e.obligation_id] = new
    return records


def by_level(r) -> dict[str, dict[str, dict[str, object]]]:  # type: ignore[no-untyped-def]
    out: dict[str, dict[str, dict[str, object]]] = {}
    for row in r.rows:
        t = row.tally
        out.setdefault(row.group, {})[row.kind] = {
            "met": t.met, "breached": t.breached, "running": t.running,
            "attainment": t.attainment,
        }  # fmt: skip
    return out


def test_the_report_agrees_with_the_example_on_the_same_events() -> None:
    ex = example()
    events = history()
    theirs_fold = ex.fold(as_pairs(events))
    ours = list(fold(events).values())
    for as_of in (at(5, month=12), at(29)):
        theirs = ex.attainment(theirs_fold, NOV, DEC, now=as_of).as_json()
        assert by_level(report(as_of, records=ours)) == theirs
    assert (
        by_level(report(at(5, month=12), records=ours))["commercial"]["first_response"][
            "attainment"
        ]
        == 0.25
    )  # the worked figure of docs/sla.md


def test_the_fold_keeps_pauses_the_last_deadline_and_the_queue_of_the_breach() -> None:
    from tidekit.events.sla import ClockMet, ClockPaused, ClockResumed, SlaBreached

    start = history()[0]
    oid, tid = start.obligation_id, start.tid
    steps = [
        (start, None),  # the sla topic came first: no queue yet
        (ClockPaused(tid=tid, obligation_id=oid, paused_at=at(3), elapsed_seconds=1), "tier1"),
        (
            ClockResumed(
                tid=tid,
                obligation_id=oid,
                resumed_at=at(3, 14),
                deadline=at(10, 14),
                warning_at=at(10, 8),
            ),
            "tier1",
        ),
        (
            SlaBreached(
                tid=tid,
                obligation_id=oid,
                kind="first_response",
                level="commercial",
                severity=None,
                deadline=at(10, 14),
                emitted_at=at(10, 15),
                lateness_seconds=3600,
                policy_version="2026.1",
            ),
            "tier1",
        ),
        (
            ClockMet(
                tid=tid, obligation_id=oid, met_at=at(11), deadline=at(10, 14), elapsed_seconds=9
            ),
            "tier2",
        ),  # the breach moved it to tier 2
    ]
    record = None
    seen = []
    for event, queue in steps:
        record = evolve(record, event, queue)
        assert record is not None
        seen.append((record.deadline, record.queue))
    assert seen == [(at(10), None), (None, "tier1"), (at(10, 14), "tier1"),
                    (at(10, 14), "tier1"), (at(10, 14), "tier1")]  # fmt: skip
    assert record is not None
    assert record.paused_seconds == 7200 and record.paused_since is None
    assert (record.met_at, record.breached_at) == (at(11), at(10, 14))
    assert evolve(None, steps[1][0], "tier1") is None  # its start never seen: ignored


# --- properties ---------------------------------------------------------------------------

instants = st.integers(min_value=0, max_value=60 * 24 * 45).map(
    lambda m: datetime(2026, 10, 20, tzinfo=UTC) + timedelta(minutes=m)
)
records = st.builds(
    lambda n, kind, level, deadline, reply, breached, paused: ob(
        str(n),
        deadline,
        kind=kind,
        level=level,
        met=None if reply is None or deadline is None else deadline + timedelta(minutes=reply),
        breached=breached,
        paused=paused,
    ),
    st.integers(0, 10**6),
    st.sampled_from(KINDS),
    st.sampled_from(["commercial", "partner", "vip_request"]),
    st.none() | instants,
    st.none() | st.integers(-3000, 3000),
    st.booleans(),
    st.floats(0, 10**5),
)


@given(st.lists(records, max_size=40), instants, st.sampled_from(GROUP_BYS),
       st.sampled_from(["UTC", "America/New_York", "Asia/Kolkata"]))  # fmt: skip
def test_every_obligation_due_is_counted_once_and_attainment_is_a_share(
    records: list[ObligationRecord], as_of: datetime, group_by: str, zone: str
) -> None:
    r = report(as_of, group_by, ZoneInfo(zone), records)
    for kind in KINDS:
        due = [x for x in records if x.kind == kind and x.deadline and NOV <= x.deadline < DEC]
        total = r.totals[kind]
        assert total.met + total.breached + total.running == len(due)
        assert total.attainment is None or 0 <= total.attainment <= 1
        rows = [row.tally for row in r.rows if row.kind == kind]
        assert sum(t.obligations for t in rows) == len(due)
        assert sum(t.breached for t in rows) == total.breached == sum(r.breaches_by_hour[kind])
        cells = [c.tally for c in r.level_weeks if c.kind == kind]
        assert sum(t.met for t in cells) == total.met


@given(st.lists(records, max_size=30), instants)
def test_time_only_turns_running_into_breached(records: list[ObligationRecord],
                                               as_of: datetime) -> None:  # fmt: skip
    earlier, later = report(as_of), report(as_of + timedelta(days=3))
    for kind in KINDS:
        a, b = earlier.totals[kind], later.totals[kind]
        assert a.met == b.met and b.breached >= a.breached and b.running <= a.running
