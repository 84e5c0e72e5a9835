"""How the sync uses the network: one call when idle, composite answers each on its own, Bulk
jobs for large windows and pushes, pages read ahead, a window read once and late commits caught."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from datetime import timedelta
from typing import Any

import pytest

from tandem.people import activities as types
from tandem.people.models import ErrorLevel, StepOperation, StepStatus
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore
from tandem.sync.cycle import SyncEngine
from tandem.sync.pull import FetchSettings
from tandem.sync.push import PushSettings
from tandem.sync.watermark import parse_stamp
from tests.sync.conftest import sync_client
from tests.sync.observe import FAILED, SYNCED, activities_of, person


class Crash(Exception):
    """The process dies here."""


def everyone(store) -> list:
    return store.persons.get_many(list(range(1, store.persons.count() + 50)))


def api_calls(emulator) -> int:
    """The org's count of API calls (logins are not API calls)."""
    return emulator.org.api_usage()[0]


def load_contacts(http, base_url: str, count: int, first: int = 0) -> None:
    rows = [{"FirstName": f"Net{i}", "LastName": "Loaded", "Email": f"net{i}@load.example", "Title": f"T{i % 7}",
             "Lead_Score__c": i % 100, "Newsletter__c": i % 2 == 0, "Favorite_Color__c": ["Red", "Blue", None][i % 3]}
            for i in range(first, first + count)]
    http.post(f"{base_url}/_emulator/bulk-load", json={"Contact": rows}).raise_for_status()


def rows_read(client, object_name: str) -> list[str]:
    """Record Ids the client's queries of `object_name` answer, as they arrive (observed, not changed)."""
    seen: list[str] = []
    real = client.query_pages

    def counting(soql: str, **kwargs: Any):
        for answer in real(soql, **kwargs):
            if f"FROM {object_name} " in soql:
                seen.extend(row["Id"] for row in answer)
            yield answer

    client.query_pages = counting
    return seen


# -- one call when idle --------------------------------------------------------------------------

def test_an_idle_cycle_costs_one_api_call_for_tandem_run_and_for_a_one_shot_sync(
        emulator, engine, store, base_url, ca_path):
    engine.run_cycle()
    before = api_calls(emulator)
    report = engine.run_cycle()  # `tandem run`: the same engine, cycle after cycle
    assert report.succeeded and api_calls(emulator) - before == 1
    one_shot = SyncEngine(sync_client(base_url, ca_path), store)  # `tandem sync`: a new process, a new client
    before = api_calls(emulator)
    report = one_shot.run_cycle()
    assert report.succeeded and api_calls(emulator) - before == 1
    assert [s.operation for s in report.steps][0] is StepOperation.SYNC_SCHEMA  # from the stored describes


def test_a_cycle_reports_and_charges_the_calls_the_org_counted_not_its_login(emulator, engine, store, base_url,
                                                                            ca_path):
    """Before, a one-shot cycle's login counted as an API call: an idle `tandem sync` said 2 calls, its
    steps and the budget's lanes charged 2, while the org counted 1."""
    engine.run_cycle()
    one_shot = SyncEngine(sync_client(base_url, ca_path), store)
    before, spent = api_calls(emulator), one_shot.budget.state().total
    report = one_shot.run_cycle()
    assert report.succeeded and one_shot.client.logins == 1
    assert report.api_calls == sum(s.api_calls for s in report.steps) == api_calls(emulator) - before == 1
    assert one_shot.budget.state().total - spent == 1


def test_the_cycle_after_a_large_load_costs_at_most_two_calls(emulator, store, http, base_url, ca_path,
                                                              reset_emulator):
    load_contacts(http, base_url, 5000)
    engine = SyncEngine(sync_client(base_url, ca_path), store, fetch=FetchSettings(bulk_threshold=1000))
    engine.run_cycle()
    assert store.persons.count() == 5000 + 6
    before = api_calls(emulator)
    assert engine.run_cycle().succeeded
    assert api_calls(emulator) - before <= 2


