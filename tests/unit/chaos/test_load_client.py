"""The chaos load client keeps at most `max_in_flight` requests open, whatever the rate:
the rest wait in the client, never in httpx's pool (where thousands of queued requests
cost a scan each per state change and starved the client in a full run)."""

from __future__ import annotations

import asyncio
import random

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.chaos.load import LoadClient, plan_tickets


async def test_requests_beyond_the_limit_wait_in_the_client() -> None:
    open_now, most, arrived = 0, 0, 0
    limit_reached, release = asyncio.Event(), asyncio.Event()

    async def create(request: Request) -> JSONResponse:
        nonlocal open_now, most, arrived
        open_now += 1
        arrived += 1
        most = max(most, open_now)
        if open_now == 4:
            limit_reached.set()
        await release.wait()
        open_now -= 1
        return JSONResponse({"tid": f"TID-{arrived}"}, status_code=201)

    app = Starlette(routes=[Route("/v1/tickets", create, methods=["POST"])])
    client = LoadClient(
        ["http://intake"], "tmk_frontend", "tmk_agent", max_in_flight=4,
        transport=httpx.ASGITransport(app=app),
    )  # fmt: skip
    plans = plan_tickets(20, random.Random(1), 0.0, 0.0)  # no replies, no holds
    for plan in plans:
        plan.delay = 0.0
    run = asyncio.create_task(client.run(plans, rate=10_000))
    async with asyncio.timeout(10):
        await limit_reached.wait()  # four requests open on the server
        while client.waiting < 16:  # and every other ticket has asked for a connection
            await asyncio.sleep(0)  # (a turn of the loop: the tickets are due at once)
    assert (arrived, open_now, client.waiting) == (4, 4, 16)
    release.set()
    result = await asyncio.wait_for(run, 10)
    await client.close()
    assert most == 4 and arrived == 20 and client.waiting == 0
    assert result.answers[("create", "201")] == 20
    assert result.slot_wait_max > 0  # the 16 waited, and the run records how long
    assert 0 <= result.slot_wait_max_at < 1  # and when: at once, on the faults' clock


async def test_a_stalled_replica_costs_an_attempt_not_a_connection() -> None:
    """A replica stopped with SIGSTOP accepts requests and never answers them; each one
    sent there is given up after `answer_within` and sent again, with the same
    Idempotency-Key, to the next replica. Without that, every one held a connection (here
    both: the run never ended). 0.3 s: the live replica answers well within it even on a
    loaded machine, so no attempt of its own is given up."""
    stalled_keys: list[str] = []
    never = asyncio.Event()

    async def create(request: Request) -> JSONResponse:
        key = request.headers["idempotency-key"]
        if request.url.hostname == "stalled":
            stalled_keys.append(key)
            await never.wait()
        return JSONResponse({"tid": f"TID-{key}"}, status_code=201)

    app = Starlette(routes=[Route("/v1/tickets", create, methods=["POST"])])
    client = LoadClient(
        ["http://stalled", "http://live"], "tmk_frontend", "tmk_agent", max_in_flight=2,
        answer_within=0.3, transport=httpx.ASGITransport(app=app),
    )  # fmt: skip
    plans = plan_tickets(10, random.Random(2), 0.0, 0.0)
    for plan in plans:
        plan.delay = 0.0
    result = await asyncio.wait_for(client.run(plans, rate=10_000), 10)
    await client.close()
    first_sent_to_stalled = {plan.key for plan in plans if plan.index % 2 == 0}
    assert set(stalled_keys) == first_sent_to_stalled  # tried there once each, then not
    assert result.answers[("create", "NoAnswerWithin")] == 5
    assert result.answers[("create", "201")] == 10
    assert {plan.key: {f"TID-{plan.key}"} for plan in plans} == result.tids
