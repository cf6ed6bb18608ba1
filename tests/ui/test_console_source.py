"""The console's instance source with Pilot: Evolution API over real HTTP on loopback, on the real broker.

The Evolution API server is ``evokafka serve``'s (:class:`tui.evolution.server.EvolutionServer`) backed by the real
:class:`~tui.kafka.registry.InstanceRegistry` on the session broker; what the console writes through
``POST /kafka/set`` is read back by an independent registry client on the same topic (``writer``), and every request
the server receives is recorded by an aiohttp middleware added in the test.

``evokafka serve`` marks its answers with ``X-Evokafka`` and stores the whole catalog for "all events". To see the
console against Evolution API itself, :func:`evolution_quirks` makes the same server answer as Evolution does:
no ``X-Evokafka`` header (so the client applies Evolution's refusals), "all events" stored as Evolution's own list
(``GROUP_UPDATE``, no ``SEND_MESSAGE_UPDATE``: ``EventController.events`` in EvolutionAPI/evolution-api
``src/api/integrations/event/event.controller.ts``), and WhatsApp fields filled in ``fetchInstances``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from pydantic import SecretStr
from textual.pilot import Pilot
from textual.widgets import Static

from tests.conftest import async_wait_until
from tests.ui.conftest import Console, console_settings, stop
from tui import catalog
from tui.config import load_app_settings
from tui.console.app import EvokafkaApp
from tui.console.screens.confirm_dialog import ConfirmDialog
from tui.console.screens.instance_detail import InstanceDetailScreen
from tui.console.screens.instances import InstancesScreen
from tui.console.screens.main import MainScreen
from tui.console.session import Session
from tui.console.widgets.event_toggles import EventToggles
from tui.console.widgets.instance_list import InstanceList
from tui.demo.broker import EmbeddedBroker
from tui.evolution.server import EvolutionServer, ServeConfig
from tui.evolution.source import EvolutionSource, RegistrySource
from tui.kafka.registry import InstanceRegistry
from tui.routing import EVOLUTION_ALL_EVENTS
from tui.status import SourceState

pytestmark = pytest.mark.broker

KEY = "evk-console-5d1f0a9c7b2e4e31"
SIZE = (120, 40)
CURL = "/usr/bin/curl"
CONNECTION_UPDATE = catalog.BY_NAME["CONNECTION_UPDATE"]
CALL = catalog.BY_NAME["CALL"]
GROUPS_UPDATE = catalog.BY_NAME["GROUPS_UPDATE"]
ALL_NAMES = {e.name for e in catalog.EVENTS}


@dataclass
class Seen:
    """The requests the server received: method, path and JSON body (None when it had none)."""

    requests: list[tuple[str, str, Any]] = field(default_factory=list)

    def sets(self, instance: str) -> list[Any]:
        """Bodies of every ``POST /kafka/set/<instance>`` so far."""
        return [body for m, p, body in self.requests if m == "POST" and p == f"/kafka/set/{instance}"]


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def recorder(seen: Seen) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """An aiohttp middleware keeping each request (the body stays readable: aiohttp caches it)."""

    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await request.json() if request.can_read_body else None
        seen.requests.append((request.method, request.path, body))
        return await handler(request)

    return record


@web.middleware
async def evolution_quirks(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer as Evolution API itself would (see the module docstring)."""
    response = await handler(request)
    if not isinstance(response, web.Response) or response.text is None:
        return response
    body = json.loads(response.text)
    if request.path.startswith("/kafka/") and isinstance(body, dict) and set(body.get("events", [])) == ALL_NAMES:
        body["events"] = list(EVOLUTION_ALL_EVENTS)
    if request.path == "/instance/fetchInstances" and isinstance(body, list):
        for entry in body:
            entry.update(connectionStatus="open", ownerJid="5511987654321@s.whatsapp.net", profileName="Acme [b]Sales")
    return web.Response(status=response.status, text=json.dumps(body), content_type="application/json")


