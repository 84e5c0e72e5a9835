"""Every field of an object with whether it syncs and why, hidden fields included (`check`, `fields`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

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
