"""The console's start: the home's first frame waits only for the sheets it is styled by; every other area's sheet
is read right after it, or before another screen shows; the collector is on once the first frame is up."""

from __future__ import annotations

import gc
from pathlib import PurePath

from tests.ui.conftest import frozen_app
from tui.console.app import HOME_SHEETS, stylesheets
from tui.console.screens.main import MainScreen


def _read(app: object) -> set[str]:
    sheets = app.stylesheet  # type: ignore[attr-defined]
    return {PurePath(path).name for path in stylesheets() if sheets.has_source(str(path), "")}


async def test_the_home_opens_on_its_own_sheets_and_reads_the_others_after_its_first_frame() -> None:
    app = frozen_app()
    every = {PurePath(path).name for path in stylesheets()}
    assert {PurePath(path).name for path in app.css_path} == HOME_SHEETS < every
    gc.disable()  # as the command line starts the console
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, MainScreen)
            assert _read(app) == every
            assert gc.isenabled()
    finally:
        gc.enable()


async def test_an_area_opened_at_once_has_its_sheet() -> None:
    app = frozen_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.action_open_area("streams")  # before anything else: its sheet is read first
        await pilot.pause()
        assert "streams.tcss" in _read(app)
        assert app.current_mode == "streams"
