"""SLA timer's single wiring point: `uvicorn --factory tidemark_sla_timer.app:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from tidekit.events import TOPICS
from tidekit.events.base import DomainEvent
from tidekit.events.classifier import TicketClassified
from tidekit.kafka.consumer import Delivery
from tidekit.runtime import ConsumerSpec, ServiceRuntime
from tidekit.sla import load_policy
from tidekit.store.migrate import MigrationSet
from tidekit.web.app import service_app

from .routes import router
from .service import SlaTimerService
from .settings import SlaTimerSettings


def create_app(settings: SlaTimerSettings | None = None) -> FastAPI:
    settings = settings or SlaTimerSettings()
    policy = load_policy(settings.policy_file)
    runtime = ServiceRuntime(settings, MigrationSet("sla-timer", "tidemark_sla_timer"))
    service = SlaTimerService(runtime, policy)

    async def on_classified(event: DomainEvent, delivery: Delivery) -> None:
        assert isinstance(event, TicketClassified)
        await service.on_classified(event, delivery.envelope, delivery.conn)

    runtime.consumers.append(
        ConsumerSpec(topics=[TOPICS["classifier"]], handlers={"ticket.classified": on_classified})
    )
    app = service_app(
        runtime,
        title="Tidemark SLA timer",
        description="Response clocks on business calendars; warnings, breaches.",
    )
    app.include_router(router)
    return app
