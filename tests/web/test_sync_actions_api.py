"""Sync Person to SFDC, Convert Person and the sync status over the API, against the emulator."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient

from tandem.cli.wiring import emulator_client
from tandem.sync.cycle import SyncEngine
from tests.web.conftest import bearer


@pytest.fixture
def opened() -> list[str]:
    return []


@pytest.fixture
def sf_api(make_app, base_url, ca_path, reset_emulator, api_store, opened):
    @contextmanager
    def salesforce():
        opened.append("open")
        yield emulator_client(base_url, ca_path)
        opened.append("closed")

    SyncEngine(emulator_client(base_url, ca_path), api_store).run_cycle()
    with TestClient(make_app(salesforce=salesforce)) as client:
        client.headers.update(bearer(client))
        yield client


def _create(client, **fields) -> int:
    return client.post("/rest/v1/leads.json", json={"input": [fields]}).json()["result"][0]["id"]


def test_sync_then_convert_return_the_salesforce_ids(sf_api, api_store, opened) -> None:
    pid = _create(sf_api, email="ada@example.com", firstName="Ada", lastName="Lovelace", company="Engines")
    synced = sf_api.post(f"/rest/v1/leads/{pid}/syncToSfdc.json", json={"assignmentRules": False}).json()
    [lead] = synced["result"]
    assert lead["status"] == "created" and lead["sfdcType"] == "Lead" and lead["sfdcId"].startswith("00Q")
    assert api_store.persons.get(pid).link.sfdc_lead_id == lead["sfdcId"]

    converted = sf_api.post(f"/rest/v1/leads/{pid}/convertInSfdc.json",
                            json={"createOpportunity": False}).json()["result"][0]
    assert converted["sfdcLeadId"] == lead["sfdcId"]
    assert converted["sfdcContactId"].startswith("003") and converted["sfdcAccountId"].startswith("001")
    assert converted["sfdcOpportunityId"] is None and converted["accountCreated"] is True
    assert converted["warnings"]
    fetched = sf_api.get(f"/rest/v1/lead/{pid}.json", params={"fields": "sfdcType,sfdcContactId"}).json()
    assert fetched["result"] == [{"sfdcType": "Contact", "sfdcContactId": converted["sfdcContactId"]}]
    assert opened == ["open"]


def test_refusals_are_clear_errors(sf_api) -> None:
    nobody = _create(sf_api, email="nobody@example.com", firstName="No")
    refused = sf_api.post(f"/rest/v1/leads/{nobody}/syncToSfdc.json").json()
    assert refused["success"] is False and refused["errors"][0]["code"] == "1003"
    assert "REQUIRED_FIELD_MISSING" in refused["errors"][0]["message"]
    both = sf_api.post(f"/rest/v1/leads/{nobody}/syncToSfdc.json", json={"owner": "a", "queue": "b"}).json()
    assert both["errors"][0]["code"] == "1003" and "owner" in both["errors"][0]["message"]
    unknown = sf_api.post("/rest/v1/leads/999999/convertInSfdc.json").json()
    assert unknown["errors"] == [{"code": "1004", "message": "Lead not found"}]
    wrong = sf_api.post(f"/rest/v1/leads/{nobody}/convertInSfdc.json", json={"notify": "loud"}).json()
    assert wrong["errors"][0]["code"] == "1001" and "notify" in wrong["errors"][0]["message"]


def test_an_unknown_owner_or_queue_is_bad_input_naming_it_not_lead_not_found(sf_api, api_store) -> None:
    """Before, 1004 Lead not found: a client took the lead for gone."""
    pid = _create(sf_api, email="owned@example.com", lastName="Owned", company="Owned Inc")
    for action, body in [("syncToSfdc", {"owner": "nobody@example.com"}), ("syncToSfdc", {"queue": "No Queue"}),
                         ("convertInSfdc", {"owner": "nobody@example.com"})]:
        if action == "convertInSfdc":
            sf_api.post(f"/rest/v1/leads/{pid}/syncToSfdc.json")
        [error] = sf_api.post(f"/rest/v1/leads/{pid}/{action}.json", json=body).json()["errors"]
        named = next(iter(body))
        assert error["code"] == "1003" and f"'{named}'" in error["message"] and body[named] in error["message"]
    assert api_store.persons.get(pid).link.sfdc_type == "Lead"


def test_a_misspelt_option_is_refused_naming_it_and_nothing_is_done(sf_api, api_store, sf) -> None:
    """Before, `matchAcount` was ignored and the person converted into a new Account: a duplicate."""
    pid = _create(sf_api, email="typo@example.com", lastName="Typo", company="Typo Inc")
    [error] = sf_api.post(f"/rest/v1/leads/{pid}/syncToSfdc.json", json={"ownr": "rep@sample.example"}).json()["errors"]
    assert error["code"] == "1006" and "'ownr'" in error["message"]
    assert api_store.persons.get(pid).link.sfdc_type is None
    sf_api.post(f"/rest/v1/leads/{pid}/syncToSfdc.json")
    accounts = sf.query("SELECT COUNT() FROM Account")["totalSize"]
    [error] = sf_api.post(f"/rest/v1/leads/{pid}/convertInSfdc.json", json={"matchAcount": True}).json()["errors"]
    assert error["code"] == "1006" and "'matchAcount'" in error["message"] and "matchAccount" in error["message"]
    assert api_store.persons.get(pid).link.sfdc_type == "Lead"
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == accounts


def test_an_option_error_names_the_option_as_the_body_spells_it(sf_api) -> None:
    pid = _create(sf_api, email="both@example.com", lastName="Both", company="Both Inc")
    sf_api.post(f"/rest/v1/leads/{pid}/syncToSfdc.json")
    [error] = sf_api.post(f"/rest/v1/leads/{pid}/convertInSfdc.json",
                          json={"matchAccount": True, "accountId": "001000000000001AAA"}).json()["errors"]
    assert error["code"] == "1003" and error["message"].startswith("Invalid value for 'accountId': ")


def test_status_is_what_tandem_status_shows(sf_api) -> None:
    [status] = sf_api.get("/rest/v1/sfdc/status.json").json()["result"]
    assert status["lastCycle"]["steps"] and {"backlog", "apiUsage", "errors"} <= set(status)


def test_the_client_is_not_opened_until_an_action_is_used(make_app, opened) -> None:
    @contextmanager
    def salesforce():
        opened.append("open")
        yield None

    with TestClient(make_app(salesforce=salesforce)) as client:
        client.headers.update(bearer(client))
        client.get("/rest/v1/sfdc/status.json")
        client.post("/rest/v1/leads/1/syncToSfdc.json")
    assert opened == []


# -- Merge Leads (MARKETO-API §5.6) ---------------------------------------------------------------


def test_marketorestpython_merges_leads_in_tandem(make_app, base_url, ca_path, reset_emulator, api_store) -> None:
    """Before, the path was 610: no Marketo client could merge."""
    from marketorestpython.client import MarketoClient

    from tandem.people import activities as types
    from tests.web.conftest import CLIENT_ID, CLIENT_SECRET, serving

    @contextmanager
    def salesforce():
        yield emulator_client(base_url, ca_path)

    with serving(make_app(salesforce=salesforce)) as server:
        mkto = MarketoClient("tandem-test", CLIENT_ID, CLIENT_SECRET, max_retry_time=5)
        mkto.host = server.url
        [winner, loser, other] = [r["id"] for r in mkto.create_update_leads([
            {"email": "ada@example.com", "lastName": "Lovelace", "leadScore": 5},
            {"email": "ada@old.example", "lastName": "Lovelace", "title": "Countess", "leadScore": 7},
            {"email": "ada@older.example", "phone": "555 0100"}], action="createOnly")]
        assert mkto.merge_lead(winner, [loser, other]) is True  # as the client sends it: mergeInCRM=False
        assert mkto.get_lead_by_id(loser) == [] and mkto.get_lead_by_id(other) == []
    merged = api_store.persons.get(winner)
    assert (merged.fields["email"], merged.fields["title"], merged.fields["phone"]) == \
        ("ada@example.com", "Countess", "555 0100")
    assert merged.fields["leadScore"] == 12
    assert [a.person_id for a in api_store.activities.find(type_ids=[types.MERGE_LEADS.id])] == [winner]


def test_leads_never_in_salesforce_merge_with_no_salesforce_connection(api, api_store) -> None:
    """Before, every merge opened the Salesforce connection first: with none configured (or the org
    down) a merge of Tandem-only leads answered 608 and merged nothing."""
    [winner, loser, other] = [r["id"] for r in api.post("/rest/v1/leads.json", json={"action": "createOnly", "input": [
        {"email": "ada@example.com", "lastName": "Lovelace"}, {"email": "ada@old.example", "title": "Countess"},
        {"email": "ada@older.example", "phone": "555 0100"}]}).json()["result"]]
    first = api.post(f"/rest/v1/leads/{winner}/merge.json", params={"leadIds": str(loser), "mergeInCRM": "False"})
    assert first.json() == {"requestId": first.json()["requestId"], "success": True, "errors": [], "warnings": []}
    second = api.post(f"/rest/v1/leads/{winner}/merge.json", params={"leadId": str(other), "mergeInCRM": "true"})
    assert second.json()["success"] is True
    merged = api_store.persons.get(winner)
    assert (merged.fields["email"], merged.fields["title"], merged.fields["phone"]) == \
        ("ada@example.com", "Countess", "555 0100")
    assert api_store.persons.get_many([loser, other]) == []


def test_summed_lead_scores_past_the_integer_range_are_held_at_its_end(writers_store) -> None:
    """Before, the sum was written as it came: 611 System error on PostgreSQL, and on SQLite a
    score of 2147483652 in a field that holds at most 2147483647."""
    from tandem.web.app import create_app
    from tests.web.conftest import CREDENTIALS, ROOMY

    with TestClient(create_app(writers_store, CREDENTIALS, limits=ROOMY), raise_server_exceptions=False) as api:
        api.headers.update(bearer(api))
        [high, plus, low, minus] = [r["id"] for r in api.post("/rest/v1/leads.json", json={"input": [
            {"email": "high@example.com", "leadScore": 2147483647}, {"email": "plus@example.com", "leadScore": 5},
            {"email": "low@example.com", "leadScore": -2147483647}, {"email": "minus@example.com", "leadScore": -5},
        ]}).json()["result"]]
        for winner, loser in ((high, plus), (low, minus)):
            merged = api.post(f"/rest/v1/leads/{winner}/merge.json", params={"leadId": str(loser)}).json()
            assert merged["success"] is True, merged
    assert writers_store.persons.get(high).fields["leadScore"] == 2147483647
    assert writers_store.persons.get(low).fields["leadScore"] == -2147483647


def test_leads_synced_to_two_records_merge_only_with_merge_in_crm(sf_api, api_store, sf) -> None:
    found = sf_api.get("/rest/v1/leads.json", params={
        "filterType": "email", "filterValues": "wile@acme.example,peter@initech.example"}).json()["result"]
    by_email = {r["email"]: r["id"] for r in found}
    wile, peter = by_email["wile@acme.example"], by_email["peter@initech.example"]
    contacts = {pid: api_store.persons.get(pid).link.sfdc_id for pid in (wile, peter)}

    refused = sf_api.post(f"/rest/v1/leads/{wile}/merge.json", params={"leadId": peter}).json()
    assert refused["success"] is False and refused["errors"][0]["code"] == "1003"
    assert "mergeInCRM" in refused["errors"][0]["message"]
    assert len(api_store.persons.get_many([wile, peter])) == 2
    assert sf.Contact.get(contacts[peter])["IsDeleted"] is False

    merged = sf_api.post(f"/rest/v1/leads/{wile}/merge.json", params={"leadIds": str(peter), "mergeInCRM": "true"})
    assert merged.json() == {"requestId": merged.json()["requestId"], "success": True, "errors": [], "warnings": []}
    assert [p.id for p in api_store.persons.get_many([wile, peter])] == [wile]
    gone = sf.query_all(f"SELECT Id, IsDeleted, MasterRecordId FROM Contact WHERE Id = '{contacts[peter]}'",
                        include_deleted=True)
    assert gone["records"][0]["MasterRecordId"] == contacts[wile]


def test_a_merge_asked_wrongly_is_refused_naming_why_and_merges_nothing(sf_api, api_store) -> None:
    a, b = _create(sf_api, email="a@example.com"), _create(sf_api, email="b@example.com")

    def merge(winner, **params):
        return sf_api.post(f"/rest/v1/leads/{winner}/merge.json", params=params).json()["errors"][0]

    assert merge(a)["code"] == "1002" and "leadIds" in merge(a)["message"]
    assert merge(a, leadIds=",".join(str(n) for n in range(1000, 1026)))["code"] == "1080"
    assert merge(a, leadIds=f"{b},999999")["code"] == "1004"
    assert merge(999999, leadId=b)["code"] == "1004"
    assert merge(a, leadIds=f"{a},{b}")["code"] == "1003"
    assert merge(a, leadId=b, mergeInCRM="maybe")["code"] == "1001"
    assert merge(a, leadId="x")["code"] == "1001"
    assert len(api_store.persons.get_many([a, b])) == 2


def _persons_by_email(client, *emails: str) -> dict[str, int]:
    found = client.get("/rest/v1/leads.json", params={"filterType": "email", "filterValues": ",".join(emails)})
    return {r["email"]: r["id"] for r in found.json()["result"]}


def test_a_winner_not_in_salesforce_merges_the_losers_records_into_one(
        sf_api, api_store, sf, base_url, ca_path) -> None:
    """Before, only a winner in Salesforce had records merged into its own: an unlinked winner took
    the first loser's record and left the others, which brought their persons back."""
    by_email = _persons_by_email(sf_api, "wile@acme.example", "peter@initech.example")
    wile, peter = by_email["wile@acme.example"], by_email["peter@initech.example"]
    contacts = {pid: api_store.persons.get(pid).link.sfdc_id for pid in (wile, peter)}
    winner = _create(sf_api, email="new@example.com", lastName="Newcomer")

    merged = sf_api.post(f"/rest/v1/leads/{winner}/merge.json",
                         params={"leadIds": f"{wile},{peter}", "mergeInCRM": "true"}).json()
    assert merged["success"] is True
    rows = sf.query_all(f"SELECT Id, MasterRecordId FROM Contact WHERE Id IN ('{contacts[wile]}', "
                        f"'{contacts[peter]}')", include_deleted=True)["records"]
    masters = {row["Id"]: row["MasterRecordId"] for row in rows}
    assert masters == {contacts[wile]: None, contacts[peter]: contacts[wile]}
    assert [p.id for p in api_store.persons.get_many([winner, wile, peter])] == [wile]  # the Contact's person wins

    SyncEngine(emulator_client(base_url, ca_path), api_store).run_cycle()
    assert "peter@initech.example" not in _persons_by_email(sf_api, "peter@initech.example")


