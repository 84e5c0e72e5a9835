"""The [sync] policy as tandem.toml gives it: parsed once, every mistake named by its key."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tandem.config import load_settings
from tandem.errors import ConfigError
from tandem.sync.merge import Rule
from tandem.sync.policy import Leaving, load_policy, load_policy_file, parse_policy

EXAMPLE = """
[sync]
interval_seconds = 300

[sync.fields]
title = "salesforce-wins"
"Lead.rating" = "from-salesforce-only"
personNotes = "off"

[sync.filter]
Contact = "MailingCountry != 'Antarctica'"
Lead = "IsConverted = false"
push = "leadSource != 'Partner'"

[sync.budget]
daily_calls = 5000
actions_reserve = 1000
"""


def test_the_documented_example_loads_from_tandem_toml(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tandem.toml").write_text(EXAMPLE)
    policy = load_policy(load_settings())
    assert policy.interval_seconds == 300
    assert policy.rule_for("Lead", "rating", "Rating").rule is Rule.FROM_SALESFORCE_ONLY
    assert policy.rule_for("Contact", "rating", "Rating").declared is False  # "Lead.rating" is the Lead's only
    assert policy.rule_for("Contact", "personNotes", "Description").rule is Rule.OFF
    assert policy.rule_for("Lead", "title", "Title").source == "sync.fields.title = salesforce-wins"
    assert policy.pull_filters["Contact"].text == "MailingCountry != 'Antarctica'"
    assert policy.push_filter is not None and policy.push_filter.fields == {"leadSource"}
    assert policy.leaving is Leaving.KEPT
    assert policy.budget.daily_budget(None) == 5000 and policy.budget.actions_reserve == 1000


def test_defaults_are_todays_rules():
    policy = parse_policy(None)
    assert policy.rule_for("Contact", "title", "Title").rule is Rule.SALESFORCE_WINS
    assert policy.rule_for("Lead", "title", "Title").rule is Rule.TANDEM_WINS
    assert not policy.filters_anything and not policy.budget.limited


def test_the_environment_interval_wins_over_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tandem.toml").write_text(EXAMPLE)
    monkeypatch.setenv("TANDEM_SYNC_INTERVAL_SECONDS", "90")
    assert load_policy(load_settings()).interval_seconds == 90


def test_a_salesforce_api_name_and_an_object_scope_are_resolved():
    policy = parse_policy({"fields": {"Contact.MailingCountry": "tandem-wins", "Phone": "newest-wins"}})
    assert policy.rule_for("Contact", "country", "MailingCountry").rule is Rule.TANDEM_WINS
    assert not policy.rule_for("Lead", "country", "Country").declared
    assert policy.rule_for("Lead", "phone", "Phone").rule is Rule.NEWEST_WINS


def test_an_object_declaration_refines_an_every_object_one():
    policy = parse_policy({"fields": {"title": "off", "Lead.title": "tandem-wins"}})
    assert policy.rule_for("Lead", "title", "Title").rule is Rule.TANDEM_WINS
    assert policy.rule_for("Contact", "title", "Title").rule is Rule.OFF


@pytest.mark.parametrize(("raw", "key", "reason"), [
    ({"fields": {"title": "sometimes"}}, "sync.fields.title", "unknown rule 'sometimes'"),
    ({"fields": {"shoeSize": "off"}}, "sync.fields.shoeSize", "no synced field is named 'shoeSize'"),
    ({"fields": {"Opportunity.Name": "off"}}, 'sync.fields."Opportunity.Name"', "unknown object"),
    ({"fields": {"Account.Name": "tandem-wins"}}, 'sync.fields."Account.Name"', "only flow into Tandem"),
    ({"filter": {"Contact": "MailingCountry = "}}, "sync.filter.Contact", "not a SOQL condition"),
    ({"filter": {"push": "leadSource !! 'x'"}}, "sync.filter.push", "not a SOQL condition"),
    ({"filter": {"Account": "Name = 'x'"}}, "sync.filter.Account", "unknown key"),
    ({"filter": {"leaving": "forgotten"}}, "sync.filter.leaving", "kept, unlinked, flagged"),
    ({"budget": {"daily_calls": 0}}, "sync.budget.daily_calls", "greater than or equal to 1"),
    ({"budget": {"share": 1.5}}, "sync.budget.share", "less than or equal to 1"),
    ({"budget": {"calls": 5}}, "sync.budget.calls", "Extra inputs"),
    ({"interval_seconds": 0}, "sync.interval_seconds", "whole number from 1"),
    ({"quiet_hours": "late"}, "sync.quiet_hours", "UTC window"),
    ({"speed": "fast"}, "sync.speed", "unknown key"),
])
def test_mistakes_are_refused_naming_the_key(raw, key, reason):
    with pytest.raises(ConfigError) as caught:
        parse_policy(raw)
    assert caught.value.setting == key
    assert reason in caught.value.reason


@pytest.mark.parametrize(("raw", "key", "reason"), [
    ({"fields": {"title": "salesforce-wins", "Title": "tandem-wins"}}, "sync.fields.", "both name"),
    ({"fields": {"Contact.country": "off", "Contact.MailingCountry": "tandem-wins"}}, 'sync.fields."Contact.',
     "both name Contact.MailingCountry"),
    ({"fields": {"country": "off"}, "filter": {"Contact": "MailingCountry != 'Antarctica'"}},
     "sync.filter.Contact", "never read"),
    ({"budget": {"daily_calls": 100, "share": 0.5}}, "sync.budget", "one or the other"),
    ({"budget": {"daily_calls": 100, "actions_reserve": 80, "cycle_reserve": 20}}, "sync.budget",
     "leave nothing"),
])
def test_conflicting_declarations_are_refused_with_the_reason(raw, key, reason):
    with pytest.raises(ConfigError) as caught:
        parse_policy(raw)
    assert caught.value.setting.startswith(key)
    assert reason in caught.value.reason


def test_the_same_rule_under_two_names_is_no_conflict():
    policy = parse_policy({"fields": {"title": "off", "Title": "off"}})
    assert policy.rule_for("Contact", "title", "Title").rule is Rule.OFF


def test_a_policy_file_is_read_alone(tmp_path):
    path = tmp_path / "new.toml"
    path.write_text(EXAMPLE.replace('"from-salesforce-only"', '"tandem-wins"'))
    assert load_policy_file(path).rule_for("Lead", "rating", "Rating").rule is Rule.TANDEM_WINS
    with pytest.raises(ConfigError, match="no such file"):
        load_policy_file(tmp_path / "missing.toml")
    path.write_text("[sync\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_policy_file(path)


def test_a_bad_policy_in_tandem_toml_fails_at_load(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tandem.toml").write_text('[sync.fields]\ntitle = "loudest-wins"\n')
    with pytest.raises(ConfigError, match="sync.fields.title: unknown rule"):
        load_policy(load_settings())


def test_quiet_hours_wrap_past_midnight():
    policy = parse_policy({"quiet_hours": "22:00-06:00"})
    hours = policy.quiet_hours
    assert hours is not None
    assert hours.contains(datetime(2026, 1, 1, 23, 30, tzinfo=UTC))
    assert hours.contains(datetime(2026, 1, 1, 5, 59, tzinfo=UTC))
    assert not hours.contains(datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    assert hours.ends_after(datetime(2026, 1, 1, 23, 30, tzinfo=UTC)) == datetime(2026, 1, 2, 6, 0, tzinfo=UTC)
