"""Who is in the org: users, connected apps and queues from the file, with their Ids.

Checked against each other and the schema at load time, so a login or an `@user:` reference
never meets an unknown name later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tandem.emulator.model.definition import OrgDefinition, OrgDefinitionError
from tandem.emulator.model.ids import make_id
from tandem.emulator.model.schema import Schema
from tandem.emulator.model.security import Profile


@dataclass
class UserAccount:
    id: str
    username: str
    password: str = ""
    name: str = ""
    profile: str = ""
    email: str = ""
    security_token: str | None = None
    active: bool = True
    title: str | None = None

    def __repr__(self) -> str:
        return f"UserAccount(id={self.id!r}, username={self.username!r}, profile={self.profile!r})"

    @property
    def first_name(self) -> str | None:
        parts = self.name.split(" ", 1)
        return parts[0] if len(parts) > 1 else None

    @property
    def last_name(self) -> str:
        parts = self.name.split(" ", 1)
        return parts[-1] or self.username


@dataclass
class ConnectedApp:
    client_id: str
    client_secret: str
    run_as: str | None
    scopes: tuple[str, ...] = ("api",)
    require_secret_for_refresh: bool = True

    @property
    def offline(self) -> bool:
        """Whether the app may hold refresh tokens (Salesforce's `refresh_token`/`offline_access` scope)."""
        return "refresh_token" in self.scopes or "offline_access" in self.scopes

    def __repr__(self) -> str:
        return f"ConnectedApp(client_id={self.client_id!r})"


@dataclass
class Queue:
    id: str
    name: str
    developer_name: str
    objects: set[str]
    email: str | None = None


class Directory:
    def __init__(self, definition: OrgDefinition, schema: Schema, profiles: dict[str, Profile]) -> None:
        self.users: dict[str, UserAccount] = {}
        self.users_by_id: dict[str, UserAccount] = {}
        for i, spec in enumerate(definition.users):
            path = f"users[{i}]"
            if spec.profile not in profiles:
                raise OrgDefinitionError(f"{path}.profile", f"unknown profile \"{spec.profile}\"")
            key = spec.username.lower()
            if key in self.users:
                raise OrgDefinitionError(f"{path}.username", f"duplicate username \"{spec.username}\"")
            user = UserAccount(make_id("005", i + 1), spec.username, spec.password, spec.name, spec.profile,
                               spec.email or spec.username, spec.securityToken, spec.active, spec.title)
            self.users[key] = user
            self.users_by_id[user.id] = user
        self.apps: dict[str, ConnectedApp] = {}
        for i, spec in enumerate(definition.connectedApps):
            if spec.runAs is not None and spec.runAs.lower() not in self.users:
                raise OrgDefinitionError(f"connectedApps[{i}].runAs", f"unknown user \"{spec.runAs}\"")
            if spec.clientId in self.apps:
                raise OrgDefinitionError(f"connectedApps[{i}].clientId", f"duplicate clientId \"{spec.clientId}\"")
            self.apps[spec.clientId] = ConnectedApp(spec.clientId, spec.clientSecret, spec.runAs,
                                                    tuple(dict.fromkeys(spec.scopes)), spec.requireSecretForRefresh)
        self.queues: dict[str, Queue] = {}
        for i, spec in enumerate(definition.queues):
            if spec.name in self.queues:
                raise OrgDefinitionError(f"queues[{i}].name", f"duplicate queue \"{spec.name}\"")
            objects = set()
            for j, object_name in enumerate(spec.objects):
                obj = schema.object(object_name)
                owner = obj.field("OwnerId") if obj else None
                if obj is None or owner is None or "Group" not in owner.reference_to:
                    raise OrgDefinitionError(f"queues[{i}].objects[{j}]",
                                             f"\"{object_name}\" is not an object a queue can own")
                objects.add(obj.name)
            developer_name = spec.developerName or re.sub(r"\W+", "_", spec.name).strip("_")
            self.queues[spec.name] = Queue(make_id("00G", i + 1), spec.name, developer_name, objects, spec.email)
        self.admin = next((u for u in self.users.values() if profiles[u.profile].default == "edit"
                           and not profiles[u.profile].overrides), next(iter(self.users.values())))

    def user(self, username: str) -> UserAccount | None:
        return self.users.get(username.lower()) if isinstance(username, str) else None

    def queue_objects(self) -> dict[str, set[str]]:
        return {q.id: q.objects for q in self.queues.values()}

    def resolve_owner(self, reference: str) -> str | None:
        """The Id behind `@user:USERNAME` or `@queue:NAME`, or None when it names nobody."""
        if reference.startswith("@user:"):
            user = self.user(reference[6:])
            return user.id if user else None
        if reference.startswith("@queue:"):
            queue = self.queues.get(reference[7:])
            return queue.id if queue else None
        return None
