"""Constructors for standard fields, shaped as Salesforce's object reference describes each kind.

`standard_objects.py` and `sales_objects.py` build their objects' field lists from these.
"""

from __future__ import annotations

from tandem.emulator.model.fields import FieldDef, PicklistValue

def _values(*values: str, default: str | None = None) -> tuple[PicklistValue, ...]:
    return tuple(PicklistValue(value=v, label=v, default=(v == default)) for v in values)


def text(name, label, length=80, **kw) -> FieldDef:
    return FieldDef(name, label, "string", length=length, **kw)


def area(name, label, length=255, **kw) -> FieldDef:
    return FieldDef(name, label, "textarea", length=length, **kw)


def phone(name, label) -> FieldDef:
    return FieldDef(name, label, "phone", length=40)


def email(name, label) -> FieldDef:
    return FieldDef(name, label, "email", length=80)


def url(name, label) -> FieldDef:
    return FieldDef(name, label, "url", length=255)


def pick(name, label, values=(), **kw) -> FieldDef:
    return FieldDef(name, label, "picklist", length=255, picklist=_values(*values), **kw)


def flag(name, label, **kw) -> FieldDef:
    return FieldDef(name, label, "boolean", nillable=False, defaulted_on_create=True, **kw)


def money(name, label, precision=18, scale=0, **kw) -> FieldDef:
    return FieldDef(name, label, "currency", precision=precision, scale=scale, **kw)


def number(name, label, digits=8, **kw) -> FieldDef:
    return FieldDef(name, label, "int", digits=digits, **kw)


def day(name, label, **kw) -> FieldDef:
    return FieldDef(name, label, "date", **kw)


def ref(name, label, to, relationship, **kw) -> FieldDef:
    targets = (to,) if isinstance(to, str) else tuple(to)
    return FieldDef(name, label, "reference", length=18, reference_to=targets, relationship_name=relationship, **kw)


def create_only(f: FieldDef) -> FieldDef:
    """Set when the record is made and never changed after (a campaign member's campaign, a line item's
    opportunity): createable, not updateable."""
    f.updateable = False
    return f


def system(f: FieldDef) -> FieldDef:
    f.createable = False
    f.updateable = False
    f.system = True
    f.always_visible = True
    return f


def activity_links() -> list[FieldDef]:
    """A Task's or an Event's `WhoId` (a Contact or Lead) and `WhatId` (what it is about), both polymorphic."""
    links = [ref("WhoId", "Name ID", ("Contact", "Lead"), "Who"),
             ref("WhatId", "Related To ID", ("Account", "Opportunity", "Campaign"), "What")]
    for f in links:
        f.extra["polymorphicForeignKey"] = True
    return links


def id_field() -> FieldDef:
    return system(FieldDef("Id", "Record ID", "id", length=18, nillable=False, id_lookup=True,
                           defaulted_on_create=True))


def audit_fields() -> list[FieldDef]:
    """The audit fields every object carries; the org sets them on each write."""
    return [
        system(FieldDef("CreatedDate", "Created Date", "datetime", nillable=False, defaulted_on_create=True)),
        system(ref("CreatedById", "Created By ID", "User", "CreatedBy", nillable=False, defaulted_on_create=True)),
        system(FieldDef("LastModifiedDate", "Last Modified Date", "datetime", nillable=False,
                        defaulted_on_create=True)),
        system(ref("LastModifiedById", "Last Modified By ID", "User", "LastModifiedBy", nillable=False,
                   defaulted_on_create=True)),
        system(FieldDef("SystemModstamp", "System Modstamp", "datetime", nillable=False, defaulted_on_create=True)),
    ]


def owner(to=("User",)) -> FieldDef:
    f = ref("OwnerId", "Owner ID", to, "Owner", nillable=False, defaulted_on_create=True)
    f.extra["polymorphicForeignKey"] = len(f.reference_to) > 1
    return f


def deleted_flag() -> FieldDef:
    return system(flag("IsDeleted", "Deleted"))


def full_name(label: str = "Full Name") -> FieldDef:
    """The compound Name of people: composed by the org from its parts, never written."""
    f = FieldDef("Name", label, "string", length=121, name_field=True, nillable=False, defaulted_on_create=True)
    f.createable = False
    f.updateable = False
    f.always_visible = True
    f.extra["compound"] = True
    return f
