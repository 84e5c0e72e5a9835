"""Wiring for commands: from settings to an open store, a Salesforce client and a sync engine.

Every command opens what it needs with `store_for` and `engine_on`, which close it again.

With no `TANDEM_SF_LOGIN_URL`, Tandem talks to the bundled emulator serving the sample org from
`.tandem/emulator` (the one already running for that folder, else one started in the background),
logged in as the sample org's sync user. With a login URL it talks to that org.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import SecretStr

from tandem.cli.output import database_said
from tandem.config import Settings
from tandem.emulator.instance import RunningEmulator, serve_in_background
from tandem.emulator.sample_org import CONNECTED_APP, SAMPLE_ORG_FILE, SYNC_USER, UserLogin
from tandem.errors import StoreError
from tandem.people.store import PersonStore
from tandem.salesforce.auth import Credentials
from tandem.salesforce.client import SalesforceClient
from tandem.salesforce.http import PinnedSession
from tandem.sync.cycle import SyncEngine
from tandem.sync.policy import load_policy
from tandem.sync.pull import FetchSettings
from tandem.sync.push import PushSettings

EMBEDDED_STATE_DIR = Path(".tandem/emulator")
EMBEDDED_IDLE_EXIT = 1800.0


_SECRET_URL_PARAMETERS = frozenset({"password", "sslpassword"})


def shown_url(url: str) -> str:
    """A database URL as it may be shown: its password hidden, a SQLite file as its full path."""
    parsed = sa.make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        return str(Path(parsed.database).resolve())
    hidden = {key: "***" for key in parsed.query if key.lower() in _SECRET_URL_PARAMETERS}  # libpq takes them there too
    return parsed.update_query_dict(hidden).render_as_string(hide_password=True).replace("%2A%2A%2A", "***")


def sqlite_file(url: str) -> Path | None:
    parsed = sa.make_url(url) if url.startswith("sqlite") else None
    return Path(parsed.database) if parsed is not None and parsed.database not in (None, "", ":memory:") else None


def create_store(url: str) -> PersonStore:
    """The store at `url`, which may be new; a database that cannot be opened is named in the error."""
    path = sqlite_file(url)
    if path is not None and not path.resolve().parent.is_dir():
        raise StoreError(f"cannot create the database {path.resolve()}: the folder {path.resolve().parent} "
                         "does not exist")
    try:
        return PersonStore(url)
    except sa.exc.DatabaseError as error:  # a file that is no database too
        raise StoreError(f"cannot open the database {shown_url(url)}: {database_said(error)}") from None


def open_store(settings: Settings) -> PersonStore:
    """The people store, which must be set up (`tandem init`); the caller closes it. Nothing is created."""
    path = sqlite_file(settings.database_url)
    if path is not None and not path.exists():
        raise StoreError(f"no database at {path.resolve()}: run `tandem init` first")
    store = create_store(settings.database_url)
    try:
        store.refuse_newer_schema(named=f"the database {shown_url(settings.database_url)}")
        missing = store.needs_migration()
    except sa.exc.DatabaseError as error:  # a file that is no database too
        store.close()
        raise StoreError(f"cannot open the database {shown_url(settings.database_url)}: "
                         f"{database_said(error)}") from None
    except StoreError:
        store.close()
        raise
    if missing:
        store.close()
        raise StoreError(f"the database {shown_url(settings.database_url)} is not set up (or out of date): "
                         "run `tandem init`")
    return store


@contextmanager
def store_for(settings: Settings) -> Iterator[PersonStore]:
    """The set-up people store, closed when the block ends."""
    store = open_store(settings)
    try:
        yield store
    finally:
        store.close()


@contextmanager
def salesforce_client(settings: Settings, state_dir: Path = EMBEDDED_STATE_DIR) -> Iterator[SalesforceClient]:
    """A client for the configured org, or for the embedded emulator for as long as the block runs."""
    if settings.salesforce_target == "org":
        yield SalesforceClient.from_settings(settings)
        return
    server = shared_emulator(state_dir)
    yield emulator_client(server.base_url, server.ca_path, settings.sf_api_version)


def shared_emulator(state_dir: Path = EMBEDDED_STATE_DIR) -> RunningEmulator:
    """The bundled emulator serving `state_dir`, started in the background if none is running.

    It keeps serving for the next commands (one server per folder, so no write is lost between
    processes) and stops after half an hour without a request, or with `tandem emulator stop`.
    """
    folder = state_dir.resolve()
    return serve_in_background(folder, "--persist", "--idle-exit", str(int(EMBEDDED_IDLE_EXIT)))


def emulator_client(base_url: str, ca_path: Path, api_version: str = "62.0", *,
                    user: UserLogin = SYNC_USER, **options: Any) -> SalesforceClient:
    """A client for the bundled emulator's sample org, logged in as `user` (the sync user by default)."""
    credentials = Credentials(
        login_url=base_url,
        client_id=CONNECTED_APP.client_id,
        client_secret=SecretStr(CONNECTED_APP.client_secret),
        username=user.username,
        password=SecretStr(user.password),
    )
    return SalesforceClient(credentials, PinnedSession(ca_path), api_version, **options)


@contextmanager
def embedded_emulator(state_dir: Path = EMBEDDED_STATE_DIR, *, persist: bool = True, org_file: Path = SAMPLE_ORG_FILE):
    """The bundled emulator on a free loopback port; with `persist` its org state survives restarts."""
    from tandem.emulator.model import Org
    from tandem.emulator.server import EmulatorServer

    org = Org.load_state(org_file, state_dir) if persist else Org.from_file(org_file)
    server = EmulatorServer(org, host="127.0.0.1", port=0, state_dir=state_dir, persist=persist)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def engine_on(settings: Settings, store: PersonStore, owner: str = "tandem sync") -> Iterator[SyncEngine]:
    """A sync engine over the store and the configured org (or the bundled emulator), under the
    settings' sync policy, for the block; its cycles hold the lock as `owner` (the command)."""
    with salesforce_client(settings) as client:
        yield engine_maker(settings)(client, store, owner)


def engine_maker(settings: Settings) -> Callable[[SalesforceClient, PersonStore, str], SyncEngine]:
    """Makes sync engines as the settings say (policy, commit lag, Bulk thresholds, concurrency):
    `(client, store, owner) → SyncEngine`, for the commands and for `tandem serve`'s Sync now."""
    policy = load_policy(settings)

    def make(client: SalesforceClient, store: PersonStore, owner: str) -> SyncEngine:
        return SyncEngine(
            client, store, policy=policy, owner=owner, commit_lag=timedelta(seconds=settings.commit_lag_seconds),
            fetch=FetchSettings(bulk_threshold=settings.sync_pull_bulk_threshold,
                                rest_while_bulk=settings.sync_pull_rest_while_bulk),
            push=PushSettings(concurrency=settings.sync_concurrency, bulk_threshold=settings.sync_push_bulk_threshold),
        )

    return make
