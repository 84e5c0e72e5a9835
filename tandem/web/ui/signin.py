"""Sign in and Sign out. A failed sign-in says only that the name or password is wrong; ten failures
in a minute from one address, or for one user, hold sign-in back for the rest of that minute. Sign
out ends the user's sessions on the server, so a kept copy of the cookie signs no one in."""

from __future__ import annotations

import logging
import math
import posixpath
from urllib.parse import quote, unquote, urlsplit

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tandem.web.auth import remote_address
from tandem.web.ui import passwords
from tandem.web.ui.guard import back, checked_form, render, session, signed_in_user, ui, user_since
from tandem.web.ui.sessions import anonymous

router = APIRouter()
log = logging.getLogger("tandem.web.ui")


@router.get("/signin")
def signin_page(request: Request) -> Response:
    return render(request, "signin.html", page="Sign in", next=_next(request.query_params.get("next")), failed=False)


@router.post("/signin")
async def signin(request: Request) -> Response:
    form = await checked_form(request)
    username, password = str(form.get("username") or "").strip(), str(form.get("password") or "")
    accounts = ui(request).store.ui_accounts
    user = accounts.get(username) if username else None
    guard, address = ui(request).signin_guard, remote_address(request)
    known = user.username if user else None
    wait = guard.blocked(known, address)
    if wait is not None:  # refused before the password is looked at, right or wrong
        log.warning("sign-ins to the web UI throttled from %s", address)
        seconds = max(1, math.ceil(wait))
        response = render(request, "signin.html", status=429, page="Sign in", next=_next(form.get("next")),
                          throttled=seconds, username=username)
        response.headers["Retry-After"] = str(seconds)
        return response
    if not await run_in_threadpool(passwords.matches, user.password_hash if user else None, password) or user is None:
        guard.failed(known, address)
        log.info("a sign-in to the web UI was refused")
        return render(request, "signin.html", status=401, page="Sign in", next=_next(form.get("next")), failed=True,
                      username=username)  # as typed, whether or not such a user exists: the password only is asked again
    if passwords.needs_rehash(user.password_hash):
        # only over the hash just checked: a password changed meanwhile stands
        accounts.set_password_hash(user.username, await run_in_threadpool(passwords.hash_password, password),
                                   replacing=user.password_hash)
    return back(request, _next(form.get("next")), f"Signed in as {user.username} ({user.role.value})",
                new_session=session(request).signed_in(user.username, user.sessions_ended, user_since(user)))


@router.post("/signout")
async def signout(request: Request) -> Response:
    user = signed_in_user(request)
    if user is not None:  # every session of the user ends here, copies of this cookie included
        await checked_form(request)
        ui(request).store.ui_accounts.end_sessions(user.username, user.sessions_ended)
    # a session signed out already (in another tab) has nothing to end, whatever token its form carries
    response = RedirectResponse("/ui/signin", status_code=303)
    ui(request).signer.write(request, response, anonymous().with_notice("Signed out"))
    return response


def _next(value: object) -> str:
    """Only a page of the UI: never another site (an open redirect), nor a path that leaves /ui/
    once its dot segments (percent-encoded ones too, as a browser reads them) are resolved."""
    text = value if isinstance(value, str) else ""
    parts = urlsplit(text)
    path = unquote(parts.path)
    if parts.scheme or parts.netloc or not path.startswith("/") or "\\" in path or not path.isprintable():
        return "/ui/"
    resolved = posixpath.normpath(path) + ("/" if path.endswith(("/", "/.", "/..")) else "")
    if not resolved.startswith("/ui/"):
        return "/ui/"
    return quote(resolved) + (f"?{parts.query}" if parts.query else "")
