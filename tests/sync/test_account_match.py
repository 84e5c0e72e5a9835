"""Convert Person's account match: exact names, website hosts on the email's domain, and values with
quotes, backslashes and LIKE wildcards taken literally, against the emulator's sample org."""

from __future__ import annotations

import pytest

from tandem.errors import InvalidInput
from tandem.people.origin import ChangeOrigin
from tandem.salesforce.soql import like_pattern, quoted
from tandem.sync.account_match import AccountMatch, email_domain, on_domain, website_host
from tandem.sync.actions import PersonActions


@pytest.mark.parametrize("website, host", [
    ("initech.example", "initech.example"),
    ("https://www.Initech.example/about?x=1#top", "initech.example"),
    ("HTTP://INITECH.EXAMPLE:8080", "initech.example"),
    ("//initech.example/", "initech.example"),
    ("www.initech.example.", "initech.example"),
    ("https://sales@initech.example/path@x", "initech.example"),
    ("  ", None),
    (None, None),
])
def test_website_host(website, host) -> None:
    assert website_host(website) == host


@pytest.mark.parametrize("website, domain, expected", [
    ("initech.example", "initech.example", True),
    ("https://sales.initech.example/", "initech.example", True),
    ("initech.example", "tech.example", False),
    ("https://initech.example.evil.test", "initech.example", False),
    ("notinitech.example", "initech.example", False),
    ("initech.example", "%h.example", False),
    ("100%h.example", "%h.example", False),
    ("shop.%h.example", "%h.example", True),
])
def test_on_domain(website, domain, expected) -> None:
    assert on_domain(website, domain) is expected


def test_email_domain() -> None:
    assert email_domain("Bob@Tech.Example.") == "tech.example"
    assert email_domain("no-at-sign") is None and email_domain(None) is None


@pytest.mark.parametrize("value, literal", [
    ("O'Brien", r"'O\'Brien'"),
    ("back\\slash", r"'back\\slash'"),
    ("say \"hi\"\nnow", r"'say \"hi\"\nnow'"),
    ("100% _pure_", "'100% _pure_'"),
])
def test_quoted_escapes_quotes_and_backslashes(value, literal) -> None:
    assert quoted(value) == literal


def test_like_pattern_escapes_wildcards_too() -> None:
    assert like_pattern("%h_x'", any_before=True) == r"'%\%h\_x\''"
    assert like_pattern("a.b", any_after=True) == "'a.b%'"


def test_the_match_query_escapes_every_value() -> None:
    soql = AccountMatch.for_person("Bob's \\ 100%", "eve@%h_'.example").soql()
    assert r"Name = 'Bob\'s \\ 100%'" in soql
    assert r"Website LIKE '\%h\_\'.example%'" in soql and r"'%.\%h\_\'.example%'" in soql


def test_literals_round_trip_through_the_emulator(sf) -> None:
    names = ["O'Malley \\ Sons", "100% _Pure_", 'Say "hi"\tnow']
    for name in names:
        sf.Account.create({"Name": name})
    sf.Account.create({"Name": "100x Pure"})
    for name in names:
        rows = sf.query(f"SELECT Name FROM Account WHERE Name = {quoted(name)}")["records"]
        assert [r["Name"] for r in rows] == [name]
    liked = sf.query(f"SELECT Name FROM Account WHERE Name LIKE {like_pattern('100% _', any_after=True)}")
    assert [r["Name"] for r in liked["records"]] == ["100% _Pure_"]


@pytest.fixture
def actions(engine):
    engine.run_cycle()
    return PersonActions(engine)


def _convert(actions, store, email: str, company: str):
    person = store.persons.add({"email": email, "lastName": "Match", "company": company}, origin=ChangeOrigin.CLI)
    return actions.convert_person(person.id, match_account=True, create_opportunity=False)


def _initech(sf) -> str:
    return sf.query("SELECT Id FROM Account WHERE Name = 'Initech'")["records"][0]["Id"]


def test_a_domain_that_only_ends_the_website_is_no_match(actions, store, sf) -> None:
    """Before, bob@tech.example was converted into Initech (website initech.example)."""
    result = _convert(actions, store, "bob@tech.example", "Bob's Garage")
    assert result.account_created and result.account_id[:15] != _initech(sf)[:15]


def test_wildcards_in_the_email_domain_are_literal(engine, sf) -> None:
    """Before, eve@%h.example searched `Website LIKE '%%h.example'` and found Initech."""
    for email in ("eve@%h.example", "zed@initech.exampl_", "amy@_nitech.example"):
        assert AccountMatch.for_person(None, email).find(engine.client) is None
    shop = sf.Account.create({"Name": "Percent Shop", "Website": "https://shop.%h.example"})["id"]
    assert AccountMatch.for_person(None, "eve@%h.example").find(engine.client)[:15] == shop[:15]


def test_a_website_on_the_domain_matches_whatever_its_form(actions, store, sf) -> None:
    umbrella = sf.Account.create({"Name": "Umbrella", "Website": "HTTPS://www.Umbrella.example/about"})["id"]
    result = _convert(actions, store, "alice@umbrella.example", "Raccoon City Labs")
    assert not result.account_created and result.account_id[:15] == umbrella[:15]
    # the website must be on the email's domain, not the other way round
    assert _convert(actions, store, "carl@sales.initech.example", "Nobody").account_created


def test_quotes_and_wildcards_in_company_names_match_exactly(actions, store, sf) -> None:
    odd = sf.Account.create({"Name": "O'Malley \\ 100% _Pure_"})["id"]
    exact = _convert(actions, store, "a@nowhere.example", "O'Malley \\ 100% _Pure_")
    assert not exact.account_created and exact.account_id[:15] == odd[:15]
    for company in ("O'Malley \\ 100% xPurex", "O'Malley%", "Init%"):
        assert _convert(actions, store, f"{len(company)}@nowhere{len(company)}.example", company).account_created


def test_a_name_and_a_website_pointing_at_two_accounts_is_refused(actions, store, sf) -> None:
    sf.Account.create({"Name": "Hooli", "Website": "hooli.example"})
    sf.Account.create({"Name": "Hooli XYZ", "Website": "https://xyz.hooli.example"})
    with pytest.raises(InvalidInput, match="2 Accounts match"):
        _convert(actions, store, "gavin@hooli.example", "Hooli")


def test_converting_a_person_whose_email_domain_has_a_wildcard(actions, engine, store, sf) -> None:
    """The probe's case end to end: eve@%h.example was converted into Initech (initech.example)."""
    sf.Lead.create({"LastName": "Eve", "Company": "Eve Unlimited", "Email": "eve@valid.example"})
    engine.run_cycle()
    [eve] = store.persons.find_by_email("eve@valid.example")
    store.persons.update(eve.id, {"email": "eve@%h.example"}, origin=ChangeOrigin.CLI)
    result = actions.convert_person(eve.id, match_account=True, create_opportunity=False)
    assert result.account_created and result.account_id[:15] != _initech(sf)[:15]
