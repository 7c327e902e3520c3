"""The support policy as data: a versioned YAML file validated with pydantic.

Operators replace the shipped default (default_policy.yaml) with their own file; a bad
file fails with a message naming the bad field. Every target carries the policy version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tidekit.datafile import describe, load_yaml

from .calendar import WEEKDAYS, Calendar, CalendarError, Holidays, parse_hhmm
from .names import LEVELS, Level, Severity, Status

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|h|d)\s*$")
_UNIT = {"m": 60, "h": 3600, "d": 86400}


class PolicyError(ValueError):
    pass


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration like 90m, 24h or 14d")
    return timedelta(seconds=float(match.group(1)) * _UNIT[match.group(2)])


class HolidaysModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    country: str | None = None
    subdivision: str | None = None
    extra: list[date] = Field(default_factory=list)


class CalendarModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    time_zone: str = "UTC"
    hours: dict[str, list[tuple[str, str]]]
    holidays: HolidaysModel = HolidaysModel()

    @field_validator("hours")
    @classmethod
    def _weekdays(cls, value: dict[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
        unknown = set(value) - set(WEEKDAYS)
        if unknown:
            raise ValueError(f"unknown weekday(s) {sorted(unknown)}; use {', '.join(WEEKDAYS)}")
        for day, intervals in value.items():
            for start, end in intervals:
                if parse_hhmm(start) >= parse_hhmm(end):
                    raise ValueError(f"{day}: {start}-{end} does not end after it starts")
        return value

    def build(self, name: str) -> Calendar:
        week = tuple(
            tuple(sorted((parse_hhmm(a), parse_hhmm(b)) for a, b in self.hours.get(day, [])))
            for day in WEEKDAYS
        )
        holidays = Holidays(
            self.holidays.country, self.holidays.subdivision, frozenset(self.holidays.extra)
        )
        if holidays.country:  # fail now, not at the first deadline
            holidays.closed(date(2000, 1, 1))
        return Calendar(name=name, zone=self.time_zone, week=week, holidays=holidays)


class TargetModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    max_response: str
    calendar: str

    @field_validator("max_response")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value


class LevelModel(TargetModel):
    severity_targets: bool = False
    may_go_to_development: bool = False
    support_period: str | None = None


# Statuses whose meaning for a clock is fixed, so a policy cannot list them as pausing:
# new and open are the desk working on the ticket (they end a pause); resolved and closed
# meet the clock.
NOT_PAUSABLE: dict[Status, str] = {
    "new": "new and open are the statuses that run a clock",
    "open": "new and open are the statuses that run a clock",
    "resolved": "resolved and closed meet a clock",
    "closed": "resolved and closed meet a clock",
}


class PolicyModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: str = Field(min_length=1)
    warning_share: float = Field(default=0.75, gt=0, lt=1)
    pausing_statuses: tuple[Status, ...] = Field(
        default=("on_hold",),
        description="Ticket statuses that pause a running clock (SPEC 1.5: on_hold by default)",
    )
    calendars: dict[str, CalendarModel]
    levels: dict[Level, LevelModel]
    severities: dict[Severity, TargetModel]

    @field_validator("pausing_statuses")
    @classmethod
    def _pausable(cls, value: tuple[Status, ...]) -> tuple[Status, ...]:
        for status in value:
            if status in NOT_PAUSABLE:
                raise ValueError(f"{status!r} cannot pause a clock: {NOT_PAUSABLE[status]}")
        if len(set(value)) != len(value):
            raise ValueError("a status is listed twice")
        return value


@dataclass(frozen=True)
class Leg:
    """One candidate deadline: a duration on a calendar."""

    duration: timedelta
    calendar: Calendar
    source: str  # "level commercial" / "severity high": which rule gave it


@dataclass(frozen=True)
class Target:
    """What a ticket is owed: the earliest of its legs, under one policy version."""

    legs: tuple[Leg, ...]
    policy_version: str

    @property
    def duration(self) -> timedelta:  # the governing leg's, for display
        return min(leg.duration for leg in self.legs)

    @property
    def calendar(self) -> Calendar:
        return min(self.legs, key=lambda leg: leg.duration).calendar

    @cached_property
    def contenders(self) -> tuple[Leg, ...]:
        """The legs that can give the earliest deadline. A leg is dropped when another is
        no longer and runs on the same calendar or on an always-open one: that other leg
        is due no later whatever the start and the pauses."""
        return tuple(
            leg
            for i, leg in enumerate(self.legs)
            if not any(
                _dominates(other, leg, prefer=j < i) for j, other in enumerate(self.legs) if j != i
            )
        )


def _dominates(a: Leg, b: Leg, prefer: bool) -> bool:
    if a.duration > b.duration or not (a.calendar == b.calendar or a.calendar.always_open):
        return False
    tie = a.duration == b.duration and (a.calendar == b.calendar or b.calendar.always_open)
    return prefer or not tie  # of two equal legs, the first is kept


@dataclass(frozen=True)
class Policy:
    model: PolicyModel
    calendars: dict[str, Calendar]
    _targets: dict[tuple[str, str | None], Target] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def version(self) -> str:
        return self.model.version

    @property
    def warning_share(self) -> float:
        return self.model.warning_share

    @property
    def pausing_statuses(self) -> frozenset[Status]:
        """The ticket statuses that pause a running clock; any other active status runs it."""
        return frozenset(self.model.pausing_statuses)

    def model_dump(self, mode: str = "json") -> dict[str, Any]:
        return self.model.model_dump(mode=mode)

    def with_calendar(self, name: str, calendar: Calendar) -> Policy:
        return Policy(self.model, {**self.calendars, name: calendar})


def target_for(policy: Policy, level: Level, severity: Severity | None) -> Target:
    """Level target; for levels with severity targets, also the severity's (earlier wins)."""
    found = policy._targets.get((level, severity))
    if found is None:
        found = policy._targets[(level, severity)] = _target(policy, level, severity)
    return found


