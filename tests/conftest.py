"""Test-wide configuration. Server fixtures (Kafka, Postgres, SMTP, services) live in
tests/fixtures/infra.py and start only when a test asks for them."""

from __future__ import annotations

import os

import pytest

# Apps built in process (create_app without a lifespan) run as in `make run`: development,
# where the built-in development secrets are allowed. Processes get it from the launcher.
os.environ.setdefault("TIDEMARK_ENV", "development")

pytest_plugins = [
    "tests.fixtures.infra",
    "tests.fixtures.access",
    "tests.fixtures.system",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that jump the shared system's clock days ahead run last: after the jump, every
    ticket other tests hand the system (directly or through the shared topics) would be
    overdue at once, and its breach, escalation and alerts would flood their assertions."""
    items.sort(key=lambda item: item.get_closest_marker("moves_clock") is not None)
