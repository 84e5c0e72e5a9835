"""What a formula sees of the record being written."""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class FormulaContext(Protocol):
    """The record a formula runs against; field names are case-insensitive.

    An implementation may also offer `now` (an aware datetime) to anchor TODAY() and NOW().
    """

    @property
    def is_new(self) -> bool: ...

    def get(self, field_name: str) -> object: ...

    def prior(self, field_name: str) -> object: ...

    def is_changed(self, field_name: str) -> bool: ...

    def field_type(self, field_name: str) -> str | None: ...


def _folded(mapping: dict | None) -> dict:
    return {key.lower(): value for key, value in (mapping or {}).items()}


class RecordContext:
    """A record given as plain dicts: values after the write, values before it (None on insert),
    and each field's Salesforce type. `now` anchors TODAY() and NOW() (default: the clock)."""

    def __init__(
        self, values: dict, prior: dict | None = None, types: dict | None = None, now: dt.datetime | None = None
    ) -> None:
        self.values = values
        self.prior_values = prior
        self.types = types or {}
        self.now = now
        self._values = _folded(values)
        self._prior = _folded(prior)
        self._types = _folded(self.types)

    @property
    def is_new(self) -> bool:
        return self.prior_values is None

    def get(self, field_name: str) -> object:
        return self._values.get(field_name.lower())

    def prior(self, field_name: str) -> object:
        """The value before the write; on a create, the value being written, as in Salesforce."""
        return self.get(field_name) if self.is_new else self._prior.get(field_name.lower())

    def is_changed(self, field_name: str) -> bool:
        return not self.is_new and self.get(field_name) != self.prior(field_name)

    def field_type(self, field_name: str) -> str | None:
        return self._types.get(field_name.lower())
