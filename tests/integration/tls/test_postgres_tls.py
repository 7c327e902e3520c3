"""PostgreSQL over TLS with sslmode=verify-full: the server's certificate is checked
against the CA given in the URL, and its name against the host."""

from __future__ import annotations

import asyncio
import ssl
import time
from pathlib import Path

import asyncpg
import httpx
import pytest

from tidemark_devstack.postgres import PostgresServer

from .conftest import other_ca, service_process

pytestmark = pytest.mark.integration


async def test_verify_full_with_the_servers_ca_connects_over_tls(
    tls_postgres: PostgresServer,
) -> None:
    for host in ("127.0.0.1", "localhost"):  # both names are on the certificate
        url = tls_postgres.url("postgres", verify=True).replace("127.0.0.1", host)
        conn = await asyncpg.connect(url, timeout=10)
        try:
            row = await conn.fetchrow(
                "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
            )
        finally:
            await conn.close()
        assert row is not None and row["ssl"] is True, row
        assert row["version"].startswith("TLSv1."), row


async def test_verify_full_with_another_ca_is_refused(
    tls_postgres: PostgresServer, tmp_path: Path
) -> None:
    url = tls_postgres.url("postgres", verify=True)
    wrong = url.replace(str(tls_postgres.ca_file), str(other_ca(tmp_path)))
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
        await asyncpg.connect(wrong, timeout=10)


async def test_a_service_whose_database_certificate_does_not_verify_stays_unready(
    tls_postgres: PostgresServer, tmp_path: Path
) -> None:
    url = tls_postgres.url("postgres", verify=True)
    wrong = url.replace(str(tls_postgres.ca_file), str(other_ca(tmp_path)))
    proc = service_process("escalation", {"TIDEMARK_DATABASE_URL": wrong})
    try:
        await asyncio.to_thread(proc.wait_healthy)
        deadline = time.monotonic() + 30
        while "CERTIFICATE_VERIFY_FAILED" not in proc.log_file.read_text():
            assert time.monotonic() < deadline, proc.log_file.read_text()[-2000:]
            await asyncio.sleep(0.2)
        async with httpx.AsyncClient(timeout=5) as http:
            response = await http.get(f"{proc.url}/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["database"] is False
    finally:
        proc.terminate()
