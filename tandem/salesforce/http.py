"""The HTTP session every Salesforce call goes through.

`requests` lets `REQUESTS_CA_BUNDLE`/`CURL_CA_BUNDLE` from the environment override a Session's
`verify` for each request. Corporate networks set those variables, so a configured CA bundle
would silently lose; `PinnedSession` keeps the session's own `verify` while still honouring the
environment's proxy settings.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import requests

USER_AGENT = "tandem-sync"


_API_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")


class PinnedSession(requests.Session):
    """A `requests.Session` whose `verify` wins over the CA-bundle variables of the environment."""

    def __init__(self, ca_bundle: Path | str | None = None, timeout: float = 60.0,
                 connect_timeout: float = 10.0) -> None:
        super().__init__()
        self.verify = str(ca_bundle) if ca_bundle else True
        self.timeout = (connect_timeout, timeout)
        """(connect, read): an unreachable org fails within the connect timeout, a slow answer may take longer."""
        self.headers["User-Agent"] = USER_AGENT
        self.server_time: datetime | None = None
        """The `Date` of the last answer: the server's clock, which record stamps are written by."""
        self._server_time_at = 0.0
        self.api_usage: tuple[int, int] | None = None
        """(used, limit) from the last answer's `Sforce-Limit-Info: api-usage=N/M`, whatever made the call."""
        self.hooks["response"].append(self._note_server_time)

    def _note_server_time(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        usage = _API_USAGE.search(response.headers.get("Sforce-Limit-Info") or "")
        if usage:
            self.api_usage = (int(usage.group(1)), int(usage.group(2)))
        date = response.headers.get("Date")
        if date:
            try:
                self.server_time = parsedate_to_datetime(date)
                self._server_time_at = time.monotonic()
            except (TypeError, ValueError):
                pass

    def server_now(self) -> datetime | None:
        """Salesforce's clock now, never ahead of it: the last `Date` (whole seconds, cut down) plus
        the time since it arrived."""
        if self.server_time is None:
            return None
        return self.server_time + timedelta(seconds=time.monotonic() - self._server_time_at)

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if verify is None or verify is True:
            settings["verify"] = self.verify
        return settings

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)
