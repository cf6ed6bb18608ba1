"""``evokafka instances`` taking its instances from the chosen source, end to end.

The command runs as a child process with ``EVOLUTION_API_URL``/``EVOLUTION_API_KEY`` in its environment, against
``evokafka serve``'s :class:`EvolutionServer` listening on loopback in this process, backed by the real registry on
the real broker. What the command writes through Evolution's ``/kafka/set`` is read back by a registry of its own,
through the cluster.

One test needs what ``evokafka serve`` never answers (a WhatsApp session that is ``open``, a number, a profile,
and Evolution's own "all events" record that misses ``groups.update`` and ``send.message.update``): a small HTTP
server on loopback answers those in Evolution API v2's shapes (``fetchInstances`` rows as
``WAMonitoringService.instanceInfo`` returns them, the ``Kafka`` row of ``kafka/find``, as cited in
``tui/evolution/models.py``).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiokafka import AIOKafkaProducer
from pydantic import SecretStr

from tests.conftest import async_wait_until
from tui import catalog, envelope
from tui.config import KafkaSettings
from tui.demo.broker import EmbeddedBroker, free_port
from tui.evolution.server import EvolutionServer, ServeConfig
from tui.kafka.options import ConnectionOptions
from tui.kafka.registry import InstanceRegistry
from tui.routing import EVOLUTION_ALL_EVENTS
from tui.topology import Layout, message_key, topic_name

pytestmark = pytest.mark.broker

KEY = "evk-cli-7d2f90a1c4e84b3b"


@dataclass
class Result:
    """A finished command: exit code and both streams."""

    returncode: int
    stdout: str
    stderr: str


class Cli:
    """Runs ``python -m tui instances …`` as a child process, without blocking the loop the server runs on."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd

    async def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        head = [a for a in args if a == "--read-only"]
        rest = [a for a in args if a not in head]
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tui", *head, "instances", *rest,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={**self.env, **(env or {})}, cwd=self.cwd,
        )
        try:
            out, err = await asyncio.wait_for(child.communicate(), 60)
        except TimeoutError:
            child.kill()
            await child.wait()
            raise
        assert child.returncode is not None
        return Result(child.returncode, out.decode(), err.decode())

    async def json(self, *args: str, env: dict[str, str] | None = None) -> Any:
        result = await self(*args, "--json", env=env)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


def one_line_error(result: Result, code: int, *words: str) -> str:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def registry_topic(prefix: str) -> str:
    return f"__evokafka_instances_{prefix}"


@pytest.fixture
async def registry(settings: KafkaSettings, registry_topic: str) -> AsyncIterator[InstanceRegistry]:
    """The registry behind the server."""
    async with InstanceRegistry(settings, topic=registry_topic) as running:
        yield running


@pytest.fixture
async def independent(settings: KafkaSettings, registry_topic: str) -> AsyncIterator[InstanceRegistry]:
    """Another registry on the same topic: reads back, through the cluster, what the server stored."""
    async with InstanceRegistry(settings, topic=registry_topic) as running:
        yield running


@pytest.fixture
async def server(registry: InstanceRegistry, prefix: str) -> AsyncIterator[EvolutionServer]:
    """``evokafka serve``'s server on a free loopback port, with two declared instances."""
    running = EvolutionServer(
        registry, ServeConfig(SecretStr(KEY), instances=["acme", "bob"], prefix=prefix), "127.0.0.1", 0
    )
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
def cli(broker: EmbeddedBroker, prefix: str, registry_topic: str, tmp_path: Path) -> Cli:
    return Cli(
        {
            "PATH": "",
            "KAFKA_BROKERS": broker.bootstrap,
            "KAFKA_TOPIC_PREFIX": prefix,
            "KAFKA_CONNECTION_TIMEOUT": "2000",
            "EVOKAFKA_REGISTRY_TOPIC": registry_topic,
            "EVOLUTION_API_TIMEOUT": "5",
        },
        tmp_path,
    )


def evolution(server: EvolutionServer | str, key: str = KEY) -> dict[str, str]:
    """The environment naming an Evolution API server."""
    url = server if isinstance(server, str) else server.url
    return {"EVOLUTION_API_URL": url, "EVOLUTION_API_KEY": key}


