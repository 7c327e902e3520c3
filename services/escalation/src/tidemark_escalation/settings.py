"""Escalation settings: env prefix TIDEMARK_ESCALATION_ (shared fields fall back to TIDEMARK_)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tidekit.settings import Duration, PolicyFile, ServiceSettings
from tidekit.store.retention import RetentionRule


class EscalationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TIDEMARK_ESCALATION_", extra="ignore")
    service_name: ClassVar[str] = "escalation"

    rules_file: Path | None = Field(
        default=None, description="An operator's routing rules YAML; the shipped default when unset"
    )
    policy_file: PolicyFile = None  # for the tier-2 calendar and development rights
    page_size_max: int = Field(default=500, ge=1, le=5000)
    board_changes_retention: Duration = Field(
        default=timedelta(days=1),
        description="How long the board's change feed keeps a change (a page that was away "
        "longer reloads instead of resuming)",
    )

    def retention_rules(self) -> list[RetentionRule]:
        return [
            *super().retention_rules(),
            RetentionRule("board_changes", "recorded_at", self.board_changes_retention),
        ]
