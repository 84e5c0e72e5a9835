"""Migrations build the schema from nothing, are idempotent, match the field catalog, and keep data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tandem.errors import InvalidInput, StoreError
from tandem.people.database import Database, normalize_url
from tandem.people.fields import STANDARD_FIELDS
from tandem.people.checked import Checked
from tandem.people.models import ApiUsageReading, FeedPosition, SalesforceLink
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore
from tandem.people.tables import field_bases, metadata, watermarks
from tandem.people.ui_tables import metadata as ui_metadata

TABLES = {"persons", "person_fields", "activities", "pending_changes", "field_bases", "watermarks",
          "cycle_steps", "sync_errors", "person_tombstones", "installation", "create_markers",
          "api_usage", "api_lane_spend", "refused_logins", "alembic_version", "ui_users", "ui_signing_key", "person_bases",
          "salesforce_describes", "set_aside_indexes",
          "sync_pause"}


def _inspect(url: str) -> tuple[set[str], dict[str, set[str]]]:
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        tables = set(inspector.get_table_names())
        columns = {t: {c["name"] for c in inspector.get_columns(t)} for t in tables}
        return tables, columns
    finally:
        engine.dispose()


def test_migrate_from_empty_creates_every_table(open_store) -> None:  # type: ignore[no-untyped-def]
    store = open_store()
    assert _inspect(store.url)[0] == set()
    assert store.needs_migration()
    store.migrate()
    tables, columns = _inspect(store.url)
    assert tables == TABLES
    assert not store.needs_migration()
    for table in metadata.sorted_tables + ui_metadata.sorted_tables:
        assert {c.name for c in table.columns} == columns[table.name], table.name


def test_the_store_names_its_revisions_as_alembic_does(open_store) -> None:  # type: ignore[no-untyped-def]
    """Whether a store needs migrating is read without Alembic (it is slow to load): the newest
    revision from the migrations' file names, the store's from its version table."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from tandem.people.database import _alembic_config

    store = open_store()
    db = Database(store.url)
    assert db.head_revision() == ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert db.revision() is None
    db.migrate("0003")
    with db.reading() as connection:
        assert db.revision() == MigrationContext.configure(connection).get_current_revision() == "0003"
    assert store.needs_migration()
    store.migrate()
    assert db.revision() == db.head_revision() and not store.needs_migration()
    db.dispose()


def test_every_catalog_field_has_its_column(store: PersonStore) -> None:
    _, columns = _inspect(store.url)
    assert columns["persons"] == {f.name for f in STANDARD_FIELDS}


def test_migrating_twice_changes_nothing_and_keeps_custom_columns(store: PersonStore, open_store) -> None:  # type: ignore[no-untyped-def]
    store.fields.ensure_custom("Seats__c", "integer")
    person = store.persons.add({"Seats__c": 4, "email": "m@example.com"}, origin=ChangeOrigin.CLI)
    before = _inspect(store.url)

    again = open_store()
    again.migrate()

    assert _inspect(store.url) == before
    assert again.persons.get(person.id).fields["Seats__c"] == 4
    assert not again.needs_migration()


def test_email_lookup_index_exists(store: PersonStore) -> None:
    engine = sa.create_engine(store.url)
    query = (
        "SELECT name FROM sqlite_master WHERE type = 'index'"
        if engine.dialect.name == "sqlite"
        else "SELECT indexname FROM pg_indexes WHERE tablename = 'persons'"
    )
    try:
        with engine.connect() as connection:
            names = set(connection.exec_driver_sql(query).scalars())
    finally:
        engine.dispose()
    assert "ix_persons_email_lower" in names


def test_database_urls_are_normalised() -> None:
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///tandem.db") == "sqlite:///tandem.db"
    with pytest.raises(InvalidInput):
        normalize_url("mysql://u@h/db")


def test_upgrade_moves_installation_create_markers_and_api_usage_out_of_watermarks(database_url: str) -> None:
    """A database at revision 0004 kept them as watermark rows under made-up keys."""
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    old = Database(database_url)
    old.migrate("0004")
    with old.transaction() as connection:
        connection.execute(sa.insert(watermarks), [
            {"object": "Contact", "stream": "pull", "value": '{"stamp": "2026-03-01T11:00:00Z"}', "set_at": at},
            {"object": "Tandem", "stream": "installation", "value": "0a1b2c3d4e5f6071", "set_at": at},
            {"object": "Person:7", "stream": "lead-create", "value": "attempted", "set_at": at + timedelta(hours=1)},
            {"object": "Salesforce", "stream": "api-usage", "value": "1234/100000", "set_at": at + timedelta(hours=2)},
        ])
    old.dispose()

    store = PersonStore(database_url)
    try:
        assert store.needs_migration()
        store.migrate()
        assert store.installation.id() == "0a1b2c3d4e5f6071"
        assert store.create_markers.get(7, "Lead") == at + timedelta(hours=1)
        assert store.api_usage.latest() == ApiUsageReading(used=1234, limit=100000, recorded_at=at + timedelta(hours=2))
        [cursor] = store.watermarks.all()
        assert (cursor.object, cursor.stream, cursor.set_at) == ("Contact", "pull", at)
    finally:
        store.close()


