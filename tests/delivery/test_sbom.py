"""`make sbom` (deploy/image/sbom.sh) lists every locked runtime package of the image, at
its locked version, and nothing that is not shipped (dev tools, the dev stack)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from packaging.markers import Marker

from tests.delivery.chart import REPO_ROOT
from tidemark_devstack.services import SERVICES

SBOM_SCRIPT = REPO_ROOT / "deploy" / "image" / "sbom.sh"
WORKSPACE = {"tidekit", *(f"tidemark-{name}" for name in SERVICES)}
UV = os.environ.get("UV") or str(Path.home() / ".local" / "bin" / "uv")


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_runtime_packages() -> dict[str, str]:
    """name -> version of what uv.lock installs for the five services, without dev tools
    (the same selection build-venv.sh syncs), for this platform's markers."""
    args = [UV, "export", "--frozen", "--no-dev", "--no-hashes", "--no-header",
            "--no-annotate"]  # fmt: skip
    for name in SERVICES:
        args += ["--package", f"tidemark-{name}"]
    exported = subprocess.run(args, cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    locked: dict[str, str] = {}
    for line in exported.stdout.splitlines():
        requirement, _, marker = line.partition(";")
        if "==" not in requirement or (marker.strip() and not Marker(marker).evaluate()):
            continue  # a workspace member (-e ./shared) or another platform's package
        name, version = requirement.strip().split("==")
        locked[normalized(name)] = version
    return locked


def test_the_sbom_lists_every_locked_runtime_package_and_nothing_else(tmp_path: Path) -> None:
    out = tmp_path / "sbom.cdx.json"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    command = ["bash", str(SBOM_SCRIPT), str(out), str(tmp_path / "venv")]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, check=False, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    sbom = json.loads(out.read_text())
    assert sbom["bomFormat"] == "CycloneDX"
    components = {normalized(c["name"]): c for c in sbom["components"]}
    listed = {name: c["version"] for name, c in components.items() if name not in WORKSPACE}
    assert listed == locked_runtime_packages()
    assert WORKSPACE <= set(components)
    for name, version in listed.items():
        assert components[name]["purl"] == f"pkg:pypi/{name}@{version}"
