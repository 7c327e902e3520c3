"""`tidemark-sla`: the SLA rules on their own, with no Kafka or Postgres (SPEC 1.9).

tidemark-sla < cases.jsonl          one JSON line out per JSON line in
tidemark-sla due --level commercial --severity medium --at 2026-11-27T15:00Z
tidemark-sla --policy my-policy.yaml ...   (any policy file instead of the default)
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from tidekit.datafile import describe
from tidekit.literals import one_of

from . import clocks, events, queries
from .calendar import CalendarError
from .names import ENTITLEMENTS, LEVELS, SEVERITIES, Level, Severity
from .policy import CalendarModel, Policy, PolicyError, load_policy

EVENT_TYPES: dict[str, type[Any]] = {
    "submitted": events.Submitted,
    "customer_message": events.CustomerMessage,
    "staff_replied": events.StaffReplied,
    "on_hold": events.OnHold,
    "resumed": events.Resumed,
    "resolved": events.Resolved,
    "reopened": events.Reopened,
    "reclassified": events.Reclassified,
}


class CaseError(ValueError):
    pass


def utc(text: Any, what: str) -> datetime:
    if not isinstance(text, str):
        raise CaseError(f"{what} must be an RFC 3339 string")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CaseError(f"{what}: {text!r} is not an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise CaseError(f"{what}: {text!r} has no offset (use Z for UTC)")
    return moment.astimezone(UTC)


def z(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


_CALENDARS: dict[tuple[int, str], Policy] = {}  # same override, same compiled calendar


def _policy_for(base: Policy, case: dict[str, Any]) -> Policy:
    override = case.get("calendar")
    if override is None:
        return base
    if not isinstance(override, dict):
        raise CaseError("calendar must be an object")
    key = (id(base), json.dumps(override, sort_keys=True))
    cached = _CALENDARS.get(key)
    if cached is None:
        if len(_CALENDARS) > 256:
            _CALENDARS.clear()
        cached = _CALENDARS[key] = _override(base, override)
    return cached


def _override(base: Policy, override: dict[str, Any]) -> Policy:
    current = base.model.calendars["business_days"].model_dump()
    merged = {**current, **{k: v for k, v in override.items() if v is not None}}
    if "holidays" in override and not isinstance(override["holidays"], dict | None):
        raise CaseError("calendar.holidays must be an object")
    if isinstance(override.get("holidays"), dict):
        merged["holidays"] = {
            **current["holidays"],
            **{k: v for k, v in override["holidays"].items()},
        }
    try:
        calendar = CalendarModel.model_validate(merged).build("business_days")
    except ValidationError as exc:
        raise CaseError(f"calendar.{describe(exc)}") from None
    except (ValueError, CalendarError) as exc:
        raise CaseError(f"calendar: {exc}") from None
    return base.with_calendar("business_days", calendar)


def _event(raw: Any, index: int) -> events.TicketEvent:
    if not isinstance(raw, dict):
        raise CaseError(f"events[{index}] must be an object")
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in EVENT_TYPES:
        raise CaseError(f"events[{index}].type {kind!r} is not one of {sorted(EVENT_TYPES)}")
    at = utc(raw.get("at"), f"events[{index}].at")
    if kind == "reclassified":
        return _reclassified(raw, index, at)
    event: events.TicketEvent = EVENT_TYPES[kind](at)
    return event


def _reclassified(raw: dict[str, Any], index: int, at: datetime) -> events.Reclassified:
    """An absent key keeps the ticket's value; `"severity": null` clears the severity (a
    level cannot be cleared, so `"level": null` is refused rather than read as absent)."""
    if "level" not in raw and "severity" not in raw:
        raise CaseError(f"events[{index}]: reclassified needs level and/or severity")
    level: Level | events.Keep = events.KEEP
    severity: Severity | events.Keep | None = events.KEEP
    if "level" in raw:
        given_level = one_of(LEVELS, raw["level"])
        if given_level is None:
            raise CaseError(
                f"events[{index}].level {raw['level']!r} is not one of {sorted(LEVELS)}"
            )
        level = given_level
    if "severity" in raw:
        given_severity = one_of(SEVERITIES, raw["severity"])
        if raw["severity"] is not None and given_severity is None:
            raise CaseError(
                f"events[{index}].severity {raw['severity']!r} is not one of "
                f"{sorted(SEVERITIES)} or null"
            )
        severity = given_severity
    return events.Reclassified(at, level, severity)


def run_case(base: Policy, case: Any) -> dict[str, Any]:
    if not isinstance(case, dict):
        raise CaseError("a case must be a JSON object")
    level = one_of(LEVELS, case.get("level"))
    if level is None:
        raise CaseError(f"level {case.get('level')!r} is not one of {sorted(LEVELS)}")
    severity = one_of(SEVERITIES, case.get("severity"))
    if case.get("severity") is not None and severity is None:
        raise CaseError(
            f"severity {case.get('severity')!r} is not one of {sorted(SEVERITIES)} or null"
        )
    given_entitlement = case.get("entitlement") or "active"
    entitlement = one_of(ENTITLEMENTS, given_entitlement)
    if entitlement is None:
        raise CaseError(f"entitlement {given_entitlement!r} is not one of {sorted(ENTITLEMENTS)}")
    raw_events = case.get("events")
    if not isinstance(raw_events, list):
        raise CaseError("events must be a list")
    parsed = [_event(e, i) for i, e in enumerate(raw_events)]
    if any(b.at < a.at for a, b in itertools.pairwise(parsed)):
        raise CaseError("events must be in time order")
    now = utc(case["now"], "now") if case.get("now") is not None else None
    state = clocks.initial(
        _policy_for(base, case),
        level,
        severity,
        entitlement,
    )
    for event in parsed:
        if now is not None and event.at > now:
            break  # the state as of `now`: later events have not happened yet
        state = clocks.evolve(state, event)
    return {
        "id": case.get("id"),
        "obligations": [
            {
                "kind": v.kind,
                "started_at": z(v.started_at),
                "deadline": z(v.deadline),
                "warning_at": z(v.warning_at),
                "state": v.state,
            }
            for v in queries.obligations(state, now)
        ],
    }


def answer_lines(policy: Policy, lines: Iterable[str]) -> Iterator[str]:
    for line in lines:
        if not line.strip():
            continue
        case_id: Any = None
        try:
            case = json.loads(line)
            case_id = case.get("id") if isinstance(case, dict) else None
            out = run_case(policy, case)
        except json.JSONDecodeError as exc:
            out = {"id": None, "error": f"not JSON: {exc.msg} at column {exc.colno}"}
        except (CaseError, CalendarError, PolicyError) as exc:
            out = {"id": case_id, "error": str(exc)}
        except Exception as exc:  # a bad line never stops the run
            out = {"id": case_id, "error": f"{type(exc).__name__}: {exc}"}
        yield json.dumps(out, separators=(",", ":"))


def _input_batches() -> Iterator[list[str]]:
    """Standard input as batches of whole lines: whatever has arrived so far, so that bulk
    input is answered in few writes and a line-by-line co-process is answered at once."""
    raw = getattr(sys.stdin, "buffer", None)
    if raw is None or not hasattr(raw, "read1"):
        yield from ([line] for line in sys.stdin)
        return
    rest = b""
    while chunk := raw.read1(1 << 16):
        *complete, rest = (rest + chunk).split(b"\n")
        if complete:
            yield [line.decode("utf-8", "replace") for line in complete]
    if rest.strip():
        yield [rest.decode("utf-8", "replace")]


def _due(policy: Policy, args: argparse.Namespace) -> int:
    at = utc(args.at, "--at")
    state = events_apply(policy, args.level, args.severity, [events.Submitted(at)])
    ob = state.obligations[0]
    found = ob.governing()
    assert found is not None
    _, leg = found
    view = queries.obligations(state, at)[0]
    zone = leg.calendar.tz
    for label, moment in (
        ("submitted", view.started_at),
        ("warning", view.warning_at),
        ("deadline", view.deadline),
    ):
        assert moment is not None
        local = moment.astimezone(zone)
        print(f"{label:9} {z(moment)}   {local:%a %Y-%m-%d %H:%M %z} {zone.key}")
    legs = "; ".join(
        f"{leg.source}: {leg.duration} on {leg.calendar.name}" for leg in view.target.legs
    )
    print(f"target    {legs} (earliest wins: {leg.source}); policy {view.policy_version}")
    return 0


def events_apply(
    policy: Policy, level: Level, severity: Severity | None, history: list[events.TicketEvent]
) -> clocks.TicketClocks:
    state = clocks.initial(policy, level, severity)
    for event in history:
        state = clocks.evolve(state, event)
    return state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tidemark-sla",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--policy", help="a policy YAML file instead of the shipped default")
    sub = parser.add_subparsers(dest="command")
    due = sub.add_parser("due", help="when is a new ticket of this level due?")
    due.add_argument("--level", required=True, choices=sorted(LEVELS))
    due.add_argument("--severity", choices=sorted(SEVERITIES))
    due.add_argument("--at", required=True, help="submission time, e.g. 2026-11-27T15:00Z")
    args = parser.parse_args(argv)
    try:
        policy = load_policy(args.policy)
    except (PolicyError, OSError) as exc:
        print(f"tidemark-sla: {exc}", file=sys.stderr)
        return 2
    if args.command == "due":
        try:
            return _due(policy, args)
        except CaseError as exc:
            print(f"tidemark-sla: {exc}", file=sys.stderr)
            return 2
    for batch in _input_batches():
        answers = list(answer_lines(policy, batch))
        if answers:
            sys.stdout.write("\n".join(answers) + "\n")
            sys.stdout.flush()  # answered as soon as a batch of input is in
    return 0


if __name__ == "__main__":
    sys.exit(main())
