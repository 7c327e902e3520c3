"""tidemark-report's refusals before it asks anything (the calls are in
tests/inprocess/escalation/test_reports.py)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tidemark_escalation.reports.cli import main


def test_without_a_key_or_an_address_it_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TIDEMARK_API_KEY", raising=False)
    monkeypatch.delenv("TIDEMARK_ESCALATION_URL", raising=False)
    assert main(["sla", "--url", "http://127.0.0.1:1"]) == 2
    assert "no staff key" in capsys.readouterr().err
    assert main(["sla", "--key-file", str(tmp_path / "missing")]) == 2
    assert "cannot read the key file" in capsys.readouterr().err
    monkeypatch.setenv("TIDEMARK_API_KEY", "tmk_x")
    assert main(["sla"]) == 2
    assert "no address" in capsys.readouterr().err


def test_an_unreachable_service_is_exit_status_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as s:  # a port nobody listens on: bound, never listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        monkeypatch.setenv("TIDEMARK_API_KEY", "tmk_x")
        assert main(["sla", "--url", f"http://127.0.0.1:{port}", "--timeout", "5"]) == 3
    assert "could not be reached" in capsys.readouterr().err


def test_group_by_is_checked_by_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["sla", "--group-by", "colour"])
    assert exit_.value.code == 2
    assert "invalid choice: 'colour'" in capsys.readouterr().err
