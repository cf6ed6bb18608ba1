"""The Evolution API client against ``evokafka serve``'s app over real HTTP on loopback, on the real registry.

The server answers in Evolution API v2's shapes (EvolutionAPI/evolution-api): ``KafkaRouter`` in
``src/api/integrations/event/kafka/kafka.router.ts`` (``POST /kafka/set/:instanceName`` → 201 and the stored row,
``GET /kafka/find/:instanceName`` → 200 and the row or ``null``), ``EventController.set`` in
``src/api/integrations/event/event.controller.ts`` (disabled → no events; enabled with none → all),
``fetchInstances`` in ``src/api/controllers/instance.controller.ts`` (``?instanceName=`` narrows, unknown →
``Instance "x" not found``), the ``apikey`` guard of ``src/api/guards/auth.guard.ts`` (401) and the error body of
``src/main.ts`` (``{status, error, response: {message}}``). The parsing of Evolution's own bodies is tested
field for field in ``tests/unit/test_evolution_models.py``.

Failure modes are real too: a port nobody listens on, a TLS server with a certificate nobody trusts, a plain
server spoken to in TLS, a server answering HTML, one that never answers.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr

from tests.conftest import async_wait_until
from tui import catalog
from tui.config import AppSettings, KafkaSettings
from tui.demo.broker import free_port
from tui.evolution.client import (
    EvolutionAuthError,
    EvolutionBadRequestError,
    EvolutionClient,
    EvolutionConfigError,
    EvolutionError,
    EvolutionForbiddenError,
    EvolutionNotFoundError,
    EvolutionResponseError,
    EvolutionTimeoutError,
    EvolutionTLSError,
    EvolutionUnreachableError,
)
from tui.evolution.models import ConnectionStatus
from tui.evolution.server import EvolutionServer, ServeConfig, create_app
from tui.evolution.source import (
    SOURCE_ERRORS,
    EventRefusedError,
    EvolutionSource,
    RegistrySource,
    SourceConfigError,
    choose_source,
)
from tui.instance_settings import InstanceSettings
from tui.instance_source import Origin
from tui.kafka.registry import InstanceRegistry
from tui.routing import EVOLUTION_ALL_EVENTS

pytestmark = pytest.mark.broker

KEY = "evk-test-0c9a7e51d2b34f6a"
ALL_NAMES = [e.name for e in catalog.EVENTS]

Serve = Callable[..., Awaitable[EvolutionServer]]


@pytest.fixture
def topic(prefix: str) -> str:
    """A registry topic of this test's own."""
    return f"__evokafka_instances_{prefix}"


@pytest.fixture
async def registry(settings: KafkaSettings, topic: str) -> AsyncIterator[InstanceRegistry]:
    """The real registry on the real broker, backing the server."""
    async with InstanceRegistry(settings, topic=topic) as running:
        yield running


@pytest.fixture
async def independent(settings: KafkaSettings, topic: str) -> AsyncIterator[InstanceRegistry]:
    """A second registry on the same topic: reads back what the server wrote, through the cluster."""
    async with InstanceRegistry(settings, topic=topic) as running:
        yield running


@pytest.fixture
async def serve(registry: InstanceRegistry) -> AsyncIterator[Serve]:
    """Start ``evokafka serve``'s app on a free loopback port."""
    servers: list[EvolutionServer] = []

    async def start(**config: object) -> EvolutionServer:
        config.setdefault("apikey", SecretStr(KEY))
        server = EvolutionServer(registry, ServeConfig(**config), "127.0.0.1", 0)  # type: ignore[arg-type]
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


def client(server: EvolutionServer | str, key: str = KEY, **kwargs: object) -> EvolutionClient:
    """A client for ``server`` (or a URL)."""
    url = server if isinstance(server, str) else server.url
    return EvolutionClient(url, SecretStr(key), **kwargs)  # type: ignore[arg-type]


def assert_one_line_without_key(exc: BaseException) -> None:
    text = str(exc)
    assert "\n" not in text and text.strip() == text and text
    assert KEY not in text and KEY not in repr(exc)


