"""Board sign-in: a staff key, once, through a form; then a session cookie.

The cookie holds a random token (HttpOnly, SameSite=Strict, Path=/board, Secure behind
https, with Max-Age); the database keeps only its SHA-256, who signed in and a CSRF token
for the page's POST forms. The staff key itself is never stored nor put in the cookie. A
session lasts SESSION_SECONDS of real time (the database's clock: a sign-in's life is not
the business time a test clock moves). Keys are checked as every staff route checks
them: intake's introspection, asked with this service's key (tidekit.web.staff).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import asyncpg
from fastapi import Request, Response

from tidekit.web.staff import StaffKeys

COOKIE = "tidemark_board"
SESSION_SECONDS = 8 * 3600


@dataclass(frozen=True)
class BoardSession:
    staff_name: str
    role: str
    csrf_token: str


class NotSignedIn(Exception):
    """No live session: the page answers 303 to the sign-in form."""


class CustomerRefused(Exception):
    """A customer's bearer token: the board is for staff only (403)."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def staff_for_key(keys: StaffKeys, key: str) -> tuple[str, str, str] | None:
    """(key id, name, role) when `key` is an active staff key, else None."""
    holder = await keys.lookup(key)
    if holder is None or holder.kind != "staff" or holder.role is None:
        return None
    return holder.key_id, holder.name, holder.role


async def open_session(
    pool: asyncpg.Pool, response: Response, request: Request, staff: tuple[str, str, str]
) -> None:
    key_id, name, role = staff
    token = secrets.token_urlsafe(32)
    await pool.execute(
        """INSERT INTO board_sessions (token_sha256, staff_name, role, key_id, csrf_token,
                                       expires_at)
           VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))""",
        _digest(token), name, role, key_id, secrets.token_urlsafe(32), SESSION_SECONDS,
    )  # fmt: skip
    # Expired sessions go when someone signs in: the table stays the size of the live ones.
    await pool.execute("DELETE FROM board_sessions WHERE expires_at < now()")
    response.set_cookie(
        COOKIE,
        token,
        max_age=SESSION_SECONDS,
        path="/board",
        httponly=True,
        samesite="strict",
        secure=_https(request),
    )


def _https(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "")
    return request.url.scheme == "https" or forwarded == "https"


async def current_session(pool: asyncpg.Pool, request: Request) -> BoardSession:
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        raise CustomerRefused
    token = request.cookies.get(COOKIE)
    if not token:
        raise NotSignedIn
    row = await pool.fetchrow(
        """SELECT staff_name, role, csrf_token FROM board_sessions
           WHERE token_sha256 = $1 AND expires_at > now()""",
        _digest(token),
    )
    if row is None:
        raise NotSignedIn
    return BoardSession(row["staff_name"], row["role"], row["csrf_token"])


def csrf_ok(session: BoardSession, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(session.csrf_token, sent)


async def close_session(pool: asyncpg.Pool, request: Request, response: Response) -> None:
    token = request.cookies.get(COOKIE)
    if token:
        await pool.execute("DELETE FROM board_sessions WHERE token_sha256 = $1", _digest(token))
    response.delete_cookie(COOKIE, path="/board", httponly=True, samesite="strict")
