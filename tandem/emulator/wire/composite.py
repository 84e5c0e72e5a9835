"""`composite` (referenceId chaining, allOrNone) and `composite/batch` (independent subrequests).

Subrequests run through the same route table as direct calls, in this thread, so that an
allOrNone composite can hold one model transaction around all of them. That table is the one
these two routes are mounted in (`mount`): the data API owns it, composite only borrows it.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import replace
from typing import Any

from tandem.emulator.model.errors import ApiError

from tandem.emulator.wire.calls import ApiCall, parse_version, require_json_object
from tandem.emulator.wire.replies import Reply, error_entry, status_error
from tandem.emulator.wire.routing import ApiRequest, RouteTable, split_data_url

MAX_SUBREQUESTS = 25
MAX_QUERY_SUBREQUESTS = 5
"""Of a composite call's subrequests, how many may be queries (query, queryAll, their next pages) or
sObject Collections."""
_QUERY_URL_RE = re.compile(r"^/?(?:services/data/)?v\d+\.\d+/(?:query|queryAll|composite/sobjects)(?:[/?]|$)",
                           re.IGNORECASE)
_REFERENCE_ID_RE = re.compile(r"^[A-Za-z0-9_]+$")
_REFERENCE_RE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_PATH_STEP_RE = re.compile(r"\.([A-Za-z0-9_]+)|\[(\d+)\]")
HALTED = {
    "errorCode": "PROCESSING_HALTED",
    "message": "The transaction was rolled back since another operation in the same transaction failed.",
}


class _Unresolved(Exception):
    """A reference to a subrequest that failed or has no such value."""


class _RollBack(Exception):
    """Raised inside the transaction to undo an allOrNone composite."""


def run_subrequest(table: RouteTable, call: ApiCall, method: str, url: str, body: Any,
                   headers: dict | None = None) -> Reply:
    """Dispatch one subrequest through `table`; errors come back as replies."""
    try:
        version_segment, path, query = split_data_url(url)
        version = parse_version(call.org, version_segment)
    except ApiError as exc:
        return Reply(exc.status, [error_entry(each) for each in exc.each()])
    merged = dict(call.headers)
    merged.update({k.lower(): str(v) for k, v in (headers or {}).items()})
    sub_call = replace(call, version=version, headers=merged)
    raw = b"" if body is None else json.dumps(body).encode("utf-8")
    return table.dispatch(sub_call, ApiRequest(method.upper(), path, query, raw))


def _lookup(results: dict[str, Any], ref: str, path: str) -> Any:
    if ref not in results:
        raise _Unresolved(ref)
    value = results[ref]
    for name, index in _PATH_STEP_RE.findall(path):
        try:
            value = value[int(index)] if index else value[name]
        except (KeyError, IndexError, TypeError):
            raise _Unresolved(ref + path) from None
    return value


def resolve(value: Any, results: dict[str, Any]) -> Any:
    """Replace `@{ref.path}` in strings (a whole-string reference keeps the value's JSON type)."""
    if isinstance(value, str):
        whole = _REFERENCE_RE.fullmatch(value)
        if whole:
            return _lookup(results, whole.group(1), whole.group(2))
        return _REFERENCE_RE.sub(lambda m: str(_lookup(results, m.group(1), m.group(2))), value)
    if isinstance(value, list):
        return [resolve(item, results) for item in value]
    if isinstance(value, dict):
        return {key: resolve(item, results) for key, item in value.items()}
    return value


def _names_method_and_url(sub: Any) -> bool:
    return isinstance(sub, dict) and all(isinstance(sub.get(key), str) and sub[key] for key in ("method", "url"))


def _validate(subrequests: Any) -> list[dict]:
    if not isinstance(subrequests, list) or not subrequests:
        raise status_error(400, "INVALID_INPUT", "compositeRequest is required")
    if len(subrequests) > MAX_SUBREQUESTS:
        raise status_error(400, "INVALID_INPUT", "A composite request can contain up to 25 subrequests")
    seen = set()
    for sub in subrequests:
        if not _names_method_and_url(sub):
            raise status_error(400, "INVALID_INPUT", "Each subrequest needs method and url")
        reference_id = sub.get("referenceId")
        if not isinstance(reference_id, str) or not _REFERENCE_ID_RE.match(reference_id):
            raise status_error(400, "INVALID_INPUT", "Each subrequest needs an alphanumeric referenceId")
        if reference_id in seen:
            raise status_error(400, "INVALID_INPUT", f"Duplicate referenceId: {reference_id}")
        seen.add(reference_id)
    if sum(1 for sub in subrequests if _QUERY_URL_RE.match(str(sub["url"]))) > MAX_QUERY_SUBREQUESTS:
        raise status_error(400, "INVALID_INPUT", f"A composite request can contain up to {MAX_QUERY_SUBREQUESTS} "
                                                 "query or sObject Collections subrequests")
    return subrequests


def _entry(sub: dict, reply: Reply) -> dict:
    headers = {("Location" if k.lower() == "location" else k): v for k, v in reply.headers.items()}
    return {"body": reply.body, "httpHeaders": headers, "httpStatusCode": reply.status,
            "referenceId": sub["referenceId"]}


def _halted(sub: dict, message: str = HALTED["message"]) -> dict:
    return {"body": [{"errorCode": "PROCESSING_HALTED", "message": message}], "httpHeaders": {},
            "httpStatusCode": 400, "referenceId": sub["referenceId"]}


def _run_all(table: RouteTable, call: ApiCall, subrequests: list[dict], all_or_none: bool) -> list[dict]:
    results: dict[str, Any] = {}
    entries: list[dict] = []
    for sub in subrequests:
        try:
            url = resolve(sub["url"], results)
            body = resolve(sub.get("body"), results)
        except _Unresolved as missing:
            entries.append(_halted(sub, f"Invalid reference specified. No value for {missing} found."))
            if all_or_none:
                raise _RollBack(entries)
            continue
        reply = run_subrequest(table, call, sub["method"], url, body, sub.get("httpHeaders"))
        entries.append(_entry(sub, reply))
        if reply.status < 400:
            results[sub["referenceId"]] = reply.body
        elif all_or_none:
            raise _RollBack(entries)
    return entries


def composite(table: RouteTable, call: ApiCall, request: ApiRequest) -> Reply:
    body = require_json_object(request.json())
    subrequests = _validate(body.get("compositeRequest"))
    if not (body.get("allOrNone") is True or str(body.get("allOrNone")).lower() == "true"):
        return Reply(200, {"compositeResponse": _run_all(table, call, subrequests, False)})
    try:
        with call.org.transaction():
            entries = _run_all(table, call, subrequests, True)
    except _RollBack as rollback:
        done = rollback.args[0]
        failed = done[-1]
        entries = [_halted(sub) for sub in subrequests]
        entries[len(done) - 1] = failed
    return Reply(200, {"compositeResponse": entries})


def composite_batch(table: RouteTable, call: ApiCall, request: ApiRequest) -> Reply:
    """Independent subrequests, each counted against the daily API limit as Salesforce counts them
    (a `composite` call, by contrast, counts once whatever it holds)."""
    body = require_json_object(request.json())
    batch = body.get("batchRequests")
    if not isinstance(batch, list) or not batch:
        raise status_error(400, "INVALID_INPUT", "batchRequests is required")
    if len(batch) > MAX_SUBREQUESTS:
        raise status_error(400, "INVALID_INPUT", "A batch request can contain up to 25 subrequests")
    if not all(_names_method_and_url(sub) for sub in batch):  # before any runs: a refused call writes nothing
        raise status_error(400, "INVALID_INPUT", "Each batch request needs method and url")
    halt = body.get("haltOnError") is True
    results, halted, has_errors = [], False, False
    for sub in batch:
        if halted:
            results.append({"statusCode": 412, "result": [
                {"errorCode": "BATCH_PROCESSING_HALTED", "message": "Batch processing halted per request"}]})
            continue
        try:
            if results:  # each subrequest is an API call; the batch's own count paid for the first
                call.org.count_api_call()
        except ApiError as exc:
            reply = Reply(exc.status, [error_entry(each) for each in exc.each()])
        else:
            reply = run_subrequest(table, call, sub["method"], sub["url"], sub.get("richInput"))
        results.append({"statusCode": reply.status, "result": reply.body})
        if reply.status >= 400:
            has_errors = True
            halted = halt
    return Reply(200, {"hasErrors": has_errors, "results": results})


def mount(table: RouteTable) -> None:
    """Serve `composite` and `composite/batch` from `table`, dispatching their subrequests through it."""
    table.route("POST", "composite")(functools.partial(composite, table))
    table.route("POST", "composite/batch")(functools.partial(composite_batch, table))