async def publish_seen(settings: KafkaSettings, prefix: str, instance: str, event_name: str) -> None:
    """One record on ``instance``'s per-instance topic, so discovery sees it."""
    event = catalog.lookup(event_name)
    built = envelope.build(event, instance, {})
    producer = AIOKafkaProducer(**ConnectionOptions.from_settings(settings).client_kwargs())
    await producer.start()
    try:
        await producer.send_and_wait(
            topic_name(prefix, Layout.INSTANCE, instance, event),
            key=message_key(Layout.INSTANCE, instance, event).encode(), value=built.encode(), headers=built.headers,
        )
    finally:
        await producer.stop()


def table(stdout: str) -> tuple[str, list[str], dict[str, list[str]]]:
    """``list`` output: the source line, the header, the rows by name (warning lines left out)."""
    lines = stdout.splitlines()
    rows = [line.split() for line in lines[2:] if not line.startswith("  !")]
    return lines[0], lines[1].split(), {row[0]: row for row in rows}


async def test_list_and_show_come_from_evolution_with_the_whatsapp_side_and_discovered_instances(
    cli: Cli, server: EvolutionServer, registry: InstanceRegistry, settings: KafkaSettings, prefix: str
) -> None:
    await registry.set_request("acme", True, ["MESSAGES_UPSERT", "CALL"])
    await publish_seen(settings, prefix, "seen.only", "MESSAGES_UPSERT")
    await publish_seen(settings, prefix, "acme", "CALL")
    env = evolution(server)

    listed = await cli("list", env=env)
    assert listed.returncode == 0, listed.stderr
    first, header, rows = table(listed.stdout)
    assert first == f"# source: Evolution API {server.url}"
    assert header == ["NAME", "ENABLED", "EVENTS", "WHATSAPP", "NUMBER", "PROFILE", "SOURCE", "UPDATED"]
    assert list(rows) == ["acme", "bob", "seen.only"]
    assert rows["acme"][1:7] == ["yes", "2", "close", "-", "-", "evolution"]
    assert rows["bob"][1:7] == ["-", "-", "close", "-", "-", "evolution"]  # declared, no Kafka settings: null
    assert rows["seen.only"][1:8] == ["-", "1", "seen", "-", "-", "-", "discovered"]

    items = {i["name"]: i for i in await cli.json("list", env=env)}
    assert items["acme"]["origin"] == "evolution" and items["acme"]["whatsapp"] == "close"
    assert items["acme"]["events"] == ["MESSAGES_UPSERT", "CALL"]
    assert items["acme"]["number"] is None and items["acme"]["profile_name"] is None
    assert items["acme"]["missed"] == [] and items["acme"]["seen"]["events"] == ["call"]
    assert items["acme"]["instance_source"] == f"Evolution API {server.url}"
    assert items["seen.only"]["origin"] == "discovered" and items["seen.only"]["whatsapp"] is None

    shown = await cli("show", "acme", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "source:   evolution" in shown.stdout and "whatsapp: close" in shown.stdout
    assert "events:   2: MESSAGES_UPSERT, CALL" in shown.stdout
    assert (await cli.json("show", "bob", env=env))["enabled"] is None
    one_line_error(await cli("show", "nobody", env=env), 1, "nobody", f"on Evolution API {server.url}")


async def test_writes_go_through_kafka_set_and_reach_the_registry_behind_the_server(
    cli: Cli, server: EvolutionServer, independent: InstanceRegistry
) -> None:
    env = evolution(server)
    stored = await cli.json("set", "acme", "--enabled", "--events", "MESSAGES_UPSERT,groups.update", env=env)
    assert stored["origin"] == "evolution" and stored["events"] == ["MESSAGES_UPSERT", "GROUPS_UPDATE"]
    await async_wait_until(lambda: independent.get("acme") is not None, 5)

    toggled = await cli.json("toggle", "acme", "CALL", env=env)
    assert toggled["events"] == ["MESSAGES_UPSERT", "GROUPS_UPDATE", "CALL"]

    def has_call() -> bool:
        cfg = independent.get("acme")
        return cfg is not None and "CALL" in cfg.events

    await async_wait_until(has_call, 5)
    assert independent.get("acme").events == ("MESSAGES_UPSERT", "GROUPS_UPDATE", "CALL")  # type: ignore[union-attr]

    text = await cli("toggle", "acme", "messages.upsert", env=env)
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("acme: enabled, events: 2: GROUPS_UPDATE, CALL")
    await async_wait_until(lambda: not independent.get("acme").enables(catalog.lookup("MESSAGES_UPSERT")), 5)  # type: ignore[union-attr]

    assert (await cli.json("disable", "bob", env=env))["enabled"] is False
    await async_wait_until(lambda: (cfg := independent.get("bob")) is not None and not cfg.enabled, 5)
    enabled = await cli.json("enable", "bob", env=env)
    assert enabled["enabled"] is True and len(enabled["events"]) == len(catalog.EVENTS)

    one_line_error(await cli("delete", "acme", env=env), 2, "delete is not available", "Evolution API")
    one_line_error(await cli("toggle", "ghost", "CALL", env=env), 1, "404", "ghost")
    one_line_error(await cli("toggle", "acme", "NOPE_NOTHING", env=env), 2, "unknown event")
    one_line_error(await cli("--read-only", "enable", "acme", env=env), 2, "read-only")
    assert independent.get("acme") is not None  # nothing deleted


async def test_a_refused_key_exits_1_with_one_line_that_never_shows_the_key(
    cli: Cli, server: EvolutionServer
) -> None:
    wrong = "evk-wrong-5e0b8d1f6a2c"
    for args in (["list"], ["show", "acme"], ["toggle", "acme", "CALL"], ["list", "--json"]):
        result = await cli(*args, env=evolution(server, wrong))
        line = one_line_error(result, 1, "API key refused (401 Unauthorized)", "EVOLUTION_API_KEY", server.url)
        assert wrong not in result.stderr + result.stdout and KEY not in line


async def test_source_registry_ignores_evolution_api_url(
    cli: Cli, server: EvolutionServer, registry: InstanceRegistry, registry_topic: str
) -> None:
    await registry.set_request("only-in-registry", True, [])
    # Nobody listens there: any call to it would fail, so a working list proves it was never asked.
    nowhere = evolution(f"http://127.0.0.1:{free_port()}")
    for how in (["--source", "registry"], ["--source", "REGISTRY"]):
        result = await cli(*how, "list", env=nowhere)
        assert result.returncode == 0, result.stderr
        first, header, rows = table(result.stdout)
        assert first == f"# source: registry {registry_topic}"
        assert header == ["NAME", "ENABLED", "EVENTS", "SOURCE", "UPDATED"]
        assert rows["only-in-registry"][1:4] == ["yes", "all", "registry"]
        assert "acme" not in rows  # declared on the server only
    by_env = await cli.json("list", env={**nowhere, "EVOKAFKA_INSTANCE_SOURCE": "registry"})
    assert [i["name"] for i in by_env] == ["only-in-registry"] and by_env[0]["origin"] == "registry"
    # The flag wins over the variable, both ways.
    chosen = await cli.json("--source", "evolution", "list", env={**evolution(server), "EVOKAFKA_INSTANCE_SOURCE": "registry"})
    assert {i["name"] for i in chosen} == {"acme", "bob", "only-in-registry"}
    one_line_error(await cli("--source", "evolution", "list"), 2, "EVOLUTION_API_URL")
    one_line_error(await cli("list", env=nowhere), 1, "cannot connect")


# --- against bodies shaped like Evolution API's own ---------------------------------------------------------


@pytest.fixture
async def evolution_like() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """An HTTP server answering ``fetchInstances``/``kafka/find``/``kafka/set`` with Evolution API v2's bodies:
    one instance connected to WhatsApp whose record is Evolution's own "all events" list."""
    calls: list[dict[str, Any]] = []
    record = {
        "id": "cmf0kafka0001",
        "enabled": True,
        "events": list(EVOLUTION_ALL_EVENTS),
        "createdAt": "2025-09-18T18:30:00.000Z",
        "updatedAt": "2025-09-18T18:30:00.000Z",
        "instanceId": "cmf0inst0001",
    }
    instance = {
        "id": "cmf0inst0001",
        "name": "loja-centro",
        "connectionStatus": "open",
        "ownerJid": "5511987654321@s.whatsapp.net",
        "profileName": "Loja Centro",
        "profilePicUrl": None,
        "integration": "WHATSAPP-BAILEYS",
        "number": None,
        "businessId": None,
        "token": "B7E1C0DE-0000-4000-8000-000000000001",
        "clientName": "evolution_exchange",
        "createdAt": "2025-09-01T12:00:00.000Z",
        "updatedAt": "2025-09-18T18:30:00.000Z",
    }

    def guarded(handler: Callable[[web.Request], Awaitable[web.Response]]) -> Any:
        async def run(request: web.Request) -> web.Response:
            if request.headers.get("apikey") != KEY:
                return web.json_response(
                    {"status": 401, "error": "Unauthorized", "response": {"message": "Unauthorized"}}, status=401
                )
            return await handler(request)

        return run

    async def fetch(_: web.Request) -> web.Response:
        return web.json_response([instance])

    async def find(_: web.Request) -> web.Response:
        return web.json_response(record)

    async def set_(request: web.Request) -> web.Response:
        body = await request.json()
        calls.append(body)
        return web.json_response(record, status=201)

    app = web.Application()
    app.router.add_get("/instance/fetchInstances", guarded(fetch))
    app.router.add_get("/kafka/find/{name}", guarded(find))
    app.router.add_post("/kafka/set/{name}", guarded(set_))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}", calls
    await runner.cleanup()


