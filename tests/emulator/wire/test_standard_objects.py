"""The standard objects common tools describe by default: each described and queried through
simple-salesforce, with the sample org's records and field-level security."""

from __future__ import annotations

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError

from tandem.emulator.sample_org import LIMITED

SEEDED = {
    "Event": 1, "Task": 2, "UserRole": 3, "Product2": 3, "Pricebook2": 2, "PricebookEntry": 3,
    "Opportunity": 2, "OpportunityLineItem": 1, "OpportunityContactRole": 1, "CampaignMember": 2,
}


@pytest.mark.parametrize("name", sorted(SEEDED))
def test_each_standard_object_is_described_and_queried(sf, name):
    described = getattr(sf, name).describe()
    fields = {f["name"]: f for f in described["fields"]}
    assert described["name"] == name and {"Id", "SystemModstamp", "CreatedDate"} <= set(fields)
    listed = [f["name"] for f in described["fields"] if f["type"] not in ("complexvalue",)]
    rows = sf.query_all(f"SELECT {', '.join(listed)} FROM {name}")["records"]
    assert len(rows) == SEEDED[name]
    assert all(row["Id"].startswith(described["keyPrefix"]) for row in rows)
    assert name in {o["name"] for o in sf.describe()["sobjects"]}


def test_relationships_between_the_sales_objects(sf):
    item = sf.query("SELECT Quantity, Opportunity.Name, PricebookEntry.UnitPrice, Product2.Name "
                    "FROM OpportunityLineItem")["records"][0]
    assert item["Opportunity"]["Name"] == "Acme Anvils" and item["Product2"]["Name"] == "Anvil"
    assert item["PricebookEntry"]["UnitPrice"] == 99 and item["Quantity"] == 10
    role = sf.query("SELECT Role, IsPrimary, Contact.Email FROM OpportunityContactRole")["records"][0]
    assert role["Contact"]["Email"] == "wile@acme.example" and role["IsPrimary"] is True
    child = sf.query("SELECT Name, ParentRole.Name FROM UserRole WHERE Name = 'Sales Rep'")["records"][0]
    assert child["ParentRole"]["Name"] == "VP Sales"
    event = sf.query("SELECT Subject, Who.Name, DurationInMinutes FROM Event")["records"][0]
    assert event["Who"]["Name"] == "Wile Coyote" and event["DurationInMinutes"] == 60


def test_required_fields_of_the_sales_objects(sf):
    with pytest.raises(SalesforceError) as raised:
        sf.PricebookEntry.create({"UnitPrice": 5})
    assert raised.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"


@pytest.mark.parametrize(("name", "keys"), [
    ("CampaignMember", ("CampaignId", "LeadId", "ContactId")),
    ("OpportunityLineItem", ("OpportunityId", "PricebookEntryId", "Product2Id")),
    ("PricebookEntry", ("Pricebook2Id", "Product2Id")),
])
def test_the_keys_a_junction_record_is_made_with_cannot_be_changed_after(sf, name, keys):
    """A campaign member's campaign, lead and contact, a line item's opportunity and price book entry, a
    price book entry's price book and product are set on create only, as Salesforce describes them; they
    were described as updateable, and an update moving a member to another campaign went through."""
    described = {f["name"]: f for f in getattr(sf, name).describe()["fields"]}
    assert [(described[key]["createable"], described[key]["updateable"]) for key in keys] == [(True, False)] * len(keys)
    record = sf.query(f"SELECT Id, {keys[0]} FROM {name} LIMIT 1")["records"][0]
    with pytest.raises(SalesforceError) as raised:
        getattr(sf, name).update(record["Id"], {keys[0]: record[keys[0]]})
    assert raised.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_field_level_security_on_the_sales_objects(base_url, new_session, get_token):
    session = new_session()
    limited = Salesforce(instance_url=base_url, session_id=get_token(base_url, session, *LIMITED),
                         session=session, version="62.0")
    opportunity = {f["name"] for f in limited.Opportunity.describe()["fields"]}
    assert "Amount" not in opportunity and "StageName" in opportunity
    price = next(f for f in limited.PricebookEntry.describe()["fields"] if f["name"] == "UnitPrice")
    assert price["updateable"] is False and price["createable"] is False
    with pytest.raises(SalesforceError) as raised:
        limited.query("SELECT Amount FROM Opportunity")
    assert raised.value.content[0]["errorCode"] == "INVALID_FIELD"