async def test_set_find_round_trip_goes_through_the_cluster(
    serve: Serve, registry: InstanceRegistry, independent: InstanceRegistry
) -> None:
    server = await serve(instances=["acme-sales"])
    async with client(server) as api:
        assert await api.find_kafka("acme-sales") is None  # declared, no Kafka settings yet: Evolution's null
        stored = await api.set_kafka("acme-sales", True, ["MESSAGES_UPSERT", "MESSAGES_UPDATE", "QRCODE_UPDATED"])
        assert api.server_is_evokafka is True
        assert stored.enabled is True
        assert stored.events == ("MESSAGES_UPSERT", "MESSAGES_UPDATE", "QRCODE_UPDATED")  # as sent, as Evolution
        assert stored.instance_id and stored.id and stored.updated_at
        found = await api.find_kafka("acme-sales")
        assert found == stored
    # The write went to the cluster: a registry of its own reads it back.
    await async_wait_until(lambda: independent.get("acme-sales") is not None)
    assert independent.get("acme-sales") == registry.get("acme-sales")
    assert independent.get("acme-sales") == InstanceSettings.from_request(
        True, ["QRCODE_UPDATED", "MESSAGES_UPSERT", "MESSAGES_UPDATE"], updated_at=stored.updated_at
    ).with_sent(["MESSAGES_UPSERT", "MESSAGES_UPDATE", "QRCODE_UPDATED"])


async def test_reference_semantics_all_and_disabled(serve: Serve, independent: InstanceRegistry) -> None:
    server = await serve(instances=["acme-sales"])
    async with client(server) as api:
        everything = await api.set_kafka("acme-sales", True, [])
        assert list(everything.events) == list(EVOLUTION_ALL_EVENTS)  # Evolution stores its whole list
        assert [e.wire for e in everything.published] == [e.wire for e in catalog.EVENTS if e.name != "GROUPS_UPDATE"]
        off = await api.set_kafka("acme-sales", False, ["MESSAGES_UPSERT"])
        assert off.enabled is False and off.events == ()
    await async_wait_until(lambda: (s := independent.get("acme-sales")) is not None and not s.enabled)


async def test_instances_are_listed_from_the_registry_and_the_declared_names(
    serve: Serve, registry: InstanceRegistry
) -> None:
    await registry.set_request("from-registry", True, [])
    server = await serve(instances=["declared"])
    async with client(server) as api:
        instances = await api.fetch_instances()
        names = [i.name for i in instances]
        assert names == ["declared", "from-registry"]
        assert all(i.connection_status is ConnectionStatus.CLOSE for i in instances)
        assert all(i.integration == "EVOKAFKA" for i in instances)
    # Evolution's ?instanceName= narrows the list; an unknown one is its 404.
    async with aiohttp.ClientSession() as http:
        async with http.get(
            f"{server.url}/instance/fetchInstances", params={"instanceName": "declared"}, headers={"apikey": KEY}
        ) as resp:
            assert resp.status == 200
            assert [i["name"] for i in await resp.json()] == ["declared"]
        async with http.get(
            f"{server.url}/instance/fetchInstances", params={"instanceName": "ghost"}, headers={"apikey": KEY}
        ) as resp:
            assert resp.status == 404
            assert await resp.json() == {
                "status": 404,
                "error": "Not Found",
                "response": {"message": ['Instance "ghost" not found']},
            }


async def test_unknown_instance_is_404_with_the_servers_message(serve: Serve) -> None:
    server = await serve()
    async with client(server) as api:
        with pytest.raises(EvolutionNotFoundError) as caught:
            await api.find_kafka("ghost")
        assert 'The "ghost" instance does not exist' in str(caught.value)
        assert_one_line_without_key(caught.value)
        with pytest.raises(EvolutionNotFoundError):
            await api.set_kafka("ghost", True, [])


async def test_allow_new_creates_instances_on_set(serve: Serve, independent: InstanceRegistry) -> None:
    server = await serve(allow_new=True)
    async with client(server) as api:
        await api.set_kafka("brand-new", True, ["CALL"])
    await async_wait_until(lambda: independent.get("brand-new") is not None)


async def test_wrong_key_is_401_in_evolutions_shape_and_the_key_never_shows(serve: Serve) -> None:
    server = await serve(instances=["acme-sales"])
    async with client(server, key="wrong-key") as api:
        with pytest.raises(EvolutionAuthError) as caught:
            await api.fetch_instances()
    assert "401" in str(caught.value) and "wrong-key" not in str(caught.value)
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"apikey": "wrong-key"}):
            async with http.post(
                f"{server.url}/kafka/set/acme-sales", json={"kafka": {"enabled": True}}, headers=headers
            ) as resp:
                assert resp.status == 401
                assert await resp.json() == {
                    "status": 401,
                    "error": "Unauthorized",
                    "response": {"message": "Unauthorized"},
                }