def test_a_steady_stream_of_changes_is_read_once_each(engine, store, sf):
    engine.run_cycle()
    read = rows_read(engine.client, "Contact")
    ids = [p.link.sfdc_id for p in everyone(store) if p.link.sfdc_type == "Contact"]
    for round_number in range(3):
        for record_id in ids:
            sf.Contact.update(record_id, {"Title": f"Round {round_number}"})
        engine.run_cycle()
    assert sorted(read) == sorted(ids * 3)  # each change once: no window read twice
    assert {p.fields["title"] for p in everyone(store) if p.link.sfdc_type == "Contact"} == {"Round 2"}


def test_the_catalog_is_revalidated_once_stale_in_one_call(emulator, store, base_url, ca_path, reset_emulator):
    clock_now = [None]

    def clock():
        from datetime import UTC, datetime
        return clock_now[0] or datetime.now(UTC)

    SyncEngine(sync_client(base_url, ca_path), store).run_cycle()
    held = store.describes.all()
    assert set(held) == {"Account", "Contact", "Lead"}
    from datetime import UTC, datetime
    clock_now[0] = datetime.now(UTC) + timedelta(hours=2)
    later = SyncEngine(sync_client(base_url, ca_path), store, clock=clock)
    before = api_calls(emulator)
    assert later.run_cycle().succeeded
    assert api_calls(emulator) - before == 2  # the describes in one composite call, the queries in another
    assert all(d.checked_at > held[d.object].checked_at for d in store.describes.all().values())


def test_an_unchanged_schema_answers_304_and_keeps_the_stored_describes(emulator, store, base_url, ca_path,
                                                                      http, reset_emulator):
    engine = SyncEngine(sync_client(base_url, ca_path), store)
    engine.run_cycle()
    held = store.describes.all()
    since = held["Contact"].last_modified
    answer = engine.client.request("GET", "sobjects/Contact/describe", headers={"If-Modified-Since": since},
                                   not_modified_ok=True)
    if answer.status_code != 304:
        pytest.skip("the emulator answers describes without honouring If-Modified-Since")
    again = SyncEngine(sync_client(base_url, ca_path), store, schema_max_age_seconds=0)
    assert again.run_cycle().succeeded
    after = store.describes.all()
    assert after["Contact"].body == held["Contact"].body and after["Contact"].checked_at > held["Contact"].checked_at


# -- the composite call ----------------------------------------------------------------------------

def test_a_failing_subrequest_fails_only_its_own_pull(emulator, engine, store, sf):
    engine.run_cycle()
    wile = person(store, "wile@acme.example")
    sf.Contact.update(wile.link.sfdc_id, {"Title": "Chief Coyote"})
    # The sync user stops seeing a Lead field while the stored catalog still names it.
    emulator.org.set_field_level("Marketing Sync", "Lead", "Lead_Score__c", "none")
    try:
        report = engine.run_cycle()
        pulls = {s.object: s for s in report.steps if s.operation is StepOperation.PULL_UPDATES}
        assert pulls["Lead"].status is StepStatus.FAILED
        assert pulls["Account"].status is StepStatus.SUCCEEDED and pulls["Contact"].status is StepStatus.SUCCEEDED
        assert person(store, "wile@acme.example").fields["title"] == "Chief Coyote"
        [error] = [e for e in store.sync_errors.recent(level=ErrorLevel.JOB) if e.object == "Lead"]
        assert error.error_code == "INVALID_FIELD"
        assert engine.run_cycle().succeeded  # described afresh: the Lead pull goes on without that field
    finally:
        emulator.org.reset()


# -- Bulk query pulls ------------------------------------------------------------------------------

def _pull_views(store, http, base_url, ca_path, tmp_path, fetch: FetchSettings, count: int) -> tuple[dict, dict]:
    """What a pull with `fetch` makes of `count` loaded contacts, beside what REST pages alone make."""
    load_contacts(http, base_url, count)
    rest_store = PersonStore(f"sqlite:///{tmp_path / 'rest.db'}")
    rest_store.migrate()
    try:
        by_bulk = SyncEngine(sync_client(base_url, ca_path), store, fetch=fetch)
        by_rest = SyncEngine(sync_client(base_url, ca_path), rest_store, fetch=FetchSettings(bulk_threshold=10**9))
        assert by_bulk.run_cycle().succeeded and by_rest.run_cycle().succeeded

        def view(of):
            return {p.fields["email"]: (p.fields, p.link.sfdc_id, p.link.sfdc_account_id) for p in everyone(of)}

        return view(store), view(rest_store)
    finally:
        rest_store.close()


