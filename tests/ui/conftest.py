"""The app `tandem serve` serves (on uvicorn, on a free port) over a fresh SQLite database and the
emulator's sample org over HTTPS, and Debian's Chromium driven by Playwright (never a downloaded
browser). tests/ui/test_serve_ui.py starts `tandem serve` itself as a user would.

Each test's server and database are its own; the emulator is reset for each. Screenshots go to
tests/ui/screenshots/ (git-ignored).
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest

from tandem.emulator.sample_org import CONNECTED_APP, SYNC_USER
from tandem.people.store import PersonStore

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parent / "screenshots"
OPERATOR = ("olive", "operator-pass-123")
VIEWER = ("victor", "viewer-pass-1234")
START_SECONDS = 60.0
PASSWORD = "a long enough password"


@dataclass
class Server:
    url: str
    store: PersonStore
    """Another store on the server's database, for the test to arrange and check through."""


def tandem_env(folder: Path, base_url: str, ca_path: Path) -> dict[str, str]:
    env = {"PATH": "/usr/bin:/bin", "TANDEM_DATABASE_URL": f"sqlite:///{folder / 'tandem.db'}",
           "TANDEM_SF_LOGIN_URL": base_url, "TANDEM_SF_CA_BUNDLE": str(ca_path),
           "TANDEM_SF_CLIENT_ID": CONNECTED_APP.client_id, "TANDEM_SF_CLIENT_SECRET": CONNECTED_APP.client_secret,
           "TANDEM_SF_USERNAME": SYNC_USER.username, "TANDEM_SF_PASSWORD": SYNC_USER.password,
           "TANDEM_API_CLIENT_ID": "ui-tests", "TANDEM_API_CLIENT_SECRET": "a-perfectly-long-secret-0123456789abcdef",
           "TANDEM_SYNC_INTERVAL_SECONDS": "300",
           "TANDEM_SYNC_COMMIT_LAG_SECONDS": "0"}  # the test org commits its writes in stamp order
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(tmp_path, base_url, ca_path, reset_emulator) -> Iterator[Server]:
    """The app `tandem serve` builds, on uvicorn in this process (a thread) on a free port, over a
    store of its own on the test's database; the test reads and writes through another store."""
    import uvicorn

    from tandem.cli.wiring import salesforce_client
    from tandem.config import Settings
    from tandem.web.app import create_app
    from tandem.web.tokens import ApiCredentials
    from tandem.web.ui.passwords import hash_password

    env = tandem_env(tmp_path, base_url, ca_path)
    settings = Settings(database_url=env["TANDEM_DATABASE_URL"], sf_login_url=base_url, sf_ca_bundle=ca_path,
                        sf_client_id=CONNECTED_APP.client_id, sf_client_secret=CONNECTED_APP.client_secret,
                        sf_username=SYNC_USER.username, sf_password=SYNC_USER.password)
    store = PersonStore(settings.database_url)
    store.migrate()
    for (name, password), role in ((OPERATOR, "operator"), (VIEWER, "viewer")):
        store.ui_accounts.add(name, hash_password(password), role)
    served = PersonStore(settings.database_url)
    app = create_app(served, [ApiCredentials("ui-tests", env["TANDEM_API_CLIENT_SECRET"])],
                     salesforce=partial(salesforce_client, settings), sync_interval_seconds=300)
    uvicorn_server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_SECONDS
    while not uvicorn_server.started:  # poll until it listens
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    port = uvicorn_server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Server(f"http://127.0.0.1:{port}", store)
    finally:
        uvicorn_server.should_exit = True
        thread.join(30)
        served.close()
        store.close()


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module: Playwright's event loop runs on this thread while it is open, so it
    closes before the next module's tests (which may run an event loop of their own) start."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed (/usr/bin/chromium): `apt-get install -y chromium`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(20_000)
    opened = context.new_page()
    yield opened
    context.close()


def sign_in(page, who: tuple[str, str]) -> None:
    page.goto("/ui/")
    page.get_by_label("Username").fill(who[0])
    page.get_by_label("Password").fill(who[1])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def store(tmp_path) -> Iterator[PersonStore]:
    """A migrated SQLite store with the operator olive (password PASSWORD), for in-process clients."""
    yield from _store_with_olive(f"sqlite:///{tmp_path / 'tandem.db'}")


@pytest.fixture
def either_store(database_url) -> Iterator[PersonStore]:
    """As `store`, on SQLite and on PostgreSQL."""
    yield from _store_with_olive(database_url)


def _store_with_olive(url: str) -> Iterator[PersonStore]:
    from tandem.web.ui.passwords import hash_password

    opened = PersonStore(url)
    opened.migrate()
    opened.ui_accounts.add("olive", hash_password(PASSWORD), "operator")
    yield opened
    opened.close()


def client_for(store: PersonStore, **options):
    """The app `tandem serve` builds, called in process (no Salesforce configured)."""
    from starlette.testclient import TestClient

    from tandem.web.app import create_app
    from tandem.web.tokens import ApiCredentials

    return TestClient(create_app(store, [ApiCredentials("c", "x" * 40)], **options), base_url="http://testserver")


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in_client(client, username: str = "olive", password: str = PASSWORD, next_page: str = "/ui/"):
    token = csrf_token(client.get("/ui/signin").text)
    return client.post("/ui/signin", data={"username": username, "password": password, "csrf_token": token,
                                           "next": next_page}, follow_redirects=False)
