"""Classifier settings: env prefix TIDEMARK_CLASSIFIER_."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tidekit.settings import PolicyFile, ServiceSettings


class ClassifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TIDEMARK_CLASSIFIER_", extra="ignore")
    service_name: ClassVar[str] = "classifier"

    policy_file: PolicyFile = None
    rules_file: Path | None = Field(
        default=None,
        description="An operator's classification rules YAML; the shipped rules.yaml when unset",
    )