def test_a_bulk_pull_applies_exactly_what_rest_pages_apply(store, tmp_path, http, base_url, ca_path, reset_emulator):
    bulk, rest = _pull_views(store, http, base_url, ca_path, tmp_path,
                             FetchSettings(bulk_threshold=100, bulk_chunk=700, rest_while_bulk=False), 3000)
    assert len(bulk) == 3006
    assert bulk == rest
    assert bulk["net4@load.example"][0]["Newsletter__c"] is True
    assert bulk["net5@load.example"][0]["Favorite_Color__c"] is None


class _Inline:
    """An executor that runs what it is given at once, in the caller's thread."""

    def __init__(self, **options: Any) -> None:
        pass

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def submit(self, work, *args, **kwargs) -> Future:
        done: Future = Future()
        done.set_result(work(*args, **kwargs))
        return done

    def shutdown(self, wait: bool = True) -> None:
        pass


def test_rest_pages_read_while_the_bulk_job_runs_are_not_applied_again(store, tmp_path, http, base_url, ca_path,
                                                                      monkeypatch, reset_emulator):
    """Two REST answers (4,000 rows) are written before the job is ready; its rows take over there."""
    import tandem.sync.pull as pulling
    real_done, looks, handed = pulling.query_job_done, [], []
    real_rows = pulling.result_rows

    def look(client, job_id):  # the job is ready by the first look (REST answers were slow)
        deadline = time.monotonic() + 30
        while not real_done(client, job_id):
            assert time.monotonic() < deadline, "the emulator never finished the query job"
            time.sleep(0.05)
        looks.append(job_id)
        return True

    def counted(*args, **kwargs):
        for rows in real_rows(*args, **kwargs):
            handed.extend(rows)
            yield rows

    monkeypatch.setattr(pulling, "query_job_done", look)
    monkeypatch.setattr(pulling, "result_rows", counted)
    monkeypatch.setattr(pulling, "ThreadPoolExecutor", _Inline)  # the job's start answered before the next answer
    bulk, rest = _pull_views(store, http, base_url, ca_path, tmp_path,
                             FetchSettings(bulk_threshold=100, bulk_chunk=2500), 5000)
    ordered = [(row["Id"], parse_stamp(row["SystemModstamp"])) for row in sync_client(base_url, ca_path).query(
        "SELECT Id, SystemModstamp FROM Contact ORDER BY SystemModstamp, Id")]
    read_to = ordered[2000][1]  # the lowest stamp of the last REST answer (its last row may have changed since)
    assert len(looks) == 1 and len(handed) <= len(ordered) - 2000
    assert {row["Id"] for row in handed} == {i for i, at in ordered if at >= read_to}  # those before: passed over
    assert len(bulk) == 5006
    assert bulk == rest
    new_leads = store.activities.find(type_ids=[types.NEW_LEAD.id])
    assert len(new_leads) == 5006 and len({a.person_id for a in new_leads}) == 5006
    assert store.activities.find(type_ids=[types.CHANGE_DATA_VALUE.id]) == []  # nothing applied twice


