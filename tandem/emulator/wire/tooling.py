"""The Tooling API's read side over REST: `tooling/query`, `tooling/sobjects` and their describes.

Records carry Tooling URLs (`/tooling/sobjects/...`); everything else is the model's `SetupCatalog`.
"""

from __future__ import annotations

from typing import Any

from tandem.emulator.model.errors import MalformedQuery

from tandem.emulator.wire.calls import ApiCall
from tandem.emulator.wire.replies import Reply
from tandem.emulator.wire.routing import ApiRequest, RouteTable

routes = RouteTable()


def _tooling_urls(value: Any) -> Any:
    """Point every record's `attributes.url` (and describe `urls`) at the Tooling API."""
    if isinstance(value, list):
        return [_tooling_urls(item) for item in value]
    if not isinstance(value, dict):
        return value
    fixed = {}
    for key, item in value.items():
        if key in ("attributes", "urls") and isinstance(item, dict):
            item = {k: v.replace("/sobjects/", "/tooling/sobjects/", 1) if isinstance(v, str) else v
                    for k, v in item.items()}
        elif isinstance(item, (dict, list)):
            item = _tooling_urls(item)
        fixed[key] = item
    return fixed


@routes.route("GET", "tooling/query")
def tooling_query(call: ApiCall, request: ApiRequest) -> Reply:
    soql = request.query.get("q")
    if not soql or not soql.strip():
        raise MalformedQuery("A query string has to be specified")
    page = call.org.tooling_query(call.ctx, soql, call.version)
    entity = page.records[0]["attributes"]["type"] if page.records else None
    return Reply(200, {"size": page.total_size, "totalSize": page.total_size, "done": True, "queryLocator": None,
                       "entityTypeName": entity, "records": _tooling_urls(page.records)})


@routes.route("GET", "tooling/sobjects")
def tooling_describe_global(call: ApiCall, request: ApiRequest) -> Reply:
    return Reply(200, _tooling_urls(call.org.tooling_describe_global(call.ctx, call.version)))


@routes.route("GET", "tooling/sobjects/{sobject}/describe")
def tooling_describe(call: ApiCall, request: ApiRequest) -> Reply:
    return Reply(200, _tooling_urls(call.org.tooling_describe(call.ctx, request.params["sobject"], call.version)))
