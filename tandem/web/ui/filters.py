"""The history and error pages' filters, read from the query string once into typed records.

A bad filter value is named with its reason on the page and filters nothing, never a 500.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from tandem.errors import InvalidInput
from tandem.people.models import ErrorLevel, StepOperation, StepStatus
from tandem.people.sync_errors import LOGIN
from tandem.people.sync_history import ErrorFilter, StepFilter
from tandem.people.validation import check_storable, enum_member
from tandem.sync.status import STOPPED_STEP
from tandem.web.parameters import MAX_ID

WINDOW = timedelta(days=5)
OBJECTS = ("All", "Account", "Contact", "Lead")
ERROR_OBJECTS = (*OBJECTS, LOGIN)
"""A sync error may also be the refused login, which no step's object is."""
STEP_STATUSES = (*(s.value for s in StepStatus), STOPPED_STEP)
"""A step's status as the history shows it: Stopped is one left In Process by a cycle no one runs."""
CODE_LENGTH = 64
"""The longest error code kept (`sync_errors.error_code`): a longer filter could match nothing."""


def _day(params: QueryParams, name: str, problems: list[str]) -> date | None:
    text = (params.get(name) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(f"{name}: expected a date like 2026-11-30, got {text!r}")
        return None


def _span(params: QueryParams, problems: list[str]) -> tuple[datetime | None, datetime | None]:
    """From the start of the "from" day to the end of the "to" day (UTC); the last day there is
    (9999-12-31) has no end to give, so it bounds nothing. A "from" after the "to" is a problem."""
    first, last = _day(params, "from", problems), _day(params, "to", problems)
    if first and last and first > last:
        problems.append(f"from: {first.isoformat()} is after to: {last.isoformat()}, so no day lies between")
        return None, None
    start = datetime.combine(first, time.min, UTC) if first else None
    end = datetime.combine(last + timedelta(days=1), time.min, UTC) if last and last < date.max else None
    return start, end


def _before(params: QueryParams, problems: list[str], what: str) -> int | None:
    """The id the page's rows come before (the next page of a list, newest first)."""
    text = (params.get("before") or "").strip()
    if not text:
        return None
    if text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID + 1:
        return int(text)
    problems.append(f"before: expected {what} id, got {text[:50]!r}")
    return None


def without_page(params: QueryParams) -> str:
    """The filter's query string without its page (`before`): what an export or the first page takes."""
    return urlencode([(k, v) for k, v in params.multi_items() if k != "before"])


def _member(kind, params: QueryParams, name: str, problems: list[str]):
    text = (params.get(name) or "").strip()
    if not text:
        return None
    try:
        return enum_member(kind, text, name)
    except InvalidInput as error:
        problems.append(str(error))
        return None


def _object(params: QueryParams, problems: list[str], objects: tuple[str, ...] = OBJECTS) -> str | None:
    text = (params.get("object") or "").strip()
    if text and text not in objects:
        problems.append(f"object: expected one of {', '.join(objects)}, got {text!r}")
        return None
    return text or None


def step_filter(params: QueryParams) -> tuple[StepFilter, str | None, list[str]]:
    """The steps to read, and the status (as the history shows it, Stopped included) to keep of them."""
    problems: list[str] = []
    start, end = _span(params, problems)
    status = (params.get("status") or "").strip() or None
    if status is not None and status not in STEP_STATUSES:
        problems.append(f"status: expected one of {', '.join(STEP_STATUSES)}, got {status!r}")
        status = None
    return StepFilter(
        object=_object(params, problems),
        operation=_member(StepOperation, params, "operation", problems),
        status=None if status is None else StepStatus.IN_PROCESS if status == STOPPED_STEP else StepStatus(status),
        start=start, end=end, before_id=_before(params, problems, "a step"),
    ), status, problems


def error_filter(params: QueryParams) -> tuple[ErrorFilter, list[str]]:
    problems: list[str] = []
    start, end = _span(params, problems)
    resolved_text = (params.get("resolved") or "").strip()
    resolved = {"": None, "yes": True, "no": False}.get(resolved_text)
    if resolved_text not in ("", "yes", "no"):
        problems.append(f"resolved: expected yes or no, got {resolved_text!r}")
    code = (params.get("code") or "").strip() or None
    if code is not None and len(code) > CODE_LENGTH:
        problems.append(f"code: longer than {CODE_LENGTH} characters (no error code is longer)")
        code = None
    if code is not None:
        try:
            check_storable("code", code)
        except InvalidInput as error:
            problems.append(str(error))
            code = None
    return ErrorFilter(
        level=_member(ErrorLevel, params, "level", problems), object=_object(params, problems, ERROR_OBJECTS),
        code=code,
        resolved=resolved, start=start, end=end, before_id=_before(params, problems, "an error"),
    ), problems
