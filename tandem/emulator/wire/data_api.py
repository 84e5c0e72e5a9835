"""The whole data API as one route table (order matters: fixed segments before `{record_id}`)."""

from __future__ import annotations

from tandem.emulator.wire import bulk, collections, composite, query, rest
from tandem.emulator.wire.routing import RouteTable

DATA_ROUTES = RouteTable()
for _module in (rest, query, collections, composite, bulk):
    DATA_ROUTES.extend(_module.routes)
