"""SOQL over REST: `query`, `queryAll`, and the `query/<locator>` pages they link to."""

from __future__ import annotations

import re
from typing import Any

from tandem.emulator.model.errors import MalformedQuery

from tandem.emulator.wire.calls import ApiCall
from tandem.emulator.wire.replies import Reply
from tandem.emulator.wire.routing import ApiRequest, RouteTable

routes = RouteTable()

PAGE_SIZE = 2000
MIN_PAGE_SIZE = 200
_BATCH_SIZE_RE = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)


def batch_size(call: ApiCall) -> int:
    """`Sforce-Query-Options: batchSize=N`, held to Salesforce's 200..2000."""
    found = _BATCH_SIZE_RE.search(call.header("sforce-query-options") or "")
    if not found:
        return PAGE_SIZE
    return max(MIN_PAGE_SIZE, min(PAGE_SIZE, int(found.group(1))))


def page_body(call: ApiCall, page: Any) -> dict:
    body: dict = {"totalSize": page.total_size, "done": page.done}
    if not page.done and page.next_locator:
        body["nextRecordsUrl"] = f"/services/data/v{call.version}/query/{page.next_locator}"
    body["records"] = page.records
    return body


def run_query(call: ApiCall, soql: str | None, include_deleted: bool) -> Reply:
    if not soql or not soql.strip():
        raise MalformedQuery("A query string has to be specified")
    page = call.org.query(
        call.ctx, soql, include_deleted=include_deleted, batch_size=batch_size(call), api_version=call.version
    )
    return Reply(200, page_body(call, page))


@routes.route("GET", "query")
def query(call: ApiCall, request: ApiRequest) -> Reply:
    return run_query(call, request.query.get("q"), include_deleted=False)


@routes.route("GET", "queryAll")
def query_all(call: ApiCall, request: ApiRequest) -> Reply:
    return run_query(call, request.query.get("q"), include_deleted=True)


@routes.route("GET", "query/{locator}")
def query_more(call: ApiCall, request: ApiRequest) -> Reply:
    page = call.org.query_more(call.ctx, request.params["locator"], api_version=call.version)
    return Reply(200, page_body(call, page))


@routes.route("GET", "queryAll/{locator}")
def query_all_more(call: ApiCall, request: ApiRequest) -> Reply:
    return query_more(call, request)
