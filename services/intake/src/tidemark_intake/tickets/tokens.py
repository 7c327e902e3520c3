"""Ticket access tokens: derived with HMAC from a per-ticket salt, stored only as a hash.

Deriving (instead of storing) the token lets an idempotent replay of POST /v1/tickets hand
the client the same token again without the plain token ever being at rest.

Rotating the secret (docs/intake.md): tokens are checked against their stored hash, so
every token handed out stays valid whatever the secret; the secret only derives. During a
rotation window the retired secrets are listed as previous ones, so a replay of a ticket
made before the rotation still finds the token it was given.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence


def new_salt() -> str:
    return secrets.token_urlsafe(16)


def derive_token(secret: str, tid: str, salt: str) -> str:
    digest = hmac.new(secret.encode(), f"{tid}:{salt}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(token_hash(token), stored_hash)


def rederive_token(
    secrets_in_force: Sequence[str], tid: str, salt: str, stored_hash: str
) -> str | None:
    """The token the ticket was given, derived again with whichever secret in force (the
    current one first, then those still in their rotation window) made it; None if none."""
    for secret in secrets_in_force:
        token = derive_token(secret, tid, salt)
        if token_matches(token, stored_hash):
            return token
    return None