def test_a_winner_taking_over_a_losers_record_keeps_its_values_there(sf_api, api_store, sf, base_url, ca_path) -> None:
    """Before, the record kept the loser's values, and its next change in Salesforce overwrote the
    winner's email, name and title with them."""
    wile = _persons_by_email(sf_api, "wile@acme.example")["wile@acme.example"]
    contact = api_store.persons.get(wile).link.sfdc_id
    winner = _create(sf_api, email="new@example.com", lastName="Newcomer", title="Boss")

    assert sf_api.post(f"/rest/v1/leads/{winner}/merge.json", params={"leadId": wile}).json()["success"] is True
    SyncEngine(emulator_client(base_url, ca_path), api_store).run_cycle()
    record = sf.Contact.get(contact)
    assert (record["Email"], record["LastName"], record["Title"], record["FirstName"]) == \
        ("new@example.com", "Newcomer", "Boss", "Wile")

    sf.Contact.update(contact, {"Department": "Rockets"})
    SyncEngine(emulator_client(base_url, ca_path), api_store).run_cycle()
    person = api_store.persons.get(winner)
    assert (person.fields["email"], person.fields["lastName"], person.fields["title"]) == \
        ("new@example.com", "Newcomer", "Boss")
    assert person.link.sfdc_id == contact


