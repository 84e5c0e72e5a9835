"""Routing edges, headers every answer carries, and less common paths, over raw HTTPS."""

from __future__ import annotations

import pytest

from tandem.emulator.sample_org import ADMIN


@pytest.fixture
def api(base_url, http, sf_token):
    """`api(method, path, **kwargs)` against /services/data/v62.0 with the admin's bearer token."""

    def call(method: str, path: str, **kwargs):
        headers = {"Authorization": f"Bearer {sf_token}", **kwargs.pop("headers", {})}
        return http.request(method, f"{base_url}/services/data/v62.0/{path}", headers=headers, **kwargs)

    return call


def test_method_not_allowed_and_unknown_paths(api, sf):
    contact_id = sf.Contact.create({"LastName": "Routes"})["id"]
    refused = api("PUT", f"sobjects/Contact/{contact_id}", json={})
    assert refused.status_code == 405
    assert refused.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"
    missing = api("GET", "no/such/resource/here/at/all")
    assert missing.status_code == 404 and missing.json()[0]["errorCode"] == "NOT_FOUND"


def test_every_api_answer_carries_the_usage_header(api):
    for answer in (api("GET", "limits/"), api("GET", "query/", params={"q": "SELECT Id FORM x"}),
                   api("GET", "sobjects/Nope__c/describe/")):
        assert answer.headers["Sforce-Limit-Info"].startswith("api-usage=")
        used, limit = answer.headers["Sforce-Limit-Info"].removeprefix("api-usage=").split("/")
        assert int(used) >= 1 and int(limit) == 100000


def test_userinfo_describes_the_caller(base_url, http, sf_token):
    body = http.get(f"{base_url}/services/oauth2/userinfo", headers={"Authorization": f"Bearer {sf_token}"}).json()
    assert body["preferred_username"] == ADMIN.username
    assert body["sub"].startswith(f"{base_url}/id/00D")


def test_query_all_continuation_keeps_deleted_rows(base_url, http, sf, api, sf_token):
    rows = [{"LastName": f"Paged{i:03d}"} for i in range(250)]
    ids = http.post(f"{base_url}/_emulator/seed", json={"Contact": rows}).json()["Contact"]
    sf.Contact.delete(ids[-1])
    soql = "SELECT Id FROM Contact WHERE LastName LIKE 'Paged%' ORDER BY LastName"
    first = api("GET", "queryAll", params={"q": soql}, headers={"Sforce-Query-Options": "batchSize=200"}).json()
    assert first["totalSize"] == 250 and len(first["records"]) == 200
    rest = http.get(base_url + first["nextRecordsUrl"], headers={"Authorization": f"Bearer {sf_token}"}).json()
    assert rest["done"] is True and rest["records"][-1]["Id"] == ids[-1]


def test_collection_delete_reports_each_id(sf):
    keep = sf.Contact.create({"LastName": "Deletable"})["id"]
    results = sf.restful("composite/sobjects", method="DELETE", params={"ids": f"{keep},003000000000000AAA"})
    assert results[0] == {"id": keep, "success": True, "errors": []}
    assert results[1]["success"] is False and results[1]["errors"][0]["statusCode"]


def test_composite_without_all_or_none_halts_only_dependants(sf):
    body = {"allOrNone": False, "compositeRequest": [
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Contact", "referenceId": "bad", "body": {}},
        {"method": "PATCH", "url": "/services/data/v62.0/sobjects/Contact/@{bad.id}", "referenceId": "dependant",
         "body": {"Title": "x"}},
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Contact", "referenceId": "independent",
         "body": {"LastName": "Independent"}},
    ]}
    answer = sf.restful("composite", method="POST", json=body)["compositeResponse"]
    assert [r["httpStatusCode"] for r in answer] == [400, 400, 201]
    assert answer[1]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert sf.query("SELECT COUNT() FROM Contact WHERE LastName = 'Independent'")["totalSize"] == 1


def test_upsert_update_only_refuses_to_insert(api):
    answer = api("PATCH", "sobjects/Contact/External_Id__c/never-seen", params={"updateOnly": "true"},
                 json={"LastName": "No"})
    assert answer.status_code == 404


def test_get_by_external_id_and_unknown_external_field(api, sf):
    sf.Contact.create({"LastName": "Ext", "External_Id__c": "ext-get"})
    found = api("GET", "sobjects/Contact/External_Id__c/ext-get")
    assert found.status_code == 200 and found.json()["LastName"] == "Ext"
    assert api("GET", "sobjects/Contact/External_Id__c/missing").status_code == 404
