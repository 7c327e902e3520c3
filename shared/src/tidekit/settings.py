"""Typed settings. Each service subclasses ServiceSettings with its own env prefix.

A service reads `TIDEMARK_<SERVICE>_<FIELD>` first; the settings shared by all services
(SHARED_FIELDS: the database URL, the Kafka connection with its TLS and SASL settings,
log level, clock, intake URL, pool sizes, ...) fall back to `TIDEMARK_<FIELD>`, so one set of
variables points the whole system at its servers, and a service may still have its own
(each service its own Kafka user: TIDEMARK_<SERVICE>_KAFKA_SASL_USERNAME and _PASSWORD).
Bad values fail at start-up with the field named.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import BeforeValidator, Field, FilePath, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from tidekit.clock import clock_from_setting
from tidekit.events.topics import TOPICS
from tidekit.store.retention import RetentionRule
from tidekit.telemetry import Exporter

log = logging.getLogger(__name__)
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
KAFKA_SSL_FIELDS = ("kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile")

SHARED_FIELDS = (
    "database_url",
    "kafka_bootstrap",
    "kafka_security_protocol",
    "kafka_sasl_mechanism",
    "kafka_sasl_username",
    "kafka_sasl_password",
    "kafka_ssl_cafile",
    "kafka_ssl_certfile",
    "kafka_ssl_keyfile",
    "log_level",
    "otel_exporter",
    "otel_sample_ratio",
    "clock",
    "intake_url",
    "service_key",
    "env",
    "consumer_group_suffix",
    "topic_namespace",
    "outbox_retention",
    "inbox_retention",
    "idempotency_key_retention",
    # Sizing and PgBouncer compatibility, set once for every service (the Helm chart does)
    "db_pool_min",
    "db_pool_max",
    "db_statement_cache_size",
    "topic_partitions",
    "consumer_commit_interval",
)


def _seconds_or_iso_8601(value: Any) -> Any:
    """A duration from the environment: a number of seconds ("604800", "0.5"), else what
    pydantic reads (ISO 8601 "P7D", "PT1S"; "HH:MM:SS"). Pydantic alone refuses a bare
    number in a string, which the docs have always offered."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


# A duration setting: seconds, or ISO 8601 (P7D, PT1S), or HH:MM:SS.
Duration = Annotated[timedelta, BeforeValidator(_seconds_or_iso_8601)]


# The support policy, for every service that reads one (TIDEMARK_<SERVICE>_POLICY_FILE):
# all of them must be given the same file (docs/deployment.md, `policy.content`).
PolicyFile = Annotated[
    Path | None,
    Field(description="An operator's SLA policy YAML; the shipped default when unset"),
]


