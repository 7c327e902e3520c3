"""Classifier's single wiring point: `uvicorn --factory tidemark_classifier.app:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from tidekit.events import TOPICS
from tidekit.runtime import ConsumerSpec, ServiceRuntime
from tidekit.sla import load_policy
from tidekit.store.migrate import MigrationSet
from tidekit.web.app import service_app

from .domain import support_periods
from .policy_history import recorder
from .routes import router
from .rules_file import load_rules, rules_document
from .service import ClassifierService
from .settings import ClassifierSettings


def create_app(settings: ClassifierSettings | None = None) -> FastAPI:
    settings = settings or ClassifierSettings()
    policy = load_policy(settings.policy_file)
    # A bad support_period fails the start, naming the file and the level.
    periods = support_periods(policy, str(settings.policy_file or "default_policy.yaml"))
    rules = load_rules(settings.rules_file)  # a bad rules file fails the start, named
    runtime = ServiceRuntime(settings, MigrationSet("classifier", "tidemark_classifier"))
    service = ClassifierService(runtime, policy.version, periods, rules)
    service.register()
    runtime.consumers.append(ConsumerSpec(topics=[TOPICS["intake"]], handlers=runtime.handlers))
    app = service_app(
        runtime,
        title="Tidemark classifier",
        description="Who the customer is and how bad the problem is, with reasons.",
    )
    app.state.classifier = service
    app.state.policy_document = {
        **policy.model_dump(mode="json"),
        "classification_rules": {
            **rules_document(settings.rules_file),
            # The version recorded with each classification (rules + text model).
            "version_in_force": rules.version,
            "text_model": rules.model.version if rules.model else None,
        },
    }
    runtime.workers.append(recorder(policy.version, app.state.policy_document))
    app.include_router(router)
    return app
