"""Partner calls pyforce does not make (queryAll, describeSObject), gzip bodies posted by hand, and the
SOAP endpoints the emulator does not serve answering SOAP faults."""

from __future__ import annotations

import gzip
from xml.etree import ElementTree

import pytest

NS = "{urn:partner.soap.sforce.com}"
ENVELOPE = (
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns="urn:partner.soap.sforce.com" xmlns:ens="urn:sobject.partner.soap.sforce.com">'
    "<soapenv:Header><SessionHeader><sessionId>{token}</sessionId></SessionHeader></soapenv:Header>"
    "<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
)
SOBJECT_NS = "{urn:sobject.partner.soap.sforce.com}"


def post_soap(http, base_url, token, body):
    return http.post(f"{base_url}/services/Soap/u/62.0", data=ENVELOPE.format(token=token, body=body),
                     headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'})


def test_query_all_includes_deleted_records(sf, base_url, http, sf_token):
    gone = sf.Contact.create({"LastName": "Binned"})["id"]
    sf.Contact.delete(gone)
    body = "<queryAll><queryString>SELECT Id, IsDeleted FROM Contact WHERE LastName = 'Binned'</queryString></queryAll>"
    answer = post_soap(http, base_url, sf_token, body)
    assert answer.status_code == 200, answer.text
    record = ElementTree.fromstring(answer.content).find(f".//{NS}records")
    assert record.find(f"{SOBJECT_NS}Id").text == gone and record.find(f"{SOBJECT_NS}IsDeleted").text == "true"
    plain = post_soap(http, base_url, sf_token, body.replace("queryAll", "query"))
    assert ElementTree.fromstring(plain.content).find(f".//{NS}size").text == "0"


def test_describe_sobject_and_gzip_body(base_url, http, sf_token):
    text = ENVELOPE.format(token=sf_token, body="<describeSObject><sObjectType>Lead</sObjectType></describeSObject>")
    answer = http.post(f"{base_url}/services/Soap/u/62.0", data=gzip.compress(text.encode()),
                       headers={"Content-Type": "text/xml", "Content-Encoding": "gzip", "SOAPAction": '""'})
    assert answer.status_code == 200, answer.text
    result = ElementTree.fromstring(answer.content).find(f".//{NS}result")
    assert result.find(f"{NS}name").text == "Lead"
    names = [f.find(f"{NS}name").text for f in result.findall(f"{NS}fields")]
    assert "Favorite_Color__c" in names and "Email" in names


def test_a_corrupt_gzip_body_is_a_fault(base_url, http):
    answer = http.post(f"{base_url}/services/Soap/u/62.0", data=b"\x1f\x8bnot really gzip",
                       headers={"Content-Type": "text/xml", "Content-Encoding": "gzip"})
    assert answer.status_code == 500 and "<faultcode>sf:INVALID_XML</faultcode>" in answer.text


@pytest.mark.parametrize("api", ["m", "c"])
@pytest.mark.parametrize("suffix", ["/62.0", "/62.0/00D000000000001"])
def test_unserved_soap_apis_answer_soap_faults(base_url, http, sf_token, api, suffix):
    answer = http.post(f"{base_url}/services/Soap/{api}{suffix}", data=ENVELOPE.format(token=sf_token, body="<x/>"),
                       headers={"Content-Type": "text/xml", "SOAPAction": '""'})
    assert answer.status_code == 500
    assert answer.headers["content-type"].startswith("text/xml")
    fault = ElementTree.fromstring(answer.content).find(".//{http://schemas.xmlsoap.org/soap/envelope/}Fault")
    assert fault.find("faultcode").text == "sf:FUNCTIONALITY_NOT_ENABLED"


def test_too_many_records_in_one_create_is_a_fault(base_url, http, sf_token):
    records = "".join("<sObjects><ens:type>Contact</ens:type><ens:LastName>X</ens:LastName></sObjects>"
                      for _ in range(201))
    answer = post_soap(http, base_url, sf_token, f"<create>{records}</create>")
    assert answer.status_code == 500 and "sf:EXCEEDED_ID_LIMIT" in answer.text


def test_simple_salesforce_mdapi_gets_a_soap_fault(sf, ca_path, monkeypatch):
    """simple-salesforce's Metadata API client (zeep, whose session trusts the environment's CA bundle)
    reads the fault instead of choking on JSON."""
    from zeep.exceptions import Fault

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_path))
    with pytest.raises(Fault) as raised:
        sf.mdapi.CustomObject.read("Contact")
    assert "FUNCTIONALITY_NOT_ENABLED" in str(raised.value.message)


