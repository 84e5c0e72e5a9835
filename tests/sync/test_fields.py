from tandem.sync.fields import Direction, decide


def field(name, *, updateable=True, custom=False, calculated=False, type="string"):
    return {"name": name, "updateable": updateable, "custom": custom, "calculated": calculated, "type": type}


def rules_by_name(object_name, fields):
    return {rule.sf_field: rule for rule in decide(object_name, fields)}


def test_mapped_standard_field_syncs_both_ways_under_its_person_name():
    rules = rules_by_name("Contact", [field("MailingCity"), field("Email", type="email")])
    assert rules["MailingCity"].person_field == "city"
    assert rules["MailingCity"].direction is Direction.BOTH
    assert rules["Email"].person_field == "email"


def test_standard_field_outside_mapping_does_not_sync():
    rule = rules_by_name("Contact", [field("AssistantName")])["AssistantName"]
    assert rule.direction is Direction.NONE
    assert rule.reason == "not in default mapping"
    assert rule.person_field is None


def test_custom_field_syncs_under_its_own_name():
    rule = rules_by_name("Lead", [field("Favorite_Color__c", custom=True, type="picklist")])["Favorite_Color__c"]
    assert (rule.person_field, rule.direction, rule.custom) == ("Favorite_Color__c", Direction.BOTH, True)


def test_read_only_and_formula_fields_pull_only():
    rules = rules_by_name(
        "Contact",
        [
            field("Credit_Score__c", custom=True, updateable=False, type="double"),
            field("Score_Band__c", custom=True, updateable=False, calculated=True),
            field("CreatedDate", updateable=False, type="datetime"),
        ],
    )
    assert rules["Credit_Score__c"].direction is Direction.PULL
    assert rules["Credit_Score__c"].reason == "read-only: pull only"
    assert rules["Score_Band__c"].reason == "formula: pull only"
    assert rules["CreatedDate"].person_field == "sfdcCreatedDate"
    assert rules["CreatedDate"].direction is Direction.PULL


def test_mapped_field_absent_from_describe_is_reported_hidden():
    rules = rules_by_name("Contact", [field("Email")])
    assert rules["Phone"].direction is Direction.NONE
    assert rules["Phone"].reason == "hidden from sync user"


def test_link_field_is_never_a_person_field():
    rule = rules_by_name("Contact", [field("Tandem_Person_Id__c", custom=True)])["Tandem_Person_Id__c"]
    assert rule.direction is Direction.NONE and rule.person_field is None


def test_account_fields_only_flow_into_tandem():
    rules = rules_by_name("Account", [field("Name"), field("Phone"), field("Region__c", custom=True)])
    assert rules["Name"].person_field == "company"
    assert rules["Phone"].person_field == "mainPhone"
    assert all(rule.direction is Direction.PULL for rule in rules.values() if rule.sf_type)


def test_field_names_match_case_insensitively():
    rule = rules_by_name("Lead", [field("status", type="picklist")])["status"]
    assert rule.person_field == "leadStatus"
