"""The Tooling API's read side: the org's setup (objects, fields, validation rules) as queryable records.

Setup is drawn fresh from the schema and the org file on every call, so fields added at run time
show up at once, and queried through the same SOQL engine as records. Users whose profile lacks
"View Setup and Configuration" see none of it: to them the setup entities do not exist, as in a
real org. FieldDefinition lists every field, whatever the caller's field-level security.
"""

from __future__ import annotations

import zlib
from datetime import datetime

from tandem.emulator.model import describe as describing
from tandem.emulator.model.clock import StampClock
from tandem.emulator.model.definition import OrgDefinition
from tandem.emulator.model.errors import MalformedQuery, NotFound
from tandem.emulator.model.fields import FieldDef
from tandem.emulator.model.ids import make_id
from tandem.emulator.model.queries import QueryEngine, QueryPage, invalid_type
from tandem.emulator.model.schema import ObjectSchema, Schema
from tandem.emulator.model.security import EDIT, Profile
from tandem.emulator.model.standard_fields import audit_fields, flag, id_field, number, text
from tandem.emulator.model.state import OrgState
from tandem.emulator.soql import SoqlError, parse_soql

MAX_ROWS = 2000
"""Setup queries answer in one page (there is no cursor to page a catalog rebuilt per call)."""
ONE_ROW_ONLY = ("Metadata", "FullName")
"""Columns Salesforce serves only when the query matches at most one row."""


def _complex(name: str, label: str) -> FieldDef:
    f = FieldDef(name, label, "complexvalue", nillable=True)
    f.createable = f.updateable = False
    return f


def _entity_ref() -> FieldDef:
    """A text field holding the entity's DurableId (`Contact`), through which `EntityDefinition.…` reads."""
    return FieldDef("EntityDefinitionId", "Entity Definition ID", "string", length=255,
                    reference_to=("EntityDefinition",), relationship_name="EntityDefinition")


class _SetupState(OrgState):
    """Setup records, whose references to an entity name it (`Contact`) rather than give its Id."""

    def __init__(self, schema: Schema, clock: StampClock) -> None:
        super().__init__(schema, clock)
        self.entities: dict[str, str] = {}

    def stored_parent(self, record_id: str):
        entity = self.entities.get(record_id)
        if entity is not None:
            return self.schema.objects["EntityDefinition"], self.stores["EntityDefinition"].records[entity]
        return super().stored_parent(record_id)


def _entity_definition_fields() -> list[FieldDef]:
    return [
        id_field(), text("DurableId", "Durable ID", 255), text("QualifiedApiName", "Qualified API Name", 255),
        text("DeveloperName", "Developer Name", 40), text("Label", "Label", 40),
        text("PluralLabel", "Plural Label", 40), text("KeyPrefix", "Key Prefix", 3),
        text("NamespacePrefix", "Namespace Prefix", 15), flag("IsCustomizable", "Customizable"),
        flag("IsQueryable", "Queryable"), flag("IsCustomSetting", "Custom Setting"),
        flag("IsApexTriggerable", "Apex Triggerable"), *audit_fields(),
    ]


def _field_definition_fields() -> list[FieldDef]:
    return [
        id_field(), text("DurableId", "Durable ID", 255), text("QualifiedApiName", "Qualified API Name", 255),
        text("DeveloperName", "Developer Name", 40), text("Label", "Label", 40), _entity_ref(),
        text("DataType", "Data Type", 255), text("ValueTypeId", "Value Type", 255),
        text("ExtraTypeInfo", "Extra Type Info", 255), text("RelationshipName", "Relationship Name", 255),
        text("ReferenceTo", "Reference To", 255), text("NamespacePrefix", "Namespace Prefix", 15),
        text("Description", "Description", 1000), number("Length", "Length"), number("Precision", "Precision"),
        number("Scale", "Scale"), number("Digits", "Digits"), flag("IsCalculated", "Calculated"),
        flag("IsNillable", "Nillable"), flag("IsIndexed", "Indexed"), flag("IsCompound", "Compound"),
        flag("IsApiFilterable", "API Filterable"), flag("IsApiSortable", "API Sortable"),
        flag("IsFieldHistoryTracked", "Field History Tracked"), *audit_fields(),
    ]


def _custom_field_fields() -> list[FieldDef]:
    return [
        id_field(), text("DeveloperName", "Developer Name", 40), text("TableEnumOrId", "Table Enum or ID", 40),
        _entity_ref(), text("NamespacePrefix", "Namespace Prefix", 15), text("Description", "Description", 1000),
        text("InlineHelpText", "Inline Help Text", 510), text("FullName", "Full Name", 255),
        _complex("Metadata", "Metadata"), *audit_fields(),
    ]


