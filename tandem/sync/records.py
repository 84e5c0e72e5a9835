"""Pulled Salesforce rows, parsed once where they enter the engine into typed records.

A row of the pull query becomes a `PulledRecord`: 18-character Ids, the lifecycle flags the fates
need, a parsed `SystemModstamp`, and every synced value already in its person field's type. A value
that does not fit its person field is kept as a `DroppedValue` (logged by the planner) instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, NamedTuple

from tandem.errors import InvalidInput
from tandem.people.fields import FieldType, PersonField
from tandem.people.checked import Checked
from tandem.people.validation import converter
from tandem.people.models import SalesforceLink
from tandem.salesforce.ids import to_18
from tandem.sync.fields import LINK_FIELD, FieldRule
from tandem.sync.watermark import parse_stamp

LINK_PERSON_FIELDS = frozenset({"sfdcCreatedDate", "sfdcIsDeleted", "sfdcConvertedDate", "sfdcIsConverted"})
"""Person fields the link carries: written from the record's flags, never as pulled values."""


@dataclass(frozen=True, slots=True)
class DroppedValue:
    """A pulled value its person field cannot hold."""

    person_field: str
    raw: Any
    reason: str


class PulledRecord(NamedTuple):
    """One row of the pull query, typed (a named tuple: a pull makes one for every row it reads)."""

    object_name: str
    id: str
    stamp: datetime
    values: Mapping[str, Any] = MappingProxyType({})
    """Person field → value in that field's type, already checked (`Checked`, as the parser makes it)."""
    dropped: tuple[DroppedValue, ...] = ()
    is_deleted: bool = False
    created_date: datetime | None = None
    master_id: str | None = None
    account_id: str | None = None
    is_converted: bool = False
    converted_contact_id: str | None = None
    converted_account_id: str | None = None
    converted_opportunity_id: str | None = None
    tandem_person_id: str | None = None
    """Tandem's id for the person the record was made for (`Tandem_Person_Id__c`), where the org has it."""


def _id(value: Any) -> str | None:
    return to_18(value) if value else None


class RecordParser:
    """Turns the pull query's rows of one object into `PulledRecord`s.

    `rules` are the object's syncing rules; a Contact's also take the Account's rules, read from
    the row's `Account` relationship. `person_field` names the person field a rule writes. Each
    value is converted and checked once, here, by a converter chosen per field when the parser is
    built; what the record carries is written as it is (`Checked`), never checked again.
    """

    def __init__(self, object_name: str, rules: Sequence[FieldRule], account_rules: Sequence[FieldRule],
                 person_field: Callable[[str], PersonField]) -> None:
        self.object_name = object_name
        self._rules = [r for r in rules if r.person_field and r.person_field not in LINK_PERSON_FIELDS]
        self._account_rules = [r for r in account_rules if r.person_field and r.person_field not in LINK_PERSON_FIELDS]
        self._fields = {r.person_field: person_field(r.person_field)
                        for r in (*self._rules, *self._account_rules) if r.person_field}
        from_account = {r.person_field for r in self._account_rules}  # a field both write is the Account's
        self._own = _readers([r for r in self._rules if r.person_field not in from_account], self._fields)
        self._account = _readers(self._account_rules, self._fields)
        self._blank = dict.fromkeys(r.person_field for r in (*self._rules, *self._account_rules))
        self._created = converter(person_field("sfdcCreatedDate"))

    def parse(self, row: Mapping[str, Any]) -> PulledRecord:
        values = Checked(self._blank)
        dropped: list[DroppedValue] = []
        account = row.get("Account") if self._account[0] else None  # a contact without one reads none of its fields
        readers = ((self._own, row), (self._account, account)) if account else ((self._own, row),)
        for (sf_fields, names, converts), source in readers:
            for name, convert, raw in zip(names, converts, map(source.get, sf_fields)):
                if raw is not None:
                    try:
                        values[name] = convert(raw)
                    except InvalidInput as error:
                        del values[name]
                        dropped.append(DroppedValue(name, raw, error.reason))
        get = row.get
        created = get("CreatedDate")
        return PulledRecord(  # in field order: a pull makes millions
            self.object_name,
            to_18(row["Id"]),
            parse_stamp(row["SystemModstamp"]),
            values,
            tuple(dropped),
            bool(get("IsDeleted")),
            self._created(_utc_offset(created)) if created else None,
            _id(get("MasterRecordId")),
            _id(get("AccountId")),
            bool(get("IsConverted")),
            _id(get("ConvertedContactId")),
            _id(get("ConvertedAccountId")),
            _id(get("ConvertedOpportunityId")),
            get(LINK_FIELD) or None,
        )


def _readers(rules: Sequence[FieldRule], fields: Mapping[str, PersonField]
             ) -> tuple[tuple[str, ...], tuple[str, ...], tuple[Callable[[Any], Any], ...]]:
    """The rules' Salesforce fields, person fields and converters, as three parallel tuples."""
    read = [_reader(r, fields) for r in rules]
    return tuple(r[0] for r in read), tuple(r[1] for r in read), tuple(r[2] for r in read)


def _reader(rule: FieldRule, fields: Mapping[str, PersonField]) -> tuple[str, str, Callable[[Any], Any]]:
    """(Salesforce field, person field, converter) for one rule."""
    assert rule.person_field is not None
    field = fields[rule.person_field]
    convert = converter(field)
    if field.type is FieldType.DATETIME:
        return rule.sf_field, rule.person_field, lambda raw: convert(_utc_offset(raw))
    return rule.sf_field, rule.person_field, convert


def _utc_offset(raw: Any) -> Any:
    """Salesforce writes UTC as `+0000`; ISO 8601 as Python reads it wants `+00:00`."""
    return raw[:-5] + "+00:00" if isinstance(raw, str) and raw.endswith("+0000") else raw


def unique_by_id(records: Sequence[PulledRecord]) -> list[PulledRecord]:
    """A page's records with each Id once: its last row, which Salesforce stamped latest (a record
    changed while a pull read it can appear twice)."""
    last = {record.id: record for record in records}
    if len(last) == len(records):
        return list(records)
    return [record for record in records if last[record.id] is record]


def link_for(record: PulledRecord, previous: SalesforceLink | None = None) -> SalesforceLink:
    """The person's Salesforce link as this record shows it (keeping what the record does not say)."""
    link = previous or _NO_LINK
    is_lead, is_contact = record.object_name == "Lead", record.object_name == "Contact"
    return SalesforceLink(
        sfdc_type=record.object_name,
        sfdc_id=record.id,
        sfdc_lead_id=record.id if is_lead else link.sfdc_lead_id,
        sfdc_contact_id=record.id if is_contact else link.sfdc_contact_id,
        sfdc_account_id=record.account_id if is_contact else link.sfdc_account_id,
        sfdc_is_deleted=record.is_deleted,
        sfdc_created_date=record.created_date or link.sfdc_created_date,
    )


_NO_LINK = SalesforceLink()
