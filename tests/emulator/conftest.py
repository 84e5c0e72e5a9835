"""The emulator as every real-client test sees it: one HTTPS server per session, reset before each test.

The fixtures (`emulator`, `base_url`, `ca_path`, `http`, `reset_emulator`, `sf_token`, `sf`, ...)
live in `tests/https_emulator.py` and reach every suite through `tests/conftest.py`,
so the whole test session shares one emulator. TLS trust: sessions there set `trust_env = False`,
because REQUESTS_CA_BUNDLE would otherwise override `Session.verify` and the emulator's CA
(`ca_path`) would not be used.
"""
