"""End-to-end tests share the session's five-service system (tests/fixtures/system.py)."""

from tests.fixtures.system import SERVICES, System, poll, wait_ready

__all__ = ["SERVICES", "System", "poll", "wait_ready"]
