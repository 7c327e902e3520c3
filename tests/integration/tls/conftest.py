"""A secured broker and a PostgreSQL with TLS of their own, for this package only.

The session's servers stay plain and fast; these start when a test here asks for them,
under <state>/test-tls on free ports, and stop when the package is done:
  * Kafka with its PLAINTEXT listener (the dev stack's readiness probe and ACL set-up),
    plus SASL_SSL (SCRAM-SHA-512) and SSL (client certificates) listeners with ACLs
    enforced: each service has its own user, tidemark-<service>, with the ACLs of
    tidekit.kafka.acls; `admin` is a super user.
  * PostgreSQL with ssl=on, its certificate for 127.0.0.1/localhost from a CA of its own.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

from tidekit.kafka.acls import all_acls, default_user
from tidekit.kafka.connection import KafkaConnection
from tidemark_devstack.common import free_port, state_dir
from tidemark_devstack.kafka import KafkaServer, install_jars
from tidemark_devstack.kafka_security import AclBinding, SecureListeners
from tidemark_devstack.postgres import PostgresServer
from tidemark_devstack.services import SERVICES, ServiceProcess
from tidemark_devstack.tls import CertificateAuthority

ROOT = state_dir() / "test-tls"


@dataclass
class SecureKafka:
    server: KafkaServer
    listeners: SecureListeners
    passwords: dict[str, str]  # SCRAM user -> password

    def sasl(self, user: str, password: str | None = None) -> KafkaConnection:
        """SASL_SSL as `user`, with its password unless another is given."""
        secret = password if password is not None else self.passwords[user]
        return KafkaConnection(
            self.listeners.sasl_bootstrap, "SASL_SSL", sasl_username=user,
            sasl_password=SecretStr(secret), ssl_cafile=self.listeners.ca_file,
        )  # fmt: skip

    def ssl(self, user: str | None) -> KafkaConnection:
        """SSL with a client certificate for `user` (None: without one)."""
        cert = self.listeners.client_certificate(user) if user else None
        return KafkaConnection(
            self.listeners.ssl_bootstrap, "SSL", ssl_cafile=self.listeners.ca_file,
            ssl_certfile=cert.cert_file if cert else None,
            ssl_keyfile=cert.key_file if cert else None,
        )  # fmt: skip

    @property
    def admin(self) -> KafkaConnection:
        return self.sasl("admin")


@pytest.fixture(scope="package")
def secure_kafka() -> Iterator[SecureKafka]:
    users = [default_user(service) for service in SERVICES]
    passwords = {user: secrets.token_urlsafe(18) for user in ["admin", *users]}
    acls = [AclBinding(**asdict(acl)) for acl in all_acls()]
    listeners = SecureListeners(ROOT / "kafka" / "tls", free_port(), free_port(), passwords, acls)
    libs = install_jars(state_dir() / "kafka" / "libs", quiet=True)  # as `make setup` left them
    server = KafkaServer(ROOT / "kafka", libs, free_port(), free_port(), listeners)
    try:
        server.start()
        yield SecureKafka(server, listeners, passwords)
    finally:
        server.stop()


@pytest.fixture(scope="package")
def tls_postgres() -> Iterator[PostgresServer]:
    server = PostgresServer(ROOT / "postgres", free_port(), tls=True)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def service_process(name: str, env: dict[str, str]) -> ServiceProcess:
    """`name` as a process on a free port, in development, logging under <ROOT>/logs."""
    port = free_port()
    env = {"TIDEMARK_ENV": "development", "TIDEMARK_LOG_LEVEL": "DEBUG", **env}
    return ServiceProcess(name, port, env, ROOT / "logs" / f"{name}-{port}.log").start()


def other_ca(folder: Path) -> Path:
    """The certificate of another CA, which signed nothing these servers present."""
    return CertificateAuthority(folder, name="Some other CA").cert_file
