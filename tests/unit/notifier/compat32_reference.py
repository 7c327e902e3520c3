"""The notifier's e-mail builder before `tidemark_notifier.wire` (commit f0255dc), kept
as the reference the rendered bytes are compared with: the email package's compat32
classes, flattened with CRLF line ends."""

from __future__ import annotations

from collections.abc import Mapping
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import compat32
from email.utils import formataddr, formatdate, parseaddr

UTF8_QP = Charset("utf-8")
UTF8_QP.body_encoding = QP
ON_THE_WIRE = compat32.clone(linesep="\r\n")


def reference_bytes(
    *,
    mail_from: str,
    recipient: str,
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    tid: str,
    headers: Mapping[str, str],
    staff: bool,
) -> bytes:
    msg: Message
    if html:
        msg = MIMEMultipart("alternative")
        msg.attach(_text(text, "plain"))
        msg.attach(_text(html, "html"))
    else:
        msg = _text(text, "plain")
    name, address = parseaddr(mail_from)
    msg["From"] = formataddr((name, address), charset="utf-8")
    msg["To"] = recipient
    msg["Subject"] = subject if subject.isascii() else Header(subject, "utf-8")  # type: ignore[assignment]
    msg["Message-ID"] = message_id
    msg["Date"] = formatdate(usegmt=True)
    msg["Auto-Submitted"] = "auto-generated" if staff else "auto-replied"
    msg["X-Tidemark-TID"] = tid
    for header_name in ("In-Reply-To", "References"):
        if headers.get(header_name):
            msg[header_name] = headers[header_name]
    return msg.as_bytes(policy=ON_THE_WIRE)


def _text(body: str, subtype: str) -> Message:
    part = MIMENonMultipart("text", subtype)
    part.set_payload(body, UTF8_QP)
    return part
