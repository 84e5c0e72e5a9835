"""Tandem-side merges and deletes, done in Salesforce too where they have to be.

- *Merge persons*: the store merge (native rules, see `tandem.people.merging`); when losers are in
  Salesforce, their records are merged there first into the winner's (a winner not in Salesforce
  takes over a loser's record, a Contact's if any, and the others merge into that): Leads into a
  Lead or Contacts into a Contact by SOAP `merge` (two losers a request), a Lead into a Contact by
  converting it into that Contact. A Contact cannot go into a Lead. Salesforce is written first: if
  it refuses part way, the store is untouched, and the merges Salesforce did make reach Tandem with
  the next pull.
- *Delete person*: the person becomes a tombstone that keeps its record and whole activity log;
  with `in_salesforce` its Lead or Contact is deleted too.
- *Delete from SFDC*: the Salesforce record is deleted; the person stays, flagged deleted (as when
  Salesforce deletes it), unless `also_person` deletes it as well.

Each claims its persons (never the cycle's lock), so it runs while a cycle runs, and the cycle's pull
pages, which claim the persons they name, never plan on a half-done merge or delete.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from tandem.errors import InvalidInput, RecordRejected, SalesforceError
from tandem.people import activities as types
from tandem.people.models import Person
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore
from tandem.salesforce.ids import to_18
from tandem.salesforce.soap import MERGE_LIMIT, LeadConvert
from tandem.salesforce.soql import quoted
from tandem.sync.actions import PersonActions
from tandem.sync.claims import CLAIM_WAIT_SECONDS
from tandem.sync.cycle import SyncEngine
from tandem.sync.plan import ActivityRecord
from tandem.sync.pull import Puller
from tandem.sync.workspace import Refusal, rejected

GONE_CODES = frozenset({"ENTITY_IS_DELETED", "NOT_FOUND"})


@dataclass(frozen=True)
class MergeOutcome:
    winner_id: int
    merged_ids: list[int]
    salesforce_merged: list[str] = field(default_factory=list)
    salesforce_converted: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DeleteOutcome:
    person_id: int
    person_deleted: bool
    salesforce_deleted: str | None = None


def _in_salesforce(person: Person) -> bool:
    return person.linked and not person.link.sfdc_is_deleted


def _salesforce_rank(person: Person) -> int:
    """Marketo's order of winners for a merge in the CRM too: a Contact, a Lead, then a person not
    in Salesforce."""
    if not _in_salesforce(person):
        return 2
    return 0 if person.link.sfdc_type == "Contact" else 1


def _record_keeper(linked: list[Person]) -> Person | None:
    """The loser whose record an unlinked winner takes over: a Contact's if any (a Contact cannot
    be merged into a Lead), else the first."""
    return next((p for p in linked if p.link.sfdc_type == "Contact"), linked[0] if linked else None)


def merge_in_tandem_only(store: PersonStore, winner_id: int, loser_ids: Sequence[int], *, source: ChangeOrigin,
                         claim_wait_seconds: float = CLAIM_WAIT_SECONDS) -> MergeOutcome | None:
    """Merge persons none of which is in Salesforce: a store merge with no Salesforce call, so it
    needs no connection (an org that is down, or none configured, stops nothing). None, and nothing
    merged, when one of them is in Salesforce: that merge is `PersonLifecycle.merge`'s."""
    losers = [pid for pid in dict.fromkeys(loser_ids) if pid != winner_id]
    with store.locks.claim([winner_id, *losers], wait=claim_wait_seconds):
        if any(_in_salesforce(store.persons.get(pid)) for pid in (winner_id, *losers)):
            return None
        with store.transaction():
            store.merges.merge(winner_id, losers, origin=source)
    return MergeOutcome(winner_id, losers)


