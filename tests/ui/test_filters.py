"""The history and error filters: a date is a whole UTC day, the last day there is bounds nothing, and
a bad value is named on the page and filters nothing, never a 500 (pages and CSV exports alike)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from tandem.people.models import ErrorLevel, StepOperation, StepStatus
from tandem.people.origin import ChangeOrigin
from tandem.people.sync_errors import LOGIN
from tests.ui.conftest import client_for, sign_in_client

PAGES = ("/ui/history", "/ui/errors")
EXPORTS = ("/ui/history.csv", "/ui/errors.csv")


@pytest.fixture
def client(either_store):
    now = datetime.now(UTC)
    step = either_store.steps.start("Contact", StepOperation.PUSH_UPDATES, cycle_id="c1", now=now)
    either_store.steps.finish(step.id, StepStatus.FAILED, now=now)
    either_store.sync_errors.record(ErrorLevel.JOB, "UNABLE_TO_LOCK_ROW", "locked", object="Contact",
                                    cycle_step_id=step.id, now=now)
    signed_in = client_for(either_store)
    assert sign_in_client(signed_in).status_code == 303
    return signed_in


def rows(answer) -> list[dict[str, str]]:
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(answer.text)))


@pytest.mark.parametrize("last_day", ["9999-12-31", (datetime.now(UTC) + timedelta(days=1)).date().isoformat()])
def test_a_far_to_date_bounds_nothing(client, last_day):
    for path in PAGES:
        answer = client.get(path, params={"to": last_day, "from": "2000-01-01"})
        assert answer.status_code == 200, path
        assert "No steps match." not in answer.text and "No errors match." not in answer.text, path
        assert 'class="problem"' not in answer.text
    for path in EXPORTS:
        assert len(rows(client.get(path, params={"to": last_day}))) == 1, path


def test_a_to_date_before_the_rows_leaves_them_out(client):
    for path in EXPORTS:
        assert rows(client.get(path, params={"to": "2000-01-01"})) == [], path
    for path in EXPORTS:
        assert rows(client.get(path, params={"from": "9999-12-31"})) == [], path


@pytest.mark.parametrize("value", ["10000-01-01", "9999-12-32", "0000-01-01", "tomorrow"])
def test_a_date_that_cannot_be_read_is_named_and_filters_nothing(client, value):
    for path in PAGES:
        answer = client.get(path, params={"to": value})
        assert answer.status_code == 200, path
        assert f"to: expected a date like 2026-11-30, got &#39;{value}&#39;" in answer.text, path
    for path in EXPORTS:
        assert len(rows(client.get(path, params={"to": value}))) == 1, path


def test_a_from_date_after_the_to_date_is_named_and_filters_nothing(client):
    """Before, the page just showed an empty list."""
    params = {"from": "2026-12-05", "to": "2026-12-01"}
    for path in PAGES:
        answer = client.get(path, params=params)
        assert answer.status_code == 200, path
        assert "from: 2026-12-05 is after to: 2026-12-01, so no day lies between" in answer.text, path
    for path in EXPORTS:
        assert len(rows(client.get(path, params=params))) == 1, path


@pytest.mark.parametrize("value", ["LOCK\x00ROW", "\x00"])
def test_a_code_that_cannot_be_stored_is_named_and_filters_nothing(client, value):
    answer = client.get("/ui/errors", params={"code": value})
    assert answer.status_code == 200
    assert "code: contains a NUL character" in answer.text
    assert "UNABLE_TO_LOCK_ROW" in answer.text
    assert len(rows(client.get("/ui/errors.csv", params={"code": value}))) == 1


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_an_exported_cell_a_spreadsheet_would_run_is_quoted(client, either_store, start):
    """Before, a message starting with a tab or a carriage return went out as it was."""
    either_store.sync_errors.record(ErrorLevel.RECORD, "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                                    f"{start}cmd|' /C calc'!A0", object="Lead")
    [row] = [r for r in rows(client.get("/ui/errors.csv")) if r["error_code"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"]
    assert row["message"] == f"'{start}cmd|' /C calc'!A0"


def test_the_object_filter_says_what_all_means_beside_any(client):
    """Before, "any" and "All" stood side by side, and "All" (the sync schema step's object) read as any."""
    for path in PAGES:
        page = client.get(path, params={"object": "All"}).text
        assert '<option value="All" selected>All (the sync schema step)</option>' in page, path
        assert '<option value="">any</option>' in page, path


def test_the_errors_page_filters_on_a_refused_login_which_no_step_is_of(client, either_store):
    either_store.sync_errors.record(ErrorLevel.JOB, "invalid_grant", "invalid_grant: authentication failure",
                                    object=LOGIN)
    page = client.get("/ui/errors", params={"object": LOGIN}).text
    assert '<option value="login" selected>login (a refused login)</option>' in page
    assert "invalid_grant: authentication failure" in page and "locked" not in page
    assert [r["object"] for r in rows(client.get("/ui/errors.csv", params={"object": LOGIN}))] == [LOGIN]
    history = client.get("/ui/history", params={"object": LOGIN}).text  # a step is never the login's
    assert "object: expected one of All, Account, Contact, Lead, got &#39;login&#39;" in history


def test_a_code_longer_than_any_error_code_is_named_with_the_limit_and_filters_nothing(client):
    """Before, it was cut to its first 64 characters without a word, and the cut code filtered."""
    too_long = "UNABLE_TO_LOCK_ROW" + "X" * 47
    answer = client.get("/ui/errors", params={"code": too_long})
    assert answer.status_code == 200
    assert "code: longer than 64 characters (no error code is longer)" in answer.text
    assert "No errors match." not in answer.text and "UNABLE_TO_LOCK_ROW</td>" in answer.text
    assert len(rows(client.get("/ui/errors.csv", params={"code": too_long}))) == 1
    exact = client.get("/ui/errors", params={"code": "X" * 64})
    assert 'class="problem"' not in exact.text and "No errors match." in exact.text


@pytest.mark.parametrize("typed", ["unable_to_lock_row", "Unable_To_Lock_Row", " UNABLE_TO_LOCK_ROW "])
def test_a_code_is_found_in_whatever_case_it_is_typed(client, either_store, typed):
    """Before, only the code as Salesforce spells it matched: "unable_to_lock_row" said No errors match."""
    either_store.sync_errors.record(ErrorLevel.JOB, "invalid_grant", "invalid_grant: authentication failure",
                                    object=LOGIN)
    page = client.get("/ui/errors", params={"code": typed}).text
    assert "No errors match." not in page and "UNABLE_TO_LOCK_ROW</td>" in page and "invalid_grant" not in page
    for code, found in ((typed, "UNABLE_TO_LOCK_ROW"), ("INVALID_GRANT", "invalid_grant")):
        assert [r["error_code"] for r in rows(client.get("/ui/errors.csv", params={"code": code}))] == [found]


def test_a_search_longer_than_a_search_takes_is_named_with_the_limit(client, either_store):
    """Before, it was cut to its first 200 characters without a word, and the cut text was searched for."""
    person = either_store.persons.add({"email": "a" * 190 + "@example.com", "lastName": "Long"},
                                      origin=ChangeOrigin.CLI)
    typed = person.fields["email"] + "-and-more"  # its first 200 characters find the person
    answer = client.get("/ui/persons", params={"q": typed})
    assert answer.status_code == 200
    assert "Search persons: longer than 200 characters; type at most 200" in answer.text
    assert "Persons matching" not in answer.text and "The 50 persons added last" in answer.text
    found = client.get("/ui/persons", params={"q": person.fields["email"][:200]})
    assert 'class="problem"' not in found.text and f'href="/ui/persons/{person.id}"' in found.text


def test_the_status_filter_offers_stopped_as_the_history_shows_it(client, either_store):
    """Before, the history showed a step a killed cycle left open as Stopped, but its Status filter
    had no Stopped choice (`status=Stopped` was refused), and In Process listed the Stopped step."""
    either_store.steps.start("Lead", StepOperation.PULL_UPDATES, cycle_id="killed")  # what `kill -9` leaves
    page = client.get("/ui/history").text
    assert "<option>Stopped</option>" in page
    stopped = client.get("/ui/history", params={"status": "Stopped"}).text
    assert 'class="problem"' not in stopped and "<option selected>Stopped</option>" in stopped
    assert "<td>Lead</td><td>pull updates</td><td>Stopped</td>" in stopped and "<td>Contact</td>" not in stopped
    assert "No steps match." in client.get("/ui/history", params={"status": "In Process"}).text
    assert "<td>Contact</td>" in client.get("/ui/history", params={"status": "Failed"}).text
    [row] = rows(client.get("/ui/history.csv", params={"status": "Stopped"}))
    assert (row["object"], row["status"]) == ("Lead", "Stopped")  # as the page shows it
    assert rows(client.get("/ui/history.csv", params={"status": "In Process"})) == []


def test_the_date_filters_say_their_days_are_utc_days(client):
    """Before, "From" and "To" did not say which day they mean: a whole UTC day, not the operator's own."""
    for path in PAGES:
        page = client.get(path).text
        assert '<label>From (UTC) <input type="date" name="from"' in page, path
        assert '<label>To (UTC) <input type="date" name="to"' in page, path
