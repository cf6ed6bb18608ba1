"""Reading topics without joining a consumer group: start positions, partition assignment, batches."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition

from tui.kafka.options import ConnectionOptions, reason, start_client, stop_quietly
from tui.records import Record
from tui.selection import Selection, StartPosition, ViewError
from tui.status import ReaderStatus

T = TypeVar("T")

RETRY_CAP_MS = 30_000
"""The longest wait between two reconnect attempts of a reader, whatever the first delay."""


class StreamError(RuntimeError):
    """A topic cannot be read (unknown topic, cluster unreachable)."""



def consumer(options: ConnectionOptions, **extra: Any) -> AIOKafkaConsumer:
    """A consumer that joins no group and commits nothing."""
    kwargs = options.client_kwargs()
    kwargs.update(
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=16 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
        # A live view answers within a frame or two: this broker holds an empty fetch for the whole wait
        # (aiokafka's default 500 ms), which would put up to half a second between a record and its row.
        fetch_max_wait_ms=50,
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
    headers = message.headers
    # Positional: keyword arguments cost twice as much per record, and a pane reads tens of thousands a second.
    return Record(
        message.topic, message.partition, message.offset, message.timestamp, message.timestamp_type,
        message.key, message.value, headers or (),
    )


def to_records(fetched: Mapping[TopicPartition, Sequence[Any]]) -> list[Record]:
    """Every ``ConsumerRecord`` of a ``getmany`` answer as a :class:`Record`, partition by partition.

    The hot path of every reader: one comprehension per partition, no call per record beyond ``Record``
    itself (fields in :class:`Record`'s order).
    """
    make = Record
    out: list[Record] = []
    for tp, messages in fetched.items():
        topic, partition = tp.topic, tp.partition
        out += [
            make(topic, partition, m.offset, m.timestamp, m.timestamp_type, m.key, m.value,
                 m.headers or ())
            for m in messages
        ]
    return out


async def end_offsets(client: AIOKafkaConsumer, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
    """The current end offset of each partition."""
    result: dict[TopicPartition, int] = await client.end_offsets(partitions)
    return result


END_IDLE_MS = 1000
"""How long a reader stopping at the end must see no record, caught up with fresh end offsets, before it ends."""
END_STALL_MS = 15_000
"""How long a reader stopping at the end waits for records its end offsets promise but no fetch delivers."""


async def read(
    options: ConnectionOptions,
    topics: Sequence[str],
    start: StartPosition,
    *,
    stop_at_end: bool = False,
    batch_timeout_ms: int = 200,
    end_idle_ms: int = END_IDLE_MS,
    end_stall_ms: int = END_STALL_MS,
) -> AsyncIterator[list[Record]]:
    """Batches of records of ``topics`` from ``start``; with ``stop_at_end`` it ends once it has caught up.

    Caught up means: every partition's position is at or past an end offset asked *after* the last record
    arrived, and no record arrived for ``end_idle_ms``. End offsets alone cannot decide it: the test broker
    undercounts them after batched produce (a partition holding offsets up to 2499 answered 2346), so a reader
    stopping at the first answer loses records. Records written while reading are read too; a topic written
    without pause keeps the reader going. End offsets that promise records no fetch delivers (a broker that
    acknowledged writes it cannot serve) end the reading after ``end_stall_ms`` without a record.
    """
    client = consumer(options)
    await start_client(client, options, error=StreamError)
    try:
        partitions = await assign(client, topics, start, timeout=max(options.connect_timeout_s, 2.0))
        loop = asyncio.get_running_loop()
        last_record = loop.time()
        while True:
            batches = await client.getmany(timeout_ms=batch_timeout_ms, max_records=5000)
            if batches:
                records = to_records(batches)
                if records:
                    last_record = loop.time()
                    yield records
                    continue
            if not stop_at_end:
                continue
            quiet_ms = (loop.time() - last_record) * 1000
            if quiet_ms < end_idle_ms:
                continue
            ends = await client.end_offsets(partitions)
            behind = [tp for tp in partitions if await client.position(tp) < ends[tp]]
            if not behind or quiet_ms >= end_stall_ms:
                return
    finally:
        await stop_client(client, timeout=max(options.connect_timeout_s, 1.0) * 3)


async def _bounded(call: Coroutine[Any, Any, T], timeout: float, what: str) -> T:
    """``call``'s result within ``timeout`` seconds, else :class:`StreamError`.

    Not ``asyncio.wait_for``: with the broker gone, aiokafka's connection attempts may not end promptly on
    cancellation, and ``wait_for`` waits for the cancelled call to finish. Here the call is cancelled and
    left to end on its own.
    """
    task = asyncio.ensure_future(call)
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if not done:
        task.cancel()
        task.add_done_callback(_consume)
        raise StreamError(f"no {what} answer within {timeout:.1f} s")
    return task.result()


async def stop_client(client: AIOKafkaConsumer, *, timeout: float) -> None:
    """Stop ``client``, bounded, whatever state its connections are in (:func:`tui.kafka.options.stop_quietly`)."""
    await stop_quietly(client, timeout=timeout)


def _consume(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


async def _cluster_partitions(client: AIOKafkaConsumer, known: Sequence[str] = ()) -> dict[str, set[int]]:
    # Metadata for *all* topics, asked without naming any: naming a missing topic in a metadata request can
    # auto-create it on brokers with auto-creation on, and a reader must never create topics. aiokafka's public
    # ``topics()`` gives names only, so the client's own all-topics request is used for the partitions too.
    cluster = await client._client.fetch_all_metadata()
    out: dict[str, set[int]] = {}
    for topic in cluster.topics():
        found = cluster.partitions_for_topic(topic)
        if found:
            out[str(topic)] = set(found)
    lost = sorted(set(known) - set(out))
    if lost:
        # Topics this reader was reading before the cluster went away. The test broker, restarted empty,
        # leaves topics re-created by a producer out of its all-topics answer for a while; asked by name it
        # answers. These topics existed before, so naming them (which may re-create them) is acceptable.
        # Into the client's own metadata: its fetcher finds the partitions' leaders there.
        named = client._client.cluster
        if await client._client._metadata_update(named, lost):
            for topic in lost:
                found = named.partitions_for_topic(topic)
                if found:
                    out[topic] = set(found)
    return out


class StreamSubscription:
    """Live reading of a :class:`~tui.views.Selection` without joining a consumer group.

    The topics are the union of raw names, the layout picks (instances x events on per-instance topics, events
    on the global topics; names from :func:`tui.topology.topic_name`) and the topics matching ``pattern``
    (internal ``__*`` topics only when named). Named topics that do not exist yet, and topics created later
    that match the regex, are picked up while reading (every ``refresh_s``) and read from their beginning:
    everything in them is newer than the subscription. ``start`` applies to the topics found at start.

    :meth:`pause` stops fetching (nothing is lost: reading resumes where it stopped); :attr:`parked` says
    when the reader has actually stopped.

    :meth:`batches` ends with an exception when the cluster is lost; :meth:`follow` survives that: it
    reconnects with a bounded backoff and carries on from the positions it had. A broker that came back
    empty (memory storage, a recreated topic) has offsets below the old positions: those partitions are read
    again from their new beginning. (A topic recreated *and* refilled past the old position before the
    reader is back cannot be told from the old one: Kafka gives no topic identity to a group-less reader.)
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
        self._resume: dict[TopicPartition, int] = {}
        """Positions to carry on from after a reconnect or a topic that vanished (checked against offsets)."""
        self._next: dict[TopicPartition, int] = {}
        """The next offset per partition, from the records read."""
        self._started_once = False
        self._closed = False
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
        self._closed = False
        client = consumer(self.options)
        await start_client(client, self.options, error=StreamError)
        self._client = client
        try:
            await self._refresh(initial=True)
        except Exception:
            await self._disconnect()
            raise

    async def stop(self) -> None:
        """Disconnect for good (:meth:`follow` ends)."""
        self._closed = True
        client, self._client = self._client, None
        self._running.set()
        if client is not None:
            await stop_client(client, timeout=max(self.options.connect_timeout_s, 1.0) * 3)

    async def _disconnect(self) -> None:
        """Drop the client after a failure, remembering where each partition was."""
        client, self._client = self._client, None
        if client is None:
            return
        for tp in self._assigned:
            position = await self._position(client, tp)
            if position is not None:
                self._resume[tp] = position
        self._assigned = []
        await stop_client(client, timeout=max(self.options.connect_timeout_s, 1.0))

    async def _position(self, client: AIOKafkaConsumer, tp: TopicPartition) -> int | None:
        """The partition's position, or the one the records read say when it is not known at once."""
        with contextlib.suppress(Exception):
            # A known position answers at once; an unknown one would wait for a cluster that may be gone.
            found: int = await asyncio.wait_for(client.position(tp), timeout=0.2)
            return found
        return self._next.get(tp)

    async def follow(
        self,
        on_status: Callable[[ReaderStatus], None] | None = None,
        *,
        initial_delay_ms: int = 500,
        max_delay_ms: int = RETRY_CAP_MS,
    ) -> AsyncIterator[list[Record]]:
        """Batches for as long as the subscription runs, reconnecting when the cluster is lost.

        Starts the subscription if needed. Each failure (cluster unreachable at start, metadata or fetch
        errors later) is reported through ``on_status`` as ``reconnecting`` with its attempt number, then
        retried after a delay that doubles from ``initial_delay_ms`` up to ``max_delay_ms``; ``reading`` is
        reported once connected again. A selection that cannot be read at all (:class:`ViewError`) is raised.
        Ends after :meth:`stop`.
        """

        def report(status: ReaderStatus) -> None:
            if on_status is not None:
                on_status(status)

        attempt = 0
        delay_ms = max(initial_delay_ms, 1)
        cap_ms = max(max_delay_ms, delay_ms)
        while not self._closed:
            try:
                if self._client is None:
                    await self.start()
                if attempt or not self._started_once:
                    report(ReaderStatus("reading"))
                self._started_once = True
                attempt, delay_ms = 0, max(initial_delay_ms, 1)
                async for batch in self.batches():
                    yield batch
            except asyncio.CancelledError as exc:
                task = asyncio.current_task()
                if task is None or task.cancelling():
                    raise
                # Not our cancellation: aiokafka lets a cancelled internal request escape when the broker
                # goes away mid-request. It is a lost connection like any other.
                failure: Exception = StreamError(f"request cancelled by the client: {reason(exc)}")
            except ViewError:
                raise
            except Exception as exc:
                failure = exc
            else:
                continue
            if self._closed:
                break
            await self._disconnect()
            attempt += 1
            report(ReaderStatus("reconnecting", attempt, delay_ms, reason(failure)))
            # Backoff between attempts (not a wait for a condition): the cluster is simply asked again.
            await asyncio.sleep(delay_ms / 1000)
            delay_ms = min(delay_ms * 2, cap_ms)
        report(ReaderStatus("stopped"))

    def _wanted(self, existing: dict[str, set[int]]) -> tuple[set[str], list[str]]:
        named = set(self.selection.named_topics(self.prefix))
        found = {t for t in named if t in existing}
        if self._regex is not None:
            found.update(t for t in existing if not t.startswith("__") and self._regex.fullmatch(t))
        return found, sorted(named - set(existing))

    async def _refresh(self, *, initial: bool = False) -> None:
        client = self._require()
        self._last_refresh = asyncio.get_running_loop().time()
        existing = await _bounded(
            _cluster_partitions(client, sorted({tp.topic for tp in self._resume})), max(self.options.request_timeout_ms / 1000, 1.0) * 2, "metadata"
        )
        wanted, self.missing = self._wanted(existing)
        current = set(self._assigned)
        new = [TopicPartition(t, p) for t in sorted(wanted) for p in sorted(existing[t])]
        added = [tp for tp in new if tp not in current]
        # A topic that vanished (deleted, or a broker back empty): stop reading it, and carry on from where
        # reading stopped if it comes back (checked against its offsets then).
        gone = [tp for tp in self._assigned if tp.topic not in existing or tp.partition not in existing[tp.topic]]
        if not added and not gone:
            return
        # ``assign`` replaces the assignment and forgets positions: keep the ones we have.
        for tp in gone:
            offset = await self._position(client, tp)
            if offset is not None:
                self._resume[tp] = offset
        positions = {tp: await client.position(tp) for tp in self._assigned if tp not in gone}
        self._assigned = [*(tp for tp in self._assigned if tp not in gone), *added]
        client.assign(self._assigned)
        for tp, offset in positions.items():
            client.seek(tp, offset)
        resumed = [tp for tp in added if tp in self._resume]
        fresh = [tp for tp in added if tp not in self._resume]
        # Only the first connection starts at ``start``: anything found later is newer than the subscription.
        first = initial and not self._started_once
        await seek(client, fresh, self.start_position if first else StartPosition("earliest"))
        if resumed:
            begin = await client.beginning_offsets(resumed)
            end = await client.end_offsets(resumed)
            for tp in resumed:
                offset = self._resume.pop(tp)
                # Out of range: the partition was recreated; everything in it is new.
                client.seek(tp, offset if begin[tp] <= offset <= end[tp] else begin[tp])

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
            # Every ``refresh_s`` the cluster's topics are read again: new topics join, and a lost cluster
            # shows as an error here (fetching alone retries silently for ever).
            if loop.time() - self._last_refresh >= self.refresh_s:
                await self._refresh()
            client = self._require()
            if not self._assigned:
                # Nothing exists yet: wait for the next look at the cluster's topics.
                await asyncio.sleep(min(self.refresh_s, 0.5))
                continue
            fetched = await client.getmany(timeout_ms=self.batch_timeout_ms, max_records=self.batch_max)
            if not fetched:
                continue
            records = to_records(fetched)
            following = self._next
            for tp, msgs in fetched.items():
                if msgs:
                    following[tp] = msgs[-1].offset + 1
            if records:
                self.received += len(records)
                yield records
