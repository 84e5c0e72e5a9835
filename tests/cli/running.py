"""Run `tandem` as a user does: a process of its own, in a folder of its own, 80 columns wide."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tandem.emulator.sample_org import CONNECTED_APP, UserLogin


def tandem(cwd: Path, *args: str, env: dict[str, str] | None = None, stdin: str | None = None,
           timeout: float = 120) -> subprocess.CompletedProcess[str]:
    base = {"PATH": "/usr/bin:/bin", "COLUMNS": "80", "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "tandem", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**base, **(env or {})}, input=stdin)


def org_env(login_url: str, ca_path: Path | str, user: UserLogin | None = None, **extra: str) -> dict[str, str]:
    """Settings for a Salesforce org at `login_url` (the test emulator, as a real org is set up)."""
    env = {"TANDEM_SF_LOGIN_URL": login_url, "TANDEM_SF_CA_BUNDLE": str(ca_path),
           "TANDEM_SF_CLIENT_ID": CONNECTED_APP.client_id, "TANDEM_SF_CLIENT_SECRET": CONNECTED_APP.client_secret}
    if user is not None:
        env |= {"TANDEM_SF_USERNAME": user.username, "TANDEM_SF_PASSWORD": user.password}
    return env | extra


def flat(text: str) -> str:
    """Text with its line wrapping undone (every run of whitespace one space)."""
    return " ".join(text.split())
