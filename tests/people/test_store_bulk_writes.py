"""The store's multi-row writes: values converted once, rows written together, lookups by many ids.

A pull writes its persons, their activities and their bases with one statement per table and
page; these tests hold those statements to what the row-at-a-time forms did: same stored values,
ids in input order, all or nothing, and (PostgreSQL) lookups that keep using their index as the
table grows.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from tandem.errors import InvalidInput
from tandem.people import activities as types
from tandem.people.checked import Checked
from tandem.people.database import Lookups, _driver_values, insert_returning_ids, insert_rows
from tandem.people.fields import FieldType, PersonField
from tandem.people.models import SalesforceLink
from tandem.people.origin import ChangeOrigin
from tandem.people.store import PersonStore
from tandem.people.tables import activities, field_bases
from tandem.people.validation import coerce, converter

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _sfdc_id(n: int) -> str:
    return f"003{n:012d}AAA"


def _link(n: int) -> SalesforceLink:
    return SalesforceLink("Contact", _sfdc_id(n), None, _sfdc_id(n), None, False, NOW)


# -- one conversion per value ----------------------------------------------------------------------

_SAMPLES = ["", None, "text", " 42 ", "42", 42, 4.5, 4.0, True, False, "yes", "off", "maybe", "2026-02-30",
            "2026-02-01", "2026-02-01T10:00:00+02:00", "2026-02-01T10:00:00", date(2026, 1, 1),
            datetime(2026, 1, 1, 8, tzinfo=UTC), "a@b.example", "not an email", "x" * 300, "nul\x00", "\ud800",
            float("nan"), 2**40, "99999999999999999999", ["a"], {"a": 1}, "Hot", "Cold"]
_FIELDS = [PersonField(1, f"f_{t.value}", t, t.value, picklist_values=("Hot", "Warm") if t is FieldType.PICKLIST else ())
           for t in FieldType] + [PersonField(2, "short", FieldType.STRING, "short", length=5)]


@pytest.mark.parametrize("field", _FIELDS, ids=lambda f: f.name)
def test_a_fields_converter_gives_what_coerce_gives_and_the_same_errors(field: PersonField) -> None:
    convert = converter(field)
    for raw in _SAMPLES:
        try:
            expected: object = ("value", coerce(field, raw))
        except InvalidInput as error:
            expected = ("error", error.field, error.reason)
        try:
            got: object = ("value", convert(raw))
        except InvalidInput as error:
            got = ("error", error.field, error.reason)
        assert got == expected, (field.type, raw)


def test_checked_values_still_name_only_editable_fields(store: PersonStore) -> None:
    with pytest.raises(InvalidInput) as refused:
        store.persons.add_linked([(Checked({"lastName": "Ok", "sfdcId": _sfdc_id(1)}), _link(1))])
    assert refused.value.field == "sfdcId" and "read-only" in refused.value.reason
    assert store.persons.count() == 0


# -- multi-row statements --------------------------------------------------------------------------


def test_persons_added_together_get_ids_in_input_order_and_their_values_back(store: PersonStore) -> None:
    store.persons.add({"lastName": "Before"}, origin=ChangeOrigin.CLI)
    rows = [(Checked({"lastName": f"L{n}", "email": f"p{n}@example.com", "dateOfBirth": date(1990, 1, n + 1),
                      "unsubscribed": n % 2 == 0, "annualRevenue": 10.5 * n, "numberOfEmployees": n,
                      "title": None}), _link(n)) for n in range(5)]
    ids = store.persons.add_linked(rows, now=NOW)
    assert ids == sorted(ids) and len(set(ids)) == 5
    for person_id, (values, link) in zip(ids, rows, strict=True):
        person = store.persons.get(person_id)
        assert {name: person.fields[name] for name in values} == dict(values)
        assert person.link == link and person.created_at == NOW
        [new_lead] = store.activities.find(person_id)
        assert new_lead.activity_type_id == types.NEW_LEAD.id
        assert new_lead.primary_attribute_value == values["lastName"] and new_lead.activity_date == NOW
        assert new_lead.attribute("SFDC Type") == "Contact"


@pytest.mark.parametrize("orders", [
    [("lastName", "email", "title"), ("lastName", "email", "title")],  # one order: taken as it is
    [("lastName", "email", "title"), ("title", "lastName", "email")],  # same fields, another order
    [("lastName", "email"), ("email", "title"), ("company",)],  # different fields
])
def test_persons_added_together_keep_each_value_in_its_field_whatever_the_order_they_name_them(
        store: PersonStore, orders: list[tuple[str, ...]]) -> None:
    sample = {"lastName": "Last", "email": "e@example.com", "title": "Title", "company": "Company"}
    rows = [{name: f"{n}-{sample[name]}" if name != "email" else f"p{n}@example.com" for name in order}
            for n, order in enumerate(orders)]
    ids = store.persons.add_linked([(Checked(row), _link(n)) for n, row in enumerate(rows)], now=NOW)
    for n, (person_id, row) in enumerate(zip(ids, rows, strict=True)):
        person = store.persons.get(person_id)
        assert {name: person.fields[name] for name in sample} == {name: row.get(name) for name in sample}
        assert person.link == _link(n)


def test_rows_written_straight_to_the_driver_read_back_as_sqlalchemy_writes_them(store: PersonStore) -> None:
    person = store.persons.add({"lastName": "Base"}, origin=ChangeOrigin.CLI)
    values = {"text": "x", "number": 1.5, "flag": True, "nothing": None, "list": [1, "two"]}
    row = {"person_id": person.id, "field": "probe", "value": None, "agreed_at": NOW}
    with store.transaction(), store._db.transaction() as connection:  # noqa: SLF001 - the store's own connection
        insert_rows(connection, field_bases, [{**row, "field": name, "value": value} for name, value in values.items()])
        connection.execute(sa.insert(field_bases), [{**row, "field": f"orm {name}", "value": value}
                                                   for name, value in values.items()])
    with store._db.reading() as connection:  # noqa: SLF001
        read = {r.field: (r.value, r.agreed_at) for r in connection.execute(sa.select(field_bases))}
    for name in values:
        assert read[name] == read[f"orm {name}"]
        assert read[name][1].replace(tzinfo=UTC) == NOW


def test_a_json_value_rows_share_goes_to_the_driver_as_its_text_made_once(store: PersonStore) -> None:
    # a page's New Lead activities share one attributes list: encoded once, not once a row (on
    # PostgreSQL the driver's own JSON wrapper would be encoded again for every row of the COPY)
    shared = [{"name": "Source Type", "value": "salesforce"}]
    rows = [(shared,), (shared,), ([{"name": "Other", "value": 1}],)]
    with store._db.reading() as connection:  # noqa: SLF001
        first, second, other = (row[0] for row in _driver_values(connection, activities, ["attributes"], rows))
    assert type(first) is str and json.loads(first) == shared and first is second
    assert json.loads(other) == [{"name": "Other", "value": 1}]


def test_one_bad_row_in_a_multi_row_write_leaves_nothing_written(store: PersonStore) -> None:
    person = store.persons.add({"lastName": "Kept"}, origin=ChangeOrigin.CLI)
    rows = [{"person_id": person.id, "field": f"f{n}", "value": "v", "agreed_at": NOW} for n in range(4)]
    rows[2]["person_id"] = person.id + 1000  # no such person: the foreign key refuses it
    with pytest.raises(sa.exc.IntegrityError), store.transaction(), store._db.transaction() as connection:  # noqa: SLF001
        insert_rows(connection, field_bases, rows)
    assert store.bases.get(person.id) == {}
    with pytest.raises(InvalidInput), store.transaction():  # a bad page refuses its persons before writing any
        store.persons.add_linked([(Checked({"lastName": "A"}), _link(1)),
                                  ({"lastName": "B", "email": "not an email"}, _link(2))])
    assert store.persons.count() == 1


def test_persons_added_together_get_their_own_ids_in_order_even_when_the_id_sequence_is_behind(
        store: PersonStore) -> None:
    def add(names: list[str]) -> dict[str, int]:
        ids = store.persons.add_linked([(Checked({"lastName": name}), _link(n)) for n, name in enumerate(names)])
        return dict(zip(names, ids, strict=True))

    def stored(ids: dict[str, int]) -> dict[str, str]:
        return {name: store.persons.get(pid).fields["lastName"] for name, pid in ids.items()}

    first = add(["A", "B", "C"])
    assert stored(first) == {"A": "A", "B": "B", "C": "C"}
    assert list(first.values()) == sorted(first.values())
    with store._db.transaction() as connection:  # noqa: SLF001
        if connection.dialect.name == "sqlite":
            # the sequence forgotten (or set back by hand): new ids still come above the highest row
            connection.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = 'persons'")
    later = add(["D", "E"])
    assert stored(later) == {"D": "D", "E": "E"}
    assert min(later.values()) > max(first.values())
    assert add(["F"]) == {"F": max(later.values()) + 1}


def test_rows_inserted_together_must_set_the_same_columns(store: PersonStore) -> None:
    with pytest.raises(Exception, match="same columns"), store._db.transaction() as connection:  # noqa: SLF001
        insert_returning_ids(connection, store.fields.table, ["lastName", "createdAt", "updatedAt"], [
            ["A", "B"], [NOW, NOW], [NOW],
        ])
    with pytest.raises(Exception, match="same columns"), store._db.transaction() as connection:  # noqa: SLF001
        insert_returning_ids(connection, store.fields.table, ["lastName", "createdAt", "updatedAt"], [
            ["A"], [NOW],
        ])
    with pytest.raises(Exception, match="same columns"), store._db.transaction() as connection:  # noqa: SLF001
        insert_rows(connection, field_bases, [
            {"person_id": 1, "field": "lastName", "value": "A", "agreed_at": NOW},
            {"person_id": 1, "value": "B", "field": "title", "agreed_at": NOW, "extra": 1},
        ])
    assert store.persons.count() == 0


def test_bases_of_new_persons_are_inserted_and_later_ones_replace_them(store: PersonStore) -> None:
    [first, second] = store.persons.add_linked([(Checked({"lastName": "A"}), _link(1)),
                                                (Checked({"lastName": "B"}), _link(2))])
    with store.transaction():
        store.bases.set_many({first: Checked({"lastName": "A", "title": None}), second: Checked({"lastName": "B"})},
                             new_persons=True)
    store.bases.set_many({first: Checked({"lastName": "A2"}), second: {"numberOfEmployees": "7"}})
    assert store.bases.get(first) == {"lastName": "A2"}  # an empty value of a new person is no stored base
    assert store.bases.get(second) == {"lastName": "B", "numberOfEmployees": 7}
    store.bases.clear_many([first, second])
    assert store.bases.for_persons([first, second]) == {}


def test_a_new_persons_bases_are_one_row_each_field_replaced_by_its_own_row_later(store: PersonStore) -> None:
    born = date(1990, 5, 17)
    [person, other] = store.persons.add_linked([(Checked({"lastName": "A"}), _link(1)),
                                                (Checked({"lastName": "B"}), _link(2))])
    with store.transaction():
        store.bases.set_many({
            person: Checked({"lastName": "A", "title": "CEO", "dateOfBirth": born, "numberOfEmployees": 12,
                             "unsubscribed": False, "city": None}),
            other: Checked({"title": None}),  # nothing to agree on: no row
        }, new_persons=True)
    with store._db.reading() as connection:  # noqa: SLF001
        assert connection.execute(sa.select(sa.func.count()).select_from(field_bases)).scalar_one() == 0
    assert store.bases.get(person) == {"lastName": "A", "title": "CEO", "dateOfBirth": born,
                                       "numberOfEmployees": 12, "unsubscribed": False}
    assert store.bases.for_persons([person, other], fields={"title", "city"}) == {person: {"title": "CEO"}}
    assert store.bases.for_persons([other]) == {}

    store.bases.set_many({person: Checked({"title": "CTO", "city": "Ghent"})})  # agreed later: its own rows win
    assert store.bases.for_persons([person], fields={"title", "city", "lastName"}) == {
        person: {"title": "CTO", "city": "Ghent", "lastName": "A"}}
    store.bases.set(person, {"title": None})
    assert store.bases.get(person)["title"] is None

    store.persons.delete(person, origin=ChangeOrigin.CLI)  # a deleted person's bases go with it
    with store._db.reading() as connection:  # noqa: SLF001
        assert connection.execute(sa.text("SELECT count(*) FROM person_bases")).scalar_one() == 0


def test_stored_bases_read_back_in_their_fields_types_and_kept_when_they_no_longer_fit(store: PersonStore) -> None:
    [person] = store.persons.add_linked([(Checked({"lastName": "A"}), _link(1))])
    with store._db.transaction() as connection:  # noqa: SLF001  (values written before the fields changed)
        connection.execute(sa.insert(field_bases), [
            {"person_id": person, "field": field, "value": value, "agreed_at": NOW}
            for field, value in (("email", "not an address"), ("title", ""), ("lastName", 5),
                                 ("dateOfBirth", "1990-05-17"), ("numberOfEmployees", "12"))])
    assert store.bases.get(person) == {"email": "not an address", "title": None, "lastName": 5,
                                       "dateOfBirth": date(1990, 5, 17), "numberOfEmployees": 12}


# -- lookups by many ids ---------------------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite keeps no plan across statements
def test_lookup_by_salesforce_ids_keeps_its_index_as_the_table_grows(store: PersonStore) -> None:
    """PostgreSQL prepares a statement run five times and may keep its plan: the lookup takes one
    array of ids, so it is one statement whose plan is made again once `ANALYZE` sees the table grow."""
    added = 0
    for batch in (10, 100, 3000):
        store.persons.add_linked([(Checked({"lastName": f"L{n}"}), _link(n)) for n in range(added, added + batch)])
        added += batch
        store.persons.refresh_statistics()
        for _ in range(7):
            wanted = [_sfdc_id(n) for n in range(0, added, max(1, added // 40))]
            found = store.persons.by_sfdc_ids(wanted)
            assert sorted(found) == sorted(wanted)
            assert sorted(store.api.person_ids_by("sfdcId", wanted)) == sorted(wanted)  # a pull page's claim
    with store._db.engine.connect() as connection:  # noqa: SLF001 - the pool's one connection: the session that ran them
        prepared = connection.exec_driver_sql(
            "SELECT name FROM pg_prepared_statements WHERE statement LIKE '%%\"sfdcId\" = ANY%%'").scalars().all()
        assert len(prepared) == 2, "each lookup is one statement, prepared once"
        ids = "{" + f"{_sfdc_id(5)},{_sfdc_id(7)}" + "}"
        for name in prepared:
            plan = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) EXECUTE {name}('{ids}')").scalar_one()
            text = json.dumps(plan)
            assert "ix_persons_sfdcId" in text and '"Node Type": "Seq Scan"' not in text, text


def test_persons_unlinked_from_records_are_found_through_the_index_of_their_former_ids(store: PersonStore) -> None:
    """Under `leaving = "unlinked"` each pulled page asks which unlinked persons its new records were once
    linked to. That lookup read the whole persons table; on SQLite, told `"sfdcId" IS NULL`, it would
    read every person never linked instead. It must search the partial index of former Ids."""
    store.persons.add_many([{"email": f"never{n}@x.com"} for n in range(500)], ChangeOrigin.API)  # never linked
    linked = store.persons.add_linked([(Checked({"lastName": f"L{n}"}), _link(n)) for n in range(4)])
    for pid, n in zip(linked[:2], range(2), strict=True):  # unlinked by a filter: the former Ids stay
        store.persons.set_link(pid, SalesforceLink(sfdc_contact_id=_sfdc_id(n)), reason="left the filter")
    store.persons.refresh_statistics()
    statements: list[tuple[str, object]] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append((statement, parameters))

    engine = store._db.engine  # noqa: SLF001 - the statement the lookup runs, explained on its database
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        with store.transaction():
            found = store.persons.unlinked_from("Contact", [_sfdc_id(n) for n in range(4)], lock=True)
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    assert {sfdc_id: p.id for sfdc_id, p in found.items()} == {_sfdc_id(0): linked[0], _sfdc_id(1): linked[1]}
    [(statement, parameters)] = [(s, p) for s, p in statements if '"sfdcContactId" IN' in s or '"sfdcContactId" =' in s]
    with engine.connect() as connection:
        cursor = connection.connection.cursor()
        if connection.dialect.name == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        else:
            cursor.execute("SET enable_seqscan = off")  # a table this small is read whole whenever it may be
            cursor.execute(f"EXPLAIN {statement}", parameters)
            plan = " ".join(row[0] for row in cursor.fetchall())
            connection.rollback()
    assert "ix_persons_unlinked_sfdcContactId" in plan, plan


def test_a_lookup_built_once_finds_what_each_run_asks_for(store: PersonStore) -> None:
    """The lookups a pull runs for every page are built once and run with each page's values: each
    run finds its own persons (never the first run's), locked or not, and a person read after a
    custom field was added carries that field."""
    ids = store.persons.add_linked([(Checked({"lastName": f"L{n}", "email": f"p{n}@x.com"}), _link(n))
                                    for n in range(6)])
    for wanted in ([0, 1], [2, 3, 4], [5], [1, 5], []):
        sfdc_ids = [_sfdc_id(n) for n in wanted]
        assert {k: p.id for k, p in store.persons.by_sfdc_ids(sfdc_ids).items()} == \
            {_sfdc_id(n): ids[n] for n in wanted}
        with store.transaction():
            assert {k: p.id for k, p in store.persons.by_sfdc_ids(sfdc_ids, lock=True).items()} == \
                {_sfdc_id(n): ids[n] for n in wanted}
        assert store.api.person_ids_by("sfdcId", sfdc_ids) == {_sfdc_id(n): [ids[n]] for n in wanted}
        assert store.api.person_ids_by("email", [f"P{n}@X.com" for n in wanted]) == \
            {f"p{n}@x.com": [ids[n]] for n in wanted}
        with store.transaction():
            assert store.api.claim("sfdcId", sfdc_ids) == {_sfdc_id(n): [ids[n]] for n in wanted}
    store.fields.ensure_custom("Shoe_Size__c", "integer")
    store.persons.update(ids[2], {"Shoe_Size__c": 44}, origin=ChangeOrigin.API)
    assert store.persons.by_sfdc_ids([_sfdc_id(2)])[_sfdc_id(2)].fields["Shoe_Size__c"] == 44


def test_a_lookup_by_values_neither_text_nor_numbers_finds_them_all(store: PersonStore) -> None:
    """Values one JSON parameter cannot carry (dates, on SQLite) are looked up in chunks instead,
    with the same answer; PostgreSQL binds them as one array of the column's type."""
    days = [date(1990, 1, n) for n in range(1, 4)]
    ids = store.persons.add_linked([(Checked({"lastName": f"L{n}", "dateOfBirth": day}), _link(n))
                                    for n, day in enumerate(days)])
    table = store.persons._fields.table  # noqa: SLF001
    lookups = Lookups()

    def born(values: list[date]) -> list[int]:
        with store._db.reading() as connection:  # noqa: SLF001
            found = lookups.results(connection, ("born",), table.c.dateOfBirth, values,
                                    lambda condition: sa.select(table.c.id).where(condition))
            return sorted(person_id for result in found for (person_id,) in result)
    assert born([days[0], days[2]]) == [ids[0], ids[2]]
    assert born([days[1], date(2000, 1, 1)]) == [ids[1]]
    assert born([]) == []


def test_a_lookup_by_more_ids_than_one_in_list_holds_is_one_statement_and_finds_them_all(store: PersonStore) -> None:
    """A JSON list (SQLite) or an array (PostgreSQL) has no parameter cap: the lookups, locks and
    reads of a page's 1,200 persons run one statement each."""
    count = 1200
    ids = store.persons.add_linked([(Checked({"lastName": f"L{n}"}), _link(n)) for n in range(count)])
    with store.transaction():
        store.bases.set_many({pid: Checked({"title": f"T{pid}"}) for pid in ids})
    selects: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)
    sa.event.listen(store._db.engine, "before_cursor_execute", seen)  # noqa: SLF001
    try:
        wanted = [_sfdc_id(n) for n in range(count)]
        assert len(store.persons.by_sfdc_ids(wanted)) == count
        assert len(store.api.person_ids_by("sfdcId", wanted)) == count
        with store.transaction():
            assert store.persons.lock(ids) == ids
        assert len(store.bases.for_persons(ids, {"title"})) == count
    finally:
        sa.event.remove(store._db.engine, "before_cursor_execute", seen)  # noqa: SLF001
    # one each for the lookup, the claim's lookup and the lock; person_bases and field_bases for the bases
    assert len(selects) == 5, selects

