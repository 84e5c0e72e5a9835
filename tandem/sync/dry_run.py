"""The next cycle, read-only: what it would pull, create, update, push, settle and filter out.

A dry run runs the cycle's own planners on what Salesforce and the store hold now, and writes
nothing (the push is planned on the store as the pull would leave it: a record deleted or merged
away pushes nothing, a change the pull settles is not sent, a converted Lead's person pushes to
its Contact): Salesforce is only queried (pulls, never a write), the store is only read (through a
workspace whose writes refuse, without row locks), no watermark moves, and its calls are not
charged to the budget. `compare` runs it under two policies (`tandem policy check`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from math import ceil
from typing import Any

from tandem.errors import StoreError
from tandem.people import activities as types
from tandem.people.merging import merged_values
from tandem.people.models import PendingChange, PendingState, Person, SalesforceLink
from tandem.people.origin import ChangeOrigin
from tandem.salesforce.client import COLLECTION_LIMIT
from tandem.salesforce.ids import to_18
from tandem.sync.catalog import Catalog
from tandem.sync.cycle import PULL_ORDER, PUSH_ORDER, SyncEngine
from tandem.sync.plan import MergeOrder, PagePlan
from tandem.sync.policy import Leaving, SyncPolicy
from tandem.sync.policy_effects import FilterEffects
from tandem.sync.policy_fields import applied_to, field_rules
from tandem.sync.pull import Puller, pages, pull_query
from tandem.sync.push import plan_person
from tandem.sync.workspace import SyncWorkspace

LISTED = 200
"""Records listed per object and section (the counts are whole)."""


class _ReadOnlyWorkspace(SyncWorkspace):
    """The engine's workspace that reads without row locks and refuses every write."""

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise StoreError("a dry run writes nothing")

    apply = apply_page = save_cursor = mark_in_flight = delivered = delivered_many = relinked = not_sent = refuse = _refuse
    refresh_statistics = record_api_usage = keep_refused_login = recall_refused_login = log = _refuse

    def __init__(self, source: SyncWorkspace) -> None:
        super().__init__(source.client, source.store, source.commit_lag)

    def persons_by_sfdc_ids(self, sfdc_ids: Any, *, lock: bool = False) -> dict[str, Person]:
        return super().persons_by_sfdc_ids(sfdc_ids, lock=False)

    def contacts_by_account_ids(self, account_ids: Any, *, lock: bool = False) -> dict[str, list[Person]]:
        return super().contacts_by_account_ids(account_ids, lock=False)

    def installation_id(self) -> str:
        return self.store.installation.existing() or "none yet"


@dataclass
class _PullEffects:
    """What the pulled pages would change under the push that follows them."""

    settled: set[int] = field(default_factory=set)
    """Pending changes the pull drops (Salesforce's value applied, agreed, or winning a conflict)."""
    links: dict[int, SalesforceLink] = field(default_factory=dict)
    """Persons' links as the pull leaves them (deleted, relinked, converted to a Contact)."""
    merges: list[MergeOrder] = field(default_factory=list)
    """The merges the pull makes (in Salesforce, or a Lead converted into a Contact with a person)."""

    def add(self, plan: PagePlan) -> None:
        self.settled.update(plan.dropped_pending)
        self.links.update(plan.links)
        for order in plan.merges:
            self.merges.append(order)
            if order.link is not None:
                self.links[order.winner_id] = order.link


@dataclass
class DryRunReport:
    pull: dict[str, dict[str, Any]] = field(default_factory=dict)
    push: dict[str, dict[str, Any]] = field(default_factory=dict)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    filtered_out: dict[str, dict[str, Any]] = field(default_factory=dict)
    api_calls: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"pull": self.pull, "push": self.push, "conflicts": self.conflicts,
                "filteredOut": self.filtered_out, "apiCalls": self.api_calls}


