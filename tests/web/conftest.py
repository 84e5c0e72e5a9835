"""Fixtures of the REST API tests: a store, the app in process, and a real uvicorn server for the
real Marketo client (marketorestpython) on a free loopback port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tandem.people.store import PersonStore
from tandem.web.app import create_app
from tandem.web.auth import ApiCredentials
from tandem.web.limits import ApiLimits

CLIENT_ID = "tandem-api-test"
CLIENT_SECRET = "s3cret-for-tests-0123456789abcdef"
CREDENTIALS = ApiCredentials(CLIENT_ID, CLIENT_SECRET)
OTHER = ApiCredentials("tandem-api-other", "another-secret-for-tests-0123456789")
ROOMY = ApiLimits(calls_per_window=100_000, window_seconds=20, concurrent_calls=100)


class FakeClock:
    """The token issuer's clock, moved by hand so expiry needs no waiting."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def api_store(tmp_path) -> Iterator[PersonStore]:
    store = PersonStore(f"sqlite:///{tmp_path / 'api.db'}")
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def writers_store(database_url: str) -> Iterator[PersonStore]:
    """A migrated store on the test's database (SQLite or PostgreSQL), for several writers at once."""
    store = PersonStore(database_url)
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def make_app(api_store: PersonStore, clock: FakeClock) -> Callable[..., FastAPI]:
    def make(**options) -> FastAPI:
        options.setdefault("limits", ROOMY)
        options.setdefault("clock", clock)
        options.setdefault("throttle_clock", clock)
        return create_app(api_store, options.pop("credentials", CREDENTIALS), **options)

    return make


@pytest.fixture
def app(make_app) -> FastAPI:
    return make_app()


def bearer(client, credentials: ApiCredentials = CREDENTIALS) -> dict[str, str]:
    """The Authorization header for `credentials`, from a TestClient or an httpx client."""
    answer = client.get("/identity/oauth/token", params={
        "grant_type": "client_credentials", "client_id": credentials.client_id,
        "client_secret": credentials.client_secret})
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.fixture
def api(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers.update(bearer(client))
        yield client


@dataclass
class LiveServer:
    url: str
    app: FastAPI


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[LiveServer]:
    """`app` on a real uvicorn server on a free loopback port, for the duration of the test."""
    with serving(app) as server:
        yield server


@contextmanager
def serving(app: FastAPI) -> Iterator[LiveServer]:
    """Any app on a real uvicorn server on a free loopback port, while the block runs."""
    # IPPROTO_TCP lets asyncio set TCP_NODELAY: without it each answer waits for a delayed ACK
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", proxy_headers=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API server did not start")
        threading.Event().wait(0.01)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def marketo(live_server: LiveServer):
    """marketorestpython, unmodified, aimed at the live server."""
    from marketorestpython.client import MarketoClient

    client = MarketoClient("tandem-test", CLIENT_ID, CLIENT_SECRET, max_retry_time=5)
    client.host = live_server.url
    return client
