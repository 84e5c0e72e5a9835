"""WHERE predicates, ORDER BY keys and index bounds over native record values."""

from __future__ import annotations

import datetime as dt

import pytest

from tandem.emulator.model.ids import make_id
from tandem.emulator.soql import (
    Bounds,
    SoqlFieldError,
    SoqlTypeError,
    compile_where,
    index_bounds,
    parse_soql,
    sort_key,
)

UTC = dt.timezone.utc
NOW = dt.datetime(2024, 3, 15, 12, 0, tzinfo=UTC)  # a Friday

TYPES = {
    "id": "id", "accountid": "reference", "email": "email", "lastname": "string", "title": "string",
    "leadsource": "picklist", "lead_score__c": "double", "numberofemployees": "int", "amount": "currency",
    "newsletter__c": "boolean", "isdeleted": "boolean", "birthdate": "date", "systemmodstamp": "datetime",
    "createddate": "datetime", "colors__c": "multipicklist", "account.name": "string", "phone": "phone",
    "mailingaddress": "address",
}

ACME = make_id("001", 1)
WILE = make_id("003", 1)
HANK = make_id("003", 2)
PETER = make_id("003", 3)
SAMIR = make_id("003", 4)

RECORDS = [
    {"Id": WILE, "AccountId": ACME, "Email": "wile@acme.example", "LastName": "Coyote", "Title": "Engineer",
     "LeadSource": "Web", "Lead_Score__c": 10, "NumberOfEmployees": None, "Newsletter__c": False,
     "IsDeleted": False, "Birthdate": dt.date(1990, 4, 1), "SystemModstamp": dt.datetime(2024, 1, 1, 0, 0, tzinfo=UTC),
     "CreatedDate": dt.datetime(2024, 3, 15, 8, 0, tzinfo=UTC), "Colors__c": "Red;Blue", "Account.Name": "Acme Corp",
     "Phone": "+1 555 0100"},
    {"Id": HANK, "AccountId": None, "Email": "HANK@globex.example", "LastName": "Scorpio", "Title": "CEO",
     "LeadSource": None, "Lead_Score__c": None, "NumberOfEmployees": 5, "Newsletter__c": True,
     "IsDeleted": False, "Birthdate": None, "SystemModstamp": dt.datetime(2024, 1, 1, 12, 0, tzinfo=UTC),
     "CreatedDate": dt.datetime(2024, 3, 14, 23, 59, tzinfo=UTC), "Colors__c": "Green", "Account.Name": None,
     "Phone": None},
    {"Id": PETER, "AccountId": ACME, "Email": None, "LastName": "Gibbons", "Title": "Programmer_1",
     "LeadSource": "Trade Show", "Lead_Score__c": -2.5, "NumberOfEmployees": 120, "Newsletter__c": False,
     "IsDeleted": True, "Birthdate": dt.date(1985, 12, 31), "SystemModstamp": dt.datetime(2024, 1, 2, 0, 0, tzinfo=UTC),
     "CreatedDate": dt.datetime(2024, 3, 1, 0, 0, tzinfo=UTC), "Colors__c": None, "Account.Name": "Acme Corp",
     "Phone": ""},
    {"Id": SAMIR, "AccountId": ACME, "Email": "samir@initech.example", "LastName": "Nagheenanajar",
     "Title": "Programmer%", "LeadSource": "Web", "Lead_Score__c": 0, "NumberOfEmployees": 120,
     "Newsletter__c": True, "IsDeleted": False, "Birthdate": dt.date(1990, 4, 1),
     "SystemModstamp": dt.datetime(2024, 1, 2, 0, 0, 1, tzinfo=UTC), "CreatedDate": dt.datetime(2024, 3, 20, tzinfo=UTC),
     "Colors__c": "blue;green;red", "Account.Name": "Acme Corp", "Phone": "555 0199"},
]
NAMES = {WILE: "Wile", HANK: "Hank", PETER: "Peter", SAMIR: "Samir"}


def field_types(path):
    return TYPES.get(".".join(path).lower())


def getter(record):
    lowered = {key.lower(): value for key, value in record.items()}
    return lambda path: lowered.get(".".join(path).lower())


def matching(condition: str) -> list[str]:
    query = parse_soql(f"SELECT Id FROM Contact WHERE {condition}")
    predicate = compile_where(query.where, field_types, now=NOW)
    return [NAMES[r["Id"]] for r in RECORDS if predicate(getter(r))]


