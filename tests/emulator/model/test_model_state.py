"""Transactions, reset, seeding, bulk loading, persistence and thread safety."""

from __future__ import annotations

import threading

import pytest

from tandem.emulator.model import ApiError, Org
from tandem.emulator.sample_org import ADMIN, REP, SAMPLE_ORG_FILE, SYNC_USER


def _count(org, ctx, object_name="Contact"):
    return org.query(ctx, f"SELECT COUNT() FROM {object_name}", include_deleted=True).total_size


def test_transaction_rolls_back_every_change(org, admin):
    keep = org.create(admin, "Contact", {"LastName": "Keep", "External_Id__c": "K-1"})
    before = org.retrieve(admin, "Contact", keep)
    with pytest.raises(ApiError), org.transaction():
        org.create(admin, "Contact", {"LastName": "Temp", "External_Id__c": "T-1"})
        org.update(admin, "Contact", keep, {"Title": "Changed", "External_Id__c": "K-2"})
        org.delete(admin, "Account", org.query(admin, "SELECT Id FROM Account LIMIT 1").records[0]["Id"])
        org.create(admin, "Contact", {"FirstName": "No last name"})
    assert org.retrieve(admin, "Contact", keep) == before
    assert _count(org, admin) == 5 and _count(org, admin, "Account") == 3
    assert org.query(admin, "SELECT COUNT() FROM Account WHERE IsDeleted = true", include_deleted=True).total_size == 0
    # stamp and value indexes are restored too
    stamp = before["SystemModstamp"].replace("+0000", "Z")
    page = org.query(admin, f"SELECT Id FROM Contact WHERE SystemModstamp = {stamp}")
    assert [r["Id"] for r in page.records] == [keep]
    assert org.upsert(admin, "Contact", "External_Id__c", "T-1", {"LastName": "Again"})[1] is True
    assert org.upsert(admin, "Contact", "External_Id__c", "K-1", {})[0] == keep


def test_nested_transactions_undo_only_the_failed_block(org, admin):
    with org.transaction():
        outer = org.create(admin, "Contact", {"LastName": "Outer"})
        with pytest.raises(ApiError), org.transaction():
            org.create(admin, "Contact", {"LastName": "Inner"})
            org.update(admin, "Contact", outer, {"Email": "bad@"})
    assert org.retrieve(admin, "Contact", outer)["LastName"] == "Outer"
    assert org.query(admin, "SELECT COUNT() FROM Contact WHERE LastName = 'Inner'").total_size == 0


def test_a_failed_call_changes_nothing_on_its_own(org, admin):
    before = _count(org, admin)
    with pytest.raises(ApiError):
        org.create(admin, "Lead", {"LastName": "Ng", "Company": "X", "LeadSource": "Web"})
    assert _count(org, admin) == before


def test_reset_goes_back_to_the_seed_state(org):
    token = org.login_username_password(*ADMIN).access_token
    admin = org.context(token)
    seeded_ids = sorted(r["Id"] for r in org.query(admin, "SELECT Id FROM Contact").records)
    org.create(admin, "Contact", {"LastName": "Extra"})
    org.reset()
    assert sorted(r["Id"] for r in org.query(admin, "SELECT Id FROM Contact").records) == seeded_ids
    assert org.context(token) == admin  # sessions survive a reset
    assert org.query(admin, "SELECT COUNT() FROM Contact").total_size == 4


def test_seed_inserts_as_the_admin_without_rules(org, admin, rep):
    ids = org.seed("Lead", [{"LastName": "A", "Company": "A", "LeadSource": "Web"},
                            {"LastName": "B", "Company": "B", "OwnerId": f"@user:{REP.username}"}])
    assert org.retrieve(admin, "Lead", ids[0], ["CreatedById"])["CreatedById"] == admin.user_id
    assert org.retrieve(admin, "Lead", ids[1], ["OwnerId"])["OwnerId"] == rep.user_id


