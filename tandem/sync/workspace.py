"""What a sync step works with: the Salesforce client, the people store, and their shared moves.

The steps decide (pure plans); the workspace reads what they need in bulk and writes a plan,
its activities and its watermark in one store transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from tandem.people.activities import ActivityType
from tandem.people.models import PendingChange, Person
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore
from tandem.salesforce.client import SalesforceClient
from tandem.sync.watermark import DEFAULT_OVERLAP, Cursor

if TYPE_CHECKING:
    from tandem.sync.pull import PagePlan

PULL_STREAM = "pull"


@dataclass(frozen=True)
class ActivityRecord:
    """An activity a step wants written; for a person the page creates, `new_index` says which."""

    person_id: int | None
    kind: ActivityType
    primary_value: str | None
    attributes: Mapping[str, Any]
    new_index: int | None = None


class SyncWorkspace:
    def __init__(self, client: SalesforceClient, store: PersonStore, overlap: timedelta = DEFAULT_OVERLAP) -> None:
        self.client = client
        self.store = store
        self.overlap = overlap

    def cursor(self, object_name: str) -> Cursor:
        mark = self.store.watermarks.get(object_name, PULL_STREAM)
        return Cursor.load(mark.value if mark else None, self.overlap)

    def save_cursor(self, object_name: str, cursor: Cursor) -> None:
        self.store.watermarks.set(object_name, PULL_STREAM, cursor.dump())

    def persons_by_sfdc_ids(self, sfdc_ids: Sequence[str]) -> dict[str, Person]:
        return self.store.persons.by_sfdc_ids(sfdc_ids)

    def contacts_by_account_ids(self, account_ids: Sequence[str]) -> dict[str, list[Person]]:
        return self.store.persons.by_account_ids(account_ids, sfdc_type="Contact")

    def field_state(self, person_ids: Sequence[int]) -> dict[int, tuple[dict[str, Any], dict[str, PendingChange]]]:
        """Per person: the agreed bases and the pending change of each field."""
        bases = self.store.bases.for_persons(person_ids)
        pending: dict[int, dict[str, PendingChange]] = defaultdict(dict)
        for change in self.store.outbox.find(person_ids=person_ids):
            pending[change.person_id][change.field] = change
        return {pid: (bases.get(pid, {}), pending.get(pid, {})) for pid in person_ids}

    def apply(self, plan: PagePlan, object_name: str, cursor: Cursor) -> None:
        """Write one page's plan and move the watermark past it, in one transaction."""
        store = self.store
        with store.transaction():
            new_ids: list[int] = []
            if plan.new_persons:
                new_ids = store.persons.add_linked(plan.new_persons, origin=ChangeOrigin.SALESFORCE)
                store.bases.set_many({pid: {k: v for k, v in fields.items() if v is not None}
                                      for pid, (fields, _) in zip(new_ids, plan.new_persons, strict=True)})
            if plan.dropped_pending:
                store.outbox.clear(plan.dropped_pending)
            updates = [(pid, values) for pid, values in plan.updates.items() if values]
            if updates:
                store.persons.update_many(updates, origin=ChangeOrigin.SALESFORCE, reason="changed in Salesforce")
            if plan.links:
                store.persons.set_links(list(plan.links.items()), reason="changed in Salesforce")
            for pid in plan.forget_bases:
                store.bases.clear(pid)
            if plan.bases:
                store.bases.set_many({pid: b for pid, b in plan.bases.items() if pid not in plan.forget_bases})
            self.log(plan.activities, new_ids)
            for order in plan.merges:  # last: what the page wrote about a loser moves to its winner
                store.merges.merge(order.winner_id, order.loser_ids, origin=ChangeOrigin.SALESFORCE, link=order.link)
            store.watermarks.set(object_name, PULL_STREAM, cursor.dump())

    def record_api_usage(self) -> None:
        """Keep the org's API usage from the last answer, for `tandem status`."""
        usage = self.client.api_usage
        if usage is not None:
            self.store.api_usage.record(*usage)

    def log(self, records: Sequence[ActivityRecord], created: Sequence[int] = ()) -> None:
        rows = []
        for record in records:
            person_id = record.person_id if record.new_index is None else created[record.new_index]
            if person_id is None:
                continue
            rows.append((person_id, record.kind, record.primary_value, dict(record.attributes)))
        if rows:
            self.store.activities.log_many(rows)
