"""``evokafka explain`` on the real broker, with the demo's traffic: each verdict, the last record of an event that
arrived (text and ``--json``), a consumer group's lag, and a cluster that does not answer."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import SecretStr

from tui import catalog
from tui.config import KafkaSettings
from tui.demo.broker import free_port
from tui.demo.runner import DemoConfig, DemoRunner
from tui.demo.traffic import demo_instances
from tui.evolution.server import EvolutionServer, ServeConfig
from tui.evolution_env import DOCUMENT_EVENT_BLOCK
from tui.instance_settings import InstanceSettings
from tui.kafka.explain import explain
from tui.kafka.options import ConnectionOptions
from tui.kafka.registry import InstanceRegistry
from tui.kafka.tail import read
from tui.selection import StartPosition

pytestmark = pytest.mark.broker


@pytest.fixture
async def demo(settings: KafkaSettings, prefix: str) -> AsyncIterator[KafkaSettings]:
    """The demo's traffic for a few seconds, both layouts; the settings it ran with."""
    ran = settings.model_copy(update={"global_enabled": True})
    runner = DemoRunner(ran, DemoConfig(rate=300, duration=3, seed=1, external=True),
                        registry_topic=f"{prefix}_registry")
    await runner.start()
    try:
        await runner.run()
        await runner.publisher.flush()
    finally:
        await runner.stop()
    yield ran


def _cli(
    settings: KafkaSettings, prefix: str, *args: str, brokers: str | None = None, **extra: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "EVOKAFKA_", "EVOLUTION_"))}
    env.update(KAFKA_TOPIC_PREFIX=prefix, KAFKA_GLOBAL_ENABLED="true", EVOKAFKA_REGISTRY_TOPIC=f"{prefix}_registry",
               KAFKA_CONNECTION_TIMEOUT="1000", KAFKA_REQUEST_TIMEOUT="3000", KAFKA_ENABLED="true",
               **DOCUMENT_EVENT_BLOCK)
    env.update(extra)
    return subprocess.run(
        [sys.executable, "-m", "tui", "--brokers", brokers or ",".join(settings.brokers), "explain", *args],
        capture_output=True, text=True, env=env, timeout=90, check=False,
    )


async def _last_offsets(settings: KafkaSettings, topic: str, key: bytes) -> tuple[int, int, int]:
    """The last (partition, offset) of ``key`` on ``topic`` and the topic's record count, by reading all of it
    (what explain must not do). One key lives in one partition."""
    found: list[tuple[int, int]] = []
    total = 0
    async for batch in read(ConnectionOptions.from_settings(settings), [topic], StartPosition("earliest"),
                            stop_at_end=True, end_idle_ms=300):
        total += len(batch)
        found.extend((r.partition, r.offset) for r in batch if r.key == key)
    assert len({p for p, _ in found}) == 1
    partition, offset = max(found, key=lambda item: item[1])
    return partition, offset, total


