"""composite/sobjects, composite (referenceId chaining, allOrNone) and composite/batch via `restful`."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest


def _contacts(*last_names):
    return [{"attributes": {"type": "Contact"}, "LastName": name} for name in last_names]


def test_create_update_retrieve_delete_collection(sf):
    created = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": _contacts("A", "B")})
    assert [r["success"] for r in created] == [True, True]
    ids = [r["id"] for r in created]
    updates = [{"attributes": {"type": "Contact"}, "Id": i, "Title": "VP"} for i in ids]
    assert all(r["success"] for r in sf.restful("composite/sobjects", method="PATCH", json={"records": updates}))
    fetched = sf.restful("composite/sobjects/Contact", params={"ids": ",".join(ids), "fields": "Title"})
    assert [r["Title"] for r in fetched] == ["VP", "VP"]
    posted = sf.restful("composite/sobjects/Contact", method="POST", json={"ids": ids, "fields": ["LastName"]})
    assert [r["LastName"] for r in posted] == ["A", "B"]
    deleted = sf.restful("composite/sobjects", method="DELETE", params={"ids": ",".join(ids), "allOrNone": "true"})
    assert [r["success"] for r in deleted] == [True, True]


def test_records_given_by_15_character_ids_are_answered_with_their_18_character_ids(sf):
    """Salesforce answers every Id in its 18-character form; updates and deletes by a 15-character
    Id echoed the 15 characters, which a client matching results to its records by Id misses."""
    ids = [r["id"] for r in sf.restful("composite/sobjects", method="POST",
                                       json={"records": _contacts("Short A", "Short B")})]
    updates = [{"attributes": {"type": "Contact"}, "Id": i[:15], "Title": "VP"} for i in ids]
    updated = sf.restful("composite/sobjects", method="PATCH", json={"records": updates})
    assert [r["id"] for r in updated] == ids
    deleted = sf.restful("composite/sobjects", method="DELETE", params={"ids": ",".join(i[:15] for i in ids)})
    assert [r["id"] for r in deleted] == ids


def test_collection_records_and_ids_of_the_wrong_json_shape_are_refused_clearly(sf):
    """`attributes` given as text answered 500; an upsert key given as a list was written as the text
    "['k-1']"; a retrieve's `ids` given as one string was read character by character, and `fields` of
    numbers answered 500. Each is now refused, naming what is wrong."""
    typeless = sf.restful("composite/sobjects", method="POST",
                          json={"records": [{"attributes": "Contact", "LastName": "Typeless"}]})
    assert typeless[0]["errors"][0]["statusCode"] == "INVALID_TYPE"
    listed = sf.restful("composite/sobjects/Contact/External_Id__c", method="PATCH", json={"records": [
        {"attributes": {"type": "Contact"}, "External_Id__c": ["k-1"], "LastName": "Listed"}]})
    assert listed[0]["success"] is False
    assert listed[0]["errors"][0]["statusCode"] == "INVALID_TYPE_ON_FIELD_IN_RECORD"
    assert sf.query("SELECT COUNT() FROM Contact WHERE LastName IN ('Typeless', 'Listed')")["totalSize"] == 0
    for body, named in (({"ids": "0035g0000000001AAA", "fields": ["Id"]}, "ids"),
                        ({"ids": ["0035g0000000001AAA"], "fields": [5]}, "fields")):
        with pytest.raises(SalesforceMalformedRequest) as raised:
            sf.restful("composite/sobjects/Contact", method="POST", json=body)
        assert raised.value.content[0]["message"].startswith(named)


def test_partial_success_without_all_or_none(sf):
    records = _contacts("Good") + [{"attributes": {"type": "Contact"}, "FirstName": "NoLast"}]
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": records})
    assert results[0]["success"] is True
    assert results[1]["success"] is False
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert results[1]["errors"][0]["fields"] == ["LastName"]
    assert sf.query("SELECT COUNT() FROM Contact WHERE LastName = 'Good'")["totalSize"] == 1


def test_all_or_none_rolls_back_every_record(sf):
    records = _contacts("Kept?") + [{"attributes": {"type": "Contact"}, "FirstName": "NoLast"}]
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": records})
    assert results[0]["success"] is False and results[0]["id"] is None
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert sf.query("SELECT COUNT() FROM Contact WHERE LastName = 'Kept?'")["totalSize"] == 0


def test_upsert_collection_reports_created(sf):
    records = [{"attributes": {"type": "Contact"}, "External_Id__c": "c-1", "LastName": "One"}]
    first = sf.restful("composite/sobjects/Contact/External_Id__c", method="PATCH", json={"records": records})
    again = sf.restful("composite/sobjects/Contact/External_Id__c", method="PATCH", json={"records": records})
    assert (first[0]["created"], again[0]["created"]) == (True, False)
    assert first[0]["id"] == again[0]["id"]


def test_more_than_200_records_is_refused(sf):
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.restful("composite/sobjects", method="POST", json={"records": _contacts(*[f"n{i}" for i in range(201)])})
    assert raised.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_composite_chains_reference_ids(sf):
    body = {"allOrNone": True, "compositeRequest": [
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Account", "referenceId": "acct",
         "body": {"Name": "Chained"}},
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Contact", "referenceId": "con",
         "body": {"LastName": "Linked", "AccountId": "@{acct.id}"}},
        {"method": "GET", "url": "/services/data/v62.0/sobjects/Contact/@{con.id}?fields=AccountId",
         "referenceId": "check"},
    ]}
    answer = sf.restful("composite", method="POST", json=body)["compositeResponse"]
    assert [r["httpStatusCode"] for r in answer] == [201, 201, 200]
    assert answer[2]["body"]["AccountId"] == answer[0]["body"]["id"]
    assert answer[0]["httpHeaders"]["Location"].endswith(answer[0]["body"]["id"])


def test_composite_all_or_none_failure_halts_and_rolls_back(sf):
    body = {"allOrNone": True, "compositeRequest": [
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Contact", "referenceId": "ok",
         "body": {"LastName": "RolledBack"}},
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Contact", "referenceId": "bad", "body": {}},
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Contact", "referenceId": "after",
         "body": {"LastName": "NeverRun"}},
    ]}
    answer = sf.restful("composite", method="POST", json=body)["compositeResponse"]
    assert [r["httpStatusCode"] for r in answer] == [400, 400, 400]
    assert answer[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert answer[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert sf.query("SELECT COUNT() FROM Contact WHERE LastName = 'RolledBack'")["totalSize"] == 0


@pytest.mark.parametrize("bad", [{"method": "GET", "url": 5}, {"method": ["GET"], "url": "v62.0/limits"}, 5])
def test_a_malformed_batch_subrequest_refuses_the_call_before_any_subrequest_runs(sf, bad):
    """A url or method that is not text answered 500; and a malformed subrequest after a write refused the
    call with 400 when that write had already been made. The call is now refused whole, nothing written."""
    body = {"batchRequests": [
        {"method": "POST", "url": "v62.0/sobjects/Contact", "richInput": {"LastName": "Before Bad"}}, bad]}
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.restful("composite/batch", method="POST", json=body)
    assert raised.value.content[0]["errorCode"] == "INVALID_INPUT"
    assert sf.query("SELECT COUNT() FROM Contact WHERE LastName = 'Before Bad'")["totalSize"] == 0
    composite = {"compositeRequest": [{"referenceId": "bad", **bad} if isinstance(bad, dict) else bad]}
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.restful("composite", method="POST", json=composite)
    assert raised.value.content[0]["errorCode"] == "INVALID_INPUT"


def test_composite_batch_runs_describes_and_halts_on_error(sf):
    body = {"haltOnError": True, "batchRequests": [
        {"method": "GET", "url": "v62.0/sobjects/Lead/describe"},
        {"method": "GET", "url": "/services/data/v62.0/sobjects/Nope__c/describe"},
        {"method": "GET", "url": "v62.0/sobjects/Contact/describe"},
    ]}
    answer = sf.restful("composite/batch", method="POST", json=body)
    assert answer["hasErrors"] is True
    assert [r["statusCode"] for r in answer["results"]] == [200, 404, 412]
    assert answer["results"][0]["result"]["name"] == "Lead"


def test_composite_takes_at_most_five_query_or_collection_subrequests(sf):
    """Of a composite call's 25 subrequests at most 5 may be queries (query, queryAll, their next pages)
    or sObject Collections; more is refused whole, before anything runs."""
    def query(i):
        return {"method": "GET", "url": f"/services/data/v{sf.sf_version}/query?q=SELECT+Id+FROM+Lead",
                "referenceId": f"q{i}"}

    five = sf.restful("composite", method="POST", json={"compositeRequest": [query(i) for i in range(5)]})
    assert [r["httpStatusCode"] for r in five["compositeResponse"]] == [200] * 5
    collection = {"method": "POST", "url": f"/services/data/v{sf.sf_version}/composite/sobjects", "referenceId": "c",
                  "body": {"records": [{"attributes": {"type": "Contact"}, "LastName": "Sixth"}]}}
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.restful("composite", method="POST", json={"compositeRequest": [*(query(i) for i in range(5)), collection]})
    assert refused.value.content[0]["errorCode"] == "INVALID_INPUT"
    assert sf.query("SELECT COUNT() FROM Contact WHERE LastName = 'Sixth'")["totalSize"] == 0


def test_each_subrequest_of_a_composite_batch_is_an_api_call_a_composite_call_is_one(base_url, http, sf_token):
    """Salesforce counts every subrequest a batch runs against the daily limit, a composite call once;
    before, a batch of 25 describes (as tap-salesforce sends them) counted as one call."""
    headers = {"Authorization": f"Bearer {sf_token}"}
    data = f"{base_url}/services/data/v62.0"

    def used(answer):
        assert answer.status_code == 200, answer.text
        return int(answer.headers["Sforce-Limit-Info"].removeprefix("api-usage=").split("/")[0])

    before = used(http.get(f"{data}/limits", headers=headers))
    describes = [{"method": "GET", "url": f"v62.0/sobjects/{name}/describe"} for name in ("Lead", "Contact", "Account")]
    batch = http.post(f"{data}/composite/batch", headers=headers, json={"batchRequests": describes})
    assert used(batch) == before + 3
    halted = http.post(f"{data}/composite/batch", headers=headers, json={"haltOnError": True, "batchRequests": [
        describes[0], {"method": "GET", "url": "v62.0/sobjects/Nope__c/describe"}, describes[1]]})
    assert [r["statusCode"] for r in halted.json()["results"]] == [200, 404, 412]
    assert used(halted) == before + 3 + 2  # the halted subrequest never ran
    composite = http.post(f"{data}/composite", headers=headers, json={"compositeRequest": [
        {"method": "GET", "url": f"/services/data/v62.0/sobjects/{name}/describe", "referenceId": name}
        for name in ("Lead", "Contact", "Account")]})
    assert used(composite) == before + 5 + 1
    remaining = http.get(f"{data}/limits", headers=headers).json()["DailyApiRequests"]
    assert remaining["Max"] - remaining["Remaining"] == before + 7


def test_retrieve_checks_the_object_and_fields_before_the_ids(sf):
    """A bad field name or object is refused up front, as Salesforce does, not hidden behind nulls
    when none of the Ids names a record."""
    from simple_salesforce.exceptions import SalesforceResourceNotFound

    missing = "003000000000000AAA"
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.restful("composite/sobjects/Contact", params={"ids": missing, "fields": "LastName,Nope__c"})
    assert raised.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Nope__c' on entity 'Contact'" in raised.value.content[0]["message"]
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite/sobjects/Contact", method="POST", json={"ids": [missing], "fields": ["Nope__c"]})
    with pytest.raises(SalesforceResourceNotFound):
        sf.restful("composite/sobjects/Contat", params={"ids": missing, "fields": "LastName"})
    assert sf.restful("composite/sobjects/Contact", params={"ids": missing, "fields": "LastName"}) == [None]


def test_an_upsert_giving_two_records_the_same_external_id_fails_both(sf):
    """Salesforce marks every record of the call that repeats an external Id (in any letter case) as
    an error, instead of creating the first and updating it with the second; the others go through."""
    body = {"allOrNone": False, "records": [
        {"attributes": {"type": "Contact"}, "External_Id__c": "twin-1", "LastName": "First"},
        {"attributes": {"type": "Contact"}, "External_Id__c": "TWIN-1", "LastName": "Second"},
        {"attributes": {"type": "Contact"}, "External_Id__c": "solo-1", "LastName": "Solo"},
    ]}
    results = sf.restful("composite/sobjects/Contact/External_Id__c", method="PATCH", json=body)
    assert [r["success"] for r in results] == [False, False, True]
    assert results[0]["errors"] == [{"statusCode": "DUPLICATE_EXTERNAL_ID", "fields": ["External_Id__c"],
                                     "message": "Duplicate external id specified: twin-1"}]
    assert results[1]["errors"][0]["message"] == "Duplicate external id specified: TWIN-1"
    assert sf.query("SELECT COUNT() FROM Contact WHERE External_Id__c = 'twin-1'")["totalSize"] == 0
