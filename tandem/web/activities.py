"""Activity resources: types, paging tokens, activities by type, lead changes, deleted leads (MARKETO-API §6)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from tandem.errors import InvalidInput
from tandem.people import activities as types
from tandem.people.activities import ACTIVITY_TYPES
from tandem.people.models import Activity, FeedPosition
from tandem.people.store import PersonStore
from tandem.web.envelope import ApiFailure, Codes, success
from tandem.web.openapi_docs import REST_RESPONSES
from tandem.web.paging import ActivityCursor, activity_token, read_activity_token
from tandem.web.parameters import MAX_ID, batch_size, ids, integer, multi, since_datetime
from tandem.web.records import activity_record, lead_change_record

router = APIRouter(tags=["activities"], responses=REST_RESPONSES)
MAX_TYPE_IDS = 10
MAX_LEAD_IDS = 30
MAX_ASSET_IDS = 300
"""Marketo states no cap for `assetIds`; Tandem holds it to the batch limit of its other id lists."""


def _store(request: Request) -> PersonStore:
    return request.app.state.store


@router.get("/rest/v1/activities/types.json", summary="Get Activity Types")
def activity_types() -> Response:
    return success([kind.as_json() for kind in ACTIVITY_TYPES])


@router.get("/rest/v1/activities/pagingtoken.json", summary="Get Paging Token")
def paging_token(sinceDatetime: str | None = Query(None)) -> Response:
    since = since_datetime(sinceDatetime)
    return success(next_page_token=activity_token(ActivityCursor(since)), include_result=False)


def _cursor(token: str | None) -> ActivityCursor:
    if not token or not token.strip():
        raise ApiFailure(Codes.MISSING_VALUE, "Missing value for the required parameter 'nextPageToken'")
    return read_activity_token(token)


def _id_list(name: str, values: list[str] | None, most: int) -> list[int] | None:
    """None when the parameter is absent; ids out of range match nothing, so they become [0]."""
    raw = multi(values)
    if len(raw) > most:
        raise ApiFailure(Codes.INVALID_DATA, f"{name} has {len(raw)} ids; at most {most}")
    if not raw:
        return None
    return ids(name, raw) or [0]


def _page(request: Request, cursor: ActivityCursor, size: int, type_ids: list[int],
          lead_ids: list[int] | None, asset_ids: list[int] | None = None) -> tuple[list[Activity], str, bool]:
    found = _store(request).api.activities_page(since=cursor.since, after=cursor.after, limit=size + 1,
                                                type_ids=type_ids, person_ids=lead_ids, asset_ids=asset_ids)
    return _cut(found, cursor, size)


def _cut(found: list[tuple[FeedPosition, Activity]], cursor: ActivityCursor,
         size: int) -> tuple[list[Activity], str, bool]:
    """A page read with one activity more than `size`: its activities, the next token, whether there is more."""
    page = found[:size]
    last = page[-1][0] if page else cursor.after
    return [activity for _, activity in page], activity_token(ActivityCursor(cursor.since, last)), len(found) > size


@router.get("/rest/v1/activities.json", summary="Get Lead Activities")
def get_activities(
    request: Request,
    nextPageToken: str | None = Query(None),
    activityTypeIds: list[str] | None = Query(None),
    leadIds: list[str] | None = Query(None),
    listId: str | None = Query(None),
    assetIds: list[str] | None = Query(None),
    batchSize: str | None = Query(None),
) -> Response:
    cursor = _cursor(nextPageToken)
    type_ids = [integer("activityTypeIds", t) for t in multi(activityTypeIds)]
    if not type_ids:
        raise ApiFailure(Codes.MISSING_VALUE, "Missing value for the required parameter 'activityTypeIds'")
    if len(type_ids) > MAX_TYPE_IDS:
        raise ApiFailure(Codes.INVALID_DATA, f"activityTypeIds has {len(type_ids)} ids; at most {MAX_TYPE_IDS}")
    if listId:
        raise ApiFailure(Codes.INVALID_DATA, "listId is not supported: Tandem has no static lists")
    asset_ids = _id_list("assetIds", assetIds, MAX_ASSET_IDS)
    if asset_ids is not None and len(set(type_ids)) != 1:
        raise ApiFailure(Codes.INVALID_DATA,
                         f"assetIds needs exactly one id in activityTypeIds; got {len(set(type_ids))}")
    size = batch_size(batchSize, request.app.state.limits.batch_size)
    kept = [t for t in type_ids if -MAX_ID <= t <= MAX_ID] or [0]  # no activity type lies outside the id range
    found, token, more = _page(request, cursor, size, kept, _id_list("leadIds", leadIds, MAX_LEAD_IDS), asset_ids)
    return success([activity_record(a) for a in found], next_page_token=token, more_result=more)


@router.get("/rest/v1/activities/deletedleads.json", summary="Get Deleted Leads")
def deleted_leads(
    request: Request,
    nextPageToken: str | None = Query(None),
    batchSize: str | None = Query(None),
) -> Response:
    """The Delete Lead activities (type 37) of the persons deleted since the token's date: a deleted
    person's activities leave the other reads, this one stays listed here (MARKETO-API §6.5)."""
    cursor = _cursor(nextPageToken)
    size = batch_size(batchSize, request.app.state.limits.batch_size)
    found, token, more = _cut(_store(request).tombstones.deletions(cursor.since, cursor.after, size + 1),
                              cursor, size)
    return success([activity_record(a) for a in found], next_page_token=token, more_result=more)


@router.get("/rest/v1/activities/leadchanges.json", summary="Get Lead Changes")
def lead_changes(
    request: Request,
    nextPageToken: str | None = Query(None),
    fields: list[str] | None = Query(None),
    leadIds: list[str] | None = Query(None),
    listId: str | None = Query(None),
    batchSize: str | None = Query(None),
) -> Response:
    cursor = _cursor(nextPageToken)
    store = _store(request)
    names = multi(fields)
    if not names:
        raise ApiFailure(Codes.MISSING_VALUE, "Missing value for the required parameter 'fields'")
    wanted = {}
    for name in names:
        try:
            wanted[name] = store.fields.get(name)
        except InvalidInput:
            raise ApiFailure(Codes.FIELD_NOT_FOUND, f"Field '{name}' not found") from None
    if listId:
        raise ApiFailure(Codes.INVALID_DATA, "listId is not supported: Tandem has no static lists")
    size = batch_size(batchSize, request.app.state.limits.batch_size)
    kinds = [types.NEW_LEAD.id, types.CHANGE_DATA_VALUE.id]
    found, token, more = _page(request, cursor, size, kinds, _id_list("leadIds", leadIds, MAX_LEAD_IDS))
    result = []
    for activity in found:
        if activity.activity_type_id == types.NEW_LEAD.id:
            result.append(lead_change_record(activity, None))
        elif activity.attribute("Field") in wanted:
            result.append(lead_change_record(activity, wanted[activity.attribute("Field")]))
    return success(result, next_page_token=token, more_result=more)
