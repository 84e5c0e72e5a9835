"""Bulk API 2.0 ingest and query jobs through simple-salesforce's `bulk2`, plus raw results CSV."""

from __future__ import annotations

import csv
import io

import pytest


def test_bulk2_insert_reports_successes_and_failures(sf):
    records = [{"LastName": "Bulk One", "Email": "one@example.com"}, {"FirstName": "No last name"},
               {"LastName": "Bulk Two", "Lead_Score__c": "7"}]
    [result] = sf.bulk2.Contact.insert(records=records, wait=0)
    assert result["numberRecordsProcessed"] == 3 and result["numberRecordsFailed"] == 1
    successes = list(csv.DictReader(io.StringIO(sf.bulk2.Contact.get_successful_records(result["job_id"]))))
    failures = list(csv.DictReader(io.StringIO(sf.bulk2.Contact.get_failed_records(result["job_id"]))))
    assert [row["LastName"] for row in successes] == ["Bulk One", "Bulk Two"]
    assert all(row["sf__Created"] == "true" and row["sf__Id"].startswith("003") for row in successes)
    assert failures[0]["sf__Error"].startswith("REQUIRED_FIELD_MISSING:")
    assert sf.Contact.get(successes[1]["sf__Id"])["Lead_Score__c"] == 7


def test_bulk2_upsert_update_and_delete(sf):
    sf.bulk2.Contact.upsert(records=[{"External_Id__c": "bk-1", "LastName": "Up"}], external_id_field="External_Id__c",
                            wait=0)
    found = sf.query("SELECT Id FROM Contact WHERE External_Id__c = 'bk-1'")["records"][0]["Id"]
    sf.bulk2.Contact.update(records=[{"Id": found, "Title": "Updated"}], wait=0)
    assert sf.Contact.get(found)["Title"] == "Updated"
    [deleted] = sf.bulk2.Contact.delete(records=[{"Id": found}], wait=0)
    assert deleted["numberRecordsFailed"] == 0
    assert sf.query("SELECT COUNT() FROM Contact WHERE External_Id__c = 'bk-1'")["totalSize"] == 0


def test_bulk2_query_pages_with_locator(sf, base_url, http):
    rows = [{"LastName": f"Q{i:03d}"} for i in range(25)]
    http.post(f"{base_url}/_emulator/seed", json={"Contact": rows}).raise_for_status()
    pages = list(sf.bulk2.Contact.query("SELECT Id, LastName FROM Contact WHERE LastName LIKE 'Q%'",
                                        max_records=10, wait=0))
    assert len(pages) == 3
    parsed = [list(csv.DictReader(io.StringIO(page))) for page in pages]
    assert [len(p) for p in parsed] == [10, 10, 5]
    assert sorted(row["LastName"] for page in parsed for row in page) == [f"Q{i:03d}" for i in range(25)]
    assert list(parsed[0][0]) == ["Id", "LastName"]


def test_query_results_headers_and_final_null_locator(base_url, http, sf_token):
    headers = {"Authorization": f"Bearer {sf_token}"}
    job = http.post(f"{base_url}/services/data/v62.0/jobs/query", headers=headers,
                    json={"operation": "query", "query": "SELECT Id, Name FROM Account"}).json()
    assert job["state"] == "UploadComplete" and job["id"].startswith("750")
    info = http.get(f"{base_url}/services/data/v62.0/jobs/query/{job['id']}", headers=headers).json()
    assert info["state"] == "JobComplete" and info["numberRecordsProcessed"] == 3
    page = http.get(f"{base_url}/services/data/v62.0/jobs/query/{job['id']}/results", headers=headers)
    assert page.headers["Sforce-NumberOfRecords"] == "3"
    assert page.headers["Sforce-Locator"] == "null"
    assert page.headers["content-type"].startswith("text/csv")


