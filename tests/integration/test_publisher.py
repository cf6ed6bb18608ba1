"""EventPublisher on the real broker: wire format read by the foreign client, routing table, topic creation,
per-key order under load, counters and status."""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from collections.abc import AsyncIterator

import orjson
import pytest

from tests.conftest import async_wait_until
from tests.foreign import read_all
from tui import catalog
from tui.config import KafkaSettings
from tui.demo.broker import EmbeddedBroker
from tui.instance_settings import InMemorySettings, InstanceSettings
from tui.kafka.admin import Admin, TopicSpec
from tui.kafka.options import ConnectionOptions, ReadOnlyError
from tui.kafka.publish.publisher import EventPublisher
from tui.status import PublisherState, PublisherStatus
from tui.templates import template
from tui.topology import InstanceNameError

UPSERT = catalog.lookup("MESSAGES_UPSERT")
TYPEBOT = catalog.lookup("TYPEBOT_START")  # KAFKA_EVENTS_TYPEBOT_START defaults to false


async def started(settings: KafkaSettings, lookup: InMemorySettings | None = None, **kw: object) -> EventPublisher:
    publisher = EventPublisher(settings, lookup or InMemorySettings(), **kw)  # type: ignore[arg-type]
    await publisher.start()
    await async_wait_until(lambda: publisher.status.state is PublisherState.CONNECTED, timeout=15)
    return publisher


@pytest.fixture
async def publisher(settings: KafkaSettings) -> AsyncIterator[EventPublisher]:
    lookup = InMemorySettings({"acme": InstanceSettings.from_request(True, [])})
    pub = await started(settings.model_copy(update={"global_enabled": True}), lookup)
    yield pub
    await pub.stop()


async def test_both_layouts_read_by_the_foreign_client(publisher: EventPublisher, broker: EmbeddedBroker) -> None:
    prefix = publisher.settings.topic_prefix
    data = template(UPSERT, "acme", seq=7)
    ticket = await publisher.publish(
        UPSERT, "acme", data, sender="5511999999999", server_url="https://evo.example.com", apikey="secret-key"
    )
    assert ticket.route.where == "both"
    deliveries = await ticket.wait()
    assert [(d.topic, d.key, d.ok) for d in deliveries] == [
        (f"{prefix}.acme.messages.upsert", "acme", True),
        (f"{prefix}.global.messages.upsert", "acme-messages.upsert", True),
    ]
    records = read_all(broker.bootstrap, [d.topic for d in deliveries], expected=2)
    assert sorted((r.topic, r.key) for r in records) == [
        (f"{prefix}.acme.messages.upsert", b"acme"),
        (f"{prefix}.global.messages.upsert", b"acme-messages.upsert"),
    ]
    for record in records:
        assert record.value is not None
        body = orjson.loads(record.value)
        assert list(body) == [
            "event", "instance", "data", "server_url", "date_time", "sender", "apikey", "timestamp"
        ]
        assert body["event"] == "messages.upsert" and body["instance"] == "acme"
        assert body["data"] == data
        assert body["server_url"] == "https://evo.example.com"
        assert body["sender"] == "5511999999999" and body["apikey"] == "secret-key"
        assert isinstance(body["timestamp"], int) and body["date_time"].endswith("Z")
        headers = dict(record.headers)
        assert set(headers) == {"event", "instance", "origin", "timestamp"}
        assert headers["event"] == b"messages.upsert"
        assert headers["instance"] == b"acme"
        assert headers["origin"] == b"WhatsApp"
        assert headers["timestamp"] == body["date_time"].encode()
    # Where exactly it was written, as the deliveries said.
    by_topic = {r.topic: r for r in records}
    for delivery in deliveries:
        assert (by_topic[delivery.topic].partition, by_topic[delivery.topic].offset) == (
            delivery.partition,
            delivery.offset,
        )


INSTANCE_STATES = {
    "on": InstanceSettings.from_request(True, []),  # enabled, all events
    "listed": InstanceSettings.from_request(True, ["MESSAGES_UPSERT", "TYPEBOT_START"]),
    "other": InstanceSettings.from_request(True, ["CALL"]),  # enabled, but not for these events
    "off": InstanceSettings.from_request(False, []),
    # "unknown": no entry at all
}