async def test_explain_verdicts_and_the_last_record_of_an_event_that_arrived(
    demo: KafkaSettings, prefix: str
) -> None:
    # An event that arrived: its topics and last offsets, in text and in --json.
    done = _cli(demo, prefix, "acme-sales", "messages.upsert", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["verdict"] == "published"
    by_topic = {t["topic"]: t for t in doc["topics"]}
    own, glob = f"{prefix}.acme-sales.messages.upsert", f"{prefix}.global.messages.upsert"
    assert by_topic[own]["taken"] and by_topic[glob]["taken"]
    expected_own = await _last_offsets(demo, own, b"acme-sales")
    expected_glob = await _last_offsets(demo, glob, b"acme-sales-messages.upsert")
    assert (by_topic[own]["last"]["partition"], by_topic[own]["last"]["offset"]) == expected_own[:2]
    assert (by_topic[glob]["last"]["partition"], by_topic[glob]["last"]["offset"]) == expected_glob[:2]
    # Found from the end: a few records per partition, never the whole topic.
    assert by_topic[own]["read"] <= 3 * by_topic[own]["partitions"] < expected_own[2]
    assert by_topic[glob]["read"] <= expected_glob[2]
    # In a global topic the instance's last record is looked for backwards, a window at a time: with a small
    # window, far fewer records than the topic holds.
    small = await explain(ConnectionOptions.from_settings(demo), demo, "acme-sales", catalog.lookup("messages.upsert"),
                          None, window=10)
    found = next(t for t in small.topics if t.topic == glob)
    assert found.last is not None and (found.last.partition, found.last.offset) == expected_glob[:2]
    assert found.read < expected_glob[2] / 2
    text = _cli(demo, prefix, "acme-sales", "MESSAGES_UPSERT")
    assert text.returncode == 0
    headline = text.stdout.splitlines()[0]
    assert headline.startswith("messages.upsert of acme-sales: published to") and "at offset" in headline
    assert f"offset {expected_own[1]}" in text.stdout and f"offset {expected_glob[1]}" in text.stdout

    # groups.update: never published by Evolution API.
    groups = _cli(demo, prefix, "acme-sales", "groups.update")
    assert groups.returncode == 1
    assert groups.stdout.splitlines()[0].startswith("groups.update of acme-sales: never published by Evolution API")
    assert "groups.update is never published per instance" in groups.stdout

    # A disabled instance publishes nothing per instance (the global topic still gets its events).
    disabled = next(i.name for i in demo_instances() if not i.settings.enabled)
    off = _cli(demo, prefix, disabled, "messages.upsert", "--json")
    doc = json.loads(off.stdout)
    legs = {t["layout"]: t for t in doc["topics"]}
    assert not legs["instance"]["taken"] and "a disabled instance publishes nothing per instance" in doc["reasons"]
    assert not legs["instance"]["exists"]
    assert legs["global"]["taken"] and doc["verdict"] == "published"

    # Bad input: one line, exit 2.
    bad = _cli(demo, prefix, "acme-sales", "messages.upsrt")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "MESSAGES_UPSERT" in bad.stderr


async def test_explain_says_how_far_behind_a_consumer_group_is(demo: KafkaSettings, prefix: str) -> None:
    topic = f"{prefix}.acme-sales.messages.upsert"
    group = f"{prefix}-crm"
    options = ConnectionOptions.from_settings(demo)
    facts = await explain(options, demo, "acme-sales", catalog.lookup("messages.upsert"), None)
    own = next(t for t in facts.topics if t.topic == topic)
    assert own.last is not None
    partition = own.last.partition
    committer = AIOKafkaConsumer(bootstrap_servers=demo.brokers, group_id=group, enable_auto_commit=False)
    await committer.start()
    try:
        tp = TopicPartition(topic, partition)
        committer.assign([tp])
        await committer.commit({tp: 1})
    finally:
        await committer.stop()
    done = _cli(demo, prefix, "acme-sales", "messages.upsert", "-g", group, "--json")
    doc = json.loads(done.stdout)
    rows = [g for t in doc["topics"] if t["topic"] == topic for g in t["groups"] if g["group"] == group]
    assert [(r["partition"], r["committed"]) for r in rows] == [(partition, 1)]
    assert rows[0]["behind"] == rows[0]["end"] - 1 > 0
    text = _cli(demo, prefix, "acme-sales", "messages.upsert", "-g", group).stdout
    assert f"consumer group {group} is {rows[0]['behind']:,} records behind on partition {partition}" in text


def test_explain_when_the_cluster_does_not_answer(settings: KafkaSettings, prefix: str) -> None:
    done = _cli(settings, prefix, "acme-sales", "messages.upsert", brokers=f"127.0.0.1:{free_port()}")
    assert done.returncode == 1
    assert "cannot tell" in done.stdout.splitlines()[0] and "not reachable" in done.stdout
    assert "Traceback" not in done.stderr


def test_explain_with_kafka_disabled(settings: KafkaSettings, prefix: str) -> None:
    done = _cli(settings, prefix, "acme-sales", "messages.upsert", "--json", KAFKA_ENABLED="false")
    assert done.returncode == 1
    doc = json.loads(done.stdout)
    assert doc["verdict"] == "not published" and any("KAFKA_ENABLED" in r for r in doc["reasons"])
    assert doc["cluster"]["reachable"]


async def test_explain_asks_the_instance_source_evolution_api_when_configured(
    demo: KafkaSettings, prefix: str
) -> None:
    """With EVOLUTION_API_URL the instance's settings are what the Evolution server stored, not the registry's."""
    async with InstanceRegistry(demo, topic=f"{prefix}_evolution") as behind:
        await behind.set("acme-sales", InstanceSettings.from_request(False, ()))
        server = EvolutionServer(
            behind, ServeConfig(SecretStr("k"), instances=["acme-sales"], prefix=prefix), "127.0.0.1", 0
        )
        await server.start()
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "EVOKAFKA_", "EVOLUTION_"))}
            env.update(KAFKA_TOPIC_PREFIX=prefix, EVOKAFKA_REGISTRY_TOPIC=f"{prefix}_registry",
                       EVOLUTION_API_URL=server.url, EVOLUTION_API_KEY="k", KAFKA_ENABLED="true",
                       KAFKA_GLOBAL_ENABLED="true", **DOCUMENT_EVENT_BLOCK)
            child = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tui", "--brokers", ",".join(demo.brokers), "explain", "acme-sales",
                "messages.upsert", "--json", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
            )
            out, err = await asyncio.wait_for(child.communicate(), 60)
        finally:
            await server.stop()
    doc = json.loads(out)
    own = next(t for t in doc["topics"] if t["layout"] == "instance")
    # The registry the demo seeded enables acme-sales; the Evolution server says disabled, and wins.
    assert not own["taken"] and "a disabled instance publishes nothing per instance" in doc["reasons"], err.decode()
    assert own["last"] is not None  # what the demo published earlier is still there
