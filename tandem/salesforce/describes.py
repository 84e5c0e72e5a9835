"""Conditional describes: every synced object's describe in one composite call, `If-Modified-Since`
the copy already held, so an unchanged schema costs one call and no body (and counts of rows asked
in the same call cost nothing more)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from tandem.errors import TransientError
from tandem.salesforce.composite import SubRequest, composite, describe_path, query_path

if TYPE_CHECKING:
    from tandem.salesforce.client import SalesforceClient


@dataclass(frozen=True)
class Described:
    body: Mapping[str, Any] | None
    """The describe, or None when it has not changed since the copy held (HTTP 304)."""
    last_modified: str | None
    """What to send as `If-Modified-Since` next time."""


def describe_changed(client: SalesforceClient, held: Mapping[str, str | None], *,
                     counting: Mapping[str, str] | None = None) -> tuple[dict[str, Described], dict[str, int]]:
    """Describe each object (name → the `Last-Modified` of the copy held, or None for none).

    `counting` are `SELECT COUNT()` queries (deleted rows included) asked in the same call, by a
    name of their own; their counts come back beside the describes (a count that failed is left out)."""
    counts = {f"count_{name}": soql for name, soql in (counting or {}).items()}
    answers = composite(client, [
        *(SubRequest(name, describe_path(name), headers={"If-Modified-Since": since} if since else {})
          for name, since in held.items()),
        *(SubRequest(key, query_path(soql, include_deleted=True)) for key, soql in counts.items()),
    ])
    now = client.server_time
    stamp = format_datetime(now, usegmt=True) if now is not None else None
    found = {}
    for name, since in held.items():
        answer = answers.get(name)
        if answer is None:
            raise TransientError(f"the describe of {name} did not come back")
        if answer.status == 304:
            found[name] = Described(None, since)
        elif answer.ok:
            found[name] = Described(answer.body, _header(answer.headers, "Last-Modified") or stamp)
        else:
            raise answer.error()
    counted = {key.removeprefix("count_"): answer.body.get("totalSize") for key in counts
               if (answer := answers.get(key)) is not None and answer.ok and isinstance(answer.body, Mapping)}
    return found, {name: total for name, total in counted.items() if isinstance(total, int)}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)
