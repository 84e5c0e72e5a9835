"""The last line of error handling: an exception no handler took becomes 611 System error (the web
UI: a plain error page).

Starlette's own server-error middleware re-raises after answering, and uvicorn then drops the
connection although the answer promised keep-alive, so the client's next call on it fails. Here
the exception is logged and answered in the envelope, and the connection stays usable. Only when
the answer had already started is the exception passed on (the connection must close then).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tandem.web.envelope import Codes, failure

log = logging.getLogger("tandem.web")


class LastResortMiddleware:
    """Runs `app`; an exception it lets out is logged and answered by `answer()` (the REST API's
    611 envelope, the web UI's plain page) on a connection that stays usable."""

    def __init__(self, app: ASGIApp, answer: Callable[[], ASGIApp]) -> None:
        self.app = app
        self.answer = answer

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
        except Exception:
            log.exception("unexpected error serving %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await self.answer()(scope, receive, send)


def system_error() -> ASGIApp:
    """The REST API's answer to an unexpected error: 611 System error in Marketo's envelope."""
    return failure(Codes.SYSTEM_ERROR, "System error")
