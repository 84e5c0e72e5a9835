"""undelete: a record in the recycle bin comes back (IsDeleted false, a new SystemModstamp).

The restored record keeps its Id, so a replication by `queryAll` sees it again as an update.
Children deleted with it by cascade stay deleted here (Salesforce restores them too; the sync
does not depend on that).
"""

from __future__ import annotations

from tandem.emulator.model.errors import ApiError, NotFound
from tandem.emulator.model.schema import ObjectSchema
from tandem.emulator.model.state import OrgState
from tandem.emulator.model.writes import RecordWriter
from tandem.salesforce import ids


def undelete(state: OrgState, writer: RecordWriter, obj: ObjectSchema, record_id: str, user_id: str) -> str:
    if not obj.api_writable:
        raise ApiError(f"entity type {obj.name} does not support undelete", error_code="INVALID_TYPE_FOR_OPERATION")
    if not isinstance(record_id, str) or not ids.is_well_formed(record_id) or record_id[:3] != obj.key_prefix:
        raise NotFound("The requested resource does not exist")
    full_id = ids.to_18(record_id)
    record = state.stores[obj.name].get(full_id)
    if record is None:
        raise NotFound("The requested resource does not exist")
    if not record.get("IsDeleted"):
        raise ApiError("Entity is not in the recycle bin", error_code="UNDELETE_FAILED")
    values = dict(record)
    values["IsDeleted"] = False
    values["MasterRecordId"] = None
    return writer.stamp(obj, full_id, values, user_id)
