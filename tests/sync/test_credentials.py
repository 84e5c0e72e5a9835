"""Bad credentials, an unreachable org and an untrusted certificate end the cycle at once, say why and
what to do, and never hammer the login: Salesforce locks a user after ten failed logins."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from pydantic import SecretStr

from tandem.errors import AuthenticationFailed, Unreachable, UntrustedCertificate
from tandem.emulator.sample_org import CONNECTED_APP, SYNC_USER, UserLogin
from tandem.cli.wiring import emulator_client
from tandem.salesforce.auth import Credentials
from tandem.salesforce.client import SalesforceClient
from tandem.salesforce.http import PinnedSession
from tandem.people.models import StepStatus
from tandem.sync.cycle import SyncEngine
from tandem.sync.scheduler import pause_after

WRONG = UserLogin(SYNC_USER.username, "not-the-password")


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def _engine(store, base_url, ca_path, user=WRONG, clock=None) -> SyncEngine:
    client = emulator_client(base_url, ca_path, user=user, backoff_seconds=0.01, **({"clock": clock} if clock else {}))
    return SyncEngine(client, store, **({"clock": clock} if clock else {}))


def test_a_refused_login_ends_the_cycle_once_with_the_reason_and_a_hint(store, base_url, ca_path, reset_emulator):
    engine = _engine(store, base_url, ca_path)
    report = engine.run_cycle()
    assert isinstance(report.failure, AuthenticationFailed)
    assert [s.status for s in report.steps] == [StepStatus.FAILED]  # no step after the login ran
    assert "TANDEM_SF_PASSWORD" in report.failure_message
    assert engine.client.logins == 1
    [error] = store.sync_errors.recent(since=datetime.now(UTC) - timedelta(minutes=1))
    assert error.error_code == "invalid_grant" and "TANDEM_SF_PASSWORD" in error.message
    assert "not-the-password" not in error.message


def test_cycles_under_run_do_not_log_in_again_for_an_hour(store, base_url, ca_path, reset_emulator):
    clock = Clock()
    engine = _engine(store, base_url, ca_path, clock=clock)
    for _ in range(5):
        report = engine.run_cycle()
        assert isinstance(report.failure, AuthenticationFailed)
        assert pause_after(report, 300, 1) >= 3600
        clock.now += timedelta(minutes=5)
    assert engine.client.logins == 1
    clock.now += timedelta(hours=1)
    engine.run_cycle()
    assert engine.client.logins == 2  # once an hour at most


def test_another_process_with_the_same_settings_does_not_log_in(store, base_url, ca_path, reset_emulator):
    _engine(store, base_url, ca_path).run_cycle()
    again = _engine(store, base_url, ca_path)  # a new `tandem sync`, same database, same wrong password
    report = again.run_cycle()
    assert isinstance(report.failure, AuthenticationFailed) and again.client.logins == 0
    fixed = _engine(store, base_url, ca_path, user=SYNC_USER)  # the settings changed: it tries at once
    report = fixed.run_cycle()
    assert report.failure is None and report.succeeded and fixed.client.logins == 1
    after_fix = _engine(store, base_url, ca_path)
    after_fix.run_cycle()
    assert after_fix.client.logins == 1  # the old refusal was forgotten once a login worked


def test_an_unreachable_org_fails_fast_and_counts_no_api_call(store):
    credentials = Credentials(login_url="https://127.0.0.1:9", client_id=CONNECTED_APP.client_id,
                              client_secret=SecretStr(CONNECTED_APP.client_secret), username=SYNC_USER.username,
                              password=SecretStr(SYNC_USER.password))
    engine = SyncEngine(SalesforceClient(credentials, PinnedSession(), backoff_seconds=0.01), store)
    started = time.monotonic()
    report = engine.run_cycle()
    assert time.monotonic() - started < 10
    assert isinstance(report.failure, Unreachable) and report.api_calls == 0
    assert len(report.steps) == 1 and "TANDEM_SF_LOGIN_URL" in report.failure_message
    assert pause_after(report, 300, 1) == 600 and pause_after(report, 300, 2) == 1200
    assert pause_after(report, 300, 5) == 1800  # doubling, up to half an hour


def test_an_untrusted_certificate_is_not_retried_and_names_the_setting(store, base_url, reset_emulator):
    credentials = Credentials(login_url=base_url, client_id=CONNECTED_APP.client_id,
                              client_secret=SecretStr(CONNECTED_APP.client_secret), username=SYNC_USER.username,
                              password=SecretStr(SYNC_USER.password))
    engine = SyncEngine(SalesforceClient(credentials, PinnedSession(), backoff_seconds=0.01), store)
    report = engine.run_cycle()
    assert isinstance(report.failure, UntrustedCertificate)
    assert "TANDEM_SF_CA_BUNDLE" in report.failure_message and len(report.steps) == 1


def test_tandem_sync_prints_failed_with_the_reason_and_the_hint(tmp_path, base_url, ca_path, reset_emulator):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TANDEM_SF_LOGIN_URL": base_url,
           "TANDEM_SF_CA_BUNDLE": str(ca_path), "TANDEM_SF_USERNAME": WRONG.username,
           "TANDEM_SF_PASSWORD": WRONG.password, "TANDEM_SF_CLIENT_ID": CONNECTED_APP.client_id,
           "TANDEM_SF_CLIENT_SECRET": CONNECTED_APP.client_secret, "COLUMNS": "200"}
    assert subprocess.run([sys.executable, "-m", "tandem", "init"], cwd=tmp_path, env=env).returncode == 0
    result = subprocess.run([sys.executable, "-m", "tandem", "sync"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "FAILED" in result.stderr and "TANDEM_SF_PASSWORD" in result.stderr
    assert WRONG.password not in result.stdout + result.stderr
    status = subprocess.run([sys.executable, "-m", "tandem", "status"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert "FAILED" in status.stdout and "TANDEM_SF_PASSWORD" in status.stdout
