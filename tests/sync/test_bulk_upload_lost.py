"""A Bulk push whose data upload reached Salesforce but whose answer was lost.

The client sends the upload again; Salesforce takes the second copy too and then refuses to close
the job. The push must still land each value once, and fail cleanly when it cannot.
"""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter

from tandem.people.models import ErrorLevel, StepOperation, StepStatus
from tandem.people.origin import ChangeOrigin
from tandem.sync.cycle import SyncEngine
from tandem.sync.push import PushSettings
from tests.sync.conftest import sync_client
from tests.sync.observe import SYNCED, activities_of


class LosesUploadAnswers(HTTPAdapter):
    """Sends every request on, then drops the answer of a Bulk data upload, as a connection cut
    after the request arrived would: the first upload to each of the first `jobs` jobs, or with
    `every`, every upload."""

    def __init__(self, real: HTTPAdapter, *, jobs: int = 1, every: bool = False) -> None:
        super().__init__()
        self.real, self.jobs, self.every = real, jobs, every
        self.uploaded_to: list[str] = []
        self.lost = 0

    def send(self, request, **kwargs):
        response = self.real.send(request, **kwargs)
        if request.method == "PUT" and request.url.endswith("/batches"):
            first = request.url not in self.uploaded_to
            if first:
                self.uploaded_to.append(request.url)
            if self.every or (first and len(self.uploaded_to) <= self.jobs):
                self.lost += 1
                response.close()
                raise requests.ConnectionError("connection reset after the upload was sent")
        return response


def _bulk_push(store, base_url, ca_path, **losing):
    SyncEngine(sync_client(base_url, ca_path), store).run_cycle()
    contacts = [p for p in store.persons.get_many(list(range(1, store.persons.count() + 20)))
                if p.link.sfdc_type == "Contact"]
    store.persons.update_many([(p.id, {"title": f"Uploaded {p.id}"}) for p in contacts], origin=ChangeOrigin.CLI)
    engine = SyncEngine(sync_client(base_url, ca_path), store, push=PushSettings(bulk_threshold=len(contacts)))
    session = engine.client.session
    lossy = LosesUploadAnswers(session.get_adapter(base_url), **losing)
    session.mount(base_url, lossy)
    report = engine.run_cycle()
    [push] = [s for s in report.steps if s.operation is StepOperation.PUSH_UPDATES and s.object == "Contact"]
    assert lossy.lost
    return engine, contacts, push


def _processed(engine) -> dict[str, int]:
    """Records processed by the org's ingest jobs, by the state each job ended in."""
    ended: dict[str, int] = {}
    for job in engine.client.request("GET", "jobs/ingest").json()["records"]:
        info = engine.client.request("GET", f"jobs/ingest/{job['id']}").json()
        ended[info["state"]] = ended.get(info["state"], 0) + info["numberRecordsProcessed"]
    return ended


def test_a_push_whose_upload_answer_was_lost_lands_each_value_once(store, sf, base_url, ca_path, reset_emulator):
    """Before, the job holding the upload twice could not be closed and the whole push failed."""
    engine, contacts, push = _bulk_push(store, base_url, ca_path, jobs=1)
    assert push.status is StepStatus.SUCCEEDED and push.counts.updated == len(contacts)
    assert _processed(engine) == {"Aborted": 0, "JobComplete": len(contacts)}  # each record written once
    titles = {r["Id"]: r["Title"] for r in sf.query_all("SELECT Id, Title FROM Contact")["records"]}
    for contact in contacts:
        assert titles[contact.link.sfdc_id] == f"Uploaded {contact.id}"
        assert not store.outbox.find(person_ids=[contact.id]) and activities_of(store, contact.id, SYNCED)


