"""The org's mutable state shared by the write, query and admin paths: stores, Ids, clock, undo."""

from __future__ import annotations

from tandem.emulator.model.clock import StampClock
from tandem.emulator.model.errors import ApiError, NotFound
from tandem.emulator.model.ids import mint_id
from tandem.emulator.model.records import RecordStore
from tandem.emulator.model.schema import ObjectSchema, Schema
from tandem.emulator.model.transactions import UndoLog
from tandem.salesforce import ids


class OrgState:
    def __init__(self, schema: Schema, clock: StampClock) -> None:
        self.schema = schema
        self.clock = clock
        self.undo = UndoLog()
        self.stores: dict[str, RecordStore] = {name: RecordStore(obj) for name, obj in schema.objects.items()}
        self.sequences: dict[str, int] = {}

    def object(self, name: str) -> ObjectSchema:
        """The object named `name` (any case); unknown → 404 NOT_FOUND as the REST paths answer."""
        obj = self.schema.object(name) if isinstance(name, str) else None
        if obj is None:
            raise NotFound("The requested resource does not exist")
        return obj

    def store(self, obj: ObjectSchema) -> RecordStore:
        return self.stores[obj.name]

    def new_id(self, obj: ObjectSchema) -> str:
        n = self.sequences.get(obj.key_prefix, 0) + 1
        self.sequences[obj.key_prefix] = n
        return mint_id(obj.key_prefix, n)

    def write(self, obj: ObjectSchema, record_id: str, values: dict) -> None:
        """Store new values for a record, keeping what it was for a rollback."""
        store = self.stores[obj.name]
        self.undo.record(store, record_id, store.get(record_id))
        store.put(record_id, values)

    def lookup(self, record_id: str) -> tuple[ObjectSchema, dict] | None:
        """Any record by Id (15 or 18 characters), deleted or not."""
        if not ids.is_well_formed(record_id):
            return None
        obj = self.schema.object_for_id(record_id)
        if obj is None:
            return None
        record = self.stores[obj.name].get(ids.to_18(record_id))
        return (obj, record) if record is not None else None

    def stored_parent(self, record_id: str) -> tuple[ObjectSchema, dict] | None:
        """The record a stored lookup value points at (stored values are canonical 18-character Ids)."""
        obj = self.schema.by_prefix.get(record_id[:3])
        if obj is None:
            return None
        record = self.stores[obj.name].records.get(record_id)
        return (obj, record) if record is not None else None

    def live_record(self, obj: ObjectSchema, record_id: str) -> tuple[str, dict]:
        """The (Id, values) of a record that exists and is not deleted, else NOT_FOUND / ENTITY_IS_DELETED."""
        if not isinstance(record_id, str) or not ids.is_well_formed(record_id) or record_id[:3] != obj.key_prefix:
            raise NotFound("The requested resource does not exist")
        full_id = ids.to_18(record_id)
        record = self.stores[obj.name].get(full_id)
        if record is None:
            raise NotFound("The requested resource does not exist")
        if record.get("IsDeleted"):
            raise ApiError("entity is deleted", error_code="ENTITY_IS_DELETED", status=404)
        return full_id, record
