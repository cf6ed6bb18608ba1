"""Read-only is enforced in the Kafka layer for every write: topic creation, the registry, publishing.

Each test checks the refusal (``ReadOnlyError``) *and* that nothing reached the cluster, with a second,
writable client looking at the same topics.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from tui.config import KafkaSettings, load_app_settings
from tui.console.session import Session
from tui.evolution_env import DOCUMENT_EVENT_BLOCK
from tui.instance_settings import InMemorySettings, InstanceSettings
from tui.kafka.admin import Admin, TopicSpec
from tui.kafka.options import ConnectionOptions, ReadOnlyError
from tui.kafka.publish.publisher import EventPublisher
from tui.kafka.registry import InstanceRegistry

pytestmark = pytest.mark.broker


async def end_offset(options: ConnectionOptions, topic: str) -> int:
    consumer = AIOKafkaConsumer(**options.client_kwargs(), group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        ends = await consumer.end_offsets(partitions)
        return sum(ends.values())
    finally:
        await consumer.stop()


async def test_topic_creation_refused(settings: KafkaSettings, prefix: str) -> None:
    options = ConnectionOptions.from_settings(settings)
    async with Admin(options, read_only=True) as admin:
        with pytest.raises(ReadOnlyError, match="read-only mode: refusing to create topics"):
            await admin.create_topics([TopicSpec(f"{prefix}.ro.messages.upsert")])
    async with Admin(options) as admin:
        assert f"{prefix}.ro.messages.upsert" not in await admin.topic_names()


async def test_registry_writes_refused_and_nothing_written(settings: KafkaSettings, prefix: str) -> None:
    topic = f"reg_{prefix}"
    options = ConnectionOptions.from_settings(settings)
    # Read-only start does not create the registry topic either.
    async with InstanceRegistry(settings, topic=f"{topic}_absent", read_only=True) as empty:
        assert empty.all() == {}
    async with Admin(options) as admin:
        assert f"{topic}_absent" not in await admin.topic_names()

    async with InstanceRegistry(settings, topic=topic) as writable:
        original = await writable.set_request("shop", True, ["MESSAGES_UPSERT"])
    before = await end_offset(options, topic)
    async with InstanceRegistry(settings, topic=topic, read_only=True) as registry:
        assert registry.get("shop") == original
        writes = [
            registry.set("shop", InstanceSettings.from_request(False)),
            registry.set_request("shop", False, []),
            registry.set_request("newcomer", True, []),
            registry.enable("shop"),
            registry.disable("shop"),
            registry.toggle("shop", "CALL"),
            registry.delete("shop"),
        ]
        for write in writes:
            with pytest.raises(ReadOnlyError):
                await write
        assert registry.get("shop") == original and registry.get("newcomer") is None
    assert await end_offset(options, topic) == before
    async with InstanceRegistry(settings, topic=topic, read_only=True) as again:
        assert again.all() == {"shop": original}


async def test_publish_refused_and_nothing_sent(settings: KafkaSettings, prefix: str) -> None:
    lookup = InMemorySettings({"shop": InstanceSettings.from_request(True, [])})
    publisher = EventPublisher(settings, lookup, read_only=True)
    await publisher.start()
    try:
        with pytest.raises(ReadOnlyError, match=r"publish messages\.upsert of shop"):
            await publisher.publish("MESSAGES_UPSERT", "shop", {"text": "must not be sent"})
        await publisher.flush()
        assert publisher.status.sent == 0
    finally:
        await publisher.stop()
    async with Admin(ConnectionOptions.from_settings(settings)) as admin:
        # Auto-creation is on in these settings: a record sent would have created the topic.
        assert not [t for t in await admin.topic_names() if t.startswith(prefix + ".")]


async def test_console_services_are_read_only_throughout(settings: KafkaSettings, prefix: str) -> None:
    app = load_app_settings(None, environ={}, read_only="true", registry_topic=f"reg_{prefix}")
    session = Session.build(settings, app)
    assert session.read_only and session.publisher.read_only and session.registry.read_only
    with pytest.raises(ReadOnlyError):
        await session.publisher.publish("CALL", "shop", {})
    with pytest.raises(ReadOnlyError):
        await session.registry.set_request("shop", True, [])
    await session.stop()


def test_cli_refuses_every_write(settings: KafkaSettings, prefix: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "EVOKAFKA_"))}
    env.update(
        KAFKA_BROKERS=",".join(settings.brokers), KAFKA_TOPIC_PREFIX=prefix, KAFKA_AUTO_CREATE_TOPICS="true",
        KAFKA_GLOBAL_ENABLED="true", EVOKAFKA_REGISTRY_TOPIC=f"reg_{prefix}",
        **DOCUMENT_EVENT_BLOCK,  # Evolution reads a missing KAFKA_EVENTS_* as false
    )
    writes = [
        ["publish", "MESSAGES_UPSERT", "-i", "shop"],
        ["instances", "set", "shop", "--enabled", "--all-events"],
        ["instances", "delete", "shop"],
        ["topics", "create", "--yes"],
    ]
    for args in writes:
        for how in (["--read-only", *args], args):
            # Once by flag, once by EVOKAFKA_READ_ONLY.
            env_ro = dict(env, EVOKAFKA_READ_ONLY="true") if how is args else env
            done = subprocess.run(
                [sys.executable, "-m", "tui", *how], capture_output=True, text=True, env=env_ro, timeout=60,
                check=False,
            )
            assert done.returncode != 0, (how, done.stdout)
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1 and "read-only" in lines[0], (how, done.stderr)

    async def nothing_written() -> None:
        async with Admin(ConnectionOptions.from_settings(settings)) as admin:
            names = await admin.topic_names()
        assert not [t for t in names if t.startswith(prefix + ".")]
        assert f"reg_{prefix}" not in names

    asyncio.run(nothing_written())
