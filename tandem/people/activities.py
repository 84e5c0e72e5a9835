"""Activity types: Marketo's standard ids for what Tandem logs, plus Tandem's own sync outcomes.

One table of typed constants, so that the store checks attribute names on write and a REST layer
can serve `activities/types.json` from the same definitions. Tandem's own types use ids from
100000 up, the range Marketo leaves to custom activity types.
"""

from __future__ import annotations

from dataclasses import dataclass

from tandem.errors import InvalidInput


@dataclass(frozen=True)
class ActivityAttribute:
    name: str
    data_type: str

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "dataType": self.data_type}


@dataclass(frozen=True)
class ActivityType:
    id: int
    name: str
    description: str
    primary_attribute: ActivityAttribute
    attributes: tuple[ActivityAttribute, ...]

    @property
    def attribute_names(self) -> frozenset[str]:
        return frozenset(a.name for a in self.attributes)

    def as_json(self) -> dict[str, object]:
        """The `activities/types.json` shape (MARKETO-API §6.1)."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "primaryAttribute": self.primary_attribute.as_json(),
            "attributes": [a.as_json() for a in self.attributes],
        }


def _attrs(*pairs: tuple[str, str]) -> tuple[ActivityAttribute, ...]:
    return tuple(ActivityAttribute(name, data_type) for name, data_type in pairs)


_LEAD = ActivityAttribute("Lead ID", "integer")
_FIELD = ActivityAttribute("Field Name", "string")
_SYNC_ATTRIBUTES = _attrs(
    ("Field", "string"),
    ("Salesforce Type", "string"),
    ("Salesforce Id", "string"),
    ("Source", "string"),
    ("Reason", "string"),
    ("Rule", "string"),
)

NEW_LEAD = ActivityType(
    12, "New Lead", "New person",
    _LEAD, _attrs(("Created Date", "date"), ("Source Type", "string"), ("Lead Source", "string"),
                  ("SFDC Type", "string")),
)
CHANGE_DATA_VALUE = ActivityType(
    13, "Change Data Value", "Changed attribute value for a person",
    _FIELD, _attrs(("Field", "string"), ("Old Value", "string"), ("New Value", "string"),
                   ("Source", "string"), ("Reason", "string")),
)
SYNC_LEAD_TO_SFDC = ActivityType(
    19, "Sync Lead to SFDC", "Person created or updated in Salesforce",
    ActivityAttribute("SFDC Id", "string"),
    _attrs(("Salesforce Type", "string"), ("Operation", "string"), ("Source", "string"),
           ("Reason", "string")),
)
CONVERT_LEAD = ActivityType(
    21, "Convert Lead", "Lead converted to a contact in Salesforce",
    ActivityAttribute("SFDC Contact Id", "string"),
    _attrs(("SFDC Lead Id", "string"), ("SFDC Account Id", "string"),
           ("SFDC Opportunity Id", "string"), ("Converted Status", "string"), ("Source", "string")),
)
SFDC_MERGE_LEADS = ActivityType(
    31, "SFDC Merge Leads", "Persons merged because their records were merged in Salesforce",
    _LEAD, _attrs(("Merged Lead IDs", "string"), ("Master SFDC Id", "string"),
                  ("Merged SFDC Ids", "string")),
)
MERGE_LEADS = ActivityType(
    32, "Merge Leads", "Persons merged in Tandem",
    _LEAD, _attrs(("Merged Lead IDs", "string"), ("Merge Source", "string"), ("Source", "string")),
)
DELETE_LEAD = ActivityType(
    37, "Delete Lead", "Person deleted",
    _LEAD, _attrs(("Remove from CRM", "boolean"), ("Source", "string")),
)
PUSH_LEAD = ActivityType(
    145, "Push Lead to Marketo", "Person created or updated by a push through the API",
    ActivityAttribute("Program Name", "string"), _attrs(("Source", "string"), ("Reason", "string")),
)
SFDC_SYNC_CONFLICT = ActivityType(
    100001, "SFDC Sync Conflict",
    "A field changed on both sides; the losing value is recorded here",
    _FIELD, _SYNC_ATTRIBUTES + _attrs(("Kept Value", "string"), ("Lost Value", "string"),
                                      ("Base Value", "string"), ("Winner", "string")),
)
SFDC_SYNC_FAILED = ActivityType(
    100002, "SFDC Sync Failed",
    "Salesforce rejected a write; the change stays pending and is retried",
    ActivityAttribute("Error Code", "string"),
    _SYNC_ATTRIBUTES + _attrs(("Error Message", "string"), ("Error Fields", "string"),
                              ("Operation", "string")),
)
SFDC_VALUE_DROPPED = ActivityType(
    100003, "SFDC Value Not Synced",
    "A value that could not reach the other side (field not synced, type mismatch, read-only)",
    _FIELD, _SYNC_ATTRIBUTES + _attrs(("Value", "string")),
)
SFDC_RECORD_DELETED = ActivityType(
    100004, "SFDC Record Deleted",
    "The person's Lead or Contact was deleted in Salesforce; the person is kept and no longer pushed",
    ActivityAttribute("Salesforce Id", "string"),
    _attrs(("Salesforce Type", "string"), ("Source", "string"), ("Reason", "string")),
)
SFDC_RECORD_UNDELETED = ActivityType(
    100005, "SFDC Record Undeleted",
    "The person's Lead or Contact came back from the Salesforce recycle bin",
    ActivityAttribute("Salesforce Id", "string"),
    _attrs(("Salesforce Type", "string"), ("Source", "string"), ("Reason", "string")),
)
SFDC_SYNC_FILTER = ActivityType(
    100009, "SFDC Sync Filter",
    "The person's Lead or Contact left a sync filter, and what the policy did about it; or came back inside",
    ActivityAttribute("Salesforce Id", "string"),
    _attrs(("Salesforce Type", "string"), ("Source", "string"), ("Reason", "string"), ("Rule", "string"),
           ("Outcome", "string")),
)

ACTIVITY_TYPES: tuple[ActivityType, ...] = (
    NEW_LEAD, CHANGE_DATA_VALUE, SYNC_LEAD_TO_SFDC, CONVERT_LEAD, SFDC_MERGE_LEADS, MERGE_LEADS,
    DELETE_LEAD, PUSH_LEAD, SFDC_SYNC_CONFLICT, SFDC_SYNC_FAILED, SFDC_VALUE_DROPPED, SFDC_RECORD_DELETED,
    SFDC_RECORD_UNDELETED, SFDC_SYNC_FILTER,
)
_BY_ID = {t.id: t for t in ACTIVITY_TYPES}


def activity_type(type_id: int) -> ActivityType:
    try:
        return _BY_ID[type_id]
    except KeyError:
        raise InvalidInput("activityTypeId", f"unknown activity type {type_id}") from None


def check_attributes(kind: ActivityType, names: set[str] | frozenset[str]) -> None:
    """Refuse attribute names a type does not declare, so the log stays readable by type."""
    unknown = sorted(names - kind.attribute_names)
    if unknown:
        raise InvalidInput("attributes", f"{kind.name} has no attribute {', '.join(unknown)}")
