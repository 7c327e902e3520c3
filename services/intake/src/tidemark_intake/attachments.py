"""Attachment types recognised by content (magic bytes), never by name or declared type."""

from __future__ import annotations

import base64
import binascii
import hashlib
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


def sniff(content: bytes) -> str:
    for magic, media_type in _SIGNATURES:
        if content.startswith(magic):
            return media_type
    if content.startswith(b"BM"):
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
