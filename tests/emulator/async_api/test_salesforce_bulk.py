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
