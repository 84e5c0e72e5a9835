"""query / queryAll / nextRecordsUrl paging and replication (updated / deleted) through simple-salesforce."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest


@pytest.fixture
def many_contacts(base_url, http):
    rows = [{"LastName": f"Bulk{i:04d}", "Email": f"b{i}@example.com"} for i in range(450)]
    answer = http.post(f"{base_url}/_emulator/seed", json={"Contact": rows})
    answer.raise_for_status()
    return answer.json()["Contact"]


def test_query_returns_attributes_and_nested_parent(sf):
    result = sf.query("SELECT Id, LastName, Account.Name FROM Contact WHERE LastName = 'Coyote'")
    assert result["totalSize"] == 1 and result["done"] is True
    record = result["records"][0]
    assert record["attributes"]["type"] == "Contact"
    assert record["Account"]["Name"] == "Acme Corp"


def test_batch_size_header_pages_with_next_records_url(sf, many_contacts):
    sf.headers["Sforce-Query-Options"] = "batchSize=200"
    first = sf.query("SELECT Id FROM Contact WHERE LastName LIKE 'Bulk%'")
    assert first["totalSize"] == 450 and len(first["records"]) == 200 and first["done"] is False
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/")
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    third = sf.query_more(second["nextRecordsUrl"], identifier_is_url=True)
    assert len(second["records"]) == 200 and len(third["records"]) == 50 and third["done"] is True
    assert "nextRecordsUrl" not in third
    ids = {r["Id"] for page in (first, second, third) for r in page["records"]}
    assert ids == set(many_contacts)


def test_query_all_follows_pages_and_includes_deleted(sf, many_contacts):
    sf.Contact.delete(many_contacts[0])
    live = sf.query_all("SELECT Id FROM Contact WHERE LastName LIKE 'Bulk%'")
    everything = sf.query_all("SELECT Id, IsDeleted FROM Contact WHERE LastName LIKE 'Bulk%'", include_deleted=True)
    assert live["totalSize"] == 449 and len(live["records"]) == 449
    assert everything["totalSize"] == 450
    assert any(r["IsDeleted"] for r in everything["records"])


def test_count_query(sf):
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 2


def test_malformed_query(sf):
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query("SELECT Id FORM Contact")
    assert raised.value.content[0]["errorCode"] == "MALFORMED_QUERY"


def test_updated_and_deleted_windows(sf):
    start = datetime.now(timezone.utc) - timedelta(minutes=5)
    new_id = sf.Contact.create({"LastName": "Window"})["id"]
    gone = sf.Contact.create({"LastName": "Gone"})["id"]
    sf.Contact.delete(gone)
    end = datetime.now(timezone.utc) + timedelta(minutes=2)
    updated = sf.Contact.updated(start, end)
    assert new_id in updated["ids"] and "latestDateCovered" in updated
    deleted = sf.Contact.deleted(start, end)
    assert gone in [entry["id"] for entry in deleted["deletedRecords"]]
