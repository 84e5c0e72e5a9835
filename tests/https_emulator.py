"""The sample org served over HTTPS for the whole test session, and sessions that trust it.

`tests/conftest.py` imports the fixtures, so every suite shares one emulator; a test that wants
a clean org asks for `reset_emulator`.

TLS trust: this machine sets REQUESTS_CA_BUNDLE, and requests lets that variable override a
Session's `verify` (it merges environment settings into each `session.request`). Sessions built
here set `trust_env = False` so the emulator's CA (`ca_path`) is the one trust anchor they use.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tandem.emulator.sample_org import ADMIN, CONNECTED_APP, SAMPLE_ORG_FILE


def https_session(ca_path: Path | str) -> requests.Session:
    """A requests session that trusts only the emulator CA, whatever the environment says."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(ca_path)
    return session


def password_token(base_url: str, session: requests.Session, username: str, password: str) -> str:
    answer = session.post(f"{base_url}/services/oauth2/token", data={
        "grant_type": "password", "client_id": CONNECTED_APP.client_id, "client_secret": CONNECTED_APP.client_secret,
        "username": username, "password": password,
    })
    answer.raise_for_status()
    return answer.json()["access_token"]


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """The sample org served over HTTPS on a free loopback port for the whole test session."""
    from tandem.emulator.model import Org
    from tandem.emulator.server import EmulatorServer

    server = EmulatorServer(Org.from_file(SAMPLE_ORG_FILE), host="127.0.0.1", port=0,
                            state_dir=tmp_path_factory.mktemp("emulator-state"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def base_url(emulator) -> str:
    return emulator.base_url


@pytest.fixture(scope="session")
def ca_path(emulator) -> Path:
    return emulator.ca_path


@pytest.fixture(scope="session")
def sample_org_path() -> Path:
    return SAMPLE_ORG_FILE


@pytest.fixture(scope="session")
def get_token():
    """`get_token(base_url, session, username, password)` → access token via the password grant."""
    return password_token


@pytest.fixture
def new_session(ca_path):
    """Make extra emulator-trusting sessions (each simple-salesforce client gets its own)."""
    made = []

    def make() -> requests.Session:
        made.append(https_session(ca_path))
        return made[-1]

    yield make
    for session in made:
        session.close()


@pytest.fixture
def http(new_session) -> requests.Session:
    return new_session()


@pytest.fixture
def reset_emulator(base_url, http) -> None:
    """Back to the org file's seed state, no Bulk jobs, fault settings from the file."""
    http.post(f"{base_url}/_emulator/reset").raise_for_status()


@pytest.fixture
def sf_token(base_url, http, reset_emulator) -> str:
    """An access token for the org's administrator (OAuth password grant)."""
    return password_token(base_url, http, *ADMIN)


@pytest.fixture
def sf(base_url, sf_token, new_session):
    """simple-salesforce in direct mode (instance_url + session_id) over the emulator's HTTPS."""
    from simple_salesforce import Salesforce

    return Salesforce(instance_url=base_url, session_id=sf_token, session=new_session())
