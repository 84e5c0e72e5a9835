"""`/health` and `/ready` for load balancers and orchestrators: plain JSON, never Marketo's envelope.

`/health` is liveness: 200 while the process serves. `/ready` is 200 when the database answers and
the sync is keeping up: the last cycle did not fail and one started within three intervals (or,
while the org is quiet, within two intervals of the longer rest `tandem run` takes then). Before
any cycle has run it is ready (nothing has failed yet); otherwise 503 with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from tandem.people.database import outage_reason
from tandem.people.models import StepStatus
from tandem.people.store import PersonStore
from tandem.sync.sync_state import RECENT_STEPS, expected_rest, failed_on, lane_spent

router = APIRouter(include_in_schema=False)
STALE_INTERVALS = 3


@router.get("/health")
async def health() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    state = request.app.state
    policy = getattr(state, "policy", None)
    body = await run_in_threadpool(readiness, state.store, state.sync_interval_seconds, state.now,
                                   policy.idle_interval_max_seconds if policy is not None else None)
    return JSONResponse(body, status_code=200 if body["ready"] else 503)


def readiness(store: PersonStore, interval_seconds: float, now: Callable[[], datetime] = lambda: datetime.now(UTC),
              idle_interval_max_seconds: float | None = None) -> dict[str, Any]:
    """Whether the service may take traffic, and why not. `idle_interval_max_seconds`: the longest
    rest `tandem run` takes while the org is quiet (8 intervals when not given, the policy's default)."""
    try:
        steps = store.steps.recent(limit=RECENT_STEPS)
    except Exception as error:  # any failure to read is "the database does not answer"
        said = outage_reason(error) if isinstance(error, DBAPIError) else type(error).__name__  # never a URL
        return {"ready": False, "reason": f"the database does not answer: {said}"}
    if not steps:
        return {"ready": True, "reason": "no sync cycle has run yet"}
    cycle_id = steps[0].cycle_id
    last = [s for s in steps if s.cycle_id == cycle_id]
    started = min(s.started_at for s in last)
    failed = [s for s in last if s.status is StepStatus.FAILED]
    if failed:
        step = failed[0]
        return {"ready": False, "reason": f"the last sync cycle failed: {failed_on(store, step)}: "
                                          f"{step.message or 'no message'}", "lastCycleStartedAt": started.isoformat()}
    rest = expected_rest(steps, interval_seconds, idle_interval_max_seconds)
    if now() - started > timedelta(seconds=rest + interval_seconds * (STALE_INTERVALS - 1)):
        pause = store.sync_pause.current()
        if pause is not None:  # `tandem run` starts no cycle while it stands: not stopped, held back
            return {"ready": False, "reason": f"the sync is paused: {pause.said()}",
                    "lastCycleStartedAt": started.isoformat()}
        spent = lane_spent(last, now())
        if spent is not None:  # `tandem run` starts no cycle until the lane opens: not stopped, held back
            return {"ready": False, "reason": f"the sync waits for the API budget: {spent}",
                    "lastCycleStartedAt": started.isoformat()}
        return {"ready": False, "reason": f"no sync cycle has started for {STALE_INTERVALS} intervals "
                                          f"(the last at {started.isoformat()})", "lastCycleStartedAt": started.isoformat()}
    return {"ready": True, "reason": "the database answers and the sync keeps up",
            "lastCycleStartedAt": started.isoformat()}
