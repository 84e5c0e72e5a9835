"""The org-definition file (`tandem-org/1`): its typed shape and the first pass of loading it.

Shape errors are reported with the path inside the file (`users[1].profile: field required`);
checks that need the schema (unknown fields, @refs, formulas) live in `definition_checks.py`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tandem.emulator.faults import FaultSettings
from tandem.emulator.model.limits import DEFAULT_LIMITS

LOADER_FORMAT_VERSION = 1
_FORMAT_RE = re.compile(r"^tandem-org/(\d+)$")

AccessLevel = Literal["edit", "read", "none"]
CustomFieldType = Literal[
    "string", "textarea", "email", "phone", "url", "picklist", "multipicklist", "combobox", "boolean", "int",
    "double", "currency", "percent", "date", "datetime", "reference", "long", "encryptedstring", "time",
]


class OrgDefinitionError(ValueError):
    """A file the emulator cannot honour; `path` names the place inside the file."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.path = path
        self.reason = reason


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserDef(_Strict):
    username: str
    password: str
    name: str
    profile: str
    email: str | None = None
    securityToken: str | None = None
    title: str | None = None
    active: bool = True


OAuthScope = Literal["api", "refresh_token", "offline_access", "full", "web", "id", "openid", "profile", "email",
                "address", "phone", "chatter_api", "custom_permissions", "visualforce", "wave_api", "eclair_api",
                "pardot_api", "lightning", "content", "cdp_query_api", "cdp_profile_api", "cdp_ingest_api"]


class ConnectedAppDef(_Strict):
    clientId: str
    clientSecret: str
    runAs: str | None = None
    name: str | None = None
    scopes: list[OAuthScope] = Field(default_factory=lambda: ["api"], min_length=1)
    """The app's selected OAuth scopes; with `refresh_token` or `offline_access` its password
    logins also return a refresh token."""
    requireSecretForRefresh: bool = True


class ProfilePermissionsDef(_Strict):
    """System permissions, named as on Salesforce's Profile (`PermissionsViewSetup` → `ViewSetup`)."""

    ViewSetup: bool = True


class ProfileDef(_Strict):
    default: AccessLevel = "edit"
    fields: dict[str, AccessLevel] = Field(default_factory=dict)
    permissions: ProfilePermissionsDef = Field(default_factory=ProfilePermissionsDef)


class CustomFieldDef(_Strict):
    name: str
    label: str | None = None
    type: CustomFieldType
    length: int | None = Field(None, ge=1, le=131072)
    precision: int | None = Field(None, ge=1, le=18)
    scale: int | None = Field(None, ge=0, le=17)
    values: list[str] = Field(default_factory=list)
    restricted: bool = False
    externalId: bool = False
    unique: bool = False
    caseSensitive: bool = False
    required: bool = False
    referenceTo: str | None = None
    relationshipName: str | None = None
    description: str | None = None


class PicklistEntryDef(_Strict):
    value: str
    label: str | None = None
    default: bool = False
    active: bool = True
    converted: bool = False
    closed: bool = False
    won: bool = False


class QueueDef(_Strict):
    name: str
    objects: list[str]
    developerName: str | None = None
    email: str | None = None


class AssignmentRuleEntryDef(_Strict):
    when: str
    assignTo: str


class ValidationRuleDef(_Strict):
    name: str
    active: bool = True
    errorConditionFormula: str
    errorMessage: str
    errorDisplayField: str | None = None
    description: str | None = None


class AsyncApiDef(_Strict):
    """Bulk API 1.0 (`/services/async`): off answers every call `FeatureNotEnabled`, as orgs without it do."""

    enabled: bool = True
    resultChunkRows: int = Field(100_000, ge=1, le=10_000_000)


class OrgDefinition(_Strict):
    format: str
    name: str = "Emulated org"
    apiVersion: str = Field("62.0", pattern=r"^[1-9][0-9]*\.0$")
    limits: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    users: list[UserDef] = Field(min_length=1)
    connectedApps: list[ConnectedAppDef] = Field(default_factory=list)
    profiles: dict[str, ProfileDef] = Field(default_factory=dict)
    customFields: dict[str, list[CustomFieldDef]] = Field(default_factory=dict)
    picklists: dict[str, list[PicklistEntryDef]] = Field(default_factory=dict)
    queues: list[QueueDef] = Field(default_factory=list)
    assignmentRules: dict[str, list[AssignmentRuleEntryDef]] = Field(default_factory=dict)
    validationRules: dict[str, list[ValidationRuleDef]] = Field(default_factory=dict)
    faults: FaultSettings | None = None
    asyncApi: AsyncApiDef = Field(default_factory=AsyncApiDef)
    records: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)


SECTIONS = frozenset(OrgDefinition.model_fields)


def render_path(location: tuple[Any, ...]) -> str:
    """`('records', 'Contact', 2, 'AccountId')` → `records.Contact[2].AccountId`."""
    out = ""
    for part in location:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def parse_definition(raw: Any) -> OrgDefinition:
    """Validate the file's shape; unknown sections are refused unless the format is newer than ours."""
    if not isinstance(raw, dict):
        raise OrgDefinitionError("", "an org definition is a JSON object")
    fmt = raw.get("format")
    if fmt is None:
        raise OrgDefinitionError("format", "required (e.g. \"tandem-org/1\")")
    match = _FORMAT_RE.match(fmt) if isinstance(fmt, str) else None
    if not match:
        raise OrgDefinitionError("format", f"unknown format \"{fmt}\" (expected \"tandem-org/1\")")
    newer = int(match.group(1)) > LOADER_FORMAT_VERSION
    known = {}
    for key, value in raw.items():
        if key in SECTIONS:
            known[key] = value
        elif not newer:
            raise OrgDefinitionError(key, f"unknown section (format {fmt} has no section \"{key}\")")
    try:
        definition = OrgDefinition.model_validate(known)
    except ValidationError as exc:
        raise OrgDefinitionError(*first_problem(exc)) from None
    for name in definition.limits:
        if name not in DEFAULT_LIMITS and not newer:  # a newer format may know more limits
            raise OrgDefinitionError(f"limits.{name}",
                                     f"unknown limit (the org reports {', '.join(sorted(DEFAULT_LIMITS))})")
    return definition


def first_problem(exc: ValidationError) -> tuple[str, str]:
    """The path and reason of the first thing wrong, without pydantic's decoration (types, links)."""
    first = exc.errors()[0]
    reason = first["msg"]
    if first["type"] == "string_pattern_mismatch" and first["loc"] == ("apiVersion",):
        reason = f"an API version is written like \"62.0\", got \"{first.get('input')}\""
    if first["type"] == "literal_error":
        reason = f"{reason}, got \"{first.get('input')}\""
    return render_path(first["loc"]), reason


def read_definition_file(path: str | Path) -> dict:
    text = Path(path).read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise OrgDefinitionError("", f"not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}") from None
