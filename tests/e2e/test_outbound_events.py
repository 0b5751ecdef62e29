"""Outbound events over HTTP: delivered in the background of the served app, listed
and redelivered by an operator at /api/admin/outbound-events."""

from __future__ import annotations

import asyncio

from tests.e2e.conftest import ADMIN, Api, AppUnderTest, client_of, make_app
from tests.e2e.outbound_verify_snippet import verify
from tests.outbound_receiver import OutboundReceiver

SECRET = "whsec_e2e_outbound_0123456789"


def outbound_app(database_url: str, receiver: OutboundReceiver, **env: str) -> AppUnderTest:
    return make_app(
        database_url,
        OUTBOUND_WEBHOOK_URL=receiver.url,
        OUTBOUND_WEBHOOK_SECRET=f"{SECRET},whsec_e2e_outbound_older_secret",
        OUTBOUND_DELIVERY_INTERVAL="1",
        **env,
    )


async def buy(api: Api) -> str:
    user = await api.create_user()
    created = await api.checkout(user, 1000)
    await api.pay(created["session_id"])
    return user.id


async def events(api: Api, **query: str) -> list[dict]:
    response = await api.http.get("/api/admin/outbound-events", params=query, headers=ADMIN)
    assert response.status_code == 200, response.text
    return list(response.json()["events"])


async def test_the_served_app_delivers_each_event_in_its_background_signed(
    empty_pg_url: str,
) -> None:
    async with OutboundReceiver() as receiver:
        async with client_of(outbound_app(empty_pg_url, receiver)) as api:
            user_id = await buy(api)
            await receiver.wait_for(2)
            async with asyncio.timeout(10):  # the posts are answered before they are settled
                while len(listed := await events(api, user_id=user_id, status="delivered")) < 2:
                    await asyncio.sleep(0.05)
        delivered = receiver.delivered()

    types = sorted(p.event["type"] for p in delivered.values())
    assert types == ["credits.granted", "payment.completed"]
    assert all(verify(p.body, p.signature, [SECRET]) for p in receiver.posts)
    assert all(p.event["user_id"] == user_id for p in receiver.posts)
    assert {e["id"] for e in listed} == set(delivered)
    assert {(e["status"], e["attempts"], e["last_status"]) for e in listed} == {
        ("delivered", 1, 204)
    }


async def test_with_delivery_in_serve_turned_off_events_wait_for_the_batch_job(
    empty_pg_url: str,
) -> None:
    async with OutboundReceiver() as receiver:
        app = outbound_app(empty_pg_url, receiver, OUTBOUND_DELIVERY_IN_SERVE="false")
        async with client_of(app) as api:
            await buy(api)
            await asyncio.sleep(1.5)
            listed = await events(api, status="pending")

    assert receiver.posts == [] and len(listed) == 2


async def test_admins_list_by_type_status_and_user_and_redeliver(api: Api) -> None:
    buyer, other = await buy(api), await buy(api)

    mine = await events(api, user_id=buyer)
    completed = await events(api, type="payment.completed")
    first_page = await api.http.get(
        "/api/admin/outbound-events", params={"limit": 1}, headers=ADMIN
    )

    assert {e["type"] for e in mine} == {"payment.completed", "credits.granted"}
    assert {e["user_id"] for e in completed} == {buyer, other}
    assert await events(api, status="delivered") == []
    assert await events(api, type="payment.failed") == []
    page = first_page.json()
    assert len(page["events"]) == 1 and page["next_cursor"]
    event = mine[0]
    assert set(event) >= {"id", "type", "created", "user_id", "data", "status", "attempts"}

    again = await api.http.post(
        f"/api/admin/outbound-events/{event['id']}/redeliver", headers=ADMIN
    )
    assert again.status_code == 200, again.text
    assert (again.json()["status"], again.json()["attempts"]) == ("pending", 0)
    assert again.json()["next_attempt_at"] is not None


async def test_outbound_events_are_for_admins_and_unknown_ids_are_404(api: Api) -> None:
    user = await api.create_user()
    missing = await api.http.post("/api/admin/outbound-events/evt_missing/redeliver", headers=ADMIN)
    as_user = await api.http.get("/api/admin/outbound-events", headers=user.headers)
    bad_status = await api.http.get(
        "/api/admin/outbound-events", params={"status": "lost"}, headers=ADMIN
    )

    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "outbound_event_not_found"
    assert as_user.status_code == 403
    assert bad_status.status_code == 400
