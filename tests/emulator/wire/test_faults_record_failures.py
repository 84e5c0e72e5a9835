"""Part of an sObject Collections batch refused (`recordUnableToLockRow`, `recordEntityIsLocked`,
`recordDuplicatesDetected`, `recordTriggerRefusal`): the refused records are not written, the
others are (allOrNone=false), or nothing is (allOrNone=true)."""

from __future__ import annotations

import pytest

V = "/services/data/v62.0"
KINDS = {
    "recordUnableToLockRow": "UNABLE_TO_LOCK_ROW",
    "recordEntityIsLocked": "ENTITY_IS_LOCKED",
    "recordDuplicatesDetected": "DUPLICATES_DETECTED",
    "recordTriggerRefusal": "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
}


@pytest.fixture
def api(http, base_url, sf_token):
    headers = {"Authorization": f"Bearer {sf_token}"}

    def call(method: str, path: str, **kwargs):
        answer = http.request(method, f"{base_url}{V}/{path}", headers=headers, **kwargs)
        assert answer.status_code == 200, answer.text
        return answer.json()

    return call


def contacts(prefix: str, count: int) -> list[dict]:
    return [{"attributes": {"type": "Contact"}, "LastName": f"{prefix} {i}"} for i in range(count)]


def saved_ids(sf, prefix: str) -> set[str]:
    return {r["Id"] for r in sf.query_all(f"SELECT Id FROM Contact WHERE LastName LIKE '{prefix} %'")["records"]}


def create_all(api, prefix: str, count: int) -> list[str]:
    results = api("POST", "composite/sobjects", json={"allOrNone": False, "records": contacts(prefix, count)})
    assert all(r["success"] for r in results)
    return [r["id"] for r in results]


def test_part_of_a_create_batch_fails_and_the_rest_is_saved(api, sf, faults):
    faults.set(seed=3, recordUnableToLockRow=0.4)
    results = api("POST", "composite/sobjects", json={"allOrNone": False, "records": contacts("Part", 20)})
    failed = [r for r in results if not r["success"]]
    assert 0 < len(failed) < 20
    assert all(r["errors"] == [{"statusCode": "UNABLE_TO_LOCK_ROW", "fields": [],
                                "message": "unable to obtain exclusive access to this record"}] for r in failed)
    assert all(r.get("id") is None for r in failed)
    assert saved_ids(sf, "Part") == {r["id"] for r in results if r["success"]}
    assert faults.injected() == {"recordUnableToLockRow": len(failed)}


@pytest.mark.parametrize("kind", ["recordUnableToLockRow", "recordDuplicatesDetected", "recordTriggerRefusal"])
def test_each_kind_refuses_creates_at_rate_one(api, sf, faults, kind):
    faults.set(seed=1, **{kind: 1.0})
    results = api("POST", "composite/sobjects", json={"allOrNone": False, "records": contacts("Refused", 3)})
    assert [r["errors"][0]["statusCode"] for r in results] == [KINDS[kind]] * 3
    assert saved_ids(sf, "Refused") == set()
    assert faults.injected() == {kind: 3}


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_refuses_updates_at_rate_one(api, sf, faults, kind):
    ids = create_all(api, "Before", 2)
    faults.set(seed=1, **{kind: 1.0})
    records = [{"attributes": {"type": "Contact"}, "Id": i, "Title": "After"} for i in ids]
    results = api("PATCH", "composite/sobjects", json={"allOrNone": False, "records": records})
    assert [(r["id"], r["success"], r["errors"][0]["statusCode"]) for r in results] == [
        (i, False, KINDS[kind]) for i in ids]
    faults.set()
    assert [sf.Contact.get(i)["Title"] for i in ids] == [None, None]


def test_a_new_record_is_never_locked(api, sf, faults):
    faults.set(seed=1, recordEntityIsLocked=1.0)
    results = api("POST", "composite/sobjects", json={"allOrNone": False, "records": contacts("Unlocked", 3)})
    assert all(r["success"] for r in results)
    assert faults.injected() == {}


