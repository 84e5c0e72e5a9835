"""The HTTP layer every API shares: compressed bodies both ways, describe's 304, what the resource
list names, and unknown paths answered in the shape of the API they fall under."""

from __future__ import annotations

import gzip
import json
import time
import zlib
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest
from defusedxml import ElementTree as SafeET

from tandem.emulator.sample_org import ADMIN

V = "v62.0"
ASYNC_NS = "{http://www.force.com/2009/06/asyncapi/dataload}"


def bearer(token: str, **extra: str) -> dict:
    return {"Authorization": f"Bearer {token}", **extra}


@pytest.mark.parametrize("coding, pack", [
    ("gzip", gzip.compress),
    ("deflate", zlib.compress),
    ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some clients send it
])
def test_rest_accepts_a_compressed_body(base_url, http, sf_token, coding, pack):
    body = pack(json.dumps({"LastName": f"Packed {coding}"}).encode())
    answer = http.post(f"{base_url}/services/data/{V}/sobjects/Contact", data=body,
                       headers=bearer(sf_token, **{"Content-Type": "application/json", "Content-Encoding": coding}))
    assert answer.status_code == 201, answer.text
    record = http.get(f"{base_url}/services/data/{V}/sobjects/Contact/{answer.json()['id']}", headers=bearer(sf_token))
    assert record.json()["LastName"] == f"Packed {coding}"


def test_bulk_accepts_a_gzip_batch(base_url, http, sf_token):
    xml = {"X-SFDC-Session": sf_token, "Content-Type": "application/xml; charset=UTF-8"}
    job_xml = ('<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><operation>insert</operation>'
               "<object>Contact</object><contentType>CSV</contentType></jobInfo>")
    job = http.post(f"{base_url}/services/async/62.0/job", headers={**xml, "Content-Encoding": "gzip"},
                    data=gzip.compress(job_xml.encode()))
    assert job.status_code == 201, job.text
    job_id = SafeET.fromstring(job.content).findtext(f"{ASYNC_NS}id")
    batch = http.post(f"{base_url}/services/async/62.0/job/{job_id}/batch",
                      headers={"X-SFDC-Session": sf_token, "Content-Type": "text/csv", "Content-Encoding": "gzip"},
                      data=gzip.compress(b"LastName,Email\nGzipped,gz@example.test\n"))
    assert batch.status_code == 201, batch.text
    batch_id = SafeET.fromstring(batch.content).findtext(f"{ASYNC_NS}id")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = SafeET.fromstring(http.get(f"{base_url}/services/async/62.0/job/{job_id}/batch/{batch_id}",
                                           headers=xml).content).findtext(f"{ASYNC_NS}state")
        if state not in ("Queued", "InProgress"):
            break
    assert state == "Completed"
    results = http.get(f"{base_url}/services/async/62.0/job/{job_id}/batch/{batch_id}/result", headers=xml)
    assert results.headers["Content-Type"] == "text/csv"
    lines = results.text.splitlines()
    assert lines[0] == '"Id","Success","Created","Error"'
    assert lines[1].endswith('"true","true",""')


def test_soap_accepts_a_gzip_body(base_url, http):
    envelope = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"'
        ' xmlns:urn="urn:partner.soap.sforce.com"><soapenv:Body><urn:login>'
        f"<urn:username>{ADMIN[0]}</urn:username><urn:password>{ADMIN[1]}</urn:password>"
        "</urn:login></soapenv:Body></soapenv:Envelope>"
    )
    answer = http.post(f"{base_url}/services/Soap/u/62.0", data=gzip.compress(envelope.encode()),
                       headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "login",
                                "Content-Encoding": "gzip"})
    assert answer.status_code == 200, answer.text
    assert "<sessionId>" in answer.text


def test_a_body_that_does_not_inflate_is_refused_in_the_apis_shape(base_url, http, sf_token):
    rest = http.post(f"{base_url}/services/data/{V}/sobjects/Contact", data=b"not gzip at all",
                     headers=bearer(sf_token, **{"Content-Type": "application/json", "Content-Encoding": "gzip"}))
    assert rest.status_code == 400
    assert "Content-Encoding gzip" in rest.json()[0]["message"]
    bulk = http.post(f"{base_url}/services/async/62.0/job", data=b"not gzip at all",
                     headers={"X-SFDC-Session": sf_token, "Content-Type": "application/xml",
                              "Content-Encoding": "gzip"})
    assert bulk.status_code == 400
    assert SafeET.fromstring(bulk.content).findtext(f"{ASYNC_NS}exceptionCode") == "ClientInputError"
    unknown = http.post(f"{base_url}/services/data/{V}/sobjects/Contact", data=b"{}",
                        headers=bearer(sf_token, **{"Content-Type": "application/json", "Content-Encoding": "br"}))
    assert unknown.status_code == 415
    assert "'br'" in unknown.json()[0]["message"]
    assert http.get(f"{base_url}/services/data/{V}/sobjects/Contact/describe",
                    headers=bearer(sf_token)).status_code == 200


