"""Reading topics without joining a consumer group: start positions, partition assignment, batches."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, TopicPartition

from tui.kafka.options import ConnectionOptions
from tui.records import Record


class StreamError(RuntimeError):
    """A topic cannot be read (unknown topic, cluster unreachable)."""


@dataclass(frozen=True, slots=True)
class StartPosition:
    """Where reading starts: ``earliest``, ``latest``, the last ``n`` per partition, or a time (ms)."""

    kind: Literal["earliest", "latest", "last", "time"] = "latest"
    value: int = 0

    @classmethod
    def parse(cls, text: str) -> StartPosition:
        """``earliest`` | ``latest`` | ``-N`` (last N per partition) | ``@MILLIS`` or ISO time."""
        text = text.strip()
        if text in ("earliest", "beginning"):
            return cls("earliest")
        if text in ("latest", "end"):
            return cls("latest")
        if text.startswith("-") and text[1:].isdigit():
            return cls("last", int(text[1:]))
        if text.startswith("@") and text[1:].isdigit():
            return cls("time", int(text[1:]))
        from datetime import UTC, datetime

        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"bad start position {text!r}; allowed: earliest, latest, -N, @epoch-millis, ISO time"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return cls("time", int(moment.timestamp() * 1000))


def consumer(options: ConnectionOptions, **extra: Any) -> AIOKafkaConsumer:
    """A consumer that joins no group and commits nothing."""
    kwargs = options.client_kwargs()
    kwargs.update(
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=16 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    kwargs.update(extra)
    return AIOKafkaConsumer(**kwargs)


async def assign(
    client: AIOKafkaConsumer, topics: Sequence[str], start: StartPosition, timeout: float
) -> list[TopicPartition]:
    """Assign every partition of ``topics`` and seek to ``start``; unknown topics are a :class:`StreamError`."""
    partitions: list[TopicPartition] = []
    missing: list[str] = []
    for topic in topics:
        found = await _partitions_for(client, topic, timeout)
        if not found:
            missing.append(topic)
        partitions.extend(TopicPartition(topic, p) for p in sorted(found))
    if missing:
        raise StreamError(f"no such topic: {', '.join(missing)}")
    client.assign(partitions)
    if start.kind == "earliest":
        await client.seek_to_beginning(*partitions)
    elif start.kind == "latest":
        await client.seek_to_end(*partitions)
    elif start.kind == "last":
        begin = await client.beginning_offsets(partitions)
        end = await client.end_offsets(partitions)
        for tp in partitions:
            client.seek(tp, max(begin[tp], end[tp] - start.value))
    else:
        found_offsets = await client.offsets_for_times({tp: start.value for tp in partitions})
        end = await client.end_offsets(partitions)
        for tp in partitions:
            hit = found_offsets.get(tp)
            client.seek(tp, hit.offset if hit is not None else end[tp])
    return partitions


async def _partitions_for(client: AIOKafkaConsumer, topic: str, timeout: float) -> set[int]:
    # Metadata for a topic may lag its creation by a moment: ask again until the bound.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        await client._client.force_metadata_update()
        found = client.partitions_for_topic(topic)
        if found:
            return set(found)
        if loop.time() >= deadline:
            return set()
        await asyncio.sleep(0.1)


def to_record(message: Any) -> Record:
    """An aiokafka ``ConsumerRecord`` as a :class:`Record`."""
    return Record(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        timestamp=message.timestamp,
        timestamp_type=message.timestamp_type,
        key=message.key,
        value=message.value,
        headers=list(message.headers or ()),
    )


async def end_offsets(client: AIOKafkaConsumer, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
    """The current end offset of each partition."""
    result: dict[TopicPartition, int] = await client.end_offsets(partitions)
    return result


async def read(
    options: ConnectionOptions,
    topics: Sequence[str],
    start: StartPosition,
    *,
    stop_at_end: bool = False,
    batch_timeout_ms: int = 200,
) -> AsyncIterator[list[Record]]:
    """Batches of records of ``topics`` from ``start``; with ``stop_at_end`` it ends at the end offsets
    seen when reading began."""
    client = consumer(options)
    try:
        await asyncio.wait_for(client.start(), timeout=max(options.connect_timeout_s, 1.0) * 3)
    except (TimeoutError, OSError) as exc:
        await client.stop()
        raise StreamError(f"cannot reach the cluster at {','.join(options.bootstrap_servers)}: {exc}") from None
    except Exception as exc:
        await client.stop()
        raise StreamError(f"cannot reach the cluster at {','.join(options.bootstrap_servers)}: {exc}") from None
    try:
        partitions = await assign(client, topics, start, timeout=max(options.connect_timeout_s, 2.0))
        targets = await end_offsets(client, partitions) if stop_at_end else {}
        while True:
            if stop_at_end:
                remaining = [tp for tp in partitions if await client.position(tp) < targets[tp]]
                if not remaining:
                    return
            batches = await client.getmany(timeout_ms=batch_timeout_ms, max_records=5000)
            records = [to_record(m) for msgs in batches.values() for m in msgs]
            if stop_at_end:
                records = [r for r in records if r.offset < targets[TopicPartition(r.topic, r.partition)]]
            if records:
                yield records
    finally:
        await client.stop()
