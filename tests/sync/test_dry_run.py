"""The dry run: what the next cycle would do, with no write anywhere (emulator and database compared)."""

from __future__ import annotations

import pickle

import pytest
import sqlalchemy as sa

from tandem.emulator.model.persistence import STATE_FILE
from tandem.people.models import StepOperation
from tandem.people.origin import ChangeOrigin
from tandem.people.tables import metadata
from tandem.sync.cycle import SyncEngine
from tandem.sync.dry_run import DryRun, compare
from tandem.sync.policy import parse_policy
from tests.sync.conftest import sync_client
from tests.sync.observe import person

CLI = ChangeOrigin.CLI


def org_state(emulator, folder):
    """Every record, id sequence and the stamp clock of the emulator's org, as its save writes them."""
    emulator.org.save_state(folder)
    payload = pickle.loads((folder / STATE_FILE).read_bytes())
    return payload["records"], payload["sequences"], payload["last_stamp_ms"]


def database_rows(store):
    engine = sa.create_engine(store.url)
    try:
        with engine.connect() as connection:
            return {table.name: sorted(map(repr, connection.execute(sa.select(table)).all()))
                    for table in metadata.sorted_tables}
    finally:
        engine.dispose()


@pytest.fixture
def changed_both_sides(engine, store, sf):
    """A synced org, then: a new Contact, a Salesforce edit, a Tandem edit, and a conflict."""
    engine.run_cycle()
    sf.Contact.create({"LastName": "Runner", "FirstName": "Road", "Email": "road@acme.example"})
    wile = sf.query("SELECT Id FROM Contact WHERE Email = 'wile@acme.example'")["records"][0]["Id"]
    sf.Contact.update(wile, {"Phone": "+1 555 0777"})
    store.persons.update(person(store, "milton@initech.example").id, {"title": "Collator"}, origin=CLI)
    hank = sf.query("SELECT Id FROM Contact WHERE Email = 'hank@globex.example'")["records"][0]["Id"]
    sf.Contact.update(hank, {"Title": "Volcano Owner"})
    store.persons.update(person(store, "hank@globex.example").id, {"title": "Chairman"}, origin=CLI)


def test_a_dry_run_writes_nothing_on_either_side(engine, store, emulator, tmp_path, changed_both_sides):
    org_before, rows_before = org_state(emulator, tmp_path / "before"), database_rows(store)
    report = DryRun(engine).run().as_json()
    assert org_state(emulator, tmp_path / "after") == org_before
    assert database_rows(store) == rows_before
    assert report["apiCalls"]["spentByThisDryRun"] > 0  # it did read the org


def test_a_dry_run_says_what_the_cycle_would_do(engine, store, changed_both_sides):
    report = DryRun(engine).run().as_json()
    assert {"pull", "push", "conflicts", "filteredOut", "apiCalls"} <= set(report)
    contacts = report["pull"]["Contact"]
    assert contacts["create"] == 1 and contacts["created"] == ["road@acme.example"]
    updated = {u["personId"]: u["fields"] for u in contacts["updated"]}
    assert "phone" in updated[person(store, "wile@acme.example").id]
    [conflict] = report["conflicts"]
    assert (conflict["field"], conflict["winner"], conflict["rule"]) == ("title", "Salesforce",
                                                                         "default: Contact salesforce-wins")
    leads = report["push"]["Lead"]
    assert leads["persons"] == 1 and leads["records"][0]["email"] == "milton@initech.example"
    assert leads["records"][0]["fields"] == ["title"]
    assert report["push"]["Contact"]["persons"] == 0  # Hank's change loses the conflict: the pull drops it
    assert report["apiCalls"]["push"] == 2  # one check query and one update for the Lead batch
    # ... and the cycle then does just that.
    cycle = engine.run_cycle()
    assert store.persons.find_by_email("road@acme.example")
    assert person(store, "hank@globex.example").fields["title"] == "Volcano Owner"
    assert cycle.succeeded
    pushed = {s.object: s.counts.updated for s in cycle.steps if s.operation is StepOperation.PUSH_UPDATES}
    assert pushed == {"Contact": 0, "Lead": 1}


