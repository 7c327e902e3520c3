"""Bodies of the API key routes (admin) and of introspection (services)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .keys import KeyInfo


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


class KeyOut(KeyInfo):
    key: str | None = Field(default=None, description="Only in the answer to its creation")


def _exactly_one(schema: dict[str, Any]) -> None:
    """The published schema says what the validator checks: one of the two, as a string."""
    schema["properties"]["key"] = {"type": "string", "maxLength": 200}
    schema["properties"]["key_id"] = {"type": "string", "maxLength": 40}
    schema["oneOf"] = [{"required": ["key"]}, {"required": ["key_id"]}]


class IntrospectIn(BaseModel):
    """Either the key a caller presented, or the id of a key checked before (is it still
    active? e.g. a board session opened with it); never both."""

    model_config = ConfigDict(json_schema_extra=lambda schema: _exactly_one(schema))

    key: str | None = Field(default=None, max_length=200)
    key_id: str | None = Field(default=None, max_length=40)

    @model_validator(mode="after")
    def _one_of(self) -> IntrospectIn:
        if (self.key is None) == (self.key_id is None):
            raise ValueError("send either key or key_id")
        return self


class IntrospectOut(BaseModel):
    """RFC 7662 in spirit: `active` false for unknown, malformed and revoked keys alike."""

    active: bool
    key_id: str | None = None
    name: str | None = None
    kind: str | None = None
    role: str | None = None
    channels: list[str] = Field(default_factory=list)
