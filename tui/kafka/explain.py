"""The live facts behind ``evokafka explain INSTANCE EVENT`` (:mod:`tui.explanation` says what they mean).

For each topic the routing answer names: whether it exists and its partitions; the newest record of that
instance and event, found from the end without reading the whole topic (a per-instance topic holds only that
instance and event: the last record of each partition; a global topic holds every instance: the partition of
the key ``<instance>-<event>`` is read backwards window by window, at most :data:`MAX_BACK` records); the
position of each consumer group on those partitions (committed offsets asked as :mod:`tui.kafka.lag` asks
them); and whether the cluster answers. Never imports Textual.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner

from tui import catalog
from tui.config import KafkaSettings
from tui.explanation import (
    ClusterFacts,
    Explanation,
    GroupBehind,
    LastRecord,
    RoutingAnswer,
    TopicFacts,
    explanation,
)
from tui.failures import reason
from tui.instance_settings import InstanceSettings
from tui.kafka.admin import Admin
from tui.kafka.lag import LagMonitor
from tui.kafka.options import ConnectionOptions, start_client, stop_quietly
from tui.kafka.streams import consumer, to_record
from tui.records import Record
from tui.routing import route_for
from tui.topology import Layout

MAX_BACK = 20_000
"""The most records read backwards in a global topic's partition to find the instance's last record."""
WINDOW = 500
"""Records read per step backwards."""
FETCH_TIMEOUT_MS = 1000

Router = Callable[[KafkaSettings, str, catalog.Event, InstanceSettings | None], RoutingAnswer]
"""What Evolution would do (:func:`tui.routing.route_for` fits)."""


async def _read_range(
    client: AIOKafkaConsumer, tp: TopicPartition, low: int, high: int | None, window: int = WINDOW
) -> list[Record]:
    """Records of ``tp`` from ``low`` to ``high`` (excluded; None: to whatever the end is now)."""
    client.seek(tp, low)
    out: list[Record] = []
    while True:
        fetched = await client.getmany(tp, timeout_ms=FETCH_TIMEOUT_MS, max_records=window)
        batch = fetched.get(tp) or []
        if not batch:
            return out
        for message in batch:
            if high is not None and message.offset >= high:
                return out
            out.append(to_record(message))


def _stamp(record: Record) -> int:
    body = record.decoded.body
    stamp = body.get("timestamp") if isinstance(body, dict) else None
    return int(stamp) if isinstance(stamp, int | float) and not isinstance(stamp, bool) else record.timestamp


async def last_record(
    client: AIOKafkaConsumer, topic: str, partitions: Sequence[int], key: bytes | None, *, window: int = WINDOW
) -> tuple[LastRecord | None, int, list[int]]:
    """The newest record of ``topic`` (with ``key`` when given), the records read, and the partitions that
    matter (the key's, else those holding records)."""
    tps = [TopicPartition(topic, p) for p in sorted(partitions)]
    client.assign(tps)
    begin = await client.beginning_offsets(tps)
    end = await client.end_offsets(tps)
    read = 0
    if key is None:
        newest: Record | None = None
        for tp in tps:
            if end[tp] <= begin[tp]:
                continue
            # From one before the end the broker gives: the test broker's end offsets can run low.
            records = await _read_range(client, tp, max(begin[tp], end[tp] - 1), None)
            read += len(records)
            if records and (newest is None or _stamp(records[-1]) > _stamp(newest)):
                newest = records[-1]
        found = [tp.partition for tp in tps if end[tp] > begin[tp]]
        return _last(newest), read, found
    sorted_parts = sorted(partitions)
    home = sorted_parts[DefaultPartitioner()(key, sorted_parts, sorted_parts) % len(sorted_parts)]
    order = [home, *(p for p in sorted_parts if p != home)]  # the key's partition first; others if moved
    for partition in order:
        tp = TopicPartition(topic, partition)
        high: int | None = None
        low = end[tp]
        while low > begin[tp] and read < MAX_BACK:
            low = max(begin[tp], low - window)
            records = await _read_range(client, tp, low, high, window)
            read += len(records)
            matching = [r for r in records if r.key == key]
            if matching:
                return _last(matching[-1]), read, [partition]
            high = low
        if read >= MAX_BACK:
            break
    return None, read, [home]


def _last(record: Record | None) -> LastRecord | None:
    return None if record is None else LastRecord(record.partition, record.offset, _stamp(record))


async def _groups_on(
    options: ConnectionOptions, groups: Sequence[str], topic: str, partitions: Sequence[int]
) -> tuple[GroupBehind, ...]:
    out: list[GroupBehind] = []
    for group in groups:
        monitor = LagMonitor(options, group)
        await monitor.start()
        try:
            lag = await monitor.snapshot([topic], include_uncommitted=True)
        finally:
            await monitor.stop()
        out.extend(
            GroupBehind(group, p.partition, p.committed, p.end) for p in lag.partitions if p.partition in partitions
        )
    return tuple(out)


async def explain(
    options: ConnectionOptions,
    settings: KafkaSettings,
    instance: str,
    event: catalog.Event,
    instance_settings: InstanceSettings | None,
    *,
    groups: Sequence[str] = (),
    router: Router = route_for,
    notes: Sequence[str] = (),
    window: int = WINDOW,
    publisher: str | None = None,
) -> Explanation:
    """Every fact of the explanation, checked now. An unreachable cluster is a fact too, not an error.

    ``publisher``: the state of evokafka's own publisher, when the caller runs one (the console's session)."""
    route = router(settings, instance, event, instance_settings)
    enabled = None if instance_settings is None else instance_settings.enabled
    now_ms = int(time.time() * 1000)
    try:
        async with Admin(options) as admin:
            info = await asyncio.wait_for(admin.cluster(), timeout=max(options.request_timeout_ms / 1000, 1.0))
            partitions_of = await admin.topics()
    except Exception as exc:
        cluster = ClusterFacts(tuple(options.bootstrap_servers), False, reason(exc))
        unknown = [TopicFacts(leg.layout, leg.topic, leg.key, leg.taken, leg.reason, False) for leg in route.legs]
        return explanation(instance, event, route, unknown, cluster, now_ms, notes, publisher, enabled)
    cluster = ClusterFacts(tuple(info.brokers) or tuple(options.bootstrap_servers), True)
    group_list = list(dict.fromkeys([settings.consumer_group_id, *groups]))
    client = consumer(options)
    await start_client(client, options)
    facts: list[TopicFacts] = []
    try:
        for leg in route.legs:
            count = partitions_of.get(leg.topic, 0)
            if not count:
                facts.append(TopicFacts(leg.layout, leg.topic, leg.key, leg.taken, leg.reason, False))
                continue
            key = leg.key.encode() if leg.layout is Layout.GLOBAL else None
            last, read, relevant = await last_record(client, leg.topic, range(count), key, window=window)
            behind = await _groups_on(options, group_list, leg.topic, relevant)
            facts.append(
                TopicFacts(leg.layout, leg.topic, leg.key, leg.taken, leg.reason, True, count, last, read, behind)
            )
    finally:
        await stop_quietly(client, timeout=max(options.connect_timeout_s, 1.0))
    return explanation(instance, event, route, facts, cluster, now_ms, notes, publisher, enabled)
