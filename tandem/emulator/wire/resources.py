"""The resource list (`GET /services/data/vNN.N/`): the top-level resources the route table serves, and
nothing it does not, so a client that follows an advertised URL never meets a 404."""

from __future__ import annotations

import re

from tandem.emulator.wire.calls import ApiCall
from tandem.emulator.wire.replies import Reply
from tandem.emulator.wire.rest import identity_url
from tandem.emulator.wire.routing import ApiRequest, RouteTable

_FIRST_SEGMENT = re.compile(r"^\^([A-Za-z][\w-]*)")


def served_resources(table: RouteTable) -> list[str]:
    """The first path segment of every route, in the order routes were added."""
    names: list[str] = []
    for route in table.routes:
        found = _FIRST_SEGMENT.match(route.regex.pattern)
        if found and found.group(1) not in names:
            names.append(found.group(1))
    return names


def mount(table: RouteTable) -> None:
    """Add the resource list to `table`, listing what `table` serves when the list is asked for."""

    @table.route("GET", "")
    def resource_list(call: ApiCall, request: ApiRequest) -> Reply:
        base = f"/services/data/v{call.version}"
        body = {name: f"{base}/{name}" for name in served_resources(table)}
        body["identity"] = identity_url(call)
        return Reply(200, body)
