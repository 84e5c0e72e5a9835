"""merge: master keeps its Id, losers become deleted with MasterRecordId, children move."""

from __future__ import annotations

import datetime as dt

import pytest

from tandem.emulator.model import ApiError


def _ids(org, ctx, soql):
    return [r["Id"] for r in org.query(ctx, soql, include_deleted=True).records]


def test_account_merge_reparents_contacts_and_moves_their_stamp(org, admin, clock):
    acme, globex, initech = _ids(org, admin, "SELECT Id FROM Account ORDER BY Name")
    moved = _ids(org, admin, f"SELECT Id FROM Contact WHERE AccountId IN ('{globex}', '{initech}') ORDER BY Id")
    deals = _ids(org, admin, f"SELECT Id FROM Opportunity WHERE AccountId IN ('{globex}', '{initech}') ORDER BY Id")
    stamp_before = org.retrieve(admin, "Contact", moved[0], ["SystemModstamp"])["SystemModstamp"]
    clock.advance(1000)
    result = org.merge(admin, "Account", acme, {"Phone": "+1 555 0000"}, [globex, initech])
    assert result.id == acme and result.merged_record_ids == [globex, initech]
    assert sorted(result.updated_related_ids) == sorted(moved + deals)
    assert org.retrieve(admin, "Account", acme, ["Phone"])["Phone"] == "+1 555 0000"
    for contact_id in moved:
        body = org.retrieve(admin, "Contact", contact_id, ["AccountId", "SystemModstamp"])
        assert body["AccountId"] == acme and body["SystemModstamp"] > stamp_before
    losers = org.query(admin, "SELECT Id, IsDeleted, MasterRecordId FROM Account WHERE IsDeleted = true",
                       include_deleted=True).records
    assert {(r["Id"], r["MasterRecordId"]) for r in losers} == {(globex, acme), (initech, acme)}
    with pytest.raises(ApiError) as caught:
        org.retrieve(admin, "Account", globex)
    assert caught.value.error_code == "ENTITY_IS_DELETED"
    start = dt.datetime.fromtimestamp(clock.ms / 1000 - 120, dt.timezone.utc)
    end = start + dt.timedelta(minutes=10)
    clock.advance(600_000)
    deleted = org.deleted(admin, "Account", start, end)["deletedRecords"]
    assert {d["id"] for d in deleted} == {globex, initech}


def test_contact_and_lead_merge(org, admin):
    contacts = _ids(org, admin, "SELECT Id FROM Contact WHERE Account.Name = 'Initech' ORDER BY LastName")
    result = org.merge(admin, "Contact", contacts[0], {"Title": "Lead Programmer"}, [contacts[1]])
    assert result.merged_record_ids == [contacts[1]] and result.updated_related_ids == []
    leads = _ids(org, admin, "SELECT Id FROM Lead ORDER BY LastName")
    org.merge(admin, "Lead", leads[0], {}, [leads[1][:15]])
    assert _ids(org, admin, "SELECT Id FROM Lead WHERE MasterRecordId != null") == [leads[1]]


@pytest.mark.parametrize("case", ["too many", "none", "itself", "other object", "deleted", "opportunity"])
def test_merge_refusals(org, admin, case):
    accounts = _ids(org, admin, "SELECT Id FROM Account ORDER BY Name")
    extra = org.create(admin, "Account", {"Name": "Extra"})
    contact = _ids(org, admin, "SELECT Id FROM Contact LIMIT 1")[0]
    object_name, master, losers = "Account", accounts[0], accounts[1:] + [extra]
    if case == "none":
        losers = []
    elif case == "itself":
        losers = [accounts[0]]
    elif case == "other object":
        losers = [contact]
    elif case == "deleted":
        org.delete(admin, "Account", extra)
        losers = [extra]
    elif case == "opportunity":
        object_name = "Opportunity"
        losers = [accounts[1]]
    with pytest.raises(ApiError):
        org.merge(admin, object_name, master, {}, losers)
    assert org.query(admin, "SELECT COUNT() FROM Account WHERE IsDeleted = true", include_deleted=True).total_size \
        == (1 if case == "deleted" else 0)
