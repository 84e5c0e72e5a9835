"""Bulk API 2.0 over HTTP: `jobs/ingest` and `jobs/query`, JSON job info and CSV data/results."""

from __future__ import annotations

import base64
import json
import weakref
from typing import Any

from tandem.emulator.jobs import (
    DELIMITERS,
    INGEST_OPERATIONS,
    LINE_ENDINGS,
    QUERY_OPERATIONS,
    IngestJob,
    Job,
    JobStore,
    QueryJob,
    write_csv,
)
from tandem.emulator.model.errors import ApiError
from tandem.emulator.soql import CountAll, CountField, SoqlError, parse_soql

from tandem.emulator.wire.bulk_processing import run_ingest, run_query
from tandem.emulator.wire.calls import ApiCall, require_json_object
from tandem.emulator.wire.replies import Reply, status_error
from tandem.emulator.wire.rest import user_id_of
from tandem.emulator.wire.routing import ApiRequest, RouteTable

routes = RouteTable()
CSV_TYPE = "text/csv; charset=UTF-8"

_stores: "weakref.WeakKeyDictionary[Any, JobStore]" = weakref.WeakKeyDictionary()


def jobs_for(org: Any) -> JobStore:
    """The Bulk job store of an org (jobs are wire state; the model knows nothing of them)."""
    store = _stores.get(org)
    if store is None:
        store = _stores.setdefault(org, JobStore())
    return store


def _job_info(job: Job, detail: bool) -> dict:
    info: dict[str, Any] = {
        "id": job.id,
        "operation": job.operation,
        "createdById": job.created_by,
        "createdDate": job.created_date,
        "systemModstamp": job.system_modstamp,
        "state": job.state,
        "concurrencyMode": "Parallel",
        "contentType": "CSV",
        "apiVersion": float(job.api_version),
        "lineEnding": job.line_ending,
        "columnDelimiter": job.column_delimiter,
    }
    if isinstance(job, IngestJob):
        info["object"] = job.object
        info["externalIdFieldName"] = job.external_id_field
        info["contentUrl"] = f"services/data/v{job.api_version}/jobs/ingest/{job.id}/batches"
        info["jobType"] = "V2Ingest"
    else:
        info["object"] = _query_object(job.query)
        info["jobType"] = "V2Query"
    if detail:
        info.update(
            numberRecordsProcessed=job.processed,
            retries=0,
            totalProcessingTime=job.processing_ms,
            apiActiveProcessingTime=job.processing_ms,
            apexProcessingTime=0,
        )
        if isinstance(job, IngestJob):
            info["numberRecordsFailed"] = job.failed
        if job.error_message:
            info["errorMessage"] = job.error_message
    return info


def _query_object(soql: str) -> str:
    words = soql.replace(",", " ").split()
    lowered = [w.lower() for w in words]
    return words[lowered.index("from") + 1] if "from" in lowered[:-1] else ""


def _format_options(body: dict) -> dict:
    delimiter = body.get("columnDelimiter") or "COMMA"
    line_ending = body.get("lineEnding") or "LF"
    if delimiter not in DELIMITERS:
        raise status_error(400, "INVALIDJOB", f"Invalid columnDelimiter: {delimiter}")
    if line_ending not in LINE_ENDINGS:
        raise status_error(400, "INVALIDJOB", f"Invalid lineEnding: {line_ending}")
    if (body.get("contentType") or "CSV") != "CSV":
        raise status_error(400, "INVALIDJOB", "contentType must be CSV")
    return {"column_delimiter": delimiter, "line_ending": line_ending}


_JOB_TEXT_KEYS = ("operation", "object", "query", "externalIdFieldName", "assignmentRuleId", "columnDelimiter",
                  "lineEnding", "contentType")


def _job_request(request: ApiRequest) -> dict:
    """A job-creation body whose text properties are text (or null), as the JobInfo they fill."""
    body = require_json_object(request.json())
    for key in _JOB_TEXT_KEYS:
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            raise status_error(400, "JSON_PARSER_ERROR", f"Cannot deserialize instance of string from "
                                                         f"{json.dumps(value)} for property {key}")
    return body


@routes.route("POST", "jobs/ingest")
def create_ingest(call: ApiCall, request: ApiRequest) -> Reply:
    body = _job_request(request)
    operation, sobject = body.get("operation"), body.get("object")
    if operation not in INGEST_OPERATIONS:
        raise status_error(400, "INVALIDJOB", f"Invalid operation: {operation}")
    try:
        described = call.org.describe(call.ctx, sobject) if sobject else None
    except ApiError:
        described = None
    if described is None:
        raise status_error(400, "INVALIDJOB", f"InvalidJob : Unable to find object: {sobject or ''}")
    if operation == "upsert":
        _check_external_id(described, body.get("externalIdFieldName"))
    job = jobs_for(call.org).add(
        IngestJob,
        operation=operation,
        created_by=user_id_of(call.ctx),
        api_version=call.version,
        object=sobject,
        external_id_field=body.get("externalIdFieldName"),
        assignment_rule_id=body.get("assignmentRuleId"),
        **_format_options(body),
    )
    return Reply(200, _job_info(job, detail=False))


