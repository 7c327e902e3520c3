"""Notifier's single wiring point: `uvicorn --factory tidemark_notifier.app:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from tidekit.events import TOPICS
from tidekit.runtime import ServiceRuntime
from tidekit.store.migrate import MigrationSet
from tidekit.web.app import service_app

from .bounces import Bounce
from .routes import router
from .sender import Sender
from .service import TICKET_EVENTS, NotifierService, record_bounce, tickets_of
from .settings import NotifierSettings
from .templates import Renderer


def create_app(settings: NotifierSettings | None = None) -> FastAPI:
    settings = settings or NotifierSettings()
    renderer = Renderer(settings.template_dir)
    renderer.check()  # a broken operator template stops the start, not the first message
    runtime = ServiceRuntime(settings, MigrationSet("notifier", "tidemark_notifier"))
    service = NotifierService(settings, renderer)
    sender = Sender(settings)
    runtime.handlers.register_events(TICKET_EVENTS, service.on_event)
    runtime.handlers.register(Bounce, record_bounce)
    # A consumer commit that owed a message wakes the sender at once.
    runtime.consume_and_record(
        [TOPICS[s] for s in ("intake", "classifier", "sla-timer", "escalation")],
        after_commit=sender.wake.set,
        prefetch=tickets_of,  # the batch's tickets' rows, read and locked in one statement
    )
    runtime.workers.append(sender.run)
    app = service_app(
        runtime,
        title="Tidemark notifier",
        description="Acknowledgements, replies and alerts, exactly one each.",
    )
    app.state.notifier_settings = settings
    app.include_router(router)
    return app