PREDICATE_CASES = [
    ("Email = 'wile@acme.example'", ["Wile"]),
    ("email = 'WILE@ACME.EXAMPLE'", ["Wile"]),
    ("Email = 'hank@globex.example'", ["Hank"]),
    ("Email = null", ["Peter"]),
    ("Email != null", ["Wile", "Hank", "Samir"]),
    ("Email != 'wile@acme.example'", ["Hank", "Peter", "Samir"]),
    ("Phone = null", ["Hank", "Peter"]),
    ("Phone = ''", ["Hank", "Peter"]),
    ("LastName > 'h'", ["Hank", "Samir"]),
    ("LastName < 'D'", ["Wile"]),
    ("Lead_Score__c > 0", ["Wile"]),
    ("Lead_Score__c >= 0", ["Wile", "Samir"]),
    ("Lead_Score__c < 0", ["Peter"]),
    ("Lead_Score__c <= -2.5", ["Peter"]),
    ("Lead_Score__c = 10.0", ["Wile"]),
    ("Lead_Score__c != 10", ["Hank", "Peter", "Samir"]),
    ("Lead_Score__c = null", ["Hank"]),
    ("NumberOfEmployees > 100", ["Peter", "Samir"]),
    ("Newsletter__c = TRUE", ["Hank", "Samir"]),
    ("Newsletter__c = false", ["Wile", "Peter"]),
    ("Newsletter__c != true", ["Wile", "Peter"]),
    ("Newsletter__c = null", ["Wile", "Peter"]),
    ("Newsletter__c != null", ["Hank", "Samir"]),
    ("Birthdate = 1990-04-01", ["Wile", "Samir"]),
    ("Birthdate < 1990-01-01", ["Peter"]),
    ("Birthdate != 1990-04-01", ["Hank", "Peter"]),
    ("SystemModstamp > 2024-01-01T00:00:00Z", ["Hank", "Peter", "Samir"]),
    ("SystemModstamp >= 2024-01-01T00:00:00.000+0000", ["Wile", "Hank", "Peter", "Samir"]),
    ("SystemModstamp = 2024-01-01T07:00:00-05:00", ["Hank"]),
    ("SystemModstamp = 2024-01-01T13:00:00+01:00", ["Hank"]),
    ("SystemModstamp < 2024-01-01T19:00:00-05:00", ["Wile", "Hank"]),
    ("SystemModstamp <= 2024-01-02T00:00:00.000+0000", ["Wile", "Hank", "Peter"]),
    ("SystemModstamp > 2024-01-01T00:00:00Z AND SystemModstamp <= 2024-01-02T00:00:00.000+0000", ["Hank", "Peter"]),
    ("Email LIKE '%@acme.example'", ["Wile"]),
    ("Email LIKE '%ACME%'", ["Wile"]),
    ("Email LIKE 'h_nk@%'", ["Hank"]),
    ("Email LIKE 'h_k@%'", []),
    ("Title LIKE 'Programmer\\_%'", ["Peter"]),
    ("Title LIKE 'Programmer_%'", ["Peter", "Samir"]),
    ("Title LIKE '%\\%'", ["Samir"]),
    ("Title LIKE 'eng%'", ["Wile"]),
    ("Title LIKE 'Engineer.'", []),
    ("LeadSource IN ('web', 'Trade Show')", ["Wile", "Peter", "Samir"]),
    ("LeadSource NOT IN ('Web')", ["Hank", "Peter"]),
    ("LeadSource IN ('Other', null)", ["Hank"]),
    ("Lead_Score__c IN (0, 10)", ["Wile", "Samir"]),
    ("Birthdate IN (1985-12-31)", ["Peter"]),
    ("Colors__c INCLUDES ('Red')", ["Wile", "Samir"]),
    ("Colors__c INCLUDES ('red;green')", ["Samir"]),
    ("Colors__c INCLUDES ('Red;Green', 'Green')", ["Hank", "Samir"]),
    ("Colors__c EXCLUDES ('Blue')", ["Hank", "Peter"]),
    ("Account.Name = 'acme corp'", ["Wile", "Peter", "Samir"]),
    ("Account.Name = null", ["Hank"]),
    ("Title = 'CEO' OR Lead_Score__c > 5", ["Wile", "Hank"]),
    ("(Title = 'CEO' OR Lead_Score__c > 5) AND Newsletter__c = true", ["Hank"]),
    ("NOT Title = 'CEO'", ["Wile", "Peter", "Samir"]),
    ("NOT (Lead_Score__c > 5 OR Email = null)", ["Hank", "Samir"]),
    ("IsDeleted = false AND Email != null AND Lead_Score__c >= 0", ["Wile", "Samir"]),
    ("CreatedDate = TODAY", ["Wile"]),
    ("CreatedDate = YESTERDAY", ["Hank"]),
    ("CreatedDate > TODAY", ["Samir"]),
    ("CreatedDate < TODAY", ["Hank", "Peter"]),
    ("CreatedDate >= TODAY", ["Wile", "Samir"]),
    ("CreatedDate <= TODAY", ["Wile", "Hank", "Peter"]),
    ("CreatedDate = LAST_N_DAYS:1", ["Wile", "Hank"]),
    ("CreatedDate = LAST_N_DAYS:14", ["Wile", "Hank", "Peter"]),
    ("CreatedDate = NEXT_N_DAYS:5", ["Samir"]),
    ("CreatedDate = NEXT_N_DAYS:4", []),
    ("CreatedDate = THIS_MONTH", ["Wile", "Hank", "Peter", "Samir"]),
    ("CreatedDate = THIS_WEEK", ["Wile", "Hank"]),
    ("CreatedDate = NEXT_WEEK", ["Samir"]),
    ("Birthdate < LAST_N_DAYS:365", ["Wile", "Peter", "Samir"]),
    ("Birthdate = TODAY", []),
    ("CreatedDate = THIS_QUARTER", ["Wile", "Hank", "Peter", "Samir"]),
    ("CreatedDate = LAST_N_QUARTERS:1", []),
    ("CreatedDate < NEXT_N_QUARTERS:1", ["Wile", "Hank", "Peter", "Samir"]),
    ("Birthdate = N_QUARTERS_AGO:135", ["Wile", "Samir"]),
    ("Birthdate = LAST_N_QUARTERS:136", ["Wile", "Samir"]),
    ("Birthdate = LAST_N_QUARTERS:154", ["Wile", "Peter", "Samir"]),
]


