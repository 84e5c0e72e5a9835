"""Field-level security: the sync user cannot see Internal_Notes__c and cannot write Credit_Score__c."""

from __future__ import annotations

import pytest

from tandem.emulator.model import ApiError
from tandem.emulator.sample_org import SYNC_USER


@pytest.mark.parametrize("object_name", ["Contact", "Lead"])
def test_describe_hides_none_fields_and_marks_read_fields(org, sync, admin, object_name):
    fields = {f["name"]: f for f in org.describe(sync, object_name)["fields"]}
    assert "Internal_Notes__c" not in fields
    assert fields["Credit_Score__c"]["createable"] is False and fields["Credit_Score__c"]["updateable"] is False
    assert fields["Email"]["updateable"] is True
    admin_fields = {f["name"]: f for f in org.describe(admin, object_name)["fields"]}
    assert admin_fields["Internal_Notes__c"]["updateable"] is True
    assert admin_fields["Credit_Score__c"]["updateable"] is True


def test_query_of_a_hidden_field_is_invalid_field(org, sync, admin):
    with pytest.raises(ApiError) as caught:
        org.query(sync, "SELECT Id, Internal_Notes__c FROM Contact")
    error = caught.value
    assert error.status == 400 and error.error_code == "INVALID_FIELD"
    assert "No such column 'Internal_Notes__c' on entity 'Contact'" in error.message
    assert "ERROR at Row:1:Column:12" in error.message
    rows = org.query(admin, "SELECT Internal_Notes__c FROM Contact WHERE LastName = 'Scorpio'").records
    assert rows[0]["Internal_Notes__c"] == "Do not call before noon"


def test_hidden_field_in_where_is_invalid_field_too(org, sync):
    with pytest.raises(ApiError) as caught:
        org.query(sync, "SELECT Id FROM Contact WHERE Internal_Notes__c = 'x'")
    assert caught.value.error_code == "INVALID_FIELD"


def test_retrieve_leaves_hidden_fields_out(org, sync, admin):
    record_id = org.query(admin, "SELECT Id FROM Contact WHERE LastName = 'Scorpio'").records[0]["Id"]
    body = org.retrieve(sync, "Contact", record_id)
    assert "Internal_Notes__c" not in body and body["Credit_Score__c"] == 700
    assert org.retrieve(admin, "Contact", record_id)["Internal_Notes__c"] == "Do not call before noon"
    with pytest.raises(ApiError) as caught:
        org.retrieve(sync, "Contact", record_id, ["Internal_Notes__c"])
    assert caught.value.error_code == "INVALID_FIELD"


@pytest.mark.parametrize("field", ["Internal_Notes__c", "Credit_Score__c"])
def test_writes_to_hidden_or_read_only_fields_are_refused(org, sync, field):
    value = 650 if field == "Credit_Score__c" else "secret"
    with pytest.raises(ApiError) as caught:
        org.create(sync, "Contact", {"LastName": "Ng", field: value})
    assert caught.value.error_code == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert caught.value.fields == [field]
    assert caught.value.message.startswith(f"Unable to create/update fields: {field}.")
    record_id = org.create(sync, "Contact", {"LastName": "Ng"})
    with pytest.raises(ApiError) as caught:
        org.update(sync, "Contact", record_id, {field: value})
    assert caught.value.error_code == "INVALID_FIELD_FOR_INSERT_UPDATE"


@pytest.mark.parametrize("field", ["CreatedDate", "SystemModstamp", "IsDeleted", "LastModifiedById", "Name"])
def test_system_and_computed_fields_are_read_only_for_everyone(org, admin, field):
    value = True if field == "IsDeleted" else "2024-01-01T00:00:00Z" if "Date" in field or "Modstamp" in field \
        else admin.user_id if field.endswith("Id") else "Full Name"
    with pytest.raises(ApiError) as caught:
        org.create(admin, "Contact", {"LastName": "Ng", field: value})
    assert caught.value.error_code == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_is_converted_cannot_be_written(org, admin):
    lead_id = org.query(admin, "SELECT Id FROM Lead LIMIT 1").records[0]["Id"]
    with pytest.raises(ApiError) as caught:
        org.update(admin, "Lead", lead_id, {"IsConverted": True})
    assert caught.value.error_code == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_an_always_visible_field_cannot_be_hidden(definition):
    from tandem.emulator.model import Org, OrgDefinitionError

    definition["profiles"]["Marketing Sync"]["fields"]["Contact.LastName"] = "none"
    with pytest.raises(OrgDefinitionError, match="Contact.LastName"):
        Org.from_definition(definition)


def test_profile_default_read_makes_everything_read_only(definition):
    from tandem.emulator.model import Org

    definition["profiles"]["Marketing Sync"]["default"] = "read"
    org = Org.from_definition(definition)
    ctx = org.context(org.login_username_password(*SYNC_USER).access_token)
    fields = {f["name"]: f for f in org.describe(ctx, "Contact")["fields"]}
    assert fields["Email"]["updateable"] is False and fields["Email"]["createable"] is False
    assert "Internal_Notes__c" not in fields
    with pytest.raises(ApiError):
        org.create(ctx, "Contact", {"LastName": "Ng"})
