"""Each field rule of the sync policy, against the emulator: both directions, both objects, blanks,
and `off` fields never read nor written. Every decision names its rule in the activity it causes."""

from __future__ import annotations


import pytest

from tandem.people.origin import ChangeOrigin
from tandem.sync.cycle import SyncEngine
from tandem.sync.policy import parse_policy
from tandem.sync.pull import pull_query
from tandem.sync.watermark import Cursor
from tests.sync.conftest import sync_client
from tests.sync.observe import CONFLICT, DROPPED, SYNCED, activities_of, person

CLI = ChangeOrigin.CLI
WILE, MILTON = "wile@acme.example", "milton@initech.example"


@pytest.fixture
def engine_with(base_url, ca_path, reset_emulator, store):
    def make(fields):
        policy = parse_policy({"fields": fields})
        return SyncEngine(sync_client(base_url, ca_path), store, policy=policy)
    return make


def contact(sf, email=WILE):
    return sf.query(f"SELECT Id, Title, Phone, Description FROM Contact WHERE Email = '{email}'")["records"][0]


def lead(sf, email=MILTON):
    return sf.query(f"SELECT Id, Title, Phone, Rating, Description FROM Lead WHERE Email = '{email}'")["records"][0]


def selected(engine, object_name):
    """The fields the object's pull query selects."""
    return pull_query(object_name, engine.catalog, Cursor()).split(" FROM ")[0].removeprefix("SELECT ").split(", ")


def edit(store, email, **values):
    store.persons.update(person(store, email).id, values, origin=CLI)


def conflict_on(store, email, field):
    [found] = [a for a in activities_of(store, person(store, email).id, CONFLICT) if a.attribute("Field") == field]
    return found


def test_off_fields_are_never_selected_pulled_nor_pushed(engine_with, store, sf):
    engine = engine_with({"personNotes": "off"})
    sf.Contact.update(contact(sf)["Id"], {"Description": "from Salesforce"})
    engine.run_cycle()
    assert "Description" not in selected(engine, "Contact") and "Description" not in selected(engine, "Lead")
    assert "Account.Description" in selected(engine, "Contact")  # the company's notes are another field
    assert person(store, WILE).fields.get("personNotes") is None
    edit(store, WILE, personNotes="from Tandem")
    edit(store, MILTON, personNotes="from Tandem too")
    engine.run_cycle()
    assert contact(sf)["Description"] == "from Salesforce"
    assert lead(sf)["Description"] is None
    for email in (WILE, MILTON):
        [dropped] = [a for a in activities_of(store, person(store, email).id, DROPPED)
                     if a.attribute("Field") == "personNotes"]
        assert dropped.attribute("Rule") == "sync.fields.personNotes = off"
        assert store.outbox.find(person_ids=[person(store, email).id]) == []


def test_salesforce_wins_on_a_lead_overrides_the_lead_default(engine_with, store, sf):
    engine = engine_with({"Lead.title": "salesforce-wins"})
    engine.run_cycle()
    sf.Lead.update(lead(sf)["Id"], {"Title": "Stapler Keeper"})
    edit(store, MILTON, title="Collator")
    engine.run_cycle()
    assert person(store, MILTON).fields["title"] == "Stapler Keeper"
    assert lead(sf)["Title"] == "Stapler Keeper"
    conflict = conflict_on(store, MILTON, "title")
    assert conflict.attribute("Winner") == "Salesforce" and conflict.attribute("Lost Value") == "Collator"
    assert conflict.attribute("Rule") == 'sync.fields."Lead.title" = salesforce-wins'


def test_tandem_wins_on_a_contact_overrides_the_contact_default(engine_with, store, sf):
    engine = engine_with({"Contact.Title": "tandem-wins"})
    engine.run_cycle()
    sf.Contact.update(contact(sf)["Id"], {"Title": "Super Genius"})
    edit(store, WILE, title="Chief Engineer")
    engine.run_cycle()
    assert contact(sf)["Title"] == "Chief Engineer"
    assert person(store, WILE).fields["title"] == "Chief Engineer"
    conflict = conflict_on(store, WILE, "title")
    assert conflict.attribute("Winner") == "Tandem" and conflict.attribute("Lost Value") == "Super Genius"
    assert conflict.attribute("Rule") == 'sync.fields."Contact.Title" = tandem-wins'


