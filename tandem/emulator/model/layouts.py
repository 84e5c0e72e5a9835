"""A page layout for `describe/layouts`: one plausible layout per object, built from the fields the
user can see (an "Information" section in two columns, then "System Information"), with the
object's child relationships as related lists. Orgs define layouts in Setup; the file has none.
"""

from __future__ import annotations

import zlib

from tandem.emulator.model.ids import make_id

MASTER_RECORD_TYPE = "012000000000000AAA"
_SYSTEM = ("CreatedById", "CreatedDate", "LastModifiedById", "LastModifiedDate", "SystemModstamp")
_NEVER_SHOWN = ("Id", "IsDeleted", "MasterRecordId")


def _item(field: dict | None, tab_order: int) -> dict:
    if field is None:
        return {"editableForNew": False, "editableForUpdate": False, "label": "", "layoutComponents": [],
                "placeholder": True, "required": False}
    return {
        "editableForNew": field["createable"], "editableForUpdate": field["updateable"], "label": field["label"],
        "layoutComponents": [{"details": field, "displayLines": 1, "tabOrder": tab_order, "type": "Field",
                              "value": field["name"]}],
        "placeholder": False,
        "required": field["createable"] and not field["nillable"] and not field["defaultedOnCreate"],
    }


def _section(heading: str, fields: list[dict], section_id: str) -> dict:
    rows = []
    for start in range(0, len(fields), 2):
        pair = fields[start:start + 2]
        items = [_item(f, start + n + 1) for n, f in enumerate(pair)]
        if len(items) == 1:
            items.append(_item(None, 0))
        rows.append({"layoutItems": items, "numItems": 2})
    return {"collapsed": False, "columns": 2, "heading": heading, "layoutRows": rows,
            "layoutSectionId": section_id, "parentLayoutId": None, "rows": len(rows), "tabOrder": "TopToBottom",
            "useCollapsibleSection": False, "useHeading": True}


def _related_lists(described: dict) -> list[dict]:
    lists = []
    for n, child in enumerate(described.get("childRelationships", [])):
        if not child.get("relationshipName"):
            continue
        lists.append({"accessLevelRequiredForCreate": None, "buttons": [], "columns": [
            {"field": f"{child['childSObject']}.Id", "fieldApiName": "Id", "format": None, "label": "Record ID",
             "lookupId": None, "name": "Id", "sortable": True}],
            "custom": False, "field": child["field"], "label": child["relationshipName"], "limitRows": 5,
            "name": child["relationshipName"], "sobject": child["childSObject"], "sort": []})
    return lists


def layout(described: dict) -> dict:
    """The object's one layout, as the user described it (hidden fields are not on it)."""
    name = described["name"]
    layout_id = make_id("00h", zlib.crc32(name.encode()) % (62**7))
    fields = [f for f in described["fields"] if f["name"] not in _NEVER_SHOWN]
    main = [f for f in fields if f["name"] not in _SYSTEM]
    system = [f for f in fields if f["name"] in _SYSTEM]
    sections = [_section("Information", main, make_id("01B", zlib.crc32(f"{name}.1".encode()) % (62**7)))]
    if system:
        sections.append(_section("System Information", system,
                                 make_id("01B", zlib.crc32(f"{name}.2".encode()) % (62**7))))
    editable = [
        _section(s["heading"], [c["layoutComponents"][0]["details"] for row in s["layoutRows"]
                                for c in row["layoutItems"] if c["layoutComponents"] and
                                (c["editableForNew"] or c["editableForUpdate"])], s["layoutSectionId"])
        for s in sections
    ]
    return {
        "buttonLayoutSection": {"detailButtons": []}, "detailLayoutSections": sections,
        "editLayoutSections": [s for s in editable if s["rows"]], "feedView": None,
        "highlightsPanelLayoutSection": None, "id": layout_id, "multirowEditLayoutSections": [],
        "offlineLinks": [], "quickActionList": {"quickActionListItems": []}, "relatedContent": None,
        "relatedLists": _related_lists(described), "saveOptions": [],
    }


def describe_layouts(described: dict, api_version: str) -> dict:
    """`describe/layouts`: the layouts and which record type uses which (the Master one uses the only one)."""
    body = layout(described)
    base = f"/services/data/v{api_version}/sobjects/{described['name']}/describe/layouts/{MASTER_RECORD_TYPE}"
    return {
        "layouts": [body],
        "recordTypeMappings": [{"available": True, "defaultRecordTypeMapping": True, "developerName": "Master",
                                "layoutId": body["id"], "master": True, "name": "Master",
                                "picklistsForRecordType": [], "recordTypeId": MASTER_RECORD_TYPE,
                                "urls": {"layout": base}}],
        "recordTypeSelectorRequired": [False],
    }
