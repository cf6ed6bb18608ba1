"""One fetch for every pane that reads the same selection from the same start: :class:`SharedReadings`.

Three panes on one flooded topic used to be three consumers of it, each decoding every record on the console's
event loop. Here they share one :class:`~tui.kafka.subscription.StreamSubscription` (a :class:`Hub`): it fetches
each batch once and hands the same list of records to every pane (:class:`SharedReader`), which filters and
buffers it as before. The slowest pane paces the fetch (each holds at most :data:`QUEUED_BATCHES` batches not yet
taken), as its own consumer did.

A pane joins a running hub only when that loses it nothing: the hub reads from ``latest`` (a pane opened later
from ``latest`` starts where the hub is), or the hub has handed out nothing yet. Otherwise it gets a hub of its
own.

Pausing: a paused pane leaves the hub at once, keeping the batches already handed to it, and carries on alone
from the hub's positions at that moment (:meth:`StreamSubscription.positions`), paused: the other panes read on
undisturbed, and the paused one, resumed, reads from exactly where it stopped (nothing lost, nothing twice).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Callable

from aiokafka import TopicPartition

from tui.kafka.options import ConnectionOptions
from tui.kafka.streams import RETRY_CAP_MS
from tui.kafka.subscription import StreamSubscription
from tui.records import Record
from tui.selection import Selection, StartPosition
from tui.status import ReaderStatus

QUEUED_BATCHES = 4
"""Batches handed to a pane and not yet taken by it, at most: the hub waits for the slowest pane beyond that."""

StatusSink = Callable[[ReaderStatus], None]
_Key = tuple[Selection, StartPosition, int]


class Hub:
    """One subscription fanned out to the :class:`SharedReader` s that joined it."""

    def __init__(self, subscription: StreamSubscription, on_empty: Callable[[Hub], None]) -> None:
        self.subscription = subscription
        self._on_empty = on_empty
        self._members: list[SharedReader] = []
        self._task: asyncio.Task[None] | None = None
        self.handed_out = 0
        """Batches handed out so far."""
        self.status: ReaderStatus | None = None
        """The last state the subscription reported."""
        self._room = asyncio.Event()
        self._closed = False

    @property
    def members(self) -> int:
        """How many readers take its batches."""
        return len(self._members)

    def joinable(self) -> bool:
        """Whether a reader of the same selection and start may join it without missing anything."""
        return not self._closed and (self.subscription.start_position.kind == "latest" or self.handed_out == 0)

    def join(self, member: SharedReader, *, initial_delay_ms: int, max_delay_ms: int) -> None:
        """Hand ``member`` every batch from now on (starts reading with the first member)."""
        self._members.append(member)
        if self.status is not None:
            member.report(self.status)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(initial_delay_ms, max_delay_ms), name="shared-stream-reading"
            )

    def leave(self, member: SharedReader) -> None:
        """Stop handing batches to ``member``; the last one out stops the subscription."""
        with contextlib.suppress(ValueError):
            self._members.remove(member)
        self._room.set()
        if not self._members:
            self._close()

    def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._on_empty(self)
        task = self._task
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()

    async def stop(self) -> None:
        """Stop reading (once the last member left)."""
        self._close()
        task = self._task
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.subscription.stop()

    def _report(self, status: ReaderStatus) -> None:
        self.status = status
        for member in list(self._members):
            member.report(status)

    async def _run(self, initial_delay_ms: int, max_delay_ms: int) -> None:
        try:
            async for batch in self.subscription.follow(
                self._report, initial_delay_ms=initial_delay_ms, max_delay_ms=max_delay_ms
            ):
                self.handed_out += 1
                # Handed to every member in one step (no await between the subscription's positions moving and
                # the hand-out): a member that pauses later carries on from positions that match what it got.
                for member in self._members:
                    member.deliver(batch)
                while any(m.queued > QUEUED_BATCHES for m in self._members):
                    self._room.clear()
                    await self._room.wait()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            members, self._members = self._members, []
            self._close()
            for member in members:
                member.fail(exc)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.subscription.stop())

    def room(self) -> None:
        """A member took a batch: the hub may fetch on."""
        self._room.set()


class SharedReader:
    """One pane's reading of a :class:`Hub` (a :class:`~tui.handles.StreamReader`); alone after a pause."""

    def __init__(self, readings: SharedReadings, key: _Key) -> None:
        self._readings = readings
        self._key = key
        self._hub: Hub | None = None
        self._own: StreamSubscription | None = None
        self._queue: deque[list[Record]] = deque()
        self._ready = asyncio.Event()
        self._failure: Exception | None = None
        self._on_status: StatusSink | None = None
        self._paused = False
        self._closed = False
        self._started = False
        self.parked = asyncio.Event()
        """Set while paused and not fetching (every batch handed to this reader taken)."""

    @property
    def subscription(self) -> StreamSubscription | None:
        """The subscription it reads through now: the hub's, or its own after a pause."""
        return self._own or (self._hub.subscription if self._hub is not None else None)

    @property
    def missing(self) -> list[str]:
        """Named topics that do not exist (yet)."""
        sub = self.subscription
        return sub.missing if sub is not None else []

    @missing.setter
    def missing(self, value: list[str]) -> None:
        sub = self.subscription
        if sub is not None:
            sub.missing = value

    @property
    def topics(self) -> list[str]:
        """The topics being read now."""
        sub = self.subscription
        return sub.topics if sub is not None else []

    @property
    def shared(self) -> bool:
        """Whether it reads through a hub with other readers now."""
        return self._hub is not None and self._hub.members > 1

    @property
    def queued(self) -> int:
        """Batches handed to it and not taken yet."""
        return len(self._queue)

    def deliver(self, batch: list[Record]) -> None:
        """The hub hands over a batch."""
        self._queue.append(batch)
        self._ready.set()

    def fail(self, exc: Exception) -> None:
        """The hub's reading ended with ``exc`` (a selection that cannot be read)."""
        self._failure = exc
        self._hub = None
        self._ready.set()

    def report(self, status: ReaderStatus) -> None:
        """The hub's state changed."""
        if self._on_status is not None:
            self._on_status(status)

    def pause(self) -> None:
        """Stop after the batches in hand; reading resumes from there (alone, the other panes read on)."""
        if self._paused:
            return
        self._paused = True
        hub = self._hub
        if hub is not None:
            # Positions are known once the hub's subscription has positioned itself; before, the start applies.
            positions = hub.subscription.positions() if hub.subscription.positioned else None
            self._hub = None
            hub.leave(self)
            self._own = self._readings.alone(self._key, positions)
        elif self._own is None and not self._closed:
            self._own = self._readings.alone(self._key, None)
        if self._own is not None:
            self._own.parked = self.parked
            self._own.pause()
        self._ready.set()

    def resume(self) -> None:
        """Fetch again from where reading stopped."""
        self._paused = False
        self.parked.clear()
        if self._own is not None:
            self._own.resume()

    async def stop(self) -> None:
        """Disconnect for good (:meth:`follow` ends)."""
        self._closed = True
        hub, self._hub = self._hub, None
        if hub is not None:
            hub.leave(self)
            if not hub.members:
                await hub.stop()
        self._ready.set()
        if self._own is not None:
            await self._own.stop()

    async def follow(
        self,
        on_status: StatusSink | None = None,
        *,
        initial_delay_ms: int = 500,
        max_delay_ms: int = RETRY_CAP_MS,
    ) -> AsyncIterator[list[Record]]:
        """Batches for as long as the reading runs (the hub's, then alone after a pause), reconnecting."""
        self._on_status = on_status
        if not self._started and not self._closed:
            self._started = True
            if self._own is None:
                self._hub = self._readings.hub(self._key)
                self._hub.join(self, initial_delay_ms=initial_delay_ms, max_delay_ms=max_delay_ms)
        while not self._closed:
            queue = self._queue
            if queue:
                batch = queue.popleft()
                hub = self._hub
                if hub is not None:
                    hub.room()
                yield batch
                continue
            if self._failure is not None:
                raise self._failure
            if self._hub is None:
                break
            self._ready.clear()
            await self._ready.wait()
        own = self._own
        if own is not None and not self._closed:
            async for batch in own.follow(on_status, initial_delay_ms=initial_delay_ms, max_delay_ms=max_delay_ms):
                yield batch


