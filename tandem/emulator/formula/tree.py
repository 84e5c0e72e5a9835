"""The typed tree a formula parses into (frozen, so parsed formulas can be cached and shared)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True)
class Literal:
    """A number, string, TRUE/FALSE or NULL (None) written in the formula."""

    value: object


@dataclass(frozen=True)
class FieldRef:
    """A field by API name as written (`Email`, `Lead_Score__c`, `Account.Name`)."""

    name: str


@dataclass(frozen=True)
class Call:
    """A function call; `name` is upper-cased, arity already checked."""

    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Unary:
    op: str
    operand: Node


@dataclass(frozen=True)
class Binary:
    """An operator; `==` is normalised to `=` and `<>` to `!=`, `&&`/`||` to AND/OR."""

    op: str
    left: Node
    right: Node


Node = Union[Literal, FieldRef, Call, Unary, Binary]


def referenced_fields(node: Node) -> set[str]:
    """Every field name the formula reads, as written."""
    if isinstance(node, FieldRef):
        return {node.name}
    if isinstance(node, Call):
        found: set[str] = set()
        for arg in node.args:
            found |= referenced_fields(arg)
        return found
    if isinstance(node, Unary):
        return referenced_fields(node.operand)
    if isinstance(node, Binary):
        return referenced_fields(node.left) | referenced_fields(node.right)
    return set()
