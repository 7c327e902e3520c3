"""Routing rules as data: a versioned YAML file validated with pydantic (no I/O but the read).

The shipped default is default_rules.yaml; operators point TIDEMARK_ESCALATION_RULES_FILE at
their own. A bad file fails at start-up with a message naming the bad field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tidekit.datafile import describe, load_yaml
from tidekit.events.vocabulary import Level, Queue, Severity

Trigger = Literal["on_classified", "on_warning", "on_breach", "on_review_requested"]
PLACEHOLDERS = ("{tier2_opens}",)


class RulesError(ValueError):
    """The rules file is not valid; the message names the file and the field."""


class When(BaseModel):
    """All given conditions must hold; an absent one always holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    severity: tuple[Severity, ...] | None = None
    level: tuple[Level, ...] | None = None
    queue: tuple[Queue, ...] | None = None
    urgent: bool | None = None
    tier2_hours: bool | None = None


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    rule: str = Field(min_length=1, max_length=100, description="the name events carry")
    when: When = When()
    to: Queue
    reason: str = Field(min_length=1, max_length=500)
    note: str | None = Field(default=None, max_length=500)

    @field_validator("note")
    @classmethod
    def _placeholders(cls, value: str | None) -> str | None:
        if value is None:
            return value
        rest = value
        for p in PLACEHOLDERS:
            rest = rest.replace(p, "")
        if "{" in rest or "}" in rest:
            raise ValueError(f"the only placeholder a note may use is {', '.join(PLACEHOLDERS)}")
        return value


class Development(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    direct_levels: tuple[Level, ...] = ("commercial_vip",)
    via_queues: tuple[Queue, ...] = ("tier2", "supervisor")


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: str = Field(min_length=1)
    tier2_calendar: str = Field(min_length=1, description="a calendar of the SLA policy")
    on_classified: tuple[Rule, ...] = Field(min_length=1)
    on_warning: tuple[Rule, ...] = ()
    on_breach: tuple[Rule, ...] = ()
    on_review_requested: tuple[Rule, ...] = ()
    development: Development = Development()

    @field_validator("on_classified")
    @classmethod
    def _catch_all(cls, value: tuple[Rule, ...]) -> tuple[Rule, ...]:
        if value[-1].when != When():
            raise ValueError("the last rule must have no `when`: every ticket needs a queue")
        return value

    def for_trigger(self, trigger: Trigger) -> tuple[Rule, ...]:
        rules: tuple[Rule, ...] = getattr(self, trigger)
        return rules


def parse_rules(data: object, origin: str = "rules") -> Rules:
    try:
        rules = Rules.model_validate(data)
    except ValidationError as exc:
        raise RulesError(f"{origin}: {describe(exc)}") from None
    for trigger in ("on_classified", "on_warning", "on_breach", "on_review_requested"):
        names = [r.rule for r in rules.for_trigger(trigger)]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise RulesError(f"{origin}: {trigger}: rule names repeated: {dupes}")
    return rules


def load_rules(path: Path | str | None = None) -> Rules:
    """The rules in `path`, or the shipped default when None."""
    data, origin = load_yaml(
        path, package="tidemark_escalation", default="default_rules.yaml", error=RulesError
    )
    return parse_rules(data, origin)
