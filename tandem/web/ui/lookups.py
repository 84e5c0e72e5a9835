"""The person or sync error a UI path names by id. An id outside the ids the store hands out (the
REST API's range) names nothing: it is answered as a missing one, never sent to the database,
which could not hold it (SQLite's and PostgreSQL's integers end long before Python's)."""

from __future__ import annotations

from tandem.errors import NotFound
from tandem.people.models import Person
from tandem.people.store import PersonStore
from tandem.people.sync_history import ListedError
from tandem.web.parameters import MAX_ID


def person_id(value: int) -> int:
    """`value`, or NotFound as the store says it when no person could have that id."""
    if not 0 < value <= MAX_ID:
        raise NotFound(f"person {value} does not exist")
    return value


def person(store: PersonStore, value: int) -> Person:
    return store.persons.get(person_id(value))


def merged_into(store: PersonStore, value: int) -> int | None:
    """The live person an id was merged into (None for an id that names no merged person)."""
    return store.tombstones.merged_into(value) if 0 < value <= MAX_ID else None


def sync_error(store: PersonStore, error_id: int) -> ListedError | None:
    return store.history.error(error_id) if 0 < error_id <= MAX_ID else None
