"""The report's query parameters, read into a period and a zone, or a clear refusal.

`from` and `to` take a date (`2026-11-01`: midnight in the report's zone), a local time
without offset (in the report's zone) or an RFC 3339 instant with its offset. Without them
the report covers the current calendar month (in the zone) by the service clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from tidekit.sla import Policy

MAX_DAYS = 3660  # ten years: more is surely a typo, and costs a scan of everything


class BadParameter(ValueError):
    """A parameter that cannot be read; the message names it and says what it takes."""


@dataclass(frozen=True)
class Period:
    """The report's period [start, end), both instants in `zone`, the time zone its
    weeks and hours of the day are counted in."""

    start: datetime
    end: datetime
    zone: ZoneInfo


def default_zone(policy: Policy) -> str:
    """The policy's time zone: that of its `business_days` calendar (the default targets'),
    or of its first calendar when it has none of that name."""
    calendars = policy.model.calendars
    chosen = calendars.get("business_days") or next(iter(calendars.values()))
    return chosen.time_zone


_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$")


def read_zone(name: str) -> ZoneInfo:
    if len(name) > 64 or not _ZONE_NAME.match(name):
        raise BadParameter(f"tz: {name!r} is not an IANA time zone name such as Europe/Berlin")
    try:
        return ZoneInfo(name)
    except Exception as exc:  # ZoneInfoNotFoundError, or a name the database cannot open
        raise BadParameter(f"tz: unknown time zone {name!r}") from exc


def read_bound(name: str, text: str, zone: ZoneInfo) -> datetime:
    try:
        if len(text) == 10:
            instant = datetime.combine(date.fromisoformat(text), time(), zone)
        else:
            instant = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise BadParameter(
            f"{name}: {text!r} is not a date (2026-11-01) or a time (2026-11-01T00:00:00Z)"
        ) from exc
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=zone)
    if not 1900 <= instant.year <= 9000:
        raise BadParameter(f"{name}: {text!r} is outside the years 1900-9000")
    return instant


def month_start(instant: datetime, zone: ZoneInfo) -> datetime:
    local = instant.astimezone(zone)
    return datetime(local.year, local.month, 1, tzinfo=zone)


def next_month(start: datetime, zone: ZoneInfo) -> datetime:
    local = start.astimezone(zone)
    year, month = local.year + (local.month == 12), local.month % 12 + 1
    return datetime(year, month, 1, tzinfo=zone)


def read_period(
    start_text: str | None, end_text: str | None, zone_name: str, now: datetime
) -> Period:
    zone = read_zone(zone_name)
    start = month_start(now, zone) if start_text is None else read_bound("from", start_text, zone)
    end = next_month(start, zone) if end_text is None else read_bound("to", end_text, zone)
    if end <= start:
        raise BadParameter("to: must be later than from (the period is [from, to))")
    if (end - start).days > MAX_DAYS:
        raise BadParameter(f"to: the period may be at most {MAX_DAYS} days long")
    return Period(start, end, zone)
