"""Loading org files: the sample loads whole; a bad file is refused naming the path inside it."""

from __future__ import annotations

import pytest

from tandem.emulator.faults import RATE_KEYS, FaultSettings
from tandem.emulator.model import Org, OrgDefinitionError
from tandem.emulator.sample_org import ADMIN, REP, SAMPLE_ORG_FILE


def test_sample_org_loads_every_section(org, admin):
    assert org.name == "Sample org"
    assert org.api_version == "62.0"
    assert org.org_id.startswith("00D") and len(org.org_id) == 18
    assert org.api_usage() == (0, 100000)
    assert org.fault_settings.http503 == 0.0
    assert org.query(admin, "SELECT COUNT() FROM Account").total_size == 3
    assert org.query(admin, "SELECT COUNT() FROM Contact").total_size == 4
    assert org.query(admin, "SELECT COUNT() FROM Lead").total_size == 2
    assert org.query(admin, "SELECT COUNT() FROM User").total_size == 4
    queue = org.query(admin, "SELECT Id, Name, Type FROM Group").records
    assert [(q["Name"], q["Type"]) for q in queue] == [("Inbound Leads", "Queue")]
    assert queue[0]["Id"].startswith("00G")
    converted = org.query(admin, "SELECT ApiName FROM LeadStatus WHERE IsConverted = true").records
    assert [r["ApiName"] for r in converted] == ["Closed - Converted"]


def test_seed_references_resolve(org, admin):
    rows = org.query(admin, "SELECT LastName, Account.Name, Owner.Username FROM Contact ORDER BY LastName").records
    assert rows[0]["LastName"] == "Coyote" and rows[0]["Account"]["Name"] == "Acme Corp"
    acme = org.query(admin, "SELECT Owner.Username FROM Account WHERE Name = 'Acme Corp'").records[0]
    assert acme["Owner"]["Username"] == REP.username


def test_the_packaged_sample_loads_from_its_file():
    assert Org.from_file(SAMPLE_ORG_FILE).name == "Sample org"


def _refuse(definition: dict) -> str:
    with pytest.raises(OrgDefinitionError) as caught:
        Org.from_definition(definition)
    return str(caught.value)


