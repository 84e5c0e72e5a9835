"""What the sync filters do to records: the pull's condition, records leaving it, persons not pushed.

A pull filter goes to Salesforce as part of the pull query, so a record that leaves it is simply no
longer returned. To notice it, a pull that read to the end asks once more, for the ids of the
records changed in the same window that are now *outside* the filter (one query per filtered
object), and applies the policy's `leaving` setting to the persons linked to them, in one
transaction with the watermark (so a record changed once is handled once). A push filter is
evaluated on each person of a batch; the pending changes of a person outside it leave the outbox,
each recorded, and `leaving` applies to the person as on the pull side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol, TypeVar

from tandem.errors import ConfigError, TandemError
from tandem.people import activities as types
from tandem.people.models import ErrorLevel, Person, SalesforceLink
from tandem.people.origin import ChangeOrigin
from tandem.people.sync_history import OUTSIDE_FILTER, OUTSIDE_PUSH_FILTER, PUSH_FILTER
from tandem.salesforce.ids import to_18
from tandem.sync.catalog import Catalog
from tandem.sync.plan import ActivityRecord, PagePlan
from tandem.sync.policy import Leaving, SyncPolicy
from tandem.sync.values import shown
from tandem.sync.watermark import Cursor
from tandem.sync.workspace import SyncWorkspace



class _PersonPush(Protocol):
    """What the push filter needs of a push's plan (`tandem.sync.push.PersonPush`)."""

    person: Person
    sent: list[Any]
    not_synced: list[tuple[Any, Any, str]]


P = TypeVar("P", bound=_PersonPush)


