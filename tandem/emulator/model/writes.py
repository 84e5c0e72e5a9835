"""Create, update, upsert and delete with Salesforce's checks, in Salesforce's order.

Order: converted-lead lock, field names and field-level security, value types, references,
required fields, unique values, validation rules, assignment rules, then the audit stamps.
"""

from __future__ import annotations

from collections.abc import Mapping

from tandem.emulator.model.errors import ApiError, DuplicateValue, InvalidField, NotFound
from tandem.emulator.model.fields import FieldDef
from tandem.emulator.model.records import RecordStore, unique_key
from tandem.emulator.model.rules import AssignmentChoice, OrgRules
from tandem.emulator.model.schema import ObjectSchema
from tandem.emulator.model.security import Profile
from tandem.emulator.model.state import OrgState
from tandem.emulator.model.values import coerce
from tandem.salesforce import ids

CASCADE_DELETES = {
    "Account": (("Contact", "AccountId"), ("Opportunity", "AccountId"), ("Task", "WhatId")),
    "Contact": (("CampaignMember", "ContactId"), ("Task", "WhoId")),
    "Lead": (("CampaignMember", "LeadId"), ("Task", "WhoId")),
    "Opportunity": (("Task", "WhatId"),),
    "Campaign": (("CampaignMember", "CampaignId"),),
}
"""Children Salesforce deletes with their parent (a merge re-parents them first instead)."""


def no_such_column(obj: ObjectSchema, name: str) -> InvalidField:
    return InvalidField(f"No such column '{name}' on sobject of type {obj.name}", fields=[name])


def stored(values: dict) -> dict:
    """Drop nulls and false booleans: a stored record keeps only what it holds."""
    return {k: v for k, v in values.items() if v is not None and v is not False}


