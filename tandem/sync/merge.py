"""Who wins a field: the pure decision behind every pulled value.

Per linked person and synced field the store keeps the *base*, the last value both sides agreed
on. A Salesforce value equal to the base is no change (this is how Tandem's own push reads back
without an echo); a pending Tandem value is a change made on the marketing side. A field both
sides changed, to different values, is a conflict, settled by the object's policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Winner(StrEnum):
    SALESFORCE = "salesforce"
    TANDEM = "tandem"


DEFAULT_POLICY: dict[str, Winner] = {"Contact": Winner.SALESFORCE, "Lead": Winner.TANDEM}

_MISSING = object()


class Outcome(StrEnum):
    UNCHANGED = "unchanged"
    """Salesforce has the base (or the value Tandem already holds): nothing to apply."""
    APPLY = "apply"
    """Salesforce changed it and Tandem did not: take Salesforce's value (and drop a pending value
    that is back at the base, which is no Tandem change)."""
    AGREE = "agree"
    """Both sides changed it to the same value: take it, drop the pending change."""
    CONFLICT_SALESFORCE_WINS = "conflict, Salesforce wins"
    CONFLICT_TANDEM_WINS = "conflict, Tandem wins"


@dataclass(frozen=True)
class FieldDecision:
    outcome: Outcome
    value: Any = None
    """The value the person should hold afterwards (for APPLY, AGREE and Salesforce-wins)."""
    lost: Any = None
    """The losing value of a conflict, recorded in the activity log."""

    @property
    def changes_person(self) -> bool:
        return self.outcome in (Outcome.APPLY, Outcome.AGREE, Outcome.CONFLICT_SALESFORCE_WINS)

    @property
    def drops_pending(self) -> bool:
        return self.outcome in (Outcome.APPLY, Outcome.AGREE, Outcome.CONFLICT_SALESFORCE_WINS)

    @property
    def new_base(self) -> Any:
        """The agreed value to remember: Salesforce's value, unless Tandem's is still to be pushed."""
        return self.value


def decide_field(
    *,
    salesforce: Any,
    base: Any = _MISSING,
    current: Any = None,
    pending: Any = _MISSING,
    sent: Any = _MISSING,
    winner: Winner,
) -> FieldDecision:
    """Decide one field from Salesforce's value, the base, the person's value and any pending value.

    `base` and `pending` are left out when there is none (no agreement yet, nothing queued).
    A pending value equal to the base (a Tandem edit undone before the sync) is no Tandem change.
    `sent` is a value an interrupted push sent before the pending one replaced it: Salesforce
    holding it is that push landing (an echo), not a change made there.
    """
    has_base = base is not _MISSING
    has_pending = pending is not _MISSING and not (has_base and same_value(pending, base))
    salesforce_changed = not has_base or not same_value(salesforce, base)
    if not salesforce_changed:
        return FieldDecision(Outcome.UNCHANGED, value=base)
    if has_pending and sent is not _MISSING and same_value(salesforce, sent):
        return FieldDecision(Outcome.UNCHANGED, value=salesforce)
    if not has_pending:
        if same_value(salesforce, current):
            return FieldDecision(Outcome.UNCHANGED, value=salesforce)
        return FieldDecision(Outcome.APPLY, value=salesforce)
    if same_value(salesforce, pending):
        return FieldDecision(Outcome.AGREE, value=salesforce)
    if winner is Winner.SALESFORCE:
        return FieldDecision(Outcome.CONFLICT_SALESFORCE_WINS, value=salesforce, lost=pending)
    return FieldDecision(Outcome.CONFLICT_TANDEM_WINS, value=pending, lost=salesforce)


def same_value(a: Any, b: Any) -> bool:
    """Equality as a sync sees it: blank strings are null, 10 and 10.0 are the same number."""
    a, b = _blank_to_none(a), _blank_to_none(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (a is None and b is False) or (a is False and b is None)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return a == b


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value
