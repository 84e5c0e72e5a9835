"""The org's schema: standard objects plus the file's custom fields and picklist values.

Names are case-insensitive everywhere a client can type them, so each object keeps a lower-case
lookup next to its ordered fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tandem.emulator.model.definition import CustomFieldDef, OrgDefinition, OrgDefinitionError
from tandem.emulator.model.fields import FieldDef, PicklistValue
from tandem.emulator.model.standard_objects import STANDARD_OBJECTS

_DEFAULT_LENGTHS = {"string": 255, "textarea": 255, "email": 80, "phone": 40, "url": 255, "picklist": 255,
                    "multipicklist": 4099, "combobox": 255, "encryptedstring": 175, "reference": 18}


@dataclass(slots=True)
class ChildRelationship:
    child_object: str
    field: str
    relationship_name: str | None
    cascade_delete: bool = False


@dataclass
class ObjectSchema:
    name: str
    label: str
    label_plural: str
    key_prefix: str
    api_writable: bool
    mergeable: bool
    fields: dict[str, FieldDef] = field(default_factory=dict)
    children: list[ChildRelationship] = field(default_factory=list)
    custom: bool = False
    _lower: dict[str, str] = field(default_factory=dict)
    _relationships: dict[str, FieldDef] = field(default_factory=dict)

    def add(self, f: FieldDef) -> None:
        self.fields[f.name] = f
        self._lower[f.name.lower()] = f.name
        if f.relationship_name:
            self._relationships[f.relationship_name.lower()] = f

    def remove(self, name: str) -> None:
        f = self.fields.pop(name)
        self._lower.pop(name.lower(), None)
        if f.relationship_name:
            self._relationships.pop(f.relationship_name.lower(), None)

    def field(self, name: str) -> FieldDef | None:
        """The field named `name` in any letter case, or None."""
        canonical = self._lower.get(name.lower())
        return self.fields[canonical] if canonical else None

    def relationship(self, name: str) -> FieldDef | None:
        """The lookup field behind a relationship name (`Account` → AccountId)."""
        return self._relationships.get(name.lower())

    @property
    def has_person_name(self) -> bool:
        f = self.fields.get("Name")
        return bool(f and f.extra.get("compound"))

    @property
    def unique_fields(self) -> list[FieldDef]:
        return [f for f in self.fields.values() if f.unique and f.type != "id"]


class Schema:
    """All objects of one org, looked up case-insensitively."""

    def __init__(self, objects: dict[str, ObjectSchema]) -> None:
        self.objects = objects
        self._lower = {name.lower(): name for name in objects}
        self.by_prefix = {o.key_prefix: o for o in objects.values()}

    def object(self, name: str) -> ObjectSchema | None:
        canonical = self._lower.get(name.lower())
        return self.objects[canonical] if canonical else None

    def object_for_id(self, record_id: str) -> ObjectSchema | None:
        return self.by_prefix.get(record_id[:3])


# Salesforce's rule for a field's API name: a letter, then letters, digits and single underscores,
# not ending in an underscore, at most 40 characters before `__c`.
_API_NAME_RE = re.compile(r"^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?<!_)__c$")
_MAX_TEXT_LENGTH = 255
_NUMBER_TYPES = ("double", "currency", "percent")
_LENGTH_TYPES = ("string", "textarea", "email", "phone", "url", "combobox", "encryptedstring")
_DETAILS = {  # detail → (types that have it, what to say of any other type)
    "precision": (_NUMBER_TYPES + ("int", "long"), "has no precision"),
    "scale": (_NUMBER_TYPES, "has no scale"),
    "restricted": (("picklist", "multipicklist"), "cannot be restricted (only picklists are)"),
    "unique": (("string", "email", "int", "long", "double"), "cannot be unique"),
}


def _check_details(path: str, spec: CustomFieldDef) -> None:
    """Refuse a type detail the field's type does not have, rather than load the file without it."""
    if spec.length is not None and spec.type not in _LENGTH_TYPES:
        raise OrgDefinitionError(f"{path}.length", f"a {spec.type} field has no length")
    if spec.type == "string" and spec.length is not None and spec.length > _MAX_TEXT_LENGTH:
        raise OrgDefinitionError(f"{path}.length",
                                 f"a string field holds at most {_MAX_TEXT_LENGTH} characters (textarea holds more)")
    for detail, (types, refusal) in _DETAILS.items():
        if getattr(spec, detail) not in (None, False) and spec.type not in types:
            raise OrgDefinitionError(f"{path}.{detail}", f"a {spec.type} field {refusal}")
    if spec.caseSensitive and not spec.unique:
        raise OrgDefinitionError(f"{path}.caseSensitive", "only a unique field is case-sensitive or not")
    if len(set(spec.values)) != len(spec.values):
        raise OrgDefinitionError(f"{path}.values", "duplicate picklist value")


