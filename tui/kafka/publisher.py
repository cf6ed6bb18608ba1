"""The event publisher: Evolution API's Kafka producer, done so an operator can watch it work.

:meth:`EventPublisher.publish` builds the envelope, routes it (per-instance topic when the instance's
settings enable the event, global topic when ``KAFKA_GLOBAL_ENABLED`` and ``KAFKA_EVENTS_<NAME>`` hold, both,
or nowhere) and queues each record without waiting for it; the returned :class:`PublishTicket` resolves when
each one is acknowledged or finally failed.

Speed: a pump task takes everything queued at once, groups it into one record batch per partition (aiokafka's
``create_batch``/``send_batch``; the partition of a key is the producer's own key hash, computed once per topic
and key) and settles counters, offsets and waiters once per batch. Nothing is made per record that nobody
asks for: no future, task or callback per record; a ticket makes a future only while someone awaits it.

Rules (the reference's numbers are the settings' defaults):

- ``acks=all``, one request in flight per broker connection (aiokafka's sender never has more than one
  produce request per node outstanding, so per-partition order holds), idempotence *requested*; a broker
  that refuses it (Tansu does, for aiokafka) gets a producer without it, and the status says so.
- A record gets up to ``KAFKA_SEND_RETRIES`` attempts. When an attempt fails, no new record is handed over
  until every record in flight has settled, and the failed ones go back to the front of the queue in the
  order they were handed over — so records with the same key are acknowledged in hand-over order. After the
  last attempt a record is reported failed with its error and the connection counts as lost.
- A lost connection is re-made with backoff (:class:`~tui.kafka.reconnect.ReconnectPolicy`): first delay
  ``KAFKA_RECONNECT_INITIAL_DELAY_MS``, doubling, capped at 2^5 times the first, at most
  ``KAFKA_RECONNECT_MAX_ATTEMPTS`` attempts; then FAILED (queued records are reported failed) until
  :meth:`EventPublisher.retry`.
- Every record handed over ends acknowledged or reported failed: ``sent == acknowledged + failed`` once
  :meth:`EventPublisher.flush` returns.
- ``KAFKA_AUTO_CREATE_TOPICS=true`` creates exactly the topics published to, once per topic (per connection:
  a restarted broker may have lost them); ``false`` checks that the topic exists and reports a missing one as
  the record's error instead of letting the broker auto-create it.
- A broker that restarts quickly (empty, on the same port) may never break the connection for long enough to
  count as lost. So an answer that says the topic or partition is unknown (unknown topic or partition, not
  leader, leader not available, or the bare unknown error a restarted broker gives) also forgets which topics
  were made, asks for fresh metadata, and counts as a failed attempt: the next attempt makes (or checks) the
  topic again, within the ``KAFKA_SEND_RETRIES`` budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    KafkaTimeoutError,
    LeaderNotAvailableError,
    NotLeaderForPartitionError,
    ProducerClosed,
    UnknownError,
    UnknownTopicOrPartitionError,
)
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from tui import events as catalog
from tui import layout
from tui.config import KafkaSettings
from tui.envelope import DEFAULT_ORIGIN, DEFAULT_SERVER_URL, build
from tui.instances import InstanceSettings, SettingsLookup
from tui.kafka.admin import Admin, ClusterUnreachableError, ReadOnlyError, TopicSpec
from tui.kafka.options import ConnectionOptions
from tui.kafka.reconnect import ReconnectPolicy

log = logging.getLogger(__name__)

MAX_UNSETTLED = 100_000
"""Records in the publisher (queued or in flight) before :meth:`EventPublisher.publish` waits for room."""
STATUS_INTERVAL_S = 0.1
"""Counter-only changes reach subscribers at most this often; state changes reach them at once."""
LINGER_MS = 5
PROBE_INTERVAL_S = 5.0
"""How often an idle, connected publisher checks that the cluster still answers."""
MAX_BATCH_BYTES = 256 * 1024
MAX_REQUEST_BYTES = 1024 * 1024
"""aiokafka's ``max_request_size`` (its default): a record larger than this is refused before sending."""
LARGE_VALUE_BYTES = 64 * 1024
"""Values above this are measured exactly against :data:`MAX_REQUEST_BYTES` before they are batched."""
MAX_HAND_OVER = 20_000
"""Records the pump hands over in one go before it lets the rest of the loop run."""
VALID_INSTANCES_MAX = 10_000
ROUTES_MAX = 10_000
_PARTITIONER = DefaultPartitioner()


