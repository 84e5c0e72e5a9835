"""Bad input: each a clear error in the envelope, never a 500, and nothing written."""

from __future__ import annotations

import json

import pytest

from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore

LEADS = "/rest/v1/leads.json"


def _error(answer) -> dict:
    body = answer.json()
    assert body["success"] is False and body["errors"], body
    return body["errors"][0]


def _nothing_written(store: PersonStore) -> None:
    assert store.persons.count() == 0
    assert store.activities.find() == []


def test_malformed_json_is_609(api, api_store) -> None:
    answer = api.post(LEADS, content=b'{"input": [{"email": "a@x.com"}', headers={"Content-Type": "application/json"})
    assert answer.status_code == 200 and _error(answer) == {"code": "609", "message": "Invalid JSON"}
    _nothing_written(api_store)


def test_not_utf8_json_is_609(api, api_store) -> None:
    answer = api.post(LEADS, content=b"\xff\xfe{}", headers={"Content-Type": "application/json"})
    assert _error(answer)["code"] == "609"


def test_json_body_with_a_non_json_content_type_is_612(api, api_store) -> None:
    answer = api.post("/rest/v1/leads/push.json", content=b'{"input": []}', headers={"Content-Type": "text/plain"})
    assert _error(answer) == {"code": "612", "message": "Invalid Content Type 'text/plain'; send application/json"}


@pytest.mark.parametrize("method, path", [
    ("POST", LEADS), ("POST", "/rest/v1/leads/push.json"), ("POST", "/rest/v1/leads/delete.json"),
    ("DELETE", LEADS), ("POST", "/rest/v1/leads/1/syncToSfdc.json"), ("POST", "/rest/v1/leads/1/convertInSfdc.json"),
])
def test_json_body_without_a_content_type_is_612(api, api_store, method, path) -> None:
    """Before, a JSON body with no Content-Type was read as JSON and the leads written."""
    body = json.dumps({"programName": "Webinar", "input": [{"email": "a@x.com"}, {"id": 1}]}).encode()
    answer = api.request(method, path, content=body)
    assert "content-type" not in {name.lower() for name in answer.request.headers}
    assert _error(answer) == {"code": "612", "message": "Invalid Content Type: the body has none; send application/json"}
    _nothing_written(api_store)


@pytest.mark.parametrize("body, code, named", [
    ({"input": "not a list"}, "1001", "input"),
    ({"input": [{"email": "a@x.com"}], "action": "explode"}, "1001", "action"),
    ({"input": [1, 2]}, "1001", "input"),
    ({}, "1002", "input"),
    ([{"email": "a@x.com"}], "1001", "body"),
    ({"input": [{"email": "a@x.com"}], "lookupField": "nope"}, "1006", "nope"),
    ({"input": [{"email": "a@x.com"}], "lookupField": "firstName"}, "1011", "firstName"),
    ({"input": [{"id": 1}], "lookupField": "id", "action": "createOnly"}, "1003", "id"),
    ({"input": [{"email": f"p{i}@x.com"} for i in range(301)]}, "1003", "300"),
])
def test_wrong_types_and_shapes_name_the_problem(api, api_store, body, code, named) -> None:
    error = _error(api.post(LEADS, json=body))
    assert error["code"] == code and named in error["message"]
    _nothing_written(api_store)


def test_wrong_value_types_skip_the_record_naming_the_field(api, api_store) -> None:
    answer = api.post(LEADS, json={"input": [
        {"email": "a@x.com", "unsubscribed": "perhaps"},
        {"email": "b@x.com", "dateOfBirth": "yesterday"},
        {"email": "c@x.com", "firstName": {"nested": True}},
        {"email": "not-an-email"},
        {"email": "d@x.com", "sfdcId": "00Q000000000001AAA"},
        {"email": 42},
    ]}).json()
    reasons = [r["reasons"][0] for r in answer["result"]]
    assert [r["code"] for r in reasons] == ["1001", "1001", "1001", "1003", "1003", "1001"]
    for reason, field in zip(reasons, ["unsubscribed", "dateOfBirth", "firstName", "email", "sfdcId", "email"]):
        assert field in reason["message"]
    _nothing_written(api_store)


def test_a_10_mb_body_is_413_with_an_envelope(api, api_store) -> None:
    big = json.dumps({"input": [{"email": "a@x.com", "personNotes": "x" * (10 * 1024 * 1024)}]})
    answer = api.post(LEADS, content=big.encode(), headers={"Content-Type": "application/json"})
    assert answer.status_code == 413 and _error(answer)["code"] == "1001"
    _nothing_written(api_store)


def test_unknown_field_in_reads_is_1006(api, api_store) -> None:
    api_store.persons.add_many([{"email": "a@x.com"}], ChangeOrigin.MARKETING)
    by_filter = api.get(LEADS, params={"filterType": "email", "filterValues": "a@x.com", "fields": "email,shoeSize"})
    assert _error(by_filter) == {"code": "1006", "message": "Field 'shoeSize' not found"}
    assert _error(api.get("/rest/v1/lead/1.json", params={"fields": "shoeSize"}))["code"] == "1006"
    assert _error(api.get(LEADS, params={"filterType": "shoeSize", "filterValues": "1"}))["code"] == "1006"


INJECTIONS = [
    "Robert'); DROP TABLE persons;--",
    "' OR '1'='1",
    "<script>alert('x')</script>",
    "\"}]}{\"success\": true",
    "</title><img src=x onerror=alert(1)>",
    "ünïcødé ✓ \u2028 line",
]