@pytest.mark.parametrize(("condition", "expected"), PREDICATE_CASES, ids=[c for c, _ in PREDICATE_CASES])
def test_where_selects_records(condition, expected):
    assert matching(condition) == expected


def test_id_matches_15_and_18_character_forms():
    assert matching(f"Id = '{WILE}'") == ["Wile"]
    assert matching(f"Id = '{WILE[:15]}'") == ["Wile"]
    assert matching(f"Id = '{WILE[:15]}{WILE[15:].lower()}'") == ["Wile"]
    assert matching(f"Id IN ('{HANK[:15]}', '{PETER}')") == ["Hank", "Peter"]
    assert matching(f"AccountId = '{ACME[:15]}'") == ["Wile", "Peter", "Samir"]
    assert matching(f"AccountId != '{ACME}'") == ["Hank"]
    assert matching("AccountId = null") == ["Hank"]


def test_id_comparison_is_case_sensitive_on_15_characters():
    swapped = WILE[:14] + WILE[14].swapcase() if WILE[14].isalpha() else WILE[:3] + WILE[3:15].swapcase()
    assert swapped != WILE[:15]
    assert matching(f"Id = '{swapped}'") == []


FIELD, OPERATOR = "INVALID_FIELD", "INVALID_QUERY_FILTER_OPERATOR"
TYPE_ERRORS = [
    ("SystemModstamp > 2024-01-01", "must be of type dateTime", FIELD),
    ("Birthdate > 2024-01-01T00:00:00Z", "must be of type date", FIELD),
    ("Lead_Score__c = '10'", "must be of type number", FIELD),
    ("Email = 5", "must be of type string", FIELD),
    ("Newsletter__c = 'true'", "must be of type boolean", FIELD),
    ("Newsletter__c > false", "invalid operator on boolean", OPERATOR),
    ("Lead_Score__c LIKE '1%'", "LIKE needs a text field", OPERATOR),
    ("Id = 'not-an-id'", "invalid ID field: not-an-id", OPERATOR),
    ("Email = TODAY", "can only filter a date or dateTime field", FIELD),
    ("LeadSource INCLUDES ('Web')", "need a multi-select picklist", OPERATOR),
    ("Colors__c IN ('Red')", "INCLUDES or EXCLUDES", OPERATOR),
    ("MailingAddress = 'x'", "can not be filtered", FIELD),
    ("Birthdate IN (TODAY)", "not allowed in an IN list", FIELD),
]


