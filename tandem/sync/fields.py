"""Which Salesforce fields sync, in which direction, and why: the field catalog's decisions.

Pure: it reads describe results taken as the sync user (so fields hidden by field-level security
are simply absent) and returns one `FieldRule` per field. A field syncs when it is in the default
mapping or is custom; it syncs both ways when the sync user may update it, else into Tandem only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

LINK_FIELD = "Tandem_Person_Id__c"


class Direction(str, Enum):
    BOTH = "both"
    PULL = "pull"
    PUSH = "push"
    """Tandem to Salesforce only (the policy's to-salesforce-only): never selected by a pull."""
    NONE = "none"


@dataclass(frozen=True)
class FieldRule:
    object_name: str
    sf_field: str
    person_field: str | None
    direction: Direction
    reason: str
    sf_type: str | None
    custom: bool = False

    @property
    def syncs(self) -> bool:
        return self.direction is not Direction.NONE


_SHARED = {
    "Email": "email",
    "Fax": "fax",
    "FirstName": "firstName",
    "LastName": "lastName",
    "HasOptedOutOfEmail": "unsubscribed",
    "LeadSource": "leadSource",
    "MobilePhone": "mobilePhone",
    "Phone": "phone",
    "Salutation": "salutation",
    "Title": "title",
    "Description": "personNotes",
    "CreatedDate": "sfdcCreatedDate",
    "IsDeleted": "sfdcIsDeleted",
}

DEFAULT_MAPPING: Mapping[str, Mapping[str, str]] = {
    "Lead": {
        **_SHARED,
        "AnnualRevenue": "annualRevenue",
        "City": "city",
        "Company": "company",
        "ConvertedDate": "sfdcConvertedDate",
        "Country": "country",
        "Industry": "industry",
        "IsConverted": "sfdcIsConverted",
        "NumberOfEmployees": "numberOfEmployees",
        "PostalCode": "postalCode",
        "Rating": "rating",
        "State": "state",
        "Status": "leadStatus",
        "Street": "address",
        "Website": "website",
    },
    "Contact": {
        **_SHARED,
        "Birthdate": "dateOfBirth",
        "MailingCity": "city",
        "MailingCountry": "country",
        "MailingPostalCode": "postalCode",
        "MailingState": "state",
        "MailingStreet": "address",
    },
    "Account": {
        "AnnualRevenue": "annualRevenue",
        "BillingStreet": "billingStreet",
        "BillingCity": "billingCity",
        "BillingState": "billingState",
        "BillingPostalCode": "billingPostalCode",
        "BillingCountry": "billingCountry",
        "Description": "companyNotes",
        "Industry": "industry",
        "Name": "company",
        "NumberOfEmployees": "numberOfEmployees",
        "Phone": "mainPhone",
        "Sic": "sicCode",
        "Site": "site",
        "Type": "companyType",
        "Website": "website",
    },
}

# Objects whose fields only ever flow into Tandem (Accounts feed a contact's company fields).
PULL_ONLY_OBJECTS = frozenset({"Account"})


def _case_insensitive(mapping: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    return {name.lower(): (name, person) for name, person in mapping.items()}


def decide(object_name: str, described_fields: Iterable[Mapping[str, Any]]) -> list[FieldRule]:
    """One rule per field in the describe, plus a rule for each mapped field the describe lacks."""
    mapping = _case_insensitive(DEFAULT_MAPPING.get(object_name, {}))
    rules: list[FieldRule] = []
    seen: set[str] = set()
    for field in described_fields:
        name = str(field["name"])
        seen.add(name.lower())
        rules.append(_rule_for(object_name, field, mapping.get(name.lower())))
    for key, (name, person_field) in mapping.items():
        if key not in seen:
            rules.append(
                FieldRule(object_name, name, person_field, Direction.NONE, "hidden from sync user", None)
            )
    return rules


def _rule_for(object_name: str, field: Mapping[str, Any], mapped: tuple[str, str] | None) -> FieldRule:
    name = str(field["name"])
    sf_type = field.get("type")
    custom = bool(field.get("custom")) or name.endswith("__c")

    def rule(person_field: str | None, direction: Direction, reason: str) -> FieldRule:
        return FieldRule(object_name, name, person_field, direction, reason, sf_type, custom)

    if name.lower() == LINK_FIELD.lower():
        return rule(None, Direction.NONE, "link field: holds Tandem's person id")
    if mapped is None and not custom:
        return rule(None, Direction.NONE, "not in default mapping")
    person_field = mapped[1] if mapped else name
    if object_name in PULL_ONLY_OBJECTS:
        return rule(person_field, Direction.PULL, f"{object_name} fields: pull only")
    if field.get("calculated"):
        return rule(person_field, Direction.PULL, "formula: pull only")
    if not field.get("updateable"):
        return rule(person_field, Direction.PULL, "read-only: pull only")
    origin = "custom field" if custom and not mapped else "default mapping"
    return rule(person_field, Direction.BOTH, f"{origin}: both ways")
