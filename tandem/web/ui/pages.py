"""The UI's pages: Dashboard, Sync history, Sync errors, Persons (and a person), Fields.

Every page reads through the store's and the engine's public functions; the only Salesforce calls
are the field catalog's describes (cached for an hour); the convert page is `converting`'s.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tandem.errors import NotFound, SalesforceError, TandemError
from tandem.people import activities as types
from tandem.people.models import CycleStep, ErrorLevel, Person, StepOperation
from tandem.people.store import PersonStore
from tandem.people.sync_history import ErrorFilter, StepFilter
from tandem.salesforce.ids import with_case
from tandem.sync.actions import conversion_refusal
from tandem.sync.backlog import StepFigures, backlog_picture, step_figures
from tandem.sync.field_report import CatalogReport, catalog_report
from tandem.sync.status import cycle_running, shown_status
from tandem.sync.sync_state import RUNNING, SyncState, running_step, sync_state
from tandem.web.parameters import MAX_ID
from tandem.web.ui import exports, lookups
from tandem.web.ui.charts import Line, line_chart
from tandem.web.ui.filters import (ERROR_OBJECTS, OBJECTS, STEP_STATUSES, WINDOW, error_filter, step_filter,
                                   without_page)
from tandem.web.ui.guard import render, ui, viewer

router = APIRouter()
PAGE_ROWS = 200
SEARCH_LENGTH = 200
PERSON_ROWS = 50
CATALOG_RETRY_SECONDS = 60.0
ACTIVITY_ROWS = 500
STANDING_OUT = {types.SFDC_SYNC_CONFLICT.id: "conflict", types.SFDC_SYNC_FAILED.id: "refused",
                types.SFDC_VALUE_DROPPED.id: "dropped"}


@router.get("/")
def dashboard(request: Request) -> Response:
    viewer(request)
    store, now = ui(request).store, datetime.now(UTC)
    steps = store.steps.recent(limit=20)
    last = [s for s in steps if s.cycle_id == steps[0].cycle_id][::-1]
    running = cycle_running(store, last)
    picture = backlog_picture(store, now, _figures(request, now))
    trend_lines = [Line(f"{o} {'in' if d == 'pull' else 'out'}", values) for (o, d), values in picture.trend.items()]
    throughput_lines = [Line(name, values) for name, values in picture.throughput.items()]
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    calls_today = store.history.api_calls_since(midnight)
    return render(
        request, "dashboard.html", page="Dashboard",
        state=_state(request, now), progress=ui(request).runner.progress(), running_step=running_step(store),
        last_cycle=last, shown_statuses=[shown_status(s, running) for s in last], pause=store.sync_pause.current(), backlogs=picture.backlogs,
        kept_in_tandem=picture.kept_in_tandem, usage=store.api_usage.latest(), calls_today=calls_today,
        trend_chart=line_chart("Backlog, 5 days in 4-hour buckets, UTC (records a cycle found waiting)",
                               [f"{s:%a %H}h" for s in picture.trend_starts], trend_lines, every=6),
        throughput_chart=line_chart("Records per hour per object, last 24 hours, UTC",
                                    [f"{s:%H}h" for s in picture.throughput_starts], throughput_lines, every=3),
        trend=picture.trend, trend_starts=picture.trend_starts,
        throughput=picture.throughput, throughput_starts=picture.throughput_starts,
    )


def _state(request: Request, now: datetime) -> SyncState:
    """The sync's state; running too while a cycle this server started (Sync now) has not yet taken
    the cycle's lock (it signs in to Salesforce first)."""
    context = ui(request)
    state = sync_state(context.store, now, context.interval_seconds, context.idle_interval_max_seconds,
                       context.salesforce.policy)
    progress = context.runner.progress()
    if progress.running and state.kind != RUNNING:
        return SyncState(RUNNING, f"{progress.step} (Sync now, from this server)")
    return state


@router.get("/progress")
def progress(request: Request) -> Response:
    viewer(request)
    return render(request, "progress.html", progress=ui(request).runner.progress(),
                  running_step=running_step(ui(request).store))


@router.get("/history")
def history(request: Request) -> Response:
    viewer(request)
    where, status, problems = step_filter(request.query_params)
    listed = _listed_steps(ui(request).store, where, status, limit=PAGE_ROWS + 1)
    shown = listed[:PAGE_ROWS]
    return render(request, "history.html", page="Sync history", steps=[s for s, _ in shown],
                  shown_statuses=[said for _, said in shown], more=len(listed) > PAGE_ROWS,
                  paged=where.before_id is not None,
                  first=without_page(request.query_params), problems=problems, params=request.query_params,
                  objects=OBJECTS, operations=list(StepOperation), statuses=STEP_STATUSES)


