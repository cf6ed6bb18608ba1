"""``evokafka instances`` end to end: the real command line against the real broker."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiokafka import AIOKafkaProducer

from tests.conftest import async_wait_until
from tui import catalog, envelope
from tui.config import KafkaSettings
from tui.demo.broker import EmbeddedBroker, free_port
from tui.kafka.admin import Admin
from tui.kafka.options import ConnectionOptions
from tui.kafka.registry import InstanceRegistry
from tui.topology import Layout, message_key, topic_name

pytestmark = pytest.mark.broker


class Cli:
    """Runs ``python -m tui instances …`` with settings of this test's own."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        head = [a for a in args if a.startswith("--") and a in ("--read-only",)]
        rest = [a for a in args if a not in head]
        return subprocess.run(
            [sys.executable, "-m", "tui", *head, "instances", *rest],
            capture_output=True, text=True, timeout=60, env={**self.env, **(env or {})}, cwd=self.cwd,
        )

    def json(self, *args: str) -> Any:
        result = self(*args, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


@pytest.fixture
def registry_topic(prefix: str) -> str:
    return f"__evokafka_instances_{prefix}"


@pytest.fixture
def cli(broker: EmbeddedBroker, prefix: str, registry_topic: str, tmp_path: Path) -> Cli:
    return Cli(
        {
            "PATH": "",
            "KAFKA_BROKERS": broker.bootstrap,
            "KAFKA_TOPIC_PREFIX": prefix,
            "KAFKA_CONNECTION_TIMEOUT": "2000",
            "EVOKAFKA_REGISTRY_TOPIC": registry_topic,
        },
        tmp_path,
    )


@pytest.fixture
async def watcher(settings: KafkaSettings, registry_topic: str) -> AsyncIterator[InstanceRegistry]:
    """A registry in this process that follows what the command writes."""
    registry = InstanceRegistry(settings, topic=registry_topic)
    await registry.start()
    yield registry
    await registry.stop()


def one_line_error(result: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]


async def test_writes_follow_the_kafka_set_semantics_and_reach_other_readers(
    cli: Cli, watcher: InstanceRegistry
) -> None:
    stored = cli.json("set", "acme.sales", "--enabled", "--events", "messages.upsert,GROUP_UPDATE")
    assert stored["events"] == ["MESSAGES_UPSERT", "GROUPS_UPDATE"]
    assert stored["enabled"] is True and stored["all_events"] is False and stored["source"] == "registry"
    await async_wait_until(lambda: watcher.get("acme.sales") is not None, 5)
    assert watcher.get("acme.sales").events == ("MESSAGES_UPSERT", "GROUPS_UPDATE")  # type: ignore[union-attr]

    assert cli.json("toggle", "acme.sales", "CALL")["events"] == ["MESSAGES_UPSERT", "GROUPS_UPDATE", "CALL"]
    assert cli.json("toggle", "acme.sales", "groups.update")["events"] == ["MESSAGES_UPSERT", "CALL"]

    disabled = cli.json("disable", "acme.sales")
    assert disabled["enabled"] is False and disabled["events"] == []
    await async_wait_until(lambda: watcher.get("acme.sales").enabled is False, 5)  # type: ignore[union-attr]

    enabled = cli.json("enable", "acme.sales")
    assert enabled["enabled"] is True and enabled["all_events"] is True

    assert cli.json("set", "acme.sales", "--enabled", "--all-events")["all_events"] is True
    assert cli.json("set", "acme.sales", "--disabled")["enabled"] is False

    text = cli("set", "bob", "--enabled", "--events", "CALL")
    assert text.returncode == 0 and text.stdout.startswith("bob: enabled, events: 1: CALL")

    assert cli.json("delete", "bob") == {"name": "bob", "deleted": True}
    await async_wait_until(lambda: watcher.get("bob") is None and watcher.get("acme.sales") is not None, 5)
    one_line_error(cli("delete", "bob"), 1, "no registry entry", "bob")


async def test_list_and_show_registry_and_discovered_instances(
    cli: Cli, settings: KafkaSettings, prefix: str, registry_topic: str
) -> None:
    empty = cli("list").stdout.splitlines()
    assert empty[0] == f"# source: registry {registry_topic}"
    assert empty[1].startswith("no instances: none in the registry")
    assert cli.json("list") == []
    cli.json("set", "acme", "--enabled", "--events", "MESSAGES_UPSERT,CALL")
    cli.json("enable", "zeta")
    cli.json("disable", "off")
    # Published to only: no registry entry.
    producer = AIOKafkaProducer(**ConnectionOptions.from_settings(settings).client_kwargs())
    await producer.start()
    try:
        for layout, instance, name in [
            (Layout.INSTANCE, "seen.only", "MESSAGES_UPSERT"),
            (Layout.GLOBAL, "seen.only", "CONNECTION_UPDATE"),
            (Layout.INSTANCE, "acme", "CALL"),
        ]:
            event = catalog.lookup(name)
            built = envelope.build(event, instance, {})
            await producer.send_and_wait(
                topic_name(prefix, layout, instance, event),
                key=message_key(layout, instance, event).encode(), value=built.encode(), headers=built.headers,
            )
    finally:
        await producer.stop()

    table = cli("list")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines.pop(0) == f"# source: registry {registry_topic}"
    assert lines[0].split() == ["NAME", "ENABLED", "EVENTS", "SOURCE", "UPDATED"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["acme"][1:4] == ["yes", "2", "registry"]
    assert rows["zeta"][1:4] == ["yes", "all", "registry"]
    assert rows["off"][1:4] == ["no", "0", "registry"]
    assert rows["seen.only"][1:5] == ["-", "2", "seen", "discovered"]
    assert list(rows) == ["acme", "off", "seen.only", "zeta"]

    listed = {item["name"]: item for item in cli.json("list")}
    assert listed["seen.only"]["source"] == "discovered" and listed["seen.only"]["enabled"] is None
    assert listed["seen.only"]["seen"]["layouts"] == ["global", "instance"]
    assert listed["seen.only"]["seen"]["events"] == ["connection.update", "messages.upsert"]
    assert listed["acme"]["seen"]["events"] == ["call"]
    assert listed["zeta"]["updated_at"].endswith("Z")

    shown = cli("show", "acme")
    assert shown.returncode == 0
    assert "events:   2: MESSAGES_UPSERT, CALL" in shown.stdout and "source:   registry" in shown.stdout
    discovered = cli("show", "seen.only")
    assert "source:   discovered" in discovered.stdout and "messages.upsert" in discovered.stdout
    assert cli.json("show", "zeta")["all_events"] is True
    one_line_error(cli("show", "nobody"), 1, "nobody", "not in the registry")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["set", "bad name", "--enabled"], ["illegal instance name"]),
        (["set", "global", "--enabled"], ["illegal instance name"]),
        (["set", "x", "--enabled", "--events", "MESAGES_UPSERT"], ["unknown event", "MESSAGES_UPSERT"]),
        (["set", "x"], ["--enabled or --disabled"]),
        (["set", "x", "--enabled", "--events", "CALL", "--all-events"], ["not both"]),
        (["set", "x", "--disabled", "--events", "CALL"], ["--disabled stores no events"]),
        (["set", "x", "--enabled", "--events", " , "], ["--events is empty"]),
        (["toggle", "x", "nope.nothing"], ["unknown event"]),
        (["toggle", "a/b", "CALL"], ["illegal instance name"]),
        (["enable", "ünï"], ["illegal instance name"]),
        (["show", "has space"], ["illegal instance name"]),
        (["delete", "a*b"], ["illegal instance name"]),
        (["list", "--bogus"], ["--bogus"]),
        (["nosuch"], ["nosuch"]),
        (["toggle", "x"], ["EVENT"]),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    cli: Cli, args: list[str], words: list[str]
) -> None:
    one_line_error(cli(*args), 2, *words)