def custom_field_def(path: str, spec: CustomFieldDef, objects: dict[str, ObjectSchema]) -> FieldDef:
    if not spec.name.endswith("__c") or len(spec.name) < 4:
        raise OrgDefinitionError(f"{path}.name", f"custom field names end in __c, got \"{spec.name}\"")
    if not _API_NAME_RE.match(spec.name) or len(spec.name) > 43:
        raise OrgDefinitionError(f"{path}.name", f"\"{spec.name}\" is not a field name: a letter, then letters, "
                                 "digits and single underscores, at most 40 characters before __c")
    _check_details(path, spec)
    label = spec.label or spec.name[:-3].replace("_", " ")
    f = FieldDef(spec.name, label, spec.type, custom=True, external_id=spec.externalId, unique=spec.unique,
                 case_sensitive=spec.caseSensitive, restricted=spec.restricted, nillable=not spec.required,
                 always_visible=spec.required)
    if spec.type in _DEFAULT_LENGTHS:
        f.length = spec.length or _DEFAULT_LENGTHS[spec.type]
    if spec.type in ("double", "currency", "percent"):
        f.precision = spec.precision or 18
        f.scale = spec.scale if spec.scale is not None else (2 if spec.type == "currency" else 0)
        if f.scale > f.precision:
            raise OrgDefinitionError(f"{path}.scale", "scale cannot exceed precision")
    if spec.type in ("int", "long"):
        f.digits = spec.precision or (9 if spec.type == "int" else 18)
    if spec.type == "boolean":
        f.nillable = False
        f.defaulted_on_create = True
    if spec.type in ("picklist", "multipicklist"):
        if not spec.values:
            raise OrgDefinitionError(f"{path}.values", "a picklist needs at least one value")
        f.picklist = tuple(PicklistValue(v, v) for v in spec.values)
    elif spec.values:
        raise OrgDefinitionError(f"{path}.values", f"only picklists have values, not {spec.type}")
    if spec.externalId and spec.type not in ("string", "email", "int", "double", "long"):
        raise OrgDefinitionError(f"{path}.externalId", f"a {spec.type} field cannot be an external id")
    if spec.type == "reference":
        target = objects.get(spec.referenceTo or "")
        if target is None:
            raise OrgDefinitionError(f"{path}.referenceTo", f"unknown object \"{spec.referenceTo}\"")
        f.reference_to = (target.name,)
        f.relationship_name = spec.relationshipName or spec.name[:-3] + "__r"
    elif spec.referenceTo:
        raise OrgDefinitionError(f"{path}.referenceTo", "only reference fields refer to an object")
    return f


def _picklist(path: str, obj: ObjectSchema, field_name: str, entries) -> None:
    f = obj.field(field_name)
    if f is None:
        raise OrgDefinitionError(path, f"unknown field {obj.name}.{field_name}")
    if f.type not in ("picklist", "multipicklist", "combobox"):
        raise OrgDefinitionError(path, f"{obj.name}.{f.name} is a {f.type} field, not a picklist")
    values = [e.value for e in entries]
    if not values:
        raise OrgDefinitionError(path, "a picklist needs at least one value")
    if len(set(values)) != len(values):
        raise OrgDefinitionError(path, "duplicate picklist value")
    if sum(1 for e in entries if e.default) > 1:
        raise OrgDefinitionError(path, "at most one value can be the default")
    if obj.name == "Lead" and f.name == "Status" and not any(e.converted for e in entries):
        raise OrgDefinitionError(path, "Lead.Status needs at least one value marked converted")
    lead_status, stage = (obj.name, f.name) == ("Lead", "Status"), (obj.name, f.name) == ("Opportunity", "StageName")
    for i, entry in enumerate(entries):
        if entry.converted and not lead_status:
            raise OrgDefinitionError(f"{path}[{i}].converted", "only Lead.Status values are marked converted")
        if (entry.closed or entry.won) and not stage:
            raise OrgDefinitionError(f"{path}[{i}].{'closed' if entry.closed else 'won'}",
                                     "only Opportunity.StageName values are marked closed or won")
        if entry.won and not entry.closed:
            raise OrgDefinitionError(f"{path}[{i}].won", "a won stage is also closed: mark it \"closed\": true")
    f.picklist = tuple(PicklistValue(e.value, e.label or e.value, e.default, e.active, e.converted, e.closed, e.won)
                       for e in entries)


def build_schema(definition: OrgDefinition) -> Schema:
    """Standard objects, then custom fields and picklists from the file; errors name the file path."""
    objects: dict[str, ObjectSchema] = {}
    for name, (label, plural, prefix, make_fields, writable, mergeable) in STANDARD_OBJECTS.items():
        obj = ObjectSchema(name, label, plural, prefix, writable, mergeable)
        for f in make_fields():
            obj.add(f)
        objects[name] = obj
    schema = Schema(objects)
    for object_name, specs in definition.customFields.items():
        obj = schema.object(object_name)
        if obj is None:
            raise OrgDefinitionError(f"customFields.{object_name}", f"unknown object \"{object_name}\"")
        for i, spec in enumerate(specs):
            path = f"customFields.{object_name}[{i}]"
            if obj.field(spec.name):
                raise OrgDefinitionError(f"{path}.name", f"{obj.name} already has a field \"{spec.name}\"")
            obj.add(custom_field_def(path, spec, objects))
    for key, entries in definition.picklists.items():
        object_name, _, field_name = key.partition(".")
        obj = schema.object(object_name)
        if obj is None or not field_name:
            raise OrgDefinitionError(f"picklists.{key}", "keys are Object.Field with a known object")
        _picklist(f"picklists.{key}", obj, field_name, entries)
    for obj in objects.values():
        for f in obj.fields.values():
            if f.type != "reference" or f.system or f.name == "OwnerId":
                continue
            for target in f.reference_to:
                objects[target].children.append(ChildRelationship(obj.name, f.name, _child_name(obj, f)))
    return schema


def _child_name(obj: ObjectSchema, f: FieldDef) -> str | None:
    """The relationship name a parent uses for these children (`Account.Contacts`), if it has one."""
    if f.custom:
        return obj.name.removesuffix("__c") + "s__r"
    if f.name == "ParentId":
        return "Child" + obj.label_plural.replace(" ", "")
    if f.name == "ReportsToId":
        return None
    return obj.label_plural.replace(" ", "")
