"""query / queryAll / nextRecordsUrl paging and replication (updated / deleted) through simple-salesforce."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest


@pytest.fixture
def many_contacts(base_url, http):
    rows = [{"LastName": f"Bulk{i:04d}", "Email": f"b{i}@example.com"} for i in range(450)]
    answer = http.post(f"{base_url}/_emulator/seed", json={"Contact": rows})
    answer.raise_for_status()
    return answer.json()["Contact"]


def test_query_returns_attributes_and_nested_parent(sf):
    result = sf.query("SELECT Id, LastName, Account.Name FROM Contact WHERE LastName = 'Coyote'")
    assert result["totalSize"] == 1 and result["done"] is True
    record = result["records"][0]
    assert record["attributes"]["type"] == "Contact"
    assert record["Account"]["Name"] == "Acme Corp"


def test_batch_size_header_pages_with_next_records_url(sf, many_contacts):
    sf.headers["Sforce-Query-Options"] = "batchSize=200"
    first = sf.query("SELECT Id FROM Contact WHERE LastName LIKE 'Bulk%'")
    assert first["totalSize"] == 450 and len(first["records"]) == 200 and first["done"] is False
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/")
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    third = sf.query_more(second["nextRecordsUrl"], identifier_is_url=True)
    assert len(second["records"]) == 200 and len(third["records"]) == 50 and third["done"] is True
    assert "nextRecordsUrl" not in third
    ids = {r["Id"] for page in (first, second, third) for r in page["records"]}
    assert ids == set(many_contacts)


def test_query_all_follows_pages_and_includes_deleted(sf, many_contacts):
    sf.Contact.delete(many_contacts[0])
    live = sf.query_all("SELECT Id FROM Contact WHERE LastName LIKE 'Bulk%'")
    everything = sf.query_all("SELECT Id, IsDeleted FROM Contact WHERE LastName LIKE 'Bulk%'", include_deleted=True)
    assert live["totalSize"] == 449 and len(live["records"]) == 449
    assert everything["totalSize"] == 450
    assert any(r["IsDeleted"] for r in everything["records"])


def test_count_query(sf):
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 2


def test_malformed_query(sf):
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query("SELECT Id FORM Contact")
    assert raised.value.content[0]["errorCode"] == "MALFORMED_QUERY"


@pytest.mark.parametrize("where", [
    "Id = 'not-an-id'",
    "AccountId IN ('0015g0000000001AAA', 'bogus')",
    "LastName INCLUDES ('Coyote')",
])
def test_a_bad_id_or_an_operator_the_field_lacks_is_an_invalid_filter_operator(sf, where):
    """Salesforce answers INVALID_QUERY_FILTER_OPERATOR (not INVALID_FIELD) for a malformed Id literal
    and for INCLUDES on a field that is no multi-select picklist; clients branch on the code."""
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query(f"SELECT Id FROM Contact WHERE {where}")
    assert raised.value.content[0]["errorCode"] == "INVALID_QUERY_FILTER_OPERATOR"


def test_updated_and_deleted_windows(sf, base_url, http):
    """Replication covers whole minutes up to the current one, so the rows carry stamps from minutes ago."""
    now = datetime.now(timezone.utc)
    stamp = (now - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    rows = [{"LastName": "Window", "SystemModstamp": stamp, "CreatedDate": stamp},
            {"LastName": "Gone", "IsDeleted": True, "SystemModstamp": stamp, "CreatedDate": stamp}]
    http.post(f"{base_url}/_emulator/bulk-load", json={"Contact": rows}).raise_for_status()
    found = sf.query_all("SELECT Id, LastName FROM Contact WHERE LastName IN ('Window', 'Gone')",
                         include_deleted=True)["records"]
    ids = {record["LastName"]: record["Id"] for record in found}
    start, end = now - timedelta(minutes=20), now + timedelta(minutes=1)
    updated = sf.Contact.updated(start, end)
    assert ids["Window"] in updated["ids"] and ids["Gone"] not in updated["ids"]
    minutes = {(now + timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:00.000+0000") for n in (0, 1)}
    assert updated["latestDateCovered"] in minutes
    deleted = sf.Contact.deleted(start, end)
    assert [entry["id"] for entry in deleted["deletedRecords"]] == [ids["Gone"]]
    assert {"earliestDateAvailable", "latestDateCovered"} <= set(deleted)


def test_replication_window_must_move_forward(sf):
    from simple_salesforce.exceptions import SalesforceMalformedRequest

    now = datetime.now(timezone.utc)
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Contact.updated(now, now - timedelta(hours=1))
    assert raised.value.content[0]["errorCode"] == "INVALID_REPLICATION_DATE"


@pytest.mark.parametrize(("resource", "start"), [("updated", "9999-12-31T23:59:59-12:00"),
                                               ("deleted", "0001-01-01T00:00:00+05:00")])
def test_a_replication_date_past_the_calendar_in_utc_is_refused_not_a_server_error(base_url, http, sf_token,
                                                                                   resource, start):
    """A window bound that its offset moves past the first or last UTC moment answered 500."""
    answer = http.get(f"{base_url}/services/data/v62.0/sobjects/Contact/{resource}",
                      headers={"Authorization": f"Bearer {sf_token}"},
                      params={"start": start, "end": "2026-01-01T00:00:00Z"})
    assert answer.status_code == 400
    assert answer.json()[0]["errorCode"] == "INVALID_REPLICATION_DATE" and start in answer.json()[0]["message"]


def test_default_page_is_2000_rows(sf, base_url, http):
    rows = [{"LastName": f"Many{i:05d}"} for i in range(2100)]
    http.post(f"{base_url}/_emulator/bulk-load", json={"Contact": rows}).raise_for_status()
    first = sf.query("SELECT Id FROM Contact WHERE LastName LIKE 'Many%'")
    assert (first["totalSize"], len(first["records"]), first["done"]) == (2100, 2000, False)
    rest = sf.query_more(first["nextRecordsUrl"].rsplit("/", 1)[-1])
    assert (len(rest["records"]), rest["done"]) == (100, True)


def test_date_literals_count_days_in_the_users_time_zone(sf):
    """The users' time zone is America/Los_Angeles (login, userinfo): TODAY starts at midnight there."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(sf.query("SELECT TimeZoneSidKey FROM User LIMIT 1")["records"][0]["TimeZoneSidKey"])
    midnight = datetime.combine(datetime.now(zone).date(), datetime.min.time(), zone)
    for name, moment in (("Today", midnight + timedelta(minutes=1)), ("Yesterday", midnight - timedelta(minutes=1))):
        stamp = moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        sf.Contact.create({"LastName": f"Bounced {name}", "EmailBouncedDate": stamp})
    today = sf.query("SELECT LastName FROM Contact WHERE EmailBouncedDate = TODAY AND LastName LIKE 'Bounced%'")
    yesterday = sf.query("SELECT LastName FROM Contact WHERE EmailBouncedDate = YESTERDAY AND LastName LIKE 'Bounced%'")
    assert [r["LastName"] for r in today["records"]] == ["Bounced Today"]
    assert [r["LastName"] for r in yesterday["records"]] == ["Bounced Yesterday"]