def test_with_merge_in_crm_a_contact_wins_over_a_lead_and_a_record_over_none(sf_api, api_store, sf) -> None:
    """As at Marketo (MARKETO-API §5.6), whatever winner was named. Before, a Lead named the winner
    over a Contact was refused, and a person not in Salesforce named the winner kept its values over
    the record's."""
    by_email = _persons_by_email(sf_api, "wile@acme.example", "lisa@springfield.example")
    wile, lisa = by_email["wile@acme.example"], by_email["lisa@springfield.example"]
    contact, lead = (api_store.persons.get(pid).link.sfdc_id for pid in (wile, lisa))
    newcomer = _create(sf_api, email="new@example.com", lastName="Newcomer")

    merged = sf_api.post(f"/rest/v1/leads/{lisa}/merge.json",
                         params={"leadIds": f"{newcomer},{wile}", "mergeInCRM": "True"}).json()
    assert merged["success"] is True
    assert [p.id for p in api_store.persons.get_many([lisa, newcomer, wile])] == [wile]
    person = api_store.persons.get(wile)
    assert (person.fields["email"], person.fields["lastName"], person.link.sfdc_id) == \
        ("wile@acme.example", "Coyote", contact)
    converted = sf.query(f"SELECT IsConverted, ConvertedContactId FROM Lead WHERE Id = '{lead}'")["records"][0]
    assert converted["IsConverted"] is True and converted["ConvertedContactId"] == contact


