"""Fixtures for the model tests: a fresh sample org on a controllable clock, and its users."""

from __future__ import annotations

import copy
import json

import pytest

from tandem.emulator.model import Org
from tandem.emulator.sample_org import ADMIN, REP, SAMPLE_ORG_FILE, SYNC_USER
START_MS = 1_780_000_000_000  # 2026-05-28, a fixed "now" so stamps are predictable


class FakeClock:
    """Milliseconds since the epoch that only move when a test moves them."""

    def __init__(self, now_ms: int = START_MS) -> None:
        self.ms = now_ms

    def __call__(self) -> int:
        return self.ms

    def advance(self, ms: int) -> None:
        self.ms += ms


@pytest.fixture
def sample_definition() -> dict:
    return json.loads(SAMPLE_ORG_FILE.read_text())


@pytest.fixture
def definition(sample_definition) -> dict:
    """A copy of the sample org a test may change before building an org from it."""
    return copy.deepcopy(sample_definition)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def org(sample_definition, clock) -> Org:
    return Org.from_definition(sample_definition, now_ms=clock)


def login(org: Org, username: str, password: str):
    return org.context(org.login_username_password(username, password).access_token)


@pytest.fixture
def admin(org):
    return login(org, *ADMIN)


@pytest.fixture
def sync(org):
    return login(org, *SYNC_USER)


@pytest.fixture
def rep(org):
    return login(org, *REP)
