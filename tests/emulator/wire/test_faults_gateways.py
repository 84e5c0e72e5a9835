"""A proxy's HTML page instead of Salesforce's answer (`gateway502`, `gateway504`): the call never
reaches the org, and the body is not JSON."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceGeneralError

V = "/services/data/v62.0"


@pytest.mark.parametrize(("kind", "status", "title"), [("gateway502", 502, "Bad Gateway"),
                                                         ("gateway504", 504, "Gateway Time-out")])
def test_every_call_gets_the_html_page_at_rate_one(sf, http, base_url, faults, kind, status, title):
    faults.set(seed=1, **{kind: 1.0})
    with pytest.raises(SalesforceGeneralError) as raised:
        sf.Contact.create({"LastName": "Never Written"})
    assert raised.value.status == status
    assert isinstance(raised.value.content, str) and f"<title>{status} {title}</title>" in raised.value.content
    token = http.post(f"{base_url}/services/oauth2/token", data={"grant_type": "password"})
    assert token.status_code == status and token.headers["content-type"].startswith("text/html")
    with pytest.raises(ValueError):
        token.json()
    assert faults.injected() == {kind: 2}
    faults.set()
    assert sf.query("SELECT Id FROM Contact WHERE LastName = 'Never Written'")["totalSize"] == 0


def test_no_gateway_page_at_rate_zero(http, base_url, sf_token, faults):
    faults.set(seed=1, gateway502=0.0, gateway504=0.0)
    headers = {"Authorization": f"Bearer {sf_token}"}
    assert {http.get(f"{base_url}{V}/limits", headers=headers).status_code for _ in range(10)} == {200}
    assert faults.injected() == {}


def _statuses(http, base_url, token, faults, seed: int) -> list[int]:
    faults.set(seed=seed, gateway502=0.3, gateway504=0.3)
    headers = {"Authorization": f"Bearer {token}"}
    return [http.get(f"{base_url}{V}/limits", headers=headers).status_code for _ in range(16)]


def test_gateway_pages_repeat_for_a_seed_and_the_counts_add_up(http, base_url, sf_token, faults):
    first = _statuses(http, base_url, sf_token, faults, seed=5)
    counts = faults.injected()
    assert _statuses(http, base_url, sf_token, faults, seed=5) == first
    assert set(first) == {200, 502, 504}
    assert counts == {"gateway502": first.count(502), "gateway504": first.count(504)}
