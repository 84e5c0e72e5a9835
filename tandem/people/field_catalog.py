"""The fields a person has in this database: the standard ones plus custom fields added at run time.

The catalog also holds the `persons` table as this database has it (custom fields are real
columns), so every component reads and writes the same columns, and it turns input into typed
values before anything is written. Fields and table change together, as one snapshot, and only
when the custom fields really changed: a statement built from two different `persons` tables
reads `FROM persons, persons` ("ambiguous column name"), so each statement takes the table once.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tandem.errors import InvalidInput
from tandem.people.checked import Checked
from tandem.people.custom_fields import (
    define_custom_field,
    load_custom_fields,
    store_custom_field,
    update_custom_field,
)
from tandem.people.database import Database
from tandem.people.fields import (
    EDITABLE_FIELDS,
    LINK_FIELDS,
    SFDC_TYPES,
    STANDARD_BY_NAME,
    FieldAccess,
    PersonField,
)
from tandem.people.models import Person, SalesforceLink
from tandem.people.tables import build_persons_table, person_fields
from tandem.people.validation import TEXT_TYPES, coerce, converter

_EDITABLE_NAMES = tuple(f.name for f in EDITABLE_FIELDS)
_LINK_CONVERTERS = {f.name: converter(f) for f in LINK_FIELDS}
LINK_NAMES = tuple(SalesforceLink().as_fields())
"""The link's fields in `SalesforceLink`'s order."""


_LINK_TYPES = frozenset((*SFDC_TYPES, None))


def _link_id(name: str, value: Any) -> Any:
    """A link's Id as its field stores it. An 18-character text of ASCII letters and digits (what
    a Salesforce Id is) is what the field's converter takes as it is: a pull writes millions."""
    if value is None or type(value) is str and len(value) == 18 and value.isascii() and value.isalnum():
        return value
    return _LINK_CONVERTERS[name](value)


@dataclass(frozen=True)
class _Snapshot:
    """The custom fields and the `persons` table that has their columns, swapped in one assignment."""

    custom: dict[str, PersonField]
    table: sa.Table
    names: tuple[str, ...]
    """The fields a `Person` carries: the editable standard ones, then the custom ones."""
    editable_sets: set[tuple[str, ...]]
    """Field names of `Checked` values already known to be editable fields of this snapshot."""

    @classmethod
    def of(cls, custom: list[PersonField]) -> _Snapshot:
        return cls({f.name: f for f in custom}, build_persons_table(custom),
                   _EDITABLE_NAMES + tuple(f.name for f in custom), set())


