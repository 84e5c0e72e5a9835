"""Bulk API 1.0 over HTTP: `/services/async/{version}/job…`, jobs and batches in XML, JSON and CSV.

Every request is one API call; every batch (a client's or a PK chunk's) also counts against the
daily batch allocation. The session comes in `X-SFDC-Session` (or `Authorization: Bearer`).
Answers and errors take the job's format: JSON for a JSON job, XML otherwise; before a job is
known, the request's own Content-Type decides. An org whose file turns `asyncApi` off answers
`FeatureNotEnabled` to every call.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tandem.emulator.model.errors import ApiError, InvalidSession

from tandem.emulator.wire import async_formats as formats
from tandem.emulator.wire.async_jobs import (
    CONTENT_TYPES,
    INGEST,
    MINT,
    QUERY,
    AsyncError,
    Batch,
    ClassicJob,
    PkChunking,
)
from tandem.emulator.wire.async_processing import enqueue
from tandem.emulator.wire.bulk import jobs_for
from tandem.emulator.wire.calls import ApiCall, parse_version
from tandem.emulator.wire.fault_plans import STATE_KEY, RequestFaults
from tandem.emulator.wire.internal_errors import error_id, unknown_exception_message
from tandem.emulator.wire.oauth import base_url_of
from tandem.emulator.wire.replies import Reply, to_response
from tandem.emulator.wire.rest import user_id_of
from tandem.emulator.wire.routing import ApiRequest, RouteTable

log = logging.getLogger("tandem.emulator")
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]
STATUS_WAIT_SECONDS = 0.5
MAX_BATCH_BYTES = 10_000_000


def _propagate(exc: ApiError) -> Reply:
    raise exc


routes = RouteTable(render_error=_propagate)


def _job(call: ApiCall, request: ApiRequest) -> ClassicJob:
    try:
        return jobs_for(call.org).get(request.params["job_id"], ClassicJob)
    except ApiError:
        raise AsyncError("InvalidJob", f"Unable to find object: {request.params['job_id']}") from None


def _as_json(job: ClassicJob) -> bool:
    return job.content_type == "JSON"


def _answer_as_json(call: ApiCall) -> bool:
    """A posted jobInfo is answered in the request's own format (a CSV job made with a JSON jobInfo
    gets JSON back); reads answer in the job's format."""
    return formats.wants_json(call.header("content-type"))


def _chunk_rows(call: ApiCall) -> int:
    return call.org.definition.asyncApi.resultChunkRows


def _concurrency(value: Any) -> str:
    """`Parallel`/`Serial`; simple-salesforce sends 0 and 1."""
    text = str(value if value is not None else "Parallel").strip()
    mode = {"0": "Parallel", "1": "Serial", "parallel": "Parallel", "serial": "Serial"}.get(text.lower())
    if mode is None:
        raise AsyncError("InvalidJob", f"concurrencyMode must be Parallel or Serial, not '{text}'")
    return mode


@routes.route("POST", "job")
def create_job(call: ApiCall, request: ApiRequest) -> Reply:
    fields = formats.parse_job_request(request.body, call.header("content-type"))
    operation, sobject = fields.get("operation"), fields.get("object")
    if operation not in INGEST + QUERY:
        raise AsyncError("InvalidJob", f"Invalid operation: '{operation}' (one of {', '.join(INGEST + QUERY)})")
    if not sobject:
        raise AsyncError("InvalidJob", "object is required")
    content_type = fields.get("contentType") or "XML"
    if content_type not in CONTENT_TYPES:
        raise AsyncError("InvalidJob", f"Unsupported contentType '{content_type}' (CSV, XML and JSON are served)")
    try:
        describe = call.org.describe(call.ctx, sobject)
    except ApiError:
        raise AsyncError("InvalidEntity", f"Entity '{sobject}' is not supported by the Bulk API.") from None
    external_id = fields.get("externalIdFieldName") or None
    if operation == "upsert":
        external_id = _external_id_field(describe, external_id)
    pk_chunking = PkChunking.parse(call.header("sforce-enable-pkchunking"))
    if pk_chunking is not None and operation not in QUERY:
        raise AsyncError("InvalidJob", "Sforce-Enable-PKChunking applies to query and queryAll jobs only")
    job = jobs_for(call.org).add(
        ClassicJob,
        operation=operation,
        created_by=user_id_of(call.ctx),
        api_version=call.version,
        object=describe.get("name", sobject),
        external_id_field=external_id,
        assignment_rule_id=fields.get("assignmentRuleId") or None,
        content_type=content_type,
        concurrency_mode=_concurrency(fields.get("concurrencyMode")),
        pk_chunking=pk_chunking,
    )
    return formats.info_reply(201, _answer_as_json(call), "jobInfo", formats.job_info(job))


