"""A pod's grace period covers a clean shutdown: uvicorn answers the in-flight requests,
then tidekit's runtime stops the consumers, flushes the outbox (bounded by
FINAL_FLUSH_SECONDS) and closes its clients. The process test is
tests/e2e/test_graceful_shutdown.py; this checks the chart leaves room for it."""

from __future__ import annotations

import pytest

from tests.delivery.chart import Manifest, of_kind
from tidekit.runtime import FINAL_FLUSH_SECONDS

# In-flight requests (their own timeouts are a few seconds) and the Kafka/Postgres close.
OTHER_SHUTDOWN_SECONDS = 15


@pytest.mark.parametrize("which", ["default_render", "production_render"])
def test_termination_grace_period_covers_the_final_flush(
    which: str, request: pytest.FixtureRequest
) -> None:
    rendered: list[Manifest] = request.getfixturevalue(which)
    deployments = of_kind(rendered, "Deployment")
    assert deployments
    for deployment in deployments:
        grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        assert grace >= FINAL_FLUSH_SECONDS + OTHER_SHUTDOWN_SECONDS, deployment["metadata"]
