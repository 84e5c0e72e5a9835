"""Composite calls, Bulk 2.0 query and ingest jobs, and the conditional describe, against the emulator."""

from __future__ import annotations

import io
import threading
import time
from datetime import UTC, datetime

import pytest
import urllib3

from tandem.errors import TransientError
from tandem.salesforce.bulk import RowShape, query_job, result_rows
from tandem.salesforce.bulk_ingest import ingest_csv, parse_error, update_job
from tandem.salesforce.composite import SubRequest, composite, query_path
from tandem.salesforce.describes import describe_changed
from tandem.sync.prefetch import prefetched
from tests.salesforce.test_client import make_client


@pytest.fixture
def client(base_url, ca_path, reset_emulator):
    return make_client(base_url, ca_path)


def test_composite_answers_each_subrequest_on_its_own_in_one_call(client):
    client.instance_url  # logged in
    before = client.calls
    answers = composite(client, [
        SubRequest("good", query_path("SELECT Id FROM Contact", include_deleted=True)),
        SubRequest("bad", query_path("SELECT Nope__c FROM Contact")),
    ])
    assert client.calls - before == 1
    assert answers["good"].ok and answers["good"].body["totalSize"] == 4
    assert not answers["bad"].ok and answers["bad"].error().error_code == "INVALID_FIELD"


BULK_SOQL = "SELECT Id, Email, Newsletter__c, Lead_Score__c, Account.Name FROM Contact ORDER BY Email"
BULK_TYPES = {"newsletter__c": "boolean", "lead_score__c": "double"}


def test_a_bulk_query_reads_chunks_typed_as_rest_answers(client):
    rest = list(client.query(BULK_SOQL))
    job_id = query_job(client, BULK_SOQL, pause=lambda s: None)
    before = client.calls
    pages = list(result_rows(client, job_id, BULK_TYPES, 2, chunk=3))
    assert client.calls - before == 2  # four rows, three per results request
    assert [len(p) for p in pages] == [2, 1, 1]  # pages of two, each results request read as it came
    rows = [row for page in pages for row in page]
    assert [r["Email"] for r in rows] == [r["Email"] for r in rest]
    for bulk_row, rest_row in zip(rows, rest, strict=True):
        assert bulk_row["Newsletter__c"] == rest_row["Newsletter__c"]
        assert bulk_row["Lead_Score__c"] == rest_row["Lead_Score__c"]
        assert (bulk_row["Account"] or {}).get("Name") == (rest_row["Account"] or {}).get("Name")


def test_the_next_results_request_is_asked_while_the_one_before_is_read(client):
    job_id = query_job(client, BULK_SOQL, pause=lambda s: None)
    real, asked = client.request, []
    second_asked = threading.Event()

    def noting(method, path, **kwargs):
        asked.append(kwargs["params"].get("locator"))
        if len(asked) == 2:
            second_asked.set()
        return real(method, path, **kwargs)

    client.request = noting
    rows = result_rows(client, job_id, BULK_TYPES, 1, chunk=3)
    first = next(rows)
    assert second_asked.wait(timeout=30), "the second results request waited for the first to be read"
    assert asked[0] is None and asked[1]  # the second from the locator the first answered
    rest = [row for page in rows for row in page]
    assert len(first) + len(rest) == 4 and len(asked) == 2


def test_a_results_request_asked_ahead_is_closed_when_the_reader_stops(client):
    job_id = query_job(client, BULK_SOQL, pause=lambda s: None)
    real, answers = client.request, []

    def keeping(method, path, **kwargs):
        answers.append(real(method, path, **kwargs))
        return answers[-1]

    client.request = keeping
    rows = result_rows(client, job_id, BULK_TYPES, 1, chunk=3)
    next(rows)
    rows.close()  # the reader stopped after one row
    deadline = time.monotonic() + 30
    while len(answers) < 2 or any(not a.raw.closed for a in answers):
        assert time.monotonic() < deadline, "an answer was left open"
        time.sleep(0.01)


STAMPED_SOQL = ("SELECT Id, SystemModstamp, Email FROM Contact WHERE Email LIKE '%@stamped.example' "
                "ORDER BY SystemModstamp, Id")


