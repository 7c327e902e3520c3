"""`tidemark-report sla`: the SLA report as CSV (or JSON) on stdout, from escalation's API.

    tidemark-report sla --url http://escalation:8000 --key-file ~/.tidemark/staff.key \\
        --from 2026-11-01 --to 2026-12-01 --group-by level --tz Europe/Berlin > sla.csv

It asks `GET /v1/reports/sla` with a staff key, so it reads exactly what the page and the
API show and needs no database access; the key comes from --key-file (its first line) or
the TIDEMARK_API_KEY environment variable, the address from --url or
TIDEMARK_ESCALATION_URL. Exit status: 0 written, 2 refused (the problem's detail on
stderr), 3 the service could not be reached.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx

from .domain.attainment import GROUP_BYS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tidemark-report", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    sla = commands.add_parser("sla", help="SLA attainment (docs/sla.md, 'SLA attainment')")
    sla.add_argument("--from", dest="start", help="date or RFC 3339 time (default: this month)")
    sla.add_argument("--to", dest="end", help="end, excluded (default: a month after --from)")
    sla.add_argument("--group-by", choices=GROUP_BYS, default="level")
    sla.add_argument("--tz", help="IANA zone for dates, weeks, hours (default: the policy's)")
    sla.add_argument("--url", default=os.environ.get("TIDEMARK_ESCALATION_URL"),
                     help="escalation's base URL (default: $TIDEMARK_ESCALATION_URL)")  # fmt: skip
    sla.add_argument("--key-file", type=Path, help="a file holding a staff key")
    sla.add_argument("--json", action="store_true", help="the JSON report instead of CSV")
    sla.add_argument("--timeout", type=float, default=30.0)
    return parser


def _key(path: Path | None) -> str | None:
    if path is None:
        return os.environ.get("TIDEMARK_API_KEY")
    lines = path.read_text().splitlines()
    return lines[0].strip() if lines else None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        key = _key(args.key_file)
    except OSError as exc:
        print(f"tidemark-report: cannot read the key file: {exc}", file=sys.stderr)
        return 2
    if not key:
        print("tidemark-report: no staff key (--key-file, or TIDEMARK_API_KEY)", file=sys.stderr)
        return 2
    if not args.url:
        print("tidemark-report: no address (--url, or TIDEMARK_ESCALATION_URL)", file=sys.stderr)
        return 2
    params = {"from": args.start, "to": args.end, "group_by": args.group_by, "tz": args.tz}
    headers = {"X-Api-Key": key, "Accept": "application/json" if args.json else "text/csv"}
    try:
        response = httpx.get(
            f"{args.url.rstrip('/')}/v1/reports/sla",
            params={k: v for k, v in params.items() if v is not None},
            headers=headers,
            timeout=args.timeout,
        )
    except httpx.HTTPError as exc:
        print(f"tidemark-report: {args.url} could not be reached: {exc}", file=sys.stderr)
        return 3
    if response.status_code != 200:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        print(f"tidemark-report: {response.status_code}: {detail}", file=sys.stderr)
        return 2
    # As bytes: the CSV's CRLF line ends (RFC 4180) reach the file unchanged.
    sys.stdout.buffer.write(response.content + (b"\n" if args.json else b""))
    sys.stdout.flush()
    return 0


def entry() -> None:
    raise SystemExit(main())
