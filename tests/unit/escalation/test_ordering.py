"""Serving order (urgent first, then submission time, ties by TID number) and cursor paging."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidemark_escalation.ordering import (
    BadCursor,
    ServingKey,
    decode_cursor,
    encode_cursor,
    serving_key,
    tid_key,
)

T0 = datetime(2026, 11, 23, tzinfo=UTC)
tickets = st.lists(
    st.tuples(
        st.booleans(),
        st.integers(0, 50).map(lambda m: T0 + timedelta(minutes=m)),  # many equal times
        st.integers(1, 10**12).map(lambda n: f"TID-{n}"),
    ),
    unique_by=lambda t: t[2],
    max_size=60,
)


@given(tickets)
def test_serving_order_is_urgent_first_then_fifo_then_tid(
    items: list[tuple[bool, datetime, str]],
) -> None:
    served = sorted(items, key=lambda t: serving_key(*t))
    urgent = [t for t in served if t[0]]
    assert served[: len(urgent)] == urgent  # every urgent ticket ahead of every other
    for group in (urgent, served[len(urgent) :]):
        for (_, a_at, a_tid), (_, b_at, b_tid) in itertools.pairwise(group):
            assert a_at < b_at or (a_at == b_at and int(a_tid[4:]) < int(b_tid[4:]))


@given(tickets, st.integers(1, 7))
def test_paging_with_cursors_yields_every_ticket_once_in_order(
    items: list[tuple[bool, datetime, str]], page: int
) -> None:
    keys = sorted(serving_key(*t) for t in items)
    seen: list[ServingKey] = []
    after: ServingKey | None = None
    while True:
        chunk = [k for k in keys if after is None or k > after][:page]
        seen += chunk
        if len(chunk) < page:
            break
        after = decode_cursor(encode_cursor(chunk[-1]))
    assert seen == keys


def test_tid_key_sorts_numbers_not_text() -> None:
    assert tid_key("TID-9") < tid_key("TID-10") < tid_key("TID-100")
    assert tid_key("TID-007") == tid_key("TID-7")
    assert tid_key("TID-99999999999999999999") < tid_key("odd-id")


@pytest.mark.parametrize("cursor", ["", "x", "bm90IGpzb24", "WzIsIjIwMjYtMTEtMjMiLCJhIl0"])
def test_foreign_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(BadCursor):
        decode_cursor(cursor)
