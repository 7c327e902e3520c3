"""Fixtures the pure tests share."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


@pytest.fixture
def heap() -> Iterator[None]:
    """For a test that sets the start-up heap aside (tidekit.heap): nothing frozen before
    it, and afterwards the test process's objects go back to the collector, whose
    thresholds are as they were."""
    gc.unfreeze()
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
