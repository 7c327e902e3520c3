"""The sla-timer's process does not import at start-up what only a request asking intake
about a staff key needs: httpx (and the rich and pygments its command line brings) cost
about a tenth of a second of CPU per start, which the bench counts in every breach's CPU.
A fresh interpreter each time: this test process has imported them long before."""

from __future__ import annotations

import os
import subprocess
import sys

ONLY_ON_FIRST_USE = ("httpx", "rich", "pygments")

PROBE = f"""
import sys
from tidemark_sla_timer.app import create_app
create_app()
print(" ".join(m for m in {ONLY_ON_FIRST_USE!r} if m in sys.modules))
"""


def test_making_the_app_imports_no_http_client() -> None:
    env = {**os.environ, "TIDEMARK_ENV": "development", "TIDEMARK_LOG_LEVEL": "ERROR"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []
