"""The small things a newcomer trips over: no database before init, databases named in errors,
postgres:// URLs, "did you mean", confirmations, merging a person into itself, camelCase JSON."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys

from tests.cli.running import tandem


def test_a_command_before_init_creates_no_database_and_says_what_to_run(tmp_path):
    shown = tandem(tmp_path, "person", "show", "1")
    assert shown.returncode == 1
    assert shown.stderr == f"Error: no database at {tmp_path / 'tandem.db'}: run `tandem init` first\n"
    assert not (tmp_path / "tandem.db").exists()
    assert tandem(tmp_path, "status").returncode == 1 and not (tmp_path / "tandem.db").exists()


def test_a_file_that_is_no_database_is_named_in_one_line(tmp_path):
    """Before, SQLite's "file is not a database" came as a traceback."""
    (tmp_path / "tandem.db").write_text("not a database at all\n" * 100)
    shown = tandem(tmp_path, "status")
    assert shown.returncode == 1
    assert shown.stderr == f"Error: cannot open the database {tmp_path / 'tandem.db'}: file is not a database\n"


def test_postgres_urls_are_accepted_and_other_schemes_get_an_example(tmp_path):
    postgres = tandem(tmp_path, "person", "show", "1",
                      env={"TANDEM_DATABASE_URL": "postgres://postgres@127.0.0.1:5432/tandem_no_such_db"})
    assert postgres.returncode == 1
    assert postgres.stderr.startswith("Error: cannot open the database "
                                      "postgresql://postgres@127.0.0.1:5432/tandem_no_such_db: ")
    mysql = tandem(tmp_path, "init", env={"TANDEM_DATABASE_URL": "mysql://me@db/x"})
    assert mysql.returncode == 1
    assert mysql.stderr == ("Error: TANDEM_DATABASE_URL: must be a sqlite:/// or postgresql:// URL, got 'mysql' "
                            "(e.g. sqlite:///tandem.db or postgresql://user@host:5432/tandem)\n")


def test_a_database_password_given_as_a_url_parameter_is_hidden_too(tmp_path):
    """libpq takes `?password=`; before, errors printed it as given."""
    shown = tandem(tmp_path, "person", "show", "1", env={
        "TANDEM_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/tandem_no_such_db?password=s3cret&sslpassword=s3cret2"})
    assert shown.returncode == 1
    assert shown.stderr.startswith("Error: cannot open the database postgresql://postgres@127.0.0.1:5432/"
                                   "tandem_no_such_db?password=***&sslpassword=***: ")
    assert "s3cret" not in shown.stderr


def test_a_misspelt_field_gets_a_suggestion_and_errors_have_one_prefix(tmp_path):
    assert tandem(tmp_path, "init").returncode == 0
    assert tandem(tmp_path, "person", "add", "email=ada@example.com", "lastName=Lovelace").returncode == 0
    for typed in ("Title", "titel"):
        refused = tandem(tmp_path, "person", "set", "ada@example.com", f"{typed}=Countess")
        assert refused.returncode == 1
        assert refused.stderr == f"Error: {typed}: unknown field; did you mean title?\n"
    nothing_close = tandem(tmp_path, "person", "set", "ada@example.com", "shoeSize=44")
    assert nothing_close.stderr == "Error: shoeSize: unknown field\n"
    missing = tandem(tmp_path, "person", "show", "99")
    assert missing.stderr == "Error: person 99 does not exist\n"


