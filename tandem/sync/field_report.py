"""Every field of an object with whether it syncs and why, hidden fields included (`check`,
`fields` and the web UI's Fields page)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from tandem.salesforce.client import SalesforceClient
from tandem.salesforce.org_check import hidden_fields
from tandem.sync.catalog import Catalog
from tandem.sync.fields import Direction, FieldRule, decide

HIDDEN_REASON = "hidden from the sync user (field-level security): never synced"


def field_rules(object_name: str, described_fields: Iterable[Mapping[str, Any]],
                hidden: Iterable[str] | None = None) -> list[FieldRule]:
    """The sync's rule for each described field, then one for each field hidden from the sync user."""
    rules = [replace(r, reason=HIDDEN_REASON) if r.sf_type is None else r
             for r in decide(object_name, described_fields)]
    return rules + hidden_rules(object_name, hidden, {r.sf_field for r in rules})


def hidden_rules(object_name: str, hidden: Iterable[str] | None, known: Iterable[str]) -> list[FieldRule]:
    """A rule for each hidden field that has none among `known` yet."""
    seen = {name.lower() for name in known}
    return [FieldRule(object_name, name, None, Direction.NONE, HIDDEN_REASON, None, name.endswith("__c"))
            for name in hidden or () if name.lower() not in seen]


@dataclass(frozen=True)
class CatalogReport:
    rules: list[FieldRule]
    """The catalog's rules, then one per field hidden from the sync user, object by object."""
    unlisted: list[str]
    """Per object whose hidden fields cannot be listed, why."""


def catalog_report(client: SalesforceClient, catalog: Catalog) -> CatalogReport:
    """Every field of the catalog's objects as the sync user sees it, the hidden ones (asked of the
    Tooling API, one query per object) included."""
    rules: list[FieldRule] = []
    unlisted: list[str] = []
    for name, known in catalog.rules.items():
        visible = {r.sf_field.lower() for r in known if r.sf_type is not None}
        hidden, why = hidden_fields(client, name, visible)
        if hidden is None:
            unlisted.append(f"{name}: fields hidden from the sync user cannot be listed: {why}")
        rules += [*known, *hidden_rules(name, hidden, (r.sf_field for r in known))]
    return CatalogReport(rules, unlisted)
