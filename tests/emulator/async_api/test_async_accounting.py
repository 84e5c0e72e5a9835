"""How Bulk API 1.0 counts against the org: one API call per request, one allocated batch per batch
(PK chunks included), injected record faults and FLS applied per record, XML query results."""

from __future__ import annotations

import json

import pytest
from defusedxml import ElementTree as SafeET

from tests.emulator.async_api.conftest import API_VERSION
from tests.emulator.async_api.test_salesforce_bulk import wait_done

NS = "{http://www.force.com/2009/06/asyncapi/dataload}"


def usage(base_url, http, token) -> tuple[int, int]:
    """(API calls used, Bulk API batches used), read from /limits (itself one call, taken off)."""
    limits = http.get(f"{base_url}/services/data/v{API_VERSION}/limits",
                      headers={"Authorization": f"Bearer {token}"}).json()
    calls = limits["DailyApiRequests"]["Max"] - limits["DailyApiRequests"]["Remaining"] - 1
    batches = limits["DailyBulkApiBatches"]["Max"] - limits["DailyBulkApiBatches"]["Remaining"]
    return calls, batches


def test_every_request_is_one_api_call_and_every_batch_one_allocated_batch(bulk, base_url, http, sf_token, seed):
    seed("Contact", [{"LastName": f"Counted {n}"} for n in range(5)])
    calls_before, batches_before = usage(base_url, http, sf_token)
    polls = 0

    def finish(batch: str, job: str) -> str:
        nonlocal polls
        while True:
            polls += 1
            state = bulk.batch_status(batch, job, reload=True)["state"]
            if state in ("Completed", "Failed", "NotProcessed"):
                return state

    job = bulk.create_insert_job("Contact", contentType="CSV")
    first = bulk.post_batch(job, b"LastName\nCount One\n")
    second = bulk.post_batch(job, b"LastName\nCount Two\n")
    bulk.close_job(job)
    assert [finish(batch, job) for batch in (first, second)] == ["Completed", "Completed"]
    bulk.get_batch_results(first, job)
    query = bulk.create_query_job("Contact", contentType="CSV", pk_chunking=4)
    original = bulk.query(query, "SELECT Id FROM Contact")
    assert finish(original, query) == "NotProcessed"
    calls_after, batches_after = usage(base_url, http, sf_token)
    requests_made = 4 + 1 + 2 + polls  # job, 2 batches, close; results; query job and its batch; the polls
    assert calls_after - calls_before == requests_made + 1  # and the /limits read between
    chunks = -(-9 // 4)  # the sample org's 4 contacts and the 5 seeded, 4 Ids a chunk
    assert batches_after - batches_before == 2 + 1 + chunks


def test_record_faults_and_field_security_apply_per_record(base_url, http, get_token, trust_emulator_everywhere):
    from salesforce_bulk import CsvDictsAdapter, SalesforceBulk

    from tandem.emulator.sample_org import SYNC_USER

    assert http.put(f"{base_url}/_emulator/faults", json={"seed": 5, "recordUnableToLockRow": 1.0}).status_code == 200
    bulk = SalesforceBulk(sessionId=get_token(base_url, http, *SYNC_USER), host=base_url, API_version=API_VERSION)
    job = bulk.create_insert_job("Contact", contentType="CSV")
    batch = bulk.post_batch(job, CsvDictsAdapter(iter([{"LastName": "Locked A"}, {"LastName": "Locked B"}])))
    assert wait_done(bulk, job, batch)["state"] == "Completed"
    assert [r.error.split(":")[0] for r in bulk.get_batch_results(batch, job)] == ["UNABLE_TO_LOCK_ROW"] * 2
    assert http.put(f"{base_url}/_emulator/faults", json={}).status_code == 200

    hidden = bulk.create_insert_job("Contact", contentType="CSV")
    refused = bulk.post_batch(hidden, b"LastName,Internal_Notes__c\nNosy,secret\n")
    info = wait_done(bulk, hidden, refused)
    assert info["state"] == "Failed"
    assert "Internal_Notes__c" in info["stateMessage"]


def test_an_xml_query_job_answers_xml_records(bulk, sf):
    job = bulk.create_query_job("Contact", contentType="XML")
    batch = bulk.query(job, "SELECT Id, LastName, Account.Name, Birthdate FROM Contact ORDER BY LastName")
    assert wait_done(bulk, job, batch)["state"] == "Completed"
    [result] = bulk.get_query_batch_result_ids(batch, job_id=job)
    tree = SafeET.fromstring(bulk.get_query_batch_results(batch, result, job_id=job).read())
    records = tree.findall(f"{NS}records")
    expected = sf.query("SELECT LastName, Account.Name FROM Contact ORDER BY LastName")["records"]
    assert [r.findtext(f"{NS}LastName") for r in records] == [e["LastName"] for e in expected]
    first = records[0]
    assert first.findtext(f"{NS}type") == "Contact"
    assert first.find(f"{NS}Account").findtext(f"{NS}Name") == expected[0]["Account"]["Name"]
    nil = "{http://www.w3.org/2001/XMLSchema-instance}nil"
    assert all(r.find(f"{NS}Birthdate").get(nil) == "true" or r.findtext(f"{NS}Birthdate") for r in records)


def test_a_csv_job_made_with_a_json_job_info_answers_json_to_its_posts_and_xml_to_its_reads(base_url, http, sf_token):
    """The pattern of tap-salesforce's Bulk reader: JSON headers on every call, the job's own XML on reads."""
    headers = {"X-SFDC-Session": sf_token, "Content-Type": "application/json"}
    jobs = f"{base_url}/services/async/62.0/job"
    made = http.post(jobs, headers=headers,
                     data=json.dumps({"operation": "queryAll", "object": "Contact", "contentType": "CSV"}))
    assert made.status_code == 201 and made.headers["Content-Type"] == "application/json"
    job_id = made.json()["id"]
    batch = http.post(f"{jobs}/{job_id}/batch", headers=dict(headers, **{"Content-Type": "text/csv"}),
                      data="SELECT Id FROM Contact")
    assert batch.status_code == 201 and batch.headers["Content-Type"] == "application/xml"
    batch_id = SafeET.fromstring(batch.content).findtext(f"{NS}id")
    read = http.get(f"{jobs}/{job_id}/batch/{batch_id}", headers=headers)
    assert read.headers["Content-Type"] == "application/xml"
    assert SafeET.fromstring(read.content).findtext(f"{NS}id") == batch_id
    closed = http.post(f"{jobs}/{job_id}", headers=headers, data=json.dumps({"state": "Closed"}))
    assert closed.status_code == 200 and closed.json()["state"] == "Closed"
    missing = http.get(f"{jobs}/750000000000000AAA", headers=headers)
    assert missing.status_code == 400 and missing.json()["exceptionCode"] == "InvalidJob"


@pytest.mark.parametrize("job_info", [
    {"operation": "upsert", "object": "Contact", "contentType": "JSON", "externalIdFieldName": 5},
    {"operation": "insert", "object": "Contact", "contentType": "JSON", "assignmentRuleId": ["01Q"]},
])
def test_a_json_job_info_element_that_is_not_text_is_an_invalid_job(base_url, http, sf_token, job_info):
    """A number where the jobInfo holds text answered 500 (externalIdFieldName) or made a job whose
    batches then failed (assignmentRuleId); the job is now refused, naming the element."""
    answer = http.post(f"{base_url}/services/async/62.0/job", data=json.dumps(job_info),
                       headers={"X-SFDC-Session": sf_token, "Content-Type": "application/json"})
    assert answer.status_code == 400
    named = next(key for key, value in job_info.items() if not isinstance(value, str))
    assert answer.json()["exceptionCode"] == "InvalidJob" and named in answer.json()["exceptionMessage"]
