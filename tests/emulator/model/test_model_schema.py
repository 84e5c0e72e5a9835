"""Standard objects, their fields and Ids, and describe as each profile sees it."""

from __future__ import annotations

import pytest

from tandem.emulator.model import NotFound
from tandem.salesforce import ids

REFERENCE_FIELDS = {
    "Lead": "AnnualRevenue City Company ConvertedDate Country CreatedDate Description Email Fax FirstName "
            "HasOptedOutOfEmail Industry IsConverted IsDeleted LastName LeadSource MobilePhone NumberOfEmployees "
            "Phone PostalCode Rating Salutation State Status Street Title Website",
    "Contact": "Birthdate CreatedDate Description Email Fax FirstName HasOptedOutOfEmail IsDeleted LastName "
               "LeadSource MailingCity MailingCountry MailingPostalCode MailingState MailingStreet MobilePhone "
               "Phone Salutation Title AccountId",
    "Account": "AnnualRevenue BillingStreet BillingCity BillingState BillingPostalCode BillingCountry Description "
               "Industry Name NumberOfEmployees Phone Sic Site Type Website",
}
SYSTEM_FIELDS = "Id OwnerId CreatedDate CreatedById LastModifiedDate LastModifiedById SystemModstamp IsDeleted"
AIRBYTE_TYPES = set("string id reference textarea email phone url picklist multipicklist combobox encryptedstring "
                    "byte time json masterrecord complexvalue datacategorygroupreference date datetime currency "
                    "double long percent int boolean base64 address location anyType calculated".split())


def _fields(org, ctx, object_name):
    return {f["name"]: f for f in org.describe(ctx, object_name)["fields"]}


@pytest.mark.parametrize("object_name", sorted(REFERENCE_FIELDS))
def test_every_default_mapping_field_exists(org, admin, object_name):
    fields = _fields(org, admin, object_name)
    missing = [name for name in REFERENCE_FIELDS[object_name].split() if name not in fields]
    assert missing == []


@pytest.mark.parametrize("object_name", ["Account", "Contact", "Lead", "Opportunity"])
def test_system_fields_are_present_and_read_only(org, admin, object_name):
    fields = _fields(org, admin, object_name)
    for name in SYSTEM_FIELDS.split():
        assert fields[name]["createable"] is False or name == "OwnerId", name
        if name != "OwnerId":
            assert fields[name]["updateable"] is False, name


def test_fields_outside_the_mapping_exist_too(org, admin):
    contact = _fields(org, admin, "Contact")
    for name in ("AssistantName", "Department", "OtherCity", "OtherStreet", "MasterRecordId", "Name"):
        assert name in contact
    lead = _fields(org, admin, "Lead")
    for name in ("ConvertedAccountId", "ConvertedContactId", "ConvertedOpportunityId", "MasterRecordId"):
        assert lead[name]["type"] == "reference"
    opportunity = _fields(org, admin, "Opportunity")
    for name in ("Name", "StageName", "CloseDate", "AccountId", "Amount"):
        assert name in opportunity


def test_describe_field_entries_carry_what_clients_read(org, admin):
    body = org.describe(admin, "lead")
    assert body["name"] == "Lead" and body["keyPrefix"] == "00Q" and body["queryable"] is True
    fields = {f["name"]: f for f in body["fields"]}
    status = fields["Status"]
    assert status["type"] == "picklist" and status["defaultedOnCreate"] is True and status["nillable"] is False
    assert status["picklistValues"][0] == {"active": True, "defaultValue": True, "label": "Open - Not Contacted",
                                           "validFor": None, "value": "Open - Not Contacted"}
    owner = fields["OwnerId"]
    assert owner["referenceTo"] == ["Group", "User"] and owner["relationshipName"] == "Owner"
    assert owner["polymorphicForeignKey"] is True
    name = fields["Name"]
    assert name["createable"] is False and name["updateable"] is False and name["nameField"] is True
    assert fields["LastName"]["length"] == 80 and fields["Email"]["type"] == "email"
    assert fields["AnnualRevenue"]["type"] == "currency" and fields["AnnualRevenue"]["precision"] == 18
    assert fields["City"]["compoundFieldName"] == "Address"
    for entry in body["fields"]:
        assert entry["type"] in AIRBYTE_TYPES
        assert {"soapType", "calculated", "externalId", "unique", "filterable", "sortable", "nillable"} <= set(entry)


def test_custom_fields_from_the_file(org, admin):
    fields = _fields(org, admin, "Contact")
    color = fields["Favorite_Color__c"]
    assert color["custom"] is True and color["restrictedPicklist"] is True
    assert [v["value"] for v in color["picklistValues"]] == ["Red", "Green", "Blue"]
    ext = fields["External_Id__c"]
    assert ext["externalId"] is True and ext["unique"] is True and ext["length"] == 64 and ext["idLookup"] is True
    assert fields["Lead_Score__c"]["type"] == "double" and fields["Newsletter__c"]["type"] == "boolean"


def test_contact_account_relationship_and_children(org, admin):
    account = org.describe(admin, "Account")
    children = {(c["childSObject"], c["field"]): c for c in account["childRelationships"]}
    assert children[("Contact", "AccountId")]["relationshipName"] == "Contacts"
    account_id = _fields(org, admin, "Contact")["AccountId"]
    assert account_id["referenceTo"] == ["Account"] and account_id["relationshipName"] == "Account"


def test_describe_global_lists_queryable_objects(org, admin):
    body = org.describe_global(admin)
    assert body["encoding"] == "UTF-8" and body["maxBatchSize"] == 200
    entries = {s["name"]: s for s in body["sobjects"]}
    for name, prefix in (("Account", "001"), ("Contact", "003"), ("Lead", "00Q"), ("Opportunity", "006"),
                         ("User", "005"), ("Group", "00G")):
        assert entries[name]["keyPrefix"] == prefix and entries[name]["queryable"] is True
    assert entries["Lead"]["urls"]["rowTemplate"] == "/services/data/v62.0/sobjects/Lead/{ID}"
    info = org.sobject_basic_info(admin, "contact", "59.0")
    assert info["objectDescribe"]["name"] == "Contact" and info["recentItems"] == []


def test_unknown_object_describe_is_not_found(org, admin):
    with pytest.raises(NotFound) as caught:
        org.describe(admin, "Leed")
    assert caught.value.status == 404 and caught.value.message == "The requested resource does not exist"


@pytest.mark.parametrize(("object_name", "prefix", "body"), [
    ("Account", "001", {"Name": "Umbrella"}),
    ("Contact", "003", {"LastName": "Ng"}),
    ("Lead", "00Q", {"LastName": "Ng", "Company": "Ng Co"}),
    ("Opportunity", "006", {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-06-30"}),
])
def test_created_ids_have_the_prefix_and_a_valid_checksum(org, admin, object_name, prefix, body):
    record_id = org.create(admin, object_name, body)
    assert len(record_id) == 18 and record_id.startswith(prefix)
    assert ids.is_well_formed(record_id) and ids.to_18(record_id[:15]) == record_id
    assert org.retrieve(admin, object_name, record_id[:15], ["Id"])["Id"] == record_id


def test_user_ids_and_org_id(org, admin, sync):
    assert admin.user_id.startswith("005") and ids.is_well_formed(admin.user_id)
    assert admin.user_id != sync.user_id
    assert ids.is_well_formed(org.org_id)
