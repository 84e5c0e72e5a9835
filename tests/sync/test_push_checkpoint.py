"""A push never overwrites a Salesforce change it has not pulled: the conflict rule settles it at the push.

The sales rep edits the record after the cycle's pull and before its push (the window spans the whole
Lead pull), on the same field the marketer changed in Tandem.
"""

from __future__ import annotations

from tandem.people.models import StepOperation
from tandem.people.origin import ChangeOrigin
from tests.sync.observe import CONFLICT, activities_of, person

CLI = ChangeOrigin.CLI


def _edit_before_push(engine, object_name, edit):
    """Run `edit` as the cycle's push of `object_name` starts (after every pull of the cycle)."""
    def on_step(name, operation):
        if name == object_name and operation is StepOperation.PUSH_UPDATES:
            edit()
    engine.on_step = on_step


def test_contact_edit_made_after_the_pull_wins_over_the_pending_tandem_value(engine, store, sf):
    engine.run_cycle()
    wile = person(store, "wile@acme.example")
    store.persons.update(wile.id, {"title": "Marketing Title"}, origin=CLI)
    _edit_before_push(engine, "Contact", lambda: sf.Contact.update(wile.link.sfdc_id, {"Title": "Rep Title"}))
    engine.run_cycle()
    engine.on_step = lambda *_: None
    engine.run_cycle()
    assert sf.Contact.get(wile.link.sfdc_id)["Title"] == "Rep Title"
    assert person(store, "wile@acme.example").fields["title"] == "Rep Title"
    [conflict] = activities_of(store, wile.id, CONFLICT)
    assert conflict.attribute("Lost Value") == "Marketing Title" and conflict.attribute("Winner") == "Salesforce"
    assert store.outbox.find(person_ids=[wile.id]) == []


def test_lead_edit_made_after_the_pull_loses_and_is_logged(engine, store, sf):
    engine.run_cycle()
    lisa = person(store, "lisa@springfield.example")
    store.persons.update(lisa.id, {"title": "Marketing Title"}, origin=CLI)
    _edit_before_push(engine, "Lead", lambda: sf.Lead.update(lisa.link.sfdc_id, {"Title": "Rep Title"}))
    engine.run_cycle()
    engine.on_step = lambda *_: None
    engine.run_cycle()
    assert sf.Lead.get(lisa.link.sfdc_id)["Title"] == "Marketing Title"
    assert person(store, "lisa@springfield.example").fields["title"] == "Marketing Title"
    [conflict] = activities_of(store, lisa.id, CONFLICT)
    assert conflict.attribute("Lost Value") == "Rep Title" and conflict.attribute("Winner") == "Tandem"


def test_a_salesforce_change_to_another_field_does_not_stop_the_push(engine, store, sf):
    engine.run_cycle()
    wile = person(store, "wile@acme.example")
    store.persons.update(wile.id, {"title": "Marketing Title"}, origin=CLI)
    _edit_before_push(engine, "Contact", lambda: sf.Contact.update(wile.link.sfdc_id, {"Phone": "5550001111"}))
    engine.run_cycle()
    engine.on_step = lambda *_: None
    engine.run_cycle()
    record = sf.Contact.get(wile.link.sfdc_id)
    assert record["Title"] == "Marketing Title" and record["Phone"] == "5550001111"
    wile = person(store, "wile@acme.example")
    assert wile.fields["title"] == "Marketing Title" and wile.fields["phone"] == "5550001111"
    assert activities_of(store, wile.id, CONFLICT) == []


def test_salesforce_taking_the_same_value_meanwhile_is_agreement_not_a_push(engine, store, sf):
    engine.run_cycle()
    wile = person(store, "wile@acme.example")
    store.persons.update(wile.id, {"title": "Same Title"}, origin=CLI)
    _edit_before_push(engine, "Contact", lambda: sf.Contact.update(wile.link.sfdc_id, {"Title": "Same Title"}))
    report = engine.run_cycle()
    [push] = [s for s in report.steps if s.object == "Contact" and s.operation is StepOperation.PUSH_UPDATES]
    assert push.counts.updated == 0 and push.counts.skipped == 1
    assert store.outbox.find(person_ids=[wile.id]) == []
    assert activities_of(store, wile.id, CONFLICT) == []
