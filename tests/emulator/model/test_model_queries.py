"""SOQL through the model: validation, FLS, relationships, paging with locators, index use."""

from __future__ import annotations

import datetime as dt

import pytest

from tandem.emulator.model import ApiError


def _error(org, ctx, soql, **kwargs) -> ApiError:
    with pytest.raises(ApiError) as caught:
        org.query(ctx, soql, **kwargs)
    return caught.value


def test_unknown_object_is_invalid_type(org, admin):
    error = _error(org, admin, "SELECT Id FROM Leed")
    assert (error.status, error.error_code) == (400, "INVALID_TYPE")
    assert error.message.startswith("sObject type 'Leed' is not supported.")


def test_unknown_field_is_invalid_field_in_salesforce_words(org, admin):
    error = _error(org, admin, "SELECT Id, Foo FROM Contact")
    assert error.error_code == "INVALID_FIELD"
    assert "No such column 'Foo' on entity 'Contact'. If you are attempting to use a custom field, be sure to " \
           "append the '__c' after the custom field name." in error.message
    error = _error(org, admin, "SELECT Id, Acount.Name FROM Contact")
    assert error.error_code == "INVALID_FIELD" and "Didn't understand relationship 'Acount'" in error.message
    assert _error(org, admin, "SELECT Id FROM Contact ORDER BY Foo").error_code == "INVALID_FIELD"


def test_syntax_error_is_malformed_query(org, admin):
    assert _error(org, admin, "SELECT Id FORM Contact").error_code == "MALFORMED_QUERY"


def test_type_mismatch_in_where(org, admin):
    error = _error(org, admin, "SELECT Id FROM Contact WHERE CreatedDate > 2024-01-01")
    assert error.status == 400


def test_relationship_fields_nest_with_attributes(org, admin):
    rows = org.query(admin, "SELECT Email, Account.Name, Owner.Name FROM Contact ORDER BY Email").records
    first = rows[0]
    assert list(first) == ["attributes", "Email", "Account", "Owner"]
    assert first["Account"]["attributes"]["type"] == "Account" and first["Account"]["Name"] == "Globex"
    assert first["Owner"]["Name"] == "Ada Admin"
    loner = org.create(admin, "Contact", {"LastName": "Alone"})
    row = org.query(admin, f"SELECT Account.Name FROM Contact WHERE Id = '{loner}'").records[0]
    assert row["Account"] is None


def test_lead_owner_may_be_a_queue(org, admin):
    queue = org.query(admin, "SELECT Id FROM Group").records[0]["Id"]
    org.create(admin, "Lead", {"LastName": "Q", "Company": "Q", "OwnerId": queue})
    row = org.query(admin, "SELECT Owner.Name FROM Lead WHERE LastName = 'Q'").records[0]
    assert row["Owner"]["attributes"]["type"] == "Group" and row["Owner"]["Name"] == "Inbound Leads"


def test_order_limit_offset_and_count(org, admin):
    names = [r["LastName"] for r in org.query(admin, "SELECT LastName FROM Contact ORDER BY LastName DESC").records]
    assert names == ["Scorpio", "Nagheenanajar", "Gibbons", "Coyote"]
    page = org.query(admin, "SELECT LastName FROM Contact ORDER BY LastName LIMIT 2 OFFSET 1")
    assert [r["LastName"] for r in page.records] == ["Gibbons", "Nagheenanajar"] and page.total_size == 2
    count = org.query(admin, "SELECT COUNT() FROM Contact WHERE Account.Name = 'Initech'")
    assert (count.total_size, count.done, count.records) == (2, True, [])


def test_where_on_booleans_picklists_and_nulls(org, admin):
    assert org.query(admin, "SELECT COUNT() FROM Contact WHERE Newsletter__c = true").total_size == 1
    assert org.query(admin, "SELECT COUNT() FROM Contact WHERE Newsletter__c = false").total_size == 3
    assert org.query(admin, "SELECT COUNT() FROM Contact WHERE LeadSource = null").total_size == 3
    assert org.query(admin, "SELECT COUNT() FROM Lead WHERE Status IN ('Working - Contacted')").total_size == 1
    assert org.query(admin, "SELECT COUNT() FROM Lead WHERE IsConverted = false").total_size == 2


