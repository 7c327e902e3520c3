"""A private PostgreSQL cluster (initdb once, pg_ctl start/stop) under the state folder."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tidemark_devstack.common import DevstackError, log_tail, progress, run_sync

DEFAULT_DATABASE = "tidemark"


def find_bin_dir() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin with a server (or TIDEMARK_PG_BIN)."""
    override = os.environ.get("TIDEMARK_PG_BIN")
    candidates = [Path(override)] if override else []
    found = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(found, key=lambda p: _version_key(p.parent.name), reverse=True)
    for path in candidates:
        if (path / "initdb").exists() and (path / "pg_ctl").exists():
            return path
    raise DevstackError("no PostgreSQL server binaries: run `make setup` (deploy/bootstrap.sh)")


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def _as_root() -> bool:
    return os.geteuid() == 0


def _postgres_can_reach(folder: Path) -> bool:
    """Whether every ancestor of `folder` lets others traverse it (the postgres user must)."""
    for path in [folder, *folder.parents]:
        if path.exists() and not path.stat().st_mode & 0o001:
            return False
    return True


class PostgresServer:
    """PostgreSQL with its data, socket and log under `home`, listening on 127.0.0.1:`port`.

    With `tls`, it also accepts TLS with a certificate for 127.0.0.1 and localhost from a
    CA made at each start (home/tls/ca.pem): `url(verify=True)` asks for verify-full."""

    def __init__(self, home: Path, port: int, tls: bool = False) -> None:
        self.home = self._pick_home(home)
        self.port = port
        self.tls = tls
        self.tls_dir = self.home / "tls"
        self.data_dir = self.home / "data"
        self.log_file = self.home / "postgres.log"
        self.socket_dir = self._pick_socket_dir(self.home / "run")
        self.extra_options = ""  # more server options (-c name=value), e.g. for benchmarks

    @staticmethod
    def _pick_home(wanted: Path) -> Path:
        """`wanted`, unless we are root and the postgres user cannot reach it (a clone under
        /root, say): then a fixed folder per state folder under /var/tmp."""
        if not _as_root() or _postgres_can_reach(wanted.parent):
            return wanted
        digest = hashlib.sha1(str(wanted).encode()).hexdigest()[:12]
        return Path("/var/tmp") / f"tidemark-postgres-{digest}"

    @property
    def bin_dir(self) -> Path:
        return find_bin_dir()

    @staticmethod
    def _pick_socket_dir(wanted: Path) -> Path:
        # A unix socket path must stay under ~107 bytes; fall back to /tmp for deep clones.
        if len(str(wanted)) + len("/.s.PGSQL.65535") < 100:
            return wanted
        digest = hashlib.sha1(str(wanted).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"tidemark-pg-{digest}"

    def url(self, database: str = DEFAULT_DATABASE, verify: bool = False) -> str:
        """The database's URL; `verify`: TLS only, the server's certificate checked against
        this cluster's CA and its name against the host (sslmode=verify-full)."""
        url = f"postgresql://postgres@127.0.0.1:{self.port}/{database}"
        if verify:
            if not self.tls:
                raise DevstackError("this PostgreSQL was not started with TLS")
            url += f"?sslmode=verify-full&sslrootcert={self.ca_file}"
        return url

    @property
    def ca_file(self) -> Path:
        return self.tls_dir / "ca.pem"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        # A new session: a Ctrl-C in the terminal must not reach the postmaster directly.
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if _as_root():
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        result = subprocess.run(
            cmd, capture_output=True, text=True, check=False, start_new_session=True
        )
        if check and result.returncode != 0:
            raise DevstackError(
                f"{args[0]} failed ({result.returncode}):\n{result.stdout}{result.stderr}\n"
                + log_tail(self.log_file)
            )
        return result

    def _own(self, *paths: Path) -> None:
        for path in paths:
            path.mkdir(parents=True, exist_ok=True)
            if _as_root():
                shutil.chown(path, "postgres", "postgres")

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        """initdb once; trust auth (loopback and socket only: it listens on 127.0.0.1)."""
        self._own(self.home, self.socket_dir)
        if self.initialised():
            return
        progress(f"creating the PostgreSQL cluster in {self.data_dir} (first run only)…")
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self._own(self.data_dir)
        self.data_dir.chmod(0o700)
        self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C.UTF-8")  # fmt: skip

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data_dir), "status", check=False).returncode == 0

    def start(self, timeout: int = 60) -> None:
        self.init()
        if self.running():  # left behind by a run that died: restart it on our port
            self.stop()
        self._own(self.socket_dir)
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
            "-c max_connections=300 -c shared_buffers=64MB"
        )
        if self.extra_options:
            options += f" {self.extra_options}"
        if self.tls:
            options += self._make_tls_material()
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-o", options,
                  "-w", "-t", str(timeout), "start")  # fmt: skip

    def _make_tls_material(self) -> str:
        """A fresh CA and server certificate, readable by the server; its options."""
        from tidemark_devstack.tls import CertificateAuthority  # cryptography: only here

        shutil.rmtree(self.tls_dir, ignore_errors=True)
        server = CertificateAuthority(self.tls_dir).issue_server("server")
        if _as_root():  # the key must belong to the user the server runs as
            for path in [self.tls_dir, *self.tls_dir.iterdir()]:
                shutil.chown(path, "postgres", "postgres")
        return f" -c ssl=on -c ssl_cert_file={server.cert_file} -c ssl_key_file={server.key_file}"

    def stop(self, mode: str = "fast") -> None:
        if self.initialised() and self.running():
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop")

    def create_database(self, name: str = DEFAULT_DATABASE, *, fresh: bool = False) -> str:
        """Create `name` unless it exists (`fresh`: drop it first, ending its sessions, so
        it starts empty); return its URL."""
        run_sync(create_database(self.url("postgres"), name, fresh=fresh))
        return self.url(name)


async def create_database(admin_url: str, name: str, *, fresh: bool = False) -> None:
    """`name` created unless it exists; with `fresh`, dropped first (its sessions ended)."""
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        if fresh:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