class DryRun:
    def __init__(self, engine: SyncEngine, policy: SyncPolicy | None = None) -> None:
        self.engine = engine
        self.policy = policy or engine.policy
        self.workspace = _ReadOnlyWorkspace(engine.workspace)
        self.client = engine.client

    def run(self) -> DryRunReport:
        calls_before = self.client.calls
        catalog = self._catalog()
        report = DryRunReport()
        puller = Puller(self.workspace, catalog, self.policy)
        effects = _PullEffects()
        reads = 1  # the cycle asks the objects' first pages in one composite call; each further call adds one
        for object_name in PULL_ORDER:
            report.pull[object_name], calls = self._pull(puller, object_name, catalog, report, effects)
            reads += calls - 1
        held = self._held_after(effects)
        for object_name in PUSH_ORDER:
            report.push[object_name] = self._push(object_name, catalog, report, held.get(object_name, {}))
        spent = self.client.calls - calls_before
        pushes = sum(ceil(p["persons"] / COLLECTION_LIMIT) * 2 for p in report.push.values())
        report.api_calls = {"spentByThisDryRun": spent, "read": reads, "push": pushes, "cycle": reads + pushes}
        return report

    def _catalog(self) -> Catalog:
        """The org's catalog as the sync user sees it now, under this dry run's policy."""
        self.engine.refresh_catalog(add_fields=False, keep_describes=False)
        assert self.engine.org_catalog is not None
        return applied_to(self.policy, self.engine.org_catalog)

    # -- pull ----------------------------------------------------------------------------------------

    def _pull(self, puller: Puller, object_name: str, catalog: Catalog, report: DryRunReport,
              effects: _PullEffects) -> tuple[dict[str, Any], int]:
        """What the pull of `object_name` would do, and the calls it took to read (as the cycle would)."""
        calls_before = self.client.calls
        cursor = self.workspace.cursor(object_name)
        condition = puller.filters.pull_condition(object_name, catalog)
        rows = self.client.query(pull_query(object_name, catalog, cursor, condition), include_deleted=True)
        parser = puller._parser(object_name)
        pull_only = puller._pull_only(object_name)
        tally: Counter[str] = Counter()
        created: list[str] = []
        updated: list[dict[str, Any]] = []
        for page in pages(rows, self.engine.pull_page_size):
            records = [parser.parse(row) for row in page]
            fresh = [r for r in records if not cursor.already_applied(r.id, r.stamp)]
            tally["read"] += len(fresh)  # a row at the watermark's stamp that was applied is read again, not pulled
            plan = (puller.plan_accounts(fresh) if object_name == "Account"
                    else puller.plan(object_name, fresh, pull_only))
            self._count(plan, tally, created, updated)
            report.conflicts.extend(self._conflicts(plan))
            effects.add(plan)
        if condition:
            report.filtered_out[object_name] = self._leavers(object_name, cursor, puller, effects)
        return {"records": tally["read"], "create": tally["new"], "update": tally["updated"],
                "unchanged": tally["skipped"], "delete": tally["deleted"], "convert": tally["converted"],
                "filter": condition, "created": created[:LISTED], "updated": updated[:LISTED]}, \
            self.client.calls - calls_before

    @staticmethod
    def _count(plan: PagePlan, tally: Counter[str], created: list[str], updated: list[dict[str, Any]]) -> None:
        tally["new"] += plan.updates_counted.new
        tally["updated"] += plan.updates_counted.updated
        tally["skipped"] += (plan.updates_counted.skipped + plan.deletes_counted.skipped
                             + plan.conversions_counted.skipped)  # read, and nothing of ours to change
        tally["deleted"] += plan.deletes_counted.deleted + plan.deletes_counted.updated
        tally["converted"] += plan.conversions_counted.updated + plan.conversions_counted.new
        created.extend(str(values.get("email") or link.sfdc_id) for values, link in plan.new_persons)
        changed = {person_id: set(values) for person_id, values in plan.updates.items() if values}
        for person_id, link in plan.links.items():  # counted as updated too: a link field alone may move
            before = plan.read.get(person_id)
            was = before.link.as_fields() if before is not None else {}
            moved = {name for name, value in link.as_fields().items() if was.get(name) != value}
            if moved:
                changed.setdefault(person_id, set()).update(moved)
        updated.extend({"personId": person_id, "fields": sorted(names)} for person_id, names in changed.items())

    @staticmethod
    def _conflicts(plan: PagePlan) -> list[dict[str, Any]]:
        return [{"personId": a.person_id, "field": a.attributes["Field"], "object": a.attributes["Salesforce Type"],
                 "salesforceId": a.attributes["Salesforce Id"], "winner": a.attributes["Winner"],
                 "kept": a.attributes["Kept Value"], "lost": a.attributes["Lost Value"], "rule": a.attributes["Rule"]}
                for a in plan.activities if a.kind is types.SFDC_SYNC_CONFLICT]

    def _leavers(self, object_name: str, cursor: Any, puller: Puller, effects: _PullEffects) -> dict[str, Any]:
        condition = self.policy.pull_filters[object_name]
        where = cursor.where_clause()
        rows = list(self.client.query(
            f"SELECT Id FROM {object_name} WHERE " + (f"{where} AND " if where else "")
            + f"IsDeleted = false AND NOT ({condition.text})"))
        ids = [to_18(r["Id"]) for r in rows]
        linked = self.workspace.persons_by_sfdc_ids(ids)
        for record_id, p in linked.items():
            if p.link.sfdc_id != record_id:
                continue
            if self.policy.leaving is Leaving.UNLINKED:  # the cycle unlinks them before its push
                effects.links[p.id] = SalesforceLink(sfdc_lead_id=p.link.sfdc_lead_id,
                                                     sfdc_contact_id=p.link.sfdc_contact_id)
            elif p.link.sfdc_is_deleted:  # back from the recycle bin: pushed again
                effects.links[p.id] = replace(p.link, sfdc_is_deleted=False)
        return {"records": len(ids), "ids": ids[:LISTED], "linkedPersons": sorted(p.id for p in linked.values()),
                "leaving": self.policy.leaving.value, "filter": condition.text}

    # -- push ----------------------------------------------------------------------------------------

    def _held_after(self, effects: _PullEffects) -> dict[str, dict[int, tuple[Person, list[PendingChange]]]]:
        """Per object, the persons the push would find with changes once the pull has run, and those
        changes (as `held_batch` gives them: refused ones too, failed ones waiting for their back-off not)."""
        due: set[int] = set()
        refused: set[int] = set()
        for object_name in PUSH_ORDER:
            for include_failed, found in ((False, due), (True, refused)):
                after = 0
                while ids := self.workspace.due_persons(object_name, after_person_id=after,
                                                        max_persons=COLLECTION_LIMIT, include_failed=include_failed,
                                                        now=self.engine.clock()):
                    after = ids[-1]
                    found.update(ids)
        # a record the pull brings back (undeleted, linked again) pushes its person's waiting changes
        revived = {pid for pid, link in effects.links.items() if link.sfdc_id and not link.sfdc_is_deleted} - due
        merging = {pid for order in effects.merges for pid in (order.winner_id, *order.loser_ids)}
        held_now = self.workspace.pending_changes(sorted(due | refused | revived | merging))
        pending = {pid: {name: c for name, c in changes.items() if c.id not in effects.settled}
                   for pid, changes in held_now.items()}
        due.update(pid for pid in revived
                   if any(c.state is not PendingState.FAILED for c in pending.get(pid, {}).values()))
        # a person waiting for its back-off goes again once the pull settles one of its refused changes
        due.update(pid for pid in refused - due if any(
            c.id in effects.settled and c.state is PendingState.FAILED for c in held_now.get(pid, {}).values()))
        persons = self.workspace.persons(sorted(due | merging))
        queued = {pid: dict(pending.get(pid, {})) for pid in due}
        for order in effects.merges:  # what a merge queues on its winner (a loser's changes, filled fields)
            winner = persons.get(order.winner_id)
            losers = [persons[pid] for pid in order.loser_ids if pid in persons]
            if winner is None:
                continue
            values, _ = merged_values(winner, losers, pending, order.own)
            target = queued.setdefault(winner.id, dict(pending.get(winner.id, {})))
            for name, value in values.items():
                target[name] = PendingChange(0, winner.id, name, value, self.engine.clock(), ChangeOrigin.SALESFORCE,
                                             PendingState.PENDING, 0, None, None)
            for pid in order.loser_ids:
                queued.pop(pid, None)
        held: dict[str, dict[int, tuple[Person, list[PendingChange]]]] = {}
        for person_id, by_field in sorted(queued.items()):
            person = persons.get(person_id)
            if person is None or not by_field:
                continue
            link = effects.links.get(person_id, person.link)
            if not link.sfdc_id or link.sfdc_is_deleted or link.sfdc_type not in PUSH_ORDER:
                continue
            held.setdefault(link.sfdc_type, {})[person_id] = (
                replace(person, link=link) if link != person.link else person,
                sorted(by_field.values(), key=lambda c: c.id))
        return held

    def _push(self, object_name: str, catalog: Catalog, report: DryRunReport,
              held: dict[int, tuple[Person, list[PendingChange]]]) -> dict[str, Any]:
        rules = field_rules(self.policy, catalog, object_name)
        condition = self.policy.push_filter
        persons_out: list[dict[str, Any]] = []
        outside: list[dict[str, Any]] = []
        not_sent = 0
        fields: Counter[str] = Counter()
        for person_id, (person, changes) in sorted(held.items()):
            plan = plan_person(catalog, object_name, person, changes, rules)
            entry = {"personId": person_id, "email": person.fields.get("email"),
                     "salesforceId": person.link.sfdc_id, "fields": sorted(c.field for c in plan.sent)}
            if condition is not None and not condition.matches(person.fields):
                outside.append(entry)
                continue
            not_sent += len(plan.not_synced)
            if plan.sent:
                persons_out.append(entry)
                fields.update(c.field for c in plan.sent)
        if condition is not None:
            report.filtered_out[f"push.{object_name}"] = {
                "persons": len(outside), "listed": outside[:LISTED], "leaving": self.policy.leaving.value,
                "filter": condition.text}
        return {"persons": len(persons_out), "records": persons_out[:LISTED], "fields": dict(fields),
                "notSent": not_sent}


