"""Random interleavings of Salesforce edits, Tandem edits and sync cycles, checked against a model.

The model keeps, per record and field, the value both sides agreed on at the last cycle and the
value each side holds now. At a cycle a side has changed a field when its value differs from that
agreed value; a field both sides changed to different values is a conflict won by Salesforce on a
Contact and by Tandem on a Lead, and the losing value must show up in an "SFDC Sync Conflict"
activity. After every cycle both sides must hold the model's value; a last cycle and one more
must then find nothing left to do (no echo of Tandem's own writes).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test
from simple_salesforce import Salesforce

from tandem.emulator.sample_org import ADMIN
from tandem.people.models import StepOperation
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore
from tandem.sync.cycle import SyncEngine
from tests.https_emulator import https_session, password_token
from tests.sync.conftest import sync_client
from tests.sync.observe import CHANGE, CONFLICT, DROPPED, FAILED, SYNCED

CLI = ChangeOrigin.CLI
SF_FIELD = {"title": "Title", "phone": "Phone", "Favorite_Color__c": "Favorite_Color__c"}
VALUES = {
    "title": (None, "Engineer", "CEO", "Programmer", "Analyst", "Director"),
    "phone": (None, "+1 555 0100", "+1 555 0142", "(555) 010-2000", "555.0199"),
    "Favorite_Color__c": (None, "Red", "Green", "Blue"),
}
RECORDS = 6  # the sample org's 4 contacts and 2 leads
EXAMPLES = settings(
    max_examples=15,
    stateful_step_count=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def blank(value: Any) -> Any:
    return None if value == "" else value


@dataclass
class Tracked:
    """One Salesforce record and its person, as the model sees them."""

    object: str
    sfdc_id: str
    person_id: int
    agreed: dict[str, Any]
    salesforce: dict[str, Any] = field(default_factory=dict)
    tandem: dict[str, Any] = field(default_factory=dict)

    def expected(self, name: str) -> tuple[Any, tuple[Any, Any] | None]:
        """The value the next cycle must leave on both sides, and (kept, lost) if it is a conflict."""
        base = self.agreed[name]
        on_sf, in_tandem = self.salesforce[name], self.tandem[name]
        sf_changed, tandem_changed = on_sf != base, in_tandem != base
        if sf_changed and tandem_changed and on_sf != in_tandem:
            kept, lost = (on_sf, in_tandem) if self.object == "Contact" else (in_tandem, on_sf)
            return kept, (kept, lost)
        if sf_changed:
            return on_sf, None
        return in_tandem, None


class SyncMachine(RuleBasedStateMachine):
    base_url: str
    ca_path: Path

    def __init__(self) -> None:
        super().__init__()
        session = https_session(self.ca_path)
        self.http = session
        session.post(f"{self.base_url}/_emulator/reset").raise_for_status()
        token = password_token(self.base_url, session, *ADMIN)
        self.sf = Salesforce(instance_url=self.base_url, session_id=token, session=session)
        self.directory = Path(tempfile.mkdtemp(prefix="tandem-properties-"))
        self.store = PersonStore(f"sqlite:///{self.directory / 'tandem.db'}")
        self.store.migrate()
        self.engine = SyncEngine(sync_client(self.base_url, self.ca_path), self.store)
        report = self.engine.run_cycle()
        assert report.succeeded, report.steps
        self.records = self._track()
        self.last_activity = self._last_activity_id()
        self.step_failed = False

    def _track(self) -> list[Tracked]:
        on_sf = self._salesforce_values()
        tracked = []
        for sfdc_id, (object_name, values) in sorted(on_sf.items(), key=lambda item: (item[1][0], item[0])):
            [person] = self.store.persons.by_sfdc_ids([sfdc_id]).values()
            agreed = {name: blank(values[name]) for name in SF_FIELD}
            assert {name: blank(person.fields[name]) for name in SF_FIELD} == agreed
            tracked.append(Tracked(object_name, sfdc_id, person.id, agreed, dict(agreed), dict(agreed)))
        assert len(tracked) == RECORDS
        return tracked

    def _salesforce_values(self) -> dict[str, tuple[str, dict[str, Any]]]:
        found = {}
        for object_name in ("Contact", "Lead"):
            soql = f"SELECT Id, {', '.join(SF_FIELD.values())} FROM {object_name}"
            for row in self.sf.query_all(soql)["records"]:
                found[row["Id"]] = (object_name, {name: blank(row[sf]) for name, sf in SF_FIELD.items()})
        return found

    def _last_activity_id(self) -> int:
        found = self.store.activities.find()
        return found[-1].id if found else 0

    # -- rules ---------------------------------------------------------------------------------

    @rule(index=st.integers(0, RECORDS - 1), name=st.sampled_from(sorted(SF_FIELD)), data=st.data())
    def edit_in_salesforce(self, index: int, name: str, data: st.DataObject) -> None:
        record = self.records[index]
        value = data.draw(st.sampled_from(VALUES[name]), label="value")
        with self.step():
            getattr(self.sf, record.object).update(record.sfdc_id, {SF_FIELD[name]: value})
        record.salesforce[name] = value

    @rule(index=st.integers(0, RECORDS - 1), name=st.sampled_from(sorted(SF_FIELD)), data=st.data())
    def edit_in_tandem(self, index: int, name: str, data: st.DataObject) -> None:
        record = self.records[index]
        value = data.draw(st.sampled_from(VALUES[name]), label="value")
        with self.step():
            self.store.persons.update(record.person_id, {name: value}, origin=CLI)
        record.tandem[name] = value

    @rule(index=st.integers(0, RECORDS - 1), name=st.sampled_from(sorted(SF_FIELD)), data=st.data())
    def edit_on_both_sides(self, index: int, name: str, data: st.DataObject) -> None:
        """The same field edited on each side between two cycles: a conflict unless the values agree."""
        self.edit_in_salesforce(index, name, data)
        self.edit_in_tandem(index, name, data)

    @rule()
    def sync(self) -> None:
        with self.step():
            self._sync()

    def _sync(self) -> None:
        expected: dict[tuple[int, str], Any] = {}
        conflicts: set[tuple[int, str, Any, Any]] = set()
        for record in self.records:
            for name in SF_FIELD:
                value, conflict = record.expected(name)
                expected[(record.person_id, name)] = value
                if conflict is not None:
                    conflicts.add((record.person_id, name, *conflict))
        report = self.engine.run_cycle()
        assert report.succeeded, report.steps
        self._assert_both_sides(expected)
        logged = self._new_activities()
        assert {(a.person_id, a.attribute("Field"), a.attribute("Kept Value"), a.attribute("Lost Value"))
                for a in logged[CONFLICT.id]} == conflicts
        assert len(logged[CONFLICT.id]) == len(conflicts)
        assert not logged[FAILED.id] and not logged[DROPPED.id]
        for record in self.records:
            for name in SF_FIELD:
                value = expected[(record.person_id, name)]
                record.agreed[name] = record.salesforce[name] = record.tandem[name] = value

    @contextmanager
    def step(self) -> Iterator[None]:
        """Remember a failed step, so that teardown does not bury its error under a second one."""
        try:
            yield
        except BaseException:
            self.step_failed = True
            raise

    # -- checks --------------------------------------------------------------------------------

    def _assert_both_sides(self, expected: dict[tuple[int, str], Any]) -> None:
        on_sf = self._salesforce_values()
        persons = {p.id: p for p in self.store.persons.get_many([r.person_id for r in self.records])}
        for record in self.records:
            sf_values = on_sf[record.sfdc_id][1]
            for name in SF_FIELD:
                want = expected[(record.person_id, name)]
                where = f"{record.object} {record.sfdc_id} {name}"
                assert sf_values[name] == want, f"{where}: Salesforce has {sf_values[name]!r}, expected {want!r}"
                have = blank(persons[record.person_id].fields[name])
                assert have == want, f"{where}: Tandem has {have!r}, expected {want!r}"
        assert self.store.outbox.find() == []
        assert self.store.persons.count() == RECORDS

    def _new_activities(self) -> dict[int, list]:
        found: dict[int, list] = {kind.id: [] for kind in (CONFLICT, FAILED, DROPPED, SYNCED, CHANGE)}
        for activity in self.store.activities.find(after_id=self.last_activity):
            found.setdefault(activity.activity_type_id, []).append(activity)
            self.last_activity = activity.id
        return found

    def teardown(self) -> None:
        try:
            if self.step_failed:
                return
            self._sync()
            report = self.engine.run_cycle()
            assert report.succeeded, report.steps
            logged = self._new_activities()
            assert not logged[CHANGE.id], "a cycle after convergence changed a person (an echo)"
            assert not logged[SYNCED.id] and not logged[CONFLICT.id]
            pushed = [s for s in report.steps if s.operation is StepOperation.PUSH_UPDATES]
            assert all(s.counts.updated == 0 for s in pushed)
        finally:
            self.store.close()
            self.http.close()
            shutil.rmtree(self.directory, ignore_errors=True)


def test_random_edits_on_both_sides_converge_under_the_conflict_rule(base_url, ca_path):
    machine = type("BoundSyncMachine", (SyncMachine,), {"base_url": base_url, "ca_path": ca_path})
    run_state_machine_as_test(machine, settings=EXAMPLES)
