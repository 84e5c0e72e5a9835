"""The *pull* steps: Salesforce records changed since the watermark, merged into persons.

One query per object (`queryAll`, so deletes and conversions arrive with the updates), read
page by page. Each page is applied in one store transaction together with the watermark that
covers it, so a pull killed at any point resumes where its last committed page ended.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any

from tandem.errors import InvalidInput
from tandem.people import activities as types
from tandem.people.models import Person, SalesforceLink, StepCounts
from tandem.people.origin import ChangeOrigin
from tandem.salesforce.ids import to_18
from tandem.sync.catalog import Catalog
from tandem.sync.fates import MergeOrder, RecordFates, adopt_masters, related_ids
from tandem.sync.fields import Direction, FieldRule
from tandem.sync.merge import Outcome, Winner, decide_field, same_value
from tandem.sync.values import from_salesforce, shown
from tandem.sync.watermark import Cursor
from tandem.sync.workspace import ActivityRecord, SyncWorkspace

PAGE_SIZE = 2000
LINK_PERSON_FIELDS = frozenset({"sfdcCreatedDate", "sfdcIsDeleted", "sfdcConvertedDate", "sfdcIsConverted"})
_SYSTEM_FIELDS = {
    "Contact": ("Id", "SystemModstamp", "IsDeleted", "CreatedDate", "MasterRecordId", "AccountId"),
    "Lead": ("Id", "SystemModstamp", "IsDeleted", "CreatedDate", "MasterRecordId", "IsConverted",
             "ConvertedContactId", "ConvertedAccountId", "ConvertedOpportunityId"),
    "Account": ("Id", "SystemModstamp", "IsDeleted"),
}


def pull_query(object_name: str, catalog: Catalog, cursor: Cursor) -> str:
    wanted: list[str] = list(_SYSTEM_FIELDS[object_name])
    wanted += [r.sf_field for r in catalog.syncing(object_name)]
    if object_name == "Contact":
        wanted += [f"Account.{r.sf_field}" for r in catalog.syncing("Account")]
    fields: dict[str, str] = {}
    for name in wanted:
        fields.setdefault(name.lower(), name)
    where = cursor.where_clause()
    return (
        f"SELECT {', '.join(fields.values())} FROM {object_name}"
        + (f" WHERE {where}" if where else "")
        + " ORDER BY SystemModstamp, Id"
    )


def pages(rows: Iterable[dict[str, Any]], size: int = PAGE_SIZE) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while page := list(islice(iterator, size)):
        yield page


@dataclass
class _Tally:
    new: int = 0
    updated: int = 0
    deleted: int = 0
    failed: int = 0
    skipped: int = 0

    def counts(self) -> StepCounts:
        return StepCounts(self.new, self.updated, self.deleted, self.failed, self.skipped)


@dataclass
class PagePlan:
    """Everything one page changes, written by the workspace in one transaction."""

    new_persons: list[tuple[dict[str, Any], SalesforceLink]] = field(default_factory=list)
    updates: dict[int, dict[str, Any]] = field(default_factory=lambda: defaultdict(dict))
    links: dict[int, SalesforceLink] = field(default_factory=dict)
    bases: dict[int, dict[str, Any]] = field(default_factory=lambda: defaultdict(dict))
    dropped_pending: list[int] = field(default_factory=list)
    forget_bases: list[int] = field(default_factory=list)
    activities: list[ActivityRecord] = field(default_factory=list)
    merges: list[MergeOrder] = field(default_factory=list)


class Puller(RecordFates):
    """Applies pulled rows of one object to persons, under the object's conflict policy.

    One query feeds three recorded steps: `pull` returns the updates' counts and leaves those of
    deletes (with merges and undeletes) in `deletes` and of Lead conversions in `conversions`.
    """

    def __init__(self, workspace: SyncWorkspace, catalog: Catalog, policy: Mapping[str, Winner],
                 between_pages: Callable[[int], bool] = lambda done: False) -> None:
        self.workspace = workspace
        self.catalog = catalog
        self.policy = policy
        self.between_pages = between_pages
        self._rules = {name: catalog.syncing(name) for name in ("Contact", "Lead", "Account")}
        self._person_fields: dict[str, Any] = {}
        self.deletes = _Tally()
        self.conversions = _Tally()

    def pull(self, object_name: str) -> StepCounts:
        self.deletes, self.conversions = _Tally(), _Tally()
        cursor = self.workspace.cursor(object_name)
        rows = self.workspace.client.query(pull_query(object_name, self.catalog, cursor), include_deleted=True)
        tally = _Tally()
        read = 0
        read_at = None
        for page in pages(rows):
            read_at = read_at or self.workspace.client.server_time
            read += len(page)
            fresh = [r for r in page if not cursor.already_applied(r["Id"], r["SystemModstamp"])]
            plan = self.plan_accounts(fresh, tally) if object_name == "Account" else self.plan(object_name, fresh, tally)
            cursor = cursor.advance((r["Id"], r["SystemModstamp"]) for r in page)
            self.workspace.apply(plan, object_name, cursor)
            if self.between_pages(read):
                return tally.counts()
        finished = cursor.completed(read_at or self.workspace.client.server_time)
        if finished != cursor:
            self.workspace.save_cursor(object_name, finished)
        return tally.counts()

    # -- Leads and Contacts -------------------------------------------------------------------

    def plan(self, object_name: str, rows: list[dict[str, Any]], tally: _Tally) -> PagePlan:
        plan = PagePlan()
        persons = self.workspace.persons_by_sfdc_ids(related_ids(rows))
        adopt_masters(rows, persons)
        state = self.workspace.field_state(sorted({p.id for p in persons.values()}))
        for row in rows:
            person = persons.get(to_18(row["Id"]))
            if person is None:
                self._plan_new(object_name, row, plan, tally)
            elif row.get("IsDeleted"):
                self._plan_deleted(object_name, person, row, persons, plan)
            elif object_name == "Lead" and row.get("IsConverted"):
                self._plan_converted(person, row, persons, plan)
            else:
                if person.link.sfdc_is_deleted and person.link.sfdc_id == to_18(row["Id"]):
                    self._plan_undeleted(object_name, person, plan)
                self._plan_merge(object_name, person, row, state, plan, tally)
        return plan

    def _values(self, object_name: str, row: Mapping[str, Any], person_id: int | None) -> tuple[dict[str, Any], list[ActivityRecord]]:
        """Pulled values by person field; values that do not fit their field become activities."""
        values: dict[str, Any] = {}
        problems: list[ActivityRecord] = []
        for rule, raw in self._raw_values(object_name, row):
            if rule.person_field in LINK_PERSON_FIELDS:
                continue
            try:
                values[rule.person_field] = from_salesforce(self._person_field(rule.person_field), raw)
            except InvalidInput as error:
                problems.append(ActivityRecord(person_id, types.SFDC_VALUE_DROPPED, rule.person_field, {
                    "Field": rule.person_field, "Salesforce Type": object_name, "Salesforce Id": row["Id"],
                    "Source": ChangeOrigin.SALESFORCE, "Reason": error.reason, "Value": shown(raw),
                }))
        return values, problems

    def _person_field(self, name: str) -> Any:
        """The person field (looked up once a pull: every row asks for the same few dozen)."""
        found = self._person_fields.get(name)
        if found is None:
            found = self._person_fields[name] = self.workspace.store.fields.get(name)
        return found

    def _raw_values(self, object_name: str, row: Mapping[str, Any]) -> Iterator[tuple[FieldRule, Any]]:
        for rule in self._rules.get(object_name) or self.catalog.syncing(object_name):
            yield rule, row.get(rule.sf_field)
        if object_name == "Contact":
            account = row.get("Account") or {}
            for rule in self._rules["Account"]:
                yield rule, account.get(rule.sf_field)

    def _link(self, object_name: str, row: Mapping[str, Any], previous: SalesforceLink | None = None) -> SalesforceLink:
        record_id = to_18(row["Id"])
        link = previous or SalesforceLink()
        account = row.get("AccountId") if object_name == "Contact" else link.sfdc_account_id
        return replace(
            link,
            sfdc_type=object_name,
            sfdc_id=record_id,
            sfdc_lead_id=record_id if object_name == "Lead" else link.sfdc_lead_id,
            sfdc_contact_id=record_id if object_name == "Contact" else link.sfdc_contact_id,
            sfdc_account_id=to_18(account) if account else None,
            sfdc_is_deleted=bool(row.get("IsDeleted")),
            sfdc_created_date=from_salesforce(self.workspace.store.fields.get("sfdcCreatedDate"), row.get("CreatedDate"))
            if row.get("CreatedDate") else link.sfdc_created_date,
        )

    def _plan_new(self, object_name: str, row: dict[str, Any], plan: PagePlan, tally: _Tally) -> None:
        if row.get("IsDeleted") or (object_name == "Lead" and row.get("IsConverted")):
            # nothing of ours to update; a converted lead arrives as its contact
            (self.deletes if row.get("IsDeleted") else self.conversions).skipped += 1
            return
        values, problems = self._values(object_name, row, None)
        plan.activities.extend(replace(p, new_index=len(plan.new_persons)) for p in problems)
        plan.new_persons.append((values, self._link(object_name, row)))
        tally.new += 1

    def _plan_merge(
        self,
        object_name: str,
        person: Person,
        row: Mapping[str, Any],
        state: Mapping[int, tuple[dict[str, Any], dict[str, Any]]],
        plan: PagePlan,
        tally: _Tally,
    ) -> None:
        values, problems = self._values(object_name, row, person.id)
        plan.activities.extend(problems)
        bases, pending = state.get(person.id, ({}, {}))
        pull_only = {r.person_field for r in self._pull_only_rules(object_name)}
        changed = False
        for name, value in values.items():
            winner = Winner.SALESFORCE if name in pull_only else self.policy.get(object_name, Winner.SALESFORCE)
            change = pending.get(name)
            base = bases.get(name)  # no stored base: the value both sides agreed on was empty
            decision = decide_field(
                salesforce=value,
                base=base,
                current=person.fields.get(name),
                winner=winner,
                **({"pending": change.value} if change is not None else {}),
                **({"sent": change.sent_value} if change is not None and change.sent_in_doubt else {}),
            )
            if not same_value(value, base):
                plan.bases[person.id][name] = value
            if decision.changes_person:
                plan.updates[person.id][name] = decision.value
                changed = True
            if decision.drops_pending and change is not None:
                plan.dropped_pending.append(change.id)
            if decision.outcome in (Outcome.CONFLICT_SALESFORCE_WINS, Outcome.CONFLICT_TANDEM_WINS):
                plan.activities.append(self._conflict(object_name, person, row, name, decision, bases.get(name)))
        link = self._link(object_name, row, person.link)
        if link != person.link:
            plan.links[person.id] = link
            changed = True
        if changed:
            tally.updated += 1
        else:
            tally.skipped += 1

    def _pull_only_rules(self, object_name: str) -> list[FieldRule]:
        rules = [r for r in self.catalog.syncing(object_name) if r.direction is Direction.PULL]
        if object_name == "Contact":
            rules += self.catalog.syncing("Account")
        return rules

    def _conflict(self, object_name, person, row, name, decision, base) -> ActivityRecord:
        winner = "Salesforce" if decision.outcome is Outcome.CONFLICT_SALESFORCE_WINS else "Tandem"
        return ActivityRecord(person.id, types.SFDC_SYNC_CONFLICT, name, {
            "Field": name, "Salesforce Type": object_name, "Salesforce Id": to_18(row["Id"]),
            "Source": ChangeOrigin.SYNC_CYCLE, "Reason": f"changed on both sides; {winner} wins ({object_name} policy)",
            "Kept Value": shown(decision.value), "Lost Value": shown(decision.lost),
            "Base Value": shown(base), "Winner": winner,
        })

    # -- Accounts ------------------------------------------------------------------------------

    def plan_accounts(self, rows: list[dict[str, Any]], tally: _Tally) -> PagePlan:
        """Account changes feed the company fields of every person linked to one of its contacts."""
        plan = PagePlan()
        by_account = self.workspace.contacts_by_account_ids([to_18(r["Id"]) for r in rows])
        for row in rows:
            persons = by_account.get(to_18(row["Id"]), [])
            if row.get("IsDeleted") or not persons:
                tally.skipped += 1
                continue
            values, problems = self._values("Account", row, None)
            plan.activities.extend(replace(p, person_id=persons[0].id) for p in problems)
            touched = False
            for person in persons:
                for name, value in values.items():
                    plan.bases[person.id][name] = value
                    if decide_field(salesforce=value, current=person.fields.get(name), winner=Winner.SALESFORCE).changes_person:
                        plan.updates[person.id][name] = value
                        touched = True
            if touched:
                tally.updated += 1
            else:
                tally.skipped += 1
        return plan
