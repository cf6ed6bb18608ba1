"""The console's start: the home's first frame waits only for the sheets it is styled by; every other area's sheet
is read right after it, or before another screen shows; the collector is on once the first frame is up; the Kafka
client (aiokafka) and the JSONPath parser are imported after that frame, when the services start."""

from __future__ import annotations

import gc
from pathlib import PurePath

import pytest

from tests.ui.conftest import first_frame_child, frozen_app
from tui.console.app import HOME_SHEETS, stylesheets
from tui.console.screens.main import MainScreen
from tui.demo.broker import EmbeddedBroker


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


LATER = (
    "aiokafka",
    "jsonpath_ng",
    # The stream readers and what their records are made of: the registry's consumer comes with the services.
    "tui.kafka.streams",
    "tui.records",
    "tui.selection",
    "tui.summaries",
    # Named only in the session's signatures, or used on demand (the doctor, the admin client's errors).
    "tui.handles",
    "tui.diagnosis",
    "tui.group_lag",
    "tui.kafka.errors",
    "tui.profiles",
    # Dialogs: imported when first shown.
    "tui.console.screens.keys_help",
    "tui.console.screens.profiles_dialog",
    "tui.console.screens.confirm_dialog",
)
"""Modules the first frame does without (checked in a fresh interpreter: this one has imported them already)."""

BUILD = """
    from tui.config import load_app_settings, load_settings
    from tui.console.app import EvokafkaApp
    from tui.console.session import Session

    settings = load_settings(None, environ={}, brokers=sys.argv[1], topic_prefix=sys.argv[2],
                             auto_create_topics="true")
    app = EvokafkaApp(Session.build(settings, load_app_settings(None, environ={})))
"""
"""The console with its session built first (the demo's and the bench's way)."""


@pytest.mark.broker
def test_the_first_frame_does_not_wait_for_the_kafka_client(broker: EmbeddedBroker, prefix: str) -> None:
    seen = first_frame_child(BUILD, LATER, (broker.bootstrap, prefix))
    assert seen["at_first_frame"] == [], f"imported before the first frame: {seen['at_first_frame']}"
    # The services started after the first frame: the client is loaded and connected.
    assert "aiokafka" in seen["later"]
    assert seen["cluster_up"], seen
    assert seen["registry"] == "synced", seen
    assert seen["publisher"] == "connected", seen
