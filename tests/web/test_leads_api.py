"""Lead resources in process: filters and paging, sync actions and their per-record reasons,
push, delete, describe."""

from __future__ import annotations

from tandem.people import activities as types
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore
from tandem.web.limits import ApiLimits

LEADS = "/rest/v1/leads.json"


def test_paging_by_token_visits_each_match_once_and_ends_without_a_token(api, api_store) -> None:
    ids = api_store.persons.add_many([{"email": f"x{i}@example.com"} for i in range(7)], ChangeOrigin.MARKETING)
    params = {"filterType": "id", "filterValues": ",".join(map(str, ids)), "batchSize": "3", "fields": "id"}
    seen, tokens = [], []
    while True:
        page = api.get(LEADS, params=params).json()
        seen += [r["id"] for r in page["result"]]
        if "nextPageToken" not in page:
            break
        assert page["moreResult"] is True and page["nextPageToken"] not in tokens
        tokens.append(page["nextPageToken"])
        params["nextPageToken"] = page["nextPageToken"]
    assert seen == ids and len(tokens) == 2


def test_post_with_method_get_in_the_form_body_and_repeated_fields(api, api_store) -> None:
    api_store.persons.add_many([{"email": "ana@example.com", "firstName": "Ana", "city": "Oslo"}], ChangeOrigin.MARKETING)
    body = {"_method": "GET", "filterType": "email", "filterValues": "ana@example.com,,",
            "fields": ["email", "firstName,city"]}
    answer = api.post(LEADS, data=body).json()
    assert answer["result"] == [{"email": "ana@example.com", "firstName": "Ana", "city": "Oslo"}]
    by_query = api.post(LEADS + "?_method=GET", data={"filterType": "email", "filterValues": "ana@example.com"})
    assert by_query.json()["result"][0]["email"] == "ana@example.com"


def test_filter_on_salesforce_ids(api, api_store) -> None:
    from tandem.people.models import SalesforceLink

    [pid] = api_store.persons.add_many([{"email": "c@example.com"}], ChangeOrigin.MARKETING)
    api_store.persons.set_link(pid, SalesforceLink("Contact", "003000000000001AAA", None, "003000000000001AAA",
                                                   "001000000000001AAA"))
    for filter_type, value in [("sfdcContactId", "003000000000001AAA"), ("sfdcAccountId", "001000000000001AAA"),
                               ("sfdcId", "003000000000001AAA")]:
        answer = api.get(LEADS, params={"filterType": filter_type, "filterValues": value, "fields": "id,sfdcType"})
        assert answer.json()["result"] == [{"id": pid, "sfdcType": "Contact"}]
    assert api.get(LEADS, params={"filterType": "sfdcLeadId", "filterValues": "x"}).json()["result"] == []


def test_custom_string_and_integer_fields_are_filter_types(api, api_store) -> None:
    """MARKETO-API §5.1: any custom field of type string, email or integer. Before, 1011."""
    api_store.fields.ensure_custom("External_Id__c", "string", 40)
    api_store.fields.ensure_custom("Seats__c", "integer")
    api_store.fields.ensure_custom("Ratio__c", "float")
    created = api.post(LEADS, json={"input": [{"email": "a@example.com", "External_Id__c": "X-1", "Seats__c": 7},
                                              {"email": "b@example.com", "External_Id__c": "X-2", "Seats__c": 9}]})
    [a, b] = [r["id"] for r in created.json()["result"]]
    [described] = api.get("/rest/v1/leads/describe2.json").json()["result"]
    assert ["External_Id__c"] in described["searchableFields"] and ["Seats__c"] in described["searchableFields"]
    assert ["Ratio__c"] not in described["searchableFields"]

    def found(filter_type: str, values: str) -> list[int] | dict:
        answer = api.get(LEADS, params={"filterType": filter_type, "filterValues": values, "fields": "id"}).json()
        return [r["id"] for r in answer["result"]] if answer["success"] else answer["errors"][0]

    assert found("External_Id__c", "X-2,X-3") == [b]
    assert found("Seats__c", "7, 9") == [a, b]
    assert found("Seats__c", "seven")["code"] == "1001"
    assert found("Seats__c", "99999999999999,-99999999999999") == []
    assert found("Ratio__c", "1.5")["code"] == "1011"


