"""The credentials vault's cryptography: AES-256-GCM with a key id for rotation. No I/O.

The associated data binds a ciphertext to its ticket and reference, so a row copied to
another ticket does not decrypt. New secrets use the active key; older key ids stay
readable as long as their key is configured.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class VaultError(Exception):
    """A ciphertext that cannot be read (unknown key id, or tampered with)."""


@dataclass(frozen=True)
class Sealed:
    """A payload encrypted with AES-GCM under the vault key `key_id`; the ticket and
    reference it was sealed for are bound in as associated data, not stored here."""

    key_id: str
    nonce: bytes
    ciphertext: bytes


def decode_key(text: str) -> bytes:
    """A vault key is 32 random bytes, written as URL-safe base64."""
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if len(raw) != 32:
        raise ValueError("a vault key must be 32 bytes in URL-safe base64 (44 characters)")
    return raw


def new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


class Vault:
    def __init__(self, keys: dict[str, bytes], active: str) -> None:
        if active not in keys:
            raise ValueError(f"the active vault key {active!r} is not among the configured keys")
        self._keys = keys
        self.active = active

    def seal(self, payload: dict[str, Any], *, tid: str, ref: str) -> Sealed:
        nonce = os.urandom(12)
        data = json.dumps(payload, separators=(",", ":")).encode()
        ct = AESGCM(self._keys[self.active]).encrypt(nonce, data, f"{tid}|{ref}".encode())
        return Sealed(self.active, nonce, ct)

    def open(self, sealed: Sealed, *, tid: str, ref: str) -> dict[str, Any]:
        key = self._keys.get(sealed.key_id)
        if key is None:
            raise VaultError(f"vault key {sealed.key_id!r} is not configured")
        try:
            data = AESGCM(key).decrypt(sealed.nonce, sealed.ciphertext, f"{tid}|{ref}".encode())
        except Exception as exc:  # InvalidTag: wrong key, other ticket, or tampering
            raise VaultError("credentials cannot be decrypted") from exc
        result: dict[str, Any] = json.loads(data)
        return result
