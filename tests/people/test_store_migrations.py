"""Migrations build the schema from nothing, are idempotent, and match the field catalog."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tandem.errors import InvalidInput
from tandem.people.database import normalize_url
from tandem.people.fields import STANDARD_FIELDS
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore
from tandem.people.tables import metadata

TABLES = {"persons", "person_fields", "activities", "pending_changes", "field_bases", "watermarks",
          "cycle_steps", "sync_errors", "leases", "person_tombstones", "installation", "create_markers",
          "api_usage", "alembic_version"}


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
    for table in metadata.sorted_tables:
        assert {c.name for c in table.columns} == columns[table.name], table.name


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