def test_a_done_jobs_first_results_are_asked_while_rest_answers_go_on(store, tmp_path, http, base_url, ca_path,
                                                                       monkeypatch, reset_emulator):
    """The job is started, looked at and its first results asked in a thread of its own: the REST
    answer after the first is read only once those results are being asked, and they are asked
    only once that answer is read. Asked one after the other in one thread, neither would come."""
    import tandem.sync.pull as pulling
    from tandem.salesforce.client import SalesforceClient

    real_done, real_answer, real_pages = pulling.query_job_done, pulling.results_answer, SalesforceClient.query_pages
    asked_in: list[str] = []
    results_asked, second_read = threading.Event(), threading.Event()

    def look(client, job_id):  # the job is done by the time it is looked at
        deadline = time.monotonic() + 30
        while not real_done(client, job_id):
            assert time.monotonic() < deadline, "the emulator never finished the query job"
            time.sleep(0.05)
        return True

    def asking(client, job_id, chunk):
        asked_in.append(threading.current_thread().name)
        results_asked.set()
        assert second_read.wait(30), "REST answers stopped while the job's results were asked"
        return real_answer(client, job_id, chunk)

    def pages(self, soql, **kwargs):
        for number, answer in enumerate(real_pages(self, soql, **kwargs), 1):
            if number == 2:
                assert results_asked.wait(30), "the job's results were not asked beside the REST answers"
                second_read.set()
            yield answer

    monkeypatch.setattr(pulling, "query_job_done", look)
    monkeypatch.setattr(pulling, "results_answer", asking)
    monkeypatch.setattr(SalesforceClient, "query_pages", pages)
    bulk, rest = _pull_views(store, http, base_url, ca_path, tmp_path,
                             FetchSettings(bulk_threshold=100, bulk_chunk=2500), 5000)
    assert asked_in and asked_in[0].startswith("tandem-bulk-start")
    assert len(bulk) == 5006 and bulk == rest


def test_a_window_counted_large_with_the_describes_starts_its_job_beside_the_first_answers(
        store, tmp_path, http, base_url, ca_path, monkeypatch, reset_emulator):
    """The first answers' composite call goes out only once the job's start has: one after the
    other, the composite would wait for ever."""
    import tandem.sync.cycle as cycling
    import tandem.sync.pull as pulling

    real_start, real_composite = pulling.start_query_job, cycling.composite
    starting = threading.Event()

    def start(client, soql, **kwargs):
        starting.set()
        return real_start(client, soql, **kwargs)

    def composite(client, asked):
        assert starting.wait(30), "the first answers were asked before the job was started"
        return real_composite(client, asked)

    monkeypatch.setattr(pulling, "start_query_job", start)
    monkeypatch.setattr(cycling, "composite", composite)
    bulk, rest = _pull_views(store, http, base_url, ca_path, tmp_path,
                             FetchSettings(bulk_threshold=100, bulk_chunk=2500), 3000)
    assert starting.is_set() and len(bulk) == 3006 and bulk == rest


def _early_jobs(monkeypatch) -> tuple[list[str], list[str]]:
    """The Ids of the query jobs the pull starts, and of those it aborts, as they happen."""
    import tandem.sync.pull as pulling

    real_start, real_abort = pulling.start_query_job, pulling.abort_query_job
    started: list[str] = []
    aborted: list[str] = []

    def start(client, soql, **kwargs):
        started.append(real_start(client, soql, **kwargs))
        return started[-1]

    def abort(client, job_id):
        real_abort(client, job_id)
        aborted.append(job_id)

    monkeypatch.setattr(pulling, "start_query_job", start)
    monkeypatch.setattr(pulling, "abort_query_job", abort)
    return started, aborted


def _aborted_in_time(aborted: list[str], started: list[str], first: int | None = None) -> bool:
    """Whether the jobs started (the `first` of them when given) are aborted within 30 s. Starts
    and aborts run in the background: a start may still be answering when the cycle returns, so
    `started` is read as it fills, not copied when asked."""
    deadline = time.monotonic() + 30
    while not started or not set(started[:first]) <= set(aborted):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_job_started_early_for_a_window_that_proves_small_is_aborted(store, http, base_url, ca_path, monkeypatch,
                                                                       reset_emulator):
    """A count says more rows than the pull reads (its filter is not in the count): the job the
    count started is aborted and the pull reads REST answers."""
    import tandem.sync.cycle as cycling
    import tandem.sync.pull as pulling

    load_contacts(http, base_url, 300)
    started, aborted = _early_jobs(monkeypatch)
    real_describes = cycling.describe_changed

    def overcounted(client, held, **kwargs):
        found, counts = real_describes(client, held, **kwargs)
        return found, {name: count * 1000 for name, count in counts.items()}

    monkeypatch.setattr(cycling, "describe_changed", overcounted)
    monkeypatch.setattr(pulling, "result_rows", lambda *a, **k: pytest.fail("the job's results were read"))
    engine = SyncEngine(sync_client(base_url, ca_path), store, fetch=FetchSettings(bulk_threshold=1000))
    assert engine.run_cycle().succeeded
    assert started and store.persons.count() == 306  # a job for each object the count made look large
    assert _aborted_in_time(aborted, started), "an unneeded job was not aborted"  # the emulator's are done by then


