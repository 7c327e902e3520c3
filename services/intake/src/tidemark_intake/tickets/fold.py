"""The ticket read model folded in memory, for a rebuild: the same rows `projection` writes
event by event, with no round trip per event (a rebuild copies the rows in at the end).

Keep it in step with `projection`: tests/e2e/test_projection_rebuild.py compares a rebuild
with the rows the live service wrote. Two columns are not the projection's: `updated_at`
is the time of the last event folded (the live row has the moment it was written), and
the access-token salt and hash, which no event carries, are LOST until the rebuild copies
them from the live rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from operator import itemgetter
from typing import Any

import orjson

from tidekit.events import classifier, escalation, intake
from tidekit.events.base import DomainEvent

from . import obligations

LOST = "lost"
COLUMNS = (
    "tid", "status", "channel", "requester_email", "requester_name", "license_key", "subject",
    "product", "site_url", "level", "severity", "category", "in_scope", "entitlement",
    "queue", "urgent", "obligations", "messages", "token_salt", "token_hash", "created_at",
    "updated_at", "rating", "rating_comment",
)  # fmt: skip
_STATUS_AFTER: dict[type[DomainEvent], str] = {
    intake.TicketResolved: "resolved",
    intake.TicketClosed: "closed",
    intake.TicketReopened: "open",
}


def _z(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


class TicketFold:
    def __init__(self) -> None:
        self.tickets: dict[str, dict[str, Any]] = {}
        self.views: dict[str, dict[str, obligations.ObligationView]] = {}
        self.dirty: set[str] = set()

    def apply_own(self, e: DomainEvent, at: datetime) -> None:
        if isinstance(e, intake.TicketSubmitted):
            self._submitted(e)
            return
        t = self.tickets.get(e.stream_id())
        if t is None:  # the projection's UPDATE finds no row either
            return
        if isinstance(e, intake.StatusChanged):
            t["status"] = e.to_status
        elif type(e) in _STATUS_AFTER:
            t["status"] = _STATUS_AFTER[type(e)]
        elif isinstance(e, intake.MessageAdded):
            t["messages"].append({
                "message_id": e.message_id, "author": "customer", "email": e.author_email,
                "visibility": "public", "body": e.body, "at": _z(e.added_at),
                "attachments": [a.model_dump() for a in e.attachments],
            })  # fmt: skip
        elif isinstance(e, intake.StaffReplied):
            t["messages"].append({
                "message_id": e.message_id, "author": "staff", "staff_id": e.staff_id,
                "visibility": e.visibility, "body": e.body, "at": _z(e.replied_at),
                "attachments": [],
            })  # fmt: skip
        elif isinstance(e, intake.TicketRated):
            t["rating"], t["rating_comment"] = e.rating, e.comment
        else:
            return
        self._touched(t, at)

    def apply_foreign(self, e: DomainEvent, at: datetime) -> None:
        t = self.tickets.get(e.stream_id())
        if t is None:
            return
        if isinstance(e, classifier.TicketClassified | classifier.TicketReclassified):
            t["level"], t["severity"] = e.level, e.severity
            if isinstance(e, classifier.TicketClassified):
                for column in ("category", "in_scope", "entitlement", "urgent"):
                    value = getattr(e, column)
                    if value is not None:
                        t[column] = value
        elif isinstance(e, obligations.OBLIGATION_EVENTS):
            views = self.views.setdefault(e.tid, {})
            views[e.obligation_id] = obligations.evolve(views.get(e.obligation_id), e)
        elif isinstance(e, escalation.TicketQueued):
            t["queue"] = e.queue
        else:
            return
        self._touched(t, at)

    def _submitted(self, e: intake.TicketSubmitted) -> None:
        first_message = {
            "author": "customer", "email": e.requester.email, "body": e.body,
            "at": e.submitted_at.isoformat().replace("+00:00", "Z"),
            "attachments": [a.model_dump() for a in e.attachments], "visibility": "public",
        }  # fmt: skip
        self.tickets[e.tid] = {
            "tid": e.tid, "status": "new", "channel": e.channel,
            "requester_email": e.requester.email, "requester_name": e.requester.name,
            "license_key": e.license_key, "subject": e.subject,
            "product": e.product.model_dump(), "site_url": e.site_url, "level": None,
            "severity": None, "category": None, "in_scope": None, "entitlement": None,
            "queue": None, "urgent": False, "messages": [first_message], "token_salt": LOST,
            "token_hash": LOST, "created_at": e.submitted_at, "updated_at": e.submitted_at,
            "rating": None, "rating_comment": None,
        }  # fmt: skip
        self.dirty.add(e.tid)

    def _touched(self, t: dict[str, Any], at: datetime) -> None:
        t["updated_at"] = at
        self.dirty.add(t["tid"])

    def keep_tokens(self, tokens: Iterable[tuple[str, str, str]]) -> None:
        """(tid, token_salt, token_hash) of tickets, from their live rows."""
        for tid, salt, token_hash in tokens:
            if (t := self.tickets.get(tid)) is not None:
                t["token_salt"], t["token_hash"] = salt, token_hash

    def take_dirty(self) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
        """The tids changed since the last call, and their rows as `COLUMNS` tuples (JSON as
        text), each made as it is read: the COPY sends the first while the rest are made
        (read them before folding on)."""
        tids = list(self.dirty)
        self.dirty.clear()
        return tids, map(self._row, tids)

    def _row(self, tid: str) -> tuple[Any, ...]:
        t = self.tickets[tid]
        views = self.views.get(tid, {})
        row = {
            **t,
            "product": _json(t["product"]),
            "messages": _json(t["messages"]),
            "obligations": _json({k: obligations.to_json(v) for k, v in views.items()}),
        }
        return _IN_COLUMNS_ORDER(row)  # type: ignore[no-any-return]


def _json(value: Any) -> str:
    # orjson: a fraction of json.dumps' time; Postgres parses either into the same jsonb
    # (jsonb keeps neither key order nor escapes as written)
    return orjson.dumps(value).decode()


_IN_COLUMNS_ORDER = itemgetter(*COLUMNS)
