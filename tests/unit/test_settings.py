"""Typed settings: per-service prefix, shared fallback, fail fast naming the field."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError

import tidekit.runtime
from tidekit.runtime import ServiceRuntime
from tidekit.store.migrate import MigrationSet
from tidemark_intake.settings import IntakeSettings
from tidemark_notifier.settings import NotifierSettings


def test_service_prefix_wins_over_the_shared_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDEMARK_DATABASE_URL", "postgresql://shared@127.0.0.1:1/db")
    monkeypatch.setenv("TIDEMARK_KAFKA_BOOTSTRAP", "127.0.0.1:9999")
    monkeypatch.setenv("TIDEMARK_INTAKE_DATABASE_URL", "postgresql://own@127.0.0.1:2/db")
    intake = IntakeSettings()
    notifier = NotifierSettings()
    assert intake.database_url == "postgresql://own@127.0.0.1:2/db"
    assert notifier.database_url == "postgresql://shared@127.0.0.1:1/db"
    assert intake.kafka_bootstrap == notifier.kafka_bootstrap == "127.0.0.1:9999"
    assert intake.db_schema == "intake"


def test_only_connection_fields_fall_back_to_the_shared_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TIDEMARK_SMTP_PORT", "1")  # not a shared field: ignored
    assert NotifierSettings().smtp_port == 2525
    monkeypatch.setenv("TIDEMARK_NOTIFIER_SMTP_PORT", "2600")
    assert NotifierSettings().smtp_port == 2600


@pytest.mark.parametrize(
    ("variable", "value", "field"),
    [
        ("TIDEMARK_DATABASE_URL", "mysql://x", "database_url"),
        ("TIDEMARK_KAFKA_BOOTSTRAP", "localhost", "kafka_bootstrap"),
        ("TIDEMARK_LOG_LEVEL", "chatty", "log_level"),
        ("TIDEMARK_NOTIFIER_SMTP_PORT", "70000", "smtp_port"),
        ("TIDEMARK_OTEL_EXPORTER", "zipkin", "otel_exporter"),
        ("TIDEMARK_TOPIC_NAMESPACE", "staging", "topic_namespace"),  # no closing dot
        ("TIDEMARK_TOPIC_NAMESPACE", "Staging.", "topic_namespace"),
    ],
)
def test_bad_values_fail_at_start_naming_the_field(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, field: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as err:
        NotifierSettings()
    assert field in str(err.value)


def test_secrets_do_not_show_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDEMARK_INTAKE_TOKEN_SECRET", "s3cret-value-that-is-long")
    assert "s3cret" not in repr(IntakeSettings())


def test_a_topic_namespace_goes_before_every_topic_name(monkeypatch: pytest.MonkeyPatch) -> None:
    assert NotifierSettings().topic("intake") == "tidemark.intake.v1"  # the SPEC's names
    monkeypatch.setenv("TIDEMARK_TOPIC_NAMESPACE", "staging.")
    assert NotifierSettings().topic("sla-timer") == "staging.tidemark.sla.v1"
    monkeypatch.setenv("TIDEMARK_NOTIFIER_TOPIC_NAMESPACE", "t1.")
    assert NotifierSettings().topic("notifier") == "t1.tidemark.notifier.v1"
    assert IntakeSettings().topic("intake") == "staging.tidemark.intake.v1"


def test_pool_sizes_partitions_and_the_statement_cache_fall_back_to_the_shared_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The chart gives every service TIDEMARK_DB_POOL_MAX etc. once, unprefixed."""
    assert NotifierSettings().db_statement_cache_size == 100  # asyncpg's own default
    monkeypatch.setenv("TIDEMARK_DB_POOL_MIN", "2")
    monkeypatch.setenv("TIDEMARK_DB_POOL_MAX", "8")
    monkeypatch.setenv("TIDEMARK_TOPIC_PARTITIONS", "12")
    monkeypatch.setenv("TIDEMARK_DB_STATEMENT_CACHE_SIZE", "0")
    monkeypatch.setenv("TIDEMARK_INTAKE_DB_POOL_MAX", "20")
    notifier, intake = NotifierSettings(), IntakeSettings()
    assert (notifier.db_pool_min, notifier.db_pool_max, notifier.topic_partitions) == (2, 8, 12)
    assert notifier.db_statement_cache_size == intake.db_statement_cache_size == 0
    assert intake.db_pool_max == 20


def test_the_pool_is_made_with_the_statement_cache_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """0 turns asyncpg's prepared-statement cache off, as PgBouncer's transaction mode needs."""
    monkeypatch.setenv("TIDEMARK_DB_STATEMENT_CACHE_SIZE", "0")
    asked: dict[str, object] = {}

    async def create_pool(*args: object, **kwargs: object) -> object:
        asked.update(kwargs)
        raise ConnectionRefusedError  # stop before anything connects

    monkeypatch.setattr(tidekit.runtime.asyncpg, "create_pool", create_pool)
    runtime = ServiceRuntime(NotifierSettings(), MigrationSet("notifier", "tidemark_notifier"))
    with pytest.raises(ConnectionRefusedError):
        asyncio.run(runtime._connect_db())
    assert asked["statement_cache_size"] == 0
    assert asked["max_size"] == NotifierSettings().db_pool_max


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("604800", 604800), ("0.5", 0.5), ("P7D", 604800), ("PT1S", 1), ("00:10:00", 600)],
)
def test_durations_take_seconds_or_iso_8601_as_the_docs_say(
    monkeypatch: pytest.MonkeyPatch, value: str, seconds: float
) -> None:
    monkeypatch.setenv("TIDEMARK_OUTBOX_RETENTION", value)
    monkeypatch.setenv("TIDEMARK_INTAKE_IDEMPOTENCY_KEY_RETENTION", value)
    intake = IntakeSettings()
    assert intake.outbox_retention.total_seconds() == seconds
    assert intake.idempotency_key_retention.total_seconds() == seconds


def test_consumers_commit_offsets_once_a_second_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert IntakeSettings().consumer_commit_interval.total_seconds() == 1
    monkeypatch.setenv("TIDEMARK_CONSUMER_COMMIT_INTERVAL", "0")  # after every poll
    assert IntakeSettings().consumer_commit_interval.total_seconds() == 0
    monkeypatch.setenv("TIDEMARK_CONSUMER_COMMIT_INTERVAL", "-1")
    with pytest.raises(ValidationError, match="consumer_commit_interval"):
        IntakeSettings()