def test_answers_are_gzip_compressed_when_asked(base_url, http, sf_token):
    url = f"{base_url}/services/data/{V}/sobjects/Contact/describe"
    packed = http.get(url, headers=bearer(sf_token, **{"Accept-Encoding": "gzip"}), stream=True)
    raw = packed.raw.read(decode_content=False)
    assert packed.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(raw))["name"] == "Contact"
    plain = http.get(url, headers=bearer(sf_token, **{"Accept-Encoding": "identity"}), stream=True)
    assert "Content-Encoding" not in plain.headers
    assert json.loads(plain.raw.read(decode_content=False))["name"] == "Contact"


@pytest.mark.parametrize("path", ["sobjects", "sobjects/Contact/describe"])
def test_describe_answers_304_until_the_schema_changes(base_url, http, sf_token, emulator, path):
    url = f"{base_url}/services/data/{V}/{path}"
    first = http.get(url, headers=bearer(sf_token))
    assert first.status_code == 200
    stamp = first.headers["Last-Modified"]
    unchanged = http.get(url, headers=bearer(sf_token, **{"If-Modified-Since": stamp}))
    assert unchanged.status_code == 304 and unchanged.content == b""
    older = format_datetime(parsedate_to_datetime(stamp) - timedelta(seconds=1), usegmt=True)
    assert http.get(url, headers=bearer(sf_token, **{"If-Modified-Since": older})).status_code == 200

    emulator.org.define_custom_field("Contact", {"name": "Shoe_Size__c", "type": "double"})  # an admin in Setup
    changed = http.get(url, headers=bearer(sf_token, **{"If-Modified-Since": stamp}))
    assert changed.status_code == 200
    assert parsedate_to_datetime(changed.headers["Last-Modified"]) > parsedate_to_datetime(stamp)


# Where each listed resource is reached (a resource such as `jobs` has no GET of its own).
_PROBES = {"query": ["?q=SELECT+Id+FROM+Contact"], "queryAll": ["?q=SELECT+Id+FROM+Contact"],
           "composite": ["/sobjects?ids=001000000000000AAA&fields=Id"], "jobs": ["/ingest", "/query"]}


def test_the_resource_list_names_only_what_answers(base_url, http, sf_token):
    listed = http.get(f"{base_url}/services/data/{V}/", headers=bearer(sf_token)).json()
    assert {"sobjects", "query", "queryAll", "composite", "limits", "jobs", "identity"} <= set(listed)
    assert not {"eclair", "wave", "chatter", "knowledgeManagement"} & set(listed)
    for name, url in listed.items():
        target = url if url.startswith("https://") else f"{base_url}{url}"
        answers = [http.get(target + probe, headers=bearer(sf_token)).status_code
                   for probe in _PROBES.get(name, ["", "/sobjects"])]
        assert any(status != 404 for status in answers), (name, answers)


def test_unknown_paths_answer_in_the_shape_of_their_api(base_url, http, sf_token):
    rest = http.get(f"{base_url}/services/data/{V}/no-such-resource", headers=bearer(sf_token))
    assert rest.status_code == 404 and rest.json() == [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]

    bulk = http.get(f"{base_url}/services/async/62.0/no-such-resource", headers={"X-SFDC-Session": sf_token})
    assert bulk.status_code == 404 and bulk.headers["Content-Type"] == "application/xml"
    error = SafeET.fromstring(bulk.content)
    assert error.tag == f"{ASYNC_NS}error"
    assert error.findtext(f"{ASYNC_NS}exceptionCode") == "InvalidUrl"
    bare = http.get(f"{base_url}/services/async/62.0", headers={"Content-Type": "application/json"})
    assert bare.status_code == 404 and bare.json()["exceptionCode"] == "InvalidUrl"

    soap = http.post(f"{base_url}/services/Soap/x/62.0", data=b"<x/>", headers={"Content-Type": "text/xml"})
    assert soap.status_code == 404 and soap.headers["Content-Type"].startswith("text/xml")
    fault = SafeET.fromstring(soap.content)
    assert fault.find(".//{http://schemas.xmlsoap.org/soap/envelope/}Fault").findtext("faultcode") == "sf:NOT_FOUND"

    oauth = http.post(f"{base_url}/services/oauth2/no-such-endpoint")
    assert oauth.status_code == 404
    assert oauth.json()["error"] == "not_found" and oauth.json()["error_description"]
