"""Versions, describe, record CRUD, upsert and error mapping through simple-salesforce."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceResourceNotFound,
)


def test_version_list_needs_no_auth_and_ends_at_the_orgs_version(base_url, http):
    for path in ("/services/data/", "/services/data"):
        answer = http.get(base_url + path)
        assert answer.status_code == 200
        assert answer.json()[-1] == {"label": "Winter '25", "url": "/services/data/v62.0", "version": "62.0"}
        assert "sforce-limit-info" not in answer.headers


def test_resource_list_names_identity_and_counts_calls(base_url, http, sf_token):
    answer = http.get(f"{base_url}/services/data/v62.0/", headers={"Authorization": f"Bearer {sf_token}"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["sobjects"] == "/services/data/v62.0/sobjects"
    assert body["identity"].startswith(f"{base_url}/id/00D")
    assert answer.headers["sforce-limit-info"].startswith("api-usage=")


def test_recently_viewed_records_are_listed(base_url, http, sf_token):
    """`recent` (jsforce's `conn.recent()`) answered 404; it is served and listed among the resources. API
    reads are no views, so the list is empty, as `recentItems` of `sobjects/{T}` is."""
    headers = {"Authorization": f"Bearer {sf_token}"}
    data = f"{base_url}/services/data/v62.0"
    assert http.get(f"{data}/", headers=headers).json()["recent"] == "/services/data/v62.0/recent"
    answer = http.get(f"{data}/recent", headers=headers, params={"limit": 5})
    assert (answer.status_code, answer.json()) == (200, [])


def test_unknown_version_is_404(base_url, http, sf_token):
    answer = http.get(f"{base_url}/services/data/v99.0/sobjects", headers={"Authorization": f"Bearer {sf_token}"})
    assert answer.status_code == 404
    assert answer.json()[0]["errorCode"] == "NOT_FOUND"


def test_describe_global_and_object(sf):
    names = {entry["name"] for entry in sf.describe()["sobjects"]}
    assert {"Account", "Contact", "Lead"} <= names
    described = sf.contact.describe()  # object names are case-insensitive
    assert described["name"] == "Contact"
    assert "Favorite_Color__c" in {field["name"] for field in described["fields"]}
    assert sf.Contact.metadata()["objectDescribe"]["name"] == "Contact"


def test_describe_urls_are_in_the_version_asked(base_url, http, sf_token):
    """Before, every describe pointed at v62.0, whatever version the client spoke."""
    headers = {"Authorization": f"Bearer {sf_token}"}
    for version in ("45.0", "59.0"):
        listed = http.get(f"{base_url}/services/data/v{version}/sobjects", headers=headers).json()
        [lead] = [entry for entry in listed["sobjects"] if entry["name"] == "Lead"]
        assert lead["urls"]["describe"] == f"/services/data/v{version}/sobjects/Lead/describe"
        described = http.get(f"{base_url}/services/data/v{version}/sobjects/Lead/describe", headers=headers).json()
        assert described["urls"]["rowTemplate"] == f"/services/data/v{version}/sobjects/Lead/{{ID}}"


def test_create_get_update_delete(sf):
    created = sf.Contact.create({"LastName": "Ng", "Email": "ng@example.com"})
    assert created["success"] is True and created["id"].startswith("003")
    record = sf.Contact.get(created["id"])
    assert record["LastName"] == "Ng" and record["attributes"]["type"] == "Contact"
    assert sf.Contact.update(created["id"], {"Title": "CTO"}) == 204
    assert sf.Contact.get(created["id"])["Title"] == "CTO"
    assert sf.Contact.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Contact.get(created["id"])


def test_a_post_may_name_its_method_in_the_http_method_parameter(sf, base_url, http, sf_token):
    """Salesforce lets an HTTP library that cannot send PATCH or DELETE post with `?_HttpMethod=PATCH`;
    the emulator answered 405."""
    created = sf.Contact.create({"LastName": "Overridden"})["id"]
    url = f"{base_url}/services/data/v62.0/sobjects/Contact/{created}"
    headers = {"Authorization": f"Bearer {sf_token}"}
    assert http.post(url, params={"_HttpMethod": "PATCH"}, headers=headers, json={"Title": "Patched"}).status_code == 204
    assert sf.Contact.get(created)["Title"] == "Patched"
    assert http.post(url, params={"_HttpMethod": "DELETE"}, headers=headers).status_code == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Contact.get(created)


def test_get_with_fields_returns_only_those(sf):
    new_id = sf.Contact.create({"LastName": "Fields", "Email": "f@example.com"})["id"]
    record = sf.query(f"SELECT Id FROM Contact WHERE Id = '{new_id}'")["records"][0]
    narrow = sf.restful(f"sobjects/Contact/{record['Id']}", params={"fields": "LastName"})
    assert "LastName" in narrow and "Email" not in narrow


def test_upsert_by_external_id_creates_then_updates(sf):
    assert sf.Contact.upsert("External_Id__c/ext-1", {"LastName": "First"}) == 201
    assert sf.Contact.upsert("External_Id__c/ext-1", {"LastName": "Second"}) == 200
    found = sf.Contact.get_by_custom_id("External_Id__c", "ext-1")
    assert found["LastName"] == "Second"


def test_upsert_body_says_created(base_url, http, sf_token):
    url = f"{base_url}/services/data/v62.0/sobjects/Contact/External_Id__c/ext-2"
    headers = {"Authorization": f"Bearer {sf_token}"}
    first = http.patch(url, json={"LastName": "One"}, headers=headers)
    second = http.patch(url, json={"LastName": "Two"}, headers=headers)
    assert (first.status_code, first.json()["created"]) == (201, True)
    assert (second.status_code, second.json()["created"]) == (200, False)
    old = http.patch(url.replace("v62.0", "v45.0"), json={"LastName": "Three"}, headers=headers)
    assert old.status_code == 204


def test_validation_failure_is_malformed_request_with_the_rules_message(sf):
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Contact.create({"LastName": "Neg", "Lead_Score__c": -1})
    assert raised.value.content[0]["errorCode"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert raised.value.content[0]["message"] == "Lead score cannot be negative"


def test_a_duplicate_unique_value_names_the_field_in_the_message_only(sf):
    """Salesforce answers DUPLICATE_VALUE with an empty `fields` list; the field is in the message."""
    first = sf.Contact.create({"LastName": "First", "External_Id__c": "DUP-1"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Contact.create({"LastName": "Second", "External_Id__c": "dup-1"})
    assert raised.value.content == [{
        "message": f"duplicate value found: External_Id__c duplicates value on record with id: {first}",
        "errorCode": "DUPLICATE_VALUE", "fields": []}]
    answer = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": [
        {"attributes": {"type": "Contact"}, "LastName": "Third", "External_Id__c": "DUP-1"}]})
    assert answer[0]["errors"][0]["statusCode"] == "DUPLICATE_VALUE" and answer[0]["errors"][0]["fields"] == []


def test_missing_required_field_and_unknown_object(sf):
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Contact.create({"FirstName": "NoLast"})
    assert raised.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    with pytest.raises(SalesforceResourceNotFound):
        sf.Nonexistent__c.describe()


def test_malformed_json_body(base_url, http, sf_token):
    answer = http.post(f"{base_url}/services/data/v62.0/sobjects/Contact", data="{nope",
                       headers={"Authorization": f"Bearer {sf_token}", "Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()[0]["errorCode"] == "JSON_PARSER_ERROR"


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(base_url, http, sf_token, token):
    """Python's json writes float("nan") as a bare NaN (a pandas gap does it); Salesforce refuses the body,
    where the emulator stored "nan" as the Last Name."""
    answer = http.post(f"{base_url}/services/data/v62.0/sobjects/Contact", data=f'{{"LastName": {token}}}',
                       headers={"Authorization": f"Bearer {sf_token}", "Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()[0]["errorCode"] == "JSON_PARSER_ERROR" and token in answer.json()[0]["message"]


def test_auto_assign_header_controls_lead_assignment(base_url, http, sf_token, sf):
    headers = {"Authorization": f"Bearer {sf_token}"}
    url = f"{base_url}/services/data/v62.0/sobjects/Lead"
    lead = {"LastName": "Web", "Company": "W", "LeadSource": "Web", "Email": "w@example.com"}
    assigned = http.post(url, json=lead, headers=headers).json()["id"]
    kept = http.post(url, json=lead, headers={**headers, "Sforce-Auto-Assign": "FALSE"}).json()["id"]
    assert sf.Lead.get(assigned)["OwnerId"].startswith("00G")
    assert sf.Lead.get(kept)["OwnerId"].startswith("005")


def _lead_rule_id(sf) -> str:
    rules = sf.query("SELECT Id, Name, Active FROM AssignmentRule WHERE SobjectType = 'Lead'")["records"]
    assert [(r["Name"], r["Active"]) for r in rules] == [("Lead Assignment Rule", True)]
    return rules[0]["Id"]


def test_auto_assign_header_may_name_the_rule_a_client_queried(base_url, http, sf_token, sf):
    """As Salesforce documents: query AssignmentRule for its Id, then send it in Sforce-Auto-Assign."""
    rule_id = _lead_rule_id(sf)
    assert rule_id.startswith("01Q") and len(rule_id) == 18
    headers = {"Authorization": f"Bearer {sf_token}"}
    lead = {"LastName": "Web", "Company": "W", "LeadSource": "Web", "Email": "w@example.com"}
    by_id = http.post(f"{base_url}/services/data/v62.0/sobjects/Lead", json=lead,
                      headers={**headers, "Sforce-Auto-Assign": rule_id[:15]}).json()["id"]
    assert sf.Lead.get(by_id)["OwnerId"].startswith("00G")
    contact = http.post(f"{base_url}/services/data/v62.0/sobjects/Contact", json={"LastName": "Ruled"},
                        headers={**headers, "Sforce-Auto-Assign": rule_id}).json()["id"]
    assert sf.Contact.get(contact)["OwnerId"] == sf.Lead.get(by_id)["CreatedById"]
    other_rule = "01Q5g0000000009EAA"  # well formed, but no rule of this org
    unruled = http.post(f"{base_url}/services/data/v62.0/sobjects/Lead", json=lead,
                        headers={**headers, "Sforce-Auto-Assign": other_rule}).json()["id"]
    assert sf.Lead.get(unruled)["OwnerId"].startswith("005")


def test_bulk_ingest_runs_the_rule_its_job_names(base_url, http, sf_token, sf):
    headers = {"Authorization": f"Bearer {sf_token}"}
    jobs = f"{base_url}/services/data/v62.0/jobs/ingest"
    owners = {}
    for label, extra in (("Named", {"assignmentRuleId": _lead_rule_id(sf)}), ("Plain", {})):
        job = http.post(jobs, headers=headers, json={"object": "Lead", "operation": "insert", **extra}).json()
        http.put(f"{jobs}/{job['id']}/batches", headers={**headers, "Content-Type": "text/csv"},
                 data=f"LastName,Company,LeadSource,Email\n{label},C,Web,{label.lower()}@example.com\n")
        http.patch(f"{jobs}/{job['id']}", headers=headers, json={"state": "UploadComplete"})
        assert http.get(f"{jobs}/{job['id']}", headers=headers).json()["state"] == "JobComplete"
        [row] = sf.query(f"SELECT OwnerId FROM Lead WHERE LastName = '{label}'")["records"]
        owners[label] = row["OwnerId"][:3]
    assert owners == {"Named": "00G", "Plain": "005"}


def test_limits_and_usage_header(sf):
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == 100000
    assert sf.api_usage["api-usage"].total == 100000
    assert sf.api_usage["api-usage"].used >= 1


def test_past_the_daily_limit_calls_are_refused(tmp_path, new_session, sample_org_path, get_token):
    import json

    from simple_salesforce import Salesforce
    from simple_salesforce.exceptions import SalesforceRefusedRequest

    from tandem.emulator.model import Org
    from tandem.emulator.sample_org import ADMIN
    from tandem.emulator.server import EmulatorServer

    definition = json.loads(sample_org_path.read_text())
    definition["limits"] = {"DailyApiRequests": 3}
    with EmulatorServer(Org.from_definition(definition), port=0, state_dir=tmp_path) as server:
        session = new_session()
        session.verify = str(server.ca_path)
        token = get_token(server.base_url, session, *ADMIN)
        sf = Salesforce(instance_url=server.base_url, session_id=token, session=session)
        for _ in range(3):
            sf.limits()
        with pytest.raises(SalesforceRefusedRequest) as raised:
            sf.limits()
        assert raised.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"


def test_lookup_by_id_lookup_field_with_several_matches_is_300(sf):
    from simple_salesforce.exceptions import SalesforceMoreThanOneRecord

    for name in ("Twin A", "Twin B"):
        sf.Contact.create({"LastName": name, "Email": "twins@example.com"})
    with pytest.raises(SalesforceMoreThanOneRecord) as raised:
        sf.Contact.get_by_custom_id("Email", "twins@example.com")
    assert len(raised.value.content) == 2
    with pytest.raises(SalesforceResourceNotFound):
        sf.Contact.get_by_custom_id("LastName", "Twin A")  # not an external-id / idLookup field


def test_create_with_an_id_is_refused_as_salesforce_words_it(sf):
    existing = sf.query("SELECT Id FROM Contact WHERE LastName = 'Gibbons'")["records"][0]["Id"]
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Contact.create({"Id": existing, "LastName": "Copy"})
    [error] = raised.value.content
    assert (error["errorCode"], error["message"]) == ("INVALID_FIELD_FOR_INSERT_UPDATE",
                                                      "cannot specify Id in an insert call")
    assert error["fields"] == ["Id"]


def test_a_number_field_without_decimals_answers_a_json_double(base_url, http, sf_token):
    """Salesforce keeps number fields as doubles, whatever their scale: 7 comes back as 7.0 (Help 000221617)."""
    headers = {"Authorization": f"Bearer {sf_token}"}
    url = f"{base_url}/services/data/v62.0"
    created = http.post(f"{url}/sobjects/Contact", headers=headers, json={"LastName": "Scored", "Lead_Score__c": 7})
    record = http.get(f"{url}/sobjects/Contact/{created.json()['id']}?fields=Lead_Score__c", headers=headers)
    assert '"Lead_Score__c":7.0' in record.text
    assert isinstance(record.json()["Lead_Score__c"], float)


def test_post_to_the_id_external_id_path_creates_a_record(base_url, http, sf_token):
    """`POST sobjects/{T}/Id` upserts with Id as the external Id: no Id in the body, so a record is made."""
    headers = {"Authorization": f"Bearer {sf_token}"}
    url = f"{base_url}/services/data/v62.0/sobjects/Contact"
    made = http.post(f"{url}/Id", headers=headers, json={"LastName": "Posted"})
    assert made.status_code == 201
    body = made.json()
    assert body["success"] is True and body["created"] is True and body["id"].startswith("003")
    assert http.get(f"{url}/{body['id']}", headers=headers).json()["LastName"] == "Posted"
    elsewhere = http.post(f"{url}/{body['id']}", headers=headers, json={"LastName": "Again"})
    assert elsewhere.status_code == 405
    assert elsewhere.json()[0]["message"] == "HTTP Method 'POST' not allowed. Allowed are DELETE,GET,PATCH"


def test_an_update_runs_assignment_rules_unless_the_header_says_false(base_url, http, sf_token, sf):
    """Salesforce: TRUE (the default when the header is absent) applies the active rule to updated Leads too."""
    headers = {"Authorization": f"Bearer {sf_token}", "Sforce-Auto-Assign": "FALSE"}
    url = f"{base_url}/services/data/v62.0/sobjects/Lead"
    lead = http.post(url, json={"LastName": "Phoned", "Company": "P", "LeadSource": "Phone Inquiry"},
                     headers=headers).json()["id"]
    admin_id = sf.Lead.get(lead)["OwnerId"]
    kept = http.patch(f"{url}/{lead}", json={"LeadSource": "Web", "Email": "p@example.com"}, headers=headers)
    assert kept.status_code == 204 and sf.Lead.get(lead)["OwnerId"] == admin_id
    assert sf.Lead.update(lead, {"Title": "Buyer"}) == 204  # no header: the rule runs, the Web lead goes to the queue
    assert sf.Lead.get(lead)["OwnerId"].startswith("00G")
    answer = sf.restful("composite/sobjects", method="PATCH", headers={"Sforce-Auto-Assign": "FALSE"}, json={
        "allOrNone": False, "records": [{"attributes": {"type": "Lead"}, "Id": lead, "OwnerId": admin_id}]})
    assert answer[0]["success"] is True and sf.Lead.get(lead)["OwnerId"] == admin_id


def test_a_body_may_name_a_parent_by_its_external_id_as_in_salesforce(sf):
    """Before, `"ReportsTo": {"External_Id__c": ...}` was refused as no such column."""
    boss = sf.Contact.create({"LastName": "Boss", "External_Id__c": "boss-1", "Email": "boss@example.com"})["id"]
    made = sf.Contact.create({"LastName": "Report", "ReportsTo": {"External_Id__c": "BOSS-1"}})["id"]
    assert sf.Contact.get(made)["ReportsToId"] == boss
    sf.Contact.update(made, {"ReportsTo": {"Email": "boss@example.com"}, "Title": "Second"})
    sf.Contact.upsert("External_Id__c/kid-1", {"LastName": "Kid", "ReportsTo": {"External_Id__c": "boss-1"}})
    assert sf.query("SELECT ReportsToId FROM Contact WHERE LastName = 'Kid'")["records"][0]["ReportsToId"] == boss
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.create({"LastName": "Orphan", "ReportsTo": {"External_Id__c": "nobody"}})
    assert caught.value.content == [{"errorCode": "INVALID_FIELD", "fields": [], "message": (
        "Foreign key external ID: nobody not found for field External_Id__c in entity Contact")}]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.create({"LastName": "Orphan", "Account": {"Name": "Globex"}})
    assert caught.value.content[0]["message"] == "Name is not an External ID or indexed field for Account"
    sf.Contact.create({"LastName": "Twin", "External_Id__c": "twin-2", "Email": "boss@example.com"})
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.create({"LastName": "Orphan", "ReportsTo": {"Email": "boss@example.com"}})
    assert caught.value.content[0]["errorCode"] == "DUPLICATE_EXTERNAL_ID"
    assert sf.query("SELECT COUNT() FROM Contact WHERE LastName = 'Orphan'")["totalSize"] == 0


@pytest.fixture
def numbered_org(tmp_path, new_session, sample_org_path, get_token):
    """The sample org with a number external Id on Contact (`Legacy_No__c`), served on its own:
    `(url of the data API in v62.0, session, headers)`."""
    import json

    from tandem.emulator.model import Org
    from tandem.emulator.sample_org import ADMIN
    from tandem.emulator.server import EmulatorServer

    definition = json.loads(sample_org_path.read_text())
    definition["customFields"]["Contact"].append({"name": "Legacy_No__c", "label": "Legacy No", "type": "double",
                                                  "precision": 18, "scale": 0, "externalId": True, "unique": True})
    with EmulatorServer(Org.from_definition(definition), port=0, state_dir=tmp_path) as server:
        session = new_session()
        session.verify = str(server.ca_path)
        headers = {"Authorization": f"Bearer {get_token(server.base_url, session, *ADMIN)}"}
        yield f"{server.base_url}/services/data/v62.0", session, headers


def test_a_number_external_id_finds_its_record(numbered_org):
    """External Ids may be Number fields: the path's value is matched as a number, not refused as a
    quoted filter value; a value that is no number matches nothing."""
    url, http, headers = numbered_org
    made = http.patch(f"{url}/sobjects/Contact/Legacy_No__c/42", json={"LastName": "Numbered"}, headers=headers)
    assert made.status_code == 201, made.text
    found = http.get(f"{url}/sobjects/Contact/Legacy_No__c/42", headers=headers)
    assert found.status_code == 200, found.text
    assert (found.json()["Id"], found.json()["Legacy_No__c"]) == (made.json()["id"], 42.0)
    only_updated = http.patch(f"{url}/sobjects/Contact/Legacy_No__c/42?updateOnly=true", json={"Title": "CFO"},
                              headers=headers)
    assert only_updated.status_code == 200, only_updated.text
    assert only_updated.json()["created"] is False
    assert http.get(f"{url}/sobjects/Contact/{made.json()['id']}", headers=headers).json()["Title"] == "CFO"
    nothing = http.get(f"{url}/sobjects/Contact/Legacy_No__c/forty-two", headers=headers)
    assert nothing.status_code == 404
    assert nothing.json()[0]["errorCode"] == "NOT_FOUND"


def test_delete_by_external_id(base_url, http, sf_token, sf):
    """`DELETE sobjects/{T}/{field}/{value}` deletes the one record the external Id names (Salesforce's
    "Delete Records Using sObject Rows by External ID"); several matches are a 300 that deletes nothing."""
    headers = {"Authorization": f"Bearer {sf_token}"}
    url = f"{base_url}/services/data/v62.0/sobjects/Contact"
    made = sf.Contact.upsert("External_Id__c/gone-1", {"LastName": "Going"})
    assert made == 201
    gone = http.delete(f"{url}/External_Id__c/gone-1", headers=headers)
    assert gone.status_code == 204, gone.text
    deleted = sf.query_all("SELECT Id, IsDeleted FROM Contact WHERE External_Id__c = 'gone-1'", include_deleted=True)
    assert [r["IsDeleted"] for r in deleted["records"]] == [True]
    again = http.delete(f"{url}/External_Id__c/gone-1", headers=headers)
    assert (again.status_code, again.json()[0]["errorCode"]) == (404, "NOT_FOUND")
    for name in ("Twin A", "Twin B"):
        sf.Contact.create({"LastName": name, "Email": "twins@example.com"})
    several = http.delete(f"{url}/Email/twins@example.com", headers=headers)
    assert several.status_code == 300 and len(several.json()) == 2
    assert sf.query("SELECT COUNT() FROM Contact WHERE Email = 'twins@example.com'")["totalSize"] == 2


def test_a_value_of_the_wrong_json_type_is_shown_as_json_in_the_error(base_url, http, sf_token):
    """The message quotes the value as the client sent it (`true`, `["a"]`), not in Python's spelling."""
    headers = {"Authorization": f"Bearer {sf_token}"}
    url = f"{base_url}/services/data/v62.0/sobjects/Contact"
    flag = http.post(url, headers=headers, json={"LastName": "Typed", "Lead_Score__c": True})
    assert flag.status_code == 400
    assert flag.json()[0]["message"] == "Lead Score: value not of required type: true"
    listed = http.post(url, headers=headers, json={"LastName": ["Ng", None]})
    assert listed.json()[0]["message"] == 'Last Name: value not of required type: ["Ng", null]'
    assert listed.json()[0]["fields"] == ["LastName"]


def test_upsert_by_an_id_lookup_field(base_url, http, sf_token, sf):
    """A standard Id-lookup field (Contact.Email) names the record to upsert, as it does for a read;
    a field that is neither an external Id nor an Id lookup is still refused."""
    headers = {"Authorization": f"Bearer {sf_token}"}
    url = f"{base_url}/services/data/v62.0/sobjects/Contact"
    updated = http.patch(f"{url}/Email/Wile@Acme.example", json={"Title": "Genius"}, headers=headers)
    assert (updated.status_code, updated.json()["created"]) == (200, False), updated.text
    assert sf.query("SELECT Title FROM Contact WHERE LastName = 'Coyote'")["records"][0]["Title"] == "Genius"
    made = http.patch(f"{url}/Email/road@runner.example", json={"LastName": "Bird"}, headers=headers)
    assert (made.status_code, made.json()["created"]) == (201, True), made.text
    assert sf.Contact.get(made.json()["id"])["Email"] == "road@runner.example"
    plain = http.patch(f"{url}/LastName/Bird", json={"Title": "x"}, headers=headers)
    assert (plain.status_code, plain.json()[0]["errorCode"]) == (404, "NOT_FOUND")


def test_an_upsert_matching_several_records_answers_their_urls(base_url, http, sf_token, sf):
    """A 300 from an upsert lists the matching records' URLs (in the version called), as a read by the
    same path does, instead of an error object that names none of them."""
    twins = sorted(sf.Contact.create({"LastName": name, "Email": "twins@example.com"})["id"] for name in "AB")
    headers = {"Authorization": f"Bearer {sf_token}"}
    path = f"{base_url}/services/data/v59.0/sobjects/Contact/Email/twins@example.com"
    upserted = http.patch(path, json={"Title": "Twin"}, headers=headers)
    assert upserted.status_code == 300
    assert upserted.json() == [f"/services/data/v59.0/sobjects/Contact/{i}" for i in twins]
    assert upserted.json() == http.get(path, headers=headers).json()
    assert [r["Title"] for r in sf.query("SELECT Title FROM Contact WHERE Email = 'twins@example.com'")["records"]] \
        == [None, None]


def test_a_lone_surrogate_is_stored_as_java_stores_it_and_the_object_stays_readable(sf):
    """Before, the value was kept as sent and every later query of the object answered 500."""
    created = sf.Contact.create({"LastName": "Lone \ud800 Half"})
    assert sf.Contact.update(created["id"], {"Title": "a \udc00 b"}) == 204
    found = sf.query(f"SELECT LastName, Title FROM Contact WHERE Id = '{created['id']}'")["records"]
    assert [(r["LastName"], r["Title"]) for r in found] == [("Lone ? Half", "a ? b")]
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] > 0


