"""Discovery: the instances the cluster shows, whether or not the registry knows them.

An instance shows in the names of its per-instance topics (``<prefix>.<instance>.<wire name>``, parsed with
the known prefix and event suffix, so names with dots parse right), and in the records of the global topics
(key ``<instance>-<wire name>``, header ``instance``). Topic names come from one metadata request; of the
global topics only the last few hundred records per partition are read, within a bounded time, so listing
stays fast on a cluster with hundreds of topics.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping

from aiokafka import TopicPartition

from tui.instance_source import DiscoveredInstance
from tui.kafka.admin import Admin
from tui.kafka.options import ConnectionOptions
from tui.kafka.streams import consumer as groupless_consumer
from tui.topology import InstanceNameError, Layout, TopicRef, parse_topic, validate_instance

RECENT_PER_PARTITION = 300
"""Records read from the end of each global topic partition."""
SCAN_TIMEOUT_S = 2.0
"""Bound on reading the global topics; what was read by then is what is reported."""


async def discover(
    admin: Admin,
    options: ConnectionOptions,
    prefix: str,
    *,
    recent: int = RECENT_PER_PARTITION,
    timeout: float = SCAN_TIMEOUT_S,
) -> dict[str, DiscoveredInstance]:
    """Every instance seen under ``prefix``, by name (sorted)."""
    return await discover_in(await admin.topics(), options, prefix, recent=recent, timeout=timeout)


async def discover_in(
    topics: Mapping[str, int],
    options: ConnectionOptions,
    prefix: str,
    *,
    recent: int = RECENT_PER_PARTITION,
    timeout: float = SCAN_TIMEOUT_S,
) -> dict[str, DiscoveredInstance]:
    """:func:`discover` in ``topics`` (``{topic: partition count}``, the cluster's topics already known)."""
    found: dict[str, DiscoveredInstance] = {}
    global_topics: dict[str, tuple[TopicRef, int]] = {}
    legal: dict[str, bool] = {}
    """Whether each instance name seen is legal: an instance has a topic per event (31 at most)."""
    for topic, partitions in topics.items():
        ref = parse_topic(topic, prefix)
        if ref is None:
            continue
        if ref.layout is Layout.GLOBAL:
            global_topics[topic] = (ref, partitions)
            continue
        name = ref.instance
        if name is None:
            continue
        ok = legal.get(name)
        if ok is None:
            ok = legal[name] = _legal(name, prefix)
        if ok:
            _seen(found, name, Layout.INSTANCE, ref.event.wire, None)
    if global_topics:
        await _scan_global(options, prefix, global_topics, found, recent, timeout)
    return dict(sorted(found.items()))


def _seen(
    found: dict[str, DiscoveredInstance], name: str, layout: Layout, wire: str, timestamp: int | None
) -> None:
    entry = found.get(name)
    if entry is None:
        entry = found[name] = DiscoveredInstance(name)
    entry.layouts.add(layout)
    entry.events.add(wire)
    if timestamp is not None and (entry.last_seen_ms is None or timestamp > entry.last_seen_ms):
        entry.last_seen_ms = timestamp


def _legal(name: str, prefix: str) -> bool:
    try:
        validate_instance(name, prefix)
    except InstanceNameError:
        return False
    return True


def instances_in_record(
    ref: TopicRef, key: bytes | None, headers: Iterable[tuple[str, bytes | None]]
) -> set[str]:
    """The instance names a global-topic record carries: from its key and its ``instance`` header."""
    names: set[str] = set()
    suffix = "-" + ref.event.wire
    if key is not None:
        with contextlib.suppress(UnicodeDecodeError):
            text = bytes(key).decode("utf-8")
            if text.endswith(suffix) and len(text) > len(suffix):
                names.add(text[: -len(suffix)])
    for header, value in headers:
        if header == "instance" and value:
            with contextlib.suppress(UnicodeDecodeError):
                names.add(bytes(value).decode("utf-8"))
    return names


async def _scan_global(
    options: ConnectionOptions,
    prefix: str,
    topics: dict[str, tuple[TopicRef, int]],
    found: dict[str, DiscoveredInstance],
    recent: int,
    timeout: float,
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    client = groupless_consumer(options, fetch_max_wait_ms=50)
    try:
        try:
            await asyncio.wait_for(client.start(), timeout=timeout)
        except Exception:
            return  # best effort: the topic names were read; the records can wait for the next listing
        partitions = [TopicPartition(t, p) for t, (_, count) in sorted(topics.items()) for p in range(count)]
        client.assign(partitions)
        begin = await asyncio.wait_for(client.beginning_offsets(partitions), timeout=timeout)
        end = await asyncio.wait_for(client.end_offsets(partitions), timeout=timeout)
        remaining: set[TopicPartition] = set()
        for tp in partitions:
            start = max(begin[tp], end[tp] - recent)
            client.seek(tp, start)
            if start < end[tp]:
                remaining.add(tp)
            else:
                # Nothing to read here: stop fetching it so the others come faster.
                client.pause(tp)
        while remaining:
            left_ms = int((deadline - loop.time()) * 1000)
            if left_ms <= 0:
                return
            batches = await client.getmany(timeout_ms=min(left_ms, 200), max_records=5000)
            for tp, messages in batches.items():
                ref = topics[tp.topic][0]
                for message in messages:
                    if message.offset >= end[tp]:
                        continue
                    for name in instances_in_record(ref, message.key, message.headers or ()):
                        if _legal(name, prefix):
                            _seen(found, name, Layout.GLOBAL, ref.event.wire, message.timestamp)
            for tp in list(remaining):
                if await client.position(tp) >= end[tp]:
                    remaining.discard(tp)
                    client.pause(tp)
    except TimeoutError:
        return
    finally:
        with contextlib.suppress(Exception):
            await client.stop()
