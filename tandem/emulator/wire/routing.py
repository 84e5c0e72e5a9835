"""The data API's route table: `/services/data/vNN.N/<path>` → handler, usable in and out of HTTP.

Routes are plain (method, pattern, handler) rows so that composite subrequests dispatch through
the same table as direct requests, in the caller's thread (inside the caller's transaction).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qsl, unquote, urlsplit

from tandem.emulator.model.errors import ApiError

from tandem.emulator.wire.calls import ApiCall
from tandem.emulator.wire.replies import Reply, error_reply, status_error


@dataclass
class ApiRequest:
    """A data-API request with the `/services/data/vNN.N/` prefix removed from `path`."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The body as JSON; a malformed body is JSON_PARSER_ERROR as in Salesforce."""
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body, parse_constant=_refuse_constant)
        except ValueError as exc:
            raise ApiError(f"Unexpected character in JSON body: {exc}", error_code="JSON_PARSER_ERROR") from exc


def _refuse_constant(token: str) -> None:
    """NaN and Infinity are not JSON (Python writes them for float('nan')); Salesforce's parser refuses them."""
    raise ValueError(f"Non-standard token '{token}'")


Handler = Callable[[ApiCall, ApiRequest], Reply]


@dataclass
class Route:
    method: str
    regex: re.Pattern
    handler: Handler


class RouteTable:
    """An ordered list of routes; `{name}` in a pattern captures one path segment.

    `render_error` turns an ApiError into the API's own error reply (REST's JSON list by default).
    """

    def __init__(self, render_error: Callable[[ApiError], Reply] = error_reply) -> None:
        self.routes: list[Route] = []
        self.render_error = render_error

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        regex = re.compile(
            "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$", re.IGNORECASE
        )

        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method.upper(), regex, handler))
            return handler

        return register

    def extend(self, other: "RouteTable") -> None:
        self.routes.extend(other.routes)

    def dispatch(self, call: ApiCall, request: ApiRequest) -> Reply:
        """Run the matching handler; every ApiError becomes the API's error reply here."""
        try:
            handler, params = self._match(request.method.upper(), request.path.strip("/"))
            request.params = params
            return handler(call, request)
        except ApiError as exc:
            return self.render_error(exc)

    def _match(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        allowed = []
        for route in self.routes:
            found = route.regex.match(path)
            if not found:
                continue
            if route.method == method or (method == "HEAD" and route.method == "GET"):
                return route.handler, {k: unquote(v) for k, v in found.groupdict().items()}
            allowed.append(route.method)
        if allowed:
            raise status_error(
                405,
                "METHOD_NOT_ALLOWED",
                f"HTTP Method '{method}' not allowed. Allowed are {','.join(sorted(set(allowed)))}",
            )
        raise status_error(404, "NOT_FOUND", "The requested resource does not exist")


def split_data_url(url: str) -> tuple[str, str, dict[str, str]]:
    """`/services/data/v62.0/sobjects/X?a=b` or `v62.0/sobjects/X` → ("v62.0", "sobjects/X", {"a": "b"})."""
    parts = urlsplit(url)
    path = parts.path
    for prefix in ("/services/data/", "services/data/"):
        if path.startswith(prefix):
            path = path[len(prefix):]
            break
    path = path.lstrip("/")
    version, _, rest = path.partition("/")
    return version, rest, dict(parse_qsl(parts.query, keep_blank_values=True))