def test_marketo_keys_tandem_does_not_keep_are_not_supported_rather_than_unknown(api, api_store) -> None:
    """Before, Marketo's own filter types and lookup fields (cookies, leadPartitionId, ...) were 1006,
    'not found', as if misspelt; a misspelt name stays 1006."""
    api_store.persons.add_many([{"email": "a@example.com"}], ChangeOrigin.MARKETING)
    for name in ("cookies", "leadPartitionId", "sfdcLeadOwnerId", "sfdcOpptyId"):
        answer = api.get(LEADS, params={"filterType": name, "filterValues": "1"}).json()
        assert answer["errors"][0]["code"] == "1011" and f"'{name}' not supported" in answer["errors"][0]["message"]
    upsert = api.post(LEADS, json={"lookupField": "sfdcLeadOwnerId", "input": [{"sfdcLeadOwnerId": "005x"}]}).json()
    assert upsert["errors"][0]["code"] == "1011"
    assert api.get(LEADS, params={"filterType": "cookie", "filterValues": "1"}).json()["errors"][0] == {
        "code": "1006", "message": "Field 'cookie' not found"}
    assert api_store.persons.count() == 1


def test_salesforce_ids_in_their_15_character_form_find_the_same_lead(api, api_store) -> None:
    """Before, only the 18-character form matched (the store keeps that one)."""
    from tandem.people.models import SalesforceLink

    [pid] = api_store.persons.add_many([{"email": "c@example.com"}], ChangeOrigin.MARKETING)
    api_store.persons.set_link(pid, SalesforceLink("Contact", "0035g00000AbCdEAAV", None, "0035g00000AbCdEAAV"))
    for filter_type in ("sfdcId", "sfdcContactId"):
        answer = api.get(LEADS, params={"filterType": filter_type, "filterValues": "0035g00000AbCdE", "fields": "id"})
        assert answer.json()["result"] == [{"id": pid}]
    assert api.get(LEADS, params={"filterType": "sfdcId", "filterValues": "0035g00000ABCDE"}).json()["result"] == []
    for typed in ("0035G00000ABCDEAAV", "0035g00000abcdeaav"):  # 18 characters in any case: the same record
        assert api.get(LEADS, params={"filterType": "sfdcId", "filterValues": typed}).json()["result"][0]["id"] == pid
    updated = api.post(LEADS, json={"action": "updateOnly", "lookupField": "sfdcContactId",
                                    "input": [{"sfdcContactId": "0035g00000AbCdE", "title": "CFO"}]}).json()
    assert updated["result"] == [{"id": pid, "status": "updated"}]
    assert api_store.persons.get(pid).fields["title"] == "CFO"


def test_too_many_matches_is_1003(make_app, api_store) -> None:
    from fastapi.testclient import TestClient

    from tests.web.conftest import bearer

    api_store.persons.add_many([{"email": "same@example.com"} for _ in range(4)], ChangeOrigin.MARKETING)
    with TestClient(make_app(limits=ApiLimits(filter_matches=3, calls_per_window=1000))) as client:
        client.headers.update(bearer(client))
        answer = client.get(LEADS, params={"filterType": "email", "filterValues": "same@example.com"}).json()
    assert answer["errors"] == [{"code": "1003", "message": "Too many results match the filter"}]


def test_duplicate_key_in_input_multiple_matches_and_create_duplicate(api, api_store: PersonStore) -> None:
    api_store.persons.add_many([{"email": "twin@example.com"}, {"email": "twin@example.com"}], ChangeOrigin.MARKETING)
    result = api.post(LEADS, json={"input": [
        {"email": "new@example.com", "firstName": "One"},
        {"email": "NEW@example.com", "firstName": "Two"},
        {"email": "twin@example.com", "title": "x"},
    ]}).json()["result"]
    assert result[0]["status"] == "created"
    assert result[1]["reasons"][0]["code"] == "1036"
    assert result[2]["reasons"][0]["code"] == "1007"
    dup = api.post(LEADS, json={"action": "createDuplicate", "input": [{"email": "new@example.com"}]}).json()
    assert dup["result"][0]["status"] == "created"
    assert len(api_store.persons.find_by_email("new@example.com")) == 2


