"""The doctor screen (key ``d``) in the console against the real broker: checks listed, the app keeps answering."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.widgets import DataTable, Static

from tests.conftest import async_wait_until
from tests.ui.conftest import Console, stop
from tui.console.screens.doctor import DoctorScreen
from tui.console.screens.main import MainScreen

pytestmark = pytest.mark.broker


def statuses(table: DataTable[object]) -> list[str]:
    """The status column as shown (PASS, WARN, FAIL, SKIP)."""
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def test_doctor_lists_checks_and_the_console_keeps_answering(make_console: Callable[..., Console]) -> None:
    console = make_console()
    try:
        async with console.app.run_test(size=(120, 40), message_hook=console.hook) as pilot:
            await console.ready()
            await pilot.press("d")
            await async_wait_until(lambda: isinstance(console.app.screen, DoctorScreen))
            screen = console.app.screen
            table: DataTable[object] = screen.query_one("#doctor-table", DataTable)
            summary = screen.query_one("#doctor-summary", Static)
            # Bounded: every check has a timeout of its own; the summary changes when the last one is in.
            await async_wait_until(lambda: "running" not in str(summary.render()), timeout=60)
            shown = statuses(table)
            assert "PASS" in shown, shown
            assert set(shown) <= {"PASS", "WARN", "FAIL", "SKIP"}
            # The embedded broker refuses aiokafka's idempotence: the doctor says so as a warning, not a pass.
            assert "WARN" in shown, shown
            assert "FAIL" not in shown, [table.get_row_at(i) for i in range(table.row_count)]
            # Visible on the screen as rendered, not only held by the table.
            rendered = console.app.export_screenshot()
            assert ">PASS<" in rendered and ">WARN<" in rendered
            text = str(summary.render())
            assert f"{shown.count('PASS')} passed" in text and f"{shown.count('WARN')} warnings" in text
            # The selected check's fix is shown, and moving the cursor changes it.
            fix = screen.query_one("#doctor-fix", Static)
            first = str(fix.render())
            assert first
            await pilot.press("down")
            await async_wait_until(lambda: str(fix.render()) != first)
            # Still answering keys: run again (r), then back home (h).
            await pilot.press("r")
            await async_wait_until(
                lambda: "running" not in str(summary.render()) and table.row_count == len(shown), timeout=60
            )
            await pilot.press("h")
            await async_wait_until(lambda: isinstance(console.app.screen, MainScreen))
            assert not [n for n in console.notes if "Error" in n]
    finally:
        await stop(console)
