"""Sync errors as a person can act on them: who (id and email), what was refused, and whether it is
fixed (the store's rule, `SyncHistory.resolved_ids`, the web UI's too).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tandem.people.models import ErrorLevel
from tandem.people.store import PersonStore
from tandem.sync.status import annotate_errors


def who(error: dict[str, Any]) -> str:
    if error["personId"] is None:
        return error["object"] if error.get("object") not in (None, "All") else "the cycle"
    fields = f" ({', '.join(error['refusedFields'])})" if error.get("refusedFields") else ""
    return f"person {error['personId']}" + (f" <{error['email']}>" if error.get("email") else "") + fields


def code(error: dict[str, Any]) -> str:
    """Salesforce's error code (`FIELD_CUSTOM_VALIDATION_EXCEPTION`, `invalid_grant`), never a class name."""
    value = error.get("errorCode") or ""
    if not value or ("_" not in value and not value.isupper()) or (error.get("message") or "").startswith(f"{value}:"):
        return ""  # no code, a class name, or one the message already opens with (a refused login's)
    return f"{value}: "


def line(error: dict[str, Any]) -> str:
    mark = " [resolved]" if error.get("resolved") else ""
    return f"{error['occurredAt'][:16].replace('T', ' ')} {who(error)}: {code(error)}{error['message']}{mark}"


def refusals_since(store: PersonStore, since: datetime) -> list[str]:
    """One line per record Salesforce refused since `since` (a cycle's start), naming the person."""
    found = store.sync_errors.recent(since=since, level=ErrorLevel.RECORD, limit=20)
    errors = [{"id": e.id, "occurredAt": e.occurred_at.isoformat(), "personId": e.person_id, "object": e.object,
               "errorCode": e.error_code, "message": e.message} for e in found]
    return [f"{who(e)}: {code(e)}{e['message']}" for e in annotate_errors(store, errors)]
