"""Formula evaluation: a table of expressions over records, blank handling, and errors."""

from __future__ import annotations

import datetime as dt

import pytest

from tandem.emulator.formula import FormulaError, RecordContext, parse_formula

UTC = dt.timezone.utc
NOW = dt.datetime(2024, 3, 15, 12, 30, tzinfo=UTC)

TYPES = {
    "FirstName": "string", "LastName": "string", "Email": "email", "Phone": "phone", "Title": "string",
    "LeadSource": "picklist", "Status": "picklist", "Colors__c": "multipicklist", "Lead_Score__c": "double",
    "NumberOfEmployees": "int", "AnnualRevenue": "currency", "Newsletter__c": "boolean",
    "Birthdate": "date", "CreatedDate": "datetime", "Notes__c": "textarea", "Account.Name": "string",
}

RECORD = {
    "FirstName": "Wile", "LastName": "Coyote", "Email": "wile@acme.example", "Phone": "+1 555 0100",
    "Title": "  Engineer ", "LeadSource": "Web", "Status": None, "Colors__c": "Red;Blue", "Lead_Score__c": 10,
    "NumberOfEmployees": None, "AnnualRevenue": 1250.5, "Newsletter__c": True, "Birthdate": dt.date(1990, 4, 1),
    "CreatedDate": dt.datetime(2024, 3, 1, 8, 0, tzinfo=UTC), "Notes__c": "", "Account.Name": "Acme Corp",
}


def run(expression: str, record: dict | None = None, prior: dict | None = None):
    values = RECORD if record is None else record
    return parse_formula(expression).evaluate(RecordContext(values, prior, TYPES, now=NOW))


