"""Sync filter conditions: SOQL's syntax checked by parsing, and SOQL's semantics for the push filter."""

from __future__ import annotations

from datetime import date

import pytest

from tandem.errors import ConfigError
from tandem.sync.policy_filter import parse_condition


def matches(text, **values):
    return parse_condition(text, "sync.filter.push").matches(values)


def test_not_equal_also_matches_empty_values():
    assert matches("leadSource != 'Partner'", leadSource="Web")
    assert matches("leadSource != 'Partner'", leadSource=None)
    assert matches("leadSource != 'Partner'", leadSource="")
    assert matches("leadSource != 'Partner'")  # the field not set at all
    assert not matches("leadSource != 'Partner'", leadSource="Partner")
    assert not matches("leadSource != 'Partner'", leadSource="partner")  # text compares case-insensitively


def test_other_comparisons_with_an_empty_value_are_false():
    for text in ("leadSource = 'Web'", "numberOfEmployees > 10", "numberOfEmployees < 10", "leadSource LIKE 'W%'",
                 "leadSource IN ('Web', 'Phone')"):
        assert not matches(text, leadSource=None, numberOfEmployees=None), text
    assert matches("leadSource NOT IN ('Web')", leadSource=None)
    assert matches("leadSource = null", leadSource="") and not matches("leadSource = null", leadSource="Web")
    assert matches("leadSource != null", leadSource="Web") and not matches("leadSource != null")


def test_boolean_logic_numbers_dates_and_like():
    text = "(country = 'US' OR country = 'CA') AND NOT unsubscribed = true AND numberOfEmployees >= 50.5"
    assert matches(text, country="us", unsubscribed=False, numberOfEmployees=100)
    assert not matches(text, country="FR", unsubscribed=False, numberOfEmployees=100)
    assert not matches(text, country="US", unsubscribed=True, numberOfEmployees=100)
    assert not matches(text, country="US", unsubscribed=False, numberOfEmployees=10)
    assert matches("dateOfBirth < 2000-01-01", dateOfBirth=date(1990, 5, 1))
    assert matches("email LIKE '%@acme.example'", email="wile@ACME.example")
    assert not matches("email LIKE 'a\\_b%'", email="axb@x")
    assert matches("email LIKE 'a\\_b%'", email="a_b@x")


def test_what_salesforce_reads_parses_too():
    for text in ("IsConverted = false", "CreatedDate = LAST_N_DAYS:30", "Account.Industry != 'Retail'",
                 "MailingCountry NOT IN ('Antarctica', 'Atlantis')", "Interests__c INCLUDES ('golf')",
                 "SystemModstamp > 2024-01-01T00:00:00Z"):
        assert parse_condition(text, "sync.filter.Contact").text == text


@pytest.mark.parametrize("text", ["", "Name =", "Name = 'open", "= 'x'", "Name = 'a' AND", "Name == 'x'",
                                  "(Name = 'x'", "Name = 'x'; DELETE"])
def test_what_is_not_a_condition_is_refused_naming_the_key(text):
    with pytest.raises(ConfigError) as caught:
        parse_condition(text, "sync.filter.Lead")
    assert caught.value.setting == "sync.filter.Lead"


def test_a_relative_date_cannot_filter_a_push():
    with pytest.raises(ConfigError, match="resolved by Salesforce"):
        matches("sfdcCreatedDate > LAST_N_DAYS:3", sfdcCreatedDate=date(2024, 1, 1))
