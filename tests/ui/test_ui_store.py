"""The store's parts the UI adds, on SQLite and PostgreSQL: users and the signing key, the pause
switch, person search, errors' resolution and what waits per object."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tandem.errors import InvalidInput, NotFound
from tandem.people.models import ErrorLevel, SalesforceLink, StepCounts, StepOperation, StepStatus
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore
from tandem.people.sync_history import ErrorFilter, StepFilter, Waiting
from tests.postgres import postgres_database

LEAD_ID = "00Q000000000001AAA"
CONTACT_ID = "003000000000002AAA"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tandem.db'}"
    else:
        yield from postgres_database()


@pytest.fixture
def stores(url) -> Iterator[list[PersonStore]]:
    """Two stores on one migrated database (two processes, as far as the database can tell)."""
    first = PersonStore(url)
    first.migrate()
    opened = [first, PersonStore(url)]
    yield opened
    for store in opened:
        store.close()


def test_the_signing_key_is_made_once_and_shared(stores):
    first, second = stores
    key = second.ui_accounts.signing_key()
    assert len(key) >= 48 and first.ui_accounts.signing_key() == key == second.ui_accounts.signing_key()


def test_users_are_named_once_and_bad_names_are_refused(stores):
    store, other = stores
    made = store.ui_accounts.add("ops.lead@example", "$argon2id$hash", "operator")
    assert other.ui_accounts.get("ops.lead@example") == made and made.operates
    with pytest.raises(InvalidInput, match="username: a user named 'ops.lead@example' already exists"):
        other.ui_accounts.add("ops.lead@example", "$argon2id$other", "viewer")
    for bad in ("", "with space", "-dash-first", "x" * 65):
        with pytest.raises(InvalidInput, match="^username: "):
            store.ui_accounts.add(bad, "$argon2id$hash")
    with pytest.raises(InvalidInput, match="role: expected one of viewer, operator, got 'admin'"):
        store.ui_accounts.add("ann", "$argon2id$hash", "admin")
    assert [u.username for u in store.ui_accounts.all()] == ["ops.lead@example"]


def test_ending_a_users_sessions_is_seen_by_every_process_and_counted_once(stores):
    store, other = stores
    olive, vera = store.ui_accounts.add("olive", "$argon2id$hash"), store.ui_accounts.add("vera", "$argon2id$hash")
    assert olive.sessions_ended == 0
    assert other.ui_accounts.end_sessions("olive", 0)
    assert not store.ui_accounts.end_sessions("olive", 0)  # a second sign-out of the same session: already ended
    assert store.ui_accounts.get("olive").sessions_ended == 1 and other.ui_accounts.get("vera") == vera


def test_a_new_password_ends_the_users_sessions_and_a_rehash_never_undoes_it(stores):
    store, other = stores
    store.ui_accounts.add("olive", "$argon2id$old")
    changed = other.ui_accounts.change_password("olive", "$argon2id$new")
    assert (changed.password_hash, changed.sessions_ended) == ("$argon2id$new", 1)
    assert store.ui_accounts.get("olive") == changed
    # a sign-in that checked the old password rehashes it: the new one stands
    assert not store.ui_accounts.set_password_hash("olive", "$argon2id$old-rehashed", replacing="$argon2id$old")
    assert store.ui_accounts.set_password_hash("olive", "$argon2id$new-rehashed", replacing="$argon2id$new")
    assert store.ui_accounts.get("olive").password_hash == "$argon2id$new-rehashed"
    for unknown in ("oliver", "x\x00y"):
        with pytest.raises(NotFound, match=f"^no web UI user named {re.escape(repr(unknown))}$"):
            other.ui_accounts.change_password(unknown, "$argon2id$x")


def test_removing_users_says_how_many_are_left(stores):
    store, other = stores
    store.ui_accounts.add("olive", "$argon2id$hash")
    store.ui_accounts.add("vera", "$argon2id$hash")
    assert other.ui_accounts.remove("vera") == 1 and store.ui_accounts.get("vera") is None
    with pytest.raises(NotFound, match="^no web UI user named 'vera'$"):
        store.ui_accounts.remove("vera")
    assert store.ui_accounts.remove("olive") == 0 and other.ui_accounts.all() == []


def test_a_pause_is_seen_by_every_process_and_the_first_one_stands(stores):
    first, second = stores
    assert first.sync_pause.current() is None and not first.sync_pause.resume()
    made = first.sync_pause.pause("olive", "quarter-end")
    again = second.sync_pause.pause("victor", "other reason")
    assert again == made == second.sync_pause.current()
    assert (made.paused_by, made.reason) == ("olive", "quarter-end")
    with pytest.raises(InvalidInput, match="reason: longer than 500"):
        second.sync_pause.pause("victor", "x" * 501)
    assert second.sync_pause.resume() and first.sync_pause.current() is None


def test_person_search_by_email_name_and_salesforce_id(stores):
    store, _ = stores
    wile = store.persons.add({"email": "Wile@Acme.example", "firstName": "Wile", "lastName": "Coyote"},
                             origin=ChangeOrigin.CLI)
    [road] = store.persons.add_linked([({"email": "road@runner.example", "firstName": "Road", "lastName": "Runner"},
                                        SalesforceLink("Contact", CONTACT_ID, sfdc_lead_id=LEAD_ID,
                                                       sfdc_contact_id=CONTACT_ID))])
    found = lambda text: [p.id for p in store.person_search.find(text)]  # noqa: E731
    assert found("wile@acme") == [wile.id] and found("WILE@ACME.EXAMPLE") == [wile.id]
    assert found("coy") == [wile.id] and found("wile coyote") == [wile.id] and found("road  runner") == [road]
    assert found(CONTACT_ID) == [road] and found(CONTACT_ID[:15]) == [road] and found(LEAD_ID) == [road]
    assert found("nobody") == [] and found("") == [] and found("bad\x00text") == []
    assert [p.id for p in store.person_search.newest()] == [road, wile.id]


def test_an_error_is_resolved_once_nothing_is_left_to_fix(stores):
    """A person's error while one of their changes waits refused; any other once a later cycle ran
    without a failed step: the rule `tandem status` and the UI share."""
    store, _ = stores
    start = datetime.now(UTC) - timedelta(hours=2)
    [person_id] = store.persons.add_linked([({"email": "samir@initech.example"}, SalesforceLink("Contact", CONTACT_ID))])
    person = store.persons.get(person_id)
    step = store.steps.start("Contact", StepOperation.PUSH_UPDATES, cycle_id="c1", now=start)
    store.steps.finish(step.id, StepStatus.FAILED, now=start + timedelta(seconds=1))
    job = store.sync_errors.record(ErrorLevel.JOB, "UNABLE_TO_LOCK_ROW", "locked", object="Contact",
                                   cycle_step_id=step.id, now=start + timedelta(seconds=1))
    store.persons.update(person.id, {"phone": "call me maybe"}, origin=ChangeOrigin.CLI)
    [refused] = store.outbox.find(person_ids=[person.id])
    store.outbox.mark_failed([refused.id], "bad phone")
    record = store.sync_errors.record(ErrorLevel.RECORD, "INVALID_PHONE", "bad phone", object="Contact",
                                      sfdc_id=CONTACT_ID, person_id=person.id, now=start + timedelta(seconds=2))
    since = start - timedelta(minutes=1)
    assert {e.error.id: e.resolved for e in store.history.errors(since)} == {job.id: False, record.id: False}
    failing = store.steps.start("Lead", StepOperation.PULL_UPDATES, cycle_id="c2", now=start + timedelta(minutes=5))
    store.steps.finish(failing.id, StepStatus.FAILED, now=start + timedelta(minutes=6))
    worked = store.steps.start("Contact", StepOperation.PUSH_UPDATES, cycle_id="c2", now=start + timedelta(minutes=6))
    store.steps.finish(worked.id, StepStatus.SUCCEEDED, now=start + timedelta(minutes=7))
    assert not any(e.resolved for e in store.history.errors(since))  # c2 had a failed step
    clean = store.steps.start("Contact", StepOperation.PULL_UPDATES, cycle_id="c3", now=start + timedelta(minutes=10))
    store.steps.finish(clean.id, StepStatus.SUCCEEDED, StepCounts(updated=1), now=start + timedelta(minutes=11))
    assert {e.error.id: e.resolved for e in store.history.errors(since)} == {job.id: True, record.id: False}
    store.outbox.clear([refused.id])  # dropped (Salesforce won): nothing waits refused any more
    assert {e.error.id: e.resolved for e in store.history.errors(since)} == {job.id: True, record.id: True}
    assert store.history.resolved_ids([job.id, record.id, 10**6]) == {job.id, record.id}
    assert store.history.error(record.id).resolved
    assert store.history.errors(since, ErrorFilter(resolved=False)) == []
    assert [e.error.id for e in store.history.errors(since, ErrorFilter(level=ErrorLevel.RECORD))] == [record.id]
    assert [e.error.id for e in store.history.errors(since, ErrorFilter(person_id=person.id))] == [record.id]
    assert [s.id for s in store.history.steps(since, StepFilter(status=StepStatus.FAILED))] == [failing.id, step.id]


def test_what_waits_for_salesforce_per_object(stores):
    store, _ = stores
    [lead, contact] = store.persons.add_linked([
        ({"email": "l@x.example"}, SalesforceLink("Lead", LEAD_ID)),
        ({"email": "c@x.example"}, SalesforceLink("Contact", CONTACT_ID))])
    unlinked = store.persons.add({"email": "u@x.example"}, origin=ChangeOrigin.CLI)
    store.persons.update(lead, {"title": "A", "phone": "1"}, origin=ChangeOrigin.CLI)
    store.persons.update(contact, {"title": "B"}, origin=ChangeOrigin.CLI)
    waiting = store.history.waiting()
    assert (waiting["Lead"].changes, waiting["Lead"].persons) == (2, 1)
    assert (waiting["Contact"].changes, waiting["Contact"].persons) == (1, 1)
    assert "" not in waiting  # a new person has nothing pending: Sync Person to SFDC sends it whole
    store.persons.update(unlinked.id, {"title": "C"}, origin=ChangeOrigin.CLI)
    assert store.history.waiting()[""] == Waiting(changes=1, persons=1, refused=0)


def test_a_persons_newest_activities_come_first(stores):
    store, _ = stores
    person = store.persons.add({"email": "log@x.example"}, origin=ChangeOrigin.CLI)
    other = store.persons.add({"email": "other@x.example"}, origin=ChangeOrigin.CLI)
    for title in ("A", "B", "C"):
        store.persons.update(person.id, {"title": title}, origin=ChangeOrigin.CLI)
    store.persons.update(other.id, {"title": "Z"}, origin=ChangeOrigin.CLI)
    newest = store.activities.newest(person.id, 2)
    assert [a.attribute("New Value") for a in newest] == ["C", "B"]
    assert [a.id for a in store.activities.newest(person.id, 10)] == [a.id for a in store.activities.find(person.id)][::-1]
