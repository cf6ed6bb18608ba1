"""EventPublisher under faults, on a real broker of the test's own: killed and restarted, never coming back,
and a cut network link (LinkProxy). Every record handed over ends acknowledged or reported failed, counted
against what a consumer reads."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest
from aiokafka.errors import (
    KafkaTimeoutError,
    LeaderNotAvailableError,
    NotLeaderForPartitionError,
    RecordTooLargeError,
    UnknownError,
    UnknownTopicOrPartitionError,
)
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from tests.conftest import async_wait_until
from tests.foreign import ForeignRecord, read_all
from tui.config import KafkaSettings, load_settings
from tui.demo.broker import EmbeddedBroker, free_port
from tui.demo.linkproxy import LinkProxy
from tui.evolution_env import DOCUMENT_EVENT_FIELDS
from tui.instance_settings import InMemorySettings, InstanceSettings
from tui.kafka.publish.delivery import PublishTicket
from tui.kafka.publish.placement import topic_unknown as _topic_unknown
from tui.kafka.publish.publisher import EventPublisher
from tui.status import Delivery, PublisherState, PublisherStatus

State = PublisherState
KEYS = 4


def fault_settings(bootstrap: str, prefix: str, **overrides: str) -> KafkaSettings:
    """Short delays so each fault test stays within seconds: attempts of 0.8 s, backoff from 50 ms."""
    values = {
        "brokers": bootstrap,
        "topic_prefix": prefix,
        "auto_create_topics": "true",
        "global_enabled": "true",
        "reconnect_initial_delay_ms": "50",
        "reconnect_max_attempts": "30",
        "send_retries": "3",
        "request_timeout": "800",
        "connection_timeout": "1000",
        **DOCUMENT_EVENT_FIELDS,  # the document's KAFKA_EVENTS_* block (Evolution reads a missing one as false)
    }
    values.update(overrides)
    return load_settings(None, environ={}, **values)


@dataclass
class Watch:
    """Every status the publisher reported, and the backoff schedule seen in them."""

    statuses: list[PublisherStatus] = field(default_factory=list)

    def __call__(self, status: PublisherStatus) -> None:
        self.statuses.append(status)

    def states(self) -> list[State]:
        out: list[State] = []
        for status in self.statuses:
            if not out or out[-1] is not status.state:
                out.append(status.state)
        return out

    def schedule(self) -> list[tuple[int, int]]:
        """(attempt, delay) of each scheduled reconnect attempt, in order."""
        out: list[tuple[int, int]] = []
        for status in self.statuses:
            # Counter updates repeat the current schedule entry: keep each attempt once.
            entry = (status.attempt, status.delay_ms)
            if status.state is State.RECONNECTING and status.next_try_at is not None and entry not in out:
                out.append(entry)
        return out


def is_subsequence(wanted: list[State], seen: list[State]) -> bool:
    it = iter(seen)
    return all(any(s is w for s in it) for w in wanted)


def expected_delay(initial: int, attempt: int) -> int:
    return min(initial * 2 ** (attempt - 1), initial * 32)


@dataclass
class Traffic:
    """A steady stream of numbered records over a few keys, with the moment each one settled."""

    publisher: EventPublisher
    handed: int = 0
    settled: dict[int, tuple[Delivery, float]] = field(default_factory=dict)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.stop.is_set():
            n = self.handed
            ticket = await self.publisher.publish("MESSAGES_UPSERT", f"k{n % KEYS}", {"n": n})
            self.handed += 1
            self.tasks.append(asyncio.create_task(self._settle(n, ticket, loop)))
            # Pacing the producer side of the test (a steady stream), not waiting for an outcome.
            await asyncio.sleep(0.002)

    async def _settle(self, n: int, ticket: PublishTicket, loop: asyncio.AbstractEventLoop) -> None:
        [delivery] = await ticket.wait()
        self.settled[n] = (delivery, loop.time())

    async def finish(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.publisher.flush(), timeout=30)
        await asyncio.wait_for(asyncio.gather(*self.tasks), timeout=5)

    def acked(self, after: float = float("-inf")) -> set[int]:
        return {n for n, (d, at) in self.settled.items() if d.ok and at > after}

    def failed(self) -> set[int]:
        return {n for n, (d, _) in self.settled.items() if not d.ok}


def read_to_end(bootstrap: str, topic: str, wanted: set[int], timeout: float = 20.0) -> list[ForeignRecord]:
    """Read ``topic`` with confluent-kafka to the end of every partition, once every wanted number showed.

    A count is not enough here: without idempotence a record whose acknowledgement was lost on the cut link
    is written again, so the topic may hold more records than were handed over.
    """
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "evokafka-tests-faults",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    try:
        deadline = time.monotonic() + timeout
        partitions = consumer.list_topics(topic, timeout=5).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        out: list[ForeignRecord] = []
        found: set[int] = set()
        at_end: set[int] = set()
        while time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    at_end.add(msg.partition())
                    if at_end == set(partitions) and wanted <= found:
                        return out
                continue
            at_end.discard(msg.partition())
            record = ForeignRecord(
                msg.topic(), msg.partition(), msg.offset(), msg.key(), msg.value(), list(msg.headers() or [])
            )
            out.append(record)
            found.add(orjson.loads(record.value or b"")["data"]["n"])
        return out
    finally:
        consumer.close()


def numbers_by_key(records: list[ForeignRecord]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for record in sorted(records, key=lambda r: (r.topic, r.partition, r.offset)):
        assert record.key is not None and record.value is not None
        out[record.key.decode()].append(orjson.loads(record.value)["data"]["n"])
    return out


def first_occurrences(numbers: list[int]) -> list[int]:
    seen: set[int] = set()
    out = []
    for n in numbers:
        if n not in seen:
            seen.add(n)
            out.append(n)
    return out


@pytest.fixture
async def started() -> AsyncIterator[list[EventPublisher]]:
    """Publishers made by a test, stopped at its end whatever happened."""
    made: list[EventPublisher] = []
    yield made
    for publisher in made:
        await publisher.stop()


async def connect(settings: KafkaSettings, made: list[EventPublisher], watch: Watch) -> EventPublisher:
    publisher = EventPublisher(settings, InMemorySettings())
    publisher.subscribe(watch)
    made.append(publisher)
    await publisher.start()
    await async_wait_until(lambda: publisher.status.state is State.CONNECTED, timeout=15)
    return publisher


async def test_broker_killed_and_restarted(
    own_broker: EmbeddedBroker, prefix: str, started: list[EventPublisher]
) -> None:
    settings = fault_settings(own_broker.bootstrap, prefix)
    watch = Watch()
    publisher = await connect(settings, started, watch)
    traffic = Traffic(publisher)
    feeder = asyncio.create_task(traffic.run())
    loop = asyncio.get_running_loop()
    try:
        await async_wait_until(lambda: publisher.status.acknowledged >= 100, timeout=10)
        own_broker.kill()
        # Three failed attempts of 0.8 s, then the connection counts as lost and the backoff runs.
        await async_wait_until(
            lambda: publisher.status.state is State.RECONNECTING and publisher.status.attempt >= 4, timeout=20
        )
        assert publisher.status.last_error
        own_broker.start()  # same port; memory storage: it comes back empty
        restarted_at = loop.time()
        await async_wait_until(lambda: publisher.status.state is State.CONNECTED, timeout=15)
        before = publisher.status.acknowledged
        await async_wait_until(lambda: publisher.status.acknowledged >= before + 100, timeout=10)
    finally:
        await traffic.finish()
        await feeder
    await publisher.verify()  # what the cluster still holds is read back, not guessed from offsets
    status = publisher.status
    await publisher.stop()

    assert is_subsequence([State.CONNECTED, State.RECONNECTING, State.CONNECTED], watch.states())
    schedule = watch.schedule()
    assert [a for a, _ in schedule] == list(range(1, len(schedule) + 1))
    assert len(schedule) >= 4
    assert all(delay == expected_delay(50, a) for a, delay in schedule)
    assert status.retried > 0 and status.failed > 0  # the records in flight at the kill, reported

    # Every record handed over ended acknowledged, reported failed, or lost by the cluster: the broker came
    # back empty, so what it acknowledged before the kill is gone and counted so, never as acknowledged.
    assert traffic.handed == status.sent == len(traffic.settled) == status.acknowledged + status.failed + status.lost
    assert status.lost >= 100
    assert status.last_loss is not None and "lost by the cluster" in status.last_loss
    failed = traffic.failed()
    assert all("failed after 3 attempts" in traffic.settled[n][0].error for n in failed)  # type: ignore[operator]
    # What the restarted (empty) broker holds is exactly what was acknowledged after the restart.
    after = traffic.acked(after=restarted_at)
    assert len(after) >= 100
    records = read_to_end(own_broker.bootstrap, f"{prefix}.global.messages.upsert", after)
    by_key = numbers_by_key(records)
    assert sorted(n for numbers in by_key.values() for n in numbers) == sorted(after)
    for numbers in by_key.values():
        assert numbers == sorted(numbers)  # per-key order across the outage


async def test_never_comes_back_then_retry(tmp_path: Path, prefix: str, started: list[EventPublisher]) -> None:
    port = free_port()
    settings = fault_settings(f"127.0.0.1:{port}", prefix, reconnect_initial_delay_ms="20", reconnect_max_attempts="8")
    publisher = EventPublisher(settings, InMemorySettings())
    watch = Watch()
    publisher.subscribe(watch)
    started.append(publisher)
    await publisher.start()  # nothing listens: start() does not raise, the state tells
    queued = await publisher.publish("CALL", "acme", {"n": 1})
    await async_wait_until(lambda: publisher.status.state is State.FAILED, timeout=20)
    status = publisher.status
    assert status.max_attempts == 8
    assert status.last_error and "cannot reach the cluster" in status.last_error
    assert watch.schedule() == [(a, expected_delay(20, a)) for a in range(1, 9)]
    assert watch.schedule()[-1][1] == 20 * 32  # capped at 2^5 x the first delay
    assert watch.states()[0] is State.CONNECTING and watch.states()[-1] is State.FAILED
    # The record queued while reconnecting is reported failed, not held forever.
    [delivery] = await asyncio.wait_for(queued.wait(), timeout=1)
    assert not delivery.ok and "gave up after 8 reconnect attempts" in (delivery.error or "")
    [refused] = await asyncio.wait_for((await publisher.publish("CALL", "acme", {"n": 2})).wait(), timeout=1)
    assert not refused.ok and "retry" in (refused.error or "")
    assert (publisher.status.sent, publisher.status.failed) == (2, 2)

    with EmbeddedBroker(port=port, log_path=tmp_path / "tansu.log"):
        assert publisher.status.state is State.FAILED  # stays failed until the operator retries
        publisher.retry()
        await async_wait_until(lambda: publisher.status.state is State.CONNECTED, timeout=15)
        [ok] = await asyncio.wait_for((await publisher.publish("CALL", "acme", {"n": 3})).wait(), timeout=10)
        assert ok.ok
        await publisher.stop()
    assert publisher.status.acknowledged == 1


async def test_lost_while_running_fails_after_n_attempts(
    own_broker: EmbeddedBroker, prefix: str, started: list[EventPublisher]
) -> None:
    settings = fault_settings(
        own_broker.bootstrap, prefix, reconnect_initial_delay_ms="20", reconnect_max_attempts="3"
    )
    watch = Watch()
    publisher = await connect(settings, started, watch)
    [first] = await (await publisher.publish("CALL", "acme", {"n": 0})).wait()
    assert first.ok
    own_broker.kill()
    tickets = [await publisher.publish("CALL", "acme", {"n": n}) for n in range(1, 20)]
    await async_wait_until(lambda: publisher.status.state is State.FAILED, timeout=20)
    deliveries = [d for t in tickets for d in await asyncio.wait_for(t.wait(), timeout=1)]
    assert len(deliveries) == 19 and not any(d.ok for d in deliveries)
    status = publisher.status
    assert status.sent == status.acknowledged + status.failed == 20
    assert [a for a, _ in watch.schedule()] == [1, 2, 3]
    own_broker.start()
    publisher.retry()
    await async_wait_until(lambda: publisher.status.state is State.CONNECTED, timeout=15)
    [again] = await asyncio.wait_for((await publisher.publish("CALL", "acme", {"n": 99})).wait(), timeout=10)
    assert again.ok


async def test_link_cut_and_restored(tmp_path: Path, prefix: str, started: list[EventPublisher]) -> None:
    broker_port = free_port()
    proxy = await LinkProxy("127.0.0.1", broker_port).start()
    broker = EmbeddedBroker(port=broker_port, advertised_port=proxy.port, log_path=tmp_path / "tansu.log").start()
    try:
        settings = fault_settings(f"127.0.0.1:{proxy.port}", prefix)
        watch = Watch()
        publisher = await connect(settings, started, watch)
        traffic = Traffic(publisher)
        feeder = asyncio.create_task(traffic.run())
        try:
            await async_wait_until(lambda: publisher.status.acknowledged >= 100, timeout=10)
            await proxy.cut()
            assert proxy.is_cut
            await async_wait_until(
                lambda: publisher.status.state is State.RECONNECTING and publisher.status.attempt >= 3, timeout=20
            )
            await proxy.restore()
            await async_wait_until(lambda: publisher.status.state is State.CONNECTED, timeout=15)
            before = publisher.status.acknowledged
            await async_wait_until(lambda: publisher.status.acknowledged >= before + 100, timeout=10)
        finally:
            await traffic.finish()
            await feeder
        status = publisher.status
        await publisher.stop()
        assert is_subsequence([State.CONNECTED, State.RECONNECTING, State.CONNECTED], watch.states())
        assert traffic.handed == status.sent == len(traffic.settled) == status.acknowledged + status.failed
        acked, failed = traffic.acked(), traffic.failed()
        # The broker kept its data: everything acknowledged is there. The reader goes through the proxy too,
        # so it runs in a thread while this loop keeps forwarding.
        records = await asyncio.to_thread(
            read_to_end, f"127.0.0.1:{proxy.port}", f"{prefix}.global.messages.upsert", acked
        )
        by_key = numbers_by_key(records)
        stored = {n for numbers in by_key.values() for n in numbers}
        assert acked <= stored  # nothing acknowledged was lost
        assert stored <= acked | failed  # nothing stored that was not reported (at most a failed one written)
        for numbers in by_key.values():
            assert first_occurrences(numbers) == sorted(first_occurrences(numbers))
    finally:
        broker.stop()
        await proxy.stop()


async def test_idle_publisher_notices_a_dead_broker(own_broker: EmbeddedBroker, prefix: str) -> None:
    """Nothing is being sent: the probe, not a failed record, shows the outage and the recovery."""
    settings = fault_settings(own_broker.bootstrap, prefix)
    publisher = EventPublisher(settings, InMemorySettings(), probe_interval_s=0.1)
    watch = Watch()
    publisher.subscribe(watch)
    await publisher.start()
    try:
        await async_wait_until(lambda: publisher.status.state is State.CONNECTED, timeout=15)
        # A healthy broker passes the probe again and again: no false alarm.
        await async_wait_until(lambda: publisher.probes >= 5, timeout=5)
        assert watch.states() == [State.CONNECTING, State.CONNECTED]
        own_broker.kill()
        await async_wait_until(lambda: publisher.status.state is State.RECONNECTING, timeout=10)
        assert "stopped answering" in (publisher.status.last_error or "")
        assert publisher.status.sent == 0
        own_broker.start()
        await async_wait_until(lambda: publisher.status.state is State.CONNECTED, timeout=15)
    finally:
        await publisher.stop()


async def test_quick_restart_recreates_lost_topics(
    own_broker: EmbeddedBroker, prefix: str, started: list[EventPublisher]
) -> None:
    """The broker stops and comes back at once, empty: the publisher never sees the link drop, so what it
    remembers (topics it made, partitions) is stale. New records must still all be delivered.
    """
    settings = fault_settings(own_broker.bootstrap, prefix, global_enabled="false")
    instances = [f"i{n}" for n in range(6)]
    lookup = InMemorySettings({name: InstanceSettings.from_request(True, []) for name in instances})
    publisher = EventPublisher(settings, lookup)
    started.append(publisher)
    await publisher.start()
    await async_wait_until(lambda: publisher.status.state is State.CONNECTED, timeout=15)

    async def burst(numbers: range) -> list[Delivery]:
        tickets = [
            await publisher.publish(event, name, {"n": n})
            for n in numbers
            for name in instances
            for event in ("MESSAGES_UPSERT", "CALL")
        ]
        return [d for t in tickets for d in await asyncio.wait_for(t.wait(), timeout=30)]

    assert [d.error for d in await burst(range(2)) if not d.ok] == []
    # Blocking the loop on purpose: the restart is over before the publisher could notice anything.
    own_broker.stop()
    own_broker.start()  # same port; memory storage: no topics any more
    after = await burst(range(2, 6))
    assert [d.error for d in after if not d.ok] == []
    await publisher.flush()
    await publisher.verify()
    status = publisher.status
    # The 24 records acknowledged before the restart are gone with the broker's memory: lost, not acknowledged.
    assert status.sent == 24 + 48 and status.acknowledged == 48 and status.lost == 24 and status.failed == 0
    topics = sorted({d.topic for d in after})
    assert len(topics) == 12
    records = await asyncio.to_thread(read_all, own_broker.bootstrap, topics, len(after))
    assert sorted((r.topic, orjson.loads(r.value or b"")["data"]["n"]) for r in records) == sorted(
        (d.topic, n) for d, n in zip(after, [n for n in range(2, 6) for _ in range(12)], strict=True)
    )


@pytest.mark.parametrize(
    ("error", "unknown"),
    [
        (UnknownError(), True),
        (UnknownTopicOrPartitionError(), True),
        (NotLeaderForPartitionError(), True),
        (LeaderNotAvailableError(), True),
        (KafkaTimeoutError(), False),
        (RecordTooLargeError(), False),
    ],
)
def test_errors_that_mean_the_topic_is_unknown(error: Exception, unknown: bool) -> None:
    """These answers make the publisher forget the topics it made and try again (see the test above)."""
    assert _topic_unknown(error) is unknown
