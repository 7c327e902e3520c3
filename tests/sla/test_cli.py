"""`tidemark-sla` as a subprocess (SPEC 1.9): JSON lines in, one JSON line out per line."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

CMD = [sys.executable, "-m", "tidekit.sla.cli"]


def run(lines: list[str], *args: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [*CMD, *args],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


def case(**fields: Any) -> str:
    return json.dumps(fields)


SUBMIT_FRI = {"at": "2026-11-27T15:00:00Z", "type": "submitted"}


def test_spec_example_and_bad_lines_in_one_run() -> None:
    out = run(
        [
            case(id="c1", level="commercial", severity="medium", events=[SUBMIT_FRI]),
            "this is not json",
            case(id="c2", level="gold", severity=None, events=[SUBMIT_FRI]),
            case(id="c3", level="commercial", severity="medium"),
            case(
                id="c4",
                level="commercial",
                severity="medium",
                events=[{"at": "yesterday", "type": "submitted"}],
            ),
            case(
                id="c5",
                level="vip_request",
                severity=None,
                events=[{"at": "2026-11-28T10:00:00+01:00", "type": "submitted"}],
            ),
        ]
    )
    assert len(out) == 6
    assert out[0] == {
        "id": "c1",
        "obligations": [
            {
                "kind": "first_response",
                "started_at": "2026-11-27T15:00:00Z",
                "deadline": "2026-11-30T15:00:00Z",  # Fri 9 h + Mon 15 h
                "warning_at": "2026-11-30T09:00:00Z",  # 18 h = Fri 9 h + Mon 9 h
                "state": "running",
            }
        ],
    }
    assert out[1]["id"] is None and "not JSON" in out[1]["error"]
    assert out[2]["id"] == "c2" and "gold" in out[2]["error"]
    assert out[3]["id"] == "c3" and "events" in out[3]["error"]
    assert out[4]["id"] == "c4" and "events[0].at" in out[4]["error"]
    # +01:00 input, UTC out: 09:00Z + 4 h
    assert out[5]["obligations"][0]["deadline"] == "2026-11-28T13:00:00Z"


def test_calendar_override_pause_expired_and_now() -> None:
    berlin = {
        "time_zone": "Europe/Berlin",
        "hours": {d: [["06:00", "16:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        "holidays": {"country": "DE", "subdivision": None, "extra": ["2026-12-31"]},
    }
    out = run(
        [
            # Wed 30 Dec 2026 14:00 CET (13:00Z): Wed 2 h; Thu 31 extra closure; Fri 1 Jan
            # holiday; Mon 4 Jan 06:00 CET + 22 h = Mon 10 h, Tue 10 h, Wed 6 Jan 06:00 + 2 h
            # (Epiphany is not a holiday in Germany as a whole) = 08:00 CET = 07:00Z
            case(
                id="berlin",
                level="commercial",
                severity="low",
                calendar=berlin,
                events=[{"at": "2026-12-30T13:00:00Z", "type": "submitted"}],
            ),
            case(
                id="paused",
                level="commercial",
                severity="high",
                events=[SUBMIT_FRI, {"at": "2026-11-27T15:10:00Z", "type": "on_hold"}],
            ),
            case(
                id="expired",
                level="commercial",
                severity="high",
                entitlement="expired",
                events=[SUBMIT_FRI],
            ),
            case(
                id="late",
                level="commercial",
                severity="high",
                now="2026-11-27T16:00:00Z",
                events=[SUBMIT_FRI],
            ),
            case(
                id="reclassified",
                level="commercial",
                severity="medium",
                events=[
                    SUBMIT_FRI,
                    {"at": "2026-11-27T15:30:00Z", "type": "reclassified", "severity": "critical"},
                ],
            ),
            case(
                id="badcal",
                level="commercial",
                severity="low",
                calendar={"hours": {"mon": [["09:00", "08:00"]]}},
                events=[SUBMIT_FRI],
            ),
        ]
    )
    by_id = {o["id"]: o for o in out}
    assert by_id["berlin"]["obligations"][0]["deadline"] == "2027-01-06T07:00:00Z"
    paused = by_id["paused"]["obligations"][0]
    assert (paused["state"], paused["deadline"], paused["warning_at"]) == ("paused", None, None)
    assert by_id["expired"]["obligations"] == []
    assert by_id["late"]["obligations"][0]["state"] == "breached"
    assert by_id["reclassified"]["obligations"][0]["deadline"] == "2026-11-27T16:00:00Z"
    assert "error" in by_id["badcal"]


def test_due_one_off_mode() -> None:
    done = subprocess.run(
        [*CMD, "due", "--level", "commercial", "--severity", "medium", "--at", "2026-11-27T15:00Z"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "deadline  2026-11-30T15:00:00Z" in done.stdout
    assert "warning   2026-11-30T09:00:00Z" in done.stdout


def test_bad_policy_file_exits_with_a_message(tmp_path: Any) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("version: x\nwarning_share: 3\n")
    done = subprocess.run(
        [*CMD, "--policy", str(bad)], input="", capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "warning_share" in done.stderr


def test_ten_thousand_lines_are_all_answered_in_order() -> None:
    # The speed target (well under 2 s) is measured by `make bench`, not asserted here:
    # a timed assertion on a shared, noisy machine fails for reasons unrelated to the code.
    lines = []
    for i in range(10_000):
        day = 1 + i % 28
        lines.append(
            case(
                id=i,
                level=("commercial", "partner", "vip_request", "non_commercial")[i % 4],
                severity=("low", "medium", "high", None)[i % 4],
                events=[
                    {"at": f"2026-02-{day:02d}T{i % 24:02d}:{i % 60:02d}:00Z", "type": "submitted"},
                    {"at": f"2026-03-{day:02d}T10:00:00Z", "type": "staff_replied"},
                    {"at": f"2026-03-{day:02d}T11:00:00Z", "type": "customer_message"},
                ],
            )
        )
    out = run(lines)
    assert [o["id"] for o in out] == list(range(10_000))
    assert all(o["obligations"][0]["kind"] == "first_response" for o in out)


def test_reclassified_severity_null_clears_an_absent_key_keeps_and_neither_is_an_error() -> None:
    submit_mon = {"at": "2026-11-30T10:00:00Z", "type": "submitted"}  # Monday 10:00

    def reclassified(**fields: Any) -> str:
        event = {"at": "2026-11-30T10:30:00Z", "type": "reclassified", **fields}
        return case(
            id=json.dumps(fields), level="commercial", severity="high", events=[submit_mon, event]
        )

    cleared, kept, neither, null_level = run(
        [
            reclassified(level="commercial", severity=None),
            reclassified(level="commercial"),
            reclassified(),
            reclassified(level=None, severity="low"),
        ]
    )
    # severity null: the level's 24 h of business days from Mon 10:00 = Tue 10:00 (warning
    # at 18 h = Tue 04:00), not the high severity's 1 h
    (ob,) = cleared["obligations"]
    assert (ob["deadline"], ob["warning_at"]) == ("2026-12-01T10:00:00Z", "2026-12-01T04:00:00Z")
    # no severity key: still high, 1 h on 24x7
    assert kept["obligations"][0]["deadline"] == "2026-11-30T11:00:00Z"
    assert "level and/or severity" in neither["error"]
    assert "events[1].level" in null_level["error"]
