"""Turning the file's `validationRules` and `assignmentRules` into parsed, checked rules.

A formula that does not parse, reads a field the object does not have, mixes kinds of values
(a number compared with text, a picklist outside ISPICKVAL/TEXT/CASE) or is not true-or-false
refuses the file with the rule's path, e.g.
`validationRules.Lead[0].errorConditionFormula: unknown field Emial`, as Salesforce refuses to
save such a rule.
"""

from __future__ import annotations

from tandem.emulator.formula import FormulaError, parse_formula
from tandem.emulator.formula.type_check import check_condition
from tandem.emulator.model.definition import OrgDefinition, OrgDefinitionError
from tandem.emulator.model.directory import Directory
from tandem.emulator.model.formula_paths import path_field, path_type
from tandem.emulator.model.ids import make_id
from tandem.emulator.model.rules import AssignmentEntry, AssignmentRule, OrgRules, ValidationRule
from tandem.emulator.model.schema import ObjectSchema, Schema


def _parse(path: str, schema: Schema, obj: ObjectSchema, text: str):
    try:
        formula = parse_formula(text)
    except Exception as exc:  # the formula package's own errors, reported with the file path
        raise OrgDefinitionError(path, f"formula does not parse: {getattr(exc, 'message', exc)}") from None
    for name in formula.fields():
        field_name = name if isinstance(name, str) else ".".join(name)
        if path_field(schema, obj, field_name) is None:
            raise OrgDefinitionError(path, f"unknown field {obj.name}.{field_name}")
    try:
        check_condition(formula.tree, lambda name: path_type(schema, obj, name))
    except FormulaError as exc:
        raise OrgDefinitionError(path, exc.message) from None
    return formula


def build_rules(definition: OrgDefinition, schema: Schema, directory: Directory) -> OrgRules:
    rules = OrgRules()
    for object_name, specs in definition.validationRules.items():
        obj = schema.object(object_name)
        if obj is None:
            raise OrgDefinitionError(f"validationRules.{object_name}", f"unknown object \"{object_name}\"")
        compiled = []
        names: set[str] = set()
        for i, spec in enumerate(specs):
            path = f"validationRules.{object_name}[{i}]"
            if spec.name.lower() in names:
                raise OrgDefinitionError(f"{path}.name", f"{obj.name} already has a validation rule \"{spec.name}\"")
            names.add(spec.name.lower())
            formula = _parse(f"{path}.errorConditionFormula", schema, obj, spec.errorConditionFormula)
            display = None
            if spec.errorDisplayField:
                f = obj.field(spec.errorDisplayField)
                if f is None:
                    raise OrgDefinitionError(f"{path}.errorDisplayField",
                                             f"unknown field {obj.name}.{spec.errorDisplayField}")
                display = f.name
            if spec.active:
                compiled.append(ValidationRule(spec.name, formula, spec.errorMessage, display))
        rules.validation[obj.name] = compiled
    for object_name, entries in definition.assignmentRules.items():
        obj = schema.object(object_name)
        if obj is None:
            raise OrgDefinitionError(f"assignmentRules.{object_name}", f"unknown object \"{object_name}\"")
        compiled_entries = []
        for i, entry in enumerate(entries):
            path = f"assignmentRules.{object_name}[{i}]"
            formula = _parse(f"{path}.when", schema, obj, entry.when)
            owner = directory.resolve_owner(entry.assignTo)
            if owner is None:
                raise OrgDefinitionError(f"{path}.assignTo",
                                         f"not a known @user:USERNAME or @queue:NAME: \"{entry.assignTo}\"")
            user = directory.users_by_id.get(owner)
            if user is not None and not user.active:
                raise OrgDefinitionError(f"{path}.assignTo",
                                         f"user \"{user.username}\" is inactive and cannot own records")
            if owner.startswith("00G") and not any(
                    q.id == owner and obj.name in q.objects for q in directory.queues.values()):
                raise OrgDefinitionError(f"{path}.assignTo", f"queue does not take {obj.name} records")
            compiled_entries.append(AssignmentEntry(formula, owner))
        rules.assignment[obj.name] = AssignmentRule(make_id("01Q", len(rules.assignment) + 1),
                                                    f"{obj.label} Assignment Rule", compiled_entries)
    return rules