def test_fields_macro(org, sync):
    row = org.query(sync, "SELECT FIELDS(CUSTOM) FROM Contact LIMIT 1").records[0]
    assert "Favorite_Color__c" in row and "Internal_Notes__c" not in row and "Email" not in row


def _bulk_contacts(org, n):
    return org.bulk_load("Contact", ({"LastName": f"Person{i:05d}", "Email": f"p{i}@bulk.example"}
                                     for i in range(n)))


def test_paging_with_locators(org, admin):
    _bulk_contacts(org, 4500)
    first = org.query(admin, "SELECT Id, LastName FROM Contact WHERE Email LIKE '%@bulk.example'")
    assert (first.total_size, first.done, len(first.records)) == (4500, False, 2000)
    assert first.next_locator.startswith("01g") and first.next_locator.endswith("-2000")
    second = org.query_more(admin, first.next_locator)
    assert (second.done, len(second.records), second.next_locator.endswith("-4000")) == (False, 2000, True)
    third = org.query_more(admin, second.next_locator)
    assert (third.done, len(third.records), third.next_locator) == (True, 500, None)
    seen = [r["Id"] for page in (first, second, third) for r in page.records]
    assert len(set(seen)) == 4500


def test_batch_size_is_honoured_within_limits(org, admin):
    _bulk_contacts(org, 700)
    page = org.query(admin, "SELECT Id FROM Contact", batch_size=300)
    assert len(page.records) == 300 and page.next_locator.endswith("-300")
    assert len(org.query(admin, "SELECT Id FROM Contact", batch_size=50).records) == 200
    assert len(org.query(admin, "SELECT Id FROM Contact", batch_size=5000).records) == 704


def test_bad_locators_and_other_users_locators(org, admin, sync):
    _bulk_contacts(org, 2500)
    page = org.query(admin, "SELECT Id FROM Contact")
    for locator in ("nonsense", page.next_locator.split("-")[0] + "-x"):
        with pytest.raises(ApiError) as caught:
            org.query_more(admin, locator)
        assert caught.value.error_code == "INVALID_QUERY_LOCATOR"
    with pytest.raises(ApiError):
        org.query_more(sync, page.next_locator)


def test_query_all_shows_deleted_and_merged_records_and_its_cursor_remembers(org, admin):
    _bulk_contacts(org, 2100)
    doomed = org.query(admin, "SELECT Id FROM Contact WHERE LastName = 'Person00007'").records[0]["Id"]
    org.delete(admin, "Contact", doomed)
    accounts = [r["Id"] for r in org.query(admin, "SELECT Id FROM Account ORDER BY Name").records]
    org.merge(admin, "Account", accounts[0], {}, [accounts[1]])
    soql = "SELECT Id, IsDeleted, MasterRecordId FROM Contact"
    assert org.query(admin, soql).total_size == 2103
    everything = org.query(admin, soql, include_deleted=True)
    assert everything.total_size == 2104
    rest = org.query_more(admin, everything.next_locator)
    rows = everything.records + rest.records
    assert [r["Id"] for r in rows if r["IsDeleted"]] == [doomed]
    merged = org.query(admin, "SELECT Id, MasterRecordId FROM Account WHERE IsDeleted = true AND "
                              "MasterRecordId != null", include_deleted=True).records
    assert merged == [{**merged[0], "Id": accounts[1], "MasterRecordId": accounts[0]}]


