"""The SPEC's names the SLA engine needs: levels, severities, entitlements, obligation kinds,
ticket statuses (for the policy's pausing statuses).

They are defined here, not in `tidekit.events.vocabulary` (which re-exports them), so that
the pure package, and with it the `tidemark-sla` command, starts without loading the whole
event catalogue.
"""

from __future__ import annotations

from typing import Literal, get_args

Level = Literal[
    "vip_request",
    "partner",
    "commercial_vip",
    "commercial",
    "non_commercial",
    "non_product",
    "development",
]
Severity = Literal["critical", "high", "medium", "low"]
Entitlement = Literal["active", "expired", "unregistered_sender", "unknown_license"]
ObligationKind = Literal["first_response", "next_response"]
Status = Literal["new", "open", "waiting_on_customer", "on_hold", "resolved", "closed"]

LEVELS: tuple[Level, ...] = get_args(Level)
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
ENTITLEMENTS: tuple[Entitlement, ...] = get_args(Entitlement)