@router.get("/history.csv")
def history_csv(request: Request) -> Response:
    viewer(request)
    where, status, _ = step_filter(request.query_params)
    return exports.steps_csv(_listed_steps(ui(request).store, replace(where, before_id=None), status))


def _listed_steps(store: PersonStore, where: StepFilter, status: str | None,
                  limit: int | None = None) -> list[tuple[CycleStep, str]]:
    """The steps of the last 5 days the filter finds, each with its status as the history shows it
    (a step left In Process by a cycle no one runs shows Stopped), only those of `status` when given.
    The steps an In Process or Stopped filter reads are all In Process, so all show the same status:
    keeping those of `status` keeps all of them or none, and a page of them stays whole."""
    steps = store.history.steps(since=datetime.now(UTC) - WINDOW, where=where, limit=limit)
    running = cycle_running(store, steps)
    listed = [(s, shown_status(s, running)) for s in steps]
    return listed if status is None else [(s, said) for s, said in listed if said == status]


@router.get("/errors")
def errors(request: Request) -> Response:
    viewer(request)
    where, problems = error_filter(request.query_params)
    rows = ui(request).store.history.errors(since=datetime.now(UTC) - WINDOW, where=where, limit=PAGE_ROWS + 1)
    return render(request, "errors.html", page="Sync errors", errors=rows[:PAGE_ROWS], more=len(rows) > PAGE_ROWS,
                  paged=where.before_id is not None, first=without_page(request.query_params),
                  problems=problems, params=request.query_params, objects=ERROR_OBJECTS, levels=list(ErrorLevel))


@router.get("/errors.csv")
def errors_csv(request: Request) -> Response:
    viewer(request)
    where, _ = error_filter(request.query_params)
    return exports.errors_csv(ui(request).store.history.errors(since=datetime.now(UTC) - WINDOW,
                                                               where=replace(where, before_id=None)))


@router.get("/persons")
def persons(request: Request) -> Response:
    """The persons added last, a page at a time (older ones by `before`), or the ones a search finds;
    a search finding more than a page says so, to be narrowed (its persons are not in any order)."""
    viewer(request)
    query = (request.query_params.get("q") or "").strip()
    before, problems = person_page(request.query_params.get("before"))
    if len(query) > SEARCH_LENGTH:  # refused, not cut: a cut search would find what was not asked for
        problems.append(f"Search persons: longer than {SEARCH_LENGTH} characters; type at most {SEARCH_LENGTH}")
        query = ""
    search = ui(request).store.person_search
    found = (search.find(with_case(query), limit=PERSON_ROWS + 1) if query
             else search.newest(PERSON_ROWS + 1, before=before))
    return render(request, "persons.html", page="Persons", query=query, persons=found[:PERSON_ROWS],
                  more=len(found) > PERSON_ROWS, before=before, problems=problems, rows=PERSON_ROWS)


def person_page(text: str | None) -> tuple[int | None, list[str]]:
    """The `before` of the persons list: a person id, the next page's persons being older."""
    text = (text or "").strip()
    if not text:
        return None, []
    if text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID + 1:
        return int(text), []
    return None, [f"before: expected a person id, got {text[:50]!r}"]


@router.get("/persons/{person_id}")
async def person(request: Request, person_id: int) -> Response:
    viewer(request)
    store = ui(request).store
    try:
        found = lookups.person(store, person_id)
    except NotFound as error:
        return render(request, "missing.html", status=404, page="Persons", message=str(error),
                      merged_into=lookups.merged_into(store, person_id))
    kind = found.link.sfdc_type or "Lead"
    catalog, catalog_problem, instance = await run_in_threadpool(_catalog_and_instance, request)
    pending = {c.field: c for c in store.outbox.find(person_ids=[person_id])}
    tandem_own = {"id": found.id, "createdAt": found.created_at, "updatedAt": found.updated_at}
    link = found.link.as_fields()
    own = {**tandem_own, **link}
    rows = []
    for field in store.fields.all():
        rule = catalog.governing(kind, field.name) if catalog is not None else None
        rows.append({"field": field, "value": _shown(found.fields.get(field.name, own.get(field.name))),
                     "rule": rule, "pending": pending.get(field.name),
                     "why": _unsynced_why(field.name, kind, catalog is not None, tandem_own, link),
                     "syncs": "unknown" if catalog is None and field.name not in own else "no"})
    log = store.activities.newest(person_id, ACTIVITY_ROWS + 1)
    who = called(found)
    return render(request, "person.html", page="Persons", title=f"{who} (person {found.id})", who=who,
                  person=found, rows=rows, kind=kind,
                  catalog_problem=catalog_problem, activities=log[:ACTIVITY_ROWS],
                  more_activities=len(log) > ACTIVITY_ROWS, activity_type=types.activity_type,
                  standing_out=STANDING_OUT, instance_url=instance, convert_refusal=conversion_refusal(found),
                  owner=request.query_params.get("owner", ""), queue=request.query_params.get("queue", ""),
                  errors=store.history.errors(since=datetime.now(UTC) - WINDOW, where=ErrorFilter(person_id=person_id)))


