"""The emulator's ASGI application: routes, the Sforce-Limit-Info header, faults, one REST error renderer.

Layers, outermost first: request-body inflation (`compression.py`), fault injection, gzip answers,
path normalisation + limit header, Starlette routing with the last-resort error renderer
(`internal_errors.py`); unknown paths answer in their API's shape (`shaped_errors.py`). Data-API
requests all go through `data_endpoint`, which authenticates, counts and dispatches to the route
table in a worker thread (the model is synchronous and thread-safe); Bulk API 1.0 requests go
through `async_api.endpoint` the same way.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from tandem.emulator.faults import FaultSettings
from tandem.emulator.model.errors import ApiError

from tandem.emulator.wire import async_api, control, oauth, soap
from tandem.emulator.wire.calls import open_call, parse_version
from tandem.emulator.wire.compression import RequestDecompression
from tandem.emulator.wire.data_api import DATA_ROUTES
from tandem.emulator.wire.fault_injection import FaultMiddleware
from tandem.emulator.wire.fault_plans import STATE_KEY, FaultInjector, RequestFaults
from tandem.emulator.wire.internal_errors import InternalErrorMiddleware, error_id, unknown_exception_message
from tandem.emulator.wire.replies import Reply, error_reply, to_response
from tandem.emulator.wire.routing import ApiRequest
from tandem.emulator.wire.shaped_errors import shaped_error

log = logging.getLogger("tandem.emulator")
_ALL_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"]
RESPONSE_GZIP_MIN_BYTES = 500
RESPONSE_GZIP_LEVEL = 5


def release_label(major: int) -> str:
    """Salesforce's release name for an API version: three releases a year, v59 = Winter '24."""
    season = ("Spring", "Summer", "Winter")[major % 3]
    return f"{season} '{(major - 59) // 3 + 24:02d}"


async def versions(request: Request) -> Response:
    newest = int(float(request.app.state.org.api_version))
    return JSONResponse([
        {"label": release_label(major), "url": f"/services/data/v{major}.0", "version": f"{major}.0"}
        for major in range(20, newest + 1)
    ])


def _serve(org: Any, version_segment: str, headers: dict[str, str], base_url: str, request: ApiRequest,
           faults: RequestFaults | None = None) -> Reply:
    """Authenticate, count and dispatch one data-API request (runs in a worker thread)."""
    faults = faults or RequestFaults()
    try:
        version = parse_version(org, version_segment)
        call = open_call(org, headers, version, base_url)
        call.record_faults = faults.records
        if faults.late_ms:
            with org.late_commit(faults.late_ms):
                return DATA_ROUTES.dispatch(call, request)
        return DATA_ROUTES.dispatch(call, request)
    except ApiError as exc:
        return error_reply(exc)
    except Exception:
        reference = error_id()
        log.exception("unexpected error %s serving %s %s", reference, request.method, request.path)
        return error_reply(ApiError(unknown_exception_message(reference), error_code="UNKNOWN_EXCEPTION", status=500))


def _method(request: Request) -> str:
    """The request's method; a POST may name another in `?_HttpMethod=` (`PATCH`), as Salesforce allows
    for HTTP libraries that cannot send it."""
    override = request.query_params.get("_HttpMethod")
    return override.upper() if request.method == "POST" and override else request.method


async def data_endpoint(request: Request) -> Response:
    body = await request.body()
    query = {k: v for k, v in request.query_params.items() if k != "_HttpMethod"}
    reply = await run_in_threadpool(
        _serve,
        request.app.state.org,
        request.path_params["version"],
        {k.lower(): v for k, v in request.headers.items()},
        oauth.base_url_of(request),
        ApiRequest(_method(request), request.path_params.get("path", ""), query, body),
        getattr(request.state, STATE_KEY, None),
    )
    return to_response(reply)


class ApiHeadersMiddleware:
    """Strips trailing slashes (clients send `/query/`, `/sobjects/Contact/`) and adds
    `Sforce-Limit-Info: api-usage=N/M` to every API answer except the version list."""

    def __init__(self, app: Any, org: Any) -> None:
        self.app, self.org = app, org

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            path = path.rstrip("/") or "/"
            scope = dict(scope, path=path, raw_path=path.encode())
        if not path.startswith(("/services/", "/id/")) or path == "/services/data":
            await self.app(scope, receive, send)
            return

        async def send_with_limit(message: dict) -> None:
            if message["type"] == "http.response.start":
                used, limit = self.org.api_usage()
                headers = list(message.get("headers", []))
                headers.append((b"sforce-limit-info", f"api-usage={used}/{limit}".encode()))
                message = dict(message, headers=headers)
            await send(message)

        await self.app(scope, receive, send_with_limit)


async def _not_found(request: Request, exc: Exception) -> Response:
    """An unknown path or method, answered in the shape of the API the path falls under."""
    content_type = request.headers.get("content-type")
    if getattr(exc, "status_code", 404) == 405:
        return shaped_error(request.url.path, 405, "METHOD_NOT_ALLOWED",
                            f"HTTP Method '{request.method}' not allowed", content_type=content_type)
    return shaped_error(request.url.path, 404, "NOT_FOUND", "The requested resource does not exist",
                        content_type=content_type)


def create_app(org: Any, *, state_dir: Path | None = None, faults: FaultSettings | None = None) -> Any:
    """The ASGI app serving `org`; `faults` overrides the org file's fault settings."""
    routes = [
        Route("/services/data", versions, methods=["GET"]),
        Route("/services/data/{version}", data_endpoint, methods=_ALL_METHODS),
        Route("/services/data/{version}/{path:path}", data_endpoint, methods=_ALL_METHODS),
        Route("/services/oauth2/token", oauth.token, methods=["POST"]),
        Route("/services/oauth2/userinfo", oauth.userinfo, methods=["GET", "POST"]),
        Route("/services/oauth2/revoke", oauth.revoke, methods=["POST", "GET"]),
        Route("/id/{org_id}/{user_id}", oauth.identity, methods=["GET", "POST"]),
        Route("/services/Soap/u/{version}", soap.endpoint, methods=["POST"]),
        Route("/services/Soap/u/{version}/{org_id}", soap.endpoint, methods=["POST"]),
        Route("/services/async/{version}/{path:path}", async_api.endpoint, methods=async_api.METHODS),
        Route("/services/Soap/m/{version}", soap.unserved_endpoint, methods=_ALL_METHODS),
        Route("/services/Soap/m/{version}/{org_id}", soap.unserved_endpoint, methods=_ALL_METHODS),
        Route("/services/Soap/c/{version}", soap.unserved_endpoint, methods=_ALL_METHODS),
        Route("/services/Soap/c/{version}/{org_id}", soap.unserved_endpoint, methods=_ALL_METHODS),
        Mount("/_emulator", routes=control.routes),
    ]
    starlette = Starlette(routes=routes, exception_handlers={404: _not_found, 405: _not_found},
                          middleware=[Middleware(InternalErrorMiddleware)])
    starlette.router.redirect_slashes = False
    injector = FaultInjector(faults or getattr(org, "fault_settings", None) or FaultSettings())
    starlette.state.org = org
    starlette.state.faults = injector
    starlette.state.state_dir = state_dir
    answers = GZipMiddleware(ApiHeadersMiddleware(starlette, org), minimum_size=RESPONSE_GZIP_MIN_BYTES,
                             compresslevel=RESPONSE_GZIP_LEVEL)
    app = RequestDecompression(FaultMiddleware(answers, injector, org))
    app.state = starlette.state
    return app
