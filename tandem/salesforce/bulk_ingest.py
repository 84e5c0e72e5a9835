"""Bulk API 2.0 ingest: one job updates many records; its results come back per record, typed as
the sObject Collections' (`RecordResult`), in the order the records were given.

A record the job did not process (the job failed or was aborted) comes back as `NOT_PROCESSED`,
which is retryable: it was not written, so it may be sent again.

A job takes its data in one upload. When an upload's answer is lost and the upload is sent again,
Salesforce takes the second copy too, then refuses to close the job ("Found multipe contents for
job"). Such a job is aborted, none of it processed, and the records go in a new job.
"""

from __future__ import annotations

import csv
import io
import time
from contextlib import suppress
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tandem.errors import InvalidInput, SalesforceError
from tandem.salesforce.bulk import abort_unless_ended
from tandem.salesforce.ids import to_18
from tandem.salesforce.results import NOT_PROCESSED, RecordError, RecordResult

if TYPE_CHECKING:
    from tandem.salesforce.client import SalesforceClient

NULL = "#N/A"
"""How a Bulk CSV sets a field to null (an empty cell leaves it as it is)."""
_ENDED = frozenset({"JobComplete", "Failed", "Aborted"})
_NOT_CLOSED = frozenset({"Open", "Aborted"})
JOB_ATTEMPTS = 2
"""Jobs one update tries before its records come back `NOT_PROCESSED` (each job that got its data
twice is aborted unprocessed)."""


def ingest_csv(records: Sequence[Mapping[str, Any]]) -> bytes:
    """Records as a Bulk CSV: the union of their fields as columns, `Id` first."""
    columns: dict[str, None] = {"Id": None}
    for record in records:
        columns.update(dict.fromkeys(record))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([_cell(record[c]) if c in record else "" for c in columns])
    return out.getvalue().encode("utf-8")


def _cell(value: Any) -> str:
    if value is None or value == "":
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_error(text: str) -> RecordError:
    """`CODE:message:field1,field2 --` (a Bulk result's `sf__Error`) as a RecordError."""
    text = text.strip().removesuffix("--").strip()
    code, _, rest = text.partition(":")
    message, colon, fields = rest.rpartition(":")
    if not colon:
        message, fields = rest, ""
    return RecordError(code=code.strip() or "UNKNOWN_EXCEPTION", message=message.strip(),
                       fields=tuple(f.strip() for f in fields.split(",") if f.strip()))


def open_update_job(client: SalesforceClient, object_name: str) -> str:
    """Create an update job, open for its data; returns its Id."""
    job = client.request("POST", "jobs/ingest", json={
        "object": object_name, "operation": "update", "contentType": "CSV",
        "lineEnding": "LF", "columnDelimiter": "COMMA",
    }).json()
    return str(job["id"])


def abort_job(client: SalesforceClient, job_id: str) -> None:
    """Abort a job that was opened and will get no data."""
    abort_unless_ended(client, f"jobs/ingest/{job_id}")


def update_job(client: SalesforceClient, object_name: str, records: Sequence[Mapping[str, Any]], *,
               job_id: str | None = None, pause: Callable[[float], None] = time.sleep,
               longest_pause: float = 10.0) -> list[RecordResult]:
    """Update the records (each with its `Id`) in one ingest job (`job_id`: one opened already, else
    a new one); one result per record, in order."""
    for index, record in enumerate(records):
        if not record.get("Id"):
            raise InvalidInput(f"records[{index}].Id", "an update needs the record's Id")
    if not records:
        if job_id is not None:
            abort_job(client, job_id)
        return []
    data = ingest_csv(records)
    job_id = job_id or open_update_job(client, object_name)
    for attempt in range(1, JOB_ATTEMPTS + 1):
        try:
            info = _upload_and_close(client, job_id, data)
            break
        except SalesforceError as error:
            if not _given_twice(error):
                with suppress(SalesforceError):
                    abort_job(client, job_id)  # its data may be in it: never to be processed now
                raise
            abort_job(client, job_id)
            if attempt == JOB_ATTEMPTS:
                info = {"state": "Aborted"}
            else:
                job_id = open_update_job(client, object_name)
    wait = 0.0
    while (state := info.get("state")) not in _ENDED:
        pause(wait)
        info = client.request("GET", f"jobs/ingest/{job_id}").json()
        wait = min(max(wait * 2, 0.5), longest_pause)
    # every record processed and none failed: each was updated, and no results need reading
    all_updated = state == "JobComplete" and info.get("numberRecordsFailed") == 0 \
        and info.get("numberRecordsProcessed") == len(records)
    outcome: dict[str, RecordResult] = {}
    if state == "JobComplete" and not all_updated:
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="tandem-results") as reading:
            succeeded, failed = reading.map(lambda kind: _rows(client, job_id, kind),
                                            ("successfulResults", "failedResults"))
        for row in succeeded:
            record_id = to_18(row.get("sf__Id") or row.get("Id") or "")
            outcome[record_id] = RecordResult(id=record_id, success=True, created=row.get("sf__Created") == "true")
        for row in failed:
            record_id = row.get("Id") or row.get("sf__Id") or ""
            if record_id:
                record_id = to_18(record_id)
                outcome[record_id] = RecordResult(id=record_id, success=False,
                                                  errors=(parse_error(row.get("sf__Error", "")),))
    not_processed = (RecordError(NOT_PROCESSED, f"the Bulk job ended {state} before this record"),)
    results = []
    for record in records:
        record_id = to_18(str(record["Id"]))
        if all_updated:
            results.append(RecordResult(id=record_id, success=True, created=False))
        else:
            results.append(outcome.get(record_id) or RecordResult(id=record_id, success=False, errors=not_processed))
    return results


def _upload_and_close(client: SalesforceClient, job_id: str, data: bytes) -> dict[str, Any]:
    """Give the job its data and close it; the closed job's info.

    A close sent again after its answer was lost is refused, the job being closed already
    (INVALIDJOBSTATE): the job's own state tells."""
    client.request("PUT", f"jobs/ingest/{job_id}/batches", data=data, headers={"Content-Type": "text/csv"})
    try:
        return client.request("PATCH", f"jobs/ingest/{job_id}", json={"state": "UploadComplete"}).json()
    except SalesforceError as error:
        if error.error_code != "INVALIDJOBSTATE":
            raise
        info = client.request("GET", f"jobs/ingest/{job_id}").json()
        if info.get("state") in _NOT_CLOSED:
            raise
        return info


def _given_twice(error: SalesforceError) -> bool:
    """Whether Salesforce refused the job because its data arrived more than once (on the close,
    as Salesforce answers; on an upload sent again, should it ever answer there)."""
    return "contents for job" in error.message


def _rows(client: SalesforceClient, job_id: str, kind: str) -> list[dict[str, str]]:
    text = client.request("GET", f"jobs/ingest/{job_id}/{kind}", headers={"Accept": "text/csv"}).content
    return list(csv.DictReader(io.StringIO(text.decode("utf-8"))))