@pytest.mark.parametrize(("field", "value"), [
    ("Lead_Score__c", "NaN"),
    ("Lead_Score__c", "-Infinity"),
    ("EmailBouncedDate", "9999-12-31T23:59:59-12:00"),
    ("EmailBouncedDate", "2020-01-01T00:00:00+99:00"),
])
def test_a_value_no_field_can_hold_is_refused_and_the_object_stays_readable(base_url, http, sf_token, field, value):
    """A number given as "NaN" was stored, and every later answer holding it carried a bare NaN, which
    is not JSON; "Infinity" and a date-time pushed past the calendar by its offset answered 500; an
    offset of 99 hours was read. Each is now refused as a value that does not parse, and nothing is written."""
    headers = {"Authorization": f"Bearer {sf_token}"}
    data = f"{base_url}/services/data/v62.0"
    answer = http.post(f"{data}/sobjects/Contact", headers=headers, json={"LastName": "Unholdable", field: value})
    assert answer.status_code == 400
    assert answer.json()[0]["errorCode"] == "JSON_PARSER_ERROR" and value in answer.json()[0]["message"]
    found = http.get(f"{data}/query", headers=headers,
                     params={"q": "SELECT COUNT() FROM Contact WHERE LastName = 'Unholdable'"})
    assert found.json()["totalSize"] == 0
