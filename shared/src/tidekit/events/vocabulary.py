"""The SPEC's fixed names, as types. Changing one of these is a contract change."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime

# The SLA engine's names are defined once, in the pure package that needs them to start
# without the event catalogue (the `tidemark-sla` command); the events use the same types.
from tidekit.sla.names import Entitlement, Level, ObligationKind, Severity, Status

__all__ = [
    "CHANNELS",
    "QUEUES",
    "ROLE_RANK",
    "Category",
    "Channel",
    "CloseReason",
    "Edition",
    "Entitlement",
    "Level",
    "ObligationKind",
    "Queue",
    "Role",
    "Severity",
    "Status",
    "UtcDatetime",
]

Channel = Literal["web", "email", "in_product", "chat"]
CHANNELS: tuple[Channel, ...] = ("web", "email", "in_product", "chat")
# Staff roles (SPEC 3.4), each allowed what the ones below it are.
Role = Literal["agent", "supervisor", "admin"]
ROLE_RANK: dict[str, int] = {"agent": 1, "supervisor": 2, "admin": 3}

Category = Literal[
    "installation",
    "performance",
    "updates",
    "product_error",
    "development",
    "licensing",
    "security",
    "feature_request",
    "documentation",
    "other",
]
CloseReason = Literal["out_of_scope", "abusive_language", "unlicensed_copy", "duplicate", "other"]
Queue = Literal["tier1", "tier2", "supervisor", "development"]
QUEUES: tuple[Queue, ...] = ("tier1", "tier2", "supervisor", "development")
Edition = Literal[
    "start", "standard", "expert", "business", "premium", "ultimate", "non_commercial", "demo"
]


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""A timezone-aware instant, normalised to UTC (serialised as RFC 3339 with `Z`)."""