BAD_FILES = [
    ("unknown @ref", lambda d: d["records"]["Contact"][2].update(AccountId="@acmee"),
     'records.Contact[2].AccountId: unknown @ref "acmee"'),
    ("unknown section", lambda d: d.update(recordTypes={}), "recordTypes: unknown section"),
    ("bad FLS level", lambda d: d["profiles"]["Marketing Sync"]["fields"].update({"Contact.Phone": "write"}),
     "profiles.Marketing Sync.fields.Contact.Phone: "),
    ("bad field type", lambda d: d["customFields"]["Contact"][1].update(type="number"),
     "customFields.Contact[1].type: "),
    ("unknown profile", lambda d: d["users"][1].update(profile="Marketing"), 'users[1].profile: unknown profile'),
    ("rule reads unknown field", lambda d: d["validationRules"]["Lead"][0].update(
        errorConditionFormula='ISBLANK(Emial)'), "validationRules.Lead[0].errorConditionFormula: unknown field"),
    ("rule does not parse", lambda d: d["validationRules"]["Contact"][1].update(errorConditionFormula="AND(("),
     "validationRules.Contact[1].errorConditionFormula: formula does not parse"),
    ("unknown FLS field", lambda d: d["profiles"]["Marketing Sync"]["fields"].update({"Contact.Nope__c": "read"}),
     "profiles.Marketing Sync.fields.Contact.Nope__c: unknown field"),
    ("unknown seed field", lambda d: d["records"]["Lead"][0].update(Shoe_Size__c=9),
     "records.Lead[0].Shoe_Size__c: unknown field"),
    ("unknown seed object", lambda d: d["records"].update(Case=[{}]), "records.Case: unknown object"),
    ("missing required seed field", lambda d: d["records"]["Lead"][1].pop("Company"),
     "records.Lead[1].Company: REQUIRED_FIELD_MISSING"),
    ("bad seed value", lambda d: d["records"]["Contact"][0].update(Favorite_Color__c="Purple"),
     "records.Contact[0].Favorite_Color__c: INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"),
    ("unknown queue", lambda d: d["assignmentRules"]["Lead"][0].update(assignTo="@queue:Outbound"),
     "assignmentRules.Lead[0].assignTo: "),
    ("unknown user in seed", lambda d: d["records"]["Account"][0].update(OwnerId="@user:nobody@x"),
     'records.Account[0].OwnerId: unknown user "nobody@x"'),
    ("unknown runAs", lambda d: d["connectedApps"][0].update(runAs="ghost@sample.example"),
     "connectedApps[0].runAs: unknown user"),
    ("unknown picklist field", lambda d: d["picklists"].update({"Lead.Mood": [{"value": "Happy"}]}),
     "picklists.Lead.Mood: unknown field"),
    ("custom field without __c", lambda d: d["customFields"]["Lead"][0].update(name="Favorite_Color"),
     "customFields.Lead[0].name: custom field names end in __c"),
    ("duplicate @ref", lambda d: d["records"]["Account"][1].update({"@ref": "acme"}),
     "records.Account[1].@ref: duplicate @ref"),
    ("@ref of the wrong object", lambda d: d["records"]["Contact"][0].update(AccountId=f"@user:{REP.username}"),
     f"records.Contact[0].AccountId: @user:{REP.username} is a User record; AccountId takes Account records"),
    ("@ref to a record of another object", lambda d: d["records"]["Contact"][1].update(AccountId="@wile"),
     'records.Contact[1].AccountId: @wile is a Contact record; AccountId takes Account records'),
    ("queue owning a contact", lambda d: d["records"]["Contact"][0].update(OwnerId="@queue:Inbound Leads"),
     "records.Contact[0].OwnerId: @queue:Inbound Leads is a Group record; OwnerId takes User records"),
    ("queue for an object without queues", lambda d: d["queues"][0].update(objects=["Contact"]),
     "queues[0].objects[0]: "),
    ("unknown display field", lambda d: d["validationRules"]["Contact"][0].update(errorDisplayField="Fone"),
     "validationRules.Contact[0].errorDisplayField: unknown field"),
    ("missing format", lambda d: d.pop("format"), "format: required"),
    ("unknown format", lambda d: d.update(format="salesforce-org/1"), "format: unknown format"),
    ("extra key in a user", lambda d: d["users"][0].update(role="CEO"), "users[0].role: "),
    ("bad fault rate", lambda d: d.update(faults={"http503": 2}), "faults.http503: "),
    ("length of a number field", lambda d: d["customFields"]["Contact"][1].update(length=10),
     "customFields.Contact[1].length: a double field has no length"),
    ("text longer than a string field holds", lambda d: d["customFields"]["Lead"][4].update(length=300),
     "customFields.Lead[4].length: a string field holds at most 255 characters"),
    ("precision of a text field", lambda d: d["customFields"]["Contact"][5].update(precision=10),
     "customFields.Contact[5].precision: a string field has no precision"),
    ("restricted text field", lambda d: d["customFields"]["Contact"][3].update(restricted=True),
     "customFields.Contact[3].restricted: a textarea field cannot be restricted"),
    ("unique checkbox", lambda d: d["customFields"]["Contact"][4].update(unique=True),
     "customFields.Contact[4].unique: a boolean field cannot be unique"),
    ("picklist value listed twice", lambda d: d["customFields"]["Lead"][0].update(values=["Red", "Red"]),
     "customFields.Lead[0].values: duplicate picklist value"),
    ("field name with a space", lambda d: d["customFields"]["Lead"][0].update(name="Favorite Color__c"),
     'customFields.Lead[0].name: "Favorite Color__c" is not a field name'),
    ("field name with a double underscore", lambda d: d["customFields"]["Lead"][0].update(name="Fav__Color__c"),
     'customFields.Lead[0].name: "Fav__Color__c" is not a field name'),
    ("API version that is not one", lambda d: d.update(apiVersion="latest"),
     'apiVersion: an API version is written like "62.0", got "latest"'),
    ("misspelt limit", lambda d: d["limits"].update(DailyApiRequest=10),
     "limits.DailyApiRequest: unknown limit (the org reports ConcurrentAsyncGetReportInstances, DailyApiRequests,"),
    ("negative limit", lambda d: d["limits"].update(DailyApiRequests=-1), "limits.DailyApiRequests: "),
    ("two apps with one client id", lambda d: d["connectedApps"].append(
        {"clientId": "tandem-local", "clientSecret": "other-secret", "runAs": REP.username}),
     'connectedApps[1].clientId: duplicate clientId "tandem-local"'),
    ("two rules with one name", lambda d: d["validationRules"]["Contact"][1].update(name="Phone_Must_Be_A_Number"),
     'validationRules.Contact[1].name: Contact already has a validation rule "Phone_Must_Be_A_Number"'),
    ("@ref that is not a name", lambda d: d["records"]["Account"][0].update({"@ref": 5}),
     "records.Account[0].@ref: an @ref is a non-empty name"),
    ("editable system field", lambda d: d["profiles"]["Marketing Sync"]["fields"].update(
        {"Contact.CreatedDate": "edit"}),
     "profiles.Marketing Sync.fields.Contact.CreatedDate: Contact.CreatedDate is read-only for every profile"),
    ("picklist without values", lambda d: d["picklists"].update({"Lead.LeadSource": []}),
     "picklists.Lead.LeadSource: a picklist needs at least one value"),
    ("rule assigning to an inactive user", lambda d: d["users"][2].update(active=False),
     'assignmentRules.Lead[1].assignTo: user "rep@sample.example" is inactive'),
    ("rule reads an unknown parent field", lambda d: d["validationRules"]["Contact"][0].update(
        errorConditionFormula='Account.Nickname = "x"'), "validationRules.Contact[0].errorConditionFormula: unknown field "
     "Contact.Account.Nickname"),
    ("rule reads an unknown global", lambda d: d["validationRules"]["Contact"][0].update(
        errorConditionFormula='$Org.Name = "x"'), "validationRules.Contact[0].errorConditionFormula: unknown field "
     "Contact.$Org.Name"),
    ("converted outside Lead.Status", lambda d: d["picklists"]["Lead.LeadSource"][0].update(converted=True),
     "picklists.Lead.LeadSource[0].converted: only Lead.Status values are marked converted"),
    ("closed outside Opportunity.StageName", lambda d: d["picklists"]["Lead.Status"][3].update(closed=True),
     "picklists.Lead.Status[3].closed: only Opportunity.StageName values are marked closed or won"),
    ("won stage that is not closed", lambda d: d["picklists"]["Opportunity.StageName"][2].update(closed=False),
     "picklists.Opportunity.StageName[2].won: a won stage is also closed"),
    ("REGEX pattern that does not compile", lambda d: d["validationRules"]["Contact"][0].update(
        errorConditionFormula='REGEX(Phone, "[0-9")'),
     "validationRules.Contact[0].errorConditionFormula: REGEX: the pattern '[0-9' cannot be used here"),
    ("REGEX pattern Python's re does not know", lambda d: d["validationRules"]["Contact"][0].update(
        errorConditionFormula='REGEX(LastName, "\\\\p{L}+")'),
     "validationRules.Contact[0].errorConditionFormula: REGEX: the pattern '\\\\p{L}+' cannot be used here"),
    ("picklist compared as text", lambda d: d["assignmentRules"]["Lead"][0].update(when='LeadSource = "Web"'),
     "assignmentRules.Lead[0].when: Field LeadSource is a picklist field"),
    ("number compared with text", lambda d: d["validationRules"]["Contact"][1].update(
        errorConditionFormula='Lead_Score__c < "0"'),
     "validationRules.Contact[1].errorConditionFormula: Incorrect parameter type for operator '<'"),
    ("ISPICKVAL of a text field", lambda d: d["validationRules"]["Lead"][0].update(
        errorConditionFormula='ISPICKVAL(Email, "x")'),
     "validationRules.Lead[0].errorConditionFormula: Incorrect parameter type for function 'ISPICKVAL()'"),
    ("rule that is not true or false", lambda d: d["validationRules"]["Contact"][1].update(
        errorConditionFormula="Lead_Score__c * 2"),
     "validationRules.Contact[1].errorConditionFormula: Formula result is data type (Number)"),
    ("text function given a number", lambda d: d["validationRules"]["Contact"][0].update(
        errorConditionFormula="LEN(Lead_Score__c) > 3"),
     "validationRules.Contact[0].errorConditionFormula: Incorrect parameter type for function 'LEN()'"),
]


