"""The web UI in Debian's Chromium against a real `tandem serve` and the emulator's sample org."""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import expect

from tandem.people.models import StepStatus
from tandem.people.origin import ChangeOrigin
from tandem.sync.actions import DUPLICATE_ACCOUNT_RISK
from tandem.web.ui.converting import FORM_ADVICE
from tests.ui.conftest import OPERATOR, VIEWER, screenshot, sign_in

CYCLE_SECONDS = 60_000


def sync_now(page) -> None:
    page.goto("/ui/")
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("#progress")).to_contain_text("cycle finished", timeout=CYCLE_SECONDS)


def test_sign_in_and_every_page_renders(page, server):
    page.goto("/ui/history")
    expect(page).to_have_url(re.compile(r"/ui/signin\?next=/ui/history$"))
    page.get_by_label("Username").fill(OPERATOR[0])
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    screenshot(page, "signin")
    page.get_by_label("Username").fill(OPERATOR[0])
    page.get_by_label("Password").fill(OPERATOR[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/ui/history$"))  # back where it was going
    sync_now(page)
    for link, heading in (("Dashboard", "Dashboard"), ("Sync history", "Sync history"), ("Sync errors", "Sync errors"),
                          ("Persons", "Persons"), ("Fields", "Fields")):
        page.get_by_role("navigation").get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        screenshot(page, link.lower().replace(" ", "-"))
    expect(page.get_by_role("row", name=re.compile(r"Contact\s+Email\s+email"))).to_contain_text("both")
    page.get_by_role("navigation").get_by_role("link", name="Persons").click()
    page.get_by_role("link", name="Wile Coyote").click()
    expect(page.get_by_role("heading", name="Activity log")).to_be_visible()
    screenshot(page, "person")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.goto("/ui/")
    expect(page).to_have_url(re.compile(r"/ui/signin"))


def test_sync_now_shows_the_new_step_rows(page, server):
    sign_in(page, OPERATOR)
    expect(page.get_by_text("No sync cycle has run yet.")).to_be_visible()
    sync_now(page)
    last_cycle = page.get_by_role("table").filter(has=page.get_by_text(re.compile("API calls$")))
    expect(last_cycle.get_by_role("row", name=re.compile(r"^Contact pull updates Succeeded"))).to_be_visible()
    expect(last_cycle.get_by_role("row", name=re.compile(r"^Lead push updates Succeeded"))).to_be_visible()
    screenshot(page, "dashboard-after-sync")
    page.get_by_role("link", name="Sync history").click()
    assert page.get_by_role("row", name=re.compile("Succeeded")).count() == len(server.store.steps.recent())


def test_a_second_sync_now_while_a_cycle_runs_says_so(page, server):
    sign_in(page, OPERATOR)
    holder = server.store.locks.cycle("tandem run (the test)")  # another process's cycle
    assert holder is not None
    try:
        page.get_by_role("button", name="Sync now").click()
        expect(page.get_by_role("status")).to_contain_text("a sync cycle is already running (tandem run (the test)")
        expect(page.locator(".state")).to_contain_text("Running")
    finally:
        holder.release()
    assert server.store.steps.recent() == []


def test_the_outcome_of_the_last_cycle_started_here_says_when_it_ended(page, server):
    """Before, it said "Last cycle started here: cycle finished: …" with no time, so hours later it
    read as news beside the newer cycles `tandem run` made."""
    sign_in(page, OPERATOR)
    sync_now(page)
    page.reload()
    expect(page.locator("#progress")).to_have_text(re.compile(
        r"Last cycle started here, ended \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: cycle finished: "))


def test_a_viewer_sees_everything_but_cannot_start_actions(page, server):
    sign_in(page, VIEWER)
    for name in ("Sync now", "Pause sync"):
        expect(page.get_by_role("button", name=name)).to_be_disabled()
    expect(page.get_by_text("Only operators can start actions.")).to_be_visible()
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    for path in ("/ui/sync-now", "/ui/pause", "/ui/errors/retry-all"):
        answer = page.request.post(path, form={"csrf_token": token}, max_redirects=0)
        assert answer.status == 403, path
        assert "only operators can start actions" in answer.text()
    assert server.store.steps.recent() == [] and server.store.sync_pause.current() is None
    person = server.store.persons.add({"email": "new@viewer.example", "lastName": "New"}, origin=ChangeOrigin.CLI)
    page.goto(f"/ui/persons/{person.id}")
    expect(page.get_by_role("button", name="Sync Person to SFDC")).to_be_disabled()
    expect(page.get_by_role("button", name="Convert Person")).to_be_disabled()
    for box in ("Lead owner", "or lead queue"):  # before, they took typing the viewer could never send
        expect(page.get_by_label(box)).to_be_disabled()
    page.goto(f"/ui/persons/{person.id}/convert")
    expect(page.get_by_role("button", name="Confirm conversion")).to_be_disabled()
    for box in ("Converted status", "Opportunity name", "Create an Opportunity", "Notify the owner by email"):
        expect(page.get_by_label(box)).to_be_disabled()
    expect(page.get_by_role("radio", name="A new Account")).to_be_disabled()
    expect(page.get_by_label("Owner", exact=True)).to_be_disabled()
    answer = page.request.post(f"/ui/persons/{person.id}/sync", form={"csrf_token": token}, max_redirects=0)
    assert answer.status == 403
    assert server.store.persons.get(person.id).link.sfdc_id is None


def test_pause_and_resume_sync(page, server):
    sign_in(page, OPERATOR)
    page.get_by_label("Reason").fill("quarter-end freeze")
    page.get_by_role("button", name="Pause sync").click()
    expect(page.locator(".state")).to_contain_text("Paused")
    expect(page.locator(".state")).to_contain_text("quarter-end freeze")
    assert server.store.sync_pause.current().paused_by == OPERATOR[0]
    page.get_by_role("button", name="Resume sync").click()
    expect(page.get_by_role("button", name="Pause sync")).to_be_visible()
    assert server.store.sync_pause.current() is None


def test_a_person_with_a_conflict_shows_the_losing_value(page, server, sf):
    sign_in(page, OPERATOR)
    sync_now(page)
    [wile] = server.store.persons.find_by_email("wile@acme.example")
    sf.Contact.update(wile.link.sfdc_id, {"Title": "From Salesforce"})
    server.store.persons.update(wile.id, {"title": "From Tandem"}, origin=ChangeOrigin.CLI)
    sync_now(page)
    page.get_by_role("link", name="Persons").click()
    page.get_by_label("Search persons").fill("wile@acme")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Wile Coyote").click()
    log = page.get_by_role("list", name="Activity log")
    conflict = log.get_by_role("listitem").filter(has_text="SFDC Sync Conflict")
    expect(conflict).to_contain_text("Lost value: From Tandem")
    expect(conflict).to_contain_text("kept: From Salesforce (Salesforce won)")
    expect(log.get_by_role("listitem").first).to_contain_text("SFDC Sync Conflict")  # newest first
    screenshot(page, "person-conflict")


def test_sync_person_to_sfdc_shows_the_salesforce_id(page, server, sf):
    person = server.store.persons.add({"email": "newbie@ui.example", "firstName": "Nia", "lastName": "Newbie",
                                       "company": "Ui Works"}, origin=ChangeOrigin.CLI)
    sign_in(page, OPERATOR)
    page.goto(f"/ui/persons/{person.id}")
    expect(page.locator("#salesforce-link")).to_have_text("Not in Salesforce yet.")
    page.get_by_role("button", name="Sync Person to SFDC").click()
    lead_id = server.store.persons.get(person.id).link.sfdc_id
    assert lead_id and sf.Lead.get(lead_id)["Email"] == "newbie@ui.example"
    expect(page.get_by_role("status")).to_contain_text(f"Sync Person to SFDC: Lead {lead_id} created")
    expect(page.locator("#salesforce-link")).to_contain_text(f"Lead {lead_id}")
    expect(page.get_by_role("list", name="Activity log").get_by_role("listitem").first).to_contain_text("Sync Lead to SFDC")
    page.get_by_role("button", name="Convert Person").click()
    warning = page.get_by_role("alert")
    expect(warning).to_contain_text("Duplicate-account warning")
    expect(warning).to_contain_text(f"a new Account will be created: {DUPLICATE_ACCOUNT_RISK}; {FORM_ADVICE}")  # nothing done yet
    expect(warning).not_to_contain_text("was created")
    screenshot(page, "convert")
    expect(page.get_by_role("radio", name="A new Account")).to_be_checked()
    page.get_by_role("button", name="Confirm conversion").click()
    expect(page.get_by_role("status")).to_contain_text(f"a new Account was created: {DUPLICATE_ACCOUNT_RISK}; {FORM_ADVICE}")
    assert server.store.persons.get(person.id).link.sfdc_type == "Contact"


def test_an_error_row_links_to_its_person_and_retry_clears_it_once_fixed(page, server):
    sign_in(page, OPERATOR)
    sync_now(page)
    [samir] = server.store.persons.find_by_email("samir@initech.example")
    server.store.persons.update(samir.id, {"phone": "call me maybe"}, origin=ChangeOrigin.CLI)
    sync_now(page)
    page.get_by_role("link", name="Sync errors").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=f"Person {samir.id}"))
    expect(row).to_contain_text("Open")
    expect(row).to_contain_text(samir.link.sfdc_id)
    screenshot(page, "sync-errors-open")
    row.get_by_role("link", name=f"Person {samir.id}").click()
    expect(page).to_have_url(re.compile(rf"/ui/persons/{samir.id}$"))
    expect(page.get_by_role("list", name="Activity log")).to_contain_text("Refused:")
    page.go_back()
    row.get_by_role("button", name="Retry").click()  # not fixed yet: refused again, logged again
    expect(page.get_by_role("status")).to_contain_text("Retry refused by Salesforce")
    expect(row).to_have_count(2)
    for each in row.all():
        expect(each).to_contain_text("Open")
    server.store.persons.update(samir.id, {"phone": "5550001234"}, origin=ChangeOrigin.CLI)  # the fix
    row.first.get_by_role("button", name="Retry").click()  # offered by the page shown before the fix
    expect(page.get_by_role("status")).to_contain_text(f"Retry: Contact {samir.link.sfdc_id} updated")
    expect(row).to_have_count(2)
    for each in row.all():
        expect(each).to_contain_text("Resolved")
        expect(each.get_by_role("button", name="Retry")).to_have_count(0)
    assert server.store.outbox.find(person_ids=[samir.id]) == []
    page.get_by_label("Resolved").select_option("no")
    page.get_by_role("button", name="Filter").click()
    expect(row).to_have_count(0)


