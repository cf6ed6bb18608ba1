"""The instance registry on the real broker: replay, live follow, /kafka/set semantics, corrupt records."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from tests.conftest import async_wait_until
from tui import catalog
from tui.config import KafkaSettings, load_settings
from tui.demo.broker import EmbeddedBroker, free_port
from tui.demo.linkproxy import LinkProxy
from tui.instance_settings import InstanceSettings
from tui.kafka import metadata
from tui.kafka.admin import Admin, TopicSpec
from tui.kafka.options import ConnectionOptions, ReadOnlyError
from tui.kafka.publish.publisher import EventPublisher
from tui.kafka.registry import InstanceRegistry
from tui.kafka.tail import read
from tui.records import Record
from tui.selection import StartPosition
from tui.topology import InstanceNameError, parse_topic

pytestmark = pytest.mark.broker

Factory = Callable[..., Awaitable[InstanceRegistry]]


@pytest.fixture
def topic(prefix: str) -> str:
    """A registry topic of this test's own."""
    return f"__evokafka_instances_{prefix}"


@pytest.fixture
async def registries(settings: KafkaSettings, topic: str) -> AsyncIterator[Factory]:
    """Start independent registries on ``topic``; all are stopped at the end."""
    started: list[InstanceRegistry] = []

    async def make(**kwargs: Any) -> InstanceRegistry:
        registry = InstanceRegistry(settings, topic=kwargs.pop("topic", topic), **kwargs)
        await registry.start()
        started.append(registry)
        return registry

    yield make
    for registry in started:
        await registry.stop()


async def raw_records(settings: KafkaSettings, topic: str) -> list[Record]:
    """Every record of ``topic`` as written, read without the registry."""
    out: list[Record] = []
    options = ConnectionOptions.from_settings(settings)
    async for batch in read(options, [topic], StartPosition("earliest"), stop_at_end=True):
        out.extend(batch)
    return out


async def produce_raw(settings: KafkaSettings, topic: str, records: list[tuple[bytes | None, bytes | None]]) -> None:
    """Write records straight to ``topic`` with aiokafka, bypassing the registry."""
    producer = AIOKafkaProducer(**ConnectionOptions.from_settings(settings).client_kwargs(), acks="all")
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(topic, key=key, value=value)
    finally:
        await producer.stop()


async def test_two_readers_see_a_change_made_by_a_third(registries: Factory) -> None:
    reader_a = await registries()
    reader_b = await registries()
    writer = await registries()
    assert reader_a.get("alice") is None

    stored = await writer.set_request("alice", True, ["MESSAGES_UPSERT", "connection.update"])

    expected = InstanceSettings(True, ("CONNECTION_UPDATE", "MESSAGES_UPSERT"), stored.updated_at)
    assert stored == expected
    await async_wait_until(lambda: reader_a.get("alice") == expected and reader_b.get("alice") == expected, 5)

    await writer.disable("alice")
    await async_wait_until(lambda: all(r.get("alice") == InstanceSettings(
        False, (), writer.get("alice").updated_at  # type: ignore[union-attr]
    ) for r in (reader_a, reader_b)), 5)


async def test_a_write_is_visible_to_the_writer_on_return(registries: Factory) -> None:
    registry = await registries()
    for round_ in range(5):
        stored = await registry.toggle("bob", "MESSAGES_UPSERT")
        assert registry.get("bob") == stored
        assert stored.enabled is (round_ % 2 == 0)


async def test_the_topic_is_created_compacted_with_no_dots(
    registries: Factory, settings: KafkaSettings, topic: str
) -> None:
    await registries()
    async with Admin(ConnectionOptions.from_settings(settings)) as admin:
        assert topic in await admin.topic_names()
        [response] = await admin.client.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    entries = {e[0]: e[1] for resource in response.resources for e in resource[4]}
    assert entries.get("cleanup.policy") == "compact"
    # The default name can never parse as an event topic, whatever the prefix.
    assert "." not in "__evokafka_instances"
    assert parse_topic("__evokafka_instances", settings.topic_prefix) is None


async def test_disabled_is_stored_with_no_events(registries: Factory, settings: KafkaSettings, topic: str) -> None:
    registry = await registries()
    stored = await registry.set_request("carol", False, ["MESSAGES_UPSERT", "CALL"])
    assert stored.enabled is False and stored.events == ()
    assert not any(stored.enables(e) for e in catalog.EVENTS)
    [record] = await raw_records(settings, topic)
    assert record.key == b"carol"
    assert orjson.loads(record.value or b"") == {"enabled": False, "events": [], "updated_at": stored.updated_at}


