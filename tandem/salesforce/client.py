"""The Salesforce client: the only code in Tandem that speaks to Salesforce.

Built on simple-salesforce, handed a `PinnedSession` so the configured CA wins. It logs in with
OAuth, logs in again once when the session expires, maps error answers to `tandem.errors`, and
keeps the org's API usage from the `Sforce-Limit-Info` header of the last answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import requests
import simple_salesforce
from pydantic import SecretStr
from simple_salesforce.exceptions import SalesforceError as LibraryError

from tandem.errors import SessionExpired, TransientError
from tandem.salesforce.auth import Credentials, Token, login
from tandem.salesforce.errors import error_for
from tandem.salesforce.http import PinnedSession

T = TypeVar("T")


class SalesforceClient:
    def __init__(self, credentials: Credentials, session: requests.Session, api_version: str = "62.0") -> None:
        self.credentials = credentials
        self.session = session
        self.api_version = api_version
        self.calls = 0
        self._token: Token | None = None
        self._sf: simple_salesforce.Salesforce | None = None

    @classmethod
    def from_settings(cls, settings: Any, *, login_url: str | None = None, ca_bundle: Any = None) -> SalesforceClient:
        """A client for the org the settings name (or `login_url`, e.g. the bundled emulator)."""
        password = settings.sf_password
        if password is not None and settings.sf_security_token is not None:
            password = SecretStr(password.get_secret_value() + settings.sf_security_token.get_secret_value())
        credentials = Credentials(
            login_url=login_url or settings.sf_login_url,
            client_id=settings.sf_client_id,
            client_secret=settings.sf_client_secret,
            username=settings.sf_username,
            password=password,
        )
        session = PinnedSession(ca_bundle or settings.sf_ca_bundle)
        return cls(credentials, session, settings.sf_api_version)

    @property
    def instance_url(self) -> str:
        self._connection()
        assert self._token is not None
        return self._token.instance_url

    @property
    def api_usage(self) -> tuple[int, int] | None:
        """(used, limit) from the last answer's Sforce-Limit-Info header, if any."""
        usage = self._sf.api_usage.get("api-usage") if self._sf else None
        return (usage.used, usage.total) if usage else None

    def _connection(self) -> simple_salesforce.Salesforce:
        if self._sf is None:
            self.calls += 1
            self._token = login(self.session, self.credentials)
            self._sf = simple_salesforce.Salesforce(
                instance_url=self._token.instance_url,
                session_id=self._token.access_token.get_secret_value(),
                session=self.session,
                version=self.api_version,
            )
        return self._sf

    def _call(self, operation: Callable[[simple_salesforce.Salesforce], T]) -> T:
        """Run one API call; log in again once if the session has expired."""
        for attempt in (1, 2):
            sf = self._connection()
            self.calls += 1
            try:
                return operation(sf)
            except LibraryError as exc:
                error = error_for(exc.status, exc.content)
                if isinstance(error, SessionExpired) and attempt == 1:
                    self._sf = None
                    continue
                raise error from None
            except requests.RequestException as exc:
                raise TransientError(f"{type(exc).__name__} talking to Salesforce") from None
        raise AssertionError("unreachable")

    def describe(self, object_name: str) -> dict[str, Any]:
        return self._call(lambda sf: getattr(sf, object_name).describe())

    def query(self, soql: str, *, include_deleted: bool = False) -> Iterator[dict[str, Any]]:
        """Every row of a SOQL query, page by page (`queryAll` when deletes are wanted)."""
        page = self._call(lambda sf: sf.query(soql, include_deleted=include_deleted))
        while True:
            for row in page["records"]:
                yield row
            if page.get("done", True) or not page.get("nextRecordsUrl"):
                return
            locator = page["nextRecordsUrl"]
            page = self._call(lambda sf: sf.query_more(locator, identifier_is_url=True, include_deleted=include_deleted))

    def retrieve(self, object_name: str, record_id: str) -> dict[str, Any]:
        return self._call(lambda sf: getattr(sf, object_name).get(record_id))

    def create(self, object_name: str, fields: dict[str, Any]) -> str:
        result = self._call(lambda sf: getattr(sf, object_name).create(fields))
        return result["id"]

    def update(self, object_name: str, record_id: str, fields: dict[str, Any]) -> None:
        self._call(lambda sf: getattr(sf, object_name).update(record_id, fields))

    def limits(self) -> dict[str, Any]:
        return self._call(lambda sf: sf.limits())