class _SharedEnvSource(EnvSettingsSource):
    """TIDEMARK_<FIELD> for the shared connection fields only."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        if field_name not in SHARED_FIELDS:
            return None, field_name, False
        return super().get_field_value(field, field_name)


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIDEMARK_", extra="ignore")
    service_name: ClassVar[str]

    env: Literal["development", "production"] = Field(
        default="production",
        description="'development' (make run, the tests) allows built-in development secrets "
        "and a missing service key, with a warning; anything else refuses to start without them",
    )
    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:55432/tidemark",
        description="TLS through the URL's query, as libpq has it: "
        "?sslmode=verify-full&sslrootcert=/path/ca.pem (and sslcert, sslkey for a client "
        "certificate)",
    )
    kafka_bootstrap: str = "127.0.0.1:9192"
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_SSL"] = Field(
        default="PLAINTEXT",
        description="SASL_SSL: SCRAM user and password over TLS; SSL: TLS, with a client "
        "certificate when the listener asks for one; PLAINTEXT only on a private network",
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = Field(
        default=None, description="This service's own Kafka user (SASL_SSL)"
    )
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: FilePath | None = Field(
        default=None,
        description="CA certificates (PEM) the brokers' certificates are checked against; "
        "unset: the system's",
    )
    kafka_ssl_certfile: FilePath | None = Field(
        default=None,
        description="Client certificate (PEM) for an SSL listener that asks for one; its key "
        "in kafka_ssl_keyfile, or in the same file",
    )
    kafka_ssl_keyfile: FilePath | None = None
    log_level: str = "INFO"
    otel_exporter: Exporter = "none"
    otel_sample_ratio: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description="share of new traces recorded; a trace begun elsewhere follows its "
        "parent's decision, so a sampled ticket's trace stays whole across services",
    )
    db_pool_min: int = Field(default=1, ge=0)
    db_pool_max: int = Field(default=10, ge=1)
    db_statement_cache_size: int = Field(
        default=100,
        ge=0,
        description="asyncpg's prepared-statement cache per connection; 0 turns it off, as "
        "a PgBouncer in transaction mode needs (docs/deployment.md, PgBouncer)",
    )
    topic_partitions: int = Field(default=3, ge=1)
    retry_after_seconds: int = Field(default=5, ge=1)
    clock: str = Field(
        default="system",
        description="'system'; for tests only 'offset' or 'manual[:<ISO instant>]', which "
        "mount PUT /v1/admin/clock (see tidekit.clock)",
    )
    intake_url: str = Field(
        default="http://127.0.0.1:8101",
        description="Where intake answers; other services ask it about staff API keys",
    )
    consumer_group_suffix: str = Field(
        default="main",
        pattern=r"^[a-z0-9_-]{1,40}$",
        description="Consumer groups are tidemark.<service>.<suffix>: replicas share one; an "
        "independent copy (own database, e.g. a rebuild or a test) uses another",
    )
    topic_namespace: str = Field(
        default="",
        pattern=r"^([a-z0-9][a-z0-9_-]{0,39}\.)?$",
        description="Put before every topic and consumer group name, ending in a dot (e.g. "
        "'staging.'): systems sharing one Kafka cluster, or a test's copy of a service, never "
        "see each other's events. Empty (the default) keeps the SPEC's names",
    )

    outbox_retention: Duration = Field(
        default=timedelta(days=7),
        gt=timedelta(0),
        description="Published outbox rows older than this are pruned (ISO 8601 duration, "
        "e.g. P7D, or seconds); unpublished rows always stay",
    )
    inbox_retention: Duration = Field(
        default=timedelta(days=30),
        gt=timedelta(0),
        description="Inbox rows (the de-duplication of redelivered records) older than this "
        "are pruned. Keep it longer than the Kafka topics' retention.ms: a record redelivered "
        "after its inbox row is gone would be handled twice (docs/operations.md)",
    )
    retention_interval: Duration = Field(
        default=timedelta(minutes=10),
        gt=timedelta(0),
        description="How often the retention worker looks for expired rows",
    )
    consumer_commit_interval: Duration = Field(
        default=timedelta(seconds=1),
        ge=timedelta(0),
        description="How often a consumer commits its handled offsets to Kafka while records "
        "keep coming (seconds or ISO 8601, e.g. PT1S); it also commits as soon as it has caught "
        "up, before a rebalance and at stop. 0 commits after every poll. Longer sends Kafka "
        "fewer requests; records handled but not committed are redelivered after a crash, and "
        "the inbox drops them",
    )
    retention_batch_size: int = Field(
        default=1000, ge=1, le=100_000, description="Rows per DELETE statement of the pruning"
    )

    def retention_rules(self) -> list[RetentionRule]:
        """What this service prunes by age (tidekit.store.retention); a service with tables
        of its own to prune adds them."""
        return [
            RetentionRule("outbox", "published_at", self.outbox_retention),
            RetentionRule("inbox", "handled_at", self.inbox_retention),
        ]

    def topic(self, service: str) -> str:
        """The topic `service` writes, in this system's namespace."""
        return self.topic_namespace + TOPICS[service]

    service_key: SecretStr | None = Field(
        default=None,
        description="This service's own API key (kind `service`, `tidemark-keys create "
        "--service`): it asks intake about the API keys callers present",
    )
    staff_key_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=5.0,
        description="How long an answer about an API key is reused; at most 5 s, the bound "
        "within which a revoked key stops working on every service and replica",
    )

    def missing_secrets(self) -> list[str]:
        """Secrets this service needs outside development, each named by its setting; a
        service adds its own. Every service but intake asks intake about keys with its own
        service key."""
        if self.service_name == "intake" or self.service_key is not None:
            return []
        return ["TIDEMARK_SERVICE_KEY (this service's key: tidemark-keys create --service)"]

    def check_secrets(self) -> None:
        """Refuse to start outside development without the secrets; warn within it."""
        missing = self.missing_secrets()
        if not missing:
            return
        if self.env == "development":
            for what in missing:
                log.warning("development only: %s is not set", what)
            return
        raise SystemExit(
            f"tidemark-{self.service_name}: refusing to start without its secrets "
            f"(TIDEMARK_ENV={self.env}): set {'; '.join(missing)}"
        )

    @field_validator("clock")
    @classmethod
    def _clock(cls, value: str) -> str:
        clock_from_setting(value)  # raises ValueError naming the accepted forms
        return value

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str) -> str:
        if not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL")
        query = parse_qs(urlsplit(value).query)
        for mode in query.get("sslmode", []):
            if mode not in SSL_MODES:
                raise ValueError(f"sslmode must be one of {', '.join(SSL_MODES)}")
        # A missing file would otherwise only show as a service that never gets ready.
        for name in ("sslrootcert", "sslcert", "sslkey"):
            for path in query.get(name, []):
                if not Path(path).expanduser().is_file():
                    raise ValueError(f"{name}: no file at {path}")
        return value

    @model_validator(mode="after")
    def _kafka_security(self) -> ServiceSettings:
        """Settings that only mean something with another protocol are refused: a SASL
        user given while the protocol stayed PLAINTEXT would silently go unencrypted."""
        protocol = self.kafka_security_protocol
        sasl = {
            "kafka_sasl_username": self.kafka_sasl_username,
            "kafka_sasl_password": self.kafka_sasl_password,
        }
        if protocol == "SASL_SSL":
            missing = [name for name, value in sasl.items() if value is None]
            if missing:
                raise ValueError(f"kafka_security_protocol SASL_SSL needs {', '.join(missing)}")
        else:
            stray = [name for name, value in sasl.items() if value is not None]
            if protocol == "PLAINTEXT":
                stray += [name for name in KAFKA_SSL_FIELDS if getattr(self, name) is not None]
            if stray:
                raise ValueError(
                    f"{', '.join(stray)} set but kafka_security_protocol is {protocol}"
                )
        if self.kafka_ssl_keyfile is not None and self.kafka_ssl_certfile is None:
            raise ValueError("kafka_ssl_keyfile set without kafka_ssl_certfile")
        return self

    @field_validator("kafka_bootstrap")
    @classmethod
    def _host_port(cls, value: str) -> str:
        for server in value.split(","):
            host, _, port = server.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"{server!r} is not host:port")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        shared = _SharedEnvSource(settings_cls, env_prefix="TIDEMARK_")
        return (init_settings, env_settings, shared, file_secret_settings)

    @property
    def db_schema(self) -> str:
        """The service's own Postgres schema."""
        return self.service_name.replace("-", "_")