@pytest.mark.parametrize(("condition", "matches_all"), [
    ("= LAST_N_DAYS:99999999999", True),
    ("> LAST_N_YEARS:99999", True),
    ("= N_YEARS_AGO:99999", False),
    ("< NEXT_N_YEARS:99999", True),
    ("= NEXT_N_MONTHS:99999999", False),
])
def test_a_date_literal_reaching_past_the_calendar_is_answered_not_a_server_error(sf, condition, matches_all):
    """A count of days or years beyond what a date can hold answered 500 UNKNOWN_EXCEPTION; the range
    now stops at the first or last representable day, so LAST_N_DAYS:99999999999 means every day so far."""
    expected = sf.query("SELECT COUNT() FROM Contact")["totalSize"] if matches_all else 0
    for field in ("CreatedDate", "SystemModstamp"):
        assert sf.query(f"SELECT COUNT() FROM Contact WHERE {field} {condition}")["totalSize"] == expected, field


def test_a_long_text_area_can_be_read_but_not_filtered_or_sorted(sf):
    """Salesforce refuses a long text area (Description, 32,000 characters) in WHERE and ORDER BY with
    INVALID_FIELD, as describe's `filterable`/`sortable` false say, instead of answering no rows."""
    described = {f["name"]: f for f in sf.Contact.describe()["fields"]}
    assert (described["Description"]["filterable"], described["Description"]["sortable"]) == (False, False)
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query("SELECT Id FROM Contact WHERE Description LIKE '%noon%'")
    [error] = raised.value.content
    assert error["errorCode"] == "INVALID_FIELD"
    assert error["message"].endswith("ERROR at Row:1:Column:30\nfield 'Description' can not be filtered in a query call")
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query("SELECT Description FROM Contact ORDER BY Description")
    [error] = raised.value.content
    assert error["errorCode"] == "INVALID_FIELD"
    assert error["message"].endswith("ERROR at Row:1:Column:42\nfield 'Description' can not be sorted in a query call")
    with pytest.raises(SalesforceMalformedRequest):
        sf.query("SELECT Id FROM Contact WHERE Account.Description != null")
    assert sf.query("SELECT Description FROM Contact WHERE LastName = 'Coyote'")["totalSize"] == 1
    assert sf.query("SELECT Id FROM Contact WHERE MailingStreet = 'x' ORDER BY MailingStreet")["totalSize"] == 0


