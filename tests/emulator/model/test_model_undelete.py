"""undelete: a deleted record comes back with a new SystemModstamp; a live one cannot."""

from __future__ import annotations

import pytest

from tandem.emulator.model import ApiError


def test_undelete_restores_with_a_new_stamp(org, admin, clock):
    contact_id = org.create(admin, "Contact", {"LastName": "Gone"})
    org.delete(admin, "Contact", contact_id)
    deleted_stamp = org.query(admin, f"SELECT SystemModstamp FROM Contact WHERE Id = '{contact_id}'",
                              include_deleted=True).records[0]["SystemModstamp"]
    clock.advance(1000)
    assert org.undelete(admin, "Contact", contact_id[:15]) == contact_id
    body = org.retrieve(admin, "Contact", contact_id, ["IsDeleted", "LastName", "SystemModstamp"])
    assert body["IsDeleted"] is False and body["LastName"] == "Gone"
    assert body["SystemModstamp"] > deleted_stamp
    with pytest.raises(ApiError) as caught:
        org.undelete(admin, "Contact", contact_id)
    assert caught.value.error_code == "UNDELETE_FAILED"