def test_destructive_commands_ask_first_and_merging_a_person_into_itself_is_refused_locally(tmp_path):
    assert tandem(tmp_path, "init").returncode == 0
    for email in ("one@example.com", "two@example.com"):
        assert tandem(tmp_path, "person", "add", f"email={email}", "lastName=X").returncode == 0
    itself = tandem(tmp_path, "person", "merge", "1", "1")
    assert itself.returncode == 1 and itself.stderr == "Error: losers: person 1 cannot be merged into itself\n"
    assert not (tmp_path / ".tandem").exists()  # no Salesforce connection was opened
    for args, question in (
        (("person", "delete", "1"), "Delete person 1 <one@example.com> (Salesforce is left alone)?"),
        (("person", "delete", "1", "--in-salesforce"), "Delete person 1 <one@example.com> and its Lead or Contact"),
        (("person", "delete-from-sfdc", "1"), "Delete the Salesforce Lead or Contact of person 1 <one@example.com>?"),
        (("person", "merge", "1", "2"), "Merge person(s) 2 into person 1?"),
    ):
        declined = tandem(tmp_path, *args, stdin="n\n")
        assert declined.returncode == 1, args
        assert question in declined.stderr and "Nothing done." in declined.stderr
        unanswered = tandem(tmp_path, *args, stdin="")
        assert unanswered.returncode == 1 and "Nothing done." in unanswered.stderr
    assert not (tmp_path / ".tandem").exists()
    assert json.loads(tandem(tmp_path, "person", "show", "2", "--json").stdout)["id"] == 2
    deleted = tandem(tmp_path, "person", "delete", "2", stdin="y\n")
    assert deleted.returncode == 0, deleted.stderr
    assert tandem(tmp_path, "person", "show", "2").stderr.startswith("Error: person 2 was deleted")


def test_action_json_is_camel_case(tmp_path):
    assert tandem(tmp_path, "init").returncode == 0
    assert tandem(tmp_path, "person", "add", "email=one@example.com", "lastName=X").returncode == 0
    assert tandem(tmp_path, "person", "add", "email=two@example.com", "lastName=Y").returncode == 0
    merged = tandem(tmp_path, "person", "merge", "1", "2", "--yes", "--json")
    assert merged.returncode == 0, merged.stderr
    outcome = json.loads(merged.stdout)
    assert outcome["winnerId"] == 1 and outcome["mergedIds"] == [2]
    assert all("_" not in key for key in outcome)


def test_a_malformed_account_id_is_refused_naming_the_option(tmp_path):
    assert tandem(tmp_path, "init").returncode == 0
    assert tandem(tmp_path, "person", "add", "email=one@example.com", "lastName=X").returncode == 0
    refused = tandem(tmp_path, "person", "convert", "1", "--account-id", "001xx")
    assert refused.returncode == 1
    assert refused.stderr == "Error: --account-id: not a 15- or 18-character Account Id: '001xx'\n"
    assert not (tmp_path / ".tandem").exists()


def test_options_that_exclude_each_other_are_refused_naming_them_before_salesforce_is_opened(tmp_path):
    """Before, the bundled emulator was started and logged in to, then `account_id: ...` came back."""
    assert tandem(tmp_path, "init").returncode == 0
    assert tandem(tmp_path, "person", "add", "email=one@example.com", "lastName=X").returncode == 0
    for args, said in ((["convert", "1", "--match-account", "--account-id", "001000000000001"],
                        "Error: --account-id: give --account-id or --match-account, not both\n"),
                       (["sync", "1", "--owner", "rep@sample.example", "--queue", "Web Leads"],
                        "Error: --owner: give --owner or --queue, not both\n")):
        refused = tandem(tmp_path, "person", *args)
        assert (refused.returncode, refused.stderr) == (1, said)
    assert not (tmp_path / ".tandem").exists()


def test_a_port_out_of_range_is_refused_naming_the_option(tmp_path):
    """Before, `serve --port 99999` and `emulator serve --port 99999` ended in a traceback from bind()."""
    for command in (["serve"], ["emulator", "serve", "--state-dir", str(tmp_path / "emulator")]):
        for port in ("99999", "-1"):
            shown = tandem(tmp_path, *command, "--port", port,
                           env={"TANDEM_API_CLIENT_ID": "id", "TANDEM_API_CLIENT_SECRET": "s" * 40})
            assert shown.returncode == 2
            assert "Invalid value for '--port'" in shown.stderr and "Traceback" not in shown.stderr


