"""REST resources over records and metadata: describe, CRUD, upsert, replication, limits.

Each handler reads parameters, makes one or two `Org` calls and shapes the reply; the rules live
in the model.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from tandem.emulator.model.errors import ApiError, NotFound
from tandem.emulator.model.rules import AssignmentChoice, assignment_choice

from tandem.emulator.wire.calls import ApiCall, require_json_object
from tandem.emulator.wire.replies import Reply, status_error
from tandem.emulator.wire.routing import ApiRequest, RouteTable
from tandem.salesforce.ids import is_well_formed

routes = RouteTable()
_NUMBER_TYPES = frozenset({"int", "long", "double", "currency", "percent"})
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")

def identity_url(call: ApiCall) -> str:
    return f"{call.base_url}/id/{call.org.org_id}/{user_id_of(call.ctx)}"


def user_id_of(ctx: Any) -> str:
    return getattr(ctx, "user_id", None) or getattr(getattr(ctx, "user", None), "id", "")


def auto_assign(call: ApiCall) -> AssignmentChoice:
    """`Sforce-Auto-Assign`: absent or TRUE → the active assignment rule; FALSE → none; an
    AssignmentRule Id → that rule (so only for its own object)."""
    return assignment_choice(call.header("sforce-auto-assign") or "TRUE")


@routes.route("GET", "limits")
def limits(call: ApiCall, request: ApiRequest) -> Reply:
    return Reply(200, call.org.limits())


@routes.route("GET", "recent")
def recent(call: ApiCall, request: ApiRequest) -> Reply:
    """The records the user viewed lately (jsforce's `recent()`): none, as API reads are no views;
    `sobjects/{T}` answers its `recentItems` empty too."""
    return Reply(200, [])


def _describe_reply(call: ApiCall, body: dict) -> Reply:
    """Describe with `Last-Modified` (the schema's last change); 304 to an `If-Modified-Since` not older."""
    modified = call.org.schema_modified
    headers = {"Last-Modified": format_datetime(modified, usegmt=True)}
    since = _http_date(call.header("if-modified-since"))
    if since is not None and modified <= since:
        return Reply(304, headers=headers)
    return Reply(200, body, headers)


def _http_date(text: str | None) -> datetime | None:
    """An HTTP date as sent in `If-Modified-Since`; one that does not parse is ignored, as HTTP says."""
    if not text:
        return None
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@routes.route("GET", "sobjects")
def describe_global(call: ApiCall, request: ApiRequest) -> Reply:
    return _describe_reply(call, call.org.describe_global(call.ctx, call.version))


@routes.route("GET", "sobjects/{sobject}")
def basic_info(call: ApiCall, request: ApiRequest) -> Reply:
    return Reply(200, call.org.sobject_basic_info(call.ctx, request.params["sobject"], call.version))


@routes.route("POST", "sobjects/{sobject}")
def create(call: ApiCall, request: ApiRequest) -> Reply:
    fields = require_json_object(request.json())
    fields = {k: v for k, v in fields.items() if k != "attributes"}
    record_id = call.org.create(
        call.ctx, request.params["sobject"], fields, assignment_rules=auto_assign(call)
    )
    location = f"/services/data/v{call.version}/sobjects/{request.params['sobject']}/{record_id}"
    return Reply(201, {"id": record_id, "success": True, "errors": []}, {"location": location})


@routes.route("GET", "sobjects/{sobject}/describe")
def describe(call: ApiCall, request: ApiRequest) -> Reply:
    return _describe_reply(call, call.org.describe(call.ctx, request.params["sobject"], call.version))


@routes.route("GET", "sobjects/{sobject}/updated")
def updated(call: ApiCall, request: ApiRequest) -> Reply:
    start, end = _window(request)
    return Reply(200, call.org.updated(call.ctx, request.params["sobject"], start, end))


@routes.route("GET", "sobjects/{sobject}/deleted")
def deleted(call: ApiCall, request: ApiRequest) -> Reply:
    start, end = _window(request)
    return Reply(200, call.org.deleted(call.ctx, request.params["sobject"], start, end))


@routes.route("GET", "sobjects/{sobject}/{record_id}")
def retrieve(call: ApiCall, request: ApiRequest) -> Reply:
    fields = request.query.get("fields")
    names = [name.strip() for name in fields.split(",") if name.strip()] if fields else None
    record = call.org.retrieve(
        call.ctx, request.params["sobject"], request.params["record_id"], names, call.version
    )
    return Reply(200, record)


@routes.route("POST", "sobjects/{sobject}/Id")
def create_by_id(call: ApiCall, request: ApiRequest) -> Reply:
    """`POST sobjects/{T}/Id`: an upsert with Id as the external Id and none given, so a create."""
    fields = require_json_object(request.json())
    fields = {k: v for k, v in fields.items() if k != "attributes"}
    record_id = call.org.create(call.ctx, request.params["sobject"], fields, assignment_rules=auto_assign(call))
    return upsert_reply(call, record_id, True)


@routes.route("PATCH", "sobjects/{sobject}/{record_id}")
def update(call: ApiCall, request: ApiRequest) -> Reply:
    fields = require_json_object(request.json())
    fields = {k: v for k, v in fields.items() if k != "attributes"}
    call.org.update(call.ctx, request.params["sobject"], request.params["record_id"], fields,
                    assignment_rules=auto_assign(call))
    return Reply(204)


@routes.route("DELETE", "sobjects/{sobject}/{record_id}")
def delete(call: ApiCall, request: ApiRequest) -> Reply:
    call.org.delete(call.ctx, request.params["sobject"], request.params["record_id"])
    return Reply(204)


@routes.route("GET", "sobjects/{sobject}/{field}/{value}")
def retrieve_by_external_id(call: ApiCall, request: ApiRequest) -> Reply:
    sobject = request.params["sobject"]
    record_id = _one_external_id_match(call, request)
    if isinstance(record_id, Reply):
        return record_id
    return Reply(200, call.org.retrieve(call.ctx, sobject, record_id, None, call.version))


@routes.route("DELETE", "sobjects/{sobject}/{field}/{value}")
def delete_by_external_id(call: ApiCall, request: ApiRequest) -> Reply:
    record_id = _one_external_id_match(call, request)
    if isinstance(record_id, Reply):
        return record_id
    call.org.delete(call.ctx, request.params["sobject"], record_id)
    return Reply(204)


def _one_external_id_match(call: ApiCall, request: ApiRequest) -> str | Reply:
    """The Id of the one live record whose external-Id (or Id-lookup) field holds the path's value,
    or the 300 listing them when several do; 404 when the field or the record is not there."""
    sobject, field, value = request.params["sobject"], request.params["field"], request.params["value"]
    if field.lower() == "id" and is_well_formed(value):
        return value
    lookup = next((f for f in call.org.describe(call.ctx, sobject)["fields"]
                   if f["name"].lower() == field.lower() and (f.get("idLookup") or f.get("externalId"))), None)
    if lookup is None:
        raise NotFound(f"Provided external ID field does not exist or is not accessible: {field}")
    page = call.org.query(
        call.ctx, f"SELECT Id FROM {sobject} WHERE {lookup['name']} = {_literal(lookup, value)}",
        api_version=call.version,
    )
    ids = [record["Id"] for record in page.records]
    if not ids:
        raise NotFound("The requested resource does not exist")
    if len(ids) > 1:
        return Reply(300, [f"/services/data/v{call.version}/sobjects/{sobject}/{i}" for i in ids])
    return ids[0]


def _literal(field: dict, value: str) -> str:
    """The SOQL literal matching `value` in `field`: a number field's value unquoted (quoted, its
    filter would be refused); a value that is no number matches no record of a number field."""
    if field["type"] in _NUMBER_TYPES:
        if not _NUMBER.fullmatch(value):
            raise NotFound("The requested resource does not exist")
        return value
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


@routes.route("PATCH", "sobjects/{sobject}/{field}/{value}")
def upsert(call: ApiCall, request: ApiRequest) -> Reply:
    fields = require_json_object(request.json())
    fields = {k: v for k, v in fields.items() if k != "attributes"}
    if request.query.get("updateOnly", "").lower() == "true":
        return _update_only(call, request, fields)
    try:
        record_id, created = call.org.upsert(
            call.ctx, request.params["sobject"], request.params["field"], request.params["value"], fields,
            assignment_rules=auto_assign(call), api_version=call.version,
        )
    except ApiError as exc:
        if exc.status != 300:
            raise
        return Reply(300, list(exc.fields))  # the matching records' URLs, as a read by the same path answers
    return upsert_reply(call, record_id, created)


def upsert_reply(call: ApiCall, record_id: str, created: bool) -> Reply:
    """201 on insert; on update 200 with a body from v46.0, 204 before (jsforce relies on both)."""
    body = {"id": record_id, "success": True, "errors": [], "created": created}
    if created:
        return Reply(201, body)
    if float(call.version) < 46.0:
        return Reply(204)
    return Reply(200, body)


def _update_only(call: ApiCall, request: ApiRequest, fields: dict) -> Reply:
    lookup = ApiRequest("GET", request.path, params=dict(request.params))
    found = retrieve_by_external_id(call, lookup)
    if found.status != 200:
        return found
    record_id = found.body["Id"]
    call.org.update(call.ctx, request.params["sobject"], record_id, fields, assignment_rules=auto_assign(call))
    return upsert_reply(call, record_id, False)


def _window(request: ApiRequest) -> tuple[datetime, datetime]:
    start, end = request.query.get("start"), request.query.get("end")
    if not start or not end:
        raise ApiError("start and end are required", error_code="MISSING_ARGUMENT")
    return parse_datetime(start, "start"), parse_datetime(end, "end")


def parse_datetime(text: str, name: str) -> datetime:
    """An ISO-8601 datetime as clients send it (`Z`, `+00:00`, `+0000`; a `+` decoded to a space)."""
    value = text.strip().replace(" ", "+")
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    if len(value) >= 5 and value[-5] in "+-" and value[-4:].isdigit():
        value = value[:-2] + ":" + value[-2:]
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError):  # malformed, or past the calendar once in UTC
        raise status_error(400, "INVALID_REPLICATION_DATE", f"{name}: invalid date/time: {text}") from None
