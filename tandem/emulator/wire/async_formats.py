"""Bulk API 1.0 wire formats: jobInfo, batchInfo, results and errors as XML (async namespace) or JSON,
and the records of a batch read from CSV, XML or JSON.

Content types are sent bare (`application/xml`, not `…; charset=UTF-8`): clients such as
salesforce-bulk compare the header exactly.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timezone
from typing import Any
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET

from tandem.emulator.jobs import bulk_value, write_csv
from tandem.emulator.jobs import error_text as bulk_error_text
from tandem.emulator.model.errors import ApiError
from tandem.emulator.model.values import render_native

from tandem.emulator.wire.async_jobs import NAMESPACE, AsyncError, Batch, ClassicJob, ResultChunk
from tandem.emulator.wire.replies import Reply

XML = "application/xml"
JSON = "application/json"
CSV = "text/csv"
MEDIA_TYPES = {"CSV": CSV, "XML": XML, "JSON": JSON}
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'

_CODES = {
    "INVALID_SESSION_ID": "InvalidSessionId",
    "REQUEST_LIMIT_EXCEEDED": "ExceededQuota",
    "NOT_FOUND": "InvalidUrl",
    "METHOD_NOT_ALLOWED": "InvalidUrl",
    "INVALID_TYPE": "InvalidEntity",
    "JSON_PARSER_ERROR": "ClientInputError",
    "UNKNOWN_EXCEPTION": "Unknown",
    "INVALID_CONTENT_ENCODING": "ClientInputError",
    "UNSUPPORTED_MEDIA_TYPE": "ClientInputError",
}


# -- requests -------------------------------------------------------------------------------------

def wants_json(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() == JSON


_JOB_TEXT = ("operation", "object", "contentType", "externalIdFieldName", "assignmentRuleId", "state")
"""The jobInfo elements a request sets as text (simple-salesforce sends `concurrencyMode` as 0 or 1)."""


def parse_job_request(body: bytes, content_type: str | None) -> dict[str, Any]:
    """A `jobInfo` request body (XML or JSON) as a flat {element: value} dict."""
    if wants_json(content_type):
        try:
            parsed = json.loads(body or b"null")
        except ValueError as exc:
            raise AsyncError("ClientInputError", f"Failed to parse the JSON jobInfo: {exc}") from None
        if not isinstance(parsed, dict):
            raise AsyncError("ClientInputError", "The jobInfo must be a JSON object")
        for key in _JOB_TEXT:
            if parsed.get(key) is not None and not isinstance(parsed[key], str):
                raise AsyncError("InvalidJob", f"{key} must be text, not {json.dumps(parsed[key])}")
        return parsed
    root = _xml_root(body, "jobInfo")
    if _local(root) != "jobInfo":
        raise AsyncError("InvalidXML", f"Expected a jobInfo element, found {_local(root)}")
    return {_local(child): (child.text or "").strip() for child in root}


def _xml_root(body: bytes, what: str) -> Element:
    try:
        return SafeET.fromstring(body)
    except Exception:
        raise AsyncError("InvalidXML", f"The {what} is not well-formed XML") from None


def _local(element: Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def _refuse_constant(token: str) -> None:
    """NaN and Infinity are not JSON (Python writes them for float('nan')); Salesforce refuses them."""
    raise ValueError(f"Non-standard token '{token}'")


def read_records(job: ClassicJob, body: bytes) -> tuple[list[str], list[dict[str, Any]]]:
    """The batch's records as (columns, rows): CSV and XML cells are text, JSON values stay typed.

    A relationship given by external Id (`Account.Ext__c` in CSV, a nested element or object
    elsewhere) is one dotted column.
    """
    if job.content_type == "CSV":
        text = body.decode("utf-8-sig")
        rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
        if not rows:
            return [], []
        header = rows[0]
        return header, [dict(zip(header, row + [""] * (len(header) - len(row)))) for row in rows[1:]]
    if job.content_type == "JSON":
        try:
            parsed = json.loads(body or b"null", parse_constant=_refuse_constant)
        except ValueError as exc:
            raise AsyncError("InvalidBatch", f"Failed to parse the JSON records: {exc}") from None
        if not isinstance(parsed, list) or not all(isinstance(r, dict) for r in parsed):
            raise AsyncError("InvalidBatch", "A JSON batch is an array of record objects")
        records = [_flatten_json(r) for r in parsed]
    else:
        root = _xml_root(body, "batch")
        records = [_flatten_xml(element) for element in root if _local(element) == "sObject"]
    columns: list[str] = []
    for record in records:
        columns.extend(name for name in record if name not in columns)
    return columns, records


def _flatten_json(record: dict, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in record.items():
        if name == "attributes":
            continue
        if isinstance(value, dict):
            flat.update(_flatten_json(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


def _flatten_xml(element: Element, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for child in element:
        name = f"{prefix}{_local(child)}"
        if len(child):
            flat.update(_flatten_xml(child, f"{name}."))
        elif child.get(f"{{{_XSI}}}nil") == "true":
            flat[name] = None
        else:
            flat[name] = child.text or ""
    return flat


# -- answers --------------------------------------------------------------------------------------

def _stamp(text: str) -> str:
    return text.replace("+0000", "Z")


def job_info(job: ClassicJob) -> dict[str, Any]:
    info: dict[str, Any] = {
        "id": job.id,
        "operation": job.operation,
        "object": job.object,
        "createdById": job.created_by,
        "createdDate": _stamp(job.created_date),
        "systemModstamp": _stamp(job.system_modstamp),
        "state": job.state,
    }
    if job.external_id_field:
        info["externalIdFieldName"] = job.external_id_field
    if job.assignment_rule_id:
        info["assignmentRuleId"] = job.assignment_rule_id
    info.update(concurrencyMode=job.concurrency_mode, contentType=job.content_type)
    counts = job.counts()
    info.update({k: counts[k] for k in ("numberBatchesQueued", "numberBatchesInProgress", "numberBatchesCompleted",
                                         "numberBatchesFailed", "numberBatchesTotal", "numberRecordsProcessed")})
    info.update(numberRetries=0, apiVersion=float(job.api_version), numberRecordsFailed=counts["numberRecordsFailed"],
                totalProcessingTime=counts["totalProcessingTime"],
                apiActiveProcessingTime=counts["totalProcessingTime"], apexProcessingTime=0)
    return info


def batch_info(batch: Batch) -> dict[str, Any]:
    info: dict[str, Any] = {"id": batch.id, "jobId": batch.job_id, "state": batch.state}
    if batch.state_message:
        info["stateMessage"] = batch.state_message
    info.update(createdDate=batch.created_date, systemModstamp=batch.system_modstamp,
                numberRecordsProcessed=batch.processed, numberRecordsFailed=batch.failed,
                totalProcessingTime=batch.processing_ms, apiActiveProcessingTime=batch.processing_ms,
                apexProcessingTime=0)
    return info


def _xml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def _xml_fields(info: dict[str, Any]) -> str:
    return "".join(f"<{name}>{_xml_value(value)}</{name}>" for name, value in info.items())


def _xml_reply(status: int, text: str) -> Reply:
    return Reply(status, raw=(_DECLARATION + text).encode("utf-8"), headers={"content-type": XML})


def json_reply(status: int, body: Any) -> Reply:
    return Reply(status, raw=json.dumps(body, ensure_ascii=False).encode("utf-8"), headers={"content-type": JSON})


def info_reply(status: int, as_json: bool, element: str, info: dict[str, Any]) -> Reply:
    """A `jobInfo` or `batchInfo` answer in the job's format."""
    if as_json:
        return json_reply(status, info)
    return _xml_reply(status, f'<{element} xmlns="{NAMESPACE}">{_xml_fields(info)}</{element}>')


