"""Who may do what (SPEC 3.4), without I/O.

Frontends (web, chat, in-product, mail gateway) carry an API key scoped to the channels
they may post on; staff keys carry a role (agent < supervisor < admin); the other
Tidemark services carry a service key (it opens key introspection and nothing else); a
customer carries one ticket's access token and reaches that ticket only.

An API key reads `tmk_<key_id>_<secret>`: the key id finds the row, the secret is
compared by its SHA-256 in constant time. Only the hash is stored; the key is shown once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Literal

from tidekit.events.vocabulary import CHANNELS, ROLE_RANK, Role

KeyKind = Literal["frontend", "staff", "service"]
KEY_KINDS: tuple[KeyKind, ...] = ("frontend", "staff", "service")
_KEY = re.compile(r"^tmk_([a-z0-9]{12})_([A-Za-z0-9_-]{32,})$")


@dataclass(frozen=True)
class NewKey:
    key_id: str
    plaintext: str  # shown once, never stored
    secret_hash: str


@dataclass(frozen=True)
class Principal:
    """An authenticated API key: a frontend with channels, staff with a role, or a service."""

    key_id: str
    name: str
    kind: KeyKind
    channels: frozenset[str] = frozenset()
    role: Role | None = None

    @property
    def actor(self) -> str:
        """How events name who acted, e.g. `staff:alice-agent`."""
        return f"{self.kind}:{self.name}"

    @property
    def is_service(self) -> bool:
        return self.kind == "service"

    def is_staff(self, at_least: Role = "agent") -> bool:
        return self.kind == "staff" and ROLE_RANK[self.role or "agent"] >= ROLE_RANK[at_least]

    def may_post_on(self, channel: str) -> bool:
        # Staff may open a ticket on a customer's behalf whatever the channel.
        return self.is_staff() or channel in self.channels


def generate_key() -> NewKey:
    key_id = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(12))
    secret = secrets.token_urlsafe(32)
    return NewKey(key_id, f"tmk_{key_id}_{secret}", hash_secret(secret))


def split_key(presented: str) -> tuple[str, str] | None:
    """(key_id, secret) of a well-formed key, else None."""
    match = _KEY.match(presented.strip())
    return (match.group(1), match.group(2)) if match else None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def validate_scope(kind: str, channels: list[str], role: str | None) -> None:
    """Raise ValueError when a key's scope is incomplete or names unknown values."""
    if kind == "frontend":
        if not channels:
            raise ValueError("a frontend key needs at least one channel")
        unknown = sorted(set(channels) - set(CHANNELS))
        if unknown:
            raise ValueError(f"unknown channel(s) {unknown}; channels are {', '.join(CHANNELS)}")
        if role is not None:
            raise ValueError("a frontend key has channels, not a role")
    elif kind == "staff":
        if role not in ROLE_RANK:
            raise ValueError(f"a staff key needs a role: {', '.join(ROLE_RANK)}")
        if channels:
            raise ValueError("a staff key has a role, not channels")
    elif kind == "service":
        if channels or role is not None:
            raise ValueError("a service key has neither channels nor a role")
    else:
        raise ValueError(f"kind must be one of {', '.join(KEY_KINDS)}")
