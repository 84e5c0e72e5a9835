"""The dashboard's backlog figures: buckets, the trend and throughput summed in SQL on both
databases, the time to clear, Growing/Normal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tandem.people.models import StepCounts, StepOperation, StepStatus
from tandem.sync.backlog import Backlog, backlog_picture, bucket_starts, growing
from tests.ui.test_ui_store import stores, url  # noqa: F401 - the two-database fixtures

NOW = datetime(2026, 11, 30, 13, 30, tzinfo=UTC)
FOUR_HOURS = timedelta(hours=4)


def step(store, cycle, at, object_name, operation, updated, seconds=10.0):
    made = store.steps.start(object_name, operation, cycle_id=cycle, now=at)
    store.steps.finish(made.id, StepStatus.SUCCEEDED, StepCounts(updated=updated), now=at + timedelta(seconds=seconds))


def test_buckets_end_with_the_one_holding_now_aligned_on_midnight():
    starts = bucket_starts(NOW, FOUR_HOURS, 30)
    assert len(starts) == 30 and starts[-1] == datetime(2026, 11, 30, 12, tzinfo=UTC)
    assert starts[0] == starts[-1] - 29 * FOUR_HOURS


def test_the_trend_keeps_the_most_one_cycle_found_waiting_per_bucket(stores):
    store, _ = stores
    starts = bucket_starts(NOW, FOUR_HOURS, 30)
    at = starts[-1] + timedelta(minutes=5)
    step(store, "c1", at, "Lead", StepOperation.PULL_UPDATES, 7)
    step(store, "c1", at, "Lead", StepOperation.PULL_DELETES, 3)  # same cycle: 10 in all
    step(store, "c2", at + timedelta(minutes=5), "Lead", StepOperation.PULL_UPDATES, 4)
    step(store, "c3", starts[-2] + timedelta(hours=3, minutes=59), "Lead", StepOperation.PUSH_UPDATES, 2)
    step(store, "c0", starts[0] - timedelta(minutes=1), "Lead", StepOperation.PULL_UPDATES, 99)  # before the window
    step(store, "c1", at, "All", StepOperation.SYNC_SCHEMA, 50)  # counts fields, not records
    values = store.history.most_waiting(starts[0], FOUR_HOURS, 30)
    assert values[("Lead", "pull")] == [None] * 29 + [10]
    assert values[("Lead", "push")] == [None] * 28 + [2, None]
    assert set(values) == {("Lead", "pull"), ("Lead", "push")}


def test_throughput_and_pace_per_object(stores):
    store, _ = stores
    starts = bucket_starts(NOW, timedelta(hours=1), 24)
    step(store, "c1", NOW - timedelta(minutes=20), "Contact", StepOperation.PULL_UPDATES, 5, seconds=2)
    step(store, "c1", NOW - timedelta(minutes=19), "Contact", StepOperation.PUSH_UPDATES, 2, seconds=4)
    step(store, "c0", starts[-3] + timedelta(minutes=1), "Account", StepOperation.PULL_UPDATES, 1, seconds=1)
    handled = store.history.handled(starts[0], timedelta(hours=1), 24)
    assert handled["Contact"][-1] == 7 and handled["Account"][-3] == 1 and set(handled) == {"Contact", "Account"}
    pace = store.history.pace(starts[0])
    assert (pace[("Contact", "pull")].records, round(pace[("Contact", "pull")].seconds)) == (5, 2)
    assert (pace[("Contact", "push")].records, round(pace[("Contact", "push")].seconds)) == (2, 4)


def test_the_picture_from_real_steps(stores):
    store, _ = stores
    now = datetime.now(UTC)
    pull = store.steps.start("Contact", StepOperation.PULL_UPDATES, cycle_id="c1", now=now - timedelta(minutes=10))
    store.steps.finish(pull.id, StepStatus.FAILED, StepCounts(updated=540, failed=60), now=now - timedelta(minutes=9))
    step(store, "c1", now - timedelta(minutes=9), "Contact", StepOperation.PULL_DELETES, 0)
    picture = backlog_picture(store, now)
    [contact_in] = [b for b in picture.backlogs if (b.object, b.direction) == ("Contact", "pull")]
    assert contact_in.waiting == 60 and contact_in.per_hour == 25.0  # what the pull left, not all it handled
    assert round(contact_in.clears_in.total_seconds(), 2) == 7.0  # 600 records took 70 s of step time
    assert sum(picture.throughput["Contact"]) == 600 and len(picture.trend_starts) == 30


def test_growing_needs_three_buckets_in_a_row_each_above_the_last():
    assert growing([1, None, 2, None, 3])
    assert not growing([1, 2, 2]) and not growing([3, 2, 4]) and not growing([None, 1, 2])


def test_the_time_to_clear_is_at_the_pace_the_steps_worked():
    assert Backlog("Lead", "push", 0, 0.0, None, False).clears_in == timedelta(0)
    assert Backlog("Lead", "push", 600, 1.0, 2.0, False).clears_in == timedelta(minutes=5)
    assert Backlog("Lead", "push", 5, 0.0, None, False).clears_in is None


def test_a_backlog_of_refused_changes_waits_for_a_fix_not_for_a_cycle(store):
    """What `tandem status` says as "2 changes of 1 person (2 refused, waiting for a fix)": the
    dashboard says the refused changes wait for a fix instead of clearing in a second."""
    import html
    import re

    from tandem.people.models import SalesforceLink
    from tandem.people.origin import ChangeOrigin
    from tests.ui.conftest import client_for, sign_in_client

    now = datetime.now(UTC)
    step(store, "c1", now - timedelta(minutes=10), "Contact", StepOperation.PUSH_UPDATES, 60, seconds=6)
    [refused, fresh] = store.persons.add_linked([({"email": f"{n}@backlog.example"}, SalesforceLink("Contact", i))
                                                 for n, i in (("r", "003000000000001AAA"), ("f", "003000000000002AAA"))])
    store.persons.update(refused, {"phone": "call me maybe", "title": "Boss"}, origin=ChangeOrigin.CLI)
    store.outbox.mark_failed([c.id for c in store.outbox.find(person_ids=[refused])], "Phone must be a number")

    client = client_for(store)
    assert sign_in_client(client).status_code == 303

    def contact_out_row() -> list[str]:
        page = client.get("/ui/").text
        row = re.search(r"<tr><td>Contact</td><td>Tandem → Salesforce</td>(.*?)</tr>", page, re.S).group(1)
        return [html.unescape(cell) for cell in re.findall(r"<td[^>]*>([^<]*)</td>", row)]

    assert contact_out_row() == ["1 (2 refused changes, waiting for a fix)", "2.5", "never, until fixed", "Normal"]
    [contact_out] = [b for b in backlog_picture(store, now).backlogs if (b.object, b.direction) == ("Contact", "push")]
    assert (contact_out.waiting, contact_out.changes, contact_out.refused, contact_out.waits_for_fix) == (1, 2, 2, True)
    store.persons.update(fresh, {"title": "New"}, origin=ChangeOrigin.CLI)
    waiting, _, clears, _ = contact_out_row()
    assert waiting == "2 (2 refused changes, waiting for a fix)" and clears == "1 s"


def test_the_charts_say_their_hours_are_utc(store):
    """Their axes read "03h" and "Tue 04h": before, nothing beside them said these are UTC hours, as
    every other time on the UI's pages does."""
    from tests.ui.conftest import client_for, sign_in_client

    client = client_for(store)
    assert sign_in_client(client).status_code == 303
    page = client.get("/ui/").text
    assert '<h2 id="throughput-h">Throughput <small>(hours in UTC)</small></h2>' in page
    assert '<h2 id="trend-h">Backlog trend <small>(hours in UTC)</small></h2>' in page
    assert "<title>Records per hour per object, last 24 hours, UTC</title>" in page


