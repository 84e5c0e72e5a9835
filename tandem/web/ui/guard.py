"""Who is asking, and may they: the signed-in user from the session, operators for actions, and
the CSRF token every form must carry (a post without it is refused with 403 and changes nothing).
An action's post is checked for a signed-in user first: a signed-out session's post is a 401
whatever token it carries, since the token was the ended session's."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from tandem.people.store import PersonStore
from tandem.people.ui_accounts import UiUser
from tandem.web.sync_actions import SalesforceActions
from tandem.web.ui.cycle_runner import CycleRunner
from tandem.web.throttle import TokenGuard
from tandem.web.ui.sessions import CSRF_FIELD, SessionSigner, UiSession, anonymous

SIGNIN_FAILURES = 10
NOTICE_LENGTH = 500
"""A notice longer than this is cut: it rides in the session cookie, which a browser drops past 4 KB
(and with it the notice, so a refusal quoting a long bad value would say nothing at all)."""
SIGNIN_WINDOW_SECONDS = 60.0


@dataclass
class UiContext:
    store: PersonStore
    signer: SessionSigner
    runner: CycleRunner
    salesforce: SalesforceActions
    templates: Jinja2Templates
    interval_seconds: float
    idle_interval_max_seconds: float | None = None
    """The longest rest `tandem run` takes while the org is quiet (the policy's)."""
    step_figures: tuple[Any, Any] | None = None
    """The dashboard's step sums and the newest step and hour they were made for (`pages._figures`)."""
    field_report: tuple[Any, Any] | None = None
    """The Fields page's rows (`pages._field_report`) and when the catalog they were made from was described."""
    catalog_failure: tuple[float, str] | None = None
    """When Salesforce last could not be asked for the field catalog, and why (asked again after a minute)."""
    signin_guard: TokenGuard = field(default_factory=lambda: TokenGuard(SIGNIN_FAILURES, SIGNIN_FAILURES,
                                                                         SIGNIN_WINDOW_SECONDS))
    """Failed sign-ins per address and per username: past the window's count, sign-in is refused
    before any password is hashed (each hash costs a quarter of a second of CPU)."""


class SignInNeeded(Exception):
    pass


class Refused(Exception):
    """The request is not allowed: answered with `status` and a page saying why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def ui(request: Request) -> UiContext:
    return request.app.state.ui


def session(request: Request) -> UiSession:
    found = getattr(request.state, "ui_session", None)
    if found is None:
        found = ui(request).signer.read(request) or anonymous()
        request.state.ui_session = found
    return found


def signed_in_user(request: Request) -> UiUser | None:
    """The session's user, unless the session was ended since it began (signed out, a new password),
    the user was removed (or removed and added again), or it is no session."""
    current = session(request)
    user = ui(request).store.ui_accounts.get(current.username) if current.username else None
    if user is None or user.sessions_ended != current.sessions_ended or user_since(user) != current.user_since:
        return None
    return user


def user_since(user: UiUser) -> float:
    """When the user was added, as the session keeps it."""
    return user.created_at.timestamp()


def viewer(request: Request) -> UiUser:
    """The signed-in user (any role); SignInNeeded otherwise."""
    user = signed_in_user(request)
    if user is None:
        raise SignInNeeded()
    request.state.ui_user = user
    return user


def operator(request: Request, action: str) -> UiUser:
    user = viewer(request)
    if not user.operates:
        raise Refused(403, f"{action}: only operators can start actions; {user.username} is a viewer")
    return user


async def operator_form(request: Request, action: str) -> tuple[UiUser, FormData]:
    """An action's post: SignInNeeded (401) without a signed-in user, then the CSRF check, then the role."""
    viewer(request)
    form = await checked_form(request)
    return operator(request, action), form


async def checked_form(request: Request) -> FormData:
    """The posted form once its CSRF token matches the session's; Refused (403) otherwise."""
    form = await request.form()
    if not session(request).accepts(form.get(CSRF_FIELD)):
        raise Refused(403, "the form's security token is missing or stale: reload the page and try again")
    return form


def render(request: Request, template: str, status: int = 200, **values: Any) -> Response:
    """A page with the signed-in user, the CSRF token for its forms and the pending notice (shown once)."""
    current = session(request)
    response = ui(request).templates.TemplateResponse(request, template, {
        "user": getattr(request.state, "ui_user", None), "csrf_token": current.csrf, "notice": current.notice,
        **values}, status_code=status)
    ui(request).signer.write(request, response, current.with_notice(None))
    return response


def back(request: Request, to: str, notice: str | None = None, new_session: UiSession | None = None) -> Response:
    """303 to `to` (after a post), carrying `notice` to the next page."""
    response = RedirectResponse(to, status_code=303)
    if notice is not None and len(notice) > NOTICE_LENGTH:
        notice = notice[:NOTICE_LENGTH - 1] + "…"
    ui(request).signer.write(request, response, (new_session or session(request)).with_notice(notice))
    return response
