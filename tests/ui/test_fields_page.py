"""The Fields page lists what `tandem fields` lists: every field as the sync user sees it, the ones
field-level security hides from it included, each with its reason."""

from __future__ import annotations

import re

import httpx

from tandem.sync.field_report import HIDDEN_REASON
from tests.ui.conftest import OPERATOR, csrf_token


def test_fields_hidden_from_the_sync_user_are_listed_with_their_reason(server):
    with httpx.Client(base_url=server.url, timeout=60) as client:
        token = csrf_token(client.get("/ui/signin").text)
        signed_in = client.post("/ui/signin", data={"username": OPERATOR[0], "password": OPERATOR[1],
                                                    "csrf_token": token, "next": "/ui/fields"})
        assert signed_in.status_code == 303
        page = client.get("/ui/fields")
    assert page.status_code == 200
    rows = re.findall(r"<tr class=\"[^\"]+\"><td>(\w+)</td><td>(\w+)</td><td>([^<]*)</td><td>[^<]*</td>"
                      r"<td>(\w+)</td><td>([^<]*)</td></tr>", page.text)
    hidden = {(obj, field): (kind, syncs, why) for obj, field, kind, syncs, why in rows if field == "Internal_Notes__c"}
    for name in ("Contact", "Lead"):
        assert hidden[(name, "Internal_Notes__c")] == ("hidden from the sync user", "none", HIDDEN_REASON), hidden
    assert ("Contact", "Email") in {(obj, field) for obj, field, *_ in rows}
    assert 'class="problem"' not in page.text


def test_the_page_follows_describes_another_process_read_since(server):
    """The page's catalog is rebuilt once the store keeps describes checked after it was built (a
    cycle's schema step or `tandem fields` in another process), instead of showing the older ones
    for up to an hour: here the admin has since hidden Contact.Fax from the sync user."""
    from datetime import UTC, datetime

    def fax_row(client: httpx.Client) -> tuple[str, str, str]:
        page = client.get("/ui/fields")
        assert page.status_code == 200 and 'class="problem"' not in page.text
        [row] = re.findall(r"<td>Contact</td><td>Fax</td><td>([^<]*)</td><td>[^<]*</td><td>(\w+)</td><td>([^<]*)</td>",
                           page.text)
        return row

    with httpx.Client(base_url=server.url, timeout=60) as client:
        token = csrf_token(client.get("/ui/signin").text)
        assert client.post("/ui/signin", data={"username": OPERATOR[0], "password": OPERATOR[1],
                                                "csrf_token": token}).status_code == 303
        assert fax_row(client) == ("phone", "both", "default mapping: both ways")

        kept = server.store.describes.all()
        contact = dict(kept["Contact"].body)
        contact["fields"] = [f for f in contact["fields"] if f["name"] != "Fax"]
        server.store.describes.keep({"Contact": (contact, kept["Contact"].last_modified)}, ["Lead", "Account"],
                                    now=datetime.now(UTC))

        kind, syncs, why = fax_row(client)
        assert (kind, syncs) == ("hidden from the sync user", "none") and why.startswith("hidden from"), why
