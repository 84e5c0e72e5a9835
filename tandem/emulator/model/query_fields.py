"""Field paths in a query (`Email`, `Account.Name`, `Owner.Name`) resolved against the schema
as the caller's profile sees it, with Salesforce's INVALID_FIELD messages for the rest.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from tandem.emulator.model.errors import InvalidField
from tandem.emulator.model.fields import FieldDef
from tandem.emulator.model.reading import field_value
from tandem.emulator.model.schema import ObjectSchema
from tandem.emulator.model.security import Profile
from tandem.emulator.model.state import OrgState
from tandem.emulator.soql import located_message

_WSDL_HINT = "Please reference your WSDL or the describe call for the appropriate names."
_WHERE, _ORDER_BY = r"\bWHERE\b", r"\bORDER\s+BY\b"

NAME_TYPE = FieldDef("Type", "Type", "string", length=40, createable=False, updateable=False, system=True)
"""`Owner.Type`, `Who.Type`, `What.Type`: through a lookup to several objects Salesforce reads the parent
as a `Name` record, whose Type is the parent's object (`User`, `Contact`) or, for a queue, `Queue`."""


def name_type(parent_obj: ObjectSchema, parent: dict) -> str:
    return (parent.get("Type") or parent_obj.name) if parent_obj.name == "Group" else parent_obj.name


@dataclass
class ResolvedPath:
    """A query path bound to its field; `via` is the lookup field for a parent's field."""

    path: tuple[str, ...]
    field: FieldDef
    via: FieldDef | None = None
    parent: ObjectSchema | None = None

    @property
    def output_name(self) -> str:
        return f"{self.via.relationship_name}.{self.field.name}" if self.via else self.field.name


def _position(soql: str, token: str, after: str = "") -> str:
    """The query echoed with a caret under the offending name (its first use after the clause
    keyword `after`, if given), as Salesforce prefixes its message."""
    if not soql:
        return ""
    clause = re.search(after, soql, re.IGNORECASE) if after else None
    match = re.compile(r"\b" + re.escape(token) + r"\b", re.IGNORECASE).search(soql, clause.end() if clause else 0)
    start = match.start() if match else 0
    line = soql.count("\n", 0, start) + 1
    return located_message(soql, line, start - soql.rfind("\n", 0, start), "")


def no_such_column(soql: str, obj: ObjectSchema, name: str) -> InvalidField:
    return InvalidField(
        f"{_position(soql, name)}No such column '{name}' on entity '{obj.name}'. If you are attempting to use a "
        f"custom field, be sure to append the '__c' after the custom field name. {_WSDL_HINT}"
    )


def bad_relationship(soql: str, name: str) -> InvalidField:
    return InvalidField(
        f"{_position(soql, name)}Didn't understand relationship '{name}' in field path. If you are attempting to "
        f"use a custom relationship, be sure to append the '__r' after the custom relationship name. {_WSDL_HINT}"
    )


def not_filterable(soql: str, name: str) -> InvalidField:
    return InvalidField(f"{_position(soql, name, _WHERE)}field '{name}' can not be filtered in a query call")


def not_sortable(soql: str, name: str) -> InvalidField:
    return InvalidField(f"{_position(soql, name, _ORDER_BY)}field '{name}' can not be sorted in a query call")


_NEVER_STORED = "\0 not a stored field"
"""A key no stored record has: its value reads as None (filled in afterwards)."""


