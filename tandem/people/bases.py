"""The base of each linked person's synced field: the last value both sides agreed on.

On pull, a Salesforce value equal to the base is no change, which is how Tandem's own push reads
back without an echo (DESIGN, "Hard parts").
"""

from __future__ import annotations

import json
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from tandem.people.checked import Checked
from tandem.people.database import Database, insert_tuples, lookup_chunks, one_of
from tandem.people.field_catalog import FieldCatalog
from tandem.people.tables import field_bases, person_bases
from tandem.people.validation import to_json_value

_SQLITE_UPSERT_BASE = (
    "INSERT INTO field_bases (person_id, field, value, agreed_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (person_id, field) DO UPDATE SET value = excluded.value, agreed_at = excluded.agreed_at"
)


_POSTGRESQL_UPSERT_BASES = (
    "INSERT INTO field_bases (person_id, field, value, agreed_at) "
    "SELECT person_id, field, value, %s FROM unnest(%s::integer[], %s::text[], %s::json[]) AS v(person_id, field, value) "
    "ON CONFLICT (person_id, field) DO UPDATE SET value = excluded.value, agreed_at = excluded.agreed_at"
)
"""One statement for any number of bases: three arrays, so PostgreSQL plans it once."""


def _json_text(value: Any) -> str:
    """The JSON text of a value (dates and datetimes as ISO 8601), with a shortcut for the common
    values a pull stores by the million."""
    kind = type(value)
    if kind is str:
        return encode_basestring_ascii(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    return json.dumps(to_json_value(value))


_RAW_PERSON_BASES = sa.table("person_bases", sa.column("person_id"), sa.column("bases"), sa.column("agreed_at"))
"""`person_bases` without column types: its rows are handed to the driver already in stored form."""


def _date_text(value: Any) -> Any:
    """A date's or datetime's JSON form; any other value the encoder does not know is an error."""
    if isinstance(value, date):
        return to_json_value(value)
    raise TypeError(f"a value of type {type(value).__name__} is not JSON")


def _object_encoder() -> Callable[[Mapping[str, Any]], str]:
    """The JSON text of a person's values (the same texts `_json_text` makes).

    A pull encodes one object per new person: the C encoder is made once and kept, rather than
    made again by each `json.dumps`, which costs about as much as the encoding itself.
    """
    if c_make_encoder is None:
        return json.JSONEncoder(separators=(",", ":"), default=_date_text).encode
    encode = c_make_encoder(None, _date_text, encode_basestring_ascii, None, ":", ",", False, False, True)
    return lambda values: "".join(encode(values, 0))


_ENCODE_OBJECT = _object_encoder()


class Bases:
    def __init__(self, db: Database, fields: FieldCatalog) -> None:
        self._db = db
        self._fields = fields

    def set(self, person_id: int, values: Mapping[str, Any], now: datetime | None = None) -> None:
        """Record the values both sides now agree on for these fields of one person."""
        self.set_many({person_id: values}, now)

    def set_many(self, values: Mapping[int, Mapping[str, Any]], now: datetime | None = None, *,
                 new_persons: bool = False) -> None:
        """`set` for many persons in one upsert.

        A pull sets every synced field of every person it reads (tens of rows a person), so the
        rows go straight to the driver, in the forms the table's types would store. `Checked`
        values are stored as they are. With `new_persons` (persons added in this transaction, who
        have no base yet) each person's bases are one `person_bases` row, and its empty values
        are left out: no stored base already means the agreed value was empty. A base set later
        is a `field_bases` row, which takes the field's place from then on.
        """
        typed = {person_id: self._checked(fields) for person_id, fields in values.items()}
        if not typed:
            return
        agreed_at = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
        with self._db.transaction() as connection:
            sqlite = connection.dialect.name == "sqlite"
            stamp: Any = agreed_at.isoformat(sep=" ", timespec="microseconds") if sqlite else agreed_at
            if new_persons:
                kept = [(person_id, agreed) for person_id, fields in typed.items()
                        if (agreed := {name: value for name, value in fields.items() if value is not None})]
                insert_tuples(connection, _RAW_PERSON_BASES, _RAW_PERSON_BASES.c.keys(),
                              [(person_id, _ENCODE_OBJECT(agreed), stamp) for person_id, agreed in kept])
                return
            rows = [(person_id, name, _json_text(value))
                    for person_id, fields in typed.items() for name, value in fields.items()]
            if not rows:
                return
            if sqlite:
                connection.exec_driver_sql(_SQLITE_UPSERT_BASE, [(*row, stamp) for row in rows])
            else:
                connection.exec_driver_sql(_POSTGRESQL_UPSERT_BASES, (
                    stamp, [row[0] for row in rows], [row[1] for row in rows], [row[2] for row in rows]))

    def _checked(self, fields: Mapping[str, Any]) -> Mapping[str, Any]:
        """The values in their fields' types: `Checked` ones as they are, others converted (None kept)."""
        if type(fields) is Checked:
            return fields
        coerce = self._fields.coerce
        return {name: None if value is None else coerce(name, value) for name, value in fields.items()}

    def get(self, person_id: int) -> dict[str, Any]:
        """The agreed value per field of one person (fields never agreed on are absent)."""
        return self.for_persons([person_id]).get(person_id, {})

    def for_persons(self, person_ids: Sequence[int], fields: Collection[str] | None = None) -> dict[int, dict[str, Any]]:
        """`get` for many persons (only `fields`' bases when given); persons with no agreed field are absent.

        A person's bases are those it was added with (`person_bases`), each replaced by the
        field's own row once there is one (`field_bases`)."""
        found: dict[int, dict[str, Any]] = {}
        if fields is not None and not fields:
            return found
        typed = self._fields.typed
        with self._db.reading() as connection:
            for chunk in lookup_chunks(connection, person_ids):
                first = sa.select(person_bases.c.person_id, person_bases.c.bases).where(
                    one_of(connection, person_bases.c.person_id, chunk))
                for person_id, text in connection.execute(first):
                    added = {name: typed(name, value) for name, value in json.loads(text).items()
                             if fields is None or name in fields}
                    if added:
                        found[person_id] = added
                query = sa.select(field_bases).where(one_of(connection, field_bases.c.person_id, chunk))
                if fields is not None:
                    query = query.where(one_of(connection, field_bases.c.field, sorted(fields)))
                for row in connection.execute(query):
                    found.setdefault(row.person_id, {})[row.field] = typed(row.field, row.value)
        return found

    def clear(self, person_id: int) -> None:
        """Forget the agreement, e.g. when the person's Salesforce link changes."""
        self.clear_many([person_id])

    def clear_many(self, person_ids: Sequence[int]) -> None:
        """`clear` for many persons."""
        with self._db.transaction() as connection:
            for chunk in lookup_chunks(connection, person_ids):
                connection.execute(sa.delete(field_bases).where(one_of(connection, field_bases.c.person_id, chunk)))
                connection.execute(sa.delete(person_bases).where(one_of(connection, person_bases.c.person_id, chunk)))