async def test_evolutions_own_all_shows_the_connection_and_the_missed_events_under_the_row(
    cli: Cli, evolution_like: tuple[str, list[dict[str, Any]]]
) -> None:
    url, calls = evolution_like
    env = evolution(url)
    listed = await cli("list", env=env)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0] == f"# source: Evolution API {url}"
    row = lines[2]
    assert row.split()[:4] == ["loja-centro", "yes", "all", "open"]  # Evolution's 31 names: every toggle on
    assert "5511987654321" in row and "Loja Centro" in row and "evolution" in row
    assert lines[3].startswith("  ! ") and "groups.update" in lines[3]  # GROUP_UPDATE never matched

    item = (await cli.json("list", env=env))[0]
    assert item["whatsapp"] == "open" and item["number"] == "5511987654321"
    assert item["profile_name"] == "Loja Centro"
    assert item["missed"] == ["groups.update"]

    shown = await cli("show", "loja-centro", env=env)
    assert "whatsapp: open" in shown.stdout and "warning:  Evolution API never publishes" in shown.stdout

    # SEND_MESSAGE_UPDATE is one of Evolution's 31 names: accepted and sent as is.
    sent = await cli("set", "loja-centro", "--enabled", "--events", "SEND_MESSAGE_UPDATE", env=env)
    assert sent.returncode == 0, sent.stderr
    assert calls[-1] == {"kafka": {"enabled": True, "events": ["SEND_MESSAGE_UPDATE"]}}
    toggled = await cli("toggle", "loja-centro", "CALL", env=env)
    assert toggled.returncode == 0, toggled.stderr
    assert calls and "CALL" not in calls[-1]["kafka"]["events"] and calls[-1]["kafka"]["enabled"] is True
    assert "GROUP_UPDATE" in calls[-1]["kafka"]["events"]  # the server's own name, kept as it stored it


async def test_an_unreachable_cluster_only_warns_when_the_source_is_evolution(
    cli: Cli, server: EvolutionServer
) -> None:
    down = {"KAFKA_BROKERS": f"127.0.0.1:{free_port()}", "KAFKA_CONNECTION_TIMEOUT": "500"}
    listed = await cli("list", env={**evolution(server), **down})
    assert listed.returncode == 0, listed.stderr
    assert table(listed.stdout)[2].keys() == {"acme", "bob"}
    assert "topics not scanned" in listed.stderr and len(listed.stderr.strip().splitlines()) == 1
    # Both down: the source's failure is the one line.
    both = await cli("list", env={**evolution(f"http://127.0.0.1:{free_port()}"), **down})
    one_line_error(both, 1, "cannot connect")
    one_line_error(await cli("--source", "registry", "list", env=down), 1, "cannot reach the cluster")
