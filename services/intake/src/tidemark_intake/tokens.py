"""Ticket access tokens: derived with HMAC from a per-ticket salt, stored only as a hash.

Deriving (instead of storing) the token lets an idempotent replay of POST /v1/tickets hand
the client the same token again without the plain token ever being at rest.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def new_salt() -> str:
    return secrets.token_urlsafe(16)


def derive_token(secret: str, tid: str, salt: str) -> str:
    digest = hmac.new(secret.encode(), f"{tid}:{salt}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(token_hash(token), stored_hash)
