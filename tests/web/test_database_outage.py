"""A database that goes away under `tandem serve` and comes back: the REST API answers 713 (which
Marketo clients retry), `/ready`, `/metrics` and the web UI say the database is down, the log has one line a
call and no password, and the same app answers again once the database is back."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from fastapi.testclient import TestClient

from tandem.people.store import PersonStore
from tandem.web.app import create_app
from tandem.web.ui.passwords import hash_password
from tests.postgres import POSTGRES_ADMIN_URL, postgres_database
from tests.tcp_relay import Relay
from tests.ui.conftest import PASSWORD, sign_in_client
from tests.web.conftest import CREDENTIALS, ROOMY, bearer

UNAVAILABLE = {"code": "713", "message": "Transient Error: the database is unavailable; try again"}


def test_the_api_answers_713_while_the_database_is_away_and_recovers_without_a_restart(caplog):
    """Before, every call met a 611 System error with a traceback in the log, and /metrics a 200 envelope."""
    relay = Relay((sa.make_url(POSTGRES_ADMIN_URL).host or "127.0.0.1", sa.make_url(POSTGRES_ADMIN_URL).port or 5432))
    databases = postgres_database()
    url = sa.make_url(next(databases)).set(host="127.0.0.1", port=relay.port, password="secret")
    store = PersonStore(url.render_as_string(hide_password=False))
    try:
        store.migrate()
        store.ui_accounts.add("olive", hash_password(PASSWORD), "operator")
        with TestClient(create_app(store, CREDENTIALS, limits=ROOMY), base_url="http://testserver") as client:
            headers = bearer(client)
            assert sign_in_client(client).status_code == 303
            lead = {"input": [{"email": "ada@outage.example", "firstName": "Ada"}]}
            assert client.post("/rest/v1/leads.json", json=lead, headers=headers).json()["success"]
            relay.cut()
            with caplog.at_level(logging.INFO):
                down = [client.post("/rest/v1/leads.json", json=lead, headers=headers),
                        client.get("/rest/v1/leads.json", params={"filterType": "email",
                                                                  "filterValues": "ada@outage.example"},
                                   headers=headers)]
                ready = client.get("/ready")
                scrape = client.get("/metrics")
                page = client.get("/ui/")
            assert [answer.json()["errors"] for answer in down] == [[UNAVAILABLE], [UNAVAILABLE]]
            assert ready.status_code == 503 and ready.json()["reason"].startswith("the database does not answer")
            assert scrape.status_code == 503 and scrape.text.startswith("the database is unavailable (")
            assert client.get("/health").json() == {"status": "ok"}  # liveness: the process serves
            assert page.status_code == 503 and "The database is unavailable; try again shortly." in page.text
            logged = [r for r in caplog.records if r.name == "tandem.web"]
            assert logged and all(r.levelno == logging.WARNING and r.exc_info is None for r in logged)
            assert all("the database is unavailable (" in r.getMessage() for r in logged)
            assert "secret" not in caplog.text + scrape.text + ready.text

            relay.restore()
            again = client.get("/rest/v1/leads.json", params={"filterType": "email",
                                                              "filterValues": "ada@outage.example"}, headers=headers)
            assert again.json()["success"] and [r["email"] for r in again.json()["result"]] == ["ada@outage.example"]
            assert client.get("/ready").status_code == 200
            assert client.get("/metrics").status_code == 200
            assert client.get("/ui/").status_code == 200
    finally:
        store.close()
        relay.cut()
        next(databases, None)