@pytest.mark.parametrize(("condition", "reason", "code"), TYPE_ERRORS, ids=[c for c, _, _ in TYPE_ERRORS])
def test_literal_that_does_not_fit_the_field_is_refused(condition, reason, code):
    query = parse_soql(f"SELECT Id FROM Contact WHERE {condition}")
    with pytest.raises(SoqlTypeError) as caught:
        compile_where(query.where, field_types, now=NOW)
    assert reason in caught.value.message
    assert caught.value.error_code == code


@pytest.mark.parametrize("condition", ["Nope__c = 'x'", "Email = 'a' AND (Title = 'b' OR Account.Nope = 1)"])
def test_unknown_field_is_refused_with_its_path(condition):
    query = parse_soql(f"SELECT Id FROM Contact WHERE {condition}")
    with pytest.raises(SoqlFieldError) as caught:
        compile_where(query.where, field_types, now=NOW)
    assert caught.value.path in {("Nope__c",), ("Account", "Nope")}


def test_no_where_matches_everything():
    predicate = compile_where(None, field_types)
    assert all(predicate(getter(r)) for r in RECORDS)


def ordered(order_by: str) -> list[str]:
    query = parse_soql(f"SELECT Id FROM Contact ORDER BY {order_by}")
    key = sort_key(query.order_by)
    return [NAMES[r["Id"]] for r in sorted(RECORDS, key=lambda r: key(getter(r)))]


ORDER_CASES = [
    ("LastName", ["Wile", "Peter", "Samir", "Hank"]),
    ("LastName DESC", ["Hank", "Samir", "Peter", "Wile"]),
    ("Email", ["Peter", "Hank", "Samir", "Wile"]),
    ("Email NULLS LAST", ["Hank", "Samir", "Wile", "Peter"]),
    ("Email DESC", ["Wile", "Samir", "Hank", "Peter"]),
    ("Email DESC NULLS FIRST", ["Peter", "Wile", "Samir", "Hank"]),
    ("Lead_Score__c", ["Hank", "Peter", "Samir", "Wile"]),
    ("Lead_Score__c DESC", ["Wile", "Samir", "Peter", "Hank"]),
    ("NumberOfEmployees DESC, LastName", ["Peter", "Samir", "Hank", "Wile"]),
    ("NumberOfEmployees DESC, LastName DESC", ["Samir", "Peter", "Hank", "Wile"]),
    ("Birthdate, Id", ["Hank", "Peter", "Wile", "Samir"]),
    ("SystemModstamp DESC, Id", ["Samir", "Peter", "Hank", "Wile"]),
    ("Newsletter__c, LastName", ["Wile", "Peter", "Samir", "Hank"]),
]


@pytest.mark.parametrize(("order_by", "expected"), ORDER_CASES, ids=[o for o, _ in ORDER_CASES])
def test_order_by_honours_direction_and_nulls(order_by, expected):
    assert ordered(order_by) == expected


SYNC_QUERY = (
    "SELECT Id, SystemModstamp FROM Contact WHERE SystemModstamp > 2024-01-01T00:00:00Z "
    "AND SystemModstamp <= 2024-01-02T00:00:00.000+0000 ORDER BY SystemModstamp, Id LIMIT 2000"
)


def bounds_of(text: str, field: str = "SystemModstamp"):
    return index_bounds(parse_soql(text).where, field=field, now=NOW)


def test_index_bounds_of_the_sync_query():
    assert bounds_of(SYNC_QUERY) == Bounds(
        low=dt.datetime(2024, 1, 1, tzinfo=UTC), low_inclusive=False,
        high=dt.datetime(2024, 1, 2, tzinfo=UTC), high_inclusive=True,
    )


