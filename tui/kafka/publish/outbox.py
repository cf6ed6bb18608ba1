"""The event publisher's outbox: records handed over and not settled yet, sent to the producer in batches.

A pump task takes everything queued at once, groups it into one record batch per partition (aiokafka's
``create_batch``/``send_batch``) and settles counters, offsets and waiters once per batch. Nothing is made
per record that nobody asks for: no future, task or callback per record.

A record gets up to ``KAFKA_SEND_RETRIES`` attempts. When an attempt fails, no new record is handed over
until every record in flight has settled, and the failed ones go back to the front of the queue in the order
they were handed over, so records with the same key are acknowledged in hand-over order. After the last
attempt a record is reported failed with its error and the connection counts as lost.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tui.config import KafkaSettings
from tui.failures import reason
from tui.kafka.options import ReadOnlyError
from tui.kafka.publish.connection import ProducerLink
from tui.kafka.publish.losses import LossWatch, digest
from tui.kafka.publish.placement import Placement, TopicMissingError, topic_unknown
from tui.kafka.publish.records import (
    Counters,
    Lane,
    OutboundRecord,
    by_seq,
    outcome_unknown,
    retriable,
    too_large,
)

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer
    from aiokafka.producer.message_accumulator import BatchBuilder

# The publisher's logger: `evokafka publish` quiets it by this name, whichever module of the publisher speaks.
log = logging.getLogger("tui.kafka.publish.publisher")

MAX_UNSETTLED = 100_000
"""Records in the publisher (queued or in flight) before :meth:`Outbox.put` waits for room."""
LARGE_VALUE_BYTES = 64 * 1024
"""Values above this are measured exactly against the maximum request size before they are batched."""
MAX_HAND_OVER = 20_000
"""Records the pump hands over in one go before it lets the rest of the loop run."""


class Outbox:
    """Queues records, hands them to the producer in ordered batches, and settles each one exactly once."""

    def __init__(self, settings: KafkaSettings, placement: Placement, link: ProducerLink) -> None:
        self.settings = settings
        self.placement = placement
        self.link = link
        self.counters = Counters()
        self.losses = LossWatch()
        """Where acknowledged records sit, and which ones the cluster lost since."""
        self.last_answer = time.monotonic()
        """``time.monotonic()`` of the last answer to a batch (acknowledgement or error)."""
        self._sent_at: dict[int, float] = {}
        self._handing_since: float | None = None
        self._handing: asyncio.Future[None] | None = None
        """``time.monotonic()`` when the hand-over under way began (it waits on the producer: metadata, room)."""
        self.unsettled = 0
        """Records handed over and not settled yet (queued, being handed over or in flight)."""
        self.closed = False
        """The publisher stopped: records that fail an attempt are reported failed, not tried again."""
        self._seq = 0
        self._pending: deque[OutboundRecord] = deque()
        self._in_flight: dict[int, list[OutboundRecord]] = {}
        """Batches handed to the producer and not answered yet, by serial number."""
        self._batch_serial = 0
        self._current: deque[list[OutboundRecord]] | None = None
        """Records the pump holds while handing them over (neither queued nor in flight)."""
        self._attempt_failures: list[tuple[OutboundRecord, str]] = []
        self._draining = False
        self._lane_acked: dict[tuple[str, str], int] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self._room = asyncio.Event()
        self._room.set()
        self._wake = asyncio.Event()

    # -- handing over ----------------------------------------------------------------------------------

    async def put(
        self, lanes: Sequence[Lane], value: bytes, headers: tuple[tuple[str, bytes], ...]
    ) -> list[OutboundRecord]:
        """One record per lane, queued (or reported failed at once when the publisher cannot take it)."""
        records: list[OutboundRecord] = []
        for lane in lanes:
            while self.unsettled >= MAX_UNSETTLED:
                self._room.clear()
                await self._room.wait()
            self._seq += 1
            record = OutboundRecord(self._seq, lane, value, headers)
            records.append(record)
            self.counters.sent += 1
            self.unsettled += 1
            self._idle.clear()
            if self.closed:
                self.settle_failed(record, "publisher stopped")
            elif (refusal := self.link.refusal()) is not None:
                self.settle_failed(record, refusal)
            else:
                self._pending.append(record)
        if self._pending and not self._wake.is_set():
            self._wake.set()
        self.link.changed()
        return records

    def wake(self) -> None:
        """Let the pump look again (the connection is up)."""
        self._wake.set()

    async def flush(self) -> None:
        """Wait until every record handed over so far is acknowledged or reported failed."""
        await self._idle.wait()

    # -- settling: counters and waiters move once per batch, not per record ---------------------------

    def _settled(self, count: int) -> None:
        self.unsettled -= count
        if self.unsettled == 0:
            self._idle.set()
        if self.unsettled < MAX_UNSETTLED and not self._room.is_set():
            self._room.set()
        self.link.changed()

    def _settle_acked(self, records: Sequence[OutboundRecord], partition: int, base_offset: int) -> None:
        """A batch was acknowledged: its records sit at ``base_offset``, ``base_offset + 1``, ... in order."""
        lane_acked = self._lane_acked
        count = uncertain = 0
        offset = base_offset
        for record in records:
            if not record.settled:
                if record.uncertain:
                    uncertain += 1
                record.settled = True
                record.partition = partition
                record.offset = offset
                if lane_acked.get(record.lane, -1) < record.seq:
                    lane_acked[record.lane] = record.seq
                if record.waiters:
                    record.wake_waiters()
                count += 1
            offset += 1
        self.counters.resent += uncertain
        if count:
            self.counters.acknowledged += count
            self.losses.acked(
                records[0].target.topic, partition, base_offset, [digest(r.key, r.value) for r in records]
            )
            self._settled(count)

    def settle_failed(self, record: OutboundRecord, error: str) -> None:
        """Report ``record`` failed with ``error`` (no-op when it has settled already)."""
        if record.settled:
            return
        record.settled = True
        record.partition = record.offset = None
        record.error = error
        self.counters.failed += 1
        # Debug, not warning: an outage fails records by the thousand; the status and the deliveries say it.
        log.debug("record to %s (key %s) failed: %s", record.target.topic, record.target.key, error)
        record.wake_waiters()
        self._settled(1)

    def fail_everything(self, error: str) -> None:
        """Report every record not settled yet failed with ``error``: queued, being handed over, in flight."""
        leftovers = [*self._attempt_failures]
        self._attempt_failures.clear()
        for record, why in leftovers:
            self.settle_failed(record, f"{error}: {why}")
        if self._current is not None:
            for group in self._current:
                for record in group:
                    self.settle_failed(record, error)
            self._current = None
        for records in list(self._in_flight.values()):
            for record in records:
                self.settle_failed(record, error)
        self._in_flight.clear()
        self._sent_at.clear()
        while self._pending:
            self.settle_failed(self._pending.popleft(), error)

    # -- the pump: hands records to the producer in batches, in order ---------------------------------

    def _may_hand_over(self) -> bool:
        return not self._draining and bool(self._pending) and self.link.sending_producer() is not None

    def _may_go_on(self, producer: AIOKafkaProducer) -> bool:
        """Whether a hand-over under way may continue (the producer is still ours, nothing failed)."""
        return not self._draining and self.link.sending_producer() is producer

    async def run(self) -> None:
        """The pump: hand queued records over whenever the connection allows, until cancelled."""
        while True:
            if not self._may_hand_over():
                self._wake.clear()
                await self._wake.wait()
                continue
            pending = self._pending
            if len(pending) <= MAX_HAND_OVER:
                taken = list(pending)
                pending.clear()
            else:
                taken = [pending.popleft() for _ in range(MAX_HAND_OVER)]
            self._current = deque([taken])
            self._handing_since = time.monotonic()
            self._handing = handing = asyncio.ensure_future(self._hand_over(taken))
            try:
                await handing
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    # stop() cancelled us mid-hand-over: what is still in _current is reported failed.
                    handing.cancel()
                    raise
                # interrupt(): the connection was dropped while the hand-over waited on its producer.
                from aiokafka.errors import ProducerClosed

                for group in self._current or ():
                    self._attempt_error(group, ProducerClosed("the connection was dropped during the hand-over"))
            except Exception as exc:  # a bug here must not strand the records
                log.exception("publisher: handing over records failed")
                for group in self._current or ():
                    for record in group:
                        self.settle_failed(record, reason(exc))
            self._current = None
            self._handing = None
            self._handing_since = None
            self._maybe_finish_drain()
            # Hand-overs need not wait for anything: let the sender, the callbacks and the rest of the
            # application run between two of them.
            await asyncio.sleep(0)

    def _put_back(self, records: list[OutboundRecord]) -> None:
        """Records not handed over after all: back to the front of the queue, in hand-over order."""
        if records:
            records.sort(key=by_seq)
            self._pending.extendleft(reversed(records))

    async def _hand_over(self, taken: list[OutboundRecord]) -> None:
        producer = self.link.current_producer()
        assert producer is not None and self._current is not None
        # 1. Where each record goes: its topic made (or checked) once per connection, its partition once per
        #    lane (same key, same partition: the producer's own key hash).
        ready = self.placement.ready_topics
        partitions = self.placement.partitions
        resolved = 0
        for record in taken:
            if record.lane in partitions:
                record.partition = partitions[record.lane]
            else:
                if not self._may_go_on(producer):
                    self._put_back(taken[resolved:])
                    del taken[resolved:]
                    break
                topic = record.target.topic
                try:
                    if topic not in ready:
                        await self.placement.ensure_topic(self.link.current_admin(), topic)
                    record.partition = await self.placement.partition_for(producer, record.lane, record.key)
                except (TopicMissingError, ReadOnlyError) as exc:
                    self.settle_failed(record, str(exc))
                    resolved += 1
                    continue
                except Exception as exc:
                    record.attempts += 1
                    self._attempt_error([record], exc, always_retriable=True)
                    self._put_back(taken[resolved + 1 :])
                    del taken[resolved:]
                    break
            if len(record.value) > LARGE_VALUE_BYTES and (oversize := too_large(record)) is not None:
                self.settle_failed(record, oversize)
            resolved += 1
        # 2. One batch per partition (more when one fills up), records in hand-over order.
        by_partition: dict[tuple[str, int | None], list[tuple[BatchBuilder, list[OutboundRecord]]]] = {}
        for record in taken:
            if record.settled:
                continue
            where = (record.target.topic, record.partition)
            batches = by_partition.get(where)
            if batches is None:
                builder = producer.create_batch()
                members: list[OutboundRecord] = []
                by_partition[where] = [(builder, members)]
            else:
                builder, members = batches[-1]
            if builder.append(timestamp=None, key=record.key, value=record.value, headers=list(record.headers)) is None:
                builder.close()
                builder = producer.create_batch()
                members = []
                by_partition[where].append((builder, members))
                if builder.append(timestamp=None, key=record.key, value=record.value, headers=list(record.headers)) is None:
                    self.settle_failed(record, "MessageSizeTooLargeError: the record does not fit in a batch")
                    continue
            members.append(record)
        sends = [
            (topic, partition, builder, members)
            for (topic, partition), batches in by_partition.items()
            for builder, members in batches
            if members
        ]
        self._current = deque(members for _, _, _, members in sends)
        # 3. Hand each batch to the producer; it sends one request per broker at a time, so batches of a
        #    partition are written in the order they are handed over.
        for index, (topic, partition, builder, members) in enumerate(sends):
            if not self._may_go_on(producer):
                self._current = None
                self._put_back([r for _, _, _, rest in sends[index:] for r in rest if not r.settled])
                return
            retried = 0
            for record in members:
                record.attempts += 1
                if record.attempts > 1:
                    retried += 1
            self.counters.retried += retried
            # The batch is left open on purpose, so it lingers LINGER_MS in the producer like a send() would:
            # a broker that restarted empty (Tansu) acknowledges a produce to a topic it lost and keeps
            # nothing, and those few milliseconds let the producer notice the reconnect and refresh its
            # metadata (which re-creates the topic) before the batch leaves. Nothing else appends to it.
            try:
                future = await producer.send_batch(builder, topic, partition=partition)
            except Exception as exc:
                self._current.popleft()
                self._attempt_error(members, exc)
                continue
            self._current.popleft()
            self._batch_serial += 1
            serial = self._batch_serial
            self._in_flight[serial] = members
            self._sent_at[serial] = time.monotonic()
            future.add_done_callback(functools.partial(self._on_batch, serial))

    def stalled_for(self, now: float) -> float:
        """Seconds the oldest batch in flight (or the hand-over under way: it waits for the producer's metadata
        when the broker it knew is gone) has waited with no answer to any batch since (0: nothing waits)."""
        waiting = [t for t in (self._handing_since, next(iter(self._sent_at.values()), None)) if t is not None]
        if not waiting:
            return 0.0
        return max(0.0, now - max(min(waiting), self.last_answer))

    def in_flight_uncertain(self) -> None:
        """The link stalled or broke while batches were in flight: the Kafka client may send them again by
        itself, so each may end up in the topic twice."""
        for records in self._in_flight.values():
            for record in records:
                record.uncertain = True

    def interrupt(self) -> None:
        """The connection was dropped: a hand-over waiting on its producer (for metadata of a broker that is
        gone, up to the request timeout) stops now; its records get another attempt on the next connection."""
        if self._handing is not None and not self._handing.done():
            self._handing.cancel()

    def abandon_in_flight(self, error: str) -> None:
        """The connection is being dropped: batches still unanswered get another attempt, outcome unknown."""
        from aiokafka.errors import ProducerClosed

        abandoned = list(self._in_flight.values())
        self._in_flight.clear()
        self._sent_at.clear()
        for records in abandoned:
            for record in records:
                record.uncertain = True
            self._attempt_error(records, ProducerClosed(error))

    def _on_batch(self, serial: int, future: asyncio.Future[Any]) -> None:
        records = self._in_flight.pop(serial, None)
        self._sent_at.pop(serial, None)
        if records is None:
            return
        self.last_answer = time.monotonic()
        if future.cancelled():
            from aiokafka.errors import ProducerClosed

            for record in records:
                record.uncertain = True
            self._attempt_error(records, ProducerClosed())
        elif (exc := future.exception()) is not None:
            if outcome_unknown(exc):
                for record in records:
                    record.uncertain = True
            self._attempt_error(records, exc)
        else:
            metadata = future.result()
            self._settle_acked(records, int(metadata.partition), int(metadata.offset))
        self._maybe_finish_drain()

    def _attempt_error(
        self, records: Sequence[OutboundRecord], exc: BaseException, *, always_retriable: bool = False
    ) -> None:
        """An attempt of ``records`` failed: another attempt when it was the link, else reported failed."""
        if topic_unknown(exc):
            for topic in {record.target.topic for record in records}:
                self.losses.topic_vanished(topic)
            self.placement.forget(self.link.current_producer())
        elif not (always_retriable or retriable(exc)):
            why = reason(exc)
            for record in records:
                self.settle_failed(record, why)
            return
        # Stop handing over: the records behind these must not overtake them.
        self._draining = True
        why = reason(exc)
        self._attempt_failures.extend((record, why) for record in records if not record.settled)
        self._maybe_finish_drain()

    def _maybe_finish_drain(self) -> None:
        if not self._draining or self._in_flight or self._current is not None:
            return
        failures = sorted(self._attempt_failures, key=lambda item: item[0].seq)
        self._attempt_failures.clear()
        again: list[OutboundRecord] = []
        lost_error: str | None = None
        for record, error in failures:
            if record.settled:
                continue
            if self.closed:
                self.settle_failed(record, f"publisher stopped: {error}")
            elif self._lane_acked.get(record.lane, -1) > record.seq:
                # Sending it again would put it behind a later record of the same key.
                self.settle_failed(
                    record,
                    f"not retried: a later record with the same key was already acknowledged; {error}",
                )
            elif record.attempts >= self.settings.send_retries:
                self.settle_failed(record, f"failed after {record.attempts} attempts: {error}")
                lost_error = error
            else:
                again.append(record)
        # Back to the front, in hand-over order (records put back untried may sit there already).
        if again:
            again.extend(self._pending)
            again.sort(key=by_seq)
            self._pending = deque(again)
        self._draining = False
        if lost_error is not None:
            self.link.lose(lost_error)
        self._wake.set()
        self.link.changed()
