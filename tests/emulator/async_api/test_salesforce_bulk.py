"""salesforce-bulk (Bulk API 1.0 in CSV and XML), unchanged, against the emulator."""

from __future__ import annotations

import csv
import io
import json
import time

import pytest
from salesforce_bulk import BulkApiError, CsvDictsAdapter, SalesforceBulk

from tests.emulator.async_api.conftest import API_VERSION

NO_SLEEP = 0.05


def wait_done(bulk: SalesforceBulk, job_id: str, batch_id: str, timeout: float = 30.0) -> dict:
    """Poll the batch until it ends; its final batchInfo."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = bulk.batch_status(batch_id, job_id, reload=True)
        if status["state"] in ("Completed", "Failed", "NotProcessed"):
            return status
        time.sleep(NO_SLEEP)
    raise AssertionError(f"batch {batch_id} did not finish")


def test_query_reads_every_result_chunk(small_chunks_org, trust_emulator_everywhere, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(small_chunks_org.ca_path))
    http = small_chunks_org.http
    rows = [{"LastName": f"Chunked {n:02d}", "Email": f"chunk{n:02d}@example.test"} for n in range(12)]
    seeded = http.post(f"{small_chunks_org.base_url}/_emulator/seed", json={"Contact": rows})
    assert seeded.status_code == 200, seeded.text
    bulk = SalesforceBulk(sessionId=small_chunks_org.token, host=small_chunks_org.base_url, API_version=API_VERSION)

    job = bulk.create_query_job("Contact", contentType="CSV")
    batch = bulk.query(job, "SELECT Id, LastName, Email FROM Contact WHERE LastName LIKE 'Chunked%' ORDER BY LastName")
    bulk.close_job(job)
    assert wait_done(bulk, job, batch)["state"] == "Completed"

    result_ids = bulk.get_query_batch_result_ids(batch, job_id=job)
    assert len(result_ids) == 3
    read = []
    for result_id in result_ids:
        text = bulk.get_query_batch_results(batch, result_id, job_id=job).read().decode("utf-8")
        read.append(list(csv.DictReader(io.StringIO(text))))
    assert [len(chunk) for chunk in read] == [5, 5, 2]
    assert [row["LastName"] for chunk in read for row in chunk] == [r["LastName"] for r in rows]
    assert set(read[0][0]) == {"Id", "LastName", "Email"}
    assert bulk.job_status(job)["state"] == "Closed"


def test_insert_in_several_batches_reports_each_record(bulk, sf):
    job = bulk.create_insert_job("Contact", contentType="CSV")
    first = [{"LastName": "Batch One A", "Phone": "+31 20 555 0101"},
             {"LastName": "Batch One B", "Phone": "not a phone"}]
    second = [{"FirstName": "No", "LastName": "Batch Two A"}, {"FirstName": "Missing", "LastName": ""}]
    batches = [bulk.post_batch(job, CsvDictsAdapter(iter(rows))) for rows in (first, second)]
    bulk.close_job(job)
    for batch in batches:
        assert wait_done(bulk, job, batch)["state"] == "Completed"

    one, two = (bulk.get_batch_results(batch, job) for batch in batches)
    assert [(r.success, r.created) for r in one] == [("true", "true"), ("false", "false")]
    assert one[1].id == ""
    assert one[1].error.startswith("FIELD_CUSTOM_VALIDATION_EXCEPTION:")
    assert [(r.success, r.created) for r in two] == [("true", "true"), ("false", "false")]
    assert two[1].error.startswith("REQUIRED_FIELD_MISSING:") and "LastName" in two[1].error

    stored = sf.query("SELECT Id, LastName FROM Contact WHERE LastName LIKE 'Batch%' ORDER BY LastName")["records"]
    assert [(r["Id"], r["LastName"]) for r in stored] == [(one[0].id, "Batch One A"), (two[0].id, "Batch Two A")]
    status = bulk.job_status(job)
    assert status["state"] == "Closed"
    assert (status["numberBatchesTotal"], status["numberBatchesCompleted"]) == ("2", "2")
    assert (status["numberRecordsProcessed"], status["numberRecordsFailed"]) == ("4", "2")


def test_upsert_update_and_delete_in_xml(bulk, sf):
    created = sf.Contact.create({"LastName": "Upserted", "Tandem_Person_Id__c": "p-1"})["id"]

    def run(operation: str, body: bytes, **options) -> list:
        job = bulk.create_job("Contact", operation, contentType="XML", **options)
        batch = bulk.post_batch(job, body)
        bulk.close_job(job)
        assert wait_done(bulk, job, batch)["state"] == "Completed"
        return bulk.get_batch_results(batch, job)

    ns = 'xmlns="http://www.force.com/2009/06/asyncapi/dataload"'
    upserted = run("upsert", (
        f'<sObjects {ns}><sObject><Tandem_Person_Id__c>p-1</Tandem_Person_Id__c><FirstName>Una</FirstName></sObject>'
        f'<sObject><Tandem_Person_Id__c>p-2</Tandem_Person_Id__c><LastName>Fresh</LastName></sObject></sObjects>'
    ).encode(), external_id_name="Tandem_Person_Id__c")
    assert [(r.success, r.created) for r in upserted] == [(True, False), (True, True)]
    fresh = sf.query("SELECT Id FROM Contact WHERE Tandem_Person_Id__c = 'p-2'")["records"][0]["Id"]
    assert sf.Contact.get(created)["FirstName"] == "Una"

    updated = run("update", (
        f'<sObjects {ns} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><sObject><Id>{created}</Id>'
        f'<FirstName xsi:nil="true"/><Title>Chief</Title></sObject></sObjects>').encode())
    assert [r.success for r in updated] == [True]
    after = sf.Contact.get(created)
    assert (after["FirstName"], after["Title"]) == (None, "Chief")

    deleted = run("delete", f"<sObjects {ns}><sObject><Id>{fresh}</Id></sObject></sObjects>".encode())
    assert [r.success for r in deleted] == [True]
    assert sf.query_all("SELECT Id, IsDeleted FROM Contact WHERE Id = '%s'" % fresh, include_deleted=True)[
        "records"][0]["IsDeleted"] is True


def test_pk_chunking_splits_the_query_into_one_batch_per_chunk(bulk, seed):
    seed("Contact", [{"LastName": f"Pk {n:02d}"} for n in range(11)])
    job = bulk.create_query_job("Contact", contentType="CSV", pk_chunking=4)
    original = bulk.query(job, "SELECT Id, LastName FROM Contact WHERE LastName LIKE 'Pk%'")
    bulk.close_job(job)

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        batches = bulk.get_batch_list(job)
        if all(b["state"] in ("Completed", "Failed", "NotProcessed") for b in batches) and len(batches) > 1:
            break
        time.sleep(NO_SLEEP)
    states = {b["id"]: b["state"] for b in batches}
    assert states.pop(original) == "NotProcessed"
    total = 4 + 11  # the sample org's contacts and the seeded ones
    assert len(states) == -(-total // 4)
    assert set(states.values()) == {"Completed"}

    names = []
    for chunk_batch in states:
        request = bulk.get_query_batch_request(chunk_batch, job)
        assert "Id >= '" in request and "LastName LIKE 'Pk%'" in request
        for result in bulk.get_all_results_for_query_batch(chunk_batch, job):
            names.extend(row["LastName"] for row in csv.DictReader(io.StringIO(result.read().decode())))
    assert sorted(names) == [f"Pk {n:02d}" for n in range(11)]
    assert bulk.job_status(job)["numberBatchesTotal"] == str(len(states) + 1)


def test_closed_and_aborted_jobs_take_no_batches(bulk, base_url, http, sf_token):
    closed = bulk.create_insert_job("Contact", contentType="CSV")
    bulk.close_job(closed)
    with pytest.raises(BulkApiError, match="InvalidJobState") as refused:
        bulk.post_batch(closed, b"LastName\nToo Late\n")
    assert refused.value.status_code == 400

    aborted = bulk.create_insert_job("Contact", contentType="CSV")
    bulk.abort_job(aborted)
    assert bulk.job_status(aborted)["state"] == "Aborted"
    with pytest.raises(BulkApiError, match="InvalidJobState"):
        bulk.post_batch(aborted, b"LastName\nToo Late\n")
    with pytest.raises(BulkApiError, match="InvalidJobState"):
        bulk.close_job(aborted)


def test_abort_leaves_queued_batches_unprocessed(bulk, sf):
    """One worker runs batches in order: long batches ahead keep the aborted job's batch queued."""
    ahead = bulk.create_insert_job("Contact", contentType="CSV")
    rows = "".join(f"Ahead {n}\n" for n in range(10_000))
    long_batch, *_, last_batch = (bulk.post_batch(ahead, f"LastName\n{rows}".encode()) for _ in range(4))
    job = bulk.create_insert_job("Contact", contentType="CSV")
    queued = bulk.post_batch(job, b"LastName\nNever Written\n")
    bulk.abort_job(job)
    # the worker is still on the 40,000 rows ahead (the first batches may be done): the job's batch waited
    assert {b["id"]: b["state"] for b in bulk.get_batch_list(ahead)}[last_batch] in ("Queued", "InProgress")

    assert wait_done(bulk, job, queued)["state"] == "NotProcessed"
    assert wait_done(bulk, ahead, long_batch, timeout=120)["state"] == "Completed"
    assert wait_done(bulk, ahead, last_batch, timeout=120)["state"] == "Completed"
    assert sf.query("SELECT COUNT() FROM Contact WHERE LastName = 'Never Written'")["totalSize"] == 0
    with pytest.raises(BulkApiError, match="InvalidBatch"):
        bulk.get_batch_results(queued, job)