def _validation_rule_fields() -> list[FieldDef]:
    return [
        id_field(), text("ValidationName", "Rule Name", 40), flag("Active", "Active"),
        text("Description", "Description", 1000), _entity_ref(), text("ErrorDisplayField", "Error Location", 255),
        text("ErrorMessage", "Error Message", 255), text("NamespacePrefix", "Namespace Prefix", 15),
        text("ManageableState", "Manageable State", 40), text("FullName", "Full Name", 255),
        _complex("Metadata", "Metadata"), *audit_fields(),
    ]


TOOLING_OBJECTS = {
    # name: (label, plural, key prefix, fields)
    "EntityDefinition": ("Entity Definition", "Entity Definitions", "4ie", _entity_definition_fields),
    "FieldDefinition": ("Field Definition", "Field Definitions", "4if", _field_definition_fields),
    "CustomField": ("Custom Field Definition", "Custom Field Definitions", "00N", _custom_field_fields),
    "ValidationRule": ("Validation Rule", "Validation Rules", "03d", _validation_rule_fields),
}


def tooling_schema() -> Schema:
    objects = {}
    for name, (label, plural, prefix, make_fields) in TOOLING_OBJECTS.items():
        obj = ObjectSchema(name, label, plural, prefix, api_writable=False, mergeable=False)
        for f in make_fields():
            obj.add(f)
        objects[name] = obj
    return Schema(objects)


def _stable_id(prefix: str, key: str) -> str:
    return make_id(prefix, zlib.crc32(key.encode()) % (62**7))


def data_type(f: FieldDef) -> str:
    """The Setup label of a field's type, as FieldDefinition.DataType reports it."""
    kind = f.type
    if f.extra.get("compound") and f.name == "Name":
        return "Name"
    if kind == "string":
        return f"Text({f.length})"
    if kind == "textarea":
        return f"Long Text Area({f.length})" if f.length > 255 else f"Text Area({f.length})"
    if kind in ("int", "long"):
        return f"Number({f.digits or 18}, 0)"
    if kind in ("double", "currency", "percent"):
        label = {"double": "Number", "currency": "Currency", "percent": "Percent"}[kind]
        return f"{label}({f.precision}, {f.scale})"
    if kind in ("reference", "id"):
        return f"Lookup({','.join(f.reference_to)})"
    return {"email": "Email", "phone": "Phone", "url": f"URL({f.length})", "picklist": "Picklist",
            "multipicklist": "Picklist (Multi-Select)", "combobox": "Picklist", "boolean": "Checkbox",
            "date": "Date", "datetime": "Date/Time", "time": "Time",
            "encryptedstring": f"Text (Encrypted)({f.length})"}.get(kind, kind)


def _extra_type_info(f: FieldDef) -> str | None:
    if f.type == "textarea":
        return "plaintextarea"
    return "personname" if f.extra.get("compound") and f.name == "Name" else None


def _value_type(f: FieldDef) -> str:
    return {"reference": "id", "textarea": "string", "email": "string", "phone": "string", "url": "string",
            "picklist": "string", "multipicklist": "string", "combobox": "string", "currency": "double",
            "percent": "double", "encryptedstring": "string"}.get(f.type, f.type)


def _custom_field_metadata(f: FieldDef) -> dict:
    metadata = {"label": f.label, "type": data_type(f).split("(")[0].replace(" ", ""), "externalId": f.external_id,
                "unique": f.unique, "required": not f.nillable and f.type != "boolean",
                "description": f.extra.get("description"), "length": f.length or None,
                "precision": f.precision or None, "scale": f.scale if f.precision else None,
                "referenceTo": f.reference_to[0] if f.reference_to else None,
                "relationshipName": f.relationship_name}
    if f.picklist:
        metadata["valueSet"] = {"restricted": f.restricted, "valueSetDefinition": {"value": [
            {"fullName": p.value, "label": p.label, "default": p.default} for p in f.picklist]}}
    return metadata


