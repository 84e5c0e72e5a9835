"""The standard objects an emulated org starts with, and their standard fields.

Field lists follow Salesforce's object reference closely enough that a client reading describe
sees the fields it expects (every field of Tandem's default mapping, and common ones outside it).
"""

from __future__ import annotations

from tandem.emulator.model.fields import FieldDef, PicklistValue
from tandem.emulator.model.sales_objects import (
    event_fields,
    opportunity_contact_role_fields,
    opportunity_line_item_fields,
    pricebook_entry_fields,
    pricebook_fields,
    product_fields,
    user_role_fields,
)
from tandem.emulator.model.standard_fields import (
    activity_links,
    area,
    audit_fields,
    create_only,
    day,
    deleted_flag,
    email,
    flag,
    full_name,
    id_field,
    money,
    number,
    owner,
    phone,
    pick,
    ref,
    system,
    text,
    url,
)

SALUTATIONS = ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.", "Mx.")
LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
INDUSTRIES = (
    "Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications", "Construction",
    "Consulting", "Education", "Electronics", "Energy", "Engineering", "Entertainment", "Environmental",
    "Finance", "Food & Beverage", "Government", "Healthcare", "Hospitality", "Insurance", "Machinery",
    "Manufacturing", "Media", "Not For Profit", "Other", "Recreation", "Retail", "Shipping", "Technology",
    "Telecommunications", "Transportation", "Utilities",
)
RATINGS = ("Hot", "Warm", "Cold")
LEAD_STATUSES = (
    PicklistValue("Open - Not Contacted", "Open - Not Contacted", default=True),
    PicklistValue("Working - Contacted", "Working - Contacted"),
    PicklistValue("Closed - Converted", "Closed - Converted", converted=True),
    PicklistValue("Closed - Not Converted", "Closed - Not Converted"),
)
STAGES = (
    PicklistValue("Prospecting", "Prospecting", default=True),
    PicklistValue("Qualification", "Qualification"),
    PicklistValue("Needs Analysis", "Needs Analysis"),
    PicklistValue("Proposal/Price Quote", "Proposal/Price Quote"),
    PicklistValue("Negotiation/Review", "Negotiation/Review"),
    PicklistValue("Closed Won", "Closed Won", closed=True, won=True),
    PicklistValue("Closed Lost", "Closed Lost", closed=True),
)


def _address(prefix: str, street_label: str) -> list[FieldDef]:
    compound = f"{prefix}Address" if prefix else "Address"
    fields = [
        area(f"{prefix}Street", f"{street_label} Street"),
        text(f"{prefix}City", f"{street_label} City", 40),
        text(f"{prefix}State", f"{street_label} State/Province", 80),
        text(f"{prefix}PostalCode", f"{street_label} Zip/Postal Code", 20),
        text(f"{prefix}Country", f"{street_label} Country", 80),
    ]
    for f in fields:
        f.compound_field_name = compound
    return fields


def person_name_fields(salutation_label: str = "Salutation") -> list[FieldDef]:
    last = text("LastName", "Last Name", 80, nillable=False, always_visible=True)
    return [last, text("FirstName", "First Name", 40), pick("Salutation", salutation_label, SALUTATIONS),
            text("MiddleName", "Middle Name", 40), text("Suffix", "Name Suffix", 40), full_name()]


def account_fields() -> list[FieldDef]:
    name = text("Name", "Account Name", 255, nillable=False, name_field=True, always_visible=True)
    return [
        id_field(), deleted_flag(), system(ref("MasterRecordId", "Master Record ID", "Account", "MasterRecord")),
        name, pick("Type", "Account Type", ("Prospect", "Customer - Direct", "Customer - Channel",
                                            "Channel Partner / Reseller", "Installation Partner",
                                            "Technology Partner", "Other")),
        ref("ParentId", "Parent Account ID", "Account", "Parent"),
        *_address("Billing", "Billing"), *_address("Shipping", "Shipping"),
        phone("Phone", "Account Phone"), phone("Fax", "Account Fax"), text("AccountNumber", "Account Number", 40),
        url("Website", "Website"), text("Sic", "SIC Code", 20), pick("Industry", "Industry", INDUSTRIES),
        money("AnnualRevenue", "Annual Revenue"), number("NumberOfEmployees", "Employees"),
        pick("Ownership", "Ownership", ("Public", "Private", "Subsidiary", "Other")),
        text("TickerSymbol", "Ticker Symbol", 20), area("Description", "Account Description", 32000),
        pick("Rating", "Account Rating", RATINGS), text("Site", "Account Site", 80),
        pick("AccountSource", "Account Source", LEAD_SOURCES), text("SicDesc", "SIC Description", 80),
        owner(), *audit_fields(), system(day("LastActivityDate", "Last Activity")),
    ]


