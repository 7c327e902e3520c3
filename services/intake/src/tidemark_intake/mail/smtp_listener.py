"""The SMTP listener: aiosmtpd in the service's own event loop, started as a runtime worker
once the database is up (port `TIDEMARK_INTAKE_SMTP_PORT`; 0 leaves it off).

Every message goes through MailIntake.receive and is answered with its outcome: 250 for
what was kept (or dropped on purpose, like auto-replies), 5xx with the reason for what the
sender must fix, 451 (try again later) when the database is away or anything unexpected
happens. A failing message never stops the listener.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.smtp import SMTP

from tidekit.connections import DB_OR_BROKER_DOWN
from tidekit.errors import DependencyUnavailable
from tidekit.runtime import ServiceRuntime
from tidekit.store.eventstore import ConcurrencyConflict
from tidekit.telemetry import start_trace

from .intake import MailIntake, Refusal

log = logging.getLogger(__name__)
TRY_LATER = "451 4.3.0 Temporary failure, please try again later"
# What defers a message with TRY_LATER rather than refusing it: the database or broker away.
# (a ConcurrencyConflict: the retry policy gave up on a busy ticket; the sender tries later)
_DEFERRING: tuple[type[BaseException], ...] = (
    DependencyUnavailable,
    ConcurrencyConflict,
    *DB_OR_BROKER_DOWN,
)
# aiosmtpd's own refusals during DATA, which never reach the handler: recorded too.
_TRANSFER_REFUSALS: dict[str, tuple[str, Refusal, str]] = {
    "500 Line too long": (
        "500 5.6.0",
        "malformed",
        "a line is longer than 1000 octets (RFC 5321 4.5.3.1.6)",
    ),
    "552 Error: Too much mail data": (
        "552 5.3.4",
        "too_large",
        "the message is larger than the size limit",
    ),
}


class MailHandler:
    def __init__(self, intake: MailIntake) -> None:
        self.intake = intake

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            # No request brings trace context over SMTP: each message begins a trace.
            with start_trace("smtp receive"):
                result = await self.intake.receive(raw, "smtp", envelope.mail_from)
        except _DEFERRING as exc:
            log.warning("inbound mail deferred", extra={"error": repr(exc)})
            return TRY_LATER
        except Exception:
            log.exception("inbound mail failed; deferred")
            return TRY_LATER
        return result.smtp_reply()

    async def refused_in_transfer(self, envelope: Any, refusal: Refusal, reason: str) -> None:
        try:
            pool = self.intake.runtime.require_pool()
            mail_from = getattr(envelope, "mail_from", None)
            await self.intake.refuse(pool, b"", "smtp", mail_from, refusal, reason)
        except Exception as exc:  # recording is best effort; the reply still goes out
            log.warning("could not record a refused transfer", extra={"error": repr(exc)})


class _IntakeSMTP(SMTP):
    """aiosmtpd's server; the refusals it makes on its own are recorded and made clearer."""

    async def push(self, status: Any) -> None:
        handler = self.event_handler
        if isinstance(handler, MailHandler) and isinstance(status, str):
            for prefix, (code, refusal, reason) in _TRANSFER_REFUSALS.items():
                if status.startswith(prefix):
                    await handler.refused_in_transfer(self.envelope, refusal, reason)
                    status = f"{code} Refused: {reason}"
                    break
        await super().push(status)


def listener(intake: MailIntake, host: str, port: int, data_size_limit: int) -> Any:
    """A runtime worker that serves SMTP until cancelled."""

    async def smtp_listener(runtime: ServiceRuntime) -> None:
        handler = MailHandler(intake)
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _IntakeSMTP(
                handler,
                hostname="tidemark-intake",
                ident="Tidemark intake",
                data_size_limit=data_size_limit,
                enable_SMTPUTF8=True,
                decode_data=False,
            ),
            host=host,
            port=port,
            reuse_address=True,
        )
        log.info("SMTP listener ready", extra={"host": host, "port": port})
        try:
            await server.serve_forever()
        finally:
            server.close()
            await server.wait_closed()

    return smtp_listener
