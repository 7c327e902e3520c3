"""Classifier settings: env prefix TIDEMARK_CLASSIFIER_."""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from tidekit.settings import ServiceSettings

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class ClassifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TIDEMARK_CLASSIFIER_", extra="ignore")
    service_name: ClassVar[str] = "classifier"

    policy_file: Path | None = Field(
        default=None, description="An operator's policy YAML; the shipped default when unset"
    )
    rules_file: Path | None = Field(
        default=None,
        description="An operator's classification rules YAML; the shipped rules.yaml when unset",
    )
    staff_keys: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Staff API keys as JSON: {staff id: hex SHA-256 of the key}. Directory, "
            "classification and reclassify routes need the key in `X-Api-Key`; "
            "with no keys configured they answer 401 to everyone."
        ),
    )

    @field_validator("staff_keys")
    @classmethod
    def _hashes(cls, value: dict[str, str]) -> dict[str, str]:
        for staff_id, digest in value.items():
            if not staff_id.strip() or not _SHA256.match(digest.lower()):
                raise ValueError(
                    f"{staff_id!r}: each value must be the hex SHA-256 of a key (64 hex digits)"
                )
        return {k: v.lower() for k, v in value.items()}
