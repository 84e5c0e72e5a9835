"""`tandem init` and `tandem person ...` end to end, through the real Typer app."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner, Result

from tandem.cli import app
from tandem.people import activities as types
from tandem.people.database import Database
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore


@pytest.fixture
def database_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def tandem(database_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Runs `tandem ARGS...` against the test's database (given through the environment)."""
    monkeypatch.setenv("TANDEM_DATABASE_URL", database_url)
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args))

    assert run("init").exit_code == 0
    return run


def test_init_creates_the_database_and_can_run_again(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    runner = CliRunner()
    first = runner.invoke(app, ["init", "--database-url", url])
    assert first.exit_code == 0, first.output
    assert "Database ready" in first.output
    assert runner.invoke(app, ["init", "--database-url", url]).exit_code == 0
    assert not PersonStore(url).needs_migration()


def test_init_says_from_which_schema_revision_it_upgraded_the_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = Database(url)
    old.migrate("0011")
    head = old.head_revision()
    old.dispose()
    runner = CliRunner()
    upgraded = runner.invoke(app, ["init", "--database-url", url])
    assert upgraded.exit_code == 0, upgraded.output
    assert upgraded.output == f"Database ready: {tmp_path / 'old.db'} (upgraded from schema revision 0011 to {head})\n"
    again = runner.invoke(app, ["init", "--database-url", url])
    assert again.output == f"Database ready: {tmp_path / 'old.db'} (schema revision {head}: nothing to upgrade)\n"


def test_a_malformed_database_url_option_is_named_as_the_option(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Before, it was named TANDEM_DATABASE_URL, which the user had not set."""
    monkeypatch.delenv("TANDEM_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["init", "--database-url", "mysql://me@db/x"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: --database-url: must be a sqlite:/// or postgresql:// URL, got 'mysql'")
    assert not list(tmp_path.iterdir())
    (tmp_path / "tandem.toml").write_text('database_url = "sqlite:///fine.db"\n')  # the option's value is still named
    result = CliRunner().invoke(app, ["init", "--database-url", "mysql://me@db/x"])
    assert result.stderr.startswith("Error: --database-url: ")


def test_commands_refuse_a_database_that_was_not_initialised(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = CliRunner().invoke(app, ["person", "show", "1", "--database-url", url])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "tandem init" in result.stderr


def test_add_set_show_json(tandem, database_url: str) -> None:  # type: ignore[no-untyped-def]
    added = tandem("person", "add", "email=ann@example.com", "firstName=Ann", "numberOfEmployees=40")
    assert added.exit_code == 0, added.output
    assert added.output.strip() == "Added person 1"

    changed = tandem("person", "set", "ann@example.com", "title=CTO", "unsubscribed=yes", "firstName=Ann")
    assert changed.exit_code == 0, changed.output
    assert "changed title, unsubscribed" in changed.output

    shown = tandem("person", "show", "1", "--json")
    assert shown.exit_code == 0, shown.output
    record = json.loads(shown.stdout)
    assert record["id"] == 1 and record["email"] == "ann@example.com"
    assert record["title"] == "CTO" and record["unsubscribed"] is True
    assert record["numberOfEmployees"] == 40 and record["sfdcType"] is None
    assert PersonStore(database_url).persons.get(1).fields["title"] == "CTO"


def test_show_as_table(tandem) -> None:  # type: ignore[no-untyped-def]
    tandem("person", "add", "email=bo@example.com", "company=Acme")
    shown = tandem("person", "show", "bo@example.com")
    assert shown.exit_code == 0
    assert "Acme" in shown.output and "company" in shown.output


def test_activity_json_lists_new_lead_and_changes(tandem) -> None:  # type: ignore[no-untyped-def]
    tandem("person", "add", "email=cy@example.com", "title=VP")
    tandem("person", "set", "1", "title=CTO")
    result = tandem("person", "activity", "cy@example.com", "--json")
    assert result.exit_code == 0, result.output
    log = json.loads(result.stdout)
    assert [a["activityTypeId"] for a in log] == [12, 13]
    change = {item["name"]: item["value"] for item in log[1]["attributes"]}
    assert change["Old Value"] == "VP" and change["New Value"] == "CTO" and change["Source"] == ChangeOrigin.CLI
    assert all(a["leadId"] == 1 for a in log)
    table = tandem("person", "activity", "1")
    assert table.exit_code == 0 and "Change Data Value" in table.output


def test_ambiguous_email_is_an_error_listing_the_ids_and_changes_nothing(tandem, database_url: str) -> None:  # type: ignore[no-untyped-def]
    tandem("person", "add", "email=dup@example.com", "title=A")
    tandem("person", "add", "--allow-duplicate", "email=DUP@example.com", "title=B")
    result = tandem("person", "set", "dup@example.com", "title=C")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "1, 2" in result.stderr
    assert "Traceback" not in result.output
    store = PersonStore(database_url)
    assert [p.fields["title"] for p in store.persons.get_many([1, 2])] == ["A", "B"]
    assert len(store.activities.find()) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("person", "set", "1", "numberOfEmployees=lots"), "numberOfEmployees: expected a whole number"),
        (("person", "set", "1", "sfdcId=00Q000000000001AAA"), "sfdcId: is read-only"),
        (("person", "set", "1", "shoeSize=44"), "shoeSize: unknown field"),
        (("person", "set", "1", "title"), "title: expected FIELD=VALUE"),
        (("person", "set", "1", "title=Chief\x00Officer"), "title: contains a NUL character at position 6"),
        (("person", "set", "1", "lastName=Lee\udcff"), "lastName: contains a lone surrogate (U+DCFF) at position 4"),
        (("person", "add", "email=ann@example.com", "city=Gh\x00ent"), "city: contains a NUL character"),
        (("person", "add", "email=ann\ud800@example.com"), "email: contains a lone surrogate (U+D800)"),
        (("person", "set", "1", "title=CEO", "title=CTO"), "title: given twice ('CEO' and 'CTO')"),  # before, CEO lost
        (("person", "add", "email=ann@example.com", "city=Ghent", "city=Gent"), "city: given twice"),
        (("person", "show", "7"), "person 7 does not exist"),
        (("person", "show", "9" * 25), f"person {'9' * 25} does not exist"),  # before, an OverflowError traceback
        (("person", "set", "3000000000", "title=CEO"), "person 3000000000 does not exist"),
        (("person", "show", "\u0663"), "expected a person id or an email address"),  # an Arabic-Indic 3, not person 3
        (("person", "activity", "nobody@example.com"), "no person has the email"),
    ],
)
def test_errors_go_to_stderr_with_status_1_and_change_nothing(tandem, database_url: str, args, message) -> None:  # type: ignore[no-untyped-def]
    tandem("person", "add", "email=e@example.com", "title=VP")
    result = tandem(*args)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and message in result.stderr
    assert result.stdout == ""
    store = PersonStore(database_url)
    assert store.persons.get(1).fields["title"] == "VP"
    assert len(store.activities.find()) == 1


def test_a_database_that_cannot_be_opened_is_a_one_line_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}"
    result = CliRunner().invoke(app, ["init", "--database-url", url])
    assert result.exit_code == 1
    assert result.stderr == (f"Error: cannot create the database {tmp_path / 'missing-dir' / 'x.db'}: "
                             f"the folder {tmp_path / 'missing-dir'} does not exist\n")


def test_a_value_that_is_not_utf8_in_the_arguments_is_refused_naming_the_field(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Python hands a byte that is not UTF-8 in argv over as a lone surrogate; before, storing it
    raised UnicodeEncodeError (a traceback)."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
           "TANDEM_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}

    def tandem(*args: str | bytes) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([sys.executable, "-m", "tandem", *args], cwd=tmp_path, env=env, capture_output=True,
                              timeout=120)

    assert tandem("init").returncode == 0
    result = tandem("person", "add", "email=ann@example.com", b"lastName=Lov\xe9lace")
    assert result.returncode == 1, result
    assert result.stderr.decode().strip() == (
        "Error: lastName: contains a lone surrogate (U+DCE9) at position 4, which cannot be stored")
    assert PersonStore(env["TANDEM_DATABASE_URL"]).persons.count() == 0


def test_an_email_with_spaces_around_it_is_stored_without_them(tandem, database_url: str) -> None:  # type: ignore[no-untyped-def]
    """Before, `person add` refused it as not an email address while `person show` found the person by it."""
    added = tandem("person", "add", "email= ann@example.com ", "firstName=Ann")
    assert added.exit_code == 0, added.output
    changed = tandem("person", "set", " ann@example.com", "email=\tann@example.org ")
    assert changed.exit_code == 0, changed.output
    assert PersonStore(database_url).persons.get(1).fields["email"] == "ann@example.org"
    refused = tandem("person", "set", "1", "email=ann @example.org")
    assert refused.exit_code == 1 and "email: not an email address" in refused.stderr
    assert PersonStore(database_url).persons.get(1).fields["email"] == "ann@example.org"


def test_activity_lines_leave_out_empty_attributes(tandem, database_url: str) -> None:  # type: ignore[no-untyped-def]
    """Before, a record-level SFDC Sync Failed (no field named) printed "Field: · Salesforce Type: …"."""
    tandem("person", "add", "email=dee@example.com")
    store = PersonStore(database_url)
    store.activities.log(1, types.SFDC_SYNC_FAILED, "UNABLE_TO_LOCK_ROW", {
        "Field": "", "Salesforce Type": "Contact", "Error Message": "unable to obtain exclusive access",
        "Error Fields": ""})
    store.close()
    table = tandem("person", "activity", "1")
    assert table.exit_code == 0, table.output
    failed = " ".join(table.output.split("SFDC Sync Failed", 1)[1].split())
    assert failed.startswith(": UNABLE_TO_LOCK_ROW Salesforce Type: Contact · Error Message: unable to obtain"), failed
    assert "Field:" not in failed
