"""The claim's rows become TimerRows by position: the columns it returns must be the
dataclass's fields, in their order."""

from __future__ import annotations

from dataclasses import fields

from tidemark_sla_timer.domain import TimerRow
from tidemark_sla_timer.repo import TIMER_COLUMNS


def test_timer_columns_are_the_timer_rows_fields_in_order() -> None:
    columns = [c.strip() for c in TIMER_COLUMNS.split(",")]
    assert columns == [f.name for f in fields(TimerRow)]