def test_ingest_job_state_machine_over_raw_http(base_url, http, sf_token):
    headers = {"Authorization": f"Bearer {sf_token}"}
    url = f"{base_url}/services/data/v62.0/jobs/ingest"
    job = http.post(url, headers=headers, json={"object": "Lead", "operation": "insert", "lineEnding": "LF"}).json()
    assert job["state"] == "Open" and job["contentUrl"] == f"services/data/v62.0/jobs/ingest/{job['id']}/batches"
    upload = http.put(f"{url}/{job['id']}/batches", headers={**headers, "Content-Type": "text/csv"},
                      data="LastName,Company,Email\nBulk,ACME,bulk@example.com\n")
    assert upload.status_code == 201
    closed = http.patch(f"{url}/{job['id']}", headers=headers, json={"state": "UploadComplete"}).json()
    assert closed["state"] == "UploadComplete"
    info = http.get(f"{url}/{job['id']}", headers=headers).json()
    assert (info["state"], info["numberRecordsProcessed"], info["numberRecordsFailed"]) == ("JobComplete", 1, 0)
    unprocessed = http.get(f"{url}/{job['id']}/unprocessedRecords", headers=headers)
    assert unprocessed.status_code == 200 and unprocessed.text.splitlines() == ['"LastName","Company","Email"']
    assert http.put(f"{url}/{job['id']}/batches", headers=headers, data="LastName\nX\n").status_code == 409
    assert http.delete(f"{url}/{job['id']}", headers=headers).status_code == 204


def test_unknown_column_fails_the_job(base_url, http, sf_token):
    headers = {"Authorization": f"Bearer {sf_token}"}
    url = f"{base_url}/services/data/v62.0/jobs/ingest"
    job = http.post(url, headers=headers, json={"object": "Contact", "operation": "insert"}).json()
    http.put(f"{url}/{job['id']}/batches", headers={**headers, "Content-Type": "text/csv"}, data="Nope__c\nx\n")
    http.patch(f"{url}/{job['id']}", headers=headers, json={"state": "UploadComplete"})
    info = http.get(f"{url}/{job['id']}", headers=headers).json()
    assert info["state"] == "Failed" and "Nope__c" in info["errorMessage"]


def test_each_query_job_counts_against_the_daily_bulk_query_jobs(base_url, http, sf_token):
    """Before, `DailyBulkV2QueryJobs` stayed at its maximum however many jobs ran."""
    headers = {"Authorization": f"Bearer {sf_token}"}

    def remaining() -> int:
        return http.get(f"{base_url}/services/data/v62.0/limits", headers=headers).json()["DailyBulkV2QueryJobs"]["Remaining"]

    before = remaining()
    for _ in range(2):
        answer = http.post(f"{base_url}/services/data/v62.0/jobs/query", headers=headers,
                           json={"operation": "query", "query": "SELECT Id FROM Contact"})
        assert answer.status_code == 200
    assert remaining() == before - 2


def _query_job(base_url, http, token, soql):
    return http.post(f"{base_url}/services/data/v62.0/jobs/query", headers={"Authorization": f"Bearer {token}"},
                     json={"operation": "query", "query": soql})


def test_query_job_selecting_fields_standard_has_a_column_per_field(base_url, http, sf_token):
    job = _query_job(base_url, http, sf_token, "SELECT FIELDS(STANDARD) FROM Account WHERE Name = 'Acme Corp'").json()
    page = http.get(f"{base_url}/services/data/v62.0/jobs/query/{job['id']}/results",
                    headers={"Authorization": f"Bearer {sf_token}"})
    [row] = list(csv.DictReader(io.StringIO(page.text)))
    assert row["Name"] == "Acme Corp" and row["Id"].startswith("001")
    assert "FIELDS(STANDARD)" not in row


def test_query_job_with_no_rows_names_the_fields_of_fields_standard(base_url, http, sf_token):
    job = _query_job(base_url, http, sf_token, "SELECT FIELDS(STANDARD) FROM Account WHERE Name = 'Nobody'").json()
    page = http.get(f"{base_url}/services/data/v62.0/jobs/query/{job['id']}/results",
                    headers={"Authorization": f"Bearer {sf_token}"})
    header = next(csv.reader(io.StringIO(page.text)))
    assert header[0] == "Id" and "Name" in header and "FIELDS(STANDARD)" not in header


