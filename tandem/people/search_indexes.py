"""The persons' search indexes (email, first and last name, each lower-cased), set aside while a
large pull fills the table and built once at its end.

Each person added to these indexes costs a B-tree insert at a place its name decides, anywhere in
the index; a first pull of a whole org adds them by the hundred thousand. Built once over the
loaded table they cost a fraction of that. The pull never searches by them: while they are set
aside, a search by email or name (the REST API, the UI, the CLI) reads the table instead, with the
same answers.

The definitions are kept in `set_aside_indexes`, written in the transaction that drops the indexes,
so a process killed in the middle of a load leaves them to the next cycle (or migration) to build.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from tandem.people.database import Database
from tandem.people.tables import set_aside_indexes

SEARCH_INDEXES = ("ix_persons_email_lower", "ix_persons_first_name_lower", "ix_persons_last_name_lower")


class SearchIndexes:
    def __init__(self, db: Database) -> None:
        self._db = db

    def set_aside(self, now: datetime | None = None) -> bool:
        """Drop the search indexes, keeping their definitions; False when none was there to drop."""
        with self._db.transaction() as connection:
            standing = _standing(connection)
            if not standing:
                return False
            at = now or datetime.now(UTC)
            connection.execute(sa.insert(set_aside_indexes), [
                {"name": name, "definition": definition, "set_aside_at": at} for name, definition in standing.items()])
            for name in standing:
                connection.exec_driver_sql(f"DROP INDEX {connection.dialect.identifier_preparer.quote(name)}")
        return True

    def aside(self) -> list[str]:
        """The names of the indexes set aside now."""
        with self._db.reading() as connection:
            return sorted(connection.execute(sa.select(set_aside_indexes.c.name)).scalars())

    def restore(self) -> list[str]:
        """Build the indexes that are set aside; returns their names (none, mostly: one quick read)."""
        if not self.aside():
            return []
        with self._db.transaction() as connection:
            kept = dict(connection.execute(  # locked: another process restoring at once waits, then finds none
                sa.select(set_aside_indexes.c.name, set_aside_indexes.c.definition).with_for_update()).all())
            standing = _standing(connection)
            for name, definition in kept.items():
                if name not in standing:
                    connection.exec_driver_sql(definition)
            connection.execute(sa.delete(set_aside_indexes))
        return sorted(kept)


def _standing(connection: sa.Connection) -> dict[str, str]:
    """The search indexes the database has now, by name, with the statement that makes each."""
    if connection.dialect.name == "sqlite":
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'persons'"
    else:
        query = ("SELECT indexname, indexdef FROM pg_indexes "
                 "WHERE schemaname = current_schema() AND tablename = 'persons'")
    return {name: definition for name, definition in connection.exec_driver_sql(query).all()
            if name in SEARCH_INDEXES and definition}