class SetupCatalog:
    """Builds the setup records of one org as they stand now, and answers Tooling queries over them."""

    def __init__(self, schema: Schema, definition: OrgDefinition, clock: StampClock) -> None:
        self.schema = schema
        self.definition = definition
        self.clock = clock
        self.tooling = tooling_schema()
        self.reader = Profile("Tooling reader", EDIT, {})

    def _state(self) -> OrgState:
        state = _SetupState(self.tooling, self.clock)
        stamp = self.clock.now()
        audit = {"CreatedDate": stamp, "LastModifiedDate": stamp, "SystemModstamp": stamp}
        put = {name: state.stores[name].put for name in TOOLING_OBJECTS}
        for obj in self.schema.objects.values():
            entity_id = _stable_id("4ie", obj.name)
            state.entities[obj.name] = entity_id
            put["EntityDefinition"](entity_id, {
                "Id": entity_id, "DurableId": obj.name, "QualifiedApiName": obj.name,
                "DeveloperName": obj.name.removesuffix("__c"), "Label": obj.label, "PluralLabel": obj.label_plural,
                "KeyPrefix": obj.key_prefix, "NamespacePrefix": None, "IsCustomizable": obj.api_writable,
                "IsQueryable": True, "IsCustomSetting": False, "IsApexTriggerable": obj.api_writable, **audit})
            for f in obj.fields.values():
                self._field_rows(put, obj, f, audit)
        for object_name, rules in self.definition.validationRules.items():
            obj = self.schema.object(object_name)
            for rule in rules:
                full_name = f"{obj.name}.{rule.name}"
                rule_id = _stable_id("03d", full_name)
                display = obj.field(rule.errorDisplayField).name if rule.errorDisplayField else None
                put["ValidationRule"](rule_id, {
                    "Id": rule_id, "ValidationName": rule.name, "Active": rule.active,
                    "Description": rule.description, "EntityDefinitionId": obj.name,
                    "ErrorDisplayField": display, "ErrorMessage": rule.errorMessage, "NamespacePrefix": None,
                    "ManageableState": "unmanaged", "FullName": full_name,
                    "Metadata": {"active": rule.active, "description": rule.description,
                                 "errorConditionFormula": rule.errorConditionFormula,
                                 "errorDisplayField": display, "errorMessage": rule.errorMessage,
                                 "shouldEvaluateOnClient": False, "urls": None},
                    **audit})
        return state

    @staticmethod
    def _field_rows(put, obj: ObjectSchema, f: FieldDef, audit: dict) -> None:
        durable = f"{obj.name}.{f.name}"
        field_id = _stable_id("4if", durable)
        put["FieldDefinition"](field_id, {
            "Id": field_id, "DurableId": durable, "QualifiedApiName": f.name,
            "DeveloperName": f.name.removesuffix("__c"), "Label": f.label, "EntityDefinitionId": obj.name,
            "DataType": data_type(f), "ValueTypeId": _value_type(f),
            "ExtraTypeInfo": _extra_type_info(f),
            "RelationshipName": f.relationship_name, "ReferenceTo": ",".join(f.reference_to) or None,
            "NamespacePrefix": None, "Description": f.extra.get("description"), "Length": f.length,
            "Precision": f.precision, "Scale": f.scale, "Digits": f.digits,
            "IsCalculated": f.calculated or bool(f.extra.get("compound")), "IsNillable": f.nillable,
            "IsIndexed": f.type == "id" or f.unique or f.external_id or f.type == "reference",
            "IsCompound": bool(f.extra.get("compound")), "IsApiFilterable": f.filterable,
            "IsApiSortable": f.sortable,
            "IsFieldHistoryTracked": False, **audit})
        if f.custom:
            custom_id = _stable_id("00N", durable)
            put["CustomField"](custom_id, {
                "Id": custom_id, "DeveloperName": f.name.removesuffix("__c"), "TableEnumOrId": obj.name,
                "EntityDefinitionId": obj.name, "NamespacePrefix": None, "Description": f.extra.get("description"),
                "InlineHelpText": None, "FullName": durable, "Metadata": _custom_field_metadata(f), **audit})

    def query(self, profile: Profile, soql: str, api_version: str, owner: str, now: datetime) -> QueryPage:
        if not profile.view_setup:
            try:
                object_name = parse_soql(soql).object_name
            except SoqlError as exc:
                raise MalformedQuery(exc.message) from None
            raise invalid_type(object_name)
        engine = QueryEngine(self._state())
        plan = engine.plan(self.reader, soql, False, now)
        one_row = [c.output_name for c in plan.columns if c.via is None and c.field.name in ONE_ROW_ONLY]
        if one_row and len(plan.ids) > 1:
            raise MalformedQuery(f"When retrieving results with Metadata or FullName fields, the query must select "
                                 f"no more than one row. Result size: {len(plan.ids)}")
        if len(plan.ids) > MAX_ROWS and not plan.count_only and plan.aggregate is None:
            raise MalformedQuery(f"A Tooling query here answers at most {MAX_ROWS} rows in one page; this one matches "
                                 f"{len(plan.ids)}: narrow it with a WHERE clause (e.g. on EntityDefinitionId)")
        return engine.first_page(plan, MAX_ROWS, api_version, owner)

    def describe(self, profile: Profile, name: str, api_version: str) -> dict:
        obj = self.tooling.object(name)
        if obj is None or not profile.view_setup:
            raise NotFound("The requested resource does not exist")
        return describing.describe_object(obj, self.reader, self.tooling, api_version)

    def describe_global(self, profile: Profile, api_version: str) -> dict:
        objects = self.tooling.objects.values() if profile.view_setup else []
        return {"encoding": "UTF-8", "maxBatchSize": 200,
                "sobjects": [describing.global_entry(obj, api_version) for obj in objects]}
