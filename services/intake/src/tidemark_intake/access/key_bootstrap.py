"""`python -m tidemark_intake.access.key_bootstrap`: the first API keys of a new installation,
stored straight into Kubernetes Secrets (the chart's `keyBootstrap` hook Job).

It makes, with the code behind `tidemark-keys create --quiet`, what is missing: the first
admin's staff key (Secret `--admin-secret`, entry `api-key`) and the four services' own
keys (Secret `--service-keys-secret`, entries classifier, sla-timer, notifier,
escalation, the Secret the Deployments read). A Secret entry that exists is left alone,
so re-running (every upgrade) changes nothing and never rotates a key.

The image has no kubectl: it talks to the API server over HTTPS with the pod's service
account token and CA (plain urllib). If a key is made and the Secret write then fails,
that key stays unused in the database (`tidemark-keys list` shows it by its name; revoke
it); the next run makes a new one.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import ssl
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from tidekit.store.migrate import CORE_MIGRATIONS, MigrationSet, apply_migrations
from tidemark_intake.settings import IntakeSettings

from . import keys

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
SERVICES = ("classifier", "sla-timer", "notifier", "escalation")
ADMIN_ENTRY = "api-key"


@dataclass(frozen=True)
class WantedKey:
    secret: str  # the Secret to store it in
    entry: str  # its key in that Secret
    name: str  # the key's name in intake's table (tidemark-keys list)
    kind: str  # staff | service
    role: str | None = None


def missing_keys(
    admin_secret: str,
    service_keys_secret: str,
    admin_name: str,
    existing: dict[str, dict[str, str] | None],
) -> list[WantedKey]:
    """The keys still to make, given each Secret's current entries (None: no Secret)."""
    wanted = [WantedKey(admin_secret, ADMIN_ENTRY, admin_name, "staff", "admin")]
    wanted += [WantedKey(service_keys_secret, s, s, "service") for s in SERVICES]
    return [w for w in wanted if w.entry not in (existing.get(w.secret) or {})]


class KubeSecrets:
    """get/create/patch of Secrets in one namespace, over the Kubernetes REST API."""

    def __init__(self, api_url: str, namespace: str, token: str, ca_file: str | None) -> None:
        self._base = f"{api_url.rstrip('/')}/api/v1/namespaces/{namespace}/secrets"
        self._namespace = namespace
        self._token = token
        self._tls = ssl.create_default_context(cafile=ca_file) if ca_file else None

    @classmethod
    def in_cluster(cls) -> KubeSecrets:
        host, port = os.environ["KUBERNETES_SERVICE_HOST"], os.environ["KUBERNETES_SERVICE_PORT"]
        return cls(
            f"https://{host}:{port}",
            (SERVICE_ACCOUNT / "namespace").read_text().strip(),
            (SERVICE_ACCOUNT / "token").read_text().strip(),
            str(SERVICE_ACCOUNT / "ca.crt"),
        )

    def get(self, name: str) -> dict[str, str] | None:
        try:
            secret = self._call("GET", f"/{name}")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise
        data = secret.get("data") or {}
        return {k: base64.b64decode(v).decode() for k, v in data.items()}

    def create(self, name: str, entries: dict[str, str]) -> None:
        body = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": name, "namespace": self._namespace,
                             "labels": {"app.kubernetes.io/managed-by": "tidemark-key-bootstrap"}},
                "data": _encoded(entries)}  # fmt: skip
        self._call("POST", "", body)

    def add(self, name: str, entries: dict[str, str]) -> None:
        """Add entries to an existing Secret (a merge patch keeps the others)."""
        self._call("PATCH", f"/{name}", {"data": _encoded(entries)},
                   "application/merge-patch+json")  # fmt: skip

    def _call(
        self,
        method: str,
        path: str,
        body: object = None,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        request = urllib.request.Request(
            self._base + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self._token}", "Content-Type": content_type,
                     "Accept": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=10, context=self._tls) as response:
            answer: dict[str, Any] = json.loads(response.read() or b"{}")
            return answer


def _encoded(entries: dict[str, str]) -> dict[str, str]:
    return {k: base64.b64encode(v.encode()).decode() for k, v in entries.items()}


async def make_keys(settings: IntakeSettings, todo: list[WantedKey]) -> dict[str, dict[str, str]]:
    """Create `todo` in intake's key table; the plain keys per Secret and entry."""
    conn = await asyncpg.connect(
        settings.database_url, server_settings={"search_path": settings.db_schema}, timeout=10
    )
    try:
        await apply_migrations(
            conn, settings.db_schema, [CORE_MIGRATIONS, MigrationSet("intake", "tidemark_intake")]
        )
        made: dict[str, dict[str, str]] = {}
        for want in todo:
            _, plain = await keys.create_key(conn, name=want.name, kind=want.kind, role=want.role)
            made.setdefault(want.secret, {})[want.entry] = plain
        return made
    finally:
        await conn.close()


def bootstrap(
    kube: KubeSecrets, settings: IntakeSettings, admin_secret: str, service_keys_secret: str,
    admin_name: str,
) -> list[WantedKey]:  # fmt: skip
    """Make and store what is missing; returns what was made (never the keys)."""
    existing = {name: kube.get(name) for name in (admin_secret, service_keys_secret)}
    todo = missing_keys(admin_secret, service_keys_secret, admin_name, existing)
    if todo:
        for secret, entries in asyncio.run(make_keys(settings, todo)).items():
            if existing[secret] is None:
                kube.create(secret, entries)
            else:
                kube.add(secret, entries)
    return todo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tidemark_intake.access.key_bootstrap")
    parser.add_argument("--admin-secret", required=True)
    parser.add_argument("--service-keys-secret", required=True)
    parser.add_argument("--admin-name", default="first-admin")
    parser.add_argument("--api-url", help="the API server (default: in-cluster, HTTPS)")
    parser.add_argument("--namespace", help="with --api-url")
    parser.add_argument("--token-file", help="with --api-url")
    args = parser.parse_args(argv)
    if args.api_url:
        token = Path(args.token_file).read_text().strip() if args.token_file else ""
        kube = KubeSecrets(args.api_url, args.namespace or "default", token, None)
    else:
        kube = KubeSecrets.in_cluster()
    try:
        made = bootstrap(
            kube, IntakeSettings(), args.admin_secret, args.service_keys_secret, args.admin_name
        )
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"key bootstrap failed: {exc}", file=sys.stderr)
        return 1
    for want in made:
        print(f"made {want.kind} key {want.name!r} into Secret {want.secret}/{want.entry}")
    if not made:
        print("every key is there already; nothing made")
    return 0


if __name__ == "__main__":
    sys.exit(main())