class FilterEffects:
    def __init__(self, workspace: SyncWorkspace, policy: SyncPolicy) -> None:
        self.workspace = workspace
        self.policy = policy

    # -- pull --------------------------------------------------------------------------------------

    def pull_condition(self, object_name: str, catalog: Catalog) -> str | None:
        """The object's pull filter, once its plain field names are checked against what the sync user sees."""
        condition = self.policy.pull_filters.get(object_name)
        if condition is None:
            return None
        unknown = sorted(f for f in condition.fields if "." not in f and not catalog.described(object_name, f))
        if unknown:
            raise ConfigError(f"sync.filter.{object_name}",
                              f"{object_name} has no field {', '.join(unknown)} the sync user can see")
        return condition.text

    def pull_leavers(self, object_name: str, window: Cursor, finished: Cursor) -> int:
        """Apply `leaving` to persons whose records changed in `window` and are now outside the filter;
        returns how many persons it touched."""
        condition = self.policy.pull_filters[object_name]
        where = window.where_clause()
        rows = list(self.workspace.client.query(
            f"SELECT Id, SystemModstamp FROM {object_name} WHERE " + (f"{where} AND " if where else "")
            + f"IsDeleted = false AND NOT ({condition.text})"))
        seen = [(to_18(r["Id"]), r["SystemModstamp"]) for r in rows]
        fresh = [record_id for record_id, stamp in seen if not finished.already_applied(record_id, stamp)]
        if not fresh:
            return 0
        reason = f"the record left sync.filter.{object_name} ({condition.text}); it is no longer pulled"
        flagged: list[Person] = []

        def plan() -> PagePlan:
            page = PagePlan()
            flagged.clear()
            persons = self.workspace.persons_by_sfdc_ids(fresh, lock=True)
            for record_id in fresh:
                person = persons.get(record_id)
                if person is None or person.link.sfdc_id != record_id:
                    continue
                if person.link.sfdc_is_deleted:  # back from the recycle bin, outside the filter
                    person = replace(person, link=replace(person.link, sfdc_is_deleted=False))
                    page.links[person.id] = person.link
                    page.activities.append(ActivityRecord(person.id, types.SFDC_RECORD_UNDELETED, record_id, {
                        "Salesforce Type": object_name, "Source": ChangeOrigin.SALESFORCE,
                        "Reason": "restored from the recycle bin"}))
                self._leave(person, object_name, reason, f"sync.filter.{object_name}", page)
                flagged.append(person)
            return page

        # remembered, not advanced to: the watermark never moves past what the pull itself read
        self.workspace.apply_page(object_name, finished.remember(seen), plan)
        self._flag(flagged, object_name, reason)
        return len(flagged)

    # -- push --------------------------------------------------------------------------------------

    def push_inside(self, object_name: str, plans: Sequence[P]) -> list[P]:
        """The plans of persons inside the push filter; the others' changes leave the outbox, recorded."""
        condition = self.policy.push_filter
        if condition is None:
            return list(plans)
        self.check_push_fields()
        inside = [p for p in plans if condition.matches(p.person.fields)]
        outside = [p for p in plans if not condition.matches(p.person.fields)]
        page = PagePlan()
        self.returned(object_name, [p.person for p in inside], PUSH_FILTER, page)
        if not outside:
            if page.activities:
                self.workspace.atomically(lambda: self.workspace.apply(page))
            return inside
        reason = f"{OUTSIDE_PUSH_FILTER} ({condition.text})"
        for push in outside:
            changes = [*push.sent, *(c for c, _, _ in push.not_synced)]
            page.dropped_pending.extend(c.id for c in changes)
            page.activities.extend(ActivityRecord(push.person.id, types.SFDC_VALUE_DROPPED, c.field, {
                "Field": c.field, "Salesforce Type": object_name, "Salesforce Id": push.person.link.sfdc_id,
                "Source": c.origin, "Reason": f"not sent to Salesforce: {reason}", "Rule": PUSH_FILTER,
                "Value": shown(c.value)}) for c in changes)
            self._leave(push.person, object_name, reason, PUSH_FILTER, page)
        self.workspace.atomically(lambda: self.workspace.apply(page))
        self._flag([p.person for p in outside], object_name, reason)
        return inside

    def check_push_fields(self) -> None:
        """Refuse a push filter naming a field no person has (ConfigError naming the key)."""
        if self.policy.push_filter is None:
            return
        for name in sorted(self.policy.push_filter.fields):
            try:
                self.workspace.person_field(name)
            except TandemError:
                raise ConfigError("sync.filter.push", f"no person field is named {name!r}") from None

    # -- both --------------------------------------------------------------------------------------

    def returned(self, object_name: str, persons: Sequence[Person], rule: str, page: PagePlan) -> None:
        """Under `leaving = "flagged"`, persons still flagged outside `rule`'s filter that are inside it
        again (their record pulled, or their values pushed) get an *SFDC Sync Filter* activity saying
        so, which resolves that filter's flag only (`SyncHistory`): its `Rule` names the filter."""
        if self.policy.leaving is not Leaving.FLAGGED or not persons:
            return
        flagged = self.workspace.flagged_outside_filter([p.id for p in persons], rule)
        page.activities.extend(ActivityRecord(person.id, types.SFDC_SYNC_FILTER, person.link.sfdc_id, {
            "Salesforce Type": object_name, "Source": ChangeOrigin.SYNC_CYCLE,
            "Reason": f"back inside {rule}", "Rule": rule, "Outcome": "synced again: its flag is resolved"})
            for person in persons if person.id in flagged)

    def _leave(self, person: Person, object_name: str, reason: str, rule: str, page: PagePlan) -> None:
        leaving = self.policy.leaving
        if leaving is Leaving.UNLINKED:  # the former Ids stay: the record coming back links it again
            page.links[person.id] = SalesforceLink(sfdc_lead_id=person.link.sfdc_lead_id,
                                                   sfdc_contact_id=person.link.sfdc_contact_id)
            page.forget_bases.append(person.id)
        held_back = "pushed" if rule == PUSH_FILTER else "pulled"  # a pull filter's person is still pushed
        page.activities.append(ActivityRecord(person.id, types.SFDC_SYNC_FILTER, person.link.sfdc_id, {
            "Salesforce Type": object_name, "Source": ChangeOrigin.SYNC_CYCLE, "Reason": reason, "Rule": rule,
            "Outcome": {Leaving.KEPT: f"kept: linked, not {held_back} while outside the filter",
                        Leaving.UNLINKED: "unlinked from the record",
                        Leaving.FLAGGED: "flagged: listed in the sync errors"}[leaving]}))

    def _flag(self, persons: Sequence[Person], object_name: str, reason: str) -> None:
        if self.policy.leaving is not Leaving.FLAGGED:
            return
        for person in persons:
            self.workspace.store.sync_errors.record(ErrorLevel.RECORD, OUTSIDE_FILTER, reason, object=object_name,
                                                    sfdc_id=person.link.sfdc_id, person_id=person.id)