def test_updates_log_change_activities_from_the_api(api, api_store) -> None:
    [pid] = api_store.persons.add_many([{"email": "log@example.com", "title": "VP"}], ChangeOrigin.MARKETING)
    api.post(LEADS, json={"action": "updateOnly", "input": [{"email": "log@example.com", "title": "CEO"}]})
    [change] = api_store.activities.find(pid, type_ids=[types.CHANGE_DATA_VALUE.id])
    assert change.attribute("New Value") == "CEO" and change.attribute("Source") == ChangeOrigin.API
    assert [c.field for c in api_store.outbox.find(person_ids=[pid])] == ["title"]


def test_lookup_by_salesforce_id_updates_but_never_creates(api, api_store) -> None:
    answer = api.post(LEADS, json={"action": "createOrUpdate", "lookupField": "sfdcLeadId",
                                   "input": [{"sfdcLeadId": "00Q000000000009AAA", "title": "x"}]}).json()
    assert answer["result"][0]["reasons"][0]["code"] == "1004"
    assert api_store.persons.count() == 0


def test_push_is_an_upsert(api, api_store) -> None:
    [pid] = api_store.persons.add_many([{"email": "push@example.com"}], ChangeOrigin.MARKETING)
    answer = api.post("/rest/v1/leads/push.json", json={"programName": "Webinar", "lookupField": "email", "input": [
        {"email": "push@example.com", "city": "Rome"}, {"email": "fresh@example.com"}]}).json()
    assert answer["result"][0] == {"id": pid, "status": "updated"}
    assert answer["result"][1]["status"] == "created"
    for person_id in (pid, answer["result"][1]["id"]):
        [pushed] = api_store.activities.find(person_id, type_ids=[types.PUSH_LEAD.id])
        assert pushed.primary_attribute_value == "Webinar" and pushed.attribute("Source") == "Web service API"


def test_push_names_its_program_and_writes_nothing_without_one(api, api_store) -> None:
    """Before, a push without programName was an upsert like any other, and no push was logged."""
    for body in ({"input": [{"email": "p@example.com"}]}, {"programName": " ", "input": [{"email": "p@example.com"}]}):
        answer = api.post("/rest/v1/leads/push.json", json=body).json()
        assert answer["success"] is False and answer["errors"][0] == {
            "code": "1002", "message": "Missing value for the required parameter 'programName'"}
    assert api_store.persons.count() == 0
    answer = api.post("/rest/v1/leads/push.json", json={
        "programName": "Spring Fair", "source": "Booth scanner", "reason": "Visited the booth",
        "input": [{"email": "p@example.com"}, {"email": "bad", "firstName": "x"}]}).json()
    assert answer["result"][1]["status"] == "skipped"
    [pushed] = api_store.activities.find(answer["result"][0]["id"], type_ids=[types.PUSH_LEAD.id])
    assert (pushed.primary_attribute_value, pushed.attribute("Source"), pushed.attribute("Reason")) == (
        "Spring Fair", "Booth scanner", "Visited the booth")
    types_listed = api.get("/rest/v1/activities/types.json").json()["result"]
    assert {"id": 145, "name": "Push Lead to Marketo"}.items() <= next(t for t in types_listed if t["id"] == 145).items()


