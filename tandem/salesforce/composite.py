"""`/composite`: up to 25 independent subrequests in one API call (at most 5 of them queries), each
answered on its own.

Sent with `allOrNone` false: a subrequest that fails does not touch the others; its answer is kept
as a `SubResponse` that raises its own typed error only where it is used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from tandem.errors import InvalidInput, SalesforceError
from tandem.salesforce.errors import error_for

if TYPE_CHECKING:
    from tandem.salesforce.client import SalesforceClient

MAX_SUBREQUESTS = 25
MAX_QUERIES = 5
"""Of a composite call's subrequests, how many Salesforce takes that are queries (or sObject Collections)."""


@dataclass(frozen=True)
class SubRequest:
    """One GET (or other) subrequest; `path` is under `/services/data/vNN.N/`."""

    reference: str
    path: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass(frozen=True)
class SubResponse:
    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status < 300 or self.status == 304

    def error(self) -> SalesforceError:
        """The typed error this answer stands for (transient when Salesforce was busy)."""
        return error_for(self.status, self.body)


def query_path(soql: str, *, include_deleted: bool = False) -> str:
    return f"{'queryAll' if include_deleted else 'query'}/?q={quote(soql, safe='')}"


def describe_path(object_name: str) -> str:
    return f"sobjects/{object_name}/describe"


def composite(client: SalesforceClient, subrequests: Sequence[SubRequest]) -> dict[str, SubResponse]:
    """Send the subrequests in one call; each reference → its answer."""
    if not subrequests:
        return {}
    if len(subrequests) > MAX_SUBREQUESTS:
        raise InvalidInput("subrequests", f"at most {MAX_SUBREQUESTS} per composite call, got {len(subrequests)}")
    queries = sum(1 for s in subrequests if s.path.startswith(("query", "composite/sobjects")))
    if queries > MAX_QUERIES:
        raise InvalidInput("subrequests", f"at most {MAX_QUERIES} queries per composite call, got {queries}")
    prefix = f"/services/data/v{client.api_version}/"
    body = {"allOrNone": False, "compositeRequest": [
        {"method": s.method, "url": prefix + s.path, "referenceId": s.reference,
         **({"httpHeaders": dict(s.headers)} if s.headers else {}),
         **({"body": s.body} if s.body is not None else {})}
        for s in subrequests
    ]}
    answer = client.request("POST", "composite", json=body).json()
    found = {}
    for entry in answer.get("compositeResponse", []):
        headers = {str(k): str(v) for k, v in (entry.get("httpHeaders") or {}).items()}
        found[entry["referenceId"]] = SubResponse(int(entry["httpStatusCode"]), entry.get("body"), headers)
    return found
