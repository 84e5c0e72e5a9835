"""Bulk API 2.0 query jobs: one job, its results read in large CSV chunks, rows typed as REST's.

A query job's results come back as CSV, every value a string and an empty cell for null. Rows
are turned back into the shape the REST query answers (`true` a bool, a number a number, an
`Account.Name` column an `Account` object), so whoever reads them cannot tell the two apart.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator, Mapping
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
_BOOLEAN = frozenset({"boolean"})
_INTEGER = frozenset({"int", "long"})
_NUMBER = frozenset({"double", "currency", "percent"})
_DONE = "JobComplete"
_FAILED = frozenset({"Failed", "Aborted"})


def bulk_job_calls(rows: int, chunk: int = RESULT_CHUNK) -> int:
    """The fewest calls a query job of `rows` rows costs: its start, one look at its state, and a
    results request per `chunk` rows."""
    return 2 + max(1, -(-rows // chunk))


def query_job(client: SalesforceClient, soql: str, *, include_deleted: bool = False,
              pause: Callable[[float], None] = time.sleep, longest_pause: float = 10.0) -> str:
    """Start a query job and wait for it to complete; returns the job's Id."""
    job = client.request("POST", "jobs/query", json={
        "operation": "queryAll" if include_deleted else "query", "query": soql,
        "contentType": "CSV", "columnDelimiter": "COMMA", "lineEnding": "LF",
    }).json()
    job_id = str(job["id"])
    wait = 0.0
    while True:
        pause(wait)
        info = client.request("GET", f"jobs/query/{job_id}").json()
        state = info.get("state")
        if state == _DONE:
            return job_id
        if state in _FAILED:
            raise SalesforceError(f"the Bulk query job {job_id} ended {state}: "
                                  f"{info.get('errorMessage') or 'no reason given'}", error_code=f"BULK_{state}".upper())
        wait = min(max(wait * 2, 0.5), longest_pause)


def result_rows(client: SalesforceClient, job_id: str, types: Mapping[str, str], size: int, *,
                chunk: int = RESULT_CHUNK, attempts: int = 3) -> Iterator[list[dict[str, Any]]]:
    """The job's rows, typed as REST answers them, `size` at a time, read as they download (one
    results request per `chunk` rows): no results request is ever held whole in memory.

    A download that breaks off is asked again from the same place, the rows already handed over
    skipped (a job's results are fixed: the same request answers the same rows)."""
    locator: str | None = None
    while True:
        params: dict[str, Any] = {"maxRecords": chunk}
        if locator:
            params["locator"] = locator
        handed = 0
        for attempt in range(1, attempts + 1):
            response = client.request("GET", f"jobs/query/{job_id}/results", params=params,
                                      headers={"Accept": "text/csv"}, stream=True)
            try:
                for batch in _streamed_rows(response, types, size, skip=handed):
                    handed += len(batch)
                    yield batch
                break
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
                if attempt == attempts:
                    raise TransientError(f"the Bulk query job {job_id}'s results broke off "
                                         f"({type(error).__name__}) {attempts} times") from None
            finally:
                response.close()
        following = response.headers.get("Sforce-Locator")
        if not following or following == "null":
            return
        locator = following


def _streamed_rows(response: requests.Response, types: Mapping[str, str], size: int,
                   skip: int = 0) -> Iterator[list[dict[str, Any]]]:
    response.raw.decode_content = True  # a gzip answer is inflated as it is read
    response.raw.auto_close = False  # at its end the body answers b"", as a file wrapped in text does
    text = io.TextIOWrapper(io.BufferedReader(response.raw, _READ_SIZE), encoding="utf-8", newline="")
    reader = csv.reader(text)
    header = next(reader, None)
    if not header:
        return
    batch: list[dict[str, Any]] = []
    for cells in reader:
        if not cells:
            continue
        if skip:
            skip -= 1
            continue
        batch.append(typed_row(dict(zip(header, cells)), types))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def typed_row(cells: Mapping[str, str], types: Mapping[str, str]) -> dict[str, Any]:
    """A CSV row as the REST query would answer it; `types` names the describe type of a column
    (case-insensitive) where it is not text."""
    row: dict[str, Any] = {}
    for column, text in cells.items():
        value: Any = None if text == "" else _typed(text, types.get(column.lower()))
        head, dot, tail = column.partition(".")
        if dot:
            parent = row.get(head)
            if parent is None:
                parent = row[head] = {}
            parent[tail] = value
        else:
            row[column] = value
    for name, value in list(row.items()):  # a relationship with nothing in it is null, as REST says
        if isinstance(value, dict) and all(v is None for v in value.values()):
            row[name] = None
    return row


def _typed(text: str, sf_type: str | None) -> Any:
    if sf_type in _BOOLEAN:
        return text.lower() == "true"
    if sf_type in _INTEGER:
        try:
            return int(text)
        except ValueError:
            return text
    if sf_type in _NUMBER:
        try:
            return float(text)
        except ValueError:
            return text
    return text
