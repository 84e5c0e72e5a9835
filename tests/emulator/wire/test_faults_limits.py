"""REQUEST_LIMIT_EXCEEDED at a rate (`requestLimitExceeded`) and from the limit on long-running calls
in flight (`concurrentRequestLimit`, `longRunningSeconds`)."""

from __future__ import annotations

import threading

import pytest
from simple_salesforce.exceptions import SalesforceRefusedRequest

from tandem.emulator.sample_org import ADMIN, CONNECTED_APP

V = "/services/data/v62.0"
DAILY = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
CONCURRENT = [{"message": "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
               "errorCode": "REQUEST_LIMIT_EXCEEDED"}]


def statuses(http, base_url, token, count: int) -> list[int]:
    headers = {"Authorization": f"Bearer {token}"}
    return [http.get(f"{base_url}{V}/limits", headers=headers).status_code for _ in range(count)]


def test_api_calls_are_refused_at_rate_one(sf, faults):
    faults.set(seed=2, requestLimitExceeded=1.0)
    with pytest.raises(SalesforceRefusedRequest) as raised:
        sf.query("SELECT Id FROM Contact")
    assert raised.value.status == 403 and raised.value.content == DAILY
    with pytest.raises(SalesforceRefusedRequest):
        sf.Contact.create({"LastName": "Refused"})
    assert faults.injected() == {"requestLimitExceeded": 2}
    faults.set()
    assert sf.query("SELECT Id FROM Contact WHERE LastName = 'Refused'")["totalSize"] == 0


def test_logins_and_soap_logins_are_not_api_calls_but_soap_calls_are(http, base_url, sf_token, faults):
    faults.set(seed=2, requestLimitExceeded=1.0)
    token = http.post(f"{base_url}/services/oauth2/token", data={
        "grant_type": "password", "client_id": CONNECTED_APP.client_id,
        "client_secret": CONNECTED_APP.client_secret, "username": ADMIN.username, "password": ADMIN.password})
    assert token.status_code == 200
    envelope = ('<se:Envelope xmlns:se="http://schemas.xmlsoap.org/soap/envelope/"><se:Header>'
                '<SessionHeader xmlns="urn:partner.soap.sforce.com"><sessionId>{token}</sessionId></SessionHeader>'
                '</se:Header><se:Body>{body}</se:Body></se:Envelope>')
    login = envelope.format(token="", body=f'<login xmlns="urn:partner.soap.sforce.com"><username>{ADMIN.username}'
                                           f"</username><password>{ADMIN.password}</password></login>")
    headers = {"Content-Type": "text/xml"}
    assert http.post(f"{base_url}/services/Soap/u/62.0", data=login, headers=headers).status_code == 200
    merge = envelope.format(token=sf_token, body='<merge xmlns="urn:partner.soap.sforce.com"><request/></merge>')
    refused = http.post(f"{base_url}/services/Soap/u/62.0", data=merge, headers=headers)
    assert refused.status_code == 500
    assert "<faultcode>sf:REQUEST_LIMIT_EXCEEDED</faultcode>" in refused.text
    assert "TotalRequests Limit exceeded." in refused.text
    assert faults.injected() == {"requestLimitExceeded": 1}


def test_nothing_is_refused_at_rate_zero(http, base_url, sf_token, faults):
    faults.set(seed=2, requestLimitExceeded=0.0)
    assert statuses(http, base_url, sf_token, 20) == [200] * 20
    assert faults.injected() == {}


def test_refusals_repeat_for_a_seed_and_are_counted(http, base_url, sf_token, faults):
    faults.set(seed=12, requestLimitExceeded=0.4)
    first = statuses(http, base_url, sf_token, 25)
    assert faults.injected() == {"requestLimitExceeded": first.count(403)}
    faults.set(seed=12, requestLimitExceeded=0.4)
    assert statuses(http, base_url, sf_token, 25) == first
    assert set(first) == {200, 403}


class HeldCall:
    """A collection create whose body is held back, so the call stays in flight until released."""

    def __init__(self, http, base_url: str, token: str) -> None:
        self.release, self.status = threading.Event(), None

        def body():
            self.release.wait(30)
            yield b'{"allOrNone": false, "records": [{"attributes": {"type": "Contact"}, "LastName": "Held"}]}'

        def send():
            self.status = http.post(f"{base_url}{V}/composite/sobjects", data=body(), headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/json"}).status_code

        self.thread = threading.Thread(target=send, daemon=True)
        self.thread.start()

    def finish(self) -> int | None:
        self.release.set()
        self.thread.join(30)
        return self.status


@pytest.fixture
def hold(new_session, base_url, sf_token):
    """`hold()` starts a held call; every call still held is released when the test ends."""
    held: list[HeldCall] = []

    def start() -> HeldCall:
        held.append(HeldCall(new_session(), base_url, sf_token))
        return held[-1]

    yield start
    for call in held:
        call.finish()


def wait_for_in_flight(faults, count: int) -> None:
    for _ in range(2000):
        if faults.report()["inFlight"] == count:
            return
    raise AssertionError(f"never saw {count} calls in flight")


def test_a_call_past_the_concurrent_limit_is_refused(hold, faults, sf):
    faults.set(concurrentRequestLimit=2, longRunningSeconds=0)
    held = [hold() for _ in range(2)]
    wait_for_in_flight(faults, 2)
    with pytest.raises(SalesforceRefusedRequest) as raised:
        sf.query("SELECT Id FROM Contact")
    assert raised.value.content == CONCURRENT
    assert faults.injected() == {"concurrentRequestLimit": 1}
    assert [call.finish() for call in held] == [200, 200]
    wait_for_in_flight(faults, 0)
    assert sf.query("SELECT Id FROM Contact WHERE LastName = 'Held'")["totalSize"] == 2


def test_calls_in_flight_before_a_reset_count_no_more_against_the_limit(hold, faults, sf, http, base_url):
    """Before, a call a killed client left in flight (sleeping in a `slow` fault) counted against the
    limit after the reset that began the next test, whose own calls were then refused."""
    left = hold()
    wait_for_in_flight(faults, 1)
    http.post(f"{base_url}/_emulator/reset").raise_for_status()
    assert faults.report()["inFlight"] == 0
    faults.set(concurrentRequestLimit=1, longRunningSeconds=0)
    assert sf.query("SELECT Id FROM Contact")["totalSize"] == 4
    assert faults.injected() == {}
    assert left.finish() == 200


def test_only_long_running_calls_count_against_the_limit(hold, faults, sf):
    faults.set(concurrentRequestLimit=1, longRunningSeconds=600)
    held = hold()
    wait_for_in_flight(faults, 1)
    assert sf.query("SELECT Id FROM Contact")["totalSize"] == 4
    assert held.finish() == 200
    assert faults.injected() == {}


def test_no_limit_when_it_is_zero(hold, faults, sf):
    faults.set(concurrentRequestLimit=0, longRunningSeconds=0)
    held = [hold() for _ in range(3)]
    wait_for_in_flight(faults, 3)
    assert sf.query("SELECT Id FROM Contact")["totalSize"] == 4
    assert [call.finish() for call in held] == [200, 200, 200]
    assert faults.injected() == {}
