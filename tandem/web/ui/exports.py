"""Export CSV: the filtered history and errors as spreadsheets open them (UTF-8, header row, ISO times).

A cell a spreadsheet would run as a formula (starting with =, +, -, @, a tab or a carriage return)
is prefixed with a quote.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from starlette.responses import Response

from tandem.people.models import CycleStep
from tandem.people.sync_history import ListedError

STEP_COLUMNS = ("started_at", "ended_at", "object", "operation", "status", "new", "updated", "deleted", "failed",
                "skipped", "api_calls", "message", "cycle_id")
ERROR_COLUMNS = ("occurred_at", "level", "object", "error_code", "message", "person_id", "sfdc_id", "resolved")


def steps_csv(steps: Iterable[tuple[CycleStep, str]]) -> Response:
    """The steps, each with its status as the history shows it."""
    rows = ([s.started_at.isoformat(), s.ended_at.isoformat() if s.ended_at else "", s.object, s.operation.value,
             status, s.counts.new, s.counts.updated, s.counts.deleted, s.counts.failed, s.counts.skipped,
             s.api_calls, s.message or "", s.cycle_id or ""] for s, status in steps)
    return _csv("sync-history", STEP_COLUMNS, rows)


def errors_csv(errors: Iterable[ListedError]) -> Response:
    rows = ([e.error.occurred_at.isoformat(), e.error.level.value, e.error.object or "", e.error.error_code,
             e.error.message, e.error.person_id or "", e.error.sfdc_id or "", "yes" if e.resolved else "no"]
            for e in errors)
    return _csv("sync-errors", ERROR_COLUMNS, rows)


def _csv(name: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_safe(value) for value in row])
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{name}-{stamp}.csv"'})


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: object) -> object:
    if isinstance(value, str) and value[:1] in _FORMULA_STARTS:
        return "'" + value
    return value
