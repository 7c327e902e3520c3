"""Escalation's single wiring point: `uvicorn --factory tidemark_escalation.app:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from tidekit.events import TOPICS
from tidekit.runtime import ServiceRuntime
from tidekit.sla import load_policy
from tidekit.store.migrate import MigrationSet
from tidekit.web.app import service_app

from .board import projection as board_projection
from .board.routes import install_board
from .reports import install_reports, record_obligation
from .routes import router
from .rules import load_rules
from .service import EscalationService, ticket_lock_key
from .settings import EscalationSettings

CONSUMED = {
    TOPICS["classifier"]: ("ticket.classified", "ticket.reclassified"),
    TOPICS["sla-timer"]: (
        "sla.clock_started",
        "sla.clock_paused",
        "sla.clock_resumed",
        "sla.clock_met",
        "sla.target_changed",
        "sla.warning",
        "sla.breached",
    ),
    TOPICS["intake"]: (
        *board_projection.BOARD_ONLY_EVENTS,
        "ticket.supervisor_review_requested",
        "ticket.resolved",
        "ticket.closed",
        "ticket.reopened",
    ),
}


def create_app(settings: EscalationSettings | None = None) -> FastAPI:
    settings = settings or EscalationSettings()
    rules = load_rules(settings.rules_file)  # a bad file fails here, naming the field
    policy = load_policy(settings.policy_file)
    runtime = ServiceRuntime(settings, MigrationSet("escalation", "tidemark_escalation"))
    service = EscalationService(runtime, settings, rules, policy, report=record_obligation)
    service.register(t for types in CONSUMED.values() for t in types)
    runtime.consume_and_record(list(CONSUMED), lock_key=ticket_lock_key)
    app = service_app(
        runtime,
        title="Tidemark escalation",
        description="Queues in serving order; who works on what next.",
    )
    app.state.escalation = service
    app.state.settings = settings
    app.state.rules_version = rules.version
    app.include_router(router)
    install_reports(app, policy)
    install_board(app, settings.database_url, settings.db_schema)
    return app
