"""Inbound e-mail benchmark, side by side in one run on this machine (loopback only):

(a) requests/s of the bare FastAPI + pydantic POST endpoint (tests/bench/bare_app.py, no I/O),
(b) 200 KB e-mails/s through intake's SMTP listener to durable tickets (each 250 answer is
    a committed ticket; the count is checked against the event store afterwards),
and the ratio (b)/(a). Also (a') the bare POST with a 200 KB JSON body, for scale.
The load generator (SMTP clients in threads) shares the machine's two cores with intake.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import smtplib
import threading
import time
import uuid
from email import policy
from email.message import EmailMessage

import asyncpg
import httpx

from tidemark_devstack.common import port_open
from tidemark_devstack.services import SERVICES
from tidemark_devstack.stack import Stack

from .load import wait_ok, wrk_post_rps, yardstick

# base64 with line ends makes 146 KiB about 200 KiB on the wire, with the headers and text
ATTACHMENT = b"%PDF-1.4\n" + os.urandom(146 * 1024)


def mail_200kb(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Bench {n} <bench-{n % 50}@example.com>"
    msg["To"] = "support@example.com"
    msg["Subject"] = f"Checkout answers 500 (#{n})"
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@bench.example.com>"
    msg.set_content("Every checkout fails since this morning; the log is attached.\n" * 5)
    msg.add_attachment(ATTACHMENT, maintype="application", subtype="pdf", filename="log.pdf")
    return msg.as_bytes(policy=policy.SMTP)


def smtp_rate(port: int, seconds: float = 10.0, clients: int = 6) -> tuple[float, int, int]:
    """(accepted mails/s, accepted, refused) with `clients` connections sending for `seconds`."""
    mails = [mail_200kb(i) for i in range(64)]  # templates; Message-IDs made unique below
    accepted = [0] * clients
    refused = [0] * clients
    stop_at = time.monotonic() + seconds

    def client(k: int) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
            i = 0
            while time.monotonic() < stop_at:
                raw = mails[(k * 7 + i) % len(mails)].replace(
                    b"@bench.example.com>", f"-{k}-{i}@bench.example.com>".encode(), 1
                )
                i += 1
                try:
                    smtp.sendmail("gateway@example.com", ["support@example.com"], raw)
                    accepted[k] += 1
                except smtplib.SMTPDataError:
                    refused[k] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return sum(accepted) / elapsed, sum(accepted), sum(refused)


def durable_tickets(database_url: str) -> int:
    async def count() -> int:
        conn = await asyncpg.connect(database_url)
        try:
            return int(
                await conn.fetchval(
                    "SELECT count(*) FROM intake.events WHERE event_type = 'ticket.submitted'"
                )
            )
        finally:
            await conn.close()

    return asyncio.run(count())


def main() -> None:
    stack = Stack.private("bench-mail", services=SERVICES)
    try:
        stack.install()
        stack.start_postgres(fresh=True)  # every run on an empty database
        stack.start_kafka(fresh=True)
        stack.start_service(
            "intake",
            stack.ports.services["intake"],
            stack.ports.intake_smtp,
            stack.log_dir / "intake.log",
            extra_env={"TIDEMARK_LOG_LEVEL": "WARNING"},
        )
        wait_ok(f"http://127.0.0.1:{stack.ports.services['intake']}/readyz")
        deadline = time.monotonic() + 30
        while not port_open(stack.ports.intake_smtp):
            if time.monotonic() > deadline:
                raise RuntimeError("intake's SMTP listener did not open")
            time.sleep(0.2)
        size = len(mail_200kb(0))
        print(f"\n== inbound e-mail: {size / 1024:.0f} KB messages over SMTP vs bare POST ==")
        with yardstick("bare_app") as bare_url:
            bare_rps, _ = wrk_post_rps(f"{bare_url}/v1/tickets")
            bare_big_rps = _bare_big_post_rps(bare_url)
        smtp_rate(stack.ports.intake_smtp, seconds=2.0)  # warm-up
        before = durable_tickets(stack.database_url)
        rate, accepted, refused = smtp_rate(stack.ports.intake_smtp)
        durable = durable_tickets(stack.database_url) - before
        print(f"bare FastAPI+pydantic POST (no I/O, small JSON):  {bare_rps:8.0f} req/s")
        print(f"bare POST with a 200 KB JSON body (for scale):    {bare_big_rps:8.0f} req/s")
        print(f"200 KB e-mails via SMTP to durable tickets:       {rate:8.1f} mails/s")
        print(f"ratio mails/bare POST:                            {rate / bare_rps:8.3f}")
        print(f"ratio mails/bare 200 KB POST:                     {rate / bare_big_rps:8.3f}")
        print(f"(accepted {accepted}, refused {refused}, new tickets in the store {durable})")
        if durable != accepted:
            raise RuntimeError(f"{accepted} mails accepted but {durable} tickets stored")
    finally:
        stack.stop()


def _bare_big_post_rps(url: str, seconds: float = 5.0, clients: int = 6) -> float:
    body = {
        "channel": "email",
        "requester": {"email": "bench@example.com", "name": "Bench"},
        "subject": "Checkout answers 500",
        "body": "Every checkout fails since this morning.",
        "attachments": [
            {"filename": "log.pdf", "content_base64": base64.b64encode(ATTACHMENT).decode()}
        ],
    }
    content = json.dumps(body).encode()
    done = [0] * clients
    stop_at = time.monotonic() + seconds

    def client(k: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            while time.monotonic() < stop_at:
                r = http.post(
                    "/v1/tickets", content=content, headers={"Content-Type": "application/json"}
                )
                r.raise_for_status()
                done[k] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.monotonic() - started)
