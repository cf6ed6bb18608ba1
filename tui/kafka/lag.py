"""Consumer lag of a group: per topic and partition, the committed offset, the end offset and the lag.

aiokafka's admin ``list_consumer_group_offsets`` cannot decode this project's test broker's answer
(README: "The embedded broker's quirks"), so committed offsets are asked the way a consumer of the group asks them: a consumer
configured with the group's id calls ``committed()`` for each partition. It never subscribes, so it never
joins the group, never triggers a rebalance and never commits anything.

The groups to choose from come from the admin ``ListGroups`` request (:func:`consumer_groups`), which this
broker answers; a group that only ever committed offsets, without joining, is listed too.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from tui.failures import reason
from tui.group_lag import GroupLag, GroupSummary, PartitionLag
from tui.kafka.admin import Admin
from tui.kafka.metadata import every_topic
from tui.kafka.options import ConnectionOptions, start_client
from tui.kafka.streams import StreamError


class LagMonitor:
    """Asks a group's committed offsets and the end offsets; keep it started to refresh live."""

    def __init__(self, options: ConnectionOptions, group: str, *, concurrency: int = 32) -> None:
        if not group.strip():
            raise ValueError("a consumer group id is needed")
        self.options = options
        self.group = group
        self._concurrency = concurrency
        self._client: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        """Connect, bounded by the connection timeout; :class:`StreamError` when the cluster is unreachable."""
        client = self.options.group_consumer(self.group)
        await start_client(client, self.options, error=StreamError)
        self._client = client

    async def stop(self) -> None:
        """Disconnect."""
        client, self._client = self._client, None
        if client is not None:
            await client.stop()

    def _require(self) -> AIOKafkaConsumer:
        if self._client is None:
            raise StreamError("the lag monitor is not started")
        return self._client

    async def snapshot(
        self,
        topics: Iterable[str] | None = None,
        *,
        pattern: str | None = None,
        include_uncommitted: bool = False,
    ) -> GroupLag:
        """The lag now on ``topics`` (default: every topic, or those matching ``pattern``).

        Partitions the group never committed on are left out unless ``include_uncommitted``.
        """
        client = self._require()
        cluster = await every_topic(client)
        regex = re.compile(pattern) if pattern else None
        names = sorted(topics) if topics is not None else sorted(
            t for t in cluster.topics() if not t.startswith("__") and (regex is None or regex.fullmatch(t))
        )
        partitions = [
            TopicPartition(t, p) for t in names for p in sorted(cluster.partitions_for_topic(t) or ())
        ]
        if not partitions:
            return GroupLag(self.group, ())
        gate = asyncio.Semaphore(self._concurrency)

        async def committed(tp: TopicPartition) -> int | None:
            async with gate:
                value: int | None = await client.committed(tp)
                return value

        found = await asyncio.gather(*(committed(tp) for tp in partitions))
        ends: dict[TopicPartition, int] = await client.end_offsets(partitions)
        rows = [
            PartitionLag(tp.topic, tp.partition, offset, ends[tp])
            for tp, offset in zip(partitions, found, strict=True)
            if offset is not None or include_uncommitted
        ]
        return GroupLag(self.group, tuple(rows))


async def group_lag(
    options: ConnectionOptions, group: str, topics: Iterable[str] | None = None, *, pattern: str | None = None
) -> GroupLag:
    """One look at a group's lag (connects, asks, disconnects)."""
    monitor = LagMonitor(options, group)
    await monitor.start()
    try:
        return await monitor.snapshot(topics, pattern=pattern)
    finally:
        await monitor.stop()


async def consumer_groups(options: ConnectionOptions) -> list[str]:
    """The cluster's consumer groups, sorted (groups of other protocols, e.g. Kafka Connect, left out).

    :class:`tui.kafka.admin.ClusterUnreachableError` when the cluster does not answer.
    """
    async with Admin(options) as admin:
        listed: list[tuple[str, str]] = await asyncio.wait_for(
            admin.client.list_consumer_groups(), timeout=max(options.request_timeout_ms / 1000, 1.0)
        )
    return sorted({str(group) for group, protocol in listed if protocol in ("consumer", "")})


def _described(responses: Iterable[Any]) -> dict[str, tuple[str, int]]:
    """``DescribeGroups`` answers as ``{group: (state, members)}`` (groups the broker reports an error for are
    left out: they keep the ``?`` state)."""
    found: dict[str, tuple[str, int]] = {}
    for response in responses:
        for entry in getattr(response, "groups", ()):
            error_code, group_id, state, _protocol_type, _protocol, members = entry[:6]
            if error_code == 0:
                found[str(group_id)] = (str(state) or "?", len(members))
    return found


async def group_overview(options: ConnectionOptions, *, concurrency: int = 8) -> list[GroupSummary]:
    """Every consumer group with its state, member count and total lag (over what it committed on), by id.

    A group whose lag cannot be read is listed with the reason; :class:`tui.kafka.admin.ClusterUnreachableError`
    when the cluster does not answer at all.
    """
    groups = await consumer_groups(options)
    if not groups:
        return []
    timeout = max(options.request_timeout_ms / 1000, 1.0)
    async with Admin(options) as admin:
        try:
            described = _described(
                await asyncio.wait_for(admin.client.describe_consumer_groups(groups), timeout=timeout)
            )
        except (KafkaError, TimeoutError):
            described = {}  # the list still says which groups exist and their lag
    gate = asyncio.Semaphore(concurrency)

    async def one(group: str) -> GroupSummary:
        state, members = described.get(group, ("?", 0))
        async with gate:
            try:
                lag = await asyncio.wait_for(group_lag(options, group), timeout=timeout * 2)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                return GroupSummary(group, state, members, None, error=reason(exc))
        return GroupSummary(group, state, members, lag.total, len(lag.partitions))

    return list(await asyncio.gather(*(one(g) for g in groups)))
