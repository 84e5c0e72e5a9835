"""Injected failures of single records in sObject Collections, shaped as Salesforce reports them.

A refused record is not written; its neighbours are (allOrNone=false), or the whole call rolls
back (allOrNone=true), exactly as for a record the org itself refuses.
"""

from __future__ import annotations

from tandem.emulator.model.errors import ApiError

from tandem.emulator.wire.calls import ApiCall

_TRIGGER_EVENTS = {"create": "Insert", "update": "Update", "upsert": "Update", "delete": "Delete"}
DUPLICATE_MESSAGE = "Use one of these records?"
DUPLICATE_RULE_MESSAGE = "You're creating a duplicate record. We recommend you use an existing record instead."


class RecordRefusal(ApiError):
    """A per-record error with more than statusCode, message and fields (a duplicate rule's result)."""

    def __init__(self, message: str, *, error_code: str, details: dict | None = None) -> None:
        super().__init__(message, error_code=error_code)
        self.details = dict(details or {})


def refuse_if_drawn(call: ApiCall, operation: str, sobject: str, record_id: str | None = None) -> None:
    """Raise the injected failure for this record, if the draw gives it one."""
    if call.record_faults is None:
        return
    kind = call.record_faults(operation)
    if kind is not None:
        raise _refusal(call, kind, operation, sobject, record_id)


def _refusal(call: ApiCall, kind: str, operation: str, sobject: str, record_id: str | None) -> RecordRefusal:
    if kind == "recordUnableToLockRow":
        return RecordRefusal("unable to obtain exclusive access to this record", error_code="UNABLE_TO_LOCK_ROW")
    if kind == "recordEntityIsLocked":
        return RecordRefusal("the entity is locked for editing", error_code="ENTITY_IS_LOCKED")
    if kind == "recordDuplicatesDetected":
        obj = call.org.schema.object(sobject)
        result = duplicate_result(call, obj.name, record_id) if obj is not None else {}
        return RecordRefusal(DUPLICATE_MESSAGE, error_code="DUPLICATES_DETECTED", details={"duplicateResult": result})
    trigger = f"{sobject.removesuffix('__c')}Trigger"
    return RecordRefusal(
        f"{trigger}: execution of Before{_TRIGGER_EVENTS[operation]}\n\ncaused by: System.DmlException: "
        f"a record refused by the org's automation\n\nTrigger.{trigger}: line 12, column 1",
        error_code="CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
    )


def duplicate_result(call: ApiCall, sobject: str, record_id: str | None) -> dict:
    """A standard duplicate rule's blocking result, matching another record of the object if there is one."""
    matches = []
    for other in _other_record_ids(call, sobject, record_id):
        url = f"/services/data/v{call.version}/sobjects/{sobject}/{other}"
        matches.append({"additionalInformation": [], "fieldDiffs": [], "matchConfidence": 100.0,
                        "record": {"attributes": {"type": sobject, "url": url}, "Id": other}})
    return {
        "allowSave": False,
        "duplicateRule": f"Standard_{sobject}_Duplicate_Rule",
        "duplicateRuleEntityType": sobject,
        "errorMessage": DUPLICATE_RULE_MESSAGE,
        "matchResults": [{"entityType": sobject, "errors": [], "matchEngine": "FuzzyMatchEngine",
                          "matchRecords": matches, "rule": f"Standard_{sobject}_Match_Rule_v1_0",
                          "size": len(matches), "success": True}],
    }


def _other_record_ids(call: ApiCall, sobject: str, record_id: str | None) -> list[str]:
    try:
        page = call.org.query(call.ctx, f"SELECT Id FROM {sobject} ORDER BY Id LIMIT 2", api_version=call.version)
    except ApiError:
        return []
    own = (record_id or "")[:15]
    return [row["Id"] for row in page.records if row["Id"][:15] != own][:1]
