"""What operators start from the UI: Sync now, Pause/Resume sync, Retry and Retry all, Sync Person
to SFDC (Convert Person's is in `converting`). Each post is checked for a signed-in user (401 without one, as after
Sign out in another tab), then for its CSRF token, then for the operator role, then runs and comes
back to the page it was started from with what happened."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tandem.errors import InvalidInput, NotFound, RecordRejected, TandemError, one_line
from tandem.people.models import ErrorLevel
from tandem.web.ui import lookups
from tandem.web.ui.guard import back, operator_form, ui

router = APIRouter()


@router.post("/sync-now")
async def sync_now(request: Request) -> Response:
    user, _ = await operator_form(request, "Sync now")
    busy = ui(request).runner.start(by=user.username)
    return back(request, "/ui/", busy or "Sync now: a cycle started")


@router.post("/pause")
async def pause(request: Request) -> Response:
    user, form = await operator_form(request, "Pause sync")
    now = datetime.now(UTC)
    try:
        current = ui(request).store.sync_pause.pause(user.username, str(form.get("reason") or ""), now=now)
    except InvalidInput as error:
        return back(request, "/ui/", f"Pause sync refused: {error}")
    if not current.made_by(user.username, now):  # another pause stands: it is kept
        return back(request, "/ui/", f"The sync was already {current.said()}; that pause stands")
    return back(request, "/ui/", "Sync paused: `tandem run` starts no cycle until it is resumed")


@router.post("/resume")
async def resume(request: Request) -> Response:
    _, form = await operator_form(request, "Resume sync")
    text = str(form.get("pausedAt") or "").strip()
    try:
        seen = datetime.fromisoformat(text) if text else None
    except ValueError:
        return back(request, "/ui/", f"Resume sync refused: pausedAt: expected the time of the pause to end, "
                                     f"got {text!r}")
    pauses = ui(request).store.sync_pause
    if pauses.resume(seen):
        return back(request, "/ui/", "Sync resumed")
    current = pauses.current()
    if current is None:
        return back(request, "/ui/", "The sync was not paused")
    return back(request, "/ui/", f"The pause this page showed has ended; the sync was paused again by "
                                 f"{current.paused_by} at {current.paused_at:%Y-%m-%d %H:%M} UTC: "
                                 f"{current.reason}; that pause stands")


@router.post("/errors/{error_id}/retry")
async def retry(request: Request, error_id: int) -> Response:
    await operator_form(request, "Retry")
    listed = lookups.sync_error(ui(request).store, error_id)
    if listed is None:
        return back(request, "/ui/errors", f"Retry: no sync error {error_id} (errors are kept 5 days)")
    error = listed.error
    if error.level is ErrorLevel.JOB or error.person_id is None:
        busy = ui(request).runner.start(retry_failed=True, by=request.state.ui_user.username)
        return back(request, "/ui/errors", busy or "Retry: a cycle started that runs the failed step again")
    notice = await _sync_person(request, error.person_id, "Retry")
    return back(request, "/ui/errors", notice)


@router.post("/errors/retry-all")
async def retry_all(request: Request) -> Response:
    user, _ = await operator_form(request, "Retry all")
    busy = ui(request).runner.start(retry_failed=True, by=user.username)
    return back(request, "/ui/errors", busy or "Retry all: a cycle started that offers every refused change again")


@router.post("/persons/{person_id}/sync")
async def sync_person(request: Request, person_id: int) -> Response:
    _, form = await operator_form(request, "Sync Person to SFDC")
    owner, queue = (str(form.get(name) or "").strip() or None for name in ("owner", "queue"))
    done, notice = await _sync_person_outcome(request, person_id, "Sync Person to SFDC", owner=owner, queue=queue)
    chosen = {name: value for name, value in (("owner", owner), ("queue", queue)) if value}
    again = f"?{urlencode(chosen)}" if chosen and not done else ""  # the form again with what it was sent with
    return back(request, f"/ui/persons/{person_id}{again}", notice)


async def _sync_person(request: Request, person_id: int, action: str) -> str:
    return (await _sync_person_outcome(request, person_id, action))[1]


async def _sync_person_outcome(request: Request, person_id: int, action: str, owner: str | None = None,
                               queue: str | None = None) -> tuple[bool, str]:
    """Sync Person to SFDC; a person not in Salesforce yet gets a Lead owned by `owner` (a username) or
    `queue` (a lead queue), else by the org's assignment rules."""
    def work() -> str:
        checked = lookups.person_id(person_id)  # before Salesforce is opened
        result = ui(request).salesforce.actions().sync_person(checked, owner=owner, queue=queue)
        verb = "created" if result.created else "updated"
        return f"{action}: {result.sfdc_type} {result.sfdc_id} {verb}" + (
            f" ({', '.join(result.fields)})" if result.fields else "")

    return await action_outcome(work, action)


async def action_outcome(work: Any, action: str) -> tuple[bool, str]:
    """Whether `work` was done, and what to tell the operator either way."""
    try:
        return True, await run_in_threadpool(work)
    except RecordRejected as error:
        fields = f" (fields: {', '.join(error.fields)})" if error.fields else ""
        return False, f"{action} refused by Salesforce: {error}{fields}"
    except (InvalidInput, NotFound) as error:
        return False, f"{action} refused: {error}"
    except TandemError as error:
        return False, f"{action} failed: {one_line(error)}"  # with its fix, as the CLI and the REST API say it
