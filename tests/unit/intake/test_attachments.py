"""Attachment types by content: a BMP is recognised by its headers, not by two letters."""

from __future__ import annotations

import base64
import struct

import pytest

from tests.fixtures.images import BMP_DIB_SIZES, bmp, png
from tidemark_intake.tickets.attachments import AttachmentRefused, check, sniff

LIMIT = 1_000_000


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


@pytest.mark.parametrize("dib_size", BMP_DIB_SIZES)
def test_a_real_bmp_is_refused_with_the_zip_hint(dib_size: int) -> None:
    with pytest.raises(AttachmentRefused, match=r"shot\.bmp: BMP .* ZIP"):
        check("shot.bmp", b64(bmp(3, 2, dib_size)), LIMIT)


def test_a_bmp_under_another_name_is_still_refused() -> None:
    with pytest.raises(AttachmentRefused, match="BMP"):
        check("screenshot.png", b64(bmp(4, 4)), LIMIT)


def test_a_text_file_starting_with_bm_is_text() -> None:
    export = b"BMW order export\norder;model;price\n1042;320d;41900\n"
    checked = check("orders.csv", b64(export), LIMIT)
    assert checked.media_type == "text/plain"
    assert sniff(b"BM") == "text/plain"  # two letters of text


def test_a_png_named_bmp_is_a_png() -> None:
    assert check("photo.bmp", b64(png(2, 2)), LIMIT).media_type == "image/png"


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param(lambda b: b[:6] + b"\x01\x00" + b[8:], id="reserved field not zero"),
        pytest.param(lambda b: b[:14] + struct.pack("<I", 41) + b[18:], id="unknown DIB size"),
        pytest.param(lambda b: b[:10] + struct.pack("<I", 20) + b[14:], id="pixels inside header"),
        pytest.param(
            lambda b: b[:2] + struct.pack("<I", 30) + b[6:], id="file shorter than headers"
        ),
        pytest.param(lambda b: b[:16], id="cut inside the DIB header"),
    ],
)
def test_bytes_after_bm_that_are_no_bmp_header_are_not_a_bmp(broken: object) -> None:
    content = broken(bmp(2, 2))  # type: ignore[operator]
    with pytest.raises(AttachmentRefused) as refused:
        sniff(content)
    assert "BMP" not in str(refused.value) and "allowed" in str(refused.value)


def test_a_truncated_bmp_with_a_plausible_header_is_still_a_bmp() -> None:
    with pytest.raises(AttachmentRefused, match="BMP"):
        sniff(bmp(8, 8)[:80])  # the size field says more than arrived: cut off in transit
