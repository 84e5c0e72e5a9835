"""Validation rules of the org file as clients see them: every rule that fires is reported, in the
file's order, on REST, sObject Collections, composite and SOAP alike."""

from __future__ import annotations

import re

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from tandem.emulator.sample_org import ADMIN, SYNC_USER

# Both Contact rules of the sample org fire on this record.
TWO_RULES = {"LastName": "Twice", "Phone": "call me", "Lead_Score__c": -1}
EXPECTED = [
    {"message": "Phone must contain only digits, spaces, + ( ) . -", "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
     "fields": ["Phone"]},
    {"message": "Lead score cannot be negative", "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
     "fields": ["Lead_Score__c"]},
]


def test_a_create_breaking_two_rules_reports_both(sf):
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Contact.create(TWO_RULES)
    assert raised.value.content == EXPECTED


def test_an_update_breaking_two_rules_reports_both_and_changes_nothing(sf):
    record_id = sf.Contact.create({"LastName": "Once"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Contact.update(record_id, {"Phone": "call me", "Lead_Score__c": -5})
    assert raised.value.content == EXPECTED
    stored = sf.Contact.get(record_id)
    assert (stored["Phone"], stored["Lead_Score__c"]) == (None, None)


def test_collections_report_each_rule_of_each_record(sf):
    answer = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": [
        {"attributes": {"type": "Contact"}, **TWO_RULES},
        {"attributes": {"type": "Contact"}, "LastName": "Fine", "Phone": "+1 555 0100"},
    ]})
    assert answer[0]["success"] is False
    assert answer[0]["errors"] == [{"statusCode": e["errorCode"], "message": e["message"], "fields": e["fields"]}
                                   for e in EXPECTED]
    assert answer[1]["success"] is True


def test_composite_subrequest_reports_both(sf):
    answer = sf.restful("composite", method="POST", json={"compositeRequest": [
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Contact", "referenceId": "c", "body": TWO_RULES},
    ]})
    assert answer["compositeResponse"][0]["httpStatusCode"] == 400
    assert answer["compositeResponse"][0]["body"] == EXPECTED


def test_soap_create_reports_both(base_url, http):
    login = http.post(f"{base_url}/services/Soap/u/62.0", headers={"SOAPAction": "login", "Content-Type": "text/xml"},
                      data=_envelope("", f"<login><username>{ADMIN.username}</username>"
                                         f"<password>{ADMIN.password}</password></login>"))
    session = re.search(r"<sessionId>([^<]+)</sessionId>", login.text).group(1)
    answer = http.post(f"{base_url}/services/Soap/u/62.0", headers={"SOAPAction": "create",
                                                                       "Content-Type": "text/xml"},
                       data=_envelope(f"<SessionHeader><sessionId>{session}</sessionId></SessionHeader>",
                                      "<create><sObjects><type>Contact</type><LastName>Twice</LastName>"
                                      "<Phone>call me</Phone><Lead_Score__c>-1</Lead_Score__c></sObjects></create>"))
    assert answer.status_code == 200, answer.text
    messages = re.findall(r"<message>([^<]+)</message>", answer.text)
    assert messages == [e["message"] for e in EXPECTED]
    assert "<success>false</success>" in answer.text


def _envelope(header: str, body: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
            'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com">'
            f"<soapenv:Header>{header}</soapenv:Header><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>")


@pytest.fixture
def frozen_title_org(tmp_path, new_session, sample_org_path, get_token):
    """The sample org with one more Contact rule: a title, once saved, cannot change."""
    import json

    from simple_salesforce import Salesforce

    from tandem.emulator.model import Org
    from tandem.emulator.server import EmulatorServer

    definition = json.loads(sample_org_path.read_text())
    definition["validationRules"]["Contact"].append(
        {"name": "Title_Frozen", "active": True, "errorConditionFormula": "Title <> PRIORVALUE(Title)",
         "errorMessage": "The title cannot change", "errorDisplayField": "Title"})
    with EmulatorServer(Org.from_definition(definition), port=0, state_dir=tmp_path) as server:
        session = new_session()
        session.verify = str(server.ca_path)
        token = get_token(server.base_url, session, *ADMIN)
        yield Salesforce(instance_url=server.base_url, session_id=token, session=session)


def test_priorvalue_on_a_create_is_the_value_being_written(frozen_title_org):
    sf = frozen_title_org
    record_id = sf.Contact.create({"LastName": "Fixed", "Title": "CTO"})["id"]
    assert sf.Contact.get(record_id)["Title"] == "CTO"
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Contact.update(record_id, {"Title": "CEO"})
    assert raised.value.content == [{"message": "The title cannot change",
                                     "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "fields": ["Title"]}]
    assert sf.Contact.update(record_id, {"Phone": "+1 555 0100"}) == 204


@pytest.fixture
def cross_object_org(tmp_path, new_session, sample_org_path, get_token):
    """The sample org with rules that read the parent Account and the user making the write."""
    import json

    from simple_salesforce import Salesforce

    from tandem.emulator.model import Org
    from tandem.emulator.server import EmulatorServer

    definition = json.loads(sample_org_path.read_text())
    definition["validationRules"]["Contact"] += [
        {"name": "Energy_Needs_Title", "errorConditionFormula":
            'AND(ISPICKVAL(Account.Industry, "Energy"), ISBLANK(Title))',
         "errorMessage": "Contacts at energy companies need a title", "errorDisplayField": "Title"},
        {"name": "Sync_Cannot_Subscribe", "errorConditionFormula":
            'AND($Profile.Name = "Marketing Sync", Newsletter__c, NOT(ISBLANK($User.Username)))',
         "errorMessage": "The sync user cannot subscribe contacts"},
    ]
    with EmulatorServer(Org.from_definition(definition), port=0, state_dir=tmp_path) as server:
        session = new_session()
        session.verify = str(server.ca_path)

        def client(login):
            token = get_token(server.base_url, session, *login)
            return Salesforce(instance_url=server.base_url, session_id=token, session=session)

        yield client


def test_rules_read_parent_fields_and_the_running_user(cross_object_org):
    admin, sync = cross_object_org(ADMIN), cross_object_org(SYNC_USER)
    globex = admin.query("SELECT Id FROM Account WHERE Name = 'Globex'")["records"][0]["Id"]
    acme = admin.query("SELECT Id FROM Account WHERE Name = 'Acme Corp'")["records"][0]["Id"]
    with pytest.raises(SalesforceMalformedRequest) as raised:
        admin.Contact.create({"LastName": "Burns", "AccountId": globex})
    assert raised.value.content == [{"message": "Contacts at energy companies need a title",
                                     "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "fields": ["Title"]}]
    assert admin.Contact.create({"LastName": "Burns", "AccountId": globex, "Title": "Owner"})["success"]
    assert admin.Contact.create({"LastName": "Road Runner", "AccountId": acme})["success"]
    record_id = admin.Contact.create({"LastName": "Smithers"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as raised:
        admin.Contact.update(record_id, {"AccountId": globex})  # the rule sees the new parent
    assert raised.value.content[0]["fields"] == ["Title"]
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sync.Contact.create({"LastName": "Lenny", "Newsletter__c": True})
    assert raised.value.content[0]["message"] == "The sync user cannot subscribe contacts"
    assert admin.Contact.create({"LastName": "Lenny", "Newsletter__c": True})["success"]
