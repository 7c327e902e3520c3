"""Who may call what (SPEC 3.4), as one table over every route of every service.

The routes come from each app's own route list (`app.routes`, so a route left out of
OpenAPI counts too), built with the settings the running system uses (its test clock
mounts /v1/admin/clock). Each is called on the running system by every kind of caller
with a request that is valid apart from who sends it, and the answer's class must match
the table:

- `401`: no credential, or one that is malformed, unknown or revoked;
- `403`: a credential that is known but not allowed to do this;
- `404`: a ticket route the caller may not open, the same answer as for no such ticket;
- `ok`: allowed (2xx, or a 409/422 about the request's meaning, never 401/403/404/5xx);
- `303`: the board's pages (escalation's /board) without a board session: to its sign-in.

A route with no row fails the test, so a new route must say who may call it.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.fixtures.system import System, poll
from tidemark_notifier.bounces import sample_dsn

pytestmark = pytest.mark.e2e

CALLERS = (
    "none", "malformed", "revoked", "frontend", "token_a", "token_b",
    "agent", "supervisor", "admin", "service",
)  # fmt: skip
# Routes anyone may call: liveness, readiness, metrics (SPEC 3.4), and the API's own
# documentation, which holds no data (docs/intake.md, "Access").
# The board's sign-in form (and its POST) and its script and style sheet are for anyone too.
PUBLIC = {"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect",
          "/redoc", "/board/sign-in", "/board/static/{name}"}  # fmt: skip


def row(spec: str) -> dict[str, str]:
    """'401 401 401 404 ok 404 ok ok ok 404' in the order of CALLERS."""
    cells = spec.split()
    assert len(cells) == len(CALLERS), spec
    return dict(zip(CALLERS, cells, strict=True))


STAFF_ONLY = row("401 401 401 403 401 401 ok ok ok 403")
SUPERVISOR_UP = row("401 401 401 403 401 401 403 ok ok 403")
ADMIN_ONLY = row("401 401 401 403 401 401 403 403 ok 403")
# The board signs staff in with a form and a session cookie; an API key in a header is not
# a session (to the sign-in form), and a customer's token is refused outright.
BOARD = row("303 303 303 303 403 403 303 303 303 303")
# A ticket's own routes: its customer (by token) and staff; anyone else sees "no such ticket".
TICKET = row("401 401 401 404 ok 404 ok ok ok 404")
# ... that only staff may do: the ticket's own customer is told so (403), others see 404.
TICKET_STAFF = row("401 401 401 404 403 404 ok ok ok 404")
# ... that only the ticket's customer may do (rate the service, ask for a review).
TICKET_CUSTOMER = row("401 401 401 404 ok 404 403 403 403 404")

EXPECTED: dict[tuple[str, str, str], dict[str, str]] = {
    # intake
    ("intake", "POST", "/v1/tickets"): row("401 401 401 ok 401 401 ok ok ok 403"),
    # Raw mail: the mail gateway (see GATEWAY_ROUTES) and staff, who may post on any channel.
    ("intake", "POST", "/v1/inbound/email"): row("401 401 401 403 401 401 ok ok ok 403"),
    ("intake", "GET", "/v1/tickets/{tid}"): TICKET,
    ("intake", "GET", "/v1/tickets/{tid}/events"): TICKET,
    ("intake", "POST", "/v1/tickets/{tid}/messages"): TICKET,
    ("intake", "POST", "/v1/tickets/{tid}/status"): TICKET_STAFF,
    ("intake", "POST", "/v1/tickets/{tid}/reopen"): TICKET,
    ("intake", "POST", "/v1/tickets/{tid}/rating"): TICKET_CUSTOMER,
    ("intake", "POST", "/v1/tickets/{tid}/supervisor-review"): TICKET_CUSTOMER,
    ("intake", "POST", "/v1/tickets/{tid}/credentials"): TICKET,
    ("intake", "GET", "/v1/tickets/{tid}/credentials"): TICKET_STAFF,
    ("intake", "POST", "/v1/admin/keys"): ADMIN_ONLY,
    ("intake", "GET", "/v1/admin/keys"): ADMIN_ONLY,
    ("intake", "DELETE", "/v1/admin/keys/{key_id}"): ADMIN_ONLY,
    ("intake", "POST", "/v1/introspect"): row("401 401 401 403 401 401 403 403 403 ok"),
    # classifier
    ("classifier", "PUT", "/v1/licenses/{key}"): STAFF_ONLY,
    ("classifier", "GET", "/v1/licenses/{key}"): STAFF_ONLY,
    ("classifier", "GET", "/v1/tickets/{tid}/classification"): STAFF_ONLY,
    ("classifier", "POST", "/v1/tickets/{tid}/reclassify"): STAFF_ONLY,
    ("classifier", "GET", "/v1/policy"): row("401 401 401 ok 401 401 ok ok ok ok"),
    ("classifier", "GET", "/v1/policy/versions/{version}"): row(
        "401 401 401 ok 401 401 ok ok ok ok"
    ),
    # sla-timer
    ("sla-timer", "GET", "/v1/tickets/{tid}/sla"): STAFF_ONLY,
    ("sla-timer", "GET", "/v1/breaches"): SUPERVISOR_UP,
    # notifier
    ("notifier", "GET", "/v1/notifications"): STAFF_ONLY,
    ("notifier", "POST", "/v1/bounces"): row("401 401 401 403 401 401 403 403 403 403"),
    # escalation
    ("escalation", "GET", "/v1/queues"): STAFF_ONLY,
    ("escalation", "GET", "/v1/queues/{name}"): STAFF_ONLY,
    ("escalation", "POST", "/v1/tickets/{tid}/escalate"): STAFF_ONLY,
    ("escalation", "GET", "/v1/reports/sla"): STAFF_ONLY,
    ("escalation", "GET", "/v1/reports/sla/page"): STAFF_ONLY,
    ("escalation", "GET", "/board"): BOARD,
    ("escalation", "GET", "/board/queues/{name}"): BOARD,
    ("escalation", "GET", "/board/at-risk"): BOARD,
    ("escalation", "GET", "/board/reports"): BOARD,
    ("escalation", "GET", "/board/events"): BOARD,
    ("escalation", "POST", "/board/sign-out"): BOARD,
}
# The test clock (mounted only with a test clock, never in production): admins only.
for _service in ("intake", "classifier", "sla-timer", "notifier", "escalation"):
    for _method in ("GET", "PUT"):
        EXPECTED[(_service, _method, "/v1/admin/clock")] = ADMIN_ONLY

# Who may also reach what the generic rows refuse: the mail gateway's key (a frontend key
# with the email channel) posts raw mail and bounces; the web key of the table does not.
GATEWAY_ROUTES = {("intake", "POST", "/v1/inbound/email"), ("notifier", "POST", "/v1/bounces")}


def app_routes(service: str) -> Iterator[tuple[str, str]]:
    """(method, path) of every route `service`'s app serves, with the system's settings."""
    module = service.replace("-", "_")
    app_module = importlib.import_module(f"tidemark_{module}.app")
    settings_module = importlib.import_module(f"tidemark_{module}.settings")
    settings_cls = next(
        v
        for k, v in vars(settings_module).items()
        if k.endswith("Settings") and getattr(v, "service_name", None) == service
    )
    app = app_module.create_app(settings_cls(clock="offset"))  # no lifespan: nothing connects
    for route in app.routes:
        # FastAPI keeps an included router as one entry that knows its routes' full paths.
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            found = [(c.original_route, c.path) for c in contexts()]
        else:
            found = [(route, getattr(route, "path", ""))]
        for original, path in found:
            for method in sorted(getattr(original, "methods", None) or ()):
                if method != "HEAD":
                    yield method, path


@dataclass
class World:
    """Two tickets, a license, a throwaway key and a notification to name in the calls."""

    tid_a: str
    token_a: str
    token_b: str
    license_key: str
    doomed_key_id: str
    revoked_key: str
    message_id: str


@pytest.fixture(scope="module")
def world(system: System) -> World:
    def submit(who: str) -> dict[str, Any]:
        body = {
            "channel": "web",
            "requester": {"email": f"{who}@authz.example", "name": who},
            "subject": "Authorization table",
            "body": "The checkout shows an error after the last update.",
        }
        with system.client("intake") as intake:
            created = intake.post("/v1/tickets", json=body)
        assert created.status_code == 201, created.text
        return created.json()  # type: ignore[no-any-return]

    a, b = submit("ann"), submit("bob")
    license_key = f"LIC-AUTHZ-{uuid.uuid4().hex[:8].upper()}"
    with system.client("classifier", system.keys.admin) as classifier:
        put = classifier.put(f"/v1/licenses/{license_key}", json=LICENSE)
        assert put.status_code in (200, 201), put.text
    with system.client("intake", system.keys.admin) as admin:
        doomed = admin.post("/v1/admin/keys", json={"name": "authz-doomed", "role": "agent"})
        revoked = admin.post("/v1/admin/keys", json={"name": "authz-revoked", "role": "agent"})
        assert admin.delete(f"/v1/admin/keys/{revoked.json()['key_id']}").status_code == 204
    with system.client("notifier", system.keys.agent) as notifier:
        sent = poll(
            lambda: notifier.get("/v1/notifications", params={"tid": a["tid"]}).json(),
            lambda rows: any(r["message_id"] for r in rows),
            timeout=60,
        )
    return World(
        a["tid"], a["access_token"], b["access_token"], license_key,
        doomed.json()["key_id"], revoked.json()["key"], sent[0]["message_id"],
    )  # fmt: skip


LICENSE = {"edition": "business", "owner": "Authz Ltd", "purchase_date": "2026-01-05"}


def request_for(service: str, method: str, path: str, w: World) -> dict[str, Any]:
    """A request that is valid apart from who sends it (so only access decides)."""
    url = path.format(
        tid=w.tid_a, key=w.license_key, key_id=w.doomed_key_id, name="tier1", version="2026.1"
    )  # the shipped policy the system's classifier runs
    bodies: dict[str, Any] = {
        "/v1/tickets": {
            "channel": "web", "requester": {"email": "cy@authz.example", "name": "Cy"},
            "subject": "Authorization table", "body": "A second problem.",
        },
        "/v1/tickets/{tid}/messages": {"body": "Any news?"},
        "/v1/tickets/{tid}/status": {"status": "on_hold", "reason": "waiting for the host"},
        "/v1/tickets/{tid}/reopen": {"reason": "still broken"},
        "/v1/tickets/{tid}/rating": {"rating": 5, "comment": "fine"},
        "/v1/tickets/{tid}/supervisor-review": {"reason": "please review"},
        "/v1/tickets/{tid}/credentials": {
            "entries": [{"kind": "ftp", "host": "ftp.authz.example", "username": "u",
                         "password": "authz-pw"}]
        },
        "/v1/admin/keys": {"name": "authz-made", "role": "agent"},
        "/v1/introspect": {"key": "tmk_aaaaaaaaaaaa_" + "b" * 40},
        "/v1/licenses/{key}": LICENSE,
        "/v1/tickets/{tid}/reclassify": {"severity": "low", "reason": "authorization table"},
        "/v1/tickets/{tid}/escalate": {"to": "tier2", "reason": "authorization table"},
        "/v1/admin/clock": {"advance_seconds": 0},
        "/board/sign-out": {},
    }  # fmt: skip
    request: dict[str, Any] = {"method": method, "url": url}
    if path == "/v1/inbound/email":
        mail = b"From: dee@authz.example\r\nTo: support@x.example\r\nSubject: Hi\r\n\r\nHello\r\n"
        request.update(content=mail, headers={"Content-Type": "message/rfc822"})
    elif path == "/v1/bounces":
        dsn = sample_dsn(w.message_id, "ann@authz.example", action="delayed")
        request.update(content=dsn, headers={"Content-Type": "message/rfc822"})
    elif method in ("POST", "PUT"):
        request["json"] = bodies[path]
    if path == "/v1/notifications":
        request["params"] = {"tid": w.tid_a}
    return request


def credentials(system: System, w: World) -> dict[str, dict[str, str]]:
    k = system.keys
    return {
        "none": {},
        "malformed": {"X-Api-Key": "tmk_not-a-key"},
        "revoked": {"X-Api-Key": w.revoked_key},
        "frontend": {"X-Api-Key": k.web},
        "token_a": {"Authorization": f"Bearer {w.token_a}"},
        "token_b": {"Authorization": f"Bearer {w.token_b}"},
        "agent": {"X-Api-Key": k.agent},
        "supervisor": {"X-Api-Key": k.supervisor},
        "admin": {"X-Api-Key": k.admin},
        "service": {"X-Api-Key": k.service},
    }


def outcome(status: int) -> str:
    if status in (303, 401, 403, 404):
        return str(status)
    if status >= 500:
        return f"5xx ({status})"
    return "ok" if status < 300 or status in (409, 422) else f"other ({status})"


SERVICES = ("intake", "classifier", "sla-timer", "notifier", "escalation")


def test_every_route_has_a_row() -> None:
    served = {
        (service, method, path)
        for service in SERVICES
        for method, path in app_routes(service)
        if path not in PUBLIC
    }
    assert served - EXPECTED.keys() == set(), "routes without a row in the access table"
    assert EXPECTED.keys() - served == set(), "rows for routes no service serves"


def test_access_table(system: System, world: World) -> None:
    creds = credentials(system, world)
    mismatches: list[str] = []
    calls = 0
    # The admin's call to DELETE revokes the doomed key, so it goes last of its row; the
    # caller order is otherwise the table's.
    for (service, method, path), expected in sorted(EXPECTED.items()):
        for caller in CALLERS:
            request = request_for(service, method, path, world)
            headers = {**request.pop("headers", {}), **creds[caller]}
            with httpx.Client(base_url=system.urls[service], timeout=15) as client:
                answer = client.request(**request, headers=headers)
            calls += 1
            got = outcome(answer.status_code)
            if got != expected[caller]:
                mismatches.append(
                    f"{service} {method} {path} as {caller}: expected {expected[caller]}, "
                    f"got {answer.status_code} {answer.text[:160]}"
                )
    assert not mismatches, f"{len(mismatches)} of {calls} calls:\n" + "\n".join(mismatches)


def test_the_mail_gateway_key_opens_raw_mail_and_bounces(system: System, world: World) -> None:
    gateway = {"X-Api-Key": system.keys.mail_gateway}
    for service, method, path in sorted(GATEWAY_ROUTES):
        request = request_for(service, method, path, world)
        headers = {**request.pop("headers", {}), **gateway}
        with httpx.Client(base_url=system.urls[service], timeout=15) as client:
            answer = client.request(**request, headers=headers)
        assert outcome(answer.status_code) == "ok", (path, answer.status_code, answer.text)


def test_every_problem_says_what_is_wrong_and_secrets_never_echo(
    system: System, world: World
) -> None:
    """A refusal is a problem document, and never repeats the key it refused."""
    with httpx.Client(base_url=system.urls["sla-timer"], timeout=15) as client:
        answer = client.get("/v1/breaches", headers={"X-Api-Key": world.revoked_key})
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert world.revoked_key not in answer.text and answer.json()["detail"]
