"""Discovery on the real broker: instances that exist only because something published for them."""

from __future__ import annotations

import time

import pytest
from aiokafka import AIOKafkaProducer

from tui import catalog, envelope
from tui.config import KafkaSettings
from tui.instance_source import DiscoveredInstance
from tui.kafka.admin import Admin, TopicSpec
from tui.kafka.discovery import discover
from tui.kafka.options import ConnectionOptions
from tui.kafka.registry import InstanceRegistry
from tui.topology import Layout, message_key, topic_name

pytestmark = pytest.mark.broker

Raw = tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]


def envelope_record(prefix: str, layout: Layout, instance: str, event_name: str) -> Raw:
    """A record exactly as Evolution API publishes it (topic, key, value, headers)."""
    event = catalog.lookup(event_name)
    built = envelope.build(event, instance, {"key": {"id": "x"}})
    return (
        topic_name(prefix, layout, instance, event),
        message_key(layout, instance, event).encode(),
        built.encode(),
        built.headers,
    )


async def publish(settings: KafkaSettings, records: list[Raw]) -> None:
    producer = AIOKafkaProducer(**ConnectionOptions.from_settings(settings).client_kwargs(), acks="all")
    await producer.start()
    try:
        for topic, key, value, headers in records:
            await producer.send_and_wait(topic, key=key, value=value, headers=headers)
    finally:
        await producer.stop()


async def run_discover(settings: KafkaSettings, **kwargs: int | float) -> dict[str, DiscoveredInstance]:
    options = ConnectionOptions.from_settings(settings)
    async with Admin(options) as admin:
        return await discover(admin, options, settings.topic_prefix, **kwargs)  # type: ignore[arg-type]


async def test_instances_created_only_by_publishing_are_listed_in_both_layouts(
    settings: KafkaSettings, prefix: str
) -> None:
    p, inst, glob = prefix, Layout.INSTANCE, Layout.GLOBAL
    await publish(
        settings,
        [
            envelope_record(p, inst, "acme.sales", "MESSAGES_UPSERT"),
            envelope_record(p, inst, "acme.sales", "CONNECTION_UPDATE"),
            envelope_record(p, inst, "beta", "GROUP_PARTICIPANTS_UPDATE"),
            envelope_record(p, inst, "send.message", "SEND_MESSAGE_UPDATE"),  # instance named like an event
            envelope_record(p, glob, "gamma.v2.eu", "MESSAGES_UPSERT"),
            envelope_record(p, glob, "gamma.v2.eu", "CALL"),
            envelope_record(p, glob, "acme.sales", "CALL"),
            envelope_record(p, glob, "with-dash", "group-participants.update"),
            # A foreign producer: the instance only in the header, no key.
            (f"{p}.global.messages.update", None, b"{}", [("instance", b"delta")]),
            # Only the key, no headers, a body that is not JSON.
            (f"{p}.global.contacts.upsert", b"eps-contacts.upsert", b"\xff\xfe", []),
            # Junk that names no instance, or an illegal one: ignored.
            (f"{p}.global.chats.set", b"unrelated", b"{}", []),
            (f"{p}.global.chats.set", None, b"{}", [("instance", b"bad name!")]),
        ],
    )
    async with Admin(ConnectionOptions.from_settings(settings)) as admin:
        # Topics that are not event topics of this prefix are not instances.
        await admin.create_topics([TopicSpec(f"{p}.notanevent"), TopicSpec(f"{p}x.ghost.call")])

    found = await run_discover(settings)

    assert found == {
        "acme.sales": DiscoveredInstance(
            "acme.sales", {inst, glob}, {"messages.upsert", "connection.update", "call"},
            found["acme.sales"].last_seen_ms,
        ),
        "beta": DiscoveredInstance("beta", {inst}, {"group-participants.update"}),
        "delta": DiscoveredInstance("delta", {glob}, {"messages.update"}, found["delta"].last_seen_ms),
        "eps": DiscoveredInstance("eps", {glob}, {"contacts.upsert"}, found["eps"].last_seen_ms),
        "gamma.v2.eu": DiscoveredInstance(
            "gamma.v2.eu", {glob}, {"messages.upsert", "call"}, found["gamma.v2.eu"].last_seen_ms
        ),
        "send.message": DiscoveredInstance("send.message", {inst}, {"send.message.update"}),
        "with-dash": DiscoveredInstance(
            "with-dash", {glob}, {"group-participants.update"}, found["with-dash"].last_seen_ms
        ),
    }
    now_ms = time.time() * 1000
    assert all(
        d.last_seen_ms is not None and abs(d.last_seen_ms - now_ms) < 120_000
        for d in found.values()
        if Layout.GLOBAL in d.layouts
    )
    assert found["beta"].last_seen_ms is None


async def test_registry_topic_and_evolution_misnamed_topic(settings: KafkaSettings, prefix: str) -> None:
    registry = InstanceRegistry(settings, topic=f"__evokafka_instances_{prefix}")
    await registry.start()
    try:
        await registry.enable("zed")
    finally:
        await registry.stop()
    async with Admin(ConnectionOptions.from_settings(settings)) as admin:
        # Evolution API auto-creates this name although it publishes to group-participants.update.
        await admin.create_topics([TopicSpec(f"{prefix}.omega.group.participants.update")])
    found = await run_discover(settings)
    # The registry entry alone makes no discovered instance; the misnamed topic maps to the real event.
    assert found == {"omega": DiscoveredInstance("omega", {Layout.INSTANCE}, {"group-participants.update"})}


async def test_only_the_most_recent_records_of_global_topics_are_read(
    settings: KafkaSettings, prefix: str
) -> None:
    topic = f"{prefix}.global.call"
    async with Admin(ConnectionOptions.from_settings(settings)) as admin:
        await admin.create_topics([TopicSpec(topic, partitions=1)])
    old = [envelope_record(prefix, Layout.GLOBAL, "old", "CALL") for _ in range(5)]
    new = [envelope_record(prefix, Layout.GLOBAL, "new", "CALL") for _ in range(3)]
    await publish(settings, old + new)
    assert set(await run_discover(settings, recent=3)) == {"new"}
    assert set(await run_discover(settings, recent=100)) == {"new", "old"}


async def test_listing_hundreds_of_topics_is_fast(settings: KafkaSettings, prefix: str) -> None:
    events = [e for e in catalog.EVENTS if e.default][:6]
    specs = [
        TopicSpec(topic_name(prefix, Layout.INSTANCE, f"tenant-{i:03d}.wa", event))
        for i in range(60)
        for event in events
    ]
    async with Admin(ConnectionOptions.from_settings(settings)) as admin:
        await admin.create_topics(specs)
    await publish(settings, [envelope_record(prefix, Layout.GLOBAL, f"g{i}", e.name) for i in range(3) for e in events])

    start = time.monotonic()
    found = await run_discover(settings)
    elapsed = time.monotonic() - start

    assert len(specs) == 360
    assert len(found) == 63
    assert found["tenant-007.wa"].events == {e.wire for e in events}
    assert elapsed < 1.0, f"discovery took {elapsed:.2f}s"