def _unsynced_why(name: str, kind: str, described: bool, tandem_own: dict[str, Any], link: dict[str, Any]) -> str:
    """Why a field no rule governs does not sync: it is Tandem's own, or the link itself, or no
    field of the person's Salesforce object maps to it (unknown while the catalog cannot be read)."""
    if name in tandem_own:
        return "Tandem's own field"
    if name in link:
        return "the link to the Salesforce record, set by the sync"
    return f"no {kind} field syncs with it" if described else \
        "not known: Salesforce could not be asked for the field catalog"


def called(person: Person) -> str:
    """What a person's page calls them: their name, else their email, else "(no name)"."""
    name = " ".join(str(person.fields[f]) for f in ("firstName", "lastName") if person.fields.get(f))
    return name or str(person.fields.get("email") or "") or "(no name)"


@router.get("/fields")
async def fields(request: Request) -> Response:
    viewer(request)
    catalog, problem, _ = await run_in_threadpool(_catalog_and_instance, request)
    report = None
    if catalog:
        try:
            report = await run_in_threadpool(_field_report, request, catalog)
        except SalesforceError as error:  # the login refused, or the org unreachable
            problem = f"Salesforce could not be asked for the hidden fields: {error}"
    return render(request, "fields.html", page="Fields", rules=report.rules if report else [],
                  problems=[problem] if problem else report.unlisted if report else [],
                  fetched_at=catalog.fetched_at if catalog else None)


def _field_report(request: Request, catalog: Any) -> CatalogReport:
    """The Fields page's rows, hidden fields included, asked again only with a newly described catalog."""
    context = ui(request)
    kept = context.field_report
    if kept is None or kept[0] != catalog.fetched_at:
        kept = context.field_report = (catalog.fetched_at,
                                       catalog_report(context.salesforce.actions().client, catalog))
    return kept[1]


def _shown(value: Any) -> Any:
    """A field's value as the page shows it: a moment as the page's other times are."""
    return f"{value:%Y-%m-%d %H:%M:%S} UTC" if isinstance(value, datetime) else value


def _figures(request: Request, now: datetime) -> StepFigures:
    """The steps' sums, made again only once a step was written or the hour turned."""
    context = ui(request)
    key = (context.store.history.newest(), now.replace(minute=0, second=0, microsecond=0))
    kept = context.step_figures
    if kept is None or kept[0] != key:
        kept = context.step_figures = (key, step_figures(context.store, now))
    return kept[1]


def _catalog_and_instance(request: Request) -> tuple[Any, str | None, str | None]:
    """The field catalog as the sync user sees it (described at most once an hour) and the org's
    address; (None, why, None) when Salesforce cannot be asked, and for a minute after that, so an
    unreachable org does not hold every person page up."""
    context = ui(request)
    failed = context.catalog_failure
    if failed is not None and time.monotonic() - failed[0] < CATALOG_RETRY_SECONDS:
        return None, failed[1], None
    try:
        actions = context.salesforce.actions()
        found = actions.engine.latest_catalog(), None, actions.client.instance_url
    except Exception as error:  # noqa: BLE001 - a Salesforce error, or no connection configured (the API's 608)
        why = f"Salesforce could not be asked for the field catalog: {getattr(error, 'message', None) or error}"
        context.catalog_failure = (time.monotonic(), why)
        return None, why, None
    context.catalog_failure = None
    return found


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    if moment is None:
        return ""
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    if seconds < 90:
        return f"{seconds} s ago"
    if seconds < 5400:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def duration(span: timedelta | None) -> str:
    if span is None:
        return "unknown (no step has handled a record yet)"
    minutes = int(span.total_seconds() // 60)
    if minutes == 0:
        return "clear" if span.total_seconds() == 0 else f"{max(span.total_seconds(), 1):.0f} s"
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"