def test_bulk_load_checks_types_and_stamps_in_order(org, admin):
    assert org.bulk_load("Lead", ({"LastName": f"L{i}", "Company": "C", "AnnualRevenue": i} for i in range(10))) == 10
    rows = org.query(admin, "SELECT LastName, Status, SystemModstamp FROM Lead WHERE Company = 'C' "
                            "ORDER BY SystemModstamp").records
    assert [r["LastName"] for r in rows] == [f"L{i}" for i in range(10)]
    assert {r["Status"] for r in rows} == {"Open - Not Contacted"}
    with pytest.raises(ApiError) as caught:
        org.bulk_load("Lead", [{"LastName": "x", "Email": "not an email"}])
    assert caught.value.error_code == "INVALID_EMAIL_ADDRESS"
    later = org.create(admin, "Lead", {"LastName": "After", "Company": "C"})
    last = org.query(admin, "SELECT Id FROM Lead ORDER BY SystemModstamp DESC LIMIT 1").records[0]["Id"]
    assert last == later


def test_state_survives_save_and_load(tmp_path, clock):
    org = Org.from_file(SAMPLE_ORG_FILE, now_ms=clock)
    admin = org.context(org.login_username_password(*ADMIN).access_token)
    token = org.login_username_password(*SYNC_USER).access_token
    created = org.create(admin, "Contact", {"LastName": "Saved", "External_Id__c": "S-1"})
    org.delete(admin, "Contact", org.query(admin, "SELECT Id FROM Contact WHERE LastName = 'Coyote'")
               .records[0]["Id"])
    org.save_state(tmp_path)
    again = Org.load_state(SAMPLE_ORG_FILE, tmp_path, now_ms=clock)
    ctx = again.context(token)
    assert again.retrieve(ctx, "Contact", created)["LastName"] == "Saved"
    assert again.query(ctx, "SELECT COUNT() FROM Contact").total_size == 4
    assert again.upsert(ctx, "Contact", "External_Id__c", "S-1", {"Title": "x"}) == (created, False)
    newer = again.create(ctx, "Contact", {"LastName": "Newer"})
    assert newer != created
    last = again.query(ctx, "SELECT Id FROM Contact ORDER BY SystemModstamp DESC LIMIT 1").records[0]["Id"]
    assert last == newer


def test_load_state_without_a_saved_state_is_the_seed(tmp_path):
    assert Org.load_state(SAMPLE_ORG_FILE, tmp_path / "empty").name == "Sample org"


def test_concurrent_writers_get_distinct_ids_and_stamps(org, admin):
    created: list[str] = []

    def work():
        for i in range(200):
            created.append(org.create(admin, "Contact", {"LastName": f"T{i}"}))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(created)) == 800
    stamps = [r["SystemModstamp"] for r in org.query(admin, "SELECT SystemModstamp FROM Contact").records]
    assert len(set(stamps)) == len(stamps)


def test_rollback_among_records_sharing_a_stamp_keeps_each_once(org, admin):
    stamp = "2026-05-01T00:00:00.000Z"
    org.bulk_load("Contact", [{"LastName": name, "SystemModstamp": stamp} for name in ("A", "B", "C")])
    target = org.query(admin, "SELECT Id FROM Contact WHERE LastName = 'C'").records[0]["Id"]
    with pytest.raises(ApiError), org.transaction():
        org.update(admin, "Contact", target, {"Title": "x"})
        org.update(admin, "Contact", target, {"Email": "bad@"})
    rows = org.query(admin, f"SELECT Id FROM Contact WHERE SystemModstamp = {stamp}").records
    assert sorted(r["Id"] for r in rows) == sorted(set(r["Id"] for r in rows)) and len(rows) == 3


def test_saved_state_is_private_to_its_owner(org, tmp_path):
    org.save_state(tmp_path)
    saved = list(tmp_path.iterdir())
    assert len(saved) == 1 and saved[0].stat().st_mode & 0o077 == 0
