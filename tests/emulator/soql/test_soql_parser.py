"""The SOQL grammar: what parses into which tree, and what is refused as MALFORMED_QUERY."""

from __future__ import annotations

import datetime as dt

import pytest

from tandem.emulator.soql.like import LikePattern
from tandem.emulator.soql import (
    And,
    BooleanValue,
    Comparison,
    CountAll,
    CountField,
    DateLiteral,
    DateTimeValue,
    DateValue,
    FieldRef,
    FieldsMacro,
    Includes,
    InList,
    Like,
    Not,
    NullValue,
    NumberValue,
    Or,
    OrderItem,
    SoqlSyntaxError,
    StringValue,
    parse_soql,
)

UTC = dt.timezone.utc


def F(*path: str) -> FieldRef:
    return FieldRef(tuple(path))


def where(text: str):
    return parse_soql(f"SELECT Id FROM Contact WHERE {text}").where


WHERE_CASES = [
    ("Email = 'a@b.example'", Comparison(F("Email"), "=", StringValue("a@b.example"))),
    ("Email != 'x'", Comparison(F("Email"), "!=", StringValue("x"))),
    ("Email <> 'x'", Comparison(F("Email"), "!=", StringValue("x"))),
    ("Lead_Score__c < 10", Comparison(F("Lead_Score__c"), "<", NumberValue(10))),
    ("Lead_Score__c <= 1.5", Comparison(F("Lead_Score__c"), "<=", NumberValue(1.5))),
    ("Lead_Score__c > -3", Comparison(F("Lead_Score__c"), ">", NumberValue(-3))),
    ("Lead_Score__c >= -0.25", Comparison(F("Lead_Score__c"), ">=", NumberValue(-0.25))),
    ("Email = null", Comparison(F("Email"), "=", NullValue())),
    ("Email != NULL", Comparison(F("Email"), "!=", NullValue())),
    ("IsDeleted = TRUE", Comparison(F("IsDeleted"), "=", BooleanValue(True))),
    ("IsDeleted = false", Comparison(F("IsDeleted"), "=", BooleanValue(False))),
    ("Account.Name = 'Acme'", Comparison(F("Account", "Name"), "=", StringValue("Acme"))),
    ("Account.Owner.Email = 'x'", Comparison(F("Account", "Owner", "Email"), "=", StringValue("x"))),
    ("Birthdate = 2024-01-31", Comparison(F("Birthdate"), "=", DateValue(dt.date(2024, 1, 31)))),
    (
        "SystemModstamp > 2024-01-01T00:00:00Z",
        Comparison(F("SystemModstamp"), ">", DateTimeValue(dt.datetime(2024, 1, 1, tzinfo=UTC))),
    ),
    (
        "SystemModstamp > 2024-01-01T00:00:00.000+0000",
        Comparison(F("SystemModstamp"), ">", DateTimeValue(dt.datetime(2024, 1, 1, tzinfo=UTC))),
    ),
    (
        "SystemModstamp > 2024-01-01T00:00:00-05:00",
        Comparison(F("SystemModstamp"), ">", DateTimeValue(dt.datetime(2024, 1, 1, 5, tzinfo=UTC))),
    ),
    (
        "SystemModstamp > 2024-01-01T02:30:00+02:30",
        Comparison(F("SystemModstamp"), ">", DateTimeValue(dt.datetime(2024, 1, 1, tzinfo=UTC))),
    ),
    (
        "SystemModstamp > 2024-01-01T00:00:00.123456Z",
        Comparison(F("SystemModstamp"), ">", DateTimeValue(dt.datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=UTC))),
    ),
    ("CreatedDate = TODAY", Comparison(F("CreatedDate"), "=", DateLiteral("TODAY"))),
    ("CreatedDate > yesterday", Comparison(F("CreatedDate"), ">", DateLiteral("YESTERDAY"))),
    ("CreatedDate = LAST_N_DAYS:30", Comparison(F("CreatedDate"), "=", DateLiteral("LAST_N_DAYS", 30))),
    ("CreatedDate < NEXT_N_DAYS:2", Comparison(F("CreatedDate"), "<", DateLiteral("NEXT_N_DAYS", 2))),
    ("Name = 'O\\'Brien'", Comparison(F("Name"), "=", StringValue("O'Brien"))),
    ("Name = 'a\\\\b\\n\\t\\\"'", Comparison(F("Name"), "=", StringValue('a\\b\n\t"'))),
    ("Name = '\\u00e9t\\u00E9'", Comparison(F("Name"), "=", StringValue("été"))),
    ("Email LIKE '%@acme.example'",
     Like(F("Email"), "%@acme.example", LikePattern(((), tuple("@acme.example")), True))),
    ("Name LIKE 'a\\_b%'", Like(F("Name"), "a\\_b%", LikePattern((("a", "_", "b"), ()), True))),
    ("Name LIKE '100\\%'", Like(F("Name"), "100\\%", LikePattern((tuple("100%"),), False))),
    ("Status IN ('Open', 'Closed')", InList(F("Status"), (StringValue("Open"), StringValue("Closed")))),
    ("Status NOT IN ('Open')", InList(F("Status"), (StringValue("Open"),), negated=True)),
    ("Lead_Score__c IN (1, 2.5, null)", InList(F("Lead_Score__c"), (NumberValue(1), NumberValue(2.5), NullValue()))),
    ("Colors__c INCLUDES ('Red;Blue', 'Green')", Includes(F("Colors__c"), ("Red;Blue", "Green"))),
    ("Colors__c EXCLUDES ('Red')", Includes(F("Colors__c"), ("Red",), excludes=True)),
    (
        "Email = 'a' AND Name = 'b' AND IsDeleted = false",
        And((Comparison(F("Email"), "=", StringValue("a")), Comparison(F("Name"), "=", StringValue("b")),
             Comparison(F("IsDeleted"), "=", BooleanValue(False)))),
    ),
    (
        "Email = 'a' or Name = 'b'",
        Or((Comparison(F("Email"), "=", StringValue("a")), Comparison(F("Name"), "=", StringValue("b")))),
    ),
    (
        "(Email = 'a' OR Name = 'b') AND NOT Title = 'CEO'",
        And((
            Or((Comparison(F("Email"), "=", StringValue("a")), Comparison(F("Name"), "=", StringValue("b")))),
            Not(Comparison(F("Title"), "=", StringValue("CEO"))),
        )),
    ),
    (
        "NOT (Email = 'a' AND Name = 'b')",
        Not(And((Comparison(F("Email"), "=", StringValue("a")), Comparison(F("Name"), "=", StringValue("b"))))),
    ),
    ("((Email = 'a'))", Comparison(F("Email"), "=", StringValue("a"))),
]


