"""The real intake process with its SMTP listener (real Kafka and PostgreSQL): malformed
mail over real SMTP gets a clear answer and a record and never stops the listener; good mail
still becomes a durable ticket; loops, duplicates and replies; the HTTP route's answers."""

from __future__ import annotations

import asyncio
import base64
import email
import json
import smtplib
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from typing import Any

import asyncpg
import httpx
import pytest

from tests.fixtures import images
from tests.fixtures.access import ApiKeys, isolate_ticket_ids, make_keys
from tests.fixtures.backends import create_fresh_database
from tidemark_devstack.common import free_port, port_open

pytestmark = pytest.mark.integration
MAX_MAIL = 12 * 1024 * 1024


@dataclass
class Intake:
    url: str
    smtp_port: int
    database_url: str
    keys: ApiKeys

    def send(self, raw: bytes, mail_from: str = "gateway@example.com") -> tuple[int, str]:
        """One SMTP transaction; (code, text) of the answer to DATA."""
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as smtp:
            try:
                smtp.sendmail(mail_from, ["support@example.com"], raw)
            except smtplib.SMTPDataError as exc:
                return exc.smtp_code, exc.smtp_error.decode()
            except smtplib.SMTPResponseException as exc:
                return exc.smtp_code, exc.smtp_error.decode()
            code, _ = smtp.noop()  # the session is still alive after the message
            assert code == 250
        return 250, ""

    def query(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async def run() -> list[asyncpg.Record]:
            conn = await asyncpg.connect(
                self.database_url, server_settings={"search_path": "intake"}
            )
            try:
                return list(await conn.fetch(sql, *args))
            finally:
                await conn.close()

        return asyncio.run(run())

    def submitted_with(self, message_id: str) -> list[str]:
        rows = self.query(
            """SELECT stream_id FROM events WHERE event_type = 'ticket.submitted'
               AND data->'email'->>'message_id' = $1""",
            message_id,
        )
        return [r["stream_id"] for r in rows]


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


@pytest.fixture(scope="module")
def intake(service_launcher: Any, database_url: str) -> Iterator[Intake]:
    db = create_fresh_database(database_url, prefix="tidemark_mail")
    isolate_ticket_ids(db)
    smtp_port = free_port()
    proc = service_launcher(
        "intake",
        extra_env={
            "TIDEMARK_DATABASE_URL": db,
            "TIDEMARK_INTAKE_SMTP_PORT": str(smtp_port),
            "TIDEMARK_INTAKE_MAX_MAIL_BYTES": str(MAX_MAIL),
            "TIDEMARK_INTAKE_MAX_MAIL_HEADER_BYTES": str(64 * 1024),
        },
    )
    deadline = time.monotonic() + 60
    while not port_open(smtp_port):
        assert proc.alive, "intake exited"
        assert time.monotonic() < deadline, "the SMTP listener did not open"
        time.sleep(0.2)
    yield Intake(proc.url, smtp_port, db, asyncio.run(make_keys(db)))


def mail(sender: str, subject: str, body: str = "Checkout fails.", **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = headers.pop("message_id", f"<{uuid.uuid4().hex}@example.com>")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes(policy=policy.SMTP)


def _multipart(last_part: bytes, close: bool = True) -> bytes:
    return (
        b"From: ada@example.com\r\nSubject: log\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nsee the log\r\n--b\r\n" + last_part
        + (b"\r\n--b--\r\n" if close else b"")
    )  # fmt: skip


def garbage_line(i: int) -> bytes:
    return bytes((i * 37 + j) % 256 for j in range(70)).replace(b"\r", b"").replace(b"\n", b"")


PDF_PART = b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
MALFORMED: dict[str, tuple[bytes, str]] = {
    "truncated multipart": (_multipart(PDF_PART + b"JVBERi0xLjQK", close=False), "554"),
    "bad base64": (_multipart(PDF_PART + b"JVBERi0x*&^%$#@!abc"), "554"),
    "10 MB header": (
        b"From: ada@example.com\r\nX-Huge: "
        + b"\r\n ".join([b"h" * 900] * 11_000)
        + b"\r\nSubject: hi\r\n\r\nbody\r\n",
        "554",
    ),
    "wrong charset": (
        b"From: ada@example.com\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"\r\n\xff\xfe\xfd not utf-8\r\n",
        "554",
    ),
    "unknown charset": (
        b"From: ada@example.com\r\nSubject: x\r\nContent-Type: text/plain; charset=x-klingon"
        b"\r\n\r\nqapla'\r\n",
        "554",
    ),
    "binary garbage in lines": (b"\r\n".join(garbage_line(i) for i in range(200)), "554"),
    "binary garbage, one huge line": (bytes(range(256)).replace(b"\r", b"") * 40, "500"),
}


def test_malformed_mail_over_smtp_is_answered_and_recorded_then_good_mail_is_a_ticket(
    intake: Intake,
) -> None:
    for case, (raw, code) in MALFORMED.items():
        sender = f"bad-{case.replace(' ', '-').replace(',', '')}@example.com"
        got, text = intake.send(raw, mail_from=sender)
        assert str(got) == code and "Refused" in text, (case, got, text)
        rows = intake.query("SELECT * FROM inbound_mail WHERE envelope_from = $1", sender)
        assert [r["outcome"] for r in rows] == ["refused"], case
        assert rows[0]["reason"], case
    assert intake.query("SELECT count(*) AS n FROM events")[0]["n"] == 0

    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    good = EmailMessage()
    good["From"] = "Ada Lovelace <ada@example.com>"
    good["To"] = "support@example.com"
    good["Subject"] = "=?utf-8?q?Gr=C3=BC=C3=9Fe?= — checkout fails"
    good["Message-ID"] = message_id = f"<{uuid.uuid4().hex}@example.com>"
    good.set_content("Every checkout answers 500.")
    good.add_alternative("<p>Every checkout answers <b>500</b>.</p>", subtype="html")
    good.add_attachment(png, maintype="image", subtype="png", filename="screen.png")
    code, _ = intake.send(good.as_bytes(policy=policy.SMTP))
    assert code == 250
    (tid,) = intake.submitted_with(message_id)
    (row,) = intake.query("SELECT * FROM tickets WHERE tid = $1", tid)
    assert row["channel"] == "email" and row["requester_email"] == "ada@example.com"
    (stored,) = intake.query("SELECT media_type, size FROM attachments")
    assert (stored["media_type"], stored["size"]) == ("image/png", len(png))
    # durable and on its way to Kafka: the outbox relay publishes it
    deadline = time.monotonic() + 30
    while intake.query("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")[0]["n"]:
        assert time.monotonic() < deadline, "the outbox was not published"
        time.sleep(0.2)


def test_replies_loops_and_duplicates_over_smtp(intake: Intake) -> None:
    sender = f"grace-{uuid.uuid4().hex[:6]}@example.com"
    first = mail(sender, "Site down", message_id=f"<{uuid.uuid4().hex}@example.com>")
    assert intake.send(first)[0] == 250
    assert intake.send(first)[0] == 250  # the MTA delivered it twice
    msg_id = str(parsed(first)["Message-ID"])
    (tid,) = intake.submitted_with(msg_id)

    assert intake.send(mail(sender.upper(), f"Re: [{tid}] Site down", "Still down."))[0] == 250
    assert intake.send(mail(sender, f"[{tid}] away", Auto_Submitted="auto-replied"))[0] == 250
    assert intake.send(mail("mallory@example.net", f"Re: [{tid}] mine now"))[0] == 250
    kinds = [
        r["event_type"]
        for r in intake.query("SELECT event_type FROM events WHERE stream_id = $1", tid)
    ]
    assert kinds.count("ticket.submitted") == 1 and kinds.count("ticket.message_added") == 1
    outcomes = sorted(
        r["outcome"]
        for r in intake.query(
            "SELECT outcome FROM inbound_mail WHERE sender IN ($1, 'mallory@example.net')",
            sender,
        )
    )
    assert outcomes == ["appended", "created", "created", "duplicate", "ignored"]


def test_http_route_answers(intake: Intake) -> None:
    headers = {"Content-Type": "message/rfc822", "X-Api-Key": intake.keys.mail_gateway}
    with httpx.Client(base_url=intake.url, timeout=30) as http:
        raw = mail(f"gw-{uuid.uuid4().hex[:6]}@example.com", "Who may deliver")
        anonymous = http.post(
            "/v1/inbound/email", content=raw, headers={"Content-Type": "message/rfc822"}
        )
        assert anonymous.status_code == 401
        chat_key = {"Content-Type": "message/rfc822", "X-Api-Key": intake.keys.chat}
        assert http.post("/v1/inbound/email", content=raw, headers=chat_key).status_code == 403
    with httpx.Client(base_url=intake.url, timeout=30) as http:
        raw = mail(f"ann-{uuid.uuid4().hex[:6]}@example.com", "Need help")
        created = http.post("/v1/inbound/email", content=raw, headers=headers)
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["outcome"] == "created" and body["tid"].startswith("TID-")
        assert body["access_token"]
        again = http.post("/v1/inbound/email", content=raw, headers=headers)
        assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
        assert again.json()["tid"] == body["tid"]

        loop = mail("ann@example.com", "Out of office", Precedence="auto_reply")
        ignored = http.post("/v1/inbound/email", content=loop, headers=headers)
        assert ignored.status_code == 202 and "Precedence" in ignored.json()["reason"]

        bad = http.post("/v1/inbound/email", content=MALFORMED["bad base64"][0], headers=headers)
        assert bad.status_code == 422 and "base64" in bad.json()["detail"]
        assert bad.headers["content-type"].startswith("application/problem+json")

        bmp = EmailMessage()
        bmp["From"] = "ann@example.com"
        bmp["Subject"] = "screenshot"
        bmp.set_content("attached")
        bmp.add_attachment(images.bmp(), maintype="image", subtype="bmp", filename="s.bmp")
        refused = http.post(
            "/v1/inbound/email", content=bmp.as_bytes(policy=policy.SMTP), headers=headers
        )
        assert refused.status_code == 422 and "ZIP" in refused.json()["detail"]

        wrong_type = http.post(
            "/v1/inbound/email", content=raw, headers={**headers, "Content-Type": "text/x"}
        )
        assert wrong_type.status_code == 415

        huge = http.post("/v1/inbound/email", content=b"x" * (MAX_MAIL + 1), headers=headers)
        assert huge.status_code == 413


def test_a_ticket_from_mail_carries_trace_context_over_smtp_and_http(intake: Intake) -> None:
    """No HTTP request is around a message taken over SMTP: the listener starts a trace of
    its own, so the ticket's events can be followed like those of any other ticket."""
    over_smtp = mail(f"tr-{uuid.uuid4().hex[:6]}@example.com", "Traced over SMTP")
    assert intake.send(over_smtp)[0] == 250
    over_http = mail(f"tr-{uuid.uuid4().hex[:6]}@example.com", "Traced over HTTP")
    headers = {"Content-Type": "message/rfc822", "X-Api-Key": intake.keys.mail_gateway}
    with httpx.Client(base_url=intake.url, timeout=30) as http:
        assert http.post("/v1/inbound/email", content=over_http, headers=headers).is_success
    trace_ids = []
    for raw in (over_smtp, over_http):
        (row,) = intake.query(
            """SELECT o.headers FROM outbox o JOIN events e USING (event_id)
               WHERE e.event_type = 'ticket.submitted'
               AND e.data->'email'->>'message_id' = $1""",
            str(parsed(raw)["Message-ID"]),
        )
        record = {k: base64.b64decode(v).decode() for k, v in json.loads(row["headers"])}
        assert "traceparent" in record, f"no trace context on {parsed(raw)['Subject']!r}"
        version, trace_id, _, _ = record["traceparent"].split("-")
        assert version == "00" and len(trace_id) == 32 and int(trace_id, 16) != 0
        trace_ids.append(trace_id)
    assert trace_ids[0] != trace_ids[1], "each message starts its own trace"
