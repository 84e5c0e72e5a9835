"""Fixtures every suite shares: the bundled Salesforce emulator over HTTPS (see its module for TLS trust),
and an empty database of each kind."""

from tests.https_emulator import (  # noqa: F401
    base_url,
    ca_path,
    emulator,
    get_token,
    http,
    new_session,
    reset_emulator,
    sample_org_path,
    sf,
    sf_token,
)
from tests.postgres import database_url  # noqa: F401