def test_query_job_refuses_what_bulk_queries_cannot_do(base_url, http, sf_token):
    """Aggregates and OFFSET run over REST, but a Bulk API 2.0 query job refuses them when it is created."""
    for soql in ("SELECT COUNT() FROM Account", "SELECT COUNT(Id) n FROM Account",
                 "SELECT Id FROM Account ORDER BY Name LIMIT 2 OFFSET 1"):
        answer = _query_job(base_url, http, sf_token, soql)
        assert answer.status_code == 400, soql
        [error] = answer.json()
        assert error["errorCode"] == "API_ERROR" and "not supported in Bulk" in error["message"], soql
    listed = http.get(f"{base_url}/services/data/v62.0/jobs/query",
                      headers={"Authorization": f"Bearer {sf_token}"}).json()["records"]
    assert listed == []


def test_insert_job_refuses_rows_that_carry_an_id(sf):
    """An insert never takes an Id: the row fails instead of making a second record."""
    existing = sf.query("SELECT Id FROM Contact WHERE LastName = 'Gibbons'")["records"][0]["Id"]
    [result] = sf.bulk2.Contact.insert(records=[{"Id": existing, "LastName": "Copy"}], wait=0)
    assert result["numberRecordsFailed"] == 1
    [failure] = list(csv.DictReader(io.StringIO(sf.bulk2.Contact.get_failed_records(result["job_id"]))))
    assert failure["sf__Error"].startswith("INVALID_FIELD_FOR_INSERT_UPDATE:cannot specify Id in an insert call")
    assert sf.query("SELECT COUNT() FROM Contact WHERE LastName = 'Copy'")["totalSize"] == 0


def test_ingest_job_for_an_unknown_object_or_a_plain_upsert_field_is_refused_as_an_invalid_job(
        base_url, http, sf_token):
    url = f"{base_url}/services/data/v62.0/jobs/ingest"
    headers = {"Authorization": f"Bearer {sf_token}"}
    unknown = http.post(url, headers=headers, json={"object": "Nope__c", "operation": "insert"})
    assert unknown.status_code == 400
    assert unknown.json()[0]["errorCode"] == "INVALIDJOB"
    assert unknown.json()[0]["message"] == "InvalidJob : Unable to find object: Nope__c"
    for field in ("LastName", "Nope__c", None):
        answer = http.post(url, headers=headers,
                           json={"object": "Contact", "operation": "upsert", "externalIdFieldName": field})
        assert answer.status_code == 400, field
        [error] = answer.json()
        assert error["errorCode"] == "INVALIDJOB"
        assert error["message"] == f"InvalidJob : Field name provided, {field or ''} does not match an External ID " \
                                   "for Contact"
    assert http.get(url, headers=headers).json()["records"] == []
    good = http.post(url, headers=headers,
                     json={"object": "Contact", "operation": "upsert", "externalIdFieldName": "External_Id__c"})
    assert good.status_code == 200 and good.json()["state"] == "Open"


def test_failed_results_write_errors_without_fields_as_salesforce_does(sf):
    """`CODE:message:fields --`, and `CODE:message:--` when the error names no field."""
    gone = sf.Contact.create({"LastName": "Gone"})["id"]
    sf.Contact.delete(gone)
    [deleted] = sf.bulk2.Contact.delete(records=[{"Id": gone}], wait=0)
    [failure] = list(csv.DictReader(io.StringIO(sf.bulk2.Contact.get_failed_records(deleted["job_id"]))))
    assert failure["sf__Error"] == "ENTITY_IS_DELETED:entity is deleted:--"
    [inserted] = sf.bulk2.Contact.insert(records=[{"FirstName": "No last name"}], wait=0)
    [failure] = list(csv.DictReader(io.StringIO(sf.bulk2.Contact.get_failed_records(inserted["job_id"]))))
    assert failure["sf__Error"] == "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --"


