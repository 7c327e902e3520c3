"""Notifier's single wiring point: `uvicorn --factory tidemark_notifier.app:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from tidekit.events import TOPICS
from tidekit.events.base import DomainEvent
from tidekit.kafka.consumer import Delivery, Handler
from tidekit.runtime import ConsumerSpec, ServiceRuntime
from tidekit.store.migrate import MigrationSet
from tidekit.web.app import service_app

from .routes import router
from .sender import Sender
from .service import on_ticket_event
from .settings import NotifierSettings


def create_app(settings: NotifierSettings | None = None) -> FastAPI:
    settings = settings or NotifierSettings()
    runtime = ServiceRuntime(settings, MigrationSet("notifier", "tidemark_notifier"))
    sender = Sender(settings)

    async def handle(event: DomainEvent, delivery: Delivery) -> None:
        await on_ticket_event(event, delivery.envelope, delivery.conn, settings.message_id_domain)

    handlers: dict[str, Handler] = {
        t: handle for t in ("ticket.submitted", "ticket.classified", "sla.clock_started")
    }
    # A consumer commit that owed a message wakes the sender at once.
    runtime.consumers.append(
        ConsumerSpec(
            topics=[TOPICS["intake"], TOPICS["classifier"], TOPICS["sla-timer"]],
            handlers=handlers,
            after_commit=sender.wake.set,
        )
    )
    runtime.workers.append(sender.run)
    app = service_app(
        runtime,
        title="Tidemark notifier",
        description="Acknowledgements, replies and alerts, exactly one each.",
    )
    app.include_router(router)
    return app
