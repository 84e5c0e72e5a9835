"""The emulator as every real-client test sees it: one HTTPS server per session, reset before each test.

The fixtures live in `tandem.emulator.wire.pytest_fixtures` so that other suites (the Salesforce
client's, the sync's) can load the same ones; see that module for how TLS trust is set up
(`trust_env = False` on every session, because REQUESTS_CA_BUNDLE would otherwise override
`Session.verify`).
"""

from tandem.emulator.wire.pytest_fixtures import (  # noqa: F401
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