def test_an_unreachable_org_is_713_with_what_to_check(make_app, ca_path, api_store) -> None:
    """Before, the 713 said the org could not be reached and nothing of what to check (the CLI says it)."""
    @contextmanager
    def salesforce():
        yield emulator_client("https://127.0.0.1:9", ca_path)  # nothing listens on the discard port

    pid = api_store.persons.add({"email": "ada@example.com", "lastName": "Lovelace", "company": "E"}, "cli").id
    with TestClient(make_app(salesforce=salesforce)) as client:
        client.headers.update(bearer(client))
        answer = client.post(f"/rest/v1/leads/{pid}/syncToSfdc.json").json()
    [error] = answer["errors"]
    assert error["code"] == "713" and "TANDEM_SF_LOGIN_URL" in error["message"], error


def test_status_names_each_error_s_person_and_whether_it_is_resolved_as_tandem_status_does(
        sf_api, api_store, base_url, ca_path) -> None:
    """Before, the REST status listed errors without `email`, `refusedFields` and `resolved`: a refusal
    fixed long ago looked like one still waiting."""
    from tandem.people.origin import ChangeOrigin

    [samir] = api_store.persons.find_by_email("samir@initech.example")
    engine = SyncEngine(emulator_client(base_url, ca_path), api_store)
    api_store.persons.update(samir.id, {"phone": "not-a-number"}, origin=ChangeOrigin.API)
    engine.run_cycle()
    [refused] = sf_api.get("/rest/v1/sfdc/status.json").json()["result"][0]["errors"]
    assert (refused["personId"], refused["email"], refused["refusedFields"], refused["resolved"]) == (
        samir.id, "samir@initech.example", ["phone"], False)
    api_store.persons.update(samir.id, {"phone": "555-0100"}, origin=ChangeOrigin.API)
    engine.run_cycle()
    [fixed] = sf_api.get("/rest/v1/sfdc/status.json").json()["result"][0]["errors"]
    assert (fixed["id"], fixed["refusedFields"], fixed["resolved"]) == (refused["id"], [], True)