CASES = [
    # literals and arithmetic
    ("1 + 2 * 3", 7),
    ("(1 + 2) * 3", 9),
    ("10 / 4", 2.5),
    ("2 ^ 3 ^ 2", 512),
    ("-2 ^ 2", -4),
    ("7 - -3", 10),
    ("+5", 5),
    ("1.5 * 2", 3.0),
    ("Lead_Score__c * 2 + 1", 21),
    ("NumberOfEmployees + 1", None),
    ("-NumberOfEmployees", None),
    ("AnnualRevenue - 0.5", 1250.0),
    # text
    ('"a" & "b"', "ab"),
    ("'single' & \"double\"", "singledouble"),
    ('FirstName & " " & LastName', "Wile Coyote"),
    ('FirstName + " " + LastName', "Wile Coyote"),
    ('Notes__c & "x"', "x"),
    ('"say \\"hi\\""', 'say "hi"'),
    ("'it\\'s'", "it's"),
    ('"a\\\\b"', "a\\b"),
    ('LEN("héllo")', 5),
    ("LEN(Notes__c)", 0),
    ("LEN(TEXT(Status))", 0),
    ("BEGINS(Email, \"wile@\")", True),
    ("BEGINS(Email, \"WILE@\")", False),
    ('CONTAINS(Email, "acme")', True),
    ('CONTAINS(Email, "ACME")', False),
    ('CONTAINS(Email, "")', True),
    ("LOWER(LastName)", "coyote"),
    ("UPPER(LastName)", "COYOTE"),
    ("TRIM(Title)", "Engineer"),
    ('LEFT("Salesforce", 5)', "Sales"),
    ('RIGHT("Salesforce", 5)', "force"),
    ('MID("Salesforce", 6, 3)', "for"),
    ('LEFT("abc", 10)', "abc"),
    ('RIGHT("abc", 0)', ""),
    ('FIND("force", "Salesforce")', 6),
    ('SUBSTITUTE("a-b-c", "-", "+")', "a+b+c"),
    ("TEXT(Lead_Score__c)", "10"),
    ("TEXT(AnnualRevenue)", "1250.5"),
    ("TEXT(LeadSource)", "Web"),
    ("TEXT(Status)", ""),
    ("TEXT(Birthdate)", "1990-04-01"),
    ("TEXT(CreatedDate)", "2024-03-01 08:00:00Z"),
    ('VALUE("42")', 42),
    ('VALUE(" 3.25 ")', 3.25),
    ('VALUE("-1e3")', -1000.0),
    ('VALUE("")', None),
    ('ISNUMBER("12.5")', True),
    ('ISNUMBER("12a")', False),
    ("ISNUMBER(Notes__c)", False),
    # comparisons
    ("Lead_Score__c = 10", True),
    ("Lead_Score__c == 10.0", True),
    ("Lead_Score__c != 10", False),
    ("Lead_Score__c <> 9", True),
    ("Lead_Score__c > 9.5", True),
    ("Lead_Score__c >= 10", True),
    ("Lead_Score__c < 10", False),
    ("Lead_Score__c <= 10", True),
    ("NumberOfEmployees < 0", False),
    ("NumberOfEmployees > 0", False),
    ("NumberOfEmployees = 0", False),
    ("NumberOfEmployees != 0", False),
    ("NumberOfEmployees = NULL", True),
    ("NumberOfEmployees != NULL", False),
    ("Lead_Score__c != NULL", True),
    ('LastName = "Coyote"', True),
    ('LastName = "coyote"', False),
    ('Notes__c = ""', True),
    ('Notes__c != "x"', True),
    ('LastName < "D"', True),
    ("Birthdate < DATE(2000, 1, 1)", True),
    ("CreatedDate < NOW()", True),
    ("Newsletter__c = TRUE", True),
    # logic
    ("AND(TRUE, Newsletter__c, Lead_Score__c > 5)", True),
    ("AND(TRUE, FALSE)", False),
    ("OR(FALSE, Lead_Score__c > 50, Newsletter__c)", True),
    ("OR(FALSE, false)", False),
    ("NOT(Newsletter__c)", False),
    ("!Newsletter__c", False),
    ("Newsletter__c && Lead_Score__c > 5", True),
    ("FALSE || Lead_Score__c > 50", False),
    ("TRUE || 1 / 0 > 1", True),
    ('IF(Lead_Score__c > 5, "hot", "cold")', "hot"),
    ('IF(NumberOfEmployees > 5, "big", "small")', "small"),
    ("IF(FALSE, 1 / 0, 2)", 2),
    ('CASE(LeadSource, "Phone Inquiry", 1, "Web", 2, 0)', 2),
    ('CASE(LeadSource, "Phone Inquiry", 1, 0)', 0),
    ('CASE(Lead_Score__c, 5, "five", 10, "ten", "other")', "ten"),
    # blanks
    ("ISBLANK(Notes__c)", True),
    ("ISBLANK(Status)", True),
    ("ISBLANK(NumberOfEmployees)", True),
    ("ISBLANK(Lead_Score__c)", False),
    ('ISBLANK("")', True),
    ('ISBLANK(" ")', False),
    ("ISNULL(NumberOfEmployees)", True),
    ("ISNULL(Lead_Score__c)", False),
    ("ISNULL(Notes__c)", False),
    ("BLANKVALUE(NumberOfEmployees, 7)", 7),
    ("BLANKVALUE(Lead_Score__c, 7)", 10),
    ('BLANKVALUE(Notes__c, "none")', "none"),
    ("NULLVALUE(NumberOfEmployees, 0) + 1", 1),
    ("NULLVALUE(Lead_Score__c, 0)", 10),
    # picklists
    ('ISPICKVAL(LeadSource, "Web")', True),
    ('ISPICKVAL(LeadSource, "web")', False),
    ('ISPICKVAL(Status, "")', True),
    ('INCLUDES(Colors__c, "Blue")', True),
    ('INCLUDES(Colors__c, "Green")', False),
    # regex
    ('REGEX(Phone, "[+]?[0-9 ().-]{7,20}")', True),
    ('REGEX(Email, "[a-z]+@")', False),
    ('REGEX(Email, "[a-z]+@.*")', True),
    ('REGEX("12345", "\\\\d{5}")', True),
    ('REGEX("12345", "\\d{5}")', True),
    # numbers
    ("ABS(-3.5)", 3.5),
    ("ABS(NumberOfEmployees)", None),
    ("ROUND(2.5, 0)", 3),
    ("ROUND(-2.5, 0)", -3),
    ("ROUND(1.005, 2)", 1.01),
    ("ROUND(1234.5678, -2)", 1200),
    ("MAX(1, 7, 3)", 7),
    ("MIN(4, -1.5, 3)", -1.5),
    ("MAX(1, NumberOfEmployees)", None),
    ("FLOOR(2.7)", 2),
    ("CEILING(2.1)", 3),
    ("MOD(7, 3)", 1),
    # dates
    ("TODAY()", dt.date(2024, 3, 15)),
    ("NOW()", NOW),
    ("DATE(2024, 2, 29)", dt.date(2024, 2, 29)),
    ("YEAR(Birthdate)", 1990),
    ("MONTH(Birthdate)", 4),
    ("DAY(Birthdate)", 1),
    ("YEAR(DATEVALUE(CreatedDate))", 2024),
    ("Birthdate + 30", dt.date(1990, 5, 1)),
    ("Birthdate - 1", dt.date(1990, 3, 31)),
    ("TODAY() - DATE(2024, 3, 1)", 14),
    ("NOW() - CreatedDate", 14 + 4.5 / 24),
    ("CreatedDate + 0.5", dt.datetime(2024, 3, 1, 20, 0, tzinfo=UTC)),
    ("YEAR(NULL)", None),
    # case-insensitive names, comments, cross-object
    ('isblank(email) || Account.Name = "Acme Corp"', True),
    ("if(true, 1, 2) /* the usual */", 1),
    ("lead_score__c", 10),
]