async def test_routing_table(settings: KafkaSettings, broker: EmbeddedBroker) -> None:
    """enabled/disabled/unknown instance x global on/off x event default on/off x KAFKA_ENABLED."""
    lookup = InMemorySettings(INSTANCE_STATES)
    base = settings.topic_prefix
    expected: set[tuple[str, bytes]] = set()
    topics_expected: set[str] = set()
    for kafka_on, global_on in itertools.product([True, False], [True, False]):
        prefix = f"{base}k{int(kafka_on)}g{int(global_on)}"
        cfg = settings.model_copy(
            update={"enabled": kafka_on, "global_enabled": global_on, "topic_prefix": prefix}
        )
        pub = await started(cfg, lookup)
        try:
            for name, event in itertools.product([*INSTANCE_STATES, "unknown"], [UPSERT, TYPEBOT]):
                # The rule, written out independently of tui.topology.route:
                per_instance = kafka_on and name in ("on", "listed")
                to_global = kafka_on and global_on and event.default
                ticket = await pub.publish(event, name, {"case": [kafka_on, global_on, name, event.name]})
                want = []
                if per_instance:
                    want.append((f"{prefix}.{name}.{event.wire}", name.encode()))
                if to_global:
                    want.append((f"{prefix}.global.{event.wire}", f"{name}-{event.wire}".encode()))
                got = await ticket.wait()
                assert [(d.topic, d.key.encode()) for d in got] == want, (kafka_on, global_on, name, event)
                assert all(d.ok for d in got)
                assert ticket.route.where == {
                    (True, True): "both", (True, False): "per-instance", (False, True): "global", (False, False): "nowhere"
                }[(per_instance, to_global)]
                if not got:
                    assert ticket.route.reasons  # says why nothing went
                expected.update(want)
                topics_expected.update(t for t, _ in want)
        finally:
            await pub.stop()
    records = read_all(broker.bootstrap, sorted(topics_expected), expected=len(expected))
    assert {(r.topic, r.key) for r in records} == expected
    assert len(records) == len(expected)
    # Auto-creation made exactly the topics published to, nothing else under these prefixes.
    async with Admin(ConnectionOptions.from_settings(settings)) as admin:
        names = {n for n in await admin.topic_names() if n.startswith(base)}
    assert names == topics_expected


async def test_auto_create_makes_exactly_the_published_topics(settings: KafkaSettings) -> None:
    cfg = settings.model_copy(update={"num_partitions": 3, "global_enabled": False})
    lookup = InMemorySettings({"shop": InstanceSettings.from_request(True, ["CALL", "MESSAGES_UPSERT"])})
    pub = await started(cfg, lookup)
    try:
        for _ in range(3):
            for event in ("CALL", "MESSAGES_UPSERT", "CONNECTION_UPDATE"):
                await pub.publish(event, "shop", {"x": 1})
        await pub.flush()
        assert pub.status.acknowledged == 6
    finally:
        await pub.stop()
    async with Admin(ConnectionOptions.from_settings(settings)) as admin:
        topics = {n: p for n, p in (await admin.topics()).items() if n.startswith(settings.topic_prefix)}
    prefix = settings.topic_prefix
    assert topics == {f"{prefix}.shop.call": 3, f"{prefix}.shop.messages.upsert": 3}


async def test_without_auto_create_a_missing_topic_is_sent_anyway_with_a_warning(
    settings: KafkaSettings, caplog: pytest.LogCaptureFixture
) -> None:
    # As Evolution API 2.3.6: nothing is created, the record is sent, the broker's own auto-creation decides.
    cfg = settings.model_copy(update={"auto_create_topics": False, "global_enabled": True,
                                      "events_messages_upsert": True, "events_call": True})
    prefix = cfg.topic_prefix
    options = ConnectionOptions.from_settings(cfg)
    async with Admin(options) as admin:
        await admin.create_topics([TopicSpec(f"{prefix}.global.call")])
    pub = await started(cfg)
    try:
        with caplog.at_level("WARNING", logger="tui.kafka.publish.publisher"):
            missing = await pub.publish("MESSAGES_UPSERT", "acme", {"x": 1})
            present = await pub.publish("CALL", "acme", {"x": 2})
            [sent] = await missing.wait()
            [ok] = await present.wait()
        assert sent.ok and ok.ok  # the test broker auto-creates on produce, as a default Kafka does
        warned = [r.getMessage() for r in caplog.records if "does not exist" in r.getMessage()]
        assert len(warned) == 1 and f"{prefix}.global.messages.upsert" in warned[0]
        assert "KAFKA_AUTO_CREATE_TOPICS=false" in warned[0]
        assert f"{prefix}.global.call" not in warned[0]
    finally:
        await pub.stop()


async def test_per_key_order_under_load(settings: KafkaSettings, broker: EmbeddedBroker) -> None:
    """10k records over eight keys, many in flight at once, read back in order per key."""
    cfg = settings.model_copy(update={"global_enabled": True, "num_partitions": 4})
    pub = await started(cfg)
    instances = [f"inst{i}" for i in range(8)]
    total = 10_000
    try:
        tickets = []
        for n in range(total):
            instance = instances[n % len(instances)]
            tickets.append(await pub.publish(UPSERT, instance, {"n": n}))
        # Nothing awaited per record: most of them are still in flight here.
        assert pub.status.sent == total
        await pub.flush()
        status = pub.status
        assert (status.acknowledged, status.failed, status.retried) == (total, 0, 0)
        assert all(t.done for t in tickets)
    finally:
        await pub.stop()
    topic = f"{cfg.topic_prefix}.global.messages.upsert"
    seen: dict[str, list[int]] = defaultdict(list)
    records = read_all(broker.bootstrap, [topic], expected=total, timeout=60)
    assert len(records) == total
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        assert record.key is not None and record.value is not None
        seen[record.key.decode()].append(orjson.loads(record.value)["data"]["n"])
    assert sorted(seen) == sorted(f"{i}-messages.upsert" for i in instances)
    for key, numbers in seen.items():
        index = int(key.split("-")[0].removeprefix("inst"))
        assert numbers == list(range(index, total, len(instances))), key


