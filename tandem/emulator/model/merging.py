"""merge: up to two losing records folded into a master of the same object.

The master keeps its Id and takes the requested field values; each loser is deleted with
MasterRecordId pointing at the master, and records that referred to a loser are re-parented
to the master (which moves their SystemModstamp).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tandem.emulator.model.errors import ApiError
from tandem.emulator.model.schema import ObjectSchema, Schema
from tandem.emulator.model.security import Profile
from tandem.emulator.model.state import OrgState
from tandem.emulator.model.writes import RecordWriter
from tandem.salesforce import ids

MAX_LOSERS = 2


@dataclass
class MergeResult:
    id: str
    merged_record_ids: list[str]
    updated_related_ids: list[str] = field(default_factory=list)


class RecordMerger:
    def __init__(self, state: OrgState, writer: RecordWriter, schema: Schema) -> None:
        self.state = state
        self.writer = writer
        self.schema = schema

    def merge(self, obj: ObjectSchema, master_id: str, master_fields: dict, loser_ids: list[str], user_id: str,
              profile: Profile) -> MergeResult:
        if not obj.mergeable:
            raise ApiError(f"merge is not supported for {obj.name}", error_code="INVALID_TYPE_FOR_OPERATION")
        if not loser_ids:
            raise ApiError("A merge request needs at least one record to merge into the master",
                           error_code="REQUIRED_FIELD_MISSING", fields=["recordToMergeIds"])
        if len(loser_ids) > MAX_LOSERS:
            raise ApiError("A single merge request can merge at most 2 records into the master (3 records in all)",
                           error_code="LIMIT_EXCEEDED")
        master_id, master = self.state.live_record(obj, master_id)
        losers: list[str] = []
        for loser_id in loser_ids:
            if not ids.is_well_formed(loser_id) or loser_id[:3] != obj.key_prefix:
                raise ApiError(f"invalid record id to merge: {loser_id}", error_code="INVALID_ID_FIELD")
            full_id, _ = self.state.live_record(obj, loser_id)
            if full_id == master_id or full_id in losers:
                raise ApiError("a record cannot be merged with itself", error_code="INVALID_ID_FIELD")
            losers.append(full_id)
        if obj.name == "Lead":
            for record_id in (master_id, *losers):
                if self.state.stores["Lead"].records[record_id].get("IsConverted"):
                    raise ApiError("cannot reference converted lead", error_code="CANNOT_UPDATE_CONVERTED_LEAD")
        body = {k: v for k, v in master_fields.items() if k.lower() not in ("id", "type", "attributes")}
        self.writer.update(obj, master_id, body, user_id, profile)
        related: list[str] = []
        for loser_id in losers:
            related.extend(self._reparent(obj, loser_id, master_id, user_id))
        for loser_id in losers:
            self.writer.delete(obj, loser_id, user_id, master_id=master_id)
        return MergeResult(master_id, losers, list(dict.fromkeys(related)))

    def _reparent(self, obj: ObjectSchema, loser_id: str, master_id: str, user_id: str) -> list[str]:
        moved = []
        for child in obj.children:
            child_obj = self.schema.objects[child.child_object]
            for child_id in self.writer.children_of(child_obj, child.field, loser_id):
                values = dict(self.state.stores[child_obj.name].records[child_id])
                values[child.field] = master_id
                self.writer.stamp(child_obj, child_id, values, user_id)
                moved.append(child_id)
        return moved
