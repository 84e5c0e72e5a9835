"""The unmodified PyPI client marketorestpython against `tandem serve`'s app on real uvicorn."""

from __future__ import annotations

import time

import pytest

from tests.web.conftest import CLIENT_ID

from tandem.people.origin import ChangeOrigin

EPOCH = "2020-01-01T00:00:00Z"


def test_authenticate_gets_a_bearer_token(marketo) -> None:
    marketo.authenticate()
    assert marketo.token and marketo.token_type == "bearer"
    assert marketo.expires_in == 3600
    assert marketo.scope


def test_wrong_secret_is_refused_with_the_identity_error(live_server) -> None:
    from marketorestpython.client import MarketoClient

    client = MarketoClient("tandem-test", CLIENT_ID, "not-the-secret", max_retry_time=5)
    client.host = live_server.url
    with pytest.raises(Exception, match="Bad client credentials"):
        client.authenticate()


def test_create_update_and_skip_with_reasons(marketo, api_store) -> None:
    created = marketo.execute("create_update_leads", leads=[
        {"email": "ada@example.com", "firstName": "Ada"}, {"email": "bo@example.com", "lastName": "Berg"},
    ], action="createOnly", lookupField="email")
    assert [r["status"] for r in created] == ["created", "created"]
    ada_id = created[0]["id"]

    updated = marketo.execute("create_update_leads", leads=[{"id": ada_id, "title": "CTO"}],
                              action="updateOnly", lookupField="id")
    assert updated == [{"id": ada_id, "status": "updated"}]

    mixed = marketo.execute("create_update_leads", leads=[
        {"email": "ADA@example.com", "city": "Ghent"},
        {"email": "cy@example.com", "numberOfEmployees": 12},
        {"email": "dee@example.com", "numberOfEmployees": "many"},
        {"email": "eve@example.com", "favouriteColour": "red"},
    ], action="createOrUpdate", lookupField="email", asyncProcessing="false")
    assert mixed[0] == {"id": ada_id, "status": "updated"}
    assert mixed[1]["status"] == "created"
    assert mixed[2]["status"] == "skipped" and mixed[2]["reasons"][0]["code"] == "1001"
    assert "numberOfEmployees" in mixed[2]["reasons"][0]["message"]
    assert mixed[3]["status"] == "skipped" and mixed[3]["reasons"][0] == {
        "code": "1006", "message": "Field 'favouriteColour' not found"}

    again = marketo.execute("create_update_leads", leads=[{"email": "bo@example.com"}], action="createOnly")
    assert again[0]["reasons"][0]["code"] == "1005"
    missing = marketo.execute("create_update_leads", leads=[{"id": 999999, "title": "x"}],
                              action="updateOnly", lookupField="id")
    assert missing[0]["reasons"][0]["code"] == "1004"

    ada = api_store.persons.get(ada_id)
    assert (ada.fields["title"], ada.fields["city"], ada.fields["firstName"]) == ("CTO", "Ghent", "Ada")
    assert not api_store.persons.find_by_email("dee@example.com")
    assert not api_store.persons.find_by_email("eve@example.com")


def test_filter_by_email_and_id_with_paging(marketo, api_store) -> None:
    ids = api_store.persons.add_many([{"email": f"p{i}@example.com", "lastName": f"P{i}"} for i in range(7)], ChangeOrigin.MARKETING)
    by_email = marketo.execute("get_multiple_leads_by_filter_type", filterType="email",
                               filterValues=["p1@example.com", "P2@example.com"], fields=["email", "lastName"])
    assert by_email == [{"email": "p1@example.com", "lastName": "P1"}, {"email": "p2@example.com", "lastName": "P2"}]

    paged = marketo.execute("get_multiple_leads_by_filter_type", filterType="id",
                            filterValues=[str(i) for i in ids], fields="id,email", batchSize=3)
    assert [r["id"] for r in paged] == ids

    defaults = marketo.execute("get_multiple_leads_by_filter_type", filterType="email",
                               filterValues="p3@example.com")
    assert set(defaults[0]) == {"id", "email", "updatedAt", "createdAt", "firstName", "lastName"}
    assert defaults[0]["createdAt"].endswith("Z") and "." not in defaults[0]["createdAt"]


