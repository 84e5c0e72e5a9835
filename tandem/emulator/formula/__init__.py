"""Salesforce formulas for the emulator's validation and assignment rules.

    rule = parse_formula('AND(ISPICKVAL(LeadSource, "Web"), ISBLANK(Email))')
    rule.fields()                     # {"LeadSource", "Email"}
    rule.evaluate(RecordContext({"LeadSource": "Web"}, None, {"LeadSource": "picklist", "Email": "email"}))
"""

from tandem.emulator.formula.context import FormulaContext, RecordContext
from tandem.emulator.formula.errors import FormulaError, FormulaSyntaxError
from tandem.emulator.formula.formula import Formula, parse_formula
from tandem.emulator.formula.tree import Binary, Call, FieldRef, Literal, Node, Unary

__all__ = [
    "Binary", "Call", "FieldRef", "Formula", "FormulaContext", "FormulaError", "FormulaSyntaxError",
    "Literal", "Node", "RecordContext", "Unary", "parse_formula",
]