def test_a_cell_that_is_not_of_its_fields_type_fails_as_salesforce_words_it(base_url, http, sf_token):
    headers = {"Authorization": f"Bearer {sf_token}"}
    url = f"{base_url}/services/data/v62.0/jobs/ingest"
    job = http.post(url, headers=headers, json={"object": "Contact", "operation": "insert"}).json()
    data = "LastName,Birthdate,HasOptedOutOfEmail,Lead_Score__c\nA,6/15/19,,\nB,,maybe,\nC,,,ten\nD,2019-06-15,true,10\n"
    http.put(f"{url}/{job['id']}/batches", headers={**headers, "Content-Type": "text/csv"}, data=data)
    http.patch(f"{url}/{job['id']}", headers=headers, json={"state": "UploadComplete"})
    failed = http.get(f"{url}/{job['id']}/failedResults", headers=headers)
    errors = {row["LastName"]: row["sf__Error"] for row in csv.DictReader(io.StringIO(failed.text))}
    assert errors == {
        "A": "INVALID_FIELD:Failed to deserialize field at col 2. Due to, '6/15/19' is not a valid value for the "
             "type xsd:date:Birthdate --",
        "B": "INVALID_FIELD:Failed to deserialize field at col 3. Due to, 'maybe' is not a valid value for the "
             "type xsd:boolean:HasOptedOutOfEmail --",
        "C": "INVALID_FIELD:Failed to deserialize field at col 4. Due to, 'ten' is not a valid value for the "
             "type xsd:double:Lead_Score__c --",
    }


def test_aborting_a_job_that_has_ended_is_refused_as_salesforce_documents(base_url, http, sf_token):
    headers = {"Authorization": f"Bearer {sf_token}"}
    done = _query_job(base_url, http, sf_token, "SELECT Id FROM Account").json()
    url = f"{base_url}/services/data/v62.0/jobs"
    assert http.get(f"{url}/query/{done['id']}", headers=headers).json()["state"] == "JobComplete"
    ingest = http.post(f"{url}/ingest", headers=headers, json={"object": "Contact", "operation": "insert"}).json()
    http.put(f"{url}/ingest/{ingest['id']}/batches", headers={**headers, "Content-Type": "text/csv"},
             data="LastName\nEnded\n")
    http.patch(f"{url}/ingest/{ingest['id']}", headers=headers, json={"state": "UploadComplete"})
    for path in (f"query/{done['id']}", f"ingest/{ingest['id']}"):
        answer = http.patch(f"{url}/{path}", headers=headers, json={"state": "Aborted"})
        assert answer.status_code == 400, path
        [error] = answer.json()
        assert (error["errorCode"], error["message"]) == ("INVALIDJOBSTATE", "Aborting already Completed Job not allowed")
        assert http.get(f"{url}/{path}", headers=headers).json()["state"] == "JobComplete"


def test_a_job_given_its_data_twice_cannot_be_closed_as_salesforce_refuses_it(base_url, http, sf_token):
    """A Bulk 2.0 ingest job takes one upload: Salesforce answers a second `PUT` with 201 and then
    refuses to close the job, so neither upload is processed. Before, the emulator processed both."""
    headers = {"Authorization": f"Bearer {sf_token}"}
    url = f"{base_url}/services/data/v62.0/jobs/ingest"
    job = http.post(url, headers=headers, json={"object": "Contact", "operation": "insert"}).json()
    for name in ("Twice One", "Twice Two"):
        upload = http.put(f"{url}/{job['id']}/batches", headers={**headers, "Content-Type": "text/csv"},
                          data=f"LastName\n{name}\n")
        assert upload.status_code == 201
    closing = http.patch(f"{url}/{job['id']}", headers=headers, json={"state": "UploadComplete"})
    assert closing.status_code == 400
    [error] = closing.json()
    assert (error["errorCode"], error["message"]) == (
        "INVALIDJOB", f"Found multipe contents for job: <{job['id'][:15]}>, please 'Close' / 'Abort' / 'Delete' "
                      "the current Job then create a new Job and make sure you only do 'PUT' once on a given Job.")
    info = http.get(f"{url}/{job['id']}", headers=headers).json()
    assert (info["state"], info["numberRecordsProcessed"]) == ("Open", 0)
    aborted = http.patch(f"{url}/{job['id']}", headers=headers, json={"state": "Aborted"})
    assert aborted.status_code == 200 and aborted.json()["state"] == "Aborted"
    count = http.get(f"{base_url}/services/data/v62.0/query", headers=headers,
                     params={"q": "SELECT COUNT() FROM Contact WHERE LastName LIKE 'Twice%'"}).json()
    assert count["totalSize"] == 0


