"""Write semantics: type checks, required fields, references, unique values, stamps, deletes."""

from __future__ import annotations

import datetime as dt

import pytest

from tandem.emulator.model import ApiError, NotFound
from tandem.emulator.model.ids import make_id
from tandem.emulator.sample_org import ADMIN


def _error(call, *args, **kwargs) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(*args, **kwargs)
    return caught.value


@pytest.mark.parametrize(("body", "code", "fields", "message"), [
    ({"LastName": "x" * 81}, "STRING_TOO_LONG", ["LastName"], "Last Name: data value too large: "),
    ({"LastName": "Ng", "Email": "foo@"}, "INVALID_EMAIL_ADDRESS", ["Email"], "Email: invalid email address: foo@"),
    ({"LastName": "Ng", "Favorite_Color__c": "Purple"}, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
     ["Favorite_Color__c"], "Favorite Color: bad value for restricted picklist field: Purple"),
    ({"LastName": "Ng", "Birthdate": "31/01/1990"}, "JSON_PARSER_ERROR", [], "Cannot deserialize instance of date"),
    ({"LastName": "Ng", "Birthdate": 19900131}, "INVALID_TYPE_ON_FIELD_IN_RECORD", ["Birthdate"], "Birthdate: "),
    ({"LastName": "Ng", "EmailBouncedDate": "yesterday"}, "JSON_PARSER_ERROR", [], "Cannot deserialize"),
    ({"LastName": "Ng", "Newsletter__c": "maybe"}, "JSON_PARSER_ERROR", [], "Cannot deserialize instance of boolean"),
    ({"LastName": "Ng", "Newsletter__c": 3}, "INVALID_TYPE_ON_FIELD_IN_RECORD", ["Newsletter__c"], "Newsletter"),
    ({"LastName": "Ng", "Lead_Score__c": "lots"}, "JSON_PARSER_ERROR", [], "Cannot deserialize"),
    ({"LastName": "Ng", "Lead_Score__c": 1e19}, "NUMBER_OUTSIDE_VALID_RANGE", ["Lead_Score__c"], "Lead Score: "),
    ({"LastName": "Ng", "LastName2": "x"}, "INVALID_FIELD", ["LastName2"],
     "No such column 'LastName2' on sobject of type Contact"),
    ({"FirstName": "Only"}, "REQUIRED_FIELD_MISSING", ["LastName"], "Required fields are missing: [LastName]"),
    ({"LastName": "Ng", "AccountId": "not-an-id"}, "MALFORMED_ID", ["AccountId"],
     "Account ID: id value of incorrect type: not-an-id"),
    ({"LastName": "Ng", "AccountId": "0035g0000000001AAA"}, "MALFORMED_ID", ["AccountId"], "Account ID: "),
    ({"LastName": "Ng", "AccountId": make_id("001", 999)}, "INVALID_CROSS_REFERENCE_KEY", ["AccountId"],
     "invalid cross reference id"),
    ({"LastName": "Ng", "Description": {"a": 1}}, "INVALID_TYPE_ON_FIELD_IN_RECORD", ["Description"], ""),
])
def test_contact_create_errors(org, admin, body, code, fields, message):
    error = _error(org.create, admin, "Contact", body)
    assert (error.status, error.error_code, error.fields) == (400, code, fields)
    assert error.message.startswith(message)


def test_the_api_keeps_every_decimal_a_number_field_is_given(org, admin):
    """A field's scale is only how the UI shows it: through the API, Salesforce stores and returns the
    value as written (before, the emulator rounded 15.5 to 16 on a scale-0 field)."""
    lead_id = org.create(admin, "Lead", {"LastName": "R", "Company": "c", "AnnualRevenue": 15.5,
                                         "Lead_Score__c": 1.25, "NumberOfEmployees": 12})
    body = org.retrieve(admin, "Lead", lead_id, ["AnnualRevenue", "Lead_Score__c", "NumberOfEmployees"])
    assert (body["AnnualRevenue"], body["Lead_Score__c"], body["NumberOfEmployees"]) == (15.5, 1.25, 12)
    org.update(admin, "Lead", lead_id, {"AnnualRevenue": "2.675", "Lead_Score__c": 3})
    body = org.retrieve(admin, "Lead", lead_id, ["AnnualRevenue", "Lead_Score__c"])
    assert (body["AnnualRevenue"], body["Lead_Score__c"]) == (2.675, 3)