def test_a_database_a_newer_tandem_migrated_is_named_by_every_command_and_init(tmp_path):
    """Before, commands said to run `tandem init`, which then ended in an Alembic traceback."""
    assert tandem(tmp_path, "init").returncode == 0
    database = sqlite3.connect(tmp_path / "tandem.db")
    with database:
        database.execute("UPDATE alembic_version SET version_num = '9001'")
    database.close()
    for command in (["init"], ["status"], ["person", "show", "1"]):
        shown = tandem(tmp_path, *command)
        assert shown.returncode == 1, command
        assert shown.stderr.startswith(f"Error: the database {tmp_path / 'tandem.db'} was migrated by a newer "
                                       "Tandem (schema revision 9001; this one knows up to 00"), shown.stderr
        assert shown.stderr.endswith("): run that version of Tandem or a later one\n") and "Traceback" not in shown.stderr


def test_an_idle_exit_of_no_time_is_refused_naming_the_option(tmp_path):
    """Before, `emulator serve --idle-exit 0` (or -5) printed its URL and the org's logins, then
    stopped within the second and exited 0, as if it had served."""
    state_dir = tmp_path / "emulator"
    for seconds in ("0", "-5", "nan"):
        shown = tandem(tmp_path, "emulator", "serve", "--port", "0", "--state-dir", str(state_dir),
                       "--idle-exit", seconds, timeout=30)
        assert shown.returncode == 2 and shown.stdout == ""
        assert f"Invalid value for '--idle-exit': must be more than 0 seconds, got {seconds}" in shown.stderr
    assert not state_dir.exists()


def test_a_database_server_that_cannot_be_reached_is_said_in_one_line(tmp_path):
    """Before, libpq's `Connection refused` came with its hint on a second, tab-indented line."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://tandem:s3cret@127.0.0.1:{port}/tandem"
    for command in (["init"], ["status"], ["person", "show", "1"]):
        shown = tandem(tmp_path, *command, env={"TANDEM_DATABASE_URL": url})
        assert shown.returncode == 1, command
        assert shown.stderr.count("\n") == 1 and "\t" not in shown.stderr, shown.stderr
        assert shown.stderr.startswith(f"Error: cannot open the database postgresql://tandem:***@127.0.0.1:{port}/tandem: ")
        assert "Connection refused. Is the server running on that host" in shown.stderr
        assert "s3cret" not in shown.stderr


def test_adding_a_person_whose_email_is_taken_is_refused_unless_asked_for(tmp_path):
    """Before, a second `person add` of an email made a second person without a word."""
    assert tandem(tmp_path, "init").returncode == 0
    assert tandem(tmp_path, "person", "add", "email=ada@example.com", "lastName=Lovelace").returncode == 0
    again = tandem(tmp_path, "person", "add", "email= ADA@Example.com", "lastName=Byron")
    assert again.returncode == 1
    assert again.stderr == ("Error: email: person 1 already has ADA@Example.com; "
                            "--allow-duplicate adds another person with it\n")
    assert json.loads(tandem(tmp_path, "person", "show", "1", "--json").stdout)["lastName"] == "Lovelace"
    assert tandem(tmp_path, "person", "show", "2").returncode == 1  # nothing else was written
    allowed = tandem(tmp_path, "person", "add", "--allow-duplicate", "email=ada@example.com", "lastName=Byron")
    assert allowed.returncode == 0 and allowed.stdout == "Added person 2\n"


def test_two_adds_of_one_email_at_the_same_time_make_one_person(tmp_path):
    assert tandem(tmp_path, "init").returncode == 0
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    adding = [subprocess.Popen([sys.executable, "-m", "tandem", "person", "add", "email=same@example.com",
                                f"lastName=Writer{n}"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for n in range(2)]
    results = [(p.wait(timeout=60), p.communicate()[1]) for p in adding]
    assert sorted(code for code, _ in results) == [0, 1], results
    assert [err for code, err in results if code == 1][0].startswith("Error: email: person 1 already has")
    with sqlite3.connect(tmp_path / "tandem.db") as db:
        assert db.execute("SELECT count(*) FROM persons").fetchone() == (1,)
