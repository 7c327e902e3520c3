"""Frozen baselines of the published event schemas: docs/schemas/published/<type>/v<N>.json.

A baseline is written once, when its (type, version) is first published (by `make
schemas`), and never rewritten: `freeze_new` only adds the missing ones, with their
sha256 in `published/SHA256SUMS`, so a test can tell when a baseline was edited. The
schema the code generates for each version is then checked against its baseline
(`tidekit.events.compat`).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from .schemas import render, schema_documents

PUBLISHED = "published"
SUMS = "SHA256SUMS"
_RELEASED = re.compile(r"^(?P<type>.+)\.v(?P<version>\d+)\.json$")


def baseline_path(folder: Path, event_type: str, version: int) -> Path:
    return folder / PUBLISHED / event_type / f"v{version}.json"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def recorded_sums(folder: Path) -> dict[str, str]:
    """Relative path (under published/) -> sha256, from SHA256SUMS."""
    sums = folder / PUBLISHED / SUMS
    if not sums.exists():
        return {}
    pairs = (line.split(None, 1) for line in sums.read_text().splitlines() if line.strip())
    return {name.strip(): digest for digest, name in pairs}


def freeze_new(folder: Path) -> list[Path]:
    """Write the baseline of every (type, version) that has none yet: the current versions
    from the code, older ones from their released files in `folder`. Never rewrites one."""
    sources: dict[Path, str] = {}
    for name, document in schema_documents().items():
        match = _RELEASED.match(name)
        assert match is not None
        path = baseline_path(folder, match["type"], int(match["version"]))
        sources[path] = render(document)
    for released in sorted(folder.glob("*.v*.json")):
        match = _RELEASED.match(released.name)
        if match:
            path = baseline_path(folder, match["type"], int(match["version"]))
            sources.setdefault(path, released.read_text(encoding="utf-8"))
    written = []
    sums = recorded_sums(folder)
    for path, text in sorted(sources.items()):
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        sums[path.relative_to(folder / PUBLISHED).as_posix()] = _digest(path)
        written.append(path)
    if written:
        lines = [f"{digest}  {name}" for name, digest in sorted(sums.items())]
        (folder / PUBLISHED / SUMS).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return written


def tampered(folder: Path) -> list[str]:
    """Baselines that differ from their recorded hash, or are missing from / not in it."""
    root = folder / PUBLISHED
    sums = recorded_sums(folder)
    on_disk = {p.relative_to(root).as_posix() for p in root.glob("*/v*.json")}
    problems = [f"{n}: changed after it was published" for n in sorted(on_disk & sums.keys())
                if _digest(root / n) != sums[n]]  # fmt: skip
    problems += [f"{n}: not in {SUMS}" for n in sorted(on_disk - sums.keys())]
    problems += [f"{n}: in {SUMS} but gone" for n in sorted(sums.keys() - on_disk)]
    return problems