def test_the_default_rules_are_named_too(engine_with, store, sf):
    engine = engine_with({})
    engine.run_cycle()
    sf.Contact.update(contact(sf)["Id"], {"Title": "Super Genius"})
    edit(store, WILE, title="Chief Engineer")
    engine.run_cycle()
    assert conflict_on(store, WILE, "title").attribute("Rule") == "default: Contact salesforce-wins"


def test_prefer_salesforce_unless_blank(engine_with, store, sf):
    engine = engine_with({"phone": "prefer-salesforce-unless-blank"})
    engine.run_cycle()
    # Salesforce clears the phone: Tandem keeps its value, and says why.
    sf.Contact.update(contact(sf)["Id"], {"Phone": None})
    engine.run_cycle()
    wile = person(store, WILE)
    assert wile.fields["phone"] == "+1 555 0100"
    [kept] = [a for a in activities_of(store, wile.id, DROPPED) if a.attribute("Field") == "phone"]
    assert kept.attribute("Rule") == "sync.fields.phone = prefer-salesforce-unless-blank"
    # Both sides change it, Salesforce to a value: Salesforce wins.
    sf.Contact.update(contact(sf)["Id"], {"Phone": "+1 555 0111"})
    edit(store, WILE, phone="+1 555 0122")
    engine.run_cycle()
    assert person(store, WILE).fields["phone"] == "+1 555 0111" and contact(sf)["Phone"] == "+1 555 0111"
    # On a Lead, Salesforce blank against a Tandem value: Tandem wins, and its value goes out.
    sf.Lead.update(lead(sf)["Id"], {"Phone": "+1 555 0200"})
    engine.run_cycle()
    sf.Lead.update(lead(sf)["Id"], {"Phone": None})
    edit(store, MILTON, phone="+1 555 0201")
    engine.run_cycle()
    assert lead(sf)["Phone"] == "+1 555 0201" and person(store, MILTON).fields["phone"] == "+1 555 0201"
    assert conflict_on(store, MILTON, "phone").attribute("Winner") == "Tandem"


def test_prefer_tandem_unless_blank(engine_with, store, sf):
    engine = engine_with({"title": "prefer-tandem-unless-blank"})
    engine.run_cycle()
    # Tandem clears the title: Salesforce keeps its value; the blank is recorded as not sent.
    edit(store, WILE, title=None)
    engine.run_cycle()
    assert contact(sf)["Title"] == "Engineer"
    wile = person(store, WILE)
    [not_sent] = [a for a in activities_of(store, wile.id, DROPPED) if a.attribute("Field") == "title"]
    assert "prefer-tandem-unless-blank" in not_sent.attribute("Reason")
    assert store.outbox.find(person_ids=[wile.id]) == []
    # Both sides change a Contact's title (Salesforce wins a Contact by default): Tandem's value wins.
    sf.Contact.update(contact(sf)["Id"], {"Title": "Super Genius"})
    edit(store, WILE, title="Chief Engineer")
    engine.run_cycle()
    assert contact(sf)["Title"] == "Chief Engineer"
    assert conflict_on(store, WILE, "title").attribute("Winner") == "Tandem"
    # Salesforce changes a lead's title while Tandem blanks it: Salesforce's value wins.
    sf.Lead.update(lead(sf)["Id"], {"Title": "Stapler Keeper"})
    engine.run_cycle()
    sf.Lead.update(lead(sf)["Id"], {"Title": "Collator"})
    edit(store, MILTON, title="")
    engine.run_cycle()
    assert person(store, MILTON).fields["title"] == "Collator" and lead(sf)["Title"] == "Collator"


def test_newest_wins_by_change_time_on_each_side(engine_with, store, sf):
    engine = engine_with({"title": "newest-wins"})
    engine.run_cycle()
    # Tandem first, then Salesforce: Salesforce's is newer.
    edit(store, WILE, title="Chief Engineer")
    sf.Contact.update(contact(sf)["Id"], {"Title": "Super Genius"})
    # Salesforce first, then Tandem: Tandem's is newer (on a Contact, where Salesforce wins by default).
    sf.Contact.update(contact(sf, "hank@globex.example")["Id"], {"Title": "Volcano Owner"})
    edit(store, "hank@globex.example", title="Chairman")
    engine.run_cycle()
    assert contact(sf)["Title"] == "Super Genius" and person(store, WILE).fields["title"] == "Super Genius"
    assert contact(sf, "hank@globex.example")["Title"] == "Chairman"
    assert person(store, "hank@globex.example").fields["title"] == "Chairman"
    assert conflict_on(store, WILE, "title").attribute("Rule") == "sync.fields.title = newest-wins"
    assert conflict_on(store, "hank@globex.example", "title").attribute("Winner") == "Tandem"
    # on a Lead (where Tandem wins by default), Salesforce's newer value wins
    edit(store, MILTON, title="Collator")
    sf.Lead.update(lead(sf)["Id"], {"Title": "Stapler Keeper"})
    engine.run_cycle()
    assert lead(sf)["Title"] == "Stapler Keeper" and person(store, MILTON).fields["title"] == "Stapler Keeper"
    assert conflict_on(store, MILTON, "title").attribute("Winner") == "Salesforce"


