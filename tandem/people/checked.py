"""Person values already converted and checked, so a write takes them as they are.

A pull converts every value of a page once, where the row enters (`tandem.sync.records`), with
the converters of `validation.converter`; writing the person row, the bases and the activities
from those values checks nothing again. Any other mapping handed to a write is checked there.
"""

from __future__ import annotations

from typing import Any


class Checked(dict[str, Any]):
    """Field name → value in the field's type, each checked by the field's converter.

    Only values a converter returned belong here: a write trusts them (the field names are still
    checked against the catalog and its write access).
    """
