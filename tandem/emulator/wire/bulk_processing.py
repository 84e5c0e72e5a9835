"""Running Bulk 2.0 jobs on the model: CSV rows become typed field values and Org calls, rows become results."""

from __future__ import annotations

import csv
import io
import time
from typing import Any, Callable

from tandem.emulator.jobs import IngestJob, QueryJob, bulk_value, error_text, flatten, row_endings_match
from tandem.emulator.model.errors import ApiError, LimitExceeded
from tandem.emulator.model.rules import AssignmentChoice, assignment_choice
from tandem.emulator.model.values import parse_date, parse_datetime
from tandem.emulator.wire.collections import duplicate_external_id, repeated_external_ids

BATCH_ROWS = 10_000
"""Salesforce splits an ingest job's data into a batch per 10,000 records; each counts against
`DailyBulkApiBatches`, which Bulk API 2.0 ingest shares with Bulk API (query jobs use none)."""
_NUMBER_TYPES = {"double", "currency", "percent"}
_ALWAYS_KNOWN = {"id"}
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


class FieldCatalog:
    """The object's fields by lower-case name, for typing CSV cells and resolving `Rel.ExtField` columns."""

    def __init__(self, org: Any, ctx: Any, object_name: str) -> None:
        self.org, self.ctx = org, ctx
        describe = org.describe(ctx, object_name)
        self.object_name = describe.get("name", object_name)
        self.fields = {f["name"].lower(): f for f in describe.get("fields", [])}
        self.relationships = {
            f["relationshipName"].lower(): f for f in describe.get("fields", []) if f.get("relationshipName")
        }
        self.parents: dict[str, dict[str, dict]] = {}
        """Parent object → its fields by lower-case name, as the user sees them (described on first use)."""

    def header_error(self, header: list[str]) -> str | None:
        """Why the header cannot be loaded (the message after `InvalidBatch : `), or None.

        A `Rel.Field` column must name a field of the parent the user can see (else it is not found)
        that is an external Id or an Id lookup (else Salesforce refuses it as not indexed)."""
        unknown, not_indexed = [], []
        for column in header:
            name = column.lower()
            if "." in name:
                relationship, field_name = name.split(".", 1)
                if relationship not in self.relationships:
                    unknown.append(column)
                    continue
                target, field = self._parent_field(column)
                if field is None:
                    unknown.append(column)
                elif not (field.get("idLookup") or field.get("externalId")):
                    not_indexed.append(f"Field name provided, {field['name']} is not an External ID or indexed "
                                       f"field for {target}")
            elif name not in self.fields and name not in _ALWAYS_KNOWN:
                unknown.append(column)
        if unknown:
            return f"Field name not found : {', '.join(unknown)}"
        return not_indexed[0] if not_indexed else None

    def _parent_field(self, column: str) -> tuple[str, dict | None]:
        """The parent object a `Rel.Field` column points at, and that field as the user sees it."""
        relationship, field_name = column.split(".", 1)
        reference = self.relationships[relationship.lower()]
        target = (reference.get("referenceTo") or [relationship])[0]
        if target not in self.parents:
            try:
                described = self.org.describe(self.ctx, target).get("fields", [])
            except ApiError:
                described = []
            self.parents[target] = {f["name"].lower(): f for f in described}
        return target, self.parents[target].get(field_name.lower())

    def typed(self, column: str, text: str, position: int = 0) -> tuple[str, Any]:
        """(field name, value) for one cell; `#N/A` is null. A cell its field's type cannot read fails
        as Salesforce words it, naming its column (`position`, from 1)."""
        if "." in column:
            return self._lookup(column, text)
        if text == "#N/A":
            return column, None
        field = self.fields.get(column.lower(), {})
        kind = field.get("type")
        try:
            if kind == "boolean":
                return column, _BOOLEANS[text.strip().lower()]
            if kind == "int":
                return column, int(text)
            if kind in _NUMBER_TYPES:
                return column, float(text)
            if kind in ("date", "datetime") and parse_date(text) is None and parse_datetime(text) is None:
                raise ValueError(text)
        except (KeyError, ValueError):
            raise ApiError(f"Failed to deserialize field at col {position}. Due to, '{text}' is not a valid value "
                           f"for the type {field.get('soapType')}", error_code="INVALID_FIELD",
                           fields=[field.get("name", column)]) from None
        return column, text

    def _lookup(self, column: str, text: str) -> tuple[str, Any]:
        relationship, ext_field = column.split(".", 1)
        reference = self.relationships[relationship.lower()]
        if text == "#N/A":
            return reference["name"], None
        target, field = self._parent_field(column)
        ext_field = field["name"] if field is not None else ext_field
        escaped = text.replace("\\", "\\\\").replace("'", "\\'")
        page = self.org.query(self.ctx, f"SELECT Id FROM {target} WHERE {ext_field} = '{escaped}'")
        if len(page.records) > 1:
            found = ", ".join(record["Id"] for record in page.records)
            label = field["label"] if field is not None else ext_field
            raise ApiError(f"{label}: more than one record found for external id field: [{found}]",
                           error_code="DUPLICATE_EXTERNAL_ID")
        if not page.records:
            raise ApiError(
                f"Foreign key external ID: {text} not found for field {ext_field} in entity {target}",
                error_code="INVALID_FIELD",
            )
        return reference["name"], page.records[0]["Id"]


