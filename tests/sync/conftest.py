"""A sync engine between a fresh SQLite people store and the emulator's sample org, as the sync user."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tandem.people.store import PersonStore
from tandem.cli.wiring import emulator_client
from tandem.salesforce.client import SalesforceClient
from tandem.sync.cycle import SyncEngine


def sync_client(base_url, ca_path) -> SalesforceClient:
    """The sample org's sync user, with short retry pauses."""
    return emulator_client(base_url, ca_path, backoff_seconds=0.01)


@pytest.fixture
def store(tmp_path):
    store = PersonStore(f"sqlite:///{tmp_path / 'tandem.db'}")
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def engine(base_url, ca_path, reset_emulator, store):
    return SyncEngine(sync_client(base_url, ca_path), store, overlap=timedelta(minutes=5))
