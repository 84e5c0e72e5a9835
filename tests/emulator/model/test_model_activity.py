"""Campaigns, campaign members and tasks: the objects Tandem's flow actions write."""

from __future__ import annotations

import pytest

from tandem.emulator.model import ApiError, ConvertLeadRequest


@pytest.fixture
def campaign(org, admin):
    return org.create(admin, "Campaign", {"Name": "Spring Webinar", "Type": "Webinar", "IsActive": True})


def test_campaign_member_and_task_defaults(org, admin, campaign):
    lead = org.query(admin, "SELECT Id FROM Lead LIMIT 1").records[0]["Id"]
    member = org.create(admin, "CampaignMember", {"CampaignId": campaign, "LeadId": lead})
    assert member.startswith("00v") and campaign.startswith("701")
    body = org.retrieve(admin, "CampaignMember", member)
    assert body["Status"] == "Sent" and body["HasResponded"] is False and "OwnerId" not in body
    org.update(admin, "CampaignMember", member, {"Status": "Responded"})
    assert org.retrieve(admin, "CampaignMember", member, ["HasResponded"])["HasResponded"] is True
    task = org.create(admin, "Task", {"WhoId": lead, "Subject": "Call back"})
    body = org.retrieve(admin, "Task", task)
    assert task.startswith("00T") and (body["Status"], body["Priority"], body["IsClosed"]) == \
        ("Not Started", "Normal", False)
    org.update(admin, "Task", task, {"Status": "Completed"})
    assert org.retrieve(admin, "Task", task, ["IsClosed"])["IsClosed"] is True
    row = org.query(admin, f"SELECT Lead.LastName, Campaign.Name FROM CampaignMember WHERE Id = '{member}'").records[0]
    assert row["Campaign"]["Name"] == "Spring Webinar" and row["Lead"]["LastName"] == "Simpson"
    who = org.query(admin, f"SELECT Who.Name FROM Task WHERE Id = '{task}'").records[0]
    assert who["Who"]["attributes"]["type"] == "Lead" and who["Who"]["Name"] == "Lisa Simpson"


def test_member_needs_a_campaign(org, admin):
    with pytest.raises(ApiError) as caught:
        org.create(admin, "CampaignMember", {})
    assert caught.value.error_code == "REQUIRED_FIELD_MISSING" and caught.value.fields == ["CampaignId"]


def test_conversion_moves_tasks_and_memberships_to_the_contact(org, admin, campaign):
    lead = org.create(admin, "Lead", {"LastName": "Moe", "Company": "Tavern"})
    task = org.create(admin, "Task", {"WhoId": lead, "Subject": "Follow up"})
    member = org.create(admin, "CampaignMember", {"CampaignId": campaign, "LeadId": lead})
    result = org.convert_lead(admin, ConvertLeadRequest(lead_id=lead, converted_status="Closed - Converted"))
    assert org.retrieve(admin, "Task", task, ["WhoId"])["WhoId"] == result.contact_id
    body = org.retrieve(admin, "CampaignMember", member, ["LeadId", "ContactId"])
    assert body == {**body, "LeadId": lead, "ContactId": result.contact_id}


def test_merging_leads_moves_their_tasks(org, admin):
    leads = [r["Id"] for r in org.query(admin, "SELECT Id FROM Lead ORDER BY LastName").records]
    task = org.create(admin, "Task", {"WhoId": leads[1], "Subject": "Call"})
    result = org.merge(admin, "Lead", leads[0], {}, [leads[1]])
    assert result.updated_related_ids == [task]
    assert org.retrieve(admin, "Task", task, ["WhoId"])["WhoId"] == leads[0]


def test_owner_cannot_be_cleared(org, admin):
    record = org.create(admin, "Contact", {"LastName": "Ng"})
    with pytest.raises(ApiError) as caught:
        org.update(admin, "Contact", record, {"OwnerId": None})
    assert caught.value.fields == ["OwnerId"]


def test_deleting_a_person_deletes_its_memberships_and_tasks(org, admin, campaign):
    contact = org.create(admin, "Contact", {"LastName": "Ng"})
    member = org.create(admin, "CampaignMember", {"CampaignId": campaign, "ContactId": contact})
    task = org.create(admin, "Task", {"WhoId": contact, "Subject": "Call"})
    org.delete(admin, "Contact", contact)
    for object_name, record_id in (("CampaignMember", member), ("Task", task)):
        with pytest.raises(ApiError) as caught:
            org.retrieve(admin, object_name, record_id)
        assert caught.value.error_code == "ENTITY_IS_DELETED"
    assert org.retrieve(admin, "Campaign", campaign)["Name"] == "Spring Webinar"
