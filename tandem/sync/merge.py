"""Who wins a field: the pure decision behind every pulled value, under the field's rule.

Per linked person and synced field the store keeps the *base*, the last value both sides agreed
on. A Salesforce value equal to the base is no change (this is how Tandem's own push reads back
without an echo); a pending Tandem value is a change made on the marketing side. A field both
sides changed, to different values, is a conflict, settled by the field's `Rule` (declared in
`tandem.toml`'s `[sync.fields]`; by default the object's: Contact Salesforce wins, Lead Tandem wins).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Winner(StrEnum):
    SALESFORCE = "salesforce"
    TANDEM = "tandem"


DEFAULT_POLICY: dict[str, Winner] = {"Contact": Winner.SALESFORCE, "Lead": Winner.TANDEM}


class Rule(StrEnum):
    """How one field syncs: who wins a conflict, and which way values may go."""

    SALESFORCE_WINS = "salesforce-wins"
    TANDEM_WINS = "tandem-wins"
    PREFER_SALESFORCE_UNLESS_BLANK = "prefer-salesforce-unless-blank"
    """Salesforce wins unless its value is blank; a blank from Salesforce never clears Tandem's value."""
    PREFER_TANDEM_UNLESS_BLANK = "prefer-tandem-unless-blank"
    """Tandem wins unless its value is blank; a blank from Tandem never clears Salesforce's value."""
    NEWEST_WINS = "newest-wins"
    """The side that changed the field last wins (Salesforce's SystemModstamp, Tandem's change time)."""
    TO_SALESFORCE_ONLY = "to-salesforce-only"
    FROM_SALESFORCE_ONLY = "from-salesforce-only"
    OFF = "off"
    """Never read from Salesforce (not even selected) nor written to it."""

    @property
    def pulls(self) -> bool:
        return self not in (Rule.TO_SALESFORCE_ONLY, Rule.OFF)

    @property
    def pushes(self) -> bool:
        return self not in (Rule.FROM_SALESFORCE_ONLY, Rule.OFF)


DEFAULT_RULES: dict[str, Rule] = {"Contact": Rule.SALESFORCE_WINS, "Lead": Rule.TANDEM_WINS}
"""Today's rules, the defaults of a field no `[sync.fields]` entry names."""


def rule_of(winner: Winner) -> Rule:
    return Rule.SALESFORCE_WINS if winner is Winner.SALESFORCE else Rule.TANDEM_WINS

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
    BLANK_IGNORED = "blank from Salesforce ignored"
    """Salesforce cleared a field whose rule prefers Salesforce unless blank: Tandem keeps its value."""


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
    winner: Winner | Rule,
    salesforce_changed_at: datetime | None = None,
    tandem_changed_at: datetime | None = None,
) -> FieldDecision:
    """Decide one field from Salesforce's value, the base, the person's value and any pending value.

    `base` and `pending` are left out when there is none (no agreement yet, nothing queued).
    A pending value equal to the base (a Tandem edit undone before the sync) is no Tandem change.
    `sent` is a value an interrupted push sent before the pending one replaced it: Salesforce
    holding it is that push landing (an echo), not a change made there. `winner` is the field's
    rule (a bare `Winner` is salesforce-wins or tandem-wins); the change times feed newest-wins.
    """
    rule = rule_of(winner) if isinstance(winner, Winner) else winner
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
        if rule is Rule.PREFER_SALESFORCE_UNLESS_BLANK and is_blank(salesforce):
            return FieldDecision(Outcome.BLANK_IGNORED, value=current, lost=salesforce)
        return FieldDecision(Outcome.APPLY, value=salesforce)
    if same_value(salesforce, pending):
        return FieldDecision(Outcome.AGREE, value=salesforce)
    if salesforce_wins(rule, salesforce, pending, salesforce_changed_at, tandem_changed_at):
        return FieldDecision(Outcome.CONFLICT_SALESFORCE_WINS, value=salesforce, lost=pending)
    return FieldDecision(Outcome.CONFLICT_TANDEM_WINS, value=pending, lost=salesforce)


def salesforce_wins(rule: Rule, salesforce: Any, tandem: Any, salesforce_changed_at: datetime | None,
                    tandem_changed_at: datetime | None) -> bool:
    """Who wins a field changed on both sides, to different values, under `rule`."""
    if rule in (Rule.SALESFORCE_WINS, Rule.FROM_SALESFORCE_ONLY, Rule.OFF):
        return True
    if rule in (Rule.TANDEM_WINS, Rule.TO_SALESFORCE_ONLY):
        return False
    if rule is Rule.PREFER_SALESFORCE_UNLESS_BLANK:
        return not is_blank(salesforce)
    if rule is Rule.PREFER_TANDEM_UNLESS_BLANK:
        return is_blank(tandem)
    if salesforce_changed_at is None or tandem_changed_at is None:
        return True  # newest-wins with a side's time unknown: Salesforce, the record of truth, wins
    return salesforce_changed_at >= tandem_changed_at


def keeps_salesforce_value(rule: Rule, tandem: Any) -> bool:
    """A Tandem value that must not go out under `rule`: a blank where Tandem wins only unless blank."""
    return rule is Rule.PREFER_TANDEM_UNLESS_BLANK and is_blank(tandem)


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


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
