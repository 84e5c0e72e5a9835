"""The Salesforce client against the emulator over real HTTPS."""

import pytest
from pydantic import SecretStr

from tandem.emulator.sample_org import CONNECTED_APP, SYNC_USER
from tandem.errors import (
    AuthenticationFailed,
    LimitExceeded,
    RecordRejected,
    SalesforceError,
    TransientError,
    UnservedApiVersion,
)
from tandem.salesforce.auth import Credentials
from tandem.salesforce.client import SalesforceClient
from tandem.salesforce.http import PinnedSession
from tandem.salesforce.soap import LeadConvert


def make_client(base_url, ca_path, *, username=SYNC_USER.username, password=SYNC_USER.password, **kwargs):
    credentials = Credentials(
        login_url=base_url,
        client_id=CONNECTED_APP.client_id,
        client_secret=SecretStr(CONNECTED_APP.client_secret),
        username=username,
        password=SecretStr(password) if password else None,
    )
    return SalesforceClient(credentials, PinnedSession(ca_path), backoff_seconds=0.01, **kwargs)


@pytest.fixture
def client(base_url, ca_path, reset_emulator):
    return make_client(base_url, ca_path)


def test_password_login_query_and_usage(client):
    rows = list(client.query("SELECT Id, Email FROM Contact ORDER BY Email"))
    assert [r["Email"] for r in rows][:2] == ["hank@globex.example", "peter@initech.example"]
    used, limit = client.api_usage
    assert limit == 100000 and used >= 1
    assert (client.calls, client.logins) == (1, 1)  # the query; a login is no API call


def test_query_answers_are_plain_dicts(client):
    """Decoded by the C decoder into dicts: the library's default hook builds an OrderedDict per
    object in Python, twice the time for a page of rows."""
    page = client.query_page("SELECT Id, Email, Account.Name FROM Contact WHERE AccountId != null LIMIT 1")
    row = page["records"][0]
    assert type(page) is dict and type(row) is dict and type(row["Account"]) is dict
    [rows] = client.query_pages("SELECT Id FROM Contact LIMIT 1", include_deleted=True)
    assert type(rows[0]) is dict


def test_client_credentials_login(base_url, ca_path, reset_emulator):
    client = make_client(base_url, ca_path, username=None, password=None)
    assert client.describe("Contact")["name"] == "Contact"


def test_a_resource_not_found_under_an_unserved_api_version_names_the_versions_served(base_url, ca_path,
                                                                                     reset_emulator):
    client = make_client(base_url, ca_path, api_version="99.0")
    for _ in range(2):
        with pytest.raises(UnservedApiVersion) as info:
            client.describe("Contact")
        assert str(info.value) == "NOT_FOUND: the org does not serve API version 99.0 (it serves 20.0 to 62.0)"
        assert info.value.hint == "set TANDEM_SF_API_VERSION to one of them, such as 62.0"
    assert client.calls == 2  # the describes; the versions, asked once, are no API call for the org either


def test_the_api_versions_are_no_api_call_for_the_org_nor_for_the_client(client):
    def used() -> int:
        daily = client.limits()["DailyApiRequests"]
        return daily["Max"] - daily["Remaining"]

    before, calls = used(), client.calls
    assert "62.0" in client.api_versions()
    assert used() - before == 1 and client.calls - calls == 1  # the second look at the limits only


def test_a_record_not_found_under_a_served_api_version_has_no_version_hint(client):
    with pytest.raises(SalesforceError) as info:
        client.request("GET", "sobjects/Contact/003000000000000AAA")
    assert info.value.status == 404 and info.value.hint is None


def test_bad_password_is_authentication_failed_without_the_secret(base_url, ca_path, reset_emulator):
    client = make_client(base_url, ca_path, password="wrong-secret-pw")
    with pytest.raises(AuthenticationFailed) as info:
        client.describe("Contact")
    assert "wrong-secret-pw" not in str(info.value)
    assert info.value.error_code == "invalid_grant"


def test_describe_as_sync_user_hides_fields(client):
    names = {f["name"] for f in client.describe("Contact")["fields"]}
    assert "Email" in names and "Internal_Notes__c" not in names


def test_paged_query_follows_next_records_url(client, base_url, http, sf_token):
    records = [{"attributes": {"type": "Lead"}, "LastName": f"L{n}", "Company": "C"} for n in range(200)]
    for _ in range(12):
        answer = http.post(f"{base_url}/services/data/v62.0/composite/sobjects",
                           json={"allOrNone": True, "records": records},
                           headers={"Authorization": f"Bearer {sf_token}"})
        answer.raise_for_status()
    rows = list(client.query("SELECT Id FROM Lead"))
    assert len(rows) == 2402
    assert len({r["Id"] for r in rows}) == 2402


def test_collections_give_per_record_results_and_the_rest_lands(client):
    contacts = list(client.query("SELECT Id, Phone FROM Contact ORDER BY Email"))
    results = client.update_records("Contact", [
        {"Id": contacts[0]["Id"], "Title": "Boss"},
        {"Id": contacts[1]["Id"], "Phone": "call me maybe"},
    ])
    assert results[0].success
    assert not results[1].success
    assert results[1].errors[0].code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert results[1].errors[0].fields == ("Phone",)
    assert client.retrieve("Contact", contacts[0]["Id"])["Title"] == "Boss"


def test_an_update_keeps_the_owner_the_org_assignment_rule_would_change(client):
    """Salesforce runs the active assignment rule on updated Leads unless told not to."""
    [lead] = client.query("SELECT Id, OwnerId FROM Lead WHERE Email = 'milton@initech.example'")
    [result] = client.update_records("Lead", [{"Id": lead["Id"], "LeadSource": "Web"}])  # the Web rule's case
    assert result.success
    [after] = client.query(f"SELECT OwnerId, LeadSource FROM Lead WHERE Id = '{lead['Id']}'")
    assert (after["LeadSource"], after["OwnerId"]) == ("Web", lead["OwnerId"])