def test_a_job_started_early_is_aborted_when_the_first_answers_call_fails(store, http, base_url, ca_path,
                                                                          monkeypatch, reset_emulator):
    import tandem.sync.cycle as cycling
    from tandem.errors import TransientError

    load_contacts(http, base_url, 3000)
    started, aborted = _early_jobs(monkeypatch)

    def failing(client, asked):
        raise TransientError("the composite call was lost")

    monkeypatch.setattr(cycling, "composite", failing)
    engine = SyncEngine(sync_client(base_url, ca_path), store, fetch=FetchSettings(bulk_threshold=100))
    engine.run_cycle()
    assert _aborted_in_time(aborted, started, first=1), "the job started beside the failed call was left running"


def test_a_job_started_early_is_aborted_when_the_cycle_stops_before_its_pull(store, http, base_url, ca_path,
                                                                             monkeypatch, reset_emulator):
    load_contacts(http, base_url, 3000)
    started, aborted = _early_jobs(monkeypatch)
    engine = SyncEngine(sync_client(base_url, ca_path), store, fetch=FetchSettings(bulk_threshold=100))
    begun: list[str] = []
    engine.on_step = lambda object_name, operation: begun.append(object_name)
    engine.stop_requested = lambda: "Account" in begun  # stops after the Account pull, before the Contact one
    report = engine.run_cycle()
    assert report.interrupted and "Contact" not in begun
    assert _aborted_in_time(aborted, started, first=1), "the Contact pull's early job was left running"
    assert store.persons.count() == 0


def test_a_window_rest_pages_finish_first_reads_no_job_results(store, tmp_path, http, base_url, ca_path,
                                                               monkeypatch, reset_emulator):
    import tandem.sync.pull as pulling
    aborted = threading.Event()
    monkeypatch.setattr(pulling, "query_job_done", lambda client, job_id: False)  # a job that is slow to finish
    monkeypatch.setattr(pulling, "result_rows", lambda *a, **k: pytest.fail("the job's results were read"))
    monkeypatch.setattr(pulling, "abort_query_job", lambda client, job_id: aborted.set())
    bulk, rest = _pull_views(store, http, base_url, ca_path, tmp_path,
                             FetchSettings(bulk_threshold=100, bulk_chunk=2500), 5000)
    assert len(bulk) == 5006 and bulk == rest
    assert aborted.wait(30), "the job whose rows were not needed was left running"


def test_a_bulk_pull_killed_midway_keeps_whole_pages_and_resumes(store, http, base_url, ca_path, reset_emulator):
    load_contacts(http, base_url, 3000)
    engine = SyncEngine(sync_client(base_url, ca_path), store, fetch=FetchSettings(bulk_threshold=100, bulk_chunk=500))
    real = engine.workspace.apply_page
    pages = []

    def dying(object_name, cursor, plan):
        if object_name == "Contact":
            if len(pages) == 3:
                raise Crash("killed while the fourth page was read")
            pages.append(object_name)
        return real(object_name, cursor, plan)

    engine.workspace.apply_page = dying
    with pytest.raises(Crash):
        engine.run_cycle()
    del engine.workspace.apply_page
    assert store.persons.count() == 3 * engine.pull_page_size  # whole pages, the watermark right behind them
    assert engine.run_cycle().succeeded
    assert store.persons.count() == 3006
    emails = [p.fields["email"] for p in everyone(store)]
    assert len(emails) == len(set(emails))


