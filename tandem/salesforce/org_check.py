"""What `tandem check` learns from an org before any sync: who the sync user is and what it may do.

It logs in, reads the user's identity and the org's API usage, describes Lead, Contact and Account
as the sync user, lists the fields hidden from it through the Tooling API's `FieldDefinition`
(where the user may read setup), looks for the link field and the converted lead status, and turns
each gap into a `Finding` with its fix. A finding of level `problem` means a sync cannot run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from tandem.errors import AuthenticationFailed, SalesforceError, Unreachable, UntrustedCertificate
from tandem.salesforce.client import SalesforceClient, version_unserved
from tandem.salesforce.soql import quoted

Level = Literal["ok", "warning", "problem"]
CHECKED_OBJECTS = ("Lead", "Contact", "Account")
REQUIRED_FIELDS = ("Id", "SystemModstamp", "IsDeleted", "LastName", "Email")
"""Fields the sync reads on Lead and Contact; without any of them the sync cannot run."""
_FLS_FIX = ("Setup > Object Manager > {object} > Fields & Relationships > {field} > Set Field-Level Security "
            "(or a permission set for the sync user)")


@dataclass(frozen=True)
class Finding:
    level: Level
    subject: str
    text: str
    fix: str | None = None


@dataclass(frozen=True)
class DescribedField:
    name: str
    type: str
    updateable: bool
    createable: bool
    calculated: bool
    custom: bool

    @classmethod
    def from_describe(cls, raw: Mapping[str, Any]) -> DescribedField:
        name = str(raw["name"])
        return cls(name, str(raw.get("type") or ""), bool(raw.get("updateable")), bool(raw.get("createable")),
                   bool(raw.get("calculated")), bool(raw.get("custom")) or name.endswith("__c"))


@dataclass(frozen=True)
class ObjectAccess:
    """An object as the sync user sees it; `hidden` is None when the hidden fields cannot be listed."""

    name: str
    describe: Mapping[str, Any] | None
    fields: tuple[DescribedField, ...] = ()
    hidden: tuple[str, ...] | None = None
    hidden_unknown_reason: str | None = None

    def flag(self, key: str) -> bool:
        return bool(self.describe and self.describe.get(key))

    def field(self, name: str) -> DescribedField | None:
        return next((f for f in self.fields if f.name.lower() == name.lower()), None)


@dataclass(frozen=True)
class OrgCheck:
    login_url: str
    user: Mapping[str, Any] = field(default_factory=dict)
    api_usage: tuple[int, int] | None = None
    objects: Mapping[str, ObjectAccess] = field(default_factory=dict)
    converted_status: str | None = None
    findings: tuple[Finding, ...] = ()

    @property
    def can_sync(self) -> bool:
        return not any(f.level == "problem" for f in self.findings)


def check_org(client: SalesforceClient, *, link_field: str, objects: tuple[str, ...] = CHECKED_OBJECTS) -> OrgCheck:
    """Everything `tandem check` reports about the org the client logs in to (a few API calls per object)."""
    login_url = client.credentials.login_url
    try:
        user = client.identity()
    except SalesforceError as error:
        return OrgCheck(login_url, findings=(Finding("problem", "login", str(error), error.hint),))
    findings: list[Finding] = [Finding("ok", "login", f"logged in as {user.get('username')}")]
    unserved = _unserved_version(client)
    if unserved is not None:  # else every describe fails as if the user could not read the object
        return OrgCheck(login_url, user, findings=(*findings, unserved))
    usage = _api_usage(client, findings)
    accesses = {name: _object_access(client, name) for name in objects}
    for access in accesses.values():
        findings.extend(_object_findings(access, link_field))
    converted = _converted_status(client, findings) if "Lead" in objects else None
    return OrgCheck(login_url, user, usage, accesses, converted, tuple(findings))


def _unserved_version(client: SalesforceClient) -> Finding | None:
    """A problem when the org does not serve the configured API version."""
    try:
        versions = client.api_versions()
    except SalesforceError:
        return None  # the describes will say what is wrong
    unserved = version_unserved(client.api_version, versions)
    return None if unserved is None else Finding("problem", "API version", *unserved)


def _api_usage(client: SalesforceClient, findings: list[Finding]) -> tuple[int, int] | None:
    try:
        daily = client.limits().get("DailyApiRequests") or {}
    except SalesforceError as error:
        findings.append(Finding("warning", "API usage", f"cannot read the org's limits: {error}", error.hint))
        return None
    limit, remaining = int(daily.get("Max", 0)), int(daily.get("Remaining", 0))
    used = limit - remaining
    if limit and remaining <= 0:
        findings.append(Finding("problem", "API usage", f"the daily API limit is spent ({used} of {limit})",
                                "wait for the 24-hour window to move on, or ask Salesforce for a higher limit"))
    elif limit and remaining < limit * 0.1:
        findings.append(Finding("warning", "API usage", f"{remaining} of {limit} daily API calls left",
                                "lengthen TANDEM_SYNC_INTERVAL_SECONDS or find what else spends the calls"))
    return (used, limit) if limit else None


def _object_access(client: SalesforceClient, name: str) -> ObjectAccess:
    try:
        describe = client.describe(name)
    except SalesforceError as error:
        return ObjectAccess(name, None, hidden_unknown_reason=str(error))
    fields = tuple(DescribedField.from_describe(f) for f in describe.get("fields", ()))
    hidden, reason = hidden_fields(client, name, {f.name.lower() for f in fields})
    return ObjectAccess(name, describe, fields, hidden, reason)


def hidden_fields(client: SalesforceClient, object_name: str, visible: set[str]) -> tuple[tuple[str, ...] | None, str | None]:
    """The object's fields the describe left out (hidden from the user), or None and why they cannot be listed."""
    soql = ("SELECT QualifiedApiName, DataType FROM FieldDefinition "
            f"WHERE EntityDefinition.QualifiedApiName = {quoted(object_name)}")
    try:
        rows = client.tooling_query(soql)
    except (AuthenticationFailed, Unreachable, UntrustedCertificate):
        raise  # no call reaches the org: the command fails on it, as every other one does
    except SalesforceError as error:
        if error.status == 404 or error.error_code == "NOT_FOUND":
            why = "this org does not answer the Tooling API (FieldDefinition)"
        elif error.error_code in ("INVALID_TYPE", "INSUFFICIENT_ACCESS", "INSUFFICIENT_ACCESS_OR_READONLY") \
                or error.status == 403:  # without View Setup, Salesforce says FieldDefinition is no type it knows
            why = "the sync user may not read setup (it needs the View Setup and Configuration permission)"
        else:
            why = f"the Tooling API refused: {error}"
        return None, why
    names = sorted(str(r["QualifiedApiName"]) for r in rows if str(r.get("QualifiedApiName", "")).lower() not in visible)
    return tuple(names), None