class PublisherState(StrEnum):
    """Where the publisher's connection stands."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    FAILED = "failed"


@dataclass(frozen=True)
class PublisherStatus:
    """A snapshot of the publisher: connection state, reconnect schedule, counters, idempotence."""

    state: PublisherState
    attempt: int
    """Reconnect attempt n (0 when not reconnecting)."""
    max_attempts: int
    """N = ``KAFKA_RECONNECT_MAX_ATTEMPTS``."""
    delay_ms: int
    """The current backoff delay (0 when none)."""
    next_try_at: float | None
    """``time.time()`` of the next attempt, for a live countdown (None while trying or not reconnecting)."""
    last_error: str | None
    sent: int
    """Records handed over to the publisher."""
    acknowledged: int
    retried: int
    """Attempts after the first (a record sent three times counts two)."""
    failed: int
    """Records reported failed (with their error); never silently dropped."""
    idempotence: bool | None
    """None: not known yet; False: the broker refused it, carrying on with acks=all and one in flight."""

    @property
    def in_flight(self) -> int:
        """Records handed over and not settled yet."""
        return self.sent - self.acknowledged - self.failed

    def describe(self) -> str:
        """One loggable line."""
        if self.state is PublisherState.RECONNECTING:
            head = f"reconnecting: attempt {self.attempt}/{self.max_attempts}, delay {self.delay_ms} ms"
            if self.next_try_at is not None:
                head += f", next try in {max(0.0, self.next_try_at - time.time()):.1f}s"
            else:
                head += ", trying now"
        elif self.state is PublisherState.FAILED:
            head = f"failed after {self.max_attempts} reconnect attempts; retry to reconnect"
        else:
            head = self.state.value
        if self.last_error and self.state is not PublisherState.CONNECTED:
            head += f" (last error: {self.last_error})"
        idem = {
            None: "idempotence unknown",
            True: "idempotence on",
            False: "idempotence OFF (refused by the broker; acks=all, 1 request in flight)",
        }[self.idempotence]
        return (
            f"{head}; sent {self.sent}, acknowledged {self.acknowledged}, retried {self.retried}, "
            f"failed {self.failed}, in flight {self.in_flight}; {idem}"
        )


@dataclass(frozen=True)
class Delivery:
    """What became of one record: where it was written, or why it was not."""

    topic: str
    key: str
    partition: int | None
    offset: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        """Acknowledged by the broker."""
        return self.error is None


class PublishTicket:
    """Returned by :meth:`EventPublisher.publish` at once; the records are in flight."""

    # A caller may hold tens of thousands of tickets: each is one small object holding its records directly
    # (no list for the usual single target), which keeps the garbage collector's full passes rare.
    __slots__ = ("_first", "_rest", "route")

    def __init__(self, route: layout.Route, records: Sequence[_Record]) -> None:
        self.route = route
        """Where the event goes and why (no targets: nothing was sent)."""
        self._first: _Record | None = records[0] if records else None
        self._rest: tuple[_Record, ...] = tuple(records[1:]) if len(records) > 1 else ()

    @property
    def _records(self) -> tuple[_Record, ...]:
        return () if self._first is None else (self._first, *self._rest)

    @property
    def done(self) -> bool:
        """Whether every record has settled."""
        return all(r.settled for r in self._records)

    async def wait(self) -> list[Delivery]:
        """One :class:`Delivery` per target, after its acknowledgement or final failure."""
        for record in self._records:
            if not record.settled:
                # Made only for a record someone waits on, and one per wait: cancelling one waiter (its own
                # future) leaves the record and every other waiter alone.
                waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                if record.waiters is None:
                    record.waiters = [waiter]
                else:
                    record.waiters.append(waiter)
                try:
                    await waiter
                finally:
                    if record.waiters is not None and waiter in record.waiters:
                        record.waiters.remove(waiter)
        return [r.delivery() for r in self._records]


class _Lane:
    """A route's target with what the pump needs of it, made once per cached route (not per record)."""

    __slots__ = ("key", "name", "target")

    def __init__(self, target: layout.Target) -> None:
        self.target = target
        self.name = (target.topic, target.key)
        """Records of one lane (topic and key) go to one partition and are acknowledged in hand-over order."""
        self.key = target.key.encode()


