"""API-call accounting over a rolling 24 hours, and the /limits body built from it."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from tandem.emulator.model.errors import LimitExceeded

DAY_MS = 24 * 60 * 60 * 1000
DEFAULT_LIMITS = {
    "DailyApiRequests": 15000,
    "DailyBulkApiBatches": 15000,
    "DailyBulkV2QueryJobs": 10000,
    "DailyBulkV2QueryFileStorageMB": 976562,
    "DataStorageMB": 5,
    "FileStorageMB": 20,
    "DailyAsyncApexExecutions": 250000,
    "DailyDurableStreamingApiEvents": 10000,
    "HourlyPublishedPlatformEvents": 50000,
    "MonthlyPlatformEventsUsageEntitlement": 0,
    "SingleEmail": 15,
    "MassEmail": 10,
    "ConcurrentAsyncGetReportInstances": 200,
}


class ApiCallCounter:
    """Counts calls in the last 24 hours; past the daily limit a call is refused before it runs."""

    def __init__(self, limit: int, now_ms: Callable[[], int], refusal: str = "TotalRequests Limit exceeded.") -> None:
        self.limit = limit
        self.now_ms = now_ms
        self.refusal = refusal
        self._calls: deque[int] = deque()

    def _expire(self, now: int) -> None:
        horizon = now - DAY_MS
        calls = self._calls
        while calls and calls[0] <= horizon:
            calls.popleft()

    def count(self) -> None:
        now = self.now_ms()
        self._expire(now)
        if len(self._calls) >= self.limit:
            raise LimitExceeded(self.refusal)
        self._calls.append(now)

    def used(self) -> int:
        self._expire(self.now_ms())
        return len(self._calls)

    def reset(self) -> None:
        self._calls.clear()


def limits_body(configured: dict[str, int], api_used: int, bulk_query_jobs: int, storage_mb: int, *,
                bulk_batches: int = 0) -> dict:
    """`{"Name": {"Max", "Remaining"}}` for every limit, with the ones the org tracks counted down."""
    maxima = {**DEFAULT_LIMITS, **configured}
    used = {"DailyApiRequests": api_used, "DailyBulkV2QueryJobs": bulk_query_jobs, "DataStorageMB": storage_mb,
            "DailyBulkApiBatches": bulk_batches}
    return {name: {"Max": top, "Remaining": max(top - used.get(name, 0), 0)} for name, top in maxima.items()}
