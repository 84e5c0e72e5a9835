"""A write's answer lost after it committed (`dropAfterCommit`, `http502AfterCommit`): the client sees a
dropped connection or a proxy's HTML 502, and the write is in the org all the same."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import requests
from simple_salesforce.exceptions import SalesforceGeneralError

V = "/services/data/v62.0"
SOAP = (
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns="urn:partner.soap.sforce.com" xmlns:ens="urn:sobject.partner.soap.sforce.com">'
    "<soapenv:Header><SessionHeader><sessionId>{token}</sessionId></SessionHeader></soapenv:Header>"
    "<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
)


class Org:
    """One client session against the emulator, with the calls the cases below make."""

    def __init__(self, http, base_url, token, sf) -> None:
        self.http, self.base, self.sf = http, base_url, sf
        self.headers = {"Authorization": f"Bearer {token}"}
        self.token = token

    def rest(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.http.request(method, f"{self.base}{V}/{path}", headers=self.headers, **kwargs)

    def soap(self, body: str) -> requests.Response:
        return self.http.post(f"{self.base}/services/Soap/u/62.0", data=SOAP.format(token=self.token, body=body),
                              headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'})

    def count(self, soql: str) -> int:
        return self.sf.query_all(soql, include_deleted=False)["totalSize"]


@dataclass
class Write:
    """A write to lose the answer of: `prepare` runs with faults off, `send` is the write,
    `committed` checks the org afterwards."""

    name: str
    send: Callable[[Org, dict], requests.Response]
    committed: Callable[[Org, dict], bool]
    prepare: Callable[[Org], dict] = lambda org: {}


def _contact(org: Org, last_name: str) -> str:
    return org.sf.Contact.create({"LastName": last_name})["id"]


def _lead(org: Org) -> dict:
    return {"lead": org.sf.query("SELECT Id FROM Lead WHERE LastName = 'Simpson'")["records"][0]["Id"]}


WRITES = [
    Write("create", lambda org, _: org.rest("POST", "sobjects/Contact", json={"LastName": "Lost Create"}),
          lambda org, _: org.count("SELECT Id FROM Contact WHERE LastName = 'Lost Create'") == 1),
    Write("update", lambda org, ids: org.rest("PATCH", f"sobjects/Contact/{ids['id']}", json={"Title": "Lost Update"}),
          lambda org, ids: org.sf.Contact.get(ids["id"])["Title"] == "Lost Update",
          lambda org: {"id": _contact(org, "Updated")}),
    Write("upsert", lambda org, _: org.rest("PATCH", "sobjects/Contact/External_Id__c/lost-upsert",
                                            json={"LastName": "Lost Upsert"}),
          lambda org, _: org.count("SELECT Id FROM Contact WHERE External_Id__c = 'lost-upsert'") == 1),
    Write("delete", lambda org, ids: org.rest("DELETE", f"sobjects/Contact/{ids['id']}"),
          lambda org, ids: org.count(f"SELECT Id FROM Contact WHERE Id = '{ids['id']}'") == 0,
          lambda org: {"id": _contact(org, "Deleted")}),
    Write("collection", lambda org, _: org.rest("POST", "composite/sobjects", json={"allOrNone": False, "records": [
              {"attributes": {"type": "Contact"}, "LastName": "Lost Batch"} for _ in range(3)]}),
          lambda org, _: org.count("SELECT Id FROM Contact WHERE LastName = 'Lost Batch'") == 3),
    Write("composite", lambda org, _: org.rest("POST", "composite", json={"allOrNone": True, "compositeRequest": [
              {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": "acct", "body": {"Name": "Lost Co"}},
              {"method": "POST", "url": f"{V}/sobjects/Contact", "referenceId": "person",
               "body": {"LastName": "Lost Composite", "AccountId": "@{acct.id}"}}]}),
          lambda org, _: org.count("SELECT Id FROM Contact WHERE Account.Name = 'Lost Co'") == 1),
    Write("convertLead", lambda org, ids: org.soap(
              f"<convertLead><leadConverts><convertedStatus>Closed - Converted</convertedStatus>"
              f"<doNotCreateOpportunity>true</doNotCreateOpportunity><leadId>{ids['lead']}</leadId>"
              f"</leadConverts></convertLead>"),
          lambda org, ids: org.sf.Lead.get(ids["lead"])["IsConverted"] is True, _lead),
    Write("merge", lambda org, ids: org.soap(
              f"<merge><request><masterRecord><ens:type>Contact</ens:type><ens:Id>{ids['master']}</ens:Id>"
              f"</masterRecord><recordToMergeIds>{ids['loser']}</recordToMergeIds></request></merge>"),
          lambda org, ids: org.count(f"SELECT Id FROM Contact WHERE Id = '{ids['loser']}'") == 0,
          lambda org: {"master": _contact(org, "Master"), "loser": _contact(org, "Loser")}),
]


@pytest.fixture
def org(http, base_url, sf_token, sf) -> Org:
    return Org(http, base_url, sf_token, sf)


@pytest.mark.parametrize("write", WRITES, ids=lambda w: w.name)
def test_a_dropped_answer_still_commits_the_write(org, faults, write):
    ids = write.prepare(org)
    assert not write.committed(org, ids)
    faults.set(seed=1, dropAfterCommit=1.0)
    with pytest.raises(requests.exceptions.ConnectionError):
        write.send(org, ids)
    assert faults.injected() == {"dropAfterCommit": 1}
    faults.set()
    assert write.committed(org, ids)


@pytest.mark.parametrize("write", WRITES, ids=lambda w: w.name)
def test_a_gateway_502_after_commit_still_commits_the_write(org, faults, write):
    ids = write.prepare(org)
    faults.set(seed=1, http502AfterCommit=1.0)
    answer = write.send(org, ids)
    assert answer.status_code == 502
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.text.startswith("<!DOCTYPE html>") and "Bad Gateway" in answer.text
    assert faults.injected() == {"http502AfterCommit": 1}
    faults.set()
    assert write.committed(org, ids)


def test_simple_salesforce_sees_the_lost_answers(org, faults, sf):
    faults.set(seed=1, http502AfterCommit=1.0)
    with pytest.raises(SalesforceGeneralError) as raised:
        sf.Contact.create({"LastName": "Seen By Client"})
    assert raised.value.status == 502 and "Bad Gateway" in raised.value.content
    faults.set(seed=1, dropAfterCommit=1.0)
    with pytest.raises(requests.exceptions.ConnectionError):
        sf.Contact.create({"LastName": "Seen By Client"})
    faults.set()
    assert org.count("SELECT Id FROM Contact WHERE LastName = 'Seen By Client'") == 2


def test_reads_keep_their_answers(org, faults, sf):
    faults.set(seed=1, dropAfterCommit=1.0, http502AfterCommit=1.0)
    assert sf.query("SELECT Id FROM Contact")["totalSize"] == 4
    assert org.rest("GET", "limits").status_code == 200
    assert faults.injected() == {}


def test_no_answer_is_lost_at_rate_zero(org, faults):
    faults.set(seed=1, dropAfterCommit=0.0, http502AfterCommit=0.0)
    statuses = [org.rest("POST", "sobjects/Contact", json={"LastName": f"Kept {i}"}).status_code for i in range(10)]
    assert statuses == [201] * 10
    assert faults.injected() == {}


def _lost_pattern(org, faults, seed: int) -> list[str]:
    faults.set(seed=seed, dropAfterCommit=0.3, http502AfterCommit=0.3)
    pattern = []
    for i in range(16):
        try:
            pattern.append(str(org.rest("POST", "sobjects/Contact", json={"LastName": f"Pattern {i}"}).status_code))
        except requests.exceptions.ConnectionError:
            pattern.append("dropped")
    return pattern


def test_lost_answers_repeat_for_a_seed_and_every_write_commits(org, faults, http, base_url):
    first = _lost_pattern(org, faults, seed=21)
    counts = faults.injected()
    http.post(f"{base_url}/_emulator/reset").raise_for_status()
    assert faults.injected() == {}
    second = _lost_pattern(org, faults, seed=21)
    assert first == second
    assert set(first) == {"201", "502", "dropped"}
    assert counts == {"dropAfterCommit": first.count("dropped"), "http502AfterCommit": first.count("502")}
    faults.set()
    assert org.count("SELECT Id FROM Contact WHERE LastName LIKE 'Pattern %'") == 16
