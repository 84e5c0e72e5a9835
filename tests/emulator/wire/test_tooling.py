"""The Tooling API's read side through simple-salesforce's `toolingexecute`, for the admin and the limited user."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError, SalesforceResourceNotFound

from tandem.emulator.sample_org import LIMITED


def tooling_query(sf, soql: str) -> dict:
    return sf.toolingexecute(f"query/?q={quote(soql)}")


@pytest.fixture
def limited_sf(base_url, new_session, get_token):
    session = new_session()
    token = get_token(base_url, session, *LIMITED)
    return Salesforce(instance_url=base_url, session_id=token, session=session, version="62.0")


def test_validation_rules_with_their_formula(sf):
    rules = tooling_query(sf, "SELECT Id, ValidationName, Active, ErrorMessage, ErrorDisplayField, "
                              "EntityDefinition.QualifiedApiName FROM ValidationRule "
                              "WHERE EntityDefinition.QualifiedApiName = 'Contact' ORDER BY ValidationName")
    assert [r["ValidationName"] for r in rules["records"]] == ["Phone_Must_Be_A_Number", "Score_Not_Negative"]
    score = rules["records"][1]
    assert score["Active"] is True and score["ErrorDisplayField"] == "Lead_Score__c"
    assert score["ErrorMessage"] == "Lead score cannot be negative"
    assert score["EntityDefinition"]["QualifiedApiName"] == "Contact"
    assert "/tooling/sobjects/ValidationRule/03d" in score["attributes"]["url"]
    one = tooling_query(sf, f"SELECT Metadata FROM ValidationRule WHERE Id = '{score['Id']}'")
    assert one["records"][0]["Metadata"]["errorConditionFormula"] == "Lead_Score__c < 0"


def test_metadata_needs_a_query_of_one_row(sf):
    with pytest.raises(SalesforceError) as raised:
        tooling_query(sf, "SELECT Metadata FROM ValidationRule")
    assert raised.value.content[0]["errorCode"] == "MALFORMED_QUERY"


def test_field_definition_lists_fields_hidden_by_field_level_security(sf, limited_sf):
    """The admin sees every Contact field in setup, including the one the limited user cannot read."""
    found = tooling_query(sf, "SELECT QualifiedApiName, DataType, IsCalculated, EntityDefinition.QualifiedApiName "
                              "FROM FieldDefinition WHERE EntityDefinition.QualifiedApiName = 'Contact'")
    by_name = {r["QualifiedApiName"]: r for r in found["records"]}
    described = {f["name"] for f in limited_sf.Contact.describe()["fields"]}
    assert "Favorite_Color__c" not in described
    assert set(by_name) >= described | {"Favorite_Color__c"}
    assert by_name["Favorite_Color__c"]["DataType"] == "Picklist"
    assert by_name["Email"]["DataType"] == "Email" and by_name["LastName"]["DataType"] == "Text(80)"
    assert by_name["Name"]["IsCalculated"] is True


def test_users_who_cannot_view_setup_are_refused(limited_sf):
    with pytest.raises(SalesforceError) as raised:
        tooling_query(limited_sf, "SELECT QualifiedApiName FROM FieldDefinition "
                                  "WHERE EntityDefinition.QualifiedApiName = 'Contact'")
    assert raised.value.status == 400
    assert raised.value.content[0]["errorCode"] == "INVALID_TYPE"
    assert "FieldDefinition" in raised.value.content[0]["message"]
    with pytest.raises(SalesforceResourceNotFound):
        limited_sf.toolingexecute("sobjects/FieldDefinition/describe")


def test_custom_fields_and_entity_definitions(sf):
    custom = tooling_query(sf, "SELECT Id, DeveloperName, TableEnumOrId FROM CustomField "
                               "WHERE TableEnumOrId = 'Lead' ORDER BY DeveloperName")
    names = [r["DeveloperName"] for r in custom["records"]]
    assert "Favorite_Color" in names and all(r["Id"].startswith("00N") for r in custom["records"])
    entity = tooling_query(sf, "SELECT QualifiedApiName, KeyPrefix FROM EntityDefinition "
                               "WHERE QualifiedApiName = 'Lead'")
    assert entity["records"][0]["KeyPrefix"] == "00Q" and entity["totalSize"] == 1


def test_tooling_describe(sf):
    described = sf.toolingexecute("sobjects/ValidationRule/describe")
    names = {f["name"] for f in described["fields"]}
    assert {"ValidationName", "Active", "ErrorMessage", "ErrorDisplayField", "Metadata", "EntityDefinitionId"} <= names
    assert described["urls"]["describe"].endswith("/tooling/sobjects/ValidationRule/describe")
    listed = {o["name"] for o in sf.toolingexecute("sobjects")["sobjects"]}
    assert {"FieldDefinition", "EntityDefinition", "CustomField", "ValidationRule"} <= listed


def test_the_sync_user_finds_the_fields_hidden_from_it(base_url, new_session, get_token):
    """The sync user may view setup, so FieldDefinition shows it the field its profile hides."""
    from tandem.emulator.sample_org import SYNC_USER

    session = new_session()
    sync = Salesforce(instance_url=base_url, session_id=get_token(base_url, session, *SYNC_USER), session=session,
                      version="62.0")
    described = {f["name"] for f in sync.Lead.describe()["fields"]}
    listed = {r["QualifiedApiName"] for r in tooling_query(
        sync, "SELECT QualifiedApiName FROM FieldDefinition WHERE EntityDefinition.QualifiedApiName = 'Lead'")["records"]}
    assert "Internal_Notes__c" not in described and "Internal_Notes__c" in listed


def test_entity_definition_id_is_the_object_name(sf):
    """As in a real org, standard objects' EntityDefinitionId is their name, so both filters work."""
    by_id = tooling_query(sf, "SELECT QualifiedApiName, EntityDefinitionId, EntityDefinition.DurableId "
                              "FROM FieldDefinition WHERE EntityDefinitionId = 'Lead'")["records"]
    by_path = tooling_query(sf, "SELECT QualifiedApiName FROM FieldDefinition "
                                "WHERE EntityDefinition.QualifiedApiName = 'Lead'")["records"]
    assert {r["QualifiedApiName"] for r in by_id} == {r["QualifiedApiName"] for r in by_path}
    assert all(r["EntityDefinitionId"] == "Lead" and r["EntityDefinition"]["DurableId"] == "Lead" for r in by_id)