@pytest.mark.parametrize(("condition", "expected"), WHERE_CASES, ids=[c for c, _ in WHERE_CASES])
def test_where_parses_into_tree(condition, expected):
    assert where(condition) == expected


QUERY_CASES = [
    (
        "SELECT Id, Name FROM Contact",
        dict(object_name="Contact", select=(F("Id"), F("Name")), where=None, order_by=(), limit=None, offset=None),
    ),
    ("select id from contact", dict(object_name="contact", select=(F("id"),))),
    ("SELECT COUNT() FROM Lead", dict(object_name="Lead", select=(CountAll(),))),
    ("SELECT COUNT(Id) FROM Lead", dict(select=(CountField(F("Id")),))),
    ("SELECT FIELDS(STANDARD) FROM Lead", dict(select=(FieldsMacro("STANDARD"),))),
    ("SELECT FIELDS(all) FROM Lead LIMIT 200", dict(select=(FieldsMacro("ALL"),), limit=200)),
    ("SELECT Id, FIELDS(CUSTOM) FROM Lead", dict(select=(F("Id"), FieldsMacro("CUSTOM")))),
    ("SELECT Account.Name, Account.Owner.Name FROM Contact", dict(select=(F("Account", "Name"), F("Account", "Owner", "Name")))),
    (
        "SELECT Id FROM Contact ORDER BY Name",
        dict(order_by=(OrderItem(F("Name"), descending=False, nulls_first=True),)),
    ),
    (
        "SELECT Id FROM Contact ORDER BY Name DESC",
        dict(order_by=(OrderItem(F("Name"), descending=True, nulls_first=False),)),
    ),
    (
        "SELECT Id FROM Contact ORDER BY Name ASC NULLS LAST, CreatedDate desc nulls first, Id",
        dict(order_by=(
            OrderItem(F("Name"), descending=False, nulls_first=False),
            OrderItem(F("CreatedDate"), descending=True, nulls_first=True),
            OrderItem(F("Id"), descending=False, nulls_first=True),
        )),
    ),
    ("SELECT Id FROM Contact LIMIT 10 OFFSET 20", dict(limit=10, offset=20)),
    ("SELECT Id FROM Contact OFFSET 5", dict(limit=None, offset=5)),
    (
        "SELECT Id, SystemModstamp FROM Contact WHERE SystemModstamp > 2024-01-01T00:00:00Z "
        "AND SystemModstamp <= 2024-01-02T00:00:00.000+0000 ORDER BY SystemModstamp, Id LIMIT 2000",
        dict(limit=2000, order_by=(OrderItem(F("SystemModstamp")), OrderItem(F("Id")))),
    ),
    ("  SELECT\n  Id\nFROM\n  Contact\n", dict(object_name="Contact", select=(F("Id"),))),
]