def test_soap_search_and_call_counting(base_url, http, sf_token):
    """Each authenticated SOAP call counts once, reported in LimitInfoHeader as in /limits."""
    first = post_soap(http, base_url, sf_token,
                      "<search><searchString>FIND {initech} RETURNING Contact(LastName ORDER BY LastName)"
                      "</searchString></search>")
    assert first.status_code == 200, first.text
    root = ElementTree.fromstring(first.content)
    names = [r.find(f"{SOBJECT_NS}LastName").text for r in root.iter(f"{NS}record")]
    assert names == ["Gibbons", "Nagheenanajar"]
    used_then = int(root.find(f".//{NS}LimitInfoHeader/{NS}limitInfo/{NS}current").text)
    second = post_soap(http, base_url, sf_token, "<getServerTimestamp/>")
    used_now = int(ElementTree.fromstring(second.content).find(f".//{NS}limitInfo/{NS}current").text)
    assert used_now == used_then + 1
    malformed = post_soap(http, base_url, sf_token, "<search><searchString>FIND x</searchString></search>")
    assert malformed.status_code == 500 and "sf:MALFORMED_SEARCH" in malformed.text


def _create_lead(http, base_url, token, header: str, last_name: str) -> str:
    text = ENVELOPE.format(token=token, body=(
        f"<create><sObjects><ens:type>Lead</ens:type><ens:LastName>{last_name}</ens:LastName>"
        f"<ens:Company>Soap Co</ens:Company><ens:Email>{last_name}@soap.example</ens:Email>"
        "<ens:LeadSource>Web</ens:LeadSource></sObjects></create>"))
    text = text.replace("</SessionHeader>", "</SessionHeader>" + header)
    answer = http.post(f"{base_url}/services/Soap/u/62.0", data=text, headers={"Content-Type": "text/xml"})
    assert answer.status_code == 200, answer.text
    return ElementTree.fromstring(answer.content).find(f".//{NS}id").text


def test_assignment_rules_run_only_when_the_header_asks(sf, base_url, http, sf_token):
    ruled = _create_lead(http, base_url, sf_token,
                         "<AssignmentRuleHeader><useDefaultRule>true</useDefaultRule></AssignmentRuleHeader>", "Ruled")
    plain = _create_lead(http, base_url, sf_token, "", "Plain")
    owners = {r["LastName"]: r["Owner"]["Name"] for r in sf.query(
        f"SELECT LastName, Owner.Name FROM Lead WHERE Id IN ('{ruled}', '{plain}')")["records"]}
    assert owners["Ruled"] == "Inbound Leads" and owners["Plain"] != "Inbound Leads"


def test_assignment_rule_header_may_name_a_rule(sf, base_url, http, sf_token):
    [rule] = sf.query("SELECT Id FROM AssignmentRule WHERE SobjectType = 'Lead' AND Active = true")["records"]
    named = _create_lead(http, base_url, sf_token,
                         f"<AssignmentRuleHeader><assignmentRuleId>{rule['Id']}</assignmentRuleId>"
                         "</AssignmentRuleHeader>", "Named")
    assert sf.query(f"SELECT Owner.Name FROM Lead WHERE Id = '{named}'")["records"][0]["Owner"]["Name"] == \
        "Inbound Leads"
    text = ENVELOPE.format(token=sf_token, body="<create><sObjects><ens:type>Lead</ens:type>"
                           "<ens:LastName>Bad</ens:LastName><ens:Company>C</ens:Company></sObjects></create>")
    text = text.replace("</SessionHeader>", "</SessionHeader><AssignmentRuleHeader><assignmentRuleId>nope"
                        "</assignmentRuleId></AssignmentRuleHeader>")
    answer = http.post(f"{base_url}/services/Soap/u/62.0", data=text, headers={"Content-Type": "text/xml"})
    assert answer.status_code == 500 and "sf:MALFORMED_ID" in answer.text
    assert sf.query("SELECT COUNT() FROM Lead WHERE LastName = 'Bad'")["totalSize"] == 0
