"""The sync policy: `tandem.toml`'s `[sync]` table, parsed once and checked as a whole at load.

    [sync]                      interval_seconds, quiet_hours = "22:00-06:00" (UTC), idle_interval_max_seconds
    [sync.fields]               a Tandem field name, a Salesforce API name, or "Object.Field" → a `Rule`
    [sync.filter]               Contact / Lead = a SOQL condition on what is pulled;
                                push = a condition on Tandem field names; leaving = kept | unlinked | flagged
    [sync.budget]               daily_calls or share, actions_reserve, cycle_reserve

Every mistake is a `ConfigError` naming the key (`sync.fields.title`, `sync.budget.share`) and the
reason; conflicting declarations (two names for one field with different rules, a pull filter on a
field the policy turns off) are refused with the reason. A policy that sets nothing is today's
behaviour: Contact fields Salesforce wins, Lead fields Tandem wins, every record, no budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tandem.config import read_toml_file
from tandem.errors import ConfigError
from tandem.sync.fields import DEFAULT_MAPPING
from tandem.sync.merge import DEFAULT_RULES, Rule, Winner, rule_of
from tandem.sync.policy_filter import Condition, parse_condition

DEFAULT_INTERVAL_SECONDS = 300
PERSON_OBJECTS = ("Contact", "Lead")
FIELD_OBJECTS = (*PERSON_OBJECTS, "Account")
ACCOUNT_RULES = (Rule.FROM_SALESFORCE_ONLY, Rule.OFF)
"""Account fields only ever flow into Tandem: they can be left as they are or turned off."""


class Leaving(StrEnum):
    """What happens to a linked person whose record leaves a sync filter (either side)."""

    KEPT = "kept"
    """The person keeps its link and values; nothing more flows for it; each change that does not
    flow is recorded on the person (an *SFDC Value Not Synced* activity)."""
    UNLINKED = "unlinked"
    """The person's link to the record is removed (an *SFDC Sync Filter* activity says so); the
    person stays, and is linked again should the record come back into the filter."""
    FLAGGED = "flagged"
    """As `kept`, and a record-level sync error names the person and record, so `tandem status`
    lists it for someone to decide."""


class BudgetPolicy(BaseModel):
    """`[sync.budget]`: the day's API budget and the lanes' reserves."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    daily_calls: int | None = Field(None, ge=1)
    share: float | None = Field(None, gt=0, le=1)
    actions_reserve: int = Field(0, ge=0)
    """Calls only real-time actions may spend: the cycle stops this far short of the budget."""
    cycle_reserve: int = Field(0, ge=0)
    """Calls retries and backfills may not spend: they stop this far short of the cycle's lane."""

    @model_validator(mode="after")
    def _one_budget(self) -> BudgetPolicy:
        if self.daily_calls is not None and self.share is not None:
            raise ValueError("daily_calls and share both set: the budget is one or the other")
        if self.daily_calls is not None and self.actions_reserve + self.cycle_reserve >= self.daily_calls:
            raise ValueError(f"actions_reserve + cycle_reserve ({self.actions_reserve + self.cycle_reserve}) "
                             f"leave nothing of daily_calls ({self.daily_calls}) for the cycle")
        return self

    @property
    def limited(self) -> bool:
        return self.daily_calls is not None or self.share is not None

    def daily_budget(self, org_daily_limit: int | None) -> int | None:
        """Calls Tandem may spend today; None when no budget is set (or the org's limit is unknown yet)."""
        if self.daily_calls is not None:
            return self.daily_calls
        if self.share is not None and org_daily_limit is not None:
            return int(org_daily_limit * self.share)
        return None


@dataclass(frozen=True)
class DeclaredRule:
    rule: Rule
    key: str
    """Where it was declared, as a user finds it: `sync.fields.title`."""

    @property
    def source(self) -> str:
        return f"{self.key} = {self.rule.value}"


@dataclass(frozen=True)
class DecidingRule:
    """The rule in force for one field of one object, and what put it there (for the activity log)."""

    rule: Rule
    source: str
    declared: bool = True
    """False for a default (no `[sync.fields]` entry names the field)."""


@dataclass(frozen=True)
class QuietHours:
    """A daily window (UTC) in which no cycle starts; it may wrap past midnight."""

    start: time
    end: time

    def contains(self, moment: datetime) -> bool:
        now = moment.time().replace(tzinfo=None)
        if self.start <= self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def ends_after(self, moment: datetime) -> datetime:
        """When the window that holds `moment` ends."""
        end = moment.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        return end if end > moment else end + timedelta(days=1)


