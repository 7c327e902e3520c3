"""Intake's single wiring point: `uvicorn --factory tidemark_intake.app:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from tidekit.events import TOPICS
from tidekit.runtime import ConsumerSpec, ServiceRuntime
from tidekit.sla import load_policy
from tidekit.store.migrate import MigrationSet
from tidekit.web.app import service_app

from .access import admin_routes, introspection_routes
from .access.verifier import KeyVerifier
from .deps import require_admin
from .mail import routes as mail_routes
from .mail import smtp_listener
from .mail.intake import MailIntake
from .settings import IntakeSettings
from .tickets import action_routes
from .tickets import routes as ticket_routes
from .tickets.actions import TicketActions
from .tickets.service import IntakeService
from .vault import routes as vault_routes

FOREIGN_TOPICS = [TOPICS[s] for s in ("classifier", "sla-timer", "notifier", "escalation")]


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    policy = load_policy(settings.policy_file)  # as the sla-timer and the classifier load it
    runtime = ServiceRuntime(settings, MigrationSet("intake", "tidemark_intake"))
    service = IntakeService(runtime, settings)
    service.register()
    runtime.consumers.append(ConsumerSpec(topics=FOREIGN_TOPICS, handlers=runtime.handlers))
    api_keys = KeyVerifier(runtime.require_pool, settings.staff_key_cache_seconds)
    runtime.workers.append(api_keys.listen)  # told of keys created or revoked elsewhere
    mail = MailIntake(runtime, settings, service.tids)
    if settings.smtp_port:  # inbound mail over SMTP (docs/intake-mail.md)
        s = settings
        runtime.workers.append(
            smtp_listener.listener(mail, s.smtp_host, s.smtp_port, s.max_mail_bytes)
        )
    app = service_app(
        runtime,
        title="Tidemark intake",
        description="The front door: tickets from web, e-mail, product and chat.",
        admin_only=require_admin,  # intake checks keys itself, no introspection
    )
    app.state.api_keys = api_keys
    app.state.mail_intake = mail
    app.include_router(mail_routes.router)
    app.state.intake = service
    app.state.actions = TicketActions(runtime, settings.vault(), policy)
    for module_router in (
        ticket_routes.router,
        action_routes.router,
        vault_routes.router,
        admin_routes.router,
        introspection_routes.router,
    ):
        app.include_router(module_router)
    return app
