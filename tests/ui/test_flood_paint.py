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
    from tests.ui.conftest import still_panes
    from tests.ui.test_reading_snapshots import _record, conversation

    async with still_panes("abc", grid=True) as (pilot, screen, panes):
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
    from tests.ui.conftest import still_panes
    from tests.ui.test_reading_snapshots import conversation

    async with still_panes("abc", grid=True) as (pilot, screen, panes):
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


@pytest.mark.parametrize(("environ", "expected"), [({}, "240"), ({"TEXTUAL_FPS": "30"}, "30")])
def test_screens_update_up_to_240_times_a_second_unless_told(environ: dict[str, str], expected: str) -> None:
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


async def test_next_pane_draws_no_row_again_and_a_change_does() -> None:
    # ] moves the focus and recolours two outlines: nothing in the tables changes, so every drawn line is reused
    # (under a flood each table line cost ~0.15 ms and a press repainted every table three or four times). A moved
    # cursor, a learned name or a new row do draw their lines again.
    from tests.conftest import async_wait_until
    from tests.ui.conftest import still_panes
    from tests.ui.test_reading_snapshots import conversation

    async with still_panes("abc", grid=True) as (pilot, screen, panes):
        for pane in panes:
            pane.ingest(conversation())
            pane.draw_frame()
        for _ in panes:
            await pilot.press("]")
            await pilot.pause()
        await async_wait_until(lambda: not screen._dirty_widgets, timeout=5)

        def drawn() -> list[dict[int, object]]:
            return [{key: entry[2] for key, entry in pane.table._strips.items()} for pane in panes]

        before = drawn()
        assert all(before)
        # Neither rows nor records are kept by the drawn lines (a row the buffer let go must not stay in memory).
        from tui.console.widgets.stream_rows import StreamRow
        from tui.records import Record

        kept = [part for pane in panes for entry in pane.table._strips.values() for part in (*entry, *entry[0])]
        assert not [part for part in kept if isinstance(part, StreamRow | Record)]
        for _ in range(4):
            await pilot.press("]")
            await pilot.pause()
        after = drawn()
        assert all(after[i][key] is strip for i in range(3) for key, strip in before[i].items())
        # The same screen as a fresh drawing of every line would give.
        table = panes[0].table
        shown = [table.render_line(y).text for y in range(table.size.height)]
        table._strips = {}
        assert [table.render_line(y).text for y in range(table.size.height)] == shown

        # The cursor moving up draws the two lines it leaves and reaches.
        table.focus()
        await pilot.pause()
        first = drawn()[0]
        await pilot.press("up")
        await pilot.pause()
        moved = drawn()[0]
        changed = [key for key in first if moved.get(key) is not first[key]]
        assert len(changed) == 2
        # A name learned changes every line's key: all drawn again.
        table.names.remember("5511999999999@s.whatsapp.net", "Someone New")
        table.refresh()
        await pilot.pause()
        again = drawn()[0]
        assert again and all(strip is not moved.get(key) for key, strip in again.items())


async def test_a_tab_activated_by_a_key_is_not_shown_twice() -> None:
    # ]/[ activate the pane at once; the tab's own message that follows must not lay it out again (nor focus it).
    from tests.ui.conftest import still_panes
    from tests.ui.test_reading_snapshots import conversation

    async with still_panes("ab") as (pilot, screen, panes):
        for pane in panes:
            pane.ingest(conversation())
        await pilot.pause()
        shown: list[object] = []
        show = screen._show_active

        def counted() -> None:
            shown.append(screen.active_pane)
            show()

        screen._show_active = counted  # type: ignore[method-assign]
        await pilot.press("]")
        await pilot.pause()
        assert len(shown) == 1 and screen.focused is shown[0].table  # type: ignore[attr-defined]
        # A tab chosen on the tab bar itself (no activate before it) is still shown.
        other = next(pane for pane in panes if pane is not shown[0])
        screen._tabs.active = f"tab-{other.id}"
        await pilot.pause()
        assert len(shown) == 2 and screen.active_pane is other and other.has_class("-active")
        assert screen.focused is other.table


async def test_no_rule_styles_a_stream_table_by_focus() -> None:
    # StreamTable skips Textual's restyle on focus changes (watch_has_focus): right only while no stylesheet rule
    # that can match a table depends on focus. A rule added later fails here, not silently on screen.
    from tests.ui.conftest import still_panes

    async with still_panes("a") as (pilot, _screen, (pane,)):
        await pilot.pause()
        table = pane.table
        rules_map = pilot.app.stylesheet.rules_map
        rules = {rule for name in rules_map.keys() & table._selector_names for rule in rules_map[name]}
        assert rules, "the table's rules were not found"
        assert not [rule for rule in rules if rule.pseudo_classes & {"focus", "focus-within"}]
