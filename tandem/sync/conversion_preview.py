"""What *Convert Person* would do about the Account, shown before anyone confirms: the one Account
the match finds (by company name or email domain), or why none is found, so a new one would be made
(each surface words its own advice on avoiding a duplicate)."""

from __future__ import annotations

from dataclasses import dataclass

from tandem.errors import InvalidInput
from tandem.people.models import Person
from tandem.salesforce.client import SalesforceClient
from tandem.salesforce.soql import quoted
from tandem.sync.account_match import AccountMatch


@dataclass(frozen=True)
class AccountPreview:
    account_id: str | None
    account_name: str | None
    no_match: str | None
    """Why no Account is matched (a new one would be created); None when one is."""


def preview_account(client: SalesforceClient, person: Person) -> AccountPreview:
    try:
        found = AccountMatch.for_person(person.fields.get("company"), person.fields.get("email")).find(client)
    except InvalidInput as error:
        return AccountPreview(None, None, f"no Account can be matched ({error.reason})")
    if found is None:
        return AccountPreview(None, None, "no Account matches this person's company or email domain")
    rows = list(client.query(f"SELECT Id, Name FROM Account WHERE Id = {quoted(found)}"))
    return AccountPreview(found, rows[0].get("Name") if rows else None, None)
