"""Serving order within a queue (SPEC 1.3) and the cursor of a page of it. Pure.

Urgent site-recovery tickets first; then first come, first served by submission time;
ties by TID in numeric order (TID-9 before TID-10). The database orders by the same key
(columns serve_rank, submitted_at, tid_key), so `serving_key` is the contract both follow.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime

_TID = re.compile(r"^TID-(\d{1,20})$")

ServingKey = tuple[int, datetime, str]


def tid_key(tid: str) -> str:
    """A text that sorts TIDs by number: `TID-<20 digits>`; any other id sorts after them."""
    match = _TID.match(tid)
    if match is None:
        return "~" + tid  # '~' sorts after 'T'
    return f"TID-{int(match.group(1)):020d}"


def serve_rank(urgent: bool) -> int:
    return 0 if urgent else 1


def serving_key(urgent: bool, submitted_at: datetime, tid: str) -> ServingKey:
    return (serve_rank(urgent), submitted_at, tid_key(tid))


class BadCursor(ValueError):
    pass


def encode_cursor(key: ServingKey) -> str:
    rank, submitted_at, tkey = key
    raw = json.dumps([rank, submitted_at.isoformat(), tkey], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> ServingKey:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        rank, submitted, tkey = json.loads(raw)
        at = datetime.fromisoformat(submitted)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise BadCursor("cursor is not one this service gave out") from exc
    if rank not in (0, 1) or not isinstance(tkey, str) or at.tzinfo is None:
        raise BadCursor("cursor is not one this service gave out")
    return (rank, at, tkey)