class RecordWriter:
    """The write rules of one org; `profile=None` writes as the org itself (seeding, conversion)."""

    def __init__(self, state: OrgState, rules: OrgRules, queue_objects: dict[str, set[str]]) -> None:
        self.state = state
        self.rules = rules
        self.queue_objects = queue_objects

    # -- field checks --------------------------------------------------------------------------

    def field_changes(self, obj: ObjectSchema, fields: Mapping, profile: Profile | None, *, creating: bool,
                      record_id: str | None = None) -> dict[str, object]:
        """Native values keyed by canonical field name, after name, FLS and type checks."""
        if not isinstance(fields, Mapping):
            raise ApiError("Json Deserialization failed on token 'null' and has left off in the middle of parsing "
                           "a row. Will go to end of row to begin parsing the next row", error_code="JSON_PARSER_ERROR")
        changes: dict[str, object] = {}
        refused: list[str] = []
        for name, raw in fields.items():
            if name == "attributes":
                continue
            f = obj.field(name) if isinstance(name, str) else None
            if f is None and isinstance(name, str) and isinstance(raw, Mapping) and obj.relationship(name):
                f = obj.relationship(name)
                raw = self.referenced_id(f, raw, profile)
            if f is None:
                raise no_such_column(obj, str(name))
            if f.type == "id":
                if not creating and record_id and ids.is_well_formed(raw) and ids.same_id(raw, record_id):
                    continue
                if creating and raw not in (None, ""):
                    raise ApiError("cannot specify Id in an insert call", error_code="INVALID_FIELD_FOR_INSERT_UPDATE",
                                   fields=[f.name])
                refused.append(f.name)
                continue
            if profile is not None:
                access = profile.access(obj, f)
                allowed = access.createable if creating else access.updateable
            else:
                allowed = not f.system and (f.createable if creating else f.updateable)
            if not allowed:
                refused.append(f.name)
                continue
            changes[f.name] = coerce(f, raw)
        if refused:
            names = ", ".join(refused)
            raise ApiError(f"Unable to create/update fields: {names}. Please check the security settings of this "
                           f"field and verify that it is read/write for your profile or permission set.",
                           error_code="INVALID_FIELD_FOR_INSERT_UPDATE", fields=refused)
        return changes

    def referenced_id(self, lookup: FieldDef, reference: Mapping, profile: Profile | None) -> str:
        """The Id of the record a relationship names by one of its Id-lookup fields, as a body's
        `"Account": {"External_Id__c": "A-1"}` names it; errors as Salesforce words them."""
        keys = [k for k in reference if k != "attributes"]
        attributes = reference.get("attributes")
        wanted = attributes.get("type") if isinstance(attributes, Mapping) else None
        target = next((self.state.schema.objects[t] for t in lookup.reference_to
                       if wanted is None or t.lower() == str(wanted).lower()), None)
        if target is None:
            raise ApiError(f"{lookup.label}: id value of incorrect type: {wanted}", error_code="MALFORMED_ID",
                           fields=[lookup.name])
        if len(keys) != 1:
            raise ApiError(f"{lookup.relationship_name}: a reference must name the record by exactly one "
                           f"external ID or indexed field", error_code="INVALID_FIELD", fields=[lookup.name])
        key_field = target.field(str(keys[0]))
        if key_field is None or (profile is not None and not profile.access(target, key_field).visible):
            raise no_such_column(target, str(keys[0]))
        if not (key_field.looks_up or key_field.type == "id"):
            raise ApiError(f"{key_field.name} is not an External ID or indexed field for {target.name}",
                           error_code="INVALID_FIELD", fields=[lookup.name])
        value = reference[keys[0]]
        store = self.state.stores[target.name]
        if key_field.type == "id":
            found = [ids.to_18(value)] if isinstance(value, str) and ids.is_well_formed(value) else []
            found = [rid for rid in found if (r := store.get(rid)) is not None and not r.get("IsDeleted")]
        else:
            found = _live_holders(store, key_field, coerce(key_field, value))
        if len(found) > 1:
            raise ApiError(f"{key_field.label}: more than one record found for external id field: "
                           f"[{', '.join(found)}]", error_code="DUPLICATE_EXTERNAL_ID", fields=[lookup.name])
        if not found:
            raise ApiError(f"Foreign key external ID: {value} not found for field {key_field.name} in entity "
                           f"{target.name}", error_code="INVALID_FIELD", fields=[])
        return found[0]

    def check_references(self, obj: ObjectSchema, changes: Mapping[str, object]) -> None:
        for name, value in changes.items():
            f = obj.fields[name]
            if f.type != "reference" or value is None:
                continue
            target = self.state.schema.object_for_id(value)
            if target is None or target.name not in f.reference_to:
                raise ApiError(f"{f.label}: id value of incorrect type: {value}", error_code="MALFORMED_ID",
                               fields=[f.name])
            record = self.state.stores[target.name].get(value)
            if record is None or record.get("IsDeleted"):
                raise ApiError("invalid cross reference id", error_code="INVALID_CROSS_REFERENCE_KEY",
                               fields=[f.name])
            if target.name == "Group" and obj.name not in self.queue_objects.get(value, ()):
                raise ApiError(f"{f.label}: Queue is not associated with this SObject type: {value}",
                               error_code="FIELD_INTEGRITY_EXCEPTION", fields=[f.name])

    @staticmethod
    def check_required(obj: ObjectSchema, values: Mapping[str, object], names: list[str] | None = None) -> None:
        candidates = [obj.fields[n] for n in names] if names is not None else obj.fields.values()
        missing = [f.name for f in candidates if f.required and values.get(f.name) in (None, "")]
        if missing:
            raise ApiError(f"Required fields are missing: [{', '.join(missing)}]", error_code="REQUIRED_FIELD_MISSING",
                           fields=missing)

    def check_unique(self, obj: ObjectSchema, record_id: str, changes: Mapping[str, object]) -> None:
        store = self.state.stores[obj.name]
        for f in store.indexed_fields:
            value = changes.get(f.name)
            if not f.unique or value is None:
                continue
            others = store.find_by_value(f, value) - {record_id}
            if others:
                other = sorted(others)[0]
                raise DuplicateValue(f.name, other)

    # -- derived values ------------------------------------------------------------------------

    @staticmethod
    def apply_defaults(obj: ObjectSchema, values: dict) -> None:
        for f in obj.fields.values():
            if f.picklist and f.defaulted_on_create and values.get(f.name) is None:
                default = f.default_picklist_value
                if default is not None:
                    values[f.name] = default

    @staticmethod
    def derive(obj: ObjectSchema, values: dict) -> None:
        """Fields the org computes from others (stage and status flags, expected revenue)."""
        if obj.name == "Task":
            values["IsClosed"] = values.get("Status") == "Completed"
            return
        if obj.name == "CampaignMember":
            values["HasResponded"] = values.get("Status") == "Responded"
            return
        if obj.name != "Opportunity":
            return
        stage = obj.fields["StageName"].picklist_entry(values.get("StageName") or "")
        values["IsClosed"] = bool(stage and stage.closed)
        values["IsWon"] = bool(stage and stage.won)
        values["ForecastCategoryName"] = ("Closed" if stage.won else "Omitted") if stage and stage.closed \
            else "Pipeline"
        amount, probability = values.get("Amount"), values.get("Probability")
        values["ExpectedRevenue"] = round(amount * probability / 100, 2) if amount is not None and \
            probability is not None else None

    # -- operations ----------------------------------------------------------------------------

    def create(self, obj: ObjectSchema, fields: Mapping, user_id: str, profile: Profile | None, *,
               assignment_rules: AssignmentChoice = False, run_rules: bool = True) -> str:
        if not obj.api_writable:
            raise ApiError(f"entity type {obj.name} does not support insert", error_code="INVALID_TYPE_FOR_OPERATION")
        changes = self.field_changes(obj, fields, profile, creating=True)
        values = dict(changes)
        self.apply_defaults(obj, values)
        if "OwnerId" in obj.fields and values.get("OwnerId") is None:
            values["OwnerId"] = user_id
        self.check_references(obj, values)
        self.check_required(obj, values)
        record_id = self.state.new_id(obj)
        self.check_unique(obj, record_id, values)
        self.derive(obj, values)
        if run_rules:
            self.rules.validate(obj, values, None, user_id)
            if assignment_rules:
                owner = self.rules.assigned_owner(obj, values, assignment_rules, user_id)
                if owner is not None:
                    values["OwnerId"] = owner
        stamp = self.state.clock.next()
        values.update(Id=record_id, CreatedDate=stamp, CreatedById=user_id, LastModifiedDate=stamp,
                      LastModifiedById=user_id, SystemModstamp=stamp)
        self.state.write(obj, record_id, stored(values))
        return record_id

    def update(self, obj: ObjectSchema, record_id: str, fields: Mapping, user_id: str, profile: Profile | None,
               *, run_rules: bool = True, system: Mapping[str, object] | None = None,
               assignment_rules: AssignmentChoice = False) -> str:
        """Apply `fields` (checked as the caller) and `system` (set by the org itself, unchecked).

        `assignment_rules` (True, or the object's rule Id) runs its assignment rule on the updated
        record, as Salesforce does for an update sent with `Sforce-Auto-Assign: TRUE` or without the
        header (REST), or with an AssignmentRuleHeader (SOAP)."""
        if not obj.api_writable:
            raise ApiError(f"entity type {obj.name} does not support update", error_code="INVALID_TYPE_FOR_OPERATION")
        record_id, old = self.state.live_record(obj, record_id)
        if obj.name == "Lead" and old.get("IsConverted"):
            raise ApiError("cannot reference converted lead", error_code="CANNOT_UPDATE_CONVERTED_LEAD")
        changes = self.field_changes(obj, fields, profile, creating=False, record_id=record_id)
        values = dict(old)
        values.update(changes)
        if system:
            values.update(system)
        if "OwnerId" in changes and changes["OwnerId"] is None:
            raise ApiError("Required fields are missing: [OwnerId]", error_code="REQUIRED_FIELD_MISSING",
                           fields=["OwnerId"])
        self.check_references(obj, changes)
        self.check_required(obj, values, list(changes))
        self.check_unique(obj, record_id, changes)
        self.derive(obj, values)
        if run_rules:
            self.rules.validate(obj, values, old, user_id)
            if assignment_rules:
                owner = self.rules.assigned_owner(obj, values, assignment_rules, user_id)
                if owner is not None:
                    values["OwnerId"] = owner
        return self.stamp(obj, record_id, values, user_id)

    def stamp(self, obj: ObjectSchema, record_id: str, values: dict, user_id: str | None) -> str:
        """Store `values` with a fresh SystemModstamp; a user's edit also moves LastModified*."""
        moment = self.state.clock.next(after=values.get("SystemModstamp"))
        values["SystemModstamp"] = moment
        if user_id is not None:
            values["LastModifiedDate"] = moment
            values["LastModifiedById"] = user_id
        self.state.write(obj, record_id, stored(values))
        return record_id

    def delete(self, obj: ObjectSchema, record_id: str, user_id: str, *, master_id: str | None = None) -> str:
        if not obj.api_writable:
            raise ApiError(f"entity type {obj.name} does not support delete", error_code="INVALID_TYPE_FOR_OPERATION")
        record_id, old = self.state.live_record(obj, record_id)
        values = dict(old)
        values["IsDeleted"] = True
        if master_id is not None:
            values["MasterRecordId"] = master_id
        self.stamp(obj, record_id, values, user_id)
        if master_id is None:
            for child_name, field_name in CASCADE_DELETES.get(obj.name, ()):
                child = self.state.schema.objects[child_name]
                for child_id in self.children_of(child, field_name, record_id):
                    if not self.state.stores[child_name].records[child_id].get("IsDeleted"):
                        self.delete(child, child_id, user_id)
        return record_id

    def children_of(self, child: ObjectSchema, field_name: str, parent_id: str) -> list[str]:
        """Live records of `child` whose `field_name` points at `parent_id` (a scan: merges are rare)."""
        return [rid for rid, r in self.state.stores[child.name].records.items()
                if r.get(field_name) == parent_id and not r.get("IsDeleted")]

    def upsert(self, obj: ObjectSchema, external_field: str, external_value: object, fields: Mapping, user_id: str,
               profile: Profile | None, api_version: str, *, assignment_rules: AssignmentChoice = False) -> tuple[str, bool]:
        f = obj.field(external_field) if isinstance(external_field, str) else None
        if f is None or not (f.looks_up or f.type == "id") or (
                profile is not None and not profile.access(obj, f).visible):
            raise NotFound(f"Provided external ID field does not exist or is not accessible: {external_field}")
        if f.type == "id":
            if external_value in (None, ""):
                return self.create(obj, fields, user_id, profile, assignment_rules=assignment_rules), True
            record_id, _ = self.state.live_record(obj, str(external_value))
            self.update(obj, record_id, fields, user_id, profile, assignment_rules=assignment_rules)
            return record_id, False
        key = coerce(f, external_value)
        matches = _live_holders(self.state.stores[obj.name], f, key)
        if len(matches) > 1:
            urls = [f"/services/data/v{api_version}/sobjects/{obj.name}/{rid}" for rid in matches]
            raise ApiError(f"More than one record found for external id field {f.name}: {external_value}",
                           error_code="MULTIPLE_CHOICES", status=300, fields=urls)
        body = {k: v for k, v in fields.items() if not (isinstance(k, str) and k.lower() == f.name.lower())}
        if matches:
            self.update(obj, matches[0], body, user_id, profile, assignment_rules=assignment_rules)
            return matches[0], False
        body[f.name] = external_value
        return self.create(obj, body, user_id, profile, assignment_rules=assignment_rules), True


def _live_holders(store: RecordStore, f: FieldDef, value: object) -> list[str]:
    """The live records whose Id-lookup field `f` holds `value` (text compared as its index compares
    it), in Id order: from the field's index, or by a scan for a lookup field that has none (Email)."""
    if value is None:
        return []
    if f.name in store.value_index:
        found = store.find_by_value(f, value)
    else:
        key = unique_key(f, value)
        found = {rid for rid, r in store.records.items() if unique_key(f, r.get(f.name)) == key}
    return sorted(rid for rid in found if not store.records[rid].get("IsDeleted"))