class SharedReadings:
    """The hubs of one cluster connection: ``reader`` hands out a :class:`SharedReader` per pane."""

    def __init__(self, options: ConnectionOptions, prefix: str) -> None:
        self.options = options
        self.prefix = prefix
        self._hubs: dict[_Key, Hub] = {}

    def reader(self, selection: Selection, start: StartPosition, batch_max: int) -> SharedReader:
        """A reading of ``selection`` from ``start`` (not started: iterate its ``follow``)."""
        return SharedReader(self, (selection, start, batch_max))

    @property
    def hubs(self) -> int:
        """Subscriptions reading now."""
        return len(self._hubs)

    def hub(self, key: _Key) -> Hub:
        """The hub to join for ``key``: a running one when joining it loses nothing, else a new one."""
        found = self._hubs.get(key)
        if found is not None and found.joinable():
            return found
        hub = Hub(self._subscription(key, None), self._forget)
        # A hub that cannot be joined any more reads on for its members, out of the table.
        self._hubs[key] = hub
        return hub

    def alone(self, key: _Key, positions: dict[TopicPartition, int] | None) -> StreamSubscription:
        """A subscription of its own for a reader that left its hub, from ``positions`` (or from the start)."""
        return self._subscription(key, positions)

    def _subscription(self, key: _Key, positions: dict[TopicPartition, int] | None) -> StreamSubscription:
        selection, start, batch_max = key
        return StreamSubscription(
            self.options, selection, prefix=self.prefix, start=start, batch_max=batch_max,
            positions=positions,
        )

    def _forget(self, hub: Hub) -> None:
        for key, found in list(self._hubs.items()):
            if found is hub:
                del self._hubs[key]