def compare(engine: SyncEngine, new_policy: SyncPolicy) -> dict[str, Any]:
    """The next cycle under the policy in force and under `new_policy`, and what would change. A push
    filter naming no person field is refused here, not at the first push under it."""
    FilterEffects(engine.workspace, new_policy).check_push_fields()
    now = DryRun(engine).run().as_json()
    then = DryRun(engine, new_policy).run().as_json()
    changes: dict[str, Any] = {"pull": {}, "push": {}}
    for side in ("pull", "push"):
        for object_name, before in now[side].items():
            after = then[side][object_name]
            delta = {key: {"now": before[key], "new": after[key]} for key in before
                     if isinstance(before[key], int) and before[key] != after[key]}
            if side == "push" and before["fields"] != after["fields"]:
                delta["fields"] = {"now": before["fields"], "new": after["fields"]}
            if delta:
                changes[side][object_name] = delta
    rules_now = {(c["personId"], c["field"]): c for c in now["conflicts"]}
    changes["conflicts"] = [
        {**c, "winnerNow": rules_now[key]["winner"], "ruleNow": rules_now[key]["rule"]}
        for c in then["conflicts"] if (key := (c["personId"], c["field"])) in rules_now
        and rules_now[key]["winner"] != c["winner"]
    ]
    changes["filteredOut"] = {key: {"now": now["filteredOut"].get(key), "new": then["filteredOut"].get(key)}
                              for key in sorted({*now["filteredOut"], *then["filteredOut"]})
                              if _dropped(now["filteredOut"].get(key)) != _dropped(then["filteredOut"].get(key))}
    return {"now": now, "new": then, "changes": changes}


def _dropped(section: dict[str, Any] | None) -> tuple[Any, ...]:
    """What a filter section drops (records or persons), whatever its condition's text."""
    if section is None:
        return ()
    return (section.get("records"), section.get("persons"), section.get("ids"),
            [p["personId"] for p in section.get("listed", ())])
