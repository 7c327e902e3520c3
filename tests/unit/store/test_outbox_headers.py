"""An outbox row's headers column is the record's headers as JSON, each value in base64,
which the relay decodes again; written out by hand, it stays the text json.dumps makes."""

from __future__ import annotations

import base64
import json
from binascii import a2b_base64

from hypothesis import given
from hypothesis import strategies as st

from tidekit.store.eventstore import outbox_headers_json

HEADERS = st.lists(st.tuples(st.text(), st.binary()), max_size=12)


@given(HEADERS)
def test_the_headers_text_is_json_dumps_of_names_and_base64_values(
    headers: list[tuple[str, bytes]],
) -> None:
    expected = json.dumps([[k, base64.b64encode(v).decode()] for k, v in headers])
    assert outbox_headers_json(headers) == expected


@given(HEADERS)
def test_the_relay_reads_back_the_headers_written(headers: list[tuple[str, bytes]]) -> None:
    stored = outbox_headers_json(headers)
    assert [(k, a2b_base64(v)) for k, v in json.loads(stored)] == headers