def _read_rows(job: IngestJob, texts: list[str]) -> tuple[list[str], list[list[str]]]:
    header: list[str] = []
    rows: list[list[str]] = []
    for text in texts:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=job.delimiter)
        chunk = [row for row in reader if row]
        if not chunk:
            continue
        if not header:
            header = chunk[0]
        rows.extend(chunk[1:])
    return header, rows


def run_ingest(org: Any, ctx: Any, job: IngestJob) -> None:
    """Apply every uploaded row; each row succeeds or fails on its own, as in Salesforce."""
    started = time.monotonic()
    job.move_to("InProgress")
    try:
        texts = [upload.decode("utf-8-sig") for upload in job.uploads]
    except UnicodeDecodeError as exc:  # Bulk API 2.0 reads UTF-8 only
        _fail(job, f"ClientInputError : Data is not valid UTF-8 (byte 0x{exc.object[exc.start]:02x} at "
                   f"position {exc.start})", [])
        return
    header, rows = _read_rows(job, texts)
    job.header = header
    if not all(row_endings_match(text, job.newline) for text in texts):
        _fail(job, f"ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is "
                   f"{job.line_ending}", rows)
        return
    try:
        catalog = FieldCatalog(org, ctx, job.object)
    except ApiError as exc:
        _fail(job, f"InvalidJob : {exc.message}", rows)
        return
    problem = catalog.header_error(header) if header else "Field name not found : (no header)"
    if problem:
        _fail(job, f"InvalidBatch : {problem}", rows)
        return
    for start in range(0, len(rows), BATCH_ROWS):
        try:  # each 10,000 rows are a batch against the org's daily Bulk API batch allocation
            org.count_bulk_batch()
        except LimitExceeded as exc:
            _fail(job, f"InvalidBatch : {exc.message}", rows[start:])
            return
        batch = [dict(zip(header, row + [""] * (len(header) - len(row)))) for row in rows[start:start + BATCH_ROWS]]
        repeated = repeated_keys(org, job, catalog, batch)
        for row, cells in zip(rows[start:start + BATCH_ROWS], batch):
            try:
                record_id, created = apply_row(org, ctx, job, catalog, cells, repeated=repeated)
                job.successful.append([record_id, "true" if created else "false", *row])
            except ApiError as exc:
                job.failures.append([_cell(cells, "Id") or "", error_text(exc.error_code, exc.message, exc.fields),
                                     *row])
                job.failed += 1
            job.processed += 1
    job.processing_ms = int((time.monotonic() - started) * 1000)
    job.move_to("JobComplete")


