"""Bulk-import parsing (pure): CSV or JSON lines into validated licenses, or a rejection
with the line number it was found on."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from .models import ImportRow

Format = Literal["csv", "jsonl"]
# The row model's fields, the key first (it is declared last, on the subclass).
CSV_COLUMNS = ("license_key", *(f for f in ImportRow.model_fields if f != "license_key"))
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0", ""}


@dataclass(frozen=True)
class Accepted:
    """A data row of the import file (`line` is its line number, from 1) that
    validates, to be written to the directory."""

    line: int
    row: ImportRow


@dataclass(frozen=True)
class Rejected:
    """A data row that is not imported; `error` says what is wrong with it, for the
    import's report."""

    line: int
    error: str


def format_for(filename: str) -> Format | None:
    lower = filename.lower()
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    return None


def parse(lines: Iterable[str], fmt: Format) -> Iterator[Accepted | Rejected]:
    """Every data row once, in order; a key seen before is rejected (never silently merged)."""
    seen: dict[str, int] = {}
    rows = _csv(lines) if fmt == "csv" else _jsonl(lines)
    for line, data in rows:
        if isinstance(data, str):
            yield Rejected(line, data)
            continue
        try:
            row = ImportRow.model_validate(data)
        except ValidationError as exc:
            yield Rejected(line, _explain(exc))
            continue
        if row.license_key in seen:
            yield Rejected(
                line, f"license_key {row.license_key} already on line {seen[row.license_key]}"
            )
            continue
        seen[row.license_key] = line
        yield Accepted(line, row)


def _explain(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "row"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def _jsonl(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for n, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            yield n, f"not JSON: {exc.msg}"
            continue
        yield n, data if isinstance(data, dict) else "not a JSON object"


def _csv(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any] | str]]:
    reader = csv.reader(iter(lines))
    header: list[str] | None = None
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if header is None:
            header = [h.strip().lower() for h in record]
            unknown = [h for h in header if h not in CSV_COLUMNS]
            if unknown or "license_key" not in header:
                yield (
                    line,
                    (f"header: unknown columns {unknown}" if unknown else "header: no license_key")
                    + f" (columns: {', '.join(CSV_COLUMNS)})",
                )
                return
            continue
        if len(record) != len(header):
            yield line, f"{len(record)} fields, the header has {len(header)}"
            continue
        yield line, _csv_row(dict(zip(header, record, strict=True)))


def _csv_row(cells: dict[str, str]) -> dict[str, Any] | str:
    data: dict[str, Any] = {}
    for name, raw in cells.items():
        value = raw.strip()
        if name in ("emails", "group_emails"):
            data[name] = [e for e in re.split(r"[;,\s]+", value) if e]
        elif name == "partner":
            if value.lower() not in _TRUE | _FALSE:
                return f"partner: {raw!r} is not true or false"
            data[name] = value.lower() in _TRUE
        elif value:
            data[name] = value
    return data
