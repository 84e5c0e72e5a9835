"""The REST API application: routers, the token check, limits, and the one place errors render.

Every error leaves as Marketo's envelope (HTTP 200 with a string code, or 413), never a stack
trace: an unexpected exception is logged and answered with 611 System error (`failures.py`), on a
connection that stays open.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING
from datetime import UTC, datetime

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from tandem.errors import AmbiguousReference, InvalidInput, NotFound, StoreBusy, TandemError
from tandem.people.store import PersonStore
from tandem.web import activities, health, leads, metrics, sync_actions
from tandem.web.access_log import AccessLogMiddleware
from tandem.web.auth import ApiCredentials, TokenIssuer, identity
from tandem.web.docs import mount_docs
from tandem.web.envelope import ApiFailure, Codes, failure
from tandem.web.failures import LastResortMiddleware, database_unavailable, system_error
from tandem.web.limits import API_CLIENT, ApiLimits, LimitsMiddleware
from tandem.web.metrics import Metrics
from tandem.web.parameters import as_named_in_body
from tandem.web.sync_actions import ClientFactory, SalesforceActions
from tandem.web.throttle import TokenGuard
from tandem.sync.cycle import SyncEngine
from tandem.web.ui import close_ui, ui_app
from tandem.web.ui.cycle_runner import EngineMaker

if TYPE_CHECKING:
    from tandem.sync.policy import SyncPolicy

log = logging.getLogger("tandem.web")
bearer = HTTPBearer(auto_error=False, description="The access token from /identity/oauth/token")


async def require_token(request: Request, _: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
    """601 unless the limits middleware admitted the call for a client (it checks the token)."""
    if not getattr(request.state, API_CLIENT, None):
        raise ApiFailure(Codes.TOKEN_INVALID, "Access token invalid")


def _validation_failure(error: RequestValidationError) -> Response:
    first = error.errors()[0] if error.errors() else {}
    if first.get("type") == "json_invalid":
        return failure(Codes.INVALID_JSON, "Invalid JSON")
    where = as_named_in_body(str(list(first.get("loc", ("request",)))[-1]))
    return failure(Codes.INVALID_VALUE, f"Invalid value for '{where}': {first.get('msg', 'invalid')}")


def _tandem_failure(error: TandemError) -> Response:
    if isinstance(error, InvalidInput):
        return failure(Codes.INVALID_DATA, f"Invalid value for field '{error.field}': {error.reason}")
    if isinstance(error, NotFound):
        return failure(Codes.LEAD_NOT_FOUND, "Lead not found")
    if isinstance(error, AmbiguousReference):
        return failure(Codes.MULTIPLE_MATCHES, "Multiple leads match the lookup criteria")
    if isinstance(error, StoreBusy):
        log.warning("a call gave up on a busy database: %s", error)
        return failure(Codes.TRANSIENT, "Transient Error: the database is busy; try again")
    log.exception("request failed", exc_info=error)
    return failure(Codes.SYSTEM_ERROR, "System error")


def create_app(
    store: PersonStore,
    credentials: ApiCredentials | Iterable[ApiCredentials],
    *,
    limits: ApiLimits | None = None,
    token_lifetime: int = 3600,
    clock: Callable[[], float] = time.time,
    throttle_clock: Callable[[], float] = time.monotonic,
    salesforce: ClientFactory | None = None,
    policy: SyncPolicy | None = None,
    sync_interval_seconds: float = 300,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ui_secret_key: str | None = None,
    make_engine: EngineMaker | None = None,
) -> FastAPI:
    """The API over an open store for one or more API clients; `salesforce` opens a client for the
    flow actions when first needed. The web UI is mounted at /ui/ (`tandem.web.ui`)."""
    limits = limits or ApiLimits()
    tokens = TokenIssuer(credentials, lifetime=token_lifetime, clock=clock)
    holder = SalesforceActions(store, salesforce or _no_salesforce, policy)
    pages = ui_app(store, holder, salesforce or _no_salesforce, secret_key=ui_secret_key,
                   interval_seconds=sync_interval_seconds,
                   idle_interval_max_seconds=policy.idle_interval_max_seconds if policy is not None else None,
                   make_engine=make_engine or (lambda client, store, owner: SyncEngine(client, store, owner=owner,
                                                                                      policy=policy)))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            close_ui(pages)
            holder.close()

    app = FastAPI(
        title="Tandem REST API",
        version="1",
        description="Marketo-compatible REST API over Tandem's people store.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.store = store
    app.state.policy = policy
    """The sync policy in force (`tandem.sync.policy.SyncPolicy`): the status shows its budget's lanes."""
    app.state.limits = limits
    app.state.tokens = tokens
    app.state.token_guard = TokenGuard(limits.token_failures_per_address, limits.token_failures_per_client,
                                       limits.token_failure_window_seconds, throttle_clock)
    app.state.salesforce = holder
    app.state.sync_interval_seconds = sync_interval_seconds
    app.state.now = now
    app.state.metrics = Metrics(store, now)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(identity)
    mount_docs(app)
    app.add_api_route("/", _to_ui, include_in_schema=False)
    app.add_api_route("/ui", _to_ui, include_in_schema=False)
    app.mount("/ui", pages)
    for module in (leads, activities, sync_actions):
        app.include_router(module.router, dependencies=[Depends(require_token)])
    for api in ("/rest", "/identity"):  # an API path off by a slash is 610: a redirect has no envelope to read
        app.add_api_route(api + "/{path:path}/", _off_by_a_slash, methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                          include_in_schema=False)

    @app.exception_handler(ApiFailure)
    async def _api_failure(_: Request, error: ApiFailure) -> Response:
        return failure(error.code, error.message, error.http_status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> Response:
        return _validation_failure(error)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 405:
            return failure(Codes.METHOD_NOT_SUPPORTED, "HTTP Method not supported")
        if error.status_code == 404:
            return failure(Codes.NOT_FOUND, "Requested resource not found")
        return failure(Codes.SYSTEM_ERROR, str(error.detail), http_status=error.status_code)

    @app.exception_handler(TandemError)
    async def _tandem(_: Request, error: TandemError) -> Response:
        return _tandem_failure(error)

    app.add_middleware(LimitsMiddleware, limits=limits, tokens=tokens, clock=throttle_clock, day_clock=clock)
    app.add_middleware(LastResortMiddleware, answer=system_error, unavailable=database_unavailable)
    app.add_middleware(AccessLogMiddleware, metrics=app.state.metrics)
    return app


def _off_by_a_slash() -> Response:
    raise StarletteHTTPException(404)


def _to_ui() -> Response:
    return RedirectResponse("/ui/", status_code=307)


def _no_salesforce() -> object:
    raise ApiFailure("608", "API Temporarily Unavailable: no Salesforce connection is configured")
