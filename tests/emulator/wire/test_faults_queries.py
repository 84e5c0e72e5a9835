"""Query-side faults: QUERY_TIMEOUT on a query (`queryTimeout`), a cursor forgotten mid-paging
(`invalidQueryLocator`), and queries failing while writes pass (`queryOutage`, `queryOutageAs`)."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceGeneralError, SalesforceMalformedRequest

V = "/services/data/v62.0"
PAGED = "SELECT Id FROM Contact WHERE LastName LIKE 'Page %' ORDER BY Id"
TIMEOUT = [{"message": "Your query request was running for too long.", "errorCode": "QUERY_TIMEOUT",
            "fields": []}]


@pytest.fixture
def pages(http, base_url, sf):
    """450 contacts, read 200 to a page."""
    rows = [{"LastName": f"Page {i:03d}"} for i in range(450)]
    http.post(f"{base_url}/_emulator/seed", json={"Contact": rows}).raise_for_status()
    sf.headers["Sforce-Query-Options"] = "batchSize=200"
    return sf


def test_a_query_times_out_at_rate_one_and_writes_pass(sf, faults):
    faults.set(seed=4, queryTimeout=1.0)
    for run in (lambda: sf.query("SELECT Id FROM Contact"), lambda: sf.query_all("SELECT Id FROM Contact",
                                                                                     include_deleted=True)):
        with pytest.raises(SalesforceMalformedRequest) as raised:
            run()
        assert raised.value.content == TIMEOUT
    created = sf.Contact.create({"LastName": "Written"})["id"]
    assert sf.Contact.get(created)["LastName"] == "Written"
    assert faults.injected() == {"queryTimeout": 2}


def test_timeouts_hit_first_pages_only(pages, faults):
    first = pages.query(PAGED)
    faults.set(seed=4, queryTimeout=1.0)
    second = pages.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert len(second["records"]) == 200
    assert faults.injected() == {}


def test_a_forgotten_cursor_fails_mid_paging_and_stays_forgotten(pages, faults):
    first = pages.query(PAGED)
    assert not first["done"]
    faults.set(seed=4, invalidQueryLocator=1.0)
    assert pages.query("SELECT COUNT() FROM Contact")["totalSize"] == 454
    with pytest.raises(SalesforceMalformedRequest) as raised:
        pages.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert raised.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"
    assert faults.injected() == {"invalidQueryLocator": 1}
    faults.set()
    with pytest.raises(SalesforceMalformedRequest):
        pages.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert len(pages.query_all(PAGED)["records"]) == 450


def test_a_query_outage_fails_every_query_call_while_writes_pass(pages, faults):
    first = pages.query(PAGED)
    faults.set(seed=4, queryOutage=1.0)
    calls = [lambda: pages.query("SELECT Id FROM Contact"),
             lambda: pages.query_all("SELECT Id FROM Contact", include_deleted=True),
             lambda: pages.query_more(first["nextRecordsUrl"], identifier_is_url=True)]
    for run in calls:
        with pytest.raises(SalesforceGeneralError) as raised:
            run()
        assert raised.value.status == 503
        assert raised.value.content[0]["errorCode"] == "SERVER_UNAVAILABLE"
    created = pages.Contact.create({"LastName": "Outage"})["id"]
    pages.Contact.update(created, {"Title": "Still writable"})
    assert faults.injected() == {"queryOutage": 3}
    faults.set()
    assert len(pages.query_more(first["nextRecordsUrl"], identifier_is_url=True)["records"]) == 200
    assert pages.Contact.get(created)["Title"] == "Still writable"


def test_a_query_outage_can_answer_query_timeout(sf, faults):
    faults.set(seed=4, queryOutage=1.0, queryOutageAs="QUERY_TIMEOUT")
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query("SELECT Id FROM Contact")
    assert raised.value.content == TIMEOUT


def test_no_query_fault_at_rate_zero(pages, faults):
    faults.set(seed=4, queryTimeout=0.0, invalidQueryLocator=0.0, queryOutage=0.0)
    assert len(pages.query_all(PAGED)["records"]) == 450
    assert faults.injected() == {}


def _outcomes(pages, faults, seed: int) -> list[str]:
    """Page one of a fresh query, then page two when page one came back."""
    faults.set(seed=seed, queryTimeout=0.3, invalidQueryLocator=0.3, queryOutage=0.2)
    outcomes = []
    for _ in range(12):
        try:
            first = pages.query(PAGED)
            outcomes.append("ok")
            pages.query_more(first["nextRecordsUrl"], identifier_is_url=True)
            outcomes.append("ok")
        except (SalesforceMalformedRequest, SalesforceGeneralError) as exc:
            outcomes.append(exc.content[0]["errorCode"])
    return outcomes


def test_query_faults_repeat_for_a_seed_and_the_counts_add_up(pages, faults):
    first = _outcomes(pages, faults, seed=2)
    counts = faults.injected()
    assert _outcomes(pages, faults, seed=2) == first
    assert set(first) == {"ok", "QUERY_TIMEOUT", "INVALID_QUERY_LOCATOR", "SERVER_UNAVAILABLE"}
    assert counts == {"queryTimeout": first.count("QUERY_TIMEOUT"), "queryOutage": first.count("SERVER_UNAVAILABLE"),
                      "invalidQueryLocator": first.count("INVALID_QUERY_LOCATOR")}
