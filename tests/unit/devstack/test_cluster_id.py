"""The dev stack's KRaft cluster id never starts with '-' (kafka-storage would take it for
an option and refuse to format: about one random id in 64 did)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tidemark_devstack import kafka
from tidemark_devstack.kafka import KafkaServer, new_cluster_id

DASH_FIRST = uuid.UUID(bytes=b"\xf8" + b"\x00" * 15)  # base64 of 0xF8... starts with '-'


def test_an_id_that_would_start_with_a_dash_is_drawn_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    draws = iter([DASH_FIRST, uuid.UUID(int=1)])
    monkeypatch.setattr(kafka.uuid, "uuid4", lambda: next(draws))
    assert not new_cluster_id().startswith("-")


def test_a_stored_id_starting_with_a_dash_is_replaced(tmp_path: Path) -> None:
    server = KafkaServer(tmp_path, tmp_path / "libs", 9, 10)
    (tmp_path / "cluster-id").write_text("-abcdefghijklmnopqrstu\n")
    assert not server.cluster_id().startswith("-")
    assert server.cluster_id() == server.cluster_id()  # then kept