def test_export_csv_downloads_and_parses(page, server):
    sign_in(page, OPERATOR)
    sync_now(page)
    page.get_by_role("link", name="Sync history").click()
    page.get_by_label("Object").select_option("Contact")
    page.get_by_role("button", name="Filter").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    contact_steps = [s for s in server.store.steps.recent() if s.object == "Contact"]
    assert len(rows) == len(contact_steps) > 0
    assert {r["object"] for r in rows} == {"Contact"}
    assert {(r["operation"], r["status"], int(r["new"])) for r in rows} == {
        (s.operation.value, s.status.value, s.counts.new) for s in contact_steps}
    assert all(r["status"] == StepStatus.SUCCEEDED.value for r in rows)
    page.get_by_role("link", name="Sync errors").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    header = next(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert header[:4] == ["occurred_at", "level", "object", "error_code"]


def test_signing_out_in_one_tab_makes_the_other_tabs_posts_a_sign_in_first_401(page, server):
    """Before, the other tab's form carried the ended session's token and was refused 403 "reload"."""
    sign_in(page, OPERATOR)
    other_tab = page.context.new_page()
    other_tab.goto("/ui/")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    other_tab.get_by_label("Reason").fill("from the other tab")
    with other_tab.expect_response("**/ui/pause") as posted:
        other_tab.get_by_role("button", name="Pause sync").click()
    assert posted.value.status == 401
    expect(other_tab.get_by_text("sign in first")).to_be_visible()
    assert server.store.sync_pause.current() is None


def test_posts_without_the_csrf_token_are_refused(page, server):
    sign_in(page, OPERATOR)
    person = server.store.persons.add({"email": "csrf@ui.example", "lastName": "Forged"}, origin=ChangeOrigin.CLI)
    for path in ("/ui/sync-now", "/ui/pause", "/ui/resume", "/ui/errors/retry-all", "/ui/errors/1/retry",
                 f"/ui/persons/{person.id}/sync", f"/ui/persons/{person.id}/convert", "/ui/signout"):
        for form in ({}, {"csrf_token": "forged"}):
            answer = page.request.post(path, form=form, max_redirects=0)
            assert answer.status == 403, (path, form)
            assert "security token is missing or stale" in answer.text()
    assert server.store.steps.recent() == [] and server.store.sync_pause.current() is None
    assert server.store.persons.get(person.id).link.sfdc_id is None
    page.goto("/ui/")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()  # the forged sign-out did nothing


def test_convert_person_shows_the_matched_account_before_converting_into_it(page, server, sf):
    sign_in(page, OPERATOR)
    sync_now(page)
    [milton] = server.store.persons.find_by_email("milton@initech.example")
    [initech] = sf.query("SELECT Id FROM Account WHERE Name = 'Initech'")["records"]
    page.goto(f"/ui/persons/{milton.id}")
    page.get_by_role("button", name="Convert Person").click()
    expect(page.locator("#matched-account")).to_contain_text(f"Initech ({initech['Id']})")
    expect(page.get_by_role("radio", name="The matched Account")).to_be_checked()
    screenshot(page, "convert-matched")
    assert server.store.persons.get(milton.id).link.sfdc_type == "Lead"  # nothing happened before confirming
    page.get_by_role("button", name="Confirm conversion").click()
    expect(page.get_by_role("status")).to_contain_text(f"on Account {initech['Id']}")
    converted = server.store.persons.get(milton.id).link
    assert (converted.sfdc_type, converted.sfdc_account_id) == ("Contact", initech["Id"])
    expect(page.locator("#salesforce-link")).to_contain_text(f"Contact {converted.sfdc_id}")


def test_a_live_progress_bar_while_sync_now_runs(page, server, http, base_url):
    sign_in(page, OPERATOR)
    http.put(f"{base_url}/_emulator/faults", json={"slow": 1, "slowSeconds": 2}).raise_for_status()
    try:
        page.get_by_role("button", name="Sync now").click()
        bar = page.get_by_role("progressbar", name=re.compile(r"^Cycle running: "))
        expect(bar).to_be_visible()
        expect(page.locator(".state")).to_contain_text("Running")
        screenshot(page, "dashboard-running")
    finally:
        http.put(f"{base_url}/_emulator/faults", json={}).raise_for_status()
    expect(page.locator("#progress")).to_contain_text("cycle finished", timeout=CYCLE_SECONDS)  # the page reloaded
    expect(bar).to_have_count(0)
    expect(page.locator(".state")).to_contain_text("Waiting")


def test_the_progress_bar_leads_to_sign_in_when_the_session_ends_while_a_cycle_runs(page, browser, server, http,
                                                                                    base_url):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, OPERATOR)
    http.put(f"{base_url}/_emulator/faults", json={"slow": 1, "slowSeconds": 2}).raise_for_status()
    elsewhere = browser.new_context(base_url=server.url)
    try:
        page.get_by_role("button", name="Sync now").click()
        expect(page.get_by_role("progressbar", name=re.compile(r"^Cycle running: "))).to_be_visible()
        other = elsewhere.new_page()
        sign_in(other, OPERATOR)
        other.get_by_role("button", name="Sign out").click()  # ends every session of the user, this page's too
        expect(other.get_by_role("button", name="Sign in")).to_be_visible()
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()  # the poll found no progress block
        expect(page).to_have_url(re.compile(r"/ui/signin\?next=/ui/"))
        expect(page.get_by_role("heading", level=1)).to_have_count(1)
    finally:
        elsewhere.close()
        http.put(f"{base_url}/_emulator/faults", json={}).raise_for_status()
    assert errors == []


