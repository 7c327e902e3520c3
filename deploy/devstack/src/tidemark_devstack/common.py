"""Shared bits of the dev stack: the state folder, default ports, process and log helpers."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parents[4]
DEPLOY_DIR = REPO_ROOT / "deploy"

# name -> (environment variable that overrides it, default port)
DEFAULT_PORTS: dict[str, tuple[str, int]] = {
    "intake": ("TIDEMARK_INTAKE_PORT", 8101),
    "classifier": ("TIDEMARK_CLASSIFIER_PORT", 8102),
    "sla-timer": ("TIDEMARK_SLA_TIMER_PORT", 8103),
    "notifier": ("TIDEMARK_NOTIFIER_PORT", 8104),
    "escalation": ("TIDEMARK_ESCALATION_PORT", 8105),
    "kafka": ("TIDEMARK_KAFKA_PORT", 9192),
    "kafka-controller": ("TIDEMARK_KAFKA_CONTROLLER_PORT", 9193),
    "postgres": ("TIDEMARK_POSTGRES_PORT", 55432),
    "smtp-sink": ("TIDEMARK_SMTP_SINK_PORT", 2525),
    "intake-smtp": ("TIDEMARK_INTAKE_SMTP_PORT", 2526),
}


class DevstackError(RuntimeError):
    """A dependency could not be installed or started; the message says why and where to look."""


def state_dir() -> Path:
    """The ignored folder holding jars, data, logs and mail (TIDEMARK_STATE_DIR)."""
    return Path(os.environ.get("TIDEMARK_STATE_DIR") or REPO_ROOT / ".tidemark").resolve()


def port_for(name: str) -> int:
    env, default = DEFAULT_PORTS[name]
    return int(os.environ.get(env) or default)


# Ports free_port has handed out in this process. The kernel may give a port it just gave
# again (the first caller has not bound it yet): two servers of one stack then got the same
# port, one failed to bind, and its health check was answered by the other.
_HANDED_OUT: set[int] = set()
_HANDING_OUT = threading.Lock()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now and that no earlier call
    in this process returned."""
    with _HANDING_OUT:
        while True:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind(("127.0.0.1", 0))
                port = int(sock.getsockname()[1])
            if port not in _HANDED_OUT:
                _HANDED_OUT.add(port)
                return port


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def log_tail(path: Path, lines: int = 40) -> str:
    """The last lines of a log file, for error messages."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    tail = text.splitlines()[-lines:]
    return f"--- last {len(tail)} lines of {path} ---\n" + "\n".join(tail)


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion even when the caller's thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    results: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            results.append(asyncio.run(coro))
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return results[0]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_pidfile(path: Path, expect: str | None = None) -> int | None:
    """The live pid in `path`; with `expect`, only when its command line contains that text
    (a recycled pid never gets signalled)."""
    try:
        pid = int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    if not pid_alive(pid):
        return None
    if expect is not None:
        try:
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return pid  # no /proc (not Linux): trust the file
        if expect not in raw.replace(b"\0", b" ").decode(errors="replace"):
            return None
    return pid


def stop_pid(pid: int, timeout: float = 30.0, sig: int = signal.SIGTERM) -> None:
    """Send `sig`, wait for the process to go, SIGKILL it after `timeout`."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            waited, _ = os.waitpid(pid, os.WNOHANG)
            if waited == pid:
                return
        except ChildProcessError:
            pass  # not our child: poll with kill(0)
        if not pid_alive(pid):
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return


def progress(message: str) -> None:
    print(f"==> {message}", flush=True)
