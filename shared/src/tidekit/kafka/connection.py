"""How every Kafka client Tidemark makes reaches the brokers: address, TLS and SASL.

Producers, consumers and admin clients all take their connection keyword arguments from
`KafkaConnection.client_kwargs()`, so a service configured for `SASL_SSL` (SCRAM) or for
`SSL` with a client certificate never has one client that quietly connects in plain text.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from aiokafka.helpers import create_ssl_context
from pydantic import SecretStr

if TYPE_CHECKING:
    from tidekit.settings import ServiceSettings

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256"]


@dataclass(frozen=True)
class KafkaConnection:
    """Where the brokers are and how to authenticate to them. The password stays a
    SecretStr (masked in repr and logs) until the moment a client is built."""

    bootstrap: str
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None  # None: the system's CA certificates
    ssl_certfile: Path | None = None  # a client certificate (SSL listeners that ask for one)
    ssl_keyfile: Path | None = None

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> KafkaConnection:
        """Each field from the setting of the same name after `kafka_` (TIDEMARK_KAFKA_…)."""
        return cls(**{f.name: getattr(settings, f"kafka_{f.name}") for f in fields(cls)})

    @classmethod
    def of(cls, target: KafkaConnection | str) -> KafkaConnection:
        """`target` itself, or a bare `host:port[,...]` as a plain-text connection (the
        dev stack's and the tests' PLAINTEXT listener)."""
        return target if isinstance(target, KafkaConnection) else cls(bootstrap=target)

    def client_kwargs(self) -> dict[str, Any]:
        """The keyword arguments every aiokafka client (producer, consumer, admin) gets.
        The SSL context is made per client, so renewed certificate files are picked up
        when a client reconnects after a restart of its loop."""
        kwargs: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": self.security_protocol,
        }
        if self.security_protocol == "PLAINTEXT":
            return kwargs
        kwargs["ssl_context"] = create_ssl_context(
            cafile=self.ssl_cafile, certfile=self.ssl_certfile, keyfile=self.ssl_keyfile
        )
        if self.security_protocol == "SASL_SSL":
            if self.sasl_username is None or self.sasl_password is None:
                raise ValueError("SASL_SSL needs a SASL username and password")
            kwargs["sasl_mechanism"] = self.sasl_mechanism
            kwargs["sasl_plain_username"] = self.sasl_username
            kwargs["sasl_plain_password"] = self.sasl_password.get_secret_value()
        return kwargs
