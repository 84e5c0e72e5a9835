"""The person field catalog: every field a person has, under its Marketo REST name, with its type.

Standard fields are fixed here (their columns come from the migrations); custom fields are added at
run time when the sync discovers them in Salesforce and are recorded in the `person_fields` table.
Field ids are what a Change Data Value activity carries as its primary attribute id, so the ids of
standard fields never change: add new fields at the end with a new id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from tandem.errors import InvalidInput


class FieldType(StrEnum):
    """Marketo's person data types (MARKETO-API §8) that Tandem stores."""

    STRING = "string"
    TEXT = "text"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    INTEGER = "integer"
    FLOAT = "float"
    CURRENCY = "currency"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    PICKLIST = "picklist"


TEXT_LIKE = frozenset(
    {FieldType.STRING, FieldType.EMAIL, FieldType.PHONE, FieldType.URL, FieldType.PICKLIST}
)
DEFAULT_STRING_LENGTH = 255
CUSTOM_FIELD_ID_OFFSET = 10_000


class FieldAccess(StrEnum):
    """Who may write a field: users and the sync, only the sync (Salesforce link), or nobody."""

    EDITABLE = "editable"
    SYNC_ONLY = "sync-only"
    SYSTEM = "system"


@dataclass(frozen=True)
class PersonField:
    id: int
    name: str
    type: FieldType
    label: str
    length: int | None = None
    access: FieldAccess = FieldAccess.EDITABLE
    custom: bool = False
    picklist_values: tuple[str, ...] = field(default=())

    @property
    def max_length(self) -> int | None:
        """The longest value accepted; `text` fields are unbounded unless a length was given."""
        if self.length is not None:
            return self.length
        return DEFAULT_STRING_LENGTH if self.type in TEXT_LIKE else None

    @property
    def read_only(self) -> bool:
        return self.access is not FieldAccess.EDITABLE


def _editable(id: int, name: str, type: FieldType, label: str) -> PersonField:
    length = DEFAULT_STRING_LENGTH if type in TEXT_LIKE else None
    return PersonField(id=id, name=name, type=type, label=label, length=length)


def _link(id: int, name: str, type: FieldType, label: str, length: int | None = None) -> PersonField:
    return PersonField(id=id, name=name, type=type, label=label, length=length, access=FieldAccess.SYNC_ONLY)


S, T, E, P, U = FieldType.STRING, FieldType.TEXT, FieldType.EMAIL, FieldType.PHONE, FieldType.URL

SYSTEM_FIELDS: tuple[PersonField, ...] = (
    PersonField(1, "id", FieldType.INTEGER, "Id", access=FieldAccess.SYSTEM),
    PersonField(2, "createdAt", FieldType.DATETIME, "Created At", access=FieldAccess.SYSTEM),
    PersonField(3, "updatedAt", FieldType.DATETIME, "Updated At", access=FieldAccess.SYSTEM),
)

EDITABLE_FIELDS: tuple[PersonField, ...] = (
    _editable(10, "email", E, "Email Address"),
    _editable(11, "salutation", S, "Salutation"),
    _editable(12, "firstName", S, "First Name"),
    _editable(13, "lastName", S, "Last Name"),
    _editable(14, "title", S, "Job Title"),
    _editable(15, "phone", P, "Phone Number"),
    _editable(16, "mobilePhone", P, "Mobile Phone Number"),
    _editable(17, "fax", P, "Fax Number"),
    _editable(18, "dateOfBirth", FieldType.DATE, "Date of Birth"),
    _editable(19, "unsubscribed", FieldType.BOOLEAN, "Unsubscribed"),
    _editable(20, "company", S, "Company Name"),
    _editable(21, "address", T, "Address"),
    _editable(22, "city", S, "City"),
    _editable(23, "state", S, "State"),
    _editable(24, "postalCode", S, "Postal Code"),
    _editable(25, "country", S, "Country"),
    _editable(26, "website", U, "Website"),
    _editable(27, "industry", S, "Industry"),
    _editable(28, "annualRevenue", FieldType.CURRENCY, "Annual Revenue"),
    _editable(29, "numberOfEmployees", FieldType.INTEGER, "Num Employees"),
    _editable(30, "rating", S, "Lead Rating"),
    _editable(31, "leadSource", S, "Lead Source"),
    _editable(32, "leadStatus", S, "Lead Status"),
    _editable(33, "leadScore", FieldType.INTEGER, "Lead Score"),
    _editable(34, "personNotes", T, "Person Notes"),
    _editable(35, "companyNotes", T, "Company Notes"),
    _editable(36, "mainPhone", P, "Main Phone"),
    _editable(37, "sicCode", S, "SIC Code"),
    _editable(38, "site", S, "Site"),
    _editable(39, "billingStreet", T, "Billing Address"),
    _editable(40, "billingCity", S, "Billing City"),
    _editable(41, "billingState", S, "Billing State"),
    _editable(42, "billingPostalCode", S, "Billing Postal Code"),
    _editable(43, "billingCountry", S, "Billing Country"),
    _editable(44, "companyType", S, "Company Type"),
)

LINK_FIELDS: tuple[PersonField, ...] = (
    _link(60, "sfdcType", S, "SFDC Type", 7),
    _link(61, "sfdcId", S, "SFDC Id", 18),
    _link(62, "sfdcLeadId", S, "SFDC Lead ID", 18),
    _link(63, "sfdcContactId", S, "SFDC Contact ID", 18),
    _link(64, "sfdcAccountId", S, "SFDC Account ID", 18),
    _link(65, "sfdcIsDeleted", FieldType.BOOLEAN, "SFDC Is Deleted"),
    _link(66, "sfdcCreatedDate", FieldType.DATETIME, "SFDC Created Date"),
)

STANDARD_FIELDS: tuple[PersonField, ...] = SYSTEM_FIELDS + EDITABLE_FIELDS + LINK_FIELDS
STANDARD_BY_NAME: dict[str, PersonField] = {f.name: f for f in STANDARD_FIELDS}
LINK_FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in LINK_FIELDS)

SFDC_TYPES = ("Lead", "Contact")

# Salesforce custom field API names: a letter, then letters, digits and single underscores, then `__c`.
_CUSTOM_NAME = re.compile(r"^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*__c$")
_CUSTOM_NAME_MAX = 43  # 40 characters plus the `__c` suffix


def check_custom_field_name(name: str) -> None:
    """Reject names Salesforce could not have produced, so that nothing odd reaches the DDL."""
    if not _CUSTOM_NAME.match(name) or len(name) > _CUSTOM_NAME_MAX:
        raise InvalidInput(name, "not a Salesforce custom field name (expected e.g. Favorite_Color__c)")
    if name in STANDARD_BY_NAME:
        raise InvalidInput(name, "clashes with a standard person field")