def _external_id_field(describe: dict, name: str | None) -> str:
    if not name:
        raise AsyncError("InvalidJob", f"External ID was blank for {describe.get('name')}. "
                                       "An External ID must be specified for upsert.")
    found = next((f for f in describe.get("fields", []) if f["name"].lower() == name.lower()), None)
    if found is None or not (found.get("externalId") or found.get("idLookup")):
        raise AsyncError("InvalidJob", f"Field {name} is not an external Id field of {describe.get('name')}")
    return found["name"]


@routes.route("GET", "job/{job_id}")
def get_job(call: ApiCall, request: ApiRequest) -> Reply:
    job = _job(call, request)
    return formats.info_reply(200, _as_json(job), "jobInfo", formats.job_info(job))


@routes.route("POST", "job/{job_id}")
def set_job_state(call: ApiCall, request: ApiRequest) -> Reply:
    """Close (no more batches; queued ones still run) or abort (queued batches end NotProcessed)."""
    job = _job(call, request)
    wanted = formats.parse_job_request(request.body, call.header("content-type")).get("state")
    with job.lock:
        if wanted == "Closed":
            if job.state not in ("Open", "Closed"):
                raise AsyncError("InvalidJobState", f"Job {job.id} is {job.state} and cannot be closed")
            job.move_to("Closed")
        elif wanted == "Aborted":
            if job.state not in ("Open", "Closed", "Aborted"):
                raise AsyncError("InvalidJobState", f"Job {job.id} is {job.state} and cannot be aborted")
            job.move_to("Aborted")
            for batch in job.batches:
                if batch.state == "Queued":
                    job.settle(batch, "NotProcessed")
        else:
            raise AsyncError("InvalidJobState", f"state must be Closed or Aborted, not '{wanted}'")
    return formats.info_reply(200, _answer_as_json(call), "jobInfo", formats.job_info(job))


@routes.route("POST", "job/{job_id}/batch")
def add_batch(call: ApiCall, request: ApiRequest) -> Reply:
    job = _job(call, request)
    if job.state != "Open":
        raise AsyncError("InvalidJobState", f"Job {job.id} is {job.state}: batches can be added to an Open job only")
    if not request.body.strip():
        raise AsyncError("InvalidBatch", "The batch is empty")
    if len(request.body) > MAX_BATCH_BYTES:
        raise AsyncError("InvalidBatch", f"The batch is {len(request.body)} bytes; the limit is {MAX_BATCH_BYTES}")
    call.org.count_bulk_batch()
    batch = Batch(MINT.next("751"), job.id, request.body)
    with job.lock:
        job.batches.append(batch)
        answer = formats.info_reply(201, _as_json(job), "batchInfo", formats.batch_info(batch))
    enqueue(call, job, batch, _chunk_rows(call))
    return answer


@routes.route("GET", "job/{job_id}/batch")
def list_batches(call: ApiCall, request: ApiRequest) -> Reply:
    job = _job(call, request)
    with job.lock:
        return formats.batch_list_reply(_as_json(job), list(job.batches))


@routes.route("GET", "job/{job_id}/batch/{batch_id}")
def get_batch(call: ApiCall, request: ApiRequest) -> Reply:
    job = _job(call, request)
    batch = job.batch(request.params["batch_id"])
    job.wait_until_done(batch, STATUS_WAIT_SECONDS)
    with job.lock:
        return formats.info_reply(200, _as_json(job), "batchInfo", formats.batch_info(batch))


