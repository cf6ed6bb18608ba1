"""``evokafka topics plan|diff|create`` on the real broker, with instances in the real registry."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any

import pytest

from tui import catalog
from tui.config import KafkaSettings
from tui.evolution_env import DOCUMENT_EVENT_BLOCK
from tui.instance_settings import InstanceSettings
from tui.kafka.admin import Admin, TopicSpec
from tui.kafka.options import ConnectionOptions, ReadOnlyError
from tui.kafka.registry import InstanceRegistry
from tui.kafka.topics import cluster_diff, create_missing, diff, plan, registry_diff, registry_instances
from tui.topology import Layout

pytestmark = pytest.mark.broker

DEFAULT_GLOBAL = [e for e in catalog.EVENTS if e.default]


def cli(settings: KafkaSettings, registry: str, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "EVOKAFKA_"))}
    env.update(
        KAFKA_BROKERS=",".join(settings.brokers),
        KAFKA_TOPIC_PREFIX=settings.topic_prefix,
        KAFKA_NUM_PARTITIONS="3",
        KAFKA_GLOBAL_ENABLED="true",
        KAFKA_CONNECTION_TIMEOUT="2000",
        EVOKAFKA_REGISTRY_TOPIC=registry,
        **DOCUMENT_EVENT_BLOCK,  # Evolution reads a missing KAFKA_EVENTS_* as false
    )
    env.update(extra)
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


@pytest.fixture
async def seeded(settings: KafkaSettings, prefix: str) -> str:
    """A registry of this test's own: alpha (every event), beta (two events), gamma (disabled)."""
    topic = f"reg_{prefix}"
    async with InstanceRegistry(settings, topic=topic) as registry:
        await registry.set_request("alpha", True, [])
        await registry.set_request("beta", True, ["MESSAGES_UPSERT", "connection.update"])
        await registry.set_request("gamma", False, [])
    return topic


async def create(settings: KafkaSettings, *topics: TopicSpec) -> None:
    """Topics put on the test broker as an operator or Evolution API would have."""
    async with Admin(ConnectionOptions.from_settings(settings)) as admin:
        await admin.create_topics(list(topics))


