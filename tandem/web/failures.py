"""The last line of error handling: an exception no handler took becomes 611 System error (the web
UI: a plain error page).

Starlette's own server-error middleware re-raises after answering, and uvicorn then drops the
connection although the answer promised keep-alive, so the client's next call on it fails. Here
the exception is logged and answered in the envelope, and the connection stays usable. Only when
the answer had already started is the exception passed on (the connection must close then).
A database that cannot be used for now (its server gone, a SQLite file locked) is no unexpected
error: it is logged on one line and answered with `unavailable()`, so a caller knows to try again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tandem.people.database import is_outage, outage_reason
from tandem.web.access_log import printable
from tandem.web.envelope import Codes, failure

log = logging.getLogger("tandem.web")


class LastResortMiddleware:
    """Runs `app`; an exception it lets out is logged and answered by `answer()` (the REST API's
    611 envelope, the web UI's plain page) on a connection that stays usable; a database outage by
    `unavailable()`."""

    def __init__(self, app: ASGIApp, answer: Callable[[], ASGIApp], unavailable: Callable[[], ASGIApp]) -> None:
        self.app = app
        self.answer = answer
        self.unavailable = unavailable

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            outage = is_outage(error)
            if outage:
                log.warning("the database is unavailable (%s) serving %s %s", outage_reason(error),
                            scope.get("method"), printable(scope.get("path", "")))
            else:
                log.exception("unexpected error serving %s %s", scope.get("method"), printable(scope.get("path", "")))
            if started:
                raise
            await (self.unavailable if outage else self.answer)()(scope, receive, send)


def system_error() -> ASGIApp:
    """The REST API's answer to an unexpected error: 611 System error in Marketo's envelope."""
    return failure(Codes.SYSTEM_ERROR, "System error")


def database_unavailable() -> ASGIApp:
    """The REST API's answer while the database cannot be used: 713, which Marketo clients retry."""
    return failure(Codes.TRANSIENT, "Transient Error: the database is unavailable; try again")