def test_deletes_can_be_locked_or_refused_by_a_trigger_but_are_never_duplicates(api, sf, faults):
    ids = create_all(api, "Doomed", 3)
    faults.set(seed=1, recordDuplicatesDetected=1.0)
    assert all(r["success"] for r in api("DELETE", "composite/sobjects", params={"ids": ids[0]}))
    faults.set(seed=1, recordEntityIsLocked=1.0)
    locked = api("DELETE", "composite/sobjects", params={"ids": ",".join(ids[1:])})
    assert [r["errors"][0] for r in locked] == [
        {"statusCode": "ENTITY_IS_LOCKED", "message": "the entity is locked for editing", "fields": []}] * 2
    faults.set()
    assert saved_ids(sf, "Doomed") == set(ids[1:])


def test_upserts_refused_by_a_trigger(api, sf, faults):
    faults.set(seed=1, recordTriggerRefusal=1.0)
    records = [{"attributes": {"type": "Contact"}, "External_Id__c": f"up-{i}", "LastName": f"Upsert {i}"}
               for i in range(2)]
    results = api("PATCH", "composite/sobjects/Contact/External_Id__c", json={"allOrNone": False, "records": records})
    error = results[0]["errors"][0]
    assert error["statusCode"] == "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY"
    assert error["message"].startswith("ContactTrigger: execution of BeforeUpdate")
    assert saved_ids(sf, "Upsert") == set()


def test_a_duplicate_refusal_names_the_rule_and_the_matching_record(api, sf, faults):
    others = sorted(r["Id"] for r in sf.query("SELECT Id FROM Contact")["records"])
    faults.set(seed=1, recordDuplicatesDetected=1.0)
    error = api("POST", "composite/sobjects", json={"records": contacts("Twin", 1)})[0]["errors"][0]
    assert error["statusCode"] == "DUPLICATES_DETECTED" and error["message"] == "Use one of these records?"
    result = error["duplicateResult"]
    assert result["allowSave"] is False
    assert result["duplicateRule"] == "Standard_Contact_Duplicate_Rule"
    assert result["duplicateRuleEntityType"] == "Contact"
    match = result["matchResults"][0]
    assert match["entityType"] == "Contact" and match["size"] == 1 and match["success"] is True
    record = match["matchRecords"][0]["record"]
    assert record["Id"] == others[0]
    assert record["attributes"] == {"type": "Contact", "url": f"{V}/sobjects/Contact/{others[0]}"}


def test_all_or_none_rolls_the_whole_batch_back(api, sf, faults):
    faults.set(seed=3, recordUnableToLockRow=0.4)
    results = api("POST", "composite/sobjects", json={"allOrNone": True, "records": contacts("Atomic", 10)})
    codes = {r["errors"][0]["statusCode"] for r in results}
    assert codes == {"UNABLE_TO_LOCK_ROW", "ALL_OR_NONE_OPERATION_ROLLED_BACK"}
    assert all(not r["success"] for r in results)
    assert saved_ids(sf, "Atomic") == set()


def test_no_record_fails_at_rate_zero(api, sf, faults):
    faults.set(seed=3, **{kind: 0.0 for kind in KINDS})
    results = api("POST", "composite/sobjects", json={"allOrNone": False, "records": contacts("Fine", 50)})
    assert all(r["success"] for r in results)
    assert faults.injected() == {}


def _failures(api, faults, seed: int) -> list[str | None]:
    faults.set(seed=seed, **{kind: 0.15 for kind in KINDS})
    results = api("POST", "composite/sobjects", json={"allOrNone": False, "records": contacts("Seeded", 40)})
    ids = [r["id"] for r in results if r["success"]]
    records = [{"attributes": {"type": "Contact"}, "Id": i, "Title": "x"} for i in ids]
    results += api("PATCH", "composite/sobjects", json={"allOrNone": False, "records": records})
    return [None if r["success"] else r["errors"][0]["statusCode"] for r in results]


def test_record_failures_repeat_for_a_seed_and_the_counts_add_up(api, faults, http, base_url):
    first = _failures(api, faults, seed=8)
    counts = faults.injected()
    http.post(f"{base_url}/_emulator/reset").raise_for_status()
    assert _failures(api, faults, seed=8) == first
    assert set(first) == {None, *KINDS.values()}
    assert {KINDS[kind]: n for kind, n in counts.items()} == {
        code: first.count(code) for code in KINDS.values()}
