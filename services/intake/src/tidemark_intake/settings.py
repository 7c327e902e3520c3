"""Intake settings: env prefix TIDEMARK_INTAKE_ (shared fields fall back to TIDEMARK_)."""

from __future__ import annotations

import logging
from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from tidekit.settings import ServiceSettings

log = logging.getLogger(__name__)
DEV_TOKEN_SECRET = "dev-only-token-secret-change-me"


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
    max_subject_chars: int = Field(default=500, ge=1)
    max_body_chars: int = Field(default=100_000, ge=1)
    max_attachment_bytes: int = Field(default=10 * 1024 * 1024, ge=1)

    def warn_on_dev_defaults(self) -> None:
        if self.token_secret.get_secret_value() == DEV_TOKEN_SECRET:
            log.warning("TIDEMARK_INTAKE_TOKEN_SECRET is the development default; set it")