def test_an_open_job_cannot_be_deleted_as_salesforce_documents(base_url, http, sf_token):
    """A job is deleted once it is closed, aborted or ended, never while still open for its data.
    Before, the emulator deleted an open job."""
    headers = {"Authorization": f"Bearer {sf_token}"}
    url = f"{base_url}/services/data/v62.0/jobs/ingest"
    job = http.post(url, headers=headers, json={"object": "Contact", "operation": "insert"}).json()
    refused = http.delete(f"{url}/{job['id']}", headers=headers)
    assert refused.status_code == 400
    [error] = refused.json()
    assert error["errorCode"] == "INVALIDJOBSTATE" and "Open" in error["message"]
    assert http.get(f"{url}/{job['id']}", headers=headers).json()["state"] == "Open"
    http.patch(f"{url}/{job['id']}", headers=headers, json={"state": "Aborted"})
    assert http.delete(f"{url}/{job['id']}", headers=headers).status_code == 204
    assert http.get(f"{url}/{job['id']}", headers=headers).status_code == 404


def test_rows_ended_otherwise_than_the_jobs_line_ending_fail_the_job_as_in_salesforce(base_url, http, sf_token):
    """An LF job given CRLF rows (what most CSV writers emit) fails whole, nothing written, and so does a
    CRLF job given LF rows. Before, the emulator read either."""
    headers = {"Authorization": f"Bearer {sf_token}"}
    url = f"{base_url}/services/data/v62.0/jobs/ingest"

    def run(line_ending: str, data: str) -> dict:
        job = http.post(url, headers=headers,
                        json={"object": "Contact", "operation": "insert", "lineEnding": line_ending}).json()
        http.put(f"{url}/{job['id']}/batches", headers={**headers, "Content-Type": "text/csv"}, data=data)
        http.patch(f"{url}/{job['id']}", headers=headers, json={"state": "UploadComplete"})
        return http.get(f"{url}/{job['id']}", headers=headers).json()

    for line_ending, data in (("LF", "LastName,Title\r\nEnding One,x\r\n"), ("CRLF", "LastName,Title\nEnding Two,x\n")):
        info = run(line_ending, data)
        assert (info["state"], info["numberRecordsProcessed"]) == ("Failed", 0), line_ending
        assert info["errorMessage"] == ("ClientInputError : LineEnding is invalid on user data. Current LineEnding "
                                        f"setting is {line_ending}")
    # a line break inside a quoted value is the value's, whatever the job's line ending
    assert run("LF", 'LastName,Description\nEnding Three,"one\r\ntwo"\n')["state"] == "JobComplete"
    assert run("CRLF", 'LastName,Description\r\nEnding Four,"one\ntwo"\r\n')["state"] == "JobComplete"
    count = http.get(f"{base_url}/services/data/v62.0/query", headers=headers,
                     params={"q": "SELECT LastName FROM Contact WHERE LastName LIKE 'Ending%'"}).json()
    assert sorted(r["LastName"] for r in count["records"]) == ["Ending Four", "Ending Three"]


def _ingest(base_url, http, token, data):
    """Run one Contact insert job on `data`; its JobInfo and failed rows by LastName."""
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{base_url}/services/data/v62.0/jobs/ingest"
    job = http.post(url, headers=headers, json={"object": "Contact", "operation": "insert"}).json()
    http.put(f"{url}/{job['id']}/batches", headers={**headers, "Content-Type": "text/csv"}, data=data)
    http.patch(f"{url}/{job['id']}", headers=headers, json={"state": "UploadComplete"})
    info = http.get(f"{url}/{job['id']}", headers=headers).json()
    failed = http.get(f"{url}/{job['id']}/failedResults", headers=headers)
    return info, {row["LastName"]: row["sf__Error"] for row in csv.DictReader(io.StringIO(failed.text))}