@routes.route("GET", "job/{job_id}/batch/{batch_id}/request")
def batch_request(call: ApiCall, request: ApiRequest) -> Reply:
    job = _job(call, request)
    batch = job.batch(request.params["batch_id"])
    return Reply(200, raw=batch.request, headers={"content-type": formats.MEDIA_TYPES[job.content_type]})


def _completed(job: ClassicJob, batch: Batch) -> None:
    if batch.state != "Completed":
        raise AsyncError("InvalidBatch", f"Batch {batch.id} is {batch.state}: results exist once it is Completed")


@routes.route("GET", "job/{job_id}/batch/{batch_id}/result")
def batch_results(call: ApiCall, request: ApiRequest) -> Reply:
    """Ingest: one result per record. Query: the Ids of the result chunks, each fetched on its own."""
    job = _job(call, request)
    batch = job.batch(request.params["batch_id"])
    with job.lock:
        _completed(job, batch)
        if job.is_query:
            return formats.result_list_reply(_as_json(job), batch)
        return formats.ingest_results_reply(job, batch)


@routes.route("GET", "job/{job_id}/batch/{batch_id}/result/{result_id}")
def query_result(call: ApiCall, request: ApiRequest) -> Reply:
    job = _job(call, request)
    batch = job.batch(request.params["batch_id"])
    with job.lock:
        _completed(job, batch)
        wanted = request.params["result_id"]
        chunk = next((c for c in batch.chunks if c.id == wanted or c.id[:15] == wanted[:15]), None)
    if not job.is_query or chunk is None:
        raise AsyncError("InvalidBatch", f"Unable to find result {wanted} of batch {batch.id}")
    references = {}
    if job.content_type != "CSV":
        describe = call.org.describe(call.ctx, job.object)
        references = {f["relationshipName"].lower(): (f.get("referenceTo") or [f["relationshipName"]])[0]
                      for f in describe.get("fields", []) if f.get("relationshipName")}
    return formats.query_result_reply(job, batch, chunk, job.object, references)


# -- the endpoint ---------------------------------------------------------------------------------

def _session_token(headers: Mapping[str, str]) -> str:
    token = (headers.get("x-sfdc-session") or "").strip()
    if token:
        return token
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() in ("bearer", "oauth") and value.strip():
        return value.strip()
    raise InvalidSession("Invalid session id")


def _open(org: Any, headers: Mapping[str, str], version_segment: str, base_url: str) -> ApiCall:
    version = parse_version(org, "v" + version_segment)  # Bulk API 1.0 paths carry `62.0`, not `v62.0`
    token = _session_token(headers)
    ctx = org.context(token)
    if not org.definition.asyncApi.enabled:
        raise AsyncError("FeatureNotEnabled", "Async API not enabled")
    org.count_api_call()
    return ApiCall(org=org, ctx=ctx, token=token, version=version, headers=headers, base_url=base_url)


def serve(org: Any, version_segment: str, headers: Mapping[str, str], base_url: str, request: ApiRequest,
          faults: RequestFaults | None = None) -> Reply:
    """Authenticate, count and dispatch one Bulk API 1.0 request (runs in a worker thread)."""
    as_json = formats.wants_json(headers.get("content-type"))
    try:
        call = _open(org, headers, version_segment, base_url)
        call.record_faults = (faults or RequestFaults()).records
        return routes.dispatch(call, request)
    except ApiError as exc:
        job_id = request.params.get("job_id")
        if job_id:
            try:
                as_json = _as_json(jobs_for(org).get(job_id, ClassicJob))
            except ApiError:
                pass
        return formats.error_reply(exc, as_json)
    except Exception:
        reference = error_id()
        log.exception("unexpected error %s serving %s /services/async/%s", reference, request.method, request.path)
        return formats.error_reply(ApiError(unknown_exception_message(reference), status=500), as_json)


async def endpoint(request: Request) -> Response:
    body = await request.body()
    reply = await run_in_threadpool(
        serve,
        request.app.state.org,
        request.path_params["version"],
        {k.lower(): v for k, v in request.headers.items()},
        base_url_of(request),
        ApiRequest(request.method, request.path_params.get("path", ""), dict(request.query_params), body),
        getattr(request.state, STATE_KEY, None),
    )
    return to_response(reply)
