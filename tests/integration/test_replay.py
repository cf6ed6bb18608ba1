"""``evokafka replay`` on the real broker: the dry run, the refusal of a live group and of read-only mode, a group
moved back by N records that its consumer then receives again, and re-driven records marked as re-sent."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from tests.conftest import async_wait_until
from tui.config import KafkaSettings
from tui.kafka.admin import Admin, TopicSpec
from tui.kafka.options import ConnectionOptions, ReadOnlyError
from tui.kafka.replay import group_members, plan_replay, reset_group
from tui.replay_plan import RESENT_HEADER, ReplayTarget

pytestmark = pytest.mark.broker

T0 = 1_760_000_000_000
"""The records' timestamps: T0 + i seconds for the i-th record of a partition."""


class Cli:
    def __init__(self, settings: KafkaSettings) -> None:
        self.bootstrap = ",".join(settings.brokers)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "EVOKAFKA_", "EVOLUTION_"))}
        self.env.update(KAFKA_TOPIC_PREFIX=settings.topic_prefix, KAFKA_CONNECTION_TIMEOUT="2000")

    def __call__(self, *args: str, read_only: bool = False) -> subprocess.CompletedProcess[str]:
        flags = ["--read-only"] if read_only else []
        return subprocess.run(
            [sys.executable, "-m", "tui", "--brokers", self.bootstrap, *flags, "replay", *args],
            capture_output=True, text=True, env=self.env, timeout=90, check=False, stdin=subprocess.DEVNULL,
        )


async def _topic(settings: KafkaSettings, name: str, counts: dict[int, int]) -> None:
    options = ConnectionOptions.from_settings(settings)
    async with Admin(options) as admin:
        await admin.create_topics([TopicSpec(name, partitions=len(counts))])
    producer = AIOKafkaProducer(bootstrap_servers=settings.brokers)
    await producer.start()
    try:
        for partition, count in counts.items():
            for i in range(count):
                await producer.send_and_wait(
                    name, f"p{partition}-{i}".encode(), key=b"k", partition=partition, timestamp_ms=T0 + i * 1000
                )
    finally:
        await producer.stop()


def _group_consumer(settings: KafkaSettings, topic: str, group: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        topic, bootstrap_servers=settings.brokers, group_id=group, auto_offset_reset="earliest",
        enable_auto_commit=False,
    )


async def _read(client: AIOKafkaConsumer, expected: int) -> list[str]:
    """Records until ``expected`` arrived (bounded), then whatever else comes within a short while."""
    seen: list[str] = []

    async def fetch() -> None:
        got = await client.getmany(timeout_ms=200)
        seen.extend(m.value.decode() for batch in got.values() for m in batch)

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while len(seen) < expected and loop.time() < deadline:
        await fetch()
    for _ in range(3):  # nothing more than expected may come
        await fetch()
    return seen


async def _empty(settings: KafkaSettings, group: str) -> None:
    options = ConnectionOptions.from_settings(settings)

    async def empty() -> bool:
        return not (await group_members(options, group))[1]

    # Asked every half second (each question is a round trip to the broker), for 40 s at most.
    await async_wait_until(empty, timeout=40, interval=0.5)


async def test_replay_dry_run_live_refusal_reset_and_receive_again(settings: KafkaSettings, prefix: str) -> None:
    topic, group = f"{prefix}.orders", f"{prefix}-billing"
    await _topic(settings, topic, {0: 20, 1: 10})
    cli = Cli(settings)
    first = _group_consumer(settings, topic, group)
    await first.start()
    try:
        assert len(await _read(first, 30)) == 30
        await first.commit()
        # A live group: the dry run says so and the reset is refused, as Kafka requires.
        live = cli(group, "--topics", topic, "--by", "-5", "--yes")
        assert live.returncode == 1, live.stderr
        assert "1 active member" in live.stdout and "stop its consumers first" in live.stderr
    finally:
        await first.stop()
    # The test broker numbers a new group's first generation 0, and aiokafka leaves a group only from generation 1
    # on: the first member stays listed until another one joins. A second consumer run, as after a restart,
    # takes over (it reads nothing: everything is committed) and leaves properly.
    second = _group_consumer(settings, topic, group)
    await second.start()
    try:
        assert await _read(second, 0) == []
    finally:
        await second.stop()
    await _empty(settings, group)

    refused = cli(group, "--topics", topic, "--by", "-5", "--yes", read_only=True)
    assert refused.returncode == 1 and "read-only" in refused.stderr
    assert "dry run" in refused.stdout
    unconfirmed = cli(group, "--topics", topic, "--by", "-5")  # no terminal, no --yes: the dry run only
    assert unconfirmed.returncode == 0 and "--yes" in unconfirmed.stderr

    done = cli(group, "--topics", topic, "--by", "-5", "--yes")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(f"{topic}[0]" in line and "20 → 15" in line for line in lines), done.stdout
    assert any(f"{topic}[1]" in line and "10 → 5" in line for line in lines), done.stdout
    assert "total: 10 records will be delivered again" in done.stdout
    assert "reset: group" in done.stdout

    # The group's consumer receives exactly those records again.
    third = _group_consumer(settings, topic, group)
    await third.start()
    try:
        again = await _read(third, 10)
    finally:
        await third.stop()
    assert sorted(again) == sorted([f"p0-{i}" for i in range(15, 20)] + [f"p1-{i}" for i in range(5, 10)])


