"""`ticket.submitted` in, `ticket.classified` (with reasons) out, through the classifier's
real consumer path and routes; staff reclassification as `ticket.reclassified`."""

from __future__ import annotations

from tests.fixtures.statements import statements_sent
from tidekit.events import TOPICS
from tidekit.messaging.uow import UnitOfWork

from .conftest import Classifier, days_before, new_key, ticket


async def test_each_ticket_is_classified_with_its_reasons(classifier: Classifier) -> None:
    key, old_key, email = new_key(), new_key(), f"ada-{new_key()}@example.com"
    assert (
        await classifier.put_license(key, edition="business", emails=[email])
    ).status_code == 201
    await classifier.put_license(
        old_key, edition="business", emails=[email], purchase_date=days_before(400)
    )
    hacked = ticket(
        email, key, subject="Our shop was hacked", body="Spam pages everywhere.", hint="low"
    )
    custom = ticket(
        email, key, subject="Quote", body="Can you write a custom module for our ERP export?"
    )
    stranger = ticket("eve@example.com", key, body="The site is down!", hint="critical")
    expired = ticket(email, old_key, body="The installer stops at step 3", hint="medium")
    await classifier.deliver(hacked, custom, stranger, expired)

    got = (await classifier.http.get(f"/v1/tickets/{hacked.tid}/classification")).json()
    assert (got["level"], got["severity"], got["category"]) == (
        "commercial",
        "critical",
        "security",
    )
    assert got["urgent"] is True and got["in_scope"] is True and got["entitlement"] == "active"
    assert any("site-down" in r and "hacked" in r for r in got["reasons"]), got["reasons"]
    assert any(r.startswith("urgent") for r in got["reasons"])

    row = await classifier.classification(custom.tid)
    assert row["level"] == "non_product" and not row["in_scope"] and row["severity"] is None
    row = await classifier.classification(stranger.tid)
    assert (row["level"], row["entitlement"]) == ("non_commercial", "unregistered_sender")
    assert row["severity"] is None  # severity only for commercial levels
    assert (await classifier.classification(expired.tid))["entitlement"] == "expired"

    # The emitted event carries the same decision and reasons, and is in the outbox for
    # the classifier's topic.
    stored = await classifier.events(hacked.tid)
    assert [e["type"] for e in stored] == ["ticket.classified"]
    assert stored[0]["reasons"] == got["reasons"] and stored[0]["rules_version"]
    assert await classifier.outbox_of(hacked.tid) == [
        (TOPICS["classifier"], "ticket.classified", hacked.tid)
    ]
    renew = await classifier.events(expired.tid)
    assert any("renew" in r for r in renew[0]["reasons"])


async def test_the_classification_is_caused_by_the_submission(classifier: Classifier) -> None:
    submitted = ticket("nobody@example.com", None)
    [envelope] = await classifier.deliver(submitted)
    causation = await classifier.pool.fetchval(
        "SELECT causation_id FROM events WHERE stream_id = $1", submitted.tid
    )
    assert str(causation) == str(envelope.id)


async def test_staff_reclassify_emits_ticket_reclassified(classifier: Classifier) -> None:
    key, email = new_key(), f"bob-{new_key()}@example.com"
    await classifier.put_license(key, edition="standard", emails=[email])
    t = ticket(email, key, body="A typo on the invoice page", hint="low")
    await classifier.deliver(t)
    url = f"/v1/tickets/{t.tid}/reclassify"
    api = classifier.http

    r = await api.post(url, json={"severity": "high", "reason": "blocks invoicing"})
    assert r.status_code == 200, r.text
    assert (r.json()["level"], r.json()["severity"]) == ("commercial", "high")
    assert any("staff override by test-agent" in x for x in r.json()["reasons"])
    again = await api.post(url, json={"severity": "high", "reason": "still"})
    assert again.status_code == 200  # nothing changes: no second event
    refused = await api.post(
        url, json={"level": "non_commercial", "severity": "low", "reason": "x"}
    )
    assert refused.status_code == 422 and "severity" in refused.json()["detail"]
    down = await api.post(url, json={"level": "non_product", "reason": "hosting"})
    assert (down.json()["level"], down.json()["severity"]) == ("non_product", None)
    unknown = await api.post(
        "/v1/tickets/TID-1/reclassify", json={"level": "partner", "reason": "x"}
    )
    assert unknown.status_code == 404
    assert (await api.post(url, json={"reason": "nothing"})).status_code == 422

    stored = [e for e in await classifier.events(t.tid) if e["type"] == "ticket.reclassified"]
    assert [(e["previous_severity"], e["severity"], e["level"]) for e in stored] == [
        ("low", "high", "commercial"),
        ("high", None, "non_product"),
    ]
    assert all(e["reasons"] and e["reclassified_by"] == "test-agent" for e in stored)
    assert [ty for _, ty, _ in await classifier.outbox_of(t.tid)] == [
        "ticket.classified",
        "ticket.reclassified",
        "ticket.reclassified",
    ]


async def test_the_classification_row_goes_with_its_events_in_one_statement(
    classifier: Classifier,
) -> None:
    """The handler stages the ticket's classification row: it is written by the statement
    that writes ticket.classified, not by a round trip of its own before it."""
    submitted = ticket("ada@example.com", None, body="The installer stops at step 3")
    async with classifier.pool.acquire() as conn, conn.transaction():
        uow = UnitOfWork(conn, classifier.runtime.store)
        await classifier.runtime.handlers.handle(submitted, uow)  # as the consumer does
        staged = "SELECT count(*) FROM classifications WHERE tid = $1"
        assert await conn.fetchval(staged, submitted.tid) == 0  # decided, not yet written
        async with statements_sent(conn) as statements:
            await uow.flush()
        assert await conn.fetchval(staged, submitted.tid) == 1
    writes = [q for q in statements if "INSERT INTO classifications" in q]
    assert len(writes) == 1 and "INSERT INTO events" in writes[0], statements