Serve = Callable[..., Awaitable[EvolutionServer]]


@pytest.fixture
async def backing(broker: EmbeddedBroker, prefix: str) -> AsyncIterator[InstanceRegistry]:
    """The registry behind the server, on the console's registry topic."""
    registry = InstanceRegistry(console_settings(broker.bootstrap, prefix), topic=f"reg_{prefix}")
    await registry.start()
    try:
        yield registry
    finally:
        await registry.stop()


@pytest.fixture
async def serve(backing: InstanceRegistry) -> AsyncIterator[Serve]:
    """Start ``evokafka serve``'s app on a free loopback port, with extra middlewares."""
    servers: list[EvolutionServer] = []

    async def start(*middlewares: Any, **config: Any) -> EvolutionServer:
        config.setdefault("apikey", SecretStr(KEY))
        server = EvolutionServer(backing, ServeConfig(**config), "127.0.0.1", 0)
        server.app.middlewares.extend(middlewares)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
def evolution_console(broker: EmbeddedBroker, prefix: str) -> Callable[..., Console]:
    """A console whose instance source is Evolution API at ``url`` (``EVOLUTION_API_URL``), polled quickly."""

    def build(url: str, key: str = KEY, refresh: float = 0.3) -> Console:
        settings = console_settings(broker.bootstrap, prefix)
        app_settings = load_app_settings(
            None,
            environ={"EVOLUTION_API_URL": url, "EVOLUTION_API_KEY": key, "EVOLUTION_API_TIMEOUT": "5"},
            registry_topic=f"reg_{prefix}",
        )
        session = Session.build(settings, app_settings)
        source = session.instance_source
        assert isinstance(source, EvolutionSource)
        source.refresh_interval = refresh  # the default 5 s is for people; tests wait for the change itself
        return Console(EvokafkaApp(session, cursor_blink=False), session)

    return build


def header_text(console: Console) -> str:
    return str(console.app.screen.query_one("#source-badge", Static).render())


def toggle_text(toggles: EventToggles, name: str) -> str:
    return str(toggles.get_option(name).prompt)


async def open_instance(console: Console, pilot: Pilot[None], name: str) -> InstanceDetailScreen:
    """From home: Instances (i), wait for the row, Enter on it, wait for the detail."""
    app = console.app
    await pilot.press("i")
    await async_wait_until(
        lambda: isinstance(app.screen, InstancesScreen) and name in app.screen.query_one(InstanceList).rows
    )
    table = app.screen.query_one(InstanceList)
    table.move_cursor(row=table.get_row_index(name))
    await pilot.press("enter")
    await async_wait_until(lambda: isinstance(app.screen, InstanceDetailScreen))
    screen = app.screen
    assert isinstance(screen, InstanceDetailScreen)
    return screen


async def move_to(pilot: Pilot[None], toggles: EventToggles, event: catalog.Event) -> None:
    """Keyboard only: down until ``event`` is highlighted (bounded by the list's length)."""
    for _ in range(toggles.option_count):
        if toggles.event is event:
            return
        await pilot.press("down")
    raise AssertionError(f"{event.name} never highlighted")