def test_a_push_whose_every_job_gets_its_data_twice_lands_each_value_once(store, sf, base_url, ca_path,
                                                                         reset_emulator):
    """No job is processed: each is aborted, and the records go out by collection calls instead."""
    engine, contacts, push = _bulk_push(store, base_url, ca_path, jobs=2)
    assert push.status is StepStatus.SUCCEEDED and push.counts.updated == len(contacts)
    assert _processed(engine) == {"Aborted": 0}
    titles = {r["Id"]: r["Title"] for r in sf.query_all("SELECT Id, Title FROM Contact")["records"]}
    assert all(titles[c.link.sfdc_id] == f"Uploaded {c.id}" for c in contacts)
    assert not store.outbox.find(person_ids=[c.id for c in contacts])


def test_a_push_that_cannot_tell_whether_its_data_arrived_fails_and_keeps_every_change(
        store, sf, base_url, ca_path, reset_emulator):
    """Every upload's answer lost: the push fails with a sync error, nothing is written, every change
    stays pending, and the next cycle sends them."""
    before = {r["Id"]: r["Title"] for r in sf.query_all("SELECT Id, Title FROM Contact")["records"]}
    engine, contacts, push = _bulk_push(store, base_url, ca_path, every=True)
    assert push.status is StepStatus.FAILED
    assert [e.object for e in store.sync_errors.recent(level=ErrorLevel.JOB)] == ["Contact"]
    assert _processed(engine) == {"Aborted": 0}  # the job that may hold the data is never processed
    assert {r["Id"]: r["Title"] for r in sf.query_all("SELECT Id, Title FROM Contact")["records"]} == before
    assert all(store.outbox.find(person_ids=[c.id]) for c in contacts)
    engine.client.session.mount(base_url, HTTPAdapter())
    assert engine.run_cycle().succeeded
    titles = {r["Id"]: r["Title"] for r in sf.query_all("SELECT Id, Title FROM Contact")["records"]}
    assert all(titles[c.link.sfdc_id] == f"Uploaded {c.id}" for c in contacts)
    assert not store.outbox.find(person_ids=[c.id for c in contacts])


class LosesCloseAnswer(HTTPAdapter):
    """Sends every request on, then drops the answer of the first request closing a Bulk job."""

    def __init__(self, real: HTTPAdapter) -> None:
        super().__init__()
        self.real, self.lost = real, 0

    def send(self, request, **kwargs):
        response = self.real.send(request, **kwargs)
        if request.method == "PATCH" and b"UploadComplete" in (request.body or b"") and not self.lost:
            self.lost += 1
            response.close()
            raise requests.ConnectionError("connection reset after the close was sent")
        return response


def test_a_push_whose_close_answer_was_lost_reads_the_job_it_closed(store, sf, base_url, ca_path, reset_emulator):
    """The close sent again is refused, the job being closed already. Before, that failed the push
    while the job wrote every value, and each change stayed pending to be sent again."""
    SyncEngine(sync_client(base_url, ca_path), store).run_cycle()
    contacts = [p for p in store.persons.get_many(list(range(1, store.persons.count() + 20)))
                if p.link.sfdc_type == "Contact"]
    store.persons.update_many([(p.id, {"title": f"Closed {p.id}"}) for p in contacts], origin=ChangeOrigin.CLI)
    engine = SyncEngine(sync_client(base_url, ca_path), store, push=PushSettings(bulk_threshold=len(contacts)))
    lossy = LosesCloseAnswer(engine.client.session.get_adapter(base_url))
    engine.client.session.mount(base_url, lossy)
    report = engine.run_cycle()
    [push] = [s for s in report.steps if s.operation is StepOperation.PUSH_UPDATES and s.object == "Contact"]
    assert lossy.lost == 1
    assert push.status is StepStatus.SUCCEEDED and push.counts.updated == len(contacts)
    assert _processed(engine) == {"JobComplete": len(contacts)}
    titles = {r["Id"]: r["Title"] for r in sf.query_all("SELECT Id, Title FROM Contact")["records"]}
    assert all(titles[c.link.sfdc_id] == f"Closed {c.id}" for c in contacts)
    assert not store.outbox.find(person_ids=[c.id for c in contacts])
