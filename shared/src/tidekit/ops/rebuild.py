"""`rebuild SERVICE`: rebuild a service's read models from its events (tidekit.store.rebuild).

The services declare what can be rebuilt through the `tidemark.rebuild` entry point group
(name: the service; value: a function returning its `ReadModel`), so this tool imports no
service package. A service without one keeps tables no event of its own describes in
full: docs/operations.md says which, and why.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import TextIO

from tidekit.ops.connect import OpsSettings, database, schema_of
from tidekit.store.rebuild import ReadModel, rebuild

GROUP = "tidemark.rebuild"


def read_models() -> dict[str, Callable[[], ReadModel]]:
    return {ep.name: ep.load() for ep in entry_points(group=GROUP)}


async def rebuild_service(
    settings: OpsSettings, service: str, out: TextIO, *, schema: str | None = None
) -> int:
    live = schema or schema_of(service)
    known = read_models()
    if service not in known:
        rebuildable = ", ".join(sorted(known)) or "none installed"
        raise ValueError(
            f"{service} has no rebuild (its tables are not all rebuildable from its events; "
            f"docs/operations.md); rebuildable: {rebuildable}"
        )

    def progress(line: str) -> None:
        out.write(line + "\n")
        out.flush()

    async with database(settings) as conn:
        report = await rebuild(conn, live, known[service](), progress)
    out.write(
        f"rebuilt {service}'s read models ({live}) from {report.events:,} events in "
        f"{report.seconds:.2f} s ({report.rate:,.0f} events/s); writers waited "
        f"{report.locked_seconds * 1000:.0f} ms for the swap\n"
    )
    return 0
