"""Validation and assignment rules: the file's formulas, parsed once and evaluated on each write.

Validation rules whose error condition is true stop the save, each with its own message; the first
assignment entry whose `when` is true picks the owner of a record created with assignment rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tandem.emulator.formula import FormulaError
from tandem.emulator.model.errors import ApiError
from tandem.emulator.model.reading import field_value
from tandem.emulator.model.formula_paths import RecordLookup, path_type, path_value
from tandem.emulator.model.schema import ObjectSchema, Schema
from tandem.salesforce import ids


@dataclass
class ValidationRule:
    name: str
    formula: Any
    message: str
    display_field: str | None


@dataclass
class AssignmentEntry:
    formula: Any
    owner_id: str


@dataclass
class AssignmentRule:
    """An object's assignment rule: the file's ordered entries, queryable as an AssignmentRule row."""

    id: str
    name: str
    entries: list[AssignmentEntry]


AssignmentChoice = bool | str
"""How a write asks for assignment: True for the object's active rule, False for none, or the Id of
the AssignmentRule to run (a rule of another object, or no rule, then assigns nothing)."""


def assignment_choice(value: str) -> AssignmentChoice:
    """What `Sforce-Auto-Assign` or a Bulk job's `assignmentRuleId` asks for: TRUE and FALSE in any
    letter case, else a rule Id (anything else counts as TRUE, the header's default)."""
    value = value.strip()
    if value.upper() in ("TRUE", "FALSE"):
        return value.upper() == "TRUE"
    return ids.to_18(value) if ids.is_well_formed(value) else True


@dataclass
class RecordSource:
    """Where formulas read what is not on the record itself: the schema, stored records (for
    `Account.Name`), and the user making the write (for `$User.…`, `$Profile.Name`)."""

    schema: Schema
    lookup: RecordLookup
    user_id: str | None = None


class RecordView:
    """What a formula sees of a record being written: values after the write, before it (None on
    insert), parent fields and the running user through `source`, and each field's type; names are
    case-insensitive."""

    def __init__(self, obj: ObjectSchema, values: dict, prior: dict | None, now: datetime | None = None,
                 source: RecordSource | None = None) -> None:
        self.obj = obj
        self.values = values
        self.prior_values = prior
        self.now = now
        self.source = source

    @property
    def is_new(self) -> bool:
        return self.prior_values is None

    def _read(self, record: dict | None, field_name: str) -> object:
        if record is None:
            return None
        if self.source is not None and "." in field_name:
            return path_value(self.source.schema, self.obj, record, field_name, self.source.lookup,
                              self.source.user_id)
        f = self.obj.field(field_name)
        return field_value(self.obj, record, f) if f is not None else None

    def get(self, field_name: str) -> object:
        return self._read(self.values, field_name)

    def prior(self, field_name: str) -> object:
        """PRIORVALUE: the value before the write; on a create, the value being written (as Salesforce
        documents: creating an account named "Acme" gives PRIORVALUE(Name) = "Acme")."""
        return self._read(self.values if self.is_new else self.prior_values, field_name)

    def is_changed(self, field_name: str) -> bool:
        return not self.is_new and self.get(field_name) != self.prior(field_name)

    def field_type(self, field_name: str) -> str | None:
        if self.source is not None and "." in field_name:
            return path_type(self.source.schema, self.obj, field_name)
        f = self.obj.field(field_name)
        return f.type if f is not None else None


class OrgRules:
    def __init__(self) -> None:
        self.validation: dict[str, list[ValidationRule]] = {}
        self.assignment: dict[str, AssignmentRule] = {}
        self.now: Callable[[], datetime] | None = None
        self.source: RecordSource | None = None
        """Set by the org once its records exist, so formulas can read parents and the user."""

    def _context(self, obj: ObjectSchema, values: dict, prior: dict | None, user_id: str | None) -> RecordView:
        source = RecordSource(self.source.schema, self.source.lookup, user_id) if self.source else None
        return RecordView(obj, values, prior, self.now() if self.now else None, source)

    @staticmethod
    def _holds(formula: Any, context: RecordView) -> bool:
        """True when the formula evaluates to true; a formula that cannot be computed does not fire."""
        try:
            return formula.evaluate(context) is True
        except FormulaError:
            return False

    def validate(self, obj: ObjectSchema, values: dict, prior: dict | None, user_id: str | None = None) -> None:
        """Raise FIELD_CUSTOM_VALIDATION_EXCEPTION when an active rule's condition holds, carrying one
        error per rule that holds, in the file's order: Salesforce runs every rule and reports each."""
        rules = self.validation.get(obj.name)
        if not rules:
            return
        context = self._context(obj, values, prior, user_id)
        fired = [ApiError(rule.message, error_code="FIELD_CUSTOM_VALIDATION_EXCEPTION",
                          fields=[rule.display_field] if rule.display_field else [])
                 for rule in rules if self._holds(rule.formula, context)]
        if fired:
            fired[0].also = fired[1:]
            raise fired[0]

    def assigned_owner(self, obj: ObjectSchema, values: dict, choice: AssignmentChoice = True,
                       user_id: str | None = None) -> str | None:
        rule = self.assignment.get(obj.name)
        if rule is None or choice is False or (isinstance(choice, str) and choice != rule.id):
            return None
        context = self._context(obj, values, None, user_id)
        for entry in rule.entries:
            if self._holds(entry.formula, context):
                return entry.owner_id
        return None