class PersonLifecycle:
    def __init__(self, engine: SyncEngine, *, source: ChangeOrigin = ChangeOrigin.CLI) -> None:
        self.engine = engine
        self.store = engine.store
        self.client = engine.client
        self.source = source
        self._actions = PersonActions(engine)

    # -- merge -----------------------------------------------------------------------------------

    def merge(self, winner_id: int, loser_ids: list[int], *, in_salesforce: bool = True,
              salesforce_picks: bool = False) -> MergeOutcome:
        """Merge the losers into the winner, and their Salesforce records too; without `in_salesforce`
        (Marketo's `mergeInCRM=false`) persons synced to two records or more are refused, since merged
        in Tandem alone their records would stay apart and bring the merged persons back. With
        `salesforce_picks` (Marketo's `mergeInCRM=true`) a Contact's person beats a Lead's and a
        person in Salesforce beats one that is not, whatever winner was named."""
        with self._actions.claimed([winner_id, *loser_ids]):
            winner = self.store.persons.get(winner_id)
            losers = [self.store.persons.get(pid) for pid in dict.fromkeys(loser_ids)]
            if salesforce_picks and (best := min([winner, *losers], key=_salesforce_rank)) is not winner:
                winner, losers = best, [winner, *(p for p in losers if p is not best)]
            linked = [p for p in losers if _in_salesforce(p)]
            synced = [p.id for p in (winner, *linked) if _in_salesforce(p)]
            if not in_salesforce and len(synced) > 1:
                raise InvalidInput("mergeInCRM", f"persons {', '.join(map(str, synced))} are each synced to a "
                                                 "Salesforce record; merge the records too (mergeInCRM=true)")
            merged: list[str] = []
            converted: list[str] = []
            link = None
            master = winner if _in_salesforce(winner) else _record_keeper(linked)
            if master is not None and master is not winner:
                link = master.link  # the winner takes over this record, which the other records merge into
            others = [p for p in linked if p is not master]
            if master is not None and others:
                self._read_again(others)
                merged, converted = self._merge_in_salesforce(master, others)
                if converted and not master.link.sfdc_lead_id:
                    link = replace(master.link, sfdc_lead_id=converted[0])
            stays_contact = _in_salesforce(winner) and winner.link.sfdc_type == "Contact"
            own = self.engine.ensure_catalog().account_fields() if stays_contact else frozenset()
            keeper = master if master is not None and master is not winner else None
            with self.store.transaction():
                if keeper is not None:  # read as the merge finds it: locked, so no other writer changes it first
                    self.store.persons.lock(sorted({winner.id, *(p.id for p in losers)}))
                    keeper = self.store.persons.get(keeper.id)
                    agreed = self.store.bases.get(keeper.id)
                    unsent = {c.field for c in self.store.outbox.find(person_ids=[keeper.id])}
                after = self.store.merges.merge(winner.id, [p.id for p in losers], origin=self.source, link=link,
                                                own=own)
                if keeper is not None:
                    self._take_over_record(after, keeper, agreed, unsent)
        return MergeOutcome(winner.id, [p.id for p in losers], merged, converted)

    def _take_over_record(self, winner: Person, keeper: Person, agreed: dict, unsent: set[str]) -> None:
        """A winner that takes over a loser's record takes the values agreed with it, and pushes its
        own where they differ from the record's, as its values win the merge: else the record keeps
        the loser's, and its next change in Salesforce brings them back over the winner's. A Contact
        taken over brings its Account's company fields, which only Salesforce gives."""
        catalog = self.engine.ensure_catalog()
        if agreed:
            self.store.bases.set(winner.id, agreed)
        if keeper.link.sfdc_type == "Contact":
            company = {name: keeper.fields.get(name) for name in catalog.account_fields()
                       if winner.fields.get(name) != keeper.fields.get(name)}
            if company:
                self.store.persons.update(winner.id, company, origin=ChangeOrigin.SALESFORCE,
                                          reason=f"took over Contact {keeper.link.sfdc_id} in a merge")
        pushable = catalog.pushable(winner.link.sfdc_type or "Lead")
        values = {name: winner.fields.get(name) for name in pushable if name in winner.fields
                  and (name in unsent or winner.fields.get(name) != keeper.fields.get(name))}
        if values:
            self.store.outbox.record(winner.id, values, self.source)

    def _read_again(self, losers: list[Person]) -> None:
        """What changed in Salesforce on the records about to be merged away since the last pull reaches
        their persons first, as a pull would bring it (the merge there drops it with the record), so the
        merge's rules see it: a query per object, and only for a merge in Salesforce."""
        puller = Puller(self.engine.workspace, self.engine.ensure_catalog(), self.engine.policy)
        for kind in ("Lead", "Contact"):
            puller.read_again(kind, [p.link.sfdc_id for p in losers if p.link.sfdc_type == kind and p.link.sfdc_id])

    def _merge_in_salesforce(self, winner: Person, losers: list[Person]) -> tuple[list[str], list[str]]:
        kind = winner.link.sfdc_type
        same = [p.link.sfdc_id for p in losers if p.link.sfdc_type == kind]
        leads = [p.link.sfdc_id for p in losers if p.link.sfdc_type == "Lead" and kind == "Contact"]
        if len(same) + len(leads) != len(losers):
            raise InvalidInput("winner", "a Salesforce Contact cannot be merged into a Lead; "
                                         "make the Contact's person the winner")
        for start in range(0, len(same), MERGE_LIMIT):
            batch = same[start:start + MERGE_LIMIT]
            outcome = self.client.merge_records(kind, winner.link.sfdc_id, batch)
            if isinstance(outcome, list) and not self._merged_already(kind, winner.link.sfdc_id, batch):
                raise self._refused(winner, outcome, f"Salesforce refused to merge into {kind} {winner.link.sfdc_id}")
        if leads:
            status = self._actions.converted_status()
            converts = [LeadConvert(lead_id=lead, converted_status=status, contact_id=winner.link.sfdc_id,
                                    account_id=winner.link.sfdc_account_id, do_not_create_opportunity=True)
                        for lead in leads]
            for result in self.client.convert_leads(converts):
                if isinstance(result, tuple) and not self._converted_already(result[0], winner.link.sfdc_id):
                    raise self._refused(winner, result[1],
                                        f"Salesforce refused to convert Lead {result[0]} into the Contact")
        return [to_18(i) for i in same], [to_18(i) for i in leads]

    def _merged_already(self, kind: str, master_id: str, loser_ids: list[str]) -> bool:
        """Whether the losers are merged into the master already: a merge sent again after its answer
        was lost is refused, as its losers are gone."""
        ids = ", ".join(map(quoted, loser_ids))
        rows = self.client.query(f"SELECT Id, MasterRecordId FROM {kind} WHERE Id IN ({ids})", include_deleted=True)
        masters = [to_18(row["MasterRecordId"]) if row.get("MasterRecordId") else None for row in rows]
        return len(masters) == len(loser_ids) and all(m == to_18(master_id) for m in masters)

    def _converted_already(self, lead_id: str | None, contact_id: str) -> bool:
        """Whether the Lead is converted into the Contact already (a conversion sent again after its
        answer was lost is refused)."""
        if lead_id is None:
            return False
        rows = list(self.client.query(f"SELECT IsConverted, ConvertedContactId FROM Lead WHERE Id = {quoted(lead_id)}"))
        return bool(rows) and bool(rows[0].get("IsConverted")) and rows[0].get("ConvertedContactId") is not None \
            and to_18(rows[0]["ConvertedContactId"]) == to_18(contact_id)

    def _refused(self, winner: Person, errors, reason: str) -> RecordRejected:
        """The merge stops here: the refusal is recorded on the winner and raised."""
        first = errors[0] if errors else None
        refusal = Refusal(winner.link.sfdc_type or "Lead", "merge", self.source, reason, first)
        self.engine.workspace.refuse(winner, refusal)
        return rejected(first, f"{reason}: {first.message}" if first else reason)

    # -- delete ----------------------------------------------------------------------------------

    def delete(self, person_id: int, *, in_salesforce: bool = False) -> DeleteOutcome:
        with self._actions.claimed([person_id]):
            person = self.store.persons.get(person_id)
            removed = self._delete_record(person) if in_salesforce and _in_salesforce(person) else None
            self.store.persons.delete(person.id, origin=self.source, remove_from_crm=in_salesforce)
        return DeleteOutcome(person.id, True, removed)

    def delete_from_salesforce(self, person_id: int, *, also_person: bool = False) -> DeleteOutcome:
        with self._actions.claimed([person_id]):
            person = self.store.persons.get(person_id)
            if not _in_salesforce(person):
                raise InvalidInput("person", f"person {person.id} has no Lead or Contact in Salesforce")
            removed = self._delete_record(person)
            if also_person:
                self.store.persons.delete(person.id, origin=self.source, remove_from_crm=True)
            else:
                with self.store.transaction():
                    self.store.persons.set_links([(person.id, replace(person.link, sfdc_is_deleted=True))],
                                                 reason="Delete from SFDC")
                    self.engine.workspace.log([ActivityRecord(person.id, types.SFDC_RECORD_DELETED, removed, {
                        "Salesforce Type": person.link.sfdc_type, "Source": self.source,
                        "Reason": "Delete from SFDC; the person is kept and no longer pushed",
                    })])
        return DeleteOutcome(person.id, also_person, removed)

    def _delete_record(self, person: Person) -> str:
        record_id = person.link.sfdc_id
        assert person.link.sfdc_type is not None and record_id is not None
        try:
            self.client.delete(person.link.sfdc_type, record_id)
        except SalesforceError as error:
            if error.error_code not in GONE_CODES:
                raise
        return record_id
