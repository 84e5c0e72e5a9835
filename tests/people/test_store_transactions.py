"""A change and its activity rows and pending changes commit together or not at all."""

from __future__ import annotations

import socket
import threading

import pytest
import sqlalchemy as sa

from tandem.people import activities as types
from tandem.people.origin import ChangeOrigin
from tandem.people.outbox import Outbox
from tandem.people.store import PersonStore


class Boom(Exception):
    pass


def test_failure_after_persons_and_activities_were_written_rolls_back_everything(
    store: PersonStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = store.persons.add({"title": "VP"}, origin=ChangeOrigin.CLI)
    assert store.persons.update(person.id, {"city": "Ghent"}, origin=ChangeOrigin.CLI) == ["city"]
    committed = store.activities.find(person.id)

    def fail_midway(self: Outbox, connection: sa.Connection, *args: object, **kwargs: object) -> None:
        # By now the persons row and the Change Data Value rows are written in this transaction.
        written = connection.execute(sa.text("SELECT count(*) FROM activities")).scalar_one()
        assert written == len(committed) + 1
        raise Boom

    monkeypatch.setattr(Outbox, "queue", fail_midway)
    with pytest.raises(Boom):
        store.persons.update(person.id, {"title": "CTO"}, origin=ChangeOrigin.CLI)
    monkeypatch.undo()

    after = store.persons.get(person.id)
    assert after.fields["title"] == "VP" and after.fields["city"] == "Ghent"
    assert store.activities.find(person.id) == committed
    assert [c.field for c in store.outbox.find()] == ["city"]


def test_failing_insert_of_activities_leaves_no_person(store: PersonStore) -> None:
    store.persons.add({"lastName": "Kept"}, origin=ChangeOrigin.CLI)
    with store._db.transaction() as connection:  # noqa: SLF001 - a trigger that refuses some activities
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse_lost BEFORE INSERT ON activities WHEN NEW.primary_attribute_value LIKE 'Lost%' "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END")
        else:
            connection.exec_driver_sql(
                "CREATE FUNCTION refuse_lost() RETURNS trigger AS $$ BEGIN IF NEW.primary_attribute_value LIKE 'Lost%%' "
                "THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql")
            connection.exec_driver_sql("CREATE TRIGGER refuse_lost BEFORE INSERT ON activities FOR EACH ROW "
                                       "EXECUTE FUNCTION refuse_lost()")
    with pytest.raises(sa.exc.DBAPIError, match="refused"):
        store.persons.add_many([{"lastName": "Lost 1"}, {"lastName": "Lost 2"}], origin=ChangeOrigin.CLI)

    assert store.persons.count() == 1
    assert [a.activity_type_id for a in store.activities.find()] == [types.NEW_LEAD.id]


def test_store_transaction_groups_calls_into_one_commit(store: PersonStore) -> None:
    person = store.persons.add({"title": "VP"}, origin=ChangeOrigin.CLI)
    with pytest.raises(Boom), store.transaction():
        store.persons.update(person.id, {"title": "CTO"}, origin=ChangeOrigin.CLI)
        store.watermarks.set("Contact", "updates", "2026-01-01T00:00:00Z")
        assert store.persons.get(person.id).fields["title"] == "CTO"  # visible inside
        raise Boom
    assert store.persons.get(person.id).fields["title"] == "VP"
    assert store.watermarks.get("Contact", "updates") is None
    assert len(store.activities.find(person.id)) == 1

    with store.transaction():
        store.persons.update(person.id, {"title": "CTO"}, origin=ChangeOrigin.CLI)
        store.watermarks.set("Contact", "updates", "2026-01-01T00:00:00Z")
    assert store.persons.get(person.id).fields["title"] == "CTO"
    assert store.watermarks.get("Contact", "updates") is not None


def test_committed_changes_survive_a_new_store(store: PersonStore, open_store) -> None:  # type: ignore[no-untyped-def]
    person = store.persons.add({"title": "VP"}, origin=ChangeOrigin.CLI)
    store.persons.update(person.id, {"title": "CTO"}, origin=ChangeOrigin.CLI)
    again = open_store()
    assert again.persons.get(person.id).fields["title"] == "CTO"
    assert [a.activity_type_id for a in again.activities.find(person.id)] == [12, 13]



def test_a_postgresql_server_that_never_answers_is_an_outage_within_the_connect_timeout():
    from tandem.people.database import CONNECT_TIMEOUT_SECONDS, is_outage

    raised: list[BaseException] = []

    def open_store(url: str) -> None:
        try:
            PersonStore(url)
        except BaseException as error:  # noqa: BLE001 - the test looks at it
            raised.append(error)

    with socket.socket() as silent:  # the kernel accepts connections; nothing ever answers them
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"postgresql://postgres@127.0.0.1:{silent.getsockname()[1]}/test"
        opening = threading.Thread(target=open_store, args=(url,), daemon=True)
        opening.start()
        opening.join(CONNECT_TIMEOUT_SECONDS + 20)
        assert not opening.is_alive(), "the store still waits for a server that never answers"
    [error] = raised
    assert isinstance(error, sa.exc.OperationalError) and is_outage(error)
