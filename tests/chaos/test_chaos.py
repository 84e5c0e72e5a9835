"""A bounded set of seeded chaos runs (the long runs are `benchmarks/chaos.py --runs N`)."""

from __future__ import annotations

import pytest

from tests.chaos.harness import ChaosConfig, ChaosRun

SEEDS = (1, 2, 3)
BULK_SEEDS = (4, 5)


@pytest.mark.parametrize("seed", SEEDS)
def test_nothing_lost_swapped_or_duplicated(seed, database_url, emulator, reset_emulator):
    result = ChaosRun(ChaosConfig(seed=seed), database_url, emulator).run()
    assert result.cycles and result.actions
    assert result.violations == [], result.by_kind()


@pytest.mark.parametrize("seed", BULK_SEEDS)
def test_nothing_lost_swapped_or_duplicated_by_bulk_jobs(seed, database_url, emulator, reset_emulator):
    result = ChaosRun(ChaosConfig(seed=seed, bulk=True), database_url, emulator).run()
    assert result.cycles and result.actions
    assert result.violations == [], result.by_kind()
