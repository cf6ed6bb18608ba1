"""Reading topics without joining a consumer group: the group-less consumer, partition assignment, seeking to a
start position, records from fetched batches. The readers built on it: :mod:`tui.kafka.tail` (to the end) and
:mod:`tui.kafka.subscription` (live); cluster metadata comes from :mod:`tui.kafka.metadata`."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from tui.kafka.metadata import partitions_for
from tui.kafka.options import ConnectionOptions, stop_quietly
from tui.records import Record

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from tui.selection import StartPosition  # selection and its filters: not for a command that only connects

T = TypeVar("T")

RETRY_CAP_MS = 30_000
"""The longest wait between two reconnect attempts of a reader, whatever the first delay."""


class StreamError(RuntimeError):
    """A topic cannot be read (unknown topic, cluster unreachable)."""



def consumer(options: ConnectionOptions, **extra: Any) -> AIOKafkaConsumer:
    """A consumer that joins no group and commits nothing."""
    from aiokafka import AIOKafkaConsumer

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
    from aiokafka import TopicPartition

    partitions: list[TopicPartition] = []
    missing: list[str] = []
    for topic in topics:
        found = await partitions_for(client, topic, timeout)
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
        end = await read_end_offsets(client, partitions, begin)
        for tp in partitions:
            client.seek(tp, max(begin[tp], end[tp] - start.value))
    else:
        begin = await client.beginning_offsets(list(partitions))
        end = await read_end_offsets(client, partitions, begin)
        # Every partition's search at once (each seeks and reads only its own partition): a trace over dozens
        # of partitions took ~0.1 s per partition one after the other.
        found = await asyncio.gather(
            *(offset_for_time(client, tp, start.value, begin[tp], end[tp]) for tp in partitions)
        )
        for tp, offset in zip(partitions, found, strict=True):
            client.seek(tp, offset)


async def offset_for_time(
    client: AIOKafkaConsumer, tp: TopicPartition, millis: int, begin: int, end: int, probe_timeout_ms: int = 5000
) -> int:
    """The first offset of ``tp`` whose record time is ``millis`` or later (``end`` when none).

    Found by binary search over the records themselves (log2(n) single-record reads), not by the broker's
    ListOffsets-by-time answer: the test broker answers that with offset 0 whatever the time
    (README: "The embedded broker's quirks"), and a wrong start is worse than a few reads. Assumes times grow with offsets, as
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


async def bounded(call: Coroutine[Any, Any, T], timeout: float, what: str) -> T:
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


END_PROBE_QUIET_MS = 200
"""How long a fetch past the last batch must stay empty before no later batch is looked for."""
END_PROBE_BOUND_S = 10.0
"""The most time spent finding where the records end (a cluster that stops answering meanwhile)."""


async def read_end_offsets(
    client: AIOKafkaConsumer, partitions: Sequence[TopicPartition], begin: Mapping[TopicPartition, int]
) -> dict[TopicPartition, int]:
    """The end offset of each partition as its records show it, not as the broker counts it.

    The test broker answers ListOffsets after batched produce with the last batch's first offset + 1 (a
    partition holding offsets up to 599 in one batch answered 1), so ``-N`` started hundreds of records early
    and a time after the last record still found records. So the record just before the answer is read: it
    exists, so waiting for it waits for an answer, not for a silence that a slow fetch would fake; it comes with
    its whole batch, whose last offset is the end. Then a short quiet read looks for any later batch.
    ``partitions`` must be assigned; their positions are left anywhere.
    """
    wanted = list(partitions)
    ends: dict[TopicPartition, int] = dict(await client.end_offsets(wanted))
    awaited = {tp for tp in wanted if ends[tp] > begin[tp]}
    for tp in wanted:
        client.seek(tp, ends[tp] - 1 if tp in awaited else ends[tp])
    loop = asyncio.get_running_loop()
    deadline = loop.time() + END_PROBE_BOUND_S
    last_look = False
    while loop.time() < deadline:
        # Once every awaited record came, one more read: a batch written after them (a busy topic keeps
        # writing; what comes later than that is newer than the start asked for anyway).
        last_look = not awaited
        fetched = await client.getmany(*wanted, timeout_ms=END_PROBE_QUIET_MS)
        for tp, messages in fetched.items():
            if messages:
                awaited.discard(tp)
                ends[tp] = max(ends[tp], messages[-1].offset + 1)
        if last_look:
            break
    return ends
