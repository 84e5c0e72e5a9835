"""Validation rules and assignment rules from the org file."""

from __future__ import annotations

import pytest

from tandem.emulator.model import ApiError, Org
from tandem.emulator.sample_org import ADMIN, REP, SYNC_USER


def _rule_error(call, *args) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(*args)
    assert caught.value.error_code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert caught.value.status == 400
    return caught.value


class TestSampleValidationRules:
    def test_phone_must_be_a_number_fires_and_passes(self, org, sync):
        error = _rule_error(org.create, sync, "Contact", {"LastName": "Ng", "Phone": "call me"})
        assert error.message == "Phone must contain only digits, spaces, + ( ) . -"
        assert error.fields == ["Phone"]
        assert org.create(sync, "Contact", {"LastName": "Ng", "Phone": "+1 (555) 010-0199"})
        assert org.create(sync, "Contact", {"LastName": "Ng"})  # blank phone passes

    def test_score_not_negative_fires_and_passes(self, org, sync):
        error = _rule_error(org.create, sync, "Contact", {"LastName": "Ng", "Lead_Score__c": -1})
        assert (error.message, error.fields) == ("Lead score cannot be negative", ["Lead_Score__c"])
        record_id = org.create(sync, "Contact", {"LastName": "Ng", "Lead_Score__c": 0})
        _rule_error(org.update, sync, "Contact", record_id, {"Lead_Score__c": -5})
        assert org.retrieve(sync, "Contact", record_id, ["Lead_Score__c"])["Lead_Score__c"] == 0

    def test_web_leads_need_email_fires_and_passes(self, org, sync):
        error = _rule_error(org.create, sync, "Lead", {"LastName": "Ng", "Company": "X", "LeadSource": "Web"})
        assert (error.message, error.fields) == ("Web leads need an email address", ["Email"])
        lead_id = org.create(sync, "Lead", {"LastName": "Ng", "Company": "X", "LeadSource": "Web",
                                            "Email": "ng@x.example"})
        _rule_error(org.update, sync, "Lead", lead_id, {"Email": None})
        assert org.create(sync, "Lead", {"LastName": "Ng", "Company": "X", "LeadSource": "Other"})

    def test_rules_apply_on_update_of_other_fields_too(self, org, admin):
        record_id = org.seed("Contact", [{"LastName": "Legacy", "Phone": "not a phone"}])[0]
        _rule_error(org.update, admin, "Contact", record_id, {"Title": "CTO"})


def _org_with_rules(definition, rules: list[dict]) -> Org:
    definition["validationRules"]["Contact"] = rules
    return Org.from_definition(definition)


def test_ischanged_and_priorvalue_see_the_record_before_the_update(definition):
    org = _org_with_rules(definition, [
        {"name": "Email_Frozen", "active": True, "errorConditionFormula": "AND(NOT(ISNEW()), ISCHANGED(Email))",
         "errorMessage": "Email cannot change", "errorDisplayField": "Email"},
        {"name": "Score_Only_Up", "active": True, "errorConditionFormula": "Lead_Score__c < PRIORVALUE(Lead_Score__c)",
         "errorMessage": "Scores only go up", "errorDisplayField": "Lead_Score__c"},
    ])
    ctx = org.context(org.login_username_password(*SYNC_USER).access_token)
    record_id = org.create(ctx, "Contact", {"LastName": "Ng", "Email": "a@x.example", "Lead_Score__c": 5})
    assert _rule_error(org.update, ctx, "Contact", record_id, {"Email": "b@x.example"}).message == \
        "Email cannot change"
    org.update(ctx, "Contact", record_id, {"Email": "A@x.example".lower(), "Lead_Score__c": 7})
    assert _rule_error(org.update, ctx, "Contact", record_id, {"Lead_Score__c": 6}).message == "Scores only go up"
    org.update(ctx, "Contact", record_id, {"Lead_Score__c": 9})


def test_inactive_rules_do_not_run(definition):
    org = _org_with_rules(definition, [{"name": "Never", "active": False, "errorConditionFormula": "TRUE",
                                        "errorMessage": "no", "errorDisplayField": None}])
    ctx = org.context(org.login_username_password(*ADMIN).access_token)
    assert org.create(ctx, "Contact", {"LastName": "Ng"})