def test_stamp_window_query_reads_only_the_window(org, admin):
    _bulk_contacts(org, 50_000)
    stamps = [r["SystemModstamp"] for r in org.query(
        admin, "SELECT SystemModstamp FROM Contact WHERE LastName IN ('Person20000', 'Person21999')").records]
    low, high = sorted(stamps)
    low, high = low.replace("+0000", "Z"), high.replace("+0000", "Z")
    page = org.query(admin, f"SELECT Id, SystemModstamp FROM Contact WHERE SystemModstamp >= {low}"
                            f" AND SystemModstamp <= {high} ORDER BY SystemModstamp, Id")
    assert page.total_size == 2000 and page.done
    assert [r["SystemModstamp"] for r in page.records] == sorted(r["SystemModstamp"] for r in page.records)
    assert org.rows_examined <= 2001


def test_descending_stamp_order_with_limit_stops_early(org, admin):
    _bulk_contacts(org, 20_000)
    page = org.query(admin, "SELECT Id, LastName FROM Contact ORDER BY SystemModstamp DESC LIMIT 5")
    assert [r["LastName"] for r in page.records] == [f"Person{i:05d}" for i in range(19999, 19994, -1)]
    assert org.rows_examined <= 5


def test_id_lookup_reads_only_those_rows(org, admin):
    _bulk_contacts(org, 20_000)
    some = [r["Id"] for r in org.query(admin, "SELECT Id FROM Contact ORDER BY SystemModstamp DESC LIMIT 3").records]
    quoted = ", ".join(f"'{i[:15]}'" for i in some)
    page = org.query(admin, f"SELECT Id FROM Contact WHERE Id IN ({quoted})")
    assert sorted(r["Id"] for r in page.records) == sorted(some)
    assert org.rows_examined == 3


def test_an_unbounded_filter_scans_everything(org, admin):
    _bulk_contacts(org, 3000)
    org.query(admin, "SELECT Id FROM Contact WHERE Email = 'p5@bulk.example'")
    assert org.rows_examined == 3004


