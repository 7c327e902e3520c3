"""One loader for the YAML data files operators may replace (the support policy, the
classifier's and escalation's rules): the operator's file, or the packaged default.

Parsing stops at the YAML document; each caller validates its own model and names the
origin in its errors, so an operator always learns which file and which key is wrong.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError


def load_yaml(
    path: Path | str | None, *, package: str, default: str, error: type[Exception]
) -> tuple[Any, str]:
    """(the parsed document, its origin for messages): the file at `path`, or the file
    `default` shipped in `package` when `path` is None. A file that cannot be read, or is
    not YAML, raises `error` naming it."""
    if path is None:
        text = resources.files(package).joinpath(default).read_text(encoding="utf-8")
        origin = default
    else:
        origin = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise error(f"{origin}: cannot read: {exc.strerror}") from None
    try:
        return yaml.safe_load(text), origin
    except yaml.YAMLError as exc:
        raise error(f"{origin}: not valid YAML: {exc}") from None


def describe(exc: ValidationError) -> str:
    """The first problem of a data file's validation error as `field.path: message`, the
    part of the message after the file's origin."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])
