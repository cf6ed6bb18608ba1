"""The instance registry's live reader: replays the compacted topic, follows it, and notices when the cluster
lost it (the topic vanished, was re-created, or its offsets went back).

A mixin of :class:`~tui.kafka.registry.InstanceRegistry`, split out by concern.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson

from tui.config import KafkaSettings
from tui.failures import reason
from tui.instance_settings import InstanceSettings, InstanceSettingsError, check_stored_size
from tui.kafka import metadata
from tui.kafka.admin import Admin, TopicSpec
from tui.kafka.options import ClusterUnreachableError, ConnectionOptions
from tui.topology import InstanceNameError, validate_instance

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer, TopicPartition

log = logging.getLogger("tui.kafka.registry")

MAX_PROBLEMS = 1000
"""Problems kept (the newest); a topic full of junk must not grow memory without bound."""
CHECK_INTERVAL_S = 1.0
"""How often the live reader checks that the topic it reads is still the one in the cluster."""

Subscriber = Callable[[str, InstanceSettings | None], None]


@dataclass(frozen=True)
class RegistryProblem:
    """A registry record that could not be used, and why. It was skipped."""

    offset: int
    key: str | None
    reason: str



class RegistryReader:
    """Replays and follows the registry topic (a mixin of :class:`~tui.kafka.registry.InstanceRegistry`)."""

    settings: KafkaSettings
    topic: str
    options: ConnectionOptions
    read_only: bool
    problems: list[RegistryProblem]
    last_error: str | None
    _items: dict[str, InstanceSettings]
    _subscribers: list[Subscriber]
    _consumer: AIOKafkaConsumer | None
    _partitions: list[TopicPartition]
    _positions: dict[int, int]
    _sync_targets: dict[int, int]
    _answered_ends: dict[int, int]
    """The end offset of each partition as the cluster answered it last (see :meth:`_check_topic`)."""
    _synced: asyncio.Event
    _held: dict[str, None]
    """Instances changed while the first replay runs: their subscribers hear of them once it ends."""
    _waiters: list[tuple[int, int, asyncio.Future[None]]]
    _check_requests: list[asyncio.Future[None]]
    _last_check: float
    _replaying: set[str] | None
    _reread: bool
    _recent: deque[tuple[int, int, int]]
    _last_answer: float
    """``loop.time()`` when a check of the topic last completed (the cluster answered)."""
    _lost_at: float | None
    _lost_detail: str | None
    _last_copy: dict[str, InstanceSettings]
    _reattach_why: str | None

    def _health_changed(self) -> None:
        raise NotImplementedError

    def _connect_timeout(self) -> float:
        raise NotImplementedError

    # -- the live reader -------------------------------------------------------------------------------

    async def _attach(self, *, wait: bool) -> bool:
        """Assign every partition of the topic from the beginning; False while the topic does not exist."""
        assert self._consumer is not None
        client = self._consumer
        loop = asyncio.get_running_loop()
        # Metadata may lag a topic's creation by a moment: ask again, bounded.
        deadline = loop.time() + (max(self.options.connect_timeout_s, 2.0) if wait else 0.0)
        # The client was just started: its bootstrap answer lists every topic, so a topic found there needs no
        # second request (one for every topic, as the client names none yet: megabytes at 31,000 topics).
        found = client.partitions_for_topic(self.topic)
        while not found:
            await metadata.refresh(client)
            found = client.partitions_for_topic(self.topic)
            if found:
                break
            if loop.time() >= deadline:
                if wait:
                    raise ClusterUnreachableError(f"the registry topic {self.topic} did not appear")
                self._mark_synced()  # no topic yet: an empty registry, fully read
                self._last_answer = loop.time()
                return False
            await asyncio.sleep(0.1)
        from aiokafka import TopicPartition

        self._partitions = [TopicPartition(self.topic, p) for p in sorted(found)]
        client.assign(self._partitions)
        await client.seek_to_beginning(*self._partitions)
        ends = await client.end_offsets(self._partitions)
        self._sync_targets = {tp.partition: ends[tp] for tp in self._partitions}
        self._answered_ends = dict(self._sync_targets)
        self._positions = {tp.partition: 0 for tp in self._partitions}
        self._recent.clear()
        self._last_check = self._last_answer = loop.time()
        self._check_synced()
        self._finish_replay()
        return True

    async def _check_topic(self, attached: bool) -> bool:
        """Whether the reader follows the topic as it is now; re-attach when it vanished, was re-created or
        changed partitions. Returns whether it is attached afterwards."""
        assert self._consumer is not None
        client = self._consumer
        self._last_check = asyncio.get_running_loop().time()
        await asyncio.wait_for(metadata.refresh(client), timeout=self._connect_timeout())
        found = client.partitions_for_topic(self.topic)
        if not found:
            if self.read_only:
                if attached:
                    log.info("registry topic %s vanished; its entries are dropped", self.topic)
                    self._partitions, self._positions, self._sync_targets = [], {}, {}
                    client.assign([])
                    self._cluster_lost(set(self._items), "the topic vanished")
                    self._forget(set(self._items))
                    self._health_changed()
                self._last_answer = asyncio.get_running_loop().time()
                self._mark_synced()  # no topic: an empty registry, fully read
                return False
            if attached:
                log.info("registry topic %s vanished (a broker restarted empty?); creating it again", self.topic)
                self._reattach_why = "the topic vanished"
            async with Admin(self.options) as admin:
                await admin.create_topics([TopicSpec(self.topic, configs={"cleanup.policy": "compact"})])
            return await self._reattach()
        if self._reread:
            self._reattach_why = self._reattach_why or "the topic was re-created (an offset written was not there)"
            return await self._reattach()
        if not attached or set(found) != {tp.partition for tp in self._partitions}:
            if attached:
                log.info("registry topic %s now has partitions %s; reading them all", self.topic, sorted(found))
                self._reattach_why = "the topic was re-created with other partitions"
            return await self._reattach()
        ends = await asyncio.wait_for(client.end_offsets(self._partitions), timeout=self._connect_timeout())
        # A compacted topic's end never moves back: one that did is a new topic under the same name. Compared
        # with the end the cluster answered before, not with the position read to: the test broker answers a
        # partition's end as its last batch's first offset + 1, below the position when that batch held several
        # records, and the registry then read its whole topic again at every check, each second (10,000
        # records at scale). On Kafka the position is never past the end, so an end below it is below the
        # previous answer too.
        answered, self._answered_ends = self._answered_ends, {tp.partition: ends[tp] for tp in self._partitions}
        if any(ends[tp] < answered.get(tp.partition, 0) for tp in self._partitions):
            log.info("registry topic %s was re-created; reading it again", self.topic)
            self._reattach_why = "the topic was re-created (its offsets went back)"
            return await self._reattach()
        self._last_answer = asyncio.get_running_loop().time()
        return True

    async def _reattach(self) -> bool:
        # Entries not found again by the end of the replay are gone with the old topic.
        self._replaying = set(self._items)
        self._reread = False
        from tui.kafka.streams import consumer as groupless_consumer  # with the client, after the first frame

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
        failing_since: float | None = None
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
                recent, apply = self._recent.append, self._apply  # per record: 10,000 in a replay at scale
                for tp_read, messages in batches.items():
                    partition = tp_read.partition
                    for message in messages:
                        key, value, offset = message.key, message.value, message.offset
                        recent((partition, offset, hash((key, value))))
                        apply(offset, key, value)
                for tp in self._partitions:
                    self._positions[tp.partition] = await client.position(tp)
                self.last_error = None
                failing_since = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the reader must outlive a broken connection; aiokafka reconnects
                self.last_error = reason(exc)
                log.info("registry reader: %s", self.last_error)
                self._release_checks()  # a write waiting for a check goes on, and succeeds or fails on its own
                failing_since = failing_since if failing_since is not None else loop.time()
                if loop.time() - failing_since >= 2 * self._connect_timeout():
                    # aiokafka keeps asking the broker it knew; a fresh reader asks every one of KAFKA_BROKERS.
                    failing_since = None
                    self._reread = True
                    self._reattach_why = "entries missing when read again through the other brokers"
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
                name = key.decode("utf-8") if type(key) is bytes else bytes(key).decode("utf-8")
            except UnicodeDecodeError:
                raise InstanceSettingsError("key is not UTF-8") from None
            if name not in self._items:  # a name held was checked when it was read (the prefix never changes)
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
        if not self._synced.is_set():
            self._held[name] = None
            return
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
            why, self._reattach_why = self._reattach_why, None
            if stale:
                self._cluster_lost(stale, why or "entries no longer in the topic")
            self._forget(stale)
            self._health_changed()  # after the entries are dropped: the copy differs from what is held now

    def _cluster_lost(self, names: set[str], why: str) -> None:
        """The cluster no longer holds ``names``: keep the copy held here, and say LOST (at once)."""
        if not names:
            return
        import time

        if self._lost_at is None:
            self._lost_at = time.time()
            self._lost_detail = why
        # The copy is what this registry held: the entries about to be dropped, and the ones still there.
        self._last_copy.update({name: self._items[name] for name in names if name in self._items})
        log.warning("registry topic %s: the cluster lost %d instance(s) (%s)", self.topic, len(names), why)

    def _release_checks(self) -> None:
        requests, self._check_requests = self._check_requests, []
        for future in requests:
            if not future.done():
                future.set_result(None)

    def _check_synced(self) -> None:
        if not self._synced.is_set() and all(
            self._positions.get(p, 0) >= end for p, end in self._sync_targets.items()
        ):
            self._mark_synced()

    def _mark_synced(self) -> None:
        """The first replay is done: tell the subscribers of every instance it found, once each, as it is now.

        During the first replay a subscriber hears nothing: the topic's history (10,000 records for a few
        hundred instances) is not a stream of changes, and the console turned each into a message for its
        screens. Later changes are told one by one, as they are read."""
        if self._synced.is_set():
            return
        self._synced.set()
        held, self._held = self._held, {}
        for name in held:
            settings = self._items.get(name)
            if settings is not None:  # one set and deleted again within the replay was never there
                self._notify(name, settings)

    def _release_waiters(self) -> None:
        for partition, offset, future in self._waiters:
            if not future.done() and self._positions.get(partition, 0) > offset:
                future.set_result(None)



def _cancelling() -> int:
    current = asyncio.current_task()
    return current.cancelling() if current is not None else 0


STOP_BOUND_S = 15.0
"""The longest the registry waits for one of its tasks or clients to stop (then it is cancelled and left)."""


async def _settle(closing: Awaitable[object], before: int) -> bool:
    """Await a cancelled task or a client's ``stop()``, at most :data:`STOP_BOUND_S`; True when the caller itself
    was cancelled meanwhile.

    aiokafka's ``AIOKafkaConsumer.stop()`` cancels the fetch that sleeps in its retry backoff, awaits it and
    lets that CancelledError out: it is not the caller's, so it stays here (as do the clients' errors). The
    caller's own cancellation shows in its task's ``cancelling()`` count. The bound: one CI run saw a registry's
    stop never return (a test's teardown waited 300 s; not reproduced in 21 runs since) — a stop that hangs would
    hang the console's quit.
    """
    try:
        await asyncio.wait_for(closing, STOP_BOUND_S)
    except TimeoutError:
        log.warning("the registry's client or task did not stop within %.0f s: left behind", STOP_BOUND_S)
    except asyncio.CancelledError:
        current = asyncio.current_task()
        return current is not None and current.cancelling() > before
    except Exception as exc:
        log.debug("while stopping the registry: %s", reason(exc))
    return False
