"""The *sync schema* step: describe the synced objects as the sync user and settle the field rules.

Custom fields that sync become person fields (added to the store at run time); a custom field
whose Salesforce type no longer fits its person field stops syncing and is reported instead of
being applied, so no stored value is silently mangled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from tandem.sync.fields import Direction, FieldRule, decide

SYNCED_OBJECTS = ("Contact", "Lead", "Account")

# Salesforce describe type → person field type (tandem.people.fields.FieldType values).
PERSON_TYPES: Mapping[str, str] = {
    "string": "string",
    "textarea": "text",
    "email": "email",
    "phone": "phone",
    "url": "url",
    "picklist": "picklist",
    "multipicklist": "text",
    "combobox": "string",
    "double": "float",
    "percent": "float",
    "currency": "currency",
    "int": "integer",
    "long": "integer",
    "boolean": "boolean",
    "date": "date",
    "datetime": "datetime",
    "reference": "string",
    "id": "string",
}
_STRING_LIMIT = 255


@dataclass(frozen=True)
class Catalog:
    """The field rules of every synced object, as of `fetched_at`."""

    rules: Mapping[str, tuple[FieldRule, ...]]
    fetched_at: datetime
    problems: tuple[str, ...] = field(default=())

    def syncing(self, object_name: str) -> list[FieldRule]:
        """The fields a pull reads: both ways, or into Tandem only."""
        return [r for r in self.rules.get(object_name, ()) if r.direction in (Direction.BOTH, Direction.PULL)]

    def account_fields(self) -> frozenset[str]:
        """The person fields a Contact's Account gives (its company fields)."""
        return frozenset(r.person_field for r in self.syncing("Account") if r.person_field)

    def pushable(self, object_name: str) -> Mapping[str, FieldRule]:
        """Person field → rule for the fields Tandem may write on this object."""
        return self._pushable.get(object_name, {})

    @cached_property
    def _pushable(self) -> dict[str, Mapping[str, FieldRule]]:
        """`pushable` of every object, worked out once (a push asks for every person it plans)."""
        return {object_name: MappingProxyType({r.person_field: r for r in rules
                                               if r.direction in (Direction.BOTH, Direction.PUSH) and r.person_field})
                for object_name, rules in self.rules.items()}

    def for_person_field(self, object_name: str, person_field: str) -> FieldRule | None:
        for rule in self.rules.get(object_name, ()):
            if rule.person_field == person_field:
                return rule
        return None

    def governing(self, object_name: str, person_field: str) -> FieldRule | None:
        """The rule a person linked to `object_name` follows for `person_field`: a Contact's
        company fields are its Account's, which the Contact itself does not have."""
        found = self.for_person_field(object_name, person_field)
        if found is None and object_name == "Contact":
            found = self.for_person_field("Account", person_field)
        return found

    def described(self, object_name: str, sf_field: str) -> bool:
        """Whether the sync user sees `sf_field` on the object (synced or not)."""
        return any(r.sf_field.lower() == sf_field.lower() and r.sf_type is not None
                   for r in self.rules.get(object_name, ()))

    def limited_to(self, person_fields: set[str]) -> Catalog:
        """The same catalog with every rule whose person field does not exist turned off."""
        rules = {
            name: tuple(
                r if not r.syncs or r.person_field in person_fields
                else replace(r, direction=Direction.NONE, reason=_not_yet_a_person_field(r))
                for r in object_rules
            )
            for name, object_rules in self.rules.items()
        }
        return replace(self, rules=rules)

    def is_stale(self, now: datetime, max_age_seconds: float) -> bool:
        return (now - self.fetched_at).total_seconds() >= max_age_seconds


def _not_yet_a_person_field(rule: FieldRule) -> str:
    if rule.custom:
        return (f"new custom field: the next sync schema step (any `tandem sync`; hourly in `tandem run`) "
                f"adds person field {rule.person_field} and backfills it")
    return f"no person field {rule.person_field}"


@dataclass(frozen=True)
class PersonFieldSpec:
    name: str
    type: str
    length: int | None
    label: str
    picklist_values: tuple[str, ...]


def person_field_spec(described: Mapping[str, Any]) -> PersonFieldSpec | None:
    """How a Salesforce custom field is stored on the person; None when its type has no match."""
    person_type = PERSON_TYPES.get(str(described.get("type")))
    if person_type is None:
        return None
    length = described.get("length") or None
    if person_type in ("string", "email", "phone", "url", "picklist"):
        length = min(int(length or _STRING_LIMIT), _STRING_LIMIT)
    elif person_type == "text":
        length = int(length) if length else None
    else:
        length = None
    values = tuple(
        str(v["value"]) for v in described.get("picklistValues") or () if v.get("active", True)
    ) if person_type == "picklist" else ()
    return PersonFieldSpec(
        name=str(described["name"]),
        type=person_type,
        length=length,
        label=str(described.get("label") or described["name"]),
        picklist_values=values,
    )


def build_catalog(
    describes: Mapping[str, Mapping[str, Any]],
    existing_person_types: Callable[[str], str | None],
    now: datetime | None = None,
) -> tuple[Catalog, list[PersonFieldSpec]]:
    """Rules for every described object, and the custom person fields that must exist.

    `existing_person_types(name)` gives the stored type of a custom person field, or None.
    """
    rules: dict[str, tuple[FieldRule, ...]] = {}
    wanted: dict[str, PersonFieldSpec] = {}
    problems: list[str] = []
    for object_name, describe in describes.items():
        fields = {str(f["name"]): f for f in describe.get("fields", ())}
        decided = []
        for rule in decide(object_name, fields.values()):
            if rule.syncs and rule.custom:
                rule = _check_custom(rule, fields[rule.sf_field], existing_person_types, wanted, problems)
            decided.append(rule)
        rules[object_name] = tuple(decided)
    catalog = Catalog(rules=rules, fetched_at=now or datetime.now(UTC), problems=tuple(problems))
    return catalog, list(wanted.values())


def _check_custom(
    rule: FieldRule,
    described: Mapping[str, Any],
    existing_person_types: Callable[[str], str | None],
    wanted: dict[str, PersonFieldSpec],
    problems: list[str],
) -> FieldRule:
    spec = person_field_spec(described)
    if spec is None:
        return replace(rule, direction=Direction.NONE, reason=f"type {rule.sf_type} not supported")
    stored = existing_person_types(spec.name) or (wanted[spec.name].type if spec.name in wanted else None)
    if stored is not None and stored != spec.type:
        problems.append(
            f"{rule.object_name}.{rule.sf_field}: Salesforce type {rule.sf_type} no longer fits the "
            f"{stored} person field; it stops syncing until the person field is changed"
        )
        return replace(rule, direction=Direction.NONE, reason=f"type changed: person field is {stored}")
    earlier = wanted.setdefault(spec.name, spec)
    if earlier != spec:  # one person field for the Lead's and the Contact's: it takes the values of both
        longer = max(earlier.length, spec.length) if earlier.length and spec.length else earlier.length
        wanted[spec.name] = replace(earlier, length=longer, picklist_values=tuple(
            dict.fromkeys((*earlier.picklist_values, *spec.picklist_values))))
    return rule

