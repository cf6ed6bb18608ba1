"""``evokafka serve`` never answers 500 to input, and never puts a traceback on stderr.

Hostile requests go over real HTTP on loopback (raw sockets where a client library would refuse to send them);
the cluster being unavailable is a real broker killed under a started registry: 503 in Evolution's error shape.
A bounded hypothesis run over methods, paths, headers and bodies asserts no 5xx but 503.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from tui.config import load_settings
from tui.demo.broker import EmbeddedBroker
from tui.evolution.server import EvolutionServer, ServeConfig
from tui.instance_settings import InMemorySettings, InstanceSettings
from tui.kafka.registry import InstanceRegistry

KEY = "hostile-test-key-31c9"


class MemoryStore(InMemorySettings):
    """The registry's interface in memory: the HTTP side is what these tests look at."""

    async def set(self, instance: str, settings: InstanceSettings) -> InstanceSettings:  # type: ignore[override]
        super().set(instance, settings)
        return settings


@pytest.fixture
async def server() -> AsyncIterator[EvolutionServer]:
    store = MemoryStore({"acme": InstanceSettings.from_request(True, ["CALL"]).with_token("tok-acme")})
    running = EvolutionServer(store, ServeConfig(SecretStr(KEY)), "127.0.0.1", 0)  # type: ignore[arg-type]
    await running.start()
    yield running
    await running.stop()


async def _raw(port: int, request: bytes) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    data = await asyncio.wait_for(reader.read(1 << 20), 10)
    writer.close()
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, data.split(b"\r\n\r\n", 1)[-1]


def _error_shape(body: bytes) -> dict[str, Any]:
    value = json.loads(body)
    assert set(value) == {"status", "error", "response"} and set(value["response"]) == {"message"}, value
    return value  # type: ignore[no-any-return]


async def test_non_utf8_apikey_header_is_401(server: EvolutionServer) -> None:
    request = b"GET /kafka/find/acme HTTP/1.1\r\nHost: x\r\napikey: \xff\xfe\x80key\r\nConnection: close\r\n\r\n"
    status, body = await _raw(server.port, request)
    assert status == 401 and _error_shape(body)["response"]["message"] == "Unauthorized"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("[" * 100_000 + "]" * 100_000, "application/json"),
        ('{"kafka": ', "application/json"),
        ('{"kafka": {"enabled": true}}', "application/json; charset=nope"),
        ("\udcff", "application/json"),
        ("null", "application/json"),
    ],
    ids=["100k-deep", "malformed", "charset-nope", "not-utf8", "null"],
)
async def test_bad_bodies_are_400_in_evolutions_shape(server: EvolutionServer, body: str, content_type: str) -> None:
    data = body.encode("utf-8", "surrogateescape")
    async with aiohttp.ClientSession() as session, session.post(
        f"{server.url}/kafka/set/acme", data=data, headers={"apikey": KEY, "Content-Type": content_type}
    ) as response:
        assert response.status == 400
        _error_shape(await response.read())


async def test_long_url_is_414_and_no_traceback() -> None:
    code = (
        "import asyncio, sys\n"
        "from pydantic import SecretStr\n"
        "from tui.evolution.server import EvolutionServer, ServeConfig\n"
        "from tui.instance_settings import InMemorySettings\n"
        "async def main():\n"
        "    s = EvolutionServer(InMemorySettings(), ServeConfig(SecretStr('k')), '127.0.0.1', 0)\n"
        "    await s.start()\n"
        "    for size in (9000, 70000, 200000):\n"
        "        r, w = await asyncio.open_connection('127.0.0.1', s.port)\n"
        "        w.write(b'GET /' + b'a' * size + b' HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n')\n"
        "        await w.drain()\n"
        "        print((await r.read(200)).split(b' ')[1].decode())\n"
        "        w.close()\n"
        "    await s.stop()\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    codes = done.stdout.split()
    assert codes[0] == "414" and all(c in ("414", "400") for c in codes), codes
    assert "Traceback" not in done.stderr, done.stderr


def test_no_auth_only_on_loopback() -> None:
    from click.testing import CliRunner

    from tui.cli import cli

    result = CliRunner().invoke(cli, ["serve", "--no-auth", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "loopback" in lines[0]


@pytest.mark.broker
async def test_cluster_unavailable_is_503_in_evolutions_shape(own_broker: EmbeddedBroker, prefix: str) -> None:
    cluster = load_settings(
        None, environ={}, brokers=own_broker.bootstrap, topic_prefix=prefix, connection_timeout="1000",
        request_timeout="2000", auto_create_topics="true",
    )
    async with InstanceRegistry(cluster, topic=f"__evokafka_503_{prefix}") as registry:
        await registry.set("acme", InstanceSettings.from_request(True, ["CALL"]))
        server = EvolutionServer(registry, ServeConfig(SecretStr(KEY)), "127.0.0.1", 0)
        await server.start()
        try:
            own_broker.kill()
            async with aiohttp.ClientSession() as session, session.post(
                f"{server.url}/kafka/set/acme", json={"kafka": {"enabled": True, "events": ["CALL"]}},
                headers={"apikey": KEY}, timeout=aiohttp.ClientTimeout(total=60),
            ) as response:
                assert response.status == 503
                assert _error_shape(await response.read())["error"] == "Service Unavailable"
        finally:
            await server.stop()


METHODS = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"])
PATHS = st.one_of(
    st.sampled_from(["/kafka/set/acme", "/kafka/find/acme", "/instance/fetchInstances", "/kafka/set/", "/"]),
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="#?%"), max_size=40).map(
        lambda p: "/" + p
    ),
)
HEADERS = st.dictionaries(
    st.sampled_from(["apikey", "Content-Type", "X-Any", "Accept"]),
    st.one_of(st.sampled_from([KEY, "tok-acme", "application/json", "application/json; charset=latin-1"]),
              st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30)),
    max_size=3,
)
BODIES = st.one_of(
    st.binary(max_size=200),
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)),
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
        max_leaves=12,
    ).map(lambda v: json.dumps({"kafka": v}).encode()),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=METHODS, path=PATHS, headers=HEADERS, body=BODIES)
def test_fuzz_never_5xx_but_503(method: str, path: str, headers: dict[str, str], body: bytes) -> None:
    asyncio.run(_one_fuzz_request(method, path, headers, body))


_FUZZ_ERRORS: list[str] = []


async def _one_fuzz_request(method: str, path: str, headers: dict[str, str], body: bytes) -> None:
    store = MemoryStore({"acme": InstanceSettings.from_request(True, ["CALL"]).with_token("tok-acme")})
    server = EvolutionServer(store, ServeConfig(SecretStr(KEY)), "127.0.0.1", 0)  # type: ignore[arg-type]
    handler = logging.Handler()
    handler.emit = lambda record: _FUZZ_ERRORS.append(record.getMessage()) if record.exc_info else None  # type: ignore[method-assign]
    logging.getLogger().addHandler(handler)
    await server.start()
    try:
        head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        status, _ = await _raw(server.port, head.encode() + b"\r\n" + body)
    finally:
        await server.stop()
        logging.getLogger().removeHandler(handler)
    assert status != 0
    assert status < 500 or status == 503, (method, path, headers, body, status)
    assert _FUZZ_ERRORS == [], _FUZZ_ERRORS
