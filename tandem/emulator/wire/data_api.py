"""The whole data API as one route table (order matters: fixed segments before `{record_id}`).

`composite` and `composite/batch` are mounted into this table and run their subrequests through it.
"""

from __future__ import annotations

from tandem.emulator.wire import bulk, collections, composite, layouts, query, resources, rest, search, tooling
from tandem.emulator.wire.routing import RouteTable

DATA_ROUTES = RouteTable()
for _module in (layouts, rest, query, collections, tooling, search):
    DATA_ROUTES.extend(_module.routes)
composite.mount(DATA_ROUTES)
DATA_ROUTES.extend(bulk.routes)
resources.mount(DATA_ROUTES)
