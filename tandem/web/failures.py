"""The last line of error handling: an exception no handler took becomes 611 System error.

Starlette's own server-error middleware re-raises after answering, and uvicorn then drops the
connection although the answer promised keep-alive, so the client's next call on it fails. Here
the exception is logged and answered in the envelope, and the connection stays usable. Only when
the answer had already started is the exception passed on (the connection must close then).
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tandem.web.envelope import Codes, failure

log = logging.getLogger("tandem.web")


class SystemErrorMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unexpected error serving %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await failure(Codes.SYSTEM_ERROR, "System error")(scope, receive, send)
