"""Numbers and page tokens out of range are clear 1001/1003 errors that change nothing, never 611."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from tests.web.conftest import bearer

from tandem.people.origin import ChangeOrigin

HUGE = "9" * 5000
LEADS = "/rest/v1/leads.json"


def _token(text: str) -> str:
    return base64.b32encode(text.encode()).decode()


@pytest.fixture
def http(live_server, api_store):
    api_store.persons.add_many([{"email": "a@x.com", "leadScore": 5}], ChangeOrigin.MARKETING)
    with httpx.Client(base_url=live_server.url) as client:
        client.headers.update(bearer(client))
        yield client


def _error(answer: httpx.Response) -> dict:
    body = answer.json()
    assert answer.status_code == 200 and body["success"] is False, body
    return body["errors"][0]


@pytest.mark.parametrize("body, code, named", [
    ('{"input": [{"email": "b@x.com", "leadScore": %s}]}' % HUGE, "1001", "5000 digits"),
    ('{"input": [{"email": "b@x.com", "leadScore": -%s}]}' % HUGE, "1001", "5000 digits"),
    ('{"lookupField": "id", "action": "updateOnly", "input": [{"id": %s}]}' % ("9" * 41), "1001", "41 digits"),
])
def test_huge_numbers_in_a_body_are_1001(http, api_store, body, code, named) -> None:
    error = _error(http.post(LEADS, content=body, headers={"Content-Type": "application/json"}))
    assert error["code"] == code and named in error["message"]
    assert api_store.persons.count() == 1


@pytest.mark.parametrize("record, field", [
    ({"email": "b@x.com", "leadScore": HUGE}, "leadScore"),
    ({"email": "b@x.com", "leadScore": "-" + "9" * 25}, "leadScore"),
])
def test_huge_numbers_as_text_skip_the_record_naming_the_field(http, api_store, record, field) -> None:
    body = http.post(LEADS, json={"input": [record]}).json()
    assert body["success"] is True
    [reason] = body["result"][0]["reasons"]
    assert reason["code"] == "1003" and field in reason["message"] and "out of range" in reason["message"]
    assert len(reason["message"]) < 300
    assert api_store.persons.count() == 1


@pytest.mark.parametrize("lookup_id", [HUGE, "²", "99999999999"])
def test_unusable_lookup_ids_skip_the_record(http, api_store, lookup_id) -> None:
    body = http.post(LEADS, json={"lookupField": "id", "action": "updateOnly",
                                  "input": [{"id": lookup_id, "firstName": "X"}]}).json()
    assert body["success"] is True and body["result"][0]["reasons"][0]["code"] == "1001"
    assert api_store.persons.get_many([1])[0].fields.get("firstName") is None


@pytest.mark.parametrize("path, params", [
    (LEADS, {"filterType": "id", "filterValues": "1", "nextPageToken": _token("lead," + HUGE)}),
    (LEADS, {"filterType": "id", "filterValues": "1", "nextPageToken": _token("lead," + "9" * 30)}),
    (LEADS, {"filterType": "id", "filterValues": "1", "nextPageToken": _token("lead,2147483648")}),
    (LEADS, {"filterType": "id", "filterValues": "1", "nextPageToken": "A" * 7_000}),
    ("/rest/v1/activities.json", {"activityTypeIds": "1",
                                  "nextPageToken": _token("2024-01-01T00:00:00.000+0000," + HUGE)}),
    ("/rest/v1/activities.json", {"activityTypeIds": "1",
                                  "nextPageToken": _token("2024-01-01T00:00:00.000+0000," + "9" * 20)}),
    ("/rest/v1/activities/leadchanges.json", {"fields": "email", "nextPageToken": "B" * 7_000}),
])
def test_oversized_page_tokens_are_1003(http, path, params) -> None:
    assert _error(http.get(path, params=params)) == {"code": "1003", "message": "Invalid nextPageToken"}


def test_a_good_token_still_pages(http, api_store) -> None:
    api_store.persons.add_many([{"email": f"p{n}@x.com"} for n in range(3)], ChangeOrigin.MARKETING)
    first = http.get(LEADS, params={"filterType": "id", "filterValues": "1,2,3,4", "batchSize": "2"}).json()
    second = http.get(LEADS, params={"filterType": "id", "filterValues": "1,2,3,4",
                                     "nextPageToken": first["nextPageToken"]}).json()
    assert [r["id"] for r in first["result"] + second["result"]] == [1, 2, 3, 4]
    assert json.dumps(second).count('"611"') == 0


def test_datetimes_of_early_years_are_read_back_with_four_digit_years(http, api_store) -> None:
    """Before, a datetime in year 1 came back as `1-01-01T00:00:00Z`, which no ISO 8601 reader takes."""
    api_store.fields.ensure_custom("Since__c", "datetime")
    written = http.post(LEADS, json={"input": [{"email": "b@x.com", "Since__c": "0001-01-01T00:00:00Z"},
                                               {"email": "c@x.com", "Since__c": "0999-12-31T23:59:59Z"}]}).json()
    assert [r["status"] for r in written["result"]] == ["created", "created"]
    answer = http.get(LEADS, params={"filterType": "email", "filterValues": "b@x.com,c@x.com",
                                     "fields": "email,Since__c"}).json()
    assert answer["result"] == [{"email": "b@x.com", "Since__c": "0001-01-01T00:00:00Z"},
                                {"email": "c@x.com", "Since__c": "0999-12-31T23:59:59Z"}]


@pytest.mark.parametrize("type_ids", ["999999999999999999", "-999999999999999999,12", "2147483648"])
def test_activity_type_ids_past_the_id_range_match_nothing(writers_store, type_ids) -> None:
    """Before, 611 System error on PostgreSQL, whose activity type ids are `integer`s."""
    from fastapi.testclient import TestClient

    from tandem.web.app import create_app
    from tests.web.conftest import CREDENTIALS, ROOMY

    writers_store.persons.add_many([{"email": "a@x.com"}], ChangeOrigin.MARKETING)
    with TestClient(create_app(writers_store, CREDENTIALS, limits=ROOMY), raise_server_exceptions=False) as api:
        api.headers.update(bearer(api))
        token = api.get("/rest/v1/activities/pagingtoken.json", params={"sinceDatetime": "2020-01-01"}).json()
        answer = api.get("/rest/v1/activities.json", params={"activityTypeIds": type_ids,
                                                              "nextPageToken": token["nextPageToken"]}).json()
    assert answer["success"] is True, answer
    assert [a["activityTypeId"] for a in answer["result"]] == ([12] if type_ids.endswith(",12") else [])