def test_sync_now_says_which_steps_failed_when_salesforce_is_unavailable(page, server, http, base_url):
    sign_in(page, OPERATOR)
    sync_now(page)  # signed in to Salesforce: the next cycle's steps meet the outage one by one
    http.put(f"{base_url}/_emulator/faults", json={"http503": 1}).raise_for_status()
    try:
        page.get_by_role("button", name="Sync now").click()
        expect(page.locator("#progress")).to_contain_text("cycle finished", timeout=CYCLE_SECONDS)
    finally:
        http.put(f"{base_url}/_emulator/faults", json={}).raise_for_status()
    expect(page.locator("#progress")).to_contain_text("FAILED steps: Account pull updates: SERVER_UNAVAILABLE")
    expect(page.locator(".state")).to_contain_text("Failing")


def test_a_narrow_window_keeps_every_menu_link_and_sign_out_on_the_header(browser, server):
    context = browser.new_context(base_url=server.url, viewport={"width": 360, "height": 740})
    try:
        page = context.new_page()
        sign_in(page, OPERATOR)
        page.goto("/ui/persons")
        header = page.locator("header").bounding_box()
        for item in [*page.get_by_role("navigation", name="Main").get_by_role("link").all(),
                     page.get_by_role("button", name="Sign out")]:
            box = item.bounding_box()
            assert box["x"] >= header["x"] and box["x"] + box["width"] <= header["x"] + header["width"], \
                item.inner_text()
            assert box["y"] + box["height"] <= header["y"] + header["height"], item.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360  # wide tables scroll in their page
        screenshot(page, "narrow-window")
    finally:
        context.close()


def test_the_convert_page_of_a_contact_offers_no_conversion(page, server):
    sign_in(page, OPERATOR)
    sync_now(page)
    [wile] = server.store.persons.find_by_email("wile@acme.example")
    contact = server.store.persons.get(wile.id).link
    assert contact.sfdc_type == "Contact"
    page.goto(f"/ui/persons/{wile.id}/convert")
    expect(page.get_by_role("alert")).to_contain_text(
        f"Nothing to convert: person {wile.id} is already a Salesforce Contact ({contact.sfdc_id})")
    expect(page.get_by_role("button", name="Confirm conversion")).to_have_count(0)
