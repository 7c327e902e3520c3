"""Kafka connection settings: one set of variables for the system, a user per service, and
every client built from the same keyword arguments. No I/O beyond reading PEM files."""

from __future__ import annotations

import ssl

import pytest
from pydantic import SecretStr, ValidationError

from tidekit.kafka.connection import KafkaConnection
from tidemark_devstack.tls import CertificateAuthority
from tidemark_intake.settings import IntakeSettings
from tidemark_notifier.settings import NotifierSettings


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    return CertificateAuthority(tmp_path_factory.mktemp("ca"))


def test_plaintext_unless_told_otherwise() -> None:
    kwargs = KafkaConnection.from_settings(NotifierSettings()).client_kwargs()
    assert kwargs == {"bootstrap_servers": "127.0.0.1:9192", "security_protocol": "PLAINTEXT"}


def test_sasl_ssl_for_the_system_with_a_user_per_service(
    monkeypatch: pytest.MonkeyPatch, ca: CertificateAuthority
) -> None:
    monkeypatch.setenv("TIDEMARK_KAFKA_BOOTSTRAP", "kafka1:9093,kafka2:9093")
    monkeypatch.setenv("TIDEMARK_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("TIDEMARK_KAFKA_SSL_CAFILE", str(ca.cert_file))
    monkeypatch.setenv("TIDEMARK_KAFKA_SASL_USERNAME", "tidemark-shared")
    monkeypatch.setenv("TIDEMARK_KAFKA_SASL_PASSWORD", "shared-secret")
    monkeypatch.setenv("TIDEMARK_NOTIFIER_KAFKA_SASL_USERNAME", "tidemark-notifier")
    monkeypatch.setenv("TIDEMARK_NOTIFIER_KAFKA_SASL_PASSWORD", "notifier-secret")

    kwargs = KafkaConnection.from_settings(NotifierSettings()).client_kwargs()
    context = kwargs.pop("ssl_context")
    assert kwargs == {
        "bootstrap_servers": "kafka1:9093,kafka2:9093",
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "tidemark-notifier",
        "sasl_plain_password": "notifier-secret",
    }
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    assert [c["subject"] for c in context.get_ca_certs()] == [
        ((("commonName", "Tidemark dev stack CA"),),)
    ]
    intake = KafkaConnection.from_settings(IntakeSettings()).client_kwargs()
    assert intake["sasl_plain_username"] == "tidemark-shared"


def test_ssl_with_a_client_certificate(
    monkeypatch: pytest.MonkeyPatch, ca: CertificateAuthority
) -> None:
    client = ca.issue_client("tidemark-intake")
    monkeypatch.setenv("TIDEMARK_KAFKA_SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("TIDEMARK_KAFKA_SSL_CAFILE", str(ca.cert_file))
    monkeypatch.setenv("TIDEMARK_INTAKE_KAFKA_SSL_CERTFILE", str(client.cert_file))
    monkeypatch.setenv("TIDEMARK_INTAKE_KAFKA_SSL_KEYFILE", str(client.key_file))
    connection = KafkaConnection.from_settings(IntakeSettings())
    assert (connection.ssl_certfile, connection.ssl_keyfile) == (client.cert_file, client.key_file)
    kwargs = connection.client_kwargs()
    assert kwargs["security_protocol"] == "SSL" and isinstance(
        kwargs["ssl_context"], ssl.SSLContext
    )
    assert not any(key.startswith("sasl") for key in kwargs)


def test_the_password_never_shows_in_repr_or_dumps(
    monkeypatch: pytest.MonkeyPatch, ca: CertificateAuthority
) -> None:
    monkeypatch.setenv("TIDEMARK_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("TIDEMARK_KAFKA_SASL_USERNAME", "tidemark-notifier")
    monkeypatch.setenv("TIDEMARK_KAFKA_SASL_PASSWORD", "pw-that-must-not-leak")
    settings = NotifierSettings()
    connection = KafkaConnection.from_settings(settings)
    for text in (repr(settings), str(settings), settings.model_dump_json(), repr(connection)):
        assert "pw-that-must-not-leak" not in text
    assert connection.sasl_password == SecretStr("pw-that-must-not-leak")


@pytest.mark.parametrize(
    ("environment", "named"),
    [
        ({"TIDEMARK_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT"}, "kafka_security_protocol"),
        ({"TIDEMARK_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "kafka_sasl_username"),
        (
            {"TIDEMARK_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "TIDEMARK_KAFKA_SASL_USERNAME": "u"},
            "kafka_sasl_password",
        ),
        ({"TIDEMARK_KAFKA_SASL_USERNAME": "u"}, "kafka_security_protocol is PLAINTEXT"),
        ({"TIDEMARK_KAFKA_SASL_MECHANISM": "PLAIN"}, "kafka_sasl_mechanism"),
        ({"TIDEMARK_KAFKA_SECURITY_PROTOCOL": "SSL", "TIDEMARK_KAFKA_SSL_CAFILE": "/nope.pem"},
         "kafka_ssl_cafile"),
        ({"TIDEMARK_DATABASE_URL": "postgresql://h/db?sslmode=verify_full"}, "database_url"),
        (
            {"TIDEMARK_DATABASE_URL": "postgresql://h/db?sslmode=verify-full&sslrootcert=/nope"},
            "sslrootcert: no file at /nope",
        ),
    ],
)  # fmt: skip
def test_connection_settings_that_cannot_work_fail_at_start(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], named: str
) -> None:
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as err:
        NotifierSettings()
    assert named in str(err.value)


def test_a_client_certificate_key_needs_its_certificate(
    monkeypatch: pytest.MonkeyPatch, ca: CertificateAuthority
) -> None:
    client = ca.issue_client("tidemark-notifier")
    monkeypatch.setenv("TIDEMARK_KAFKA_SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("TIDEMARK_KAFKA_SSL_KEYFILE", str(client.key_file))
    with pytest.raises(ValidationError, match="kafka_ssl_keyfile set without kafka_ssl_certfile"):
        NotifierSettings()


def test_a_verify_full_database_url_with_its_ca_is_taken(
    monkeypatch: pytest.MonkeyPatch, ca: CertificateAuthority
) -> None:
    url = f"postgresql://tidemark@db:5432/tidemark?sslmode=verify-full&sslrootcert={ca.cert_file}"
    monkeypatch.setenv("TIDEMARK_DATABASE_URL", url)
    assert NotifierSettings().database_url == url
