"""The collector's policy (tui.collector): off while a command starts, then on with the start frozen."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from tui import collector


@pytest.fixture(autouse=True)
def restored() -> Iterator[None]:
    was_enabled, threshold = gc.isenabled(), gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


def test_hold_turns_the_collector_off_and_release_on_again() -> None:
    collector.hold()
    assert not gc.isenabled()
    collector.release()
    assert gc.isenabled()


def test_settle_freezes_the_start_and_collects_the_young_generation_less_often() -> None:
    gc.unfreeze()
    collector.hold()
    kept = [[n] for n in range(1000)]  # what a start allocates and keeps
    collector.settle(collector.CONSOLE_YOUNG)
    assert gc.isenabled()
    assert gc.get_threshold() == (collector.CONSOLE_YOUNG, collector.OLDER, collector.OLDER)
    assert gc.get_freeze_count() >= len(kept)
    watched = {id(obj) for obj in gc.get_objects()}  # the collector's generations, not the frozen ones
    assert not any(id(item) in watched for item in kept)


def test_a_late_import_is_frozen_too() -> None:
    gc.unfreeze()
    collector.settle(collector.READER_YOUNG)
    before = gc.get_freeze_count()
    late = [[n] for n in range(500)]
    collector.freeze_imports()
    assert gc.get_freeze_count() >= before + len(late)
