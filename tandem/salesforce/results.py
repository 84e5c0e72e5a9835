"""Typed per-record outcomes of sObject Collections and SOAP calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NOT_PROCESSED = "NOT_PROCESSED"
"""A record a Bulk job ended without processing: not written, so it may be sent again."""
RETRYABLE_RECORD_CODES = frozenset({"UNABLE_TO_LOCK_ROW", NOT_PROCESSED})


@dataclass(frozen=True)
class RecordError:
    code: str
    message: str
    fields: tuple[str, ...] = ()

    @classmethod
    def from_wire(cls, error: dict[str, Any]) -> RecordError:
        return cls(
            code=str(error.get("statusCode") or error.get("errorCode") or "UNKNOWN_EXCEPTION"),
            message=str(error.get("message", "")),
            fields=tuple(error.get("fields") or ()),
        )


@dataclass(frozen=True)
class RecordResult:
    """What happened to one record of a batch, in request order."""

    id: str | None
    success: bool
    created: bool | None = None
    errors: tuple[RecordError, ...] = field(default=())

    @classmethod
    def from_wire(cls, result: dict[str, Any]) -> RecordResult:
        return cls(
            id=result.get("id"),
            success=bool(result.get("success")),
            created=result.get("created"),
            errors=tuple(RecordError.from_wire(e) for e in result.get("errors") or ()),
        )

    @property
    def retryable(self) -> bool:
        return not self.success and any(e.code in RETRYABLE_RECORD_CODES for e in self.errors)


@dataclass(frozen=True)
class ConvertedLead:
    lead_id: str
    account_id: str | None
    contact_id: str | None
    opportunity_id: str | None
