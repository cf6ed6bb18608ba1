"""``evokafka serve`` against Evolution API 2.3.6's recorded answers: same status codes, same error shapes.

Every exchange of ``tests/fixtures/evolution/kafka_endpoints.json`` (set/find/fetchInstances, valid and invalid)
is sent, in order, both to the fixture-driven stand-in and to ``evokafka serve`` on the real registry seeded with
the same instances and tokens. The stand-in must answer exactly as recorded (it is the recording); serve must
answer as the exchange's ``compare`` rule says.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from tests.conftest import async_wait_until
from tests.evolution_replay import compare, load, replay_server
from tui.config import KafkaSettings
from tui.evolution.server import EvolutionServer, ServeConfig
from tui.instance_settings import InstanceSettings
from tui.kafka.registry import InstanceRegistry

pytestmark = pytest.mark.broker

FIXTURE = load("kafka_endpoints.json")


async def _send(session: aiohttp.ClientSession, url: str, exchange: dict[str, Any]) -> tuple[int, str]:
    request = exchange["request"]
    headers = dict(request.get("headers", {}))
    kwargs: dict[str, Any] = {"headers": headers}
    if "json" in request:
        kwargs["json"] = request["json"]
    elif "raw" in request:
        kwargs["data"] = request["raw"].encode()
    async with session.request(request["method"], url + request["path"], **kwargs) as response:
        return response.status, await response.text()


@pytest.fixture
async def seeded(settings: KafkaSettings, prefix: str) -> AsyncIterator[InstanceRegistry]:
    """The registry holding the fixture's instances: their tokens, and the Kafka records they have."""
    async with InstanceRegistry(settings, topic=f"__evokafka_parity_{prefix}") as registry:
        for instance in FIXTURE["instances"]:
            kafka = instance["kafka"]
            if kafka is None:
                entry = InstanceSettings.token_only(instance["token"])
            else:
                entry = (
                    InstanceSettings.from_request(kafka["enabled"], kafka["events"])
                    .with_sent(kafka["events"])
                    .with_token(instance["token"])
                )
            await registry.set(instance["name"], entry)
        await async_wait_until(lambda: all(registry.get(i["name"]) for i in FIXTURE["instances"]))
        yield registry


async def test_the_stand_in_replays_every_recorded_answer() -> None:
    async with replay_server(FIXTURE) as (url, replay), aiohttp.ClientSession() as session:
        for exchange in FIXTURE["exchanges"]:
            status, text = await _send(session, url, exchange)
            assert compare(exchange, FIXTURE["row_fields"], status, text) == [], exchange["name"]
        assert replay.unmatched == [] and all(replay.used)


async def test_serve_answers_every_exchange_as_evolution_does(seeded: InstanceRegistry) -> None:
    server = EvolutionServer(seeded, ServeConfig(SecretStr(FIXTURE["global_key"])), "127.0.0.1", 0)
    url = await server.start()
    problems: list[str] = []
    try:
        async with aiohttp.ClientSession() as session:
            for exchange in FIXTURE["exchanges"]:
                status, text = await _send(session, url, exchange)
                problems += [f"{exchange['name']}: {p}" for p in compare(exchange, FIXTURE["row_fields"], status, text)]
    finally:
        await server.stop()
    assert problems == []
