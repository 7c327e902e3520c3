"""Mail into the running system: a [TID-n] reply from an address the classifier's directory
registers on the ticket's license is appended (even if it never wrote before); a stranger's
mail with the same TID makes a new ticket instead."""

from __future__ import annotations

import asyncio
import smtplib
import uuid
from datetime import date
from email.message import EmailMessage
from email.policy import SMTP

import asyncpg
import pytest

from .conftest import System, poll

pytestmark = pytest.mark.e2e


def _send(system: System, sender: str, subject: str) -> None:
    port = int(system.processes["intake"].env["TIDEMARK_INTAKE_SMTP_PORT"])
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "support@example.com", subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@example.com>"
    msg.set_content("Here is what my colleague forgot to say.")
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.sendmail(sender, ["support@example.com"], msg.as_bytes(policy=SMTP))


def _addresses_known(database_url: str, license_key: str) -> set[str]:
    """The addresses of `license_key` in intake's own copy of the directory."""

    async def read() -> set[str]:
        conn = await asyncpg.connect(database_url)
        try:
            rows = await conn.fetch(
                "SELECT lower(email) AS email FROM intake.license_addresses WHERE license_key = $1",
                license_key,
            )
        finally:
            await conn.close()
        return {r["email"] for r in rows}

    return asyncio.run(read())


def test_directory_addresses_thread_mail(system: System, database_url: str) -> None:
    owner, colleague = (f"{n}-{uuid.uuid4().hex[:6]}@example.com" for n in ("own", "col"))
    key = f"LIC-{uuid.uuid4().hex[:8]}"
    license_body = {
        "edition": "business",
        "owner": "Hopper Ltd",
        "emails": [owner, colleague],
        "purchase_date": date.today().isoformat(),
    }
    with system.client("classifier") as classifier:
        assert classifier.put(f"/v1/licenses/{key}", json=license_body).status_code == 201
    body = {
        "channel": "web",
        "requester": {"email": owner, "name": "Owner"},
        "license_key": key,
        "subject": "Export is slow",
        "body": "The export is slow.",
    }
    with system.client("intake") as intake, system.client("intake", system.keys.agent) as staff:
        tid = intake.post("/v1/tickets", json=body).json()["tid"]

        def messages_from(address: str) -> list[dict[str, str]]:
            return [
                m for m in staff.get(f"/v1/tickets/{tid}").json()["messages"]
                if m.get("email") == address
            ]  # fmt: skip

        # Intake learns the license's addresses from the classifier's license.recorded, on a
        # topic of its own (no order with this ticket's events): wait until it knows them.
        poll(lambda: _addresses_known(database_url, key), lambda known: colleague in known)
        _send(system, colleague.upper(), f"Re: [{tid}] Export is slow")
        poll(lambda: messages_from(colleague), lambda ms: len(ms) == 1)

        stranger = f"str-{uuid.uuid4().hex[:6]}@example.com"
        raw = EmailMessage()
        raw["From"], raw["To"], raw["Subject"] = (
            stranger,
            "support@example.com",
            f"Re: [{tid}] me too",
        )
        raw["Message-ID"] = f"<{uuid.uuid4().hex}@example.com>"
        raw.set_content("Not registered on that license.")
        gateway = {"X-Api-Key": system.keys.mail_gateway, "Content-Type": "message/rfc822"}
        with system.client("intake", "") as http:
            answer = http.post(
                "/v1/inbound/email", content=raw.as_bytes(policy=SMTP), headers=gateway
            )
        assert answer.status_code == 201, answer.text  # a new ticket, never appended
        assert answer.json()["outcome"] == "created" and answer.json()["tid"] != tid
        assert messages_from(stranger) == []