def test_a_dry_run_pushes_what_the_pull_leaves_to_push(engine, store, sf):
    """Before, the push was counted on the store as it was before the pull: a deleted Lead's and a merged
    Lead's changes were still to go, and a converted Lead's change went to the Lead, not its Contact."""
    from tandem.salesforce.soap import LeadConvert

    engine.run_cycle()
    lisa, milton = person(store, "lisa@springfield.example"), person(store, "milton@initech.example")
    for_leads = [sf.Lead.create({"LastName": n, "Company": "Merge Co", "Email": f"{n.lower()}@merge.example"})["id"]
                 for n in ("Keep", "Fold")]
    engine.run_cycle()
    keep, fold = person(store, "keep@merge.example"), person(store, "fold@merge.example")
    for who, title in ((lisa, "Ghost"), (milton, "Stapler Keeper"), (keep, "Chief"), (fold, "Intern")):
        store.persons.update(who.id, {"title": title}, origin=CLI)
    store.persons.update(fold.id, {"city": "Lima"}, origin=CLI)
    sf.Lead.delete(lisa.link.sfdc_id)
    [converted] = engine.client.convert_leads([LeadConvert(
        lead_id=milton.link.sfdc_id, converted_status="Closed - Converted", do_not_create_opportunity=True)])
    engine.client.merge_records("Lead", for_leads[0], [for_leads[1]])
    report = DryRun(engine).run().as_json()
    assert [(r["personId"], r["salesforceId"], r["fields"]) for r in report["push"]["Contact"]["records"]] == [
        (milton.id, converted.contact_id, ["title"])]
    assert [(r["personId"], r["fields"]) for r in report["push"]["Lead"]["records"]] == [(keep.id, ["city", "title"])]
    cycle = engine.run_cycle()
    assert cycle.succeeded, cycle.steps
    pushed = {s.object: s.counts.updated for s in cycle.steps if s.operation is StepOperation.PUSH_UPDATES}
    assert pushed == {"Contact": 1, "Lead": 1}
    assert sf.Contact.get(converted.contact_id)["Title"] == "Stapler Keeper"
    assert (sf.Lead.get(for_leads[0])["Title"], sf.Lead.get(for_leads[0])["City"]) == ("Chief", "Lima")


def test_a_dry_run_after_a_cycle_has_nothing_to_pull(engine, store):
    """Before, the row at the watermark's stamp, read again and never pulled twice, counted as a record."""
    assert engine.run_cycle().succeeded
    report = DryRun(engine).run().as_json()
    assert {name: section["records"] for name, section in report["pull"].items()} == {
        name: 0 for name in report["pull"]}


def test_a_dry_run_lists_what_the_filters_drop(base_url, ca_path, reset_emulator, store, sf):
    policy = parse_policy({"filter": {"Contact": "Title != 'CEO'", "push": "leadSource != 'Partner'"}})
    engine = SyncEngine(sync_client(base_url, ca_path), store, policy=policy)
    engine.run_cycle()
    peter = person(store, "peter@initech.example")
    store.persons.update(peter.id, {"leadSource": "Partner"}, origin=CLI)
    hank = sf.query("SELECT Id FROM Contact WHERE Email = 'hank@globex.example'")["records"][0]["Id"]
    sf.Contact.update(hank, {"Title": "CEO"})  # leaves the filter in the window the next cycle reads
    report = DryRun(engine).run().as_json()
    assert report["filteredOut"]["Contact"]["ids"][:1] and any(i.startswith(hank[:15])
                                                               for i in report["filteredOut"]["Contact"]["ids"])
    assert [p["personId"] for p in report["filteredOut"]["push.Contact"]["listed"]] == [peter.id]
    assert report["push"]["Contact"]["persons"] == 0


def test_policy_check_shows_what_a_new_policy_would_change(engine, store, emulator, tmp_path, changed_both_sides):
    org_before, rows_before = org_state(emulator, tmp_path / "before"), database_rows(store)
    new = parse_policy({"fields": {"Contact.title": "tandem-wins", "title": "off"},
                        "filter": {"Contact": "Title != 'Volcano Owner'"}})
    result = compare(engine, new)
    changes = result["changes"]
    assert result["new"]["conflicts"] == []  # Hank's record now falls outside the filter: no conflict
    assert changes["pull"]["Contact"]["records"]["new"] == changes["pull"]["Contact"]["records"]["now"] - 1
    assert changes["push"]["Lead"]["persons"] == {"now": 1, "new": 0}  # the lead's title is off
    assert changes["filteredOut"]["Contact"]["new"]["records"] == 1
    assert org_state(emulator, tmp_path / "after") == org_before
    assert database_rows(store) == rows_before


