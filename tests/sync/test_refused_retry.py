"""A record Salesforce refused is retried whole: valid changes refused together with a bad value go
out again with the person's next change, and on a back-off schedule even when nothing else changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tandem.people.models import PendingState, StepOperation
from tandem.people.origin import ChangeOrigin
from tandem.sync.cycle import SyncEngine
from tests.sync.conftest import sync_client
from tests.sync.observe import FAILED, activities_of, person

SAMIR = "samir@initech.example"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def _refused(engine, store, sf):
    engine.run_cycle()
    samir = person(store, SAMIR)
    store.persons.update(samir.id, {"fax": "5550009999", "phone": "call me maybe"}, origin=ChangeOrigin.CLI)
    engine.run_cycle()
    assert sf.Contact.get(samir.link.sfdc_id)["Fax"] != "5550009999"  # refused whole
    assert {c.field: c.state for c in store.outbox.find(person_ids=[samir.id])} == {
        "fax": PendingState.FAILED, "phone": PendingState.FAILED}
    return samir


def test_the_valid_change_goes_again_with_the_fix(engine, store, sf):
    samir = _refused(engine, store, sf)
    store.persons.update(samir.id, {"phone": "5550001234"}, origin=ChangeOrigin.CLI)
    engine.run_cycle()
    record = sf.Contact.get(samir.link.sfdc_id)
    assert (record["Fax"], record["Phone"]) == ("5550009999", "5550001234")
    assert store.outbox.find(person_ids=[samir.id]) == []


def test_the_valid_change_goes_again_with_another_fields_change(engine, store, sf):
    samir = _refused(engine, store, sf)
    store.persons.update(samir.id, {"title": "Team Lead"}, origin=ChangeOrigin.CLI)
    engine.run_cycle()  # refused again (the phone is still bad), but tried whole and logged
    assert len(activities_of(store, samir.id, FAILED)) == 2
    store.persons.update(samir.id, {"phone": "5550001234"}, origin=ChangeOrigin.CLI)
    engine.run_cycle()
    record = sf.Contact.get(samir.link.sfdc_id)
    assert (record["Fax"], record["Phone"], record["Title"]) == ("5550009999", "5550001234", "Team Lead")


def test_a_quiet_cycle_offers_a_refused_record_again_after_its_back_off(base_url, ca_path, reset_emulator, store, sf):
    clock = Clock()
    engine = SyncEngine(sync_client(base_url, ca_path), store, clock=clock)
    samir = _refused(engine, store, sf)
    report = engine.run_cycle()  # nothing new, back-off not over: not offered
    [push] = [s for s in report.steps if s.object == "Contact" and s.operation is StepOperation.PUSH_UPDATES]
    assert push.counts.failed == 0
    clock.now += timedelta(minutes=20)
    report = engine.run_cycle()
    [push] = [s for s in report.steps if s.object == "Contact" and s.operation is StepOperation.PUSH_UPDATES]
    assert push.counts.failed == 1  # offered again, refused again (the phone is still bad), and logged
    assert len(activities_of(store, samir.id, FAILED)) == 2
    clock.now += timedelta(minutes=20)  # the next wait is twice as long
    engine.run_cycle()
    assert len(activities_of(store, samir.id, FAILED)) == 2
    clock.now += timedelta(minutes=20)
    engine.run_cycle()
    assert len(activities_of(store, samir.id, FAILED)) == 3


def test_the_valid_change_goes_again_once_the_pull_settles_the_bad_value(engine, store, sf):
    """Before, Salesforce's phone won the refused one, and the fax refused with it waited for its back-off."""
    samir = _refused(engine, store, sf)
    sf.Contact.update(samir.link.sfdc_id, {"Phone": "+1 555 0142"})  # Salesforce wins the phone
    engine.run_cycle()
    record = sf.Contact.get(samir.link.sfdc_id)
    assert (record["Fax"], record["Phone"]) == ("5550009999", "+1 555 0142")
    assert store.outbox.find(person_ids=[samir.id]) == []
