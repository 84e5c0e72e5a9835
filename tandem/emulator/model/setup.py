"""Setup changes made while the org runs: a new custom field, a changed field level for a profile.

An admin makes these in a real org's Setup; the sync must notice them at its next schema step.
`reset` takes the org back to its file, so each change is remembered here to be undone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import ValidationError

from tandem.emulator.model.definition import CustomFieldDef, OrgDefinitionError
from tandem.emulator.model.errors import ApiError, NotFound
from tandem.emulator.model.schema import Schema, custom_field_def
from tandem.emulator.model.security import EDIT, NONE, READ, Profile


@dataclass
class SetupChanges:
    """What was changed since the org was loaded, so that `undo` can restore the file's setup."""

    added_fields: list[tuple[str, str]] = field(default_factory=list)
    overridden: dict[tuple[str, str, str], str | None] = field(default_factory=dict)

    def add_custom_field(self, schema: Schema, object_name: str, spec: dict) -> str:
        obj = schema.object(object_name)
        if obj is None:
            raise NotFound(f"sObject type '{object_name}' is not supported.", error_code="INVALID_TYPE")
        try:
            definition = CustomFieldDef.model_validate(spec)
            built = custom_field_def(f"{obj.name}.{definition.name}", definition, schema.objects)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "field"
            raise ApiError(f"{where}: {first['msg']}", error_code="INVALID_FIELD") from None
        except OrgDefinitionError as error:
            raise ApiError(str(error), error_code="INVALID_FIELD") from None
        if obj.field(built.name):
            raise ApiError(f"{obj.name} already has a field named {built.name}", error_code="DUPLICATE_DEVELOPER_NAME")
        obj.add(built)
        self.added_fields.append((obj.name, built.name))
        return built.name

    def set_field_level(self, schema: Schema, profile: Profile, object_name: str, field_name: str, level: str) -> None:
        if level not in (EDIT, READ, NONE):
            raise ApiError(f"level must be edit, read or none, not {level!r}", error_code="INVALID_FIELD")
        obj = schema.object(object_name)
        f = obj.field(field_name) if obj else None
        if obj is None or f is None:
            raise NotFound(f"no field {object_name}.{field_name}", error_code="INVALID_FIELD")
        if level == NONE and f.always_visible:
            raise ApiError(f"{obj.name}.{f.name} is always visible and cannot be hidden", error_code="INVALID_FIELD")
        key = (profile.name, obj.name, f.name)
        self.overridden.setdefault(key, profile.overrides.get((obj.name, f.name)))
        profile.overrides[(obj.name, f.name)] = level
        profile.forget_access()

    def undo(self, schema: Schema, profiles: dict[str, Profile]) -> None:
        for object_name, field_name in reversed(self.added_fields):
            schema.objects[object_name].remove(field_name)
        for (profile_name, object_name, field_name), previous in self.overridden.items():
            profile = profiles[profile_name]
            if previous is None:
                profile.overrides.pop((object_name, field_name), None)
            else:
                profile.overrides[(object_name, field_name)] = previous
            profile.forget_access()
        self.added_fields.clear()
        self.overridden.clear()
