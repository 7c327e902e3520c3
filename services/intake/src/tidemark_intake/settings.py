"""Intake settings: env prefix TIDEMARK_INTAKE_ (shared fields fall back to TIDEMARK_)."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from tidekit.events.vocabulary import Role
from tidekit.settings import Duration, PolicyFile, ServiceSettings
from tidekit.store.retention import RetentionRule

from .vault.crypto import Vault, decode_key

DEV_TOKEN_SECRET = "dev-only-token-secret-change-me"
# 32 bytes, URL-safe base64; only for development and tests (refused outside development).
DEV_VAULT_KEY = "ZGV2LW9ubHktdmF1bHQta2V5LWNoYW5nZS1tZS0xMjM="


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TIDEMARK_INTAKE_", extra="ignore")
    service_name: ClassVar[str] = "intake"

    idempotency_key_retention: Duration = Field(
        default=timedelta(hours=24),
        gt=timedelta(0),
        description="Idempotency-Key claims older than this are pruned: a retry with the same "
        "key after that makes a new ticket (ISO 8601 duration, e.g. PT24H, or seconds)",
    )

    def retention_rules(self) -> list[RetentionRule]:
        return [
            *super().retention_rules(),
            RetentionRule("idempotency_keys", "created_at", self.idempotency_key_retention),
        ]

    token_secret: SecretStr = Field(
        default=SecretStr(DEV_TOKEN_SECRET),
        description="HMAC key that derives ticket access tokens; set it in production",
        min_length=16,
    )
    token_secret_previous: list[SecretStr] = Field(
        default=[],
        description="Retired token secrets still in their rotation window (JSON list): an "
        "idempotent replay of a ticket made under one of them returns its original token",
    )
    # Inbound e-mail (docs/intake-mail.md)
    smtp_port: int = Field(default=0, ge=0, le=65535, description="SMTP listener; 0: off")
    smtp_host: str = Field(default="127.0.0.1", description="Address the SMTP listener binds")
    max_mail_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    max_mail_header_bytes: int = Field(default=64 * 1024, ge=1024)
    own_message_id_domain: str = Field(
        default="tidemark.invalid",
        description="The notifier's message_id_domain: mail with such a Message-ID is ours",
    )
    policy_file: PolicyFile = None  # its calendars count a resolution's business time
    max_subject_chars: int = Field(default=500, ge=1)
    max_body_chars: int = Field(default=100_000, ge=1)
    max_attachment_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    vault_keys: dict[str, SecretStr] = Field(
        default={"dev": SecretStr(DEV_VAULT_KEY)},
        description='Credentials vault keys by id, JSON: {"2026-11": "<32 bytes base64>"}',
    )
    vault_active_key: str = Field(default="dev", description="Key id that seals new secrets")
    introspection_per_second: float = Field(
        default=50.0,
        gt=0,
        description="POST /v1/introspect: requests per second per service key, on average "
        "(callers cache answers for up to 5 s, so they stay far below)",
    )
    introspection_burst: int = Field(default=200, ge=1, description="... and at once")
    credentials_min_role: Role = Field(
        default="agent", description="Lowest staff role that may read stored credentials"
    )

    @field_validator("vault_keys")
    @classmethod
    def _vault_keys(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        if not value:
            raise ValueError("at least one vault key is needed")
        for key_id, key in value.items():
            try:
                decode_key(key.get_secret_value())
            except ValueError as exc:
                raise ValueError(f"vault key {key_id!r}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _active_key_known(self) -> IntakeSettings:
        if self.vault_active_key not in self.vault_keys:
            raise ValueError(f"vault_active_key {self.vault_active_key!r} is not in vault_keys")
        return self

    def token_secrets(self) -> list[str]:
        """The current token secret first, then the retired ones still accepted."""
        return [s.get_secret_value() for s in (self.token_secret, *self.token_secret_previous)]

    def vault(self) -> Vault:
        keys = {k: decode_key(v.get_secret_value()) for k, v in self.vault_keys.items()}
        return Vault(keys, self.vault_active_key)

    def missing_secrets(self) -> list[str]:
        """Intake checks keys itself (no service key needed), but derives tokens and seals
        credentials with secrets that must not be the built-in development ones."""
        missing = []
        if self.token_secret.get_secret_value() == DEV_TOKEN_SECRET:
            missing.append("TIDEMARK_INTAKE_TOKEN_SECRET (the HMAC key of access tokens)")
        if any(v.get_secret_value() == DEV_VAULT_KEY for v in self.vault_keys.values()):
            missing.append("TIDEMARK_INTAKE_VAULT_KEYS (holds the development vault key)")
        return missing