@pytest.mark.parametrize(("expression", "expected"), CASES, ids=[e for e, _ in CASES])
def test_formula_value(expression, expected):
    result = run(expression)
    if isinstance(expected, float):
        assert result == pytest.approx(expected)
    else:
        assert result == expected
    assert type(result) is type(expected) or isinstance(expected, (int, float)) and isinstance(result, (int, float))


def test_isnew_ischanged_and_priorvalue():
    after = dict(RECORD, Email="new@acme.example", LeadSource="Phone Inquiry")
    before = dict(RECORD)
    assert run("ISNEW()", after, None) is True
    assert run("ISNEW()", after, before) is False
    assert run("ISCHANGED(Email)", after, before) is True
    assert run("ISCHANGED(LastName)", after, before) is False
    assert run("ISCHANGED(Email)", after, None) is False
    assert run("PRIORVALUE(Email)", after, before) == "wile@acme.example"
    # Salesforce: "When users create a record, this function returns the value of the field referenced"
    assert run("PRIORVALUE(Email)", after, None) == "new@acme.example"
    assert run('ISPICKVAL(PRIORVALUE(LeadSource), "Phone Inquiry")', after, None) is True
    assert run('ISPICKVAL(PRIORVALUE(LeadSource), "Web")', after, before) is True
    assert run("TEXT(PRIORVALUE(LeadSource))", after, before) == "Web"
    assert run("AND(ISCHANGED(LeadSource), NOT(ISNEW()))", after, before) is True


def test_field_names_are_case_insensitive_in_the_context():
    context = RecordContext({"EMAIL": "x@y.example"}, None, {"email": "email"})
    assert parse_formula("Email & ''").evaluate(context) == "x@y.example"


EVALUATION_ERRORS = [
    ("Nope__c = 1", "Field Nope__c does not exist"),
    ('LeadSource = "Web"', "picklist field"),
    ('LeadSource & "x"', "picklist field"),
    ("PRIORVALUE(LeadSource)", "PRIORVALUE of picklist"),
    ('ISPICKVAL(Email, "x")', "ISPICKVAL needs a picklist field"),
    ('INCLUDES(LeadSource, "Web")', "multi-select picklist"),
    ("1 / 0", "Division by zero"),
    ("MOD(1, 0)", "Division by zero"),
    ('Lead_Score__c = "10"', "Incorrect parameter type for operator '='"),
    ('Lead_Score__c < "10"', "Incorrect parameter type for operator '<'"),
    ('"a" * 2', "expected Number"),
    ("LEN(Lead_Score__c)", "expected Text"),
    ("Lead_Score__c & 'x'", "expected Text"),
    ("IF(Lead_Score__c, 1, 2)", "expected Boolean"),
    ("AND(1, TRUE)", "expected Boolean"),
    ('VALUE("ten")', "not a number"),
    ("DATE(2023, 2, 29)", "DATE: day is out of range"),
    ("YEAR(CreatedDate)", "expected Date"),
    ('REGEX(Email, "[")', "invalid pattern"),
    ("Birthdate + Birthdate", "Incorrect parameter type for operator '+'"),
    ("CreatedDate - Birthdate", "Incorrect parameter type for operator '-'"),
]


@pytest.mark.parametrize(("expression", "reason"), EVALUATION_ERRORS, ids=[e for e, _ in EVALUATION_ERRORS])
def test_evaluation_error(expression, reason):
    with pytest.raises(FormulaError) as caught:
        run(expression)
    assert reason in caught.value.message
