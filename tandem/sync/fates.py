"""What the pull does when a record's life changes in Salesforce: deleted, merged, converted, undeleted.

- Deleted: the person stays, flagged `sfdcIsDeleted` (no longer pushed) with an SFDC Record Deleted
  activity; *Sync Person to SFDC* later creates a new Lead.
- Merged (a deleted loser with `MasterRecordId`): the loser's person is merged into the master's
  person with the native rules; when the master has no person yet, the loser's person follows it.
- Converted (`IsConverted`, `ConvertedContactId`): the person follows to the Contact, keeping its
  Lead Id. When the Contact already has a person, the two are merged: into the Contact's person
  when that person existed before the conversion, into the Lead's person when it did not (the
  Contact pull runs first and gives a Contact the conversion created a person of its own). The
  comparison is of Tandem's clock with Salesforce's stamp; a skew of more than the time between a
  conversion and the next cycle only changes which of the two ids survives, not the merged values.
- Undeleted (back from the recycle bin): the flag is cleared, with an SFDC Record Undeleted activity.

Merges are planned here and done by the workspace in the page's transaction, after the page's
other writes and activities, so what the page wrote about a loser moves with it to the winner.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tandem.people import activities as types
from tandem.people.models import Person, SalesforceLink
from tandem.people.origin import ChangeOrigin
from tandem.salesforce.ids import to_18
from tandem.sync.workspace import ActivityRecord

if TYPE_CHECKING:
    from tandem.sync.pull import PagePlan, _Tally

@dataclass
class MergeOrder:
    """Persons to merge into `winner_id` in the page's transaction, and the winner's link afterwards."""

    winner_id: int
    loser_ids: list[int] = field(default_factory=list)
    link: SalesforceLink | None = None


def related_ids(rows: list[dict[str, Any]]) -> list[str]:
    """Record Ids a page needs persons for: its rows, their merge masters and converted Contacts."""
    wanted = []
    for row in rows:
        wanted.append(to_18(row["Id"]))
        for name in ("MasterRecordId", "ConvertedContactId"):
            if row.get(name):
                wanted.append(to_18(row[name]))
    return wanted


class RecordFates:
    """Planning of deletes, merges, conversions and undeletes for the `Puller`."""

    deletes: _Tally
    conversions: _Tally

    def _plan_deleted(self, object_name: str, person: Person, row: dict[str, Any], persons: dict[str, Person],
                      plan: PagePlan) -> None:
        master_id = to_18(row["MasterRecordId"]) if row.get("MasterRecordId") else None
        if master_id is not None:
            self._plan_merged(object_name, person, master_id, persons, plan)
            return
        if person.link.sfdc_is_deleted:
            self.deletes.skipped += 1
            return
        plan.links[person.id] = replace(person.link, sfdc_is_deleted=True)
        plan.activities.append(ActivityRecord(person.id, types.SFDC_RECORD_DELETED, person.link.sfdc_id, {
            "Salesforce Type": object_name, "Source": ChangeOrigin.SALESFORCE,
            "Reason": "deleted in Salesforce; the person is kept and no longer pushed",
        }))
        self.deletes.deleted += 1

    def _plan_merged(self, object_name: str, loser: Person, master_id: str, persons: dict[str, Person],
                     plan: PagePlan) -> None:
        master = persons.get(master_id)
        if master is None or master.id == loser.id:  # the master has no person: the loser's person follows it
            current = plan.links.get(loser.id, loser.link)
            if current.sfdc_id != master_id:  # else the master's own row in this page relinked it
                plan.links[loser.id] = replace(
                    current, sfdc_id=master_id, sfdc_is_deleted=False,
                    sfdc_lead_id=master_id if object_name == "Lead" else current.sfdc_lead_id,
                    sfdc_contact_id=master_id if object_name == "Contact" else current.sfdc_contact_id,
                )
                plan.forget_bases.append(loser.id)
            persons[master_id] = loser
            self.deletes.updated += 1
            return
        _order(plan, master.id).loser_ids.append(loser.id)
        self.deletes.deleted += 1

    def _plan_converted(self, person: Person, row: dict[str, Any], persons: dict[str, Person],
                        plan: PagePlan) -> None:
        contact_id = to_18(row["ConvertedContactId"]) if row.get("ConvertedContactId") else None
        if contact_id is None or person.link.sfdc_type == "Contact":
            self.conversions.skipped += 1
            return
        account_id = to_18(row["ConvertedAccountId"]) if row.get("ConvertedAccountId") else None
        lead_id = person.link.sfdc_lead_id or to_18(row["Id"])
        contact_person = persons.get(contact_id)
        link = replace(person.link, sfdc_type="Contact", sfdc_id=contact_id, sfdc_contact_id=contact_id,
                       sfdc_lead_id=lead_id, sfdc_account_id=account_id, sfdc_is_deleted=False)
        winner = person
        if contact_person is not None and contact_person.id != person.id:
            link = replace(link, sfdc_created_date=contact_person.link.sfdc_created_date)
            if not _created_by_conversion(contact_person, row):
                winner = contact_person
            loser = contact_person if winner is person else person
            order = _order(plan, winner.id)
            order.loser_ids.append(loser.id)
            order.link = link
        else:
            plan.links[person.id] = link
        persons[contact_id] = winner
        plan.forget_bases.append(winner.id)
        plan.activities.append(ActivityRecord(winner.id, types.CONVERT_LEAD, contact_id, {
            "SFDC Lead Id": lead_id, "SFDC Account Id": account_id,
            "SFDC Opportunity Id": to_18(row["ConvertedOpportunityId"]) if row.get("ConvertedOpportunityId") else None,
            "Source": ChangeOrigin.SALESFORCE,
        }))
        self.conversions.updated += 1

    def _plan_undeleted(self, object_name: str, person: Person, plan: PagePlan) -> None:
        """The record is live again; the field merge that follows writes the cleared flag."""
        plan.activities.append(ActivityRecord(person.id, types.SFDC_RECORD_UNDELETED, person.link.sfdc_id, {
            "Salesforce Type": object_name, "Source": ChangeOrigin.SALESFORCE, "Reason": "restored from the recycle bin",
        }))
        self.deletes.updated += 1


def adopt_masters(rows: list[dict[str, Any]], persons: dict[str, Person]) -> None:
    """A merge master with no person yet takes its loser's person, so its own row updates that person."""
    for row in rows:
        if row.get("IsDeleted") and row.get("MasterRecordId"):
            loser = persons.get(to_18(row["Id"]))
            if loser is not None:
                persons.setdefault(to_18(row["MasterRecordId"]), loser)


def _order(plan: PagePlan, winner_id: int) -> MergeOrder:
    for order in plan.merges:
        if order.winner_id == winner_id:
            return order
    plan.merges.append(MergeOrder(winner_id))
    return plan.merges[-1]


def _created_by_conversion(contact_person: Person, row: dict[str, Any]) -> bool:
    """Whether the Contact's person came to be only after the Lead was converted (its stamp)."""
    stamp = row.get("SystemModstamp")
    if not stamp:
        return False
    converted_at = datetime.fromisoformat(str(stamp).replace("Z", "+00:00").replace("+0000", "+00:00"))
    return contact_person.created_at >= converted_at
