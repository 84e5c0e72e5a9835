"""Bulk API 1.0 tests: the shared emulator reset before each test, and servers for orgs whose file
changes the `asyncApi` section (small result chunks, the Async API turned off)."""

from __future__ import annotations

import json

import pytest

from tandem.emulator.sample_org import ADMIN, SAMPLE_ORG_FILE
from tests.https_emulator import https_session, password_token

API_VERSION = "62.0"


@pytest.fixture(autouse=True)
def _fresh_org(reset_emulator):
    yield


@pytest.fixture
def trust_emulator_everywhere(monkeypatch, ca_path):
    """salesforce-bulk calls `requests.get`/`post` with no session: trust reaches it through the environment."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_path))
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


@pytest.fixture
def bulk(base_url, sf_token, trust_emulator_everywhere):
    """salesforce-bulk, unchanged, with the administrator's session."""
    from salesforce_bulk import SalesforceBulk

    return SalesforceBulk(sessionId=sf_token, host=base_url, API_version=API_VERSION)


@pytest.fixture
def seed(base_url, http):
    """`seed("Contact", rows)` → the new Ids, inserted through the loopback control route."""

    def insert(sobject: str, rows: list[dict]) -> list[str]:
        answer = http.post(f"{base_url}/_emulator/seed", json={sobject: rows})
        assert answer.status_code == 200, answer.text
        return answer.json()[sobject]

    return insert


class OrgServer:
    """An emulator serving the sample org with changed top-level sections, and a logged-in admin."""

    def __init__(self, tmp_path_factory, changes: dict) -> None:
        from tandem.emulator.model import Org
        from tandem.emulator.server import EmulatorServer

        raw = json.loads(SAMPLE_ORG_FILE.read_text(encoding="utf-8"))
        raw.update(changes)
        self.server = EmulatorServer(Org.from_definition(raw), host="127.0.0.1", port=0,
                                     state_dir=tmp_path_factory.mktemp("emulator-variant"))
        self.base_url = self.server.start()
        self.ca_path = self.server.ca_path
        self.http = https_session(self.ca_path)
        self.token = password_token(self.base_url, self.http, *ADMIN)

    def close(self) -> None:
        self.http.close()
        self.server.stop()


@pytest.fixture(scope="module")
def small_chunks_org(tmp_path_factory):
    """Query results cut into chunks of 5 rows."""
    org = OrgServer(tmp_path_factory, {"asyncApi": {"resultChunkRows": 5}})
    yield org
    org.close()


@pytest.fixture(scope="module")
def async_off_org(tmp_path_factory):
    """An org whose file turns the Async API off."""
    org = OrgServer(tmp_path_factory, {"asyncApi": {"enabled": False}})
    yield org
    org.close()