async def test_bad_event_is_400_naming_the_nearest_names(serve: Serve) -> None:
    server = await serve(instances=["acme-sales"])
    async with client(server) as api:
        with pytest.raises(EvolutionBadRequestError) as caught:
            await api.set_kafka("acme-sales", True, ["MESSAGE_UPSERT"])
    # Evolution's validator names the position and its 31 names.
    assert "kafka.events[0] is not one of enum values" in str(caught.value)
    assert "MESSAGES_UPSERT" in str(caught.value)
    assert_one_line_without_key(caught.value)


async def test_group_update_is_stored_as_evolution_spells_it(serve: Serve) -> None:
    server = await serve(instances=["acme-sales"])
    async with client(server) as api:
        stored = await api.set_kafka("acme-sales", True, ["GROUP_UPDATE"])
        assert stored.events == ("GROUP_UPDATE",)  # sent back as is, Evolution accepts it again
        assert await api.set_kafka("acme-sales", True, list(stored.events)) == await api.find_kafka("acme-sales")
        with pytest.raises(EvolutionBadRequestError):
            await api.set_kafka("acme-sales", True, ["GROUPS_UPDATE"])  # the schema refuses it, as Evolution's
    assert stored.published == () and [e.wire for e in stored.missed] == ["groups.update"]


async def test_read_only_serve_refuses_set_with_403(serve: Serve, registry: InstanceRegistry) -> None:
    server = await serve(instances=["acme-sales"], read_only=True)
    async with client(server) as api:
        with pytest.raises(EvolutionForbiddenError, match="read-only"):
            await api.set_kafka("acme-sales", True, [])
        assert await api.find_kafka("acme-sales") is None  # reads still work
    assert registry.get("acme-sales") is None


async def test_no_auth_answers_without_a_key(serve: Serve) -> None:
    server = await serve(apikey=None, instances=["acme-sales"])
    async with aiohttp.ClientSession() as http, http.get(f"{server.url}/kafka/find/acme-sales") as resp:
        assert resp.status == 200
        assert await resp.json() is None


async def test_unknown_route_and_bad_body_answer_in_evolutions_shape(serve: Serve) -> None:
    server = await serve(instances=["acme-sales"])
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/kafka/nothing", headers={"apikey": KEY}) as resp:
            assert resp.status == 404
            assert (await resp.json())["response"]["message"] == ["Cannot GET /kafka/nothing"]
        async with http.post(
            f"{server.url}/kafka/set/acme-sales", data=b"{not json", headers={"apikey": KEY}
        ) as resp:
            assert resp.status == 400
            assert (await resp.json())["error"] == "Bad Request"
        async with http.post(
            f"{server.url}/kafka/set/acme-sales", json={"enabled": True}, headers={"apikey": KEY}
        ) as resp:
            assert resp.status == 400
            assert "kafka" in json.dumps(await resp.json())


async def test_connection_refused_is_one_line() -> None:
    port = free_port()
    async with client(f"http://127.0.0.1:{port}", timeout=5) as api:
        with pytest.raises(EvolutionUnreachableError, match=rf"127\.0\.0\.1:{port}: cannot connect") as caught:
            await api.fetch_instances()
    assert_one_line_without_key(caught.value)


async def test_tls_spoken_to_a_plain_server_is_a_tls_error(serve: Serve) -> None:
    server = await serve()
    async with client(server.url.replace("http://", "https://"), timeout=5) as api:
        with pytest.raises(EvolutionTLSError, match="TLS handshake failed") as caught:
            await api.fetch_instances()
    assert_one_line_without_key(caught.value)


def _self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "server.pem", folder / "server.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


async def test_untrusted_certificate_is_a_tls_error_and_a_trusted_one_works(
    tmp_path: Path, registry: InstanceRegistry
) -> None:
    cert, key = _self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    runner = web.AppRunner(create_app(registry, ServeConfig(SecretStr(KEY), instances=["acme-sales"])))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=server_tls).start()
    try:
        async with client(f"https://127.0.0.1:{port}", timeout=5) as api:
            with pytest.raises(EvolutionTLSError, match="certificate not trusted") as caught:
                await api.fetch_instances()
            assert_one_line_without_key(caught.value)
        trusted = ssl.create_default_context(cafile=str(cert))
        async with client(f"https://127.0.0.1:{port}", timeout=5, tls=trusted) as api:
            assert [i.name for i in await api.fetch_instances()] == ["acme-sales"]
    finally:
        await runner.cleanup()


