"""Marketo's limits, per API client: calls per window (606), calls in flight (615), body size (413);
identity is free; calls without a valid token have their own small window per address."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
from fastapi.testclient import TestClient

from tandem.web.limits import ApiLimits, CallWindow, LimitsMiddleware
from tandem.web.tokens import TokenIssuer
from tests.web.conftest import CREDENTIALS, OTHER, FakeClock, bearer, serving

DESCRIBE = "/rest/v1/leads/describe.json"


def _codes(answers: list[httpx.Response]) -> list[str | None]:
    return [None if a.json()["success"] else a.json()["errors"][0]["code"] for a in answers]


def test_call_window_slides_with_the_clock() -> None:
    clock = FakeClock()
    window = CallWindow(2, 20, clock)
    assert window.admit() is not None and window.admit() is not None and window.admit() is None
    clock.advance(19.9)
    assert window.admit() is None
    clock.advance(0.2)
    assert window.admit() is not None


def test_rate_limit_is_606_and_identity_calls_do_not_count(make_app) -> None:
    with TestClient(make_app(limits=ApiLimits(calls_per_window=3))) as client:
        for _ in range(5):
            headers = bearer(client)
        answers = [client.get(DESCRIBE, headers=headers).json() for _ in range(4)]
    assert [a["success"] for a in answers] == [True, True, True, False]
    assert answers[3]["errors"] == [{"code": "606", "message": "Max rate limit '3' exceeded with in '20' secs"}]


def test_daily_quota_is_607_per_client_until_midnight_us_central(make_app, clock) -> None:
    """Before, there was no daily quota at all (MARKETO-API §7: 50,000 calls a day by default)."""
    clock.now = datetime(2026, 3, 5, 23, 59, tzinfo=ZoneInfo("America/Chicago")).timestamp()
    app = make_app(credentials=[CREDENTIALS, OTHER], limits=ApiLimits(calls_per_day=3))
    with TestClient(app) as client:
        mine, theirs = bearer(client, CREDENTIALS), bearer(client, OTHER)
        refused = client.get("/rest/v1/leads.json", params={"filterType": "bogus", "filterValues": "x"}, headers=mine)
        spent = [client.get(DESCRIBE, headers=mine) for _ in range(4)]
        other = client.get(DESCRIBE, headers=theirs)
        clock.advance(60)
        next_day = client.get(DESCRIBE, headers=mine)
    assert _codes([refused]) == ["1006"]  # a response-level error does not count
    assert _codes(spent) == [None, None, None, "607"]
    assert spent[3].json()["errors"][0]["message"].startswith("Daily quota reached: '3' calls a day")
    assert _codes([other, next_day]) == [None, None]


def test_response_level_errors_do_not_count_but_record_level_errors_do(make_app, api_store, monkeypatch) -> None:
    """Before, every admitted call counted: 20 calls refused with 1006 spent a window of 20."""
    with TestClient(make_app(limits=ApiLimits(calls_per_window=20)), raise_server_exceptions=False) as client:
        headers = bearer(client)
        bad = [client.get("/rest/v1/leads.json", params={"filterType": "bogus", "filterValues": "x"},
                          headers=headers) for _ in range(25)]
        with monkeypatch.context() as patched:
            patched.setattr(api_store.api, "persons_page", lambda *args, **kwargs: 1 / 0)
            broken = client.get("/rest/v1/leads.json", params={"filterType": "id", "filterValues": "1"},
                                headers=headers)
        good = [client.get(DESCRIBE, headers=headers) for _ in range(10)]
        skipped = [client.post("/rest/v1/leads.json", json={"input": [{"email": "not-an-email"}]}, headers=headers)
                   for _ in range(10)]
        over = client.get(DESCRIBE, headers=headers)
    assert _codes(bad) == ["1006"] * 25 and _codes([broken]) == ["611"]
    assert _codes(good) == [None] * 10
    assert _codes(skipped) == [None] * 10 and skipped[0].json()["result"][0]["status"] == "skipped"
    assert _codes([over]) == ["606"]
    assert api_store.persons.count() == 0


def test_a_call_refused_for_concurrency_does_not_count() -> None:
    slow, entered, release = _slow_app(wanted_inside=1)
    issuer = TokenIssuer(CREDENTIALS)
    one = {"Authorization": "Bearer " + issuer.issue(CREDENTIALS).access_token}
    app = LimitsMiddleware(slow, ApiLimits(calls_per_window=2, concurrent_calls=1), issuer)

    async def scenario() -> list[dict]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
            first = asyncio.create_task(client.get(DESCRIBE, headers=one))
            await entered.wait()
            refused = (await client.get(DESCRIBE, headers=one)).json()
            release.set()
            return [(await first).json(), refused, (await client.get(DESCRIBE, headers=one)).json()]

    first, refused, after = asyncio.run(scenario())
    assert refused["errors"][0]["code"] == "615" and first == after == {}


def test_calls_without_a_token_do_not_spend_the_clients_window(make_app) -> None:
    """100 calls with no token used to spend the window, and the valid client then got 606."""
    app = make_app(limits=ApiLimits(calls_per_window=100))
    with serving(app) as server, httpx.Client(base_url=server.url) as http:
        anonymous = [http.get(DESCRIBE) for _ in range(100)]
        headers = bearer(http)
        served = [http.get(DESCRIBE, headers=headers) for _ in range(100)]
    assert set(_codes(anonymous[:10])) == {"601"}
    assert set(_codes(anonymous[10:])) == {"606"}
    assert "without a valid token" in anonymous[-1].json()["errors"][0]["message"]
    assert _codes(served) == [None] * 100


def test_each_client_has_its_own_window(make_app) -> None:
    app = make_app(credentials=[CREDENTIALS, OTHER], limits=ApiLimits(calls_per_window=5))
    with serving(app) as server, httpx.Client(base_url=server.url) as http:
        busy, quiet = bearer(http, CREDENTIALS), bearer(http, OTHER)
        spent = [http.get(DESCRIBE, headers=busy) for _ in range(8)]
        other = [http.get(DESCRIBE, headers=quiet) for _ in range(5)]
    assert _codes(spent) == [None] * 5 + ["606"] * 3
    assert _codes(other) == [None] * 5


def test_forged_tokens_use_the_anonymous_window_not_a_clients(make_app) -> None:
    app = make_app(limits=ApiLimits(calls_per_window=3, unauthenticated_calls_per_window=2))
    with serving(app) as server, httpx.Client(base_url=server.url) as http:
        token = bearer(http)["Authorization"]
        forged = {"Authorization": token[:-2] + ("aa" if not token.endswith("aa") else "bb")}
        refused = [http.get(DESCRIBE, headers=forged) for _ in range(4)]
        served = [http.get(DESCRIBE, headers={"Authorization": token}) for _ in range(3)]
    assert _codes(refused) == ["601", "601", "606", "606"]
    assert _codes(served) == [None] * 3


def _slow_app(wanted_inside: int):
    entered, release = asyncio.Event(), asyncio.Event()
    inside = 0

    async def slow(scope, receive, send) -> None:
        nonlocal inside
        inside += 1
        if inside == wanted_inside:
            entered.set()
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b"{}"})

    return slow, entered, release


def test_concurrency_limit_is_615_per_client() -> None:
    slow, entered, release = _slow_app(wanted_inside=3)
    issuer = TokenIssuer([CREDENTIALS, OTHER])
    one = {"Authorization": "Bearer " + issuer.issue(CREDENTIALS).access_token}
    two = {"Authorization": "Bearer " + issuer.issue(OTHER).access_token}
    app = LimitsMiddleware(slow, ApiLimits(concurrent_calls=2), issuer)

    async def scenario() -> list[dict]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
            first = asyncio.create_task(client.get("/rest/v1/leads.json", headers=one))
            second = asyncio.create_task(client.get("/rest/v1/leads.json", headers=one))
            other = asyncio.create_task(client.get("/rest/v1/leads.json", headers=two))
            await entered.wait()  # both of one's calls and the other client's are inside
            third = (await client.get("/rest/v1/leads.json", headers=one)).json()
            release.set()
            return [(await first).json(), (await second).json(), third, (await other).json()]

    first, second, third, other = asyncio.run(scenario())
    assert first == second == other == {}
    assert third["errors"] == [{"code": "615", "message": "Concurrent access limit reached"}]
    assert app.in_flight == {CREDENTIALS.client_id: 0, OTHER.client_id: 0}


def test_a_uri_over_8_kb_is_414_with_an_envelope(make_app) -> None:
    """Before, a query string of any length was served (a 70 KB one included)."""
    with serving(make_app()) as server, httpx.Client(base_url=server.url) as http:
        headers = bearer(http)

        def query(length: int) -> httpx.Response:
            params = {"filterType": "email", "filterValues": "a" * length + "@example.com"}
            request = http.build_request("GET", "/rest/v1/leads.json", params=params, headers=headers)
            assert len(request.url.raw_path) == len("/rest/v1/leads.json?filterType=email&filterValues=") + length + 14
            return http.send(request)

        short, long = query(7 * 1024), query(9 * 1024)
        after = http.get(DESCRIBE, headers=headers)
    assert short.status_code == 200 and short.json()["success"] is True and short.json()["result"] == []
    assert long.status_code == 414 and long.json()["errors"][0]["code"] == "1001"
    assert "URI exceeds 8192 bytes" in long.json()["errors"][0]["message"]
    assert _codes([after]) == [None]  # the connection is still usable


def test_declared_body_size_over_the_cap_is_refused_before_reading(make_app, api_store) -> None:
    with TestClient(make_app(limits=ApiLimits(body_bytes=1000))) as client:
        headers = bearer(client)
        small = client.post("/rest/v1/leads.json", json={"input": [{"email": "a@x.com"}]}, headers=headers)
        large = client.post("/rest/v1/leads.json", json={"input": [{"email": "a@x.com", "personNotes": "x" * 2000}]},
                            headers=headers)
    assert small.json()["success"] is True
    assert large.status_code == 413 and large.json()["errors"][0]["code"] == "1001"
    assert large.headers["connection"] == "close"
    assert api_store.persons.count() == 1