BOUNDS_CASES = [
    ("SystemModstamp >= 2024-01-01T00:00:00-05:00",
     Bounds(low=dt.datetime(2024, 1, 1, 5, tzinfo=UTC), low_inclusive=True)),
    ("SystemModstamp < 2024-01-01T00:00:00Z AND IsDeleted = false",
     Bounds(high=dt.datetime(2024, 1, 1, tzinfo=UTC), high_inclusive=False)),
    ("SystemModstamp = 2024-01-01T00:00:00Z",
     Bounds(low=dt.datetime(2024, 1, 1, tzinfo=UTC), high=dt.datetime(2024, 1, 1, tzinfo=UTC))),
    ("SystemModstamp > 2024-01-01T00:00:00Z AND SystemModstamp >= 2024-02-01T00:00:00Z AND systemmodstamp < 2024-03-01T00:00:00Z",
     Bounds(low=dt.datetime(2024, 2, 1, tzinfo=UTC), low_inclusive=True,
            high=dt.datetime(2024, 3, 1, tzinfo=UTC), high_inclusive=False)),
    ("SystemModstamp >= 2024-01-01T00:00:00Z AND SystemModstamp > 2024-01-01T00:00:00Z",
     Bounds(low=dt.datetime(2024, 1, 1, tzinfo=UTC), low_inclusive=False)),
    ("(SystemModstamp > 2024-01-01T00:00:00Z AND Email != null) AND SystemModstamp < 2024-02-01T00:00:00Z",
     Bounds(low=dt.datetime(2024, 1, 1, tzinfo=UTC), low_inclusive=False,
            high=dt.datetime(2024, 2, 1, tzinfo=UTC), high_inclusive=False)),
    ("SystemModstamp = TODAY",
     Bounds(low=dt.datetime(2024, 3, 15, tzinfo=UTC), high=dt.datetime(2024, 3, 16, tzinfo=UTC), high_inclusive=False)),
    ("SystemModstamp > 2024-01-01T00:00:00Z OR Email = 'a'", None),
    ("NOT SystemModstamp > 2024-01-01T00:00:00Z", None),
    ("SystemModstamp != 2024-01-01T00:00:00Z", None),
    ("Email = 'a'", None),
    ("Account.SystemModstamp > 2024-01-01T00:00:00Z", None),
]


@pytest.mark.parametrize(("condition", "expected"), BOUNDS_CASES, ids=[c for c, _ in BOUNDS_CASES])
def test_index_bounds(condition, expected):
    assert bounds_of(f"SELECT Id FROM Contact WHERE {condition}") == expected


def test_index_bounds_without_where():
    assert index_bounds(parse_soql("SELECT Id FROM Contact").where) is None


def test_index_bounds_on_id_give_exact_18_character_keys():
    assert bounds_of(f"SELECT Id FROM Contact WHERE Id = '{WILE[:15]}'", field="Id").exact == [WILE]
    found = bounds_of(f"SELECT Id FROM Contact WHERE Id IN ('{WILE}', '{HANK[:15]}') AND Email != null", field="Id")
    assert found.exact == [WILE, HANK]
    narrowed = bounds_of(f"SELECT Id FROM Contact WHERE Id IN ('{WILE}', '{HANK}') AND Id = '{HANK}'", field="Id")
    assert narrowed.exact == [HANK]
    assert bounds_of(f"SELECT Id FROM Contact WHERE Id NOT IN ('{WILE}')", field="Id") is None
    assert bounds_of(f"SELECT Id FROM Contact WHERE Id = '{WILE}' OR Email = 'a'", field="Id") is None


def test_sync_window_query_over_a_page_of_rows():
    """The sync's incremental query filters and orders a page of rows (its speed is in benchmarks/emulator.py)."""
    base = dt.datetime(2024, 1, 1, tzinfo=UTC)
    rows = [
        {"id": make_id("003", n), "systemmodstamp": base + dt.timedelta(seconds=n), "email": f"p{n}@x.example",
         "isdeleted": n % 7 == 0}
        for n in range(3000)
    ]
    query = parse_soql(
        "SELECT Id, SystemModstamp FROM Contact WHERE SystemModstamp > 2024-01-01T00:00:00Z "
        "AND SystemModstamp <= 2024-01-02T00:00:00.000+0000 AND IsDeleted = false AND Email LIKE 'p%' "
        "ORDER BY SystemModstamp, Id LIMIT 2000"
    )
    getters = [(lambda row: lambda path: row.get(path[0].lower()))(row) for row in rows]
    predicate = compile_where(query.where, field_types, now=NOW)
    key = sort_key(query.order_by)
    picked = sorted((get for get in getters if predicate(get)), key=key)
    expected = [n for n in range(1, 3000) if n % 7 != 0]
    assert [get(("Id",)) for get in picked] == [make_id("003", n) for n in expected]