@dataclass(frozen=True)
class SyncPolicy:
    interval_seconds: int = DEFAULT_INTERVAL_SECONDS
    idle_interval_max_seconds: int = 8 * DEFAULT_INTERVAL_SECONDS
    """How far polling backs off while the org is quiet (the interval doubles each quiet cycle)."""
    quiet_hours: QuietHours | None = None
    fields: Mapping[tuple[str | None, str], DeclaredRule] = field(default_factory=dict)
    """(object or None for every object, field name in lower case) → its rule."""
    pull_filters: Mapping[str, Condition] = field(default_factory=dict)
    push_filter: Condition | None = None
    leaving: Leaving = Leaving.KEPT
    budget: BudgetPolicy = field(default_factory=BudgetPolicy)
    object_rules: Mapping[str, Rule] = field(default_factory=lambda: dict(DEFAULT_RULES))
    """The rule of a field no declaration names: today's per-object rules."""

    def rule_for(self, object_name: str, person_field: str | None, sf_field: str | None = None) -> DecidingRule:
        """The rule of a field: its object's declaration, else an every-object one, else the default."""
        for scope in (object_name, None):
            for name in (person_field, sf_field):
                if name is None:
                    continue
                declared = self.fields.get((scope, name.lower()))
                if declared is not None:
                    return DecidingRule(declared.rule, declared.source)
        default = self.object_rules.get(object_name, Rule.SALESFORCE_WINS)
        return DecidingRule(default, f"default: {object_name} {default.value}", declared=False)

    @property
    def filters_anything(self) -> bool:
        return bool(self.pull_filters) or self.push_filter is not None


def as_policy(policy: SyncPolicy | Mapping[str, Winner] | None) -> SyncPolicy:
    if policy is None:
        return SyncPolicy()
    if isinstance(policy, SyncPolicy):
        return policy
    return SyncPolicy(object_rules={**DEFAULT_RULES, **{name: rule_of(w) for name, w in policy.items()}})


# -- parsing ---------------------------------------------------------------------------------------

_SYNC_KEYS = ("interval_seconds", "quiet_hours", "idle_interval_max_seconds", "fields", "filter", "budget")
_FILTER_KEYS = (*PERSON_OBJECTS, "push", "leaving")
_KNOWN_NAMES = {name.lower() for mapping in DEFAULT_MAPPING.values() for pair in mapping.items() for name in pair}


def parse_policy(raw: Mapping[str, Any] | None, *, interval_seconds: int | None = None) -> SyncPolicy:
    """The `[sync]` table as a checked policy; `interval_seconds` (from the environment) wins over the file's."""
    if raw is not None and not isinstance(raw, Mapping):  # `sync = 5` in a policy file
        raise ConfigError("sync", "must be a table")
    raw = dict(raw or {})
    _only(raw, _SYNC_KEYS, "sync")
    interval = interval_seconds or _int(raw, "interval_seconds", "sync", DEFAULT_INTERVAL_SECONDS, 1, 86_400)
    idle_max = _int(raw, "idle_interval_max_seconds", "sync", max(8 * interval, interval), interval, 86_400)
    fields = _parse_fields(_table(raw, "fields", "sync"))
    pull_filters, push_filter, leaving = _parse_filters(_table(raw, "filter", "sync"))
    _refuse_filters_on_off_fields(fields, pull_filters)
    return SyncPolicy(
        interval_seconds=interval,
        idle_interval_max_seconds=idle_max,
        quiet_hours=_quiet_hours(raw.get("quiet_hours")),
        fields=fields,
        pull_filters=pull_filters,
        push_filter=push_filter,
        leaving=leaving,
        budget=_parse_budget(_table(raw, "budget", "sync")),
    )


def load_policy(settings: Any) -> SyncPolicy:
    """The policy of the loaded settings: `tandem.toml`'s `[sync]`, TANDEM_SYNC_INTERVAL_SECONDS winning."""
    given = "sync_interval_seconds" in settings.model_fields_set
    return parse_policy(settings.sync, interval_seconds=settings.sync_interval_seconds if given else None)


def load_policy_file(path: Path) -> SyncPolicy:
    """The `[sync]` policy of a `tandem.toml`-shaped file (its other tables are ignored)."""
    if path.is_dir():
        raise ConfigError(str(path), "is a folder: name the tandem.toml-shaped file itself")
    if not path.is_file():
        raise ConfigError(str(path), "no such file")
    return parse_policy(read_toml_file(path).get("sync"))


