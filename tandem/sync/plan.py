"""What a pull page decides: the plan the workspace writes in one transaction, and its counts.

The pull's planners (`pull.py`, `fates.py`) fill a `PagePlan` from a page of typed records and the
persons they touch; nothing here reads or writes anything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from tandem.people import activities as types
from tandem.people.activities import ActivityType
from tandem.people.checked import Checked
from tandem.people.models import Person, SalesforceLink, StepCounts
from tandem.people.origin import ChangeOrigin
from tandem.sync.merge import FieldDecision, Outcome
from tandem.sync.values import shown


@dataclass(frozen=True)
class ActivityRecord:
    """An activity a step wants written; for a person the page creates, `new_index` says which."""

    person_id: int | None
    kind: ActivityType
    primary_value: str | None
    attributes: Mapping[str, Any]
    new_index: int | None = None


def conflict_activity(person: Person, object_name: str, sfdc_id: str | None, name: str, decision: FieldDecision,
                      base: Any, rule: str | None = None) -> ActivityRecord:
    """The *SFDC Sync Conflict* activity that keeps a conflict's losing value, naming the rule that decided."""
    winner = "Salesforce" if decision.outcome is Outcome.CONFLICT_SALESFORCE_WINS else "Tandem"
    rule = rule or f"default: {object_name} {'salesforce' if winner == 'Salesforce' else 'tandem'}-wins"
    return ActivityRecord(person.id, types.SFDC_SYNC_CONFLICT, name, {
        "Field": name, "Salesforce Type": object_name, "Salesforce Id": sfdc_id,
        "Source": ChangeOrigin.SYNC_CYCLE, "Reason": f"changed on both sides; {winner} wins ({rule})",
        "Kept Value": shown(decision.value), "Lost Value": shown(decision.lost),
        "Base Value": shown(base), "Winner": winner, "Rule": rule,
    })


def blank_ignored_activity(person: Person, object_name: str, sfdc_id: str | None, name: str,
                           decision: FieldDecision, rule: str) -> ActivityRecord:
    """Salesforce cleared a field whose rule keeps Tandem's value over a blank: the blank is not applied."""
    return ActivityRecord(person.id, types.SFDC_VALUE_DROPPED, name, {
        "Field": name, "Salesforce Type": object_name, "Salesforce Id": sfdc_id, "Source": ChangeOrigin.SALESFORCE,
        "Reason": "Salesforce cleared the field; Tandem keeps its value", "Rule": rule,
        "Value": shown(decision.lost),
    })


def not_synced_activity(person_id: int, name: str, object_name: str, sfdc_id: str | None, source: Any,
                        reason: str, value: Any) -> ActivityRecord:
    """A value that stays in Tandem, not sent to Salesforce, with why (`reason`, its governing rule)."""
    return ActivityRecord(person_id, types.SFDC_VALUE_DROPPED, name, {
        "Field": name, "Salesforce Type": object_name, "Salesforce Id": sfdc_id, "Source": source,
        "Reason": f"not sent to Salesforce: {reason}", "Value": shown(value), "Rule": reason,
    })


@dataclass
class Tally:
    """Records counted by one recorded step."""

    new: int = 0
    updated: int = 0
    deleted: int = 0
    failed: int = 0
    skipped: int = 0

    def counts(self) -> StepCounts:
        return StepCounts(**asdict(self))

    def add(self, other: Tally) -> None:
        for name in asdict(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class MergeOrder:
    """Persons to merge into `winner_id` in the page's transaction, and the winner's link afterwards."""

    winner_id: int
    loser_ids: list[int] = field(default_factory=list)
    link: SalesforceLink | None = None
    own: frozenset[str] = frozenset()
    """Fields only the winner's record gives (a Contact's Account fields): no loser fills them."""


@dataclass
class PagePlan:
    """Everything one page changes, written by the workspace in one transaction.

    Person values in `new_persons`, `updates` and `bases` are Salesforce's, as the record parser
    converted and checked them (`Checked`): the write takes them as they are. `read` holds the
    persons the planner read, their rows locked, in the page's transaction: the write takes their
    current values from there instead of reading them again.
    """

    new_persons: list[tuple[Checked, SalesforceLink]] = field(default_factory=list)
    updates: dict[int, Checked] = field(default_factory=lambda: defaultdict(Checked))
    links: dict[int, SalesforceLink] = field(default_factory=dict)
    bases: dict[int, Checked] = field(default_factory=lambda: defaultdict(Checked))
    read: dict[int, Person] = field(default_factory=dict)
    dropped_pending: list[int] = field(default_factory=list)
    refused_due: list[int] = field(default_factory=list)
    """Persons whose refused changes are due again now (their record is back from the recycle bin)."""
    forget_bases: list[int] = field(default_factory=list)
    activities: list[ActivityRecord] = field(default_factory=list)
    merges: list[MergeOrder] = field(default_factory=list)
    updates_counted: Tally = field(default_factory=lambda: Tally())
    deletes_counted: Tally = field(default_factory=lambda: Tally())
    conversions_counted: Tally = field(default_factory=lambda: Tally())
    """What the page counts for its three recorded steps (planned again from scratch if the
    page's transaction has to run again, so nothing is counted twice)."""

    def merge_into(self, winner_id: int) -> MergeOrder:
        """The page's merge order for `winner_id`, started if there is none yet."""
        for order in self.merges:
            if order.winner_id == winner_id:
                return order
        self.merges.append(MergeOrder(winner_id))
        return self.merges[-1]


@dataclass(frozen=True)
class PullCounts:
    """One object's pull feeds three recorded steps: its updates, its deletes (with merges and
    undeletes) and, for Leads, its conversions."""

    updates: StepCounts
    deletes: StepCounts
    conversions: StepCounts