# -- late commits ------------------------------------------------------------------------------------

def test_a_record_committed_late_is_still_pulled(store, http, base_url, ca_path, sf, reset_emulator):
    lag = timedelta(seconds=3)
    engine = SyncEngine(sync_client(base_url, ca_path), store, commit_lag=lag)
    read = rows_read(engine.client, "Contact")
    engine.run_cycle()
    first = sf.Contact.create({"LastName": "Early", "Email": "early@late.example"})["id"]
    engine.run_cycle()
    http.put(f"{base_url}/_emulator/faults", json={"lateCommit": 1.0, "lateCommitSeconds": 2}).raise_for_status()
    try:
        late = sf.Contact.create({"LastName": "Late", "Email": "late@late.example"})["id"]
    finally:
        http.put(f"{base_url}/_emulator/faults", json={}).raise_for_status()
    deadline = time.monotonic() + 30
    while not (store.persons.find_by_email("late@late.example") and store.persons.find_by_email("early@late.example")
               ) and time.monotonic() < deadline:
        engine.run_cycle()
        time.sleep(0.2)
    assert store.persons.find_by_email("late@late.example") and store.persons.find_by_email("early@late.example")
    assert sorted(r for r in read if r in (first, late)) == sorted([first, late])  # each read once


# -- Bulk ingest pushes ------------------------------------------------------------------------------

@pytest.mark.parametrize("by", ["bulk", "collections"])
def test_refused_records_of_a_push_are_handled_alike_by_bulk_and_by_collections(by, store, sf, base_url, ca_path,
                                                                                reset_emulator):
    threshold = 2 if by == "bulk" else 0
    engine = SyncEngine(sync_client(base_url, ca_path), store, push=PushSettings(bulk_threshold=threshold))
    engine.run_cycle()
    contacts = [p for p in everyone(store) if p.link.sfdc_type == "Contact"]
    fine, too_long, gone, also_fine = contacts[:4]
    for p, title in ((fine, "Fine"), (too_long, "x" * 200), (gone, "Gone"), (also_fine, "Also Fine")):
        store.persons.update(p.id, {"title": title}, origin=ChangeOrigin.CLI)

    def delete_before_the_push(object_name, operation):  # deleted after the pull read the org
        if (object_name, operation) == ("Contact", StepOperation.PUSH_UPDATES):
            sf.Contact.delete(gone.link.sfdc_id)

    engine.on_step = delete_before_the_push
    report = engine.run_cycle()
    jobs = engine.client.request("GET", "jobs/ingest").json()["records"]
    assert len(jobs) == (1 if by == "bulk" else 0)
    [push] = [s for s in report.steps if s.operation is StepOperation.PUSH_UPDATES and s.object == "Contact"]
    assert (push.counts.updated, push.counts.failed) == (2, 2)
    assert sf.Contact.get(fine.link.sfdc_id)["Title"] == "Fine"
    assert sf.Contact.get(also_fine.link.sfdc_id)["Title"] == "Also Fine"
    for refused in (too_long, gone):
        assert store.outbox.find(person_ids=[refused.id]), "the refused change stays pending"
        assert activities_of(store, refused.id, FAILED)
    for sent in (fine, also_fine):
        assert not store.outbox.find(person_ids=[sent.id]) and activities_of(store, sent.id, SYNCED)
    codes = sorted(e.error_code for e in store.sync_errors.recent(level=ErrorLevel.RECORD))
    assert codes == ["ENTITY_IS_DELETED", "STRING_TOO_LONG"]


