"""The web UI for the people who run the sync, under /ui/ beside the REST API in `tandem serve`.

Server-rendered pages (Jinja2), charts drawn as SVG on the server, one small script for the live
progress bar; nothing is fetched from elsewhere and nothing is built. A signed session cookie says
who is signed in; viewers see every page, operators also start actions; every form carries a CSRF
token. Modules: `signin` (sign in/out), `pages` (what is shown), `actions` (what operators start),
`converting` (Convert Person's page and post), `exports` (CSV), `charts` (SVG), `cycle_runner` (Sync
now), `guard` (who may do what), `sessions`, `passwords`, `filters`, `lookups` (what a path's id names).
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tandem.people.store import PersonStore
from tandem.web.failures import LastResortMiddleware
from tandem.web.sync_actions import ClientFactory, SalesforceActions
from tandem.web.ui import actions, converting, pages, signin
from tandem.web.ui.cycle_runner import CycleRunner, EngineMaker
from tandem.web.ui.guard import Refused, SignInNeeded, UiContext, render, signed_in_user
from tandem.web.ui.sessions import SessionSigner

HERE = Path(__file__).parent
log = logging.getLogger("tandem.web.ui")


def ui_app(store: PersonStore, salesforce: SalesforceActions, client_factory: ClientFactory, *,
           make_engine: EngineMaker, secret_key: str | None = None, interval_seconds: float = 300,
           idle_interval_max_seconds: float | None = None) -> FastAPI:
    """The UI as an app of its own, to mount at /ui; `secret_key` signs sessions (else the store's key)."""
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(ago=pages.ago, duration=pages.duration)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ui = UiContext(
        store=store, signer=SessionSigner((lambda: secret_key) if secret_key else store.ui_accounts.signing_key),
        runner=CycleRunner(store, client_factory, make_engine,
                           salesforce.policy.budget if salesforce.policy is not None else None),
        salesforce=salesforce, templates=templates,
        interval_seconds=interval_seconds, idle_interval_max_seconds=idle_interval_max_seconds)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for module in (signin, pages, actions, converting):
        app.include_router(module.router)

    @app.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, _: SignInNeeded) -> Response:
        if request.method != "GET":
            return render(request, "refused.html", status=401, page="Sign in", message="sign in first")
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/ui/signin?{urlencode({'next': path}, safe='/')}", status_code=303)

    @app.exception_handler(Refused)
    async def _refused(request: Request, refusal: Refused) -> Response:
        return render(request, "refused.html", status=refusal.status, page="Refused", message=refusal.message)

    @app.exception_handler(405)
    async def _post_only(request: Request, error: HTTPException) -> Response:
        request.state.ui_user = signed_in_user(request)
        answer = render(request, "refused.html", status=405, page="Refused",
                        message="this address is where a form sends its post: use the button on the page")
        answer.headers.update(error.headers or {})
        return answer

    @app.exception_handler(404)
    @app.exception_handler(RequestValidationError)
    async def _missing(request: Request, _: Exception) -> Response:
        if getattr(request.state, "ui_user", None) is None:  # the menu and Sign out, for a way back
            request.state.ui_user = signed_in_user(request)
        return render(request, "missing.html", status=404, page="Not found", message="no such page")

    app.add_middleware(LastResortMiddleware, answer=_error_page, unavailable=_unavailable_page)
    app.add_middleware(SecurityHeaders)
    return app


def close_ui(app: FastAPI) -> None:
    app.state.ui.runner.close()


HEADERS = [
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                                 b"form-action 'self'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]
"""Every UI answer: scripts, styles and forms from the UI itself only, never framed, never cached."""


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *HEADERS]}
            await send(message)

        await self.app(scope, receive, with_headers)


def _error_page() -> HTMLResponse:
    """The UI's answer to an unexpected error: a plain page, never its details (they are logged)."""
    return HTMLResponse("<!doctype html><title>Error</title><p>Something went wrong; "
                        "the server's log has the details. <a href='/ui/'>Dashboard</a></p>", status_code=500)


def _unavailable_page() -> HTMLResponse:
    """The UI's answer while the database cannot be used: try again, nothing to look up in the log."""
    return HTMLResponse("<!doctype html><title>Unavailable</title><p>The database is unavailable; "
                        "try again shortly. <a href='/ui/'>Dashboard</a></p>", status_code=503)