def _object_findings(access: ObjectAccess, link_field: str) -> list[Finding]:
    name = access.name
    if access.describe is None:
        return [Finding("problem", name, f"the sync user cannot describe {name}: {access.hidden_unknown_reason}",
                        f"give the sync user's profile or a permission set Read and Edit on {name}")]
    out: list[Finding] = []
    needed = ("queryable",) if name == "Account" else ("queryable", "updateable", "createable")
    missing = [flag for flag in needed if not access.flag(flag)]
    if missing:
        verbs = {"queryable": "read", "updateable": "edit", "createable": "create"}
        out.append(Finding("problem", name, f"the sync user cannot {', '.join(verbs[m] for m in missing)} {name} records",
                           f"give the sync user's profile or a permission set {', '.join(verbs[m].title() for m in missing)} on {name}"))
    else:
        out.append(Finding("ok", name, f"the sync user can {'read' if name == 'Account' else 'read, create and edit'} {name}"))
    if name != "Account":
        for required in REQUIRED_FIELDS:
            if access.field(required) is None:
                out.append(Finding("problem", f"{name}.{required}", "hidden from the sync user; the sync needs it",
                                   _FLS_FIX.format(object=name, field=required)))
        out.extend(_link_findings(access, link_field))
        for f in access.fields:
            if f.custom and not f.updateable and not f.calculated and f.name.lower() != link_field.lower():
                out.append(Finding("warning", f"{name}.{f.name}", "read-only for the sync user: pulled, never pushed",
                                   _FLS_FIX.format(object=name, field=f.name)))
            elif not f.custom and f.name in _PUSHED_STANDARD and not f.updateable:
                out.append(Finding("warning", f"{name}.{f.name}", "read-only for the sync user: pulled, never pushed",
                                   _FLS_FIX.format(object=name, field=f.name)))
    if access.hidden is None:
        out.append(Finding("warning", f"{name} hidden fields", f"cannot be listed: {access.hidden_unknown_reason}",
                           "give the sync user View Setup and Configuration to list them, or compare its field-level "
                           "security with an administrator's in Setup"))
    else:
        for hidden in access.hidden:
            out.append(Finding("warning", f"{name}.{hidden}", "hidden from the sync user: never synced",
                               _FLS_FIX.format(object=name, field=hidden)))
    return out


