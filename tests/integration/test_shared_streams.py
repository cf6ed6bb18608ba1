"""Panes reading the same selection share one fetch (tui.kafka.shared), on the real broker: every pane gets every
record, a paused pane loses nothing while the others read on, and a pane never joins a reading that would make it
miss records."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from aiokafka import AIOKafkaProducer

from tests.conftest import async_wait_until
from tui.kafka.admin import Admin, TopicSpec
from tui.kafka.options import ConnectionOptions
from tui.kafka.shared import SharedReader, SharedReadings
from tui.records import Record
from tui.selection import Selection, StartPosition
from tui.status import ReaderStatus

pytestmark = pytest.mark.broker

BATCH = 100


@pytest.fixture
async def topic(options: ConnectionOptions, prefix: str) -> str:
    name = f"{prefix}.shared"
    async with Admin(options) as admin:
        await admin.create_topics([TopicSpec(name, 3)])
    return name


async def write(producer: AIOKafkaProducer, topic: str, first: int, count: int) -> None:
    for n in range(first, first + count):
        await producer.send(topic, f'{{"n": {n}}}'.encode(), key=str(n).encode())
    await producer.flush()


class Pane:
    """What a stream pane does with a reader: iterate its ``follow``, keep every record, note its states."""

    def __init__(self, reader: SharedReader) -> None:
        self.reader = reader
        self.records: list[Record] = []
        self.states: list[str] = []
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for batch in self.reader.follow(self._status, initial_delay_ms=100):
            self.records.extend(batch)

    def _status(self, status: ReaderStatus) -> None:
        self.states.append(status.state)

    @property
    def reading(self) -> bool:
        return "reading" in self.states

    def values(self) -> list[int]:
        return sorted(int(r.key or b"-1") for r in self.records)

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.reader.stop()


async def test_panes_on_one_selection_share_one_fetch(
    options: ConnectionOptions, producer: AIOKafkaProducer, prefix: str, topic: str
) -> None:
    readings = SharedReadings(options, prefix)
    selection = Selection(topics=(topic,))
    panes = [Pane(readings.reader(selection, StartPosition("latest"), BATCH)) for _ in range(3)]
    try:
        await async_wait_until(lambda: all(p.reading for p in panes))
        assert readings.hubs == 1 and all(p.reader.shared for p in panes)
        await write(producer, topic, 0, 300)
        await async_wait_until(lambda: all(len(p.records) >= 300 for p in panes))
        for pane in panes:
            assert pane.values() == list(range(300))
        # The same records, decoded once: every pane holds the very same objects.
        first = {(r.partition, r.offset): r for r in panes[0].records}
        assert all(first[(r.partition, r.offset)] is r for p in panes[1:] for r in p.records)
    finally:
        for pane in panes:
            await pane.close()
    assert readings.hubs == 0


async def test_a_paused_pane_loses_nothing_while_the_others_read_on(
    options: ConnectionOptions, producer: AIOKafkaProducer, prefix: str, topic: str
) -> None:
    readings = SharedReadings(options, prefix)
    selection = Selection(topics=(topic,))
    await write(producer, topic, 0, 20)
    paused, other = (Pane(readings.reader(selection, StartPosition("earliest"), BATCH)) for _ in range(2))
    try:
        await async_wait_until(lambda: len(paused.records) == 20 and len(other.records) == 20)
        paused.reader.pause()
        await asyncio.wait_for(paused.reader.parked.wait(), 10)
        assert not paused.reader.shared
        await write(producer, topic, 20, 30)
        await async_wait_until(lambda: len(other.records) == 50)
        assert len(paused.records) == 20
        paused.reader.resume()
        await async_wait_until(lambda: len(paused.records) >= 50)
        await write(producer, topic, 50, 10)
        await async_wait_until(lambda: len(paused.records) >= 60 and len(other.records) >= 60)
        # Nothing lost, nothing twice, on either side.
        assert paused.values() == list(range(60)) == other.values()
    finally:
        await paused.close()
        await other.close()
    assert readings.hubs == 0


async def test_a_pane_paused_before_it_reads_starts_where_it_was_asked_to(
    options: ConnectionOptions, producer: AIOKafkaProducer, prefix: str, topic: str
) -> None:
    readings = SharedReadings(options, prefix)
    await write(producer, topic, 0, 10)
    reader = readings.reader(Selection(topics=(topic,)), StartPosition("earliest"), BATCH)
    reader.pause()
    pane = Pane(reader)
    try:
        await asyncio.wait_for(reader.parked.wait(), 10)
        assert pane.records == []
        reader.resume()
        await async_wait_until(lambda: len(pane.records) == 10)
        assert pane.values() == list(range(10))
    finally:
        await pane.close()


async def test_a_pane_from_the_beginning_never_joins_a_reading_under_way(
    options: ConnectionOptions, producer: AIOKafkaProducer, prefix: str, topic: str
) -> None:
    readings = SharedReadings(options, prefix)
    selection = Selection(topics=(topic,))
    await write(producer, topic, 0, 10)
    first = Pane(readings.reader(selection, StartPosition("earliest"), BATCH))
    second: Pane | None = None
    try:
        await async_wait_until(lambda: len(first.records) == 10)
        # The first reading has handed records out: a second pane from the beginning reads on its own.
        second = Pane(readings.reader(selection, StartPosition("earliest"), BATCH))
        await async_wait_until(lambda: len(second.records) == 10 if second else False)
        assert readings.hubs == 1  # the table keeps the newest; the first reads on for its pane
        assert not first.reader.shared and not second.reader.shared
        await write(producer, topic, 10, 5)
        await async_wait_until(lambda: len(first.records) == 15 and second is not None and len(second.records) == 15)
        assert first.values() == second.values() == list(range(15))
    finally:
        await first.close()
        if second is not None:
            await second.close()
