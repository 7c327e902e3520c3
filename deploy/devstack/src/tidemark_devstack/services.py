"""Each Tidemark service as a uvicorn subprocess with its own port and log file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tidemark_devstack.common import REPO_ROOT, DevstackError, log_tail

# service directory name -> Python package
SERVICES: dict[str, str] = {
    "intake": "tidemark_intake",
    "classifier": "tidemark_classifier",
    "sla-timer": "tidemark_sla_timer",
    "notifier": "tidemark_notifier",
    "escalation": "tidemark_escalation",
}


@dataclass(frozen=True)
class Endpoints:
    """Where the infrastructure listens; turned into the services' environment."""

    database_url: str
    kafka_bootstrap: str
    smtp_host: str
    smtp_port: int
    intake_url: str | None = None  # the other services ask intake about staff keys
    service_key: str | None = None  # ... with this key (kind `service`)

    def env(self) -> dict[str, str]:
        intake = {"TIDEMARK_INTAKE_URL": self.intake_url} if self.intake_url else {}
        if self.service_key:
            intake["TIDEMARK_SERVICE_KEY"] = self.service_key
        return {
            **intake,
            "TIDEMARK_ENV": "development",  # built-in development secrets are allowed
            "TIDEMARK_DATABASE_URL": self.database_url,
            "TIDEMARK_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            # outbound mail is the notifier's; intake's own SMTP port is its listener
            "TIDEMARK_NOTIFIER_SMTP_HOST": self.smtp_host,
            "TIDEMARK_NOTIFIER_SMTP_PORT": str(self.smtp_port),
        }


class ServiceProcess:
    """`python -m uvicorn --factory tidemark_<svc>.app:create_app` on 127.0.0.1:`port`."""

    def __init__(
        self,
        name: str,
        port: int,
        env: Mapping[str, str],
        log_file: Path,
        python: str = sys.executable,
    ) -> None:
        if name not in SERVICES:
            raise ValueError(f"unknown service {name!r}; one of {sorted(SERVICES)}")
        self.name = name
        self.port = port
        self.env = dict(env)
        self.log_file = log_file
        self.python = python
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def command(self) -> list[str]:
        app = f"{SERVICES[self.name]}.app:create_app"
        return [self.python, "-m", "uvicorn", "--factory", app,
                "--host", "127.0.0.1", "--port", str(self.port)]  # fmt: skip

    def start(self) -> ServiceProcess:
        if self.alive:
            return self
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        with self.log_file.open("ab") as out:
            out.write(f"\n=== starting {self.name} on {self.url} ===\n".encode())
            out.flush()
            self.proc = subprocess.Popen(
                self.command(), env=env, cwd=REPO_ROOT, stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        return self

    def wait_healthy(self, timeout: float = 60.0, path: str = "/healthz") -> None:
        """Poll GET `path` until 200; fail fast with the log tail when the process dies."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                code = None if self.proc is None else self.proc.returncode
                raise DevstackError(
                    f"service {self.name} exited (code {code}) before it was healthy\n"
                    + log_tail(self.log_file)
                )
            try:
                with urllib.request.urlopen(self.url + path, timeout=2) as response:
                    if response.status == 200:
                        return
                    last = f"HTTP {response.status}"
            except (urllib.error.URLError, OSError) as exc:
                last = repr(exc)
            time.sleep(0.2)
        raise DevstackError(
            f"service {self.name} at {self.url} not healthy after {timeout:.0f}s ({last})\n"
            + log_tail(self.log_file)
        )

    def terminate(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, wait for a clean exit; SIGKILL after `timeout`. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def kill(self) -> int | None:
        """SIGKILL: no shutdown hooks run."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.kill()
        return self.proc.wait()

    def restart(self, timeout: float = 15.0) -> ServiceProcess:
        self.terminate(timeout)
        self.proc = None
        return self.start()


def create_api_key(database_url: str, *scope: str) -> str:
    """A new API key made by `tidemark-keys create <scope> --quiet` against `database_url`."""
    command = [sys.executable, "-m", "tidemark_intake.access.keys_cli", "create", *scope, "--quiet"]
    env = {**os.environ, "TIDEMARK_DATABASE_URL": database_url}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise DevstackError(f"tidemark-keys create {' '.join(scope)} failed: {done.stderr}")
    return done.stdout.strip()


def service_env(endpoints: Endpoints, intake_smtp_port: int, extra: Mapping[str, str] | None
                ) -> dict[str, str]:  # fmt: skip
    env = endpoints.env()
    env["TIDEMARK_INTAKE_SMTP_PORT"] = str(intake_smtp_port)
    env.update(extra or {})
    return env
