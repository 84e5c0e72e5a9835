"""simple-salesforce's `sf.bulk` (Bulk API 1.0 in JSON), unchanged, and the answer of an org without it."""

from __future__ import annotations

from datetime import datetime

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from tests.emulator.async_api.conftest import API_VERSION
from tests.https_emulator import https_session


@pytest.fixture
def sf1(base_url, sf_token, new_session):
    """simple-salesforce pinned to the API version the Bulk API 1.0 URLs carry."""
    return Salesforce(instance_url=base_url, session_id=sf_token, session=new_session(), version=API_VERSION)


def test_bulk_query_returns_typed_records(sf1):
    rest = sf1.query("SELECT Id, Name, Email, CreatedDate, Account.Name FROM Contact ORDER BY Name")["records"]
    rows = sf1.bulk.Contact.query("SELECT Id, Name, Email, CreatedDate, Account.Name FROM Contact ORDER BY Name")
    assert [r["Id"] for r in rows] == [r["Id"] for r in rest]
    first = rows[0]
    assert first["attributes"]["type"] == "Contact"
    assert first["Account"]["Name"] == rest[0]["Account"]["Name"]
    # Bulk API 1.0 JSON writes datetimes as epoch milliseconds (dlt's source converts them back).
    rest_created = datetime.strptime(rest[0]["CreatedDate"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert first["CreatedDate"] == int(rest_created.timestamp() * 1000)


def test_bulk_query_all_includes_deleted_records(sf1):
    gone = sf1.Contact.create({"LastName": "Gone Soon"})["id"]
    sf1.Contact.delete(gone)
    live = sf1.bulk.Contact.query("SELECT Id FROM Contact WHERE LastName = 'Gone Soon'")
    everything = sf1.bulk.Contact.query_all("SELECT Id, IsDeleted FROM Contact WHERE LastName = 'Gone Soon'")
    assert live == []
    assert [(r["Id"], r["IsDeleted"]) for r in everything] == [(gone, True)]


def test_bulk_insert_reports_a_refused_record_and_writes_the_rest(sf1):
    results = sf1.bulk.Contact.insert([
        {"LastName": "Bulk Json A", "Email": "a@example.test"},
        {"LastName": "Bulk Json B", "Phone": "not a phone"},
        {"LastName": "Bulk Json C"},
    ], batch_size=2)
    assert [(r["success"], r["created"]) for r in results] == [(True, True), (False, False), (True, True)]
    refused = results[1]
    assert refused["id"] is None
    assert refused["errors"][0]["statusCode"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert refused["errors"][0]["fields"] == ["Phone"]
    stored = sf1.query("SELECT Id FROM Contact WHERE LastName LIKE 'Bulk Json%' ORDER BY LastName")["records"]
    assert [r["Id"] for r in stored] == [results[0]["id"], results[2]["id"]]


def test_a_bulk_upsert_batch_repeating_an_external_id_fails_each_repeating_record(sf1):
    """A batch giving two records one external Id created the first and updated it with the second;
    as in sObject Collections and SOAP, each record repeating a value now fails and the others go through."""
    results = sf1.bulk.Contact.upsert([
        {"External_Id__c": "bulk-dup", "LastName": "Dup One"},
        {"External_Id__c": "bulk-once", "LastName": "Once"},
        {"External_Id__c": "BULK-DUP", "LastName": "Dup Two"},
    ], "External_Id__c")
    assert [r["success"] for r in results] == [False, True, False]
    assert results[0]["errors"][0]["statusCode"] == "DUPLICATE_EXTERNAL_ID"
    stored = sf1.query("SELECT LastName FROM Contact WHERE LastName IN ('Dup One', 'Dup Two', 'Once')")["records"]
    assert [r["LastName"] for r in stored] == ["Once"]


def test_bulk_upsert_update_and_hard_delete(sf1):
    first = sf1.bulk.Contact.upsert([{"Tandem_Person_Id__c": "bulk-p-1", "LastName": "Ext One"}],
                                    "Tandem_Person_Id__c")
    again = sf1.bulk.Contact.upsert([{"Tandem_Person_Id__c": "bulk-p-1", "LastName": "Ext Once More"}],
                                    "Tandem_Person_Id__c")
    assert (first[0]["created"], again[0]["created"], again[0]["id"]) == (True, False, first[0]["id"])
    sf1.bulk.Contact.update([{"Id": first[0]["id"], "Title": "Updated"}])
    assert sf1.Contact.get(first[0]["id"])["Title"] == "Updated"
    removed = sf1.bulk.Contact.hard_delete([{"Id": first[0]["id"]}])
    assert removed[0]["success"] is True
    assert sf1.query("SELECT COUNT() FROM Contact WHERE Tandem_Person_Id__c = 'bulk-p-1'")["totalSize"] == 0


def test_job_and_batch_info_answer_json_with_an_exact_content_type(base_url, http, sf_token):
    headers = {"X-SFDC-Session": sf_token, "Content-Type": "application/json"}
    created = http.post(f"{base_url}/services/async/{API_VERSION}/job", headers=headers,
                        json={"operation": "query", "object": "Contact", "contentType": "JSON"})
    assert created.status_code == 201, created.text
    assert created.headers["Content-Type"] == "application/json"
    job = created.json()
    assert (job["state"], job["contentType"], job["apiVersion"]) == ("Open", "JSON", float(API_VERSION))
    bearer = {"Authorization": f"Bearer {sf_token}", "Content-Type": "application/json"}
    batch = http.post(f"{base_url}/services/async/{API_VERSION}/job/{job['id']}/batch", headers=bearer,
                      data="SELECT Id FROM Contact")
    assert batch.status_code == 201 and batch.json()["state"] == "Queued"
    assert batch.json()["id"].startswith("751") and batch.json()["jobId"] == job["id"]


def test_an_org_without_the_async_api_answers_feature_not_enabled(async_off_org, tmp_path):
    """dlt's Salesforce source falls back to REST on exactly this condition."""
    session = https_session(async_off_org.ca_path)
    sf = Salesforce(instance_url=async_off_org.base_url, session_id=async_off_org.token, session=session,
                    version=API_VERSION)
    query = "SELECT Id, LastName FROM Contact ORDER BY LastName"
    with pytest.raises(SalesforceMalformedRequest) as refused:
        list(sf.bulk.Contact.query_all(query, lazy_operation=True))
    assert refused.value.status == 400
    assert "FeatureNotEnabled" in str(refused.value) and "Async API not enabled" in str(refused.value)
    assert refused.value.content == {"exceptionCode": "FeatureNotEnabled", "exceptionMessage": "Async API not enabled"}
    assert [r["LastName"] for r in sf.query(query)["records"]]  # the fallback dlt then takes

    xml = session.post(f"{async_off_org.base_url}/services/async/{API_VERSION}/job",
                       headers={"X-SFDC-Session": async_off_org.token, "Content-Type": "application/xml"},
                       data=b"<jobInfo/>")
    assert xml.status_code == 400
    assert xml.headers["Content-Type"] == "application/xml"
    assert "<exceptionCode>FeatureNotEnabled</exceptionCode>" in xml.text
    assert "<exceptionMessage>Async API not enabled</exceptionMessage>" in xml.text
    session.close()



def test_a_json_batch_holding_nan_fails_instead_of_storing_it_as_text(base_url, http, sf_token, sf1):
    """A bare NaN (what Python's json writes for a float NaN) is not JSON; Salesforce refuses the batch,
    where the emulator stored "nan" as the Last Name."""
    headers = {"X-SFDC-Session": sf_token, "Content-Type": "application/json"}
    jobs = f"{base_url}/services/async/{API_VERSION}/job"
    job = http.post(jobs, headers=headers, json={"operation": "insert", "object": "Contact", "contentType": "JSON"})
    job_id = job.json()["id"]
    batch = http.post(f"{jobs}/{job_id}/batch", headers=headers, data='[{"LastName": NaN}]').json()
    info = batch
    for _ in range(100):  # a status request waits up to half a second for a batch about to finish
        info = http.get(f"{jobs}/{job_id}/batch/{batch['id']}", headers=headers).json()
        if info["state"] in ("Completed", "Failed"):
            break
    assert info["state"] == "Failed" and "Non-standard token 'NaN'" in info["stateMessage"]
    assert sf1.query("SELECT COUNT() FROM Contact WHERE LastName = 'nan'")["totalSize"] == 0
