"""Sync Leads (create/update in batches): per-record checks, then one transaction that decides and writes.

A bad record is skipped with its reasons and the others are applied (MARKETO-API §5.3). Names and
lookup keys are checked here first; values are checked by the store on write, and when it refuses
the batch, each record's values are checked here, the bad ones skipped and the rest written: the
store's all-or-nothing validation never turns one bad record into a failed batch, and a clean batch
pays for one check only.

Whether a key's person exists is read in the transaction that creates or updates it, with the key
locked (`PersonStore.api.claim`), so concurrent callers with the same key never create two persons;
a transaction another writer made the database give up is run again (`PersonStore.atomically`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tandem.errors import InvalidInput
from tandem.people import activities as types
from tandem.people.api_queries import LOOKUP_FIELDS
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore
from tandem.people.validation import check_storable, coerce
from tandem.web.envelope import ApiFailure, Codes, reason
from tandem.web.parameters import MAX_ID, salesforce_id

API_SOURCE = ChangeOrigin.API


class SyncAction(StrEnum):
    CREATE_ONLY = "createOnly"
    UPDATE_ONLY = "updateOnly"
    CREATE_OR_UPDATE = "createOrUpdate"
    CREATE_DUPLICATE = "createDuplicate"


class SyncLeadsRequest(BaseModel):
    """The body of `POST /rest/v1/leads.json`; unknown top-level keys (`"asyncProcessing "`) are ignored."""

    model_config = ConfigDict(extra="ignore")

    action: SyncAction = SyncAction.CREATE_OR_UPDATE
    lookupField: str = "email"
    partitionName: str | None = None
    asyncProcessing: bool | str | None = None
    input: list[dict[str, Any]] = Field(description="Lead records by REST field name, at most 300")


class PushLeadsRequest(BaseModel):
    """The body of `POST /rest/v1/leads/push.json`: always an upsert."""

    model_config = ConfigDict(extra="ignore")

    programName: str | None = Field(None, description="Required; named by each lead's Push Lead to Marketo activity")
    lookupField: str = "email"
    source: str | None = None
    reason: str | None = None
    programStatus: str | None = None
    partitionName: str | None = None
    input: list[dict[str, Any]]


@dataclass
class _Record:
    position: int
    changes: dict[str, Any] = field(default_factory=dict)
    key: Any = None
    outcome: dict[str, Any] | None = None


DEFAULT_PARTITION = "Default"
"""Tandem's one lead partition, as a Marketo instance without workspaces has (MARKETO-API §5.8)."""


def check_partition(name: str | None) -> None:
    """Leads go to the one partition there is: another name is refused, not ignored."""
    if name is not None and name.strip() and name.strip().lower() != DEFAULT_PARTITION.lower():
        raise ApiFailure(Codes.INVALID_DATA, f"Invalid data: partitionName '{name.strip()[:60]}': the only lead "
                                             f"partition is '{DEFAULT_PARTITION}'")


UNKEPT_MARKETO_KEYS = frozenset({"cookies", "facebookId", "linkedInId", "twitterId", "leadPartitionId",
                                 "sfdcLeadOwnerId", "sfdcOpptyId"})
"""Marketo's standard filter types and lookup fields over data Tandem does not keep (MARKETO-API
§5.1, §5.3): not supported (1011), not unknown as a misspelt name is (1006)."""


def unsupported_key(name: str) -> ApiFailure:
    """1011 for a key Tandem does not look persons up by; 1006 when no field has that name."""
    if name in UNKEPT_MARKETO_KEYS:
        return ApiFailure(Codes.FIELD_NOT_SUPPORTED, f"Field '{name}' not supported: Tandem does not keep it")
    return ApiFailure(Codes.FIELD_NOT_FOUND, f"Field '{name}' not found")


def check_lookup_field(store: PersonStore, name: str, action: SyncAction) -> None:
    if name not in LOOKUP_FIELDS:
        try:
            store.fields.get(name)
        except InvalidInput:
            raise unsupported_key(name) from None
        raise ApiFailure(Codes.FIELD_NOT_SUPPORTED, f"Field '{name}' not supported")
    if name == "id" and action is not SyncAction.UPDATE_ONLY:
        raise ApiFailure(Codes.INVALID_DATA, "lookupField 'id' is only allowed with action updateOnly")