def test_lead_and_opportunity_required_fields(org, admin):
    error = _error(org.create, admin, "Lead", {"FirstName": "A"})
    assert error.fields == ["LastName", "Company"]
    assert error.message == "Required fields are missing: [LastName, Company]"
    error = _error(org.create, admin, "Opportunity", {"Amount": 5})
    assert error.fields == ["Name", "StageName", "CloseDate"]
    assert _error(org.create, admin, "Account", {"Phone": "1"}).fields == ["Name"]


def test_required_field_cannot_be_blanked_on_update(org, admin):
    record_id = org.create(admin, "Contact", {"LastName": "Ng"})
    assert _error(org.update, admin, "Contact", record_id, {"LastName": None}).error_code == "REQUIRED_FIELD_MISSING"
    assert _error(org.update, admin, "Contact", record_id, {"LastName": ""}).error_code == "REQUIRED_FIELD_MISSING"


def test_values_are_converted_and_rendered(org, admin):
    record_id = org.create(admin, "Contact", {
        "LastName": "Ng", "Birthdate": "1990-01-31", "EmailBouncedDate": "2024-01-31T10:00:00.123+01:00",
        "Lead_Score__c": "42", "Newsletter__c": True, "Favorite_Color__c": "Blue", "HasOptedOutOfEmail": "true",
    })
    body = org.retrieve(admin, "Contact", record_id)
    assert body["attributes"] == {"type": "Contact", "url": f"/services/data/v62.0/sobjects/Contact/{record_id}"}
    assert list(body)[0] == "attributes"
    assert body["Birthdate"] == "1990-01-31"
    assert body["EmailBouncedDate"] == "2024-01-31T09:00:00.123+0000"
    assert body["Lead_Score__c"] == 42 and body["Newsletter__c"] is True and body["HasOptedOutOfEmail"] is True
    assert body["DoNotCall"] is False and body["Email"] is None and body["Name"] == "Ng"
    for form in ("2024-01-31T10:00:00Z", "2024-01-31T10:00:00.000+0000", "2024-01-31T10:00:00+00:00"):
        org.update(admin, "Contact", record_id, {"EmailBouncedDate": form})
        assert org.retrieve(admin, "Contact", record_id, ["EmailBouncedDate"])["EmailBouncedDate"] == \
            "2024-01-31T10:00:00.000+0000"


def test_lead_status_defaults_to_the_default_value(org, admin):
    lead_id = org.create(admin, "Lead", {"LastName": "Ng", "Company": "Ng Co"})
    assert org.retrieve(admin, "Lead", lead_id, ["Status"])["Status"] == "Open - Not Contacted"
    error = _error(org.create, admin, "Lead", {"LastName": "Ng", "Company": "Ng Co", "Status": "Hot"})
    assert error.error_code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert error.message == "Lead Status: bad value for restricted picklist field: Hot"


def test_full_name_is_composed(org, admin):
    record_id = org.create(admin, "Contact", {"FirstName": "Grace", "LastName": "Hopper", "Salutation": "Dr."})
    assert org.retrieve(admin, "Contact", record_id, ["Name"])["Name"] == "Grace Hopper"
    org.update(admin, "Contact", record_id, {"FirstName": None})
    assert org.query(admin, f"SELECT Name FROM Contact WHERE Id = '{record_id}'").records[0]["Name"] == "Hopper"


def test_duplicate_external_id_is_refused(org, admin):
    org.create(admin, "Contact", {"LastName": "A", "External_Id__c": "E-1"})
    error = _error(org.create, admin, "Contact", {"LastName": "B", "External_Id__c": "e-1"})
    assert error.error_code == "DUPLICATE_VALUE" and "External_Id__c" in error.message
    other = org.create(admin, "Contact", {"LastName": "C", "External_Id__c": "E-2"})
    assert _error(org.update, admin, "Contact", other, {"External_Id__c": "E-1"}).error_code == "DUPLICATE_VALUE"
    org.update(admin, "Contact", other, {"External_Id__c": "E-2"})


