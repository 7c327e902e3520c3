"""The Dockerfile's promises that hadolint (in `make lint`) does not check: the venv comes
from the shared build script, a pinned slim Python 3.11 base, non-root, exec form."""

from __future__ import annotations

import json
import re

from tests.delivery.chart import REPO_ROOT

DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text()
BUILD_SCRIPT = "deploy/image/build-venv.sh"


def _instructions(keyword: str) -> list[str]:
    return re.findall(rf"^{keyword} +(.+)$", DOCKERFILE, flags=re.M)


def test_the_venv_is_built_by_the_script_the_tests_run() -> None:
    runs = [json.loads(r) for r in _instructions("RUN") if BUILD_SCRIPT in r]
    assert runs == [["/bin/bash", BUILD_SCRIPT, "/opt/venv"]]
    script = (REPO_ROOT / BUILD_SCRIPT).read_text()
    assert "sync --frozen --no-dev --no-editable" in script
    assert "tidemark-devstack" not in script


def test_the_base_is_a_slim_python_311_pinned_by_exact_tag() -> None:
    (base,) = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE, flags=re.M)
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", base), base


def test_final_stage_runs_non_root_from_the_venv_in_exec_form() -> None:
    final = DOCKERFILE.rsplit("\nFROM ", 1)[1]
    assert re.search(r"^USER 10001", final, flags=re.M)
    assert "COPY --from=build /opt/venv /opt/venv" in final
    assert "PYTHONDONTWRITEBYTECODE=1" in final
    (cmd,) = _instructions("CMD")
    assert json.loads(cmd)[:3] == ["uvicorn", "--factory", "tidemark_intake.app:create_app"]
    assert not _instructions("ENTRYPOINT")


def test_the_build_context_leaves_out_state_and_tests() -> None:
    ignored = (REPO_ROOT / ".dockerignore").read_text().split()
    assert {".git", ".tidemark", ".venv", "tests"} <= set(ignored)
