"""Load generation on loopback only, bounded in count and time."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

TICKET = {
    "channel": "web",
    "requester": {"email": "bench@example.com", "name": "Bench"},
    "subject": "Checkout answers 500",
    "body": "Every checkout fails since this morning. " * 5,
    "severity_hint": "medium",
}


def wrk_post_rps(
    url: str, seconds: int = 10, connections: int = 32, headers: dict[str, str] | None = None
) -> tuple[float, int]:
    """(requests/s, requests sent) of POST {url} with a ticket body, measured by wrk."""
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
        + "done = function(summary, latency, requests)\n"
        '  io.write(string.format("non2xx=%d\\n", summary.errors.status))\n'
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
            check=True,
        ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    bad = re.search(r"non2xx=(\d+)", out)
    if match is None:
        raise RuntimeError(f"could not read wrk output:\n{out}")
    if bad and int(bad.group(1)) > 0:
        raise RuntimeError(f"{bad.group(1)} requests failed during the run:\n{out}")
    return float(match.group(1)), int(total.group(1)) if total else 0


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
