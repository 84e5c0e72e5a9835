"""SOSL `search`, `parameterizedSearch` and `describe/layouts` through simple-salesforce, unchanged."""

from __future__ import annotations

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError, SalesforceResourceNotFound

from tandem.emulator.sample_org import LIMITED


@pytest.fixture
def limited_sf(base_url, new_session, get_token):
    session = new_session()
    return Salesforce(instance_url=base_url, session_id=get_token(base_url, session, *LIMITED), session=session,
                      version="62.0")


def test_search_returns_matching_records_of_each_object(sf):
    found = sf.search("FIND {initech} IN ALL FIELDS RETURNING Contact(Id, Email ORDER BY Email), Lead(Id, Company)")
    rows = found["searchRecords"]
    contacts = [r["Email"] for r in rows if r["attributes"]["type"] == "Contact"]
    leads = [r["Company"] for r in rows if r["attributes"]["type"] == "Lead"]
    assert contacts == ["peter@initech.example", "samir@initech.example"]
    assert leads == ["Initech"]


def test_search_terms_wildcards_phrases_and_scope(sf):
    def names(sosl):
        return sorted(r.get("LastName") for r in sf.search(sosl)["searchRecords"])

    assert names("FIND {Coyote OR Scorp*} RETURNING Contact(LastName)") == ["Coyote", "Scorpio"]
    assert names('FIND {"Hank Scorpio"} IN NAME FIELDS RETURNING Contact(LastName)') == ["Scorpio"]
    assert names("FIND {programmer AND NOT peter} RETURNING Contact(LastName)") == ["Nagheenanajar"]
    assert names("FIND {initech} IN PHONE FIELDS RETURNING Contact(LastName)") == []
    assert names("FIND {initech} RETURNING Contact(LastName WHERE FirstName = 'Peter')") == ["Gibbons"]
    assert names("FIND {initech} RETURNING Contact(LastName ORDER BY LastName LIMIT 1)") == ["Gibbons"]


def test_search_respects_field_level_security(limited_sf):
    """Favorite_Color__c is hidden from the limited user: not searched, and not returnable."""
    found = limited_sf.search("FIND {Red} RETURNING Contact(LastName), Lead(LastName)")
    assert found["searchRecords"] == []
    with pytest.raises(SalesforceError) as raised:
        limited_sf.search("FIND {Wile} RETURNING Contact(Favorite_Color__c)")
    assert raised.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_a_malformed_search_is_refused(sf):
    with pytest.raises(SalesforceError) as raised:
        sf.search("FIND Coyote RETURNING Contact")
    assert raised.value.content[0]["errorCode"] == "MALFORMED_SEARCH"
    with pytest.raises(SalesforceError) as short:
        sf.search("FIND {a}")
    assert short.value.content[0]["errorCode"] == "MALFORMED_SEARCH"


@pytest.mark.parametrize(("search", "reason"), [
    ("FIND {Wile} RETURNING Contact(Nope__c)", "No such column 'Nope__c' on entity 'Contact'."),
    ("FIND {Wile} RETURNING Contact(Id WHERE Nope__c = 1)", "No such column 'Nope__c' on entity 'Contact'."),
    ("FIND {Wile} RETURNING Contact(Id WHERE Title = 5)",
     "value of filter criterion for field 'Title' must be of type string and should be enclosed in quotes"),
])
def test_an_error_in_a_returning_clause_does_not_quote_a_query_the_caller_never_wrote(sf, search, reason):
    """The message echoed the SOQL the search runs inside (`SELECT Id, LastName, FirstName, ... FROM Contact
    WHERE Id IN ('003...')`) with a caret under it; it now gives the reason alone."""
    with pytest.raises(SalesforceError) as raised:
        sf.search(search)
    message = raised.value.content[0]["message"]
    assert message.startswith(reason) and "SELECT" not in message


def test_parameterized_search_get_and_post(sf):
    got = sf.restful("parameterizedSearch/", params={"q": "springfield", "sobject": "Lead",
                                                      "Lead.fields": "Id,Email", "in": "ALL"})
    assert [r["Email"] for r in got["searchRecords"]] == ["lisa@springfield.example"]
    posted = sf.restful("parameterizedSearch/", method="POST", json={
        "q": "initech", "in": "ALL", "fields": ["Id"], "overallLimit": 2,
        "sobjects": [{"name": "Contact", "fields": ["Id", "Email"]}, {"name": "Lead"}]})
    rows = posted["searchRecords"]
    assert len(rows) == 2 and all(r["attributes"]["type"] == "Contact" and "Email" in r for r in rows)
    with pytest.raises(SalesforceError) as raised:
        sf.restful("parameterizedSearch/", method="POST", json={"in": "ALL"})
    assert raised.value.content[0]["errorCode"] == "INVALID_SEARCH" and "q" in raised.value.content[0]["message"]


def test_describe_layout_for_the_master_record_type(sf, limited_sf):
    record_type = sf.Contact.describe()["recordTypeInfos"][0]["recordTypeId"]
    layout = sf.Contact.describe_layout(record_type)
    on_layout = {c["value"] for s in layout["detailLayoutSections"] for row in s["layoutRows"]
                 for item in row["layoutItems"] for c in item["layoutComponents"]}
    assert {"LastName", "Email", "Favorite_Color__c", "CreatedDate"} <= on_layout
    limited = limited_sf.Contact.describe_layout(record_type)
    limited_fields = {c["value"] for s in limited["detailLayoutSections"] for row in s["layoutRows"]
                      for item in row["layoutItems"] for c in item["layoutComponents"]}
    assert "Favorite_Color__c" not in limited_fields and "Email" in limited_fields
    every = sf.restful("sobjects/Lead/describe/layouts")
    assert every["recordTypeMappings"][0]["layoutId"] == every["layouts"][0]["id"]
    with pytest.raises(SalesforceResourceNotFound):
        sf.Contact.describe_layout("012000000000001AAA")
