"""Fault injection through `/_emulator/faults`: seeded, reproducible, visible to real clients."""

from __future__ import annotations

import pytest
import requests
from simple_salesforce.exceptions import SalesforceExpiredSession, SalesforceGeneralError, SalesforceMalformedRequest
import asyncio

import httpx

from tandem.emulator.faults import FAULT_KINDS
from tandem.emulator.sample_org import ADMIN


def set_faults(http, base_url, **settings):
    answer = http.put(f"{base_url}/_emulator/faults", json=settings)
    assert answer.status_code == 200, answer.text
    return answer.json()


def statuses(http, base_url, token, count):
    url = f"{base_url}/services/data/v62.0/limits"
    return [http.get(url, headers={"Authorization": f"Bearer {token}"}).status_code for _ in range(count)]


def test_faults_round_trip_and_reset_clears_them(base_url, http):
    assert set_faults(http, base_url, seed=7, http503=0.5)["http503"] == 0.5
    assert http.get(f"{base_url}/_emulator/faults").json()["seed"] == 7
    http.post(f"{base_url}/_emulator/reset")
    assert http.get(f"{base_url}/_emulator/faults").json()["http503"] == 0.0
    assert http.put(f"{base_url}/_emulator/faults", json={"http503": 2}).status_code == 400


def test_same_seed_same_503_sequence(base_url, http, sf_token):
    set_faults(http, base_url, seed=42, http503=0.5)
    first = statuses(http, base_url, sf_token, 20)
    set_faults(http, base_url, seed=42, http503=0.5)
    second = statuses(http, base_url, sf_token, 20)
    assert first == second
    assert set(first) == {200, 503}


def test_503_and_500_reach_simple_salesforce_as_general_errors(base_url, sf):
    sf.session.put(f"{base_url}/_emulator/faults", json={"seed": 1, "http500": 1.0})
    with pytest.raises(SalesforceGeneralError) as raised:
        sf.query("SELECT Id FROM Contact")
    assert raised.value.status == 500
    assert raised.value.content[0]["errorCode"] == "UNKNOWN_EXCEPTION"