@pytest.fixture
async def odd_server() -> AsyncIterator[str]:
    """A server that is not Evolution: HTML pages, a gateway error, a request that never gets an answer."""
    never = asyncio.Event()

    async def html(_: web.Request) -> web.Response:
        return web.Response(text="<html><body>Welcome to nginx!</body></html>", content_type="text/html")

    async def gateway(_: web.Request) -> web.Response:
        return web.Response(status=502, text="<html>502 Bad Gateway</html>", content_type="text/html")

    async def hang(_: web.Request) -> web.Response:
        await never.wait()
        return web.Response()

    async def echo_key(request: web.Request) -> web.Response:
        # A server that repeats the key it was sent in its error message.
        return web.json_response({"status": 404, "error": "Not Found",
                                  "response": {"message": [f"bad key {request.headers.get('apikey')}"]}}, status=404)

    app = web.Application()
    app.router.add_get("/instance/fetchInstances", html)
    app.router.add_get("/kafka/find/gateway", gateway)
    app.router.add_get("/kafka/find/hang", hang)
    app.router.add_get("/kafka/find/echo", echo_key)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    never.set()
    await runner.cleanup()


async def test_non_json_answers_are_one_line(odd_server: str) -> None:
    async with client(odd_server, timeout=5) as api:
        with pytest.raises(EvolutionResponseError, match="answered 200 with text/html, not JSON") as caught:
            await api.fetch_instances()
        assert_one_line_without_key(caught.value)
        assert api.server_is_evokafka is False
        with pytest.raises(EvolutionResponseError, match="HTTP 502") as gateway:
            await api.find_kafka("gateway")
        assert gateway.value.status == 502
        assert_one_line_without_key(gateway.value)


async def test_timeout_is_one_line(odd_server: str) -> None:
    async with client(odd_server, timeout=0.3) as api:
        with pytest.raises(EvolutionTimeoutError, match=r"no answer within 0\.3 s") as caught:
            await api.find_kafka("hang")
    assert_one_line_without_key(caught.value)


async def test_a_key_echoed_by_the_server_is_masked(odd_server: str) -> None:
    async with client(odd_server, timeout=5) as api:
        with pytest.raises(EvolutionNotFoundError) as caught:
            await api.find_kafka("echo")
    assert "bad key ********" in str(caught.value)
    assert_one_line_without_key(caught.value)


def test_repr_and_config_errors_never_show_the_key() -> None:
    api = EvolutionClient("https://user:hunter2@evo.example.com:8443/", SecretStr(KEY))
    assert KEY not in repr(api) and "hunter2" not in repr(api)
    assert api.display_url == "https://evo.example.com:8443"
    with pytest.raises(EvolutionConfigError, match="not http"):
        EvolutionClient("evo.example.com", SecretStr(KEY))
    with pytest.raises(EvolutionConfigError, match="EVOLUTION_API_KEY"):
        EvolutionClient("http://evo.example.com", SecretStr(""))
    assert issubclass(EvolutionConfigError, EvolutionError)


# --- the instance source ------------------------------------------------------------------------------------


async def test_evolution_source_lists_instances_with_toggles_and_discovered_ones(
    serve: Serve, registry: InstanceRegistry
) -> None:
    await registry.set_request("acme-sales", True, ["MESSAGES_UPSERT"])
    server = await serve(instances=["declared"])
    source = EvolutionSource(client(server))
    try:
        assert source.label == f"Evolution API {server.url}"
        assert source.live is False and source.refresh_interval
        items = await source.instances(discovered=["acme-sales", "only-in-topics"])
        by_name = {i.name: i for i in items}
        assert [i.name for i in items] == ["acme-sales", "declared", "only-in-topics"]
        sales = by_name["acme-sales"]
        assert sales.origin is Origin.EVOLUTION and sales.in_topics
        assert sales.connection_status is ConnectionStatus.CLOSE
        assert sales.enables(catalog.lookup("messages.upsert")) and not sales.enables(catalog.lookup("call"))
        assert by_name["declared"].settings is None and not by_name["declared"].in_topics
        discovered = by_name["only-in-topics"]
        assert discovered.origin is Origin.DISCOVERED and not discovered.toggleable
    finally:
        await source.stop()


