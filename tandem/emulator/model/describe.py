"""Describe bodies (global, per object, basic info) as one profile sees them.

Every field entry carries the full key set clients read; hidden fields are left out and
read-only ones report createable/updateable false.
"""

from __future__ import annotations

from tandem.emulator.model.fields import NUMBER_TYPES, FieldDef
from tandem.emulator.model.schema import ObjectSchema, Schema
from tandem.emulator.model.security import FieldAccess, Profile


def object_urls(api_version: str, name: str) -> dict:
    base = f"/services/data/v{api_version}/sobjects/{name}"
    return {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"}


def global_entry(obj: ObjectSchema, api_version: str) -> dict:
    writable = obj.api_writable
    return {
        "activateable": False, "createable": writable, "custom": obj.custom, "customSetting": False,
        "deepCloneable": False, "deletable": writable, "deprecatedAndHidden": False, "feedEnabled": writable,
        "hasSubtypes": False, "isInterface": False, "isSubtype": False, "keyPrefix": obj.key_prefix,
        "label": obj.label, "labelPlural": obj.label_plural, "layoutable": writable, "mergeable": obj.mergeable,
        "mruEnabled": writable, "name": obj.name, "queryable": True, "replicateable": obj.name != "Organization",
        "retrieveable": True, "searchable": writable, "triggerable": writable, "undeletable": writable,
        "updateable": writable, "urls": object_urls(api_version, obj.name),
    }


def describe_global(schema: Schema, api_version: str) -> dict:
    return {"encoding": "UTF-8", "maxBatchSize": 200,
            "sobjects": [global_entry(obj, api_version) for obj in schema.objects.values()]}


def _picklist_entries(f: FieldDef) -> list[dict]:
    return [{"active": p.active, "defaultValue": p.default, "label": p.label, "validFor": None, "value": p.value}
            for p in f.picklist]


def field_entry(f: FieldDef, access: FieldAccess) -> dict:
    text = f.is_text or f.type in ("id", "reference")
    length = f.length if text else 0
    is_number = f.type in NUMBER_TYPES
    default_value = False if f.type == "boolean" else None  # a picklist marks its default among its values
    return {
        "aggregatable": f.type not in ("textarea", "boolean") and f.length <= 255,
        "aiPredictionField": False, "autoNumber": False,
        "byteLength": length * 3, "calculated": f.calculated or bool(f.extra.get("compound")),
        "calculatedFormula": None, "cascadeDelete": False, "caseSensitive": f.case_sensitive,
        "compoundFieldName": f.compound_field_name, "controllerName": None,
        "createable": access.createable, "custom": f.custom, "defaultValue": default_value,
        "defaultValueFormula": None, "defaultedOnCreate": f.defaulted_on_create, "dependentPicklist": False,
        "deprecatedAndHidden": False, "digits": f.digits if f.type in ("int", "long") else 0,
        "displayLocationInDecimal": False, "encrypted": False, "externalId": f.external_id,
        "extraTypeInfo": _extra_type_info(f), "filterable": f.filterable,
        "filteredLookupInfo": None, "formulaTreatNullNumberAsZero": False,
        "groupable": f.type not in ("textarea", "double", "currency", "percent", "datetime"),
        "highScaleNumber": False, "htmlFormatted": False, "idLookup": f.looks_up,
        "inlineHelpText": None, "label": f.label, "length": length, "mask": None, "maskType": None,
        "name": f.name, "nameField": f.name_field, "namePointing": f.name == "OwnerId",
        "nillable": f.nillable, "permissionable": f.nillable and not f.system,
        "picklistValues": _picklist_entries(f), "polymorphicForeignKey": bool(f.extra.get("polymorphicForeignKey")),
        "precision": f.precision if f.type in ("double", "currency", "percent") else 0,
        "queryByDistance": False, "referenceTargetField": None, "referenceTo": list(f.reference_to),
        "relationshipName": f.relationship_name, "relationshipOrder": None, "restrictedDelete": False,
        "restrictedPicklist": f.restricted, "scale": f.scale if is_number else 0, "searchPrefilterable": False,
        "soapType": f.soap_type, "sortable": f.sortable,
        "type": f.type, "unique": f.unique, "updateable": access.updateable, "writeRequiresMasterRead": False,
    }


def _extra_type_info(f: FieldDef) -> str | None:
    if f.type == "textarea":
        return "plaintextarea"
    if f.name == "Name" and f.extra.get("compound"):
        return "personname"
    return None


def describe_object(obj: ObjectSchema, profile: Profile, schema: Schema, api_version: str) -> dict:
    base = f"/services/data/v{api_version}/sobjects/{obj.name}"
    body = global_entry(obj, api_version)
    body["urls"] = {**body["urls"], "compactLayouts": f"{base}/describe/compactLayouts",
                    "approvalLayouts": f"{base}/describe/approvalLayouts", "listviews": f"{base}/listviews",
                    "quickActions": f"{base}/quickActions", "layouts": f"{base}/describe/layouts"}
    visible = [f for f in obj.fields.values() if profile.access(obj, f).visible]
    body.update({
        "actionOverrides": [],
        "childRelationships": [
            {"cascadeDelete": c.child_object in ("Contact", "Opportunity") and c.field == "AccountId",
             "childSObject": c.child_object, "deprecatedAndHidden": False, "field": c.field,
             "junctionIdListNames": [], "junctionReferenceTo": [], "relationshipName": c.relationship_name,
             "restrictedDelete": False}
            for c in obj.children
        ],
        "compactLayoutable": obj.api_writable, "defaultImplementation": None,
        "fields": [field_entry(f, profile.access(obj, f)) for f in visible],
        "implementedBy": None, "implementsInterfaces": None, "listviewable": None, "lookupLayoutable": None,
        "namedLayoutInfos": [], "networkScopeFieldName": None,
        "recordTypeInfos": [{"active": True, "available": True, "defaultRecordTypeMapping": True,
                             "developerName": "Master", "master": True, "name": "Master",
                             "recordTypeId": "012000000000000AAA",
                             "urls": {"layout": f"{base}/describe/layouts/012000000000000AAA"}}],
        "searchLayoutable": obj.api_writable, "sobjectDescribeOption": "FULL", "supportedScopes": [
            {"label": "All " + obj.label_plural.lower(), "name": "everything"}],
    })
    return body


def basic_info(obj: ObjectSchema, recent: list[dict], api_version: str) -> dict:
    return {"objectDescribe": global_entry(obj, api_version), "recentItems": recent}