async def test_bad_input_touches_nothing(cli: Cli, settings: KafkaSettings, registry_topic: str) -> None:
    one_line_error(cli("set", "x", "--enabled", "--events", "NOPE"), 2, "unknown event")
    async with Admin(ConnectionOptions.from_settings(settings)) as admin:
        assert registry_topic not in await admin.topic_names()


async def test_read_only_refuses_writes_and_reads_without_creating_anything(
    cli: Cli, settings: KafkaSettings, registry_topic: str
) -> None:
    one_line_error(cli("--read-only", "enable", "acme"), 2, "read-only")
    one_line_error(cli("set", "acme", "--disabled", env={"EVOKAFKA_READ_ONLY": "true"}), 2, "read-only")
    assert cli.json("--read-only", "list") == []
    async with Admin(ConnectionOptions.from_settings(settings)) as admin:
        assert registry_topic not in await admin.topic_names()
    cli.json("enable", "acme")
    assert [i["name"] for i in cli.json("--read-only", "list")] == ["acme"]
    one_line_error(cli("--read-only", "delete", "acme"), 2, "read-only")
    assert [i["name"] for i in cli.json("--read-only", "list")] == ["acme"]


@pytest.mark.parametrize("args", [["list"], ["show", "acme"], ["enable", "acme"], ["delete", "acme"]])
def test_unreachable_cluster_exits_1_with_one_line(cli: Cli, args: list[str]) -> None:
    started = time.monotonic()
    result = cli(*args, env={"KAFKA_BROKERS": f"127.0.0.1:{free_port()}", "KAFKA_CONNECTION_TIMEOUT": "500"})
    one_line_error(result, 1, "cannot reach the cluster")
    assert time.monotonic() - started < 20


async def test_set_token_is_kept_with_the_entry_serve_accepts_it_and_it_is_never_printed(
    cli: Cli, watcher: InstanceRegistry
) -> None:
    from pydantic import SecretStr

    from tui.evolution.server import EvolutionServer, ServeConfig

    secret = "tok-acme-0f9e8d7c"
    done = cli("set", "acme", "--token", secret, "--json")
    assert done.returncode == 0, done.stderr
    assert secret not in done.stdout + done.stderr and '"token": "********"' in done.stdout
    await async_wait_until(lambda: (s := watcher.get("acme")) is not None and s.token == secret)
    enabled = cli("set", "acme", "--enabled", "--events", "CALL")
    assert enabled.returncode == 0 and secret not in enabled.stdout + enabled.stderr
    await async_wait_until(lambda: (s := watcher.get("acme")) is not None and s.enabled)
    assert watcher.get("acme").token == secret  # type: ignore[union-attr]  # kept when the settings change
    server = EvolutionServer(watcher, ServeConfig(SecretStr("global-key")), "127.0.0.1", 0)
    url = await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/kafka/find/acme", headers={"apikey": secret}) as resp:
                assert resp.status == 200 and (await resp.json())["events"] == ["CALL"]
            async with http.get(f"{url}/instance/fetchInstances", headers={"apikey": secret}) as resp:
                assert resp.status == 200 and [r["name"] for r in await resp.json()] == ["acme"]
            async with http.get(f"{url}/kafka/find/acme", headers={"apikey": "tok-other"}) as resp:
                assert resp.status == 401
    finally:
        await server.stop()
