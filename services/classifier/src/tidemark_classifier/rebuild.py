"""`tidemark-ops rebuild classifier`: the `classifications` table from the classifier's own
events (ticket.classified carries every column, ticket.reclassified what it changes),
folded in memory and copied into the scratch table tidekit.store.rebuild swaps in.

Not rebuilt, being source data or not described in full by events: `licenses` (the
directory staff and imports maintain; license.recorded carries it but not its edits' order
against coupon overrides), `coupon_years` (allowance overrides rewrite `remaining` in
place), `coupon_spends`, `policy_versions` (written at start from the policy files).
Keep `_fold` in step with service.save_classification and save_reclassification.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from tidekit.events.base import DomainEvent
from tidekit.events.classifier import TicketClassified, TicketReclassified
from tidekit.store.rebuild import Batch, ReadModel, replace_rows, stored_event

SOURCE = """
    SELECT event_id, 'own' AS origin, event_type, schema_version, data, recorded_at,
           position AS n
    FROM events WHERE event_type IN ('ticket.classified', 'ticket.reclassified')
"""
COLUMNS = (
    "tid", "level", "severity", "category", "in_scope", "entitlement", "urgent",
    "license_key", "policy_version", "reasons", "classified_at", "rules_version",
    "submitted_at", "reclassified_at",
)  # fmt: skip


def _fold(rows: dict[str, dict[str, Any]], e: DomainEvent) -> str | None:
    """Apply one event; returns the TID whose row changed."""
    if isinstance(e, TicketClassified):
        if e.tid in rows:  # the INSERT would have failed: the first one stands
            return None
        rows[e.tid] = {
            "tid": e.tid, "level": e.level, "severity": e.severity, "category": e.category,
            "in_scope": e.in_scope, "entitlement": e.entitlement, "urgent": e.urgent,
            "license_key": e.license_key, "policy_version": e.policy_version,
            "reasons": list(e.reasons), "classified_at": e.classified_at,
            "rules_version": e.rules_version, "submitted_at": e.submitted_at,
            "reclassified_at": None,
        }  # fmt: skip
        return e.tid
    if isinstance(e, TicketReclassified) and e.tid in rows:
        row = rows[e.tid]
        row["level"], row["severity"] = e.level, e.severity
        row["reasons"] = [*row["reasons"], *e.reasons]
        row["reclassified_at"] = e.reclassified_at
        return e.tid
    return None


def read_model() -> ReadModel:
    """The classifier's read model for tidekit.store.rebuild (entry point
    `tidemark.rebuild`)."""
    rows: dict[str, dict[str, Any]] = {}
    dirty: set[str] = set()

    async def apply(conn: asyncpg.Connection, batch: Batch) -> None:
        for r in batch:
            changed = _fold(rows, stored_event(r))
            if changed:
                dirty.add(changed)

    async def flush(conn: asyncpg.Connection) -> None:
        records = [
            tuple(json.dumps(rows[t][c]) if c == "reasons" else rows[t][c] for c in COLUMNS)
            for t in dirty
        ]
        dirty.clear()
        tids = [str(r[0]) for r in records]
        await replace_rows(conn, "classifications", "tid", tids, COLUMNS, records)

    return ReadModel(["classifications"], SOURCE, apply, flush)
