"""A change and its activity rows and pending changes commit together or not at all."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tandem.people import activities as types
from tandem.people.outbox import PendingChangeLog
from tandem.people.store import PersonStore


class Boom(Exception):
    pass


def test_failure_after_persons_and_activities_were_written_rolls_back_everything(
    store: PersonStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = store.add_person({"title": "VP"}, source="cli")
    assert store.update_person(person.id, {"city": "Ghent"}, source="cli") == ["city"]
    committed = store.list_activities(person.id)

    def fail_midway(self: PendingChangeLog, connection: sa.Connection, *args: object, **kwargs: object) -> None:
        # By now the persons row and the Change Data Value rows are written in this transaction.
        written = connection.execute(sa.text("SELECT count(*) FROM activities")).scalar_one()
        assert written == len(committed) + 1
        raise Boom

    monkeypatch.setattr(PendingChangeLog, "_write_pending", fail_midway)
    with pytest.raises(Boom):
        store.update_person(person.id, {"title": "CTO"}, source="cli")
    monkeypatch.undo()

    after = store.get_person(person.id)
    assert after.fields["title"] == "VP" and after.fields["city"] == "Ghent"
    assert store.list_activities(person.id) == committed
    assert [c.field for c in store.list_pending_changes()] == ["city"]


def test_failing_insert_of_activities_leaves_no_person(store: PersonStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.add_person({"lastName": "Kept"}, source="cli")
    original = sa.Connection.execute

    def execute(self: sa.Connection, statement, *args, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(statement, sa.Insert) and statement.table.name == "activities":
            raise Boom
        return original(self, statement, *args, **kwargs)

    monkeypatch.setattr(sa.Connection, "execute", execute)
    with pytest.raises(Boom):
        store.add_persons([{"lastName": "Lost 1"}, {"lastName": "Lost 2"}], source="cli")
    monkeypatch.undo()

    assert store.count_persons() == 1
    assert [a.activity_type_id for a in store.list_activities()] == [types.NEW_LEAD.id]


def test_store_transaction_groups_calls_into_one_commit(store: PersonStore) -> None:
    person = store.add_person({"title": "VP"}, source="cli")
    with pytest.raises(Boom), store.transaction():
        store.update_person(person.id, {"title": "CTO"}, source="cli")
        store.set_watermark("Contact", "updates", "2026-01-01T00:00:00Z")
        assert store.get_person(person.id).fields["title"] == "CTO"  # visible inside
        raise Boom
    assert store.get_person(person.id).fields["title"] == "VP"
    assert store.get_watermark("Contact", "updates") is None
    assert len(store.list_activities(person.id)) == 1

    with store.transaction():
        store.update_person(person.id, {"title": "CTO"}, source="cli")
        store.set_watermark("Contact", "updates", "2026-01-01T00:00:00Z")
    assert store.get_person(person.id).fields["title"] == "CTO"
    assert store.get_watermark("Contact", "updates") is not None


def test_committed_changes_survive_a_new_store(store: PersonStore, open_store) -> None:  # type: ignore[no-untyped-def]
    person = store.add_person({"title": "VP"}, source="cli")
    store.update_person(person.id, {"title": "CTO"}, source="cli")
    again = open_store()
    assert again.get_person(person.id).fields["title"] == "CTO"
    assert [a.activity_type_id for a in again.list_activities(person.id)] == [12, 13]
