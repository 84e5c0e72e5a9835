"""What to paste to reach a running emulator: its URL, users, client, CA, and snippets for
simple-salesforce and for `tandem` itself (printed by `tandem emulator serve` and `tandem demo --serve`).

Both snippets work whatever REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE say: requests lets those variables
replace a session's `verify` unless the session ignores its environment (`tandem` keeps its own CA).
"""

from __future__ import annotations

import json
from pathlib import Path


def connection_help(base_url: str, ca_path: Path, org_file: Path, database_url: str | None = None) -> list[str]:
    definition = json.loads(org_file.read_text(encoding="utf-8"))
    users = [(u["username"], u["password"], u.get("profile", "")) for u in definition.get("users", [])]
    apps = [(a["clientId"], a["clientSecret"], a.get("runAs")) for a in definition.get("connectedApps", [])]
    ca = str(ca_path.resolve())
    lines = [f"Login URL:   {base_url}  (token endpoint {base_url}/services/oauth2/token)",
             f"CA file:     {ca}"]
    for client_id, secret, run_as in apps:
        lines.append(f"Client:      {client_id} / {secret}" + (f"  (client credentials run as {run_as})" if run_as else ""))
    for username, password, profile in users:
        lines.append(f"User:        {username} / {password}  ({profile})")
    if database_url:
        lines.append(f"Database:    {database_url}")
    if not (apps and users):
        return lines
    client_id, secret, _ = apps[0]
    sync_user = next((u for u in users if u[0].startswith("sync@")), users[0])
    rep = next((u for u in users if u[0].startswith("rep@")), users[0])
    lines += [
        "",
        "simple-salesforce (Python):",
        "  import requests",
        "  from simple_salesforce import Salesforce",
        "  http = requests.Session()",
        "  http.trust_env = False  # else REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE, if set, replaces this CA",
        f"  http.verify = {ca!r}",
        f"  token = http.post({base_url + '/services/oauth2/token'!r}, data={{",
        f"      'grant_type': 'password', 'client_id': {client_id!r}, 'client_secret': {secret!r},",
        f"      'username': {rep[0]!r}, 'password': {rep[1]!r}}}).json()",
        "  sf = Salesforce(instance_url=token['instance_url'], session_id=token['access_token'], session=http)",
        "  print(sf.query('SELECT Id, Email, Title FROM Contact')['records'])",
        "",
        "tandem, against this org:",
        f"  export TANDEM_SF_LOGIN_URL={base_url} TANDEM_SF_CA_BUNDLE={ca}",
        f"  export TANDEM_SF_CLIENT_ID={client_id} TANDEM_SF_CLIENT_SECRET={secret}",
        f"  export TANDEM_SF_USERNAME={sync_user[0]} TANDEM_SF_PASSWORD={sync_user[1]}",
        "  export TANDEM_SYNC_COMMIT_LAG_SECONDS=0  # the emulator commits in stamp order: sync at once",
    ]
    if database_url:
        lines.append(f"  export TANDEM_DATABASE_URL={database_url}")
    lines += ["  tandem check && tandem status && tandem person show 1"]
    return lines