class FieldCatalog:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._now = _Snapshot.of([])
        self.refresh()

    @property
    def table(self) -> sa.Table:
        """The `persons` table: standard columns plus this database's custom ones (read it once
        per statement: a refresh may put a new one in its place)."""
        return self._now.table

    def refresh(self) -> None:
        """Re-read the custom fields (another process may have added some, or a rollback removed one)."""
        with self._db.reading() as connection:
            migrated = sa.inspect(connection).has_table(person_fields.name)
            custom = load_custom_fields(connection) if migrated else []
        self._use(custom)

    def _use(self, custom: list[PersonField]) -> None:
        if list(self._now.custom.values()) != custom:
            self._now = _Snapshot.of(custom)

    def all(self) -> list[PersonField]:
        """Every person field: system, standard, Salesforce link, then custom fields."""
        return list(STANDARD_BY_NAME.values()) + list(self._now.custom.values())

    def get(self, name: str) -> PersonField:
        found = STANDARD_BY_NAME.get(name) or self._now.custom.get(name)
        if found is None:
            self.refresh()
            found = self._now.custom.get(name)
        if found is None:
            raise InvalidInput(name, "unknown field" + self._suggestion(name))
        return found

    def _suggestion(self, name: str) -> str:
        """"; did you mean title?" for `Title` or `titel`, or nothing when no field is close."""
        names = [f.name for f in self.all()]
        same = [n for n in names if n.lower() == name.lower()]
        close = same or difflib.get_close_matches(name, names, n=1, cutoff=0.75)
        return f"; did you mean {close[0]}?" if close else ""

    def ensure_custom(
        self,
        name: str,
        type: str,
        length: int | None = None,
        label: str | None = None,
        picklist_values: Sequence[str] | None = None,
        now: datetime | None = None,
    ) -> PersonField:
        """Add a custom field (a real column) or bring its label, length and picklist up to date."""
        wanted = define_custom_field(name, type, length, label, picklist_values)
        try:
            with self._db.transaction() as connection:
                stored = {f.name: f for f in load_custom_fields(connection)}
                if name in stored:
                    result = update_custom_field(connection, stored[name], wanted)
                else:
                    result = store_custom_field(connection, wanted, now or datetime.now(UTC))
                stored[name] = result
        except IntegrityError:  # another process added it first
            self.refresh()
            if name not in self._now.custom:
                raise
            return self.ensure_custom(name, type, length, label, picklist_values, now)
        self._use(list(stored.values()))
        return result

    # -- values -----------------------------------------------------------------------------

    def editable_values(self, changes: Mapping[str, Any], position: int = 0, total: int = 1) -> dict[str, Any]:
        """Typed values for user-writable fields; any bad name or value raises before a write.

        In a batch (`total` > 1) the error names the record's place in it. `Checked` values are
        taken as they are once their names are known to be editable fields.
        """
        if isinstance(changes, Checked):
            names = tuple(changes)
            known = self._now.editable_sets
            if names not in known:
                for name in names:
                    if self.get(name).access is not FieldAccess.EDITABLE:
                        raise InvalidInput(name, "is read-only")
                known.add(names)
            return changes
        result = {}
        for name, raw in changes.items():
            field = self.get(name)
            try:
                if field.access is not FieldAccess.EDITABLE:
                    raise InvalidInput(name, "is read-only")
                result[name] = coerce(field, raw)
            except InvalidInput as error:
                if total > 1:
                    raise InvalidInput(name, f"{error.reason} (record {position + 1})") from None
                raise
        return result

    def link_values(self, link: SalesforceLink) -> dict[str, Any]:
        """The link's typed values under their field names (`sfdcType`, `sfdcId`, ...)."""
        return dict(zip(LINK_NAMES, self.link_row(link), strict=True))

    def link_row(self, link: SalesforceLink) -> tuple[Any, ...]:
        """The link's typed values in the order of `LINK_NAMES`."""
        if link.sfdc_type not in _LINK_TYPES:
            raise InvalidInput("sfdcType", f"expected Lead, Contact or empty, got {link.sfdc_type!r}")
        deleted, created = link.sfdc_is_deleted, link.sfdc_created_date
        return (
            link.sfdc_type,
            _link_id("sfdcId", link.sfdc_id),
            _link_id("sfdcLeadId", link.sfdc_lead_id),
            _link_id("sfdcContactId", link.sfdc_contact_id),
            _link_id("sfdcAccountId", link.sfdc_account_id),
            deleted if type(deleted) is bool else bool(_LINK_CONVERTERS["sfdcIsDeleted"](deleted)),
            created if created is None or type(created) is datetime and created.tzinfo is UTC
            else _LINK_CONVERTERS["sfdcCreatedDate"](created),
        )

    def coerce(self, name: str, raw: Any) -> Any:
        return coerce(self.get(name), raw)

    def typed(self, name: str, stored: Any) -> Any:
        """A stored JSON value back in its field's type; kept as is if the field is gone or the
        value no longer fits it."""
        try:
            field = self.get(name)
            if type(stored) is str and field.type in TEXT_TYPES:
                return stored or None  # what `coerce` gives text that fits, and what is kept otherwise
            return coerce(field, stored)
        except InvalidInput:
            return stored

    def persons(self, result: sa.Result[Any]) -> list[Person]:
        """The rows of a query of the `persons` table as `Person`s, each value taken by its place
        in the row (worked out once for the whole result: a push reads thousands at a time)."""
        keys = list(result.keys())
        at = {name: i for i, name in enumerate(keys)}
        names: Sequence[str] = self._now.names
        if any(name not in at for name in names):  # read with the table as it was before a refresh
            names = [name for name in keys if name in _EDITABLE_NAMES or name not in STANDARD_BY_NAME]
        values = itemgetter(*(at[name] for name in names))
        link = itemgetter(*(at[name] for name in LINK_NAMES))
        person_id, created_at, updated_at = at["id"], at["createdAt"], at["updatedAt"]
        found = []
        for row in result:
            sfdc_type, sfdc_id, lead_id, contact_id, account_id, deleted, created = link(row)
            found.append(Person(
                id=row[person_id],
                fields=dict(zip(names, values(row))),
                link=SalesforceLink(sfdc_type, sfdc_id, lead_id, contact_id, account_id, bool(deleted), created),
                created_at=row[created_at],
                updated_at=row[updated_at],
            ))
        return found