def test_downgrade_puts_them_back_into_watermarks(database_url: str) -> None:
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    store = PersonStore(database_url)
    try:
        store.migrate()
        store.watermarks.set("Lead", "pull", "{}", now=at)
        installation = store.installation.id(now=at)
        store.create_markers.mark(3, "Lead", now=at)
        store.api_usage.record(5, 100, now=at)
    finally:
        store.close()
    db = Database(database_url)
    try:
        db.downgrade("0004")
        with db.transaction() as connection:
            rows = {(r.object, r.stream): (r.value, r.set_at) for r in connection.execute(sa.select(watermarks))}
        assert rows == {
            ("Lead", "pull"): ("{}", at),
            ("Tandem", "installation"): (installation, at),
            ("Person:3", "lead-create"): ("attempted", at),
            ("Salesforce", "api-usage"): ("5/100", at),
        }
        db.migrate()  # and up again, unchanged
        with db.transaction() as connection:
            assert connection.execute(sa.select(sa.func.count()).select_from(watermarks)).scalar_one() == 1
    finally:
        db.dispose()


def _added_by_a_pull(store: PersonStore) -> int:
    """A person added as a pull adds one: linked, with its bases as one `person_bases` row."""
    [person] = store.persons.add_linked([(Checked({"lastName": "A"}), SalesforceLink("Contact", "003000000000001AAA"))],
                                        origin=ChangeOrigin.SALESFORCE)
    with store.transaction():
        store.bases.set_many({person: Checked({"lastName": "A", "title": "CEO"})}, new_persons=True)
    return person


def test_downgrade_turns_the_bases_persons_were_added_with_into_field_rows(database_url: str) -> None:
    store = PersonStore(database_url)
    try:
        store.migrate()
        person = _added_by_a_pull(store)
        store.bases.set(person, {"title": "CTO"})  # newer than the row it was added with
    finally:
        store.close()
    db = Database(database_url)
    try:
        db.downgrade("0011")
        with db.transaction() as connection:
            rows = {(r.field, r.value) for r in connection.execute(sa.select(field_bases))}
        assert rows == {("lastName", "A"), ("title", "CTO")}
        db.migrate()
    finally:
        db.dispose()
    store = PersonStore(database_url)
    try:
        assert store.bases.get(person) == {"lastName": "A", "title": "CTO"}
    finally:
        store.close()



def test_upgrade_names_the_delete_lead_activity_of_persons_deleted_before_it(database_url: str) -> None:
    store = PersonStore(database_url)
    try:
        store.migrate()
        kept, gone = store.persons.add_many([{"email": "kept@example.com"}, {"email": "gone@example.com"}],
                                            ChangeOrigin.MARKETING)
        store.persons.delete_many([gone], ChangeOrigin.API)
        [(_, deletion)] = store.tombstones.deletions(datetime(2000, 1, 1, tzinfo=UTC), FeedPosition(0, 0), 10)
    finally:
        store.close()
    db = Database(database_url)
    try:
        db.downgrade("0013")  # a tombstone as the releases before kept it: no column naming the activity
        db.migrate()
    finally:
        db.dispose()
    store = PersonStore(database_url)
    try:
        assert [a for _, a in store.tombstones.deletions(datetime(2000, 1, 1, tzinfo=UTC), FeedPosition(0, 0),
                                                         10)] == [deletion]
        assert deletion.person_id == gone and deletion.activity_type_id == 37
    finally:
        store.close()


def test_a_schema_a_newer_tandem_migrated_is_refused_naming_both_revisions(database_url: str) -> None:
    """Before, `tandem init` on it ended in Alembic's "Can't locate revision" traceback."""
    store = PersonStore(database_url)
    try:
        store.migrate()
        person = store.persons.add({"email": "kept@example.com"}, origin=ChangeOrigin.CLI)
    finally:
        store.close()
    db = Database(database_url)
    with db.transaction() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9001'")
    db.dispose()

    store = PersonStore(database_url)
    try:
        assert store.newer_revision() == "9001"
        with pytest.raises(StoreError, match=r"migrated by a newer Tandem \(schema revision 9001; this one knows "
                                             rf"up to {store.head_revision()}\)"):
            store.migrate()
        assert store.newer_revision() == "9001"
        assert store.persons.get(person.id).fields["email"] == "kept@example.com"
    finally:
        store.close()


def test_a_database_stamped_0012_by_the_old_lane_spend_migration_gets_person_bases(database_url: str) -> None:
    """Lane spend was revision 0012 for a while: a database migrated then is at 0012 with no
    `person_bases`, and pulls that added persons failed on the missing table after the upgrade."""
    old = Database(database_url)
    old.migrate("0012")
    with old.transaction() as connection:
        connection.exec_driver_sql("DROP TABLE person_bases")
    old.dispose()

    store = PersonStore(database_url)
    try:
        store.migrate()
        person = _added_by_a_pull(store)
        assert store.bases.get(person) == {"lastName": "A", "title": "CEO"}
    finally:
        store.close()
    assert "person_bases" in _inspect(database_url)[0]