async def test_enabled_with_no_events_means_all(registries: Factory) -> None:
    registry = await registries()
    stored = await registry.set_request("dave", True, [])
    assert stored.all_events
    assert all(stored.enables(e) for e in catalog.EVENTS)
    # Enabling an instance that has no entry gives it every event too.
    assert (await registry.enable("erin")).all_events
    # Switching one event off from "all" leaves all but that one.
    fewer = await registry.toggle("dave", "CALL")
    assert fewer.enabled and len(fewer.events) == len(catalog.EVENTS) - 1 and "CALL" not in fewer.events


async def test_alias_group_update_is_stored_as_groups_update(
    registries: Factory, settings: KafkaSettings, topic: str
) -> None:
    registry = await registries()
    stored = await registry.set_request("frank", True, ["GROUP_UPDATE", "messages.upsert"])
    assert stored.events == ("MESSAGES_UPSERT", "GROUPS_UPDATE")
    toggled = await registry.toggle("frank", "GROUP_UPDATE")
    assert toggled.events == ("MESSAGES_UPSERT",)
    values = [orjson.loads(r.value or b"") for r in await raw_records(settings, topic)]
    assert values[0]["events"] == ["MESSAGES_UPSERT", "GROUPS_UPDATE"]
    assert values[1]["events"] == ["MESSAGES_UPSERT"]


async def test_unknown_event_is_refused_and_nothing_is_written(
    registries: Factory, settings: KafkaSettings, topic: str
) -> None:
    registry = await registries()
    with pytest.raises(catalog.UnknownEventError, match=r"MESAGES_UPSERT.*MESSAGES_UPSERT"):
        await registry.set_request("gina", True, ["MESAGES_UPSERT"])
    with pytest.raises(catalog.UnknownEventError):
        await registry.toggle("gina", "nope.nothing")
    assert registry.get("gina") is None
    assert await raw_records(settings, topic) == []


@pytest.mark.parametrize("name", ["", "has space", "a/b", "global", "ünïcode", "x" * 240])
async def test_illegal_instance_name_is_refused(
    registries: Factory, settings: KafkaSettings, topic: str, name: str
) -> None:
    registry = await registries()
    for write in (
        lambda: registry.set_request(name, True, []),
        lambda: registry.set(name, InstanceSettings(True)),
        lambda: registry.enable(name),
        lambda: registry.disable(name),
        lambda: registry.toggle(name, "CALL"),
        lambda: registry.delete(name),
    ):
        with pytest.raises(InstanceNameError, match="illegal instance name"):
            await write()
    assert await raw_records(settings, topic) == []


async def test_names_with_dots_dashes_and_underscores_are_fine(registries: Factory) -> None:
    registry = await registries()
    stored = await registry.enable("acme.sales-team_2")
    assert registry.get("acme.sales-team_2") == stored


async def test_deletion_reaches_every_reader_and_survives_replay(
    registries: Factory, settings: KafkaSettings, topic: str
) -> None:
    writer = await registries()
    reader = await registries()
    changes: list[tuple[str, InstanceSettings | None]] = []
    reader.subscribe(lambda name, value: changes.append((name, value)))
    await writer.enable("hank")
    await writer.enable("ivy")
    await async_wait_until(lambda: reader.get("hank") is not None and reader.get("ivy") is not None, 5)

    await writer.delete("hank")
    assert writer.get("hank") is None
    await async_wait_until(lambda: reader.get("hank") is None, 5)
    assert changes[-1] == ("hank", None)
    assert [name for name, _ in changes] == ["hank", "ivy", "hank"]

    records = await raw_records(settings, topic)
    assert records[-1].key == b"hank" and records[-1].value is None

    late = await registries()  # replays the topic from the start
    assert set(late.all()) == {"ivy"}
    assert late.all()["ivy"] == writer.get("ivy")


async def test_subscribers_see_every_change_and_can_unsubscribe(registries: Factory) -> None:
    writer = await registries()
    reader = await registries()
    seen: list[tuple[str, bool | None]] = []
    unsubscribe = reader.subscribe(lambda name, value: seen.append((name, value.enabled if value else None)))
    reader.subscribe(lambda name, value: 1 / 0)  # a broken subscriber must not stop the registry
    await writer.enable("jay")
    await writer.disable("jay")
    await writer.toggle("jay", "CALL")
    await async_wait_until(lambda: len(seen) == 3, 5)
    assert seen == [("jay", True), ("jay", False), ("jay", True)]
    unsubscribe()
    await writer.delete("jay")
    await async_wait_until(lambda: reader.get("jay") is None, 5)
    assert len(seen) == 3