def _load_stamped(http, base_url) -> None:
    """Six contacts, two to a day from 2025-01-01."""
    http.post(f"{base_url}/_emulator/bulk-load", json={"Contact": [
        {"LastName": f"S{i}", "Email": f"s{i}@stamped.example", "SystemModstamp": f"2025-01-0{1 + i // 2}T00:00:00.000Z"}
        for i in range(6)]}).raise_for_status()


def test_a_results_reader_passes_over_the_rows_stamped_before_where_it_starts(client, http, base_url):
    _load_stamped(http, base_url)
    job_id = query_job(client, STAMPED_SOQL, pause=lambda s: None)
    rows = [row["Email"] for page in result_rows(client, job_id, {}, 10, chunk=1,
                                                 stamped_from=datetime(2025, 1, 2, tzinfo=UTC)) for row in page]
    assert rows == [f"s{i}@stamped.example" for i in range(2, 6)]  # those of the day it starts on are kept


def test_a_download_broken_off_while_rows_were_passed_over_resumes_at_the_same_row(client, http, base_url):
    _load_stamped(http, base_url)
    job_id = query_job(client, STAMPED_SOQL, pause=lambda s: None)
    real, broken = client.request, []

    def breaking(method, path, **kwargs):
        response = real(method, path, **kwargs)
        if kwargs.get("stream") and not broken:  # the header, two rows passed over, one kept, then lost
            lines = response.raw.read(decode_content=True).split(b"\n")
            broken.append(lines)
            response.raw = _BrokenOff(b"\n".join(lines[:4]) + b"\n" + lines[4][:5])
        return response

    client.request = breaking
    rows = [row["Email"] for page in result_rows(client, job_id, {}, 1, stamped_from=datetime(2025, 1, 2, tzinfo=UTC))
            for row in page]
    assert broken and rows == [f"s{i}@stamped.example" for i in range(2, 6)]  # each kept row once, in order


class _BrokenOff(io.RawIOBase):
    """A download that stops after `body` with the connection lost."""

    def __init__(self, body: bytes) -> None:
        self._body, self.decode_content = body, True

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self._body:
            raise urllib3.exceptions.ProtocolError("Connection broken: IncompleteRead")
        size = min(len(buffer), len(self._body))
        buffer[:size], self._body = self._body[:size], self._body[size:]
        return size


def test_a_results_download_that_breaks_off_is_asked_again_past_the_rows_handed_over(client):
    rest = [r["Email"] for r in client.query(BULK_SOQL)]
    job_id = query_job(client, BULK_SOQL, pause=lambda s: None)
    real, broken = client.request, []

    def breaking(method, path, **kwargs):
        response = real(method, path, **kwargs)
        if kwargs.get("stream") and not broken:  # the first results request: header and two rows arrive
            body = response.raw.read(decode_content=True)
            lines = body.split(b"\n")
            broken.append(body)
            response.raw = _BrokenOff(b"\n".join(lines[:3]) + b"\n" + lines[3][:5])
        return response

    client.request = breaking
    before = client.calls
    rows = [row["Email"] for page in result_rows(client, job_id, BULK_TYPES, 1) for row in page]
    assert broken and client.calls - before == 2  # asked once more, from the same place
    assert rows == rest  # each row once, in order


def test_a_row_shape_nests_relationships_and_reads_nulls():
    shape = RowShape(["Id", "IsDeleted", "Account.Name", "Score__c", "Note"], {"isdeleted": "boolean", "score__c": "double"})
    row = shape.row(["003", "false", "", "4.5", ""])
    assert row == {"Id": "003", "IsDeleted": False, "Account": None, "Score__c": 4.5, "Note": None}


def test_an_ingest_job_answers_per_record_in_request_order(client, sf):
    ids = [r["Id"] for r in client.query("SELECT Id FROM Contact ORDER BY Email")][:3]
    sf.Contact.delete(ids[1])
    results = update_job(client, "Contact", [
        {"Id": ids[0], "Title": "One"}, {"Id": ids[1], "Title": "Gone"}, {"Id": ids[2], "Title": "x" * 200},
    ], pause=lambda s: None)
    assert [r.success for r in results] == [True, False, False]
    assert results[1].errors[0].code == "ENTITY_IS_DELETED"
    assert results[2].errors[0].code == "STRING_TOO_LONG" and results[2].errors[0].fields == ("Title",)
    assert sf.Contact.get(ids[0])["Title"] == "One"