async def test_plan_lists_both_layouts_with_partitions_and_replication(
    settings: KafkaSettings, prefix: str, seeded: str
) -> None:
    done = await asyncio.to_thread(cli, settings, seeded, "topics", "plan", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["instances"] == ["alpha", "beta", "gamma"]
    topics = {t["topic"]: t for t in out["topics"]}
    per_instance = {t for t, v in topics.items() if v["layout"] == "instance"}
    assert {t for t in per_instance if t.startswith(f"{prefix}.alpha.")} == {
        f"{prefix}.alpha.{e.wire}" for e in catalog.EVENTS
    }
    assert {t for t in per_instance if t.startswith(f"{prefix}.beta.")} == {
        f"{prefix}.beta.messages.upsert", f"{prefix}.beta.connection.update"
    }
    assert not any(".gamma." in t for t in topics)  # disabled: nothing planned
    assert {t for t, v in topics.items() if v["layout"] == "global"} == {
        f"{prefix}.global.{e.wire}" for e in DEFAULT_GLOBAL
    }
    assert {(v["partitions"], v["replication"]) for v in topics.values()} == {(3, 1)}
    # The published name, never Evolution API's auto-created one.
    assert f"{prefix}.alpha.group-participants.update" in topics
    assert f"{prefix}.alpha.group.participants.update" not in topics

    only_instance = await asyncio.to_thread(cli, settings, seeded, "topics", "plan", "--layout", "instance", "--json")
    assert {t["layout"] for t in json.loads(only_instance.stdout)["topics"]} == {"instance"}
    text = await asyncio.to_thread(cli, settings, seeded, "topics", "plan")
    assert text.returncode == 0 and f"{prefix}.beta.messages.upsert" in text.stdout and "PARTITIONS" in text.stdout


async def test_diff_names_missing_unexpected_partitions_and_the_evolution_mismatch(
    settings: KafkaSettings, prefix: str, seeded: str
) -> None:
    await create(
        settings,
        TopicSpec(f"{prefix}.beta.messages.upsert", partitions=3),  # as planned
        TopicSpec(f"{prefix}.beta.connection.update", partitions=2),  # wrong count
        TopicSpec(f"{prefix}.zeta.messages.upsert", partitions=3),  # not in the plan
        TopicSpec(f"{prefix}.alpha.group.participants.update", partitions=3),  # Evolution's name
        TopicSpec(f"{prefix}.not-an-event-topic", partitions=1),  # ignored
    )
    done = await asyncio.to_thread(cli, settings, seeded, "topics", "diff", "--json")
    assert done.returncode == 1, done.stderr
    out: dict[str, Any] = json.loads(done.stdout)
    assert out["in_sync"] is False
    assert out["unexpected"] == [f"{prefix}.zeta.messages.upsert"]
    assert out["wrong_partitions"] == [{"topic": f"{prefix}.beta.connection.update", "planned": 3, "actual": 2}]
    assert [m["topic"] for m in out["misnamed"]] == [f"{prefix}.alpha.group.participants.update"]
    assert out["misnamed"][0]["published_to"] == f"{prefix}.alpha.group-participants.update"
    missing = {m["topic"] for m in out["missing"]}
    assert f"{prefix}.alpha.group-participants.update" in missing
    assert f"{prefix}.beta.messages.upsert" not in missing
    assert set(out["present"]) == {f"{prefix}.beta.messages.upsert", f"{prefix}.beta.connection.update"}
    assert len(missing) == out["planned"] - 2

    text = await asyncio.to_thread(cli, settings, seeded, "topics", "diff")
    assert text.returncode == 1
    assert "misnamed (1): Evolution API 2.3.6 auto-creates global topics named from its settings keys" in text.stdout
    assert "publishes to" in text.stdout and "2 partitions, planned 3" in text.stdout


async def test_diff_reads_the_cluster_s_topics_once_and_answers_as_before(
    settings: KafkaSettings, prefix: str, seeded: str
) -> None:
    # `topics diff` takes the topics from the registry reader's connection (the test broker lists every topic
    # there) instead of connecting again after the replay: one answer listing the topics, the same diff.
    from io import BytesIO

    from aiokafka.protocol import metadata as protocol

    await create(
        settings, TopicSpec(f"{prefix}.beta.messages.upsert", 3), TopicSpec(f"{prefix}.zeta.messages.upsert", 3)
    )
    options = ConnectionOptions.from_settings(settings)
    listing: list[int] = []
    classes = [a for name, a in vars(protocol).items() if name.startswith("MetadataResponse_v")]
    # Each answer class's decode, counted: aiokafka's (inherited) or one the class defines itself.
    own = {answer: answer.__dict__.get("decode") for answer in classes}

    def counting(decode: Any) -> classmethod:  # type: ignore[type-arg]
        def count(cls: type, data: BytesIO) -> object:
            decoded = decode(data)
            if any(topic[1] == f"{prefix}.zeta.messages.upsert" for topic in decoded.topics):
                listing.append(len(decoded.topics))
            return decoded

        return classmethod(count)

    for answer in classes:
        answer.decode = counting(answer.decode)  # type: ignore[attr-defined]
    try:
        result = await registry_diff(settings, options, seeded, (Layout.INSTANCE,))
    finally:
        for answer, decode in own.items():
            if decode is None:
                del answer.decode  # type: ignore[attr-defined]
            else:
                answer.decode = decode  # type: ignore[attr-defined]
    assert len(listing) == 1
    before = await cluster_diff(
        settings, options, await registry_instances(settings, options, seeded), (Layout.INSTANCE,)
    )
    assert result == before
    assert result.unexpected == (f"{prefix}.zeta.messages.upsert",)


async def test_create_shows_then_creates_the_missing_ones(settings: KafkaSettings, prefix: str, seeded: str) -> None:
    dry = await asyncio.to_thread(cli, settings, seeded, "topics", "create")
    assert dry.returncode == 0, dry.stderr
    assert "would create" in dry.stdout and "--yes" in dry.stdout
    options = ConnectionOptions.from_settings(settings)
    async with Admin(options) as admin:
        assert not [t for t in await admin.topic_names() if t.startswith(prefix + ".")]

    refused = await asyncio.to_thread(cli, settings, seeded, "--read-only", "topics", "create", "--yes")
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [refused.stderr.strip()] and "read-only" in refused.stderr
    async with Admin(options) as admin:
        assert not [t for t in await admin.topic_names() if t.startswith(prefix + ".")]

    done = await asyncio.to_thread(cli, settings, seeded, "topics", "create", "--yes", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert sorted(out["created"]) == sorted(t["topic"] for t in out["to_create"])
    assert len(out["created"]) == len(catalog.EVENTS) + 2 + len(DEFAULT_GLOBAL)
    async with Admin(options) as admin:
        existing = await admin.topics()
    assert all(existing[name] == 3 for name in out["created"])
    after = await asyncio.to_thread(cli, settings, seeded, "topics", "diff")
    assert after.returncode == 0, after.stdout
    assert "in sync" in after.stdout


async def test_create_missing_refuses_in_read_only_in_the_kafka_layer(settings: KafkaSettings, prefix: str) -> None:
    planned = plan(settings, {"ro": InstanceSettings.from_request(True, ["CALL"])}, [Layout.INSTANCE])
    result = diff(planned, {}, prefix)
    with pytest.raises(ReadOnlyError):
        await create_missing(ConnectionOptions.from_settings(settings), result.missing, read_only=True)


def test_unreachable_cluster_is_one_line_after_the_timeout() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "EVOKAFKA_"))}
    env.update(KAFKA_BROKERS="127.0.0.1:1", KAFKA_CONNECTION_TIMEOUT="1000")
    for args in (["topics", "diff"], ["topics", "plan"], ["topics", "create", "--yes"]):
        done = subprocess.run(
            [sys.executable, "-m", "tui", *args], capture_output=True, text=True, env=env, timeout=60, check=False
        )
        assert done.returncode == 1, (args, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "cannot reach the cluster" in lines[0] and "refused" in lines[0], done.stderr
