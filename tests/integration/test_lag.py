"""Consumer lag on the real broker, from a group that committed offsets."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from tui.config import KafkaSettings
from tui.demo.broker import free_port
from tui.kafka.admin import Admin, TopicSpec
from tui.kafka.lag import LagMonitor, consumer_groups, group_lag, group_overview
from tui.kafka.options import ClusterUnreachableError, ConnectionOptions

pytestmark = pytest.mark.broker


async def test_committed_end_and_lag_per_partition(settings: KafkaSettings, prefix: str) -> None:
    options = ConnectionOptions.from_settings(settings)
    topic, other = f"{prefix}.lagged", f"{prefix}.untouched"
    async with Admin(options) as admin:
        await admin.create_topics([TopicSpec(topic, 2), TopicSpec(other, 1)])
    producer = AIOKafkaProducer(**options.client_kwargs())
    await producer.start()
    try:
        for i in range(10):
            await producer.send_and_wait(topic, b"x", partition=i % 2)
        await producer.send_and_wait(other, b"y")
    finally:
        await producer.stop()
    group = f"{prefix}-group"
    committer = AIOKafkaConsumer(**options.client_kwargs(), group_id=group, enable_auto_commit=False)
    await committer.start()
    try:
        committer.assign([TopicPartition(topic, 0), TopicPartition(topic, 1)])
        await committer.commit({TopicPartition(topic, 0): 2, TopicPartition(topic, 1): 5})
    finally:
        await committer.stop()

    lag = await group_lag(options, group, pattern=rf"{prefix}\..*")
    rows = {(p.topic, p.partition): (p.committed, p.end, p.lag) for p in lag.partitions}
    assert rows == {(topic, 0): (2, 5, 3), (topic, 1): (5, 5, 0)}
    assert lag.total == 3

    monitor = LagMonitor(options, group)
    await monitor.start()
    try:
        full = await monitor.snapshot([topic, other], include_uncommitted=True)
        assert {(p.topic, p.partition): p.lag for p in full.partitions} == {
            (topic, 0): 3, (topic, 1): 0, (other, 0): None
        }
        unknown = await monitor.snapshot([topic])
        assert len(unknown.partitions) == 2
    finally:
        await monitor.stop()
    assert (await group_lag(options, f"{prefix}-nobody", [topic])).partitions == ()


async def test_the_cluster_lists_its_groups_and_any_group_can_be_followed(
    settings: KafkaSettings, prefix: str
) -> None:
    """The panel opens on KAFKA_CONSUMER_GROUP_ID; any other group of the cluster can be chosen."""
    options = ConnectionOptions.from_settings(settings)
    topic = f"{prefix}.chosen"
    async with Admin(options) as admin:
        await admin.create_topics([TopicSpec(topic, 1)])
    producer = AIOKafkaProducer(**options.client_kwargs())
    await producer.start()
    try:
        for _ in range(4):
            await producer.send_and_wait(topic, b"x")
    finally:
        await producer.stop()
    groups = {f"{prefix}-billing": 1, f"{prefix}-audit": 3}
    for group, offset in groups.items():
        committer = AIOKafkaConsumer(**options.client_kwargs(), group_id=group, enable_auto_commit=False)
        await committer.start()
        try:
            committer.assign([TopicPartition(topic, 0)])
            await committer.commit({TopicPartition(topic, 0): offset})
        finally:
            await committer.stop()

    listed = await consumer_groups(options)
    assert set(groups) <= set(listed) and listed == sorted(listed)
    for group, offset in groups.items():
        lag = await group_lag(options, group, [topic])
        assert [(p.committed, p.end, p.lag) for p in lag.partitions] == [(offset, 4, 4 - offset)]


async def test_listing_groups_on_an_unreachable_cluster_says_so(settings: KafkaSettings) -> None:
    down = settings.model_copy(update={"brokers": [f"127.0.0.1:{free_port()}"]})
    with pytest.raises(ClusterUnreachableError, match="cannot reach the cluster"):
        await consumer_groups(ConnectionOptions.from_settings(down))


async def test_group_overview_gives_state_members_and_total_lag(settings: KafkaSettings, prefix: str) -> None:
    """The groups screen's list: a group that only committed is listed with its lag; a subscribed member counts."""
    options = ConnectionOptions.from_settings(settings)
    topic = f"{prefix}.overview"
    async with Admin(options) as admin:
        await admin.create_topics([TopicSpec(topic, 1)])
    producer = AIOKafkaProducer(**options.client_kwargs())
    await producer.start()
    try:
        for _ in range(6):
            await producer.send_and_wait(topic, b"x")
    finally:
        await producer.stop()
    committed = f"{prefix}-committed"
    committer = AIOKafkaConsumer(**options.client_kwargs(), group_id=committed, enable_auto_commit=False)
    await committer.start()
    try:
        committer.assign([TopicPartition(topic, 0)])
        await committer.commit({TopicPartition(topic, 0): 2})
    finally:
        await committer.stop()

    overview = {g.group: g for g in await group_overview(options)}
    mine = overview[committed]
    assert (mine.lag, mine.partitions, mine.error) == (4, 1, None)
    assert mine.members == 0 and mine.state  # committed without joining: no member