async def test_corrupt_records_are_reported_and_skipped(
    registries: Factory, settings: KafkaSettings, topic: str
) -> None:
    live = await registries()
    await live.set_request("kate", True, ["CALL"])
    await produce_raw(
        settings,
        topic,
        [
            (b"kate", b"\xff\x00 garbage \x81"),  # not UTF-8, not JSON
            (b"kate", b'{"enabled": "yes", "events": []}'),  # JSON, wrong shape
            (b"kate", b'{"enabled": true, "events": ["NO_SUCH_EVENT"]}'),  # unknown event
            (b"kate", b"[1, 2, 3]"),  # JSON, not an object
            (None, b'{"enabled": true, "events": []}'),  # no key
            (b"bad name!", b'{"enabled": true, "events": []}'),  # illegal instance name
            (b"\xfe\xfe", b'{"enabled": true, "events": []}'),  # key not UTF-8
        ],
    )
    await live.set_request("liam", True, [])  # a good record after the junk still applies

    await async_wait_until(lambda: len(live.problems) == 7, 5)
    assert live.get("kate") == InstanceSettings(True, ("CALL",), live.get("kate").updated_at)  # type: ignore[union-attr]
    assert live.get("liam") is not None and live.get("liam").all_events  # type: ignore[union-attr]
    assert [p.offset for p in live.problems] == [1, 2, 3, 4, 5, 6, 7]
    assert [p.key for p in live.problems][:4] == ["kate"] * 4
    assert live.problems[4].key is None and "without a key" in live.problems[4].reason
    assert "not JSON" in live.problems[0].reason
    assert "enabled" in live.problems[1].reason
    assert "NO_SUCH_EVENT" in live.problems[2].reason
    assert "illegal instance name" in live.problems[5].reason
    assert "UTF-8" in live.problems[6].reason

    replayed = await registries()  # a registry started on the damaged topic starts all the same
    assert replayed.all() == live.all()
    assert len(replayed.problems) == 7


async def test_read_only_refuses_every_write(registries: Factory, settings: KafkaSettings, topic: str) -> None:
    writer = await registries()
    await writer.enable("mia")
    registry = await registries(read_only=True)
    assert registry.get("mia") == writer.get("mia")
    for write in (
        lambda: registry.set_request("mia", True, []),
        lambda: registry.set("mia", InstanceSettings(True)),
        lambda: registry.enable("mia"),
        lambda: registry.disable("mia"),
        lambda: registry.toggle("mia", "CALL"),
        lambda: registry.delete("mia"),
    ):
        with pytest.raises(ReadOnlyError, match="read-only"):
            await write()
    assert len(await raw_records(settings, topic)) == 1


async def test_read_only_does_not_create_the_topic_and_picks_it_up_later(
    registries: Factory, settings: KafkaSettings, topic: str
) -> None:
    reader = await registries(read_only=True)
    assert reader.all() == {} and reader.synced
    async with Admin(ConnectionOptions.from_settings(settings)) as admin:
        assert topic not in await admin.topic_names()
    writer = await registries()
    await writer.enable("noah")
    await async_wait_until(lambda: reader.get("noah") is not None, 10)


async def test_updated_at_travels_with_the_record(registries: Factory) -> None:
    writer = await registries()
    reader = await registries()
    stored = await writer.set(
        "olga", InstanceSettings(True, ("MESSAGES_UPSERT",), "2020-01-01T00:00:00.000Z")
    )
    assert stored.updated_at != "2020-01-01T00:00:00.000Z"  # a write is stamped now
    await async_wait_until(lambda: reader.get("olga") is not None, 5)
    assert reader.get("olga") == stored


