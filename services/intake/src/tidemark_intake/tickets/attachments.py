"""Attachment types recognised by content (magic bytes), never by name or declared type."""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from tidekit.events.intake import AttachmentRef

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"PK\x03\x04", "application/zip"),
    (b"PK\x05\x06", "application/zip"),  # empty archive
    (b"Rar!\x1a\x07", "application/vnd.rar"),
    (b"%PDF-", "application/pdf"),
)
ALLOWED = "PNG, GIF, JPEG, ZIP, RAR, PDF or plain text"
# DIB header sizes: BITMAPCOREHEADER (12), INFO (40), the V2/V3 INFO variants (52, 56), OS/2
# 2.x (64), V4 (108), V5 (124).
_BMP_DIB_SIZES = frozenset({12, 40, 52, 56, 64, 108, 124})
_BMP_FILE_HEADER = struct.Struct("<2sIHHI")  # "BM", file size, reserved 1 and 2, pixel offset


class AttachmentRefused(ValueError):
    pass


@dataclass(frozen=True)
class CheckedAttachment:
    filename: str
    media_type: str
    content: bytes

    @property
    def ref(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    def as_ref(self) -> AttachmentRef:
        """What an event carries: the content hash, name, type and size, never the bytes."""
        return AttachmentRef(
            ref=self.ref, filename=self.filename, media_type=self.media_type, size=len(self.content)
        )


def is_bmp(content: bytes) -> bool:
    """A BMP by its headers, not by its first two letters (text may start with "BM"): the
    reserved fields zero, a known DIB header size, the pixels after both headers and the
    file size covering them. The size field may exceed the bytes (a truncated upload is
    still a BMP)."""
    if len(content) < _BMP_FILE_HEADER.size + 4:
        return False
    magic, size, reserved1, reserved2, offset = _BMP_FILE_HEADER.unpack_from(content)
    (dib_size,) = struct.unpack_from("<I", content, _BMP_FILE_HEADER.size)
    return (
        magic == b"BM"
        and reserved1 == reserved2 == 0
        and dib_size in _BMP_DIB_SIZES
        and _BMP_FILE_HEADER.size + dib_size <= offset <= size
    )


def sniff(content: bytes) -> str:
    for magic, media_type in _SIGNATURES:
        if content.startswith(magic):
            return media_type
    if is_bmp(content):
        raise AttachmentRefused("BMP images are not accepted: compress it into a ZIP archive")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise AttachmentRefused(f"unrecognised file type; allowed: {ALLOWED}") from None
    if any(ch < " " and ch not in "\t\r\n\f" for ch in text):
        raise AttachmentRefused(f"unrecognised file type; allowed: {ALLOWED}")
    return "text/plain"


def check(filename: str, content_base64: str, max_bytes: int) -> CheckedAttachment:
    try:
        content = base64.b64decode(content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise AttachmentRefused(f"{filename}: content_base64 is not valid base64") from None
    if len(content) > max_bytes:
        raise AttachmentRefused(f"{filename}: larger than the limit of {max_bytes} bytes")
    try:
        return CheckedAttachment(filename, sniff(content), content)
    except AttachmentRefused as exc:
        raise AttachmentRefused(f"{filename}: {exc}") from None
