"""`Formula`: a parsed, checked formula ready to evaluate against records, and `parse_formula`."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from tandem.emulator.formula.context import FormulaContext
from tandem.emulator.formula.errors import FormulaError
from tandem.emulator.formula.evaluate import Compiled, compile_node
from tandem.emulator.formula.parser import parse_tree
from tandem.emulator.formula.tree import Node, referenced_fields


@dataclass(frozen=True)
class Formula:
    text: str
    tree: Node
    _compiled: Compiled = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", compile_node(self.tree))

    def fields(self) -> set[str]:
        """The field names the formula reads, as written (to check rules against the schema)."""
        return referenced_fields(self.tree)

    def evaluate(self, ctx: FormulaContext) -> object:
        """The formula's value on one record; FormulaError when it cannot be computed."""
        try:
            return self._compiled(ctx)
        except FormulaError:
            raise
        except (TypeError, ValueError, ArithmeticError) as exc:
            # A value of a shape no rule expects is Salesforce's "#Error!", not a crash of the write.
            raise FormulaError(f"#Error!: {exc}") from exc


@functools.lru_cache(maxsize=512)
def parse_formula(text: str) -> Formula:
    """Parse and check a formula; FormulaSyntaxError (with line and column) on bad text."""
    return Formula(text, parse_tree(text))