def test_a_field_error_in_a_query_of_several_lines_points_at_its_row(sf):
    """A query written over several lines gets its INVALID_FIELD caret on the offending line, with
    that line's row and column, as its syntax errors already do."""
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query("SELECT Id,\n  LastName\nFROM Contact\nWHERE Foo = 1")
    [error] = raised.value.content
    assert error["errorCode"] == "INVALID_FIELD"
    assert error["message"].startswith("\nWHERE Foo = 1\n      ^\nERROR at Row:4:Column:7\nNo such column 'Foo'")
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query("SELECT Id\nFORM Contact")
    assert raised.value.content[0]["message"].startswith("\nFORM Contact\n^\nERROR at Row:2:Column:1\n")


def test_a_picklist_orders_by_its_values_place_in_setup(sf):
    """Salesforce sorts a picklist by the order of its values in setup, not alphabetically; a value
    the picklist does not list comes after those it does."""
    for status in ("Working - Contacted", "Closed - Not Converted", "Open - Not Contacted"):
        sf.Lead.create({"LastName": "Ordered", "Company": "Order Co", "Status": status})
    rows = sf.query("SELECT Status FROM Lead WHERE LastName = 'Ordered' ORDER BY Status")["records"]
    assert [r["Status"] for r in rows] == ["Open - Not Contacted", "Working - Contacted", "Closed - Not Converted"]
    rows = sf.query("SELECT Status FROM Lead WHERE LastName = 'Ordered' ORDER BY Status DESC")["records"]
    assert [r["Status"] for r in rows] == ["Closed - Not Converted", "Working - Contacted", "Open - Not Contacted"]


