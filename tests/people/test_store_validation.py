"""Bad input is refused with the field's name and leaves persons, activities and outbox untouched."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tandem.errors import InvalidInput
from tandem.people.fields import STANDARD_BY_NAME
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore
from tandem.people.validation import coerce


def _snapshot(store: PersonStore) -> tuple[object, ...]:
    persons = [p.as_json() for p in store.persons.get_many(range(1, 100))]
    return persons, store.activities.find(), store.outbox.find()


BAD_VALUES = [
    ("numberOfEmployees", "lots", "expected a whole number, got 'lots'"),
    ("numberOfEmployees", "1.5", "expected a whole number"),
    ("leadScore", 2**40, "out of range"),
    ("annualRevenue", "a lot", "expected a number"),
    ("annualRevenue", "nan", "expected a number"),
    ("unsubscribed", "maybe", "expected true or false"),
    ("dateOfBirth", "1990-13-01", "expected a date"),
    ("dateOfBirth", "01/02/1990", "expected a date"),
    ("email", "not-an-email", "not an email address"),
    ("firstName", "x" * 256, "longer than 255"),
    ("title", 42, "expected text"),
    ("shoeSize", "44", "unknown field"),
    ("id", 5, "read-only"),
    ("createdAt", "2020-01-01T00:00:00Z", "read-only"),
    ("sfdcId", "00Q000000000001AAA", "read-only"),
    ("sfdcType", "Lead", "read-only"),
    # no database stores these: PostgreSQL refuses NUL, and a lone surrogate has no UTF-8 form
    ("title", "Chief\x00Officer", "contains a NUL character at position 6"),
    ("lastName", "Lee\ud800", "contains a lone surrogate (U+D800) at position 4"),
    ("email", "ann\udcff@example.com", "contains a lone surrogate (U+DCFF)"),
    ("personNotes", "\x00", "contains a NUL character"),
]


@pytest.mark.parametrize(("field", "value", "reason"), BAD_VALUES)
def test_bad_update_names_the_field_and_writes_nothing(
    store: PersonStore, field: str, value: object, reason: str
) -> None:
    person = store.persons.add({"email": "a@example.com", "title": "VP"}, origin=ChangeOrigin.CLI)
    before = _snapshot(store)
    with pytest.raises(InvalidInput) as raised:
        store.persons.update(person.id, {"title": "CTO", field: value}, origin=ChangeOrigin.CLI)
    assert raised.value.field == field
    assert reason in raised.value.reason
    assert _snapshot(store) == before


def test_bad_record_in_a_batch_add_writes_none_of_the_batch(store: PersonStore) -> None:
    with pytest.raises(InvalidInput) as raised:
        store.persons.add_many([{"lastName": "Ok"}, {"numberOfEmployees": "lots"}], origin=ChangeOrigin.API)
    assert raised.value.field == "numberOfEmployees"
    assert "record 2" in raised.value.reason
    assert store.persons.count() == 0
    assert store.activities.find() == []


def test_bad_add_writes_nothing(store: PersonStore) -> None:
    with pytest.raises(InvalidInput) as raised:
        store.persons.add({"email": "x@example.com", "sfdcAccountId": "001000000000001AAA"}, origin=ChangeOrigin.CLI)
    assert raised.value.field == "sfdcAccountId"
    assert store.persons.count() == 0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("YES", True), ("1", True), (1, True), (True, True),
     ("false", False), ("no", False), ("0", False), (0, False), (False, False)],
)
def test_boolean_spellings(raw: object, expected: bool) -> None:
    assert coerce(STANDARD_BY_NAME["unsubscribed"], raw) is expected


def test_integer_refuses_booleans() -> None:
    with pytest.raises(InvalidInput):
        coerce(STANDARD_BY_NAME["leadScore"], True)


def test_datetime_without_offset_is_utc_and_offsets_are_converted() -> None:
    field = STANDARD_BY_NAME["sfdcCreatedDate"]
    assert coerce(field, "2024-03-05T14:07:09") == datetime(2024, 3, 5, 14, 7, 9, tzinfo=UTC)
    assert coerce(field, "2024-03-05T16:07:09+02:00") == datetime(2024, 3, 5, 14, 7, 9, tzinfo=UTC)
    assert coerce(field, "2024-03-05T14:07:09Z") == datetime(2024, 3, 5, 14, 7, 9, tzinfo=UTC)


def test_date_refuses_a_datetime() -> None:
    with pytest.raises(InvalidInput):
        coerce(STANDARD_BY_NAME["dateOfBirth"], datetime(2020, 1, 1, tzinfo=UTC))
    assert coerce(STANDARD_BY_NAME["dateOfBirth"], date(2020, 1, 1)) == date(2020, 1, 1)


@pytest.mark.parametrize("raw", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_datetime_out_of_range_once_in_utc_is_refused(raw: str) -> None:
    """Before, the conversion to UTC raised OverflowError, which the REST API answered with 611."""
    with pytest.raises(InvalidInput) as raised:
        coerce(STANDARD_BY_NAME["sfdcCreatedDate"], raw)
    assert "out of range" in raised.value.reason


def test_a_custom_text_field_refuses_unstorable_characters_too(store: PersonStore) -> None:
    store.fields.ensure_custom("Motto__c", "text")
    person = store.persons.add({"email": "a@example.com"}, origin=ChangeOrigin.CLI)
    with pytest.raises(InvalidInput) as raised:
        store.persons.update(person.id, {"Motto__c": "carpe\x00diem"}, origin=ChangeOrigin.CLI)
    assert raised.value.field == "Motto__c" and "NUL" in raised.value.reason
    assert store.persons.get(person.id).fields["Motto__c"] is None


@pytest.mark.parametrize("raw", ["٣", "１２", "1_000", "+-1", "1.5"])
def test_a_whole_number_is_ascii_digits(raw: str) -> None:
    """Python's int() reads other scripts' digits and underscores; a number sent as text is neither."""
    with pytest.raises(InvalidInput) as refused:
        coerce(STANDARD_BY_NAME["numberOfEmployees"], raw)
    assert refused.value.field == "numberOfEmployees"


@pytest.mark.parametrize("raw", ["٣", "1_000.5", "1,5", "0x10", "nan", "Infinity", "1e400", "."])
def test_a_number_is_ascii_digits_with_a_point_and_an_exponent(raw: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        coerce(STANDARD_BY_NAME["annualRevenue"], raw)
    assert refused.value.field == "annualRevenue" and "expected a number" in refused.value.reason


@pytest.mark.parametrize("raw, expected", [("1000.5", 1000.5), (" -2.5e3 ", -2500.0), (".5", 0.5), ("7.", 7.0),
                                           ("+12", 12.0), (3, 3.0)])
def test_numbers_as_text_and_as_numbers(raw: object, expected: float) -> None:
    assert coerce(STANDARD_BY_NAME["annualRevenue"], raw) == expected
