"""Running Bulk API 1.0 batches on the model, one at a time on a worker thread per org.

A batch is answered `Queued` when it is added; the worker moves it to `InProgress`, then
`Completed` or `Failed`. Records go through the same `Org` calls as REST (validation rules,
field-level security, injected record faults), each record succeeding or failing on its own.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from tandem.emulator.model.errors import ApiError

from tandem.emulator.wire.async_formats import read_records
from tandem.emulator.wire.async_jobs import MINT, AsyncError, Batch, ClassicJob, PkChunking, RecordResult, ResultChunk
from tandem.emulator.wire.bulk import jobs_for
from tandem.emulator.wire.bulk_processing import FieldCatalog, apply_row, repeated_keys
from tandem.emulator.wire.calls import ApiCall
from tandem.emulator.wire.record_faults import refuse_if_drawn

log = logging.getLogger("tandem.emulator")
MAX_BATCH_RECORDS = 10_000
_FAULT_OPERATIONS = {"insert": "create", "update": "update", "upsert": "upsert", "delete": "delete",
                     "hardDelete": "delete"}


class BatchRunner:
    """A queue of batches and the one daemon thread that works through it."""

    def __init__(self) -> None:
        self._queue: "queue.Queue[Callable[[], None]]" = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, work: Callable[[], None]) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="bulk-api-1-batches", daemon=True)
                self._thread.start()
        self._queue.put(work)

    def _work(self) -> None:
        while True:
            work = self._queue.get()
            try:
                work()
            except Exception:
                log.exception("a Bulk API batch failed unexpectedly")


_runners: "weakref.WeakKeyDictionary[Any, BatchRunner]" = weakref.WeakKeyDictionary()
_runners_lock = threading.Lock()


def runner_for(org: Any) -> BatchRunner:
    with _runners_lock:
        runner = _runners.get(org)
        if runner is None:
            runner = _runners[org] = BatchRunner()
        return runner


def enqueue(call: ApiCall, job: ClassicJob, batch: Batch, chunk_rows: int) -> None:
    """Queue the batch; it runs unless its job is aborted (or the org reset) before the worker reaches it."""
    runner_for(call.org).submit(lambda: run_batch(call, job, batch, chunk_rows))


def run_batch(call: ApiCall, job: ClassicJob, batch: Batch, chunk_rows: int) -> None:
    with job.lock:
        if batch.state != "Queued":
            return
        if job.state == "Aborted":
            job.settle(batch, "NotProcessed")
            return
        batch.move_to("InProgress")
    started = time.monotonic()
    try:
        if job.is_query and job.pk_chunking is not None and batch.soql is None:
            _split_into_chunks(call, job, batch, job.pk_chunking, chunk_rows)
            return
        if job.is_query:
            _run_query(call, job, batch, chunk_rows)
        else:
            _run_ingest(call, job, batch)
        final, message = "Completed", None
    except AsyncError as exc:
        final, message = "Failed", f"{exc.error_code} : {exc.message}"
    except ApiError as exc:
        final, message = "Failed", f"InvalidBatch : {exc.error_code}: {exc.message}"
    except UnicodeDecodeError as exc:  # CSV records and query text are read as UTF-8 only
        final, message = "Failed", (f"InvalidBatch : The batch is not valid UTF-8 (byte 0x{exc.object[exc.start]:02x} "
                                    f"at position {exc.start})")
    except Exception:
        log.exception("unexpected error running batch %s", batch.id)
        final, message = "Failed", "Unknown : an unexpected error occurred while processing the batch"
    with job.changed:
        batch.processing_ms = int((time.monotonic() - started) * 1000)
        batch.move_to(final, message)
        job.changed.notify_all()


def _run_ingest(call: ApiCall, job: ClassicJob, batch: Batch) -> None:
    columns, records = read_records(job, batch.request)
    if len(records) > MAX_BATCH_RECORDS:
        raise AsyncError("InvalidBatch", f"Records in a batch exceeded the limit of {MAX_BATCH_RECORDS}")
    catalog = FieldCatalog(call.org, call.ctx, job.object)
    problem = catalog.header_error(columns)
    if problem:
        raise AsyncError("InvalidBatch", problem)
    text_cells = job.content_type != "JSON"
    operation = _FAULT_OPERATIONS[job.operation]
    repeated = repeated_keys(call.org, job, catalog, records)
    for cells in records:
        if not _still_held(call, job):
            raise AsyncError("InvalidBatch", "The org was reset while the batch ran; the rest was not processed")
        record_id = str(next((v for k, v in cells.items() if k.lower() == "id"), "") or "") or None
        try:
            refuse_if_drawn(call, operation, catalog.object_name, record_id)
            fields = None if job.operation in ("delete", "hardDelete") else _fields(catalog, cells, text_cells)
            written, created = apply_row(call.org, call.ctx, job, catalog, cells, fields, repeated=repeated)
            result = RecordResult(written or None, True, created)
        except ApiError as exc:
            result = RecordResult(record_id if job.operation != "insert" else None, False, False, exc)
        with job.lock:
            batch.results.append(result)
            batch.processed += 1
            batch.failed += 0 if result.success else 1


def _still_held(call: ApiCall, job: ClassicJob) -> bool:
    """False once the org is reset (its job store cleared): a batch then stops writing."""
    try:
        jobs_for(call.org).get(job.id, ClassicJob)
    except ApiError:
        return False
    return True


def _fields(catalog: FieldCatalog, cells: dict[str, Any], text_cells: bool) -> dict[str, Any]:
    """Typed values to write: text cells are typed by the field (empty = leave, `#N/A` = null), JSON stays."""
    fields: dict[str, Any] = {}
    for column, (name, value) in enumerate(cells.items(), 1):
        if name.lower() == "id":
            continue
        if value is None:
            name = catalog.typed(name, "#N/A")[0] if "." in name else name
            fields[name] = None
        elif text_cells or "." in name:
            if value == "":
                continue
            typed_name, typed = catalog.typed(name, str(value), column)
            fields[typed_name] = typed
        else:
            fields[name] = value
    return fields


def _run_query(call: ApiCall, job: ClassicJob, batch: Batch, chunk_rows: int) -> None:
    soql = batch.soql if batch.soql is not None else batch.request.decode("utf-8-sig").strip()
    try:
        found = call.org.query_all_rows(call.ctx, soql, include_deleted=job.operation == "queryAll")
        rows = list(found)
    except ApiError as exc:
        raise AsyncError("InvalidBatch", f"Failed to process query: {exc.error_code}: {exc.message}") from None
    columns = list(rows[0]) if rows else list(found.columns)  # SELECT order, FIELDS() expanded
    ordered = [{c: row.get(c) for c in columns} for row in rows]
    chunks = [ResultChunk(MINT.next("752"), ordered[i:i + chunk_rows]) for i in range(0, len(ordered), chunk_rows)]
    with job.lock:
        batch.columns = columns
        batch.chunks = chunks or [ResultChunk(MINT.next("752"), [])]
        batch.processed = len(ordered)


_FROM = re.compile(r"\bfrom\s+(\w+)(\s+where\s+)?", re.IGNORECASE)


def chunk_query(soql: str, low: str | None, high: str | None) -> str:
    """The query limited to Ids in [low, high): the bounds go first in its WHERE clause."""
    found = _FROM.search(soql)
    if found is None:
        raise AsyncError("InvalidBatch", "Failed to process query: no FROM clause")
    bounds = " AND ".join(part for part in (f"Id >= '{low}'" if low else "", f"Id < '{high}'" if high else "") if part)
    if not bounds:
        return soql
    if found.group(2):
        rest = soql[found.end():]
        tail = re.search(r"\s+(order\s+by|limit|offset|for\s+|group\s+by)\b", rest, re.IGNORECASE)
        condition, after = (rest[:tail.start()], rest[tail.start():]) if tail else (rest, "")
        return f"{soql[:found.end(1)]} WHERE {bounds} AND ({condition.strip()}){after}"
    return f"{soql[:found.end(1)]} WHERE {bounds}{soql[found.end(1):]}"


def _split_into_chunks(call: ApiCall, job: ClassicJob, original: Batch, chunking: PkChunking, chunk_rows: int) -> None:
    """PK chunking: one new batch per `chunk_size` Ids of the object (deleted ones counted);
    the original batch ends `NotProcessed`."""
    soql = original.request.decode("utf-8-sig").strip()
    try:
        ids = [row["Id"][:15] for row in call.org.query_all_rows(
            call.ctx, f"SELECT Id FROM {job.object} ORDER BY Id", include_deleted=True)]
    except ApiError as exc:
        raise AsyncError("InvalidBatch", f"Failed to process query: {exc.error_code}: {exc.message}") from None
    if chunking.start_row:
        ids = [i for i in ids if i >= chunking.start_row[:15]]
    starts = ids[::chunking.chunk_size] or [chunking.start_row[:15] if chunking.start_row else None]
    batches = []
    for index, low in enumerate(starts):
        high = starts[index + 1] if index + 1 < len(starts) else None
        chunk_soql = chunk_query(soql, low, high)
        call.org.count_bulk_batch()
        batches.append(Batch(MINT.next("751"), job.id, chunk_soql.encode("utf-8"), soql=chunk_soql))
    with job.changed:
        job.batches.extend(batches)
        original.move_to("NotProcessed")
        job.changed.notify_all()
    for batch in batches:
        enqueue(call, job, batch, chunk_rows)