def contact_fields() -> list[FieldDef]:
    return [
        id_field(), deleted_flag(), system(ref("MasterRecordId", "Master Record ID", "Contact", "MasterRecord")),
        ref("AccountId", "Account ID", "Account", "Account"), *person_name_fields(),
        *_address("Other", "Other"), *_address("Mailing", "Mailing"),
        phone("Phone", "Business Phone"), phone("Fax", "Business Fax"), phone("MobilePhone", "Mobile Phone"),
        phone("HomePhone", "Home Phone"), phone("OtherPhone", "Other Phone"),
        phone("AssistantPhone", "Asst. Phone"), ref("ReportsToId", "Reports To ID", "Contact", "ReportsTo"),
        email("Email", "Email"), text("Title", "Title", 128), text("Department", "Department", 80),
        text("AssistantName", "Assistant's Name", 40), pick("LeadSource", "Lead Source", LEAD_SOURCES),
        day("Birthdate", "Birthdate"), area("Description", "Contact Description", 32000),
        flag("HasOptedOutOfEmail", "Email Opt Out"), flag("HasOptedOutOfFax", "Fax Opt Out"),
        flag("DoNotCall", "Do Not Call"), text("EmailBouncedReason", "Email Bounced Reason", 255),
        FieldDef("EmailBouncedDate", "Email Bounced Date", "datetime"),
        owner(), *audit_fields(), system(day("LastActivityDate", "Last Activity")),
    ]


def lead_fields() -> list[FieldDef]:
    status = FieldDef("Status", "Lead Status", "picklist", length=255, nillable=False, defaulted_on_create=True,
                      restricted=True, picklist=LEAD_STATUSES, always_visible=True)
    company = text("Company", "Company", 255, nillable=False, always_visible=True)
    return [
        id_field(), deleted_flag(), system(ref("MasterRecordId", "Master Record ID", "Lead", "MasterRecord")),
        *person_name_fields(), text("Title", "Title", 128), company, *_address("", ""),
        phone("Phone", "Phone"), phone("MobilePhone", "Mobile Phone"), phone("Fax", "Fax"), email("Email", "Email"),
        url("Website", "Website"), area("Description", "Description", 32000),
        pick("LeadSource", "Lead Source", LEAD_SOURCES), status, pick("Industry", "Industry", INDUSTRIES),
        pick("Rating", "Rating", RATINGS), money("AnnualRevenue", "Annual Revenue"),
        number("NumberOfEmployees", "Employees"), flag("HasOptedOutOfEmail", "Email Opt Out"),
        flag("HasOptedOutOfFax", "Fax Opt Out"), flag("DoNotCall", "Do Not Call"),
        system(flag("IsConverted", "Converted")), system(day("ConvertedDate", "Converted Date")),
        system(ref("ConvertedAccountId", "Converted Account ID", "Account", "ConvertedAccount")),
        system(ref("ConvertedContactId", "Converted Contact ID", "Contact", "ConvertedContact")),
        system(ref("ConvertedOpportunityId", "Converted Opportunity ID", "Opportunity", "ConvertedOpportunity")),
        flag("IsUnreadByOwner", "Unread By Owner"), text("EmailBouncedReason", "Email Bounced Reason", 255),
        FieldDef("EmailBouncedDate", "Email Bounced Date", "datetime"),
        owner(("Group", "User")), *audit_fields(), system(day("LastActivityDate", "Last Activity")),
    ]


