"""Load generation on loopback only, bounded in count and time."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tidemark_devstack.common import free_port

REPO = Path(__file__).resolve().parents[2]

TICKET = {
    "channel": "web",
    "requester": {"email": "bench@example.com", "name": "Bench"},
    "subject": "Checkout answers 500",
    "body": "Every checkout fails since this morning. " * 5,
    "severity_hint": "medium",
}


@dataclass(frozen=True)
class WrkRun:
    rps: float
    requests: int
    non_2xx: int
    socket_errors: int  # connect, read, write and timeout errors wrk counted
    output: str
    error: str = ""  # why wrk made no run at all (nothing listening, say); "" when it ran


# A fresh Idempotency-Key on every request, as a real frontend sends: each wrk thread gets
# its own number in setup(), each request its own counter, the run its own nonce.
_UNIQUE_KEY_LUA = """
local next_thread = 1
function setup(thread)
  thread:set("thread_no", next_thread)
  next_thread = next_thread + 1
end
local sent = 0
request = function()
  sent = sent + 1
  wrk.headers["Idempotency-Key"] = "wrk-" .. NONCE .. "-" .. thread_no .. "-" .. sent
  return wrk.format()
end
"""


def wrk_post(
    url: str,
    seconds: int = 10,
    connections: int = 32,
    headers: dict[str, str] | None = None,
    idempotency_keys: bool = False,
) -> WrkRun:
    """POST {url} with a ticket body for `seconds`, measured by wrk; failures are counted."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk")
    if not url.startswith(("http://127.", "http://localhost")):
        raise ValueError("load goes to loopback only")
    script = (
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(json.dumps(TICKET))}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        + "".join(
            f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n" for k, v in (headers or {}).items()
        )
        + (
            f"NONCE = {json.dumps(uuid.uuid4().hex[:12])}\n" + _UNIQUE_KEY_LUA
            if idempotency_keys
            else ""
        )
        + "done = function(summary, latency, requests)\n"
        "  local e = summary.errors\n"
        '  io.write(string.format("non2xx=%d socket=%d\\n", e.status,'
        " e.connect + e.read + e.write + e.timeout))\n"
        "end\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        lua = Path(tmp) / "post.lua"
        lua.write_text(script)
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "5s",
                "-s",
                str(lua),
                url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            check=False,
        )
    return read_wrk(out.returncode, out.stdout, out.stderr)


def read_wrk(returncode: int, stdout: str, stderr: str) -> WrkRun:
    """wrk's figures from its output. A run wrk could not make is a figure too, not a
    traceback: no requests, and wrk's own words in `error` (with nothing listening it
    prints "unable to connect to ..." and exits 1 before any request)."""
    match = re.search(r"Requests/sec:\s+([\d.]+)", stdout)
    total = re.search(r"(\d+) requests in", stdout)
    bad = re.search(r"non2xx=(\d+) socket=(\d+)", stdout)
    if returncode != 0 or match is None or bad is None:
        said = " ".join((stderr.strip() or stdout.strip() or "no output").split())
        return WrkRun(0.0, 0, 0, 0, stdout + stderr, error=f"wrk exited {returncode}: {said}")
    return WrkRun(
        rps=float(match.group(1)),
        requests=int(total.group(1)) if total else 0,
        non_2xx=int(bad.group(1)),
        socket_errors=int(bad.group(2)),
        output=stdout,
    )


def wrk_post_rps(
    url: str, seconds: int = 10, connections: int = 32, headers: dict[str, str] | None = None
) -> tuple[float, int]:
    """(requests/s, requests sent) of POST {url}; raises when a request failed."""
    run = wrk_post(url, seconds, connections, headers)
    if run.error:
        raise RuntimeError(run.error)
    if run.non_2xx > 0:
        raise RuntimeError(f"{run.non_2xx} requests failed during the run:\n{run.output}")
    return run.rps, run.requests


def wait_ok(url: str, timeout: float = 120.0) -> None:
    """Until `url` answers 200 (a service's /readyz, a bare app's /docs)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer 200 within {timeout}s")


@contextlib.contextmanager
def yardstick(app: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """A yardstick app (`tests.bench.<app>:create_app`, e.g. `bare_app`), served by uvicorn
    as the services are, for as long as the block runs: its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "--factory", f"tests.bench.{app}:create_app"),
            *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"),
        ],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ok(f"http://127.0.0.1:{port}/docs")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)
