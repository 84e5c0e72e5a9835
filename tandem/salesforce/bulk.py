"""Bulk API 2.0 query jobs: one job, its results read in large CSV chunks, rows typed as REST's.

A query job's results come back as CSV, every value a string and an empty cell for null. Rows
are turned back into the shape the REST query answers (`true` a bool, a number a number, an
`Account.Name` column an `Account` object), so whoever reads them cannot tell the two apart.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import requests
import urllib3

from tandem.errors import SalesforceError, TransientError

if TYPE_CHECKING:
    from tandem.salesforce.client import SalesforceClient

RESULT_CHUNK = 50_000
"""Rows per results request (each is read as it downloads, never held whole)."""
_READ_SIZE = 1 << 20
"""Bytes of a results download read at a time."""
_STAMP = "SystemModstamp"
_DONE = "JobComplete"
_FAILED = frozenset({"Failed", "Aborted"})


def bulk_job_calls(rows: int, chunk: int = RESULT_CHUNK) -> int:
    """The fewest calls a query job of `rows` rows costs: its start, one look at its state, and a
    results request per `chunk` rows."""
    return 2 + max(1, -(-rows // chunk))


def start_query_job(client: SalesforceClient, soql: str, *, include_deleted: bool = False) -> str:
    """Start a query job (CSV, comma, LF); returns its Id."""
    job = client.request("POST", "jobs/query", json={
        "operation": "queryAll" if include_deleted else "query", "query": soql,
        "contentType": "CSV", "columnDelimiter": "COMMA", "lineEnding": "LF",
    }).json()
    return str(job["id"])


def query_job_done(client: SalesforceClient, job_id: str) -> bool:
    """One look at a query job: True once its results are ready; a failed or aborted job raises."""
    info = client.request("GET", f"jobs/query/{job_id}").json()
    state = info.get("state")
    if state in _FAILED:
        raise SalesforceError(f"the Bulk query job {job_id} ended {state}: "
                              f"{info.get('errorMessage') or 'no reason given'}", error_code=f"BULK_{state}".upper())
    return state == _DONE


def abort_query_job(client: SalesforceClient, job_id: str) -> None:
    """Stop a query job whose rows are no longer wanted (one that has ended needs nothing)."""
    abort_unless_ended(client, f"jobs/query/{job_id}")


def abort_unless_ended(client: SalesforceClient, job_path: str) -> None:
    """Abort a Bulk job; Salesforce refuses to abort one that has ended (INVALIDJOBSTATE), which leaves
    nothing to stop."""
    try:
        client.request("PATCH", job_path, json={"state": "Aborted"})
    except SalesforceError as error:
        if error.error_code != "INVALIDJOBSTATE":
            raise


def query_job(client: SalesforceClient, soql: str, *, include_deleted: bool = False,
              pause: Callable[[float], None] = time.sleep, longest_pause: float = 10.0,
              started: str | None = None) -> str:
    """Start a query job (unless it was: `started`) and wait for it to complete; returns its Id."""
    job_id = started or start_query_job(client, soql, include_deleted=include_deleted)
    wait = 0.0
    while True:
        pause(wait)
        if query_job_done(client, job_id):
            return job_id
        wait = min(max(wait * 2, 0.5), longest_pause)


def results_answer(client: SalesforceClient, job_id: str, chunk: int = RESULT_CHUNK,
                   locator: str | None = None) -> requests.Response:
    """One results request of a completed query job (`chunk` rows from `locator`), its body left
    to be read (and the answer closed) by the caller."""
    params: dict[str, Any] = {"maxRecords": chunk, **({"locator": locator} if locator else {})}
    return client.request("GET", f"jobs/query/{job_id}/results", params=params,
                          headers={"Accept": "text/csv"}, stream=True)


def result_rows(client: SalesforceClient, job_id: str, types: Mapping[str, str], size: int, *,
                chunk: int = RESULT_CHUNK, attempts: int = 3, stamped_from: datetime | None = None,
                first: requests.Response | None = None) -> Iterator[list[dict[str, Any]]]:
    """The job's rows, typed as REST answers them, `size` at a time, read as they download (one
    results request per `chunk` rows): no results request is ever held whole in memory.

    With `stamped_from`, for a query in `SystemModstamp` order whose reader has its earlier rows
    already, the leading rows stamped before it are passed over without being shaped. `first` is
    the first results request's answer when it was asked already (`results_answer`).

    While one results request is read, the next (its locator comes in the answer's headers) is
    already asked, so the wait for its answer passes while the rows before it are used. A download
    that breaks off is asked again from the same place, the rows already handed over skipped (a
    job's results are fixed: the same request answers the same rows)."""

    def ask(locator: str | None) -> requests.Response:
        return results_answer(client, job_id, chunk, locator)

    ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tandem-bulk-results")
    locator: str | None = None
    response = first if first is not None else ask(locator)
    following: Future[requests.Response] | None = None
    try:
        while True:
            next_locator = response.headers.get("Sforce-Locator")
            if next_locator and next_locator != "null":
                following = ahead.submit(ask, next_locator)
            handed, attempt, passing = 0, 1, stamped_from
            while True:
                try:
                    for batch in _streamed_rows(response, types, size, skip=handed, stamped_from=passing):
                        handed += len(batch)
                        yield batch
                    break
                except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
                    if attempt == attempts:
                        raise TransientError(f"the Bulk query job {job_id}'s results broke off "
                                             f"({type(error).__name__}) {attempts} times") from None
                    attempt += 1
                    response.close()
                    response = ask(locator)
            response.close()
            if stamped_from is not None and handed:
                stamped_from = None  # rows in stamp order: once one was kept, every later one is
            if following is None:
                return
            locator, response, following = next_locator, following.result(), None
    finally:
        response.close()
        if following is not None:  # asked ahead and never read: closed when it comes
            following.add_done_callback(_close_answer)
        ahead.shutdown(wait=False)


def _close_answer(asked: Future[requests.Response]) -> None:
    if asked.exception() is None:
        asked.result().close()


def _streamed_rows(response: requests.Response, types: Mapping[str, str], size: int,
                   skip: int = 0, stamped_from: datetime | None = None) -> Iterator[list[dict[str, Any]]]:
    """The answer's rows shaped, `size` at a time: those stamped before `stamped_from` passed over
    first, then `skip` rows (handed over by an attempt that broke off)."""
    response.raw.decode_content = True  # a gzip answer is inflated as it is read
    response.raw.auto_close = False  # at its end the body answers b"", as a file wrapped in text does
    text = io.TextIOWrapper(io.BufferedReader(response.raw, _READ_SIZE), encoding="utf-8", newline="")
    reader = csv.reader(text)
    header = next(reader, None)
    if not header:
        return
    shape = RowShape(header, types)
    stamp_at = header.index(_STAMP) if stamped_from is not None and _STAMP in header else None
    batch: list[dict[str, Any]] = []
    for cells in reader:
        if not cells:
            continue
        if stamp_at is not None:
            if datetime.fromisoformat(cells[stamp_at]) < stamped_from:
                continue
            stamp_at = None
        if skip:
            skip -= 1
            continue
        batch.append(shape.row(cells))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class RowShape:
    """How the rows under one results header become REST-shaped rows, worked out once per header:
    which columns are typed and how (`types` names the describe type of a column, in lower case,
    where it is not text), and which belong to a relationship (`Account.Name`)."""

    def __init__(self, header: list[str], types: Mapping[str, str]) -> None:
        self.header = header
        own: list[int] = []
        nested: dict[str, list[int]] = {}
        for i, column in enumerate(header):
            head, dot, _ = column.partition(".")
            (nested.setdefault(head, []) if dot else own).append(i)
        self._own = _Columns(header, own, types)
        self._nested = [(head, _Columns(header, at, types)) for head, at in nested.items()]

    def row(self, cells: list[str]) -> dict[str, Any]:
        row = self._own.values(cells)
        for head, columns in self._nested:
            # a relationship with nothing in it is null, as REST says
            row[head] = columns.values(cells) if any(columns.cells(cells)) else None
        return row


class _Columns:
    """Some columns of a results header, under their names (a relationship's without its prefix)."""

    def __init__(self, header: list[str], at: list[int], types: Mapping[str, str]) -> None:
        self.names = [header[i].partition(".")[2] or header[i] for i in at]
        self.cells: Callable[[list[str]], Sequence[str]] = (
            itemgetter(*at) if len(at) > 1 else lambda cells: (cells[at[0]],))
        """A row's cells in these columns, in one C call."""
        self.typed = [(name, convert) for name, i in zip(self.names, at)
                      if (convert := _CONVERTERS.get(types.get(header[i].lower(), ""))) is not None]

    def values(self, cells: list[str]) -> dict[str, Any]:
        values: dict[str, Any] = dict(zip(self.names, [cell or None for cell in self.cells(cells)]))  # empty: null
        for name, convert in self.typed:
            text = values[name]
            if text is not None:
                values[name] = convert(text)
        return values


def _boolean(text: str) -> bool:
    return text.lower() == "true"


def _number(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return kind(text)
        except ValueError:
            return text
    return convert


_CONVERTERS: dict[str, Callable[[str], Any]] = {
    "boolean": _boolean, "int": _number(int), "long": _number(int),
    **dict.fromkeys(("double", "currency", "percent"), _number(float)),
}
"""Describe type → how its CSV text becomes the REST value (text types are kept as they are)."""