@pytest.mark.parametrize("leaving", ["kept", "unlinked", "flagged"])
def test_a_dry_run_pushes_nothing_for_a_person_the_cycle_unlinks(base_url, ca_path, reset_emulator, store, sf,
                                                                   leaving):
    policy = parse_policy({"filter": {"Contact": "MailingCountry != 'Antarctica'", "leaving": leaving}})
    engine = SyncEngine(sync_client(base_url, ca_path), store, policy=policy)
    engine.run_cycle()
    wile = person(store, "wile@acme.example")
    sf.Contact.update(wile.link.sfdc_id, {"MailingCountry": "Antarctica"})
    store.persons.update(wile.id, {"title": "Penguin"}, origin=CLI)
    report = DryRun(engine).run().as_json()
    cycle = engine.run_cycle()
    assert cycle.succeeded, cycle.steps
    [pushed] = [s.counts.updated for s in cycle.steps
                if s.object == "Contact" and s.operation is StepOperation.PUSH_UPDATES]
    assert report["push"]["Contact"]["persons"] == pushed == (0 if leaving == "unlinked" else 1)


def test_a_dry_run_counts_a_refused_change_that_goes_again_once_the_pull_settles_another(engine, store, sf):
    engine.run_cycle()
    samir = person(store, "samir@initech.example")
    store.persons.update(samir.id, {"fax": "5550009999", "phone": "call me maybe"}, origin=CLI)
    engine.run_cycle()  # refused
    assert DryRun(engine).run().as_json()["push"]["Contact"]["persons"] == 0  # waits for its back-off
    sf.Contact.update(samir.link.sfdc_id, {"Phone": "+1 555 0142"})  # Salesforce wins the phone
    report = DryRun(engine).run().as_json()
    assert [(r["personId"], r["fields"]) for r in report["push"]["Contact"]["records"]] == [(samir.id, ["fax"])]
    cycle = engine.run_cycle()
    [step] = [s for s in cycle.steps if s.object == "Contact" and s.operation is StepOperation.PUSH_UPDATES]
    assert (step.counts.updated, step.counts.failed) == (1, 0)


def test_a_dry_run_counts_the_waiting_change_of_a_record_undeleted_in_salesforce(engine, store, sf, http, base_url,
                                                                                 sf_token):
    from tests.sync.test_lifecycle import soap

    engine.run_cycle()
    wile = person(store, "wile@acme.example")
    sf.Contact.delete(wile.link.sfdc_id)
    store.persons.update(wile.id, {"title": "Ghost"}, origin=CLI)
    engine.run_cycle()  # flagged deleted: the title waits
    soap(http, base_url, sf_token, f"<undelete><ids>{wile.link.sfdc_id}</ids></undelete>")
    report = DryRun(engine).run().as_json()
    assert [(r["personId"], r["fields"]) for r in report["push"]["Contact"]["records"]] == [(wile.id, ["title"])]
    cycle = engine.run_cycle()
    [step] = [s for s in cycle.steps if s.object == "Contact" and s.operation is StepOperation.PUSH_UPDATES]
    assert step.counts.updated == 1 and sf.Contact.get(wile.link.sfdc_id)["Title"] == "Ghost"


def test_a_dry_run_counts_what_a_merge_in_salesforce_fills_on_the_winner(engine, store, sf):
    engine.run_cycle()
    hank, samir = person(store, "hank@globex.example"), person(store, "samir@initech.example")
    sf.Contact.update(samir.link.sfdc_id, {"Birthdate": "1985-07-04"})
    engine.run_cycle()
    engine.client.merge_records("Contact", hank.link.sfdc_id, [samir.link.sfdc_id])
    report = DryRun(engine).run().as_json()
    [winner] = report["push"]["Contact"]["records"]
    assert winner["personId"] == hank.id and "dateOfBirth" in winner["fields"]
    cycle = engine.run_cycle()
    [step] = [s for s in cycle.steps if s.object == "Contact" and s.operation is StepOperation.PUSH_UPDATES]
    assert step.counts.updated == 1 and sf.Contact.get(hank.link.sfdc_id)["Birthdate"] == "1985-07-04"


def test_a_dry_run_forecasts_the_calls_the_cycle_then_spends(engine, store, emulator, changed_both_sides):
    """Before, the cycle's reads were forecast as the dry run's own (a query per object), while the
    cycle reads the three objects' first pages in one composite call."""
    forecast = DryRun(engine).run().as_json()["apiCalls"]
    before = emulator.org.api_usage()[0]
    assert engine.run_cycle().succeeded
    assert forecast["cycle"] == emulator.org.api_usage()[0] - before == forecast["read"] + forecast["push"]
