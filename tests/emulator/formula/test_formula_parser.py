"""Formula parsing: the tree, precedence, referenced fields, and what is refused at load time."""

from __future__ import annotations

import pytest

from tandem.emulator.formula import (
    Binary,
    Call,
    FieldRef,
    FormulaSyntaxError,
    Literal,
    Unary,
    parse_formula,
)

TREES = [
    ("1 + 2 * 3", Binary("+", Literal(1), Binary("*", Literal(2), Literal(3)))),
    ("1 - 2 - 3", Binary("-", Binary("-", Literal(1), Literal(2)), Literal(3))),
    ("2 ^ 3 ^ 2", Binary("^", Literal(2), Binary("^", Literal(3), Literal(2)))),
    ("-x ^ 2", Unary("-", Binary("^", FieldRef("x"), Literal(2)))),
    ("a = 1 && b <> 2 || c", Binary("||", Binary("&&", Binary("=", FieldRef("a"), Literal(1)),
                                                 Binary("!=", FieldRef("b"), Literal(2))), FieldRef("c"))),
    ("a == b", Binary("=", FieldRef("a"), FieldRef("b"))),
    ('"x" & Name__c + 1', Binary("+", Binary("&", Literal("x"), FieldRef("Name__c")), Literal(1))),
    ("!ISNEW()", Unary("!", Call("ISNEW", ()))),
    ("isBlank(Email)", Call("ISBLANK", (FieldRef("Email"),))),
    ("Account.Owner.Name", FieldRef("Account.Owner.Name")),
    ("TRUE", Literal(True)),
    ("false", Literal(False)),
    ("Null", Literal(None)),
    ("1.25", Literal(1.25)),
    (".5", Literal(0.5)),
    ("'it\\'s'", Literal("it's")),
    ('"tab\\there"', Literal("tab\there")),
    ('"\\d+"', Literal("\\d+")),
    ("/* lead */ Lead_Score__c /* score */ < 0", Binary("<", FieldRef("Lead_Score__c"), Literal(0))),
]


@pytest.mark.parametrize(("text", "tree"), TREES, ids=[t for t, _ in TREES])
def test_formula_parses_into_tree(text, tree):
    assert parse_formula(text).tree == tree


def test_fields_lists_every_referenced_field():
    formula = parse_formula(
        'AND(ISPICKVAL(PRIORVALUE(LeadSource), "Web"), ISCHANGED(Email), Account.Name & Title = "x", 1 > 0)'
    )
    assert formula.fields() == {"LeadSource", "Email", "Account.Name", "Title"}
    assert parse_formula("TODAY() > DATE(2024, 1, 1)").fields() == set()


SYNTAX_ERRORS = [
    ("", "Formula is empty"),
    ("1 +", "missing ')' or operand"),
    ("(1 + 2", "missing ')' or operand"),
    ("1 + 2)", "Found ')'"),
    ("AND(TRUE,)", "Found ')'"),
    ("a b", "Found 'b'"),
    ("1 = = 2", "Found '='"),
    ("Email # 2", "Found '#'"),
    ('"unterminated', "Found '\"'"),
    ("FOO(1)", "Unknown function FOO"),
    ("IF(TRUE, 1)", "Incorrect number of parameters for function 'IF()'. Expected 3 argument(s), received 2"),
    ("NOT(TRUE, FALSE)", "Expected 1 argument(s), received 2"),
    ("AND()", "Expected at least 1 argument(s), received 0"),
    ("LEFT(\"abc\")", "received 1"),
    ("MID(\"abc\", 1)", "received 2"),
    ("TODAY(1)", "received 1"),
    ("CASE(x, 1, 2)", "Expected an even number of arguments, at least 4, received 3"),
    ("CASE(x, 1, 2, 3, 4)", "received 5"),
    ("ISPICKVAL(LeadSource)", "received 1"),
    ("ISPICKVAL(\"Web\", LeadSource)", "takes a picklist field as its first argument"),
    ("ISPICKVAL(LeadSource, Other)", "takes a text literal as its second argument"),
    ("ISCHANGED(1)", "ISCHANGED takes a field"),
    ("PRIORVALUE(Email & 'x')", "PRIORVALUE takes a field"),
    ("REGEX(Phone)", "received 1"),
]


@pytest.mark.parametrize(("text", "reason"), SYNTAX_ERRORS, ids=[t or "<empty>" for t, _ in SYNTAX_ERRORS])
def test_bad_formula_is_refused_when_parsed(text, reason):
    with pytest.raises(FormulaSyntaxError) as caught:
        parse_formula(text)
    assert reason in caught.value.message


def test_syntax_error_carries_its_position():
    with pytest.raises(FormulaSyntaxError) as caught:
        parse_formula("AND(\n  ISBLANK(Email),\n  FOO(1))")
    assert (caught.value.line, caught.value.column) == (3, 3)
    assert "line 3, column 3" in caught.value.message


def test_parsed_formulas_are_cached():
    assert parse_formula("ISNEW()") is parse_formula("ISNEW()")