@pytest.mark.parametrize(("change", "expected"), [(c, e) for _, c, e in BAD_FILES], ids=[n for n, _, _ in BAD_FILES])
def test_bad_files_are_refused_with_their_path(definition, change, expected):
    change(definition)
    assert _refuse(definition).startswith(expected)


def test_a_newer_format_may_carry_sections_this_loader_does_not_know(definition):
    definition["format"] = "tandem-org/2"
    definition["recordTypes"] = {"Lead": ["Partner"]}
    assert Org.from_definition(definition).name == "Sample org"


def test_faults_section_is_exposed(definition):
    definition["faults"] = {"seed": 7, "http503": 0.25}
    org = Org.from_definition(definition)
    assert org.fault_settings.seed == 7 and org.fault_settings.http503 == 0.25


def test_every_fault_key_loads_from_the_faults_section(definition):
    rates = {key: 0.5 for key in RATE_KEYS}
    definition["faults"] = {"seed": 7, **rates, "slowSeconds": 0.5, "concurrentRequestLimit": 25,
                            "longRunningSeconds": 20, "queryOutageAs": "QUERY_TIMEOUT", "lateCommitSeconds": 90}
    settings = Org.from_definition(definition).fault_settings
    assert settings.model_dump() == definition["faults"]
    assert set(RATE_KEYS) == {name for name, value in FaultSettings().model_dump().items()
                              if isinstance(value, float) and not name.endswith("Seconds")}


