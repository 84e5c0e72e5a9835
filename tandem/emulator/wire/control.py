"""Control routes under `/_emulator/`: reset, seed, bulk-load, faults, session expiry, save. Loopback only.

These are not Salesforce APIs: no bearer token, no API counting, no faults, plain JSON errors.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tandem.emulator.faults import FaultSettings
from tandem.emulator.model.definition import first_problem
from tandem.emulator.model.errors import ApiError

from tandem.emulator.wire.bulk import jobs_for

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def _refuse(request: Request) -> Response | None:
    host = request.client.host if request.client else None
    if host not in LOOPBACK and not (host or "").startswith("127."):
        return JSONResponse({"error": "control routes answer loopback clients only"}, status_code=403)
    return None


def _problem(message: str, status: int = 400) -> Response:
    return JSONResponse({"error": message}, status_code=status)


async def _json(request: Request) -> Any:
    raw = await request.body()
    return json.loads(raw) if raw.strip() else None


async def reset(request: Request) -> Response:
    if refused := _refuse(request):
        return refused
    state = request.app.state
    jobs_for(state.org).clear()  # first, so that a running Bulk batch stops before the org is reset
    await run_in_threadpool(state.org.reset)
    state.faults.configure(state.org.fault_settings or FaultSettings())
    state.faults.forget_calls_in_flight()
    return JSONResponse({"reset": True})


async def _per_object(request: Request, load: Callable[[Any, str, list], Any]) -> Response:
    """Run `load(org, object_name, rows)` for each object of a `{"Object": [rows, ...]}` body."""
    if refused := _refuse(request):
        return refused
    try:
        body = await _json(request)
    except ValueError as exc:
        return _problem(f"invalid JSON: {exc}")
    if not isinstance(body, dict) or not all(isinstance(v, list) for v in body.values()):
        return _problem('expected {"Object": [records, ...]}')
    org = request.app.state.org

    def load_all() -> dict:
        return {name: load(org, name, rows) for name, rows in body.items()}

    try:
        return JSONResponse(await run_in_threadpool(load_all))
    except ApiError as exc:
        return _problem(f"{exc.error_code}: {exc.message}")


async def seed(request: Request) -> Response:
    """Insert records as the admin (no validation rules); answers the new Ids per object."""
    return await _per_object(request, lambda org, name, rows: org.seed(name, rows))


async def bulk_load(request: Request) -> Response:
    """Fast unchecked load (`Org.bulk_load`): rows may carry historic CreatedDate/SystemModstamp."""
    return await _per_object(request, lambda org, name, rows: org.bulk_load(name, rows))


_REPORTED_ONLY = ("injected", "inFlight")
"""Keys a GET reports besides the settings; a PUT ignores them, so a GET's body can be PUT back."""


async def faults(request: Request) -> Response:
    """GET: the settings, the faults injected so far by kind, the API calls in flight.
    PUT: new settings (keys left out are off), which also restart the seed and the counts."""
    if refused := _refuse(request):
        return refused
    injector = request.app.state.faults
    if request.method == "PUT":
        try:
            body = await _json(request) or {}
            if isinstance(body, dict):
                body = {k: v for k, v in body.items() if k not in _REPORTED_ONLY}
            injector.configure(FaultSettings.model_validate(body))
        except ValidationError as exc:
            path, reason = first_problem(exc)
            return _problem(f"{path}: {reason}" if path else reason)
        except ValueError as exc:
            return _problem(f"invalid JSON: {exc}")
    return JSONResponse(injector.report())


async def expire_sessions(request: Request) -> Response:
    if refused := _refuse(request):
        return refused
    await run_in_threadpool(request.app.state.org.expire_all_sessions)
    return JSONResponse({"expired": True})


async def save(request: Request) -> Response:
    if refused := _refuse(request):
        return refused
    state_dir = request.app.state.state_dir
    if state_dir is None:
        return _problem("no state directory configured", 409)
    await run_in_threadpool(request.app.state.org.save_state, state_dir)
    return JSONResponse({"saved": str(state_dir)})


async def health(request: Request) -> Response:
    org = request.app.state.org
    used, limit = org.api_usage()
    return JSONResponse({"org": org.name, "orgId": org.org_id, "apiVersion": org.api_version,
                         "apiUsage": {"used": used, "limit": limit}})


routes = [
    Route("/reset", reset, methods=["POST"]),
    Route("/seed", seed, methods=["POST"]),
    Route("/bulk-load", bulk_load, methods=["POST"]),
    Route("/faults", faults, methods=["GET", "PUT"]),
    Route("/expire-sessions", expire_sessions, methods=["POST"]),
    Route("/save", save, methods=["POST"]),
    Route("/health", health, methods=["GET"]),
]
