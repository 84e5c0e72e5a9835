"""No query can take the emulator down: LIKE without backtracking, a nesting limit, and a time
budget after which a query answers QUERY_TIMEOUT while other callers keep being served."""

from __future__ import annotations

import threading
import time

import pytest

QUERY = "/services/data/v62.0/query"


@pytest.fixture
def query(base_url, new_session, sf_token):
    def run(soql: str, timeout: float = 30):
        session = new_session()
        return session.get(f"{base_url}{QUERY}", params={"q": soql}, timeout=timeout,
                           headers={"Authorization": f"Bearer {sf_token}"})

    return run


@pytest.fixture
def budget(emulator):
    saved = emulator.org.query_budget.seconds
    yield emulator.org.query_budget
    emulator.org.query_budget.seconds = saved


def test_a_backtracking_like_answers_at_once(query, base_url, http) -> None:
    """Before, `Name LIKE '%%%%%%%%%%b'` ran for 81 s and froze every other caller."""
    http.post(f"{base_url}/_emulator/seed", json={"Account": [{"Name": "a" * 200}]}).raise_for_status()
    started = time.monotonic()
    answer = query("SELECT Id FROM Account WHERE Name LIKE '%%%%%%%%%%b'", timeout=10)
    assert answer.status_code == 200 and answer.json()["totalSize"] == 0
    assert time.monotonic() - started < 2
    assert query("SELECT Name FROM Account WHERE Name LIKE '%%a%%a%'").json()["totalSize"] == 1


def test_deep_nesting_is_malformed_query_not_an_unknown_exception(query) -> None:
    """Before, 900 nested NOTs raised a RecursionError answered as 500 UNKNOWN_EXCEPTION."""
    deep = query("SELECT Id FROM Account WHERE " + "NOT " * 900 + "Name = 'x'")
    assert deep.status_code == 400 and deep.json()[0]["errorCode"] == "MALFORMED_QUERY"
    allowed = query("SELECT Id FROM Account WHERE " + "NOT " * 100 + "Name = 'Initech'")
    assert allowed.status_code == 200 and allowed.json()["totalSize"] == 1


def test_a_slow_query_times_out_and_others_are_served_meanwhile(query, base_url, http, budget) -> None:
    rows = [{"Name": f"Company {n:06d}", "Website": f"c{n}.example"} for n in range(100_000)]
    http.post(f"{base_url}/_emulator/bulk-load", json={"Account": rows}).raise_for_status()
    budget.seconds = 0.5
    heavy = "SELECT Id FROM Account WHERE " + " OR ".join(f"Website LIKE '%q{n}%z%'" for n in range(60))
    latencies: list[float] = []
    answers: list[int] = []
    done = threading.Event()
    # The neighbour reads a small object, so the budget it runs under never cuts its own query short.
    neighbour_query = "SELECT Id FROM Contact WHERE LastName != null"
    contacts = query(neighbour_query).json()["totalSize"]
    assert contacts > 0

    def others() -> None:
        while not done.is_set():
            started = time.monotonic()
            answers.append(query(neighbour_query).json()["totalSize"])
            latencies.append(time.monotonic() - started)

    neighbour = threading.Thread(target=others)
    neighbour.start()
    try:
        started = time.monotonic()
        answer = query(heavy, timeout=60)
        took = time.monotonic() - started
    finally:
        done.set()
        neighbour.join(60)
    assert answer.status_code == 400 and answer.json() == [
        {"message": "Your query request was running for too long.", "errorCode": "QUERY_TIMEOUT", "fields": []}]
    assert took < 3
    assert answers and set(answers) == {contacts} and max(latencies) < 3