class _Record:
    """One record on its way: queued, in flight, waiting for another attempt, or settled.

    The outcome is kept as plain fields; the :class:`Delivery` is made only when a ticket is read.
    """

    __slots__ = (
        "attempts",
        "error",
        "headers",
        "key",
        "lane",
        "offset",
        "partition",
        "seq",
        "settled",
        "target",
        "value",
        "waiters",
    )

    def __init__(self, seq: int, lane: _Lane, value: bytes, headers: tuple[tuple[str, bytes], ...]) -> None:
        self.seq = seq
        self.target = lane.target
        self.lane = lane.name
        self.key = lane.key
        self.value = value
        self.headers = headers
        self.attempts = 0
        self.settled = False
        self.partition: int | None = None
        self.offset: int | None = None
        self.error: str | None = None
        self.waiters: list[asyncio.Future[None]] | None = None

    def delivery(self) -> Delivery:
        return Delivery(self.target.topic, self.target.key, self.partition, self.offset, self.error)

    def wake_waiters(self) -> None:
        waiters, self.waiters = self.waiters, None
        if waiters:
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)


class _TopicMissingError(Exception):
    """The topic does not exist and auto-creation is off."""


@dataclass(slots=True)
class _Counters:
    sent: int = 0
    acknowledged: int = 0
    retried: int = 0
    failed: int = 0