def test_the_time_to_clear_leaves_out_the_persons_whose_changes_all_wait_for_a_fix(store):
    """Before, a person whose only change Salesforce refused counted in the time to clear (twice the
    time here), though no cycle sends it, and `tandem status` leaves it out of its backlog."""
    from tandem.people.models import SalesforceLink
    from tandem.people.origin import ChangeOrigin
    from tandem.sync.status import sync_status

    now = datetime.now(UTC)
    step(store, "c1", now - timedelta(minutes=10), "Contact", StepOperation.PUSH_UPDATES, 1, seconds=60)
    [refused, due] = store.persons.add_linked([({"email": f"{n}@clear.example"}, SalesforceLink("Contact", i))
                                               for n, i in (("r", "003000000000001AAA"), ("d", "003000000000002AAA"))])
    store.persons.update(refused, {"phone": "call me maybe"}, origin=ChangeOrigin.CLI)
    store.outbox.mark_failed([c.id for c in store.outbox.find(person_ids=[refused])], "Phone must be a number")
    store.persons.update(due, {"title": "New"}, origin=ChangeOrigin.CLI)
    [contact_out] = [b for b in backlog_picture(store, now).backlogs if (b.object, b.direction) == ("Contact", "push")]
    assert contact_out.waiting == 2  # both persons wait, as `tandem status` counts them
    assert round(contact_out.clears_in.total_seconds()) == 60  # one person a minute: the one a cycle sends
    assert sync_status(store, now)["backlog"]["forecast"]["toSalesforce"]["records"] == 1


def test_a_chart_axis_reads_large_counts_without_exponents():
    """Before, a backlog of a million records (a first pull of a large org) put 1e+06 and 2e+06 on the axis."""
    from tandem.web.ui.charts import Line, line_chart

    chart = str(line_chart("Backlog", ["a", "b"], [Line("Lead in", [1_500_000, 20])]))
    assert ">1M</text>" in chart and ">2M</text>" in chart and "e+06" not in chart
    assert ">25k</text>" in str(line_chart("Backlog", ["a", "b"], [Line("Lead in", [50_000, 0])]))
    small = str(line_chart("Backlog", ["a", "b"], [Line("Lead in", [1, 0])]))
    assert ">0.5</text>" in small and ">1</text>" in small
