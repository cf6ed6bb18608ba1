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
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from tui import catalog
from tui.config import KafkaSettings
from tui.instance_settings import InstanceSettings, InstanceSettingsError, check_stored_size
from tui.kafka import metadata
from tui.kafka.admin import Admin, TopicSpec
from tui.kafka.options import ClusterUnreachableError, ConnectionOptions, ReadOnlyError, reason, start_client
from tui.kafka.streams import consumer as groupless_consumer
from tui.topology import InstanceNameError, validate_instance

DEFAULT_TOPIC = "__evokafka_instances"
MAX_PROBLEMS = 1000
"""Problems kept (the newest); a topic full of junk must not grow memory without bound."""
CHECK_INTERVAL_S = 1.0
"""How often the live reader checks that the topic it reads is still the one in the cluster."""
FRESH_CHECK_S = 0.25
RECENT_KEPT = 1000
"""A write right after a check goes ahead without asking for another."""

log = logging.getLogger(__name__)

Subscriber = Callable[[str, InstanceSettings | None], None]


@dataclass(frozen=True)
class RegistryProblem:
    """A registry record that could not be used, and why. It was skipped."""

    offset: int
    key: str | None
    reason: str


class RegistryError(RuntimeError):
    """The registry cannot do what was asked (not started, a write not seen back in time)."""