async def test_evolution_source_toggle_writes_through_kafka_set_and_rereads(
    serve: Serve, independent: InstanceRegistry
) -> None:
    server = await serve(instances=["acme-sales"])
    source = EvolutionSource(client(server))
    try:
        on = await source.toggle("acme-sales", "messages.upsert")
        assert [e.wire for e in catalog.EVENTS if on.enables(e)] == ["messages.upsert"]
        assert on.record is not None and on.record.events == ("MESSAGES_UPSERT",)
        await async_wait_until(lambda: (s := independent.get("acme-sales")) is not None and s.enabled)
        both = await source.toggle("acme-sales", catalog.lookup("CALL"))
        assert both.record is not None and both.record.events == ("MESSAGES_UPSERT", "CALL")
        off = await source.toggle("acme-sales", "MESSAGES_UPSERT")
        off = await source.toggle("acme-sales", "CALL")
        assert off.kafka_enabled is False and off.settings is not None and not off.settings.enabled
        await async_wait_until(lambda: (s := independent.get("acme-sales")) is not None and not s.enabled)
        everything = await source.enable("acme-sales")  # a disabled record has no events: all of them
        assert all(everything.enables(e) for e in catalog.EVENTS)
        # evokafka serve is Evolution's API: groups.update cannot be published per instance there either.
        assert source.refuses(catalog.lookup("groups.update")) is not None
    finally:
        await source.stop()


async def test_evolution_source_surfaces_401_as_a_source_error(serve: Serve) -> None:
    server = await serve(instances=["acme-sales"])
    source = EvolutionSource(client(server, key="wrong"))
    try:
        with pytest.raises(SOURCE_ERRORS) as caught:
            await source.toggle("acme-sales", "CALL")
        assert isinstance(caught.value, EvolutionAuthError)
        assert "API key refused (401 Unauthorized)" in str(caught.value)
    finally:
        await source.stop()


async def test_registry_source_is_live(registry: InstanceRegistry, independent: InstanceRegistry) -> None:
    source = RegistrySource(registry)
    assert source.live and source.label == f"registry {registry.topic}"
    changed: list[str] = []
    source.subscribe(changed.append)
    await independent.set_request("acme-sales", True, ["CALL"])
    await async_wait_until(lambda: "acme-sales" in changed)
    [item] = await source.instances(discovered=["acme-sales"])
    assert item.origin is Origin.REGISTRY and item.in_topics and item.enables(catalog.lookup("call"))
    toggled = await source.toggle("acme-sales", "messages.upsert")
    assert {e.wire for e in catalog.EVENTS if toggled.enables(e)} == {"call", "messages.upsert"}
    assert (await source.disable("acme-sales")).kafka_enabled is False


def test_choosing_the_source(registry: InstanceRegistry) -> None:
    with_url = AppSettings(EVOLUTION_API_URL="http://evo:8080", EVOLUTION_API_KEY=KEY)
    without = AppSettings()
    assert isinstance(choose_source(with_url, registry), EvolutionSource)
    assert isinstance(choose_source(with_url, registry, "registry"), RegistrySource)
    assert isinstance(choose_source(without, registry), RegistrySource)
    with pytest.raises(SourceConfigError, match="EVOLUTION_API_URL"):
        choose_source(without, registry, "evolution")
    with pytest.raises(EvolutionConfigError, match="EVOLUTION_API_KEY"):
        choose_source(AppSettings(EVOLUTION_API_URL="http://evo:8080"), registry)
    with pytest.raises(SourceConfigError, match="allowed: auto, evolution, registry"):
        choose_source(without, registry, "kafka")


async def test_evolution_source_knows_evokafka_serve_before_its_first_call(
    serve: Serve, independent: InstanceRegistry
) -> None:
    server = await serve(instances=["acme-sales", "acme-ops"])
    # Lazily: the very first call is a set with events only evokafka serve accepts.
    fresh = EvolutionSource(client(server))
    try:
        stored = await fresh.set("acme-sales", True, ["groups.update", "SEND_MESSAGE_UPDATE"])
        # Sent and stored in the only spelling Evolution's schema takes; shown as asked, flagged as never published.
        assert stored.record is not None and set(stored.record.events) == {"GROUP_UPDATE", "SEND_MESSAGE_UPDATE"}
        assert [e.wire for e in stored.missed] == ["groups.update"]
        await async_wait_until(lambda: (s := independent.get("acme-sales")) is not None and s.enabled)
        assert set(independent.get("acme-sales").events) == {"GROUPS_UPDATE", "SEND_MESSAGE_UPDATE"}  # type: ignore[union-attr]
    finally:
        await fresh.stop()
    # On start: refuses() is right before any toggle is shown.
    started = EvolutionSource(client(server))
    try:
        await started.start()
        assert started.refuses(catalog.lookup("groups.update")) is not None
        assert started.refuses(catalog.lookup("send.message.update")) is None
        on = await started.toggle("acme-ops", "send.message.update")
        assert on.enables(catalog.lookup("send.message.update"))
        with pytest.raises(EventRefusedError, match="only accepts GROUP_UPDATE"):
            await started.toggle("acme-ops", "groups.update")
    finally:
        await started.stop()
