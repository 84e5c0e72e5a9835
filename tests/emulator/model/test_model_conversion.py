"""convertLead: every option combination and the state a converted lead is left in."""

from __future__ import annotations

import itertools

import pytest

from tandem.emulator.model import ApiError, ConvertLeadRequest

CONVERTED = "Closed - Converted"


@pytest.fixture
def lead_id(org, admin):
    return org.create(admin, "Lead", {
        "FirstName": "Bart", "LastName": "Simpson", "Company": "Kwik-E-Mart", "Email": "bart@kwik.example",
        "Street": "742 Evergreen Terrace", "City": "Springfield", "State": "OR", "PostalCode": "97403",
        "Country": "US", "Phone": "+1 555 0101", "LeadSource": "Phone Inquiry", "Title": "Clerk",
        "Industry": "Retail", "Favorite_Color__c": "Green", "Lead_Score__c": 33, "Description": "Likes pranks",
    })


def _one(org, ctx, soql):
    return org.query(ctx, soql, include_deleted=True).records[0]


def test_new_account_contact_and_opportunity_with_mapped_fields(org, admin, lead_id):
    result = org.convert_lead(admin, ConvertLeadRequest(lead_id=lead_id, converted_status=CONVERTED))
    assert result.lead_id == lead_id
    assert result.account_id.startswith("001") and result.contact_id.startswith("003")
    assert result.opportunity_id.startswith("006")
    contact = org.retrieve(admin, "Contact", result.contact_id)
    assert (contact["FirstName"], contact["LastName"], contact["Email"]) == ("Bart", "Simpson", "bart@kwik.example")
    assert contact["MailingStreet"] == "742 Evergreen Terrace" and contact["MailingCity"] == "Springfield"
    assert contact["MailingPostalCode"] == "97403" and contact["Description"] == "Likes pranks"
    assert contact["AccountId"] == result.account_id and contact["LeadSource"] == "Phone Inquiry"
    assert contact["Favorite_Color__c"] == "Green" and contact["Lead_Score__c"] == 33
    account = org.retrieve(admin, "Account", result.account_id)
    assert account["Name"] == "Kwik-E-Mart" and account["BillingCity"] == "Springfield"
    assert account["Industry"] == "Retail"
    opportunity = org.retrieve(admin, "Opportunity", result.opportunity_id)
    assert opportunity["Name"] == "Kwik-E-Mart" and opportunity["AccountId"] == result.account_id
    assert opportunity["StageName"] == "Prospecting" and opportunity["CloseDate"] is not None
    lead = org.retrieve(admin, "Lead", lead_id)
    assert lead["IsConverted"] is True and lead["Status"] == CONVERTED and lead["ConvertedDate"] is not None
    assert (lead["ConvertedAccountId"], lead["ConvertedContactId"], lead["ConvertedOpportunityId"]) == \
        (result.account_id, result.contact_id, result.opportunity_id)


def test_converted_lead_is_read_only_but_queryable(org, admin, lead_id):
    org.convert_lead(admin, ConvertLeadRequest(lead_id=lead_id, converted_status=CONVERTED))
    with pytest.raises(ApiError) as caught:
        org.update(admin, "Lead", lead_id, {"Title": "Boss"})
    assert (caught.value.error_code, caught.value.message) == ("CANNOT_UPDATE_CONVERTED_LEAD",
                                                               "cannot reference converted lead")
    assert org.query(admin, "SELECT COUNT() FROM Lead WHERE IsConverted = true").total_size == 1
    with pytest.raises(ApiError) as caught:
        org.convert_lead(admin, ConvertLeadRequest(lead_id=lead_id, converted_status=CONVERTED))
    assert caught.value.error_code == "CANNOT_UPDATE_CONVERTED_LEAD"


@pytest.mark.parametrize(("use_account", "use_contact", "no_opportunity", "name", "owner", "overwrite", "notify"),
                         [combo for combo in itertools.product([False, True], repeat=7)
                          if not (combo[1] and not combo[0])])
