"""SOSL parsing: the clauses, the RETURNING specs with their SOQL tails, and the search-term language."""

from __future__ import annotations

import pytest

from tandem.emulator.soql.sosl import ObjectSpec, SoslError, parse_sosl, parse_terms


def test_every_clause_is_read():
    search = parse_sosl("FIND {Acme Corp} IN NAME FIELDS RETURNING Account(Id, Name WHERE Industry IN ('A', 'B') "
                        "ORDER BY Name DESC LIMIT 5), Contact LIMIT 20")
    assert search.scope == "NAME" and search.limit == 20
    assert search.returning == (
        ObjectSpec("Account", ("Id", "Name"), "Industry IN ('A', 'B')", "Name DESC", 5),
        ObjectSpec("Contact"),
    )


def test_braces_may_hold_escaped_characters_and_keywords_any_case():
    search = parse_sosl(r"find {o\}brien} returning Lead(Email)")
    assert search.terms.matches(["o}brien@example.com"]) and search.scope == "ALL"


@pytest.mark.parametrize("text", ["FIND Acme", "FIND {Acme} RETURNING", "FIND {Acme} IN ANY FIELDS",
                                  "FIND {Acme} RETURNING Contact()", "FIND {x}",
                                  "FIND {Acme} RETURNING Account(Id ORDER BY)",
                                  "FIND {Acme} RETURNING Account(Id WHERE ORDER BY Name)",
                                  "FIND {Acme} RETURNING Account(Id WHERE LIMIT 2)"])
def test_malformed_searches_are_refused(text):
    """An empty WHERE or ORDER BY in a RETURNING clause was ignored and the search answered."""
    with pytest.raises(SoslError):
        parse_sosl(text)


@pytest.mark.parametrize("terms, texts, expected", [
    ("coyote", ["Wile E. Coyote"], True),
    ("coy", ["Wile E. Coyote"], False),
    ("coy*", ["Wile E. Coyote"], True),
    ("c?yote", ["Coyote"], True),
    ('"wile e"', ["Wile E. Coyote"], True),
    ("wile acme", ["Wile", "wile@acme.example"], True),
    ("wile roadrunner", ["Wile"], False),
    ("roadrunner OR wile", ["Wile"], True),
    ("wile AND NOT acme", ["Wile", "wile@acme.example"], False),
    ("wile@acme.example", ["wile@acme.example"], True),
])
def test_term_matching(terms, texts, expected):
    assert parse_terms(terms).matches(texts) is expected


def test_a_search_of_only_negated_terms_is_refused():
    with pytest.raises(SoslError):
        parse_terms("NOT acme")
