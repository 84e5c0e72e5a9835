"""Bulk API 2.0 job state: ingest and query jobs, their CSV in and out, and how each runs on the model.

No HTTP here: `wire/bulk.py` maps requests onto a `JobStore`. Ingest jobs run when the client
marks the upload complete; query jobs run when they are created. Either way the state a poll
sees next is final.
"""

from __future__ import annotations

import csv
import io
import itertools
import secrets
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Iterable

from tandem.emulator.model.errors import ApiError
from tandem.emulator.model.ids import make_id

DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^", "BACKQUOTE": "`"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
INGEST_OPERATIONS = {"insert", "update", "upsert", "delete", "hardDelete"}
QUERY_OPERATIONS = {"query", "queryAll"}


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


@dataclass
class Job:
    id: str
    operation: str
    created_by: str
    api_version: str
    column_delimiter: str = "COMMA"
    line_ending: str = "LF"
    state: str = "Open"
    created_date: str = field(default_factory=_now)
    system_modstamp: str = field(default_factory=_now)
    error_message: str | None = None
    processed: int = 0
    failed: int = 0
    processing_ms: int = 0

    @property
    def delimiter(self) -> str:
        return DELIMITERS[self.column_delimiter]

    @property
    def newline(self) -> str:
        return LINE_ENDINGS[self.line_ending]

    def move_to(self, state: str) -> None:
        self.state = state
        self.system_modstamp = _now()


@dataclass
class IngestJob(Job):
    object: str = ""
    external_id_field: str | None = None
    assignment_rule_id: str | None = None
    uploads: list[bytes] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    successful: list[list[str]] = field(default_factory=list)
    failures: list[list[str]] = field(default_factory=list)
    unprocessed: list[list[str]] = field(default_factory=list)


@dataclass
class QueryJob(Job):
    query: str = ""
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


def write_csv(header: list[str], rows: Iterable[list[str]], delimiter: str = ",", newline: str = "\n") -> bytes:
    """CSV as Salesforce writes it: every value quoted (simple-salesforce and jsforce accept both)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline, quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def row_endings_match(text: str, newline: str) -> bool:
    """Whether every row of CSV `text` ends with `newline` (`\n` or `\r\n`); a line break inside
    a quoted value belongs to the value and is not looked at."""
    breaks, crlf = text.count("\n"), text.count("\r\n")
    if crlf == (breaks if newline == "\r\n" else 0):
        return True  # every line break is of the one kind: no value needs looking into
    quoted = False
    for at, char in enumerate(text):
        if char == '"':
            quoted = not quoted  # a doubled quote flips twice
        elif char == "\n" and not quoted and (text[at - 1:at] == "\r") != (newline == "\r\n"):
            return False
    return True


def bulk_value(value: Any) -> str:
    """A raw model value as a Bulk CSV cell: null and empty both empty, datetimes with `Z`."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is not timezone.utc:
            value = value.astimezone(timezone.utc)
        return value.isoformat(timespec="milliseconds")[:-6] + "Z"  # without "+00:00"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def error_text(code: str, message: str, fields: Iterable[str]) -> str:
    """A record's error in Bulk results: `CODE:message:Field1,Field2 --`, or `CODE:message:--` naming no field."""
    named = ",".join(fields)
    return f"{code}:{message}:{named} --" if named else f"{code}:{message}:--"


def flatten(record: dict, prefix: str = "") -> dict[str, Any]:
    """`{"Account": {"Name": "Acme"}}` → `{"Account.Name": "Acme"}`; `attributes` dropped."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if key == "attributes":
            continue
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


class JobStore:
    """All Bulk jobs of one org, keyed by their 18-character `750…` Id."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._pod = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(2))

    def clear(self) -> None:
        with self._lock:
            self._jobs.clear()

    def add(self, job_type: type, **values: Any) -> Job:
        with self._lock:
            job = job_type(id=make_id("750", next(self._counter), self._pod), **values)
            self._jobs[job.id] = job
            return job

    def get(self, job_id: str, job_type: type) -> Job:
        with self._lock:
            job = self._jobs.get(job_id) or next(
                (j for i, j in self._jobs.items() if i[:15] == job_id[:15]), None
            )
        if not isinstance(job, job_type):
            raise ApiError("The requested resource does not exist", error_code="NOT_FOUND", status=404)
        return job

    def remove(self, job_id: str) -> None:
        with self._lock:
            self._jobs.pop(job_id, None)

    def all(self, job_type: type) -> list[Job]:
        with self._lock:
            return [job for job in self._jobs.values() if isinstance(job, job_type)]