def test_a_program_name_longer_than_its_activity_holds_is_refused_not_cut(api, api_store) -> None:
    """Before, the push's activity named the program by its first 255 characters, as if that were it."""
    answer = api.post("/rest/v1/leads/push.json", json={"programName": "P" * 256,
                                                        "input": [{"email": "p@example.com"}]}).json()
    assert answer["errors"] == [{"code": "1003", "message": "Invalid value for field 'programName': longer than 255 "
                                                            "characters (256)"}]
    assert api_store.persons.count() == 0
    taken = api.post("/rest/v1/leads/push.json", json={"programName": "P" * 255, "input": [{"email": "p@example.com"}]})
    [pushed] = api_store.activities.find(taken.json()["result"][0]["id"], type_ids=[types.PUSH_LEAD.id])
    assert pushed.primary_attribute_value == "P" * 255


def test_delete_by_post_removes_the_person_keeping_a_tombstone(api, api_store) -> None:
    ids = api_store.persons.add_many([{"email": "gone@example.com"}, {"email": "kept@example.com"}], ChangeOrigin.MARKETING)
    answer = api.post("/rest/v1/leads/delete.json", json={"input": [{"id": ids[0]}]}).json()
    assert answer["result"] == [{"id": ids[0], "status": "deleted"}]
    assert [p.id for p in api_store.persons.get_many(ids)] == [ids[1]]
    assert {a.person_id for a in api_store.activities.find()} == {ids[1]}
    tombstone = api_store.tombstones.get(ids[0])
    assert tombstone.record["email"] == "gone@example.com"
    assert [a.activity_type_id for a in tombstone.activities] == [types.NEW_LEAD.id, types.DELETE_LEAD.id]
    by_query = api.post(f"/rest/v1/leads/delete.json?id={ids[1]}").json()
    assert by_query["result"] == [{"id": ids[1], "status": "deleted"}]


def test_an_id_named_twice_in_one_delete_is_deleted_once_and_then_a_duplicate(api, api_store) -> None:
    """Before, the second was 1004 Lead not found, as if the lead had never been there."""
    [pid] = api_store.persons.add_many([{"email": "twice@example.com"}], ChangeOrigin.MARKETING)
    answer = api.post("/rest/v1/leads/delete.json", json={"input": [{"id": pid}, {"id": pid}, {"id": 999999}]}).json()
    assert answer["result"] == [
        {"id": pid, "status": "deleted"},
        {"id": pid, "status": "skipped", "reasons": [{"code": "1036", "message": "Duplicate lead id in input"}]},
        {"id": 999999, "status": "skipped", "reasons": [{"code": "1004", "message": "Lead not found"}]}]
    assert api_store.persons.get_many([pid]) == []


def test_a_delete_of_ids_no_lead_can_have_names_each_id_it_skips(api, api_store) -> None:
    """Before, ids of 0, below or past the id range came back as `"id": null`."""
    [pid] = api_store.persons.add_many([{"email": "stays@example.com"}], ChangeOrigin.MARKETING)
    answer = api.post("/rest/v1/leads/delete.json", json={"input": [{"id": 0}, {"id": 99999999999}, {"id": "-4"}]})
    not_found = [{"code": "1004", "message": "Lead not found"}]
    assert answer.json()["result"] == [{"id": 0, "status": "skipped", "reasons": not_found},
                                       {"id": 99999999999, "status": "skipped", "reasons": not_found},
                                       {"id": -4, "status": "skipped", "reasons": not_found}]
    by_query = api.post("/rest/v1/leads/delete.json?id=99999999999").json()
    assert by_query["result"] == [{"id": 99999999999, "status": "skipped", "reasons": not_found}]
    assert [p.id for p in api_store.persons.get_many([pid])] == [pid]


def test_a_delete_record_without_an_id_is_1002_naming_id_and_deletes_nothing(api, api_store) -> None:
    """Before, `Invalid value 'None'. Required of type 'integer' (id)`."""
    [pid] = api_store.persons.add_many([{"email": "stays@example.com"}], ChangeOrigin.MARKETING)
    for record in ({"email": "stays@example.com"}, {"id": None}):
        answer = api.post("/rest/v1/leads/delete.json", json={"input": [{"id": pid}, record]}).json()
        assert answer["success"] is False
        assert answer["errors"] == [{"code": "1002", "message": "Missing value for the required parameter 'id'"}]
    assert [p.id for p in api_store.persons.get_many([pid])] == [pid]


