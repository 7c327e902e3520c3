"""The customer directory in Postgres: licenses, and `license.recorded` for every change."""

from __future__ import annotations

from typing import Any, Literal

import asyncpg

from tidekit.events.classifier import LicenseRecorded
from tidekit.messaging.uow import UnitOfWork

from .domain import License, Rules
from .domain.coupons import allowance_for
from .models import LicenseIn

_FIELDS = (
    "edition",
    "owner",
    "emails",
    "group_emails",
    "partner",
    "purchase_date",
    "support_end",
    "coupon_allowance",
)


def _normalised(body: LicenseIn) -> dict[str, Any]:
    data = body.model_dump()
    data["emails"] = sorted({str(e).lower() for e in body.emails})
    data["group_emails"] = sorted({str(e).lower() for e in body.group_emails})
    return data


async def load_row(conn: asyncpg.Connection | asyncpg.Pool, key: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM licenses WHERE license_key = $1", key)
    return None if row is None else dict(row)


async def load_license(conn: asyncpg.Connection, key: str | None) -> License | None:
    if key is None:
        return None
    row = await load_row(conn, key)
    if row is None:
        return None
    return License(
        license_key=row["license_key"],
        edition=row["edition"],
        owner=row["owner"],
        emails=frozenset(e.lower() for e in [*row["emails"], *row["group_emails"]]),
        partner=row["partner"],
        purchase_date=row["purchase_date"],
        support_end=row["support_end"],
        coupon_allowance=row["coupon_allowance"],
    )


async def save_license(
    uow: UnitOfWork,
    key: str,
    body: LicenseIn,
    *,
    source: Literal["api", "import"],
    recorded_by: str,
    rules: Rules,
) -> LicenseRecorded | None:
    """Create or replace a license in the unit of work, with its event (recorded: the
    license's row lock orders the writers).

    An unchanged license writes nothing (a repeated PUT or import is a no-op)."""
    conn, now = uow.conn, uow.now()
    data = _normalised(body)
    before = await conn.fetchrow("SELECT * FROM licenses WHERE license_key = $1 FOR UPDATE", key)
    if before is not None and all(
        (sorted(before[f]) if f.endswith("emails") else before[f]) == data[f] for f in _FIELDS
    ):
        return None
    await conn.execute(
        """INSERT INTO licenses (license_key, edition, owner, emails, group_emails, partner,
               purchase_date, support_end, coupon_allowance)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (license_key) DO UPDATE SET edition = EXCLUDED.edition,
               owner = EXCLUDED.owner, emails = EXCLUDED.emails,
               group_emails = EXCLUDED.group_emails, partner = EXCLUDED.partner,
               purchase_date = EXCLUDED.purchase_date, support_end = EXCLUDED.support_end,
               coupon_allowance = EXCLUDED.coupon_allowance, updated_at = now()""",
        key,
        *(data[f] for f in _FIELDS),
    )
    # A changed allowance (or edition) changes what is left in the years already counted.
    lic = License(key, data["edition"], data["owner"], frozenset(), data["partner"],
                  data["purchase_date"], data["support_end"], data["coupon_allowance"])  # fmt: skip
    await conn.execute(
        """UPDATE coupon_years SET remaining = greatest(0, remaining + $2 - allowance),
               allowance = $2 WHERE license_key = $1 AND allowance <> $2""",
        key,
        allowance_for(lic, rules),
    )
    event = LicenseRecorded(
        license_key=key,
        change="registered" if before is None else "updated",
        edition=data["edition"],
        owner=data["owner"],
        emails=tuple(data["emails"]),
        group_emails=tuple(data["group_emails"]),
        partner=data["partner"],
        purchase_date=data["purchase_date"],
        support_end=data["support_end"],
        coupon_allowance=data["coupon_allowance"],
        source=source,
        recorded_by=recorded_by,
        recorded_at=now,
    )
    uow.record([event])
    return event
