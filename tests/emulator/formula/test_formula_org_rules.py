"""The validation and assignment rules of the sample org, on records that pass and that fail."""

from __future__ import annotations

import json

import pytest

from tandem.emulator.formula import RecordContext, parse_formula
from tandem.emulator.sample_org import REP, SAMPLE_ORG_FILE

PHONE_RULE = 'AND(NOT(ISBLANK(Phone)), NOT(REGEX(Phone, "[+]?[0-9 ().-]{7,20}")))'
SCORE_RULE = "Lead_Score__c < 0"
WEB_LEAD_RULE = 'AND(ISPICKVAL(LeadSource, "Web"), ISBLANK(Email))'
WEB_ASSIGNMENT = 'ISPICKVAL(LeadSource, "Web")'

CONTACT_TYPES = {
    "FirstName": "string", "LastName": "string", "Email": "email", "Phone": "phone", "Title": "string",
    "LeadSource": "picklist", "Favorite_Color__c": "picklist", "Lead_Score__c": "double",
    "Credit_Score__c": "double", "Internal_Notes__c": "textarea", "Newsletter__c": "boolean",
}
LEAD_TYPES = dict(CONTACT_TYPES, Company="string", Status="picklist")

def sample_org() -> dict:
    """The bundled sample org's definition: it ships in the package, so these tests always run."""
    return json.loads(SAMPLE_ORG_FILE.read_text())


def test_rules_here_are_the_sample_org_rules():
    org = sample_org()
    contact = {rule["name"]: rule["errorConditionFormula"] for rule in org["validationRules"]["Contact"]}
    lead = {rule["name"]: rule["errorConditionFormula"] for rule in org["validationRules"]["Lead"]}
    assert contact == {"Phone_Must_Be_A_Number": PHONE_RULE, "Score_Not_Negative": SCORE_RULE}
    assert lead == {"Web_Leads_Need_Email": WEB_LEAD_RULE}
    assert [entry["when"] for entry in org["assignmentRules"]["Lead"]] == [WEB_ASSIGNMENT, "TRUE"]


def test_every_sample_rule_parses_and_names_known_fields():
    org = sample_org()
    for object_name, rules in org["validationRules"].items():
        types = CONTACT_TYPES if object_name == "Contact" else LEAD_TYPES
        for rule in rules:
            assert parse_formula(rule["errorConditionFormula"]).fields() <= set(types), rule["name"]
    for entry in org["assignmentRules"]["Lead"]:
        assert parse_formula(entry["when"]).fields() <= set(LEAD_TYPES)


RULE_CASES = [
    # (rule, types, record, error condition true?)
    (PHONE_RULE, CONTACT_TYPES, {"Phone": "+1 555 0100"}, False),
    (PHONE_RULE, CONTACT_TYPES, {"Phone": "(555) 010-0199"}, False),
    (PHONE_RULE, CONTACT_TYPES, {"Phone": "555.0100.12"}, False),
    (PHONE_RULE, CONTACT_TYPES, {"Phone": None}, False),
    (PHONE_RULE, CONTACT_TYPES, {"Phone": ""}, False),
    (PHONE_RULE, CONTACT_TYPES, {}, False),
    (PHONE_RULE, CONTACT_TYPES, {"Phone": "call me"}, True),
    (PHONE_RULE, CONTACT_TYPES, {"Phone": "555-CALL-NOW"}, True),
    (PHONE_RULE, CONTACT_TYPES, {"Phone": "12345"}, True),
    (PHONE_RULE, CONTACT_TYPES, {"Phone": "+1 555 0100 0100 0100 01"}, True),
    (PHONE_RULE, CONTACT_TYPES, {"Phone": "1++5550100"}, True),
    (SCORE_RULE, CONTACT_TYPES, {"Lead_Score__c": 10}, False),
    (SCORE_RULE, CONTACT_TYPES, {"Lead_Score__c": 0}, False),
    (SCORE_RULE, CONTACT_TYPES, {"Lead_Score__c": None}, False),
    (SCORE_RULE, CONTACT_TYPES, {"Lead_Score__c": -1}, True),
    (SCORE_RULE, CONTACT_TYPES, {"Lead_Score__c": -0.5}, True),
    (WEB_LEAD_RULE, LEAD_TYPES, {"LeadSource": "Web", "Email": "lisa@springfield.example"}, False),
    (WEB_LEAD_RULE, LEAD_TYPES, {"LeadSource": "Phone Inquiry", "Email": None}, False),
    (WEB_LEAD_RULE, LEAD_TYPES, {"LeadSource": None, "Email": None}, False),
    (WEB_LEAD_RULE, LEAD_TYPES, {"LeadSource": "web", "Email": None}, False),
    (WEB_LEAD_RULE, LEAD_TYPES, {"LeadSource": "Web", "Email": None}, True),
    (WEB_LEAD_RULE, LEAD_TYPES, {"LeadSource": "Web", "Email": ""}, True),
    (WEB_LEAD_RULE, LEAD_TYPES, {"LeadSource": "Web"}, True),
    (WEB_ASSIGNMENT, LEAD_TYPES, {"LeadSource": "Web"}, True),
    (WEB_ASSIGNMENT, LEAD_TYPES, {"LeadSource": "Other"}, False),
    ("TRUE", LEAD_TYPES, {}, True),
]


@pytest.mark.parametrize(("rule", "types", "record", "fires"), RULE_CASES)
def test_sample_rule_on_record(rule, types, record, fires):
    assert parse_formula(rule).evaluate(RecordContext(record, None, types)) is fires


def test_sample_seed_records_pass_their_validation_rules():
    org = sample_org()
    for object_name, rules in org["validationRules"].items():
        types = CONTACT_TYPES if object_name == "Contact" else LEAD_TYPES
        for record in org["records"][object_name]:
            values = {key: value for key, value in record.items() if key in types}
            for rule in rules:
                fired = parse_formula(rule["errorConditionFormula"]).evaluate(RecordContext(values, None, types))
                assert fired is False, (rule["name"], record)


def test_sample_assignment_rules_pick_the_first_match():
    org = sample_org()
    entries = org["assignmentRules"]["Lead"]

    def owner(record):
        for entry in entries:
            if parse_formula(entry["when"]).evaluate(RecordContext(record, None, LEAD_TYPES)):
                return entry["assignTo"]
        return None

    assert owner({"LeadSource": "Web"}) == "@queue:Inbound Leads"
    assert owner({"LeadSource": "Phone Inquiry"}) == f"@user:{REP.username}"
    assert owner({}) == f"@user:{REP.username}"
