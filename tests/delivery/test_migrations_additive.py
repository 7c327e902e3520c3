"""Migrations only add: a rolling update runs the previous release's pods against the schema
the new pods migrated, so no migration may take away or change what old code uses.

Refused: DROP of a table, column, index, view, schema, sequence, type or function; any
RENAME; ALTER COLUMN ... TYPE; SET NOT NULL (an old writer leaving the column out fails).
Allowed without a word: a DROP CONSTRAINT whose constraint the same migration adds back
under the same name (a replacement, e.g. a CHECK widened: old rows and old writers stay
valid; that it only widens is the reviewer's part). Allowed with a reason: a statement
directly under a `-- two-step: <reason>` comment naming the earlier release that stopped
using the thing (docs/deployment.md, "Migrations")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MIGRATIONS = sorted(
    [
        *REPO.glob("services/*/src/*/migrations/*.sql"),
        *REPO.glob("shared/src/tidekit/store/migrations/*.sql"),
    ]
)

REFUSED = [
    (re.compile(r"\bDROP\s+(TABLE|COLUMN|INDEX|VIEW|SCHEMA|SEQUENCE|TYPE|FUNCTION)\b", re.I),
     "drops"),
    (re.compile(r"\bRENAME\b", re.I), "renames"),
    (re.compile(r"\bALTER\s+COLUMN\s+\S+\s+(SET\s+DATA\s+)?TYPE\b", re.I), "changes a type"),
    (re.compile(r"\bSET\s+NOT\s+NULL\b", re.I), "tightens to NOT NULL"),
]  # fmt: skip
DROP_CONSTRAINT = re.compile(r"\bDROP\s+CONSTRAINT\s+(?:IF\s+EXISTS\s+)?(\w+)", re.I)
ADD_CONSTRAINT = re.compile(r"\bADD\s+CONSTRAINT\s+(\w+)", re.I)
TWO_STEP = re.compile(r"^--\s*two-step:\s*(?=.*\brelease\b)\S.*$", re.I | re.M)

# Released before this rule existed; kept as history, not as examples. escalation 0002
# moved `deadline` into ticket_deadlines and dropped it in one step (an escalation pod of
# the release before it could not have run beside one of the release after it).
BEFORE_THE_RULE = {
    "services/escalation/src/tidemark_escalation/migrations/0002_routing.sql": [
        "tightens to NOT NULL",
        "drops",
        "drops",
    ],
}


@dataclass(frozen=True)
class Statement:
    comments: str  # the comment lines directly above it
    sql: str  # without comments


def statements(text: str) -> list[Statement]:
    """The file's statements with the comment block just above each (no $$ bodies here)."""
    found: list[Statement] = []
    comments: list[str] = []
    code: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("--") and not code:
            comments.append(stripped)
            continue
        if not stripped and not code:
            comments = []  # a blank line ends a comment block that belongs to nothing
            continue
        code.append(line.split("--", 1)[0])
        if stripped.endswith(";") or line.split("--", 1)[0].rstrip().endswith(";"):
            found.append(Statement("\n".join(comments), " ".join(code)))
            comments, code = [], []
    return found


def findings(text: str) -> list[str]:
    """What in one migration file breaks the previous release, in file order."""
    stmts = statements(text)
    added = {m for s in stmts for m in ADD_CONSTRAINT.findall(s.sql)}
    out: list[str] = []
    for s in stmts:
        if TWO_STEP.search(s.comments):
            continue
        out.extend(what for pattern, what in REFUSED if pattern.search(s.sql))
        out.extend(
            f"drops constraint {name} not added back"
            for name in DROP_CONSTRAINT.findall(s.sql)
            if name not in added
        )
    return out


@pytest.mark.parametrize("path", MIGRATIONS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_migration_only_adds(path: Path) -> None:
    relative = str(path.relative_to(REPO))
    assert findings(path.read_text()) == BEFORE_THE_RULE.get(relative, [])


def test_the_scan_found_the_migrations() -> None:
    assert len(MIGRATIONS) >= 18
    assert set(BEFORE_THE_RULE) <= {str(p.relative_to(REPO)) for p in MIGRATIONS}


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("ALTER TABLE t DROP COLUMN c;", ["drops"]),
        ("DROP TABLE old_things;", ["drops"]),
        ("DROP INDEX IF EXISTS t_idx;", ["drops"]),
        ("ALTER TABLE t RENAME COLUMN a TO b;", ["renames"]),
        ("ALTER TABLE t RENAME TO u;", ["renames"]),
        ("ALTER TABLE t ALTER COLUMN c TYPE bigint;", ["changes a type"]),
        ("ALTER TABLE t\n    ALTER COLUMN c SET DATA TYPE text;", ["changes a type"]),
        ("ALTER TABLE t ALTER COLUMN c SET NOT NULL;", ["tightens to NOT NULL"]),
        ("ALTER TABLE t DROP CONSTRAINT t_check;", ["drops constraint t_check not added back"]),
        # a CHECK widened: dropped and added back under its name in the same file
        ("ALTER TABLE t DROP CONSTRAINT t_check;\n"
         "ALTER TABLE t ADD CONSTRAINT t_check CHECK (k IN ('a', 'b'));", []),
        # the second step of a two-step removal, with its reason directly above
        ("-- two-step: release 1.4 stopped reading c\nALTER TABLE t DROP COLUMN c;", []),
        # a two-step comment must name the release and sit directly above the statement
        ("-- two-step: not used\nALTER TABLE t DROP COLUMN c;", ["drops"]),
        ("-- two-step: release 1.4 stopped reading c\n\nALTER TABLE t DROP COLUMN c;", ["drops"]),
        ("-- we DROP nothing and RENAME nothing here\nALTER TABLE t ADD COLUMN c text;", []),
        ("CREATE TABLE t (a int NOT NULL);\nALTER TABLE t ALTER COLUMN a SET DEFAULT 1;", []),
    ],
)  # fmt: skip
def test_the_scan_refuses_what_breaks_the_previous_release(sql: str, expected: list[str]) -> None:
    assert findings(sql) == expected
