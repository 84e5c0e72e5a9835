"""The dashboard while the policy holds `tandem run` back without a cycle saying so: the budget's
cycle lane spent by actions before any cycle ran, and quiet hours. It says the sync waits and until
when, as `tandem run` does, and Sync now starts no cycle the budget forbids."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from tandem.sync.policy import parse_policy
from tests.ui.conftest import client_for, csrf_token, sign_in_client


def state_of(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", re.search(r'<p class="state[^"]*">(.*?)</p>', page, re.S).group(1)))


def test_a_cycle_lane_spent_by_actions_holds_the_sync_until_midnight(store):
    policy = parse_policy({"budget": {"daily_calls": 10, "actions_reserve": 2}})
    client = client_for(store, policy=policy)
    assert sign_in_client(client).status_code == 303
    assert state_of(client.get("/ui/").text) == "Waiting: no sync cycle has run yet"

    today = datetime.now(UTC).date()
    store.api_usage.spend("actions", 10, today)  # Sync Person to SFDC all morning: 8 past its reserve
    midnight = datetime.combine(today + timedelta(days=1), datetime.min.time(), UTC)
    page = client.get("/ui/").text
    assert state_of(page) == (f"Waiting: the API budget's cycle lane is spent (8 of 8 calls today); it opens again "
                              f"at {midnight:%Y-%m-%d %H:%M} UTC; actions still run — until {midnight:%Y-%m-%d %H:%M:%S} UTC")

    answer = client.post("/ui/sync-now", data={"csrf_token": csrf_token(page)})
    assert "Sync now: a cycle started" not in answer.text
    assert "no cycle started: the API budget&#39;s cycle lane is spent (8 of 8 calls today)" in answer.text
    assert store.steps.recent() == []


def test_quiet_hours_hold_the_sync_until_they_end(store):
    now = datetime.now(UTC)
    start, end = (now - timedelta(hours=1)).strftime("%H:%M"), (now + timedelta(hours=2)).strftime("%H:%M")
    client = client_for(store, policy=parse_policy({"quiet_hours": f"{start}-{end}"}))
    assert sign_in_client(client).status_code == 303
    assert state_of(client.get("/ui/").text).startswith(f"Waiting: quiet hours: the next cycle starts at {end} UTC")


def test_the_next_cycle_is_due_to_the_second(store):
    """With a short interval the minute alone reads as if the next cycle was due before the last ended."""
    from tandem.people.models import StepCounts, StepOperation, StepStatus

    ended = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    step = store.steps.start("Contact", StepOperation.PULL_UPDATES, cycle_id="c1", now=ended - timedelta(seconds=2))
    store.steps.finish(step.id, StepStatus.SUCCEEDED, StepCounts(updated=3), now=ended)
    client = client_for(store, sync_interval_seconds=30)
    assert sign_in_client(client).status_code == 303
    due = ended + timedelta(seconds=30)
    assert state_of(client.get("/ui/").text) == (f"Waiting: last cycle ended {ended:%H:%M:%S} UTC — until "
                                                 f"{due:%Y-%m-%d %H:%M:%S} UTC")
