"""Notifier settings: env prefix TIDEMARK_NOTIFIER_."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from tidekit.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TIDEMARK_NOTIFIER_", extra="ignore")
    service_name: ClassVar[str] = "notifier"

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=2525, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    mail_from: str = "Tidemark Support <support@tidemark.invalid>"
    message_id_domain: str = "tidemark.invalid"
    retry_initial_seconds: float = Field(default=1.0, gt=0)
    retry_max_seconds: float = Field(default=300.0, gt=0)
    give_up_after_seconds: float = Field(default=24 * 3600.0, gt=0)
