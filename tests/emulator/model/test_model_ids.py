"""Minting record Ids: deterministic, valid, distinct, and the fast path equal to the plain one."""

from __future__ import annotations

import pytest

from tandem.emulator.model.ids import make_id, mint_id
from tandem.salesforce import ids


def test_minted_ids_are_valid_and_distinct():
    minted = {make_id("003", n) for n in range(1000)}
    assert len(minted) == 1000
    assert all(i.startswith("003") and ids.is_well_formed(i) and len(i) == 18 for i in minted)


@pytest.mark.parametrize("n", [0, 1, 61, 62, 62**3 - 1, 62**3, 62**5 - 1, 62**5, 62**5 + 1, 62**7 + 12345])
def test_the_fast_mint_is_the_same_id(n):
    assert mint_id("003", n) == make_id("003", n)


def test_a_pod_goes_after_the_key_prefix():
    assert make_id("750", 1, "QZ").startswith("750QZ000000000")


@pytest.mark.parametrize(("prefix", "sequence"), [("00", 1), ("0031", 1), ("003", 62**10)])
def test_impossible_ids_are_refused(prefix, sequence):
    with pytest.raises(ValueError):
        make_id(prefix, sequence)