def test_option_combinations(org, admin, rep, lead_id, use_account, use_contact, no_opportunity, name, owner,
                             overwrite, notify):
    acme = _one(org, admin, "SELECT Id FROM Account WHERE Name = 'Initech'")["Id"]
    wile = _one(org, admin, "SELECT Id, LeadSource, Title FROM Contact WHERE LastName = 'Gibbons'")
    request = ConvertLeadRequest(
        lead_id=lead_id, converted_status=CONVERTED, account_id=acme if use_account else None,
        contact_id=wile["Id"] if use_contact else None, do_not_create_opportunity=no_opportunity,
        opportunity_name="Big deal" if name else None, owner_id=rep.user_id if owner else None,
        overwrite_lead_source=overwrite, send_notification_email=notify)
    before = org.query(admin, "SELECT COUNT() FROM Account").total_size
    result = org.convert_lead(admin, request)
    assert (result.account_id == acme) is use_account
    assert org.query(admin, "SELECT COUNT() FROM Account").total_size == before + (0 if use_account else 1)
    assert (result.contact_id == wile["Id"]) is use_contact
    contact = org.retrieve(admin, "Contact", result.contact_id)
    expected_owner = rep.user_id if owner else admin.user_id
    if use_contact:
        assert contact["Title"] == "Programmer"  # existing values are kept
        assert contact["MailingCity"] == "Springfield"  # empty ones are filled
        assert contact["LeadSource"] == ("Phone Inquiry" if overwrite else "Trade Show")
    else:
        assert contact["OwnerId"] == expected_owner and contact["LeadSource"] == "Phone Inquiry"
    if no_opportunity:
        assert result.opportunity_id is None
        assert org.retrieve(admin, "Lead", lead_id, ["ConvertedOpportunityId"])["ConvertedOpportunityId"] is None
    else:
        opportunity = org.retrieve(admin, "Opportunity", result.opportunity_id)
        assert opportunity["Name"] == ("Big deal" if name else "Kwik-E-Mart")
        assert opportunity["OwnerId"] == expected_owner
    account = org.retrieve(admin, "Account", result.account_id)
    if use_account:
        assert account["Name"] == "Initech" and account["Website"] == "initech.example"
        assert account["BillingCity"] == "Springfield"  # an empty field is filled
    assert (lead_id, expected_owner) in org._converter.notifications if notify else True


def test_converted_status_must_be_a_converted_value(org, admin, lead_id):
    for status in ("Working - Contacted", "Nope"):
        with pytest.raises(ApiError) as caught:
            org.convert_lead(admin, ConvertLeadRequest(lead_id=lead_id, converted_status=status))
        assert caught.value.error_code == "INVALID_STATUS"
    assert org.retrieve(admin, "Lead", lead_id, ["IsConverted"])["IsConverted"] is False


def test_contact_needs_its_account(org, admin, lead_id):
    wile = _one(org, admin, "SELECT Id FROM Contact WHERE LastName = 'Coyote'")["Id"]
    globex = _one(org, admin, "SELECT Id FROM Account WHERE Name = 'Globex'")["Id"]
    with pytest.raises(ApiError):
        org.convert_lead(admin, ConvertLeadRequest(lead_id=lead_id, converted_status=CONVERTED, contact_id=wile))
    with pytest.raises(ApiError) as caught:
        org.convert_lead(admin, ConvertLeadRequest(lead_id=lead_id, converted_status=CONVERTED, account_id=globex,
                                                   contact_id=wile))
    assert caught.value.error_code == "INVALID_CROSS_REFERENCE_KEY"


def test_a_failed_conversion_leaves_nothing_behind(org, admin, lead_id):
    before = {name: org.query(admin, f"SELECT COUNT() FROM {name}").total_size for name in ("Account", "Contact")}
    with pytest.raises(ApiError):
        org.convert_lead(admin, ConvertLeadRequest(lead_id=lead_id, converted_status=CONVERTED,
                                                   owner_id="0055g00000000zzAAA"))
    after = {name: org.query(admin, f"SELECT COUNT() FROM {name}").total_size for name in ("Account", "Contact")}
    assert before == after


def test_queue_owned_lead_needs_an_owner(org, admin, rep):
    queue = _one(org, admin, "SELECT Id FROM Group")["Id"]
    lead = org.create(admin, "Lead", {"LastName": "Q", "Company": "Q Co", "OwnerId": queue})
    with pytest.raises(ApiError) as caught:
        org.convert_lead(admin, ConvertLeadRequest(lead_id=lead, converted_status=CONVERTED))
    assert caught.value.fields == ["ownerId"]
    result = org.convert_lead(admin, ConvertLeadRequest(lead_id=lead, converted_status=CONVERTED,
                                                        owner_id=rep.user_id))
    assert org.retrieve(admin, "Contact", result.contact_id, ["OwnerId"])["OwnerId"] == rep.user_id


def test_unknown_lead(org, admin):
    with pytest.raises(ApiError) as caught:
        org.convert_lead(admin, ConvertLeadRequest(lead_id="00Q5g0000000zzzAAA", converted_status=CONVERTED))
    assert caught.value.error_code == "INVALID_CROSS_REFERENCE_KEY"


def test_a_conversion_is_dated_today_in_the_users_time_zone(org, admin, lead_id, clock):
    """Before, ConvertedDate and the Opportunity's CloseDate took the UTC date: a lead converted in a
    Los Angeles evening was dated tomorrow, and `ConvertedDate = TODAY` did not find it."""
    clock.ms = 1_780_023_600_000  # 2026-05-29 03:00 UTC: still the 28th in Los Angeles
    result = org.convert_lead(admin, ConvertLeadRequest(lead_id=lead_id, converted_status=CONVERTED))
    assert org.retrieve(admin, "Lead", lead_id)["ConvertedDate"] == "2026-05-28"
    assert org.retrieve(admin, "Opportunity", result.opportunity_id)["CloseDate"] == "2026-05-28"
    converted = org.query(admin, "SELECT Id FROM Lead WHERE ConvertedDate = TODAY").records
    assert [row["Id"] for row in converted] == [lead_id]
