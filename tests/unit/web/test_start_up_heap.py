"""Every service's app sets its start-up heap aside (tidekit.heap) once its runtime has
started: the young collections a request's objects set off then no longer lead to full
collections that walk the app, its routes, clients and pools again (intake's POST,
docs/performance.md). A stub runtime: nothing connects."""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from typing import ClassVar, cast

from tidekit.clock import SystemClock
from tidekit.runtime import ServiceRuntime
from tidekit.settings import ServiceSettings
from tidekit.web.app import service_app


class _Settings(ServiceSettings):
    service_name: ClassVar[str] = "heap-probe"


@dataclass
class _StubRuntime:
    settings: _Settings = field(default_factory=lambda: _Settings(env="development"))
    clock: SystemClock = field(default_factory=SystemClock)
    frozen_at_start: int | None = None

    async def start(self) -> None:
        self.frozen_at_start = gc.get_freeze_count()

    async def stop(self) -> None:
        """The stand-in holds nothing to release."""

    async def readiness(self) -> dict[str, bool]:
        return {}


async def test_the_start_up_heap_is_frozen_once_the_runtime_has_started(heap: None) -> None:
    runtime = _StubRuntime()
    app = service_app(cast(ServiceRuntime, runtime), title="probe", description="probe")
    async with app.router.lifespan_context(app):
        assert runtime.frozen_at_start == 0  # nothing frozen before the runtime started
        assert gc.get_freeze_count() > 0
        assert not any(o is app for o in gc.get_objects())