def test_a_relationship_column_must_name_an_external_id_or_indexed_field_of_the_parent(sf, base_url, http, sf_token):
    """Before, `Account.External_Id__c` (no such Account field) failed each row with the text of a
    SOQL parse error, and `ReportsTo.LastName` (no external Id) looked the parent up by name."""
    sf.Contact.create({"LastName": "Boss", "External_Id__c": "boss-1"})
    info, _ = _ingest(base_url, http, sf_token, "LastName,Account.External_Id__c\nA,x\n")
    assert info["state"] == "Failed"
    assert info["errorMessage"] == "InvalidBatch : Field name not found : Account.External_Id__c"
    info, _ = _ingest(base_url, http, sf_token, "LastName,ReportsTo.LastName\nB,Boss\n")
    assert info["state"] == "Failed"
    assert info["errorMessage"] == ("InvalidBatch : Field name provided, LastName is not an External ID or indexed "
                                    "field for Contact")
    info, errors = _ingest(base_url, http, sf_token, "LastName,ReportsTo.external_id__c\nC,boss-1\nD,nobody\n")
    assert (info["state"], info["numberRecordsProcessed"], info["numberRecordsFailed"]) == ("JobComplete", 2, 1)
    assert errors == {"D": "INVALID_FIELD:Foreign key external ID: nobody not found for field External_Id__c in "
                           "entity Contact:--"}
    boss = sf.query("SELECT Id FROM Contact WHERE LastName = 'Boss'")["records"][0]["Id"]
    assert sf.query("SELECT ReportsToId FROM Contact WHERE LastName = 'C'")["records"][0]["ReportsToId"] == boss


def test_a_relationship_value_matching_two_parents_fails_its_row_as_a_duplicate(sf, base_url, http, sf_token):
    """Before, two parents with the value were reported as none found."""
    for last in ("Twin A", "Twin B"):
        sf.Contact.create({"LastName": last, "Email": "twin@example.com"})
    twins = sorted(r["Id"] for r in sf.query("SELECT Id FROM Contact WHERE Email = 'twin@example.com'")["records"])
    info, errors = _ingest(base_url, http, sf_token, "LastName,ReportsTo.Email\nE,twin@example.com\n")
    assert (info["state"], info["numberRecordsFailed"]) == ("JobComplete", 1)
    assert errors == {"E": f"DUPLICATE_EXTERNAL_ID:Email: more than one record found for external id field: "
                           f"[{', '.join(twins)}]:--"}


def test_an_upsert_job_may_match_by_an_id_lookup_field_as_its_job_allows(sf):
    """Email is an Id-lookup field of Contact: the job that names it is accepted, so its rows upsert
    by it (case-insensitively) instead of each failing as an unknown external Id field."""
    [result] = sf.bulk2.Contact.upsert(
        records=[{"Email": "WILE@acme.example", "Title": "Genius"}, {"Email": "road@runner.example", "LastName": "Bird"}],
        external_id_field="Email", wait=0)
    assert (result["numberRecordsProcessed"], result["numberRecordsFailed"]) == (2, 0)
    rows = list(csv.DictReader(io.StringIO(sf.bulk2.Contact.get_successful_records(result["job_id"]))))
    assert sorted(row["sf__Created"] for row in rows) == ["false", "true"]
    assert sf.query("SELECT Title FROM Contact WHERE LastName = 'Coyote'")["records"][0]["Title"] == "Genius"
    assert sf.query("SELECT COUNT() FROM Contact WHERE Email = 'road@runner.example'")["totalSize"] == 1


