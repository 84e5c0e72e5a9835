"""The flow actions: *Sync Person to SFDC* (now, not at the next cycle) and *Convert Person*.

Both run while a cycle runs. Each claims its person for as long as it works (`Locks.claim`, a lock
that dies with its holder), never the cycle's lock: the cycle's pull pages and push batches claim
their persons too (`tandem.sync.claims`), so the two never work on one person at once, and a second
action on the same person waits for the first (one Lead, never two). A record this action creates
names its person by the Tandem id it carries, which a pull page reading it waits on; where it cannot
(the org lacks the field, or a conversion's Contact does not get it), a person the pull made from the
record meanwhile is merged into this one once the page in progress is done.

Both are safe to repeat after a lost answer: a Lead is created by upsert on Tandem's external-id
field (or found again by email and creation time where the org lacks that field), and a conversion
first checks whether Salesforce already converted the Lead; Sync Person, refused by a Lead converted
since the last pull, follows it to its Contact and sends the changes there, as the next pull would. An action
needs a SyncEngine of its own, not one a cycle is running on (a cycle reads the client's clock).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from tandem.errors import InvalidInput, InvalidSalesforceId, NotFound
from tandem.people import activities as types
from tandem.people.locks import PAGE, Claim
from tandem.people.models import Person, SalesforceLink
from tandem.people.origin import ChangeOrigin
from tandem.people.validation import check_storable
from tandem.salesforce.ids import to_18
from tandem.salesforce.results import RecordError, RecordResult
from tandem.salesforce.soap import LeadConvert
from tandem.salesforce.soql import quoted
from tandem.sync.account_match import AccountMatch
from tandem.sync.claims import CLAIM_WAIT_SECONDS
from tandem.sync.cycle import SyncEngine
from tandem.sync.fields import LINK_FIELD
from tandem.sync.push import PersonPush, plan_person
from tandem.sync.values import to_salesforce
from tandem.sync.plan import ActivityRecord, Tally, not_synced_activity
from tandem.sync.watermark import parse_stamp
from tandem.sync.workspace import Refusal, rejected

ACTION_SOURCE = ChangeOrigin.FLOW_ACTION
DUPLICATE_ACCOUNT_RISK = "Tandem cannot see whether this company already has one"
DUPLICATE_ACCOUNT_ADVICE = (
    f"{DUPLICATE_ACCOUNT_RISK}; pass an account id or use the account match to avoid duplicate accounts"
)
NEW_ACCOUNT_WARNING = f"a new Account was created: {DUPLICATE_ACCOUNT_ADVICE}"
NEW_ACCOUNT_AHEAD = f"a new Account will be created: {DUPLICATE_ACCOUNT_ADVICE}"
"""What Convert Person's preview says before anyone confirms (NEW_ACCOUNT_WARNING: once done)."""


@dataclass(frozen=True)
class SyncPersonResult:
    person_id: int
    sfdc_type: str
    sfdc_id: str
    created: bool
    fields: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ConvertResult:
    person_id: int
    lead_id: str
    contact_id: str
    account_id: str
    opportunity_id: str | None
    account_created: bool
    warnings: list[str] = field(default_factory=list)


def conversion_refusal(person: Person) -> str | None:
    """Why the person cannot be converted (a Contact stands for them in Salesforce); None when they can.
    A Contact deleted in Salesforce stands for no one: Convert makes a new Lead first and converts it."""
    link = person.link
    if link.sfdc_type == "Contact" and not link.sfdc_is_deleted:
        return f"person {person.id} is already a Salesforce Contact ({link.sfdc_id})"
    return None