def test_unable_to_lock_row_hits_writes_only(base_url, http, sf):
    set_faults(http, base_url, seed=3, unableToLockRow=1.0)
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] >= 0
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Contact.create({"LastName": "Locked"})
    assert raised.value.content[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"


def test_session_expiry_makes_the_token_invalid(base_url, http, sf):
    set_faults(http, base_url, seed=5, sessionExpiry=1.0)
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Contact")
    set_faults(http, base_url)
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Contact")


def test_dropped_connection_is_a_transport_error(base_url, http, sf_token):
    set_faults(http, base_url, seed=9, drop=1.0)
    with pytest.raises(requests.exceptions.ConnectionError):
        http.get(f"{base_url}/services/data/v62.0/limits", headers={"Authorization": f"Bearer {sf_token}"})


def test_slow_answers_are_delayed(base_url, http, sf_token):
    import time

    set_faults(http, base_url, seed=11, slow=1.0, slowSeconds=0.3)
    started = time.monotonic()
    assert statuses(http, base_url, sf_token, 1) == [200]
    assert time.monotonic() - started >= 0.3


def test_control_routes_refuse_non_loopback_clients(emulator):
    async def from_elsewhere() -> list[int]:
        transport = httpx.ASGITransport(app=emulator.app, client=("10.20.30.40", 5555))
        async with httpx.AsyncClient(transport=transport, base_url="https://emulator.test") as client:
            return [(await client.get("/_emulator/faults")).status_code,
                    (await client.post("/_emulator/reset")).status_code]

    assert asyncio.run(from_elsewhere()) == [403, 403]


def test_unable_to_lock_row_reaches_soap_writes_as_a_fault(base_url, http, sf_token):
    login = ('<se:Envelope xmlns:se="http://schemas.xmlsoap.org/soap/envelope/"><se:Body>'
             f'<login xmlns="urn:partner.soap.sforce.com"><username>{ADMIN.username}</username>'
             f"<password>{ADMIN.password}</password></login></se:Body></se:Envelope>")
    merge = ('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
             'xmlns="urn:partner.soap.sforce.com"><soapenv:Header><SessionHeader>'
             f"<sessionId>{sf_token}</sessionId></SessionHeader></soapenv:Header><soapenv:Body><merge><request>"
             "<masterRecord><type>Contact</type><Id>003000000000001AAA</Id></masterRecord>"
             "<recordToMergeIds>003000000000002AAA</recordToMergeIds></request></merge></soapenv:Body>"
             "</soapenv:Envelope>")
    set_faults(http, base_url, seed=4, unableToLockRow=1.0)
    headers = {"Content-Type": "text/xml"}
    assert http.post(f"{base_url}/services/Soap/u/62.0", data=login, headers=headers).status_code == 200
    locked = http.post(f"{base_url}/services/Soap/u/62.0", data=merge, headers=headers)
    assert locked.status_code == 500
    assert "<faultcode>sf:UNABLE_TO_LOCK_ROW</faultcode>" in locked.text


def test_the_report_holds_the_settings_the_counts_and_the_calls_in_flight(faults):
    report = faults.set(seed=3, http503=0.25, queryOutageAs="QUERY_TIMEOUT")
    assert report["seed"] == 3 and report["http503"] == 0.25 and report["queryOutageAs"] == "QUERY_TIMEOUT"
    assert report["lateCommit"] == 0.0 and report["concurrentRequestLimit"] == 0
    assert set(report["injected"]) == set(FAULT_KINDS) and not any(report["injected"].values())
    assert report["inFlight"] == 0


def test_a_report_can_be_put_back_and_unknown_keys_are_refused(http, base_url, faults):
    report = faults.set(seed=5, gateway502=0.5, lateCommitSeconds=5)
    assert faults.set(**report) == report
    assert http.put(f"{base_url}/_emulator/faults", json={"noSuchFault": 0.5}).status_code == 400
    assert http.put(f"{base_url}/_emulator/faults", json={"queryOutageAs": "http500"}).status_code == 400
    assert http.put(f"{base_url}/_emulator/faults", json={"concurrentRequestLimit": -1}).status_code == 400


def test_refused_settings_name_the_setting_and_the_reason(http, base_url, faults):
    url = f"{base_url}/_emulator/faults"
    faults.set(seed=3, http503=0.25)
    for body, error in [
        ({"http503": 2}, "http503: Input should be less than or equal to 1"),
        ({"noSuchFault": 0.5}, "noSuchFault: Extra inputs are not permitted"),
        ([0.5], "Input should be a valid dictionary or instance of FaultSettings"),
    ]:
        answer = http.put(url, json=body)
        assert (answer.status_code, answer.json()) == (400, {"error": error})
    answer = http.put(url, data="{nope")
    assert answer.status_code == 400 and answer.json()["error"].startswith("invalid JSON: ")
    assert (faults.report()["seed"], faults.report()["http503"]) == (3, 0.25)


def _mixed_outcomes(http, base_url, token) -> list[str]:
    outcomes = []
    for i in range(30):
        try:
            answer = http.post(f"{base_url}/services/data/v62.0/sobjects/Contact", json={"LastName": f"Mixed {i}"},
                               headers={"Authorization": f"Bearer {token}"})
            outcomes.append(str(answer.status_code))
        except requests.exceptions.ConnectionError:
            outcomes.append("dropped")
    return outcomes


def test_counts_add_up_and_a_put_or_a_reset_clears_them(http, base_url, sf_token, faults):
    mixed = {"http503": 0.1, "http500": 0.1, "drop": 0.1, "requestLimitExceeded": 0.1, "gateway504": 0.1,
             "dropAfterCommit": 0.1, "http502AfterCommit": 0.1, "slow": 0.2, "slowSeconds": 0}
    faults.set(seed=3, **mixed)
    outcomes = _mixed_outcomes(http, base_url, sf_token)
    counts = faults.injected()
    faulty = sum(1 for outcome in outcomes if outcome != "201")
    assert sum(n for kind, n in counts.items() if kind != "slow") == faulty
    assert len(counts) == 8
    assert {kind: counts[kind] for kind in ("http503", "http500", "requestLimitExceeded", "gateway504",
                                            "http502AfterCommit")} == {
        "http503": outcomes.count("503"), "http500": outcomes.count("500"),
        "requestLimitExceeded": outcomes.count("403"), "gateway504": outcomes.count("504"),
        "http502AfterCommit": outcomes.count("502")}
    assert counts["drop"] + counts["dropAfterCommit"] == outcomes.count("dropped")
    faults.set(seed=3, **mixed)
    assert faults.injected() == {}
    assert _mixed_outcomes(http, base_url, sf_token) == outcomes
    http.post(f"{base_url}/_emulator/reset").raise_for_status()
    assert faults.injected() == {}