async def test_status_counters_idempotence_and_subscribers(settings: KafkaSettings) -> None:
    pub = EventPublisher(settings.model_copy(update={"global_enabled": True}), InMemorySettings())
    seen: list[PublisherStatus] = []
    unsubscribe = pub.subscribe(seen.append)
    assert pub.status.state is PublisherState.DISCONNECTED
    await pub.start()
    try:
        await async_wait_until(lambda: pub.status.state is PublisherState.CONNECTED, timeout=15)
        states = [s.state for s in seen]
        assert states[:2] == [PublisherState.CONNECTING, PublisherState.CONNECTED]
        # This broker refuses aiokafka's idempotence (README: "The embedded broker's quirks"): visible, not silent.
        assert pub.status.idempotence is False
        assert "idempotence OFF" in pub.status.describe()
        for n in range(5):
            await pub.publish("CALL", "acme", {"n": n})
        await pub.flush()
        await async_wait_until(lambda: seen[-1].acknowledged == 5, timeout=5)
        last = seen[-1]
        assert (last.sent, last.acknowledged, last.failed, last.in_flight) == (5, 5, 0, 0)
        unsubscribe()
        before = len(seen)
        await pub.publish("CALL", "acme", {"n": 99})
        await pub.flush()
    finally:
        await pub.stop()
    assert len(seen) == before
    assert pub.status.state is PublisherState.DISCONNECTED


async def test_nothing_routed_counts_nothing(settings: KafkaSettings) -> None:
    pub = await started(settings)  # global off, instance unknown
    try:
        ticket = await pub.publish(UPSERT, "ghost", {"x": 1})
        assert ticket.route.where == "nowhere"
        assert "instance has no Kafka settings" in ticket.route.reasons
        assert "KAFKA_GLOBAL_ENABLED=false" in ticket.route.reasons
        assert await ticket.wait() == []
        assert pub.status.sent == 0
    finally:
        await pub.stop()


async def test_bad_input_and_read_only(settings: KafkaSettings) -> None:
    lookup = InMemorySettings({"bad name": InstanceSettings.from_request(True)})
    pub = EventPublisher(settings.model_copy(update={"global_enabled": True}), lookup, read_only=True)
    with pytest.raises(catalog.UnknownEventError):
        await pub.publish("MESSAGES_UPSRT", "acme", {})
    with pytest.raises(InstanceNameError):
        await pub.publish(UPSERT, "bad name", {})  # its per-instance topic cannot exist
    with pytest.raises(ReadOnlyError):
        await pub.publish(UPSERT, "Loja Centro", {})  # global only: Evolution allows the name
    with pytest.raises(ReadOnlyError):
        await pub.publish(UPSERT, "acme", {})
    assert pub.status.sent == 0


async def test_large_records_go_alone_or_are_refused(publisher: EventPublisher, broker: EmbeddedBroker) -> None:
    """Above the batch size a record still goes (in a batch of its own); above aiokafka's 1 MiB request limit
    it is reported failed at once, and the records around it are delivered."""
    prefix = publisher.settings.topic_prefix
    small = await publisher.publish(UPSERT, "acme", {"n": 1})
    big = await publisher.publish(UPSERT, "acme", {"n": 2, "blob": "x" * 600_000})
    huge = await publisher.publish(UPSERT, "acme", {"n": 3, "blob": "x" * 1_100_000})
    after = await publisher.publish(UPSERT, "acme", {"n": 4})
    delivered = [d for t in (small, big, after) for d in await t.wait()]
    assert len(delivered) == 6 and all(d.ok for d in delivered), delivered
    refused = await huge.wait()
    assert len(refused) == 2 and not any(d.ok for d in refused)
    assert all("MessageSizeTooLargeError" in (d.error or "") for d in refused)
    status = publisher.status
    assert (status.sent, status.acknowledged, status.failed, status.retried) == (8, 6, 2, 0)
    assert status.state is PublisherState.CONNECTED  # a record too large is not a lost connection
    records = read_all(broker.bootstrap, [f"{prefix}.acme.messages.upsert"], expected=3)
    assert [orjson.loads(r.value or b"")["data"]["n"] for r in sorted(records, key=lambda r: r.offset)] == [1, 2, 4]


async def test_a_cancelled_wait_leaves_the_record_and_other_waiters_alone(publisher: EventPublisher) -> None:
    ticket = await publisher.publish("CALL", "acme", {"n": 1})
    assert not ticket.done  # handed over, not acknowledged yet: nothing awaited per record so far
    first = asyncio.create_task(ticket.wait())
    second = asyncio.create_task(ticket.wait())
    await asyncio.sleep(0)  # both waiters are parked on the record now
    first.cancel()
    deliveries = await asyncio.wait_for(second, timeout=10)
    assert [d.ok for d in deliveries] == [True, True]
    assert first.cancelled()
    assert ticket.done and await ticket.wait() == deliveries
    await publisher.flush()
    assert (publisher.status.acknowledged, publisher.status.failed) == (2, 0)
