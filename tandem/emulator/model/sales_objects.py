"""Standard objects of sales and activity that common tools describe by default: Event, UserRole,
Product2, Pricebook2, PricebookEntry, OpportunityLineItem and OpportunityContactRole.
"""

from __future__ import annotations

from tandem.emulator.model.fields import FieldDef
from tandem.emulator.model.standard_fields import (
    activity_links,
    area,
    audit_fields,
    create_only,
    day,
    deleted_flag,
    flag,
    id_field,
    money,
    number,
    owner,
    pick,
    ref,
    text,
    url,
)


def _required(f: FieldDef) -> FieldDef:
    f.nillable = False
    f.always_visible = True
    return f


def _read_only(f: FieldDef) -> FieldDef:
    """Set by the org from other fields (a price book entry's Name, a line item's ListPrice)."""
    f.createable = False
    f.updateable = False
    return f


def event_fields() -> list[FieldDef]:
    who, what = activity_links()
    return [
        id_field(), deleted_flag(), who, what, FieldDef("Subject", "Subject", "combobox", length=255),
        text("Location", "Location", 255), flag("IsAllDayEvent", "All-Day Event"),
        FieldDef("ActivityDateTime", "Due Date Time", "datetime"), day("ActivityDate", "Due Date Only"),
        number("DurationInMinutes", "Duration"), FieldDef("StartDateTime", "Start Date Time", "datetime"),
        FieldDef("EndDateTime", "End Date Time", "datetime"), area("Description", "Description", 32000),
        pick("Type", "Type", ("Call", "Email", "Meeting", "Other")),
        pick("ShowAs", "Show Time As", ("Busy", "OutOfOffice", "Free")), flag("IsPrivate", "Private"),
        owner(), *audit_fields(),
    ]


def user_role_fields() -> list[FieldDef]:
    access = ("None", "Read", "Edit")
    return [
        id_field(), text("Name", "Name", 80, nillable=False, name_field=True, always_visible=True),
        ref("ParentRoleId", "Parent Role ID", "UserRole", "ParentRole"),
        text("RollupDescription", "Description", 80), text("DeveloperName", "Developer Name", 80),
        pick("OpportunityAccessForAccountOwner", "Opportunity Access Level", access),
        pick("CaseAccessForAccountOwner", "Case Access Level", access),
        pick("ContactAccessForAccountOwner", "Contact Access Level", access),
        ref("ForecastUserId", "Forecast Manager ID", "User", "ForecastUser"),
        flag("MayForecastManagerShare", "May Forecast Manager Share"),
        pick("PortalType", "Portal Type", ("None", "CustomerPortal", "Partner")), *audit_fields(),
    ]


def product_fields() -> list[FieldDef]:
    return [
        id_field(), deleted_flag(),
        text("Name", "Product Name", 255, nillable=False, name_field=True, always_visible=True),
        text("ProductCode", "Product Code", 255), area("Description", "Product Description", 4000),
        flag("IsActive", "Active"), pick("Family", "Product Family", ("Hardware", "Software", "Services")),
        pick("QuantityUnitOfMeasure", "Quantity Unit Of Measure", ("Each",)),
        text("StockKeepingUnit", "Product SKU", 180), url("DisplayUrl", "Display URL"),
        text("ExternalId", "External ID", 255), *audit_fields(),
    ]


def pricebook_fields() -> list[FieldDef]:
    standard = flag("IsStandard", "Is Standard Price Book")
    standard.updateable = False
    return [
        id_field(), deleted_flag(),
        text("Name", "Price Book Name", 255, nillable=False, name_field=True, always_visible=True),
        flag("IsActive", "Active"), standard, text("Description", "Description", 255), *audit_fields(),
    ]


def pricebook_entry_fields() -> list[FieldDef]:
    return [
        id_field(), deleted_flag(), _read_only(text("Name", "Product Name", 255, name_field=True)),
        create_only(_required(ref("Pricebook2Id", "Price Book ID", "Pricebook2", "Pricebook2"))),
        create_only(_required(ref("Product2Id", "Product ID", "Product2", "Product2"))),
        _required(money("UnitPrice", "List Price", 18, 2)), flag("IsActive", "Active"),
        flag("UseStandardPrice", "Use Standard Price"), _read_only(text("ProductCode", "Product Code", 255)),
        *audit_fields(),
    ]


def opportunity_line_item_fields() -> list[FieldDef]:
    return [
        id_field(), deleted_flag(),
        create_only(_required(ref("OpportunityId", "Opportunity ID", "Opportunity", "Opportunity"))),
        create_only(_required(ref("PricebookEntryId", "Price Book Entry ID", "PricebookEntry", "PricebookEntry"))),
        create_only(ref("Product2Id", "Product ID", "Product2", "Product2")),
        _read_only(text("Name", "Opportunity Product Name", 376, name_field=True)),
        _read_only(text("ProductCode", "Product Code", 255)),
        _required(FieldDef("Quantity", "Quantity", "double", precision=12, scale=2)),
        money("UnitPrice", "Sales Price", 18, 2), money("TotalPrice", "Total Price", 18, 2),
        _read_only(money("ListPrice", "List Price", 18, 2)),
        FieldDef("Discount", "Discount", "percent", precision=5, scale=2), day("ServiceDate", "Date"),
        text("Description", "Line Description", 255), number("SortOrder", "Sort Order"), *audit_fields(),
    ]


def opportunity_contact_role_fields() -> list[FieldDef]:
    return [
        id_field(), deleted_flag(), _required(ref("OpportunityId", "Opportunity ID", "Opportunity", "Opportunity")),
        _required(ref("ContactId", "Contact ID", "Contact", "Contact")),
        pick("Role", "Role", ("Business User", "Decision Maker", "Economic Buyer", "Economic Decision Maker",
                              "Evaluator", "Executive Sponsor", "Influencer", "Technical Buyer", "Other")),
        flag("IsPrimary", "Primary"), *audit_fields(),
    ]
