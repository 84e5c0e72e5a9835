"""Fault-injection settings: the `faults` section of an org file and the body of `/_emulator/faults`.

Each rate is a probability per request (0.0 to 1.0); draws come from a seeded generator so a run
with the same seed and the same requests sees the same faults.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class FaultSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    seed: int = 0
    http503: float = Field(0.0, ge=0.0, le=1.0, description="answer 503 SERVER_UNAVAILABLE")
    http500: float = Field(0.0, ge=0.0, le=1.0, description="answer 500 UNKNOWN_EXCEPTION")
    slow: float = Field(0.0, ge=0.0, le=1.0, description="delay the answer by slowSeconds")
    slowSeconds: float = Field(2.0, ge=0.0, le=120.0)
    drop: float = Field(0.0, ge=0.0, le=1.0, description="close the connection without answering")
    unableToLockRow: float = Field(0.0, ge=0.0, le=1.0, description="fail a write with UNABLE_TO_LOCK_ROW")
    sessionExpiry: float = Field(0.0, ge=0.0, le=1.0, description="expire the caller's session")

    @property
    def any_active(self) -> bool:
        return any((self.http503, self.http500, self.slow, self.drop, self.unableToLockRow, self.sessionExpiry))