def test_a_file_that_is_not_json_is_refused(tmp_path):
    bad = tmp_path / "org.json"
    bad.write_text("{not json")
    with pytest.raises(OrgDefinitionError, match="not valid JSON"):
        Org.from_file(bad)


def test_at_signs_in_text_values_are_text(definition):
    definition["records"]["Contact"][0]["Title"] = "@large"
    org = Org.from_definition(definition)
    ctx = org.context(org.login_username_password(*ADMIN).access_token)
    assert org.query(ctx, "SELECT Title FROM Contact WHERE LastName = 'Coyote'").records[0]["Title"] == "@large"


def test_the_system_administrator_profile_exists_without_being_listed(definition):
    del definition["profiles"]["System Administrator"]
    org = Org.from_definition(definition)
    ctx = org.context(org.login_username_password(*ADMIN).access_token)
    fields = {f["name"]: f for f in org.describe(ctx, "Contact")["fields"]}
    assert fields["Internal_Notes__c"]["updateable"] is True


def test_profiles_view_setup_unless_the_file_says_otherwise(definition):
    definition["profiles"]["Marketing Sync"]["permissions"] = {"ViewSetup": False}
    org = Org.from_definition(definition)
    assert org.profiles["Marketing Sync"].view_setup is False
    assert org.profiles["System Administrator"].view_setup is True
    assert org.profiles["Limited Sales"].view_setup is False


def test_an_unknown_profile_permission_is_refused_by_path(definition):
    definition["profiles"]["Marketing Sync"]["permissions"] = {"ModifyAllData": True}
    assert _refuse(definition).startswith("profiles.Marketing Sync.permissions.ModifyAllData:")


WELL_TYPED_RULES = [
    'TEXT(LeadSource) = "Web" && ISBLANK(Email)',
    'CASE(LeadSource, "Web", 1, "Other", 2, 0) > 1',
    'ISPICKVAL(PRIORVALUE(Status), "Working - Contacted") && ISCHANGED(Status)',
    'NOT(ISNEW()) && PRIORVALUE(Lead_Score__c) > Lead_Score__c',
    'Lead_Score__c = NULL || Lead_Score__c < 0',
    'IF(ISBLANK(Email), LEN(Company) > 40, CONTAINS(Email, "@example"))',
    'CreatedDate < NOW() - 1 && LEN(TEXT(Favorite_Color__c)) > 0',
    'Owner.Email = "a@b.example" && $Profile.Name <> "System Administrator"',
    'ISBLANK(ConvertedAccount.Website) || $User.Username = "x"',
]


@pytest.mark.parametrize("formula", WELL_TYPED_RULES)
def test_well_typed_rules_load(definition, formula):
    definition["validationRules"]["Lead"][0]["errorConditionFormula"] = formula
    assert Org.from_definition(definition).rules.validation["Lead"][0].formula.text == formula


def test_seed_records_may_refer_to_records_later_in_the_file(definition):
    """JSON objects have no order: Contacts listed before the Accounts they name still load."""
    records = definition["records"]
    definition["records"] = {"Contact": records.pop("Contact"), **records}
    definition["records"]["Account"][0]["ParentId"] = "@initech"
    org = Org.from_definition(definition)
    ctx = org.context(org.login_username_password(*ADMIN).access_token)
    wile = org.query(ctx, "SELECT Account.Name FROM Contact WHERE LastName = 'Coyote'").records[0]
    assert wile["Account"]["Name"] == "Acme Corp"
    acme = org.query(ctx, "SELECT Parent.Name FROM Account WHERE Name = 'Acme Corp'").records[0]
    assert acme["Parent"]["Name"] == "Initech"