def batch_list_reply(as_json: bool, batches: list[Batch]) -> Reply:
    infos = [batch_info(b) for b in batches]
    if as_json:
        return json_reply(200, {"batchInfo": infos})
    inner = "".join(f"<batchInfo>{_xml_fields(info)}</batchInfo>" for info in infos)
    return _xml_reply(200, f'<batchInfoList xmlns="{NAMESPACE}">{inner}</batchInfoList>')


def error_reply(exc: ApiError, as_json: bool) -> Reply:
    """The Bulk API 1.0 error: `exceptionCode` and `exceptionMessage`, XML or JSON."""
    code = _CODES.get(exc.error_code, exc.error_code)
    message = "Invalid session id" if code == "InvalidSessionId" else exc.message
    status = 400 if code == "InvalidSessionId" else exc.status
    if as_json:
        return json_reply(status, {"exceptionCode": code, "exceptionMessage": message})
    return _xml_reply(status, f'<error xmlns="{NAMESPACE}"><exceptionCode>{escape(code)}</exceptionCode>'
                              f"<exceptionMessage>{escape(message)}</exceptionMessage></error>")


def ingest_results_reply(job: ClassicJob, batch: Batch) -> Reply:
    """One result per record of the batch, in order: Id, success, created, error."""
    if job.content_type == "CSV":
        rows = [[r.id or "", _xml_value(r.success), _xml_value(r.created), _error_text(r.error)]
                for r in batch.results]
        return Reply(200, raw=write_csv(["Id", "Success", "Created", "Error"], rows), headers={"content-type": CSV})
    if job.content_type == "JSON":
        return json_reply(200, [{"success": r.success, "created": r.created, "id": r.id,
                                 "errors": [_error_dict(e) for e in r.error.each()] if r.error else []}
                                for r in batch.results])
    inner = []
    for r in batch.results:
        errors = ""
        for error in r.error.each() if r.error is not None else []:
            fields = "".join(f"<fields>{escape(f)}</fields>" for f in error.fields)
            errors += (f"<errors>{fields}<message>{escape(error.message)}</message>"
                       f"<statusCode>{escape(error.error_code)}</statusCode></errors>")
        ident = f"<id>{r.id}</id>" if r.id else ""
        inner.append(f"<result>{errors}{ident}<success>{_xml_value(r.success)}</success>"
                     f"<created>{_xml_value(r.created)}</created></result>")
    return _xml_reply(200, f'<results xmlns="{NAMESPACE}">{"".join(inner)}</results>')


