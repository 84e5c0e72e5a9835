"""Field-level security: what one profile may see and write on each field.

A profile gives a level per `Object.Field` and a default for the rest. The field's own nature
caps it: system fields are read-only for everyone, and Id, Name and required fields are never
hidden.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from tandem.emulator.model.definition import OrgDefinition, OrgDefinitionError
from tandem.emulator.model.fields import FieldDef
from tandem.emulator.model.ids import make_id
from tandem.emulator.model.schema import ObjectSchema, Schema

EDIT, READ, NONE = "edit", "read", "none"
BUILT_IN_ADMIN = "System Administrator"
"""A profile every org has, editing everything, whether or not the file lists it."""


@dataclass(frozen=True)
class FieldAccess:
    visible: bool
    createable: bool
    updateable: bool


HIDDEN = FieldAccess(False, False, False)


class Profile:
    """One profile's field levels, resolved lazily per (object, field), and its system permissions.

    `view_setup` is "View Setup and Configuration": without it, setup entities (the Tooling API's
    FieldDefinition, ValidationRule, ...) do not exist for the user.
    """

    def __init__(self, name: str, default: str, overrides: dict[tuple[str, str], str],
                 view_setup: bool = True) -> None:
        self.name = name
        self.id = make_id("00e", zlib.crc32(name.encode()) % (62**7))
        self.default = default
        self.overrides = overrides
        self.view_setup = view_setup
        self._cache: dict[tuple[str, str], FieldAccess] = {}

    def level(self, object_name: str, field_name: str) -> str:
        return self.overrides.get((object_name, field_name), self.default)

    def access(self, obj: ObjectSchema, f: FieldDef) -> FieldAccess:
        key = (obj.name, f.name)
        cached = self._cache.get(key)
        if cached is None:
            level = self.level(obj.name, f.name)
            if f.always_visible and level == NONE:
                level = READ
            if level == NONE:
                cached = HIDDEN
            else:
                editable = level == EDIT and obj.api_writable
                cached = FieldAccess(True, editable and f.createable, editable and f.updateable)
            self._cache[key] = cached
        return cached

    def forget_access(self) -> None:
        """Levels changed at run time: resolve every field again."""
        self._cache.clear()

    def visible_fields(self, obj: ObjectSchema) -> list[FieldDef]:
        return [f for f in obj.fields.values() if self.access(obj, f).visible]


def build_profiles(definition: OrgDefinition, schema: Schema) -> dict[str, Profile]:
    """Profiles from the file; every `Object.Field` key must name a real field that may be narrowed."""
    profiles: dict[str, Profile] = {}
    for name, spec in definition.profiles.items():
        overrides: dict[tuple[str, str], str] = {}
        for key, level in spec.fields.items():
            path = f"profiles.{name}.fields.{key}"
            object_name, _, field_name = key.partition(".")
            obj = schema.object(object_name)
            if obj is None:
                raise OrgDefinitionError(path, f"unknown object \"{object_name}\"")
            f = obj.field(field_name) if field_name else None
            if f is None:
                raise OrgDefinitionError(path, f"unknown field {obj.name}.{field_name}")
            if level == NONE and f.always_visible:
                raise OrgDefinitionError(path, f"{obj.name}.{f.name} is always visible and cannot be hidden")
            if level == EDIT and (f.system or f.type == "id" or not (f.createable or f.updateable)):
                raise OrgDefinitionError(path, f"{obj.name}.{f.name} is read-only for every profile: "
                                               "its level is read or none")
            overrides[(obj.name, f.name)] = level
        profiles[name] = Profile(name, spec.default, overrides, view_setup=spec.permissions.ViewSetup)
    profiles.setdefault(BUILT_IN_ADMIN, Profile(BUILT_IN_ADMIN, EDIT, {}))
    return profiles