def _target(policy: Policy, level: Level, severity: Severity | None) -> Target:
    lvl = policy.model.levels[level]
    legs = [Leg(parse_duration(lvl.max_response), policy.calendars[lvl.calendar], f"level {level}")]
    if lvl.severity_targets and severity is not None:
        sev = policy.model.severities[severity]
        legs.append(
            Leg(
                parse_duration(sev.max_response),
                policy.calendars[sev.calendar],
                f"severity {severity}",
            )
        )
    return Target(tuple(legs), policy.version)


def build_policy(data: Any, origin: str = "policy") -> Policy:
    try:
        model = PolicyModel.model_validate(data)
        calendars = {name: cal.build(name) for name, cal in model.calendars.items()}
    except ValidationError as exc:
        raise PolicyError(f"{origin}: {describe(exc)}") from None
    except (CalendarError, ValueError) as exc:
        raise PolicyError(f"{origin}: {exc}") from None
    named: list[tuple[str, TargetModel]] = [
        *((f"levels.{name}", t) for name, t in model.levels.items()),
        *((f"severities.{name}", t) for name, t in model.severities.items()),
    ]
    for where, target in named:
        if target.calendar not in calendars:
            raise PolicyError(f"{origin}: {where}.calendar: unknown calendar {target.calendar!r}")
    missing = set(LEVELS) - set(model.levels)
    if missing:
        raise PolicyError(f"{origin}: levels: missing {sorted(missing)}")
    missing = set(get_args(Severity)) - set(model.severities)
    if missing:
        raise PolicyError(f"{origin}: severities: missing {sorted(missing)}")
    return Policy(model, calendars)


def load_policy(path: Path | str | None = None) -> Policy:
    """The policy in `path`, or the shipped default when None."""
    data, origin = load_yaml(
        path, package="tidekit.sla", default="default_policy.yaml", error=PolicyError
    )
    return build_policy(data, origin)