def _error_text(error: ApiError | None) -> str:
    if error is None:
        return ""
    return bulk_error_text(error.error_code, error.message, error.fields)


def _error_dict(error: ApiError) -> dict[str, Any]:
    return {"fields": list(error.fields), "message": error.message, "statusCode": error.error_code}


def result_list_reply(as_json: bool, batch: Batch) -> Reply:
    ids = [chunk.id for chunk in batch.chunks]
    if as_json:
        return json_reply(200, ids)
    inner = "".join(f"<result>{i}</result>" for i in ids)
    return _xml_reply(200, f'<result-list xmlns="{NAMESPACE}">{inner}</result-list>')


def query_result_reply(job: ClassicJob, batch: Batch, chunk: ResultChunk, object_name: str,
                       references: dict[str, str]) -> Reply:
    """One result chunk in the job's format; `references` maps a relationship name to its object."""
    if job.content_type == "CSV":
        rows = [[bulk_value(row.get(c)) for c in batch.columns] for row in chunk.rows]
        return Reply(200, raw=write_csv(batch.columns, rows), headers={"content-type": CSV})
    if job.content_type == "JSON":
        return json_reply(200, [_json_record(row, object_name, job.api_version, references) for row in chunk.rows])
    records = "".join(_xml_record(row, object_name, references) for row in chunk.rows)
    return _xml_reply(200, f'<queryResult xmlns="{NAMESPACE}" xmlns:xsi="{_XSI}">{records}</queryResult>')


def _nest(row: dict[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for name, value in row.items():
        target = nested
        *parents, leaf = name.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return nested


def epoch_ms(value: datetime | date) -> int:
    """Bulk API 1.0 JSON writes dates and datetimes as milliseconds since the epoch."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    return int(value.astimezone(timezone.utc).timestamp() * 1000)


def _json_record(row: dict[str, Any], object_name: str, version: str, references: dict[str, str]) -> dict[str, Any]:
    def convert(values: dict[str, Any], sobject: str, url: bool) -> dict[str, Any]:
        attributes = {"type": sobject}
        if url and values.get("Id"):
            attributes["url"] = f"/services/data/v{version}/sobjects/{sobject}/{values['Id']}"
        out: dict[str, Any] = {"attributes": attributes}
        for name, value in values.items():
            if isinstance(value, dict):
                out[name] = convert(value, references.get(name.lower(), name), False)
            elif isinstance(value, (datetime, date)):
                out[name] = epoch_ms(value)
            else:
                out[name] = render_native(value)
        return out

    return convert(_nest(row), object_name, True)


def _xml_record(row: dict[str, Any], object_name: str, references: dict[str, str]) -> str:
    def render(values: dict[str, Any], sobject: str) -> str:
        parts = [f"<type>{escape(sobject)}</type>"]
        for name, value in values.items():
            if isinstance(value, dict):
                parts.append(f'<{name} xsi:type="sObject">{render(value, references.get(name.lower(), name))}</{name}>')
            elif value is None:
                parts.append(f'<{name} xsi:nil="true"/>')
            else:
                parts.append(f"<{name}>{escape(bulk_value(value))}</{name}>")
        return "".join(parts)

    return f'<records xsi:type="sObject">{render(_nest(row), object_name)}</records>'
