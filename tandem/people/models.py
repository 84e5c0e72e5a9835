"""What the people store hands out: plain frozen dataclasses, never rows or dicts-of-anything."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from tandem.people.origin import ChangeOrigin
from tandem.people.validation import to_json_value


@dataclass(frozen=True)
class SalesforceLink:
    """The person's link to a Salesforce Lead or Contact; written only by the sync."""

    sfdc_type: str | None = None
    sfdc_id: str | None = None
    sfdc_lead_id: str | None = None
    sfdc_contact_id: str | None = None
    sfdc_account_id: str | None = None
    sfdc_is_deleted: bool = False
    sfdc_created_date: datetime | None = None

    def as_fields(self) -> dict[str, Any]:
        """The link under its person field names (`sfdcType`, `sfdcId`, ...)."""
        return {
            "sfdcType": self.sfdc_type,
            "sfdcId": self.sfdc_id,
            "sfdcLeadId": self.sfdc_lead_id,
            "sfdcContactId": self.sfdc_contact_id,
            "sfdcAccountId": self.sfdc_account_id,
            "sfdcIsDeleted": self.sfdc_is_deleted,
            "sfdcCreatedDate": self.sfdc_created_date,
        }


@dataclass(frozen=True)
class Person:
    id: int
    fields: dict[str, Any]
    link: SalesforceLink
    created_at: datetime
    updated_at: datetime

    @property
    def linked(self) -> bool:
        return self.link.sfdc_id is not None

    def as_json(self) -> dict[str, Any]:
        """Marketo-style record: `id`, every field by REST name, link fields, timestamps."""
        record: dict[str, Any] = {"id": self.id}
        record.update({k: to_json_value(v) for k, v in self.fields.items()})
        record.update({k: to_json_value(v) for k, v in self.link.as_fields().items()})
        record["createdAt"] = to_json_value(self.created_at)
        record["updatedAt"] = to_json_value(self.updated_at)
        return record


@dataclass(frozen=True)
class Activity:
    id: int
    marketo_guid: str
    person_id: int
    activity_date: datetime
    activity_type_id: int
    primary_attribute_value_id: int | None
    primary_attribute_value: str | None
    attributes: list[dict[str, Any]] = field(default_factory=list)

    def attribute(self, name: str) -> Any:
        for item in self.attributes:
            if item["name"] == name:
                return item["value"]
        return None

    def as_json(self) -> dict[str, Any]:
        """The activity record of MARKETO-API §6.3."""
        return {
            "id": self.id,
            "marketoGUID": self.marketo_guid,
            "leadId": self.person_id,
            "activityDate": to_json_value(self.activity_date),
            "activityTypeId": self.activity_type_id,
            "primaryAttributeValueId": self.primary_attribute_value_id,
            "primaryAttributeValue": self.primary_attribute_value,
            "attributes": self.attributes,
        }


@dataclass(frozen=True, order=True)
class FeedPosition:
    """Where an activity stands in the feeds the REST API pages: its writing transaction (0 on
    SQLite, whose writers take turns), then its id. A reader is only ever handed activities of
    transactions that had all finished, so none can later appear before a position it was given."""

    txid: int
    id: int


class PendingState(StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in flight"
    FAILED = "failed"


@dataclass(frozen=True)
class PendingChange:
    """A Tandem-side change not yet in Salesforce; its `id` changes whenever the value does."""

    id: int
    person_id: int
    field: str
    value: Any
    changed_at: datetime
    origin: ChangeOrigin
    state: PendingState
    attempts: int
    last_attempt_at: datetime | None
    last_error: str | None
    sent_in_doubt: bool = False
    """A push sent `sent_value` for this field and died before learning whether it landed."""
    sent_value: Any = None


@dataclass(frozen=True)
class Watermark:
    """How far the pull of one Salesforce object got (`stream` names the pull)."""

    object: str
    stream: str
    value: str
    set_at: datetime


class StepStatus(StrEnum):
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    INCOMPLETE = "Incomplete"
    IN_PROCESS = "In Process"
    CLEANED_UP = "Cleaned up"


class StepOperation(StrEnum):
    SYNC_SCHEMA = "sync schema"
    PULL_UPDATES = "pull updates"
    PULL_DELETES = "pull deletes"
    PULL_CONVERSIONS = "pull conversions"
    PUSH_UPDATES = "push updates"
    PUSH_NEW = "push new"


@dataclass(frozen=True)
class StepCounts:
    new: int = 0
    updated: int = 0
    deleted: int = 0
    failed: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class CycleStep:
    id: int
    cycle_id: str | None
    object: str
    operation: StepOperation
    status: StepStatus
    started_at: datetime
    ended_at: datetime | None
    counts: StepCounts
    message: str | None
    api_calls: int = 0


class ErrorLevel(StrEnum):
    RECORD = "record"
    JOB = "job"


@dataclass(frozen=True)
class SyncError:
    id: int
    occurred_at: datetime
    level: ErrorLevel
    error_code: str
    message: str
    object: str | None
    sfdc_id: str | None
    person_id: int | None
    cycle_step_id: int | None


@dataclass(frozen=True)
class ApiUsageReading:
    """The org's daily API usage as Salesforce last reported it."""

    used: int
    limit: int
    recorded_at: datetime
