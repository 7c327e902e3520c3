"""Intake settings: env prefix TIDEMARK_INTAKE_ (shared fields fall back to TIDEMARK_)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from tidekit.settings import ServiceSettings

from .access import Role
from .vault import Vault, decode_key

log = logging.getLogger(__name__)
DEV_TOKEN_SECRET = "dev-only-token-secret-change-me"
# 32 bytes, URL-safe base64; only for development and tests (a warning says so at start).
DEV_VAULT_KEY = "ZGV2LW9ubHktdmF1bHQta2V5LWNoYW5nZS1tZS0xMjM="


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TIDEMARK_INTAKE_", extra="ignore")
    service_name: ClassVar[str] = "intake"

    token_secret: SecretStr = Field(
        default=SecretStr(DEV_TOKEN_SECRET),
        description="HMAC key that derives ticket access tokens; set it in production",
        min_length=16,
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
    policy_file: Path | None = Field(
        default=None,
        description="An operator's policy YAML (the sla-timer's); the shipped default when unset. "
        "Its calendars count a resolution's business time",
    )
    max_subject_chars: int = Field(default=500, ge=1)
    max_body_chars: int = Field(default=100_000, ge=1)
    max_attachment_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    vault_keys: dict[str, SecretStr] = Field(
        default={"dev": SecretStr(DEV_VAULT_KEY)},
        description='Credentials vault keys by id, JSON: {"2026-11": "<32 bytes base64>"}',
    )
    vault_active_key: str = Field(default="dev", description="Key id that seals new secrets")
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

    def vault(self) -> Vault:
        keys = {k: decode_key(v.get_secret_value()) for k, v in self.vault_keys.items()}
        return Vault(keys, self.vault_active_key)

    def warn_on_dev_defaults(self) -> None:
        if self.token_secret.get_secret_value() == DEV_TOKEN_SECRET:
            log.warning("TIDEMARK_INTAKE_TOKEN_SECRET is the development default; set it")
        if any(v.get_secret_value() == DEV_VAULT_KEY for v in self.vault_keys.values()):
            log.warning("TIDEMARK_INTAKE_VAULT_KEYS holds the development key; set your own")
