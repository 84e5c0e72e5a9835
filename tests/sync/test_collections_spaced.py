"""The garbage collector runs less often while a cycle runs, and as before once none runs."""

from __future__ import annotations

import gc

import pytest

from tandem.sync.collections_spaced import YOUNG, collections_spaced


@pytest.fixture(autouse=True)
def default_thresholds():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_a_cycle_runs_with_collections_spaced_and_gives_the_thresholds_back(engine, monkeypatch):
    seen = []
    recall = engine.workspace.recall_refused_login
    monkeypatch.setattr(engine.workspace, "recall_refused_login", lambda: (seen.append(gc.get_threshold()), recall()))
    report = engine.run_cycle()
    assert report.succeeded, report.steps
    assert seen == [(YOUNG, 10, 10)]
    assert gc.get_threshold() == (700, 10, 10)


def test_a_failing_cycle_gives_the_thresholds_back(engine, monkeypatch):
    def broken() -> None:
        raise RuntimeError("broken")
    monkeypatch.setattr(engine.workspace, "recall_refused_login", broken)
    with pytest.raises(RuntimeError):
        engine.run_cycle()
    assert gc.get_threshold() == (700, 10, 10)


def test_overlapping_cycles_give_the_thresholds_back_when_the_last_ends():
    first, second = collections_spaced(), collections_spaced()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first ends while the second still runs
    assert gc.get_threshold() == (YOUNG, 10, 10)
    second.__exit__(None, None, None)
    assert gc.get_threshold() == (700, 10, 10)


def test_higher_thresholds_of_the_process_are_kept():
    gc.set_threshold(50_000, 20, 30)
    with collections_spaced():
        assert gc.get_threshold() == (50_000, 20, 30)
    assert gc.get_threshold() == (50_000, 20, 30)


def test_collections_turned_off_stay_off():
    gc.set_threshold(0)
    with collections_spaced():
        assert gc.get_threshold()[0] == 0
    assert gc.get_threshold()[0] == 0
