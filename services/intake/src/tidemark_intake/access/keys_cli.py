"""`tidemark-keys`: create, revoke and list intake's API keys.

    tidemark-keys create --name web-portal --channels web,chat
    tidemark-keys create --name alice --role agent
    tidemark-keys create --name sla-timer --service    (a Tidemark service's own key)
    tidemark-keys revoke <key_id>
    tidemark-keys list

Connects with intake's settings (TIDEMARK_INTAKE_DATABASE_URL or TIDEMARK_DATABASE_URL)
and applies intake's migrations first, so it works before the service ever ran. The plain
key is printed once, on stdout alone (`KEY=$(tidemark-keys create ... --quiet)`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

from tidekit.store.migrate import CORE_MIGRATIONS, MigrationSet, apply_migrations
from tidemark_intake.settings import IntakeSettings

from . import keys

T = TypeVar("T")


async def _with_db(
    settings: IntakeSettings, work: Callable[[asyncpg.Connection], Awaitable[T]]
) -> T:
    conn = await asyncpg.connect(
        settings.database_url, server_settings={"search_path": settings.db_schema}, timeout=10
    )
    try:
        await apply_migrations(
            conn, settings.db_schema, [CORE_MIGRATIONS, MigrationSet("intake", "tidemark_intake")]
        )
        return await work(conn)
    finally:
        await conn.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tidemark-keys", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create a key and print it once")
    create.add_argument("--name", required=True, help="who holds it, e.g. web-portal or alice")
    scope = create.add_mutually_exclusive_group(required=True)
    scope.add_argument("--channels", help="frontend key: comma-separated channels it may post on")
    scope.add_argument("--role", choices=["agent", "supervisor", "admin"], help="staff key")
    scope.add_argument(
        "--service", action="store_true", help="a Tidemark service's key (TIDEMARK_SERVICE_KEY)"
    )
    create.add_argument("--quiet", action="store_true", help="print only the key")
    revoke = sub.add_parser("revoke", help="revoke a key by its key id (takes effect at once)")
    revoke.add_argument("key_id")
    sub.add_parser("list", help="list keys (never their secrets)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = IntakeSettings()
    except ValueError as exc:
        print(f"tidemark-keys: bad settings: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_run(settings, args))
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"tidemark-keys: cannot reach the database: {exc}", file=sys.stderr)
        return 1


async def _run(settings: IntakeSettings, args: argparse.Namespace) -> int:
    if args.command == "create":
        channels = [c.strip() for c in args.channels.split(",")] if args.channels else []
        kind = "service" if args.service else "staff" if args.role else "frontend"
        try:
            info, plaintext = await _with_db(
                settings,
                lambda c: keys.create_key(
                    c, name=args.name, kind=kind, channels=channels, role=args.role
                ),
            )
        except ValueError as exc:
            print(f"tidemark-keys: {exc}", file=sys.stderr)
            return 2
        if not args.quiet:
            scope = _scope(info.role, info.channels) or "introspection only"
            print(
                f"created {info.kind} key {info.key_id} for {info.name} ({scope});", file=sys.stderr
            )
            print("this is the only time the key is shown:", file=sys.stderr)
        print(plaintext)
        return 0
    if args.command == "revoke":
        if await _with_db(settings, lambda c: keys.revoke_key(c, args.key_id)):
            print(f"revoked {args.key_id}")
            return 0
        print(f"tidemark-keys: no key {args.key_id}", file=sys.stderr)
        return 1
    for k in await _with_db(settings, keys.list_keys):
        scope = _scope(k.role, k.channels) or "-"
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
        print(f"{k.key_id}  {k.kind:8}  {scope:24}  {state:18}  {k.name}")
    return 0


def _scope(role: str | None, channels: list[str]) -> str:
    if role:
        return f"role {role}"
    return f"channels {','.join(channels)}" if channels else ""


if __name__ == "__main__":
    sys.exit(main())