async def curl_set(url: str, instance: str, body: dict[str, Any], key: str = KEY) -> int:
    """The integration document's curl, host and key changed; returns the HTTP status."""
    process = await asyncio.create_subprocess_exec(
        CURL,
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-X",
        "POST",
        f"{url}/kafka/set/{instance}",
        "-H",
        f"apikey: {key}",
        "-H",
        "Content-Type: application/json",
        "-d",
        json.dumps(body),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    return int(out.decode())


async def test_toggle_posts_kafka_set_and_shows_the_servers_answer(
    serve: Serve, backing: InstanceRegistry, writer: InstanceRegistry, evolution_console: Callable[..., Console]
) -> None:
    await backing.set_request("shop", True, ["MESSAGES_UPSERT"])
    seen = Seen()
    server = await serve(recorder(seen), instances=["shop"])
    console = evolution_console(server.url)
    try:
        async with console.app.run_test(size=SIZE, message_hook=console.hook) as pilot:
            assert f"Evolution API {server.url}" in header_text(console)
            screen = await open_instance(console, pilot, "shop")
            toggles = screen.query_one(EventToggles)
            await async_wait_until(lambda: "[x]" in toggle_text(toggles, "MESSAGES_UPSERT"))
            assert "WhatsApp close" in str(screen.query_one("#instance-whatsapp", Static).render())
            assert "[x]" not in toggle_text(toggles, "CONNECTION_UPDATE")

            await move_to(pilot, toggles, CONNECTION_UPDATE)
            before = len(seen.requests)
            await pilot.press("space")
            await async_wait_until(lambda: len(seen.sets("shop")) == 1)
            body = seen.sets("shop")[0]
            assert body["kafka"]["enabled"] is True
            assert sorted(body["kafka"]["events"]) == ["CONNECTION_UPDATE", "MESSAGES_UPSERT"]
            # The record is re-read after the write: a GET /kafka/find follows the POST.
            await async_wait_until(
                lambda: (
                    ("GET", "/kafka/find/shop", None)
                    in seen.requests[seen.requests.index(("POST", "/kafka/set/shop", body), before) :]
                )
            )
            # The registry behind the server changed: an independent client reads it from the cluster.
            await async_wait_until(lambda: (s := writer.get("shop")) is not None and s.enables(CONNECTION_UPDATE))
            stored = writer.get("shop")
            assert stored is not None and set(stored.events) == {"MESSAGES_UPSERT", "CONNECTION_UPDATE"}
            await async_wait_until(lambda: "[x]" in toggle_text(toggles, "CONNECTION_UPDATE"))
            assert "per-instance" in toggle_text(toggles, "CONNECTION_UPDATE")

            # Switching it off again posts the shorter list.
            await pilot.press("space")
            await async_wait_until(lambda: len(seen.sets("shop")) == 2)
            assert seen.sets("shop")[1] == {"kafka": {"enabled": True, "events": ["MESSAGES_UPSERT"]}}
            await async_wait_until(lambda: "[x]" not in toggle_text(toggles, "CONNECTION_UPDATE"))
            await async_wait_until(lambda: (s := writer.get("shop")) is not None and not s.enables(CONNECTION_UPDATE))

            # Kafka off (key e, confirmed): Evolution's body for disabled, and every toggle shows off.
            await pilot.press("e")
            await async_wait_until(lambda: isinstance(console.app.screen, ConfirmDialog))
            await pilot.press("y")
            await async_wait_until(lambda: len(seen.sets("shop")) == 3)
            assert seen.sets("shop")[2] == {"kafka": {"enabled": False, "events": []}}
            await async_wait_until(lambda: "[x]" not in toggle_text(toggles, "MESSAGES_UPSERT"))
            await async_wait_until(lambda: (s := writer.get("shop")) is not None and not s.enabled)
            assert not [n for n in console.notes if "Error" in n or "refused" in n]
    finally:
        await stop(console)


async def test_toggles_follow_the_server_when_it_refuses_the_write(
    serve: Serve, backing: InstanceRegistry, writer: InstanceRegistry, evolution_console: Callable[..., Console]
) -> None:
    """The server stores nothing (read-only): the toggle stays off, the error is on screen."""
    await backing.set_request("shop", True, ["MESSAGES_UPSERT"])
    seen = Seen()
    server = await serve(recorder(seen), instances=["shop"], read_only=True)
    console = evolution_console(server.url)
    try:
        async with console.app.run_test(size=SIZE, message_hook=console.hook) as pilot:
            screen = await open_instance(console, pilot, "shop")
            toggles = screen.query_one(EventToggles)
            await async_wait_until(lambda: "[x]" in toggle_text(toggles, "MESSAGES_UPSERT"))
            await move_to(pilot, toggles, CONNECTION_UPDATE)
            await pilot.press("space")
            await async_wait_until(lambda: len(seen.sets("shop")) == 1)
            await async_wait_until(lambda: any("403 Forbidden" in n for n in console.notes))
            await async_wait_until(lambda: "403" in str(screen.query_one("#instance-title", Static).render()))
            assert "[x]" not in toggle_text(toggles, "CONNECTION_UPDATE")
            stored = writer.get("shop")
            assert stored is not None and not stored.enables(CONNECTION_UPDATE)
    finally:
        await stop(console)


async def test_wrong_key_shows_a_clear_401_and_the_console_keeps_working(
    serve: Serve, backing: InstanceRegistry, evolution_console: Callable[..., Console]
) -> None:
    await backing.set_request("shop", True, [])
    server = await serve(instances=["shop"])
    console = evolution_console(server.url, key="not-the-key")
    try:
        async with console.app.run_test(size=SIZE, message_hook=console.hook) as pilot:
            await pilot.press("i")
            await async_wait_until(lambda: isinstance(console.app.screen, InstancesScreen))
            await async_wait_until(lambda: any("API key refused (401" in n for n in console.notes))
            assert not any("not-the-key" in n for n in console.notes)
            screen = console.app.screen
            summary = screen.query_one("#instances-summary", Static)
            await async_wait_until(lambda: "could not read instances" in str(summary.render()))
            assert "401" in str(summary.render())
            assert console.session.source_view.state is SourceState.FAILED and console.session.source_view.auth_failed
            await async_wait_until(lambda: "API key refused (401)" in header_text(console))
            assert screen.query_one(InstanceList).row_count == 0
            # The app still answers keys.
            await pilot.press("h")
            await async_wait_until(lambda: isinstance(console.app.screen, MainScreen))
            assert "API key refused (401)" in header_text(console)
    finally:
        await stop(console)


async def test_curl_shows_live_with_the_registry_source(
    serve: Serve, backing: InstanceRegistry, make_console: Callable[..., Console]
) -> None:
    await backing.set_request("shop", True, ["MESSAGES_UPSERT"])
    server = await serve(instances=["shop"])
    console = make_console()
    assert isinstance(console.session.instance_source, RegistrySource)
    try:
        async with console.app.run_test(size=SIZE, message_hook=console.hook) as pilot:
            await console.ready()
            assert "registry reg_" in header_text(console)
            await async_wait_until(lambda: console.session.registry.get("shop") is not None)
            screen = await open_instance(console, pilot, "shop")
            toggles = screen.query_one(EventToggles)
            assert "[x]" not in toggle_text(toggles, "CALL")
            status = await curl_set(
                server.url, "shop", {"kafka": {"enabled": True, "events": ["MESSAGES_UPSERT", "CALL"]}}
            )
            assert status == 201
            await async_wait_until(lambda: "[x]" in toggle_text(toggles, "CALL"))
            assert "[x]" in toggle_text(toggles, "MESSAGES_UPSERT")
    finally:
        await stop(console)


async def test_curl_shows_on_refresh_with_the_evolution_source(
    serve: Serve, backing: InstanceRegistry, evolution_console: Callable[..., Console]
) -> None:
    await backing.set_request("shop", True, ["MESSAGES_UPSERT"])
    server = await serve(instances=["shop"])
    console = evolution_console(server.url)
    try:
        async with console.app.run_test(size=SIZE, message_hook=console.hook) as pilot:
            await pilot.press("i")
            await async_wait_until(
                lambda: (
                    isinstance(console.app.screen, InstancesScreen)
                    and "shop" in console.app.screen.query_one(InstanceList).rows
                )
            )
            table = console.app.screen.query_one(InstanceList)
            assert table.get_row("shop")[:5] == ["shop", "evolution", "close", "—", "enabled"]
            assert await curl_set(server.url, "shop", {"kafka": {"enabled": False, "events": []}}) == 201
            await async_wait_until(lambda: table.get_row("shop")[4] == "disabled", timeout=10)

            screen = await open_instance(console, pilot, "shop")
            toggles = screen.query_one(EventToggles)
            await async_wait_until(lambda: "disabled" in str(screen.query_one("#instance-title", Static).render()))
            body = {"kafka": {"enabled": True, "events": ["MESSAGES_UPSERT", "CALL"]}}
            assert await curl_set(server.url, "shop", body) == 201
            await async_wait_until(lambda: "[x]" in toggle_text(toggles, "CALL"), timeout=10)
            assert "[x]" in toggle_text(toggles, "MESSAGES_UPSERT")
    finally:
        await stop(console)


async def test_evolution_refusals_warning_whatsapp_and_discovered(
    serve: Serve, backing: InstanceRegistry, evolution_console: Callable[..., Console]
) -> None:
    """Against Evolution API 2.3.6's behaviour: its "all" (31 names) holds GROUP_UPDATE, which its publisher never
    matches (warned, and the route panel says Evolution would not publish groups.update), WhatsApp fields shown, an
    instance only seen in topics listed and marked; a toggle is sent in Evolution's spelling."""
    await backing.set_request("acme", True, [])
    seen = Seen()
    server = await serve(recorder(seen), evolution_quirks, instances=["acme"])
    console = evolution_console(server.url)
    try:
        async with console.app.run_test(size=SIZE, message_hook=console.hook) as pilot:
            await console.ready()
            # An instance seen in the cluster's topics that the server does not know (any more).
            await backing.set_request("ghost", True, ["CALL"])
            await async_wait_until(lambda: console.session.registry.get("ghost") is not None)
            ticket = await console.session.publisher.publish("CALL", "ghost", {"id": "c1"})
            deliveries = await ticket.wait()
            assert deliveries and all(d.error is None for d in deliveries)
            await backing.delete("ghost")
            await pilot.press("i")
            await async_wait_until(lambda: isinstance(console.app.screen, InstancesScreen))
            table = console.app.screen.query_one(InstanceList)
            await pilot.press("r")
            await async_wait_until(lambda: {"acme", "ghost"} <= {k.value for k in table.rows})
            assert table.get_row("ghost")[1] == "discovered"
            row = table.get_row("acme")
            assert row[1:5] == ["evolution", "open", "5511987654321 Acme [b]Sales", "enabled"]
            assert row[5] == "all ⚠"
            summary = str(console.app.screen.query_one("#instances-summary", Static).render())
            assert "1 from Evolution API" in summary and "1 discovered only" in summary and "miss events" in summary

            screen = await open_instance(console, pilot, "acme")
            toggles = screen.query_one(EventToggles)
            warning = screen.query_one("#instance-warning", Static)
            await async_wait_until(lambda: "never publishes" in str(warning.render()))
            assert "groups.update" in str(warning.render()) and "send.message.update" not in str(warning.render())
            assert warning.display
            whatsapp = str(screen.query_one("#instance-whatsapp", Static).render())
            assert "WhatsApp open" in whatsapp and "Acme [b]Sales" in whatsapp and "5511987654321" in whatsapp
            assert "[x]" in toggle_text(toggles, "CALL")

            await move_to(pilot, toggles, GROUPS_UPDATE)
            panel = str(screen.query_one("#route-panel", Static).render())
            assert "Evolution API 2.3.6: not published" in panel and "GROUP_UPDATE" in panel
            posts = len(seen.sets("acme"))

            # An event it accepts goes through, in Evolution's spelling, and the answer is shown.
            await move_to(pilot, toggles, CALL)
            await pilot.press("space")
            await async_wait_until(lambda: len(seen.sets("acme")) == posts + 1)
            sent = seen.sets("acme")[-1]["kafka"]
            assert sent["enabled"] is True and "CALL" not in sent["events"] and "GROUP_UPDATE" in sent["events"]
            assert "GROUPS_UPDATE" not in sent["events"] and "SEND_MESSAGE_UPDATE" in sent["events"]
            await async_wait_until(lambda: "[x]" not in toggle_text(toggles, "CALL"))
    finally:
        await stop(console)
