"""Activity paging tokens while other transactions write activities: a caller that follows its
nextPageToken gets every activity exactly once, whichever writer commits first.

On PostgreSQL an activity's id is drawn when it is written, not when its transaction commits, so a
slow writer can commit an activity numbered below the ones a caller has already paged past.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore
from tandem.web.app import create_app
from tests.postgres import POSTGRES_ADMIN_URL, postgres_database
from tests.web.conftest import CREDENTIALS, ROOMY, bearer, serving

ACTIVITIES = "/rest/v1/activities.json"
NEW_LEAD, DELETE_LEAD = "12", "37"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from postgres_database()


def _since_epoch(client: httpx.Client | TestClient) -> str:
    answer = client.get("/rest/v1/activities/pagingtoken.json", params={"sinceDatetime": "2020-01-01T00:00:00Z"})
    return answer.json()["nextPageToken"]


def _drain(client: httpx.Client | TestClient, path: str, token: str, **params: str) -> tuple[list[dict], str]:
    """Every page from `token` until moreResult is false: the records and the last token."""
    seen: list[dict] = []
    while True:
        page = client.get(path, params={"nextPageToken": token, "batchSize": "2", **params}).json()
        assert page["success"], page
        seen += page["result"]
        token = page["nextPageToken"]
        if page["moreResult"] is False:
            return seen, token


def test_an_activity_committed_after_a_later_one_is_not_paged_past(postgres_url: str) -> None:
    api_store, slow_writer = PersonStore(postgres_url), PersonStore(postgres_url)
    api_store.migrate()
    try:
        with TestClient(create_app(api_store, CREDENTIALS, limits=ROOMY), raise_server_exceptions=False) as api:
            api.headers.update(bearer(api))
            token = _since_epoch(api)
            with slow_writer.transaction():
                [slow] = slow_writer.persons.add_many([{"email": "slow@example.com"}], ChangeOrigin.MARKETING)
                quick = api.post("/rest/v1/leads.json", json={"input": [{"email": "quick@example.com"}]})
                [quick_id] = [r["id"] for r in quick.json()["result"]]
                before, token = _drain(api, ACTIVITIES, token, activityTypeIds=NEW_LEAD)
            after, _ = _drain(api, ACTIVITIES, token, activityTypeIds=NEW_LEAD)
            assert sorted(a["leadId"] for a in before + after) == sorted([slow, quick_id])

            deleted_token = _since_epoch(api)
            with slow_writer.transaction():
                slow_writer.persons.delete(slow, ChangeOrigin.MARKETING)
                gone = api.post("/rest/v1/leads/delete.json", json={"input": [{"id": quick_id}]}).json()
                assert gone["result"] == [{"id": quick_id, "status": "deleted"}]
                before, deleted_token = _drain(api, "/rest/v1/activities/deletedleads.json", deleted_token)
            after, _ = _drain(api, "/rest/v1/activities/deletedleads.json", deleted_token)
            assert sorted(a["primaryAttributeValueId"] for a in before + after) == sorted([slow, quick_id])
    finally:
        slow_writer.close()
        api_store.close()


def test_a_transaction_open_in_another_database_holds_nothing_back(postgres_url: str) -> None:
    """Only this database's writers can still commit an activity here: a transaction left open in
    another database on the same server (another application's) delays no activity."""
    api_store = PersonStore(postgres_url)
    api_store.migrate()
    elsewhere = sa.create_engine(POSTGRES_ADMIN_URL)
    try:
        with elsewhere.connect() as other, TestClient(create_app(api_store, CREDENTIALS, limits=ROOMY)) as api:
            other.execute(sa.text("SELECT pg_current_xact_id()"))  # it writes, so it holds a transaction id
            api.headers.update(bearer(api))
            token = _since_epoch(api)
            created = api.post("/rest/v1/leads.json", json={"input": [{"email": "now@example.com"}]}).json()
            listed, _ = _drain(api, ACTIVITIES, token, activityTypeIds=NEW_LEAD)
            assert [a["leadId"] for a in listed] == [created["result"][0]["id"]]
            other.rollback()
    finally:
        elsewhere.dispose()
        api_store.close()


def test_a_reader_following_its_token_beside_writers_sees_every_activity_once(writers_store: PersonStore) -> None:
    app = create_app(writers_store, CREDENTIALS, limits=ROOMY)
    stop = threading.Event()
    problems: list[BaseException] = []

    def write(n: int) -> None:
        try:
            with httpx.Client(base_url=server.url, timeout=60) as client:
                client.headers.update(bearer(client))
                round_ = 0
                while not stop.is_set():
                    body = {"input": [{"email": f"w{n}-{round_}-{k}@example.com"} for k in range(3)]}
                    assert client.post("/rest/v1/leads.json", json=body).json()["success"]
                    round_ += 1
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            problems.append(error)

    with serving(app) as server, httpx.Client(base_url=server.url, timeout=60) as reader:
        reader.headers.update(bearer(reader))
        token = _since_epoch(reader)
        writers = [threading.Thread(target=write, args=(n,)) for n in range(4)]
        for thread in writers:
            thread.start()
        followed: list[int] = []
        try:
            while len(followed) < 600 and not problems:
                page = reader.get(ACTIVITIES, params={"nextPageToken": token, "activityTypeIds": NEW_LEAD}).json()
                followed += [a["id"] for a in page["result"]]
                token = page["nextPageToken"]
        finally:
            stop.set()
            for thread in writers:
                thread.join()
        assert not problems
        rest, _ = _drain(reader, ACTIVITIES, token, activityTypeIds=NEW_LEAD)
        followed += [a["id"] for a in rest]
        every, _ = _drain(reader, ACTIVITIES, _since_epoch(reader), activityTypeIds=NEW_LEAD)
    assert len(followed) == len(set(followed))
    assert sorted(followed) == sorted(a["id"] for a in every)
