"""Bodies of the credentials vault's routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class CredentialEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["ftp", "sftp", "ssh", "control_panel", "database", "other"]
    host: str = Field(min_length=1, max_length=500)
    username: str = Field(min_length=1, max_length=500)
    password: SecretStr = Field(min_length=1, max_length=2000)
    notes: str = Field(default="", max_length=2000)


class CredentialsIn(BaseModel):
    """Server access data; stored encrypted, shown only to staff, destroyed on resolution."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "entries": [
                        {
                            "kind": "ssh",
                            "host": "shop.example.com",
                            "username": "deploy",
                            "password": "correct horse battery staple",
                        }
                    ]
                }
            ]
        },
    )
    entries: list[CredentialEntry] = Field(min_length=1, max_length=10)


class CredentialsStoredOut(BaseModel):
    tid: str
    credentials_ref: str
    kinds: list[str]


class StoredCredentials(BaseModel):
    credentials_ref: str
    stored_at: datetime
    entries: list[dict[str, str]]
