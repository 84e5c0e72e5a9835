"""Fault-injection settings: the `faults` section of an org file and the body of `/_emulator/faults`.

Each rate is a probability per request (per record for the `record*` kinds), 0.0 to 1.0; draws
come from a seeded generator so a run with the same seed and the same requests sees the same
faults. A key left out is 0 (off); the keys of the first version keep their meaning.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


def _rate(description: str) -> float:
    return Field(0.0, ge=0.0, le=1.0, description=description)


class FaultSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    seed: int = 0
    http503: float = _rate("answer 503 SERVER_UNAVAILABLE")
    http500: float = _rate("answer 500 UNKNOWN_EXCEPTION")
    slow: float = _rate("delay the answer by slowSeconds")
    slowSeconds: float = Field(2.0, ge=0.0, le=120.0)
    drop: float = _rate("close the connection without answering")
    unableToLockRow: float = _rate("fail a write with UNABLE_TO_LOCK_ROW")
    sessionExpiry: float = _rate("expire the caller's session")

    requestLimitExceeded: float = _rate("refuse an API call with 403 REQUEST_LIMIT_EXCEEDED (daily limit)")
    concurrentRequestLimit: int = Field(0, ge=0, description="long-running API calls allowed in flight; 0 = no limit")
    longRunningSeconds: float = Field(20.0, ge=0.0, le=3600.0, description="when a call in flight counts as long")
    gateway502: float = _rate("answer 502 with a proxy's HTML page instead of calling the org")
    gateway504: float = _rate("answer 504 with a proxy's HTML page instead of calling the org")

    queryTimeout: float = _rate("fail a query (first page) with QUERY_TIMEOUT")
    invalidQueryLocator: float = _rate("forget a query's cursor when its next page is asked for")
    queryOutage: float = _rate("fail every kind of query call (writes pass) as queryOutageAs says")
    queryOutageAs: Literal["http503", "QUERY_TIMEOUT"] = "http503"

    loginAuthFailure: float = _rate("refuse a token request: invalid_grant / authentication failure")
    loginRateExceeded: float = _rate("refuse a token request: invalid_grant / login rate exceeded")

    dropAfterCommit: float = _rate("run a write to the end, then close the connection without its answer")
    http502AfterCommit: float = _rate("run a write to the end, then answer a proxy's 502 page instead")

    recordUnableToLockRow: float = _rate("fail one record of a collection call with UNABLE_TO_LOCK_ROW")
    recordEntityIsLocked: float = _rate("fail one record of a collection update/upsert/delete: ENTITY_IS_LOCKED")
    recordDuplicatesDetected: float = _rate("fail one record of a collection save: DUPLICATES_DETECTED")
    recordTriggerRefusal: float = _rate("fail one record of a collection call: CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY")

    lateCommit: float = _rate("stamp a write's records up to lateCommitSeconds in the past")
    lateCommitSeconds: float = Field(30.0, gt=0.0, le=3600.0)

    @property
    def any_active(self) -> bool:
        """Whether any rate is above zero (the concurrency limit is checked apart)."""
        return any(getattr(self, name) for name in RATE_KEYS)


RATE_KEYS = (
    "http503", "http500", "slow", "drop", "unableToLockRow", "sessionExpiry",
    "requestLimitExceeded", "gateway502", "gateway504", "queryTimeout", "invalidQueryLocator", "queryOutage",
    "loginAuthFailure", "loginRateExceeded", "dropAfterCommit", "http502AfterCommit",
    "recordUnableToLockRow", "recordEntityIsLocked", "recordDuplicatesDetected", "recordTriggerRefusal",
    "lateCommit",
)
"""Every setting that is a rate."""
FAULT_KINDS = (*RATE_KEYS, "concurrentRequestLimit")
"""What `/_emulator/faults` counts: one entry per rate, plus refusals by the concurrency limit."""
