"""SLA reports: obligations kept from the sla.* events (`store.record_obligation`, called by
the consumer's handler), `GET /v1/reports/sla` and its page, and `tidemark-report`."""

from __future__ import annotations

from fastapi import FastAPI

from tidekit.sla import Policy

from .params import default_zone
from .routes import router
from .store import record_obligation

__all__ = ["install_reports", "record_obligation"]


def install_reports(app: FastAPI, policy: Policy) -> None:
    """Mount the report routes; weeks and hours default to the policy's time zone."""
    app.state.report_zone = default_zone(policy)
    app.include_router(router)
