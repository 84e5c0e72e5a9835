"""pyforce, unchanged, against the partner SOAP API: its default gzip-compressed request bodies included.

pyforce's requests trust the environment's CA bundle, so the tests point REQUESTS_CA_BUNDLE at the
emulator's CA for their duration.
"""

from __future__ import annotations

import datetime

import pyforce
import pytest
from pyforce import xmlclient

from tandem.emulator.sample_org import ADMIN, LIMITED


@pytest.fixture
def client(base_url, ca_path, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_path))
    assert xmlclient.gzipRequest, "pyforce's default is gzip request bodies; these tests rely on it"
    made = pyforce.PythonClient(serverUrl=f"{base_url}/services/Soap/u/62.0")
    made.login(*ADMIN)
    return made


def test_login_returns_a_complete_user_info(base_url, ca_path, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_path))
    result = pyforce.PythonClient(serverUrl=f"{base_url}/services/Soap/u/62.0").login(*ADMIN)
    info = result["userInfo"]
    assert result["passwordExpired"] is False
    assert result["serverUrl"].startswith(f"{base_url}/services/Soap/u/62.0/00D")
    assert info["userEmail"] and info["userFullName"] == "Ada Admin"
    assert info["organizationName"] == "Sample org" and info["organizationId"].startswith("00D")
    assert info["userId"] == result["userId"] and info["userId"].startswith("005")
    assert info["currencySymbol"] == "$" and info["userLocale"] == "en_US" and info["userUiSkin"]


def test_bad_password_is_a_login_fault(base_url, ca_path, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_path))
    with pytest.raises(xmlclient.SoapFaultError) as caught:
        pyforce.PythonClient(serverUrl=f"{base_url}/services/Soap/u/62.0").login(ADMIN.username, "wrong")
    assert caught.value.faultCode == "INVALID_LOGIN"


def test_query_reads_typed_values_and_parent_fields(client):
    rows = client.query("SELECT Id, LastName, Lead_Score__c, Account.Name, CreatedDate FROM Contact "
                        "WHERE LastName = 'Coyote'")
    assert rows.size == 1 and rows.done
    row = rows[0]
    assert row["LastName"] == "Coyote" and row["Lead_Score__c"] == 10.0
    assert row["Account"]["Name"] == "Acme Corp"
    assert isinstance(row["CreatedDate"], datetime.datetime)


def test_query_more_pages_by_the_batch_size_asked(client, sf):
    sf.bulk2.Lead.insert(records=[{"LastName": f"Page{i}", "Company": "Pages"} for i in range(1200)])
    first = client.query("SELECT Id, LastName FROM Lead WHERE Company = 'Pages'")
    assert first.size == 1200 and not first.done and len(first) == 500
    second = client.queryMore(first.queryLocator)
    third = client.queryMore(second.queryLocator)
    assert len(second) == 500 and len(third) == 200 and third.done
    names = {r["LastName"] for r in [*first, *second, *third]}
    assert len(names) == 1200


def test_create_update_retrieve_round_trip(client):
    created = client.create({"type": "Contact", "LastName": "Soapy", "Email": "soapy@example.com",
                             "Lead_Score__c": 7})
    assert created[0]["success"], created
    contact_id = created[0]["id"]
    updated = client.update({"type": "Contact", "Id": contact_id, "Title": "Diver", "Email": None})
    assert updated[0]["success"] and updated[0]["id"] == contact_id
    [row] = client.retrieve("Id, LastName, Title, Email, Lead_Score__c", "Contact", [contact_id])
    assert row["LastName"] == "Soapy" and row["Title"] == "Diver" and row["Email"] == ""
    assert row["Lead_Score__c"] == 7.0


def test_validation_rules_apply_to_soap_writes(client):
    result = client.create({"type": "Contact", "LastName": "Negative", "Lead_Score__c": -1})
    assert result[0]["success"] is False
    assert result[0]["errors"][0]["statusCode"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert client.query("SELECT Id FROM Contact WHERE LastName = 'Negative'").size == 0


def test_field_level_security_applies_to_soap_calls(base_url, ca_path, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_path))
    limited = pyforce.PythonClient(serverUrl=f"{base_url}/services/Soap/u/62.0")
    limited.login(*LIMITED)
    with pytest.raises(xmlclient.SoapFaultError) as caught:
        limited.query("SELECT Id, Favorite_Color__c FROM Contact")
    assert caught.value.faultCode == "INVALID_FIELD"
    lead = limited.query("SELECT Id FROM Lead LIMIT 1")[0]["Id"]
    refused = limited.update({"type": "Lead", "Id": lead, "Title": "Boss"})
    assert refused[0]["success"] is False and refused[0]["errors"][0]["fields"] == ["Title"]


