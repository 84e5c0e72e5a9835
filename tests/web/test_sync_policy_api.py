"""The REST status shows the API budget's lanes (with the actions' own spend) and the backlog forecast."""

from __future__ import annotations

from contextlib import contextmanager

from fastapi.testclient import TestClient

from tandem.cli.wiring import emulator_client
from tandem.sync.cycle import SyncEngine
from tandem.sync.policy import parse_policy
from tests.web.conftest import bearer


def test_status_shows_lanes_and_forecast(make_app, base_url, ca_path, reset_emulator, api_store) -> None:
    @contextmanager
    def salesforce():
        yield emulator_client(base_url, ca_path)

    SyncEngine(emulator_client(base_url, ca_path), api_store).run_cycle()
    policy = parse_policy({"budget": {"daily_calls": 2000, "actions_reserve": 500}})
    with TestClient(make_app(salesforce=salesforce, policy=policy)) as client:
        client.headers.update(bearer(client))
        [before] = client.get("/rest/v1/sfdc/status.json").json()["result"]
        created = client.post("/rest/v1/leads.json", json={"input": [
            {"email": "ada@example.com", "lastName": "Lovelace", "company": "Engines"}]}).json()
        person_id = created["result"][0]["id"]
        assert client.post(f"/rest/v1/leads/{person_id}/syncToSfdc.json").json()["success"]
        [after] = client.get("/rest/v1/sfdc/status.json").json()["result"]
    lanes = {lane["lane"]: lane for lane in after["budget"]["lanes"]}
    assert after["budget"]["budget"] == 2000 and lanes["cycle"]["limit"] == 1500
    spent_before = {lane["lane"]: lane["spent"] for lane in before["budget"]["lanes"]}
    assert lanes["actions"]["spent"] > spent_before["actions"]  # the action's calls, in its own lane
    assert {"toSalesforce", "fromSalesforce"} == set(after["backlog"]["forecast"])
    assert "projectedCalls" in after["budget"]["forecast"]