def test_updates_move_records_in_the_stamp_index(org, admin, clock):
    _bulk_contacts(org, 1000)
    target = org.query(admin, "SELECT Id FROM Contact WHERE LastName = 'Person00010'").records[0]["Id"]
    clock.advance(60_000)
    since = dt.datetime.fromtimestamp(clock.ms / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    org.update(admin, "Contact", target, {"Title": "Moved"})
    page = org.query(admin, f"SELECT Id, Title FROM Contact WHERE SystemModstamp >= {since}")
    assert [r["Id"] for r in page.records] == [target]
    assert org.rows_examined == 1


def test_query_all_rows_gives_native_values_in_select_order(org, admin):
    rows = list(org.query_all_rows(admin, "SELECT Email, Account.Name, CreatedDate FROM Contact ORDER BY Email"))
    assert list(rows[0]) == ["Email", "Account.Name", "CreatedDate"]
    assert rows[0]["Account.Name"] == "Globex" and isinstance(rows[0]["CreatedDate"], dt.datetime)
    assert len(rows) == 4


def test_query_all_rows_read_each_parent_as_a_rest_query_reads_it(org, admin):
    """Bulk rows read a parent once per row for all its fields: the values must be those a REST query
    nests, for parents of different kinds behind one lookup (a Lead's owner: a user or a queue), for
    a record without a parent, for booleans stored as absent and for a person's compound Name."""
    queue = org.query(admin, "SELECT Id FROM Group").records[0]["Id"]
    org.create(admin, "Lead", {"LastName": "Queued", "Company": "Q", "OwnerId": queue})
    org.create(admin, "Lead", {"FirstName": "Ann", "LastName": "Owned", "Company": "U", "HasOptedOutOfEmail": True})
    soql = "SELECT Name, LastName, Owner.Name, Owner.Email, HasOptedOutOfEmail, Company FROM Lead ORDER BY LastName"
    flat = list(org.query_all_rows(admin, soql))
    nested = org.query(admin, soql).records
    assert [list(row) for row in flat] == [["Name", "LastName", "Owner.Name", "Owner.Email", "HasOptedOutOfEmail",
                                            "Company"]] * len(nested)
    for row, rest in zip(flat, nested, strict=True):
        owner = rest["Owner"] or {}
        assert row == {"Name": rest["Name"], "LastName": rest["LastName"], "Owner.Name": owner.get("Name"),
                       "Owner.Email": owner.get("Email"), "HasOptedOutOfEmail": rest["HasOptedOutOfEmail"],
                       "Company": rest["Company"]}
    by_name = {row["LastName"]: row for row in flat}
    assert by_name["Queued"]["Owner.Name"] == "Inbound Leads" and by_name["Owned"]["Owner.Name"] == "Ada Admin"
    assert by_name["Owned"]["Name"] == "Ann Owned" and by_name["Owned"]["HasOptedOutOfEmail"] is True
    assert by_name["Queued"]["HasOptedOutOfEmail"] is False
    loner = org.create(admin, "Contact", {"LastName": "Alone"})
    [row] = org.query_all_rows(admin, f"SELECT Account.Name, Account.Type, LastName FROM Contact WHERE Id = '{loner}'")
    assert row == {"Account.Name": None, "Account.Type": None, "LastName": "Alone"}


def test_count_of_a_field_is_an_aggregate_row(org, admin):
    page = org.query(admin, "SELECT COUNT(LeadSource) FROM Contact")
    assert page.total_size == 1 and page.records == [{"attributes": {"type": "AggregateResult"}, "expr0": 1}]


def test_several_counts_are_columns_of_one_aggregate_row_under_their_aliases(org, admin):
    """Before, every count landed in `expr0` (the last one won) and an alias was a syntax error."""
    total = org.query(admin, "SELECT COUNT() FROM Contact").total_size
    page = org.query(admin, "SELECT COUNT(Id), COUNT(LeadSource), COUNT(Email) mailed FROM Contact")
    [row] = page.records
    assert row == {"attributes": {"type": "AggregateResult"}, "expr0": total, "expr1": 1,
                   "mailed": org.query(admin, "SELECT COUNT() FROM Contact WHERE Email != null").total_size}
    error = _error(org, admin, "SELECT LastName, COUNT(Id) FROM Contact")
    assert (error.error_code, error.message) == ("MALFORMED_QUERY", "Field must be grouped or aggregated: LastName")


@pytest.mark.parametrize(("soql", "named"), [
    ("SELECT Id, Email, Id FROM Contact", "Id"),
    ("SELECT email, Account.Name, EMAIL FROM Contact", "Email"),
    ("SELECT Account.Name, account.name FROM Contact", "Account.Name"),
])
def test_a_field_selected_twice_is_refused(org, admin, soql, named):
    """Before, the second was dropped and the query answered; Salesforce refuses it, so a query built by
    joining field lists that passed here failed against an org."""
    error = _error(org, admin, soql)
    assert (error.error_code, error.message) == ("MALFORMED_QUERY", f"duplicate field selected: {named}")
    assert org.query(admin, "SELECT Id, FIELDS(STANDARD) FROM Contact LIMIT 1").records


def test_an_aggregate_query_cannot_be_ordered_by_a_plain_field(org, admin):
    """Before, ORDER BY beside COUNT(Id) was answered; Salesforce refuses it as it refuses the field in SELECT."""
    error = _error(org, admin, "SELECT COUNT(Id) FROM Contact ORDER BY LastName")
    assert (error.error_code, error.message) == ("MALFORMED_QUERY",
                                                 "Ordered field must be grouped or aggregated: LastName")


@pytest.mark.parametrize(("soql", "code", "message"), [
    ("SELECT FIELDS(ALL) FROM Contact", "MALFORMED_QUERY", "The SOQL FIELDS function must have a LIMIT of at most 200"),
    ("SELECT FIELDS(CUSTOM) FROM Contact LIMIT 201", "MALFORMED_QUERY", "The SOQL FIELDS function must have a LIMIT"),
    ("SELECT Id FROM Contact LIMIT 10 OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed is 2000"),
])
def test_what_salesforce_refuses_before_reading_a_row(org, admin, soql, code, message):
    """Before, these were answered: code that passed against the emulator failed against an org."""
    error = _error(org, admin, soql)
    assert error.error_code == code and error.message.startswith(message)
    assert org.query(admin, "SELECT FIELDS(STANDARD) FROM Contact").total_size > 0  # STANDARD needs no LIMIT
    assert org.query(admin, "SELECT FIELDS(ALL) FROM Contact LIMIT 200").records
    assert org.query(admin, "SELECT Id FROM Contact LIMIT 1 OFFSET 2000").records == []


def test_paths_may_start_with_the_object_name(org, admin):
    rows = org.query(admin, "SELECT Contact.Email, Contact.Account.Name FROM Contact WHERE Contact.LastName = "
                            "'Coyote'").records
    assert rows[0]["Email"] == "wile@acme.example" and rows[0]["Account"]["Name"] == "Acme Corp"


def test_a_last_modified_lower_bound_narrows_the_stamp_scan(org, admin, clock):
    _bulk_contacts(org, 5000)
    clock.advance(60_000)
    since = dt.datetime.fromtimestamp(clock.ms / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    fresh = org.create(admin, "Contact", {"LastName": "Fresh"})
    page = org.query(admin, f"SELECT Id FROM Contact WHERE LastModifiedDate >= {since} ORDER BY Id")
    assert [r["Id"] for r in page.records] == [fresh]
    assert org.rows_examined == 1


def test_ties_on_the_stamp_are_ordered_by_the_next_key(org, admin):
    stamp = "2026-05-01T00:00:00.000Z"
    org.bulk_load("Contact", [{"LastName": name, "SystemModstamp": stamp} for name in ("B", "C", "A")])
    rows = org.query(admin, f"SELECT LastName FROM Contact WHERE SystemModstamp = {stamp} "
                            "ORDER BY SystemModstamp, LastName").records
    assert [r["LastName"] for r in rows] == ["A", "B", "C"]


def test_keyset_paging_by_id_reads_only_each_page(org, admin):
    _bulk_contacts(org, 30_000)
    seen: list[str] = []
    last = ""
    for _ in range(3):
        where = f"WHERE Id > '{last}' " if last else ""
        page = org.query(admin, f"SELECT Id FROM Contact {where}ORDER BY Id LIMIT 1000")
        assert org.rows_examined <= 1001
        ids = [r["Id"] for r in page.records]
        assert ids == sorted(ids) and len(ids) == 1000
        seen.extend(ids)
        last = ids[-1]
    assert len(set(seen)) == 3000
    everything = [r["Id"] for r in org.query_all_rows(admin, "SELECT Id FROM Contact ORDER BY Id")]
    assert everything[:3000] == seen


def test_order_by_id_is_case_sensitive_whatever_the_index(org, admin):
    _bulk_contacts(org, 100)
    by_index = [r["Id"] for r in org.query(admin, "SELECT Id FROM Contact ORDER BY Id DESC").records]
    filtered = [r["Id"] for r in org.query(admin, "SELECT Id FROM Contact WHERE LastName LIKE 'Person%' "
                                                  "ORDER BY Id DESC").records]
    assert by_index == sorted(by_index, reverse=True)
    assert filtered == [i for i in by_index if i in set(filtered)]


def test_rolled_back_creates_leave_the_id_index(org, admin):
    with pytest.raises(ApiError), org.transaction():
        org.create(admin, "Contact", {"LastName": "Ghost"})
        org.create(admin, "Contact", {"Email": "no-last-name@x.example"})
    ids = [r["Id"] for r in org.query(admin, "SELECT Id FROM Contact ORDER BY Id").records]
    assert len(ids) == 4


def test_a_page_can_be_fetched_again(org, admin):
    _bulk_contacts(org, 2500)
    first = org.query(admin, "SELECT Id FROM Contact")
    last = org.query_more(admin, first.next_locator)
    again = org.query_more(admin, first.next_locator)
    assert again.records == last.records and again.done
