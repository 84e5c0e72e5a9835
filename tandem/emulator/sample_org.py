"""The sample org bundled with the emulator: its definition file, its users and its connected app.

Everything that serves the sample org or logs in to it (the commands, the demo, tests, benchmarks)
reads them from here; tests/emulator/test_sample_org.py checks them against the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

SAMPLE_ORG_FILE = Path(__file__).resolve().parent / "orgs" / "sample-org.json"


class UserLogin(NamedTuple):
    """A user's username and password; unpacks as `(username, password)`."""

    username: str
    password: str


class ClientCredentials(NamedTuple):
    """A connected app's OAuth client id and secret; unpacks as `(client_id, client_secret)`."""

    client_id: str
    client_secret: str


ADMIN = UserLogin("admin@sample.example", "admin-pass-1")
"""Ada Admin, System Administrator."""
SYNC_USER = UserLogin("sync@sample.example", "sync-pass-1")
"""Tandem Sync, profile Marketing Sync: Tandem's own user, and the connected app's run-as user."""
REP = UserLogin("rep@sample.example", "rep-pass-1")
"""Sam Seller, a sales rep (System Administrator); the Lead assignment rules give Leads to this user."""
LIMITED = UserLogin("limited@sample.example", "limited-pass-1")
"""Lee Limited, profile Limited: cannot edit Title on Lead and Contact nor read Favorite_Color__c."""
CONNECTED_APP = ClientCredentials("tandem-local", "tandem-local-secret")
"""The one connected app; its client-credentials sessions run as `SYNC_USER`."""
