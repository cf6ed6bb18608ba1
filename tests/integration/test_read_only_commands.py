"""With ``--read-only`` no command changes the cluster: every command and subcommand, enumerated from the click
group (a new one is run without being listed here), runs read-only against a seeded cluster, and the cluster's
topics and end offsets are the same afterwards.

Arguments are made from each command's parameters: required ones from :data:`VALUES`, every flag turned on
(``--yes``, ``--enabled``, ``--all-events``… so each command goes as far as it can towards a write), plus the few
options that bound a run (:data:`BOUNDS`). Servers (:data:`SERVERS`) are started, asked to write over HTTP, and
stopped.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from aiokafka import TopicPartition

from tui.cli import cli
from tui.config import KafkaSettings
from tui.instance_settings import InstanceSettings
from tui.kafka.admin import Admin
from tui.kafka.options import ConnectionOptions
from tui.kafka.registry import InstanceRegistry
from tui.kafka.streams import consumer

pytestmark = pytest.mark.broker

GROUP = "ro-group"
"""A consumer group with committed offsets on the seeded topic: what ``replay`` would move."""

VALUES = {"event": "MESSAGES_UPSERT", "instance": "shop", "name": "shop", "group": GROUP}
"""Values of required parameters, by parameter name (``topics`` is the seeded topic)."""

BOUNDS: dict[str, list[str]] = {
    "demo": ["--duration", "3"],
    "doctor": ["--timeout", "20"],
    "replay": [GROUP, "--topics", "{topic}", "--by", "-2"],
}
"""Options with a value that make a command end by itself (its flags, such as ``tail --exit`` and ``bench
--quick``, are on anyway; ``--brokers`` is added where a command has it)."""

SERVERS: dict[str, tuple[list[str], str, str]] = {
    "serve": (["--apikey", "k"], "POST", "/kafka/set/shop"),
    "web": ([], "GET", "/"),
}
"""Commands that run until stopped: their extra options, and the request made once they listen (``serve`` is
asked to write); then they are stopped. ``web`` is run without its flags too (its ``--demo`` is refused)."""

NOT_FLAGGED = {"--help", "--reveal", "--dry-run"}
"""Flags left off: help prints only; revealing secrets changes nothing in the cluster but is not needed."""


def leaf_commands() -> Iterator[tuple[list[str], click.Command]]:
    """Every runnable command path of ``evokafka``, from the group itself."""

    def walk(group: click.Group, path: list[str]) -> Iterator[tuple[list[str], click.Command]]:
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command is not None
            if isinstance(command, click.Group):
                yield from walk(command, [*path, name])
            else:
                yield [*path, name], command

    yield from walk(cli, [])


def arguments(path: list[str], command: click.Command, topic: str, brokers: str) -> list[str]:
    """The command line that pushes ``command`` as far towards a write as its parameters allow."""
    args: list[str] = [*path]
    for param in command.params:
        if isinstance(param, click.Argument) and param.required:
            assert param.name is not None
            args.append(topic if param.name == "topics" else VALUES[param.name])
        elif isinstance(param, click.Option):
            long = next((o for o in param.opts if o.startswith("--")), None)
            if long is None:
                continue
            if param.is_flag and long not in NOT_FLAGGED:
                args.append(long)
            elif param.required:
                assert param.name is not None
                args += [long, VALUES[param.name]]
            elif long == "--brokers":
                args += [long, brokers]
    return args + [a.replace("{topic}", topic) for a in BOUNDS.get(path[0], [])]


async def snapshot(options: ConnectionOptions, topic: str) -> dict[str, int]:
    """Every topic of the cluster, with the end offset of each partition (``topic/partition``), and the offsets
    :data:`GROUP` has committed on ``topic`` (``GROUP@topic/partition``)."""
    async with Admin(options) as admin:
        names = sorted(await admin.topic_names())
    reader = consumer(options)
    await reader.start()
    try:
        partitions = [TopicPartition(t, p) for t in names for p in sorted(reader.partitions_for_topic(t) or ())]
        ends = await reader.end_offsets(partitions) if partitions else {}
    finally:
        await reader.stop()
    out = {f"{tp.topic}/{tp.partition}": int(end) for tp, end in ends.items()}
    out.update({f"{name}/": -1 for name in names})  # a topic without partitions still counts
    group = options.group_consumer(GROUP)
    await group.start()
    try:
        for tp in [tp for tp in partitions if tp.topic == topic]:
            out[f"{GROUP}@{tp.topic}/{tp.partition}"] = await group.committed(tp) or -1
    finally:
        await group.stop()
    return out


async def seed(settings: KafkaSettings, registry_topic: str, topic: str) -> None:
    """An enabled instance in the registry and a topic with records: something for every command to change."""
    options = ConnectionOptions.from_settings(settings)
    async with InstanceRegistry(settings, topic=registry_topic, options=options) as registry:
        await registry.set("shop", InstanceSettings.from_request(True, ["MESSAGES_UPSERT"]))
    producer = options.producer(acks="all")
    await producer.start()
    try:
        for n in range(5):
            sent = await producer.send_and_wait(topic, key=b"shop", value=json.dumps({"n": n}).encode(), partition=0)
    finally:
        await producer.stop()
    group = options.group_consumer(GROUP)
    await group.start()
    try:
        tp = TopicPartition(topic, sent.partition)
        group.assign([tp])
        await group.commit({tp: sent.offset + 1})
    finally:
        await group.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run_server(name: str, args: list[str], env: dict[str, str]) -> str:
    """Start a server command, make its request once it listens, stop it; what it answered (or how it ended,
    when it ended by itself)."""
    extra, method, path = SERVERS[name]
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", *args, "--port", str(port), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    listening, ended = threading.Event(), threading.Event()

    def watch() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if "listening" in line or "serving" in line:
                listening.set()
        ended.set()  # its output closed: it ends (or has ended) by itself
        listening.set()

    threading.Thread(target=watch, daemon=True).start()
    try:
        assert listening.wait(60)
        if ended.is_set():
            assert process.stderr is not None
            return f"exit {process.wait(timeout=30)}: {process.stderr.read().strip()}"
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}",
            data=json.dumps({"kafka": {"enabled": False, "events": []}}).encode() if method == "POST" else None,
            headers={"apikey": "k", "Content-Type": "application/json"},
            method=method,
        )
        deadline = time.monotonic() + 20
        while True:  # a server may say it listens a moment before its socket accepts
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    return f"{answer.status}"
            except urllib.error.HTTPError as refused:
                return f"{refused.code}"
            except urllib.error.URLError as exc:
                if not isinstance(exc.reason, ConnectionRefusedError) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_no_command_changes_the_cluster_when_read_only(settings: KafkaSettings, prefix: str, tmp_path: Path) -> None:
    registry_topic = f"reg_{prefix}"
    # A registry copy holding an instance the cluster does not: `instances import` of it would write.
    copy = tmp_path / "registry-copy.json"
    copy.write_text(json.dumps({"instances": {
        "restored": {"enabled": True, "events": ["CALL"], "updated_at": "2026-01-01T00:00:00.000Z"}}}))
    VALUES["file"] = str(copy)
    topic = f"{prefix}.shop.messages.upsert"
    brokers = ",".join(settings.brokers)
    options = ConnectionOptions.from_settings(settings)
    asyncio.run(seed(settings, registry_topic, topic))
    before = asyncio.run(snapshot(options, topic))
    assert before[f"{topic}/0"] == 5 and f"{registry_topic}/0" in before and before[f"{GROUP}@{topic}/0"] == 5

    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "EVOKAFKA_", "EVOLUTION_API_"))}
    env.update(
        KAFKA_BROKERS=brokers, KAFKA_TOPIC_PREFIX=prefix, KAFKA_AUTO_CREATE_TOPICS="true",
        KAFKA_GLOBAL_ENABLED="true", EVOKAFKA_REGISTRY_TOPIC=registry_topic,
        KAFKA_CONNECTION_TIMEOUT="2000", KAFKA_REQUEST_TIMEOUT="5000",
    )
    ran: dict[str, str] = {}
    for path, command in leaf_commands():
        args = arguments(path, command, topic, brokers)
        # Once by the flag; the commands that used to slip through also by EVOKAFKA_READ_ONLY alone.
        ways = [(["--read-only", *args], env)]
        if path[0] in ("demo", "bench", "publish", "topics", "instances", "replay"):
            ways.append((args, dict(env, EVOKAFKA_READ_ONLY="true")))
        if path[0] == "web":
            ways.append((["--read-only", *path], env))
        if path[0] == "replay":  # its other write: sending a record again
            ways.append((["--read-only", *path, "--resend", f"{topic}:0:0", "--yes"], env))
        for argv, how in ways:
            if path[0] in SERVERS:
                ran[" ".join(argv)] = run_server(path[0], argv, how)
                after = asyncio.run(snapshot(options, topic))
                assert after == before, (argv, ran[" ".join(argv)], set(after.items()) ^ set(before.items()))
                continue
            done = subprocess.run(
                [sys.executable, "-m", "tui", *argv], capture_output=True, text=True, env=how, timeout=120,
                check=False,
            )
            assert "Traceback" not in done.stderr, (argv, done.stderr)
            ran[" ".join(argv)] = f"exit {done.returncode}: {done.stderr.strip()}"
            after = asyncio.run(snapshot(options, topic))
            assert after == before, (argv, ran[" ".join(argv)], set(after.items()) ^ set(before.items()))
    assert {p[0] for p, _ in leaf_commands()} <= {a.split()[1] if a.startswith("--") else a.split()[0] for a in ran}
    # The refusals say why, on one line, with exit 2.
    for line, outcome in ran.items():
        if line.split()[0:2] in (["--read-only", "demo"], ["--read-only", "bench"]) or "web --demo" in line:
            assert outcome.startswith("exit 2: evokafka: read-only mode") and "\n" not in outcome, (line, outcome)
    assert any(outcome == "403" for outcome in ran.values()), ran
    print("\n".join(f"{line}  →  {outcome}" for line, outcome in ran.items()))

    # The comparison can fail: the same kind of commands without read-only do change the cluster.
    moved = subprocess.run(
        [sys.executable, "-m", "tui", "replay", GROUP, "--topics", topic, "--by", "-2", "--yes"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    assert moved.returncode == 0, moved.stderr
    assert asyncio.run(snapshot(options, topic))[f"{GROUP}@{topic}/0"] == 3
    written = subprocess.run(
        [sys.executable, "-m", "tui", "instances", "disable", "shop"], capture_output=True, text=True, env=env,
        timeout=60, check=False,
    )
    assert written.returncode == 0, written.stderr
    assert asyncio.run(snapshot(options, topic)) != before
