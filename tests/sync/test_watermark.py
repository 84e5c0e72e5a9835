from datetime import UTC, datetime

from tandem.sync.watermark import Cursor, parse_stamp

A = "001000000000001AAA"
B = "001000000000002AAA"
LATER = datetime(2024, 1, 1, 11, 0, 0, 500999, tzinfo=UTC)


def test_first_pull_reads_everything():
    assert Cursor().where_clause() == ""


def test_where_clause_starts_at_the_newest_applied_stamp():
    cursor = Cursor().advance([(A, "2024-01-01T10:00:00.000+0000")])
    assert cursor.where_clause() == "SystemModstamp >= 2024-01-01T10:00:00.000Z"


def test_a_bounded_window_reads_up_to_its_bound_cut_to_the_millisecond():
    cursor = Cursor().advance([(A, "2024-01-01T10:00:00.000+0000")]).reading_to(LATER)
    assert cursor.where_clause() == "SystemModstamp >= 2024-01-01T10:00:00.000Z AND SystemModstamp < 2024-01-01T11:00:00.500Z"
    assert Cursor().reading_to(LATER).where_clause() == "SystemModstamp < 2024-01-01T11:00:00.500Z"


def test_rows_seen_are_skipped_by_id_and_stamp():
    cursor = Cursor().advance([(A, "2024-01-01T10:00:00.000+0000")])
    assert cursor.already_applied(A, "2024-01-01T10:00:00.000Z")
    assert not cursor.already_applied(A, "2024-01-01T10:00:01.000+0000")  # changed again
    assert not cursor.already_applied(B, "2024-01-01T10:00:00.000+0000")  # a tie from another record


def test_stamp_never_moves_back_and_rows_below_it_are_forgotten():
    cursor = Cursor().advance([(A, "2024-01-01T10:00:00.000+0000")])
    cursor = cursor.advance([(B, "2024-01-01T09:00:00.000+0000")])
    assert cursor.stamp == parse_stamp("2024-01-01T10:00:00.000+0000")
    cursor = cursor.advance([(B, "2024-01-01T10:05:00.000+0000")])
    assert cursor.already_applied(B, "2024-01-01T10:05:00.000+0000")
    assert not cursor.already_applied(A, "2024-01-01T10:00:00.000+0000")


def test_round_trip_through_storage():
    cursor = Cursor().advance([(A, "2024-01-01T10:00:00.123+0000"), (B, "2024-01-01T10:00:00.123+0000")])
    again = Cursor.load(cursor.dump())
    assert again == cursor
    assert again.already_applied(B, "2024-01-01T10:00:00.123Z")


def test_a_completed_window_is_never_read_again():
    cursor = Cursor().advance([(A, "2024-01-01T10:00:00.000+0000")]).reading_to(LATER)
    done = cursor.completed()
    assert done.where_clause() == "SystemModstamp >= 2024-01-01T11:00:00.500Z"
    assert not done.seen  # nothing at or past the new floor was applied
    assert Cursor.load(done.dump()) == done


def test_a_pull_stopped_mid_window_resumes_at_its_last_page():
    cursor = Cursor().reading_to(LATER).advance([(A, "2024-01-01T10:00:00.000+0000")])
    stored = Cursor.load(cursor.dump())
    assert stored.where_clause() == "SystemModstamp >= 2024-01-01T10:00:00.000Z"  # the bound is the next pull's
    assert stored.already_applied(A, "2024-01-01T10:00:00.000+0000")


def test_a_bound_behind_the_floor_reads_nothing():
    cursor = Cursor().advance([(A, "2024-01-01T12:00:00.000+0000")]).reading_to(LATER)
    assert cursor.empty_window
    assert cursor.completed().floor == parse_stamp("2024-01-01T12:00:00.000+0000")


def test_an_unbounded_pull_keeps_reading_from_its_newest_stamp():
    cursor = Cursor().advance([(A, "2024-01-01T10:00:00.000+0000")]).reading_to(None).completed()
    assert cursor.where_clause() == "SystemModstamp >= 2024-01-01T10:00:00.000Z"
    assert cursor.already_applied(A, "2024-01-01T10:00:00.000+0000")


def test_a_cursor_stored_with_the_old_overlap_rereads_its_five_minutes_once():
    old = '{"stamp": "2024-01-01T10:00:00+00:00", "read_at": "2024-01-01T11:00:00+00:00", "seen": []}'
    assert Cursor.load(old).where_clause() == "SystemModstamp >= 2024-01-01T10:55:00.000Z"
