"""Marketo's limits: calls per window (606), calls in flight (615), body size (413); identity is free."""

from __future__ import annotations

import asyncio

import httpx
from fastapi.testclient import TestClient

from tandem.web.limits import ApiLimits, CallWindow, LimitsMiddleware
from tests.web.conftest import FakeClock, bearer


def test_call_window_slides_with_the_clock() -> None:
    clock = FakeClock()
    window = CallWindow(2, 20, clock)
    assert window.admit() and window.admit() and not window.admit()
    clock.advance(19.9)
    assert not window.admit()
    clock.advance(0.2)
    assert window.admit()


def test_rate_limit_is_606_and_identity_calls_do_not_count(make_app) -> None:
    with TestClient(make_app(limits=ApiLimits(calls_per_window=3))) as client:
        for _ in range(5):
            headers = bearer(client)
        answers = [client.get("/rest/v1/leads/describe.json", headers=headers).json() for _ in range(4)]
    assert [a["success"] for a in answers] == [True, True, True, False]
    assert answers[3]["errors"] == [{"code": "606", "message": "Max rate limit '3' exceeded with in '20' secs"}]


def test_concurrency_limit_is_615() -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    inside = 0

    async def slow(scope, receive, send) -> None:
        nonlocal inside
        inside += 1
        if inside == 2:
            entered.set()
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b"{}"})

    app = LimitsMiddleware(slow, ApiLimits(concurrent_calls=2))

    async def scenario() -> list[dict]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
            first = asyncio.create_task(client.get("/rest/v1/leads.json"))
            second = asyncio.create_task(client.get("/rest/v1/leads.json"))
            await entered.wait()
            third = (await client.get("/rest/v1/leads.json")).json()
            release.set()
            return [(await first).json(), (await second).json(), third]

    first, second, third = asyncio.run(scenario())
    assert first == second == {}
    assert third["errors"] == [{"code": "615", "message": "Concurrent access limit reached"}]
    assert app.in_flight == 0


def test_declared_body_size_over_the_cap_is_refused_before_reading(make_app, api_store) -> None:
    with TestClient(make_app(limits=ApiLimits(body_bytes=1000))) as client:
        headers = bearer(client)
        small = client.post("/rest/v1/leads.json", json={"input": [{"email": "a@x.com"}]}, headers=headers)
        large = client.post("/rest/v1/leads.json", json={"input": [{"email": "a@x.com", "personNotes": "x" * 2000}]},
                            headers=headers)
    assert small.json()["success"] is True
    assert large.status_code == 413 and large.json()["errors"][0]["code"] == "1001"
    assert api_store.persons.count() == 1