def _check_external_id(described: dict, name: str | None) -> None:
    """An upsert job's `externalIdFieldName` must be an External ID (or Id-lookup) field of the object."""
    found = next((f for f in described.get("fields", []) if f["name"].lower() == (name or "").lower()), None)
    if found is None or not (found.get("externalId") or found.get("idLookup")):
        raise status_error(400, "INVALIDJOB", f"InvalidJob : Field name provided, {name or ''} does not match an "
                                              f"External ID for {described.get('name')}")


@routes.route("GET", "jobs/ingest")
def list_ingest(call: ApiCall, request: ApiRequest) -> Reply:
    jobs = jobs_for(call.org).all(IngestJob)
    return Reply(200, {"done": True, "records": [_job_info(j, False) for j in jobs], "nextRecordsUrl": None})


@routes.route("GET", "jobs/ingest/{job_id}")
def get_ingest(call: ApiCall, request: ApiRequest) -> Reply:
    return Reply(200, _job_info(jobs_for(call.org).get(request.params["job_id"], IngestJob), detail=True))


@routes.route("PUT", "jobs/ingest/{job_id}/batches")
def upload(call: ApiCall, request: ApiRequest) -> Reply:
    job = jobs_for(call.org).get(request.params["job_id"], IngestJob)
    if job.state != "Open":
        raise status_error(409, "INVALIDJOBSTATE", f"Job is not open for uploads: {job.state}")
    job.uploads.append(request.body)
    return Reply(201, raw=b"")


def _refuse_abort_when_ended(job: Job) -> None:
    """A job that has ended cannot be aborted; Salesforce answers so in the same words whatever the end."""
    if job.state in ("JobComplete", "Failed", "Aborted"):
        raise status_error(400, "INVALIDJOBSTATE", "Aborting already Completed Job not allowed")


@routes.route("PATCH", "jobs/ingest/{job_id}")
def set_ingest_state(call: ApiCall, request: ApiRequest) -> Reply:
    job = jobs_for(call.org).get(request.params["job_id"], IngestJob)
    state = (require_json_object(request.json()) or {}).get("state")
    if state == "Aborted":
        _refuse_abort_when_ended(job)
        job.move_to("Aborted")
        return Reply(200, _job_info(job, detail=False))
    if state != "UploadComplete":
        raise status_error(400, "INVALIDJOBSTATE", f"Invalid state: {state}")
    if job.state != "Open":
        raise status_error(409, "INVALIDJOBSTATE", f"Job is not open: {job.state}")
    if len(job.uploads) > 1:  # each upload was taken (201); the close is refused in Salesforce's words, typo
        # included, and the job stays open to be aborted or deleted
        raise status_error(400, "INVALIDJOB", f"Found multipe contents for job: <{job.id[:15]}>, please 'Close' / "
                                              "'Abort' / 'Delete' the current Job then create a new Job and make "
                                              "sure you only do 'PUT' once on a given Job.")
    job.move_to("UploadComplete")
    answer = _job_info(job, detail=False)
    run_ingest(call.org, call.ctx, job)
    return Reply(200, answer)


@routes.route("DELETE", "jobs/ingest/{job_id}")
def delete_ingest(call: ApiCall, request: ApiRequest) -> Reply:
    job = jobs_for(call.org).get(request.params["job_id"], IngestJob)
    if job.state in ("Open", "InProgress"):  # documented: only UploadComplete, JobComplete, Aborted or Failed
        raise status_error(400, "INVALIDJOBSTATE", f"Deleting a job in state {job.state} is not allowed: close "
                                                   "or abort it first")
    jobs_for(call.org).remove(job.id)
    return Reply(204)


def _ingest_csv(call: ApiCall, request: ApiRequest, kind: str) -> Reply:
    job = jobs_for(call.org).get(request.params["job_id"], IngestJob)
    if kind == "successful":
        header, rows = ["sf__Id", "sf__Created", *job.header], job.successful
    elif kind == "failed":
        header, rows = ["sf__Id", "sf__Error", *job.header], job.failures
    else:
        header, rows = list(job.header), job.unprocessed
    data = write_csv(header, rows, job.delimiter, job.newline)
    return Reply(200, raw=data, headers={"content-type": CSV_TYPE})


@routes.route("GET", "jobs/ingest/{job_id}/successfulResults")
def successful_results(call: ApiCall, request: ApiRequest) -> Reply:
    return _ingest_csv(call, request, "successful")


