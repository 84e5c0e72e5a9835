"""The setup catalog behind the Tooling API: drawn from the org as it stands, gated by View Setup."""

from __future__ import annotations

import pytest

from tandem.emulator.model import ApiError, Org
from tandem.emulator.sample_org import ADMIN, LIMITED

from .conftest import login


def _names(org, ctx, soql):
    return [r["QualifiedApiName"] for r in org.tooling_query(ctx, soql).records]


def test_a_field_added_at_run_time_is_listed_at_once(org, admin):
    org.define_custom_field("Lead", {"name": "Shoe_Size__c", "type": "double", "precision": 4, "scale": 1})
    rows = org.tooling_query(admin, "SELECT QualifiedApiName, DataType FROM FieldDefinition "
                                    "WHERE EntityDefinitionId = 'Lead' AND QualifiedApiName = 'Shoe_Size__c'").records
    assert [(r["QualifiedApiName"], r["DataType"]) for r in rows] == [("Shoe_Size__c", "Number(4, 1)")]


def test_hidden_fields_are_listed_to_a_user_who_views_setup(org, sync):
    hidden = {f["name"] for f in org.describe(sync, "Contact")["fields"]}
    listed = _names(org, sync, "SELECT QualifiedApiName FROM FieldDefinition WHERE EntityDefinitionId = 'Contact'")
    assert "Internal_Notes__c" in listed and "Internal_Notes__c" not in hidden


def test_without_view_setup_the_setup_objects_do_not_exist(org):
    limited = login(org, *LIMITED)
    with pytest.raises(ApiError) as raised:
        org.tooling_query(limited, "SELECT Id FROM ValidationRule")
    assert raised.value.error_code == "INVALID_TYPE" and raised.value.status == 400
    with pytest.raises(ApiError) as described:
        org.tooling_describe(limited, "ValidationRule")
    assert described.value.status == 404
    assert org.tooling_describe_global(limited)["sobjects"] == []


def test_inactive_rules_are_listed_with_their_flag(definition):
    definition["validationRules"]["Lead"].append({"name": "Dormant", "active": False, "errorConditionFormula": "TRUE",
                                                  "errorMessage": "never"})
    org = Org.from_definition(definition)
    admin = login(org, *ADMIN)
    rows = org.tooling_query(admin, "SELECT ValidationName, Active FROM ValidationRule "
                                    "WHERE EntityDefinitionId = 'Lead' ORDER BY ValidationName").records
    assert [(r["ValidationName"], r["Active"]) for r in rows] == [("Dormant", False), ("Web_Leads_Need_Email", True)]
    org.create(admin, "Lead", {"LastName": "Still", "Company": "Allowed"})


def test_a_query_matching_more_than_one_page_is_refused_not_cut(definition):
    definition["customFields"]["Account"] = [{"name": f"Extra_{i}__c", "type": "string"} for i in range(1700)]
    org = Org.from_definition(definition)
    admin = login(org, *ADMIN)
    with pytest.raises(ApiError) as raised:
        org.tooling_query(admin, "SELECT Id FROM FieldDefinition")
    assert raised.value.error_code == "MALFORMED_QUERY" and "WHERE" in raised.value.message
    assert org.tooling_query(admin, "SELECT COUNT() FROM FieldDefinition").total_size > 2000
