"""Bodies of the API key routes (admin) and of introspection (services)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class KeyIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "web-portal", "channels": ["web", "chat"]},
                {"name": "alice", "role": "agent"},
                {"name": "sla-timer", "service": True},
            ]
        },
    )
    name: str = Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")
    channels: list[Literal["web", "email", "in_product", "chat"]] = Field(default_factory=list)
    role: Literal["agent", "supervisor", "admin"] | None = None
    service: bool = Field(
        default=False, description="A Tidemark service's own key: opens introspection only"
    )

    @property
    def kind(self) -> str:
        return "service" if self.service else "staff" if self.role else "frontend"


class KeyOut(BaseModel):
    key_id: str
    name: str
    kind: str
    channels: list[str]
    role: str | None
    created_at: datetime
    revoked_at: datetime | None
    key: str | None = Field(default=None, description="Only in the answer to its creation")


class IntrospectIn(BaseModel):
    key: str = Field(max_length=200)


class IntrospectOut(BaseModel):
    """RFC 7662 in spirit: `active` false for unknown, malformed and revoked keys alike."""

    active: bool
    key_id: str | None = None
    name: str | None = None
    kind: str | None = None
    role: str | None = None
    channels: list[str] = Field(default_factory=list)
