"""Events as the other services publish them, for the notifier's tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tidekit.events import classifier, escalation, intake, sla

T0 = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
DEADLINE = T0 + timedelta(hours=24)


def submitted(tid: str, email: str, channel: str = "email", **kw: object) -> intake.TicketSubmitted:
    return intake.TicketSubmitted(
        tid=tid,
        channel=channel,  # type: ignore[arg-type]
        requester={"email": email, "name": "Ada Lovelace"},  # type: ignore[arg-type]
        license_key=kw.get("license_key", "LIC-1"),  # type: ignore[arg-type]
        subject=str(kw.get("subject", "Checkout answers 500")),
        body="Every checkout fails.",
        submitted_at=T0,
    )


def classified(tid: str, level: str = "commercial", entitlement: str = "active"):  # type: ignore[no-untyped-def]
    return classifier.TicketClassified(
        tid=tid,
        level=level,  # type: ignore[arg-type]
        severity="medium",
        category="product_error",
        in_scope=True,
        entitlement=entitlement,  # type: ignore[arg-type]
        policy_version="2026.1",
        reasons=("registered sender",),
        submitted_at=T0,
        classified_at=T0,
    )


def clock_started(tid: str, kind: str = "first_response") -> sla.ClockStarted:
    return sla.ClockStarted(
        tid=tid,
        obligation_id=f"{tid}/1",
        kind=kind,  # type: ignore[arg-type]
        level="commercial",
        severity="medium",
        started_at=T0,
        deadline=DEADLINE,
        warning_at=T0 + timedelta(hours=18),
        target_seconds=86400,
        calendar="business_days",
        policy_version="2026.1",
    )


def staff_replied(tid: str, message_id: str, visibility: str = "public") -> intake.StaffReplied:
    return intake.StaffReplied(
        tid=tid,
        message_id=message_id,
        staff_id="agent-7",
        body="Please clear the cache and try again.",
        visibility=visibility,  # type: ignore[arg-type]
        replied_at=T0,
    )


def message_added(tid: str, message_id: str, email: str) -> intake.MessageAdded:
    return intake.MessageAdded(
        tid=tid, message_id=message_id, author_email=email, body="Still broken.", via="email",
        added_at=T0,
    )  # fmt: skip


def resolved(tid: str) -> intake.TicketResolved:
    return intake.TicketResolved(tid=tid, resolved_by="agent-7", resolved_at=T0)


def closed(tid: str, reason: str = "out_of_scope") -> intake.TicketClosed:
    return intake.TicketClosed(
        tid=tid, reason=reason, note="Custom code is not covered.", closed_by="agent-7",  # type: ignore[arg-type]
        closed_at=T0,
    )  # fmt: skip


def coupon_refused(tid: str) -> classifier.VipCouponRefused:
    return classifier.VipCouponRefused(
        tid=tid, license_key="LIC-1", reason="used_up",
        explanation="3 of 3 coupons used in the license year from 2026-01-01", refused_at=T0,
    )  # fmt: skip


def credentials_destroyed(tid: str, email: str) -> intake.CredentialsDestroyed:
    return intake.CredentialsDestroyed(
        tid=tid, credentials_ref="cred-1", requester_email=email, destroyed_at=T0
    )


def warning(tid: str) -> sla.SlaWarning:
    return sla.SlaWarning(
        tid=tid, obligation_id=f"{tid}/1", kind="first_response", warning_at=T0,
        deadline=DEADLINE, emitted_at=T0, lateness_seconds=0, policy_version="2026.1",
    )  # fmt: skip


def breached(tid: str) -> sla.SlaBreached:
    return sla.SlaBreached(
        tid=tid, obligation_id=f"{tid}/1", kind="first_response", level="commercial",
        severity="medium", deadline=DEADLINE, emitted_at=DEADLINE, lateness_seconds=0,
        policy_version="2026.1",
    )  # fmt: skip


def queued(tid: str, queue: str = "tier1") -> escalation.TicketQueued:
    return escalation.TicketQueued(
        tid=tid, queue=queue, submitted_at=T0, reason="classified", rule="default",  # type: ignore[arg-type]
        queued_at=T0,
    )  # fmt: skip


def escalated(tid: str, to_queue: str = "tier2") -> escalation.TicketEscalated:
    return escalation.TicketEscalated(
        tid=tid, from_queue="tier1", to_queue=to_queue, reason="critical during tier-2 hours",  # type: ignore[arg-type]
        rule="critical_to_tier2", escalated_by="rules", escalated_at=T0,
    )  # fmt: skip
