"""What the cycle claims before it touches persons, so that it never works on a person an action holds.

Actions claim their persons for as long as they work (seconds), never the cycle's lock. A pull page
of Leads or Contacts claims every person its records name (linked to a record, its merge master or
its converted Contact, or named by the Tandem id a record carries) and then the page key, waiting
for the actions that hold any of them; it reads those persons only once it holds them, so it plans
on what the actions left. A push batch claims the persons no one holds and leaves the others to the
action at work on them (or to the next cycle); it re-reads the changes of the persons it holds,
since an action may have sent them since the batch was read.

An Account page claims no person: it writes only the Account fields of its contacts' persons, which
come from Salesforce alone (no action sends or settles them), and one Account may have any number
of contacts, more than PostgreSQL's lock table is sized for. A person an action deletes or merges
away while such a page is planned makes the page fail; the next cycle runs it again.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from tandem.people.locks import PAGE
from tandem.people.store import PersonStore
from tandem.sync.fates import related_ids
from tandem.sync.records import PulledRecord
from tandem.sync.workspace import HeldBatch, SyncWorkspace

CLAIM_WAIT_SECONDS = 30.0
"""How long a pull page or an action waits for the holders of the persons it needs."""


class CycleClaims:
    def __init__(self, workspace: SyncWorkspace, store: PersonStore, wait_seconds: float = CLAIM_WAIT_SECONDS) -> None:
        self.workspace = workspace
        self.store = store
        self.wait_seconds = wait_seconds

    @contextmanager
    def page(self, object_name: str, records: Sequence[PulledRecord]) -> Iterator[None]:
        """Hold the persons a pull page names, and the page key, while it is read, planned and applied."""
        with self.store.locks.claim([*self.named(object_name, records), PAGE], wait=self.wait_seconds):
            yield

    def named(self, object_name: str, records: Sequence[PulledRecord]) -> set[int]:
        """Every person a page of Leads or Contacts may read or write (a superset is harmless)."""
        if object_name == "Account":
            return set()
        found = self.store.api.person_ids_by("sfdcId", related_ids(list(records)))
        named = {pid for ids in found.values() for pid in ids}
        named.update(pid for r in records if (pid := self.workspace.own_person_id(r.tandem_person_id)) is not None)
        # a record no person is linked to may be taken by the person its own was merged into
        named.update(pid for r in records if r.id not in found and r.tandem_person_id
                     and (pid := self.workspace.made_for(r.tandem_person_id)) is not None)
        return named

    @contextmanager
    def batch(self, object_name: str, person_ids: Sequence[int]) -> Iterator[HeldBatch]:
        """Hold the batch's persons that no one holds now; yields them, and their changes, as they are once held."""
        with self.store.locks.claim_free(person_ids) as claim:
            yield self.workspace.held_batch(object_name, sorted(claim.keys))
