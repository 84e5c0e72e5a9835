"""Sync errors as a person can act on them: who (id and email), what was refused, and whether it is fixed.

An error on a person is resolved once none of its changes waits refused any more (the fix was
delivered, or the change was replaced); an error of the whole cycle once a later cycle ran without
failing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tandem.people.models import ErrorLevel, PendingState, StepStatus
from tandem.people.store import PersonStore


def annotate(store: PersonStore, errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The errors (as `tandem status --json` shows them) with `email` and `resolved` added."""
    people = {e["personId"] for e in errors if e["personId"]}
    emails = {p.id: p.as_json().get("email") for p in store.persons.get_many(sorted(people))}
    refused: dict[int, list[str]] = {}
    for change in store.outbox.find(person_ids=sorted(people), states=[PendingState.FAILED]) if people else ():
        refused.setdefault(change.person_id, []).append(change.field)
    good_cycle = _last_good_cycle(store)
    for error in errors:
        error["email"] = emails.get(error["personId"])
        if error["personId"]:
            error["resolved"] = error["personId"] not in refused
            error["refusedFields"] = refused.get(error["personId"], [])
        else:
            error["resolved"] = good_cycle is not None and good_cycle > datetime.fromisoformat(error["occurredAt"])
    return errors


def _last_good_cycle(store: PersonStore) -> datetime | None:
    cycles: dict[str, list] = {}
    for step in store.steps.recent(limit=200):
        cycles.setdefault(step.cycle_id or "", []).append(step)
    good = [min(s.started_at for s in steps) for steps in cycles.values()
            if all(s.status is not StepStatus.FAILED for s in steps)]
    return max(good) if good else None


def who(error: dict[str, Any]) -> str:
    if error["personId"] is None:
        return error["object"] if error.get("object") not in (None, "All") else "the cycle"
    fields = f" ({', '.join(error['refusedFields'])})" if error.get("refusedFields") else ""
    return f"person {error['personId']}" + (f" <{error['email']}>" if error.get("email") else "") + fields


def code(error: dict[str, Any]) -> str:
    """Salesforce's error code (`FIELD_CUSTOM_VALIDATION_EXCEPTION`, `invalid_grant`), never a class name."""
    value = error.get("errorCode") or ""
    return "" if not value or ("_" not in value and not value.isupper()) else f"{value}: "


def line(error: dict[str, Any]) -> str:
    mark = " [resolved]" if error.get("resolved") else ""
    return f"{error['occurredAt'][:16].replace('T', ' ')} {who(error)}: {code(error)}{error['message']}{mark}"


def refusals_since(store: PersonStore, since: datetime) -> list[str]:
    """One line per record Salesforce refused since `since` (a cycle's start), naming the person."""
    found = store.sync_errors.recent(since=since, level=ErrorLevel.RECORD, limit=20)
    errors = [{"occurredAt": e.occurred_at.isoformat(), "personId": e.person_id, "object": e.object,
               "errorCode": e.error_code, "message": e.message} for e in found]
    return [f"{who(e)}: {code(e)}{e['message']}" for e in annotate(store, errors)]
