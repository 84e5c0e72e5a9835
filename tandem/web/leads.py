"""Lead (person) resources: query by filter, get by id, sync (create/update), push, delete, describe."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tandem.errors import InvalidInput
from tandem.people.api_queries import LOOKUP_FIELDS
from tandem.people.fields import FieldType
from tandem.people.store import PersonStore
from tandem.web.envelope import ApiFailure, Codes, reason, success
from tandem.web.lead_sync import (DEFAULT_PARTITION, PushLeadsRequest, SyncLeadsRequest, sync_leads,
                                 sync_pushed_leads, unsupported_key)
from tandem.web.limits import ApiLimits
from tandem.web.openapi_docs import REST_RESPONSES, body_schema, form_schema
from tandem.web.paging import LeadCursor, lead_token, read_lead_token
from tandem.web.parameters import (
    MAX_ID,
    batch_size,
    form_params,
    ids,
    integer,
    json_body,
    media_type,
    multi,
    salesforce_id,
    validated,
)
from tandem.web.records import DEFAULT_LEAD_FIELDS, describe2_entry, describe_entry, lead_record

router = APIRouter(tags=["leads"], responses=REST_RESPONSES)


class DeleteLeadsRequest(BaseModel):
    input: list[dict[str, Any]]


def _store(request: Request) -> PersonStore:
    return request.app.state.store


def _limits(request: Request) -> ApiLimits:
    return request.app.state.limits


def _fields(store: PersonStore, names: list[str]) -> list[str]:
    if not names:
        return list(DEFAULT_LEAD_FIELDS)
    known = {f.name for f in store.fields.all()}
    for name in names:
        if name not in known:
            try:
                store.fields.get(name)
            except InvalidInput:
                raise ApiFailure(Codes.FIELD_NOT_FOUND, f"Field '{name}' not found") from None
    return list(dict.fromkeys(names))


def _query_leads(store: PersonStore, limits: ApiLimits, params: dict[str, list[str]]) -> Response:
    def one(name: str) -> str | None:
        values = params.get(name) or []
        return values[-1] if values else None

    filter_type = (one("filterType") or "").strip()
    if not filter_type:
        raise ApiFailure(Codes.MISSING_VALUE, "Missing value for the required parameter 'filterType'")
    if filter_type not in store.api.searchable_fields():
        try:
            store.fields.get(filter_type)
        except InvalidInput:
            raise unsupported_key(filter_type) from None
        raise ApiFailure(Codes.FIELD_NOT_SUPPORTED, f"Field '{filter_type}' not supported")
    values: list[Any] = multi(params.get("filterValues"))
    if not values:
        raise ApiFailure(Codes.MISSING_VALUE, "Missing value for the required parameter 'filterValues'")
    if len(values) > limits.batch_size:
        raise ApiFailure(Codes.INVALID_DATA, f"filterValues has {len(values)} values; at most {limits.batch_size}")
    if filter_type == "id":
        values = ids("filterValues", values)
    elif filter_type not in LOOKUP_FIELDS and store.fields.get(filter_type).type is FieldType.INTEGER:
        # a number no integer field holds matches nothing
        values = [n for n in (integer("filterValues", v) for v in values) if -MAX_ID <= n <= MAX_ID]
    values = [salesforce_id(filter_type, v) for v in values]
    fields = _fields(store, multi(params.get("fields")))
    size = batch_size(one("batchSize"), limits.batch_size)
    token = one("nextPageToken")
    cursor = read_lead_token(token) if token else LeadCursor(0)
    if cursor.after_id == 0 and store.api.count_persons_where(filter_type, values) > limits.filter_matches:
        raise ApiFailure(Codes.INVALID_DATA, "Too many results match the filter")
    page = store.api.persons_page(filter_type, values, cursor.after_id, size + 1)
    more = len(page) > size
    page = page[:size]
    next_token = lead_token(LeadCursor(page[-1].id)) if more else None
    return success([lead_record(p, fields) for p in page], next_page_token=next_token,
                   more_result=True if more else None)


@router.get("/rest/v1/leads.json", summary="Get Leads by Filter Type")
def get_leads(
    request: Request,
    filterType: str | None = Query(None),
    filterValues: list[str] | None = Query(None),
    fields: list[str] | None = Query(None),
    batchSize: str | None = Query(None),
    nextPageToken: str | None = Query(None),
) -> Response:
    params = {k: request.query_params.getlist(k) for k in request.query_params}
    return _query_leads(_store(request), _limits(request), params)


_LEADS_POST_BODY = {
    "requestBody": {
        "content": {
            "application/json": {"schema": body_schema(SyncLeadsRequest)},
            "application/x-www-form-urlencoded": {"schema": form_schema(
                {"_method": {"type": "string", "enum": ["GET"]}, "filterType": {"type": "string"},
                 "filterValues": {"type": "string"}, "fields": {"type": "string"},
                 "batchSize": {"type": "string"}, "nextPageToken": {"type": "string"},
                 "access_token": {"type": "string"}}, required=["_method"])},
        },
    },
}


@router.post("/rest/v1/leads.json", summary="Sync Leads, or Get Leads by Filter Type with _method=GET",
             openapi_extra=_LEADS_POST_BODY)
async def post_leads(request: Request) -> Response:
    store, limits = _store(request), _limits(request)
    if request.query_params.get("_method", "").upper() == "GET" or media_type(request) in (
        "application/x-www-form-urlencoded", "multipart/form-data"
    ):
        if media_type(request) == "multipart/form-data":
            raise ApiFailure(Codes.CONTENT_TYPE, "Invalid Content Type: send the form url-encoded")
        params = await form_params(request)
        for k in request.query_params:
            params.setdefault(k, request.query_params.getlist(k))
        if (params.get("_method") or [""])[-1].upper() != "GET":
            raise ApiFailure(Codes.CONTENT_TYPE, "Invalid Content Type")
        return await run_in_threadpool(_query_leads, store, limits, params)
    body = validated(SyncLeadsRequest, await json_body(request))
    return success(await run_in_threadpool(sync_leads, store, body, limits.batch_size))


@router.post("/rest/v1/leads/push.json", summary="Push Lead", openapi_extra={
    "requestBody": {"content": {"application/json": {"schema": body_schema(PushLeadsRequest)}}, "required": True}})
async def push_leads(request: Request) -> Response:
    body = validated(PushLeadsRequest, await json_body(request))
    return success(await run_in_threadpool(sync_pushed_leads, _store(request), body, _limits(request).batch_size))


@router.get("/rest/v1/lead/{lead_id}.json", summary="Get Lead by Id")
def get_lead(request: Request, lead_id: int, fields: list[str] | None = Query(None)) -> Response:
    store = _store(request)
    names = _fields(store, multi(fields))
    found = store.persons.get_many(ids("id", [lead_id]))
    return success([lead_record(p, names) for p in found])


async def _delete(request: Request) -> Response:
    body = await json_body(request, empty={"input": []})
    wanted: list[Any] = [item.get("id") for item in validated(DeleteLeadsRequest, body).input]
    wanted += multi(request.query_params.getlist("id"))
    if not wanted:
        raise ApiFailure(Codes.MISSING_VALUE, "Missing value for the required parameter 'input'")
    limit = _limits(request).batch_size
    if len(wanted) > limit:
        raise ApiFailure(Codes.INVALID_DATA, f"input has {len(wanted)} records; at most {limit} a call")
    numbers = [integer("id", _id_text(value)) for value in wanted]
    store, existing = _store(request), ids("id", numbers)  # ids out of range name no one
    deleted = set(await run_in_threadpool(store.atomically, lambda: store.api.delete_persons(existing)))
    result = []
    named: set[int] = set()
    for number in numbers:
        if number in named:
            result.append({"id": number, "status": "skipped",
                           "reasons": [reason(Codes.DUPLICATE_IN_INPUT, "Duplicate lead id in input")]})
        elif number in deleted:
            result.append({"id": number, "status": "deleted"})
        else:
            result.append({"id": number, "status": "skipped", "reasons": [reason(Codes.LEAD_NOT_FOUND, "Lead not found")]})
        named.add(number)
    return success(result)


def _id_text(value: Any) -> str:
    if value is None:  # a record with no `id` (or `"id": null`)
        raise ApiFailure(Codes.MISSING_VALUE, "Missing value for the required parameter 'id'")
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ApiFailure(Codes.INVALID_VALUE, f"Invalid value '{str(value)[:60]}'. Required of type 'integer' (id)")
    return str(value)


_DELETE_BODY = {"requestBody": {"content": {"application/json": {"schema": body_schema(DeleteLeadsRequest)}}}}


@router.post("/rest/v1/leads/delete.json", summary="Delete Leads", openapi_extra=_DELETE_BODY)
async def delete_leads(request: Request) -> Response:
    return await _delete(request)


@router.delete("/rest/v1/leads.json", summary="Delete Leads (as marketorestpython sends it)", openapi_extra=_DELETE_BODY)
async def delete_leads_by_delete(request: Request) -> Response:
    return await _delete(request)


@router.get("/rest/v1/leads/describe.json", summary="Describe Lead")
def describe(request: Request) -> Response:
    return success([describe_entry(f) for f in _store(request).fields.all()])


@router.get("/rest/v1/leads/partitions.json", summary="Get Lead Partitions")
def partitions() -> Response:
    return success([{"id": 1, "name": DEFAULT_PARTITION, "description": "Initial system lead partition"}])


class PartitionsRequest(BaseModel):
    input: list[dict[str, Any]]


@router.post("/rest/v1/leads/partitions.json", summary="Update Lead Partition", openapi_extra={
    "requestBody": {"content": {"application/json": {"schema": body_schema(PartitionsRequest)}}, "required": True}})
async def update_partitions(request: Request) -> Response:
    """Each lead "moves" to the one partition there is: `updated` when it exists (nothing changes),
    skipped when it does not (1004) or another partition is named (1003) (MARKETO-API §5.8)."""
    records = validated(PartitionsRequest, await json_body(request)).input
    limit = _limits(request).batch_size
    if not records:
        raise ApiFailure(Codes.MISSING_VALUE, "Missing value for the required parameter 'input'")
    if len(records) > limit:
        raise ApiFailure(Codes.INVALID_DATA, f"input has {len(records)} records; at most {limit} a call")
    numbers = [integer("id", _id_text(record.get("id"))) for record in records]
    found = {p.id for p in await run_in_threadpool(_store(request).persons.get_many, ids("id", numbers))}
    result: list[dict[str, Any]] = []
    for record, number in zip(records, numbers, strict=True):
        name = record.get("partitionName")
        if name is not None and not isinstance(name, str):
            result.append({"id": number, "status": "skipped", "reasons": [reason(
                Codes.INVALID_VALUE, f"Invalid value '{str(name)[:60]}'. Required of type 'string' (partitionName)")]})
        elif name is None or not name.strip():
            result.append({"id": number, "status": "skipped", "reasons": [
                reason(Codes.MISSING_VALUE, "Missing value for the required parameter 'partitionName'")]})
        elif name.strip().lower() != DEFAULT_PARTITION.lower():
            result.append({"id": number, "status": "skipped", "reasons": [reason(
                Codes.INVALID_DATA, f"Invalid data: partitionName '{name.strip()[:60]}': the only lead partition "
                                    f"is '{DEFAULT_PARTITION}'")]})
        elif number not in found:
            result.append({"id": number, "status": "skipped", "reasons": [reason(Codes.LEAD_NOT_FOUND,
                                                                                  "Lead not found")]})
        else:
            result.append({"id": number, "status": "updated"})
    return success(result)


@router.get("/rest/v1/leads/describe2.json", summary="Describe Lead2")
def describe2(request: Request) -> Response:
    fields = _store(request).fields.all()
    return success([{
        "name": "API Lead",
        "searchableFields": [[name] for name in _store(request).api.searchable_fields()],
        "fields": [describe2_entry(f) for f in fields],
    }])
