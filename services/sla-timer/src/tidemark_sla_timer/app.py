"""SLA timer's single wiring point: `uvicorn --factory tidemark_sla_timer.app:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from tidekit.events import TOPICS
from tidekit.runtime import ServiceRuntime
from tidekit.sla import load_policy
from tidekit.store.migrate import MigrationSet
from tidekit.web.app import service_app

from .routes import router
from .scheduler import Scheduler
from .service import SlaTimerService
from .settings import SlaTimerSettings

CONSUMED = (
    "ticket.message_added",
    "ticket.staff_replied",
    "ticket.status_changed",
    "ticket.resolved",
    "ticket.closed",
    "ticket.reopened",
    "ticket.classified",
    "ticket.reclassified",
    "ticket.escalated",
)


def create_app(settings: SlaTimerSettings | None = None) -> FastAPI:
    settings = settings or SlaTimerSettings()
    policy = load_policy(settings.policy_file)
    runtime = ServiceRuntime(settings, MigrationSet("sla-timer", "tidemark_sla_timer"))
    scheduler = Scheduler(settings)
    service = SlaTimerService(runtime, policy, on_timer=scheduler.offer)
    runtime.handlers.register_events(CONSUMED, service.on_event)
    runtime.consume_and_record(
        [TOPICS["intake"], TOPICS["classifier"], TOPICS["escalation"]],
        suffix=settings.consumer_group,
        after_commit=scheduler.committed,
        prefetch=service.tickets_of,  # the batch's tickets' rows, read and locked at once
    )
    runtime.workers.append(scheduler.run)
    app = service_app(
        runtime,
        title="Tidemark SLA timer",
        description="Response clocks on business calendars; warnings, breaches.",
    )
    app.state.policy = policy
    app.state.scheduler = scheduler
    app.include_router(router)
    return app
