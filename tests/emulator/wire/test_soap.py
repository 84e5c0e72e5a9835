"""SOAP convertLead and merge with the documented envelopes, posted with plain requests."""

from __future__ import annotations

from xml.etree import ElementTree

NS = "{urn:partner.soap.sforce.com}"
ENVELOPE = (
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns="urn:partner.soap.sforce.com" xmlns:ens="urn:sobject.partner.soap.sforce.com">'
    "<soapenv:Header><SessionHeader><sessionId>{token}</sessionId></SessionHeader></soapenv:Header>"
    "<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
)


def post_soap(http, base_url, token, body):
    return http.post(f"{base_url}/services/Soap/u/62.0", data=ENVELOPE.format(token=token, body=body),
                     headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'})


def test_convert_lead_creates_account_and_contact(sf, base_url, http, sf_token):
    lead_id = sf.query("SELECT Id FROM Lead WHERE LastName = 'Simpson'")["records"][0]["Id"]
    body = (f"<convertLead><leadConverts><convertedStatus>Closed - Converted</convertedStatus>"
            f"<doNotCreateOpportunity>true</doNotCreateOpportunity><leadId>{lead_id}</leadId>"
            f"<overwriteLeadSource>false</overwriteLeadSource><sendNotificationEmail>false</sendNotificationEmail>"
            f"</leadConverts></convertLead>")
    answer = post_soap(http, base_url, sf_token, body)
    assert answer.status_code == 200, answer.text
    result = ElementTree.fromstring(answer.content).find(f".//{NS}result")
    assert result.find(f"{NS}success").text == "true"
    account_id, contact_id = result.find(f"{NS}accountId").text, result.find(f"{NS}contactId").text
    assert account_id.startswith("001") and contact_id.startswith("003")
    assert result.find(f"{NS}opportunityId").get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true"
    lead = sf.Lead.get(lead_id)
    assert lead["IsConverted"] is True and lead["ConvertedContactId"] == contact_id


def test_convert_lead_failure_is_a_result_error(base_url, http, sf_token, sf):
    lead_id = sf.query("SELECT Id FROM Lead WHERE LastName = 'Simpson'")["records"][0]["Id"]
    body = (f"<convertLead><leadConverts><convertedStatus>Open - Not Contacted</convertedStatus>"
            f"<leadId>{lead_id}</leadId></leadConverts></convertLead>")
    answer = post_soap(http, base_url, sf_token, body)
    assert answer.status_code == 200
    result = ElementTree.fromstring(answer.content).find(f".//{NS}result")
    assert result.find(f"{NS}success").text == "false"
    assert result.find(f"{NS}errors/{NS}statusCode").text


def test_merge_keeps_the_master_and_deletes_the_loser(sf, base_url, http, sf_token):
    master = sf.Contact.create({"LastName": "Master"})["id"]
    loser = sf.Contact.create({"LastName": "Loser"})["id"]
    body = (f"<merge><request><masterRecord><ens:type>Contact</ens:type><ens:Id>{master}</ens:Id>"
            f"<ens:Title>CTO</ens:Title></masterRecord><recordToMergeIds>{loser}</recordToMergeIds></request></merge>")
    answer = post_soap(http, base_url, sf_token, body)
    assert answer.status_code == 200, answer.text
    result = ElementTree.fromstring(answer.content).find(f".//{NS}result")
    assert result.find(f"{NS}success").text == "true"
    assert result.find(f"{NS}id").text == master
    assert [e.text for e in result.findall(f"{NS}mergedRecordIds")] == [loser]
    assert sf.Contact.get(master)["Title"] == "CTO"
    gone = sf.query_all(f"SELECT Id, MasterRecordId FROM Contact WHERE Id = '{loser}'", include_deleted=True)
    assert gone["records"][0]["MasterRecordId"] == master


def test_merge_in_jsforce_shape_with_default_namespace_children(sf, base_url, http, sf_token):
    master = sf.Contact.create({"LastName": "M2"})["id"]
    loser = sf.Contact.create({"LastName": "L2"})["id"]
    body = (f"<merge><mergeRequests><masterRecord><type>Contact</type><Id>{master}</Id></masterRecord>"
            f"<recordToMergeIds>{loser}</recordToMergeIds></mergeRequests></merge>")
    answer = post_soap(http, base_url, sf_token, body)
    assert ElementTree.fromstring(answer.content).find(f".//{NS}success").text == "true"


def test_expired_session_is_an_invalid_session_fault(base_url, http):
    answer = post_soap(http, base_url, "00Dnot!valid", "<convertLead><leadConverts/></convertLead>")
    assert answer.status_code == 500
    assert "<faultcode>sf:INVALID_SESSION_ID</faultcode>" in answer.text
    assert answer.headers["content-type"].startswith("text/xml")


def test_xml_entities_are_refused(base_url, http, sf_token):
    evil = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]>'
            '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
            "<login><username>&e;</username></login></soapenv:Body></soapenv:Envelope>")
    answer = http.post(f"{base_url}/services/Soap/u/62.0", data=evil, headers={"Content-Type": "text/xml"})
    assert answer.status_code == 500 and "INVALID_XML" in answer.text


def test_undelete_brings_a_deleted_record_back(sf, base_url, http, sf_token):
    lead_id = sf.Lead.create({"LastName": "Back", "Company": "Recycle"})["id"]
    sf.Lead.delete(lead_id)
    answer = post_soap(http, base_url, sf_token, f"<undelete><ids>{lead_id}</ids><ids>00Q000000000000AAA</ids></undelete>")
    assert answer.status_code == 200, answer.text
    first, second = ElementTree.fromstring(answer.content).findall(f".//{NS}result")
    assert first.find(f"{NS}success").text == "true" and first.find(f"{NS}id").text == lead_id
    assert second.find(f"{NS}success").text == "false"
    assert sf.Lead.get(lead_id)["IsDeleted"] is False


def test_create_refuses_a_record_that_carries_an_id(sf, base_url, http, sf_token):
    existing = sf.query("SELECT Id FROM Contact WHERE LastName = 'Gibbons'")["records"][0]["Id"]
    answer = post_soap(http, base_url, sf_token, "<create><sObjects><ens:type>Contact</ens:type>"
                       f"<ens:Id>{existing}</ens:Id><ens:LastName>Copy</ens:LastName></sObjects></create>")
    assert answer.status_code == 200, answer.text
    [result] = ElementTree.fromstring(answer.content).findall(f".//{NS}result")
    assert result.find(f"{NS}success").text == "false"
    assert result.find(f"{NS}errors/{NS}statusCode").text == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert sf.query("SELECT COUNT() FROM Contact WHERE LastName = 'Copy'")["totalSize"] == 0
