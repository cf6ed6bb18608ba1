"""The instance registry tells the truth when the cluster fails: "not answering" within 3 s of a silent cut,
"lost by the cluster at HH:MM:SS" after a broker restarted empty (never "synced" while not), and the copy it
held restored on request (refused when read-only)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from tests.conftest import async_wait_until
from tests.faults.conftest import Proxied
from tui.config import KafkaSettings, load_settings
from tui.demo.broker import EmbeddedBroker
from tui.instance_settings import InstanceSettings
from tui.kafka.options import ReadOnlyError
from tui.kafka.registry import InstanceRegistry
from tui.status import RegistryHealth, RegistryHealthState

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

Factory = Callable[..., Awaitable[InstanceRegistry]]


def registry_settings(bootstrap: str, prefix: str) -> KafkaSettings:
    return load_settings(
        None, environ={}, brokers=bootstrap, topic_prefix=prefix, reconnect_initial_delay_ms="100",
        connection_timeout="1000",  # the request timeout stays the default 30 s
    )


@pytest.fixture
async def factory(prefix: str) -> AsyncIterator[Callable[..., Awaitable[InstanceRegistry]]]:
    started: list[InstanceRegistry] = []

    async def make(bootstrap: str, **kwargs: Any) -> InstanceRegistry:
        registry = InstanceRegistry(
            registry_settings(bootstrap, prefix), topic=f"__evokafka_instances_{prefix}", **kwargs
        )
        await registry.start()
        started.append(registry)
        return registry

    yield make
    for registry in started:
        await registry.stop()


async def test_silent_cut_says_not_answering_within_3s_then_synced(proxied: Proxied, factory: Any) -> None:
    registry: InstanceRegistry = await factory(proxied.bootstrap)
    await registry.enable("acme")
    seen: list[RegistryHealth] = []
    registry.subscribe_health(seen.append)
    assert registry.synced
    await proxied.proxy.cut_silently()
    loop = asyncio.get_running_loop()
    cut_at = loop.time()
    await async_wait_until(lambda: registry.health.state is RegistryHealthState.NOT_ANSWERING, timeout=10)
    assert loop.time() - cut_at <= 3.0
    assert not registry.synced
    await async_wait_until(lambda: bool(seen) and seen[-1].state is RegistryHealthState.NOT_ANSWERING, timeout=1)
    await proxied.proxy.restore()
    await async_wait_until(lambda: registry.synced, timeout=40)
    assert registry.get("acme") is not None


async def test_empty_restart_is_lost_then_restored(own_broker: EmbeddedBroker, factory: Any) -> None:
    console: InstanceRegistry = await factory(own_broker.bootstrap)
    reader: InstanceRegistry = await factory(own_broker.bootstrap, read_only=True)
    for name in ("ana", "bob", "cid"):
        await console.set_request(name, True, ["MESSAGES_UPSERT"])
    await async_wait_until(lambda: len(reader.all()) == 3, timeout=10)
    held = console.all()
    own_broker.stop()
    own_broker.start()  # same port, empty
    for registry in (console, reader):
        await async_wait_until(lambda r=registry: r.health.state is RegistryHealthState.LOST, timeout=20)  # type: ignore[misc]
        assert not registry.synced
        line = registry.health.describe()
        assert re.search(r"registry lost by the cluster at \d\d:\d\d:\d\d", line), line
        assert "3 of 3 instance(s) held here can be restored" in line
    assert console.last_copy() == held
    with pytest.raises(ReadOnlyError):
        await reader.restore()
    assert sorted(await console.restore()) == ["ana", "bob", "cid"]
    assert console.synced and console.all() == held
    # Whoever restored it, every registry sees the copy back and stops saying "lost".
    await async_wait_until(lambda: reader.synced and reader.all() == held, timeout=20)
    fresh: InstanceRegistry = await factory(own_broker.bootstrap, read_only=True)
    assert fresh.all() == held and all(isinstance(v, InstanceSettings) for v in held.values())
