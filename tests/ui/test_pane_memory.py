"""Memory follows the byte budget, not the size of records: a pane fed 1 MB records from the real broker holds no
more than ``EVOKAFKA_PANE_BUFFER_BYTES`` of them, counts the rest as dropped, shows each row cut to one line and
the newest value in full on demand."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.conftest import async_wait_until
from tests.ui.conftest import Console, stop
from tui.console.screens.record_detail import RecordDetailScreen
from tui.console.screens.streams import StreamsScreen
from tui.saved_views import ViewStore
from tui.selection import PaneSpec, Selection

pytestmark = pytest.mark.broker

MB = 1_000_000
BUDGET = 8 * 2**20
RECORDS = 30


@pytest.fixture
async def console(make_console: Callable[..., Console]) -> AsyncIterator[Console]:
    made = make_console()
    made.session.app_settings = made.session.app_settings.model_copy(update={"pane_buffer_bytes": BUDGET})
    yield made
    await stop(made)


def big_envelope(n: int) -> bytes:
    body = {"event": "messages.upsert", "instance": "big", "data": {"n": n, "blob": f"{n:04d}" + "x" * MB},
            "apikey": "SECRET-big-apikey"}
    return json.dumps(body).encode()


async def test_a_pane_fed_1mb_records_stays_under_its_byte_budget(
    console: Console, prefix: str, tmp_path: Path
) -> None:
    topic = f"{prefix}.big.messages.upsert"
    producer = console.session.options.producer(max_request_size=2 * MB, acks="all")
    await producer.start()
    try:
        for n in range(RECORDS):
            await producer.send_and_wait(topic, big_envelope(n), key=b"big", partition=0)
    finally:
        await producer.stop()

    app = console.app
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        streams = app.screen
        assert isinstance(streams, StreamsScreen)
        streams.reading = True
        streams.views = ViewStore(tmp_path / "views.json")
        pane = await streams.add_pane(PaneSpec("big", Selection(topics=(topic,)), "earliest"))
        buffer = pane.buffer
        peak = 0

        def all_read() -> bool:
            nonlocal peak
            peak = max(peak, sum(len(row.record.value or b"") for row in buffer))
            return buffer.received == RECORDS

        await async_wait_until(all_read, timeout=60)
        await async_wait_until(lambda: buffer.pending == 0, timeout=10)
        await pilot.pause()

        assert buffer.max_bytes == BUDGET and buffer.capacity == console.session.app_settings.pane_buffer
        held = sum(len(row.record.value or b"") for row in buffer)
        assert buffer.bytes <= BUDGET and held <= BUDGET and peak <= BUDGET, (buffer.bytes, held, peak)
        assert 5 <= len(buffer) <= BUDGET // MB  # as many as fit, no more
        counters = buffer.counters()
        assert counters.dropped == RECORDS - len(buffer) and counters.matched == RECORDS
        assert f"dropped {counters.dropped}" in counters.describe()
        # The newest records are the ones kept.
        assert [row.record.offset for row in buffer] == list(range(RECORDS - len(buffer), RECORDS))

        # Rows are one line each, cut; the detail shows the whole value on demand, secret masked.
        row = buffer[len(buffer) - 1]
        assert len(row.summary) <= 200
        pane.table.follow = False
        pane.table.cursor = len(buffer) - 1
        pane.table.action_choose()
        await async_wait_until(lambda: isinstance(app.screen, RecordDetailScreen), timeout=10)
        detail = app.screen
        assert isinstance(detail, RecordDetailScreen)
        await async_wait_until(lambda: detail.ready, timeout=30)
        assert len(detail.rendered) > MB and f"{RECORDS - 1:04d}" in detail.rendered
        assert "SECRET-big-apikey" not in detail.rendered
        await pilot.press("escape")
