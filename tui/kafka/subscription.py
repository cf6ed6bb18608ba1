"""Live reading of a selection without joining a consumer group: :class:`StreamSubscription`, what a stream pane
reads (through the console's session)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition

from tui.failures import reason
from tui.kafka.metadata import cluster_partitions
from tui.kafka.options import ConnectionOptions, start_client
from tui.kafka.streams import RETRY_CAP_MS, StreamError, bounded, consumer, seek, stop_client, to_records
from tui.records import Record
from tui.selection import Selection, StartPosition, ViewError
from tui.status import ReaderStatus


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
        positions: Mapping[TopicPartition, int] | None = None,
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
        self._resume: dict[TopicPartition, int] = dict(positions or {})
        """Positions to carry on from after a reconnect or a topic that vanished (checked against offsets)."""
        self._handed_over = positions is not None
        """Started from ``positions`` (a reading handed over): ``start`` applies to nothing."""
        self._trusted = set(self._resume)
        """Positions read from the cluster a moment ago (a reading handed over), taken as they are: this broker's
        end offsets can lag behind the records (README: "The embedded broker's quirks"), and a check against
        them would read the partition again from its beginning. Out of range, the consumer starts over by
        itself (``auto_offset_reset``)."""
        self._next: dict[TopicPartition, int] = {}
        """The next offset per partition: after the records handed out, or where reading started."""
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

    def positions(self) -> dict[TopicPartition, int]:
        """Where reading carries on, per partition: after the last record handed out (or where reading started,
        for a partition without any yet). A :class:`StreamSubscription` given these as ``positions`` reads on
        from exactly there: nothing lost, nothing twice."""
        return {**self._next, **self._resume}

    @property
    def positioned(self) -> bool:
        """Whether reading has started once (:meth:`positions` knows every partition found)."""
        return self._started_once

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
        existing = await bounded(
            cluster_partitions(client, sorted({tp.topic for tp in self._resume})), max(self.options.request_timeout_ms / 1000, 1.0) * 2, "metadata"
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
        first = initial and not self._started_once and not self._handed_over
        await seek(client, fresh, self.start_position if first else StartPosition("earliest"))
        following = self._next
        following.update(positions)
        for tp in fresh:
            following[tp] = await client.position(tp)
        trusted = [tp for tp in resumed if tp in self._trusted]
        for tp in trusted:
            self._trusted.discard(tp)
            following[tp] = self._resume.pop(tp)
            client.seek(tp, following[tp])
        resumed = [tp for tp in resumed if tp not in trusted]
        if resumed:
            begin = await client.beginning_offsets(resumed)
            end = await client.end_offsets(resumed)
            for tp in resumed:
                offset = self._resume.pop(tp)
                # Out of range: the partition was recreated; everything in it is new.
                following[tp] = offset if begin[tp] <= offset <= end[tp] else begin[tp]
                client.seek(tp, following[tp])

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
