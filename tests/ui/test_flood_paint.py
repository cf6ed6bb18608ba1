"""What a key press costs under a flood (issue #20's ``key_to_screen_p99``): painted lines are freed by reference
counting, not left to the cyclic collector (its pauses were the worst latencies; see
:mod:`tui.console.strip_cycles`), and ``]`` repaints two panes without laying the screen out."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from tui.console import strip_cycles


@pytest.fixture
def saved_garbage() -> Iterator[list[object]]:
    """Cyclic garbage kept for inspection instead of freed, with nothing collected behind the test's back."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    gc.garbage.clear()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()


def _strips_in(garbage: list[object]) -> int:
    return sum(1 for obj in garbage if isinstance(obj, Strip))


def test_textual_still_makes_the_cycle_this_module_removes() -> None:
    # If Textual stops caching a strip in itself, install() leaves divide alone (and this test says so).
    assert strip_cycles.makes_self_cycle()


@pytest.mark.parametrize(
    "cuts",
    [[10], [3, 10], [0, 10], [4, 7, 10], [12], [10, 14], [], [5], [3, 3, 10]],
)
def test_divide_answers_as_textuals_own(cuts: list[int]) -> None:
    strip_cycles.install()
    line = [Segment("abc", Style(bold=True)), Segment("defgh"), Segment("ij", Style(italic=True))]
    original = strip_cycles._original_divide()
    ours = Strip(line).divide(cuts)
    theirs = original(Strip(line), cuts)
    assert [(s.cell_length, list(s)) for s in ours] == [(s.cell_length, list(s)) for s in theirs]


def test_a_one_piece_line_is_not_kept_in_itself(saved_garbage: list[object]) -> None:
    strip_cycles.install()
    for _ in range(100):
        strip = Strip([Segment("a line as wide as its widget")])
        assert strip.divide([strip.cell_length]) == [strip]
        del strip
    gc.collect()
    assert _strips_in(saved_garbage) == 0


async def test_frames_of_a_busy_pane_leave_no_strip_to_the_collector(saved_garbage: list[object]) -> None:
    from tests.ui.conftest import frozen_app
    from tests.ui.test_reading_snapshots import _record, conversation
    from tui.console.screens.streams import StreamsScreen
    from tui.selection import PaneSpec, Selection

    app = frozen_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        screen = app.screen
        assert isinstance(screen, StreamsScreen)
        panes = [await screen.add_pane(PaneSpec(name, Selection(topics=("t",))), reading=False) for name in "abc"]
        screen.set_arrangement("grid")
        await pilot.pause()
        gc.collect()
        saved_garbage.clear()
        # Short rows, and rows cut to the pane's width.
        long = {"key": {"remoteJid": "5511900000000@s.whatsapp.net", "fromMe": False, "id": "3EB0L1"},
                "message": {"conversation": "a message longer than any pane is wide " * 8}}
        records = [*conversation(), _record(99, "acme-sales", "messages.upsert", long)]
        frames = 0
        for _ in range(20):
            for pane in panes:
                pane.ingest(records)
                pane.draw_frame()
            screen.action_next_pane()
            await pilot.pause()
            frames += 1
        gc.collect()
        assert frames == 20 and all(len(pane.buffer) > 0 for pane in panes)
        assert _strips_in(saved_garbage) == 0


async def test_next_pane_repaints_without_laying_the_screen_out() -> None:
    # The active pane's outline only changes colour: Textual lays the whole screen out again when an outline
    # appears or goes, which made every ] under a flood a full layout and a full repaint.
    from tests.conftest import async_wait_until
    from tests.ui.conftest import frozen_app
    from tests.ui.test_reading_snapshots import conversation
    from tui.console.screens.streams import StreamsScreen
    from tui.selection import PaneSpec, Selection

    app = frozen_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        screen = app.screen
        assert isinstance(screen, StreamsScreen)
        panes = [await screen.add_pane(PaneSpec(name, Selection(topics=("t",))), reading=False) for name in "abc"]
        screen.set_arrangement("grid")
        for pane in panes:
            pane.ingest(conversation())
            pane.draw_frame()
        # A table's first focus may restyle its scrollbars (one layout, once per table; CI saw two in the counted
        # presses when only one table had been focused before): ] once round every pane first, not counted, and
        # waited for (on a busy machine it may still be pending after a pause).
        for _ in panes:
            await pilot.press("]")
            await pilot.pause()
        await async_wait_until(lambda: not screen._layout_required and not screen._dirty_widgets, timeout=5)
        await pilot.pause()
        layouts: list[bool] = []
        refresh_layout = screen._refresh_layout

        def counted(*args: object, **kwargs: object) -> None:
            layouts.append(True)
            refresh_layout(*args, **kwargs)  # type: ignore[arg-type]

        screen._refresh_layout = counted  # type: ignore[method-assign]
        outlines = []
        for _ in range(6):
            before = screen.active_pane
            await pilot.press("]")
            await pilot.pause()
            after = screen.active_pane
            assert after is not before and after is not None and after.has_class("-active")
            outlines.append((after.styles.outline.top, before.styles.outline.top if before else None))
        assert layouts == []
        # Active and inactive panes do look different: the outline's colour.
        assert all(active[1] != inactive[1] for active, inactive in outlines if inactive is not None)


def test_the_console_slides_nothing_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.ui.conftest import frozen_app
    from tui.console.app import EvokafkaApp

    monkeypatch.delenv("TEXTUAL_ANIMATIONS", raising=False)
    session = frozen_app().session
    assert EvokafkaApp(session, connect=False).animation_level == "none"
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "full")
    assert EvokafkaApp(session, connect=False).animation_level == "full"


@pytest.mark.parametrize(("environ", "expected"), [({}, "120"), ({"TEXTUAL_FPS": "30"}, "30")])
def test_screens_update_up_to_120_times_a_second_unless_told(environ: dict[str, str], expected: str) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_FPS"} | environ
    # A fresh interpreter, as the evokafka script starts: the package first, then Textual.
    out = subprocess.run(
        [sys.executable, "-c", "import tui.cli; from textual import constants, screen; "
         "print(constants.MAX_FPS, round(1 / screen.UPDATE_PERIOD))"],
        env=env, capture_output=True, text=True, check=True, timeout=60,
    )
    assert out.stdout.split() == [expected, expected]
