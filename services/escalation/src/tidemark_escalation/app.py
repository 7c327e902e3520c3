"""Escalation's single wiring point: `uvicorn --factory tidemark_escalation.app:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from tidekit.events import TOPICS
from tidekit.events.base import DomainEvent
from tidekit.kafka.consumer import Delivery
from tidekit.runtime import ConsumerSpec, ServiceRuntime
from tidekit.store.migrate import MigrationSet
from tidekit.web.app import service_app

from .routes import router
from .service import EscalationService
from .settings import EscalationSettings


def create_app(settings: EscalationSettings | None = None) -> FastAPI:
    settings = settings or EscalationSettings()
    runtime = ServiceRuntime(settings, MigrationSet("escalation", "tidemark_escalation"))
    service = EscalationService(runtime)

    async def handle(event: DomainEvent, delivery: Delivery) -> None:
        await service.on_event(event, delivery.envelope, delivery.conn)

    runtime.consumers.append(
        ConsumerSpec(
            topics=[TOPICS["classifier"], TOPICS["sla-timer"]],
            handlers={"ticket.classified": handle, "sla.clock_started": handle},
        )
    )
    app = service_app(
        runtime,
        title="Tidemark escalation",
        description="Queues in serving order; who works on what next.",
    )
    app.include_router(router)
    return app
