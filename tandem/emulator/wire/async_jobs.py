"""Bulk API 1.0 job and batch state: what a job holds, what each batch received and what it produced.

No HTTP and no processing here: `async_api.py` maps requests onto these records and
`async_processing.py` runs the batches. Jobs share the org's `JobStore` (and its `750…` Ids)
with Bulk API 2.0, so a reset clears both.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from tandem.emulator.jobs import Job
from tandem.emulator.model.errors import ApiError
from tandem.emulator.model.ids import make_id

NAMESPACE = "http://www.force.com/2009/06/asyncapi/dataload"
INGEST = ("insert", "update", "upsert", "delete", "hardDelete")
QUERY = ("query", "queryAll")
CONTENT_TYPES = ("CSV", "XML", "JSON")
TERMINAL_BATCH_STATES = ("Completed", "Failed", "NotProcessed")
MAX_CHUNK_SIZE = 250_000
DEFAULT_CHUNK_SIZE = 100_000


class AsyncError(ApiError):
    """An error in the Bulk API 1.0's own vocabulary (`InvalidJob`, `InvalidBatch`, ...), HTTP 400 unless said."""

    def __init__(self, exception_code: str, message: str, status: int = 400) -> None:
        super().__init__(message, error_code=exception_code, status=status)


def stamp() -> str:
    """A Bulk API 1.0 timestamp: `2026-11-30T12:00:00.000Z`."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class PkChunking:
    """`Sforce-Enable-PKChunking`: split a query job's batch into one batch per `chunk_size` Ids."""

    chunk_size: int = DEFAULT_CHUNK_SIZE
    start_row: str | None = None

    @classmethod
    def parse(cls, header: str | None) -> "PkChunking | None":
        """`false`, or `true` and/or options: `chunkSize=N; startRow=ID; parent=Object` (`parent`, which
        chunks a share or history object by its parent's Ids, is accepted and chunks by the object's own)."""
        tokens = [part.strip() for part in (header or "").split(";") if part.strip()]
        if not tokens or [t.lower() for t in tokens] == ["false"]:
            return None
        options: dict[str, str] = {}
        for token in tokens:
            if token.lower() == "true":
                continue
            name, sep, value = token.partition("=")
            if not sep or name.strip() not in ("chunkSize", "startRow", "parent"):
                raise AsyncError("InvalidJob", f"Sforce-Enable-PKChunking: unsupported option '{token}' "
                                 "(true, chunkSize, startRow and parent are)")
            options[name.strip()] = value.strip()
        size_text = options.get("chunkSize", str(DEFAULT_CHUNK_SIZE))
        if not size_text.isdigit() or not 1 <= int(size_text) <= MAX_CHUNK_SIZE:
            raise AsyncError("InvalidJob", f"Sforce-Enable-PKChunking: chunkSize must be a whole number from 1 to "
                             f"{MAX_CHUNK_SIZE}, not '{size_text}'")
        return cls(int(size_text), options.get("startRow") or None)


@dataclass
class RecordResult:
    """One ingested record's outcome, in the order of the batch's records."""

    id: str | None
    success: bool
    created: bool
    error: ApiError | None = None


@dataclass
class ResultChunk:
    """One downloadable piece (`752…`) of a query batch's rows."""

    id: str
    rows: list[dict[str, Any]]


@dataclass
class Batch:
    id: str
    job_id: str
    request: bytes
    state: str = "Queued"
    state_message: str | None = None
    created_date: str = field(default_factory=stamp)
    system_modstamp: str = field(default_factory=stamp)
    processed: int = 0
    failed: int = 0
    processing_ms: int = 0
    soql: str | None = None
    results: list[RecordResult] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    chunks: list[ResultChunk] = field(default_factory=list)

    def move_to(self, state: str, message: str | None = None) -> None:
        self.state = state
        if message is not None:
            self.state_message = message
        self.system_modstamp = stamp()


@dataclass
class ClassicJob(Job):
    """A Bulk API 1.0 job: Open while batches are added, then Closed, Aborted or Failed."""

    object: str = ""
    external_id_field: str | None = None
    assignment_rule_id: str | None = None
    content_type: str = "XML"
    concurrency_mode: str = "Parallel"
    pk_chunking: PkChunking | None = None
    batches: list[Batch] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)
    changed: threading.Condition = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)

    def settle(self, batch: Batch, batch_state: str) -> None:
        """Move a batch on and wake whoever waits on this job's batches."""
        with self.changed:
            batch.move_to(batch_state)
            self.changed.notify_all()

    def wait_until_done(self, batch: Batch, timeout: float) -> None:
        """Give a batch that is about to end a moment to do so, so a status poll sees the end state
        instead of sending its client to sleep for seconds (simple-salesforce sleeps 5 s between polls)."""
        with self.changed:
            self.changed.wait_for(lambda: batch.state in TERMINAL_BATCH_STATES, timeout)

    @property
    def is_query(self) -> bool:
        return self.operation in QUERY

    def batch(self, batch_id: str) -> Batch:
        with self.lock:
            found = next((b for b in self.batches if b.id == batch_id or b.id[:15] == batch_id[:15]), None)
        if found is None:
            raise AsyncError("InvalidBatch", f"Unable to find batch {batch_id} in job {self.id}")
        return found

    def counts(self) -> dict[str, int]:
        with self.lock:
            states = [b.state for b in self.batches]
            return {
                "numberBatchesQueued": states.count("Queued"),
                "numberBatchesInProgress": states.count("InProgress"),
                "numberBatchesCompleted": states.count("Completed"),
                "numberBatchesFailed": states.count("Failed"),
                "numberBatchesTotal": len(states),
                "numberRecordsProcessed": sum(b.processed for b in self.batches),
                "numberRecordsFailed": sum(b.failed for b in self.batches),
                "totalProcessingTime": sum(b.processing_ms for b in self.batches),
            }


class IdMint:
    """Batch (`751…`) and result (`752…`) Ids, unique for the life of the emulator process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters = {"751": itertools.count(1), "752": itertools.count(1)}

    def next(self, prefix: str) -> str:
        with self._lock:
            return make_id(prefix, next(self._counters[prefix]))


MINT = IdMint()
