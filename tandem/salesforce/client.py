"""The Salesforce client: the only code in Tandem that speaks to Salesforce.

Built on simple-salesforce, handed a `PinnedSession` so the configured CA wins. It logs in with
OAuth, logs in again once when the session expires, retries transient faults with backoff, maps
error answers to `tandem.errors`, counts its API calls and keeps the org's usage from the
`Sforce-Limit-Info` header of the last answer.

A refused login is never retried by itself: Salesforce locks a user after ten failed logins, so the
client answers every call with the same refusal, without asking again, until `REFUSED_LOGIN_PAUSE`
has passed (then it tries once). An unreachable login URL or an untrusted certificate is not retried
within the call either: nothing a second try a moment later could change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import requests
import simple_salesforce
import tenacity
from pydantic import SecretStr
from simple_salesforce.exceptions import SalesforceError as LibraryError

from tandem.errors import (
    AuthenticationFailed,
    InvalidInput,
    SalesforceError,
    SessionExpired,
    TransientError,
    Unreachable,
    UnservedApiVersion,
)
from tandem.salesforce.auth import Credentials, Token, login
from tandem.salesforce.errors import error_for
from tandem.salesforce.http import PinnedSession
from tandem.salesforce.results import ConvertedLead, RecordError, RecordResult
from tandem.salesforce.soap import (
    MERGE_LIMIT,
    LeadConvert,
    MergedRecords,
    convert_lead_envelope,
    merge_envelope,
    parse_convert_results,
    parse_fault,
    parse_merge_result,
)

T = TypeVar("T")
log = logging.getLogger("tandem.salesforce")
COLLECTION_LIMIT = 200
KEEP_OWNER = {"Sforce-Auto-Assign": "FALSE"}
"""Updates send this: without it Salesforce runs the active assignment rule on updated Leads."""
REFUSED_LOGIN_PAUSE = timedelta(hours=1)


def _retryable(error: BaseException) -> bool:
    return isinstance(error, TransientError) and not isinstance(error, Unreachable)


class SalesforceClient:
    def __init__(
        self,
        credentials: Credentials,
        session: requests.Session,
        api_version: str = "62.0",
        *,
        max_attempts: int = 5,
        backoff_seconds: float = 0.5,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.credentials = credentials
        self.session = session
        self.api_version = api_version
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.calls = 0
        """API calls made, as the org counts them (logins are not API calls)."""
        self.logins = 0
        """Login attempts that reached the login URL (refused ones included)."""
        self.clock = clock
        self.refused: tuple[datetime, AuthenticationFailed] | None = None
        """The last refused login and when, while it stands: no login is tried until the pause is over."""
        self._token: Token | None = None
        self._sf: simple_salesforce.Salesforce | None = None
        self._served_versions: list[str] | None = None
        """The API versions the org serves, once a resource was not found (empty: unknown)."""

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

    # --- connection -------------------------------------------------------------------------

    @property
    def instance_url(self) -> str:
        self._connection()
        assert self._token is not None
        return self._token.instance_url

    @property
    def server_time(self):
        """Salesforce's clock at its last answer (from the `Date` header), if the session keeps it."""
        return getattr(self.session, "server_time", None)

    def server_now(self) -> datetime | None:
        """Salesforce's clock now as far as its answers tell (never ahead of it); logs in if no answer came yet."""
        now = getattr(self.session, "server_now", lambda: None)()
        if now is None:
            self._connection()
            now = getattr(self.session, "server_now", lambda: None)()
        return now

    @property
    def api_usage(self) -> tuple[int, int] | None:
        """(used, limit) from the last answer's Sforce-Limit-Info header, if any (any call: the
        library's, composite, Bulk, SOAP)."""
        noted = getattr(self.session, "api_usage", None)
        if noted is not None:
            return noted
        usage = self._sf.api_usage.get("api-usage") if self._sf else None
        return (usage.used, usage.total) if usage else None

    def remember_refusal(self, at: datetime, error: AuthenticationFailed) -> None:
        """A login with these credentials was refused at `at` (by this or another process)."""
        if self.refused is None or at > self.refused[0]:
            self.refused = (at, error)

    def _login(self) -> Token:
        if self.refused is not None:
            at, error = self.refused
            if self.clock() - at < REFUSED_LOGIN_PAUSE:
                raise error
        log.info("logging in to %s (%s flow)", self.credentials.login_url, self.credentials.grant_type)
        try:
            token = login(self.session, self.credentials)
        except AuthenticationFailed as error:  # a login is no API call: the org's daily count leaves it out
            self.logins += 1
            self.refused = (self.clock(), error)
            raise
        self.logins += 1
        self.refused = None
        log.info("logged in; instance %s", token.instance_url)
        return token

    def _connection(self) -> simple_salesforce.Salesforce:
        if self._sf is None:
            self._token = self._login()
            self._sf = simple_salesforce.Salesforce(
                instance_url=self._token.instance_url,
                session_id=self._token.access_token.get_secret_value(),
                session=self.session,
                version=self.api_version,
                # answers decoded into plain dicts by the C decoder (the library's default builds an
                # OrderedDict per object in Python: twice the time for a 2,000-row query page)
                object_pairs_hook=None,
            )
        return self._sf

    def _call_once(self, operation: Callable[[simple_salesforce.Salesforce], T]) -> T:
        """One API call; log in again once if the session has expired."""
        for attempt in (1, 2):
            sf = self._connection()
            self.calls += 1
            log.debug("Salesforce API call %d", self.calls)
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

    def _call(self, operation: Callable[[simple_salesforce.Salesforce], T]) -> T:
        """An API call retried with exponential backoff while the failure is transient."""
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(_retryable),
            wait=tenacity.wait_exponential(multiplier=self.backoff_seconds, max=30),
            stop=tenacity.stop_after_attempt(self.max_attempts),
            reraise=True,
            before_sleep=lambda state: log.warning("Salesforce call failed (%s); try %d of %d next",
                                                   state.outcome.exception() if state.outcome else "?",
                                                   state.attempt_number + 1, self.max_attempts),
        )
        try:
            return retrying(self._call_once, operation)
        except SalesforceError as error:
            raise self._explained(error) from None

    def _explained(self, error: SalesforceError) -> SalesforceError:
        """A resource not found because the org does not serve the configured API version (every
        path names it) is that error, with what to set; the versions are asked once, on the first
        such answer."""
        if error.status != 404 or error.hint:
            return error
        if self._served_versions is None:
            self._served_versions = []  # asked once, even if the asking fails
            try:
                self._served_versions = self.api_versions()
            except SalesforceError:
                pass
        unserved = version_unserved(self.api_version, self._served_versions)
        if unserved is None:
            return error
        said, fix = unserved
        return UnservedApiVersion(said, status=error.status, error_code=error.error_code, hint=fix)

    # --- reads --------------------------------------------------------------------------------

    def describe(self, object_name: str) -> dict[str, Any]:
        return self._call(lambda sf: getattr(sf, object_name).describe())

    def query(self, soql: str, *, include_deleted: bool = False,
              first_page: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every row of a SOQL query, page by page (`queryAll` when deletes are wanted)."""
        for page in self.query_pages(soql, include_deleted=include_deleted, first_page=first_page):
            yield from page

    def query_page(self, soql: str, *, include_deleted: bool = False) -> dict[str, Any]:
        """The first page of a query as Salesforce answers it (`totalSize`, `records`, `nextRecordsUrl`)."""
        return self._call(lambda sf: sf.query(soql, include_deleted=include_deleted))

    def query_pages(self, soql: str, *, include_deleted: bool = False,
                    first_page: Mapping[str, Any] | None = None) -> Iterator[list[dict[str, Any]]]:
        """A query's rows, one answer (up to 2,000 rows) at a time; `first_page` is its first answer
        when that was already read (in a composite call)."""
        page = first_page if first_page is not None else self.query_page(soql, include_deleted=include_deleted)
        while True:
            if page["records"]:
                yield page["records"]
            if page.get("done", True) or not page.get("nextRecordsUrl"):
                return
            locator = page["nextRecordsUrl"]
            page = self._call(
                lambda sf: sf.query_more(locator, identifier_is_url=True, include_deleted=include_deleted)
            )

    def request(self, method: str, path: str, *, json: Any = None, data: bytes | None = None,
                headers: Mapping[str, str] | None = None, params: Mapping[str, Any] | None = None,
                not_modified_ok: bool = False, stream: bool = False) -> requests.Response:
        """One data-API call (`path` under `/services/data/vNN.N/`), retried like every other.

        An error answer raises its typed error; with `not_modified_ok`, a 304 comes back as it is.
        With `stream`, a successful answer's body is left to be read (and the answer closed) by the caller."""

        def send(sf: simple_salesforce.Salesforce) -> requests.Response:
            url = f"{self.instance_url}/services/data/v{self.api_version}/{path.lstrip('/')}"
            response = self.session.request(
                method, url, json=json, data=data, params=params, stream=stream,
                headers={"Authorization": f"Bearer {sf.session_id}", "Accept": "application/json",
                         **(headers or {})},
            )
            if response.status_code == 304 and not_modified_ok:
                return response
            if response.status_code >= 300:
                raise LibraryError(url, response.status_code, path, response.content)
            return response

        return self._call(send)

    def count(self, soql: str, *, include_deleted: bool = False) -> int:
        """The row count of a `SELECT COUNT() ...` query."""
        return int(self._call(lambda sf: sf.query(soql, include_deleted=include_deleted))["totalSize"])

    def retrieve(self, object_name: str, record_id: str) -> dict[str, Any]:
        return self._call(lambda sf: getattr(sf, object_name).get(record_id))

    def limits(self) -> dict[str, Any]:
        return self._call(lambda sf: sf.limits())

    def identity(self) -> dict[str, Any]:
        """Who the session is: the OAuth identity of the logged-in user (username, names, org id)."""
        self._connection()
        assert self._token is not None
        url = self._token.identity_url or f"{self._token.instance_url}/services/oauth2/userinfo"

        def fetch(sf: simple_salesforce.Salesforce) -> dict[str, Any]:
            response = self.session.get(url, headers={"Authorization": f"Bearer {sf.session_id}"})
            if response.status_code >= 300:
                raise error_for(response.status_code, response.content)
            return response.json()

        return self._call(fetch)

    def api_versions(self) -> list[str]:
        """The API versions the org serves (`/services/data/`), oldest first. The resource needs no
        session and the org does not count it as an API call, so neither does `calls`."""
        url = f"{self.instance_url}/services/data/"
        try:
            response = self.session.get(url)
        except requests.RequestException as exc:
            raise TransientError(f"{type(exc).__name__} talking to Salesforce") from None
        if response.status_code >= 300:
            raise error_for(response.status_code, response.content)
        return [str(entry.get("version")) for entry in response.json()]

    def tooling_query(self, soql: str) -> list[dict[str, Any]]:
        """Every row of a Tooling API query (setup metadata such as FieldDefinition)."""
        page = self._call(lambda sf: sf.restful("tooling/query/", params={"q": soql}))
        rows = list(page.get("records", []))
        while not page.get("done", True) and page.get("nextRecordsUrl"):
            locator = page["nextRecordsUrl"]
            page = self._call(lambda sf: sf.query_more(locator, identifier_is_url=True))
            rows.extend(page.get("records", []))
        return rows

    # --- single-record writes -------------------------------------------------------------------

    def create(self, object_name: str, fields: dict[str, Any]) -> str:
        return self._call(lambda sf: getattr(sf, object_name).create(fields))["id"]

    def update(self, object_name: str, record_id: str, fields: dict[str, Any]) -> None:
        """One record's fields; its owner stays (no assignment rule runs, see `update_records`)."""
        self._call(lambda sf: getattr(sf, object_name).update(record_id, fields, headers=dict(KEEP_OWNER)))

    def delete(self, object_name: str, record_id: str) -> None:
        """Move one record to the recycle bin (Salesforce keeps it there about 15 days)."""
        self._call(lambda sf: getattr(sf, object_name).delete(record_id))

    # --- sObject Collections --------------------------------------------------------------------

    def create_records(self, object_name: str, records: Sequence[dict[str, Any]], *,
                       auto_assign: bool | None = None) -> list[RecordResult]:
        body = [{"attributes": {"type": object_name}, **r} for r in records]
        return self._collection("POST", "composite/sobjects", body, auto_assign)

    def update_records(self, object_name: str, records: Sequence[dict[str, Any]]) -> list[RecordResult]:
        """Each record carries its `Id`; results come back in request order.

        Sent with `Sforce-Auto-Assign: FALSE`: without it Salesforce runs the active assignment rule
        on every updated Lead (or Case, Account) and may hand it to another owner."""
        for index, record in enumerate(records):
            if not record.get("Id"):
                raise InvalidInput(f"records[{index}].Id", "an update needs the record's Id")
        body = [{"attributes": {"type": object_name}, **r} for r in records]
        return self._collection("PATCH", "composite/sobjects", body, auto_assign=False)

    def upsert_records(
        self, object_name: str, external_field: str, records: Sequence[dict[str, Any]], *,
        auto_assign: bool | None = None,
    ) -> list[RecordResult]:
        """Create-or-update by an external-id field, safe to repeat after a lost answer.

        `auto_assign` sets `Sforce-Auto-Assign`: True runs the org's assignment rules on create,
        False keeps the OwnerId given (or the caller), None leaves the org's default.
        """
        for index, record in enumerate(records):
            if record.get(external_field) in (None, ""):
                raise InvalidInput(f"records[{index}].{external_field}", "an upsert needs the external id")
        body = [{"attributes": {"type": object_name}, **r} for r in records]
        return self._collection("PATCH", f"composite/sobjects/{object_name}/{external_field}", body, auto_assign)

    def _collection(self, method: str, path: str, records: list[dict[str, Any]],
                    auto_assign: bool | None = None) -> list[RecordResult]:
        """Send up to 200 records with allOrNone=false; records refused with a lock error are resent."""
        if len(records) > COLLECTION_LIMIT:
            raise InvalidInput("records", f"at most {COLLECTION_LIMIT} records per call, got {len(records)}")
        headers = {} if auto_assign is None else {"Sforce-Auto-Assign": "TRUE" if auto_assign else "FALSE"}
        results: list[RecordResult | None] = [None] * len(records)
        pending = list(range(len(records)))
        for round_number in range(self.max_attempts):
            batch = [records[i] for i in pending]
            answer = self._call(
                lambda sf: sf.restful(path, method=method, json={"allOrNone": False, "records": batch},
                                      headers=headers)
            )
            retry_next: list[int] = []
            for index, raw in zip(pending, answer, strict=True):
                result = RecordResult.from_wire(raw)
                results[index] = result
                if result.retryable and round_number + 1 < self.max_attempts:
                    retry_next.append(index)
            if not retry_next:
                break
            pending = retry_next
            tenacity.nap.sleep(self.backoff_seconds * (2**round_number))
        return [r for r in results if r is not None]

    # --- SOAP -----------------------------------------------------------------------------------

    def convert_leads(self, converts: Sequence[LeadConvert]) -> list[ConvertedLead | tuple[str | None, list[RecordError]]]:
        """SOAP convertLead; one outcome per lead, a failed one as (lead_id, errors)."""
        return parse_convert_results(self._soap("convertLead", lambda session: convert_lead_envelope(session, list(converts))))

    def merge_records(self, object_name: str, master_id: str, loser_ids: Sequence[str]) -> MergedRecords | list[RecordError]:
        """SOAP merge of up to two records into `master_id`, which keeps its Id and its values."""
        if not 0 < len(loser_ids) <= MERGE_LIMIT:
            raise InvalidInput("loser_ids", f"a merge takes 1 to {MERGE_LIMIT} records besides the master")
        return parse_merge_result(self._soap(
            "merge", lambda session: merge_envelope(session, object_name, master_id, list(loser_ids))))

    def _soap(self, operation: str, envelope_for: Callable[[str], str]) -> bytes:
        """POST one partner SOAP call; faults become the errors their REST twins would raise."""

        def send(sf: simple_salesforce.Salesforce) -> bytes:
            url = f"{self.instance_url}/services/Soap/u/{self.api_version}"
            response = self.session.post(
                url,
                data=envelope_for(sf.session_id).encode("utf-8"),
                headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'},
            )
            if response.status_code >= 500 and (fault := parse_fault(response.content)) is not None:
                # SOAP answers every fault with HTTP 500; give it the status its REST twin would have.
                status = {"INVALID_SESSION_ID": 401, "SERVER_UNAVAILABLE": 503}.get(fault.code, 400)
                raise LibraryError(url, status, operation, [{"errorCode": fault.code, "message": fault.message}])
            if response.status_code >= 300:
                raise error_for(response.status_code, response.content)
            return response.content

        return self._call(send)


def version_unserved(api_version: str, served: Sequence[str]) -> tuple[str, str] | None:
    """What is wrong and what to set when the org serves other API versions than `api_version`
    (None when it serves it, or when what it serves is unknown)."""
    if not served or api_version in served:
        return None
    return (f"the org does not serve API version {api_version} (it serves {served[0]} to {served[-1]})",
            f"set TANDEM_SF_API_VERSION to one of them, such as {served[-1]}")
