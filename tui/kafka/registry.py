"""The instance registry: per-instance Kafka settings stored in the cluster itself.

A compacted topic (default ``__evokafka_instances``: no dots, so the layout parser never takes it for an
event topic) holds one record per change: key = instance name, value = JSON
``{"enabled", "events", "updated_at"}``, a null value deletes. Every registry replays the topic to its end,
then follows it live, so a change made by any console or publisher reaches every other one.

A record that is not of that shape is reported in :attr:`InstanceRegistry.problems` and skipped: a foreign
or damaged record never stops the registry.

The topic can vanish under a running registry (a broker with in-memory storage restarts empty) or come back
with other partitions (a producer auto-created it). The live reader checks every :data:`CHECK_INTERVAL_S`
seconds, and before each write: it creates the topic again (compacted; not when read-only), reads every
partition from the beginning, and drops the entries the topic no longer holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import orjson

from tui import catalog
from tui.config import KafkaSettings
from tui.failures import reason
from tui.instance_settings import InstanceSettings
from tui.kafka.admin import Admin, TopicSpec
from tui.kafka.metadata import kept_connect_answer
from tui.kafka.options import (
    ClusterUnreachableError,
    ConnectionOptions,
    ReadOnlyError,
    start_client,
    stop_quietly,
)
from tui.kafka.registry_reader import RegistryProblem, RegistryReader, Subscriber, _cancelling, _settle
from tui.listeners import Listeners
from tui.status import RegistryHealth, RegistryHealthState

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from tui.topology import validate_instance

DEFAULT_TOPIC = "__evokafka_instances"
NOT_ANSWERING_S = 2.5
"""No completed check of the topic for this long (checks run every second): the registry is not answering."""
HEALTH_TICK_S = 0.25
"""How often the registry looks at its health, to tell subscribers of a change within a second."""
FRESH_CHECK_S = 0.25
RECENT_KEPT = 1000
"""A write right after a check goes ahead without asking for another."""

log = logging.getLogger(__name__)

class RegistryError(RuntimeError):
    """The registry cannot do what was asked (not started, a write not seen back in time)."""


class InstanceRegistry(RegistryReader):
    """Per-instance settings held in a compacted topic; satisfies :class:`tui.instance_settings.SettingsLookup`.

    ``get`` and ``all`` answer from memory (the replayed topic); writes produce with ``acks=all`` and return
    once this registry's own reader has seen the change, so ``get`` reflects it on return.
    """

    def __init__(
        self,
        settings: KafkaSettings,
        *,
        topic: str = DEFAULT_TOPIC,
        options: ConnectionOptions | None = None,
        read_only: bool = False,
    ) -> None:
        self.settings = settings
        self.topic = topic
        self.options = options or ConnectionOptions.from_settings(settings)
        self.read_only = read_only or self.options.refuses_writes
        self.problems: list[RegistryProblem] = []
        """Corrupt records seen and skipped, oldest first (at most :data:`MAX_PROBLEMS`)."""
        self.last_error: str | None = None
        """The last error of the live reader (it goes on reading), or None."""
        self._items: dict[str, InstanceSettings] = {}
        self._subscribers: list[Subscriber] = []
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._task: asyncio.Task[None] | None = None
        self._partitions: list[TopicPartition] = []
        self._positions: dict[int, int] = {}
        self._sync_targets: dict[int, int] = {}
        self._answered_ends: dict[int, int] = {}
        self._synced = asyncio.Event()
        self._connected = asyncio.Event()
        self._connect_answer: Callable[[], dict[str, int] | None] = lambda: None
        self._held: dict[str, None] = {}
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._write_lock = asyncio.Lock()
        self._check_requests: list[asyncio.Future[None]] = []
        self._last_check = 0.0
        self._replaying: set[str] | None = None
        self._reread = False
        self._recent: deque[tuple[int, int, int]] = deque(maxlen=RECENT_KEPT)
        """(partition, offset, hash of key and value) of the records read lately: whether a write was read,
        or the reader is past its offset because it read another topic of the same name before."""
        self._last_answer = 0.0
        self._lost_at: float | None = None
        self._lost_detail: str | None = None
        self._last_copy: dict[str, InstanceSettings] = {}
        self._reattach_why: str | None = None
        self._health_listeners: Listeners[RegistryHealth] = Listeners(
            lambda _: log.exception("registry health subscriber failed")
        )
        self._told: RegistryHealth | None = None
        self._watchdog: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Create the compacted topic if missing, replay it to the end, then follow it live.

        :class:`ClusterUnreachableError` when the cluster does not answer. Read-only: the topic is not
        created; while it is missing the registry is empty, and it is picked up once someone creates it.
        """
        if self._task is not None:
            return
        if not self.read_only:
            async with Admin(self.options) as admin:
                await admin.create_topics([TopicSpec(self.topic, configs={"cleanup.policy": "compact"})])
        from tui.kafka.streams import consumer as groupless_consumer  # with the client, after the first frame

        # A short fetch wait: the broker may hold a fetch until it expires, and a change should show at once.
        client = groupless_consumer(self.options, fetch_max_wait_ms=50)
        await start_client(client, self.options, timeout=self._connect_timeout())
        self._consumer = client
        self._connect_answer = kept_connect_answer(client)
        await self._attach(wait=not self.read_only)
        # Told once the replay's first fetch is asked for: what a caller does with the topics (``instances list``
        # parses thousands of names) then runs while the broker prepares that answer, not before asking.
        self._connected.set()
        self._task = asyncio.create_task(self._follow(), name=f"registry:{self.topic}")
        self._watchdog = asyncio.create_task(self._watch_health(), name=f"registry-health:{self.topic}")
        try:
            await self.wait_synced(timeout=max(self.options.request_timeout_ms / 1000, 10.0))
        except TimeoutError:
            await self.stop()
            raise ClusterUnreachableError(f"the registry topic {self.topic} could not be read to its end") from None

    async def topics_at_connect(self) -> dict[str, int] | None:
        """Once the registry's reader has connected and begun its replay (in :meth:`start`, before the replay
        ends): every topic of the cluster with its partition count (internal ``__consumer_offsets`` left out, as
        :meth:`Admin.topics` leaves it), as that connection was answered, or None when the answer listed no topics
        (Kafka answers a client's first request with none; the test broker with every topic). A command listing
        the cluster's topics beside the registry (``evokafka instances list``) reads them here rather than asking
        again through another client: at thousands of topics one answer takes ~100 ms to decode."""
        await self._connected.wait()
        topics = self._connect_answer()
        if topics is not None:
            topics.pop("__consumer_offsets", None)
        return topics

    async def stop(self) -> None:
        """Stop following and close the clients. Writes waiting to be seen fail with :class:`RegistryError`.

        Whatever the clients raise while closing stays here; a cancellation of the caller still goes through,
        after everything is closed.
        """
        before = _cancelling()
        cancelled = False
        for running in (self._watchdog, self._task):
            if running is not None:
                running.cancel()
                cancelled |= await _settle(running, before)
        self._task = self._watchdog = None
        for _, _, future in self._waiters:
            if not future.done():
                future.set_exception(RegistryError("the registry was stopped"))
        self._waiters.clear()
        self._release_checks()
        client, self._consumer = self._consumer, None
        if client is not None:
            cancelled |= await _settle(client.stop(), before)
        producer, self._producer = self._producer, None
        if producer is not None:
            cancelled |= await _settle(producer.stop(), before)
        if cancelled:
            raise asyncio.CancelledError

    async def __aenter__(self) -> InstanceRegistry:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def wait_synced(self, timeout: float = 10.0) -> None:
        """Wait until the topic was replayed to the end it had when reading began (:class:`TimeoutError`)."""
        await asyncio.wait_for(self._synced.wait(), timeout=timeout)

    @property
    def synced(self) -> bool:
        """Whether the registry holds what the cluster holds: replayed to the end, answering, nothing lost."""
        return self.health.state is RegistryHealthState.SYNCED

    # -- health: never "synced" while not ----------------------------------------------------------------

    @property
    def health(self) -> RegistryHealth:
        """Where the registry stands (see :class:`tui.status.RegistryHealthState`)."""
        if self._lost_at is not None:
            missing = tuple(sorted(n for n, s in self._last_copy.items() if self._items.get(n) != s))
            if missing:
                return RegistryHealth(
                    RegistryHealthState.LOST, self.topic, self._lost_detail, self._lost_at, len(self._last_copy), missing
                )
            self._lost_at = self._lost_detail = None  # the cluster holds the copy again (restored)
            self._last_copy = {}
        if not self._synced.is_set() or self._task is None:
            return RegistryHealth(RegistryHealthState.STARTING, self.topic, self.last_error)
        quiet = time.monotonic() - self._last_answer  # the loop's clock (asyncio's loop.time() is monotonic)
        if self.last_error is not None or quiet > NOT_ANSWERING_S:
            return RegistryHealth(RegistryHealthState.NOT_ANSWERING, self.topic, self.last_error or f"no answer for {quiet:.1f}s")
        return RegistryHealth(RegistryHealthState.SYNCED, self.topic)

    def subscribe_health(self, callback: Callable[[RegistryHealth], None]) -> Callable[[], None]:
        """Call ``callback`` with the health each time its state changes; returns the unsubscribe."""
        return self._health_listeners.add(callback)

    def _health_changed(self) -> None:
        health = self.health
        told = self._told
        if told is not None and (told.state, told.lost_at, told.missing) == (health.state, health.lost_at, health.missing):
            return
        self._told = health
        log.info("registry: %s", health.describe())
        self._health_listeners.notify(health)  # a subscriber's bug is logged and must not stop the registry

    async def _watch_health(self) -> None:
        while True:
            self._health_changed()
            await asyncio.sleep(HEALTH_TICK_S)

    def last_copy(self) -> dict[str, InstanceSettings]:
        """The entries the cluster lost, as this registry held them (empty when nothing was lost)."""
        return dict(sorted(self._last_copy.items()))

    async def restore(self, entries: dict[str, InstanceSettings] | None = None) -> list[str]:
        """Write back ``entries`` (default: the copy held since the loss) where the cluster differs; returns
        the names written. :class:`~tui.kafka.admin.ReadOnlyError` when read-only."""
        if self.read_only:
            raise ReadOnlyError(f"restore the instance registry {self.topic}")
        wanted = self.last_copy() if entries is None else dict(sorted(entries.items()))
        written: list[str] = []
        for name, stored in wanted.items():
            validate_instance(name, self.settings.topic_prefix)
            if self._items.get(name) != stored:
                await self._write(name, stored)
                written.append(name)
        self._health_changed()
        return written

    # -- reading ---------------------------------------------------------------------------------------

    def get(self, instance: str) -> InstanceSettings | None:
        """The instance's current settings, or None when the registry has no entry for it."""
        return self._items.get(instance)

    def all(self) -> dict[str, InstanceSettings]:
        """Every instance's settings (a copy), by name."""
        return dict(sorted(self._items.items()))

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(name, settings or None)`` on every change applied; returns the unsubscribe."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    # -- writing ---------------------------------------------------------------------------------------

    async def set(self, instance: str, settings: InstanceSettings) -> InstanceSettings:
        """Store ``settings`` for ``instance`` (the ``/kafka/set`` semantics, time stamped now)."""
        stored = InstanceSettings.from_request(settings.enabled, settings.events)
        stored = stored.with_sent(settings.sent).with_token(settings.token)  # kept as given (evokafka serve)
        stored = stored if settings.has_record else InstanceSettings.token_only(settings.token)
        await self._write(instance, stored)
        return stored

    async def set_request(self, instance: str, enabled: bool, events: Iterable[str]) -> InstanceSettings:
        """``POST /kafka/set``: disabled → no events; enabled with no events → all events.

        Events by either name (and the ``GROUP_UPDATE`` alias); unknown ones raise ``UnknownEventError``.
        """
        self._check_writable(instance)
        current = self.get(instance)
        stored = InstanceSettings.from_request(enabled, list(events)).with_token(current.token if current else "")
        await self._write(instance, stored)
        return stored

    async def enable(self, instance: str) -> InstanceSettings:
        """Enable ``instance``, keeping its event list (an instance without one gets every event)."""
        return await self._update(instance, lambda current: current.with_enabled(True))

    async def disable(self, instance: str) -> InstanceSettings:
        """Disable ``instance`` (stored with no events, as the reference does)."""
        return await self._update(instance, lambda current: current.with_enabled(False))

    async def toggle(self, instance: str, event: catalog.Event | str) -> InstanceSettings:
        """Switch one event of ``instance`` on or off."""
        resolved = catalog.lookup(event) if isinstance(event, str) else event
        return await self._update(instance, lambda current: current.toggled(resolved))

    async def delete(self, instance: str) -> None:
        """Remove ``instance``'s entry (a null record, which compaction keeps as a tombstone)."""
        self._check_writable(instance)
        async with self._write_lock:
            await self._produce(instance, None)

    async def _update(
        self, instance: str, change: Callable[[InstanceSettings], InstanceSettings]
    ) -> InstanceSettings:
        self._check_writable(instance)
        # One read-modify-write at a time in this process, so two toggles here never undo each other.
        async with self._write_lock:
            current = self._items.get(instance) or InstanceSettings()
            stored = change(current)
            await self._produce(instance, stored)
            return stored

    async def _write(self, instance: str, stored: InstanceSettings) -> None:
        self._check_writable(instance)
        async with self._write_lock:
            await self._produce(instance, stored)

    def _check_writable(self, instance: str) -> None:
        if self.read_only:
            raise ReadOnlyError(f"change instance {instance!r} in the registry")
        validate_instance(instance, self.settings.topic_prefix)

    async def _produce(self, instance: str, stored: InstanceSettings | None) -> None:
        if self._task is None or self._consumer is None:
            raise RegistryError("the registry is not started")
        from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError

        producer = await self._started_producer()
        # The topic may have vanished or changed since the last look: write where this registry reads.
        await self._checked()
        value = orjson.dumps(stored.to_json()) if stored is not None else None
        try:
            metadata = await producer.send_and_wait(self.topic, key=instance.encode(), value=value)
        except (NodeNotReadyError, KafkaConnectionError, KafkaTimeoutError) as exc:
            # The broker this producer knew is gone: a fresh one asks every broker of KAFKA_BROKERS. Writing the
            # same value twice is harmless in a compacted topic.
            log.info("registry write: %s; trying again through a new connection", reason(exc))
            self._producer = None
            await stop_quietly(producer, timeout=self._connect_timeout())
            producer = await self._started_producer()
            metadata = await producer.send_and_wait(self.topic, key=instance.encode(), value=value)
        if metadata.partition not in {tp.partition for tp in self._partitions}:
            await self._checked()  # someone re-created it with more partitions meanwhile: read them all
        await self._seen(metadata.partition, metadata.offset, hash((instance.encode(), value)))

    async def _checked(self, *, reread: bool = False) -> None:
        """Have the live reader check the topic now (re-attaching when needed; ``reread``: in any case);
        bounded, then go on anyway."""
        if reread:
            self._reread = True
        elif asyncio.get_running_loop().time() - self._last_check < FRESH_CHECK_S:
            return  # just checked (a registry started for one write): spare the write the wait
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._check_requests.append(future)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(future), timeout=self._connect_timeout())

    async def _started_producer(self) -> AIOKafkaProducer:
        if self._producer is not None:
            return self._producer
        # acks=all, one request in flight: the broker here refuses aiokafka's idempotence (test-broker.md).
        producer = self.options.producer(acks="all", max_batch_size=1 << 20)
        await start_client(producer, self.options, timeout=self._connect_timeout())
        self._producer = producer
        return producer

    async def _seen(self, partition: int, offset: int, digest: int) -> None:
        """Wait until this registry's reader is past ``offset`` of ``partition``."""
        if self._positions.get(partition, 0) > offset:
            if (partition, offset, digest) in self._recent:
                return
            # Past an offset it never read: the topic is a new one under the old name (a broker restarted
            # empty). Read it again from the beginning, which reads this write too.
            await self._checked(reread=True)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((partition, offset, future))
        timeout = max(self.options.request_timeout_ms / 1000, 5.0)
        try:
            await asyncio.wait_for(asyncio.shield(future), timeout=timeout)
        except TimeoutError:
            raise RegistryError(
                f"the change was written (offset {offset}) but not read back within {timeout:.0f}s"
            ) from None
        finally:
            self._waiters = [w for w in self._waiters if w[2] is not future]

    def _connect_timeout(self) -> float:
        return max(self.options.connect_timeout_s, 1.0) * 3
