from __future__ import annotations

from pathlib import Path

import pytest

from tests.delivery.chart import PRODUCTION_VALUES, Manifest, ensure_helm, render


@pytest.fixture(scope="session")
def helm_bin() -> Path:
    """The pinned helm client: built once with `go install` into <state>/bin, then reused."""
    return ensure_helm()


@pytest.fixture(scope="session")
def helm_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("helm-home")


@pytest.fixture(scope="session")
def default_render(helm_bin: Path, helm_home: Path) -> list[Manifest]:
    return render(helm_bin, helm_home)


@pytest.fixture(scope="session")
def production_render(helm_bin: Path, helm_home: Path) -> list[Manifest]:
    return render(helm_bin, helm_home, [PRODUCTION_VALUES])
