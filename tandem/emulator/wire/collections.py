"""sObject Collections: `composite/sobjects` create, update, upsert, delete and retrieve of up to 200 records.

Per-record failures are results, not HTTP errors; with `allOrNone` the whole call runs in one
model transaction that is rolled back when any record fails. Injected per-record failures
(`record_faults.py`) are drawn just before a record is written.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable

from tandem.emulator.model.errors import ApiError, NotFound

from tandem.emulator.wire.calls import ApiCall, require_json_object
from tandem.emulator.wire.record_faults import refuse_if_drawn
from tandem.emulator.wire.replies import Reply, status_error
from tandem.emulator.wire.rest import auto_assign
from tandem.emulator.wire.routing import ApiRequest, RouteTable

routes = RouteTable()

MAX_RECORDS = 200
ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was using AllOrNone header",
    "fields": [],
}


class _RollBack(Exception):
    """Raised inside the transaction to undo an allOrNone call that had a failure."""


def record_error(exc: ApiError) -> dict:
    return {"statusCode": exc.error_code, "message": exc.message, "fields": list(exc.fields),
            **getattr(exc, "details", {})}


def _too_many() -> ApiError:
    return status_error(
        400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into this call"
    )


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def run_each(call: ApiCall, items: list, all_or_none: bool, operation: Callable[[Any], dict]) -> list[dict]:
    """Apply `operation` to each item, collecting per-record results; roll back all if allOrNone fails."""

    def attempt(item: Any) -> dict:
        try:
            return operation(item)
        except ApiError as exc:
            return {"id": _known_id(item), "success": False, "errors": [record_error(each) for each in exc.each()]}

    if not all_or_none:
        return [attempt(item) for item in items]
    results: list[dict] = []
    try:
        with call.org.transaction():
            results = [attempt(item) for item in items]
            if any(not result["success"] for result in results):
                raise _RollBack
    except _RollBack:
        for index, result in enumerate(results):
            if result["success"]:
                rolled = {"id": _known_id(items[index]), "success": False, "errors": [dict(ROLLED_BACK)]}
                if "created" in result:
                    rolled["created"] = result["created"]
                results[index] = rolled
    return results


def _known_id(item: Any) -> str | None:
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        return item.get("Id") or item.get("id")
    return None


def _write_body(request: ApiRequest) -> tuple[list[dict], bool]:
    body = require_json_object(request.json())
    records = body.get("records")
    if not isinstance(records, list):
        raise status_error(400, "JSON_PARSER_ERROR", "records is required and must be an array")
    if len(records) > MAX_RECORDS:
        raise _too_many()
    if not all(isinstance(record, dict) for record in records):
        raise status_error(400, "JSON_PARSER_ERROR", "each record must be a JSON object")
    return records, _truthy(body.get("allOrNone", False))


def _record_type(record: dict) -> str:
    attributes = record.get("attributes")
    sobject = attributes.get("type") if isinstance(attributes, dict) else None
    if not sobject or not isinstance(sobject, str):
        raise ApiError("Must specify a type in the attributes", error_code="INVALID_TYPE")
    return sobject


def _fields(record: dict, *drop: str) -> dict:
    dropped = {"attributes", *(name.lower() for name in drop)}
    return {k: v for k, v in record.items() if k.lower() not in dropped}


@routes.route("POST", "composite/sobjects")
def create_many(call: ApiCall, request: ApiRequest) -> Reply:
    records, all_or_none = _write_body(request)
    assign = auto_assign(call)

    def create_one(record: dict) -> dict:
        sobject = _record_type(record)
        refuse_if_drawn(call, "create", sobject)
        new_id = call.org.create(call.ctx, sobject, _fields(record), assignment_rules=assign)
        return {"id": new_id, "success": True, "errors": []}

    return Reply(200, run_each(call, records, all_or_none, create_one))


@routes.route("PATCH", "composite/sobjects")
def update_many(call: ApiCall, request: ApiRequest) -> Reply:
    records, all_or_none = _write_body(request)
    assign = auto_assign(call)

    def update_one(record: dict) -> dict:
        record_id = record.get("Id") or record.get("id")
        if not record_id:
            raise ApiError("Id not specified in an update call", error_code="MISSING_ARGUMENT")
        sobject = _record_type(record)
        refuse_if_drawn(call, "update", sobject, record_id)
        record_id = call.org.update(call.ctx, sobject, record_id, _fields(record, "Id"), assignment_rules=assign)
        return {"id": record_id, "success": True, "errors": []}

    return Reply(200, run_each(call, records, all_or_none, update_one))


@routes.route("PATCH", "composite/sobjects/{sobject}/{field}")
def upsert_many(call: ApiCall, request: ApiRequest) -> Reply:
    records, all_or_none = _write_body(request)
    sobject, field = request.params["sobject"], request.params["field"]
    assign = auto_assign(call)

    def key_of(record: object) -> object:
        return next((v for k, v in record.items() if k.lower() == field.lower()), None) \
            if isinstance(record, dict) else None

    repeated = repeated_external_ids(call.org, sobject, field, [key_of(record) for record in records])

    def upsert_one(record: dict) -> dict:
        value = key_of(record)
        if value in (None, ""):
            raise ApiError(f"{field} not specified", error_code="MISSING_ARGUMENT", fields=[field])
        if repeated(value):
            raise duplicate_external_id(field, value)
        refuse_if_drawn(call, "upsert", sobject)
        record_id, created = call.org.upsert(
            call.ctx, sobject, field, value, _fields(record, field), assignment_rules=assign,
            api_version=call.version,
        )
        return {"id": record_id, "success": True, "errors": [], "created": created}

    return Reply(200, run_each(call, records, all_or_none, upsert_one))


def duplicate_external_id(field: str, value: object) -> ApiError:
    return ApiError(f"Duplicate external id specified: {value}", error_code="DUPLICATE_EXTERNAL_ID", fields=[field])


def repeated_external_ids(org: Any, sobject: str, field: str, values: list) -> Callable[[object], bool]:
    """Whether a value is given to more than one record of the call: Salesforce fails each such record
    instead of creating the first and updating it with the next (compared as the field compares text)."""
    obj = org.schema.object(sobject)
    f = obj.field(field) if obj is not None else None
    if f is None or f.type == "id":
        return lambda value: False

    def key(value: object) -> str:
        return str(value) if f.case_sensitive else str(value).lower()

    seen = Counter(key(value) for value in values if value not in (None, ""))
    return lambda value: seen[key(value)] > 1


@routes.route("DELETE", "composite/sobjects")
def delete_many(call: ApiCall, request: ApiRequest) -> Reply:
    ids = [i.strip() for i in request.query.get("ids", "").split(",") if i.strip()]
    if not ids:
        raise status_error(400, "MISSING_ARGUMENT", "ids is required")
    if len(ids) > MAX_RECORDS:
        raise _too_many()

    prefixes = object_names_by_key_prefix(call)

    def delete_one(record_id: str) -> dict:
        sobject = prefixes.get(record_id[:3])
        if sobject is None:
            raise ApiError(f"invalid record id: {record_id}", error_code="MALFORMED_ID")
        refuse_if_drawn(call, "delete", sobject, record_id)
        record_id = call.org.delete(call.ctx, sobject, record_id)
        return {"id": record_id, "success": True, "errors": []}

    return Reply(200, run_each(call, ids, _truthy(request.query.get("allOrNone", "false")), delete_one))


@routes.route("GET", "composite/sobjects/{sobject}")
def retrieve_many_get(call: ApiCall, request: ApiRequest) -> Reply:
    ids = [i for i in request.query.get("ids", "").split(",") if i]
    fields = [f for f in request.query.get("fields", "").split(",") if f]
    return _retrieve_many(call, request.params["sobject"], ids, fields)


@routes.route("POST", "composite/sobjects/{sobject}")
def retrieve_many_post(call: ApiCall, request: ApiRequest) -> Reply:
    body = require_json_object(request.json())
    return _retrieve_many(call, request.params["sobject"], _texts(body, "ids"), _texts(body, "fields"))


def _texts(body: dict, key: str) -> list[str]:
    """A list of text from the body (empty when absent); anything else is no list of text."""
    values = body.get(key) or []
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise status_error(400, "JSON_PARSER_ERROR", f"{key} must be an array of strings")
    return values


def object_names_by_key_prefix(call: ApiCall) -> dict[str, str]:
    """Key prefix → object name, from describe global (a delete by Ids names no object)."""
    entries = call.org.describe_global(call.ctx).get("sobjects", [])
    return {entry["keyPrefix"]: entry["name"] for entry in entries if entry.get("keyPrefix")}


_MISSING_CODES = {"NOT_FOUND", "ENTITY_IS_DELETED", "MALFORMED_ID", "INVALID_ID_FIELD"}


def _retrieve_many(call: ApiCall, sobject: str, ids: list[str], fields: list[str]) -> Reply:
    if not ids or not fields:
        raise status_error(400, "MISSING_ARGUMENT", "ids and fields are required")
    if len(ids) > 2000:
        raise _too_many()
    if call.org.schema.object(sobject) is None:
        raise NotFound("The requested resource does not exist")
    records = []
    for record_id in ids:
        try:
            records.append(call.org.retrieve(call.ctx, sobject, record_id, fields, call.version))
        except ApiError as exc:
            if exc.error_code not in _MISSING_CODES:
                raise
            records.append(None)
    return Reply(200, records)
