"""Topic statistics on the real broker: partitions, counts from offsets, rates between reads."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaProducer

from tui.config import KafkaSettings
from tui.demo.broker import free_port
from tui.kafka.admin import Admin, TopicSpec
from tui.kafka.options import ConnectionOptions
from tui.kafka.topicstats import TopicStatsReader

pytestmark = pytest.mark.broker


class StepClock:
    """A clock the test moves by hand: rates come out exact."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _produce(options: ConnectionOptions, topic: str, count: int, partitions: int) -> None:
    producer = AIOKafkaProducer(**options.client_kwargs())
    await producer.start()
    try:
        for i in range(count):
            await producer.send_and_wait(topic, b"x", partition=i % partitions)
    finally:
        await producer.stop()


async def test_partitions_counts_and_rates(settings: KafkaSettings, prefix: str) -> None:
    options = ConnectionOptions.from_settings(settings)
    busy, quiet = f"{prefix}.shop.messages.upsert", f"{prefix}.shop.call"
    async with Admin(options) as admin:
        await admin.create_topics([TopicSpec(busy, 3), TopicSpec(quiet, 1), TopicSpec(f"{prefix}x.other", 1)])
    await _produce(options, busy, 6, 3)
    clock = StepClock()
    async with TopicStatsReader(options, prefix, clock=clock) as reader:
        first = await reader.read()
        # Only topics under "prefix.": not the one whose name merely starts with the prefix.
        assert dict(first.partitions) == {busy: 3, quiet: 1}
        assert dict(first.messages) == {busy: 6, quiet: 0}
        assert dict(first.rates) == {}  # one read: no rate yet
        await _produce(options, busy, 9, 3)
        clock.now += 3.0
        second = await reader.read()
        assert dict(second.messages) == {busy: 15, quiet: 0}
        assert dict(second.rates) == {busy: 3.0, quiet: 0.0}
        assert second.total_rate == 3.0


async def test_an_unreachable_cluster_raises_and_the_reader_can_read_again(settings: KafkaSettings) -> None:
    down = settings.model_copy(update={"brokers": [f"127.0.0.1:{free_port()}"]})
    reader = TopicStatsReader(ConnectionOptions.from_settings(down), down.topic_prefix)
    with pytest.raises(ConnectionError):
        await reader.read()
    with pytest.raises(ConnectionError):  # no client kept half-open: a second read tries afresh
        await reader.read()
    await reader.close()