def test_push_batches_go_out_together_and_each_settles(store, http, base_url, ca_path, sf, reset_emulator):
    import threading
    load_contacts(http, base_url, 450)
    engine = SyncEngine(sync_client(base_url, ca_path), store, push=PushSettings(concurrency=3, bulk_threshold=0))
    engine.run_cycle()
    linked = [p for p in everyone(store) if p.link.sfdc_type == "Contact"]
    store.persons.update_many([(p.id, {"title": f"Batch {p.id}"}) for p in linked], origin=ChangeOrigin.CLI)
    together = threading.Barrier(3, timeout=20)  # three batches of 200: all three calls in flight at once
    real = engine.client.update_records

    def meeting(object_name, records):
        together.wait()
        return real(object_name, records)

    engine.client.update_records = meeting
    report = engine.run_cycle()
    [push] = [s for s in report.steps if s.operation is StepOperation.PUSH_UPDATES and s.object == "Contact"]
    assert push.status is StepStatus.SUCCEEDED and push.counts.updated == len(linked) == 454
    titles = {r["Id"]: r["Title"] for r in sf.query_all("SELECT Id, Title FROM Contact")["records"]}
    assert all(titles[p.link.sfdc_id] == f"Batch {p.id}" for p in linked)
    assert not store.outbox.find(person_ids=[p.id for p in linked])


def _watch_the_contact_push(engine, before_call):
    """Call `before_call(method, path, kwargs)` before each request the engine makes during its Contact push;
    returns the calls made then, as (method, path)."""
    real, calls, pushing = engine.client.request, [], []

    def watched(method, path, **kwargs):
        if pushing:
            calls.append((method, path))
            before_call(method, path, kwargs)
        return real(method, path, **kwargs)

    def on_step(object_name, operation):
        pushing[:] = [True] if (object_name, operation) == ("Contact", StepOperation.PUSH_UPDATES) else []

    engine.client.request, engine.on_step = watched, on_step
    return calls


def _is_check(method, path, kwargs) -> bool:
    subrequests = (kwargs.get("json") or {}).get("compositeRequest", [])
    return (method, path) == ("POST", "composite") and all("WHERE%20Id%20IN" in s["url"] for s in subrequests)


def _bulk_push_of_450(store, http, base_url, ca_path):
    load_contacts(http, base_url, 450)
    SyncEngine(sync_client(base_url, ca_path), store).run_cycle()
    linked = [p for p in everyone(store) if p.link.sfdc_type == "Contact"]
    store.persons.update_many([(p.id, {"title": f"Bulk {p.id}"}) for p in linked], origin=ChangeOrigin.CLI)
    # every changed person at the threshold: one ingest job, its check three queries of up to 200
    return SyncEngine(sync_client(base_url, ca_path), store, push=PushSettings(bulk_threshold=len(linked))), linked


def _pushed(report, store, sf, linked) -> None:
    [push] = [s for s in report.steps if s.operation is StepOperation.PUSH_UPDATES and s.object == "Contact"]
    assert push.status is StepStatus.SUCCEEDED and push.counts.updated == len(linked) == 454
    titles = {r["Id"]: r["Title"] for r in sf.query_all("SELECT Id, Title FROM Contact")["records"]}
    assert all(titles[p.link.sfdc_id] == f"Bulk {p.id}" for p in linked)
    assert not store.outbox.find(person_ids=[p.id for p in linked])


def test_a_bulk_push_checks_its_records_in_one_composite_call_and_opens_its_job_meanwhile(
        store, http, base_url, ca_path, sf, reset_emulator):
    import threading
    engine, linked = _bulk_push_of_450(store, http, base_url, ca_path)
    together = threading.Barrier(2, timeout=20)  # the check and the job's creation in flight at once

    def meet(method, path, kwargs):
        if _is_check(method, path, kwargs) or (method, path) == ("POST", "jobs/ingest"):
            together.wait()

    calls = _watch_the_contact_push(engine, meet)
    _pushed(engine.run_cycle(), store, sf, linked)
    assert calls.count(("POST", "composite")) == 1  # 454 records: three check queries in one call
    assert calls.count(("POST", "jobs/ingest")) == 1


