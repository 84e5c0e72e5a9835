"""Values crossing between Salesforce's JSON and person fields, in both directions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from tandem.people.fields import PersonField
from tandem.people.validation import coerce


def from_salesforce(field: PersonField, raw: Any) -> Any:
    """A pulled value in the person field's type; raises InvalidInput when it does not fit."""
    if isinstance(raw, str) and raw.endswith("+0000"):
        raw = raw[:-5] + "+00:00"
    return coerce(field, raw)


def to_salesforce(value: Any) -> Any:
    """A person value as Salesforce's REST API takes it."""
    if isinstance(value, datetime):
        value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    return value


def shown(value: Any) -> str | None:
    """A value as an activity attribute shows it."""
    if value is None:
        return None
    converted = to_salesforce(value)
    return converted if isinstance(converted, str) else str(converted).lower() if isinstance(converted, bool) else str(converted)
