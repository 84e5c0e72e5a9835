import pytest

from tandem.salesforce import ids


@pytest.mark.parametrize(
    ("id15", "id18"),
    [
        ("001D000000IRFma", "001D000000IRFmaIAH"),  # documented example
        ("00Q5e00000AbCdE", "00Q5e00000AbCdEEAV"),
        ("003000000000000", "003000000000000AAA"),
        ("ABCDEABCDEABCDE", "ABCDEABCDEABCDE555"),
        ("0015000000VALDQ", "0015000000VALDQAA5"),
    ],
)
def test_checksum_matches_known_ids(id15, id18):
    assert ids.to_18(id15) == id18
    assert ids.is_well_formed(id18)


def test_wrong_suffix_is_not_well_formed():
    assert not ids.is_well_formed("001D000000IRFmaAAA")
    assert not ids.is_well_formed("001D000000IRFm")
    assert not ids.is_well_formed(None)


def test_same_id_accepts_both_forms():
    assert ids.same_id("001D000000IRFma", "001D000000IRFmaIAH")
    assert not ids.same_id("001D000000IRFma", "001D000000IRFMA")


def test_minted_ids_are_valid_and_distinct():
    minted = {ids.make_id("003", n) for n in range(1000)}
    assert len(minted) == 1000
    assert all(i.startswith("003") and ids.is_well_formed(i) and len(i) == 18 for i in minted)