def test_upsert_on_external_id_is_repeatable(client):
    record = {"Tandem_Person_Id__c": "person-1", "LastName": "Once", "Company": "Acme"}
    first = client.upsert_records("Lead", "Tandem_Person_Id__c", [record])
    again = client.upsert_records("Lead", "Tandem_Person_Id__c", [record])
    assert first[0].created is True and again[0].created is False
    assert first[0].id == again[0].id
    assert len(list(client.query("SELECT Id FROM Lead WHERE Tandem_Person_Id__c = 'person-1'"))) == 1


def test_single_record_rejection_is_record_rejected(client):
    with pytest.raises(RecordRejected) as info:
        client.create("Lead", {"LastName": "NoCompany"})
    assert info.value.error_code == "REQUIRED_FIELD_MISSING"


def test_transient_faults_are_retried(client, base_url, http):
    client.describe("Lead")
    http.put(f"{base_url}/_emulator/faults", json={"seed": 7, "http503": 0.3}).raise_for_status()
    calls_before = client.calls
    try:
        for _ in range(5):
            assert client.describe("Lead")["name"] == "Lead"
        assert client.calls - calls_before > 5  # some answers were 503s, and were retried
    finally:
        http.put(f"{base_url}/_emulator/faults", json={"seed": 0}).raise_for_status()


def test_persistent_outage_gives_transient_error(client, base_url, http):
    client.describe("Lead")
    http.put(f"{base_url}/_emulator/faults", json={"seed": 1, "http503": 1.0}).raise_for_status()
    try:
        with pytest.raises(TransientError):
            client.describe("Lead")
    finally:
        http.put(f"{base_url}/_emulator/faults", json={"seed": 0}).raise_for_status()


def test_expired_session_logs_in_again(client, base_url, http):
    client.describe("Lead")
    http.put(f"{base_url}/_emulator/faults", json={"seed": 3, "sessionExpiry": 1.0}).raise_for_status()
    http.put(f"{base_url}/_emulator/faults", json={"seed": 3}).raise_for_status()
    assert client.describe("Lead")["name"] == "Lead"


def test_convert_lead_over_soap(client):
    [lead] = list(client.query("SELECT Id FROM Lead WHERE Email = 'milton@initech.example'"))
    [outcome] = client.convert_leads([LeadConvert(lead_id=lead["Id"], converted_status="Closed - Converted",
                                                  do_not_create_opportunity=True)])
    assert outcome.contact_id.startswith("003") and outcome.account_id.startswith("001")
    assert outcome.opportunity_id is None
    bad = client.convert_leads([LeadConvert(lead_id=lead["Id"], converted_status="Open - Not Contacted")])
    assert isinstance(bad[0], tuple) and bad[0][1]


def test_merge_records_and_delete_over_the_api(client):
    master, first, second = (client.create("Lead", {"LastName": n, "Company": "M"}) for n in ("A", "B", "C"))
    merged = client.merge_records("Lead", master, [first, second])
    assert merged.master_id == master and set(merged.merged_ids) == {first, second}
    losers = list(client.query(f"SELECT Id, MasterRecordId FROM Lead WHERE Id IN ('{first}', '{second}')",
                               include_deleted=True))
    assert {r["MasterRecordId"] for r in losers} == {master}
    refused = client.merge_records("Lead", master, [first])  # already merged: a result error, not a fault
    assert isinstance(refused, list) and refused[0].code == "ENTITY_IS_DELETED"
    client.delete("Lead", master)
    [gone] = client.query(f"SELECT IsDeleted FROM Lead WHERE Id = '{master}'", include_deleted=True)
    assert gone["IsDeleted"] is True


@pytest.fixture
def small_org(tmp_path, sample_org_path):
    """An org whose daily API limit is five calls, on a server of its own."""
    import json

    from tandem.emulator.model import Org
    from tandem.emulator.server import EmulatorServer

    definition = json.loads(sample_org_path.read_text())
    definition["limits"]["DailyApiRequests"] = 5
    server = EmulatorServer(Org.from_definition(definition), port=0, state_dir=tmp_path)
    server.start()
    yield server
    server.stop()


def test_limit_exceeded_is_typed_and_not_retried(small_org):
    client = make_client(small_org.base_url, small_org.ca_path)
    assert client.limits()["DailyApiRequests"]["Max"] == 5
    with pytest.raises(LimitExceeded) as info:
        for _ in range(10):
            client.describe("Lead")
    assert info.value.error_code == "REQUEST_LIMIT_EXCEEDED"
    assert client.calls <= 7  # stopped at the limit, no retry storm


def test_aborting_bulk_jobs_that_have_ended_is_quiet(client):
    """Salesforce refuses to abort a job that has ended (400 INVALIDJOBSTATE): there is nothing left to stop."""
    from tandem.salesforce.bulk import abort_query_job, query_job
    from tandem.salesforce.bulk_ingest import abort_job, update_job

    done = query_job(client, "SELECT Id FROM Account", pause=lambda seconds: None)
    abort_query_job(client, done)
    contact = next(client.query("SELECT Id FROM Contact LIMIT 1"))["Id"]
    [result] = update_job(client, "Contact", [{"Id": contact, "Title": "Ended"}], pause=lambda seconds: None)
    assert result.success
    jobs = client.request("GET", "jobs/ingest").json()["records"]
    abort_job(client, jobs[-1]["id"])