class PersonActions:
    def __init__(self, engine: SyncEngine, *, claim_wait_seconds: float = CLAIM_WAIT_SECONDS) -> None:
        self.engine = engine
        self.store = engine.store
        self.workspace = engine.workspace
        self.client = engine.client
        self.claim_wait_seconds = claim_wait_seconds
        """How long an action waits for another action or a cycle page at work on its person."""

    # -- Sync Person to SFDC ---------------------------------------------------------------------

    def sync_person(self, person_id: int, *, owner: str | None = None, queue: str | None = None,
                    assignment_rules: bool | None = None) -> SyncPersonResult:
        """Create the person in Salesforce as a Lead, or push its pending changes if it is linked."""
        if owner and queue:
            raise InvalidInput("owner", "give an owner or a queue, not both")
        for name, text in (("owner", owner), ("queue", queue)):
            if text:
                check_storable(name, text)
        try:
            with self.claimed([person_id]):
                return self._sync_claimed(person_id, owner, queue, assignment_rules)
        finally:
            self.engine.charge_calls()  # the actions' lane of the API budget

    def _sync_claimed(self, person_id: int, owner: str | None = None, queue: str | None = None,
                      assignment_rules: bool | None = None) -> SyncPersonResult:
        person = self.workspace.person(person_id)
        if not person.linked and (person.link.sfdc_contact_id or person.link.sfdc_lead_id):
            person = self._linked_again(person)
        if person.linked and person.link.sfdc_is_deleted:
            person = self._restored(person)
        if person.linked and not person.link.sfdc_is_deleted:
            return self._push_now(person)
        return self._create_lead(person, owner, queue, assignment_rules)

    def _linked_again(self, person: Person) -> Person:
        """A person a sync filter unlinked from its record (`leaving = "unlinked"`) is linked to it again
        while that record is still in Salesforce: Sync Person to SFDC syncs it whatever the filters say,
        and a new Lead beside its Contact (or Lead) would be a duplicate. A query per former record,
        and only for such a person."""
        link = person.link
        for kind, record_id in (("Contact", link.sfdc_contact_id), ("Lead", link.sfdc_lead_id)):
            if not record_id:
                continue
            fields = "Id, AccountId" if kind == "Contact" else "Id, IsConverted"
            rows = list(self.client.query(f"SELECT {fields} FROM {kind} WHERE Id = {quoted(record_id)}"))
            if not rows or rows[0].get("IsConverted"):
                continue
            account = rows[0].get("AccountId") if kind == "Contact" else link.sfdc_account_id
            again = replace(link, sfdc_type=kind, sfdc_id=record_id, sfdc_is_deleted=False,
                            sfdc_account_id=to_18(account) if account else None)
            self.workspace.delivered(person.id, {}, (), ActivityRecord(person.id, types.SFDC_SYNC_FILTER, record_id, {
                "Salesforce Type": kind, "Source": ACTION_SOURCE, "Reason": "Sync Person to SFDC",
                "Rule": "sync.filter", "Outcome": "linked again to its record: a flow action syncs it whatever "
                                                  "the filters say",
            }), link=again, reason="Sync Person to SFDC")
            return self.workspace.person(person.id)
        return person

    def _restored(self, person: Person) -> Person:
        """The person as it is once its record, flagged deleted by a pull, is found back from the recycle
        bin (an undelete no pull has seen yet): linked to it again, as the next pull would, rather than
        given a new Lead while the restored record comes back as a second person. A record merged into
        another is followed to its master, as the next pull would (`_followed_merge`). One query, and
        only for a person whose record Salesforce deleted."""
        link = person.link
        rows = list(self.client.query(f"SELECT Id, IsDeleted, MasterRecordId FROM {link.sfdc_type} "
                                      f"WHERE Id = {quoted(link.sfdc_id)}", include_deleted=True))
        if rows and rows[0].get("IsDeleted") and rows[0].get("MasterRecordId"):
            return self._followed_merge(person, to_18(rows[0]["MasterRecordId"]))
        if not rows or rows[0].get("IsDeleted"):
            return person  # still deleted: Sync Person to SFDC makes a new Lead
        self.workspace.relinked(person.id, replace(link, sfdc_is_deleted=False), ActivityRecord(
            person.id, types.SFDC_RECORD_UNDELETED, link.sfdc_id, {
                "Salesforce Type": link.sfdc_type, "Source": ACTION_SOURCE, "Reason": "restored from the recycle bin",
            }), reason="Sync Person to SFDC")
        return self.workspace.person(person.id)

    def _followed_merge(self, person: Person, master_id: str) -> Person:
        """The person once its record was merged in Salesforce into `master_id`, as the next pull
        leaves it: merged into the master's person (whose values win, by the native rules), or linked
        to the master when no person has it; rather than given a new Lead that undoes the merge."""
        object_name = person.link.sfdc_type or "Lead"
        others = [pid for pid in self.store.api.person_ids_by("sfdcId", [master_id]).get(master_id, [])
                  if pid != person.id]
        if others:
            own = self.engine.ensure_catalog().account_fields() if object_name == "Contact" else frozenset()
            with self.claimed(others[:1]):
                self.store.merges.merge(others[0], [person.id], origin=ChangeOrigin.SALESFORCE, own=own,
                                        reason="merged in Salesforce; followed by Sync Person to SFDC")
            return self.workspace.person(others[0])
        link = replace(person.link, sfdc_id=master_id, sfdc_is_deleted=False,
                       sfdc_lead_id=master_id if object_name == "Lead" else person.link.sfdc_lead_id,
                       sfdc_contact_id=master_id if object_name == "Contact" else person.link.sfdc_contact_id)
        self.workspace.delivered(person.id, {}, (), ActivityRecord(person.id, types.SFDC_MERGE_LEADS, master_id, {
            "Merged Lead IDs": "", "Master SFDC Id": master_id, "Merged SFDC Ids": person.link.sfdc_id,
        }), link=link, reason="merged in Salesforce; followed by Sync Person to SFDC")
        return self.workspace.person(person.id)

    def _push_now(self, person: Person) -> SyncPersonResult:
        object_name = person.link.sfdc_type or "Lead"
        pusher = self.engine.pusher(source=ACTION_SOURCE)
        plan = plan_person(pusher.catalog, object_name, person, self.workspace.pending(person.id),
                           pusher.rules_of(object_name))
        [(sent, result)] = pusher.push_plans(object_name, [plan], Tally())
        if result is not None and not result.success:
            error = result.errors[0] if result.errors else None
            if object_name == "Lead" and error is not None and error.code == "CANNOT_UPDATE_CONVERTED_LEAD":
                # converted since the last pull (a Convert Person whose answer was lost, or a user in
                # Salesforce): follow the Lead to its Contact and send the changes there, as the next
                # pull would; the refusal stays in the log, its error resolved once they land
                try:
                    lead = self._lead_row(person.link.sfdc_id)
                except NotFound:  # gone from Salesforce meanwhile: the refusal stands
                    lead = {}
                conversion = _earlier_conversion(lead)
                if conversion is not None:
                    contact_id, account_id, opportunity_id, _ = conversion
                    older = self._contact_person_before(to_18(contact_id), parse_stamp(lead["SystemModstamp"]),
                                                        person.id)
                    if older is not None:  # into an existing Contact: its person wins, as on pull
                        return self._push_now(self._merged_into_contact(
                            person, older, to_18(contact_id), to_18(account_id), opportunity_id))
                    self._follow(person, person.link.sfdc_id, contact_id, account_id, opportunity_id,
                                 reason="Sync Person to SFDC")
                    return self._push_now(self.workspace.person(person.id))
            if error is not None and error.code == "ENTITY_IS_DELETED":
                # deleted since the last pull: a record merged into another is followed to its master
                followed = self._restored(self.workspace.person(person.id))
                if followed.link.sfdc_id != person.link.sfdc_id and not followed.link.sfdc_is_deleted:
                    return self._push_now(followed)
            raise rejected(error, error.message if error else "Salesforce refused the record")
        return SyncPersonResult(person.id, object_name, person.link.sfdc_id, False,
                                sorted(c.field for c in sent.sent) if result is not None else [])

    def _create_lead(self, person: Person, owner: str | None, queue: str | None,
                     assignment_rules: bool | None) -> SyncPersonResult:
        plan = self._lead_plan(person)
        record = dict(plan.record)
        record.pop("Id", None)
        if owner:
            record["OwnerId"] = self._user_id(owner)
        if queue:
            record["OwnerId"] = self._queue_id(queue)
        auto_assign = False if (owner or queue) else (True if assignment_rules is None else assignment_rules)
        has_link_field = self._lead_has_link_field()
        if has_link_field:
            named = {**record, LINK_FIELD: self.external_id(person.id)}
            earlier = self._lead_made_for_merged(person.id)
            if earlier is not None:  # made for a person merged into this one before a pull linked it
                [result] = self.client.update_records("Lead", [{"Id": earlier, **named}])
            else:
                [result] = self.client.upsert_records("Lead", LINK_FIELD, [named], auto_assign=auto_assign)
            if _held_by_an_earlier_lead(result):
                has_link_field = False
                result = self._create_once(person, record, auto_assign)
        else:
            result = self._create_once(person, record, auto_assign)
        if not result.success:
            raise self.workspace.refuse(person, Refusal(
                "Lead", "create", ACTION_SOURCE, "Sync Person to SFDC was refused; the person stays in Tandem only",
                _first(result.errors)))
        lead_id = to_18(result.id)
        link = replace(person.link, sfdc_type="Lead", sfdc_id=lead_id, sfdc_lead_id=lead_id, sfdc_is_deleted=False)
        sent = self._sent_values(person, plan)
        def settle() -> None:
            self.engine.pusher(source=ACTION_SOURCE).settle_not_synced("Lead", [plan])
            self.workspace.log(self._values_not_taken(person, plan, lead_id), existing=[person.id])
            self.workspace.delivered(person.id, sent, plan.sent, ActivityRecord(
                person.id, types.SYNC_LEAD_TO_SFDC, lead_id, {
                    "Salesforce Type": "Lead", "Operation": "create", "Source": ACTION_SOURCE,
                    "Reason": "Sync Person to SFDC",
                }), link=link, reason="Sync Person to SFDC")
        self.workspace.atomically(settle)
        if not has_link_field:
            self._take_over_twins(person.id, link, "Sync Person to SFDC")
        return SyncPersonResult(person.id, "Lead", lead_id, True, sorted(sent))

    def _lead_plan(self, person: Person) -> PersonPush:
        """Every field that syncs Tandem → Salesforce, with the person's current values."""
        catalog = self.engine.ensure_catalog()
        plan = plan_person(catalog, "Lead", person, self.workspace.pending(person.id))
        for person_field, rule in catalog.pushable("Lead").items():
            value = person.fields.get(person_field)
            if value not in (None, "") and rule.sf_field not in plan.record:
                plan.record[rule.sf_field] = to_salesforce(value)
        return plan

    def _values_not_taken(self, person: Person, plan: PersonPush, lead_id: str) -> list[ActivityRecord]:
        """An *SFDC Value Not Synced* for each value of the person the new Lead cannot take (a field
        read-only for the sync user, off by the policy, or not on Lead) and no waiting change of which
        the push already logs: it stays in Tandem alone, and says why. An unticked checkbox is no value."""
        catalog = self.engine.ensure_catalog()
        pushable = catalog.pushable("Lead")
        settled = {c.field for c in plan.sent} | {c.field for c, _, _ in plan.not_synced}
        records = []
        for name, value in sorted(person.fields.items()):
            if value in (None, "") or value is False or name in pushable or name in settled:
                continue
            rule = catalog.governing("Lead", name)
            reason = rule.reason if rule is not None else (
                "no Lead field the sync user can see takes it (hidden by field-level security, "
                "removed, or not on the object)")
            records.append(not_synced_activity(person.id, name, "Lead", lead_id, ACTION_SOURCE, reason, value))
        return records

    def _sent_values(self, person: Person, plan: PersonPush) -> dict[str, Any]:
        pushable = self.engine.ensure_catalog().pushable("Lead")
        return {name: person.fields.get(name) for name, rule in pushable.items() if rule.sf_field in plan.record}

    def _lead_made_for_merged(self, person_id: int) -> str | None:
        """A Lead Sync Person to SFDC made for a person since merged into this one, whose answer never
        reached Tandem (one query, and only for a person others were merged into)."""
        merged = [self.external_id(pid) for pid in self.store.tombstones.merged_from(person_id)]
        if not merged:
            return None
        found = [to_18(row["Id"]) for row in self.client.query(
            f"SELECT Id FROM Lead WHERE {LINK_FIELD} IN ({', '.join(map(quoted, merged))}) AND IsConverted = false "
            "ORDER BY CreatedDate")]
        if not found:
            return None
        linked = self.store.api.person_ids_by("sfdcId", found)  # a pull may have made a person of one since
        return next((lead for lead in found if not linked.get(lead)), None)

    def _create_once(self, person: Person, record: dict[str, Any], auto_assign: bool):
        """Without the external-id field: find a Lead this action created before a lost answer, else create."""
        attempted = self.store.create_markers.get(person.id, "Lead")
        email = person.fields.get("email")
        if attempted is not None and email:
            since = attempted - timedelta(minutes=1)
            found = list(self.client.query(
                f"SELECT Id FROM Lead WHERE Email = {quoted(email)} AND IsConverted = false AND CreatedDate >= "
                f"{since.strftime('%Y-%m-%dT%H:%M:%SZ')} ORDER BY CreatedDate LIMIT 1"))
            if found:
                return RecordResult(id=found[0]["Id"], success=True, created=False)
        self.store.create_markers.mark(person.id, "Lead")
        [result] = self.client.create_records("Lead", [record], auto_assign=auto_assign)
        return result

    # -- Convert Person ---------------------------------------------------------------------------

    def convert_person(self, person_id: int, *, converted_status: str | None = None, owner: str | None = None,
                       notify: bool = False, create_opportunity: bool = True, opportunity_name: str | None = None,
                       account_id: str | None = None, match_account: bool = False) -> ConvertResult:
        """Convert the person's Lead into a Contact (syncing it as a Lead first when it is not linked)."""
        if account_id and match_account:
            raise InvalidInput("account_id", "give an account id or ask for a match, not both")
        # checked before anything is sent: a person not in Salesforce yet would get its Lead first
        if account_id:
            try:
                account_id = to_18(account_id)
            except InvalidSalesforceId:
                raise InvalidSalesforceId(account_id, field="accountId") from None
        for name, text in (("convertedStatus", converted_status), ("opportunityName", opportunity_name),
                           ("owner", owner)):
            if text:
                check_storable(name, text)
        try:
            return self._convert(person_id, converted_status, owner, notify, create_opportunity, opportunity_name,
                                 account_id, match_account)
        finally:
            self.engine.charge_calls()  # the actions' lane of the API budget

    def _convert(self, person_id: int, converted_status: str | None, owner: str | None, notify: bool,
                 create_opportunity: bool, opportunity_name: str | None, account_id: str | None,
                 match_account: bool) -> ConvertResult:
        with self.claimed([person_id]):
            person = self.workspace.person(person_id)
            refusal = conversion_refusal(person)
            if refusal is not None:
                raise InvalidInput("person", refusal)
            owner_id = self._user_id(owner) if owner else None  # an unknown owner refused before any Lead is made
            if not person.linked or person.link.sfdc_is_deleted:
                self._sync_claimed(person_id)
                person = self.workspace.person(person_id)
                refusal = conversion_refusal(person)  # its Contact found back from the recycle bin
                if refusal is not None:
                    raise InvalidInput("person", refusal)
            lead_id = person.link.sfdc_id
            warnings: list[str] = []
            lead = self._lead_row(lead_id)
            done = _earlier_conversion(lead)
            if done is None:
                self._name_person_on_lead(person.id, lead)
                account = (to_18(account_id) if account_id
                           else self._matched_account(person) if match_account else None)
                if account is None:
                    warnings.append(NEW_ACCOUNT_WARNING)
                request = LeadConvert(
                    lead_id=lead_id,
                    converted_status=converted_status or self.converted_status(),
                    account_id=account,
                    owner_id=owner_id,
                    opportunity_name=opportunity_name,
                    do_not_create_opportunity=not create_opportunity,
                    send_notification_email=notify,
                )
                [outcome] = self.client.convert_leads([request])
                if isinstance(outcome, tuple):
                    # a call sent again after its answer was lost finds the Lead it converted
                    earlier = _earlier_conversion(self._lead_row(lead_id))
                    if earlier is None:
                        raise self.workspace.refuse(person, Refusal(
                            "Lead", "convert", ACTION_SOURCE, "Convert Person was refused", _first(outcome[1])))
                    done = (*earlier[:3], account is None)
                else:
                    done = (outcome.contact_id, outcome.account_id, outcome.opportunity_id, account is None)
            contact_id, account, opportunity_id, account_created = done
            older = (self._contact_person_before(to_18(contact_id), parse_stamp(lead["SystemModstamp"]), person.id)
                     if lead.get("IsConverted") else None)  # converted before this action, maybe into a Contact of old
            if older is not None:
                person = self._merged_into_contact(person, older, to_18(contact_id), to_18(account), opportunity_id)
            else:
                self._follow(person, lead_id, contact_id, account, opportunity_id)
        return ConvertResult(person.id, lead_id, to_18(contact_id), to_18(account), opportunity_id and to_18(opportunity_id),
                             account_created, warnings)

    def _lead_row(self, lead_id: str) -> dict[str, Any]:
        fields = ["Id", "SystemModstamp", "IsConverted", "ConvertedContactId", "ConvertedAccountId",
                  "ConvertedOpportunityId"]
        if self._lead_has_link_field():
            fields.append(LINK_FIELD)
        rows = list(self.client.query(f"SELECT {', '.join(fields)} FROM Lead WHERE Id = {quoted(lead_id)}"))
        if not rows:
            raise NotFound(f"Lead {lead_id} is no longer in Salesforce (deleted or merged there); "
                           "the next sync cycle follows what became of it")
        return rows[0]

    def _name_person_on_lead(self, person_id: int, lead: dict[str, Any]) -> None:
        """Have the Lead carry the person's Tandem id before it is converted, so the Contact it becomes
        carries it too (where the org maps the field), and a pull page reading that Contact waits for
        this action instead of making a person of its own for it."""
        wanted = self.external_id(person_id)
        if LINK_FIELD in lead and lead[LINK_FIELD] != wanted:
            # if Salesforce refuses, the Contact's twin person is merged afterwards (`_take_over_twins`)
            self.client.update_records("Lead", [{"Id": lead["Id"], LINK_FIELD: wanted}])

    def _lead_has_link_field(self) -> bool:
        rules = self.engine.ensure_catalog().rules.get("Lead", ())
        return any(r.sf_field.lower() == LINK_FIELD.lower() for r in rules)

    def _contact_person_before(self, contact_id: str, converted_at: datetime, person_id: int) -> Person | None:
        """The person the Contact had before the Lead was converted into it, if any (the pull's test:
        Tandem's clock against Salesforce's stamp of the conversion)."""
        for pid in self.store.api.person_ids_by("sfdcId", [contact_id]).get(contact_id, []):
            if pid != person_id:
                found = self.workspace.person(pid)
                if found.created_at < converted_at:
                    return found
        return None

    def _merged_into_contact(self, person: Person, contact_person: Person, contact_id: str, account_id: str,
                             opportunity_id: str | None) -> Person:
        """The Lead's person merged into the person of the existing Contact the Lead was converted into,
        as the next pull merges them: the Contact's person wins, its Account gives the company fields."""
        lead_id = person.link.sfdc_lead_id or person.link.sfdc_id
        link = replace(contact_person.link, sfdc_type="Contact", sfdc_id=contact_id, sfdc_contact_id=contact_id,
                       sfdc_lead_id=lead_id, sfdc_account_id=account_id, sfdc_is_deleted=False)
        own = self.engine.ensure_catalog().account_fields()

        def merge() -> None:
            self.store.merges.merge(contact_person.id, [person.id], origin=ChangeOrigin.SALESFORCE, link=link, own=own)
            self.workspace.log([ActivityRecord(contact_person.id, types.CONVERT_LEAD, contact_id, {
                "SFDC Lead Id": lead_id, "SFDC Account Id": account_id,
                "SFDC Opportunity Id": opportunity_id and to_18(opportunity_id), "Source": ACTION_SOURCE,
            })], existing=[contact_person.id])

        with self.claimed([contact_person.id]):
            self.workspace.atomically(merge)
        return self.workspace.person(contact_person.id)

    def _follow(self, person: Person, lead_id: str, contact_id: str, account_id: str, opportunity_id: str | None,
                *, reason: str = "Convert Person") -> None:
        link = replace(person.link, sfdc_type="Contact", sfdc_id=to_18(contact_id), sfdc_contact_id=to_18(contact_id),
                       sfdc_account_id=to_18(account_id), sfdc_lead_id=lead_id, sfdc_is_deleted=False)
        self.workspace.relinked(person.id, link, ActivityRecord(person.id, types.CONVERT_LEAD, to_18(contact_id), {
            "SFDC Lead Id": lead_id, "SFDC Account Id": to_18(account_id),
            "SFDC Opportunity Id": opportunity_id and to_18(opportunity_id), "Source": ACTION_SOURCE,
        }), reason=reason)
        self._take_over_twins(person.id, link, reason)

    def _take_over_twins(self, person_id: int, link: SalesforceLink, action: str) -> None:
        """Merge into the person any other person linked to the record it was just linked to.

        A pull page that read the record before the link, and could not tell it was this person's,
        made a person of its own for it. Once the page in progress is done (its key is free), every
        such person is visible and every later page reads the link; the twin holds Salesforce's
        values only, so the merge (native rules: the action's person wins) loses nothing.
        """
        with self.store.locks.claim([PAGE], wait=self.claim_wait_seconds):
            pass
        record_id = link.sfdc_id or ""
        twins = [pid for pid in self.store.api.person_ids_by("sfdcId", [record_id]).get(record_id, [])
                 if pid != person_id]
        if twins:
            with self.claimed(twins):
                self.store.merges.merge(person_id, twins, origin=ACTION_SOURCE, link=link,
                                        reason=f"made from {record_id} by a pull while {action} linked it")

    # -- look-ups -------------------------------------------------------------------------------

    def converted_status(self) -> str:
        rows = list(self.client.query("SELECT MasterLabel FROM LeadStatus WHERE IsConverted = true LIMIT 1"))
        if not rows:
            raise NotFound("the org has no converted Lead status")
        return rows[0]["MasterLabel"]

    def _user_id(self, username: str) -> str:
        rows = list(self.client.query(f"SELECT Id FROM User WHERE Username = {quoted(username)}"))
        if not rows:
            raise InvalidInput("owner", f"no Salesforce user {username!r}")
        return rows[0]["Id"]

    def _queue_id(self, name: str) -> str:
        rows = list(self.client.query(f"SELECT Id FROM Group WHERE Type = 'Queue' AND Name = {quoted(name)}"))
        if not rows:
            raise InvalidInput("queue", f"no Salesforce queue {name!r}")
        return rows[0]["Id"]

    def _matched_account(self, person: Person) -> str | None:
        """The one Account whose Name is the person's company or whose website is on its email's domain."""
        return AccountMatch.for_person(person.fields.get("company"), person.fields.get("email")).find(self.client)

    def external_id(self, person_id: int) -> str:
        return self.workspace.external_id(person_id)

    def claimed(self, person_ids: Iterable[int]) -> Claim:
        """Hold these persons while the action works on them, waiting for an action or cycle page that holds one."""
        return self.store.locks.claim(person_ids, wait=self.claim_wait_seconds)


def _first(errors: tuple[RecordError, ...] | list[RecordError] | None) -> RecordError | None:
    return errors[0] if errors else None


def _held_by_an_earlier_lead(result: RecordResult) -> bool:
    """The person's Tandem id is held by a Lead it can no longer use: a converted one (the upsert matched
    it and may not update it) or a deleted one (kept in the recycle bin, where the value stays unique).
    The new Lead is made without it."""
    error = _first(result.errors)
    if result.success or error is None:
        return False
    return error.code == "CANNOT_UPDATE_CONVERTED_LEAD" or (
        error.code == "DUPLICATE_VALUE" and LINK_FIELD.lower() in " ".join((*error.fields, error.message)).lower())


def _earlier_conversion(lead: dict[str, Any]) -> tuple[str, str, str | None, bool] | None:
    """The result of a conversion Salesforce already made (an answer lost on the way back)."""
    if not lead.get("IsConverted"):
        return None
    return lead["ConvertedContactId"], lead["ConvertedAccountId"], lead.get("ConvertedOpportunityId"), False