def _skipped(code: str, message: str) -> dict[str, Any]:
    return {"status": "skipped", "reasons": [reason(code, message)]}


@dataclass(frozen=True)
class _Checked:
    """A record's writable values, or the reason it is skipped (naming the first bad field)."""

    changes: dict[str, Any]
    skip: dict[str, Any] | None = None


def _checked_changes(store: PersonStore, values: dict[str, Any], keep_key: str | None,
                     check_values: bool = True) -> _Checked:
    """Names always; values too unless `check_values` is off (the store checks them again anyway)."""
    changes: dict[str, Any] = {}
    for name, raw in values.items():
        if name == keep_key:
            continue
        try:
            person_field = store.fields.get(name)
        except InvalidInput:
            return _Checked({}, _skipped(Codes.FIELD_NOT_FOUND, f"Field '{name}' not found"))
        if person_field.read_only:
            return _Checked({}, _skipped(Codes.INVALID_DATA, f"Field '{name}' is read-only"))
        try:
            if check_values:
                coerce(person_field, raw)
        except InvalidInput as error:
            code = Codes.INVALID_VALUE if error.reason.startswith("expected") else Codes.INVALID_DATA
            return _Checked({}, _skipped(code, f"Invalid value for field '{name}': {error.reason}"))
        changes[name] = raw
    return _Checked(changes)


_INVALID_KEY = object()


def _key_problem(lookup: str, raw: Any) -> dict[str, Any] | None:
    """The skip for a lookup value holding a character no database stores, naming the field."""
    if not isinstance(raw, str):
        return None
    try:
        check_storable(lookup, raw)
    except InvalidInput as error:
        return _skipped(Codes.INVALID_DATA, f"Invalid value for field '{lookup}': {error.reason}")
    return None


def _key_of(store: PersonStore, lookup: str, raw: Any) -> Any:
    """The record's lookup value as the store compares it: None if absent, `_INVALID_KEY` if unusable."""
    if raw is None or raw == "":
        return None
    if lookup == "id":
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            return _INVALID_KEY
        text = str(raw).strip()
        if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ID)):
            return _INVALID_KEY
        value = int(text)
        return value if 0 < value <= MAX_ID else _INVALID_KEY
    if not isinstance(raw, str):
        return _INVALID_KEY
    return store.api.lookup_key(lookup, salesforce_id(lookup, raw))


MAX_PROGRAM_NAME = 255
"""What the Push Lead activity's primary value (the program's name) holds."""


def sync_pushed_leads(store: PersonStore, request: PushLeadsRequest, batch_limit: int) -> list[dict[str, Any]]:
    """Push Lead: an upsert whose every created or updated person gets a Push Lead to Marketo
    activity naming the program, the source and the reason, written with it (MARKETO-API §5.5)."""
    program = (request.programName or "").strip()
    if not program:
        raise ApiFailure(Codes.MISSING_VALUE, "Missing value for the required parameter 'programName'")
    check_storable("programName", program)
    if len(program) > MAX_PROGRAM_NAME:
        raise InvalidInput("programName", f"longer than {MAX_PROGRAM_NAME} characters ({len(program)})")
    upsert = SyncLeadsRequest(action=SyncAction.CREATE_OR_UPDATE, lookupField=request.lookupField,
                              partitionName=request.partitionName, input=request.input)
    attributes = {"Source": request.source or "Web service API", "Reason": request.reason or "Web service API"}
    return sync_leads(store, upsert, batch_limit, logged=lambda ids: store.activities.log_many(
        [(pid, types.PUSH_LEAD, program, attributes) for pid in ids], existing=ids))