async def test_a_publishers_routing_follows_a_toggle_live(
    registries: Factory, settings: KafkaSettings, prefix: str
) -> None:
    console = await registries()  # where the operator toggles
    followed = await registries()  # the publisher's own view of the registry, never restarted
    publisher = EventPublisher(settings, followed)
    await publisher.start()
    instance = "live.shop"
    topic = f"{prefix}.{instance}.messages.upsert"
    try:
        before = await publisher.publish("MESSAGES_UPSERT", instance, {"n": 0})
        assert before.route.where == "nowhere" and await before.wait() == []

        await console.set_request(instance, True, ["MESSAGES_UPSERT"])
        await async_wait_until(lambda: followed.get(instance) is not None, 5)
        enabled = [await publisher.publish("MESSAGES_UPSERT", instance, {"n": n}) for n in (1, 2)]
        for ticket in enabled:
            assert ticket.route.where == "per-instance"
            [delivery] = await ticket.wait()
            assert delivery.ok and delivery.topic == topic and delivery.key == instance
        # Another event of the same instance is not in its list: it goes nowhere.
        assert (await publisher.publish("CALL", instance, {})).route.where == "nowhere"

        await console.disable(instance)
        await async_wait_until(lambda: followed.get(instance).enabled is False, 5)  # type: ignore[union-attr]
        after = await publisher.publish("MESSAGES_UPSERT", instance, {"n": 3})
        assert after.route.where == "nowhere" and await after.wait() == []

        await console.toggle(instance, "messages.upsert")  # back on, by a single toggle
        await async_wait_until(lambda: followed.get(instance).enabled is True, 5)  # type: ignore[union-attr]
        again = await publisher.publish("MESSAGES_UPSERT", instance, {"n": 4})
        assert [d.ok for d in await again.wait()] == [True]
        await publisher.flush()
    finally:
        await publisher.stop()

    bodies = [orjson.loads(r.value or b"") for r in await raw_records(settings, topic)]
    assert sorted(b["data"]["n"] for b in bodies) == [1, 2, 4]
    assert {b["instance"] for b in bodies} == {instance}


async def test_a_reader_outlives_a_cut_link_and_sees_changes_made_after_it(tmp_path: Path) -> None:
    broker_port = free_port()
    proxy = await LinkProxy("127.0.0.1", broker_port).start()
    broker = EmbeddedBroker(broker_port, advertised_port=proxy.port, log_path=tmp_path / "tansu.log").start()
    settings = load_settings(
        None, environ={}, brokers=f"127.0.0.1:{proxy.port}", connection_timeout="1000", request_timeout="3000"
    )
    reader = InstanceRegistry(settings, topic="__evokafka_instances")
    writer = InstanceRegistry(settings, topic="__evokafka_instances")
    try:
        await reader.start()
        await writer.start()
        await writer.enable("before")
        await async_wait_until(lambda: reader.get("before") is not None, 5)

        await proxy.cut()  # every connection of both registries is dropped
        await proxy.restore()

        await writer.set_request("after", True, ["CALL"])
        await async_wait_until(lambda: reader.get("after") is not None, 15)
        assert reader.get("after").events == ("CALL",)  # type: ignore[union-attr]
    finally:
        await reader.stop()
        await writer.stop()
        await proxy.stop()
        broker.stop()


async def test_stop_while_the_reader_backs_off_after_failed_fetches_raises_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # aiokafka's consumer.stop() cancels the fetch that sleeps in its retry backoff and awaits it, which lets a
    # CancelledError out of stop(). Uncaught by the registry it broke a test's teardown under load, and pytest
    # then kept the failed test's fixtures (its topic prefix) for the next tests.
    broker_port = free_port()
    proxy = await LinkProxy("127.0.0.1", broker_port).start()
    broker = EmbeddedBroker(broker_port, advertised_port=proxy.port, log_path=tmp_path / "tansu.log").start()
    settings = load_settings(
        None, environ={}, brokers=f"127.0.0.1:{proxy.port}", connection_timeout="1000", request_timeout="3000"
    )
    try:
        for _ in range(3):
            registry = InstanceRegistry(settings, topic="__evokafka_instances")
            await registry.start()
            caplog.clear()
            await proxy.cut()
            # The fetcher logs the failure right before it sleeps in its backoff: stop() lands in that sleep.
            await async_wait_until(
                lambda: any("Failed fetch messages" in r.getMessage() for r in caplog.records), 10, 0.002
            )
            await registry.stop()  # must neither raise nor hang
            assert registry.get("anyone") is None
            await proxy.restore()
        # A real cancellation of the caller still goes through.
        registry = InstanceRegistry(settings, topic="__evokafka_instances")
        await registry.start()
        stopping = asyncio.create_task(registry.stop())
        stopping.cancel()
        with pytest.raises(asyncio.CancelledError):
            await stopping
        await registry.stop()
    finally:
        await proxy.stop()
        broker.stop()


def restart_settings(broker: EmbeddedBroker) -> KafkaSettings:
    """Short timeouts on a broker of the test's own (it is killed and started again)."""
    return load_settings(
        None, environ={}, brokers=broker.bootstrap, connection_timeout="1000", request_timeout="3000",
        reconnect_initial_delay_ms="100",
    )


