"""`sobjects/{T}/describe/layouts` (all layouts) and `…/describe/layouts/{recordTypeId}` (the one it uses).

Registered ahead of the REST record routes: `sobjects/{T}/{field}/{value}` would otherwise take the path.
"""

from __future__ import annotations

from tandem.emulator.model.errors import NotFound
from tandem.emulator.model.layouts import MASTER_RECORD_TYPE, describe_layouts, layout

from tandem.emulator.wire.calls import ApiCall
from tandem.emulator.wire.replies import Reply
from tandem.emulator.wire.routing import ApiRequest, RouteTable
from tandem.salesforce import ids

routes = RouteTable()


@routes.route("GET", "sobjects/{sobject}/describe/layouts")
def all_layouts(call: ApiCall, request: ApiRequest) -> Reply:
    described = call.org.describe(call.ctx, request.params["sobject"])
    return Reply(200, describe_layouts(described, call.version))


@routes.route("GET", "sobjects/{sobject}/describe/layouts/{record_type_id}")
def record_type_layout(call: ApiCall, request: ApiRequest) -> Reply:
    described = call.org.describe(call.ctx, request.params["sobject"])
    wanted = request.params["record_type_id"]
    if not ids.is_well_formed(wanted) or ids.to_18(wanted) != MASTER_RECORD_TYPE:
        raise NotFound("The requested resource does not exist")
    return Reply(200, layout(described))
