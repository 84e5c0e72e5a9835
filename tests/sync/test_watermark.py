from datetime import timedelta

from tandem.sync.watermark import Cursor, parse_stamp

A = "001000000000001AAA"
B = "001000000000002AAA"


def test_first_pull_reads_everything():
    assert Cursor().where_clause() == ""


def test_where_clause_rereads_overlap_window():
    cursor = Cursor().advance([(A, "2024-01-01T10:00:00.000+0000")])
    assert cursor.where_clause() == "SystemModstamp >= 2024-01-01T09:55:00.000Z"


def test_rows_seen_are_skipped_by_id_and_stamp():
    cursor = Cursor().advance([(A, "2024-01-01T10:00:00.000+0000")])
    assert cursor.already_applied(A, "2024-01-01T10:00:00.000Z")
    assert not cursor.already_applied(A, "2024-01-01T10:00:01.000+0000")  # changed again
    assert not cursor.already_applied(B, "2024-01-01T10:00:00.000+0000")  # a tie from another record


def test_stamp_never_moves_back_and_old_keys_are_forgotten():
    cursor = Cursor(overlap=timedelta(minutes=1)).advance([(A, "2024-01-01T10:00:00.000+0000")])
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


def test_a_completed_read_moves_the_window_past_a_quiet_stretch():
    cursor = Cursor(overlap=timedelta(minutes=5)).advance([(A, "2024-01-01T10:00:00.000+0000")])
    assert cursor.where_clause() == "SystemModstamp >= 2024-01-01T09:55:00.000Z"
    later = cursor.completed(parse_stamp("2024-01-01T11:00:01.000+0000"))
    assert later.where_clause() == "SystemModstamp >= 2024-01-01T10:55:00.000Z"
    assert not later.seen  # nothing before the new floor needs remembering
    assert Cursor.load(later.dump()) == later


def test_read_time_never_moves_back_and_a_future_stamp_still_counts():
    cursor = Cursor(overlap=timedelta(minutes=5)).advance([(A, "2024-01-01T12:00:00.000+0000")])
    cursor = cursor.completed(parse_stamp("2024-01-01T11:00:00.000+0000"))
    assert cursor.where_clause() == "SystemModstamp >= 2024-01-01T11:55:00.000Z"
    assert cursor.completed(parse_stamp("2024-01-01T10:00:00.000+0000")).read_at == cursor.read_at
