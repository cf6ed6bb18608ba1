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


def test_a_subcommand_runs_with_its_imports_frozen_and_the_collector_on() -> None:
    # evokafka's entry point freezes what starting a subcommand imported (checked in a fresh interpreter: this
    # one has imported everything already): the collector never walks it, nor does the interpreter at exit.
    import subprocess
    import sys

    code = (
        "import gc, sys\n"
        "from tui.cli import main\n"
        "try:\n"
        "    main(['config'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "frozen = gc.get_freeze_count()\n"
        "sys.stderr.write(f'{gc.isenabled()} {frozen} {\"pydantic\" in sys.modules}\\n')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env={"PATH": ""})
    enabled, frozen, imported = result.stderr.strip().splitlines()[-1].split()
    assert (enabled, imported) == ("True", "True")
    assert int(frozen) > 20_000  # click, pydantic and the config command's modules: 37,000 objects here