def test_an_empty_or_oversized_batch_is_refused(bulk):
    job = bulk.create_insert_job("Contact", contentType="CSV")
    with pytest.raises(BulkApiError, match="InvalidBatch.*empty"):
        bulk.post_batch(job, b"  \n")
    oversized = b"LastName\n" + b"x" * 10_000_000
    with pytest.raises(BulkApiError, match="InvalidBatch.*limit is 10000000") as refused:
        bulk.post_batch(job, oversized)
    assert refused.value.status_code == 400
    assert bulk.job_status(job)["numberBatchesTotal"] == "0"


def test_a_missing_session_is_invalid_session_id(base_url, trust_emulator_everywhere):
    bulk = SalesforceBulk(sessionId="not-a-session", host=base_url, API_version=API_VERSION)
    with pytest.raises(BulkApiError) as refused:
        bulk.create_query_job("Contact", contentType="CSV")
    assert refused.value.status_code == 400
    assert "<exceptionCode>InvalidSessionId</exceptionCode>" in str(refused.value)
    assert "<exceptionMessage>Invalid session id</exceptionMessage>" in str(refused.value)


def test_a_reset_stops_a_running_batch(bulk, base_url, http, sf):
    job = bulk.create_insert_job("Contact", contentType="CSV")
    rows = "".join(f"Interrupted {n}\n" for n in range(10_000))
    batch = bulk.post_batch(job, f"LastName\n{rows}".encode())
    deadline = time.monotonic() + 30
    while {b["id"]: b["state"] for b in bulk.get_batch_list(job)}[batch] == "Queued":
        assert time.monotonic() < deadline
    assert http.post(f"{base_url}/_emulator/reset").status_code == 200

    def written() -> int:
        return sf.query("SELECT COUNT() FROM Contact WHERE LastName LIKE 'Interrupted%'")["totalSize"]

    counts = [written(), written()]
    while counts[-1] != counts[-2]:
        counts.append(written())
    assert counts[-1] <= 1  # at most the record in flight when the reset landed


def test_a_csv_batch_that_is_not_utf8_fails_saying_so(bulk, sf):
    """A Latin-1 batch failed as `Unknown : an unexpected error occurred` (and logged a traceback);
    it now fails as InvalidBatch naming the byte, nothing written."""
    job = bulk.create_insert_job("Contact", contentType="CSV")
    batch = bulk.post_batch(job, "LastName,Email\nM\xfcller,latin@example.com\n".encode("latin-1"))
    status = wait_done(bulk, job, batch)
    assert status["state"] == "Failed"
    assert status["stateMessage"].startswith("InvalidBatch : The batch is not valid UTF-8 (byte 0xfc")
    assert sf.query("SELECT COUNT() FROM Contact WHERE Email = 'latin@example.com'")["totalSize"] == 0
