"""convertLead: a lead becomes a contact (new or existing), an account (new or existing) and
optionally an opportunity; the lead is then marked converted and becomes read-only.

Existing target records only get their empty fields filled; custom fields with the same API
name and type on the lead and a target are copied along with the standard mapping.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from tandem.emulator.model.errors import ApiError
from tandem.emulator.model.logins import USER_TIME_ZONE
from tandem.emulator.model.schema import ObjectSchema, Schema
from tandem.emulator.model.security import Profile
from tandem.emulator.model.state import OrgState
from tandem.emulator.model.values import render
from tandem.emulator.model.writes import RecordWriter
from tandem.salesforce import ids

ACCOUNT_FROM_LEAD = {
    "Company": "Name", "Street": "BillingStreet", "City": "BillingCity", "State": "BillingState",
    "PostalCode": "BillingPostalCode", "Country": "BillingCountry", "Phone": "Phone", "Fax": "Fax",
    "Website": "Website", "Industry": "Industry", "AnnualRevenue": "AnnualRevenue",
    "NumberOfEmployees": "NumberOfEmployees", "Rating": "Rating", "LeadSource": "AccountSource",
}
CONTACT_FROM_LEAD = {
    "Salutation": "Salutation", "FirstName": "FirstName", "MiddleName": "MiddleName", "LastName": "LastName",
    "Suffix": "Suffix", "Title": "Title", "Email": "Email", "Phone": "Phone", "MobilePhone": "MobilePhone",
    "Fax": "Fax", "Street": "MailingStreet", "City": "MailingCity", "State": "MailingState",
    "PostalCode": "MailingPostalCode", "Country": "MailingCountry", "Description": "Description",
    "LeadSource": "LeadSource", "HasOptedOutOfEmail": "HasOptedOutOfEmail", "HasOptedOutOfFax": "HasOptedOutOfFax",
    "DoNotCall": "DoNotCall",
}
OPPORTUNITY_FROM_LEAD = {"LeadSource": "LeadSource"}


@dataclass
class ConvertLeadRequest:
    lead_id: str
    converted_status: str
    account_id: str | None = None
    contact_id: str | None = None
    do_not_create_opportunity: bool = False
    opportunity_name: str | None = None
    owner_id: str | None = None
    overwrite_lead_source: bool = False
    send_notification_email: bool = False


@dataclass
class ConvertLeadResult:
    lead_id: str
    account_id: str
    contact_id: str
    opportunity_id: str | None


_USER_ZONE = ZoneInfo(USER_TIME_ZONE)


def _bad_reference(field: str) -> ApiError:
    return ApiError(f"invalid cross reference id: {field}", error_code="INVALID_CROSS_REFERENCE_KEY", fields=[field])


class LeadConverter:
    def __init__(self, state: OrgState, writer: RecordWriter, schema: Schema) -> None:
        self.state = state
        self.writer = writer
        self.schema = schema
        self.notifications: list[tuple[str, str]] = []
        """(lead Id, owner Id) of conversions that asked for a notification email."""

    def _mapped(self, lead: dict, target: ObjectSchema, mapping: dict[str, str]) -> dict:
        lead_obj = self.schema.objects["Lead"]
        values = {dst: lead[src] for src, dst in mapping.items() if lead.get(src) not in (None, "")}
        for name, f in lead_obj.fields.items():
            other = target.fields.get(name)
            if f.custom and other is not None and other.type == f.type and lead.get(name) is not None:
                values[name] = lead[name]
        return values

    def _live(self, object_name: str, record_id: str | None, field: str) -> tuple[str, dict]:
        obj = self.schema.objects[object_name]
        if not isinstance(record_id, str) or not ids.is_well_formed(record_id) or record_id[:3] != obj.key_prefix:
            raise _bad_reference(field)
        record = self.state.stores[object_name].get(ids.to_18(record_id))
        if record is None or record.get("IsDeleted"):
            raise _bad_reference(field)
        return ids.to_18(record_id), record

    def _fill_empty(self, obj: ObjectSchema, record_id: str, record: dict, values: dict, user_id: str,
                    overwrite: tuple[str, ...] = ()) -> None:
        changes = {k: v for k, v in values.items()
                   if k in overwrite or record.get(k) in (None, "", False)}
        changes = {k: v for k, v in changes.items() if not obj.fields[k].system and obj.fields[k].updateable}
        self.writer.update(obj, record_id, _as_input(obj, changes), user_id, None)

    def convert(self, request: ConvertLeadRequest, user_id: str, profile: Profile) -> ConvertLeadResult:
        lead_obj = self.schema.objects["Lead"]
        lead_id, lead = self._live("Lead", request.lead_id, "leadId")
        if lead.get("IsConverted"):
            raise ApiError("cannot reference converted lead", error_code="CANNOT_UPDATE_CONVERTED_LEAD")
        status = lead_obj.fields["Status"].picklist_entry(request.converted_status or "")
        if status is None or not status.converted:
            raise ApiError(f"invalid convertedStatus: {request.converted_status}", error_code="INVALID_STATUS",
                           fields=["convertedStatus"])
        if request.contact_id and not request.account_id:
            raise ApiError("accountId must be specified if contactId is not null",
                           error_code="REQUIRED_FIELD_MISSING", fields=["accountId"])
        owner_id = lead.get("OwnerId")
        if request.owner_id:
            owner_id, _ = self._live("User", request.owner_id, "ownerId")
        elif str(owner_id).startswith("00G"):
            raise ApiError("ownerId must be specified when a queue owns the lead", error_code="REQUIRED_FIELD_MISSING",
                           fields=["ownerId"])
        account_obj = self.schema.objects["Account"]
        contact_obj = self.schema.objects["Contact"]
        account_values = self._mapped(lead, account_obj, ACCOUNT_FROM_LEAD)
        if request.account_id:
            account_id, account = self._live("Account", request.account_id, "accountId")
            self._fill_empty(account_obj, account_id, account, account_values, user_id)
        else:
            account_id = self.writer.create(account_obj, _as_input(account_obj, {**account_values,
                                                                                   "OwnerId": owner_id}),
                                            user_id, None)
        contact_values = self._mapped(lead, contact_obj, CONTACT_FROM_LEAD)
        if request.contact_id:
            contact_id, contact = self._live("Contact", request.contact_id, "contactId")
            if contact.get("AccountId") != account_id:
                raise ApiError("the contact does not belong to the given account",
                               error_code="INVALID_CROSS_REFERENCE_KEY", fields=["contactId"])
            overwrite = ("LeadSource",) if request.overwrite_lead_source else ()
            self._fill_empty(contact_obj, contact_id, contact, contact_values, user_id, overwrite)
        else:
            contact_values.update(AccountId=account_id, OwnerId=owner_id)
            contact_id = self.writer.create(contact_obj, _as_input(contact_obj, contact_values), user_id, None)
        opportunity_id = None
        if not request.do_not_create_opportunity:
            opportunity_id = self._create_opportunity(request, lead, account_id, contact_id, owner_id, user_id)
        today = self._today()
        system = {"IsConverted": True, "ConvertedDate": today, "ConvertedAccountId": account_id,
                  "ConvertedContactId": contact_id, "ConvertedOpportunityId": opportunity_id,
                  "Status": status.value}
        self.writer.update(lead_obj, lead_id, {}, user_id, None, run_rules=False, system=system)
        self._move_activity(lead_id, contact_id, user_id)
        if request.send_notification_email:
            self.notifications.append((lead_id, owner_id))
        return ConvertLeadResult(lead_id, account_id, contact_id, opportunity_id)

    def _today(self) -> date:
        """Today in the users' time zone, as Salesforce dates a conversion (and as SOQL's TODAY counts)."""
        return self.state.clock.now().astimezone(_USER_ZONE).date()

    def _move_activity(self, lead_id: str, contact_id: str, user_id: str) -> None:
        """The lead's tasks follow it to the contact; its campaign memberships gain the contact."""
        for object_name, field_name in (("Task", "WhoId"), ("CampaignMember", "ContactId")):
            obj = self.schema.objects[object_name]
            source = "WhoId" if object_name == "Task" else "LeadId"
            for child_id in self.writer.children_of(obj, source, lead_id):
                values = dict(self.state.stores[object_name].records[child_id])
                values[field_name] = contact_id
                self.writer.stamp(obj, child_id, values, user_id)

    def _create_opportunity(self, request: ConvertLeadRequest, lead: dict, account_id: str, contact_id: str,
                            owner_id: str, user_id: str) -> str:
        obj = self.schema.objects["Opportunity"]
        stage_field = obj.fields["StageName"]
        stage = stage_field.default_picklist_value or next(
            (p.value for p in stage_field.picklist if p.active and not p.closed), stage_field.picklist[0].value)
        values = self._mapped(lead, obj, OPPORTUNITY_FROM_LEAD)
        values.update(Name=request.opportunity_name or lead.get("Company") or lead.get("LastName"),
                      StageName=stage, CloseDate=self._today(), AccountId=account_id,
                      ContactId=contact_id, OwnerId=owner_id)
        return self.writer.create(obj, _as_input(obj, values), user_id, None)


def _as_input(obj: ObjectSchema, values: dict) -> dict:
    """Native values back into the JSON-ready form the write path takes."""
    return {name: render(obj.fields[name], value) for name, value in values.items()}
