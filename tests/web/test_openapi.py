"""`/openapi.json` is correct: schemathesis generates requests from it (bounded) and every answer
must be documented, typed as declared, and never a server error."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.web.conftest import bearer

from tandem.people.origin import ChangeOrigin

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_openapi_document_lists_every_resource(api) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    for path in ("/identity/oauth/token", "/rest/v1/leads.json", "/rest/v1/lead/{lead_id}.json",
                 "/rest/v1/leads/describe.json", "/rest/v1/leads/describe2.json", "/rest/v1/leads/delete.json",
                 "/rest/v1/leads/push.json", "/rest/v1/activities/types.json", "/rest/v1/activities/pagingtoken.json",
                 "/rest/v1/activities.json", "/rest/v1/activities/leadchanges.json",
                 "/rest/v1/leads/{lead_id}/syncToSfdc.json", "/rest/v1/leads/{lead_id}/convertInSfdc.json",
                 "/rest/v1/sfdc/status.json"):
        assert path in paths


def _operations():
    """Every operation of the document, read from an app built only to list them."""
    from tandem.people.store import PersonStore
    from tandem.web.app import create_app
    from tests.web.conftest import CREDENTIALS

    store = PersonStore("sqlite://")
    try:
        schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(store, CREDENTIALS))
        return sorted(f"{r.ok().method.upper()} {r.ok().path}" for r in schema.get_all_operations())
    finally:
        store.close()


@pytest.mark.parametrize("operation", _operations())
def test_api_conforms_to_its_openapi_document(operation: str, app, api_store) -> None:
    api_store.persons.add_many([{"email": f"s{i}@example.com", "firstName": "S"} for i in range(3)], ChangeOrigin.MARKETING)
    with TestClient(app) as client:
        headers = bearer(client)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    [found] = [r.ok() for r in schema.get_all_operations() if f"{r.ok().method.upper()} {r.ok().path}" == operation]

    @given(case=found.as_strategy())
    @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              database=None)
    def check(case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()