async def test_writes_after_a_broker_restart_recreate_the_topic_and_succeed(own_broker: EmbeddedBroker) -> None:
    settings = restart_settings(own_broker)
    writer = InstanceRegistry(settings, topic="__evokafka_instances")
    reader = InstanceRegistry(settings, topic="__evokafka_instances")
    try:
        await writer.start()
        await reader.start()
        await writer.enable("before")
        await async_wait_until(lambda: reader.get("before") is not None, 5)

        own_broker.kill()
        own_broker.start()  # same port, memory storage: the topic and its records are gone

        # The registries notice: the old entries went with the old topic, no registry shows them any more.
        await async_wait_until(lambda: writer.get("before") is None and reader.get("before") is None, 10)
        # (Written before the topic is back, a record can hit Tansu's race between the auto-creations that
        # several clients' metadata requests trigger at once: its end offset moves, the record is never
        # readable and later writes to that partition fail. Nothing a client can repair; see the report.)
        stored = await writer.set_request("after", True, ["CALL"])
        assert writer.get("after") == stored
        await async_wait_until(lambda: reader.get("after") == stored, 10)
        # (Which partitions it has depends on who asked first: aiokafka's metadata requests let the broker
        # auto-create it. The next test makes sure it has several.)
        await writer.toggle("after", "MESSAGES_UPSERT")
        await async_wait_until(lambda: reader.get("after").events == ("MESSAGES_UPSERT", "CALL"), 5)  # type: ignore[union-attr]
    finally:
        await writer.stop()
        await reader.stop()


async def test_a_topic_auto_created_with_more_partitions_after_a_restart_is_read_whole(
    own_broker: EmbeddedBroker,
) -> None:
    settings = restart_settings(own_broker)
    registry = InstanceRegistry(settings, topic="__evokafka_instances")
    watcher = InstanceRegistry(settings, topic="__evokafka_instances", read_only=True)
    try:
        await registry.start()
        await watcher.start()
        await registry.enable("before")
        await async_wait_until(lambda: watcher.get("before") is not None, 5)

        own_broker.kill()
        own_broker.start()
        # Another client writes first: the broker auto-creates the topic with several partitions.
        await produce_raw(settings, "__evokafka_instances", [(b"foreign", orjson.dumps({"enabled": False}))])
        async with Admin(ConnectionOptions.from_settings(settings)) as admin:
            partitions = (await admin.topics())["__evokafka_instances"]
        assert partitions > 1

        names = [f"shop-{n}" for n in range(8)]  # keys spread over the partitions
        for name in names:
            stored = await registry.enable(name)  # each one read back by the registry before it returns
            assert registry.get(name) == stored
        await async_wait_until(lambda: all(watcher.get(n) is not None for n in names), 10)
        assert registry.get("foreign") is not None and watcher.get("foreign") is not None
        await async_wait_until(lambda: registry.get("before") is None and watcher.get("before") is None, 10)
    finally:
        await registry.stop()
        await watcher.stop()


async def test_a_read_only_registry_drops_the_entries_of_a_vanished_topic(own_broker: EmbeddedBroker) -> None:
    settings = restart_settings(own_broker)
    watcher = InstanceRegistry(settings, topic="__evokafka_instances", read_only=True)
    changes: list[tuple[str, InstanceSettings | None]] = []
    try:
        async with InstanceRegistry(settings, topic="__evokafka_instances") as writer:
            await writer.enable("before")
        await watcher.start()
        watcher.subscribe(lambda name, settings: changes.append((name, settings)))
        assert watcher.get("before") is not None

        own_broker.kill()
        own_broker.start()
        await async_wait_until(lambda: watcher.get("before") is None, 10)
        assert changes == [("before", None)]  # subscribers hear of it

        async with InstanceRegistry(settings, topic="__evokafka_instances") as writer:
            await writer.enable("later")
        await async_wait_until(lambda: watcher.get("later") is not None, 10)
    finally:
        await watcher.stop()


async def test_the_topics_its_connection_was_answered_with_are_kept(
    registries: Factory, settings: KafkaSettings, topic: str, prefix: str
) -> None:
    # `evokafka instances list` discovers instances in these instead of asking again through another client.
    async with Admin(ConnectionOptions.from_settings(settings)) as admin:
        await admin.create_topics([TopicSpec(f"{prefix}.shop.messages.upsert", 2)])
        registry = await registries()
        await admin.create_topics([TopicSpec(f"{prefix}.later.messages.upsert")])
    assert registry._consumer is not None
    await metadata.refresh(registry._consumer)  # what the reader holds now is another answer
    topics = await registry.topics_at_connect()
    assert topics is not None
    assert topics[f"{prefix}.shop.messages.upsert"] == 2 and topics[topic] == 1
    assert f"{prefix}.later.messages.upsert" not in topics  # the connection's answer, not a later one