def opportunity_fields() -> list[FieldDef]:
    stage = FieldDef("StageName", "Stage", "picklist", length=255, nillable=False, restricted=True, picklist=STAGES,
                     always_visible=True)
    return [
        id_field(), deleted_flag(), ref("AccountId", "Account ID", "Account", "Account"),
        flag("IsPrivate", "Private"),
        text("Name", "Name", 120, nillable=False, name_field=True, always_visible=True),
        area("Description", "Description", 32000), stage,
        money("Amount", "Amount", 18, 2), FieldDef("Probability", "Probability (%)", "percent", precision=3, scale=0),
        system(money("ExpectedRevenue", "Expected Amount", 18, 2, calculated=True)),
        FieldDef("CloseDate", "Close Date", "date", nillable=False, always_visible=True),
        pick("Type", "Opportunity Type", ("Existing Customer - Upgrade", "Existing Customer - Replacement",
                                          "Existing Customer - Downgrade", "New Customer")),
        text("NextStep", "Next Step", 255), pick("LeadSource", "Lead Source", LEAD_SOURCES),
        system(flag("IsClosed", "Closed")), system(flag("IsWon", "Won")),
        system(pick("ForecastCategoryName", "Forecast Category", ("Omitted", "Pipeline", "Best Case", "Commit",
                                                                  "Closed"))),
        ref("ContactId", "Contact ID", "Contact", "Contact"),
        ref("Pricebook2Id", "Price Book ID", "Pricebook2", "Pricebook2"),
        ref("CampaignId", "Campaign ID", "Campaign", "Campaign"),
        owner(), *audit_fields(), system(day("LastActivityDate", "Last Activity")),
    ]


def user_fields() -> list[FieldDef]:
    return [
        id_field(), text("Username", "Username", 80, nillable=False, unique=True, always_visible=True),
        *person_name_fields()[:2], full_name(), text("CompanyName", "Company Name", 80), email("Email", "Email"),
        text("Alias", "Alias", 8), flag("IsActive", "Active"), text("Title", "Title", 80),
        text("Department", "Department", 80), text("ProfileName", "Profile", 255),
        pick("UserType", "User Type", ("Standard",)), ref("UserRoleId", "Role ID", "UserRole", "UserRole"),
        pick("TimeZoneSidKey", "Time Zone", ("America/Los_Angeles",)),
        pick("LocaleSidKey", "Locale", ("en_US",)), pick("LanguageLocaleKey", "Language", ("en_US",)),
        *audit_fields(),
    ]


def group_fields() -> list[FieldDef]:
    return [
        id_field(), text("Name", "Name", 40, nillable=False, name_field=True, always_visible=True),
        text("DeveloperName", "Developer Name", 80), pick("Type", "Type", ("Queue", "Regular")),
        email("Email", "Email"), flag("DoesSendEmailToMembers", "Send Email to Members"),
        owner(), *audit_fields(),
    ]


def lead_status_fields() -> list[FieldDef]:
    return [
        id_field(), text("MasterLabel", "Master Label", 255, name_field=True, always_visible=True),
        text("ApiName", "Api Name", 255), FieldDef("SortOrder", "Sort Order", "int", digits=9),
        flag("IsDefault", "Is Default"), flag("IsConverted", "Is Converted"), *audit_fields(),
    ]


def assignment_rule_fields() -> list[FieldDef]:
    return [
        id_field(), text("Name", "Name", 120, name_field=True, always_visible=True),
        pick("SobjectType", "Object", ("Case", "Lead")), flag("Active", "Active"), *audit_fields(),
    ]


def organization_fields() -> list[FieldDef]:
    return [
        id_field(), text("Name", "Name", 80, name_field=True, always_visible=True),
        text("OrganizationType", "Edition", 40), flag("IsSandbox", "Is Sandbox"),
        text("InstanceName", "Instance Name", 5), text("DefaultLocaleSidKey", "Locale", 40),
        text("TimeZoneSidKey", "Time Zone", 40), *audit_fields(),
    ]


def campaign_fields() -> list[FieldDef]:
    return [
        id_field(), deleted_flag(), text("Name", "Name", 80, nillable=False, name_field=True, always_visible=True),
        ref("ParentId", "Parent Campaign ID", "Campaign", "Parent"),
        pick("Type", "Type", ("Conference", "Webinar", "Trade Show", "Public Relations", "Partners",
                              "Referral Program", "Advertisement", "Banner Ads", "Direct Mail", "Email",
                              "Telemarketing", "Other")),
        pick("Status", "Status", ("Planned", "In Progress", "Completed", "Aborted")),
        day("StartDate", "Start Date"), day("EndDate", "End Date"),
        money("ExpectedRevenue", "Expected Revenue in Campaign"), money("BudgetedCost", "Budgeted Cost in Campaign"),
        money("ActualCost", "Actual Cost in Campaign"), FieldDef("NumberSent", "Num Sent in Campaign", "double",
                                                                  precision=18, scale=0),
        flag("IsActive", "Active"), area("Description", "Description", 32000),
        owner(), *audit_fields(), system(day("LastActivityDate", "Last Activity")),
    ]