@pytest.mark.parametrize(("text", "expected"), QUERY_CASES, ids=[t[:60] for t, _ in QUERY_CASES])
def test_query_parses(text, expected):
    query = parse_soql(text)
    for attribute, value in expected.items():
        assert getattr(query, attribute) == value, attribute


MALFORMED_CASES = [
    ("SELECT Id FORM Contact", "unexpected token: FORM"),
    ("SELECT FROM Contact", "unexpected token: Contact"),
    ("SELECT Id, FROM Contact", "unexpected token: Contact"),
    ("SELECT Id FROM", "unexpected token: <EOF>"),
    ("Id FROM Contact", "unexpected token: Id"),
    ("SELECT Id FROM Contact WHERE", "unexpected token: <EOF>"),
    ("SELECT Id FROM Contact WHERE Email = 'a' AND Name = 'b' OR Title = 'c'", "unexpected token: OR"),
    ("SELECT Id FROM Contact WHERE Email = 'unterminated", "unexpected token"),
    ("SELECT Id FROM Contact WHERE Email == 'a'", "unexpected token: ="),
    ("SELECT Id FROM Contact WHERE Email = 'a\\q'", "illegal escape sequence"),
    ("SELECT Id FROM Contact WHERE Name = '\\u12'", "unicode escape"),
    ("SELECT Id FROM Contact WHERE CreatedDate = 2024-13-01", "month must be in 1..12"),
    ("SELECT Id FROM Contact WHERE CreatedDate = 2024-01-01T25:00:00Z", "hour must be in 0..23"),
    ("SELECT Id FROM Contact WHERE CreatedDate = 2024-01-01T00:00:00+25:00", "offset"),
    ("SELECT Id FROM Contact WHERE CreatedDate > 9999-12-31T23:59:59-12:00", "out of range in UTC"),
    ("SELECT Id FROM Contact WHERE CreatedDate > 0001-01-01T00:00:00+05:00", "out of range in UTC"),
    ("SELECT Id FROM Contact WHERE CreatedDate = SOMEDAY", "unexpected token: SOMEDAY"),
    ("SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS", "needs a number"),
    ("SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS:1.5", "whole number"),
    ("SELECT Id FROM Contact WHERE CreatedDate = TODAY:3", "unexpected token: TODAY"),
    ("SELECT Id FROM Contact LIMIT -1", "LIMIT must be a non-negative integer"),
    ("SELECT Id FROM Contact LIMIT 2.5", "LIMIT must be a non-negative integer"),
    ("SELECT Id FROM Contact OFFSET 1 LIMIT 2", "unexpected token: LIMIT"),
    ("SELECT FIELDS(SOME) FROM Contact", "FIELDS() takes STANDARD, ALL or CUSTOM"),
    ("SELECT Id FROM Contact ORDER Name", "unexpected token: Name"),
    ("SELECT Id FROM Contact ORDER BY Name NULLS", "unexpected token: <EOF>"),
    ("SELECT Id FROM Contact WHERE Status IN ()", "unexpected token: )"),
    ("SELECT Id FROM Contact WHERE Email = 'a' #", "unexpected token: '#'"),
    ("SELECT Id FROM Contact WHERE (Email = 'a'", "unexpected token: <EOF>"),
    ("SELECT Id FROM Contact WHERE Email LIKE 5", "unexpected token: 5"),
    ("", "empty query"),
]