def _only(table: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in known:
            raise ConfigError(f"{where}.{key}", f"unknown key (known: {', '.join(known)})")


def _table(raw: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}.{key}", "must be a table")
    return value


def _int(raw: Mapping[str, Any], key: str, where: str, default: int, low: int, high: int) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{where}.{key}", f"must be a whole number from {low} to {high}")
    return value


def _quiet_hours(value: Any) -> QuietHours | None:
    if value is None:
        return None
    start, dash, end = str(value).partition("-")
    try:
        window = QuietHours(time.fromisoformat(start.strip()), time.fromisoformat(end.strip()))
    except ValueError:
        window = None
    if not dash or window is None or window.start == window.end:
        raise ConfigError("sync.quiet_hours", f"must be a UTC window like \"22:00-06:00\", not {value!r}")
    return window


def _parse_fields(table: Mapping[str, Any]) -> dict[tuple[str | None, str], DeclaredRule]:
    declared: dict[tuple[str | None, str], DeclaredRule] = {}
    for key, value in table.items():
        where = f"sync.fields.{key}" if "." not in key else f'sync.fields."{key}"'
        try:
            rule = Rule(value)
        except ValueError:
            raise ConfigError(where, f"unknown rule {value!r} (rules: {', '.join(r.value for r in Rule)})") from None
        object_name, dot, name = key.partition(".")
        scope = object_name if dot else None
        name = name if dot else key
        if scope is not None and scope not in FIELD_OBJECTS:
            raise ConfigError(where, f"unknown object {scope!r} (objects: {', '.join(FIELD_OBJECTS)})")
        if not name or (name.lower() not in _KNOWN_NAMES and not name.lower().endswith("__c")):
            raise ConfigError(where, f"no synced field is named {name!r} (a Tandem field name, a Salesforce "
                                     "API name, or a custom __c field)")
        if scope == "Account" and rule not in ACCOUNT_RULES:
            raise ConfigError(where, "Account fields only flow into Tandem: from-salesforce-only or off")
        earlier = declared.get((scope, name.lower()))
        if earlier is not None and earlier.rule is not rule:
            raise ConfigError(where, f"conflicts with {earlier.key}: both name {name}, as {rule.value} and "
                                     f"{earlier.rule.value}")
        declared[(scope, name.lower())] = DeclaredRule(rule, where)
    _refuse_conflicts(declared)
    return declared


def _refuse_conflicts(declared: Mapping[tuple[str | None, str], DeclaredRule]) -> None:
    """Two declarations at one scope naming the same field of an object (by its Tandem and its
    Salesforce name) must agree."""
    for object_name, mapping in DEFAULT_MAPPING.items():
        for sf_field, person_field in mapping.items():
            for scope in (object_name, None):
                both = [d for n in {sf_field, person_field}
                        for (s, name), d in declared.items() if s == scope and name.lower() == n.lower()]
                if len({d.rule for d in both}) > 1:
                    first, second = both[0], both[1]
                    raise ConfigError(second.key, f"conflicts with {first.key}: both name {object_name}.{sf_field} "
                                                  f"({person_field}), as {second.rule.value} and {first.rule.value}")


def _parse_filters(table: Mapping[str, Any]) -> tuple[dict[str, Condition], Condition | None, Leaving]:
    _only(table, _FILTER_KEYS, "sync.filter")
    conditions: dict[str, Condition] = {}
    for key, value in table.items():
        if key == "leaving":
            continue
        if not isinstance(value, str):
            raise ConfigError(f"sync.filter.{key}", "must be a SOQL condition in a string")
        conditions[key] = parse_condition(value, f"sync.filter.{key}")
    try:
        leaving = Leaving(table.get("leaving", Leaving.KEPT.value))
    except ValueError:
        raise ConfigError("sync.filter.leaving", f"must be one of {', '.join(m.value for m in Leaving)}") from None
    push = conditions.pop("push", None)
    return conditions, push, leaving


def _refuse_filters_on_off_fields(fields: Mapping[tuple[str | None, str], DeclaredRule],
                                  pull_filters: Mapping[str, Condition]) -> None:
    """A pull filter reads its fields in Salesforce: a field turned off may not be one of them."""
    policy = SyncPolicy(fields=fields)
    for object_name, condition in pull_filters.items():
        mapping = {k.lower(): v for k, v in DEFAULT_MAPPING.get(object_name, {}).items()}
        for name in sorted(condition.fields):
            if "." in name:
                continue
            deciding = policy.rule_for(object_name, mapping.get(name.lower()), name)
            if deciding.rule is Rule.OFF:
                raise ConfigError(f"sync.filter.{object_name}", f"reads {name}, which {deciding.source} turns "
                                                                "off: an off field is never read")


def _parse_budget(table: Mapping[str, Any]) -> BudgetPolicy:
    try:
        return BudgetPolicy(**table)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in first.get("loc") or ())
        key = f"sync.budget.{location}" if location else "sync.budget"
        reason = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        raise ConfigError(key, reason) from None
    except TypeError as exc:
        raise ConfigError("sync.budget", str(exc)) from None