def test_each_ingest_batch_counts_against_the_daily_bulk_api_batches(base_url, http, sf_token):
    """Bulk API 2.0 ingest shares `DailyBulkApiBatches` with Bulk API: a batch per 10,000 rows of a
    job (query jobs use none); before, the allocation stayed full however much was loaded."""
    headers = {"Authorization": f"Bearer {sf_token}"}

    def remaining() -> int:
        limits = http.get(f"{base_url}/services/data/v62.0/limits", headers=headers).json()
        return limits["DailyBulkApiBatches"]["Remaining"]

    before = remaining()
    info, failed = _ingest(base_url, http, sf_token, "LastName\n" + "".join(f"Batched{i}\n" for i in range(10_001)))
    assert (info["state"], info["numberRecordsProcessed"], failed) == ("JobComplete", 10_001, {})
    assert remaining() == before - 2
    _query_job(base_url, http, sf_token, "SELECT Id FROM Contact")
    assert remaining() == before - 2


def test_an_ingest_job_past_the_batch_allocation_fails_leaving_its_rows_unprocessed(
        tmp_path, new_session, sample_org_path, get_token):
    import json

    from tandem.emulator.model import Org
    from tandem.emulator.sample_org import ADMIN
    from tandem.emulator.server import EmulatorServer

    definition = json.loads(sample_org_path.read_text())
    definition["limits"] = {"DailyBulkApiBatches": 1}
    with EmulatorServer(Org.from_definition(definition), port=0, state_dir=tmp_path) as server:
        session = new_session()
        session.verify = str(server.ca_path)
        token = get_token(server.base_url, session, *ADMIN)
        first, _ = _ingest(server.base_url, session, token, "LastName\nFirst\n")
        assert first["state"] == "JobComplete"
        second, _ = _ingest(server.base_url, session, token, "LastName\nSecond\n")
        assert (second["state"], second["numberRecordsProcessed"]) == ("Failed", 0)
        assert second["errorMessage"] == "InvalidBatch : ApiBatchItems Limit exceeded."
        url = f"{server.base_url}/services/data/v62.0/jobs/ingest/{second['id']}"
        unprocessed = session.get(f"{url}/unprocessedrecords", headers={"Authorization": f"Bearer {token}"})
        assert unprocessed.text.splitlines()[1:] == ['"Second"']


def test_data_that_is_not_utf8_fails_the_job_instead_of_leaving_it_in_progress(base_url, http, sf_token):
    """A Latin-1 upload made closing the job answer 500 UNKNOWN_EXCEPTION and left it `InProgress` for
    ever; the job now fails, saying why, and nothing is written."""
    info, _ = _ingest(base_url, http, sf_token, "LastName,Email\nM\xfcller,m@example.com\n".encode("latin-1"))
    assert (info["state"], info["numberRecordsProcessed"]) == ("Failed", 0)
    assert info["errorMessage"].startswith("ClientInputError : Data is not valid UTF-8")
    headers = {"Authorization": f"Bearer {sf_token}"}
    found = http.get(f"{base_url}/services/data/v62.0/query", headers=headers,
                     params={"q": "SELECT Id FROM Contact WHERE Email = 'm@example.com'"}).json()
    assert found["totalSize"] == 0


def test_updates_and_deletes_by_15_character_ids_report_18_character_ids(sf):
    """`sf__Id` of a successful update or delete echoed the 15-character Id the row gave; Salesforce
    reports the record's 18-character Id, as it does for inserts."""
    ids = [sf.Contact.create({"LastName": name})["id"] for name in ("Short One", "Short Two")]
    [updated] = sf.bulk2.Contact.update(records=[{"Id": i[:15], "Title": "x"} for i in ids], wait=0)
    successes = csv.DictReader(io.StringIO(sf.bulk2.Contact.get_successful_records(updated["job_id"])))
    assert [row["sf__Id"] for row in successes] == ids
    [deleted] = sf.bulk2.Contact.delete(records=[{"Id": i[:15]} for i in ids], wait=0)
    successes = csv.DictReader(io.StringIO(sf.bulk2.Contact.get_successful_records(deleted["job_id"])))
    assert [row["sf__Id"] for row in successes] == ids