@pytest.mark.parametrize(("fields", "kept", "winner", "rule"), [
    ({}, "Super Genius", "Salesforce", "default: Contact salesforce-wins"),
    ({"Contact.title": "tandem-wins"}, "Chief Engineer", "Tandem", 'sync.fields."Contact.title" = tandem-wins'),
])
def test_the_push_settles_a_change_it_has_not_pulled_by_the_same_rule(engine_with, store, sf, fields, kept, winner,
                                                                      rule):
    engine = engine_with(fields)
    engine.run_cycle()
    edit(store, WILE, title="Chief Engineer")
    sf.Contact.update(contact(sf)["Id"], {"Title": "Super Genius"})  # after the pull, before the push
    engine.pusher().push("Contact")
    assert contact(sf)["Title"] == kept and person(store, WILE).fields["title"] == kept
    conflict = conflict_on(store, WILE, "title")
    assert (conflict.attribute("Winner"), conflict.attribute("Rule")) == (winner, rule)


def test_to_salesforce_only_pushes_and_never_pulls(engine_with, store, sf):
    engine = engine_with({"Contact.title": "to-salesforce-only"})
    engine.run_cycle()
    assert person(store, WILE).fields.get("title") is None  # never read from Salesforce
    assert "Title" not in selected(engine, "Contact") and "Title" in selected(engine, "Lead")
    edit(store, WILE, title="Chief Engineer")
    engine.run_cycle()
    assert contact(sf)["Title"] == "Chief Engineer"
    [synced] = activities_of(store, person(store, WILE).id, SYNCED)
    sf.Contact.update(contact(sf)["Id"], {"Title": "Super Genius"})
    engine.run_cycle()
    assert person(store, WILE).fields["title"] == "Chief Engineer"
    assert synced.attribute("Salesforce Type") == "Contact"


def test_from_salesforce_only_pulls_and_never_pushes(engine_with, store, sf):
    engine = engine_with({"Lead.rating": "from-salesforce-only"})
    engine.run_cycle()
    sf.Lead.update(lead(sf)["Id"], {"Rating": "Hot"})
    engine.run_cycle()
    assert person(store, MILTON).fields["rating"] == "Hot"
    edit(store, MILTON, rating="Cold")
    engine.run_cycle()
    assert lead(sf)["Rating"] == "Hot"
    milton = person(store, MILTON)
    [dropped] = [a for a in activities_of(store, milton.id, DROPPED) if a.attribute("Field") == "rating"]
    assert dropped.attribute("Rule") == 'sync.fields."Lead.rating" = from-salesforce-only'
    assert store.outbox.find(person_ids=[milton.id]) == []


def test_sync_person_to_sfdc_sends_only_what_the_policy_lets_through(engine_with, store, sf):
    from tandem.sync.actions import PersonActions

    engine = engine_with({"personNotes": "off", "Lead.title": "prefer-tandem-unless-blank"})
    engine.run_cycle()
    sf.Lead.update(lead(sf)["Id"], {"Title": "Stapler Keeper"})
    engine.run_cycle()
    edit(store, MILTON, personNotes="a note", title=None, phone="+1 555 0300")
    actions = PersonActions(engine_with({"personNotes": "off", "Lead.title": "prefer-tandem-unless-blank"}))
    result = actions.sync_person(person(store, MILTON).id)
    assert result.fields == ["phone"]
    row = lead(sf)
    assert (row["Phone"], row["Title"], row["Description"]) == ("+1 555 0300", "Stapler Keeper", None)
    reasons = {a.attribute("Field"): a.attribute("Rule") for a in activities_of(store, person(store, MILTON).id, DROPPED)}
    assert reasons["personNotes"] == "sync.fields.personNotes = off"
    assert "prefer-tandem-unless-blank" in reasons["title"]
