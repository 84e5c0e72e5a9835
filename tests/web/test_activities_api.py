"""Activity resources in process: types, tokens, paging with moreResult, lead changes by field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tandem.people.activities import ACTIVITY_TYPES
from tandem.people.origin import ChangeOrigin

T0 = datetime(2026, 3, 5, 14, 7, 9, 123456, tzinfo=UTC)


def _token(api, since: str) -> str:
    return api.get("/rest/v1/activities/pagingtoken.json", params={"sinceDatetime": since}).json()["nextPageToken"]


def test_types_are_every_type_tandem_writes(api) -> None:
    result = api.get("/rest/v1/activities/types.json").json()["result"]
    assert [t["id"] for t in result] == [t.id for t in ACTIVITY_TYPES]
    assert all({"id", "name", "description", "primaryAttribute", "attributes"} <= set(t) for t in result)


def test_paging_token_accepts_the_forms_clients_send(api) -> None:
    forms = ["2026-03-05T14:07:09Z", "2026-03-05T14:07:09+00:00", "2026-03-05T15:07:09 01:00",
             "2026-03-05T15:07:09+0100", "2026-03-05 14:07:09", "2026-03-05T06:07:09-0800"]
    tokens = {_token(api, f) for f in forms}
    assert len(tokens) == 1 and next(iter(tokens)).isupper()
    assert _token(api, "2026-03-05") != next(iter(tokens))


def test_pages_since_a_date_with_more_result_and_whole_second_dates(api, api_store) -> None:
    old = api_store.persons.add_many([{"email": "old@example.com"}], ChangeOrigin.MARKETING, now=T0 - timedelta(days=2))
    ids = api_store.persons.add_many([{"email": f"n{i}@example.com"} for i in range(5)], ChangeOrigin.MARKETING, now=T0)
    token = _token(api, "2026-03-05T00:00:00Z")
    seen, pages = [], 0
    while True:
        page = api.get("/rest/v1/activities.json", params={"nextPageToken": token, "activityTypeIds": ["12"],
                                                            "batchSize": 2}).json()
        pages += 1
        assert isinstance(page["moreResult"], bool) and page["nextPageToken"]
        seen += page["result"]
        token = page["nextPageToken"]
        if not page["moreResult"]:
            break
    assert [a["leadId"] for a in seen] == ids and old[0] not in [a["leadId"] for a in seen]
    assert pages == 3 and seen[0]["activityDate"] == "2026-03-05T14:07:09Z"
    again = api.get("/rest/v1/activities.json", params={"nextPageToken": token, "activityTypeIds": "12"}).json()
    assert again["result"] == [] and again["moreResult"] is False and again["nextPageToken"]


def test_lead_ids_filter_and_limits(api, api_store) -> None:
    ids = api_store.persons.add_many([{"email": f"l{i}@example.com"} for i in range(3)], ChangeOrigin.MARKETING, now=T0)
    token = _token(api, "2026-01-01")
    page = api.get("/rest/v1/activities.json", params={"nextPageToken": token, "activityTypeIds": "12,13",
                                                        "leadIds": [str(ids[0]), str(ids[2])]}).json()
    assert [a["leadId"] for a in page["result"]] == [ids[0], ids[2]]
    too_many = api.get("/rest/v1/activities.json", params={"nextPageToken": token,
                                                            "activityTypeIds": ",".join(map(str, range(1, 12)))})
    assert too_many.json()["errors"][0]["code"] == "1003"


def test_lead_changes_only_for_the_requested_fields(api, api_store) -> None:
    [pid] = api_store.persons.add_many([{"email": "ch@example.com", "title": "VP"}], ChangeOrigin.MARKETING, now=T0)
    api_store.persons.update(pid, {"title": "CTO", "city": "Ghent"}, ChangeOrigin.MARKETING, reason="promotion", now=T0)
    token = _token(api, "2026-01-01")
    page = api.get("/rest/v1/activities/leadchanges.json", params={"nextPageToken": token,
                                                                    "fields": "title,company"}).json()
    kinds = [r["activityTypeId"] for r in page["result"]]
    assert kinds == [12, 13] and page["moreResult"] is False
    change = page["result"][1]
    assert change["fields"] == [{"id": 14, "name": "title", "newValue": "CTO", "oldValue": "VP"}]
    assert {"name": "Reason", "value": "promotion"} in change["attributes"]
    unknown = api.get("/rest/v1/activities/leadchanges.json", params={"nextPageToken": token, "fields": "nope"})
    assert unknown.json()["errors"][0] == {"code": "1006", "message": "Field 'nope' not found"}


def test_tokens_for_any_year_are_accepted_back(api, api_store) -> None:
    """Before, a year below 1000 went into the token unpadded (`1-01-01T…`) and the token was refused."""
    ids = api_store.persons.add_many([{"email": f"y{i}@example.com"} for i in range(3)], ChangeOrigin.MARKETING, now=T0)
    for since, expected in [(str(datetime.min), ids), ("0999-06-30T12:00:00Z", ids), ("9999-12-31T23:59:59Z", [])]:
        token, seen = _token(api, since), []
        while True:
            page = api.get("/rest/v1/activities.json", params={"nextPageToken": token, "activityTypeIds": "12",
                                                                "batchSize": 2}).json()
            assert page["success"] is True, (since, page)
            seen += [a["leadId"] for a in page["result"]]
            token = page["nextPageToken"]
            if not page["moreResult"]:
                break
        assert seen == expected, since


def test_asset_ids_filter_by_primary_asset(api, api_store) -> None:
    """Before, assetIds was accepted and ignored: every activity of the type came back."""
    ana, bo = api_store.persons.add_many([{"email": "ana@example.com"}, {"email": "bo@example.com"}],
                                         ChangeOrigin.MARKETING, now=T0)
    token = _token(api, "2026-01-01")

    def listed(**params) -> list[int]:
        page = api.get("/rest/v1/activities.json", params={"nextPageToken": token, **params}).json()
        assert page["success"] is True and page["moreResult"] is False, page
        return [a["leadId"] for a in page["result"]]

    assert listed(activityTypeIds="12") == [ana, bo]
    assert listed(activityTypeIds="12", assetIds=str(bo)) == [bo]  # New Lead's primary asset is the lead
    assert listed(activityTypeIds="12", assetIds=[str(ana), str(bo)]) == [ana, bo]
    assert listed(activityTypeIds="12", assetIds="999999,99999999999") == []
    assert listed(activityTypeIds="12", assetIds=str(bo), batchSize=1) == [bo]  # the filter is the query's: no empty page


def test_bad_asset_ids_are_refused_naming_the_parameter(api, api_store) -> None:
    api_store.persons.add_many([{"email": "ana@example.com"}], ChangeOrigin.MARKETING, now=T0)
    token = _token(api, "2026-01-01")
    for params, code in [({"assetIds": "7,seven"}, "1001"),
                         ({"assetIds": ",".join(map(str, range(1, 302)))}, "1003"),
                         ({"assetIds": "7", "activityTypeIds": "12,13"}, "1003")]:
        body = api.get("/rest/v1/activities.json",
                       params={"nextPageToken": token, "activityTypeIds": "12", **params}).json()
        assert body["success"] is False and body["result"] == [], body
        assert body["errors"][0]["code"] == code and "assetIds" in body["errors"][0]["message"], body


def test_deleted_leads_are_listed_by_their_delete_lead_activities_since_a_date(api, api_store) -> None:
    """Before, deletedleads.json answered 610 and a deleted lead's Delete Lead activity was listed nowhere."""
    ids = api_store.persons.add_many([{"email": f"d{i}@example.com", **({"firstName": "Ada", "lastName": "Byron"}
                                                                       if i == 3 else {})} for i in range(5)],
                                     ChangeOrigin.MARKETING, now=T0)
    api_store.persons.delete_many(ids[:1], ChangeOrigin.API, now=T0 - timedelta(days=3))  # before the token's date
    api_store.persons.delete_many([ids[3], ids[1]], ChangeOrigin.API, now=T0)
    token = _token(api, "2026-03-04")
    first = api.get("/rest/v1/activities/deletedleads.json", params={"nextPageToken": token, "batchSize": 1}).json()
    assert first["success"] is True and first["moreResult"] is True
    second = api.get("/rest/v1/activities/deletedleads.json",
                     params={"nextPageToken": first["nextPageToken"], "batchSize": 1}).json()
    assert second["moreResult"] is False
    listed = first["result"] + second["result"]
    assert sorted(a["leadId"] for a in listed) == [ids[1], ids[3]]
    assert all(a["activityTypeId"] == 37 and a["primaryAttributeValueId"] == a["leadId"] for a in listed)
    assert listed[0]["id"] < listed[1]["id"]
    assert {a["leadId"]: a["primaryAttributeValue"] for a in listed} == {ids[1]: "d1@example.com",
                                                                         ids[3]: "Ada Byron"}
    later = api.get("/rest/v1/activities/deletedleads.json", params={"nextPageToken": second["nextPageToken"]}).json()
    assert later["result"] == [] and later["moreResult"] is False
    api_store.persons.delete_many([ids[4]], ChangeOrigin.API, now=T0 + timedelta(seconds=1))
    after = api.get("/rest/v1/activities/deletedleads.json", params={"nextPageToken": second["nextPageToken"]}).json()
    assert [a["leadId"] for a in after["result"]] == [ids[4]]  # the token picks up what was deleted since
    live = api.get("/rest/v1/activities.json", params={"nextPageToken": token, "activityTypeIds": "37"}).json()
    assert live["result"] == []  # a deleted lead's activities leave the other reads


def test_deleted_leads_need_a_token(api) -> None:
    answer = api.get("/rest/v1/activities/deletedleads.json").json()
    assert answer["success"] is False and answer["errors"][0]["code"] == "1002"
