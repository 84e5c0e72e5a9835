"""Sync Person to SFDC, Convert Person and the sync status over the API, against the emulator."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient

from tandem.cli.wiring import emulator_client
from tandem.sync.cycle import SyncEngine
from tests.web.conftest import bearer


@pytest.fixture
def opened() -> list[str]:
    return []


@pytest.fixture
def sf_api(make_app, base_url, ca_path, reset_emulator, api_store, opened):
    @contextmanager
    def salesforce():
        opened.append("open")
        yield emulator_client(base_url, ca_path)
        opened.append("closed")

    SyncEngine(emulator_client(base_url, ca_path), api_store).run_cycle()
    with TestClient(make_app(salesforce=salesforce)) as client:
        client.headers.update(bearer(client))
        yield client


def _create(client, **fields) -> int:
    return client.post("/rest/v1/leads.json", json={"input": [fields]}).json()["result"][0]["id"]


def test_sync_then_convert_return_the_salesforce_ids(sf_api, api_store, opened) -> None:
    pid = _create(sf_api, email="ada@example.com", firstName="Ada", lastName="Lovelace", company="Engines")
    synced = sf_api.post(f"/rest/v1/leads/{pid}/syncToSfdc.json", json={"assignmentRules": False}).json()
    [lead] = synced["result"]
    assert lead["status"] == "created" and lead["sfdcType"] == "Lead" and lead["sfdcId"].startswith("00Q")
    assert api_store.persons.get(pid).link.sfdc_lead_id == lead["sfdcId"]

    converted = sf_api.post(f"/rest/v1/leads/{pid}/convertInSfdc.json",
                            json={"createOpportunity": False}).json()["result"][0]
    assert converted["sfdcLeadId"] == lead["sfdcId"]
    assert converted["sfdcContactId"].startswith("003") and converted["sfdcAccountId"].startswith("001")
    assert converted["sfdcOpportunityId"] is None and converted["accountCreated"] is True
    assert converted["warnings"]
    fetched = sf_api.get(f"/rest/v1/lead/{pid}.json", params={"fields": "sfdcType,sfdcContactId"}).json()
    assert fetched["result"] == [{"sfdcType": "Contact", "sfdcContactId": converted["sfdcContactId"]}]
    assert opened == ["open"]


def test_refusals_are_clear_errors(sf_api) -> None:
    nobody = _create(sf_api, email="nobody@example.com", firstName="No")
    refused = sf_api.post(f"/rest/v1/leads/{nobody}/syncToSfdc.json").json()
    assert refused["success"] is False and refused["errors"][0]["code"] == "1003"
    assert "REQUIRED_FIELD_MISSING" in refused["errors"][0]["message"]
    both = sf_api.post(f"/rest/v1/leads/{nobody}/syncToSfdc.json", json={"owner": "a", "queue": "b"}).json()
    assert both["errors"][0]["code"] == "1003" and "owner" in both["errors"][0]["message"]
    unknown = sf_api.post("/rest/v1/leads/999999/convertInSfdc.json").json()
    assert unknown["errors"] == [{"code": "1004", "message": "Lead not found"}]
    wrong = sf_api.post(f"/rest/v1/leads/{nobody}/convertInSfdc.json", json={"notify": "loud"}).json()
    assert wrong["errors"][0]["code"] == "1001" and "notify" in wrong["errors"][0]["message"]


def test_status_is_what_tandem_status_shows(sf_api) -> None:
    [status] = sf_api.get("/rest/v1/sfdc/status.json").json()["result"]
    assert status["lastCycle"]["steps"] and {"backlog", "apiUsage", "errors"} <= set(status)


def test_the_client_is_not_opened_until_an_action_is_used(make_app, opened) -> None:
    @contextmanager
    def salesforce():
        opened.append("open")
        yield None

    with TestClient(make_app(salesforce=salesforce)) as client:
        client.headers.update(bearer(client))
        client.get("/rest/v1/sfdc/status.json")
        client.post("/rest/v1/leads/1/syncToSfdc.json")
    assert opened == []