def test_audit_fields_and_owner(org, admin, sync, clock):
    record_id = org.create(sync, "Contact", {"LastName": "Ng"})
    body = org.retrieve(admin, "Contact", record_id)
    assert body["OwnerId"] == sync.user_id and body["CreatedById"] == sync.user_id
    assert body["CreatedDate"] == body["LastModifiedDate"] == body["SystemModstamp"]
    clock.advance(5000)
    org.update(admin, "Contact", record_id, {"Title": "CTO"})
    after = org.retrieve(admin, "Contact", record_id)
    assert after["CreatedDate"] == body["CreatedDate"] and after["LastModifiedById"] == admin.user_id
    assert after["SystemModstamp"] > body["SystemModstamp"] and after["LastModifiedDate"] == after["SystemModstamp"]


def test_system_modstamp_strictly_increases_even_within_one_millisecond(org, admin, clock):
    record_id = org.create(admin, "Contact", {"LastName": "Ng"})
    stamps = [org.retrieve(admin, "Contact", record_id, ["SystemModstamp"])["SystemModstamp"]]
    for _ in range(3):
        org.update(admin, "Contact", record_id, {})  # no change at all still moves the stamp
        stamps.append(org.retrieve(admin, "Contact", record_id, ["SystemModstamp"])["SystemModstamp"])
    other = org.create(admin, "Lead", {"LastName": "Ng", "Company": "X"})
    stamps.append(org.retrieve(admin, "Lead", other, ["SystemModstamp"])["SystemModstamp"])
    moments = [dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f%z") for s in stamps]
    assert all(b - a == dt.timedelta(milliseconds=1) for a, b in zip(moments, moments[1:], strict=False))


def test_delete_keeps_the_record_for_query_all(org, admin):
    record_id = org.create(admin, "Contact", {"LastName": "Gone"})
    org.delete(admin, "Contact", record_id)
    error = _error(org.retrieve, admin, "Contact", record_id)
    assert (error.status, error.error_code, error.message) == (404, "ENTITY_IS_DELETED", "entity is deleted")
    assert _error(org.update, admin, "Contact", record_id, {"Title": "x"}).error_code == "ENTITY_IS_DELETED"
    assert _error(org.delete, admin, "Contact", record_id).error_code == "ENTITY_IS_DELETED"
    soql = f"SELECT Id, IsDeleted FROM Contact WHERE Id = '{record_id}'"
    assert org.query(admin, soql).total_size == 0
    assert org.query(admin, soql, include_deleted=True).records[0]["IsDeleted"] is True
    assert org.query(admin, "SELECT COUNT() FROM Contact").total_size == 4
    assert org.query(admin, "SELECT COUNT() FROM Contact", include_deleted=True).total_size == 5


def test_deleting_an_account_deletes_its_contacts(org, admin):
    acme = org.query(admin, "SELECT Id FROM Account WHERE Name = 'Acme Corp'").records[0]["Id"]
    org.delete(admin, "Account", acme)
    assert org.query(admin, f"SELECT COUNT() FROM Contact WHERE AccountId = '{acme}'").total_size == 0
    assert org.query(admin, f"SELECT COUNT() FROM Contact WHERE AccountId = '{acme}'",
                     include_deleted=True).total_size == 1


def test_unknown_records_and_objects(org, admin):
    assert isinstance(_error(org.retrieve, admin, "Contact", make_id("003", 999)), NotFound)
    assert isinstance(_error(org.retrieve, admin, "Contact", "nonsense"), NotFound)
    assert isinstance(_error(org.create, admin, "Widget__c", {"Name": "x"}), NotFound)
    assert isinstance(_error(org.update, admin, "Contact", "00Q5g0000000001EAA", {}), NotFound)
    assert _error(org.create, admin, "User", {"LastName": "x"}).error_code == "INVALID_TYPE_FOR_OPERATION"


def test_names_are_case_insensitive_and_ids_accept_15_characters(org, admin):
    record_id = org.create(admin, "contact", {"lastname": "Ng", "EMAIL": "ng@x.example"})
    org.update(admin, "CONTACT", record_id[:15], {"title": "CTO"})
    body = org.retrieve(admin, "Contact", record_id[:15], ["email", "Title"])
    assert body["Email"] == "ng@x.example" and body["Title"] == "CTO"


def test_update_body_may_repeat_its_own_id(org, admin):
    record_id = org.create(admin, "Contact", {"LastName": "Ng"})
    org.update(admin, "Contact", record_id, {"Id": record_id[:15], "Title": "CTO"})
    error = _error(org.update, admin, "Contact", record_id, {"Id": "0035g0000000001AAA"})
    assert error.error_code == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_owner_may_be_a_queue_only_where_the_queue_takes_the_object(org, admin):
    queue = org.query(admin, "SELECT Id FROM Group").records[0]["Id"]
    lead_id = org.create(admin, "Lead", {"LastName": "Ng", "Company": "X", "OwnerId": queue})
    assert org.retrieve(admin, "Lead", lead_id, ["OwnerId"])["OwnerId"] == queue
    assert _error(org.create, admin, "Contact", {"LastName": "Ng", "OwnerId": queue}).error_code == "MALFORMED_ID"


class TestUpsert:
    def test_insert_then_update_by_external_id(self, org, admin):
        record_id, created = org.upsert(admin, "Contact", "External_Id__c", "X-1", {"LastName": "Ng"})
        assert created is True
        again, created = org.upsert(admin, "Contact", "external_id__c", "x-1", {"Title": "CTO"})
        assert (again, created) == (record_id, False)
        body = org.retrieve(admin, "Contact", record_id, ["External_Id__c", "Title"])
        assert body == {**body, "External_Id__c": "X-1", "Title": "CTO"}

    def test_unknown_or_non_external_field_is_not_found(self, org, admin):
        for field in ("Nope__c", "Title"):  # Email is an Id-lookup field: it may name the record
            error = _error(org.upsert, admin, "Contact", field, "x", {"LastName": "Ng"})
            assert error.status == 404
            assert error.message == f"Provided external ID field does not exist or is not accessible: {field}"

    def test_upsert_by_id(self, org, admin):
        record_id, created = org.upsert(admin, "Contact", "Id", None, {"LastName": "Ng"})
        assert created is True
        assert org.upsert(admin, "Contact", "Id", record_id, {"Title": "CTO"}) == (record_id, False)


def test_org_owned_objects_cannot_be_written(org, admin):
    assert _error(org.update, admin, "User", admin.user_id, {}).error_code == "INVALID_TYPE_FOR_OPERATION"
    assert _error(org.delete, admin, "User", admin.user_id).error_code == "INVALID_TYPE_FOR_OPERATION"


def test_retrieve_of_an_unknown_field_names_it(org, admin):
    record_id = org.create(admin, "Contact", {"LastName": "Ng"})
    error = _error(org.retrieve, admin, "Contact", record_id, ["Nope"])
    assert error.error_code == "INVALID_FIELD" and error.message.startswith("No such column 'Nope' on entity 'Contact'")


def test_upsert_with_several_matches_answers_300_with_their_urls(definition):
    from tandem.emulator.model import Org

    definition["customFields"]["Contact"].append(
        {"name": "Legacy_Key__c", "label": "Legacy Key", "type": "string", "length": 20, "externalId": True})
    org = Org.from_definition(definition)
    ctx = org.context(org.login_username_password(*ADMIN).access_token)
    first = org.create(ctx, "Contact", {"LastName": "A", "Legacy_Key__c": "K"})
    second = org.create(ctx, "Contact", {"LastName": "B", "Legacy_Key__c": "k"})
    error = _error(org.upsert, ctx, "Contact", "Legacy_Key__c", "K", {"Title": "x"})
    assert (error.status, error.error_code) == (300, "MULTIPLE_CHOICES")
    assert error.fields == [f"/services/data/v62.0/sobjects/Contact/{i}" for i in sorted([first, second])]
