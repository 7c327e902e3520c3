"""No image can be built here (no Docker engine), so this builds the very venv the
Dockerfile's build stage builds, with the same script (deploy/image/build-venv.sh), and runs
a service from it the way the image's CMD does: outside the repository, with nothing on
the path but that venv, against the test Kafka and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.delivery.chart import REPO_ROOT
from tidemark_devstack.common import free_port
from tidemark_devstack.services import SERVICES

BUILD_SCRIPT = REPO_ROOT / "deploy" / "image" / "build-venv.sh"
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("image") / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    done = subprocess.run(["bash", str(BUILD_SCRIPT), str(venv)], env=env,
                          capture_output=True, text=True, check=False, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return venv


def _run_env(venv: Path, extra: dict[str, str]) -> dict[str, str]:
    """What the image has: the venv first on PATH, no bytecode writes, nothing else."""
    return {
        "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(venv.parent),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def test_the_venv_holds_the_five_services_and_not_the_dev_tools(image_venv: Path) -> None:
    probe = ("import importlib.util, json, sys; print(json.dumps({m: (s.origin if (s := "
             "importlib.util.find_spec(m)) else None) for m in sys.argv[1:]}))")  # fmt: skip
    modules = [f"{package}.app" for package in SERVICES.values()]
    modules += ["tidekit.kafka.topics", "tidemark_devstack", "pytest", "ruff"]
    done = subprocess.run(
        [str(image_venv / "bin" / "python"), "-c", probe, *modules],
        env=_run_env(image_venv, {}), cwd=image_venv.parent,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    found: dict[str, str | None] = json.loads(done.stdout)
    for module in modules[:-3]:
        origin = found[module]
        assert origin and origin.startswith(str(image_venv)), f"{module} from {origin}"
    assert found["tidemark_devstack"] is None and found["pytest"] is None
    assert found["ruff"] is None


@pytest.fixture
def intake_from_venv(
    image_venv: Path, kafka_bootstrap: str, database_url: str
) -> Iterator[tuple[str, Path]]:
    port = free_port()
    log = image_venv.parent / "intake.log"
    env = _run_env(image_venv, {
        "TIDEMARK_ENV": "development",
        "TIDEMARK_DATABASE_URL": database_url,
        "TIDEMARK_KAFKA_BOOTSTRAP": kafka_bootstrap,
    })  # fmt: skip
    # The image's CMD, with a free port on loopback.
    command = ["uvicorn", "--factory", "tidemark_intake.app:create_app",
               "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, env=env, cwd=image_venv.parent, stdin=subprocess.DEVNULL,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        yield f"http://127.0.0.1:{port}", log
    finally:
        proc.kill()
        proc.wait()


def _wait_ready(url: str, log: Path, timeout: float = 90.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=5) as response:
                body: dict[str, object] = json.load(response)
                return body
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            last = repr(exc)
        time.sleep(0.3)
    raise AssertionError(f"not ready after {timeout}s ({last}):\n{log.read_text()[-3000:]}")


def test_intake_from_the_image_venv_gets_ready_on_kafka_and_postgres(
    intake_from_venv: tuple[str, Path],
) -> None:
    url, log = intake_from_venv
    body = _wait_ready(url, log)
    assert body == {"status": "ready", "checks": {"database": True, "kafka": True}}
