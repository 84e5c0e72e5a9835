import pytest

from tandem.errors import InvalidInput, InvalidSalesforceId, TandemError
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


@pytest.mark.parametrize("text", ["001D000000IRFm", "001D000000IRFmaAAA", "001D000000IRF-a", "", None])
def test_text_that_is_no_id_raises_an_error_of_the_tree(text):
    with pytest.raises(InvalidSalesforceId) as caught:
        ids.to_18(text)
    assert isinstance(caught.value, InvalidInput) and isinstance(caught.value, TandemError)
    assert not isinstance(caught.value, ValueError)
    assert (caught.value.field, caught.value.value) == ("Id", text)


def test_checksum_needs_fifteen_characters():
    with pytest.raises(InvalidSalesforceId, match="a 15-character Id is needed"):
        ids.checksum("001D000000IRFmaIAH")


@pytest.mark.parametrize("typed", ["001d000000irfmaiah", "001D000000IRFMAIAH", "001d000000IRFmaiah", "001D000000IRFmaIAH"])
def test_an_18_character_id_in_any_case_gets_the_case_its_suffix_says(typed):
    assert ids.with_case(typed) == "001D000000IRFmaIAH"


@pytest.mark.parametrize("text", ["001D000000IRFma", "someone@example.com", "001d000000irfma999", "001D000000IRFmaZZZ", None])
def test_what_is_no_18_character_id_keeps_its_case(text):
    assert ids.with_case(text) == text
