"""Where a change to a person came from, and so whether it is queued to go to Salesforce."""

from __future__ import annotations

from enum import StrEnum

from tandem.errors import InvalidInput


class ChangeOrigin(StrEnum):
    """The origin of a change, or of a sync outcome, as the activity log's `Source` shows it.

    A change from any origin but `SALESFORCE` was made on the marketing side and is queued to be
    pushed; a change pulled from Salesforce (or a merge done there) never goes back.
    """

    MARKETING = "marketing"
    """An edit made in Tandem by a program using the store directly (the demo's marketer, a script)."""
    CLI = "cli"
    API = "Web service API"
    """The Marketo-style REST API (the name Marketo gives this source)."""
    FLOW_ACTION = "flow action"
    """Sync Person to SFDC and Convert Person."""
    SYNC_CYCLE = "sync cycle"
    """The continuous sync's own writes (push outcomes)."""
    SALESFORCE = "salesforce"

    @property
    def queued_for_push(self) -> bool:
        """A change of this origin becomes a pending change, to be pushed to Salesforce."""
        return self is not ChangeOrigin.SALESFORCE

    @classmethod
    def of(cls, value: ChangeOrigin | str) -> ChangeOrigin:
        """The origin a caller names; anything else is refused before a write."""
        try:
            return cls(value)
        except ValueError:
            allowed = ", ".join(repr(member.value) for member in cls)
            raise InvalidInput("origin", f"expected one of {allowed}, got {value!r}") from None

    @classmethod
    def stored(cls, value: str) -> ChangeOrigin:
        """The origin a stored row names; rows written before this enum may hold older names."""
        if value in _LEGACY:
            return _LEGACY[value]
        try:
            return cls(value)
        except ValueError:
            return cls.MARKETING  # an older free-text source: some marketing-side writer


_LEGACY = {"api": ChangeOrigin.API, "sync": ChangeOrigin.SYNC_CYCLE}
