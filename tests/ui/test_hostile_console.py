"""Issue 10's hostile corpus, driven through the console with Pilot on the real broker.

The same corpus as ``tests/integration/test_hostile.py`` (which drives ``evokafka tail``): non-JSON, invalid
UTF-8, binary, empty, null, 5 MB, 10,000 levels deep, a million-element array, markup, ANSI/OSC escapes and
control characters in values, keys and headers, 1,000 headers, non-UTF-8 headers. A pane reads all of it, every
record's detail view opens in each of its views, the rendered screen never holds a raw escape byte, and the app
keeps answering keys throughout.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from tests.conftest import async_wait_until
from tests.integration.test_hostile import CORPUS, SECRET
from tests.ui.conftest import Console, stop
from tui.console.screens.record_detail import RecordDetailScreen
from tui.console.screens.streams import StreamsScreen
from tui.saved_views import ViewStore
from tui.selection import PaneSpec, Selection

pytestmark = pytest.mark.broker

RAW_CONTROLS = ("\x1b", "\x07", "\x9b", "\x9d", "\x00", "\x08", "\u202e", "\u2066", "\u200b", "\ufeff")
"""Raw escape bytes, and bidi or invisible format characters (the corpus holds them in values, keys, headers)."""


@pytest.fixture
async def console(make_console: Callable[..., Console]) -> AsyncIterator[Console]:
    made = make_console()
    yield made
    await stop(made)


def screen_text(console: Console) -> str:
    """Everything the terminal would be sent for the current screen (as the SVG export renders it)."""
    return console.app.export_screenshot()


async def test_the_console_shows_the_hostile_corpus_literally(console: Console, prefix: str, tmp_path: Path) -> None:
    topic = f"{prefix}.hostile"
    producer = AIOKafkaProducer(**console.session.options.client_kwargs(), max_request_size=8 * 1024 * 1024)
    await producer.start()
    try:
        for _name, key, value, headers in CORPUS:
            await producer.send_and_wait(topic, value, key=key, headers=headers, partition=0)
    finally:
        await producer.stop()

    app = console.app
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("s")
        streams = app.screen
        assert isinstance(streams, StreamsScreen)
        streams.reading = True
        streams.views = ViewStore(tmp_path / "views.json")
        pane = await streams.add_pane(PaneSpec("hostile", Selection(topics=(topic,)), "earliest"))
        await async_wait_until(lambda: pane.buffer.received == len(CORPUS), timeout=60)
        await async_wait_until(lambda: pane.buffer.pending == 0, timeout=10)
        await pilot.pause()
        assert len(pane.buffer) == len(CORPUS)  # nothing dropped: every record is a row
        shown = screen_text(console)
        assert not any(c in shown for c in RAW_CONTROLS)
        assert SECRET not in shown

        for index, (name, *_rest) in enumerate(CORPUS):
            pane.table.follow = False
            pane.table.cursor = index
            pane.table.action_choose()
            await async_wait_until(lambda: isinstance(app.screen, RecordDetailScreen), timeout=10)
            detail = app.screen
            assert isinstance(detail, RecordDetailScreen)
            await async_wait_until(lambda d=detail: d.ready, timeout=30)
            for _view in range(3):  # JSON / text / hex, whichever apply
                await pilot.pause()
                text = screen_text(console)
                assert not any(c in text for c in RAW_CONTROLS), name
                assert SECRET not in text, name  # the apikey stays masked unless revealed
                # ... in what ``c`` copies too, whatever spelling or non-JSON value held it.
                assert SECRET[:6] not in detail.rendered, (name, detail.mode)
                await pilot.press("v")
            await pilot.press("escape")
            await async_wait_until(lambda: isinstance(app.screen, StreamsScreen), timeout=10)

        # Still answering keys after all of it: pause and resume take effect at once.
        await pilot.press("space")
        assert pane.paused
        await pilot.press("space")
        assert not pane.paused