def test_a_bulk_push_of_many_parts_sends_at_most_five_check_queries_a_composite_call(
        store, http, base_url, ca_path, sf, reset_emulator):
    """Salesforce takes at most 5 query subrequests in one composite call: 1,254 records (7 check
    queries of up to 200) are checked in two calls, in flight at once with the job's creation."""
    import threading
    load_contacts(http, base_url, 1250)
    SyncEngine(sync_client(base_url, ca_path), store).run_cycle()
    linked = [p for p in everyone(store) if p.link.sfdc_type == "Contact"]
    store.persons.update_many([(p.id, {"title": f"Bulk {p.id}"}) for p in linked], origin=ChangeOrigin.CLI)
    engine = SyncEngine(sync_client(base_url, ca_path), store, push=PushSettings(bulk_threshold=len(linked)))
    sizes, together = [], threading.Barrier(3, timeout=20)

    def meet(method, path, kwargs):
        if _is_check(method, path, kwargs):
            sizes.append(len(kwargs["json"]["compositeRequest"]))
        if _is_check(method, path, kwargs) or (method, path) == ("POST", "jobs/ingest"):
            together.wait()

    calls = _watch_the_contact_push(engine, meet)
    report = engine.run_cycle()
    [push] = [s for s in report.steps if s.operation is StepOperation.PUSH_UPDATES and s.object == "Contact"]
    assert push.status is StepStatus.SUCCEEDED and push.counts.updated == len(linked) == 1254
    assert sorted(sizes) == [2, 5] and calls.count(("POST", "jobs/ingest")) == 1
    titles = {r["Id"]: r["Title"] for r in sf.query_all("SELECT Id, Title FROM Contact")["records"]}
    assert all(titles[p.link.sfdc_id] == f"Bulk {p.id}" for p in linked)


def test_a_check_query_whose_subrequest_failed_is_asked_again_on_its_own(
        store, http, base_url, ca_path, sf, reset_emulator):
    import json
    engine, linked = _bulk_push_of_450(store, http, base_url, ca_path)
    calls = _watch_the_contact_push(engine, lambda method, path, kwargs: None)
    watched = engine.client.request

    def one_busy(method, path, **kwargs):  # Salesforce answers the second check query 503 inside the composite
        answer = watched(method, path, **kwargs)
        if _is_check(method, path, kwargs):
            body = answer.json()
            body["compositeResponse"][1] = {"referenceId": body["compositeResponse"][1]["referenceId"],
                                            "httpStatusCode": 503, "httpHeaders": {},
                                            "body": [{"errorCode": "SERVER_UNAVAILABLE", "message": "busy"}]}
            answer._content = json.dumps(body).encode()
        return answer

    alone: list[str] = []
    query = engine.client.query
    engine.client.request = one_busy
    engine.client.query = lambda soql, **kwargs: alone.append(soql) or query(soql, **kwargs)
    _pushed(engine.run_cycle(), store, sf, linked)
    assert calls.count(("POST", "composite")) == 1
    [again] = [q for q in alone if "WHERE Id IN" in q]  # that one query, asked on its own
    assert again.count("'003") == 200


def test_an_edit_made_while_the_check_reads_goes_with_the_next_push_not_the_value_it_replaced(
        store, http, base_url, ca_path, sf, reset_emulator):
    engine, linked = _bulk_push_of_450(store, http, base_url, ca_path)
    edited = linked[7]
    marketer = PersonStore(store.url)  # another process's store

    def edit_during_the_check(method, path, kwargs):
        if _is_check(method, path, kwargs):
            marketer.persons.update(edited.id, {"title": "Newer"}, origin=ChangeOrigin.MARKETING)

    unwatched = engine.client.request
    _watch_the_contact_push(engine, edit_during_the_check)
    try:
        engine.run_cycle()
    finally:
        marketer.close()
    assert sf.Contact.get(edited.link.sfdc_id)["Title"] != f"Bulk {edited.id}"  # the replaced value never went
    [pending] = store.outbox.find(person_ids=[edited.id])
    assert pending.value == "Newer"
    others = [p for p in linked if p.id != edited.id]
    assert not store.outbox.find(person_ids=[p.id for p in others])
    engine.client.request, engine.on_step = unwatched, lambda object_name, operation: None
    engine.run_cycle()  # the next push
    assert sf.Contact.get(edited.link.sfdc_id)["Title"] == "Newer"
    assert not store.outbox.find(person_ids=[edited.id])
