"""What a rule formula may name besides the record's own fields, as Salesforce formulas allow:
parent fields through lookups (`Account.Name`, `Account.Owner.Email`, up to five levels) and the
running user (`$User.Username`, `$Profile.Name`).

`path_type` answers a path's field type from the schema alone (for checking a file's formulas);
`path_value` reads it from the stored records, blank when a lookup on the way is empty.
"""

from __future__ import annotations

from collections.abc import Callable

from tandem.emulator.model.fields import FieldDef
from tandem.emulator.model.reading import field_value
from tandem.emulator.model.schema import ObjectSchema, Schema

MAX_HOPS = 5
"""Salesforce's limit on relationship levels a formula may span."""

RecordLookup = Callable[[str, str], "dict | None"]
"""(object name, record Id) → the stored record, or None."""


def _global(schema: Schema, root: str) -> ObjectSchema | None:
    """`$User` and `$Profile` read the running user's User record (the profile's name is kept there)."""
    return schema.object("User") if root.lower() in ("$user", "$profile") else None


def _global_field(root: str, name: str) -> str:
    return "ProfileName" if root.lower() == "$profile" and name.lower() == "name" else name


def path_field(schema: Schema, obj: ObjectSchema, path: str) -> FieldDef | None:
    """The field at the end of `path` (`Email`, `Account.Name`, `$User.Email`), or None."""
    parts = path.split(".")
    if len(parts) == 1:
        return obj.field(path)
    if parts[0].startswith("$"):
        user = _global(schema, parts[0])
        if user is None or len(parts) != 2 or (parts[0].lower() == "$profile" and parts[1].lower() != "name"):
            return None
        return user.field(_global_field(parts[0], parts[1]))
    if len(parts) - 1 > MAX_HOPS:
        return None
    current = obj
    for hop in parts[:-1]:
        lookup = current.relationship(hop)
        if lookup is None or not lookup.reference_to:
            return None
        targets = lookup.reference_to
        target = schema.object("User" if "User" in targets else targets[0])  # Owner: a user or a queue
        if target is None:
            return None
        current = target
    return current.field(parts[-1])


def path_type(schema: Schema, obj: ObjectSchema, path: str) -> str | None:
    f = path_field(schema, obj, path)
    return f.type if f is not None else None


def path_value(schema: Schema, obj: ObjectSchema, record: dict, path: str, lookup: RecordLookup,
               user_id: str | None) -> object:
    """The value at `path` starting from `record`; None when a lookup on the way is blank."""
    parts = path.split(".")
    if len(parts) == 1:
        f = obj.field(path)
        return field_value(obj, record, f) if f is not None else None
    if parts[0].startswith("$"):
        user = _global(schema, parts[0])
        row = lookup("User", user_id) if user is not None and user_id else None
        f = user.field(_global_field(parts[0], parts[1])) if user is not None else None
        return field_value(user, row, f) if row is not None and f is not None else None
    current, row = obj, record
    for hop in parts[:-1]:
        f = current.relationship(hop)
        parent_id = row.get(f.name) if f is not None else None
        target = schema.object_for_id(parent_id) if isinstance(parent_id, str) else None
        row = lookup(target.name, parent_id) if target is not None else None
        if row is None:
            return None
        current = target
    f = current.field(parts[-1])
    return field_value(current, row, f) if f is not None else None
