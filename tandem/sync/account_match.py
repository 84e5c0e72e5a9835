"""Convert Person's account match: the one Account named as the person's company, or whose website
is on the person's email domain.

The website is compared by host, not by text: `https://www.initech.example/about` is on
`initech.example` (and so is `sales.initech.example`), but `tech.example` is not on it. SOQL can
only narrow the candidates (LIKE on the domain); the host check is done here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from tandem.errors import InvalidInput
from tandem.salesforce.ids import to_18
from tandem.salesforce.soql import like_pattern, quoted

MAX_CANDIDATES = 1000
"""More candidate Accounts than this and the match is refused rather than guessed."""


class Queries(Protocol):
    def query(self, soql: str) -> Iterable[dict[str, Any]]: ...


def email_domain(email: str | None) -> str | None:
    """The part after the last `@`, lower case, without a trailing dot; None if there is none."""
    if not email or "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].strip().lower().rstrip(".")
    return domain or None


def website_host(website: str | None) -> str | None:
    """The host of a website as people type it (`HTTPS://www.X.example:443/path`) → `x.example`."""
    if not website or not website.strip():
        return None
    text = website.strip().lower()
    scheme, separator, rest = text.partition("://")
    if separator and scheme.replace("+", "").replace("-", "").replace(".", "").isalnum():
        text = rest
    text = text.lstrip("/")
    for end in "/?#\\":
        text = text.split(end, 1)[0]
    text = text.rsplit("@", 1)[-1]
    if text.startswith("["):
        return None
    host = text.split(":", 1)[0].rstrip(".")
    host = host.removeprefix("www.")
    return host or None


def on_domain(website: str | None, domain: str) -> bool:
    host = website_host(website)
    return host is not None and (host == domain or host.endswith("." + domain))


@dataclass(frozen=True)
class AccountMatch:
    company: str | None
    domain: str | None

    @classmethod
    def for_person(cls, company: str | None, email: str | None) -> AccountMatch:
        match = cls(company.strip() if company and company.strip() else None, email_domain(email))
        if match.company is None and match.domain is None:
            raise InvalidInput("company", "an account match needs the person's company or email")
        return match

    def soql(self) -> str:
        """Candidates: the Name equal to the company, or a Website that may be on the domain."""
        conditions = []
        if self.company:
            conditions.append(f"Name = {quoted(self.company)}")
        if self.domain:
            conditions.append(f"Website LIKE {like_pattern(self.domain, any_after=True)}")
            conditions.append(f"Website LIKE {like_pattern('.' + self.domain, any_before=True, any_after=True)}")
            conditions.append(f"Website LIKE {like_pattern('/' + self.domain, any_before=True, any_after=True)}")
            conditions.append(f"Website LIKE {like_pattern('@' + self.domain, any_before=True, any_after=True)}")
        return f"SELECT Id, Name, Website FROM Account WHERE {' OR '.join(conditions)} LIMIT {MAX_CANDIDATES + 1}"

    def matches(self, row: dict[str, Any]) -> bool:
        by_name = self.company is not None and (row.get("Name") or "").strip().lower() == self.company.lower()
        by_site = self.domain is not None and on_domain(row.get("Website"), self.domain)
        return by_name or by_site

    def find(self, client: Queries) -> str | None:
        """The matching Account's Id; None when there is none; InvalidInput when several match."""
        rows = list(client.query(self.soql()))
        if len(rows) > MAX_CANDIDATES:
            raise InvalidInput("matchAccount", f"more than {MAX_CANDIDATES} Accounts look alike; "
                                               "give the account id instead")
        found = [row["Id"] for row in rows if self.matches(row)]
        if len(found) > 1:
            raise InvalidInput("matchAccount", f"{len(found)} Accounts match; give the account id instead")
        return to_18(found[0]) if found else None
