"""Re-drive: send chosen records again, to their own topic or another, unchanged or edited, through the
publisher (:meth:`tui.kafka.publish.publisher.EventPublisher.resend`: the same outbox, order, retries and
acknowledgements as any published event), each marked with an ``evokafka-resent`` header naming the original.

:func:`fetch_records` reads records by their coordinates without joining a consumer group. Never imports Textual.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from aiokafka import TopicPartition

from tui.envelope import iso_millis
from tui.kafka.metadata import every_topic
from tui.kafka.options import ConnectionOptions, ReadOnlyError, start_client, stop_quietly
from tui.kafka.publish.publisher import EventPublisher
from tui.kafka.streams import StreamError, consumer, to_record
from tui.records import Record
from tui.replay_plan import RecordRef, resent_headers
from tui.status import Delivery
from tui.topology import Layout, Target, parse_topic

FETCH_TIMEOUT_MS = 5000


class RedriveError(RuntimeError):
    """A record to re-send cannot be found."""


async def fetch_records(options: ConnectionOptions, refs: Sequence[RecordRef]) -> list[Record]:
    """The records at ``refs``, in that order; :class:`RedriveError` for one that does not exist."""
    client = consumer(options)
    await start_client(client, options, error=StreamError)
    try:
        partitions = sorted({TopicPartition(r.topic, r.partition) for r in refs})
        cluster = await every_topic(client)
        for tp in partitions:
            if tp.partition not in (cluster.partitions_for_topic(tp.topic) or set()):
                raise RedriveError(f"no such partition: {tp.topic}[{tp.partition}]")
        client.assign(partitions)
        out: list[Record] = []
        for ref in refs:
            tp = TopicPartition(ref.topic, ref.partition)
            client.seek(tp, ref.offset)
            fetched = await client.getmany(tp, timeout_ms=FETCH_TIMEOUT_MS, max_records=1)
            found = [m for m in fetched.get(tp, []) if m.offset == ref.offset]
            if not found:
                raise RedriveError(f"no record at {ref}")
            out.append(to_record(found[0]))
        return out
    finally:
        await stop_quietly(client, timeout=max(options.connect_timeout_s, 1.0))


def target_of(record: Record, prefix: str, to_topic: str | None = None) -> Target:
    """Where a copy of ``record`` goes: its own topic (or ``to_topic``) with its own key."""
    topic = to_topic or record.topic
    ref = parse_topic(topic, prefix)
    layout = ref.layout if ref is not None else Layout.INSTANCE
    return Target(layout, topic, record.key.decode("utf-8", errors="replace") if record.key is not None else "")


async def redrive(
    publisher: EventPublisher,
    records: Sequence[Record],
    *,
    prefix: str,
    to_topic: str | None = None,
    values: Sequence[bytes] | None = None,
) -> list[Delivery]:
    """Send ``records`` again (``values``: edited values, one per record), marked as re-sent; one
    :class:`Delivery` per record once acknowledged or failed. :class:`ReadOnlyError` when read-only."""
    if publisher.read_only:
        raise ReadOnlyError("re-send records")
    if values is not None and len(values) != len(records):
        raise ValueError("one edited value per record")
    now = iso_millis(datetime.now(UTC))
    tickets = []
    for index, record in enumerate(records):
        original = RecordRef(record.topic, record.partition, record.offset)
        value = values[index] if values is not None else (record.value or b"")
        headers = resent_headers(original, record.headers, now)
        tickets.append(await publisher.resend(target_of(record, prefix, to_topic), value, headers))
    deliveries: list[Delivery] = []
    for ticket in tickets:
        deliveries.extend(await ticket.wait())
    return deliveries
