"""A sync engine between a fresh SQLite people store and the emulator's sample org, as the sync user."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import SecretStr

from tandem.people.store import PersonStore
from tandem.salesforce.auth import Credentials
from tandem.salesforce.client import SalesforceClient
from tandem.salesforce.http import PinnedSession
from tandem.sync.cycle import SyncEngine


def sync_client(base_url, ca_path) -> SalesforceClient:
    credentials = Credentials(
        login_url=base_url,
        client_id="tandem-local",
        client_secret=SecretStr("tandem-local-secret"),
        username="sync@sample.example",
        password=SecretStr("sync-pass-1"),
    )
    return SalesforceClient(credentials, PinnedSession(ca_path), backoff_seconds=0.01)


@pytest.fixture
def store(tmp_path):
    store = PersonStore(f"sqlite:///{tmp_path / 'tandem.db'}")
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def engine(base_url, ca_path, reset_emulator, store):
    return SyncEngine(sync_client(base_url, ca_path), store, overlap=timedelta(minutes=5))
