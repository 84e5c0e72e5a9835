"""Pieces of the OpenAPI document the routes cannot infer: bodies read by hand, shared responses."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

from tandem.web.envelope import Envelope

ENVELOPE_SCHEMA_NAME = "Envelope"

REST_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": Envelope, "description": "The envelope; success false carries a Marketo error code"},
    413: {"model": Envelope, "description": "Request body too large"},
}


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(copy.deepcopy(defs[ref.removeprefix("#/$defs/")]), defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its `$defs` inlined, fit for an `openapi_extra` request body."""
    schema = model.model_json_schema()
    return _inline(schema, schema.get("$defs", {}))


def form_schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required}
