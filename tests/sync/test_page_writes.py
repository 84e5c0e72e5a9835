"""A pull page is planned and written in one transaction: its persons are read once, with their rows
locked, and a record that appears twice in one page makes one person, with its latest values. A push
batch's results are settled together, one statement per kind of row."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from tandem.people.origin import ChangeOrigin
from tandem.sync.pull import Puller
from tandem.sync.workspace import SyncWorkspace
from tests.sync.observe import CHANGE, CONFLICT, SYNCED, activities_of
from tests.sync.observe import person as person_by_email

NEW_LEAD_ID = 12


class RepeatingRow:
    """The real client, its pull query's first answer holding the first row twice: the second time later and
    changed (a record edited while a pull read it, as parallel or overlapping reads can show it)."""

    def __init__(self, client, title: str) -> None:
        self._client = client
        self._title = title
        self.repeated: str | None = None

    def __getattr__(self, name):
        return getattr(self._client, name)

    def query_page(self, soql: str, **options):
        page = self._client.query_page(soql, **options)
        records = page.get("records") or []
        if not records or self.repeated is not None:
            return page
        first = records[0]
        stamp = datetime.fromisoformat(first["SystemModstamp"]) + timedelta(seconds=1)
        self.repeated = first["Id"]
        again = {**first, "Title": self._title, "SystemModstamp": stamp.strftime("%Y-%m-%dT%H:%M:%S.000+0000")}
        return {**page, "records": [first, again, *records[1:]]}


def _puller(engine, client) -> Puller:
    return Puller(SyncWorkspace(client, engine.store), engine.ensure_catalog(), engine.policy)


def test_a_record_twice_in_one_page_makes_one_person_with_its_latest_values(engine, store):
    client = RepeatingRow(engine.client, "Read the second time")
    counts = _puller(engine, client).pull("Contact")
    assert client.repeated is not None
    linked = store.persons.by_sfdc_ids([client.repeated])
    assert list(linked) == [client.repeated]
    person = linked[client.repeated]
    assert person.fields["title"] == "Read the second time"
    assert store.bases.get(person.id)["title"] == "Read the second time"
    assert [a.activity_type_id for a in store.activities.find(person.id)] == [NEW_LEAD_ID]
    assert counts.updates.new == store.persons.count()


def test_a_page_reads_its_persons_once_and_keeps_every_change_and_loser(engine, store, sf):
    engine.run_cycle()
    wile = person_by_email(store, "wile@acme.example")
    sf.Contact.update(wile.link.sfdc_id, {"Title": "Rep Title", "Phone": "+1 555 0199"})
    store.persons.update(wile.id, {"title": "Marketing Title"}, origin=ChangeOrigin.CLI)

    statements: list[str] = []
    engine_ = store._db.engine  # noqa: SLF001 - counting the statements the page sends

    def seen(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    sa.event.listen(engine_, "before_cursor_execute", seen)
    try:
        counts = _puller(engine, engine.client).pull("Contact")
    finally:
        sa.event.remove(engine_, "before_cursor_execute", seen)
    assert counts.updates.updated >= 1
    person_reads = [s for s in statements if re.search(r"\bFROM persons\b", s) and s.lstrip().upper().startswith("SELECT")]
    assert len(person_reads) == 1, person_reads

    after = store.persons.get(wile.id)
    assert after.fields["title"] == "Rep Title" and after.fields["phone"] == "+1 555 0199"
    changes = {a.attribute("Field"): a for a in activities_of(store, wile.id, CHANGE)
               if a.attribute("Reason") == "changed in Salesforce"}
    assert changes["phone"].attribute("New Value") == "+1 555 0199"
    assert changes["title"].attribute("Old Value") == "Marketing Title"
    [conflict] = activities_of(store, wile.id, CONFLICT)
    assert conflict.attribute("Lost Value") == "Marketing Title" and conflict.attribute("Kept Value") == "Rep Title"


@pytest.mark.parametrize("page_size", [1, 3])
def test_small_pages_write_every_person_once(engine, store, page_size):
    engine.pull_page_size = page_size
    engine.run_cycle()
    linked = [p for p in store.persons.get_many(range(1, 1000)) if p.linked]
    assert len({p.link.sfdc_id for p in linked}) == len(linked) > page_size
    for p in linked:
        assert [a.activity_type_id for a in store.activities.find(p.id)][:1] == [NEW_LEAD_ID]


class StatementLog:
    """The SQL statements the store sends while a block runs."""

    def __init__(self, store) -> None:
        self.engine = store._db.engine  # noqa: SLF001
        self.statements: list[str] = []

    def _seen(self, conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        self.statements.append(statement)

    def __enter__(self) -> StatementLog:
        sa.event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._seen)

    def starting(self, prefix: str) -> list[str]:
        return [s for s in self.statements if s.lstrip().upper().startswith(prefix.upper())]


def test_a_push_batch_settles_its_persons_together(engine, store, sf):
    engine.run_cycle()
    contacts = [p for p in store.persons.get_many(range(1, 1000)) if p.link.sfdc_type == "Contact"]
    assert len(contacts) >= 3
    for n, p in enumerate(contacts):
        store.persons.update(p.id, {"title": f"Pushed {n}"}, origin=ChangeOrigin.CLI)
    with StatementLog(store) as log:
        report = engine.run_cycle()
    assert report.succeeded
    for n, p in enumerate(contacts):
        assert sf.Contact.get(p.link.sfdc_id)["Title"] == f"Pushed {n}"
        assert store.bases.get(p.id)["title"] == f"Pushed {n}"
        assert store.outbox.find(person_ids=[p.id]) == []
        assert activities_of(store, p.id, SYNCED)[-1].attribute("Reason") == "fields: title"
    assert len(log.starting("INSERT INTO field_bases")) == 1, log.starting("INSERT INTO field_bases")