def test_describe_includes_custom_and_salesforce_fields(api, api_store) -> None:
    api_store.fields.ensure_custom("Favorite_Color__c", "string", 40, "Favorite Color")
    described = {f["rest"]["name"]: f for f in api.get("/rest/v1/leads/describe.json").json()["result"]}
    assert described["Favorite_Color__c"] == {"id": described["Favorite_Color__c"]["id"], "displayName": "Favorite Color",
                                              "dataType": "string", "length": 40,
                                              "rest": {"name": "Favorite_Color__c", "readOnly": False}}
    assert described["sfdcType"]["rest"]["readOnly"] is True
    assert described["id"]["rest"]["readOnly"] is True
    [two] = api.get("/rest/v1/leads/describe2.json").json()["result"]
    by_name = {f["name"]: f for f in two["fields"]}
    assert by_name["sfdcAccountId"]["crmManaged"] is True and by_name["sfdcAccountId"]["updateable"] is False
    written = api.post(LEADS, json={"input": [{"email": "fc@example.com", "Favorite_Color__c": "teal"}]}).json()
    assert written["result"][0]["status"] == "created"


def test_the_one_lead_partition_is_listed_and_another_is_refused_not_ignored(api, api_store, marketo) -> None:
    """Before, any partitionName was taken and ignored, and partitions.json was 610."""
    assert marketo.get_lead_partitions() == [{"id": 1, "name": "Default",
                                               "description": "Initial system lead partition"}]
    taken = marketo.create_update_leads([{"email": "a@example.com"}], partitionName="Default")
    assert taken[0]["status"] == "created"
    for path, body in (("/rest/v1/leads.json", {"input": [{"email": "b@example.com"}], "partitionName": "EMEA"}),
                       ("/rest/v1/leads/push.json", {"programName": "P", "input": [{"email": "b@example.com"}],
                                                      "partitionName": "EMEA"})):
        refused = api.post(path, json=body).json()
        assert refused["errors"] == [{"code": "1003", "message": "Invalid data: partitionName 'EMEA': the only lead "
                                                                 "partition is 'Default'"}]
    assert api_store.persons.find_by_email("b@example.com") == []


def test_update_lead_partition_keeps_leads_in_the_one_partition(api, api_store, marketo) -> None:
    """Before, marketorestpython's update_leads_partition got 605 (POST partitions.json was not served)."""
    [pid] = api_store.persons.add_many([{"email": "a@example.com"}], ChangeOrigin.MARKETING)
    assert marketo.update_leads_partition([{"id": pid, "partitionName": "Default"}]) == [
        {"id": pid, "status": "updated"}]
    answer = api.post("/rest/v1/leads/partitions.json", json={"input": [
        {"id": pid, "partitionName": "EMEA"}, {"id": 99999999999, "partitionName": "Default"},
        {"id": str(pid)}, {"id": pid, "partitionName": 5}]}).json()
    assert answer["success"] is True
    assert answer["result"] == [
        {"id": pid, "status": "skipped", "reasons": [{"code": "1003", "message": "Invalid data: partitionName "
                                                                         "'EMEA': the only lead partition is 'Default'"}]},
        {"id": 99999999999, "status": "skipped", "reasons": [{"code": "1004", "message": "Lead not found"}]},
        {"id": pid, "status": "skipped", "reasons": [
            {"code": "1002", "message": "Missing value for the required parameter 'partitionName'"}]},
        {"id": pid, "status": "skipped", "reasons": [
            {"code": "1001", "message": "Invalid value '5'. Required of type 'string' (partitionName)"}]}]
    for body, code in (({"input": []}, "1002"), ({"input": [{"id": "x", "partitionName": "Default"}]}, "1001"),
                       ({"input": [{"partitionName": "Default"}]}, "1002")):
        assert api.post("/rest/v1/leads/partitions.json", json=body).json()["errors"][0]["code"] == code