def campaign_member_fields() -> list[FieldDef]:
    status = pick("Status", "Status", ("Sent", "Responded"), nillable=True, defaulted_on_create=True)
    status.picklist = (PicklistValue("Sent", "Sent", default=True), PicklistValue("Responded", "Responded"))
    return [
        id_field(), deleted_flag(),
        create_only(ref("CampaignId", "Campaign ID", "Campaign", "Campaign", nillable=False, always_visible=True)),
        create_only(ref("LeadId", "Lead ID", "Lead", "Lead")),
        create_only(ref("ContactId", "Contact ID", "Contact", "Contact")), status,
        system(flag("HasResponded", "Responded")), system(day("FirstRespondedDate", "First Responded Date")),
        *audit_fields(),
    ]


def task_fields() -> list[FieldDef]:
    status = pick("Status", "Status", (), nillable=False, defaulted_on_create=True)
    status.picklist = (PicklistValue("Not Started", "Not Started", default=True),
                       PicklistValue("In Progress", "In Progress"), PicklistValue("Completed", "Completed"),
                       PicklistValue("Waiting on someone else", "Waiting on someone else"),
                       PicklistValue("Deferred", "Deferred"))
    priority = pick("Priority", "Priority", (), nillable=False, defaulted_on_create=True)
    priority.picklist = (PicklistValue("High", "High"), PicklistValue("Normal", "Normal", default=True),
                         PicklistValue("Low", "Low"))
    who, what = activity_links()
    return [
        id_field(), deleted_flag(), who, what, FieldDef("Subject", "Subject", "combobox", length=255),
        day("ActivityDate", "Due Date Only"), status, priority, system(flag("IsClosed", "Closed")),
        area("Description", "Description", 32000), pick("Type", "Type", ("Call", "Email", "Meeting", "Other")),
        owner(), *audit_fields(),
    ]


STANDARD_OBJECTS = {
    # name: (label, plural, key prefix, fields, writable through the API, mergeable)
    "Account": ("Account", "Accounts", "001", account_fields, True, True),
    "Contact": ("Contact", "Contacts", "003", contact_fields, True, True),
    "Lead": ("Lead", "Leads", "00Q", lead_fields, True, True),
    "Opportunity": ("Opportunity", "Opportunities", "006", opportunity_fields, True, False),
    "Campaign": ("Campaign", "Campaigns", "701", campaign_fields, True, False),
    "CampaignMember": ("Campaign Member", "Campaign Members", "00v", campaign_member_fields, True, False),
    "Task": ("Task", "Tasks", "00T", task_fields, True, False),
    "Event": ("Event", "Events", "00U", event_fields, True, False),
    "UserRole": ("Role", "Roles", "00E", user_role_fields, True, False),
    "Product2": ("Product", "Products", "01t", product_fields, True, False),
    "Pricebook2": ("Price Book", "Price Books", "01s", pricebook_fields, True, False),
    "PricebookEntry": ("Price Book Entry", "Price Book Entries", "01u", pricebook_entry_fields, True, False),
    "OpportunityLineItem": ("Opportunity Product", "Opportunity Line Items", "00k", opportunity_line_item_fields,
                            True, False),
    "OpportunityContactRole": ("Opportunity Contact Role", "Opportunity Contact Roles", "00K",
                               opportunity_contact_role_fields, True, False),
    "User": ("User", "Users", "005", user_fields, False, False),
    "Group": ("Group", "Groups", "00G", group_fields, False, False),
    "LeadStatus": ("Lead Status Value", "Lead Status Values", "01J", lead_status_fields, False, False),
    "AssignmentRule": ("Assignment Rule", "Assignment Rules", "01Q", assignment_rule_fields, False, False),
    "Organization": ("Organization", "Organizations", "00D", organization_fields, False, False),
}
