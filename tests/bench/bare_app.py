"""The baseline: the same request model on a bare FastAPI POST endpoint, with no I/O.

`make bench` runs it under the same uvicorn settings as the real intake, so the ratio
between the two measures what durability (the Postgres commit) costs.
"""

from __future__ import annotations

import secrets

from fastapi import FastAPI

from tidemark_intake.tickets.api_models import TicketCreate, TicketCreated


def create_app() -> FastAPI:
    app = FastAPI()
    counter = iter(range(1000, 10**9))

    @app.post("/v1/tickets", status_code=201, response_model=TicketCreated)
    async def create(body: TicketCreate) -> TicketCreated:
        return TicketCreated(
            tid=f"TID-{next(counter)}", access_token=secrets.token_urlsafe(32), status="new"
        )

    return app