def test_get_lead_by_id_and_describe(marketo, api_store) -> None:
    [pid] = api_store.persons.add_many([{"email": "gil@example.com", "company": "Acme"}], ChangeOrigin.MARKETING)
    assert marketo.execute("get_lead_by_id", id=pid, fields=["email", "company", "sfdcType"]) == [
        {"email": "gil@example.com", "company": "Acme", "sfdcType": None}]
    assert marketo.execute("get_lead_by_id", id=pid + 100) == []

    described = {f["rest"]["name"]: f for f in marketo.execute("describe")}
    assert described["email"]["dataType"] == "email" and described["email"]["rest"]["readOnly"] is False
    assert described["sfdcId"]["rest"]["readOnly"] is True and described["sfdcId"]["displayName"] == "SFDC Id"
    [described2] = marketo.execute("describe2")
    assert ["email"] in described2["searchableFields"]
    assert {f["name"] for f in described2["fields"]} == set(described)


def test_activity_types_paging_token_activities_and_lead_changes(marketo, api_store) -> None:
    types = {t["id"]: t["name"] for t in marketo.execute("get_activity_types")}
    assert types[12] == "New Lead" and types[13] == "Change Data Value" and types[37] == "Delete Lead"

    token = marketo.execute("get_paging_token", sinceDatetime=EPOCH)
    assert token == token.upper() and token.rstrip("=")
    ids = api_store.persons.add_many([{"email": f"a{i}@example.com"} for i in range(5)], ChangeOrigin.MARKETING)
    api_store.persons.update(ids[0], {"title": "CTO", "city": "Ghent"}, ChangeOrigin.MARKETING)

    activities = marketo.execute("get_lead_activities", activityTypeIds=["12"], nextPageToken=token, batchSize=2)
    assert [a["leadId"] for a in activities] == ids
    assert all(a["activityTypeId"] == 12 for a in activities)
    until = marketo.execute("get_lead_activities", activityTypeIds=["12", "13"], sinceDatetime=EPOCH,
                            untilDatetime="2100-01-01", leadIds=[str(ids[0])])
    assert [a["activityTypeId"] for a in until] == [12, 13, 13]

    changes = marketo.execute("get_lead_changes", fields=["title"], sinceDatetime=EPOCH)
    title_changes = [c for c in changes if c["activityTypeId"] == 13]
    assert [c["fields"] for c in title_changes] == [[{"id": 14, "name": "title", "newValue": "CTO"}]]
    assert title_changes[0]["leadId"] == ids[0]


def test_delete_lead(marketo, api_store) -> None:
    ids = api_store.persons.add_many([{"email": "del@example.com"}], ChangeOrigin.MARKETING)
    result = marketo.execute("delete_lead", id=[ids[0], 424242])
    assert result[0] == {"id": ids[0], "status": "deleted"}
    assert result[1]["status"] == "skipped" and result[1]["reasons"][0]["code"] == "1004"
    assert api_store.persons.get_many(ids) == []


def test_token_expiry_and_refresh(marketo, api_store, clock) -> None:
    [pid] = api_store.persons.add_many([{"email": "tok@example.com"}], ChangeOrigin.MARKETING)
    marketo.authenticate()
    first = marketo.token
    clock.advance(1000)
    marketo.valid_until = None  # the client asks again: the same token, with what remains of it
    marketo.authenticate()
    assert marketo.token == first and marketo.expires_in == 2600

    clock.advance(2601)  # the token has expired on the server; the client's clock agrees
    marketo.valid_until = time.time() + 30
    assert marketo.execute("get_lead_by_id", id=pid)[0]["id"] == pid
    assert marketo.token != first