def test_an_ingest_job_whose_every_record_was_updated_reads_no_results(client, sf):
    ids = [r["Id"] for r in client.query("SELECT Id FROM Contact ORDER BY Email")][:3]
    asked, request = [], client.request
    client.request = lambda method, path, **kwargs: asked.append((method, path)) or request(method, path, **kwargs)
    results = update_job(client, "Contact", [{"Id": i, "Title": f"All {n}"} for n, i in enumerate(ids)],
                         pause=lambda s: None)
    assert [(r.id, r.success, r.created, r.errors) for r in results] == [(i, True, False, ()) for i in ids]
    assert [sf.Contact.get(i)["Title"] for i in ids] == ["All 0", "All 1", "All 2"]
    # the job's counts say all were processed and none failed: no results are read
    assert not [path for _, path in asked if path.endswith(("Results", "unprocessedrecords"))]
    assert [method for method, _ in asked] == ["POST", "PUT", "PATCH", "GET"]


def test_an_ingest_job_with_a_failure_reads_its_results(client, sf):
    ids = [r["Id"] for r in client.query("SELECT Id FROM Contact ORDER BY Email")][:2]
    asked, request = [], client.request
    client.request = lambda method, path, **kwargs: asked.append(path) or request(method, path, **kwargs)
    results = update_job(client, "Contact", [{"Id": ids[0], "Title": "Fine"}, {"Id": ids[1], "Title": "x" * 200}],
                         pause=lambda s: None)
    assert [r.success for r in results] == [True, False]
    assert results[1].errors[0].code == "STRING_TOO_LONG"
    assert sorted(p.rsplit("/", 1)[1] for p in asked if p.endswith("Results")) == ["failedResults",
                                                                                     "successfulResults"]


def test_ingest_csv_writes_null_as_na_and_leaves_absent_fields_empty():
    text = ingest_csv([{"Id": "1", "Title": None, "Flag": True}, {"Id": "2", "Fax": "5"}]).decode()
    assert text.splitlines() == ["Id,Title,Flag,Fax", "1,#N/A,true,", "2,,,5"]
    error = parse_error("REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --")
    assert (error.code, error.message, error.fields) == ("REQUIRED_FIELD_MISSING",
                                                         "Required fields are missing: [LastName]", ("LastName",))


def test_describes_come_in_one_call_and_keep_what_to_revalidate_with(client):
    client.instance_url
    before = client.calls
    found, counts = describe_changed(client, {"Contact": None, "Lead": None}, counting={
        "Contact": "SELECT COUNT() FROM Contact", "Lead": "SELECT COUNT() FROM Nope"})
    assert client.calls - before == 1
    assert found["Contact"].body["name"] == "Contact" and found["Contact"].last_modified
    assert counts == {"Contact": client.count("SELECT COUNT() FROM Contact", include_deleted=True)}  # the bad one left out
    again, _ = describe_changed(client, {"Contact": found["Contact"].last_modified})
    assert again["Contact"].body is None or again["Contact"].body["name"] == "Contact"  # 304, or the emulator's 200


def test_prefetched_hands_over_items_in_order_and_an_error_after_them():
    def items():
        yield 1
        yield 2
        raise TransientError("lost")

    got = []
    with pytest.raises(TransientError):
        for item in prefetched(items(), depth=1):
            got.append(item)
    assert got == [1, 2]


def test_prefetched_reads_the_next_item_while_the_consumer_works_on_this_one():
    import threading
    read = [threading.Event() for _ in range(3)]

    def items():
        for n in range(3):
            read[n].set()
            yield n

    for n in prefetched(items(), depth=2):
        if n + 1 < len(read):
            assert read[n + 1].wait(timeout=10), "the next item was not read ahead"


def test_api_usage_is_read_from_every_answer_a_composite_one_too(client):
    """An idle cycle makes one composite call and nothing else: the org's usage still comes with it."""
    client.instance_url  # logged in
    before = client.api_usage[0] if client.api_usage else 0
    composite(client, [SubRequest("all", query_path("SELECT Id FROM Contact", include_deleted=True)),
                       SubRequest("leads", query_path("SELECT Id FROM Lead", include_deleted=True))])
    used, limit = client.api_usage
    assert before < used <= limit
    composite(client, [SubRequest("again", query_path("SELECT Id FROM Account")),
                       SubRequest("more", query_path("SELECT Id FROM Lead"))])
    assert client.api_usage[0] == used + 1
