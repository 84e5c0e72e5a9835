"""Prometheus metrics at `/metrics`: the sync's cycles, API calls, backlog and errors, read from the
database at each scrape (so they cover `tandem run` in another process), and the latency of the
flow actions and of every request served here, measured in this process."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tandem.people.database import is_outage, outage_reason
from tandem.people.models import StepStatus
from tandem.people.store import PersonStore
from tandem.people.sync_history import KEPT_IN_TANDEM

router = APIRouter(include_in_schema=False)


class SyncCollector(Collector):
    """Reads the store when scraped: nothing is kept in memory, so every process sees the same numbers."""

    def __init__(self, store: PersonStore, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.now = now

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        steps = self.store.steps.recent()
        outcomes: dict[str, str] = {}
        api_calls = 0
        for step in steps:
            api_calls += step.api_calls
            if step.cycle_id is not None:
                # a step left Cleaned up: its cycle's process died; In Process: running, or died and not yet closed
                verdict = {StepStatus.FAILED: "failed", StepStatus.CLEANED_UP: "failed",
                           StepStatus.IN_PROCESS: "open"}.get(step.status, "succeeded")
                if outcomes.get(step.cycle_id) not in ("open", "failed") or verdict == "open":
                    outcomes[step.cycle_id] = verdict
        cycles = CounterMetricFamily("tandem_sync_cycles", "Sync cycles recorded, by outcome.", labels=["outcome"])
        for outcome in ("succeeded", "failed"):
            cycles.add_metric([outcome], sum(1 for o in outcomes.values() if o == outcome))
        yield cycles
        calls = CounterMetricFamily("tandem_salesforce_api_calls", "Salesforce API calls made by recorded cycle steps.")
        calls.add_metric([], api_calls)
        yield calls
        if steps:  # the cycle's first step, as /ready counts it: steps[0] is its last
            started = min(s.started_at for s in steps if s.cycle_id == steps[0].cycle_id)
            last = GaugeMetricFamily("tandem_last_cycle_start_timestamp_seconds", "When the last sync cycle started.")
            last.add_metric([], started.timestamp())
            yield last
        yield from self._usage()
        yield from self._backlog()
        errors = GaugeMetricFamily("tandem_sync_errors", "Sync errors of the last 24 hours, by level.", labels=["level"])
        counted = Counter(e.level.value for e in self.store.sync_errors.recent(since=self.now() - timedelta(days=1)))
        for level in ("record", "job"):
            errors.add_metric([level], counted.get(level, 0))
        yield errors

    def _usage(self) -> Iterator[GaugeMetricFamily]:
        reading = self.store.api_usage.latest()
        if reading is not None:
            usage = GaugeMetricFamily("tandem_salesforce_api_usage", "The org's API usage at the last cycle (24 h).",
                                      labels=["kind"])
            usage.add_metric(["used"], reading.used)
            usage.add_metric(["limit"], reading.limit)
            yield usage

    def _backlog(self) -> Iterator[GaugeMetricFamily]:
        backlog = GaugeMetricFamily(
            "tandem_sync_backlog", "Records waiting: changes a cycle pushes, by the person's Salesforce object, and "
            "records the last pull left for the next cycle (failed).", labels=["object", "direction"])
        waiting = self.store.history.waiting()
        kept = waiting.pop(KEPT_IN_TANDEM, None)
        for name in ("Lead", "Contact"):
            backlog.add_metric([name, "to_salesforce"], waiting[name].changes if name in waiting else 0)
        left = self.store.history.left_by_last_pulls()
        for name in ("Contact", "Lead", "Account"):
            backlog.add_metric([name, "from_salesforce"], left.get(name, 0))
        yield backlog
        yield GaugeMetricFamily("tandem_changes_kept_in_tandem", "Changes of persons not in Salesforce (never sent, "
                                "or their record deleted there): no cycle pushes them, Sync Person to SFDC does.",
                                value=kept.changes if kept else 0)


class Metrics:
    """The registry of one app: the store's collector and the in-process latency histograms."""

    def __init__(self, store: PersonStore, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(SyncCollector(store, now))
        self.actions = Histogram("tandem_action_seconds", "Flow actions served (Sync Person, Convert Person), "
                                 "by action and outcome.", ["action", "outcome"], registry=self.registry)
        self.requests = Histogram("tandem_http_request_seconds", "Requests served, by route template and status.",
                                  ["route", "status"], registry=self.registry)

    def time_action(self, action: str, started: float, outcome: str) -> None:
        self.actions.labels(action, outcome).observe(time.perf_counter() - started)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """503 in plain text while the database is unavailable: a scrape that fails, not Marketo's envelope."""
    registry = request.app.state.metrics.registry
    try:
        body = await run_in_threadpool(generate_latest, registry)
    except Exception as error:
        if not is_outage(error):
            raise
        return Response(f"the database is unavailable ({outage_reason(error)})\n", status_code=503,
                        media_type="text/plain")
    return Response(body, media_type=CONTENT_TYPE_LATEST)