_PUSHED_STANDARD = frozenset({
    "Email", "FirstName", "LastName", "Title", "Phone", "MobilePhone", "Fax", "Salutation", "LeadSource",
    "HasOptedOutOfEmail", "Description", "Company", "Street", "City", "State", "PostalCode", "Country",
    "MailingStreet", "MailingCity", "MailingState", "MailingPostalCode", "MailingCountry", "Rating",
    "Industry", "Website", "AnnualRevenue", "NumberOfEmployees", "Birthdate",
})
"""Standard Lead and Contact fields Tandem writes: read-only ones are worth a warning."""


def _link_findings(access: ObjectAccess, link_field: str) -> list[Finding]:
    name = access.name
    found = access.field(link_field)
    fix = (f"create the text field {link_field} (length 36, External ID, Unique) on {name}: Setup > Object Manager > "
           f"{name} > Fields & Relationships > New, and give the sync user Edit on it")
    if found is None:
        hidden = access.hidden is not None and any(h.lower() == link_field.lower() for h in access.hidden)
        text = "exists but is hidden from the sync user" if hidden else "is missing (or hidden from the sync user)"
        return [Finding("problem", f"{name}.{link_field}", f"the link field {text}; Sync Person to SFDC needs it",
                        _FLS_FIX.format(object=name, field=link_field) if hidden else fix)]
    if not (found.updateable and found.createable):
        return [Finding("problem", f"{name}.{link_field}", "the link field is read-only for the sync user",
                        _FLS_FIX.format(object=name, field=link_field))]
    return [Finding("ok", f"{name}.{link_field}", "the link field is there and writable")]


def _converted_status(client: SalesforceClient, findings: list[Finding]) -> str | None:
    try:
        rows = list(client.query("SELECT MasterLabel FROM LeadStatus WHERE IsConverted = true LIMIT 1"))
    except SalesforceError as error:
        findings.append(Finding("warning", "converted lead status", f"cannot be read: {error}",
                                "give the sync user Read on Lead; `person convert` needs a converted status"))
        return None
    if not rows:
        findings.append(Finding("warning", "converted lead status", "the org has none; `person convert` cannot run",
                                "mark a Lead Status as Converted: Setup > Object Manager > Lead > Fields > Lead Status"))
        return None
    status = str(rows[0]["MasterLabel"])
    findings.append(Finding("ok", "converted lead status", f"converted leads get status {status!r}"))
    return status