def test_injection_strings_are_stored_verbatim_and_returned_json_escaped(api, api_store) -> None:
    records = [{"email": f"i{n}@x.com", "lastName": text, "personNotes": text} for n, text in enumerate(INJECTIONS)]
    result = api.post(LEADS, json={"input": records}).json()["result"]
    assert all(r["status"] == "created" for r in result)
    ids = [r["id"] for r in result]
    for person, text in zip(api_store.persons.get_many(ids), INJECTIONS, strict=True):
        assert person.fields["lastName"] == text and person.fields["personNotes"] == text
    answer = api.get(LEADS, params={"filterType": "id", "filterValues": ",".join(map(str, ids)),
                                    "fields": "lastName"})
    assert answer.headers["content-type"].startswith("application/json")
    assert [r["lastName"] for r in answer.json()["result"]] == INJECTIONS
    for text in INJECTIONS:
        assert json.dumps(text, ensure_ascii=False)[1:-1].encode() in answer.content
    assert b'"}]}{"success"' not in answer.content
    assert api_store.persons.count() == len(INJECTIONS)
    filtered = api.get(LEADS, params={"filterType": "email", "filterValues": "' OR '1'='1"}).json()
    assert filtered["success"] is True and filtered["result"] == []


def test_bad_paging_tokens_and_batch_sizes(api) -> None:
    assert _error(api.get(LEADS, params={"filterType": "id", "filterValues": "1", "nextPageToken": "!!!"}))["code"] == "1003"
    assert _error(api.get(LEADS, params={"filterType": "id", "filterValues": "1", "batchSize": "301"}))["code"] == "1003"
    assert _error(api.get(LEADS, params={"filterType": "id", "filterValues": "1", "batchSize": "x"}))["code"] == "1001"
    assert _error(api.get(LEADS, params={"filterType": "id", "filterValues": "one"}))["code"] == "1001"
    assert _error(api.get("/rest/v1/activities.json", params={"activityTypeIds": "12"}))["code"] == "1002"
    assert _error(api.get("/rest/v1/activities/pagingtoken.json", params={"sinceDatetime": "soon"}))["code"] == "1001"


def test_digits_of_other_scripts_are_not_numbers_in_parameters(api, api_store) -> None:
    """Before, `filterValues=٣` found lead 3 and `batchSize=٣` paged by 3: Python's int() reads
    Arabic-Indic digits, which no Marketo client means as a number."""
    api_store.persons.add_many([{"email": f"p{i}@example.com"} for i in range(3)], ChangeOrigin.MARKETING)
    for params, name in (({"filterType": "id", "filterValues": "\u0663"}, "filterValues"),
                         ({"filterType": "id", "filterValues": "1", "batchSize": "\u0663"}, "batchSize")):
        assert _error(api.get(LEADS, params=params)) == {
            "code": "1001", "message": f"Invalid value '\u0663'. Required of type 'integer' ({name})"}
    activities = api.get("/rest/v1/activities.json", params={
        "activityTypeIds": "\u0661\u0662", "nextPageToken": "GIYDEMBNGAYS2MBRKQYDAORQGA5DAMBOGAYDAKZQGAYDALBQ"})
    assert _error(activities) == {"code": "1001", "message": "Invalid value '\u0661\u0662'. Required of type "
                                                             "'integer' (activityTypeIds)"}


def test_unknown_path_and_wrong_verb_are_envelopes(api) -> None:
    assert _error(api.get("/rest/v1/opportunities.json")) == {"code": "610", "message": "Requested resource not found"}
    assert _error(api.put(LEADS, json={}))["code"] == "605"


def test_a_path_with_a_trailing_slash_is_610_not_an_empty_redirect(api, api_store) -> None:
    """Before, a 307 redirect with an empty body, which marketorestpython cannot decode, counted
    against the client's calls."""
    for method, path in (("GET", "/rest/v1/leads/describe.json/"), ("POST", LEADS + "/"),
                         ("GET", "/rest/v1/lead/1.json/")):
        answer = api.request(method, path, json={"input": [{"email": "a@example.com"}]}, follow_redirects=False)
        assert answer.status_code == 200 and _error(answer) == {"code": "610",
                                                                 "message": "Requested resource not found"}
    _nothing_written(api_store)


def test_an_unexpected_failure_is_611_without_a_trace(api, api_store, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire at /var/lib/secret/path")

    monkeypatch.setattr(api_store.api, "persons_page", broken)
    answer = api.get(LEADS, params={"filterType": "id", "filterValues": "1"})
    assert answer.status_code == 200
    assert _error(answer) == {"code": "611", "message": "System error"}
    assert b"Traceback" not in answer.content and b"secret" not in answer.content


def test_a_chunked_body_over_the_cap_is_413(make_app, api_store) -> None:
    from fastapi.testclient import TestClient

    from tandem.web.limits import ApiLimits
    from tests.web.conftest import bearer

    def chunks():
        yield b'{"input": [{"email": "a@x.com", "personNotes": "'
        for _ in range(20):
            yield b"x" * 100
        yield b'"}]}'

    with TestClient(make_app(limits=ApiLimits(body_bytes=1000))) as client:
        answer = client.post(LEADS, content=chunks(), headers={**bearer(client), "Content-Type": "application/json"})
    assert answer.status_code == 413 and _error(answer)["code"] == "1001"
    _nothing_written(api_store)


@pytest.mark.parametrize("method, path", [
    ("GET", "/rest/v1/lead/abc.json"), ("POST", "/rest/v1/leads/abc/merge.json?leadId=2"),
    ("POST", "/rest/v1/leads/1.5/syncToSfdc.json"),
])
def test_a_lead_id_in_the_path_that_is_no_number_is_named_as_the_api_names_it(api, api_store, method, path) -> None:
    """Before, the route's own variable was named: `Invalid value for 'lead_id'`."""
    error = _error(api.request(method, path))
    assert error["code"] == "1001" and error["message"].startswith("Invalid value for 'leadId': ")
    _nothing_written(api_store)