@routes.route("GET", "jobs/ingest/{job_id}/failedResults")
def failed_results(call: ApiCall, request: ApiRequest) -> Reply:
    return _ingest_csv(call, request, "failed")


@routes.route("GET", "jobs/ingest/{job_id}/unprocessedrecords")
def unprocessed_records(call: ApiCall, request: ApiRequest) -> Reply:
    return _ingest_csv(call, request, "unprocessed")


@routes.route("POST", "jobs/query")
def create_query(call: ApiCall, request: ApiRequest) -> Reply:
    body = _job_request(request)
    operation, soql = body.get("operation") or "query", body.get("query")
    if operation not in QUERY_OPERATIONS:
        raise status_error(400, "INVALIDJOB", f"Invalid operation: {operation}")
    if not soql:
        raise status_error(400, "INVALIDJOB", "query is required")
    _refuse_unsupported(soql)
    call.org.count_bulk_query_job()
    job = jobs_for(call.org).add(
        QueryJob, operation=operation, created_by=user_id_of(call.ctx), api_version=call.version,
        query=soql, **_format_options(body),
    )
    job.move_to("UploadComplete")
    answer = _job_info(job, detail=False)
    try:
        run_query(call.org, call.ctx, job)
    except ApiError:
        jobs_for(call.org).remove(job.id)
        raise
    return Reply(200, answer)


def _refuse_unsupported(soql: str) -> None:
    """What a query job refuses that REST runs: aggregate functions (`COUNT()`) and OFFSET."""
    try:
        query = parse_soql(soql)
    except SoqlError:
        return  # running it answers the query's own error
    if any(isinstance(item, (CountAll, CountField)) for item in query.select):
        raise status_error(400, "API_ERROR", "Aggregate queries are not supported in Bulk Query")
    if query.offset is not None:
        raise status_error(400, "API_ERROR", "OFFSET is not supported in Bulk Query")


@routes.route("GET", "jobs/query")
def list_query(call: ApiCall, request: ApiRequest) -> Reply:
    jobs = jobs_for(call.org).all(QueryJob)
    return Reply(200, {"done": True, "records": [_job_info(j, False) for j in jobs], "nextRecordsUrl": None})


@routes.route("GET", "jobs/query/{job_id}")
def get_query(call: ApiCall, request: ApiRequest) -> Reply:
    return Reply(200, _job_info(jobs_for(call.org).get(request.params["job_id"], QueryJob), detail=True))


@routes.route("PATCH", "jobs/query/{job_id}")
def abort_query(call: ApiCall, request: ApiRequest) -> Reply:
    job = jobs_for(call.org).get(request.params["job_id"], QueryJob)
    if (require_json_object(request.json()) or {}).get("state") != "Aborted":
        raise status_error(400, "INVALIDJOBSTATE", "Only state Aborted can be set on a query job")
    _refuse_abort_when_ended(job)
    job.move_to("Aborted")
    return Reply(200, _job_info(job, detail=False))


@routes.route("DELETE", "jobs/query/{job_id}")
def delete_query(call: ApiCall, request: ApiRequest) -> Reply:
    job = jobs_for(call.org).get(request.params["job_id"], QueryJob)
    jobs_for(call.org).remove(job.id)
    return Reply(204)


def _encode_locator(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _decode_locator(locator: str) -> int:
    try:
        text = base64.urlsafe_b64decode(locator + "=" * (-len(locator) % 4)).decode()
        offset = int(text.removeprefix("offset:"))
    except (ValueError, UnicodeDecodeError):
        offset = -1
    if offset < 0:
        raise status_error(400, "INVALIDLOCATOR", f"Invalid locator: {locator}")
    return offset


@routes.route("GET", "jobs/query/{job_id}/results")
def query_results(call: ApiCall, request: ApiRequest) -> Reply:
    job = jobs_for(call.org).get(request.params["job_id"], QueryJob)
    if job.state != "JobComplete":
        raise status_error(400, "JOB_NOT_COMPLETE", f"Job is not complete: {job.state}")
    if job.api_version != call.version:
        raise status_error(409, "INVALIDJOBSTATE", "Results must be fetched with the job's API version")
    locator = request.query.get("locator") or ""
    offset = _decode_locator(locator) if locator and locator != "null" else 0
    max_records = request.query.get("maxRecords")
    try:
        size = int(max_records) if max_records else len(job.rows)
    except ValueError:
        raise status_error(400, "INVALIDJOB", f"Invalid maxRecords: {max_records}") from None
    page = job.rows[offset : offset + max(size, 1)]
    following = offset + len(page)
    headers = {
        "content-type": CSV_TYPE,
        "Sforce-NumberOfRecords": str(len(page)),
        "Sforce-Locator": _encode_locator(following) if following < len(job.rows) else "null",
    }
    return Reply(200, raw=write_csv(job.columns, page, job.delimiter, job.newline), headers=headers)
