"""The partner API's data calls: query, queryMore, queryAll, search, retrieve, create, update, upsert,
delete, getUpdated and getDeleted, each one `Org` call per record as REST makes them (same FLS, rules, counting).

A record that fails is a `success=false` result beside the others (the partner default without
`AllOrNoneHeader`); a failure of the whole call (bad query, unknown field) is a fault.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from tandem.emulator.model.errors import ApiError, MalformedQuery
from tandem.emulator.model.rules import AssignmentChoice
from tandem.emulator.model.search import run_search
from tandem.emulator.soql.sosl import SoslError, parse_sosl

from tandem.emulator.wire.collections import duplicate_external_id, repeated_external_ids
from tandem.emulator.wire.rest import parse_datetime
from tandem.salesforce import ids as record_ids
from tandem.emulator.wire.soap_call import SoapCall, SoapFault, check_record_count
from tandem.emulator.wire.soap_xml import children, local, result_errors, sobject, soap_scalar, text_of, value

_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
_NOT_THERE = ("NOT_FOUND", "ENTITY_IS_DELETED", "INVALID_ID_FIELD", "MALFORMED_ID")
MAX_RETRIEVE = 2000


# -- queries --------------------------------------------------------------------------------------

def _query_result(page) -> str:
    locator = None if page.done else page.next_locator
    return ('<result xsi:type="QueryResult">' + value("done", page.done) + value("queryLocator", locator)
            + "".join(sobject("records", row) for row in page.records) + value("size", page.total_size)
            + "</result>")


def _batch_size(call: SoapCall) -> int:
    text = call.header_value("QueryOptions", "batchSize")
    try:
        return int(text) if text else 2000
    except ValueError:
        raise SoapFault("INVALID_BATCH_SIZE", f"invalid batch size: {text}") from None


def _run_query(call: SoapCall, include_deleted: bool, response: str) -> str:
    soql = text_of(call.operation, "queryString")
    if not soql:
        raise MalformedQuery("A query string has to be specified")
    page = call.org.query(call.ctx, soql, include_deleted=include_deleted, batch_size=_batch_size(call),
                          api_version=call.version)
    return f"<{response}>{_query_result(page)}</{response}>"


def query(call: SoapCall) -> str:
    return _run_query(call, False, "queryResponse")


def query_all(call: SoapCall) -> str:
    return _run_query(call, True, "queryAllResponse")


def query_more(call: SoapCall) -> str:
    locator = text_of(call.operation, "queryLocator") or ""
    page = call.org.query_more(call.ctx, locator, api_version=call.version)
    return f"<queryMoreResponse>{_query_result(page)}</queryMoreResponse>"


def search(call: SoapCall) -> str:
    """SOSL over SOAP: `<searchRecords><record xsi:type="sf:sObject">…</record></searchRecords>` per match."""
    try:
        parsed = parse_sosl(text_of(call.operation, "searchString") or "")
    except SoslError as exc:
        raise SoapFault("MALFORMED_SEARCH", exc.message) from None
    rows = run_search(call.org, call.ctx, parsed, call.version)
    records = "".join(f"<searchRecords>{sobject('record', row)}</searchRecords>" for row in rows)
    return f"<searchResponse><result>{records}</result></searchResponse>"


def retrieve(call: SoapCall) -> str:
    field_list = text_of(call.operation, "fieldList") or ""
    sobject_type = text_of(call.operation, "sObjectType") or ""
    ids = [(e.text or "").strip() for e in children(call.operation, "ids")]
    if len(ids) > MAX_RETRIEVE:
        raise SoapFault("EXCEEDED_ID_LIMIT", f"too many ids: at most {MAX_RETRIEVE} per retrieve")
    names = [name.strip() for name in field_list.split(",") if name.strip()]
    if not names:
        raise MalformedQuery("fieldList: at least one field name is required")
    if call.org.schema.object(sobject_type) is None:
        raise ApiError(f"sObject type '{sobject_type}' is not supported.", error_code="INVALID_TYPE")
    results = []
    for record_id in ids:
        try:
            row = call.org.retrieve(call.ctx, sobject_type, record_id, names, call.version)
        except ApiError as exc:
            if exc.error_code not in _NOT_THERE:
                raise
            results.append('<result xsi:nil="true"/>')
            continue
        results.append(sobject("result", row))
    return "<retrieveResponse>" + "".join(results) + "</retrieveResponse>"


# -- writes ---------------------------------------------------------------------------------------

def _field_value(e: Element) -> object:
    if e.get(_NIL) == "true":
        return None
    if len(e):
        return {local(c): _field_value(c) for c in e if local(c) != "type"}
    return e.text or ""


def sobject_fields(e: Element) -> tuple[str, str | None, dict]:
    """An `<sObjects>` element → (type, Id or None, field values); `fieldsToNull` names become None."""
    kind, record_id, fields = "", None, {}
    for child in e:
        name = local(child)
        if name == "type":
            kind = (child.text or "").strip()
        elif name == "Id":
            record_id = (child.text or "").strip() or None
        elif name == "fieldsToNull":
            if (child.text or "").strip():
                fields[(child.text or "").strip()] = None
        else:
            fields[name] = _field_value(child)
    return kind, record_id, fields


def _assignment_rules(call: SoapCall) -> AssignmentChoice:
    """AssignmentRuleHeader: `assignmentRuleId` names the rule to run (a malformed one fails the call,
    MALFORMED_ID), `useDefaultRule` true the active rule; without the header no rule runs."""
    rule_id = (call.header_value("AssignmentRuleHeader", "assignmentRuleId") or "").strip()
    if rule_id:
        if not record_ids.is_well_formed(rule_id):
            raise SoapFault("MALFORMED_ID", f"invalid assignment rule id: {rule_id}", "InvalidIdFault")
        return record_ids.to_18(rule_id)
    return (call.header_value("AssignmentRuleHeader", "useDefaultRule") or "").lower() == "true"


def _full_id(record_id: str) -> str:
    return record_ids.to_18(record_id) if record_ids.is_well_formed(record_id) else record_id


def _saved(record_id: str) -> str:
    return "<result>" + value("id", record_id) + value("success", True) + "</result>"


def _failed(exc: ApiError, record_id: str | None = None, upsert: bool = False) -> str:
    created = value("created", False) if upsert else ""
    return "<result>" + created + result_errors(exc) + value("id", record_id) + value("success", False) + "</result>"


def _records(call: SoapCall) -> list[Element]:
    found = children(call.operation, "sObjects")
    check_record_count(len(found))
    return found


def create(call: SoapCall) -> str:
    results = []
    assignment = _assignment_rules(call)
    for item in _records(call):
        kind, given_id, fields = sobject_fields(item)
        if given_id:  # refused by the model: an insert sets no Id
            fields = {**fields, "Id": given_id}
        try:
            record_id = call.org.create(call.ctx, kind, fields, assignment_rules=assignment)
            results.append(_saved(record_id))
        except ApiError as exc:
            results.append(_failed(exc))
    return "<createResponse>" + "".join(results) + "</createResponse>"


def update(call: SoapCall) -> str:
    results = []
    assignment = _assignment_rules(call)
    for item in _records(call):
        kind, record_id, fields = sobject_fields(item)
        try:
            if not record_id:
                raise ApiError("Id not specified in an update call", error_code="MISSING_ARGUMENT")
            call.org.update(call.ctx, kind, record_id, fields, assignment_rules=assignment)
            results.append(_saved(_full_id(record_id)))
        except ApiError as exc:
            results.append(_failed(exc, record_id))
    return "<updateResponse>" + "".join(results) + "</updateResponse>"


def upsert(call: SoapCall) -> str:
    external = text_of(call.operation, "externalIDFieldName") or ""
    if not external:
        raise SoapFault("MISSING_ARGUMENT", "externalIDFieldName not specified")
    results = []
    assignment = _assignment_rules(call)
    items = [sobject_fields(item) for item in _records(call)]

    def key_of(record_id: str | None, fields: dict) -> object:
        key = next((name for name in fields if name.lower() == external.lower()), None)
        return record_id if external.lower() == "id" else (fields.get(key) if key else None)

    repeated = repeated_external_ids(call.org, items[0][0] if items else "", external,
                                     [key_of(record_id, fields) for _, record_id, fields in items])
    for kind, record_id, fields in items:
        key_value = key_of(record_id, fields)
        try:
            if key_value in (None, ""):
                raise ApiError(f"{external} not specified", error_code="MISSING_ARGUMENT", fields=[external])
            if repeated(key_value):
                raise duplicate_external_id(external, key_value)
            saved_id, created = call.org.upsert(call.ctx, kind, external, key_value, fields,
                                                assignment_rules=assignment)
            results.append("<result>" + value("created", created) + value("id", saved_id)
                           + value("success", True) + "</result>")
        except ApiError as exc:
            results.append(_failed(exc, record_id, upsert=True))
    return "<upsertResponse>" + "".join(results) + "</upsertResponse>"


def delete(call: SoapCall) -> str:
    """`<ids>` per the WSDL; `<id>` too, as some clients name it."""
    ids = [(e.text or "").strip() for e in call.operation if local(e) in ("ids", "id")]
    check_record_count(len(ids))
    results = []
    for record_id in ids:
        try:
            obj = call.org.schema.object_for_id(record_id) if record_id else None
            if obj is None:
                raise ApiError("invalid record id", error_code="INVALID_ID_FIELD")
            call.org.delete(call.ctx, obj.name, record_id)
            results.append(_saved(_full_id(record_id)))
        except ApiError as exc:
            results.append(_failed(exc, record_id or None))
    return "<deleteResponse>" + "".join(results) + "</deleteResponse>"


# -- replication ----------------------------------------------------------------------------------

def _window(call: SoapCall):
    start, end = text_of(call.operation, "startDate"), text_of(call.operation, "endDate")
    if not start or not end:
        raise SoapFault("MISSING_ARGUMENT", "startDate and endDate are required")
    return parse_datetime(start, "startDate"), parse_datetime(end, "endDate")


def get_updated(call: SoapCall) -> str:
    start, end = _window(call)
    body = call.org.updated(call.ctx, text_of(call.operation, "sObjectType") or "", start, end)
    return ("<getUpdatedResponse><result>" + "".join(value("ids", i) for i in body["ids"])
            + value("latestDateCovered", soap_scalar(body["latestDateCovered"])) + "</result></getUpdatedResponse>")


def get_deleted(call: SoapCall) -> str:
    start, end = _window(call)
    body = call.org.deleted(call.ctx, text_of(call.operation, "sObjectType") or "", start, end)
    records = "".join(
        "<deletedRecords>" + value("deletedDate", soap_scalar(r["deletedDate"])) + value("id", r["id"])
        + "</deletedRecords>" for r in body["deletedRecords"]
    )
    return ("<getDeletedResponse><result>" + records
            + value("earliestDateAvailable", soap_scalar(body["earliestDateAvailable"]))
            + value("latestDateCovered", soap_scalar(body["latestDateCovered"]))
            + "</result></getDeletedResponse>")


CALLS = {
    "query": query, "queryAll": query_all, "queryMore": query_more, "retrieve": retrieve, "search": search,
    "create": create, "update": update, "upsert": upsert, "delete": delete,
    "getUpdated": get_updated, "getDeleted": get_deleted,
}
WRITES = frozenset({"create", "update", "upsert", "delete"})