def test_an_upsert_job_repeating_an_external_id_fails_each_repeating_row(sf):
    """Two rows of one batch with the same external Id created the first record and updated it with
    the second; each repeating row now fails with DUPLICATE_EXTERNAL_ID, as in sObject Collections."""
    rows = [{"External_Id__c": "dup-1", "LastName": "Dup One"}, {"External_Id__c": "once-1", "LastName": "Once"},
            {"External_Id__c": "dup-1", "LastName": "Dup Two"}]
    [result] = sf.bulk2.Contact.upsert(records=rows, external_id_field="External_Id__c", wait=0)
    assert (result["numberRecordsProcessed"], result["numberRecordsFailed"]) == (3, 2)
    failures = list(csv.DictReader(io.StringIO(sf.bulk2.Contact.get_failed_records(result["job_id"]))))
    assert [row["LastName"] for row in failures] == ["Dup One", "Dup Two"]
    assert all(row["sf__Error"].startswith("DUPLICATE_EXTERNAL_ID:Duplicate external id specified: dup-1")
               for row in failures)
    stored = sf.query("SELECT LastName FROM Contact WHERE External_Id__c IN ('dup-1', 'once-1')")["records"]
    assert [r["LastName"] for r in stored] == ["Once"]


@pytest.mark.parametrize(("kind", "body"), [
    ("query", {"operation": ["query"], "query": "SELECT Id FROM Contact"}),
    ("query", {"operation": "query", "query": 5}),
    ("query", {"operation": "query", "query": "SELECT Id FROM Contact", "columnDelimiter": ["COMMA"]}),
    ("ingest", {"operation": "upsert", "object": "Contact", "externalIdFieldName": ["External_Id__c"]}),
    ("ingest", {"operation": "insert", "object": "Contact", "lineEnding": {"LF": True}}),
])
def test_a_job_property_that_is_not_text_is_refused_naming_it(base_url, http, sf_token, kind, body):
    """A list or number where the JobInfo holds text answered 500 UNKNOWN_EXCEPTION; it is now a 400 naming
    the property, and no job is made."""
    headers = {"Authorization": f"Bearer {sf_token}"}
    url = f"{base_url}/services/data/v62.0/jobs/{kind}"
    answer = http.post(url, headers=headers, json=body)
    assert answer.status_code == 400
    [error] = answer.json()
    assert error["errorCode"] == "JSON_PARSER_ERROR"
    assert [key for key, value in body.items() if not isinstance(value, str)][0] in error["message"]
    assert http.get(url, headers=headers).json()["records"] == []


def test_a_failed_row_names_its_id_whatever_the_letter_case_of_its_column(base_url, http, sf_token):
    """A failed update or delete row got its `sf__Id` only under an `Id` header; under `ID` or `id`
    (which the job reads as the same column) it was left empty."""
    headers = {"Authorization": f"Bearer {sf_token}"}
    url = f"{base_url}/services/data/v62.0/jobs/ingest"
    missing = "003000000000000AAA"
    for operation, data in (("delete", f"ID\n{missing}\n"), ("update", f"id,Title\n{missing},x\n")):
        job = http.post(url, headers=headers, json={"object": "Contact", "operation": operation}).json()
        http.put(f"{url}/{job['id']}/batches", headers={**headers, "Content-Type": "text/csv"}, data=data)
        http.patch(f"{url}/{job['id']}", headers=headers, json={"state": "UploadComplete"})
        failed = http.get(f"{url}/{job['id']}/failedResults", headers=headers)
        assert [row["sf__Id"] for row in csv.DictReader(io.StringIO(failed.text))] == [missing], operation


def test_a_locator_no_page_began_at_is_refused(base_url, http, sf_token):
    """A locator decoding to a negative row (`b2Zmc2V0Oi01`, offset -5) answered rows from the end of the
    results and a locator to more of them; it is refused as INVALIDLOCATOR, as an unreadable one is."""
    headers = {"Authorization": f"Bearer {sf_token}"}
    url = f"{base_url}/services/data/v62.0/jobs/query"
    job = http.post(url, headers=headers, json={"operation": "query", "query": "SELECT Id FROM Contact"}).json()
    for locator in ("b2Zmc2V0Oi01", "LTE", "%%%"):
        answer = http.get(f"{url}/{job['id']}/results", headers=headers, params={"locator": locator})
        assert answer.status_code == 400 and answer.json()[0]["errorCode"] == "INVALIDLOCATOR", locator
