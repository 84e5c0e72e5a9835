"""`tandem person merge`, `delete` and `delete-from-sfdc` through the embedded emulator."""

import json
import os
import subprocess
import sys


def tandem(cwd, *args):
    return subprocess.run([sys.executable, "-m", "tandem", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin", "COLUMNS": "200",
                               "PYTHONPATH": os.environ.get("PYTHONPATH", "")})


def person_id(cwd, reference):
    shown = tandem(cwd, "person", "show", reference, "--json")
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)["id"]


def test_merge_then_show_the_merged_id_says_where_it_went(tmp_path):
    assert tandem(tmp_path, "init").returncode == 0
    for email, score in (("one@example.com", "3"), ("two@example.com", "4"), ("three@example.com", "5")):
        added = tandem(tmp_path, "person", "add", f"email={email}", f"leadScore={score}", "lastName=X")
        assert added.returncode == 0, added.stderr
    one, two, three = (person_id(tmp_path, f"{n}@example.com") for n in ("one", "two", "three"))
    merged = tandem(tmp_path, "person", "merge", str(one), str(two), "three@example.com", "--json", "--yes")
    assert merged.returncode == 0, merged.stderr
    assert json.loads(merged.stdout)["mergedIds"] == [two, three]
    winner = json.loads(tandem(tmp_path, "person", "show", str(one), "--json").stdout)
    assert winner["leadScore"] == 12
    gone = tandem(tmp_path, "person", "show", str(two))
    assert gone.returncode == 1 and f"person {two} was merged into person {one}" in gone.stderr


def test_delete_and_delete_from_sfdc(tmp_path):
    assert tandem(tmp_path, "init").returncode == 0
    assert tandem(tmp_path, "sync").returncode == 0
    wile = person_id(tmp_path, "wile@acme.example")
    lisa = person_id(tmp_path, "lisa@springfield.example")
    from_sfdc = tandem(tmp_path, "person", "delete-from-sfdc", "wile@acme.example", "--yes")
    assert from_sfdc.returncode == 0, from_sfdc.stderr
    assert "kept, flagged as deleted" in from_sfdc.stdout
    assert json.loads(tandem(tmp_path, "person", "show", str(wile), "--json").stdout)["sfdcIsDeleted"] is True
    assert tandem(tmp_path, "person", "set", str(wile), "title=Genius").returncode == 0
    shown = tandem(tmp_path, "person", "show", str(wile)).stdout
    assert "Salesforce: Contact 003" in shown and "deleted in Salesforce (tandem person sync creates a new Lead)" in shown
    assert "Kept in Tandem only: title" in shown  # no cycle sends it to the deleted record
    deleted = tandem(tmp_path, "person", "delete", "lisa@springfield.example", "--in-salesforce", "-y")
    assert deleted.returncode == 0, deleted.stderr
    assert "Salesforce record 00Q" in deleted.stdout and "kept with its tombstone" in deleted.stdout
    gone = tandem(tmp_path, "person", "show", str(lisa))
    assert gone.returncode == 1 and "was deleted" in gone.stderr
    cycle = tandem(tmp_path, "sync", "--json")
    assert cycle.returncode == 0, cycle.stderr
    steps = {(s["object"], s["operation"]) for s in json.loads(cycle.stdout)["steps"]}
    assert {("Contact", "pull deletes"), ("Lead", "pull deletes"), ("Lead", "pull conversions")} <= steps
    again = tandem(tmp_path, "person", "delete-from-sfdc", str(wile), "--yes")
    assert again.returncode == 1 and "no Lead or Contact in Salesforce" in again.stderr
