"""Access rules and the vault's cryptography, without I/O."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidemark_intake.access import principals as access
from tidemark_intake.tickets import tokens
from tidemark_intake.vault.crypto import Vault, VaultError, decode_key, new_key


def test_generated_key_splits_back_and_only_its_hash_is_kept() -> None:
    new = access.generate_key()
    key_id, secret = access.split_key(new.plaintext) or ("", "")
    assert key_id == new.key_id
    assert secret not in new.secret_hash and access.secret_matches(secret, new.secret_hash)
    assert not access.secret_matches(secret + "x", new.secret_hash)


@given(st.text(max_size=80))
def test_arbitrary_text_is_never_taken_for_a_key_unless_well_formed(text: str) -> None:
    parts = access.split_key(text)
    if parts is not None:
        assert text.strip() == f"tmk_{parts[0]}_{parts[1]}"


def test_roles_are_ordered_and_frontends_are_not_staff() -> None:
    agent = access.Principal("k1", "alice", "staff", role="agent")
    admin = access.Principal("k2", "root", "staff", role="admin")
    chat = access.Principal("k3", "chatbot", "frontend", channels=frozenset({"chat"}))
    assert agent.is_staff() and not agent.is_staff("supervisor")
    assert admin.is_staff("supervisor") and admin.is_staff("admin")
    assert not chat.is_staff()
    assert chat.may_post_on("chat") and not chat.may_post_on("web")
    assert agent.may_post_on("web")  # staff open tickets on a customer's behalf


@pytest.mark.parametrize(
    ("kind", "channels", "role", "message"),
    [
        ("frontend", [], None, "at least one channel"),
        ("frontend", ["fax"], None, "unknown channel"),
        ("frontend", ["web"], "agent", "not a role"),
        ("staff", [], None, "needs a role"),
        ("staff", ["web"], "agent", "not channels"),
        ("service", ["web"], None, "neither channels nor a role"),
        ("service", [], "admin", "neither channels nor a role"),
        ("robot", [], None, "kind must be"),
    ],
)
def test_incomplete_scopes_are_refused(
    kind: str, channels: list[str], role: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        access.validate_scope(kind, channels, role)


def test_a_service_key_is_neither_staff_nor_a_frontend() -> None:
    access.validate_scope("service", [], None)  # complete as it is
    service = access.Principal("k3", "sla-timer", "service")
    assert service.is_service and not service.is_staff() and not service.may_post_on("web")


def test_vault_round_trip_binds_ticket_and_supports_rotation() -> None:
    old, new = new_key(), new_key()
    before = Vault({"2026-01": decode_key(old)}, "2026-01")
    sealed = before.seal({"password": "hunter2"}, tid="TID-1", ref="cred_a")
    assert b"hunter2" not in sealed.ciphertext
    after = Vault({"2026-01": decode_key(old), "2026-11": decode_key(new)}, "2026-11")
    assert after.open(sealed, tid="TID-1", ref="cred_a") == {"password": "hunter2"}
    assert after.seal({"p": "x"}, tid="TID-1", ref="cred_b").key_id == "2026-11"
    with pytest.raises(VaultError):
        after.open(sealed, tid="TID-2", ref="cred_a")  # moved to another ticket
    flipped = sealed.ciphertext[:-1] + bytes([sealed.ciphertext[-1] ^ 1])  # always a change
    tampered = type(sealed)(sealed.key_id, sealed.nonce, flipped)
    with pytest.raises(VaultError):
        after.open(tampered, tid="TID-1", ref="cred_a")
    with pytest.raises(VaultError, match="not configured"):
        Vault({"2026-11": decode_key(new)}, "2026-11").open(sealed, tid="TID-1", ref="cred_a")


def test_vault_keys_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        decode_key("c2hvcnQ=")


def test_a_token_is_derived_again_with_whichever_secret_made_it() -> None:
    made = tokens.derive_token("secret-a", "TID-7", "salt")
    stored = tokens.token_hash(made)
    assert tokens.rederive_token(["secret-b", "secret-a"], "TID-7", "salt", stored) == made
    assert tokens.rederive_token(["secret-b"], "TID-7", "salt", stored) is None  # window closed
    assert tokens.rederive_token(["secret-a"], "TID-8", "salt", stored) is None  # other ticket