class PathResolver:
    """Resolves and caches the paths of one query for one profile."""

    def __init__(self, state: OrgState, obj: ObjectSchema, profile: Profile, soql: str) -> None:
        self.state = state
        self.obj = obj
        self.profile = profile
        self.soql = soql
        self.resolved: dict[tuple[str, ...], ResolvedPath] = {}

    def _visible(self, obj: ObjectSchema, name: str) -> FieldDef | None:
        f = obj.field(name)
        return f if f is not None and self.profile.access(obj, f).visible else None

    def resolve(self, path: tuple[str, ...]) -> ResolvedPath:
        found = self.resolved.get(path)
        if found is not None:
            return found
        parts = path
        if len(parts) > 1 and parts[0].lower() == self.obj.name.lower() and self.obj.relationship(parts[0]) is None:
            parts = parts[1:]
        if len(parts) == 1:
            f = self._visible(self.obj, parts[0])
            if f is None:
                raise no_such_column(self.soql, self.obj, parts[0])
            found = ResolvedPath(path, f)
        elif len(parts) == 2:
            via = self.obj.relationship(parts[0])
            if via is None or not self.profile.access(self.obj, via).visible:
                raise bad_relationship(self.soql, parts[0])
            parent = self.state.schema.objects[via.reference_to[-1]]
            polymorphic_type = len(via.reference_to) > 1 and parts[1].lower() == "type"
            f = NAME_TYPE if polymorphic_type else self._visible(parent, parts[1])
            if f is None:
                raise no_such_column(self.soql, parent, ".".join(parts))
            found = ResolvedPath(path, f, via, parent)
        else:
            raise bad_relationship(self.soql, parts[1])
        self.resolved[path] = found
        return found

    def field_type(self, path: tuple[str, ...]) -> str | None:
        return self.resolve(path).field.type

    def accessor(self, path: tuple[str, ...]) -> Callable[[dict], object]:
        """A function from a stored record to the native value at `path`."""
        resolved = self.resolve(path)
        f, obj = resolved.field, self.obj
        if resolved.via is None:
            name = f.name
            if f.type == "boolean" or (name == "Name" and obj.has_person_name):
                return lambda record: field_value(obj, record, f)
            return lambda record: record.get(name)
        via_name = resolved.via.name
        lookup = self.state.stored_parent

        def parent_value(record: dict) -> object:
            parent_id = record.get(via_name)
            found = lookup(parent_id) if parent_id else None
            if found is None:
                return None
            parent_obj, parent = found
            if f is NAME_TYPE:
                return name_type(parent_obj, parent)
            parent_field = parent_obj.field(f.name)
            return field_value(parent_obj, parent, parent_field) if parent_field else None

        return parent_value

    def row_reader(self, paths: list[tuple[str, ...]]) -> Callable[[dict], list[object]]:
        """A function from a stored record to the native values at `paths`, in their order: the
        record's own stored values read in one pass, each parent record (`Account` for
        `Account.Name`, `Account.Type`, …) looked up once a row."""
        keys: list[str] = []  # the stored key of each path read as it is stored
        derived: list[tuple[int, Callable[[dict], object]]] = []  # booleans and person names
        parents: dict[str, list[tuple[int, str]]] = {}
        for at, path in enumerate(paths):
            resolved = self.resolve(path)
            f = resolved.field
            key = _NEVER_STORED
            if f is NAME_TYPE:
                derived.append((at, self.accessor(path)))
            elif resolved.via is not None:
                parents.setdefault(resolved.via.name, []).append((at, f.name))
            elif f.type == "boolean" or (f.name == "Name" and self.obj.has_person_name):
                derived.append((at, self.accessor(path)))
            else:
                key = f.name
            keys.append(key)
        lookup = self.state.stored_parent
        kinds: dict[tuple[str, str], list[tuple[int, FieldDef]]] = {}  # the fields each parent kind has

        def read(record: dict) -> list[object]:
            values = list(map(record.get, keys))
            for at, getter in derived:
                values[at] = getter(record)
            for via_name, fields in parents.items():
                parent_id = record.get(via_name)
                found = lookup(parent_id) if parent_id else None
                if found is not None:
                    parent_obj, parent = found
                    kind = (via_name, parent_obj.name)  # a polymorphic lookup's parents differ
                    known = kinds.get(kind)
                    if known is None:
                        known = kinds[kind] = [(at, field) for at, name in fields
                                               if (field := parent_obj.field(name)) is not None]
                    for at, parent_field in known:
                        values[at] = field_value(parent_obj, parent, parent_field)
            return values

        return read

    def visible_fields(self, kind: str) -> list[tuple[str, ...]]:
        """The paths FIELDS(ALL|STANDARD|CUSTOM) stands for."""
        fields = self.profile.visible_fields(self.obj)
        if kind == "CUSTOM":
            fields = [f for f in fields if f.custom]
        elif kind == "STANDARD":
            fields = [f for f in fields if not f.custom]
        return [(f.name,) for f in fields]