def sync_leads(store: PersonStore, request: SyncLeadsRequest, batch_limit: int, source: ChangeOrigin = API_SOURCE,
               logged: Callable[[list[int]], None] = lambda ids: None) -> list[dict[str, Any]]:
    """Create or update persons; one result per input record, in input order. `logged` runs in the
    same transaction with the ids of the persons written."""
    if not request.input:
        raise ApiFailure(Codes.MISSING_VALUE, "Missing value for the required parameter 'input'")
    if len(request.input) > batch_limit:
        raise ApiFailure(Codes.INVALID_DATA, f"input has {len(request.input)} records; at most {batch_limit} a call")
    lookup, action = request.lookupField, request.action
    check_partition(request.partitionName)
    check_lookup_field(store, lookup, action)
    key_is_written = lookup == "email"
    records: list[_Record] = []
    seen: set[Any] = set()
    for position, values in enumerate(request.input):
        record = _Record(position)
        records.append(record)
        if action is not SyncAction.CREATE_DUPLICATE:
            record.outcome = _key_problem(lookup, values.get(lookup))
            if record.outcome is not None:
                continue
            record.key = _key_of(store, lookup, values.get(lookup))
            if record.key is None:
                record.outcome = _skipped(Codes.MISSING_VALUE, f"Missing value for the required parameter '{lookup}'")
                continue
            if record.key is _INVALID_KEY:
                record.outcome = _skipped(Codes.INVALID_VALUE, f"Invalid value for lookup field '{lookup}'")
                continue
            if record.key in seen:
                record.outcome = _skipped(Codes.DUPLICATE_IN_INPUT, f"Duplicate {lookup} found in input")
                continue
            seen.add(record.key)
        checked = _checked_changes(store, values, None if key_is_written else lookup, check_values=False)
        record.outcome = checked.skip
        record.changes = checked.changes
    live = [r for r in records if r.outcome is None]
    try:
        outcomes = _write(store, live, lookup, action, source, logged)
    except InvalidInput:  # some value is bad: find which records, skip them, write the others
        for record in live:
            record.outcome = _checked_changes(store, record.changes, None).skip
        outcomes = _write(store, [r for r in live if r.outcome is None], lookup, action, source, logged)
    for record in live:
        record.outcome = outcomes.get(record.position, record.outcome)
    return [r.outcome or _skipped(Codes.SYSTEM_ERROR, "not processed") for r in records]


def _write(store: PersonStore, live: list[_Record], lookup: str, action: SyncAction,
           source: ChangeOrigin, logged: Callable[[list[int]], None]) -> dict[int, dict[str, Any]]:
    """Decide and write every record in one transaction; the outcome per record position.

    Any bad value rolls all of it back (InvalidInput). A deadlock or a lock held too long runs the
    whole decision again, on what the database holds by then.
    """
    if not live:
        return {}
    key_is_written = lookup == "email"
    creatable = action is not SyncAction.UPDATE_ONLY and key_is_written

    def decide_and_write() -> dict[int, dict[str, Any]]:
        outcomes: dict[int, dict[str, Any]] = {}
        creates: list[_Record] = []
        updates: list[tuple[_Record, int]] = []
        if action is SyncAction.CREATE_DUPLICATE:
            creates = list(live)
        else:
            matches = store.api.claim(lookup, [r.key for r in live])
            for record in live:
                found = matches.get(record.key, [])
                if not found and creatable:
                    creates.append(record)
                elif not found:
                    outcomes[record.position] = _skipped(Codes.LEAD_NOT_FOUND, "Lead not found")
                elif action is SyncAction.CREATE_ONLY:
                    outcomes[record.position] = _skipped(Codes.LEAD_EXISTS, "Lead already exists")
                elif len(found) > 1:
                    outcomes[record.position] = _skipped(Codes.MULTIPLE_MATCHES,
                                                         "Multiple leads match the lookup criteria")
                else:
                    updates.append((record, found[0]))
        created = store.persons.add_many([r.changes for r in creates], source) if creates else []
        if updates:
            store.persons.update_many([(pid, r.changes) for r, pid in updates], source)
        for record, person_id in zip(creates, created, strict=True):
            outcomes[record.position] = {"id": person_id, "status": "created"}
        for record, person_id in updates:
            outcomes[record.position] = {"id": person_id, "status": "updated"}
        logged([*created, *(person_id for _, person_id in updates)])
        return outcomes

    return store.atomically(decide_and_write)