def test_rule_without_display_field_reports_no_fields(definition):
    org = _org_with_rules(definition, [{"name": "Always", "active": True, "errorConditionFormula": "TRUE",
                                        "errorMessage": "nope"}])
    ctx = org.context(org.login_username_password(*ADMIN).access_token)
    assert _rule_error(org.create, ctx, "Contact", {"LastName": "Ng"}).fields == []


def test_seed_skips_validation_rules(org, admin):
    record_id = org.seed("Lead", [{"LastName": "Ng", "Company": "X", "LeadSource": "Web"}])[0]
    assert org.retrieve(admin, "Lead", record_id, ["LeadSource"])["LeadSource"] == "Web"


class TestAssignmentRules:
    def _owner(self, org, ctx, lead_id):
        return org.retrieve(ctx, "Lead", lead_id, ["OwnerId"])["OwnerId"]

    def test_web_lead_goes_to_the_queue(self, org, sync, admin):
        queue = org.query(admin, "SELECT Id FROM Group WHERE Name = 'Inbound Leads'").records[0]["Id"]
        lead_id = org.create(sync, "Lead", {"LastName": "Ng", "Company": "X", "LeadSource": "Web",
                                            "Email": "ng@x.example"}, assignment_rules=True)
        assert self._owner(org, sync, lead_id) == queue

    def test_other_leads_go_to_the_rep(self, org, sync, rep):
        lead_id = org.create(sync, "Lead", {"LastName": "Ng", "Company": "X", "LeadSource": "Trade Show"},
                             assignment_rules=True)
        assert self._owner(org, sync, lead_id) == rep.user_id

    def test_without_assignment_rules_the_caller_owns(self, org, sync):
        lead_id = org.create(sync, "Lead", {"LastName": "Ng", "Company": "X", "LeadSource": "Web",
                                            "Email": "ng@x.example"})
        assert self._owner(org, sync, lead_id) == sync.user_id

    def test_objects_without_rules_keep_the_caller_as_owner(self, org, sync):
        record_id = org.create(sync, "Contact", {"LastName": "Ng"}, assignment_rules=True)
        assert org.retrieve(sync, "Contact", record_id, ["OwnerId"])["OwnerId"] == sync.user_id

    def test_no_matching_entry_keeps_the_caller(self, definition):
        definition["assignmentRules"]["Lead"] = [{"when": "ISPICKVAL(LeadSource, \"Web\")",
                                                  "assignTo": f"@user:{REP.username}"}]
        org = Org.from_definition(definition)
        ctx = org.context(org.login_username_password(*SYNC_USER).access_token)
        lead_id = org.create(ctx, "Lead", {"LastName": "Ng", "Company": "X"}, assignment_rules=True)
        assert org.retrieve(ctx, "Lead", lead_id, ["OwnerId"])["OwnerId"] == ctx.user_id


def test_today_in_a_rule_is_the_users_date_not_the_utc_one(definition, clock):
    """Salesforce counts TODAY() in the user's time zone; before, a rule read the UTC date, so on a Los
    Angeles evening a birthdate of today was refused as in the future."""
    definition["validationRules"]["Contact"] = [
        {"name": "No_Future_Birthdate", "active": True, "errorConditionFormula": "Birthdate > TODAY()",
         "errorMessage": "Birthdate cannot be in the future", "errorDisplayField": "Birthdate"}]
    clock.ms = 1_780_023_600_000  # 2026-05-29 03:00 UTC: still the 28th in Los Angeles
    org = Org.from_definition(definition, now_ms=clock)
    ctx = org.context(org.login_username_password(*SYNC_USER).access_token)
    assert org.create(ctx, "Contact", {"LastName": "Ng", "Birthdate": "2026-05-28"})
    error = _rule_error(org.create, ctx, "Contact", {"LastName": "Ng", "Birthdate": "2026-05-29"})
    assert error.message == "Birthdate cannot be in the future"