async def test_plan_to_time_and_offsets_and_read_only(settings: KafkaSettings, prefix: str) -> None:
    topic, group = f"{prefix}.events", f"{prefix}-never-consumed"
    await _topic(settings, topic, {0: 30, 1: 4})
    options = ConnectionOptions.from_settings(settings)
    plan = await plan_replay(options, group, [topic], ReplayTarget("time", T0 + 12_500))
    assert plan.state in ("Empty", "Dead") and not plan.live
    # The first record at or after the time, found over the records (the broker answers offsets-for-times with 0).
    assert [(m.partition, m.committed, m.target) for m in plan.moves] == [(0, None, 13), (1, None, 4)]
    plan = await plan_replay(options, group, [topic], ReplayTarget.to_offset("0=7,1=99"))
    assert [m.target for m in plan.moves] == [7, 4]  # clamped to the end
    with pytest.raises(ReadOnlyError):
        await reset_group(options, plan, read_only=True)
    after = await reset_group(options, plan, read_only=False)
    assert [m.committed for m in after.moves] == [7, 4]
    check = AIOKafkaConsumer(bootstrap_servers=settings.brokers, group_id=group, enable_auto_commit=False)
    await check.start()
    try:
        assert await check.committed(TopicPartition(topic, 0)) == 7
    finally:
        await check.stop()


def test_replay_bad_input_exits_2_with_one_line(settings: KafkaSettings) -> None:
    cli = Cli(settings)
    for args, words in (
        (["g", "--topics", "t", "--by", "5"], "bad --by"),
        (["g", "--topics", "t"], "exactly one of"),
        (["g", "--by", "-1"], "--topics"),
        (["g", "--topics", "t", "--to-time", "soon"], "bad time"),
        (["g", "--topics", "t", "--to-offset", "a=b"], "bad --to-offset"),
        (["--resend", "nocolon"], "TOPIC:PARTITION:OFFSET"),
        (["g", "--resend", "t:0:1"], "no GROUP"),
    ):
        done = cli(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert words in done.stderr and done.stderr.count("\n") == 1, (args, done.stderr)


async def test_resend_unchanged_and_edited_marked_as_resent(settings: KafkaSettings, prefix: str) -> None:
    topic, other = f"{prefix}.global.messages.upsert", f"{prefix}.copies"
    envelope = {"event": "messages.upsert", "instance": "acme", "data": {"n": 1}, "timestamp": T0}
    options = ConnectionOptions.from_settings(settings)
    async with Admin(options) as admin:
        await admin.create_topics([TopicSpec(topic, partitions=1), TopicSpec(other, partitions=1)])
    producer = AIOKafkaProducer(bootstrap_servers=settings.brokers)
    await producer.start()
    try:
        for _ in range(3):
            await producer.send_and_wait(
                topic, json.dumps(envelope).encode(), key=b"acme-messages.upsert", headers=[("event", b"messages.upsert")]
            )
    finally:
        await producer.stop()
    cli = Cli(settings)
    refused = cli("--resend", f"{topic}:0:1", "--yes", read_only=True)
    assert refused.returncode == 1 and "read-only" in refused.stderr
    same = cli("--resend", f"{topic}:0:1", "--yes")
    assert same.returncode == 0, same.stderr
    assert f"re-sent {topic}:0:1 → {topic}[0]@3" in same.stdout
    edited = cli("--resend", f"{topic}:0:2", "--to", other, "--data", '{"n": 2}', "--yes", "--json")
    assert edited.returncode == 0, edited.stderr
    assert json.loads(edited.stdout)["sent"][0]["topic"] == other
    missing = cli("--resend", f"{topic}:0:99", "--yes")
    assert missing.returncode == 1 and "no record at" in missing.stderr

    reader = AIOKafkaConsumer(bootstrap_servers=settings.brokers, enable_auto_commit=False, auto_offset_reset="earliest")
    await reader.start()
    try:
        copies = []
        for name, offset in ((topic, 3), (other, 0)):
            tp = TopicPartition(name, 0)
            reader.assign([tp])
            reader.seek(tp, offset)
            got = await reader.getmany(tp, timeout_ms=5000, max_records=1)
            copies.append(got[tp][0])
    finally:
        await reader.stop()
    unchanged, changed = copies
    assert json.loads(unchanged.value) == envelope and unchanged.key == b"acme-messages.upsert"
    assert dict(unchanged.headers)[RESENT_HEADER] == f"{topic}:0:1".encode()
    assert dict(unchanged.headers)["event"] == b"messages.upsert"
    assert json.loads(changed.value) == {**envelope, "data": {"n": 2}}
    assert dict(changed.headers)[RESENT_HEADER] == f"{topic}:0:2".encode()