class InstanceRegistry:
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
        self._synced = asyncio.Event()
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._write_lock = asyncio.Lock()
        self._check_requests: list[asyncio.Future[None]] = []
        self._last_check = 0.0
        self._replaying: set[str] | None = None
        self._reread = False
        self._recent: deque[tuple[int, int, int]] = deque(maxlen=RECENT_KEPT)
        """(partition, offset, hash of key and value) of the records read lately: whether a write was read,
        or the reader is past its offset because it read another topic of the same name before."""
        """Names held before a re-attach, not seen again yet; those left when the replay ends are dropped."""

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
        # A short fetch wait: the broker may hold a fetch until it expires, and a change should show at once.
        client = groupless_consumer(self.options, fetch_max_wait_ms=50)
        await start_client(client, self.options, timeout=self._connect_timeout())
        self._consumer = client
        await self._attach(wait=not self.read_only)
        self._task = asyncio.create_task(self._follow(), name=f"registry:{self.topic}")
        try:
            await self.wait_synced(timeout=max(self.options.request_timeout_ms / 1000, 10.0))
        except TimeoutError:
            await self.stop()
            raise ClusterUnreachableError(f"the registry topic {self.topic} could not be read to its end") from None

    async def stop(self) -> None:
        """Stop following and close the clients. Writes waiting to be seen fail with :class:`RegistryError`.

        Whatever the clients raise while closing stays here; a cancellation of the caller still goes through,
        after everything is closed.
        """
        before = _cancelling()
        cancelled = False
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            cancelled |= await _settle(task, before)
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
        """Whether the replay reached the end the topic had at start."""
        return self._synced.is_set()

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
        producer = await self._started_producer()
        # The topic may have vanished or changed since the last look: write where this registry reads.
        await self._checked()
        value = orjson.dumps(stored.to_json()) if stored is not None else None
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

    # -- the live reader -------------------------------------------------------------------------------

    async def _attach(self, *, wait: bool) -> bool:
        """Assign every partition of the topic from the beginning; False while the topic does not exist."""
        assert self._consumer is not None
        client = self._consumer
        loop = asyncio.get_running_loop()
        # Metadata may lag a topic's creation by a moment: ask again, bounded.
        deadline = loop.time() + (max(self.options.connect_timeout_s, 2.0) if wait else 0.0)
        while True:
            await metadata.refresh(client)
            found = client.partitions_for_topic(self.topic)
            if found:
                break
            if loop.time() >= deadline:
                if wait:
                    raise ClusterUnreachableError(f"the registry topic {self.topic} did not appear")
                self._synced.set()  # no topic yet: an empty registry, fully read
                return False
            await asyncio.sleep(0.1)
        self._partitions = [TopicPartition(self.topic, p) for p in sorted(found)]
        client.assign(self._partitions)
        await client.seek_to_beginning(*self._partitions)
        ends = await client.end_offsets(self._partitions)
        self._sync_targets = {tp.partition: ends[tp] for tp in self._partitions}
        self._positions = {tp.partition: 0 for tp in self._partitions}
        self._recent.clear()
        self._last_check = loop.time()
        self._check_synced()
        self._finish_replay()
        return True

    async def _check_topic(self, attached: bool) -> bool:
        """Whether the reader follows the topic as it is now; re-attach when it vanished, was re-created or
        changed partitions. Returns whether it is attached afterwards."""
        assert self._consumer is not None
        client = self._consumer
        self._last_check = asyncio.get_running_loop().time()
        await metadata.refresh(client)
        found = client.partitions_for_topic(self.topic)
        if not found:
            if self.read_only:
                if attached:
                    log.info("registry topic %s vanished; its entries are dropped", self.topic)
                    self._partitions, self._positions, self._sync_targets = [], {}, {}
                    client.assign([])
                    self._forget(set(self._items))
                self._synced.set()  # no topic: an empty registry, fully read
                return False
            if attached:
                log.info("registry topic %s vanished (a broker restarted empty?); creating it again", self.topic)
            async with Admin(self.options) as admin:
                await admin.create_topics([TopicSpec(self.topic, configs={"cleanup.policy": "compact"})])
            return await self._reattach()
        if self._reread:
            return await self._reattach()
        if not attached or set(found) != {tp.partition for tp in self._partitions}:
            if attached:
                log.info("registry topic %s now has partitions %s; reading them all", self.topic, sorted(found))
            return await self._reattach()
        ends = await client.end_offsets(self._partitions)
        # A compacted topic's end never moves back: one that did is a new topic under the same name.
        if any(ends[tp] < self._positions.get(tp.partition, 0) for tp in self._partitions):
            log.info("registry topic %s was re-created; reading it again", self.topic)
            return await self._reattach()
        return True

    async def _reattach(self) -> bool:
        # Entries not found again by the end of the replay are gone with the old topic.
        self._replaying = set(self._items)
        self._reread = False
        # A fresh consumer: aiokafka's fetcher kept the old topic's state and never fetched the new one.
        fresh = groupless_consumer(self.options, fetch_max_wait_ms=50)
        try:
            await asyncio.wait_for(fresh.start(), timeout=self._connect_timeout())
        except BaseException:
            await _settle(fresh.stop(), _cancelling())
            raise
        old, self._consumer = self._consumer, fresh
        if old is not None and await _settle(old.stop(), _cancelling()):
            raise asyncio.CancelledError
        return await self._attach(wait=not self.read_only)

    async def _follow(self) -> None:
        assert self._consumer is not None
        attached = bool(self._partitions)
        loop = asyncio.get_running_loop()
        while True:
            try:
                if not attached or self._check_requests or self._reread or loop.time() - self._last_check >= CHECK_INTERVAL_S:
                    attached = await self._check_topic(attached)
                    self._release_checks()
                    if not attached:
                        # Read-only and the topic is missing: look for it now and then.
                        await asyncio.sleep(CHECK_INTERVAL_S)
                        continue
                client = self._consumer
                assert client is not None
                batches = await client.getmany(timeout_ms=100, max_records=1000)
                for tp_read, messages in batches.items():
                    for message in messages:
                        digest = hash((message.key, message.value))
                        self._recent.append((tp_read.partition, message.offset, digest))
                        self._apply(message.offset, message.key, message.value)
                for tp in self._partitions:
                    self._positions[tp.partition] = await client.position(tp)
                self.last_error = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the reader must outlive a broken connection; aiokafka reconnects
                self.last_error = reason(exc)
                log.info("registry reader: %s", self.last_error)
                self._release_checks()  # a write waiting for a check goes on, and succeeds or fails on its own
                await asyncio.sleep(0.5)
                continue
            self._check_synced()
            self._finish_replay()
            self._release_waiters()

    def _apply(self, offset: int, key: bytes | None, value: bytes | None) -> None:
        name: str | None = None
        try:
            if key is None:
                raise InstanceSettingsError("record without a key")
            try:
                name = bytes(key).decode("utf-8")
            except UnicodeDecodeError:
                raise InstanceSettingsError("key is not UTF-8") from None
            validate_instance(name, self.settings.topic_prefix)
            check_stored_size(value)
            if value is None:
                settings: InstanceSettings | None = None
            else:
                try:
                    parsed = orjson.loads(value)
                except orjson.JSONDecodeError:
                    raise InstanceSettingsError("value is not JSON") from None
                settings = InstanceSettings.from_json(parsed)
        except (InstanceSettingsError, InstanceNameError) as exc:
            self.problems.append(RegistryProblem(offset, name, str(exc)))
            del self.problems[:-MAX_PROBLEMS]
            log.info("registry record at offset %d skipped: %s", offset, exc)
            return
        if self._replaying is not None:
            self._replaying.discard(name)
        if settings is None:
            if self._items.pop(name, None) is None:
                return  # a tombstone for an entry never seen: nothing changed
        else:
            if self._items.get(name) == settings:
                return
            self._items[name] = settings
        self._notify(name, settings)

    def _notify(self, name: str, settings: InstanceSettings | None) -> None:
        for callback in list(self._subscribers):
            try:
                callback(name, settings)
            except Exception:  # a subscriber's bug must not stop the registry
                log.exception("registry subscriber failed")

    def _forget(self, names: Iterable[str]) -> None:
        for name in sorted(names):
            if self._items.pop(name, None) is not None:
                self._notify(name, None)

    def _finish_replay(self) -> None:
        if self._replaying is not None and all(
            self._positions.get(p, 0) >= end for p, end in self._sync_targets.items()
        ):
            stale, self._replaying = self._replaying, None
            self._forget(stale)

    def _release_checks(self) -> None:
        requests, self._check_requests = self._check_requests, []
        for future in requests:
            if not future.done():
                future.set_result(None)

    def _check_synced(self) -> None:
        if not self._synced.is_set() and all(
            self._positions.get(p, 0) >= end for p, end in self._sync_targets.items()
        ):
            self._synced.set()

    def _release_waiters(self) -> None:
        for partition, offset, future in self._waiters:
            if not future.done() and self._positions.get(partition, 0) > offset:
                future.set_result(None)

    def _connect_timeout(self) -> float:
        return max(self.options.connect_timeout_s, 1.0) * 3


def _cancelling() -> int:
    current = asyncio.current_task()
    return current.cancelling() if current is not None else 0


async def _settle(closing: Awaitable[object], before: int) -> bool:
    """Await a cancelled task or a client's ``stop()``; True when the caller itself was cancelled meanwhile.

    aiokafka's ``AIOKafkaConsumer.stop()`` cancels the fetch that sleeps in its retry backoff, awaits it and
    lets that CancelledError out: it is not the caller's, so it stays here (as do the clients' errors). The
    caller's own cancellation shows in its task's ``cancelling()`` count.
    """
    try:
        await closing
    except asyncio.CancelledError:
        current = asyncio.current_task()
        return current is not None and current.cancelling() > before
    except Exception as exc:
        log.debug("while stopping the registry: %s", reason(exc))
    return False
