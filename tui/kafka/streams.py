"""Reading topics without joining a consumer group: start positions, partition assignment, batches."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, TopicPartition

from tui.kafka.options import ConnectionOptions
from tui.records import Record
from tui.views import Selection


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
    await seek(client, partitions, start)
    return partitions


async def seek(client: AIOKafkaConsumer, partitions: Sequence[TopicPartition], start: StartPosition) -> None:
    """Move each assigned partition of ``partitions`` to ``start``."""
    if not partitions:
        return
    if start.kind == "earliest":
        await client.seek_to_beginning(*partitions)
    elif start.kind == "latest":
        await client.seek_to_end(*partitions)
    elif start.kind == "last":
        begin = await client.beginning_offsets(list(partitions))
        end = await client.end_offsets(list(partitions))
        for tp in partitions:
            client.seek(tp, max(begin[tp], end[tp] - start.value))
    else:
        begin = await client.beginning_offsets(list(partitions))
        end = await client.end_offsets(list(partitions))
        for tp in partitions:
            client.seek(tp, await offset_for_time(client, tp, start.value, begin[tp], end[tp]))


async def offset_for_time(
    client: AIOKafkaConsumer, tp: TopicPartition, millis: int, begin: int, end: int, probe_timeout_ms: int = 5000
) -> int:
    """The first offset of ``tp`` whose record time is ``millis`` or later (``end`` when none).

    Found by binary search over the records themselves (log2(n) single-record reads), not by the broker's
    ListOffsets-by-time answer: the test broker answers that with offset 0 whatever the time
    (test-broker.md), and a wrong start is worse than a few reads. Assumes times grow with offsets, as
    Kafka's own time index does. ``tp`` must be assigned; its position is left anywhere.
    """
    low, high = begin, end
    while low < high:
        middle = (low + high) // 2
        client.seek(tp, middle)
        fetched = await client.getmany(tp, timeout_ms=probe_timeout_ms, max_records=1)
        found = fetched.get(tp) or []
        if not found:
            # Nothing readable from here to the end within the bound: the records before decide.
            high = middle
            continue
        record = found[0]
        if record.timestamp >= millis:
            high = middle
        else:
            low = record.offset + 1
    return low


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


async def _cluster_partitions(client: AIOKafkaConsumer) -> dict[str, set[int]]:
    # Metadata for *all* topics, asked without naming any: naming a missing topic in a metadata request can
    # auto-create it on brokers with auto-creation on, and a reader must never create topics. aiokafka's public
    # ``topics()`` gives names only, so the client's own all-topics request is used for the partitions too.
    cluster = await client._client.fetch_all_metadata()
    out: dict[str, set[int]] = {}
    for topic in cluster.topics():
        found = cluster.partitions_for_topic(topic)
        if found:
            out[str(topic)] = set(found)
    return out


class StreamSubscription:
    """Live reading of a :class:`~tui.views.Selection` without joining a consumer group.

    The topics are the union of raw names, the layout picks (instances x events on per-instance topics, events
    on the global topics; names from :func:`tui.layout.topic_name`) and the topics matching ``pattern``
    (internal ``__*`` topics only when named). Named topics that do not exist yet, and topics created later
    that match the regex, are picked up while reading (every ``refresh_s``) and read from their beginning:
    everything in them is newer than the subscription. ``start`` applies to the topics found at start.

    :meth:`pause` stops fetching (nothing is lost: reading resumes where it stopped); :attr:`parked` says
    when the reader has actually stopped.
    """

    def __init__(
        self,
        options: ConnectionOptions,
        selection: Selection,
        *,
        prefix: str,
        start: StartPosition | None = None,
        batch_max: int = 2000,
        batch_timeout_ms: int = 100,
        refresh_s: float = 2.0,
    ) -> None:
        self.options = options
        self.selection = selection
        self.prefix = prefix
        self.start_position = start or StartPosition("latest")
        self.batch_max = batch_max
        self.batch_timeout_ms = batch_timeout_ms
        self.refresh_s = refresh_s
        self._regex = selection.regex()
        self._client: AIOKafkaConsumer | None = None
        self._assigned: list[TopicPartition] = []
        self.missing: list[str] = []
        """Named topics that do not exist (yet)."""
        self._last_refresh = 0.0
        self._running = asyncio.Event()
        self._running.set()
        self.parked = asyncio.Event()
        """Set while paused and not fetching."""
        self.received = 0

    @property
    def topics(self) -> list[str]:
        """The topics being read now."""
        return sorted({tp.topic for tp in self._assigned})

    @property
    def partitions(self) -> list[TopicPartition]:
        """The partitions being read now."""
        return list(self._assigned)

    @property
    def paused(self) -> bool:
        """Whether reading is paused."""
        return not self._running.is_set()

    def pause(self) -> None:
        """Stop fetching after the batch in hand."""
        self._running.clear()

    def resume(self) -> None:
        """Fetch again from where reading stopped."""
        self.parked.clear()
        self._running.set()

    async def start(self) -> None:
        """Connect (bounded by the connection timeout) and position every partition found."""
        self.selection.check(self.prefix)
        client = consumer(self.options)
        servers = ",".join(self.options.bootstrap_servers)
        try:
            await asyncio.wait_for(client.start(), timeout=max(self.options.connect_timeout_s, 1.0) * 3)
        except Exception as exc:
            await client.stop()
            raise StreamError(f"cannot reach the cluster at {servers}: {exc or exc.__class__.__name__}") from None
        self._client = client
        try:
            await self._refresh(initial=True)
        except Exception:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Disconnect."""
        client, self._client = self._client, None
        self._running.set()
        if client is not None:
            await client.stop()

    def _wanted(self, existing: dict[str, set[int]]) -> tuple[set[str], list[str]]:
        named = set(self.selection.named_topics(self.prefix))
        found = {t for t in named if t in existing}
        if self._regex is not None:
            found.update(t for t in existing if not t.startswith("__") and self._regex.fullmatch(t))
        return found, sorted(named - set(existing))

    async def _refresh(self, *, initial: bool = False) -> None:
        client = self._require()
        self._last_refresh = asyncio.get_running_loop().time()
        existing = await _cluster_partitions(client)
        wanted, self.missing = self._wanted(existing)
        current = set(self._assigned)
        new = [TopicPartition(t, p) for t in sorted(wanted) for p in sorted(existing[t])]
        added = [tp for tp in new if tp not in current]
        if not added:
            return
        # ``assign`` replaces the assignment and forgets positions: keep the ones we have.
        positions = {tp: await client.position(tp) for tp in self._assigned}
        self._assigned = [*self._assigned, *added]
        client.assign(self._assigned)
        for tp, offset in positions.items():
            client.seek(tp, offset)
        await seek(client, added, self.start_position if initial else StartPosition("earliest"))

    def _require(self) -> AIOKafkaConsumer:
        if self._client is None:
            raise StreamError("the subscription is not started")
        return self._client

    async def batches(self) -> AsyncIterator[list[Record]]:
        """Batches of records (never empty) for as long as the subscription runs."""
        loop = asyncio.get_running_loop()
        while self._client is not None:
            if not self._running.is_set():
                self.parked.set()
                await self._running.wait()
                continue
            if (self.missing or self._regex is not None) and loop.time() - self._last_refresh >= self.refresh_s:
                await self._refresh()
            client = self._require()
            if not self._assigned:
                # Nothing exists yet: wait for the next look at the cluster's topics.
                await asyncio.sleep(min(self.refresh_s, 0.5))
                continue
            fetched = await client.getmany(timeout_ms=self.batch_timeout_ms, max_records=self.batch_max)
            records = [to_record(m) for msgs in fetched.values() for m in msgs]
            if records:
                self.received += len(records)
                yield records