class EventPublisher:
    """Publishes Evolution API events to Kafka with visible reconnect and backoff; loses nothing silently."""

    def __init__(
        self,
        settings: KafkaSettings,
        lookup: SettingsLookup,
        *,
        options: ConnectionOptions | None = None,
        read_only: bool = False,
        server_url: str = DEFAULT_SERVER_URL,
        apikey: str | None = None,
        origin: str = DEFAULT_ORIGIN,
        probe_interval_s: float = PROBE_INTERVAL_S,
    ) -> None:
        self.settings = settings
        self.lookup = lookup
        self.options = options or ConnectionOptions.from_settings(settings)
        self.read_only = read_only
        self.server_url = server_url
        self.apikey = apikey
        self.origin = origin
        self.probe_interval_s = probe_interval_s
        """While idle and connected, ask the cluster this often whether it is still there."""
        self.probes = 0
        """Probes the cluster answered (for the logs and the tests)."""
        self.policy = ReconnectPolicy.from_settings(settings)
        self._state = PublisherState.DISCONNECTED
        self._delay_ms = 0
        self._next_try_at: float | None = None
        self._last_error: str | None = None
        self._counters = _Counters()
        self._idempotence: bool | None = None
        self._idempotence_refused = False
        self._subscribers: list[Callable[[PublisherStatus], None]] = []
        self._emit_handle: asyncio.TimerHandle | None = None
        self._seq = 0
        self._pending: deque[_Record] = deque()
        self._in_flight: dict[int, list[_Record]] = {}
        """Batches handed to the producer and not answered yet, by serial number."""
        self._batch_serial = 0
        self._current: deque[list[_Record]] | None = None
        """Records the pump holds while handing them over (neither queued nor in flight)."""
        self._partitions: dict[tuple[str, str], int] = {}
        """The partition of each lane (topic, key), per connection."""
        self._valid_instances: set[str] = set()
        self._routes: dict[
            tuple[str, str], tuple[InstanceSettings | None, KafkaSettings, layout.Route, tuple[_Lane, ...]]
        ] = {}
        self._attempt_failures: list[tuple[_Record, str]] = []
        self._draining = False
        self._lane_acked: dict[tuple[str, str], int] = {}
        self._unsettled = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._room = asyncio.Event()
        self._room.set()
        self._wake = asyncio.Event()
        self._lost = asyncio.Event()
        self._retry = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self._admin: Admin | None = None
        self._ready_topics: set[str] = set()
        self._supervisor: asyncio.Task[None] | None = None
        self._pump: asyncio.Task[None] | None = None
        self._closed = False

    # -- observing -------------------------------------------------------------------------------------

    @property
    def status(self) -> PublisherStatus:
        """The current snapshot."""
        c = self._counters
        reconnecting = self._state is PublisherState.RECONNECTING
        return PublisherStatus(
            state=self._state,
            attempt=self.policy.attempt if reconnecting else 0,
            max_attempts=self.policy.max_attempts,
            delay_ms=self._delay_ms if reconnecting else 0,
            next_try_at=self._next_try_at if reconnecting else None,
            last_error=self._last_error,
            sent=c.sent,
            acknowledged=c.acknowledged,
            retried=c.retried,
            failed=c.failed,
            idempotence=self._idempotence,
        )

    def subscribe(self, callback: Callable[[PublisherStatus], None]) -> Callable[[], None]:
        """Call ``callback`` with each new status (state changes at once, counters throttled).

        Returns a function that unsubscribes.
        """
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    def _emit(self) -> None:
        if self._emit_handle is not None:
            self._emit_handle.cancel()
            self._emit_handle = None
        status = self.status
        log.debug("publisher: %s", status.describe())
        for callback in list(self._subscribers):
            try:
                callback(status)
            except Exception:  # an observer's bug must not stop the publisher
                log.exception("publisher status subscriber failed")

    def _changed(self) -> None:
        # Counters change per record (tens of thousands per second): tell observers at a bounded rate.
        if self._emit_handle is None and self._subscribers:
            with contextlib.suppress(RuntimeError):
                self._emit_handle = asyncio.get_running_loop().call_later(STATUS_INTERVAL_S, self._emit)

    def _set_state(
        self, state: PublisherState, *, delay_ms: int = 0, next_try_at: float | None = None
    ) -> None:
        self._state = state
        self._delay_ms = delay_ms
        self._next_try_at = next_try_at
        if state is PublisherState.CONNECTED:
            log.info("publisher connected to %s", ",".join(self.options.bootstrap_servers))
        self._emit()

    # -- lifecycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start connecting in the background. Never raises because the broker is down: the state shows
        it and the reconnect schedule runs."""
        if self._supervisor is not None:
            return
        if self._closed:
            raise RuntimeError("a stopped EventPublisher cannot be started again")
        self._pump = asyncio.create_task(self._run_pump(), name="publisher:pump")
        self._supervisor = asyncio.create_task(self._supervise(), name="publisher:connection")
        # Let the supervisor show CONNECTING before start() returns.
        await asyncio.sleep(0)

    async def stop(self) -> None:
        """Flush what is in flight (each record ends acknowledged or failed), then close."""
        if self._closed:
            return
        if self._state is PublisherState.CONNECTED and self._unsettled:
            bound = self.options.request_timeout_ms / 1000 * self.settings.send_retries + 5
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.flush(), timeout=bound)
        self._closed = True
        for task in (self._supervisor, self._pump):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._supervisor = self._pump = None
        # The producer flushes what it holds; each record settles through its callback.
        await self._disconnect()
        self._fail_everything("publisher stopped before the record was acknowledged")
        self._set_state(PublisherState.DISCONNECTED)

    async def flush(self) -> None:
        """Wait until every record handed over so far is acknowledged or reported failed."""
        await self._idle.wait()

    def retry(self) -> None:
        """After FAILED: reset the schedule and start reconnecting again (idempotence is asked for anew)."""
        if self._state is PublisherState.FAILED:
            self._idempotence_refused = False
            self._retry.set()

    # -- publishing ------------------------------------------------------------------------------------

    async def publish(
        self,
        event: catalog.Event | str,
        instance: str,
        data: Any,
        *,
        sender: str | None = None,
        server_url: str | None = None,
        apikey: str | None = None,
    ) -> PublishTicket:
        """Route and hand over ``event`` of ``instance``; returns at once with a ticket to wait on.

        Raises :class:`~tui.events.UnknownEventError` / :class:`~tui.layout.InstanceNameError` on bad
        input, :class:`~tui.kafka.admin.ReadOnlyError` when read-only.
        """
        resolved = event if isinstance(event, catalog.Event) else catalog.lookup(event)
        if instance not in self._valid_instances:
            layout.validate_instance(instance, self.settings.topic_prefix)
            if len(self._valid_instances) >= VALID_INSTANCES_MAX:
                self._valid_instances.clear()
            self._valid_instances.add(instance)
        if self.read_only:
            raise ReadOnlyError(f"publish {resolved.wire} of {instance}")
        route, lanes = self._route(instance, resolved)
        if not lanes:
            return PublishTicket(route, ())
        envelope = build(
            resolved,
            instance,
            data,
            server_url=server_url or self.server_url,
            sender=sender,
            apikey=apikey if apikey is not None else self.apikey,
            origin=self.origin,
        )
        value = envelope.encode()
        # Kept as a tuple of (str, bytes) tuples, which the garbage collector stops tracking: one object
        # fewer per record held, so fewer full collections while tens of thousands are in flight.
        headers = tuple(envelope.headers)
        records: list[_Record] = []
        for lane in lanes:
            while self._unsettled >= MAX_UNSETTLED:
                self._room.clear()
                await self._room.wait()
            self._seq += 1
            record = _Record(self._seq, lane, value, headers)
            records.append(record)
            self._counters.sent += 1
            self._unsettled += 1
            self._idle.clear()
            if self._closed:
                self._settle_failed(record, "publisher stopped")
            elif self._state is PublisherState.FAILED:
                self._settle_failed(record, f"not sent: the publisher has failed ({self._last_error}); retry")
            else:
                self._pending.append(record)
        if self._pending and not self._wake.is_set():
            self._wake.set()
        self._changed()
        return PublishTicket(route, records)

    def _route(self, instance: str, event: catalog.Event) -> tuple[layout.Route, tuple[_Lane, ...]]:
        """:func:`tui.layout.route`, remembered while the instance's settings (and ours) stay the same."""
        instance_settings = self.lookup.get(instance)
        key = (instance, event.name)
        cached = self._routes.get(key)
        if cached is not None and cached[0] == instance_settings and cached[1] is self.settings:
            return cached[2], cached[3]
        route = layout.route(self.settings, instance, event, instance_settings)
        lanes = tuple(_Lane(target) for target in route.targets)
        if len(self._routes) >= ROUTES_MAX:
            self._routes.clear()
        self._routes[key] = (instance_settings, self.settings, route, lanes)
        return route, lanes

    # -- settling: counters and waiters move once per batch, not per record ---------------------------

    def _settled(self, count: int) -> None:
        self._unsettled -= count
        if self._unsettled == 0:
            self._idle.set()
        if self._unsettled < MAX_UNSETTLED and not self._room.is_set():
            self._room.set()
        self._changed()

    def _settle_acked(self, records: Sequence[_Record], partition: int, base_offset: int) -> None:
        """A batch was acknowledged: its records sit at ``base_offset``, ``base_offset + 1``, ... in order."""
        lane_acked = self._lane_acked
        count = 0
        offset = base_offset
        for record in records:
            if not record.settled:
                record.settled = True
                record.partition = partition
                record.offset = offset
                if lane_acked.get(record.lane, -1) < record.seq:
                    lane_acked[record.lane] = record.seq
                if record.waiters:
                    record.wake_waiters()
                count += 1
            offset += 1
        if count:
            self._counters.acknowledged += count
            self._settled(count)

    def _settle_failed(self, record: _Record, error: str) -> None:
        if record.settled:
            return
        record.settled = True
        record.partition = record.offset = None
        record.error = error
        self._counters.failed += 1
        # Debug, not warning: an outage fails records by the thousand; the status and the deliveries say it.
        log.debug("record to %s (key %s) failed: %s", record.target.topic, record.target.key, error)
        record.wake_waiters()
        self._settled(1)

    def _fail_everything(self, error: str) -> None:
        leftovers = [*self._attempt_failures]
        self._attempt_failures.clear()
        for record, why in leftovers:
            self._settle_failed(record, f"{error}: {why}")
        if self._current is not None:
            for group in self._current:
                for record in group:
                    self._settle_failed(record, error)
            self._current = None
        for records in list(self._in_flight.values()):
            for record in records:
                self._settle_failed(record, error)
        self._in_flight.clear()
        while self._pending:
            self._settle_failed(self._pending.popleft(), error)

    # -- the pump: hands records to the producer in batches, in order ---------------------------------

    def _may_hand_over(self) -> bool:
        return (
            self._state is PublisherState.CONNECTED
            and self._producer is not None
            and not self._draining
            and not self._lost.is_set()
            and bool(self._pending)
        )

    def _may_go_on(self, producer: AIOKafkaProducer) -> bool:
        """Whether a hand-over under way may continue (the producer is still ours, nothing failed)."""
        return (
            self._state is PublisherState.CONNECTED
            and self._producer is producer
            and not self._draining
            and not self._lost.is_set()
        )

    async def _run_pump(self) -> None:
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
            try:
                await self._hand_over(taken)
            except asyncio.CancelledError:
                # stop() cancelled us mid-hand-over: what is still in _current is reported failed.
                raise
            except Exception as exc:  # a bug here must not strand the records
                log.exception("publisher: handing over records failed")
                for group in self._current or ():
                    for record in group:
                        self._settle_failed(record, _why(exc))
            self._current = None
            self._maybe_finish_drain()
            # Hand-overs need not wait for anything: let the sender, the callbacks and the rest of the
            # application run between two of them.
            await asyncio.sleep(0)

    def _put_back(self, records: list[_Record]) -> None:
        """Records not handed over after all: back to the front of the queue, in hand-over order."""
        if records:
            records.sort(key=_by_seq)
            self._pending.extendleft(reversed(records))

    async def _hand_over(self, taken: list[_Record]) -> None:
        producer = self._producer
        assert producer is not None and self._current is not None
        # 1. Where each record goes: its topic made (or checked) once per connection, its partition once per
        #    lane (same key, same partition: the producer's own key hash).
        ready = self._ready_topics
        partitions = self._partitions
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
                        await self._ensure_topic(topic)
                    record.partition = await self._partition_for(producer, record)
                except (_TopicMissingError, ReadOnlyError) as exc:
                    self._settle_failed(record, str(exc))
                    resolved += 1
                    continue
                except Exception as exc:
                    record.attempts += 1
                    self._attempt_error([record], exc, always_retriable=True)
                    self._put_back(taken[resolved + 1 :])
                    del taken[resolved:]
                    break
            if len(record.value) > LARGE_VALUE_BYTES and (too_large := _too_large(record)) is not None:
                self._settle_failed(record, too_large)
            resolved += 1
        # 2. One batch per partition (more when one fills up), records in hand-over order.
        by_partition: dict[tuple[str, int | None], list[tuple[BatchBuilder, list[_Record]]]] = {}
        for record in taken:
            if record.settled:
                continue
            where = (record.target.topic, record.partition)
            batches = by_partition.get(where)
            if batches is None:
                builder = producer.create_batch()
                members: list[_Record] = []
                by_partition[where] = [(builder, members)]
            else:
                builder, members = batches[-1]
            if builder.append(timestamp=None, key=record.key, value=record.value, headers=list(record.headers)) is None:
                builder.close()
                builder = producer.create_batch()
                members = []
                by_partition[where].append((builder, members))
                if builder.append(timestamp=None, key=record.key, value=record.value, headers=list(record.headers)) is None:
                    self._settle_failed(record, "MessageSizeTooLargeError: the record does not fit in a batch")
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
            self._counters.retried += retried
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
            future.add_done_callback(functools.partial(self._on_batch, serial))

    async def _partition_for(self, producer: AIOKafkaProducer, record: _Record) -> int:
        lane = record.lane
        known = sorted(await producer.partitions_for(lane[0]))
        if not known:
            raise UnknownTopicOrPartitionError(f"no partitions known for {lane[0]}")
        partition = int(_PARTITIONER(record.key, known, known))
        self._partitions[lane] = partition
        return partition

    def _on_batch(self, serial: int, future: asyncio.Future[Any]) -> None:
        records = self._in_flight.pop(serial, None)
        if records is None:
            return
        if future.cancelled():
            self._attempt_error(records, ProducerClosed())
        elif (exc := future.exception()) is not None:
            self._attempt_error(records, exc)
        else:
            metadata = future.result()
            self._settle_acked(records, int(metadata.partition), int(metadata.offset))
        self._maybe_finish_drain()

    def _attempt_error(self, records: Sequence[_Record], exc: BaseException, *, always_retriable: bool = False) -> None:
        """An attempt of ``records`` failed: another attempt when it was the link, else reported failed."""
        if _topic_unknown(exc):
            self._forget_topics()
        elif not (always_retriable or _retriable(exc)):
            why = _why(exc)
            for record in records:
                self._settle_failed(record, why)
            return
        # Stop handing over: the records behind these must not overtake them.
        self._draining = True
        why = _why(exc)
        self._attempt_failures.extend((record, why) for record in records if not record.settled)
        self._maybe_finish_drain()

    def _maybe_finish_drain(self) -> None:
        if not self._draining or self._in_flight or self._current is not None:
            return
        failures = sorted(self._attempt_failures, key=lambda item: item[0].seq)
        self._attempt_failures.clear()
        again: list[_Record] = []
        lost_error: str | None = None
        for record, error in failures:
            if record.settled:
                continue
            if self._closed:
                self._settle_failed(record, f"publisher stopped: {error}")
            elif self._lane_acked.get(record.lane, -1) > record.seq:
                # Sending it again would put it behind a later record of the same key.
                self._settle_failed(
                    record,
                    f"not retried: a later record with the same key was already acknowledged; {error}",
                )
            elif record.attempts >= self.settings.send_retries:
                self._settle_failed(record, f"failed after {record.attempts} attempts: {error}")
                lost_error = error
            else:
                again.append(record)
        # Back to the front, in hand-over order (records put back untried may sit there already).
        if again:
            again.extend(self._pending)
            again.sort(key=_by_seq)
            self._pending = deque(again)
        self._draining = False
        if lost_error is not None:
            self._last_error = lost_error
            self._lost.set()
        self._wake.set()
        self._changed()

    def _forget_topics(self) -> None:
        """The broker no longer knows a topic we made (it restarted empty): make or check every one again,
        and have the producer fetch fresh metadata rather than send to partitions it remembers."""
        if self._ready_topics:
            log.info("publisher: the broker does not know a topic any more; topics will be made again")
        self._ready_topics.clear()
        self._partitions.clear()
        producer = self._producer
        if producer is not None:
            with contextlib.suppress(Exception):
                producer.client.force_metadata_update()

    async def _ensure_topic(self, topic: str) -> None:
        if topic in self._ready_topics:
            return
        admin = self._admin
        assert admin is not None
        timeout = self.options.request_timeout_ms / 1000
        if self.settings.auto_create_topics:
            spec = TopicSpec(topic, self.settings.num_partitions, self.settings.replication_factor)
            await asyncio.wait_for(admin.create_topics([spec]), timeout=timeout)
        else:
            names = await asyncio.wait_for(admin.topic_names(), timeout=timeout)
            if topic not in names:
                raise _TopicMissingError(
                    f"topic {topic} does not exist and KAFKA_AUTO_CREATE_TOPICS=false; "
                    "create it (evokafka topics create) or turn auto-creation on"
                )
        self._ready_topics.add(topic)

    # -- the connection --------------------------------------------------------------------------------

    async def _supervise(self) -> None:
        immediate = True
        while True:
            await self._connect_with_backoff(immediate)
            self.policy.reset()
            self._last_error = None
            self._set_state(PublisherState.CONNECTED)
            self._wake.set()
            await self._watch_connection()
            log.warning("publisher: connection lost: %s", self._last_error)
            await self._disconnect()
            self._lost.clear()
            immediate = False

    async def _watch_connection(self) -> None:
        """Return when the connection is lost: by failed sends, or, while idle, by an unanswered probe.

        Without the probe an idle console would show "connected" long after the broker went away.
        """
        while True:
            try:
                await asyncio.wait_for(self._lost.wait(), timeout=self.probe_interval_s)
                return
            except TimeoutError:
                pass
            if self._unsettled or self._admin is None:
                continue  # records in flight tell us soon enough
            try:
                await asyncio.wait_for(self._admin.cluster(), timeout=max(self.options.connect_timeout_s, 1.0))
                self.probes += 1
            except Exception as exc:
                # Declared lost only if still idle: records handed over meanwhile settle through their attempts.
                if not self._unsettled and not self._lost.is_set():
                    self._last_error = f"the cluster stopped answering ({_why(exc)})"
                    self._lost.set()

    async def _connect_with_backoff(self, immediate: bool) -> None:
        while True:
            if immediate:
                immediate = False
                self._set_state(PublisherState.CONNECTING)
            else:
                delay = self.policy.next_delay()
                if delay is None:
                    await self._wait_in_failed()
                    immediate = True
                    continue
                self._set_state(
                    PublisherState.RECONNECTING, delay_ms=delay, next_try_at=time.time() + delay / 1000
                )
                await asyncio.sleep(delay / 1000)
                self._set_state(PublisherState.RECONNECTING, delay_ms=delay)
            try:
                await self._connect()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._last_error = _why(exc)
                log.info("publisher: cannot connect: %s", self._last_error)

    async def _wait_in_failed(self) -> None:
        self._set_state(PublisherState.FAILED)
        # Holding records for an operator who may never come back would hide them: report them now.
        self._fail_everything(
            f"not sent: gave up after {self.policy.max_attempts} reconnect attempts ({self._last_error})"
        )
        self._retry.clear()
        await self._retry.wait()
        self._retry.clear()
        self.policy.reset()

    async def _connect(self) -> None:
        timeout = max(self.options.connect_timeout_s, 1.0)
        admin = Admin(self.options, read_only=self.read_only)
        await admin.start()
        producer: AIOKafkaProducer | None = None
        try:
            if not self._idempotence_refused:
                try:
                    producer = await self._started_producer(idempotent=True, timeout=timeout)
                    self._idempotence = True
                except Exception as exc:
                    if _is_connection_error(exc):
                        raise
                    # The cluster answered (the admin connected) but would not give a producer id.
                    self._idempotence_refused = True
                    log.warning(
                        "publisher: the broker refused idempotence (%s); carrying on with acks=all and "
                        "one request in flight",
                        _why(exc),
                    )
            if producer is None:
                producer = await self._started_producer(idempotent=False, timeout=timeout)
                self._idempotence = False
        except BaseException:
            await admin.close()
            raise
        self._admin, self._producer = admin, producer
        # A broker that restarted may have lost its topics: make (or check) them again.
        self._ready_topics.clear()
        self._partitions.clear()

    async def _started_producer(self, *, idempotent: bool, timeout: float) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(
            **self.options.client_kwargs(),
            acks="all",
            enable_idempotence=idempotent,
            linger_ms=LINGER_MS,
            max_batch_size=MAX_BATCH_BYTES,
        )
        try:
            await asyncio.wait_for(producer.start(), timeout=timeout)
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), timeout=timeout)
            raise
        return producer

    async def _disconnect(self) -> None:
        producer, self._producer = self._producer, None
        admin, self._admin = self._admin, None
        if producer is not None:
            bound = self.options.request_timeout_ms / 1000 + 5
            try:
                await asyncio.wait_for(producer.stop(), timeout=bound)
            except Exception as exc:
                log.warning("publisher: closing the producer: %s", _why(exc))
        if admin is not None:
            await admin.close()


