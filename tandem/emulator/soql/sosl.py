"""SOSL text → `Search`: `FIND {terms} [IN scope FIELDS] [RETURNING Obj(fields [WHERE …] [ORDER BY …]
[LIMIT n]), …] [LIMIT n]`, parsed with Lark; and the search-term language shared with parameterizedSearch.

A RETURNING clause's WHERE and ORDER BY stay SOQL text: the object's query runs them.
Terms: words and "quoted phrases", `*` (any characters) and `?` (one character) wildcards, joined by
AND (the default), OR and AND NOT; a term matches a whole word of a searched field, case-insensitively.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lark import Lark, Token
from lark.exceptions import UnexpectedInput

from tandem.emulator.soql.errors import SoqlError

SCOPES = ("ALL", "NAME", "EMAIL", "PHONE")
MAX_LIMIT = 2000

_GRAMMAR = r"""
start: "FIND"i TERMS in_clause? returning? limit?
in_clause: "IN"i SCOPE "FIELDS"i
returning: "RETURNING"i object_spec ("," object_spec)*
object_spec: NAME ("(" BODY ")")?
limit: "LIMIT"i INT

TERMS: /\{([^}\\]|\\.)*\}/ | /'([^'\\]|\\.)*'/
SCOPE: /(ALL|NAME|EMAIL|PHONE)\b/i
NAME: /[A-Za-z][A-Za-z0-9_]*/
BODY: /([^()']|'([^'\\]|\\.)*'|\(([^()']|'([^'\\]|\\.)*')*\))+/
INT: /[0-9]+/
%import common.WS
%ignore WS
"""
_PARSER = Lark(_GRAMMAR, parser="lalr")
_CLAUSE = re.compile(r"\s+(WHERE|ORDER\s+BY|LIMIT|OFFSET)\b", re.IGNORECASE)
_TAIL_LIMIT = re.compile(r"\s+LIMIT\s+(\d+)\s*$", re.IGNORECASE)


class SoslError(SoqlError):
    """A search that does not parse (Salesforce's MALFORMED_SEARCH)."""


@dataclass(frozen=True)
class Term:
    pattern: re.Pattern
    negated: bool = False


@dataclass(frozen=True)
class Terms:
    """Alternatives (OR) of conjunctions (AND, AND NOT) of terms."""

    alternatives: tuple[tuple[Term, ...], ...]

    def matches(self, texts: list[str]) -> bool:
        joined = "\n".join(t.lower() for t in texts if t)
        return any(
            all(bool(term.pattern.search(joined)) != term.negated for term in group)
            for group in self.alternatives
        )


@dataclass(frozen=True)
class ObjectSpec:
    name: str
    fields: tuple[str, ...] = ()
    where: str | None = None
    order_by: str | None = None
    limit: int | None = None


@dataclass(frozen=True)
class Search:
    terms: Terms
    scope: str = "ALL"
    returning: tuple[ObjectSpec, ...] = field(default_factory=tuple)
    limit: int = MAX_LIMIT
    default_fields: tuple[str, ...] = ()
    """Fields returned for each object when the search names no objects (parameterizedSearch's `fields`)."""


_WORD = r"[0-9a-z\u00c0-\uffff]"


def _term_pattern(text: str) -> re.Pattern:
    parts = []
    for ch in text.lower():
        if ch == "*":
            parts.append(r"\S*")
        elif ch == "?":
            parts.append(r"\S")
        elif ch.isspace():
            parts.append(r"\s+")
        else:
            parts.append(re.escape(ch))
    return re.compile(rf"(?<!{_WORD})" + "".join(parts) + rf"(?!{_WORD})")


def parse_terms(text: str) -> Terms:
    """Search terms as written inside `FIND {…}` or in parameterizedSearch's `q`."""
    tokens = re.findall(r'"[^"]*"|\S+', text.strip())
    if not tokens:
        raise SoslError("search term must be longer than one character")
    groups: list[list[Term]] = [[]]
    negate = False
    for token in tokens:
        if token == "OR":
            groups.append([])
            continue
        if token == "AND":
            continue
        if token == "NOT":
            negate = True
            continue
        word = token[1:-1] if token.startswith('"') and token.endswith('"') and len(token) > 1 else token
        if len(word.replace("*", "").replace("?", "")) < 2:
            raise SoslError(f"search term must be longer than one character: {word}")
        groups[-1].append(Term(_term_pattern(word), negate))
        negate = False
    if any(not group or all(term.negated for term in group) for group in groups):
        raise SoslError("search terms must include at least one term that is not negated")
    return Terms(tuple(tuple(group) for group in groups))


def _unbrace(token: str) -> str:
    inner = token[1:-1]
    return re.sub(r"\\(.)", r"\1", inner)


def _object_spec(name: str, body: str | None) -> ObjectSpec:
    if body is None:
        return ObjectSpec(name)
    found = _CLAUSE.search(" " + body)
    field_text = (" " + body)[:found.start()] if found else body
    rest = (" " + body)[found.start():].strip() if found else ""
    fields = tuple(part.strip() for part in field_text.split(",") if part.strip())
    if not fields:
        raise SoslError(f"RETURNING {name}: a field list is required inside the parentheses")
    limit = None
    tail = _TAIL_LIMIT.search(" " + rest)
    if tail:
        limit = int(tail.group(1))
        rest = (" " + rest)[:tail.start()].strip()
    where = order_by = None
    if rest:
        order = re.search(r"\bORDER\s+BY\b", rest, re.IGNORECASE)
        if order:
            order_by = rest[order.end():].strip()
            rest = rest[:order.start()].strip()
            if not order_by:
                raise SoslError(f"RETURNING {name}: ORDER BY needs a field")
        if rest:
            if not rest.upper().startswith("WHERE"):
                raise SoslError(f"RETURNING {name}: unexpected '{rest.split()[0]}'")
            where = rest[5:].strip()
            if not where:
                raise SoslError(f"RETURNING {name}: WHERE needs a condition")
    return ObjectSpec(name, fields, where, order_by, limit)


def parse_sosl(text: str) -> Search:
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as exc:
        raise SoslError(f"unexpected token at column {getattr(exc, 'column', '?')} in the search") from None
    terms_token: Token = tree.children[0]
    scope, specs, limit = "ALL", [], MAX_LIMIT
    for part in tree.children[1:]:
        if part.data == "in_clause":
            scope = str(part.children[0]).upper()
        elif part.data == "returning":
            for spec in part.children:
                name, *body = spec.children
                specs.append(_object_spec(str(name), str(body[0]) if body else None))
        elif part.data == "limit":
            limit = min(int(part.children[0]), MAX_LIMIT)
    return Search(parse_terms(_unbrace(str(terms_token))), scope, tuple(specs), limit)