def test_describe_sobjects_marshals_fields(client):
    [contact, lead] = client.describeSObjects(["Contact", "Lead"])
    assert contact.name == "Contact" and lead.name == "Lead"
    assert contact.fields["Lead_Score__c"].type == "double"
    assert contact.fields["AccountId"].referenceTo == ["Account"]
    colors = [p["value"] for p in lead.fields["Favorite_Color__c"].picklistValues]
    assert colors == ["Red", "Green", "Blue"]
    assert contact.urlDetail.endswith("/{ID}")


def test_describe_global_upsert_and_delete(client):
    described = client.describeGlobal()
    assert "Contact" in described["types"] and described["maxBatchSize"] == 200
    first = client.upsert("External_Id__c", {"type": "Contact", "LastName": "Ups", "External_Id__c": "soap-1"})
    again = client.upsert("External_Id__c", {"type": "Contact", "LastName": "Ups2", "External_Id__c": "soap-1"})
    assert first[0]["created"] is True and again[0]["created"] is False and first[0]["id"] == again[0]["id"]
    deleted = client.delete([first[0]["id"]])
    assert deleted[0]["success"]
    assert client.query(f"SELECT Id FROM Contact WHERE Id = '{first[0]['id']}'").size == 0
    assert client.delete([first[0]["id"]])[0]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"


def test_get_updated_and_get_deleted(client, base_url, http):
    """Replication covers whole minutes up to the current one, so the rows carry stamps from minutes ago."""
    now = datetime.datetime.now(datetime.timezone.utc)
    stamp = (now - datetime.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    rows = [{"LastName": "Window", "SystemModstamp": stamp, "CreatedDate": stamp},
            {"LastName": "Gone", "IsDeleted": True, "SystemModstamp": stamp, "CreatedDate": stamp}]
    http.post(f"{base_url}/_emulator/bulk-load", json={"Contact": rows}).raise_for_status()
    start = (now - datetime.timedelta(minutes=20)).replace(tzinfo=None)
    end = (now + datetime.timedelta(minutes=1)).replace(tzinfo=None)
    updated = client.getUpdated("Contact", start, end)
    deleted = client.getDeleted("Contact", start, end)
    window = client.query("SELECT Id FROM Contact WHERE LastName = 'Window'")[0]["Id"]
    assert window in updated and len(deleted) == 1 and deleted[0]["id"] not in updated
    assert isinstance(deleted[0]["deletedDate"], datetime.datetime)


def test_user_info_and_server_timestamp(client):
    info = client.getUserInfo()
    assert info["userFullName"] == "Ada Admin" and info["organizationName"] == "Sample org"
    assert client.getServerTimestamp().startswith(str(datetime.datetime.now(datetime.timezone.utc).year))


def test_query_faults_are_typed(client):
    with pytest.raises(xmlclient.SoapFaultError) as bad_query:
        client.query("SELEKT Id FROM Contact")
    assert bad_query.value.faultCode == "MALFORMED_QUERY"
    with pytest.raises(xmlclient.SoapFaultError) as bad_locator:
        client.queryMore("01gNOTALOCATOR-500")
    assert bad_locator.value.faultCode == "INVALID_QUERY_LOCATOR"
    with pytest.raises(xmlclient.SoapFaultError) as bad_type:
        client.describeSObjects("NoSuchThing__c")
    assert bad_type.value.faultCode == "INVALID_TYPE"


def test_an_expired_session_is_a_session_timeout(client, base_url, http):
    http.post(f"{base_url}/_emulator/expire-sessions")
    with pytest.raises(xmlclient.SessionTimeoutError):
        client.query("SELECT Id FROM Contact")


def test_an_upsert_repeating_an_external_id_fails_each_repeating_record(client):
    """Salesforce's upsert call marks every record of a call carrying the same external Id as an error."""
    results = client.upsert("External_Id__c", [
        {"type": "Contact", "LastName": "One", "External_Id__c": "soap-twin"},
        {"type": "Contact", "LastName": "Two", "External_Id__c": "Soap-Twin"},
        {"type": "Contact", "LastName": "Solo", "External_Id__c": "soap-solo"},
    ])
    assert [r["success"] for r in results] == [False, False, True]
    [error] = results[0]["errors"]
    assert (error["statusCode"], error["message"]) == ("DUPLICATE_EXTERNAL_ID",
                                                       "Duplicate external id specified: soap-twin")
    assert client.query("SELECT Id FROM Contact WHERE External_Id__c = 'soap-twin'").size == 0
