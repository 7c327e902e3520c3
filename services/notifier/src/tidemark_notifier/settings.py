"""Notifier settings: env prefix TIDEMARK_NOTIFIER_.

Structured settings (webhooks, per-queue addresses, customer time zones) are JSON in the
environment, e.g. TIDEMARK_NOTIFIER_QUEUE_EMAILS='{"tier2": "tier2@example.com"}'.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from tidekit.settings import ServiceSettings


class WebhookTarget(BaseModel):
    """A URL that gets signed JSON posts. The secret signs, it is never sent or logged."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    url: str = Field(pattern=r"^https?://")
    secret: SecretStr | None = None


class ChannelWebhook(WebhookTarget):
    """How acknowledgements reach a chat or in-product frontend."""

    also_email: bool = Field(
        default=True, description="send the e-mail acknowledgement besides the webhook"
    )


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TIDEMARK_NOTIFIER_", extra="ignore")
    service_name: ClassVar[str] = "notifier"

    # --- SMTP --------------------------------------------------------------------------
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=2525, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    smtp_connections: int = Field(
        default=4, ge=1, le=64, description="SMTP connections kept open and used at once"
    )
    send_concurrency: int = Field(
        default=1,
        ge=1,
        le=64,
        description="messages one replica sends at once, each in its own transaction; a "
        "crash between a delivery and its record repeats at most this many (same Message-ID)",
    )
    send_lease_seconds: float = Field(
        default=60.0,
        ge=10.0,
        description="how long a claimed message is reserved for the replica sending it; if "
        "that replica dies, its claimed messages wait this long before another sends them. "
        "Keep it well above twice the SMTP and webhook timeouts",
    )
    mail_from: str = "Tidemark Support <support@tidemark.invalid>"
    message_id_domain: str = "tidemark.invalid"

    # --- webhooks ----------------------------------------------------------------------
    channel_webhooks: dict[str, ChannelWebhook] = Field(
        default={}, description="'chat' or 'in_product' -> the frontend's acknowledgement hook"
    )
    alert_webhooks: dict[str, WebhookTarget] = Field(
        default={}, description="queue name (or '*' for every queue) -> generic JSON webhook"
    )
    webhook_timeout_seconds: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _lease_outlasts_a_delivery(self) -> NotifierSettings:
        # The sender starts a delivery only with twice the longest timeout left on its lease.
        longest = 2 * max(self.smtp_timeout_seconds, self.webhook_timeout_seconds)
        if self.send_lease_seconds <= longest:
            raise ValueError(
                f"send_lease_seconds ({self.send_lease_seconds:g}) must be above twice the "
                f"longer of the SMTP and webhook timeouts ({longest:g})"
            )
        return self

    def missing_secrets(self) -> list[str]:
        """Besides the service key: every webhook signs its posts, so receivers can trust
        them; an unsigned one is refused outside development."""
        missing = super().missing_secrets()
        hooks = {**{f"CHANNEL_WEBHOOKS[{k}]": v for k, v in self.channel_webhooks.items()},
                 **{f"ALERT_WEBHOOKS[{k}]": v for k, v in self.alert_webhooks.items()}}  # fmt: skip
        missing += [f"TIDEMARK_NOTIFIER_{name}.secret (signing key)"
                    for name, hook in hooks.items() if hook.secret is None]  # fmt: skip
        return missing

    # --- who gets what -----------------------------------------------------------------
    queue_emails: dict[str, str] = Field(
        default={}, description="queue name (or '*' for every queue) -> staff address"
    )
    default_queue: str = "tier1"
    customer_time_zones: dict[str, str] = Field(
        default={}, description="requester address or domain -> IANA time zone"
    )
    rating_url: str = "https://support.tidemark.invalid/tickets/{tid}/rating"
    renew_url: str = "https://shop.tidemark.invalid/renew"
    staff_ticket_url: str = "https://desk.tidemark.invalid/tickets/{tid}"
    template_dir: Path | None = Field(
        default=None, description="operator templates; a file here replaces the built-in one"
    )

    # --- retries and bounces -----------------------------------------------------------
    retry_initial_seconds: float = Field(default=1.0, gt=0)
    retry_max_seconds: float = Field(default=300.0, gt=0)
    give_up_after_seconds: float = Field(default=24 * 3600.0, gt=0)

    @field_validator("channel_webhooks")
    @classmethod
    def _channels(cls, value: dict[str, ChannelWebhook]) -> dict[str, ChannelWebhook]:
        wrong = sorted(set(value) - {"chat", "in_product"})
        if wrong:
            raise ValueError(f"webhooks are for 'chat' and 'in_product', not {wrong}")
        return value

    @field_validator("customer_time_zones")
    @classmethod
    def _zones(cls, value: dict[str, str]) -> dict[str, str]:
        for key, zone in value.items():
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"{key}: {zone!r} is not an IANA time zone") from None
        return {k.lower().lstrip("@"): z for k, z in value.items()}

    @field_validator("template_dir")
    @classmethod
    def _template_dir(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"{value} is not a directory")
        return value