@pytest.mark.parametrize(("text", "reason"), MALFORMED_CASES, ids=[t or "<empty>" for t, _ in MALFORMED_CASES])
def test_malformed_query_is_refused(text, reason):
    with pytest.raises(SoqlSyntaxError) as caught:
        parse_soql(text)
    assert reason in caught.value.message


def test_syntax_error_message_points_at_the_token():
    with pytest.raises(SoqlSyntaxError) as caught:
        parse_soql("SELECT Id FORM Contact")
    error = caught.value
    assert (error.line, error.column) == (1, 11)
    assert "ERROR at Row:1:Column:11" in error.message
    assert "SELECT Id FORM Contact\n          ^" in error.message


def test_referenced_fields_cover_select_where_and_order_by():
    query = parse_soql(
        "SELECT Id, Account.Name, COUNT(Email) FROM Contact "
        "WHERE (Title = 'x' OR NOT Owner.Alias IN ('a')) AND Phone LIKE '5%' ORDER BY LastName"
    )
    assert query.referenced_fields() == {
        ("Id",), ("Account", "Name"), ("Email",), ("Title",), ("Owner", "Alias"), ("Phone",), ("LastName",),
    }


def test_parsed_queries_are_cached_and_immutable():
    text = "SELECT Id FROM Contact WHERE Email != null"
    first = parse_soql(text)
    assert parse_soql(text) is first
    with pytest.raises(AttributeError):
        first.limit = 5  # type: ignore[misc]


def test_count_query_is_flagged():
    assert parse_soql("SELECT COUNT() FROM Lead").is_count
    assert not parse_soql("SELECT Id FROM Lead").is_count


def test_nesting_deeper_than_the_limit_is_a_syntax_error_not_a_crash() -> None:
    """Before, 900 nested NOTs raised a RecursionError (answered as 500 UNKNOWN_EXCEPTION)."""
    deep = parse_soql("SELECT Id FROM Account WHERE " + "NOT " * 100 + "Name = 'x'")
    assert deep.where is not None
    for where in ("NOT " * 900 + "Name = 'x'", "NOT (" * 101 + "Name = 'x'" + ")" * 101,
                  "(Name = 'a' AND " * 500 + "Name = 'x'" + ")" * 500):
        with pytest.raises(SoqlSyntaxError, match="more than 100 levels deep"):
            parse_soql("SELECT Id FROM Account WHERE " + where)


def test_a_query_over_the_length_limit_is_a_syntax_error() -> None:
    with pytest.raises(SoqlSyntaxError, match="at most 100000"):
        parse_soql("SELECT Id FROM Account WHERE Name IN (" + ", ".join(["'x'"] * 30_000) + ")")