def _fail(job: IngestJob, message: str, rows: list[list[str]]) -> None:
    job.error_message = message
    job.unprocessed.extend(rows)
    job.move_to("Failed")


def repeated_keys(org: Any, job: Any, catalog: FieldCatalog, batch: list[dict[str, Any]]) -> Callable[[object], bool]:
    """Which external-Id values an upsert batch gives to more than one row: Salesforce fails each such
    row instead of creating the first and updating it with the next."""
    if job.operation != "upsert":
        return lambda value: False
    field = job.external_id_field or "Id"
    return repeated_external_ids(org, catalog.object_name, field, [_cell(cells, field) for cells in batch])


def _cell(cells: dict[str, Any], name: str) -> Any:
    return next((v for k, v in cells.items() if k.lower() == name.lower()), "")


def apply_row(org: Any, ctx: Any, job: Any, catalog: FieldCatalog, cells: dict[str, Any],
              fields: dict[str, Any] | None = None, *,
              repeated: Callable[[object], bool] = lambda value: False) -> tuple[str, bool]:
    """Write one row by the job's operation (`operation`, `external_id_field`, `assignment_rule_id`);
    `fields` are the typed values to write, drawn from the CSV `cells` when not given; an upsert row
    whose key is `repeated` in its batch fails."""
    record_id = str(next((v for k, v in cells.items() if k.lower() == "id"), "") or "")
    if job.operation in ("delete", "hardDelete"):
        return org.delete(ctx, catalog.object_name, record_id), False
    if fields is None:
        fields = dict(catalog.typed(k, v, column) for column, (k, v) in enumerate(cells.items(), 1)
                      if v != "" and k.lower() != "id")
    if job.operation == "insert":
        if record_id not in ("", "#N/A"):  # refused by the model: an insert sets no Id
            fields = {**fields, "Id": record_id}
        return org.create(ctx, catalog.object_name, fields, assignment_rules=_assignment(job)), True
    if job.operation == "update":
        if not record_id:
            raise ApiError("Id not specified in an update call", error_code="MISSING_ARGUMENT", fields=["Id"])
        return org.update(ctx, catalog.object_name, record_id, fields), False
    ext_field = job.external_id_field or "Id"
    ext_value = str(_cell(cells, ext_field) or "")
    if not ext_value:
        raise ApiError(f"{ext_field} not specified", error_code="MISSING_ARGUMENT", fields=[ext_field])
    if repeated(ext_value):
        raise duplicate_external_id(ext_field, ext_value)
    fields = {k: v for k, v in fields.items() if k.lower() != ext_field.lower()}
    return org.upsert(ctx, catalog.object_name, ext_field, ext_value, fields, assignment_rules=_assignment(job))


def _assignment(job) -> AssignmentChoice:
    """A job's `assignmentRuleId` runs that rule on inserts and upserts; without one, none runs."""
    return assignment_choice(job.assignment_rule_id) if job.assignment_rule_id else False


def run_query(org: Any, ctx: Any, job: QueryJob) -> None:
    """Run the query to completion and keep its rows as CSV cells (header in SELECT order)."""
    started = time.monotonic()
    job.move_to("InProgress")
    rows = org.query_all_rows(ctx, job.query, include_deleted=job.operation == "queryAll")
    header: list[str] | None = None
    for record in rows:
        if dict in map(type, record.values()):  # a compound field (an address) becomes its columns
            record = flatten(record)
        if header is None:  # the rows' own output names, in SELECT order
            header = list(record)
        # text and null cells, most of a result, without a call each
        job.rows.append([v if type(v) is str else "" if v is None else bulk_value(v) for v in map(record.get, header)])
    job.columns = header if header is not None else list(rows.columns)
    job.processed = len(job.rows)
    job.processing_ms = int((time.monotonic() - started) * 1000)
    job.move_to("JobComplete")