def test_ids_sort_case_sensitively_after_another_key_as_they_do_alone(sf, base_url, http):
    """`ORDER BY SystemModstamp, Id` ordered Ids of one stamp as lower-cased text (`…0a` before `…0Z`),
    unlike `ORDER BY Id` and `Id >`, which compare them case-sensitively; paging on (SystemModstamp, Id)
    then skipped and repeated records. Ids now sort the one way wherever they appear."""
    stamp = "2026-01-05T10:00:00.000Z"
    rows = [{"LastName": "Tied", "SystemModstamp": stamp, "CreatedDate": stamp} for _ in range(70)]
    http.post(f"{base_url}/_emulator/bulk-load", json={"Contact": rows}).raise_for_status()
    by_id = [r["Id"] for r in sf.query_all("SELECT Id FROM Contact WHERE LastName = 'Tied' ORDER BY Id")["records"]]
    assert by_id == sorted(by_id) and any(a.lower() > b.lower() for a, b in zip(by_id, by_id[1:]))
    for order in ("SystemModstamp, Id", "LastName, Id", "CreatedDate DESC, Id"):
        rows = sf.query_all(f"SELECT Id FROM Contact WHERE LastName = 'Tied' ORDER BY {order}")["records"]
        assert [r["Id"] for r in rows] == by_id, order
    after = sf.query_all(f"SELECT Id FROM Contact WHERE LastName = 'Tied' AND Id > '{by_id[34]}' "
                         "ORDER BY SystemModstamp, Id")["records"]
    assert [r["Id"] for r in after] == by_id[35:]


def test_a_limit_after_systemmodstamp_and_another_key_picks_by_both(sf, base_url, http):
    """With LIMIT, `ORDER BY SystemModstamp, Id DESC` stopped reading at the LIMIT-th row of the stamp
    order, so of records sharing the last stamp it kept the first loaded, not the highest Ids."""
    stamp = "2026-01-05T10:00:00.000Z"
    rows = [{"LastName": "Same Stamp", "SystemModstamp": stamp, "CreatedDate": stamp} for _ in range(10)]
    http.post(f"{base_url}/_emulator/bulk-load", json={"Contact": rows}).raise_for_status()
    ids = sorted(r["Id"] for r in sf.query_all("SELECT Id FROM Contact WHERE LastName = 'Same Stamp'")["records"])
    where = "FROM Contact WHERE LastName = 'Same Stamp' ORDER BY"
    assert [r["Id"] for r in sf.query(f"SELECT Id {where} SystemModstamp, Id DESC LIMIT 3")["records"]] \
        == ids[::-1][:3]
    assert [r["Id"] for r in sf.query(f"SELECT Id {where} SystemModstamp DESC, Id LIMIT 3 OFFSET 2")["records"]] \
        == ids[2:5]


def test_the_type_of_a_polymorphic_parent_can_be_read_and_filtered(sf, base_url, http, sf_token):
    """`WHERE Owner.Type = 'Queue'` (leads waiting in a queue) and `Who.Type` were refused as no such
    column of User or Lead; through a lookup to several objects Salesforce reads the parent as a Name
    record, whose Type is its object or, for a queue, Queue."""
    queue = sf.query("SELECT Id FROM Group WHERE Type = 'Queue'")["records"][0]["Id"]
    lead = sf.Lead.create({"LastName": "Queued", "Company": "Q Co", "OwnerId": queue},
                          headers={"Sforce-Auto-Assign": "FALSE"})["id"]
    queued = sf.query("SELECT Id, Owner.Type FROM Lead WHERE Owner.Type = 'Queue'")["records"]
    assert [(r["Id"], r["Owner"]["Type"]) for r in queued] == [(lead, "Queue")]
    owned = sf.query("SELECT Owner.Type FROM Lead WHERE Owner.Type != 'Queue'")["records"]
    assert owned and {r["Owner"]["Type"] for r in owned} == {"User"}
    tasks = sf.query("SELECT Who.Type FROM Task WHERE Who.Type IN ('Contact', 'Lead') ORDER BY Who.Type")["records"]
    assert [r["Who"]["Type"] for r in tasks] == ["Contact", "Lead"]


def test_a_row_holds_its_fields_in_select_order(sf):
    """Fields of the record came first and parents after, whatever the SELECT said; Salesforce answers
    them in SELECT order (a parent where its first field is), which scripts keep as their column order."""
    [row] = sf.query("SELECT Account.Name, Email, Owner.Name, Id, Account.Industry FROM Contact "
                     "WHERE LastName = 'Coyote'")["records"]
    assert list(row) == ["attributes", "Account", "Email", "Owner", "Id"]
    assert list(row["Account"]) == ["attributes", "Name", "Industry"]
