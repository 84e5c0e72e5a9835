"""Filling an org: its directory rows (users, queues, lead statuses), the file's seed records,
admin seeds at run time, and the fast bulk load used by benchmarks.

Seed records may refer to each other (`"@acme"`), to users and to queues; every problem is
reported with its path in the file, e.g. `records.Contact[2].AccountId: unknown @ref "acmee"`.
"""

from __future__ import annotations

from collections.abc import Iterable

from tandem.emulator.model.definition import OrgDefinition, OrgDefinitionError
from tandem.emulator.model.directory import Directory
from tandem.emulator.model.errors import ApiError, DuplicateValue
from tandem.emulator.model.fields import FieldDef
from tandem.emulator.model.ids import make_id
from tandem.emulator.model.records import from_ms, to_ms
from tandem.emulator.model.rules import OrgRules
from tandem.emulator.model.schema import ObjectSchema
from tandem.emulator.model.state import OrgState
from tandem.emulator.model.values import coerce
from tandem.emulator.model.writes import RecordWriter, stored

SYSTEM_STAMPS = ("CreatedDate", "LastModifiedDate", "SystemModstamp")


def _system_row(state: OrgState, obj_name: str, record_id: str, values: dict, creator: str) -> None:
    obj = state.schema.objects[obj_name]
    stamp = state.clock.next()
    row = {"Id": record_id, **values, "CreatedDate": stamp, "CreatedById": creator, "LastModifiedDate": stamp,
           "LastModifiedById": creator, "SystemModstamp": stamp}
    state.stores[obj.name].put(record_id, stored(row))


def seed_directory(state: OrgState, directory: Directory, org_id: str, org_name: str) -> None:
    """Rows for the objects the org owns itself: User, Group (queues), LeadStatus, Organization."""
    admin = directory.admin.id
    for user in directory.users.values():
        _system_row(state, "User", user.id, {
            "Username": user.username, "FirstName": user.first_name, "LastName": user.last_name,
            "Email": user.email, "Alias": user.username.split("@")[0][:8], "IsActive": user.active,
            "Title": user.title, "ProfileName": user.profile, "UserType": "Standard",
            "TimeZoneSidKey": "America/Los_Angeles", "LocaleSidKey": "en_US", "LanguageLocaleKey": "en_US",
        }, admin)
    for queue in directory.queues.values():
        _system_row(state, "Group", queue.id, {"Name": queue.name, "DeveloperName": queue.developer_name,
                                               "Type": "Queue", "Email": queue.email, "OwnerId": admin}, admin)
    status = state.schema.objects["Lead"].fields["Status"]
    for order, entry in enumerate(status.picklist, start=1):
        _system_row(state, "LeadStatus", make_id("01J", order), {
            "MasterLabel": entry.label, "ApiName": entry.value, "SortOrder": order, "IsDefault": entry.default,
            "IsConverted": entry.converted}, admin)
    _system_row(state, "Organization", org_id, {"Name": org_name, "OrganizationType": "Developer Edition",
                                                "IsSandbox": False, "InstanceName": "EMU",
                                                "DefaultLocaleSidKey": "en_US",
                                                "TimeZoneSidKey": "America/Los_Angeles"}, admin)


def seed_assignment_rules(state: OrgState, rules: OrgRules, admin_id: str) -> None:
    """One active AssignmentRule row per object the file gives assignment rules, so clients can
    query its Id (`SELECT Id FROM AssignmentRule WHERE SobjectType = 'Lead'`) for Sforce-Auto-Assign."""
    for object_name, rule in rules.assignment.items():
        _system_row(state, "AssignmentRule", rule.id, {"Name": rule.name, "SobjectType": object_name, "Active": True},
                    admin_id)


