"""Late commits (`lateCommit`, `lateCommitSeconds`): a write stamped up to N seconds in the past, as a
long transaction that committed late, hides from a client already past that SystemModstamp until
it re-reads a window."""

from __future__ import annotations

from datetime import datetime, timedelta

V = "/services/data/v62.0"


def moment(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z")


def literal(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def stamp_of(sf, record_id: str) -> datetime:
    return moment(sf.Contact.get(record_id)["SystemModstamp"])


def ids_after(sf, when: datetime) -> set[str]:
    rows = sf.query_all(f"SELECT Id FROM Contact WHERE SystemModstamp > {literal(when)}")["records"]
    return {row["Id"] for row in rows}


def test_a_late_create_hides_behind_a_watermark_until_a_window_is_re_read(sf, faults):
    watermark = stamp_of(sf, sf.Contact.create({"LastName": "Watermark"})["id"])
    faults.set(seed=1, lateCommit=1.0, lateCommitSeconds=60)
    late = sf.Contact.create({"LastName": "Late"})["id"]
    assert faults.injected() == {"lateCommit": 1}
    faults.set()
    record = sf.Contact.get(late)
    stamp = moment(record["SystemModstamp"])
    assert watermark - timedelta(seconds=60) <= stamp < watermark
    assert moment(record["CreatedDate"]) == moment(record["LastModifiedDate"]) == stamp
    assert late not in ids_after(sf, watermark)
    assert late in ids_after(sf, watermark - timedelta(seconds=60))
    fresh = sf.Contact.create({"LastName": "Fresh"})["id"]
    assert stamp_of(sf, fresh) > watermark


def test_every_record_of_a_late_collection_call_is_stamped_in_the_past_in_order(sf, http, base_url, sf_token,
                                                                                 faults):
    watermark = stamp_of(sf, sf.Contact.create({"LastName": "Watermark"})["id"])
    faults.set(seed=1, lateCommit=1.0, lateCommitSeconds=60)
    answer = http.post(f"{base_url}{V}/composite/sobjects", headers={"Authorization": f"Bearer {sf_token}"}, json={
        "allOrNone": True, "records": [{"attributes": {"type": "Contact"}, "LastName": f"Batch {i}"}
                                       for i in range(3)]})
    ids = [result["id"] for result in answer.json()]
    faults.set()
    stamps = [stamp_of(sf, i) for i in ids]
    assert stamps == sorted(set(stamps)) and stamps[-1] < watermark
    assert ids_after(sf, watermark).isdisjoint(ids)


def test_a_late_update_never_moves_a_stamp_backwards(sf, faults):
    record_id = sf.Contact.create({"LastName": "Recent"})["id"]
    before = stamp_of(sf, record_id)
    faults.set(seed=1, lateCommit=1.0, lateCommitSeconds=60)
    sf.Contact.update(record_id, {"Title": "Late"})
    faults.set()
    record = sf.Contact.get(record_id)
    assert record["Title"] == "Late"
    assert moment(record["SystemModstamp"]) == moment(record["LastModifiedDate"]) == before + timedelta(
        milliseconds=1)


def test_reads_are_never_late_and_no_write_is_at_rate_zero(sf, faults):
    faults.set(seed=1, lateCommit=1.0)
    sf.query("SELECT Id FROM Contact")
    assert faults.injected() == {}
    faults.set(seed=1, lateCommit=0.0)
    stamps = [stamp_of(sf, sf.Contact.create({"LastName": f"On Time {i}"})["id"]) for i in range(8)]
    assert stamps == sorted(set(stamps))
    assert faults.injected() == {}


def _went_back(sf, faults, seed: int) -> list[bool]:
    """For each of 12 creates, whether its stamp lies before one of an earlier write."""
    faults.set()
    anchor = stamp_of(sf, sf.Contact.create({"LastName": "On Time"})["id"])
    faults.set(seed=seed, lateCommit=0.5, lateCommitSeconds=30)
    stamps = [stamp_of(sf, sf.Contact.create({"LastName": f"Maybe Late {i}"})["id"]) for i in range(12)]
    return [stamp < max([anchor, *stamps[:n]]) for n, stamp in enumerate(stamps)]


def test_late_commits_repeat_for_a_seed_and_are_counted(sf, faults, http, base_url):
    first = _went_back(sf, faults, seed=9)
    counts = faults.injected()
    http.post(f"{base_url}/_emulator/reset").raise_for_status()
    assert _went_back(sf, faults, seed=9) == first
    assert True in first and False in first
    assert counts == {"lateCommit": first.count(True)}


def test_a_late_lead_conversion_stamps_the_new_contact_in_the_past(sf, http, base_url, sf_token, faults):
    watermark = stamp_of(sf, sf.Contact.create({"LastName": "Watermark"})["id"])
    lead_id = sf.query("SELECT Id FROM Lead WHERE LastName = 'Simpson'")["records"][0]["Id"]
    envelope = ('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
                'xmlns="urn:partner.soap.sforce.com"><soapenv:Header><SessionHeader>'
                f"<sessionId>{sf_token}</sessionId></SessionHeader></soapenv:Header><soapenv:Body><convertLead>"
                "<leadConverts><convertedStatus>Closed - Converted</convertedStatus>"
                f"<doNotCreateOpportunity>true</doNotCreateOpportunity><leadId>{lead_id}</leadId></leadConverts>"
                "</convertLead></soapenv:Body></soapenv:Envelope>")
    faults.set(seed=1, lateCommit=1.0, lateCommitSeconds=60)
    answer = http.post(f"{base_url}/services/Soap/u/62.0", data=envelope, headers={"Content-Type": "text/xml"})
    assert answer.status_code == 200 and "<success>true</success>" in answer.text
    assert faults.injected() == {"lateCommit": 1}
    faults.set()
    contact_id = sf.Lead.get(lead_id)["ConvertedContactId"]
    assert stamp_of(sf, contact_id) < watermark
    assert contact_id not in ids_after(sf, watermark)