def _by_seq(record: _Record) -> int:
    return record.seq


def _too_large(record: _Record) -> str | None:
    size = DefaultRecordBatchBuilder.estimate_size_in_bytes(record.key, record.value, list(record.headers))
    if size <= MAX_REQUEST_BYTES:
        return None
    return (
        f"MessageSizeTooLargeError: the record is {size} bytes when serialized, larger than the "
        f"{MAX_REQUEST_BYTES}-byte maximum request size"
    )


def _retriable(exc: BaseException) -> bool:
    """A failure of the link (worth another attempt), not of the record itself."""
    if isinstance(exc, KafkaTimeoutError | TimeoutError | OSError | ProducerClosed):
        return True
    return bool(getattr(exc, "retriable", False))


_TOPIC_UNKNOWN = (UnknownTopicOrPartitionError, NotLeaderForPartitionError, LeaderNotAvailableError, UnknownError)


def _topic_unknown(exc: BaseException) -> bool:
    """An answer that means the broker does not (or no longer) know the topic or partition.

    ``UnknownError`` is among them: a restarted, empty broker answers a produce to a partition it lost with
    it. Each is worth another attempt once the topic is made again.
    """
    return isinstance(exc, _TOPIC_UNKNOWN)


def _is_connection_error(exc: BaseException) -> bool:
    from aiokafka.errors import KafkaConnectionError, NodeNotReadyError

    return isinstance(exc, KafkaConnectionError | NodeNotReadyError | OSError)


def _why(exc: BaseException) -> str:
    if isinstance(exc, ClusterUnreachableError):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = exc.__class__.__name__
    return f"{name}: {text}" if text and text != name else name


__all__ = [
    "Delivery",
    "EventPublisher",
    "PublishTicket",
    "PublisherState",
    "PublisherStatus",
]
