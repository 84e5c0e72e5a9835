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
  conversion and the next cycle only changes which of the two ids survives, not the merged values:
  either way the company fields are the Contact's Account's, never the Lead's.
- Undeleted (back from the recycle bin): the flag is cleared, with an SFDC Record Undeleted activity.

`RecordFates` is a collaborator of the puller. Merges are planned here and done by the workspace in
the page's transaction, after the page's other writes and activities, so what the page wrote about
a loser moves with it to the winner.
"""

from __future__ import annotations

from dataclasses import replace

from tandem.people import activities as types
from tandem.people.models import Person
from tandem.people.origin import ChangeOrigin
from tandem.sync.merge import same_value
from tandem.sync.plan import ActivityRecord, PagePlan
from tandem.sync.records import PulledRecord


def related_ids(records: list[PulledRecord]) -> list[str]:
    """Record Ids a page needs persons for: its records, their merge masters and converted Contacts."""
    wanted = []
    for record in records:
        wanted.append(record.id)
        wanted.extend(i for i in (record.master_id, record.converted_contact_id) if i)
    return wanted


def adopt_masters(records: list[PulledRecord], persons: dict[str, Person]) -> None:
    """A merge master with no person yet takes its loser's person, so its own row updates that person."""
    for record in records:
        if record.is_deleted and record.master_id:
            loser = persons.get(record.id)
            if loser is not None:
                persons.setdefault(record.master_id, loser)


class RecordFates:
    """Plans deletes, merges, conversions and undeletes, counted on the page's plan for their own steps."""

    def deleted(self, person: Person, record: PulledRecord, persons: dict[str, Person], plan: PagePlan) -> None:
        if record.master_id is not None:
            self._merged(record.object_name, person, record.master_id, persons, plan)
            return
        if person.link.sfdc_is_deleted:
            plan.deletes_counted.skipped += 1
            return
        plan.links[person.id] = replace(person.link, sfdc_is_deleted=True)
        plan.activities.append(ActivityRecord(person.id, types.SFDC_RECORD_DELETED, person.link.sfdc_id, {
            "Salesforce Type": record.object_name, "Source": ChangeOrigin.SALESFORCE,
            "Reason": "deleted in Salesforce; the person is kept and no longer pushed",
        }))
        plan.deletes_counted.deleted += 1

    def _merged(self, object_name: str, loser: Person, master_id: str, persons: dict[str, Person],
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
            plan.deletes_counted.updated += 1
            return
        plan.merge_into(master.id).loser_ids.append(loser.id)
        plan.deletes_counted.deleted += 1

    def converted(self, person: Person, record: PulledRecord, persons: dict[str, Person], plan: PagePlan,
                  account_fields: frozenset[str] = frozenset()) -> None:
        """`account_fields` are the company fields a Contact's Account gives: after the conversion
        they are the Contact's, whichever of the two persons survives."""
        contact_id = record.converted_contact_id
        if contact_id is None or person.link.sfdc_type == "Contact":
            plan.conversions_counted.skipped += 1
            return
        account_id = record.converted_account_id
        lead_id = person.link.sfdc_lead_id or record.id
        contact_person = persons.get(contact_id)
        link = replace(person.link, sfdc_type="Contact", sfdc_id=contact_id, sfdc_contact_id=contact_id,
                       sfdc_lead_id=lead_id, sfdc_account_id=account_id, sfdc_is_deleted=False)
        winner = person
        if contact_person is not None and contact_person.id != person.id:
            link = replace(link, sfdc_created_date=contact_person.link.sfdc_created_date)
            if contact_person.created_at < record.stamp:  # the Contact's person existed before the conversion
                winner = contact_person
            loser = contact_person if winner is person else person
            order = plan.merge_into(winner.id)
            order.loser_ids.append(loser.id)
            order.link = link
            order.own = account_fields
            if winner is person:  # the Lead's company fields give way to the Contact's Account's
                for name in account_fields & contact_person.fields.keys():
                    if not same_value(contact_person.fields[name], person.fields.get(name)):
                        plan.updates[person.id][name] = contact_person.fields[name]
        else:
            plan.links[person.id] = link
        persons[contact_id] = winner
        # the winner's bases stay: a Contact made by the conversion holds the Lead's values, which the
        # Lead's bases are; a Contact that had a person holds its own, which that person's bases are.
        # A value the Contact holds otherwise is a change on Salesforce's side, as it should be.
        plan.activities.append(ActivityRecord(winner.id, types.CONVERT_LEAD, contact_id, {
            "SFDC Lead Id": lead_id, "SFDC Account Id": account_id,
            "SFDC Opportunity Id": record.converted_opportunity_id, "Source": ChangeOrigin.SALESFORCE,
        }))
        plan.conversions_counted.updated += 1

    def undeleted(self, person: Person, record: PulledRecord, plan: PagePlan) -> None:
        """The record is live again; the field merge that follows writes the cleared flag. Changes
        Salesforce refused while it was deleted go out with this cycle's push, not after their back-off."""
        plan.activities.append(ActivityRecord(person.id, types.SFDC_RECORD_UNDELETED, person.link.sfdc_id, {
            "Salesforce Type": record.object_name, "Source": ChangeOrigin.SALESFORCE, "Reason": "restored from the recycle bin",
        }))
        plan.refused_due.append(person.id)
        plan.deletes_counted.updated += 1
