"""Where a change came from decides whether it is queued for Salesforce."""

from __future__ import annotations

import pytest

from tandem.errors import InvalidInput
from tandem.people.origin import ChangeOrigin


def test_only_changes_from_salesforce_stay_out_of_the_outbox() -> None:
    assert [o for o in ChangeOrigin if not o.queued_for_push] == [ChangeOrigin.SALESFORCE]


def test_a_named_origin_must_be_known() -> None:
    assert ChangeOrigin.of("cli") is ChangeOrigin.CLI
    assert ChangeOrigin.of(ChangeOrigin.API) is ChangeOrigin.API
    with pytest.raises(InvalidInput, match="origin"):
        ChangeOrigin.of("sales force")


def test_rows_written_before_the_enum_read_back_as_an_origin() -> None:
    assert ChangeOrigin.stored("salesforce") is ChangeOrigin.SALESFORCE
    assert ChangeOrigin.stored("api") is ChangeOrigin.API
    assert ChangeOrigin.stored("sync") is ChangeOrigin.SYNC_CYCLE
    assert ChangeOrigin.stored("benchmark") is ChangeOrigin.MARKETING


def test_store_refuses_an_unknown_origin_before_writing(store) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput, match="origin"):
        store.persons.add({"email": "x@example.com"}, origin="somewhere")
    assert store.persons.count() == 0