class FileRecords:
    """Loads the file's `records` section: Ids first (so @refs may point forward), then rows."""

    def __init__(self, definition: OrgDefinition, state: OrgState, directory: Directory,
                 writer: RecordWriter) -> None:
        self.definition = definition
        self.state = state
        self.directory = directory
        self.writer = writer
        self.refs: dict[str, str] = {}

    def load(self) -> None:
        planned: list[tuple[ObjectSchema, int, dict, str]] = []
        for object_name, rows in self.definition.records.items():
            obj = self.state.schema.object(object_name)
            if obj is None:
                raise OrgDefinitionError(f"records.{object_name}", f"unknown object \"{object_name}\"")
            if not obj.api_writable:
                raise OrgDefinitionError(f"records.{object_name}", f"{obj.name} rows come from other sections")
            for i, row in enumerate(rows):
                record_id = self.state.new_id(obj)
                ref = row.get("@ref")
                if ref is not None:
                    if not isinstance(ref, str) or not ref:
                        raise OrgDefinitionError(f"records.{object_name}[{i}].@ref", "an @ref is a non-empty name")
                    if ref in self.refs:
                        raise OrgDefinitionError(f"records.{object_name}[{i}].@ref", f"duplicate @ref \"{ref}\"")
                    self.refs[ref] = record_id
                planned.append((obj, i, row, record_id))
        for obj, i, row, record_id in planned:
            self._insert(obj, f"records.{obj.name}[{i}]", row, record_id)

    def _resolve(self, path: str, value: object, f: FieldDef) -> object:
        if not isinstance(value, str) or not value.startswith("@"):
            return value
        resolved = self._lookup(path, value)
        target = self.state.schema.object_for_id(resolved)
        if target is not None and f.reference_to and target.name not in f.reference_to:
            wanted = " or ".join(f.reference_to)
            raise OrgDefinitionError(path, f"{value} is a {target.name} record; {f.name} takes {wanted} records")
        return resolved

    def _lookup(self, path: str, value: str) -> str:
        if value.startswith(("@user:", "@queue:")):
            resolved = self.directory.resolve_owner(value)
            if resolved is None:
                kind = "user" if value.startswith("@user:") else "queue"
                raise OrgDefinitionError(path, f"unknown {kind} \"{value.split(':', 1)[1]}\"")
            return resolved
        resolved = self.refs.get(value[1:])
        if resolved is None:
            raise OrgDefinitionError(path, f"unknown @ref \"{value[1:]}\"")
        return resolved

    def _insert(self, obj: ObjectSchema, path: str, row: dict, record_id: str) -> None:
        admin = self.directory.admin.id
        values: dict[str, object] = {}
        for name, raw in row.items():
            if name == "@ref":
                continue
            field_path = f"{path}.{name}"
            f = obj.field(name)
            if f is None:
                raise OrgDefinitionError(field_path, f"unknown field {obj.name}.{name}")
            if f.system or f.type == "id" or not f.createable:
                raise OrgDefinitionError(field_path, f"{obj.name}.{f.name} is set by the org, not by seed records")
            try:
                planned = f.type == "reference" and _names_a_seed(raw)
                if f.type == "reference":
                    raw = self._resolve(field_path, raw, f)
                values[f.name] = coerce(f, raw)
                if not planned:  # a seed record may come later in the file: its Id is known, its row not yet
                    self.writer.check_references(obj, {f.name: values[f.name]})
            except ApiError as exc:
                raise OrgDefinitionError(field_path, f"{exc.error_code}: {exc.message}") from None
        self.writer.apply_defaults(obj, values)
        if "OwnerId" in obj.fields:
            values.setdefault("OwnerId", admin)
        try:
            self.writer.check_required(obj, values)
            self.writer.check_unique(obj, record_id, values)
        except ApiError as exc:
            field = exc.field_name if isinstance(exc, DuplicateValue) else (exc.fields or [None])[0]
            raise OrgDefinitionError(f"{path}.{field}" if field else path, f"{exc.error_code}: {exc.message}") from None
        self.writer.derive(obj, values)
        stamp = self.state.clock.next()
        values.update(Id=record_id, CreatedDate=stamp, CreatedById=admin, LastModifiedDate=stamp,
                      LastModifiedById=admin, SystemModstamp=stamp)
        self.state.stores[obj.name].put(record_id, stored(values))


def _names_a_seed(value: object) -> bool:
    """`"@acme"`: another seed record (not a user or queue, which exist before any seed)."""
    return isinstance(value, str) and value.startswith("@") and not value.startswith(("@user:", "@queue:"))


def bulk_load(state: OrgState, obj: ObjectSchema, rows: Iterable[dict], owner_id: str, chunk: int = 50_000) -> int:
    """Insert many rows quickly: types are checked, rules and references are not.

    Rows may carry CreatedDate/SystemModstamp (historic data); otherwise the rows get consecutive
    stamps ending about now, so the org's stamps stay strictly increasing.
    """
    total = 0
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= chunk:
            total += _load_chunk(state, obj, batch, owner_id)
            batch = []
    if batch:
        total += _load_chunk(state, obj, batch, owner_id)
    return total


def _fast_converter(f: FieldDef):
    """`coerce` for one field, with a shortcut for plain strings that already fit."""
    if f.type in ("string", "textarea", "phone", "url") and not f.restricted:
        limit = f.length

        def convert(value: object) -> object:
            if type(value) is str and 0 < len(value) <= limit:
                return value
            return coerce(f, value)

        return convert
    if f.type in ("double", "currency", "percent") and f.scale == 0:
        bound = 10 ** (f.precision or 18)

        def convert_number(value: object) -> object:
            if type(value) is int and -bound < value < bound:
                return value
            return coerce(f, value)

        return convert_number
    return lambda value: coerce(f, value)


def _load_chunk(state: OrgState, obj: ObjectSchema, rows: list[dict], owner_id: str) -> int:
    defaults: dict = {}
    RecordWriter.apply_defaults(obj, defaults)
    converters: dict[str, tuple[str, object]] = {}
    first_ms = state.clock.reserve(len(rows))
    prepared: list[tuple[str, dict]] = []
    owned = "OwnerId" in obj.fields
    for n, row in enumerate(rows):
        values = dict(defaults)
        for name, raw in row.items():
            known = converters.get(name)
            if known is None:
                f = obj.field(name)
                if f is None or f.type == "id":
                    raise ApiError(f"No such column '{name}' on sobject of type {obj.name}",
                                   error_code="INVALID_FIELD", fields=[name])
                known = converters[name] = (f.name, _fast_converter(f))
            value = known[1](raw)
            if value is not None and value is not False:
                values[known[0]] = value
        stamp = values.get("SystemModstamp")
        if stamp is None:
            stamp = values["SystemModstamp"] = from_ms(first_ms + n)
        else:
            state.clock.observe(to_ms(stamp))
        values.setdefault("CreatedDate", stamp)
        values.setdefault("LastModifiedDate", stamp)
        if owned:
            values.setdefault("OwnerId", owner_id)
        values.setdefault("CreatedById", owner_id)
        values.setdefault("LastModifiedById", owner_id)
        record_id = values["Id"] = state.new_id(obj)
        prepared.append((record_id, values))
    state.stores[obj.name].bulk_append(prepared)
    return len(prepared)
