"""The policy's field rules laid over the field catalog: which way each field goes, and who wins it.

The catalog decides what *can* sync (what the sync user sees and may update); the policy narrows
it: `off` fields leave the catalog (so a pull never selects them and a push never sends them),
`from-salesforce-only` fields become pull-only, `to-salesforce-only` fields push-only. The rule a
field's conflicts follow is looked up once per object (`field_rules`).
"""

from __future__ import annotations

from dataclasses import replace

from tandem.sync.catalog import Catalog
from tandem.sync.fields import Direction, FieldRule
from tandem.sync.merge import Rule
from tandem.sync.policy import DecidingRule, SyncPolicy


def applied_to(policy: SyncPolicy, catalog: Catalog) -> Catalog:
    """The catalog with the policy's directions in force; each changed rule says which key changed it."""
    rules = {name: tuple(_apply(policy, r) for r in object_rules) for name, object_rules in catalog.rules.items()}
    return replace(catalog, rules=rules)


def _apply(policy: SyncPolicy, field: FieldRule) -> FieldRule:
    if not field.syncs:
        return field
    deciding = policy.rule_for(field.object_name, field.person_field, field.sf_field)
    if not deciding.declared:
        return field
    rule = deciding.rule
    if rule is Rule.OFF:
        return replace(field, direction=Direction.NONE, reason=deciding.source)
    if rule is Rule.FROM_SALESFORCE_ONLY and field.direction is Direction.BOTH:
        return replace(field, direction=Direction.PULL, reason=deciding.source)
    if rule is Rule.TO_SALESFORCE_ONLY:
        if field.direction is Direction.PULL:  # read-only in Salesforce: nothing may go either way
            return replace(field, direction=Direction.NONE, reason=f"{field.reason}; {deciding.source}")
        return replace(field, direction=Direction.PUSH, reason=deciding.source)
    return replace(field, reason=f"{field.reason}; conflicts: {deciding.source}")


def field_rules(policy: SyncPolicy, catalog: Catalog, object_name: str) -> dict[str, DecidingRule]:
    """Person field → the rule that settles it on `object_name` (a pull-only field: Salesforce's value)."""
    decided: dict[str, DecidingRule] = {}
    rules = list(catalog.rules.get(object_name, ()))
    if object_name == "Contact":
        rules += catalog.rules.get("Account", ())
    for field in rules:
        if not field.person_field or field.person_field in decided:
            continue
        if field.direction is Direction.PULL:
            decided[field.person_field] = DecidingRule(Rule.FROM_SALESFORCE_ONLY, field.reason)
        elif field.direction is Direction.PUSH:
            decided[field.person_field] = DecidingRule(Rule.TO_SALESFORCE_ONLY, field.reason)
        else:
            decided[field.person_field] = policy.rule_for(object_name, field.person_field, field.sf_field)
    return decided
