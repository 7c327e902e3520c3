"""Signed JSON webhooks with httpx.

Every post carries `X-Tidemark-Timestamp` (Unix seconds) and, when the target has a
secret, `X-Tidemark-Signature: sha256=<hex>`: HMAC-SHA256 over `<timestamp>.<body>` with
that secret. A receiver recomputes it over the raw body (see `verify`) and rejects old
timestamps to stop replays. `X-Tidemark-Notification-Id` is stable across retries so a
receiver can drop a repeated delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx

from tidekit.clock import wall_clock_now

from .outcome import Outcome
from .settings import NotifierSettings, WebhookTarget

SIGNATURE_HEADER = "X-Tidemark-Signature"
TIMESTAMP_HEADER = "X-Tidemark-Timestamp"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, max_age: float = 300.0
) -> bool:
    """What a receiver does: constant-time compare, and refuse stale timestamps."""
    if not timestamp.isdigit() or abs(wall_clock_now().timestamp() - int(timestamp)) > max_age:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


class WebhookPoster:
    def __init__(self, settings: NotifierSettings) -> None:
        self._settings = settings
        self._client: httpx.AsyncClient | None = None

    def target(self, recipient: str) -> WebhookTarget | None:
        """`webhook:channel:<channel>` or `webhook:alert:<queue or *>` -> its settings."""
        _, kind, name = [*recipient.split(":", 2), "", ""][:3]
        if kind == "channel":
            return self._settings.channel_webhooks.get(name)
        if kind == "alert":
            return self._settings.alert_webhooks.get(name)
        return None

    async def post(self, recipient: str, notification_id: str, payload: dict[str, Any]) -> Outcome:
        target = self.target(recipient)
        if target is None:
            return Outcome.permanent(f"no webhook configured for {recipient}")
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        # Real time, not the runtime clock: receivers check it against their own clocks.
        timestamp = int(wall_clock_now().timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "tidemark-notifier",
            TIMESTAMP_HEADER: str(timestamp),
            "X-Tidemark-Notification-Id": notification_id,
        }
        if target.secret is not None:
            headers[SIGNATURE_HEADER] = sign(target.secret.get_secret_value(), timestamp, body)
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self._settings.webhook_timeout_seconds, follow_redirects=False
            )
        try:
            response = await self._client.post(target.url, content=body, headers=headers)
        except httpx.TimeoutException:
            return Outcome.temporary("webhook timed out")
        except httpx.HTTPError as exc:
            return Outcome.temporary(f"webhook unreachable: {type(exc).__name__}")
        code = response.status_code
        if 200 <= code < 300:
            return Outcome.ok()
        if code >= 500 or code in (408, 425, 429):
            return Outcome.temporary(f"webhook answered {code}")
        return Outcome.permanent(f"webhook answered {code}")

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
